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
use crate::write::{Output, Text};

fn col<'a>(b: &'a RecordBatch, name: &str) -> &'a dyn Array {
    b.column(b.schema().index_of(name).expect("output column"))
        .as_ref()
}

fn text<'a>(b: &'a RecordBatch, name: &str) -> Result<Text<'a>> {
    Text::of(b, name).map_err(Error::Internal)
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

/// One batch's totals per currency, kept in the batch's decimal scale: the values of a
/// currency are multiples of 10^(scale - minor units), so their sum divides exactly once
/// per batch instead of once per row.
#[derive(Default)]
struct BatchTotals<'a> {
    cells: Vec<(&'a str, Totals)>,
    last: usize,
}

/// What the self-check needs of a settlement's status.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Settled,
    Returned,
    Failed,
}

impl<'a> BatchTotals<'a> {
    /// The cell number of a currency code (a batch holds a few: a linear scan from the
    /// last hit).
    fn index(&mut self, code: &'a str) -> usize {
        if self.cells.get(self.last).is_none_or(|c| c.0 != code) {
            self.last = match self.cells.iter().position(|c| c.0 == code) {
                Some(k) => k,
                None => {
                    self.cells.push((code, Totals::default()));
                    self.cells.len() - 1
                }
            };
        }
        self.last
    }

    /// Each row's cell number, from the batch's currency column.
    fn cells_of(&mut self, ccy: &Text<'a>) -> Vec<usize> {
        ccy.map_rows(|code| self.index(code))
    }

    /// Adds the batch's cells to `t`, amounts brought to minor units.
    fn add_to(self, t: &mut ByCcy, scale: i8) -> Result<()> {
        let table = currency::table();
        for (code, mut x) in self.cells {
            // The cell of rows without a currency (skipped, so empty).
            if code.is_empty() && x == Totals::default() {
                continue;
            }
            let minor = table.minor_units(table.lookup(code).ok_or_else(|| {
                Error::Internal(format!("unknown currency {code:?} in an output"))
            })?);
            let p = POW10[(scale as u8 - minor) as usize];
            for a in [
                &mut x.instructed_amount,
                &mut x.settled_amount,
                &mut x.returned_amount,
                &mut x.fees,
                &mut x.unpaid_amount,
                &mut x.unexpected_amount,
            ] {
                if *a % p != 0 {
                    return Err(Error::Internal(format!(
                        "an output amount in {code} has digits beyond its minor units"
                    )));
                }
                *a /= p;
            }
            t.entry(code.to_string()).or_default().merge(&x)?;
        }
        Ok(())
    }
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
                    text(b, "currency")?,
                    text(b, "status")?,
                );
                let n = b.num_rows();
                let mut bt = BatchTotals::default();
                let cells = bt.cells_of(&ccy);
                let unpaid = status.map_rows(|s| s == "UNPAID");
                for i in 0..n {
                    let e = &mut bt.cells[cells[i]].1;
                    let a = amount.value(i);
                    e.instructed_count += 1;
                    e.instructed_amount = e.instructed_amount.checked_add(a).ok_or_else(ov)?;
                    if unpaid[i] {
                        e.unpaid_count += 1;
                        e.unpaid_amount = e.unpaid_amount.checked_add(a).ok_or_else(ov)?;
                    }
                }
                bt.add_to(t, scale)?;
            }
            Output::Settlements => {
                self.rows[1] += b.num_rows() as u64;
                let amount_col = col(b, "amount");
                let scale = scale_of(amount_col);
                if scale_of(col(b, "fee")) != scale {
                    return Err(Error::Internal("fee and amount scales differ".into()));
                }
                let (amount, fee, ccy, status, method) = (
                    amount_col.as_primitive::<Decimal128Type>(),
                    col(b, "fee").as_primitive::<Decimal128Type>(),
                    text(b, "currency")?,
                    text(b, "status")?,
                    text(b, "match_method")?,
                );
                let n = b.num_rows();
                let mut bt = BatchTotals::default();
                let cells = bt.cells_of(&ccy);
                let settled = status.map_rows(|s| match s {
                    "SETTLED" => Outcome::Settled,
                    "RETURNED" => Outcome::Returned,
                    _ => Outcome::Failed,
                });
                let unmatched = method.map_rows(|m| m == "NONE");
                let no_ccy = col(b, "currency");
                for i in 0..n {
                    // (v2) A row without a currency counts nowhere; it has no amount.
                    if no_ccy.is_null(i) {
                        if amount.is_valid(i) || settled[i] != Outcome::Failed {
                            return Err(Error::Internal(format!(
                                "settlement output row {i} has no currency but an amount or a status other than FAILED"
                            )));
                        }
                        continue;
                    }
                    let e = &mut bt.cells[cells[i]].1;
                    let a = amount.value(i);
                    e.fees = e.fees.checked_add(fee.value(i)).ok_or_else(ov)?;
                    match settled[i] {
                        Outcome::Settled => {
                            e.settled_count += 1;
                            e.settled_amount = e.settled_amount.checked_add(a).ok_or_else(ov)?;
                            if unmatched[i] {
                                e.unexpected_count += 1;
                                e.unexpected_amount =
                                    e.unexpected_amount.checked_add(a).ok_or_else(ov)?;
                            }
                        }
                        Outcome::Returned => {
                            e.returned_count += 1;
                            e.returned_amount = e.returned_amount.checked_add(a).ok_or_else(ov)?;
                        }
                        Outcome::Failed => e.failed_count += 1,
                    }
                }
                bt.add_to(t, scale)?;
            }
            Output::Rejects => {
                for other in text(b, "side")?.map_rows(|s| s != "instructions") {
                    self.rejected[usize::from(other)] += 1;
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
