//! Totals (CONTRACT.md section 5, `summary.json`): per currency, per provider and per
//! programme, exact, in minor units of the currency (i128: 10^7 rows of 10^15 x 10^4 fit
//! with room to spare; additions are checked all the same).

use std::collections::BTreeMap;

use hashbrown::HashMap;
use rayon::prelude::*;

use crate::classify::{Classes, Status};
use crate::currency::{self, Ccy};
use crate::error::{Error, Result};
use crate::matching::{Matches, Method, NO_MATCH};
use crate::money::minor_string;
use crate::schema::{ins, set, SettleStatus};
use crate::table::Table;
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

    pub fn to_json(&self, minor: u8) -> serde_json::Value {
        let m = |v: i128| minor_string(v, minor);
        serde_json::json!({
            "instructed_count": self.instructed_count,
            "instructed_amount": m(self.instructed_amount),
            "settled_count": self.settled_count,
            "settled_amount": m(self.settled_amount),
            "returned_count": self.returned_count,
            "returned_amount": m(self.returned_amount),
            "failed_count": self.failed_count,
            "fees": m(self.fees),
            "unpaid_count": self.unpaid_count,
            "unpaid_amount": m(self.unpaid_amount),
            "unexpected_count": self.unexpected_count,
            "unexpected_amount": m(self.unexpected_amount),
        })
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

/// Sums rows into (group, currency) cells in parallel 64K-row chunks. `cell(i)` names a
/// row's cell (None: the row is not counted); `add` adds it. One chunk of 15-digit
/// amounts cannot overflow i128; chunks merge with checked additions.
fn fold(
    n: usize,
    cells: usize,
    cell: &(dyn Fn(usize) -> Option<usize> + Sync),
    add: &(dyn Fn(usize, &mut Totals) + Sync),
) -> Result<HashMap<usize, Totals>> {
    let parts: Vec<HashMap<usize, Totals>> = (0..n.div_ceil(65536))
        .into_par_iter()
        .map(|c| {
            let rows = c * 65536..((c + 1) * 65536).min(n);
            if cells <= MAX_DENSE_CELLS {
                let mut v: Vec<Option<Totals>> = vec![None; cells];
                for i in rows {
                    if let Some(k) = cell(i) {
                        add(i, v[k].get_or_insert_with(Totals::default));
                    }
                }
                v.into_iter()
                    .enumerate()
                    .filter_map(|(k, t)| t.map(|t| (k, t)))
                    .collect()
            } else {
                let mut m: HashMap<usize, Totals> = HashMap::new();
                for i in rows {
                    if let Some(k) = cell(i) {
                        add(i, m.entry(k).or_default());
                    }
                }
                m
            }
        })
        .collect();
    let mut out: HashMap<usize, Totals> = HashMap::new();
    for p in parts {
        for (k, v) in p {
            out.entry(k).or_default().merge(&v)?;
        }
    }
    Ok(out)
}

pub fn compute(ins_t: &Table, set_t: &Table, m: &Matches, cl: &Classes) -> Result<AllTotals> {
    let table = currency::table();
    let nc = table.currencies.len();
    let mut all = AllTotals::default();
    let add_ins =
        |i: usize, t: &mut Totals| t.add_instruction(ins_t.amounts[0][i] as i128, cl.status[i]);
    let add_set = |s: usize, t: &mut Totals| {
        t.add_settlement(
            set_t.amounts[set::AMOUNT][s] as i128,
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
    // Per currency.
    put(
        fold(
            ins_t.len(),
            nc,
            &|i| Some(ins_t.currency[i] as usize),
            &add_ins,
        )?,
        None,
        0,
    )?;
    put(
        fold(
            set_t.len(),
            nc,
            &|s| Some(set_t.currency[s] as usize),
            &add_set,
        )?,
        None,
        0,
    )?;
    // Per provider: each row by its own provider.
    let (ip, sp) = rayon::join(
        || groups(ins_t, ins::PROVIDER),
        || groups(set_t, set::PROVIDER),
    );
    let cells = fold(
        ins_t.len(),
        ip.names.len() * nc,
        &|i| Some(ip.ids[i] as usize * nc + ins_t.currency[i] as usize),
        &add_ins,
    )?;
    put(cells, Some(&ip.names), 1)?;
    let cells = fold(
        set_t.len(),
        sp.names.len() * nc,
        &|s| Some(sp.ids[s] as usize * nc + set_t.currency[s] as usize),
        &add_set,
    )?;
    put(cells, Some(&sp.names), 1)?;
    // Per programme: instructions, and the settlements matched to them.
    let pg = groups(ins_t, ins::PROGRAM);
    let cells = fold(
        ins_t.len(),
        pg.names.len() * nc,
        &|i| Some(pg.ids[i] as usize * nc + ins_t.currency[i] as usize),
        &add_ins,
    )?;
    put(cells, Some(&pg.names), 2)?;
    let cells = fold(
        set_t.len(),
        pg.names.len() * nc,
        &|s| {
            let i = m.instruction[s];
            (i != NO_MATCH).then(|| pg.ids[i as usize] as usize * nc + set_t.currency[s] as usize)
        },
        &add_set,
    )?;
    put(cells, Some(&pg.names), 2)?;
    Ok(all)
}

pub fn by_ccy_json(m: &ByCcy) -> serde_json::Value {
    let table = currency::table();
    let mut o = serde_json::Map::new();
    for (code, t) in m {
        let minor = table.minor_units(table.lookup(code).expect("known code"));
        o.insert(code.clone(), t.to_json(minor));
    }
    serde_json::Value::Object(o)
}

pub fn nested_json(m: &BTreeMap<String, ByCcy>) -> serde_json::Value {
    let mut o = serde_json::Map::new();
    for (k, v) in m {
        o.insert(k.clone(), by_ccy_json(v));
    }
    serde_json::Value::Object(o)
}
