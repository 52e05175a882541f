//! Instruction status and flags (CONTRACT.md section 4). Pure.

use arrow_array::Array;
use hashbrown::{HashMap, HashSet, HashTable};
use rayon::prelude::*;

use crate::config::Settings;
use crate::currency::{Ccy, NO_CCY};
use crate::group;
use crate::matching::{Matches, Method, NO_MATCH};
use crate::schema::{ins, set, SettleStatus};
use crate::table::Table;

/// Instruction statuses, in the order they are decided: the first rule that holds wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Status {
    Unpaid = 0,
    CurrencyMismatch = 1,
    DoublePaid = 2,
    Returned = 3,
    Failed = 4,
    Paid = 5,
    Underpaid = 6,
    Overpaid = 7,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Unpaid,
        Status::CurrencyMismatch,
        Status::DoublePaid,
        Status::Returned,
        Status::Failed,
        Status::Paid,
        Status::Underpaid,
        Status::Overpaid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unpaid => "UNPAID",
            Status::CurrencyMismatch => "CURRENCY_MISMATCH",
            Status::DoublePaid => "DOUBLE_PAID",
            Status::Returned => "RETURNED",
            Status::Failed => "FAILED",
            Status::Paid => "PAID",
            Status::Underpaid => "UNDERPAID",
            Status::Overpaid => "OVERPAID",
        }
    }
}

/// Instruction flags as bits, in alphabetical order (the order they are written in).
pub mod flag {
    pub const ACCEPTED: u16 = 1;
    pub const ACCOUNT_MISMATCH: u16 = 1 << 1;
    pub const AMOUNT_OUTLIER: u16 = 1 << 2;
    pub const DUPLICATE_BENEFICIARY: u16 = 1 << 3;
    pub const FALLBACK_MATCH: u16 = 1 << 4;
    pub const LATE: u16 = 1 << 5;
    pub const MANUAL_MATCH: u16 = 1 << 6;
    pub const PROVIDER_MISMATCH: u16 = 1 << 7;
    pub const SHARED_ACCOUNT: u16 = 1 << 8;
    pub const NAMES: [&str; 9] = [
        "ACCEPTED",
        "ACCOUNT_MISMATCH",
        "AMOUNT_OUTLIER",
        "DUPLICATE_BENEFICIARY",
        "FALLBACK_MATCH",
        "LATE",
        "MANUAL_MATCH",
        "PROVIDER_MISMATCH",
        "SHARED_ACCOUNT",
    ];
    /// Every flag set: `1 << NAMES.len()`.
    pub const SETS: u16 = 1 << 9;

    /// The `;`-separated text of a flag set.
    pub fn text(bits: u16) -> String {
        NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, n)| *n)
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// Per accepted instruction.
#[derive(Debug)]
pub struct Classes {
    pub status: Vec<u8>,
    /// In minor units of the instruction's currency.
    pub paid: Vec<i128>,
    pub settlement_count: Vec<u32>,
    pub flags: Vec<u16>,
}

/// `group` holds the group flags of [`group_flags`], computed beforehand (it needs no
/// matches, so it can run beside matching).
pub fn classify(
    ins_t: &Table,
    set_t: &Table,
    m: &Matches,
    s: &Settings,
    group: Vec<u16>,
) -> Classes {
    let n = ins_t.len();
    // The settlements of each instruction, in input order (CSR layout).
    let mut start = vec![0u32; n + 1];
    for &i in &m.instruction {
        if i != NO_MATCH {
            start[i as usize + 1] += 1;
        }
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut list = vec![0u32; start[n] as usize];
    for (sidx, &i) in m.instruction.iter().enumerate() {
        if i != NO_MATCH {
            list[fill[i as usize] as usize] = sidx as u32;
            fill[i as usize] += 1;
        }
    }
    drop(fill);

    let mut status = vec![0u8; n];
    let mut paid = vec![0i128; n];
    let mut count = vec![0u32; n];
    let mut flags = group;
    let prov = Providers::new(ins_t, set_t);
    const CH: usize = 16 * 1024;
    status
        .par_chunks_mut(CH)
        .zip(paid.par_chunks_mut(CH))
        .zip(count.par_chunks_mut(CH))
        .zip(flags.par_chunks_mut(CH))
        .enumerate()
        .for_each(|(c, (((st, pd), ct), fl))| {
            for j in 0..st.len() {
                let i = c * CH + j;
                let sets = &list[start[i] as usize..start[i + 1] as usize];
                let r = classify_one(ins_t, set_t, &prov, m, s, i, sets);
                st[j] = r.0 as u8;
                pd[j] = r.1;
                ct[j] = sets.len() as u32;
                fl[j] |= r.2;
            }
        });
    Classes {
        status,
        paid,
        settlement_count: count,
        flags,
    }
}

/// The statuses of the instruction rows `rows` under the matches `m` (the run without its
/// decisions, for what each decision moved), each from its own settlements in input
/// order, as [`classify`] decides them: (row, status), by row, each row once.
pub fn statuses_of(
    ins_t: &Table,
    set_t: &Table,
    m: &Matches,
    s: &Settings,
    rows: &[u32],
) -> Vec<(u32, u8)> {
    let mut rows = rows.to_vec();
    rows.sort_unstable();
    rows.dedup();
    // A bit a row: the scan below tests one for every settlement, and bits stay in the
    // cache where a byte a row does not.
    let wanted = bits(ins_t.len(), rows.iter().copied());
    // (instruction, settlement) of every match of the rows, found on the pool and sorted:
    // each row's settlements in input order, as `classify` lists them.
    const CH: usize = 64 * 1024;
    let mut pairs: Vec<(u32, u32)> = m
        .instruction
        .par_chunks(CH)
        .enumerate()
        .flat_map_iter(|(c, chunk)| {
            let wanted = &wanted;
            chunk.iter().enumerate().filter_map(move |(j, &i)| {
                (i != NO_MATCH && wanted.value(i as usize)).then_some((i, (c * CH + j) as u32))
            })
        })
        .collect();
    pairs.par_sort_unstable();
    let prov = Providers::new(ins_t, set_t);
    rows.par_iter()
        .map(|&i| {
            let from = pairs.partition_point(|p| p.0 < i);
            let to = pairs.partition_point(|p| p.0 <= i);
            let sets: Vec<u32> = pairs[from..to].iter().map(|p| p.1).collect();
            let st = classify_one(ins_t, set_t, &prov, m, s, i as usize, &sets).0;
            (i, st as u8)
        })
        .collect()
}

/// A bit for each of `n` rows, set for `rows`.
pub(crate) fn bits(n: usize, rows: impl IntoIterator<Item = u32>) -> arrow_buffer::BooleanBuffer {
    let mut b = arrow_buffer::BooleanBufferBuilder::new(n);
    b.append_n(n, false);
    for i in rows {
        b.set_bit(i as usize, true);
    }
    b.finish()
}

/// Provider codes of both sides in the instructions' code space.
struct Providers<'a> {
    ins: &'a [u32],
    set: &'a [u32],
    set_to_ins: Vec<u32>,
}

impl<'a> Providers<'a> {
    fn new(ins_t: &'a Table, set_t: &'a Table) -> Providers<'a> {
        Providers {
            ins: ins_t.codes(ins::PROVIDER),
            set: set_t.codes(set::PROVIDER),
            set_to_ins: crate::table::translate_codes(
                &set_t.text[set::PROVIDER],
                &ins_t.text[ins::PROVIDER],
            ),
        }
    }

    #[inline]
    fn same(&self, i: usize, sj: usize) -> bool {
        self.set_to_ins[self.set[sj] as usize] == self.ins[i]
    }
}

#[allow(clippy::too_many_arguments)]
fn classify_one(
    ins_t: &Table,
    set_t: &Table,
    prov: &Providers,
    m: &Matches,
    s: &Settings,
    i: usize,
    sets: &[u32],
) -> (Status, i128, u16) {
    let (mut n_settled, mut n_returned, mut other_ccy) = (0u32, 0u32, false);
    let mut paid: i128 = 0;
    let mut flags = 0u16;
    let ccy = ins_t.currency[i];
    let due = ins_t.date[i] as i64;
    for &sj in sets {
        let sj = sj as usize;
        let st = SettleStatus::from_u8(set_t.status[sj]);
        let same_ccy = set_t.currency[sj] == ccy;
        // (v2) A settlement without a currency (FAILED, nothing given) is no mismatch.
        other_ccy |= !same_ccy && set_t.currency[sj] != NO_CCY;
        let amt = set_t.amounts[set::AMOUNT][sj] as i128;
        match st {
            SettleStatus::Settled => {
                n_settled += 1;
                if same_ccy {
                    paid += amt;
                }
                // (v2) An empty account is no mismatch.
                if set_t
                    .opt_str(set::ACCOUNT, sj)
                    .is_some_and(|a| a != ins_t.str(ins::ACCOUNT, i))
                {
                    flags |= flag::ACCOUNT_MISMATCH;
                }
                if set_t.date[sj] as i64 > due + s.late_days as i64 {
                    flags |= flag::LATE;
                }
            }
            SettleStatus::Returned => {
                n_returned += 1;
                if same_ccy {
                    paid -= amt;
                }
            }
            SettleStatus::Failed => {}
        }
        if !prov.same(i, sj) {
            flags |= flag::PROVIDER_MISMATCH;
        }
        if m.method[sj] == Method::Fallback as u8 {
            flags |= flag::FALLBACK_MATCH;
        }
        if m.method[sj] == Method::Manual as u8 {
            flags |= flag::MANUAL_MATCH;
        }
    }
    let amount = ins_t.amounts[0][i] as i128;
    let status = if sets.is_empty() {
        Status::Unpaid
    } else if other_ccy {
        Status::CurrencyMismatch
    } else if n_settled >= 2 {
        Status::DoublePaid
    } else if n_settled == 0 && n_returned > 0 {
        Status::Returned
    } else if n_settled == 0 {
        Status::Failed
    } else if paid == 0 && n_returned > 0 {
        Status::Returned
    } else if paid == amount {
        Status::Paid
    } else if paid < amount {
        Status::Underpaid
    } else {
        Status::Overpaid
    };
    (status, paid, flags)
}

/// Each instruction's (program, cycle, currency) group, numbered in key order, and the
/// number of groups.
fn outlier_groups(t: &Table, prog: &[u32], cyc: &[u32]) -> (Vec<u32>, usize) {
    let dims = [
        t.text[ins::PROGRAM].dict_values().len(),
        t.text[ins::CYCLE].dict_values().len(),
        crate::currency::table().currencies.len(),
    ];
    number_keys(prog, cyc, &t.currency, dims, 1 << 22)
}

/// Numbers the distinct (program, cycle, currency) keys of the rows in key order, and
/// counts them; `dims` bound each part's codes. The codes are dense, so with few
/// programmes and cycles (any real payroll) a cell per possible key, at most `max_cells`,
/// replaces hashing; a hostile number of distinct values falls back to a hash set.
fn number_keys(
    prog: &[u32],
    cyc: &[u32],
    ccy: &[Ccy],
    dims: [usize; 3],
    max_cells: usize,
) -> (Vec<u32>, usize) {
    let n = prog.len();
    let [_, cycles, currencies] = dims;
    let cells = dims.iter().product::<usize>();
    if cells <= max_cells {
        let cell =
            |i: usize| (prog[i] as usize * cycles + cyc[i] as usize) * currencies + ccy[i] as usize;
        let mut number = vec![u32::MAX; cells];
        for i in 0..n {
            number[cell(i)] = 0;
        }
        // Cell order is key order: programme, then cycle, then currency code.
        let mut groups = 0;
        for x in number.iter_mut().filter(|x| **x == 0) {
            *x = groups as u32;
            groups += 1;
        }
        return (
            (0..n).into_par_iter().map(|i| number[cell(i)]).collect(),
            groups,
        );
    }
    let key = |i: usize| (prog[i], cyc[i], ccy[i]);
    let mut keys: Vec<(u32, u32, Ccy)> = (0..n)
        .into_par_iter()
        .fold(HashSet::new, |mut set, i| {
            set.insert(key(i));
            set
        })
        .reduce(HashSet::new, |mut a, b| {
            a.extend(b);
            a
        })
        .into_iter()
        .collect();
    keys.sort_unstable();
    let number: HashMap<(u32, u32, Ccy), u32> = keys
        .iter()
        .enumerate()
        .map(|(g, &k)| (k, g as u32))
        .collect();
    (
        (0..n).into_par_iter().map(|i| number[&key(i)]).collect(),
        keys.len(),
    )
}

/// Flags that depend on groups of instructions: AMOUNT_OUTLIER, DUPLICATE_BENEFICIARY,
/// SHARED_ACCOUNT.
pub fn group_flags(t: &Table, s: &Settings) -> Vec<u16> {
    let n = t.len();
    let mut flags = vec![0u16; n];
    if n == 0 {
        return flags;
    }
    let ben = t.text[ins::BENEFICIARY].plain();
    let acct = t.text[ins::ACCOUNT].plain();
    let (prog, cyc, prov) = (
        t.codes(ins::PROGRAM),
        t.codes(ins::CYCLE),
        t.codes(ins::PROVIDER),
    );
    fn v(a: &arrow_array::StringArray, i: u32) -> &str {
        a.value(i as usize)
    }
    let (p, c) = (|i: u32| prog[i as usize], |i: u32| cyc[i as usize]);

    // Each grouping runs per radix partition (group::per_partition): a partition holds
    // every row of its keys, its table stays in cache and is dropped with it.

    // DUPLICATE_BENEFICIARY: (beneficiary_id, program, cycle) held by two or more.
    let h = group::hashes(n, &|i| group::hash((ben.value(i), prog[i], cyc[i])));
    let eq = |a: u32, b: u32| p(a) == p(b) && c(a) == c(b) && v(ben, a) == v(ben, b);
    let duplicated = group::per_partition(&h, |rows, hs, out| {
        let (_, firsts) = group::number_groups(rows, hs, &eq, out);
        let mut size = vec![0u32; firsts.len()];
        for &g in out.iter() {
            size[g as usize] += 1;
        }
        for g in out.iter_mut() {
            *g = (size[*g as usize] >= 2) as u32;
        }
    });

    // SHARED_ACCOUNT: (provider, account) naming >= shared_account_min distinct beneficiaries.
    let h = group::hashes(n, &|i| group::hash((prov[i], acct.value(i))));
    let eq = |a: u32, b: u32| prov[a as usize] == prov[b as usize] && v(acct, a) == v(acct, b);
    let beneficiaries = group::per_partition(&h, |rows, hs, out| {
        let (_, firsts) = group::number_groups(rows, hs, &eq, out);
        // Most accounts have one beneficiary: a group counts 1 for its first row's
        // beneficiary plus each other distinct one, kept in a set of (group, row).
        let mut distinct = vec![1u32; firsts.len()];
        let mut others: HashTable<u32> = HashTable::new();
        let key_hash = |g: u32, i: u32| group::hash((g, v(ben, i)));
        for (j, (&g, &i)) in out.iter().zip(rows).enumerate() {
            let first = firsts[g as usize];
            if i == first || v(ben, i) == v(ben, first) {
                continue;
            }
            let h = key_hash(g, i);
            let same = |&o: &u32| out[o as usize] == g && v(ben, rows[o as usize]) == v(ben, i);
            if others.find(h, same).is_none() {
                others.insert_unique(h, j as u32, |&o| {
                    key_hash(out[o as usize], rows[o as usize])
                });
                distinct[g as usize] += 1;
            }
        }
        for g in out.iter_mut() {
            *g = distinct[*g as usize];
        }
    });
    flags
        .par_iter_mut()
        .zip(duplicated.par_iter().zip(&beneficiaries))
        .for_each(|(f, (&d, &b))| {
            if d != 0 {
                *f |= flag::DUPLICATE_BENEFICIARY;
            }
            if b >= s.shared_account_min {
                *f |= flag::SHARED_ACCOUNT;
            }
        });
    drop((duplicated, beneficiaries));

    // AMOUNT_OUTLIER: amount > factor x lower median of its (program, cycle, currency).
    // The groups are few: they are numbered in key order (the numbering reaches no
    // output), rows are ordered by group with a counting sort, and each group's median is
    // taken from a copy of its amounts alone.
    let (group_of, groups) = outlier_groups(t, prog, cyc);
    let mut starts = vec![0usize; groups + 1];
    for &g in &group_of {
        starts[g as usize + 1] += 1;
    }
    for g in 0..groups {
        starts[g + 1] += starts[g];
    }
    let mut by_group = vec![0u32; n];
    let mut cursor = starts.clone();
    for (i, &g) in group_of.iter().enumerate() {
        by_group[cursor[g as usize]] = i as u32;
        cursor[g as usize] += 1;
    }
    let amounts = &t.amounts[0];
    let medians: Vec<u64> = (0..groups)
        .into_par_iter()
        .map(|g| {
            let mut a: Vec<u64> = by_group[starts[g]..starts[g + 1]]
                .iter()
                .map(|&i| amounts[i as usize])
                .collect();
            let k = (a.len() - 1) / 2;
            *a.select_nth_unstable(k).1
        })
        .collect();
    drop(by_group);
    flags
        .par_iter_mut()
        .zip(group_of.par_iter().zip(amounts))
        .for_each(|(f, (&g, &a))| {
            if s.outlier_factor
                .exceeded(a as i128, medians[g as usize] as i128)
            {
                *f |= flag::AMOUNT_OUTLIER;
            }
        });
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_numbers_are_the_same_with_cells_or_hashing() {
        let n = 3000;
        let prog: Vec<u32> = (0..n).map(|i| (i * 7 % 5) as u32).collect();
        let cyc: Vec<u32> = (0..n).map(|i| (i * 13 % 3) as u32).collect();
        let ccy: Vec<Ccy> = (0..n).map(|i| (i * 31 % 4) as Ccy).collect();
        // Key order, the slow way.
        let keys: std::collections::BTreeSet<_> =
            (0..n).map(|i| (prog[i], cyc[i], ccy[i])).collect();
        let keys: Vec<_> = keys.into_iter().collect();
        let want: Vec<u32> = (0..n)
            .map(|i| keys.binary_search(&(prog[i], cyc[i], ccy[i])).unwrap() as u32)
            .collect();
        let dims = [5, 3, 4];
        assert_eq!(number_keys(&prog, &cyc, &ccy, dims, usize::MAX).0, want);
        assert_eq!(number_keys(&prog, &cyc, &ccy, dims, 0).0, want);
    }
}
