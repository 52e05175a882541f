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
/// for an UNMATCH); empty without decisions.
pub fn match_all(
    ins_t: &Table,
    ins_index: &Index,
    set_t: &Table,
    fallback_days: u32,
    forced: &[(u32, u32)],
) -> Matches {
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
    for &(s, i) in forced {
        let s = s as usize;
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
    fallback(
        ins_t,
        set_t,
        &has_ref,
        &decided,
        fallback_days,
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
/// reference match, settlements neither matched nor decided.
#[allow(clippy::too_many_arguments)]
fn fallback(
    ins_t: &Table,
    set_t: &Table,
    has_ref: &[bool],
    decided: &[bool],
    days: u32,
    instruction: &mut [u32],
    method: &mut [u8],
    ambiguous: &mut [bool],
) {
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
/// run's own `m`: only the decided settlements' reference matches and the fallback over
/// the keys a decision touched are computed again. A decision changes who takes part in
/// the fallback only for its settlement and for the instructions that gain or lose a
/// reference match through it; the fallback pairs rows of one key only, so every other
/// key's groups come out as they did.
pub fn without_decisions(
    ins_t: &Table,
    ins_index: &Index,
    set_t: &Table,
    days: u32,
    m: &Matches,
    forced: &[(u32, u32)],
) -> Matches {
    let ids = ins_t.text[ins::ID].plain();
    let refs = set_t.text[set::INSTRUCTION_ID].plain();
    let (mut instruction, mut method, mut ambiguous) =
        (m.instruction.clone(), m.method.clone(), m.ambiguous.clone());
    let keys = Keys::new(ins_t, set_t);
    // On the pool: each decided settlement's own reference match, and the fallback keys
    // of the rows it and its instructions belong to (lookups scattered over the tables).
    let looked: Vec<(Option<u32>, [Option<u64>; 3])> = forced
        .par_iter()
        .map(|&(s, i)| {
            let s = s as usize;
            let own = (!refs.is_null(s))
                .then(|| {
                    let r = refs.value(s);
                    ins_index.find(group::hash(r), |k| ids.value(k as usize) == r)
                })
                .flatten();
            let ins_key = |x: u32| (x != NO_MATCH).then(|| keys.ins_hash(ins_t, x as usize));
            let hashes = [
                Some(keys.set_hash(set_t, s)),
                ins_key(i),
                own.and_then(ins_key),
            ];
            (own, hashes)
        })
        .collect();
    let mut touched: hashbrown::HashSet<u64> = hashbrown::HashSet::new();
    for (&(s, _), (own, hashes)) in forced.iter().zip(looked) {
        let s = s as usize;
        (instruction[s], method[s]) = match own {
            Some(k) => (k, Method::Reference as u8),
            None => (NO_MATCH, Method::None as u8),
        };
        touched.extend(hashes.into_iter().flatten());
    }
    let has_ref = referenced(ins_t.len(), &instruction, &method);
    // The rows of the touched keys (whole groups: equal keys hash equal), their fallback
    // results cleared.
    let ins_rows: Vec<u32> = (0..ins_t.len() as u32)
        .into_par_iter()
        .filter(|&i| !has_ref[i as usize] && touched.contains(&keys.ins_hash(ins_t, i as usize)))
        .collect();
    let set_rows: Vec<u32> = (0..set_t.len() as u32)
        .into_par_iter()
        .filter(|&s| {
            let s = s as usize;
            method[s] != Method::Reference as u8
                && fallback_candidate(set_t, s)
                && touched.contains(&keys.set_hash(set_t, s))
        })
        .collect();
    for &s in &set_rows {
        let s = s as usize;
        (instruction[s], method[s], ambiguous[s]) = (NO_MATCH, Method::None as u8, false);
    }
    fallback_among(
        ins_t,
        set_t,
        &keys,
        &ins_rows,
        &set_rows,
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
    ins_rows: &[u32],
    set_rows: &[u32],
    days: u32,
    instruction: &mut [u32],
    method: &mut [u8],
    ambiguous: &mut [bool],
) {
    if ins_rows.is_empty() || set_rows.is_empty() {
        return;
    }
    let (ins_prov, set_prov) = (keys.ins_prov, &keys.set_prov);
    let ins_h: Vec<u64> = ins_rows
        .par_iter()
        .map(|&i| keys.ins_hash(ins_t, i as usize))
        .collect();
    let set_h: Vec<u64> = set_rows
        .par_iter()
        .map(|&s| keys.set_hash(set_t, s as usize))
        .collect();
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
