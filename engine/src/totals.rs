//! Totals (CONTRACT.md section 5, `summary.json`): per currency, per provider and per
//! programme, exact, in minor units of the currency (i128: 10^7 rows of 10^15 x 10^4 fit
//! with room to spare; additions are checked all the same).

use std::collections::BTreeMap;

use hashbrown::HashMap;
use rayon::prelude::*;

use crate::classify::{Classes, Status};
use crate::currency::{self, Ccy};
use crate::error::{Error, Result};
use crate::group;
use crate::matching::{Matches, Method, NO_MATCH};
use crate::money::minor_string;
use crate::schema::{ins, set, SettleStatus};
use crate::table::Table;

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

type Cells = HashMap<(u32, Ccy), Totals>;

pub type ByCcy = BTreeMap<String, Totals>;

#[derive(Debug, Default)]
pub struct AllTotals {
    pub by_currency: ByCcy,
    pub by_provider: BTreeMap<String, ByCcy>,
    pub by_program: BTreeMap<String, ByCcy>,
}

/// Per-row sums into (group, currency) cells, folded in parallel. Rows in 64K-row chunks
/// are summed without checks: one chunk of 15-digit amounts cannot overflow i128.
fn fold(n: usize, row: &(dyn Fn(usize, &mut Cells) + Sync)) -> Result<HashMap<(u32, Ccy), Totals>> {
    let parts: Vec<HashMap<(u32, Ccy), Totals>> = (0..n.div_ceil(65536))
        .into_par_iter()
        .map(|c| {
            let mut m = HashMap::new();
            for i in c * 65536..((c + 1) * 65536).min(n) {
                row(i, &mut m);
            }
            m
        })
        .collect();
    let mut out: HashMap<(u32, Ccy), Totals> = HashMap::new();
    for p in parts {
        for (k, v) in p {
            out.entry(k).or_default().merge(&v)?;
        }
    }
    Ok(out)
}

fn names(t: &Table, col: usize) -> Vec<u32> {
    let a = &t.text[col];
    let h = group::hashes(t.len(), &|i| group::hash(a.value(i)));
    group::group_first(&h, &|x, y| a.value(x as usize) == a.value(y as usize)).0
}

fn into_map(
    cells: HashMap<(u32, Ccy), Totals>,
    name: &dyn Fn(u32) -> String,
    out: &mut BTreeMap<String, ByCcy>,
) -> Result<()> {
    let table = currency::table();
    for ((g, c), v) in cells {
        out.entry(name(g))
            .or_default()
            .entry(table.code(c).to_string())
            .or_default()
            .merge(&v)?;
    }
    Ok(())
}

pub fn compute(ins_t: &Table, set_t: &Table, m: &Matches, cl: &Classes) -> Result<AllTotals> {
    let table = currency::table();
    let mut all = AllTotals::default();
    let ins_row = |i: usize, g: u32, map: &mut HashMap<(u32, Ccy), Totals>| {
        map.entry((g, ins_t.currency[i]))
            .or_default()
            .add_instruction(ins_t.amounts[0][i], cl.status[i]);
    };
    let set_row = |s: usize, g: u32, map: &mut HashMap<(u32, Ccy), Totals>| {
        map.entry((g, set_t.currency[s]))
            .or_default()
            .add_settlement(
                set_t.amounts[set::AMOUNT][s],
                set_t.amounts[set::FEE][s],
                set_t.status[s],
                m.method[s],
            );
    };
    // Per currency.
    let a = fold(ins_t.len(), &|i, map| ins_row(i, 0, map))?;
    let b = fold(set_t.len(), &|s, map| set_row(s, 0, map))?;
    for cells in [a, b] {
        for ((_, c), v) in cells {
            all.by_currency
                .entry(table.code(c).to_string())
                .or_default()
                .merge(&v)?;
        }
    }
    // Per provider: each row by its own provider.
    let ip = names(ins_t, ins::PROVIDER);
    let sp = names(set_t, set::PROVIDER);
    let a = fold(ins_t.len(), &|i, map| ins_row(i, ip[i], map))?;
    into_map(
        a,
        &|g| ins_t.str(ins::PROVIDER, g as usize).to_string(),
        &mut all.by_provider,
    )?;
    let b = fold(set_t.len(), &|s, map| set_row(s, sp[s], map))?;
    into_map(
        b,
        &|g| set_t.str(set::PROVIDER, g as usize).to_string(),
        &mut all.by_provider,
    )?;
    // Per programme: instructions, and the settlements matched to them.
    let pg = names(ins_t, ins::PROGRAM);
    let a = fold(ins_t.len(), &|i, map| ins_row(i, pg[i], map))?;
    into_map(
        a,
        &|g| ins_t.str(ins::PROGRAM, g as usize).to_string(),
        &mut all.by_program,
    )?;
    let b = fold(set_t.len(), &|s, map| {
        let i = m.instruction[s];
        if i != NO_MATCH {
            set_row(s, pg[i as usize], map);
        }
    })?;
    into_map(
        b,
        &|g| ins_t.str(ins::PROGRAM, g as usize).to_string(),
        &mut all.by_program,
    )?;
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
