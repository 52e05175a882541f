//! The run's proof of itself, before anything is committed (CONTRACT.md section 2
//! "Conservation", STYLE.md 14): every input row is in exactly one output row, and the
//! per-currency totals of `summary.json` equal sums re-derived from the written batches.
//! The sums here read the output Arrow columns (decimal values and text codes), a
//! second path independent of `totals`, which works on the engine's internal arrays.

use arrow_array::cast::AsArray;
use arrow_array::types::Decimal128Type;
use arrow_array::{Array, RecordBatch};

use crate::currency;
use crate::error::{Error, Result};
use crate::money::POW10;
use crate::totals::{ByCcy, Totals};
use crate::write::Output;

fn col<'a>(b: &'a RecordBatch, name: &str) -> &'a dyn Array {
    b.column(b.schema().index_of(name).expect("output column"))
        .as_ref()
}

/// Figures re-derived from the written batches.
#[derive(Debug, Default)]
pub struct Rederived {
    pub totals: ByCcy,
    /// Result rows written: instructions, settlements.
    pub rows: [u64; 2],
    /// Reject rows written, per side.
    pub rejected: [u64; 2],
}

/// The totals of a currency, without allocating a key for every row.
fn cell<'a>(t: &'a mut ByCcy, code: &str) -> &'a mut Totals {
    if !t.contains_key(code) {
        t.insert(code.to_string(), Totals::default());
    }
    t.get_mut(code).expect("inserted above")
}

fn to_minor(v: i128, code: &str, scale: i8) -> i128 {
    let table = currency::table();
    let minor = table.minor_units(table.lookup(code).expect("output currency is known"));
    v / POW10[(scale as u8 - minor) as usize]
}

fn scale_of(a: &dyn Array) -> i8 {
    match a.data_type() {
        arrow_schema::DataType::Decimal128(_, s) => *s,
        _ => 0,
    }
}

impl Rederived {
    /// Adds one written batch of `output`.
    pub fn add(&mut self, output: Output, b: &RecordBatch) -> Result<()> {
        let ov = || Error::Internal("re-derived total overflowed".into());
        let t = &mut self.totals;
        match output {
            Output::Instructions => {
                self.rows[0] += b.num_rows() as u64;
                let amount_col = col(b, "amount");
                let scale = scale_of(amount_col);
                let (amount, ccy, status) = (
                    amount_col.as_primitive::<Decimal128Type>(),
                    col(b, "currency").as_string::<i32>(),
                    col(b, "status").as_string::<i32>(),
                );
                for i in 0..b.num_rows() {
                    let code = ccy.value(i);
                    let e = cell(t, code);
                    let a = to_minor(amount.value(i), code, scale);
                    e.instructed_count += 1;
                    e.instructed_amount = e.instructed_amount.checked_add(a).ok_or_else(ov)?;
                    if status.value(i) == "UNPAID" {
                        e.unpaid_count += 1;
                        e.unpaid_amount = e.unpaid_amount.checked_add(a).ok_or_else(ov)?;
                    }
                }
            }
            Output::Settlements => {
                self.rows[1] += b.num_rows() as u64;
                let amount_col = col(b, "amount");
                let (scale, fee_scale) = (scale_of(amount_col), scale_of(col(b, "fee")));
                let (amount, fee, ccy, status, method) = (
                    amount_col.as_primitive::<Decimal128Type>(),
                    col(b, "fee").as_primitive::<Decimal128Type>(),
                    col(b, "currency").as_string::<i32>(),
                    col(b, "status").as_string::<i32>(),
                    col(b, "match_method").as_string::<i32>(),
                );
                for i in 0..b.num_rows() {
                    let code = ccy.value(i);
                    let e = cell(t, code);
                    let a = to_minor(amount.value(i), code, scale);
                    e.fees = e
                        .fees
                        .checked_add(to_minor(fee.value(i), code, fee_scale))
                        .ok_or_else(ov)?;
                    match status.value(i) {
                        "SETTLED" => {
                            e.settled_count += 1;
                            e.settled_amount = e.settled_amount.checked_add(a).ok_or_else(ov)?;
                            if method.value(i) == "NONE" {
                                e.unexpected_count += 1;
                                e.unexpected_amount =
                                    e.unexpected_amount.checked_add(a).ok_or_else(ov)?;
                            }
                        }
                        "RETURNED" => {
                            e.returned_count += 1;
                            e.returned_amount = e.returned_amount.checked_add(a).ok_or_else(ov)?;
                        }
                        _ => e.failed_count += 1,
                    }
                }
            }
            Output::Rejects => {
                let sides = col(b, "side").as_string::<i32>();
                for i in 0..b.num_rows() {
                    self.rejected[usize::from(sides.value(i) != "instructions")] += 1;
                }
            }
        }
        Ok(())
    }

    pub fn merge(&mut self, o: Rederived) -> Result<()> {
        for (k, v) in o.totals {
            self.totals.entry(k).or_default().merge(&v)?;
        }
        for k in 0..2 {
            self.rows[k] += o.rows[k];
            self.rejected[k] += o.rejected[k];
        }
        Ok(())
    }

    /// Checks conservation per side and the totals; an error here is a bug (exit 1).
    pub fn check(&self, rows_in: [u64; 2], totals: &ByCcy) -> Result<()> {
        for (k, side) in ["instructions", "settlements"].iter().enumerate() {
            let accounted = self.rows[k] + self.rejected[k];
            if accounted != rows_in[k] {
                return Err(Error::Internal(format!(
                    "conservation failed for {side}: {} rows read, {accounted} accounted for; nothing was written",
                    rows_in[k]
                )));
            }
        }
        // Currencies with no rows at all are absent from one side or the other.
        let nonzero = |m: &ByCcy| -> ByCcy {
            m.iter()
                .filter(|(_, t)| **t != Totals::default())
                .map(|(k, t)| (k.clone(), t.clone()))
                .collect()
        };
        if nonzero(&self.totals) != nonzero(totals) {
            return Err(Error::Internal(
                "the totals re-derived from the output rows differ from summary.json; nothing was written".into(),
            ));
        }
        Ok(())
    }
}
