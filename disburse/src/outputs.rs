//! The files of a run, written into its output set's staging folder: the payment files
//! (built and written in parallel) beside the row outputs (instructions, holds, rejects,
//! recovery: Parquet, and CSV for the ones people open).

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::StringArray;
use arrow_array::{Array, ArrayRef, Date32Array, Decimal128Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use sverka_engine::currency::{self, Ccy};
use sverka_engine::money::{self, POW10};
use sverka_engine::outset::{OutputSet, Pending};
use sverka_engine::side::rejects_batch;
use sverka_engine::{csv_bytes, Error, Result, ROW_GROUP_ROWS, VERSION};

use crate::accounts::AccountKind;
use crate::ids;
use crate::payfile::{self, Message, Tx};
use crate::plan::PayFile;
use crate::profiles::Format;
use crate::retry::Reconciled;
use crate::run::Run;

/// A file written into the staging folder, as the manifest lists it.
pub(crate) struct Written {
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub rows: Option<u64>,
    /// A payment file's provider, format, currency and control sums.
    pub extra: Option<Map<String, Value>>,
}

impl Written {
    fn of(pending: &Pending, rows: Option<u64>) -> Result<Written> {
        let d = pending.digest.as_ref().ok_or_else(|| {
            Error::Internal(format!("{}: written without a digest", pending.name()))
        })?;
        Ok(Written {
            name: pending.name(),
            size: d.size,
            sha256: d.sha256.clone(),
            rows,
            extra: None,
        })
    }
}

/// Writes every file but summary.json and manifest.json: the payment files ‖ the row
/// outputs. Returns them with the time each half took (they overlap).
pub(crate) fn write(set: &OutputSet, run: &Run) -> Result<(Vec<Written>, [Duration; 2])> {
    let timed = |f: &(dyn Fn() -> Result<Vec<Written>> + Sync)| {
        let t = Instant::now();
        (f(), t.elapsed())
    };
    let pay_job = || -> Result<Vec<Written>> {
        let results: Vec<Result<Written>> = run
            .plan
            .files
            .par_iter()
            .map(|pf| payment_file(set, run, pf))
            .collect();
        results.into_iter().collect()
    };
    let rows_job = || row_outputs(set, run);
    let ((pay, pay_t), (rows, rows_t)) = rayon::join(|| timed(&pay_job), || timed(&rows_job));
    // The row outputs' error first, as the operator saw it before.
    let mut written = rows?;
    written.extend(pay?);
    Ok((written, [pay_t, rows_t]))
}

/// One payment file, built in memory (one file's bytes at a time per thread).
fn payment_file(set: &OutputSet, run: &Run, pf: &PayFile) -> Result<Written> {
    let table = currency::table();
    let view = run.view;
    let p = run.providers.get(&pf.provider).expect("profile");
    let minor = table.minor_units(pf.currency);
    let code = table.code(pf.currency);
    let txs: Vec<Tx> = pf
        .rows
        .iter()
        .map(|&i| {
            let i = i as usize;
            Tx {
                id: run.ids.value(i),
                beneficiary_id: view.ben(i),
                name: view.name(i),
                account: view.account(i),
                amount: view.amount(i),
                due: view.due(i),
                program: view.program(i),
                cycle: view.cycle(i),
            }
        })
        .collect();
    let sum: i128 = txs.iter().map(|t| t.amount).sum();
    let bytes = match pf.format {
        Format::Csv => payfile::csv(&txs, code, minor)?,
        Format::Pain001 => {
            let msg_id = ids::digest_id("M", &[run.plan.run_id.as_bytes(), pf.name.as_bytes()]);
            payfile::pain001(
                &Message {
                    msg_id: &msg_id,
                    execution_date: view.execution_date,
                    currency: code,
                    minor,
                    provider: p,
                    iban_accounts: p.account_kind == AccountKind::Iban,
                },
                &txs,
            )?
        }
    };
    let mut w = written_bytes(set, &pf.name, &bytes, Some(txs.len() as u64))?;
    let mut extra = Map::new();
    extra.insert("provider".into(), json!(pf.provider));
    extra.insert("format".into(), json!(pf.format.as_str()));
    extra.insert("currency".into(), json!(code));
    extra.insert(
        "control_sums".into(),
        json!({ code: money::minor_string(sum, minor) }),
    );
    w.extra = Some(extra);
    Ok(w)
}

/// instructions.parquet, holds, rejects and (with --retry-from) recovery.
fn row_outputs(set: &OutputSet, run: &Run) -> Result<Vec<Written>> {
    let mut written = Vec::new();
    let ins = instructions(run)?;
    written.push(parquet_file(set, "instructions.parquet", &ins)?);
    drop(ins);
    let hb = holds(run)?;
    written.push(parquet_file(set, "holds.parquet", &hb)?);
    written.push(csv_file(set, "holds.csv", &hb)?);
    // rejects: reconcile's format (side "payroll").
    let paths = run.input.file_paths();
    let rb = rejects_batch(&run.input.rejects, |r| paths[r.file as usize].as_str())?;
    written.push(parquet_file(set, "rejects.parquet", &rb)?);
    written.push(csv_file(set, "rejects.csv", &rb)?);
    if let Some(rec) = recovery(run)? {
        written.push(parquet_file(set, "recovery.parquet", &rec)?);
        written.push(csv_file(set, "recovery.csv", &rec)?);
    }
    Ok(written)
}

/// What was issued, in the contract's instruction format.
fn instructions(run: &Run) -> Result<RecordBatch> {
    let (view, ids, table) = (run.view, run.ids, currency::table());
    let iss: Vec<usize> = run.plan.issued.iter().map(|&i| i as usize).collect();
    let scale = scale_of(iss.iter().map(|&i| view.ccy(i)));
    let amounts: Vec<(i128, Ccy)> = iss.iter().map(|&i| (view.amount(i), view.ccy(i))).collect();
    let dec = dec_column(&amounts, scale)?;
    let file_name = |i: usize| run.plan.files[run.plan.file_of[i] as usize].name.as_str();
    batch(
        vec![
            field("instruction_id", DataType::Utf8, false),
            field("beneficiary_id", DataType::Utf8, false),
            field("program", DataType::Utf8, false),
            field("cycle", DataType::Utf8, false),
            field("provider", DataType::Utf8, false),
            field("account", DataType::Utf8, false),
            field("amount", dec.data_type().clone(), false),
            field("currency", DataType::Utf8, false),
            field("due_date", DataType::Date32, false),
            field("beneficiary_name", DataType::Utf8, true),
            field("attempt", DataType::Int64, false),
            field("original_instruction_id", DataType::Utf8, true),
            field("payment_file", DataType::Utf8, false),
        ],
        vec![
            strings(iss.iter().map(|&i| ids.value(i))),
            strings(iss.iter().map(|&i| view.ben(i))),
            strings(iss.iter().map(|&i| view.program(i))),
            strings(iss.iter().map(|&i| view.cycle(i))),
            strings(iss.iter().map(|&i| view.provider(i))),
            strings(iss.iter().map(|&i| view.account(i))),
            dec,
            strings(iss.iter().map(|&i| table.code(view.ccy(i)))),
            Arc::new(Date32Array::from_iter_values(
                iss.iter().map(|&i| view.due(i)),
            )),
            opt_strings(iss.iter().map(|&i| view.name(i))),
            Arc::new(Int64Array::from_iter_values(
                iss.iter().map(|&i| view.attempt[i] as i64),
            )),
            opt_strings(iss.iter().map(|&i| view.original(i))),
            strings(iss.iter().map(|&i| file_name(i))),
        ],
    )
}

/// The held rows with their source row, reason and detail.
fn holds(run: &Run) -> Result<RecordBatch> {
    let (view, ids, table) = (run.view, run.ids, currency::table());
    let paths = run.input.file_paths();
    let retry_path = run
        .input
        .retry
        .as_ref()
        .map(|r| r.path.display().to_string());
    let src = |i: usize| -> (String, u64) {
        if i < view.n_pay {
            let (f, row) = view.pay.origin(i);
            (paths[f as usize].clone(), row)
        } else {
            (
                retry_path.clone().unwrap_or_default(),
                view.retry[i - view.n_pay].row,
            )
        }
    };
    let held: Vec<usize> = (0..view.len())
        .filter(|&i| run.holds[i].is_some())
        .collect();
    let hsrc: Vec<(String, u64)> = held.iter().map(|&i| src(i)).collect();
    let scale = scale_of(held.iter().map(|&i| view.ccy(i)));
    let amounts: Vec<(i128, Ccy)> = held
        .iter()
        .map(|&i| (view.amount(i), view.ccy(i)))
        .collect();
    let dec = dec_column(&amounts, scale)?;
    let hold_of = |i: usize| run.holds[i].as_ref().expect("held");
    batch(
        vec![
            field("file", DataType::Utf8, false),
            field("row", DataType::Int64, false),
            field("instruction_id", DataType::Utf8, true),
            field("original_instruction_id", DataType::Utf8, true),
            field("beneficiary_id", DataType::Utf8, false),
            field("program", DataType::Utf8, false),
            field("cycle", DataType::Utf8, false),
            field("provider", DataType::Utf8, false),
            field("account", DataType::Utf8, false),
            field("amount", dec.data_type().clone(), false),
            field("currency", DataType::Utf8, false),
            field("reason", DataType::Utf8, false),
            field("detail", DataType::Utf8, false),
        ],
        vec![
            strings(hsrc.iter().map(|s| s.0.as_str())),
            Arc::new(Int64Array::from_iter_values(
                hsrc.iter().map(|s| s.1 as i64),
            )),
            opt_strings(
                held.iter()
                    .map(|&i| (!ids.is_null(i)).then(|| ids.value(i))),
            ),
            opt_strings(held.iter().map(|&i| view.original(i))),
            strings(held.iter().map(|&i| view.ben(i))),
            strings(held.iter().map(|&i| view.program(i))),
            strings(held.iter().map(|&i| view.cycle(i))),
            strings(held.iter().map(|&i| view.provider(i))),
            strings(held.iter().map(|&i| view.account(i))),
            dec,
            strings(held.iter().map(|&i| table.code(view.ccy(i)))),
            strings(held.iter().map(|&i| hold_of(i).0.as_str())),
            strings(held.iter().map(|&i| hold_of(i).1.as_str())),
        ],
    )
}

/// The rows to recover (with --retry-from only).
fn recovery(run: &Run) -> Result<Option<RecordBatch>> {
    let Some(rin) = &run.input.retry else {
        return Ok(None);
    };
    let table = currency::table();
    let rows: &[&Reconciled] = &run.sort.recovery;
    let scale = scale_of(rows.iter().map(|r| r.currency));
    let col = |f: &dyn Fn(&Reconciled) -> i128| -> Result<ArrayRef> {
        let v: Vec<(i128, Ccy)> = rows.iter().map(|r| (f(r), r.currency)).collect();
        dec_column(&v, scale)
    };
    let (a, p, d) = (
        col(&|r| r.amount)?,
        col(&|r| r.paid_amount)?,
        col(&|r| r.difference)?,
    );
    let file = rin.path.display().to_string();
    batch(
        vec![
            field("file", DataType::Utf8, false),
            field("row", DataType::Int64, false),
            field("original_instruction_id", DataType::Utf8, false),
            field("beneficiary_id", DataType::Utf8, false),
            field("program", DataType::Utf8, false),
            field("cycle", DataType::Utf8, false),
            field("provider", DataType::Utf8, false),
            field("account", DataType::Utf8, false),
            field("currency", DataType::Utf8, false),
            field("status", DataType::Utf8, false),
            field("amount", a.data_type().clone(), false),
            field("paid_amount", p.data_type().clone(), false),
            field("amount_to_recover", d.data_type().clone(), false),
        ],
        vec![
            strings(rows.iter().map(|_| file.as_str())),
            Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| r.row as i64),
            )),
            strings(rows.iter().map(|r| r.instruction_id.as_str())),
            strings(rows.iter().map(|r| r.beneficiary_id.as_str())),
            strings(rows.iter().map(|r| r.program.as_str())),
            strings(rows.iter().map(|r| r.cycle.as_str())),
            strings(rows.iter().map(|r| r.provider.as_str())),
            strings(rows.iter().map(|r| r.account.as_str())),
            strings(rows.iter().map(|r| table.code(r.currency))),
            strings(rows.iter().map(|r| r.status.as_str())),
            a,
            p,
            d,
        ],
    )
    .map(Some)
}

pub(crate) fn written_bytes(
    set: &OutputSet,
    name: &str,
    bytes: &[u8],
    rows: Option<u64>,
) -> Result<Written> {
    Written::of(&set.write_bytes(name, bytes)?, rows)
}

/// The spreadsheet-safe CSV copy of a batch, written a slice at a time (bounded memory).
fn csv_file(set: &OutputSet, name: &str, batch: &RecordBatch) -> Result<Written> {
    const SLICE: usize = 256 * 1024;
    let (mut pending, mut out) = Pending::create_out(set, name)?;
    let err = |e: std::io::Error| Error::Output {
        path: pending.tmp.clone(),
        message: e.to_string(),
    };
    let n = batch.num_rows();
    let mut start = 0;
    loop {
        let len = SLICE.min(n - start);
        let bytes = csv_bytes(&batch.slice(start, len), start == 0)?;
        out.write_all(&bytes).map_err(err)?;
        start += len;
        if start >= n {
            break;
        }
    }
    let (_, digest) = out.finish().map_err(err)?;
    pending.digest = Some(digest);
    Written::of(&pending, Some(n as u64))
}

fn parquet_file(set: &OutputSet, name: &str, batch: &RecordBatch) -> Result<Written> {
    let (mut pending, out) = Pending::create_out(set, name)?;
    let err = |m: String| Error::Output {
        path: pending.tmp.clone(),
        message: m,
    };
    let props = WriterProperties::builder()
        .set_compression(Compression::LZ4_RAW)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by(format!("sverka {VERSION}"))
        .build();
    let mut w =
        ArrowWriter::try_new(out, batch.schema(), Some(props)).map_err(|e| err(e.to_string()))?;
    w.write(batch).map_err(|e| err(e.to_string()))?;
    let out = w.into_inner().map_err(|e| err(e.to_string()))?;
    let (_, digest) = out.finish().map_err(|e| err(e.to_string()))?;
    pending.digest = Some(digest);
    Written::of(&pending, Some(batch.num_rows() as u64))
}

/// SHA-256 (hex) and size of a file, read in 1 MiB blocks.
pub(crate) fn sha_file(path: &Path) -> Result<(String, u64)> {
    let io = |e: std::io::Error| Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut f = File::open(path).map_err(io)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).map_err(io)?;
        if k == 0 {
            break;
        }
        n += k as u64;
        h.update(&buf[..k]);
    }
    Ok((hex::encode(h.finalize()), n))
}

/// Decimal128 column of minor-unit amounts at one scale (precision 18 when all fit).
fn dec_column(values: &[(i128, Ccy)], scale: i8) -> Result<ArrayRef> {
    let table = currency::table();
    let v: Vec<i128> = values
        .iter()
        .map(|&(a, c)| a * POW10[(scale as u8 - table.minor_units(c)) as usize])
        .collect();
    let fits18 = v.iter().all(|x| x.unsigned_abs() < POW10[18] as u128);
    let a = Decimal128Array::from(v)
        .with_precision_and_scale(if fits18 { 18 } else { 38 }, scale)
        .map_err(|e| Error::Internal(format!("decimal column: {e}")))?;
    Ok(Arc::new(a))
}

fn scale_of(ccys: impl Iterator<Item = Ccy>) -> i8 {
    let table = currency::table();
    ccys.map(|c| table.minor_units(c)).max().unwrap_or(2) as i8
}

fn field(name: &str, dt: DataType, nullable: bool) -> Field {
    Field::new(name, dt, nullable)
}

fn batch(fields: Vec<Field>, cols: Vec<ArrayRef>) -> Result<RecordBatch> {
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)
        .map_err(|e| Error::Internal(format!("output batch: {e}")))
}

fn strings<'s>(it: impl Iterator<Item = &'s str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(it))
}

fn opt_strings<'s>(it: impl Iterator<Item = Option<&'s str>>) -> ArrayRef {
    Arc::new(StringArray::from_iter(it))
}
