//! The run's proof of itself, before anything is committed (CONTRACT.md section 2
//! "Conservation", STYLE.md 14): every input row is in exactly one output row, and the
//! per-currency totals of `summary.json` equal sums re-derived from the written batches.
//! The sums here read the output Arrow columns (decimal values and text codes), a
//! second path independent of `totals`, which works on the engine's internal arrays.

use std::collections::BTreeMap;

use arrow_array::cast::AsArray;
use arrow_array::types::Decimal128Type;
use arrow_array::{Array, RecordBatch};

use crate::currency;
use crate::error::{Error, Result};
use crate::money::POW10;
use crate::totals::{ByCcy, Totals};
use crate::write::Outputs;

fn col<'a>(b: &'a RecordBatch, name: &str) -> &'a dyn Array {
    b.column(b.schema().index_of(name).expect("output column"))
        .as_ref()
}

/// Per-currency totals from the output batches, in minor units.
pub fn rederive(out: &Outputs) -> Result<ByCcy> {
    let table = currency::table();
    let mut t: BTreeMap<String, Totals> = BTreeMap::new();
    let to_minor = |v: i128, code: &str| -> i128 {
        let minor = table.minor_units(table.lookup(code).expect("output currency is known"));
        v / POW10[(out.scale as u8 - minor) as usize]
    };
    let ov = || Error::Internal("re-derived total overflowed".into());
    let b = &out.instructions;
    let (amount, ccy, status) = (
        col(b, "amount").as_primitive::<Decimal128Type>(),
        col(b, "currency").as_string::<i32>(),
        col(b, "status").as_string::<i32>(),
    );
    for i in 0..b.num_rows() {
        let code = ccy.value(i);
        let e = t.entry(code.to_string()).or_default();
        let a = to_minor(amount.value(i), code);
        e.instructed_count += 1;
        e.instructed_amount = e.instructed_amount.checked_add(a).ok_or_else(ov)?;
        if status.value(i) == "UNPAID" {
            e.unpaid_count += 1;
            e.unpaid_amount = e.unpaid_amount.checked_add(a).ok_or_else(ov)?;
        }
    }
    let b = &out.settlements;
    let (amount, fee, ccy, status, method) = (
        col(b, "amount").as_primitive::<Decimal128Type>(),
        col(b, "fee").as_primitive::<Decimal128Type>(),
        col(b, "currency").as_string::<i32>(),
        col(b, "status").as_string::<i32>(),
        col(b, "match_method").as_string::<i32>(),
    );
    for i in 0..b.num_rows() {
        let code = ccy.value(i);
        let e = t.entry(code.to_string()).or_default();
        let a = to_minor(amount.value(i), code);
        e.fees = e
            .fees
            .checked_add(to_minor(fee.value(i), code))
            .ok_or_else(ov)?;
        match status.value(i) {
            "SETTLED" => {
                e.settled_count += 1;
                e.settled_amount = e.settled_amount.checked_add(a).ok_or_else(ov)?;
                if method.value(i) == "NONE" {
                    e.unexpected_count += 1;
                    e.unexpected_amount = e.unexpected_amount.checked_add(a).ok_or_else(ov)?;
                }
            }
            "RETURNED" => {
                e.returned_count += 1;
                e.returned_amount = e.returned_amount.checked_add(a).ok_or_else(ov)?;
            }
            _ => e.failed_count += 1,
        }
    }
    Ok(t)
}

/// Checks conservation per side and the totals; an error here is a bug (exit 1).
pub fn check(out: &Outputs, rows_in: [u64; 2], totals: &ByCcy) -> Result<()> {
    let sides = col(&out.rejects, "side").as_string::<i32>();
    let rejected_ins = (0..sides.len())
        .filter(|&i| sides.value(i) == "instructions")
        .count() as u64;
    let rejected_set = sides.len() as u64 - rejected_ins;
    let accounted = [
        out.instructions.num_rows() as u64 + rejected_ins,
        out.settlements.num_rows() as u64 + rejected_set,
    ];
    for (k, side) in ["instructions", "settlements"].iter().enumerate() {
        if accounted[k] != rows_in[k] {
            return Err(Error::Internal(format!(
                "conservation failed for {side}: {} rows read, {} accounted for; nothing was written",
                rows_in[k], accounted[k]
            )));
        }
    }
    let again = rederive(out)?;
    if &again != totals {
        return Err(Error::Internal(
            "the totals re-derived from the output rows differ from summary.json; nothing was written".into(),
        ));
    }
    Ok(())
}
