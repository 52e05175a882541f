//! Totals (CONTRACT.md section 5, `summary.json`): per currency, per provider and per
//! programme, exact, in minor units of the currency (i128: 10^7 rows of 10^15 x 10^4 fit
//! with room to spare; additions are checked all the same).

use std::collections::BTreeMap;

use hashbrown::HashMap;
use rayon::prelude::*;

use crate::classify::{Classes, Status};
use crate::currency::{self, Ccy, NO_CCY};
use crate::error::{Error, Result};
use crate::matching::{Matches, Method, NO_MATCH};
use crate::schema::{ins, set, SettleStatus};
use crate::table::Table;
use crate::validate::NO_AMOUNT;
use arrow_array::Array;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub instructed_count: u64,
    pub instructed_amount: i128,
    pub settled_count: u64,
    pub settled_amount: i128,
    pub returned_count: u64,
    pub returned_amount: i128,
    pub failed_count: u64,
    pub fees: i128,
    pub unpaid_count: u64,
    pub unpaid_amount: i128,
    pub unexpected_count: u64,
    pub unexpected_amount: i128,
}

fn add(a: i128, b: i128) -> Result<i128> {
    a.checked_add(b)
        .ok_or_else(|| Error::Internal("a total overflowed i128; nothing was written".into()))
}

impl Totals {
    pub fn merge(&mut self, o: &Totals) -> Result<()> {
        self.instructed_count += o.instructed_count;
        self.instructed_amount = add(self.instructed_amount, o.instructed_amount)?;
        self.settled_count += o.settled_count;
        self.settled_amount = add(self.settled_amount, o.settled_amount)?;
        self.returned_count += o.returned_count;
        self.returned_amount = add(self.returned_amount, o.returned_amount)?;
        self.failed_count += o.failed_count;
        self.fees = add(self.fees, o.fees)?;
        self.unpaid_count += o.unpaid_count;
        self.unpaid_amount = add(self.unpaid_amount, o.unpaid_amount)?;
        self.unexpected_count += o.unexpected_count;
        self.unexpected_amount = add(self.unexpected_amount, o.unexpected_amount)?;
        Ok(())
    }

    /// Whether any row was added (each adds to one of the counts).
    fn counted(&self) -> bool {
        self.instructed_count + self.settled_count + self.returned_count + self.failed_count > 0
    }

    fn add_instruction(&mut self, amount: i128, status: u8) {
        self.instructed_count += 1;
        self.instructed_amount += amount;
        if status == Status::Unpaid as u8 {
            self.unpaid_count += 1;
            self.unpaid_amount += amount;
        }
    }

    fn add_settlement(&mut self, amount: i128, fee: i128, status: u8, method: u8) {
        self.fees += fee;
        match SettleStatus::from_u8(status) {
            SettleStatus::Settled => {
                self.settled_count += 1;
                self.settled_amount += amount;
                if method == Method::None as u8 {
                    self.unexpected_count += 1;
                    self.unexpected_amount += amount;
                }
            }
            SettleStatus::Returned => {
                self.returned_count += 1;
                self.returned_amount += amount;
            }
            SettleStatus::Failed => self.failed_count += 1,
        }
    }
}

pub type ByCcy = BTreeMap<String, Totals>;

#[derive(Debug, Default)]
pub struct AllTotals {
    pub by_currency: ByCcy,
    pub by_provider: BTreeMap<String, ByCcy>,
    pub by_program: BTreeMap<String, ByCcy>,
}

/// Dense numbering of a grouping: `ids[row]` in `0..names.len()`.
struct Groups {
    ids: Vec<u32>,
    names: Vec<String>,
}

/// Groups a dictionary text column by value: its codes already number the values densely
/// in order of first appearance.
fn groups(t: &Table, col: usize) -> Groups {
    let values = t.text[col].dict_values();
    Groups {
        ids: t.codes(col).to_vec(),
        names: (0..values.len())
            .map(|c| values.value(c).to_string())
            .collect(),
    }
}

/// Most (group, currency) cells summed in a flat array per chunk; more go to a map.
const MAX_DENSE_CELLS: usize = 1 << 16;

/// Sums rows into the (group, currency) cells of `K` groupings at once, in parallel
/// 64K-row chunks: `cell(i)` names a row's cell in each grouping (None: the row is not
/// counted there), `add` adds the row to a cell. One chunk of 15-digit amounts cannot
/// overflow i128; chunks merge with checked additions.
fn fold<const K: usize>(
    n: usize,
    cells: [usize; K],
    cell: impl Fn(usize) -> [Option<usize>; K] + Sync,
    add: impl Fn(usize, &mut Totals) + Sync,
) -> Result<[HashMap<usize, Totals>; K]> {
    let dense = cells.iter().all(|&c| c <= MAX_DENSE_CELLS);
    let parts: Vec<[HashMap<usize, Totals>; K]> = (0..n.div_ceil(65536))
        .into_par_iter()
        .map(|c| {
            let rows = c * 65536..((c + 1) * 65536).min(n);
            if dense {
                // Every row adds a count, so an untouched cell is one with no count.
                let mut sums = cells.map(|c| vec![Totals::default(); c]);
                add_rows(rows, &mut sums, &cell, &add, |v, k| &mut v[k]);
                sums.map(|v| {
                    v.into_iter()
                        .enumerate()
                        .filter(|(_, t)| t.counted())
                        .collect()
                })
            } else {
                let mut sums: [HashMap<usize, Totals>; K] = std::array::from_fn(|_| HashMap::new());
                add_rows(rows, &mut sums, &cell, &add, |m, k| m.entry(k).or_default());
                sums
            }
        })
        .collect();
    let mut out: [HashMap<usize, Totals>; K] = std::array::from_fn(|_| HashMap::new());
    for p in parts {
        for (o, p) in out.iter_mut().zip(p) {
            for (k, v) in p {
                o.entry(k).or_default().merge(&v)?;
            }
        }
    }
    Ok(out)
}

/// Adds `rows` to their cells in each grouping's `sums`; `slot` finds a cell in one
/// grouping's sums (a flat vector or a map).
fn add_rows<S, const K: usize>(
    rows: std::ops::Range<usize>,
    sums: &mut [S; K],
    cell: &impl Fn(usize) -> [Option<usize>; K],
    add: &impl Fn(usize, &mut Totals),
    slot: impl Fn(&mut S, usize) -> &mut Totals,
) {
    for i in rows {
        for (sum, k) in sums.iter_mut().zip(cell(i)) {
            if let Some(k) = k {
                add(i, slot(sum, k));
            }
        }
    }
}

pub fn compute(ins_t: &Table, set_t: &Table, m: &Matches, cl: &Classes) -> Result<AllTotals> {
    let table = currency::table();
    let nc = table.currencies.len();
    let mut all = AllTotals::default();
    let add_ins =
        |i: usize, t: &mut Totals| t.add_instruction(ins_t.amounts[0][i] as i128, cl.status[i]);
    let add_set = |s: usize, t: &mut Totals| {
        // A FAILED row's absent amount counts as none (it adds to no sum anyway).
        let amount = set_t.amounts[set::AMOUNT][s];
        t.add_settlement(
            if amount == NO_AMOUNT {
                0
            } else {
                amount as i128
            },
            set_t.amounts[set::FEE][s] as i128,
            set_t.status[s],
            m.method[s],
        )
    };
    let mut put =
        |cells: HashMap<usize, Totals>, names: Option<&[String]>, which: u8| -> Result<()> {
            for (k, v) in cells {
                let code = table.code((k % nc) as Ccy).to_string();
                let target = match (which, names) {
                    (0, _) => &mut all.by_currency,
                    (1, Some(n)) => all.by_provider.entry(n[k / nc].clone()).or_default(),
                    (_, Some(n)) => all.by_program.entry(n[k / nc].clone()).or_default(),
                    _ => unreachable!("names given for groupings"),
                };
                target.entry(code).or_default().merge(&v)?;
            }
            Ok(())
        };
    let ((ip, sp), pg) = rayon::join(
        || {
            rayon::join(
                || groups(ins_t, ins::PROVIDER),
                || groups(set_t, set::PROVIDER),
            )
        },
        || groups(ins_t, ins::PROGRAM),
    );
    // Instructions: per currency, per their provider, per their programme.
    let [by_ccy, by_prov, by_prog] = fold(
        ins_t.len(),
        [nc, ip.names.len() * nc, pg.names.len() * nc],
        |i| {
            let c = ins_t.currency[i] as usize;
            [
                Some(c),
                Some(ip.ids[i] as usize * nc + c),
                Some(pg.ids[i] as usize * nc + c),
            ]
        },
        add_ins,
    )?;
    put(by_ccy, None, 0)?;
    put(by_prov, Some(&ip.names), 1)?;
    put(by_prog, Some(&pg.names), 2)?;
    // Settlements: per currency, per their own provider, and per the programme of the
    // instruction they are matched to.
    let [by_ccy, by_prov, by_prog] = fold(
        set_t.len(),
        [nc, sp.names.len() * nc, pg.names.len() * nc],
        |s| {
            // (v2) A settlement without a currency counts in no currency's totals.
            if set_t.currency[s] == NO_CCY {
                return [None, None, None];
            }
            let c = set_t.currency[s] as usize;
            let i = m.instruction[s];
            [
                Some(c),
                Some(sp.ids[s] as usize * nc + c),
                (i != NO_MATCH).then(|| pg.ids[i as usize] as usize * nc + c),
            ]
        },
        add_set,
    )?;
    put(by_ccy, None, 0)?;
    put(by_prov, Some(&sp.names), 1)?;
    put(by_prog, Some(&pg.names), 2)?;
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flat per-chunk cells and the map cells give the same sums, over several
    /// chunks and with rows left out of a grouping.
    #[test]
    fn dense_and_sparse_cells_sum_alike() {
        let n = 150_000;
        let cell = |i: usize| [Some(i % 7), (i % 3 != 0).then_some(i % 1000)];
        let add = |i: usize, t: &mut Totals| t.add_instruction(i as i128, (i % 5) as u8);
        let dense = fold(n, [7, 1000], cell, add).unwrap();
        let sparse = fold(n, [7, MAX_DENSE_CELLS + 1], cell, add).unwrap();
        assert_eq!(dense, sparse);
        assert_eq!(dense[0].len(), 7);
        assert_eq!(dense[1].len(), 1000);
        let counted: u64 = dense[1].values().map(|t| t.instructed_count).sum();
        assert_eq!(counted, (0..n).filter(|i| i % 3 != 0).count() as u64);
        let amount: i128 = dense[0].values().map(|t| t.instructed_amount).sum();
        assert_eq!(amount, (0..n as i128).sum::<i128>());
    }
}
