//! `--retry-from`: reads a reconciliation's `instructions.parquet` (what `sverka
//! reconcile` wrote) and sorts its rows: UNPAID, FAILED and RETURNED go out again with
//! the next attempt's id; DOUBLE_PAID and OVERPAID become recovery rows (who owes what
//! back), never a payment; every other status needs no action here.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::{Array, Date32Array, Decimal128Array, RecordBatch, StringArray};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sverka_engine::currency::{self, Ccy};
use sverka_engine::money::POW10;
use sverka_engine::{Error, Result};

/// What happens to a reconciled instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Retry,
    Recover,
    None,
}

pub fn action(status: &str) -> Action {
    match status {
        "UNPAID" | "FAILED" | "RETURNED" => Action::Retry,
        "DOUBLE_PAID" | "OVERPAID" => Action::Recover,
        _ => Action::None,
    }
}

/// One row of the reconciliation output.
#[derive(Debug, Clone)]
pub struct Reconciled {
    /// 1-based row in the file.
    pub row: u64,
    pub instruction_id: String,
    pub beneficiary_id: String,
    pub program: String,
    pub cycle: String,
    pub provider: String,
    pub account: String,
    pub amount: i128,
    pub currency: Ccy,
    pub due: i32,
    pub status: String,
    pub paid_amount: i128,
    pub difference: i128,
}

pub struct RetryInput {
    /// `RESULTS_DIR/instructions.parquet`.
    pub path: PathBuf,
    pub rows: Vec<Reconciled>,
}

const COLUMNS: [&str; 12] = [
    "instruction_id",
    "beneficiary_id",
    "program",
    "cycle",
    "provider",
    "account",
    "amount",
    "currency",
    "due_date",
    "status",
    "paid_amount",
    "difference",
];

/// Reads `dir/instructions.parquet`. Anything unexpected is exit 2: this must be the
/// unchanged output of `sverka reconcile`.
pub fn read(dir: &Path) -> Result<RetryInput> {
    let path = dir.join("instructions.parquet");
    let bad = |m: String| Error::input(&path, m);
    let file = File::open(&path).map_err(|e| {
        bad(format!(
            "cannot open: {e}; --retry-from names the output folder of `sverka reconcile`"
        ))
    })?;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(
        || -> Result<Vec<RecordBatch>> {
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(|e| bad(format!("not a readable Parquet file: {e}")))?
                .with_batch_size(64 * 1024)
                .build()
                .map_err(|e| bad(format!("not a readable Parquet file: {e}")))?;
            reader
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| bad(format!("cannot decode: {e}")))
        },
    ));
    let batches = match result {
        Ok(r) => r?,
        Err(p) => {
            return Err(bad(format!(
                "file is damaged: the parquet decoder failed ({})",
                sverka_engine::panic_message(&p)
            )))
        }
    };
    let table = currency::table();
    let mut rows = Vec::new();
    let mut row = 0u64;
    for b in &batches {
        let schema = b.schema();
        let col = |name: &str| -> Result<usize> {
            schema.index_of(name).map_err(|_| {
                bad(format!(
                    "has no column {name}: not an instructions.parquet written by `sverka reconcile`"
                ))
            })
        };
        let idx: Vec<usize> = COLUMNS.iter().map(|c| col(c)).collect::<Result<_>>()?;
        let text = |k: usize| -> Result<&StringArray> {
            b.column(idx[k])
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| bad(format!("column {} is not text", COLUMNS[k])))
        };
        let dec = |k: usize| -> Result<(&Decimal128Array, i8)> {
            match b.column(idx[k]).data_type() {
                DataType::Decimal128(_, s) if *s >= 0 => Ok((
                    b.column(idx[k])
                        .as_any()
                        .downcast_ref::<Decimal128Array>()
                        .expect("decimal128"),
                    *s,
                )),
                _ => Err(bad(format!("column {} is not Decimal128", COLUMNS[k]))),
            }
        };
        let ids = text(0)?;
        let ben = text(1)?;
        let prog = text(2)?;
        let cyc = text(3)?;
        let prov = text(4)?;
        let acct = text(5)?;
        let (amount, s_amount) = dec(6)?;
        let ccy = text(7)?;
        let due = b
            .column(idx[8])
            .as_any()
            .downcast_ref::<Date32Array>()
            .ok_or_else(|| bad("column due_date is not Date32".into()))?;
        let status = text(9)?;
        let (paid, s_paid) = dec(10)?;
        let (diff, s_diff) = dec(11)?;
        for i in 0..b.num_rows() {
            row += 1;
            let null = [
                ids.is_null(i),
                ben.is_null(i),
                prog.is_null(i),
                cyc.is_null(i),
                prov.is_null(i),
                acct.is_null(i),
                amount.is_null(i),
                ccy.is_null(i),
                due.is_null(i),
                status.is_null(i),
                paid.is_null(i),
                diff.is_null(i),
            ];
            if let Some(k) = null.iter().position(|&n| n) {
                return Err(bad(format!("row {row}: column {} is empty", COLUMNS[k])));
            }
            let c = table
                .lookup(ccy.value(i))
                .ok_or_else(|| bad(format!("row {row}: unknown currency {:?}", ccy.value(i))))?;
            let minor = table.minor_units(c) as i8;
            let to_minor = |v: i128, s: i8, name: &str| -> Result<i128> {
                if s < minor {
                    return Ok(v * POW10[(minor - s) as usize]);
                }
                let f = POW10[(s - minor) as usize];
                if v % f != 0 {
                    return Err(bad(format!(
                        "row {row}: {name} has digits beyond the currency's minor units"
                    )));
                }
                Ok(v / f)
            };
            rows.push(Reconciled {
                row,
                instruction_id: ids.value(i).to_string(),
                beneficiary_id: ben.value(i).to_string(),
                program: prog.value(i).to_string(),
                cycle: cyc.value(i).to_string(),
                provider: prov.value(i).to_string(),
                account: acct.value(i).to_string(),
                amount: to_minor(amount.value(i), s_amount, "amount")?,
                currency: c,
                due: due.value(i),
                status: status.value(i).to_string(),
                paid_amount: to_minor(paid.value(i), s_paid, "paid_amount")?,
                difference: to_minor(diff.value(i), s_diff, "difference")?,
            });
        }
    }
    Ok(RetryInput { path, rows })
}
