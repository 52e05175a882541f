//! Outputs (CONTRACT.md section 5): builds the result batches, proves conservation and
//! totals on them, and writes every file to a temporary name in the output folder,
//! renaming only when all are whole. A run that fails leaves earlier outputs untouched.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, Date32Array, Decimal128Array, Int64Array, RecordBatch, StringArray,
};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use rayon::prelude::*;

use crate::classify::{flag, Classes, Status};
use crate::currency::{self, Ccy};
use crate::date;
use crate::error::{Error, Result};
use crate::matching::{Matches, Method, NO_MATCH};
use crate::money::{self, POW10};
use crate::schema::{ins, set, Reject, SettleStatus};
use crate::table::Table;

pub const DECIMAL_PRECISION: u8 = 38;

/// The three row outputs as record batches.
pub struct Outputs {
    pub instructions: RecordBatch,
    pub settlements: RecordBatch,
    pub rejects: RecordBatch,
    /// The one decimal scale of every amount column.
    pub scale: i8,
}

/// Largest minor units among the currencies of accepted rows (2 when there are none).
pub fn run_scale(ins_t: &Table, set_t: &Table) -> i8 {
    let table = currency::table();
    let mut seen = vec![false; table.currencies.len()];
    for &c in ins_t.currency.iter().chain(&set_t.currency) {
        seen[c as usize] = true;
    }
    let max = seen
        .iter()
        .enumerate()
        .filter(|(_, &s)| s)
        .map(|(c, _)| table.minor_units(c as Ccy))
        .max();
    max.unwrap_or(2) as i8
}

fn decimal(values: Vec<i128>, scale: i8) -> ArrayRef {
    Arc::new(
        Decimal128Array::from(values)
            .with_precision_and_scale(DECIMAL_PRECISION, scale)
            .expect("valid precision and scale"),
    )
}

/// Minor units of each row's currency, rescaled to the run's scale.
fn rescaled(v: &[i128], ccy: &[Ccy], scale: i8) -> Vec<i128> {
    let table = currency::table();
    let factors: Vec<i128> = (0..table.currencies.len())
        .map(|c| POW10[(scale as u8).saturating_sub(table.minor_units(c as Ccy)) as usize])
        .collect();
    v.par_iter()
        .zip(ccy.par_iter())
        .map(|(&x, &c)| x * factors[c as usize])
        .collect()
}

fn codes(ccy: &[Ccy]) -> ArrayRef {
    let table = currency::table();
    Arc::new(StringArray::from_iter_values(
        ccy.iter().map(|&c| table.code(c)),
    ))
}

fn field(name: &str, dt: DataType, nullable: bool) -> Field {
    Field::new(name, dt, nullable)
}

pub fn build(
    ins_t: &Table,
    set_t: &Table,
    m: &Matches,
    cl: &Classes,
    rejects: &[Reject],
    files: &[Vec<String>; 2],
) -> Result<Outputs> {
    let scale = run_scale(ins_t, set_t);
    let dec = DataType::Decimal128(DECIMAL_PRECISION, scale);
    let flag_text: Vec<String> = (0..128u8).map(flag::text).collect();
    let text = |t: &Table, c: usize| -> ArrayRef { Arc::new(t.text[c].clone()) };

    // Instructions.
    let ((amount, paid), diff) = rayon::join(
        || {
            rayon::join(
                || rescaled(&ins_t.amounts[0], &ins_t.currency, scale),
                || rescaled(&cl.paid, &ins_t.currency, scale),
            )
        },
        || {
            let d: Vec<i128> = cl
                .paid
                .par_iter()
                .zip(&ins_t.amounts[0])
                .map(|(p, a)| p - a)
                .collect();
            rescaled(&d, &ins_t.currency, scale)
        },
    );
    let ins_schema = Arc::new(Schema::new(vec![
        field("instruction_id", DataType::Utf8, false),
        field("beneficiary_id", DataType::Utf8, false),
        field("program", DataType::Utf8, false),
        field("cycle", DataType::Utf8, false),
        field("provider", DataType::Utf8, false),
        field("account", DataType::Utf8, false),
        field("amount", dec.clone(), false),
        field("currency", DataType::Utf8, false),
        field("due_date", DataType::Date32, false),
        field("status", DataType::Utf8, false),
        field("paid_amount", dec.clone(), false),
        field("difference", dec.clone(), false),
        field("settlement_count", DataType::Int64, false),
        field("flags", DataType::Utf8, false),
    ]));
    let instructions = RecordBatch::try_new(
        ins_schema,
        vec![
            text(ins_t, ins::ID),
            text(ins_t, ins::BENEFICIARY),
            text(ins_t, ins::PROGRAM),
            text(ins_t, ins::CYCLE),
            text(ins_t, ins::PROVIDER),
            text(ins_t, ins::ACCOUNT),
            decimal(amount, scale),
            codes(&ins_t.currency),
            Arc::new(Date32Array::from(ins_t.date.clone())),
            Arc::new(StringArray::from_iter_values(
                cl.status.iter().map(|&s| Status::from_u8(s).as_str()),
            )),
            decimal(paid, scale),
            decimal(diff, scale),
            Arc::new(Int64Array::from_iter_values(
                cl.settlement_count.iter().map(|&c| c as i64),
            )),
            Arc::new(StringArray::from_iter_values(
                cl.flags.iter().map(|&f| flag_text[f as usize].as_str()),
            )),
        ],
    )
    .map_err(|e| Error::Internal(format!("instructions batch: {e}")))?;

    // Settlements.
    let (s_amount, s_fee) = rayon::join(
        || rescaled(&set_t.amounts[set::AMOUNT], &set_t.currency, scale),
        || rescaled(&set_t.amounts[set::FEE], &set_t.currency, scale),
    );
    let set_schema = Arc::new(Schema::new(vec![
        field("provider", DataType::Utf8, false),
        field("provider_ref", DataType::Utf8, false),
        field("instruction_id", DataType::Utf8, true),
        field("account", DataType::Utf8, false),
        field("amount", dec.clone(), false),
        field("fee", dec, false),
        field("currency", DataType::Utf8, false),
        field("status", DataType::Utf8, false),
        field("value_date", DataType::Date32, false),
        field("match_method", DataType::Utf8, false),
        field("matched_instruction_id", DataType::Utf8, true),
        field("flags", DataType::Utf8, false),
    ]));
    let settlements = RecordBatch::try_new(
        set_schema,
        vec![
            text(set_t, set::PROVIDER),
            text(set_t, set::REF),
            text(set_t, set::INSTRUCTION_ID),
            text(set_t, set::ACCOUNT),
            decimal(s_amount, scale),
            decimal(s_fee, scale),
            codes(&set_t.currency),
            Arc::new(StringArray::from_iter_values(
                set_t
                    .status
                    .iter()
                    .map(|&s| SettleStatus::from_u8(s).as_str()),
            )),
            Arc::new(Date32Array::from(set_t.date.clone())),
            Arc::new(StringArray::from_iter_values(
                m.method.iter().map(|&x| Method::from_u8(x).as_str()),
            )),
            Arc::new(StringArray::from_iter(m.instruction.iter().map(|&i| {
                (i != NO_MATCH).then(|| ins_t.str(ins::ID, i as usize))
            }))),
            Arc::new(StringArray::from_iter_values(
                m.ambiguous
                    .iter()
                    .map(|&a| if a { "AMBIGUOUS" } else { "" }),
            )),
        ],
    )
    .map_err(|e| Error::Internal(format!("settlements batch: {e}")))?;

    let rej_schema = Arc::new(Schema::new(vec![
        field("side", DataType::Utf8, false),
        field("file", DataType::Utf8, false),
        field("row", DataType::Int64, false),
        field("column", DataType::Utf8, true),
        field("reason", DataType::Utf8, false),
        field("value", DataType::Utf8, true),
    ]));
    let side_files = |r: &Reject| &files[r.side as usize][r.file as usize];
    let rejects = RecordBatch::try_new(
        rej_schema,
        vec![
            Arc::new(StringArray::from_iter_values(
                rejects.iter().map(|r| r.side.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                rejects.iter().map(|r| side_files(r).as_str()),
            )),
            Arc::new(Int64Array::from_iter_values(
                rejects.iter().map(|r| r.row as i64),
            )),
            Arc::new(StringArray::from_iter(rejects.iter().map(|r| r.column))),
            Arc::new(StringArray::from_iter_values(
                rejects.iter().map(|r| r.reason.as_str()),
            )),
            Arc::new(StringArray::from_iter(
                rejects.iter().map(|r| r.value.as_deref()),
            )),
        ],
    )
    .map_err(|e| Error::Internal(format!("rejects batch: {e}")))?;
    Ok(Outputs {
        instructions,
        settlements,
        rejects,
        scale,
    })
}

// ---------------------------------------------------------------------------------------
// Files

/// A file being written under a temporary name in the output folder.
pub struct Pending {
    pub tmp: PathBuf,
    pub dest: PathBuf,
}

impl Pending {
    /// Creates the temporary file with create-new semantics (never follows a planted link).
    pub fn create(dir: &Path, name: &str) -> Result<(Pending, File)> {
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        let f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| Error::Output {
                path: tmp.clone(),
                message: e.to_string(),
            })?;
        Ok((
            Pending {
                tmp,
                dest: dir.join(name),
            },
            f,
        ))
    }
}

/// Renames every pending file into place (rename replaces a link, never writes through it).
pub fn commit(pending: &[Pending]) -> Result<()> {
    for p in pending {
        std::fs::rename(&p.tmp, &p.dest).map_err(|e| Error::Output {
            path: p.dest.clone(),
            message: e.to_string(),
        })?;
    }
    Ok(())
}

pub fn discard(pending: &[Pending]) {
    for p in pending {
        let _ = std::fs::remove_file(&p.tmp);
    }
}

fn out_err(path: &Path) -> impl Fn(parquet::errors::ParquetError) -> Error + '_ {
    move |e| Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Columns whose values are mostly unique: dictionary encoding only costs time there.
const UNIQUE_COLUMNS: [&str; 6] = [
    "instruction_id",
    "beneficiary_id",
    "account",
    "provider_ref",
    "matched_instruction_id",
    "value",
];

/// Rows per Parquet row group.
pub const ROW_GROUP_ROWS: usize = 1 << 20;

pub fn write_parquet(dir: &Path, name: &str, batch: &RecordBatch) -> Result<Pending> {
    let (pending, file) = Pending::create(dir, name)?;
    let mut props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_created_by(format!("sverka {}", env!("CARGO_PKG_VERSION")));
    for c in UNIQUE_COLUMNS {
        props = props.set_column_dictionary_enabled(ColumnPath::from(c), false);
    }
    let tmp = pending.tmp.clone();
    let err = out_err(&tmp);
    let mut w = ArrowWriter::try_new(
        BufWriter::with_capacity(1 << 20, file),
        batch.schema(),
        Some(props.build()),
    )
    .map_err(&err)?;
    let mut off = 0;
    while off < batch.num_rows() {
        let len = ROW_GROUP_ROWS.min(batch.num_rows() - off);
        w.write(&batch.slice(off, len)).map_err(&err)?;
        off += len;
    }
    let inner = w.into_inner().map_err(&err)?;
    let file = inner.into_inner().map_err(|e| Error::Output {
        path: pending.tmp.clone(),
        message: e.to_string(),
    })?;
    file.sync_all().map_err(|e| Error::Output {
        path: pending.tmp.clone(),
        message: e.to_string(),
    })?;
    Ok(pending)
}

pub fn write_bytes(dir: &Path, name: &str, bytes: &[u8]) -> Result<Pending> {
    let (pending, mut file) = Pending::create(dir, name)?;
    file.write_all(bytes)
        .and_then(|_| file.sync_all())
        .map_err(|e| Error::Output {
            path: pending.tmp.clone(),
            message: e.to_string(),
        })?;
    Ok(pending)
}

/// A text cell made safe for spreadsheets (OWASP CSV injection; PITFALLS.md H8).
fn safe_text(s: &str) -> std::borrow::Cow<'_, str> {
    match s.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\0') => format!("'{s}").into(),
        _ => s.into(),
    }
}

/// The CSV copy of a batch: amounts as decimal text with the row's currency minor units,
/// dates as YYYY-MM-DD, text cells escaped against formula injection.
pub fn csv_bytes(batch: &RecordBatch) -> Result<Vec<u8>> {
    let schema = batch.schema();
    let ccy_col = schema
        .index_of("currency")
        .ok()
        .map(|i| batch.column(i).clone());
    let table = currency::table();
    const CH: usize = 64 * 1024;
    let n = batch.num_rows();
    let chunks: Vec<Result<Vec<u8>>> = (0..n.div_ceil(CH).max(1))
        .into_par_iter()
        .map(|c| {
            let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
            let wr = |e: csv::Error| Error::Internal(format!("csv: {e}"));
            if c == 0 {
                w.write_record(schema.fields().iter().map(|f| f.name().as_str()))
                    .map_err(wr)?;
            }
            let mut cells: Vec<String> = vec![String::new(); schema.fields().len()];
            for i in c * CH..((c + 1) * CH).min(n) {
                let minor = ccy_col.as_ref().map(|a| {
                    let code = a
                        .as_any()
                        .downcast_ref::<StringArray>()
                        .expect("utf8")
                        .value(i);
                    table.minor_units(table.lookup(code).expect("accepted code"))
                });
                for (k, col) in batch.columns().iter().enumerate() {
                    let cell = &mut cells[k];
                    cell.clear();
                    if col.is_null(i) {
                        continue;
                    }
                    match col.data_type() {
                        DataType::Utf8 => {
                            let v = col
                                .as_any()
                                .downcast_ref::<StringArray>()
                                .expect("utf8")
                                .value(i);
                            cell.push_str(&safe_text(v));
                        }
                        DataType::Decimal128(_, s) => {
                            let v = col
                                .as_any()
                                .downcast_ref::<Decimal128Array>()
                                .expect("dec")
                                .value(i);
                            let minor = minor.expect("amounts come with a currency");
                            money::format_minor(
                                v / POW10[(*s as u8 - minor) as usize],
                                minor,
                                cell,
                            );
                        }
                        DataType::Date32 => {
                            let v = col
                                .as_any()
                                .downcast_ref::<Date32Array>()
                                .expect("date")
                                .value(i);
                            date::format_date(v, cell);
                        }
                        DataType::Int64 => {
                            let v = col
                                .as_any()
                                .downcast_ref::<Int64Array>()
                                .expect("i64")
                                .value(i);
                            cell.push_str(&v.to_string());
                        }
                        other => {
                            return Err(Error::Internal(format!("csv: unexpected type {other}")))
                        }
                    }
                }
                w.write_record(&cells).map_err(wr)?;
            }
            w.into_inner()
                .map_err(|e| Error::Internal(format!("csv: {e}")))
        })
        .collect();
    let mut out = Vec::new();
    for c in chunks {
        out.extend_from_slice(&c?);
    }
    Ok(out)
}
