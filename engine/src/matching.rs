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
    // A manual match counts as a reference match (CONTRACT.md section 8).
    let mut has_ref = vec![false; ins_t.len()];
    for &i in &instruction {
        if i != NO_MATCH {
            has_ref[i as usize] = true;
        }
    }
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
    // (v2) A settlement without an account, amount or currency is never a candidate.
    let set_rows: Vec<u32> = (0..set_t.len() as u32)
        .filter(|&s| {
            let s = s as usize;
            method[s] == Method::None as u8
                && !decided.get(s).copied().unwrap_or(false)
                && set_t.amounts[set::AMOUNT][s] != NO_AMOUNT
                && set_t.currency[s] != NO_CCY
                && set_t.opt_str(set::ACCOUNT, s).is_some()
        })
        .collect();
    if ins_rows.is_empty() || set_rows.is_empty() {
        return;
    }
    let ins_prov = ins_t.codes(ins::PROVIDER);
    let set_to_ins =
        crate::table::translate_codes(&set_t.text[set::PROVIDER], &ins_t.text[ins::PROVIDER]);
    let set_prov: Vec<u32> = set_t
        .codes(set::PROVIDER)
        .iter()
        .map(|&c| set_to_ins[c as usize])
        .collect();
    let ins_h: Vec<u64> = ins_rows
        .par_iter()
        .map(|&i| {
            let i = i as usize;
            fallback_key_hash(ins_t, ins_prov[i], ins::ACCOUNT, 0, i)
        })
        .collect();
    let set_h: Vec<u64> = set_rows
        .par_iter()
        .map(|&s| {
            let s = s as usize;
            fallback_key_hash(set_t, set_prov[s], set::ACCOUNT, set::AMOUNT, s)
        })
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
