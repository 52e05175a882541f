//! Matching (CONTRACT.md section 3) as hash build and probe.
//!
//! 1. Reference: a settlement whose `instruction_id` equals an accepted instruction's id.
//! 2. Fallback, among settlements not reference-matched and instructions with no
//!    reference-matched settlement: a candidate pair has equal provider, account, currency
//!    and amount and |value_date - due_date| <= fallback_days; a pair is matched only when
//!    each side has exactly one candidate. A settlement with candidates that is not
//!    matched is AMBIGUOUS. Nothing is ever guessed.
//! 3. Everything else: NONE.
//!
//! (v2) Applied decisions (CONTRACT.md section 8) come first: a MATCH fixes the
//! settlement's instruction (method MANUAL, a reference match for step 2), an UNMATCH
//! leaves it unmatched; either way the settlement takes no other part in matching.

use arrow_array::Array;
use hashbrown::HashTable;
use rayon::prelude::*;

use crate::currency::NO_CCY;
use crate::group::{self, Index};
use crate::schema::{ins, set};
use crate::table::Table;
use crate::validate::NO_AMOUNT;

pub const NO_MATCH: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Method {
    None = 0,
    Reference = 1,
    Fallback = 2,
    /// (v2) Matched by an applied decision (CONTRACT.md section 8).
    Manual = 3,
}

impl Method {
    /// In the order `summary.json` lists them.
    pub const ALL: [Method; 4] = [
        Method::Reference,
        Method::Fallback,
        Method::Manual,
        Method::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::None => "NONE",
            Method::Reference => "REFERENCE",
            Method::Fallback => "FALLBACK",
            Method::Manual => "MANUAL",
        }
    }

    pub fn from_u8(v: u8) -> Method {
        match v {
            1 => Method::Reference,
            2 => Method::Fallback,
            3 => Method::Manual,
            _ => Method::None,
        }
    }
}

/// Per settlement: the matched instruction (`NO_MATCH` when none), the method, and
/// whether it is AMBIGUOUS.
#[derive(Debug)]
pub struct Matches {
    pub instruction: Vec<u32>,
    pub method: Vec<u8>,
    pub ambiguous: Vec<bool>,
}

/// `forced`: the settlements applied decisions fix, each with its instruction (`NO_MATCH`
/// for an UNMATCH); empty without decisions. With decisions, also the [`Trace`] that
/// [`without_decisions`] starts from.
pub fn match_all<'a>(
    ins_t: &'a Table,
    ins_index: &Index,
    set_t: &Table,
    fallback_days: u32,
    forced: &[(u32, u32)],
) -> (Matches, Option<Trace<'a>>) {
    let n = set_t.len();
    let ids = ins_t.text[ins::ID].plain();
    // 1. Reference match: probe the instruction-id index built during de-duplication.
    let refs = set_t.text[set::INSTRUCTION_ID].plain();
    let mut instruction = ins_index.find_all(
        n,
        &|s| (!refs.is_null(s)).then(|| group::hash(refs.value(s))),
        &|s, k| ids.value(k as usize) == refs.value(s),
    );
    let mut method: Vec<u8> = instruction
        .par_iter()
        .map(|&i| {
            if i == NO_MATCH {
                Method::None as u8
            } else {
                Method::Reference as u8
            }
        })
        .collect();
    // A decided settlement leaves matching: `decided` keeps it out of the fallback.
    let mut decided = vec![false; if forced.is_empty() { 0 } else { n }];
    let mut own = Vec::with_capacity(forced.len());
    for &(s, i) in forced {
        let s = s as usize;
        own.push(instruction[s]);
        instruction[s] = i;
        method[s] = if i == NO_MATCH {
            Method::None
        } else {
            Method::Manual
        } as u8;
        decided[s] = true;
    }
    let has_ref = referenced(ins_t.len(), &instruction, &method);
    let mut ambiguous = vec![false; n];
    let (keys, ins_rows, set_rows) = fallback(
        ins_t,
        set_t,
        &has_ref,
        &decided,
        fallback_days,
        &mut instruction,
        &mut method,
        &mut ambiguous,
    );
    let m = Matches {
        instruction,
        method,
        ambiguous,
    };
    let trace = (!forced.is_empty()).then_some(Trace {
        own,
        keys,
        ins_rows,
        set_rows,
    });
    (m, trace)
}

/// What matching with decisions knew that the run without them needs again: each decided
/// settlement's own reference match (`NO_MATCH`: none), in `forced`'s order, and the
/// rows that took part in the fallback with their keys' hashes.
pub struct Trace<'a> {
    own: Vec<u32>,
    keys: Keys<'a>,
    ins_rows: Keyed,
    set_rows: Keyed,
}

/// Rows of one side that take part in the fallback, each with its key's hash.
struct Keyed {
    rows: Vec<u32>,
    hashes: Vec<u64>,
}

impl Keyed {
    fn of(rows: Vec<u32>, hash: impl Fn(usize) -> u64 + Sync) -> Keyed {
        let hashes = rows.par_iter().map(|&r| hash(r as usize)).collect();
        Keyed { rows, hashes }
    }

    /// The rows (with their hashes) that `keep` holds.
    fn filter(&self, keep: impl Fn(u32, u64) -> bool + Sync) -> Vec<(u32, u64)> {
        self.rows
            .par_iter()
            .zip(&self.hashes)
            .filter(|&(&r, &h)| keep(r, h))
            .map(|(&r, &h)| (r, h))
            .collect()
    }
}

impl FromIterator<(u32, u64)> for Keyed {
    fn from_iter<T: IntoIterator<Item = (u32, u64)>>(iter: T) -> Keyed {
        let (rows, hashes) = iter.into_iter().unzip();
        Keyed { rows, hashes }
    }
}

/// Per instruction, whether a settlement is matched to it by reference, or manually: a
/// manual match counts as a reference match (CONTRACT.md section 8). Step 2 leaves out
/// those instructions.
fn referenced(n: usize, instruction: &[u32], method: &[u8]) -> Vec<bool> {
    let mut has_ref = vec![false; n];
    for (&i, &m) in instruction.iter().zip(method) {
        if m == Method::Reference as u8 || m == Method::Manual as u8 {
            has_ref[i as usize] = true;
        }
    }
    has_ref
}

/// The fallback key's hash; `provider` is the row's provider code in the instructions'
/// code space (a settlement provider no instruction has gets `u32::MAX`, equal to none).
fn fallback_key_hash(t: &Table, provider: u32, account: usize, amount: usize, i: usize) -> u64 {
    group::hash((
        provider,
        t.str(account, i),
        t.currency[i],
        t.amounts[amount][i],
    ))
}

/// Step 2 over every settlement and instruction it may concern: instructions without a
/// reference match, settlements neither matched nor decided. Returns the keys and the
/// rows that took part.
#[allow(clippy::too_many_arguments)]
fn fallback<'a>(
    ins_t: &'a Table,
    set_t: &Table,
    has_ref: &[bool],
    decided: &[bool],
    days: u32,
    instruction: &mut [u32],
    method: &mut [u8],
    ambiguous: &mut [bool],
) -> (Keys<'a>, Keyed, Keyed) {
    let ins_rows: Vec<u32> = (0..ins_t.len() as u32)
        .filter(|&i| !has_ref[i as usize])
        .collect();
    let set_rows: Vec<u32> = (0..set_t.len() as u32)
        .filter(|&s| {
            method[s as usize] == Method::None as u8
                && !decided.get(s as usize).copied().unwrap_or(false)
                && fallback_candidate(set_t, s as usize)
        })
        .collect();
    let keys = Keys::new(ins_t, set_t);
    let ins_rows = Keyed::of(ins_rows, |i| keys.ins_hash(ins_t, i));
    let set_rows = Keyed::of(set_rows, |s| keys.set_hash(set_t, s));
    fallback_among(
        ins_t,
        set_t,
        &keys,
        &ins_rows,
        &set_rows,
        days,
        instruction,
        method,
        ambiguous,
    );
    (keys, ins_rows, set_rows)
}

/// (v2) A settlement without an account, amount or currency is never a candidate.
fn fallback_candidate(set_t: &Table, s: usize) -> bool {
    set_t.amounts[set::AMOUNT][s] != NO_AMOUNT
        && set_t.currency[s] != NO_CCY
        && set_t.opt_str(set::ACCOUNT, s).is_some()
}

/// The fallback key's parts that need translating: each side's provider codes in the
/// instructions' code space.
struct Keys<'a> {
    ins_prov: &'a [u32],
    set_prov: Vec<u32>,
}

impl<'a> Keys<'a> {
    fn new(ins_t: &'a Table, set_t: &Table) -> Keys<'a> {
        let set_to_ins =
            crate::table::translate_codes(&set_t.text[set::PROVIDER], &ins_t.text[ins::PROVIDER]);
        Keys {
            ins_prov: ins_t.codes(ins::PROVIDER),
            set_prov: set_t
                .codes(set::PROVIDER)
                .par_iter()
                .map(|&c| set_to_ins[c as usize])
                .collect(),
        }
    }

    fn ins_hash(&self, t: &Table, i: usize) -> u64 {
        fallback_key_hash(t, self.ins_prov[i], ins::ACCOUNT, 0, i)
    }

    fn set_hash(&self, t: &Table, s: usize) -> u64 {
        fallback_key_hash(t, self.set_prov[s], set::ACCOUNT, set::AMOUNT, s)
    }
}

/// The matches of the same run without its decisions (CONTRACT.md section 8), from the
/// run's own `m` and `trace`: only the fallback over the keys a decision touched is
/// computed again. A decision changes who takes part in the fallback only for its
/// settlement and for the instructions that gain or lose a reference match through it;
/// the fallback pairs rows of one key only, so every other key's groups come out as they
/// did.
pub fn without_decisions(
    ins_t: &Table,
    set_t: &Table,
    days: u32,
    m: &Matches,
    forced: &[(u32, u32)],
    trace: &Trace,
) -> Matches {
    let (mut instruction, mut method, mut ambiguous) =
        (m.instruction.clone(), m.method.clone(), m.ambiguous.clone());
    let keys = &trace.keys;
    let ins_key = |x: u32| (x != NO_MATCH).then(|| keys.ins_hash(ins_t, x as usize));
    // On the pool: the fallback keys of the rows each decision concerns (lookups
    // scattered over the tables).
    let looked: Vec<(Option<u64>, [Option<u64>; 2])> = forced
        .par_iter()
        .zip(&trace.own)
        .map(|(&(s, i), &own)| {
            let s = s as usize;
            let candidate =
                (own == NO_MATCH && fallback_candidate(set_t, s)).then(|| keys.set_hash(set_t, s));
            (candidate, [ins_key(i), ins_key(own)])
        })
        .collect();
    let mut touched: hashbrown::HashSet<u64> = hashbrown::HashSet::new();
    let mut set_more = Vec::new();
    let mut ins_more = Vec::new();
    // Each decided settlement goes back to its own reference match, and becomes a
    // fallback candidate when it has none; its instruction may lose its reference match.
    for ((&(s, i), &own), (candidate, ins_hashes)) in forced.iter().zip(&trace.own).zip(looked) {
        let s = s as usize;
        (instruction[s], method[s]) = match own {
            NO_MATCH => (NO_MATCH, Method::None as u8),
            k => (k, Method::Reference as u8),
        };
        if let Some(h) = candidate {
            set_more.push((s as u32, h));
            touched.insert(h);
        }
        if let Some(h) = ins_hashes[0] {
            ins_more.push((i, h));
        }
        touched.extend(ins_hashes.into_iter().flatten());
    }
    let has_ref = referenced(ins_t.len(), &instruction, &method);
    // The rows of the touched keys (whole groups: equal keys hash equal), their fallback
    // results cleared: of the rows that took part with the decisions, and the decided
    // settlements and their instructions.
    let mut ins_rows = trace
        .ins_rows
        .filter(|i, h| !has_ref[i as usize] && touched.contains(&h));
    ins_rows.extend(ins_more.into_iter().filter(|&(i, _)| !has_ref[i as usize]));
    ins_rows.sort_unstable();
    ins_rows.dedup();
    let mut set_rows = trace.set_rows.filter(|_, h| touched.contains(&h));
    set_rows.extend(set_more);
    set_rows.sort_unstable();
    for &(s, _) in &set_rows {
        let s = s as usize;
        (instruction[s], method[s], ambiguous[s]) = (NO_MATCH, Method::None as u8, false);
    }
    fallback_among(
        ins_t,
        set_t,
        keys,
        &ins_rows.into_iter().collect(),
        &set_rows.into_iter().collect(),
        days,
        &mut instruction,
        &mut method,
        &mut ambiguous,
    );
    Matches {
        instruction,
        method,
        ambiguous,
    }
}

/// The fallback among the given instructions and settlements (step 2).
#[allow(clippy::too_many_arguments)]
fn fallback_among(
    ins_t: &Table,
    set_t: &Table,
    keys: &Keys,
    ins: &Keyed,
    set: &Keyed,
    days: u32,
    instruction: &mut [u32],
    method: &mut [u8],
    ambiguous: &mut [bool],
) {
    if ins.rows.is_empty() || set.rows.is_empty() {
        return;
    }
    let (ins_prov, set_prov) = (keys.ins_prov, &keys.set_prov);
    let (ins_rows, ins_h) = (&ins.rows, &ins.hashes);
    let (set_rows, set_h) = (&set.rows, &set.hashes);
    let parts = group::partitions();
    let part = |h: u64| group::partition(h, parts);
    let same_key = |i: usize, s: usize| {
        ins_t.amounts[0][i] == set_t.amounts[set::AMOUNT][s]
            && ins_t.currency[i] == set_t.currency[s]
            && ins_prov[i] == set_prov[s]
            && ins_t.str(ins::ACCOUNT, i) == set_t.str(set::ACCOUNT, s)
    };
    let same_ins_key = |a: usize, b: usize| {
        ins_t.amounts[0][a] == ins_t.amounts[0][b]
            && ins_t.currency[a] == ins_t.currency[b]
            && ins_prov[a] == ins_prov[b]
            && ins_t.str(ins::ACCOUNT, a) == ins_t.str(ins::ACCOUNT, b)
    };
    // Per partition: (settlement row, candidate count, the candidate when exactly one),
    // and (instruction row, candidate count) for instructions with candidates.
    type PartOut = (Vec<(u32, u32, u32)>, Vec<(u32, u32)>);
    let results: Vec<PartOut> = (0..parts)
        .into_par_iter()
        .map(|p| {
            let local: Vec<usize> = (0..ins_rows.len())
                .filter(|&k| part(ins_h[k]) == p)
                .collect();
            let mut table: HashTable<u32> = HashTable::with_capacity(local.len());
            let mut next = vec![u32::MAX; local.len()];
            for (j, &k) in local.iter().enumerate() {
                let i = ins_rows[k] as usize;
                let h = ins_h[k];
                match table.find(h, |&head| {
                    same_ins_key(ins_rows[local[head as usize]] as usize, i)
                }) {
                    Some(&head) => {
                        next[j] = next[head as usize];
                        next[head as usize] = j as u32;
                    }
                    None => {
                        table.insert_unique(h, j as u32, |&x| ins_h[local[x as usize]]);
                    }
                }
            }
            let mut cand_count = vec![0u32; local.len()];
            let mut set_out = Vec::new();
            for (k, &s) in set_rows.iter().enumerate() {
                let h = set_h[k];
                if part(h) != p {
                    continue;
                }
                let s = s as usize;
                let Some(&head) = table.find(h, |&head| {
                    same_key(ins_rows[local[head as usize]] as usize, s)
                }) else {
                    continue;
                };
                let (mut count, mut first) = (0u32, NO_MATCH);
                let mut j = head;
                while j != u32::MAX {
                    let i = ins_rows[local[j as usize]] as usize;
                    if (set_t.date[s] as i64 - ins_t.date[i] as i64).unsigned_abs() <= days as u64 {
                        count += 1;
                        cand_count[j as usize] += 1;
                        if first == NO_MATCH {
                            first = i as u32;
                        }
                    }
                    j = next[j as usize];
                }
                if count > 0 {
                    set_out.push((s as u32, count, first));
                }
            }
            let ins_out = local
                .iter()
                .zip(&cand_count)
                .filter(|(_, &c)| c > 0)
                .map(|(&k, &c)| (ins_rows[k], c))
                .collect();
            (set_out, ins_out)
        })
        .collect();
    let mut ins_cands = vec![0u32; ins_t.len()];
    for (_, ins_out) in &results {
        for &(i, c) in ins_out {
            ins_cands[i as usize] = c;
        }
    }
    for (set_out, _) in &results {
        for &(s, count, first) in set_out {
            let s = s as usize;
            if count == 1 && ins_cands[first as usize] == 1 {
                instruction[s] = first;
                method[s] = Method::Fallback as u8;
            } else {
                ambiguous[s] = true;
            }
        }
    }
}
