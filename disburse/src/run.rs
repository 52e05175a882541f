//! The one place that owns the control flow of a disbursement (STYLE.md 4):
//! ledger repair → load + validate payroll → retry input → ids → holds → payment files,
//! row outputs, summary, manifest (all under temporary names) → ledger transaction →
//! rename → mark committed.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::builder::StringBuilder;
use arrow_array::{
    Array, ArrayRef, Date32Array, Decimal128Array, Int64Array, RecordBatch, StringArray,
};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use sverka_engine::currency::{self, Ccy};
use sverka_engine::load::{self, FileStats, InputFile};
use sverka_engine::money::{self, POW10};
use sverka_engine::schema::{pay, Reject, Side};
use sverka_engine::table::Table;
use sverka_engine::validate::{self, origin_parts};
use sverka_engine::write::{self, Pending};
use sverka_engine::{date, Error, Result, VERSION};

use crate::accounts::{self, AccountKind};
use crate::ids;
use crate::ledger::{Issued, Ledger, NewIssue, RunFile};
use crate::payfile::{self, Message, Tx};
use crate::profiles::{self, Format, Profiles, Provider};
use crate::retry::{self, Action, Reconciled, RetryInput};

/// Everything a disbursement needs (resolved from the command line by `cli`).
#[derive(Debug, Clone)]
pub struct DisburseConfig {
    pub payroll: Vec<PathBuf>,
    pub out: PathBuf,
    pub ledger: PathBuf,
    pub providers: Option<PathBuf>,
    /// Days since 1970-01-01; None: the earliest due date of the accepted payroll.
    pub execution_date: Option<i32>,
    pub max_batch_rows: Option<usize>,
    pub retry_from: Option<PathBuf>,
}

/// What a run did, for the closing screen.
#[derive(Debug)]
pub struct Outcome {
    pub summary: Value,
    pub out_dir: PathBuf,
    /// Files written into `out_dir` (none when the folder was left as it was).
    pub written: Vec<String>,
    pub issued: u64,
    /// Things the operator must read: completed interrupted runs, nothing issued, ...
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
    pub timings: Vec<(&'static str, Duration)>,
}

/// Why a row is held (not paid), in the order the checks run: the first that applies is
/// the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Hold {
    /// A retry whose original id is not one sverka derived (no attempt to continue).
    UnknownOriginal,
    /// The instruction id is already in the ledger.
    AlreadyIssued,
    /// A later payroll row for the same (beneficiary, programme, cycle).
    DuplicateInPayroll,
    /// The provider has no profile.
    UnknownProvider,
    /// The account fails the provider's account check.
    AccountCheck,
    /// The amount is over the programme's cap.
    OverCap,
}

impl Hold {
    pub const ALL: [Hold; 6] = [
        Hold::UnknownOriginal,
        Hold::AlreadyIssued,
        Hold::DuplicateInPayroll,
        Hold::UnknownProvider,
        Hold::AccountCheck,
        Hold::OverCap,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Hold::UnknownOriginal => "unknown_original",
            Hold::AlreadyIssued => "already_issued",
            Hold::DuplicateInPayroll => "duplicate_in_payroll",
            Hold::UnknownProvider => "unknown_provider",
            Hold::AccountCheck => "account_check",
            Hold::OverCap => "over_cap",
        }
    }
}

/// Test hook: `SVERKA_DISBURSE_CRASH_AT=<point>` aborts the process (as a kill would)
/// at that point of the commit, so tests can prove the ledger and folder stay consistent.
fn crash_point(point: &str) {
    if std::env::var("SVERKA_DISBURSE_CRASH_AT").is_ok_and(|v| v == point) {
        eprintln!("sverka: SVERKA_DISBURSE_CRASH_AT={point}: aborting");
        std::process::abort();
    }
}

#[derive(Default)]
struct Clock {
    last: Option<Instant>,
    laps: Vec<(&'static str, Duration)>,
}

impl Clock {
    fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        if let Some(l) = self.last {
            self.laps.push((name, now - l));
        }
        self.last = Some(now);
    }
}

/// The rows that may be issued: the accepted payroll rows, then the retry candidates.
struct View<'a> {
    pay: &'a Table,
    n_pay: usize,
    retry: Vec<&'a Reconciled>,
    /// Attempt of each row (0: a retry whose original is not a sverka id).
    attempt: Vec<u32>,
    execution_date: i32,
}

impl<'a> View<'a> {
    fn len(&self) -> usize {
        self.n_pay + self.retry.len()
    }
    /// A text field: payroll column `col` for payroll rows, `retry(row)` for retries.
    fn text(&self, i: usize, col: usize, retry: fn(&Reconciled) -> &str) -> &str {
        if i < self.n_pay {
            self.pay.str(col, i)
        } else {
            retry(self.retry[i - self.n_pay])
        }
    }
    fn ben(&self, i: usize) -> &str {
        self.text(i, pay::BENEFICIARY, |r| &r.beneficiary_id)
    }
    fn program(&self, i: usize) -> &str {
        self.text(i, pay::PROGRAM, |r| &r.program)
    }
    fn cycle(&self, i: usize) -> &str {
        self.text(i, pay::CYCLE, |r| &r.cycle)
    }
    fn provider(&self, i: usize) -> &str {
        self.text(i, pay::PROVIDER, |r| &r.provider)
    }
    fn account(&self, i: usize) -> &str {
        self.text(i, pay::ACCOUNT, |r| &r.account)
    }
    fn name(&self, i: usize) -> Option<&str> {
        if i < self.n_pay {
            self.pay.opt_str(pay::NAME, i)
        } else {
            None
        }
    }
    fn amount(&self, i: usize) -> i128 {
        if i < self.n_pay {
            self.pay.amounts[0][i] as i128
        } else {
            self.retry[i - self.n_pay].amount
        }
    }
    fn ccy(&self, i: usize) -> Ccy {
        if i < self.n_pay {
            self.pay.currency[i]
        } else {
            self.retry[i - self.n_pay].currency
        }
    }
    /// Requested execution date: the payroll's due date; a retry's is the run's date.
    fn due(&self, i: usize) -> i32 {
        if i < self.n_pay {
            self.pay.date[i]
        } else {
            self.execution_date
        }
    }
    fn original(&self, i: usize) -> Option<&str> {
        (i >= self.n_pay).then(|| self.retry[i - self.n_pay].instruction_id.as_str())
    }
}

/// A payment file to write.
struct PayFile {
    name: String,
    provider: String,
    currency: Ccy,
    format: Format,
    /// Row positions (into the View), input order.
    rows: Vec<u32>,
}

/// A file written under its temporary name.
struct Written {
    pending: Pending,
    name: String,
    size: u64,
    sha256: String,
    rows: Option<u64>,
    extra: Option<Map<String, Value>>,
}

fn sha_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn sha_file(path: &Path) -> Result<(String, u64)> {
    let mut f = File::open(path).map_err(|e| Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).map_err(|e| Error::Output {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if k == 0 {
            break;
        }
        n += k as u64;
        h.update(&buf[..k]);
    }
    Ok((hex::encode(h.finalize()), n))
}

/// The spreadsheet-safe CSV copy of a batch, written a slice at a time (bounded memory).
fn csv_file(dir: &Path, name: &str, batch: &RecordBatch) -> Result<Written> {
    use std::io::Write;
    const SLICE: usize = 256 * 1024;
    let (pending, file) = Pending::create(dir, name)?;
    let err = |m: String| Error::Output {
        path: pending.tmp.clone(),
        message: m,
    };
    let r = (|| -> Result<(String, u64)> {
        let mut f = BufWriter::with_capacity(1 << 20, file);
        let mut h = Sha256::new();
        let mut size = 0u64;
        let n = batch.num_rows();
        let mut start = 0;
        loop {
            let len = SLICE.min(n - start);
            let bytes = write::csv_bytes(&batch.slice(start, len), start == 0)?;
            h.update(&bytes);
            size += bytes.len() as u64;
            f.write_all(&bytes).map_err(|e| err(e.to_string()))?;
            start += len;
            if start >= n {
                break;
            }
        }
        let file = f.into_inner().map_err(|e| err(e.to_string()))?;
        file.sync_all().map_err(|e| err(e.to_string()))?;
        Ok((hex::encode(h.finalize()), size))
    })();
    match r {
        Ok((sha256, size)) => Ok(Written {
            pending,
            name: name.to_string(),
            size,
            sha256,
            rows: Some(batch.num_rows() as u64),
            extra: None,
        }),
        Err(e) => {
            write::discard(std::slice::from_ref(&pending));
            Err(e)
        }
    }
}

fn written_bytes(dir: &Path, name: &str, bytes: &[u8], rows: Option<u64>) -> Result<Written> {
    let pending = write::write_bytes(dir, name, bytes)?;
    Ok(Written {
        pending,
        name: name.to_string(),
        size: bytes.len() as u64,
        sha256: sha_hex(bytes),
        rows,
        extra: None,
    })
}

fn parquet_file(dir: &Path, name: &str, batch: &RecordBatch) -> Result<Written> {
    let (pending, file) = Pending::create(dir, name)?;
    let err = |m: String| Error::Output {
        path: pending.tmp.clone(),
        message: m,
    };
    let props = WriterProperties::builder()
        .set_compression(Compression::LZ4_RAW)
        .set_max_row_group_row_count(Some(write::ROW_GROUP_ROWS))
        .set_created_by(format!("sverka {VERSION}"))
        .build();
    let mut w = ArrowWriter::try_new(
        BufWriter::with_capacity(1 << 20, file),
        batch.schema(),
        Some(props),
    )
    .map_err(|e| err(e.to_string()))?;
    let r = (|| {
        w.write(batch).map_err(|e| err(e.to_string()))?;
        let inner = w.into_inner().map_err(|e| err(e.to_string()))?;
        let f = inner.into_inner().map_err(|e| err(e.to_string()))?;
        f.sync_all().map_err(|e| err(e.to_string()))
    })();
    if let Err(e) = r {
        write::discard(std::slice::from_ref(&pending));
        return Err(e);
    }
    let (sha256, size) = sha_file(&pending.tmp)?;
    Ok(Written {
        pending,
        name: name.to_string(),
        size,
        sha256,
        rows: Some(batch.num_rows() as u64),
        extra: None,
    })
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

/// Removes temporary files of earlier runs that died before their ledger commit
/// (`.NAME.tmp-PID`), except those a pending run still needs.
fn sweep_temporaries(dir: &Path, keep: &[String]) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let is_tmp = name.starts_with('.')
            && name
                .rsplit_once(".tmp-")
                .is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()));
        if is_tmp && !keep.contains(&name) && e.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Completes the renames of runs whose ledger commit happened but whose files were not
/// all renamed (a crash between the two), after checking every file's SHA-256.
fn complete_pending(ledger: &Ledger, notes: &mut Vec<String>) -> Result<()> {
    for run in ledger.pending_runs()? {
        let dir = &run.out_dir;
        let mut files = run.files.clone();
        // manifest.json last, as in a normal commit.
        files.sort_by_key(|f| (f.name == "manifest.json", f.name.clone()));
        let mut plan = Vec::new();
        for f in &files {
            let dest = dir.join(&f.name);
            let tmp = dir.join(&f.tmp_name);
            if dest.is_file() && sha_file(&dest)?.0 == f.sha256 {
                continue;
            }
            if tmp.is_file() && sha_file(&tmp)?.0 == f.sha256 {
                plan.push((tmp, dest));
                continue;
            }
            return Err(Error::input(
                &ledger.path,
                format!(
                    "run {} issued its instructions but was interrupted before its files were in place, and {} is missing or changed in {} (SHA-256 {} expected). Restore that folder, then run again: the ledger will not issue those instructions a second time",
                    run.run_id,
                    f.name,
                    dir.display(),
                    f.sha256
                ),
            ));
        }
        if !plan.is_empty() {
            let _ = std::fs::remove_file(dir.join("manifest.json"));
            for (tmp, dest) in &plan {
                std::fs::rename(tmp, dest).map_err(|e| Error::Output {
                    path: dest.clone(),
                    message: e.to_string(),
                })?;
            }
        }
        ledger.mark_committed(&run.run_id)?;
        notes.push(format!(
            "completed interrupted run {} in {} ({} files put in place)",
            run.run_id,
            dir.display(),
            plan.len()
        ));
    }
    Ok(())
}

/// Whether `dir` already holds an earlier run's payment files (its manifest says so).
fn occupied(dir: &Path) -> Result<bool> {
    let path = dir.join("manifest.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(false);
    };
    let m: Value = serde_json::from_str(&text).map_err(|e| {
        Error::input(
            &path,
            format!("is not a readable manifest ({e}); choose an empty --out folder"),
        )
    })?;
    match m["kind"].as_str() {
        Some("disburse") => Ok(m["outputs"]
            .as_array()
            .is_some_and(|o| o.iter().any(|f| f.get("provider").is_some()))),
        other => Err(Error::input(
            &path,
            format!(
                "the folder holds the outputs of a {} run; give disburse its own --out folder",
                other.unwrap_or("different")
            ),
        )),
    }
}

/// Loads the payroll: discover, decode, validate (the instruction rules), join.
fn load_payroll(files: &[InputFile]) -> Result<(Table, Vec<Reject>, Vec<FileStats>)> {
    let (chunks, stats) = load::read_side(files, &|b| validate::validate(Side::Payroll, b))?;
    let (table, rejects, rows_in) = Table::from_chunks(Side::Payroll, chunks, None)?;
    let counted: u64 = stats.iter().map(|s| s.rows).sum();
    if counted != rows_in {
        return Err(Error::Internal(format!(
            "payroll: {counted} rows read but {rows_in} validated"
        )));
    }
    Ok((table, rejects, stats))
}

fn ids_for(view: &View) -> StringArray {
    const CH: usize = 64 * 1024;
    let n = view.len();
    let parts: Vec<StringArray> = (0..n.div_ceil(CH))
        .into_par_iter()
        .map(|c| {
            let r = c * CH..((c + 1) * CH).min(n);
            let mut b = StringBuilder::with_capacity(r.len(), r.len() * 32);
            let mut s = String::with_capacity(40);
            for i in r {
                if view.attempt[i] == 0 {
                    b.append_null();
                    continue;
                }
                s.clear();
                ids::instruction_id_into(
                    view.program(i),
                    view.cycle(i),
                    view.ben(i),
                    view.attempt[i],
                    &mut s,
                );
                b.append_value(&s);
            }
            b.finish()
        })
        .collect();
    if parts.is_empty() {
        return StringArray::new_null(0);
    }
    let refs: Vec<&dyn arrow_array::Array> = parts.iter().map(|p| p as _).collect();
    let a = arrow_select::concat::concat(&refs).expect("same type");
    a.as_any()
        .downcast_ref::<StringArray>()
        .expect("utf8")
        .clone()
}

fn describe_issued(t: &Issued, amount: &str, currency: &str) -> String {
    let table = currency::table();
    let was = match table.lookup(&t.currency) {
        Some(c) => money::minor_string(t.amount_minor as i128, table.minor_units(c)),
        None => t.amount_minor.to_string(),
    };
    let mut d = format!("issued in run {} for {was} {}", t.run_id, t.currency);
    if was != amount || t.currency != currency {
        d.push_str(&format!("; this row now says {amount} {currency}"));
    }
    d
}

/// The ledger transaction, run on its own thread while the files are written: it inserts
/// the ids, then waits for the run's file list; a closed channel (the run failed) rolls
/// it back.
struct Worker {
    send: std::sync::mpsc::Sender<(Vec<RunFile>, String)>,
    handle: std::thread::JoinHandle<(Ledger, Result<()>)>,
}

/// Abandons the ledger transaction (rolled back) and waits for it.
fn stop(worker: &mut Option<Worker>) {
    if let Some(w) = worker.take() {
        drop(w.send);
        let _ = w.handle.join();
    }
}

/// Runs a whole disbursement. On any error before the ledger commit nothing is issued
/// and no file in `cfg.out` changes.
pub fn disburse(cfg: &DisburseConfig) -> Result<Outcome> {
    let mut clock = Clock::default();
    clock.lap("start");
    let table = currency::table();
    let mut notes = Vec::new();
    let mut warnings = Vec::new();
    if cfg.max_batch_rows == Some(0) {
        return Err(Error::Usage("--max-batch-rows must be at least 1".into()));
    }
    if cfg.payroll.is_empty() && cfg.retry_from.is_none() {
        return Err(Error::Usage(
            "nothing to disburse: give --payroll, --retry-from, or both".into(),
        ));
    }
    let pay_files = if cfg.payroll.is_empty() {
        Vec::new()
    } else {
        load::discover(Side::Payroll, &cfg.payroll)?
    };
    let profiles = match &cfg.providers {
        Some(p) => Profiles::load(p)?,
        None => {
            warnings.push(
                "no --providers file: every provider gets a CSV file, no account check and no caps"
                    .to_string(),
            );
            Profiles::default()
        }
    };
    if cfg.out.exists() && !cfg.out.is_dir() {
        return Err(Error::Usage(format!(
            "--out {}: exists and is not a directory; name a directory for the outputs",
            cfg.out.display()
        )));
    }
    std::fs::create_dir_all(&cfg.out).map_err(|e| Error::Output {
        path: cfg.out.clone(),
        message: e.to_string(),
    })?;
    let out_abs = std::fs::canonicalize(&cfg.out).map_err(|e| Error::Output {
        path: cfg.out.clone(),
        message: e.to_string(),
    })?;
    let ledger = Ledger::open(&cfg.ledger)?;
    complete_pending(&ledger, &mut notes)?;
    sweep_temporaries(&out_abs, &[]);
    let was_occupied = occupied(&out_abs)?;
    clock.lap("prepare");

    // Inputs.
    let (pay_table, rejects, pay_stats) = if pay_files.is_empty() {
        let (t, r, _) = Table::from_chunks(Side::Payroll, Vec::new(), None)?;
        (t, r, Vec::new())
    } else {
        load_payroll(&pay_files)?
    };
    let retry_in: Option<RetryInput> = cfg.retry_from.as_deref().map(retry::read).transpose()?;
    clock.lap("load");

    let execution_date = match cfg.execution_date {
        Some(d) => d,
        None => match pay_table.date.iter().min() {
            Some(&d) => d,
            None => {
                return Err(Error::Usage(
                    "no accepted payroll row to take the execution date from: give --execution-date YYYY-MM-DD".into(),
                ))
            }
        },
    };

    // Retry input: sort rows by action.
    let mut retry_rows: Vec<&Reconciled> = Vec::new();
    let mut recovery_rows: Vec<&Reconciled> = Vec::new();
    let mut no_action: BTreeMap<String, u64> = BTreeMap::new();
    if let Some(r) = &retry_in {
        for row in &r.rows {
            match retry::action(&row.status) {
                Action::Retry => retry_rows.push(row),
                Action::Recover => recovery_rows.push(row),
                Action::None => *no_action.entry(row.status.clone()).or_default() += 1,
            }
        }
    }
    let n_pay = pay_table.len();
    let mut attempt = vec![1u32; n_pay];
    let mut retry_hold_detail: Vec<Option<String>> = Vec::new();
    for r in &retry_rows {
        let claimed = ids::claimed_attempt(&r.instruction_id).filter(|&a| {
            ids::instruction_id(&r.program, &r.cycle, &r.beneficiary_id, a) == r.instruction_id
        });
        match claimed {
            Some(a) if a < ids::MAX_ATTEMPT => {
                attempt.push(a + 1);
                retry_hold_detail.push(None);
            }
            Some(a) => {
                attempt.push(0);
                retry_hold_detail.push(Some(format!(
                    "attempt {a} was the last one an id can carry; pay this beneficiary through a new payroll row"
                )));
            }
            None => {
                attempt.push(0);
                retry_hold_detail.push(Some(format!(
                    "{} was not issued by sverka disburse (its id is not derived from programme, cycle and beneficiary); retry it by hand",
                    r.instruction_id
                )));
            }
        }
    }
    let view = View {
        pay: &pay_table,
        n_pay,
        retry: retry_rows,
        attempt,
        execution_date,
    };
    let n = view.len();
    let ids_arr = ids_for(&view);
    clock.lap("ids");

    // Holds, first applicable reason wins.
    let mut holds: Vec<Option<(Hold, String)>> = vec![None; n];
    for (k, d) in retry_hold_detail.into_iter().enumerate() {
        if let Some(d) = d {
            holds[n_pay + k] = Some((Hold::UnknownOriginal, d));
        }
    }
    let cycles = ledger.cycles()?;
    if !cycles.is_empty() {
        // Only rows of a (programme, cycle) the ledger has issued in can be issued already.
        let known: hashbrown::HashSet<(&str, &str)> = cycles
            .iter()
            .map(|(p, c)| (p.as_str(), c.as_str()))
            .collect();
        let candidates: Vec<usize> = (0..n)
            .filter(|&i| !ids_arr.is_null(i) && known.contains(&(view.program(i), view.cycle(i))))
            .collect();
        let cand_ids: Vec<&str> = candidates.iter().map(|&i| ids_arr.value(i)).collect();
        let looked = ledger.lookup(&cand_ids)?;
        let mut amount = String::new();
        for (&i, t) in candidates.iter().zip(looked) {
            if let (Some(t), None) = (t, &holds[i]) {
                amount.clear();
                money::format_minor(view.amount(i), table.minor_units(view.ccy(i)), &mut amount);
                let d = describe_issued(&t, &amount, table.code(view.ccy(i)));
                holds[i] = Some((Hold::AlreadyIssued, d));
            }
        }
    }
    {
        // (beneficiary, programme, cycle) of payroll rows: the first stays.
        let mut first: hashbrown::HashMap<(&str, &str, &str), u32> =
            hashbrown::HashMap::with_capacity(n_pay);
        for (i, hold) in holds.iter_mut().enumerate().take(n_pay) {
            let key = (view.ben(i), view.program(i), view.cycle(i));
            match first.entry(key) {
                hashbrown::hash_map::Entry::Occupied(e) => {
                    if hold.is_none() {
                        let (file, row) = origin_parts(pay_table.origin[*e.get() as usize]);
                        *hold = Some((
                            Hold::DuplicateInPayroll,
                            format!(
                                "same beneficiary, programme and cycle as {} row {row}",
                                pay_files[file as usize].path.display()
                            ),
                        ));
                    }
                }
                hashbrown::hash_map::Entry::Vacant(e) => {
                    e.insert(i as u32);
                }
            }
        }
    }
    // Provider profiles (default profiles when no file was given).
    let mut defaults: BTreeMap<String, Provider> = BTreeMap::new();
    if profiles.source.is_none() {
        for i in 0..n {
            let p = view.provider(i);
            if profiles::usable_code(p) && !defaults.contains_key(p) {
                defaults.insert(p.to_string(), Profiles::default_for(p));
            }
        }
    }
    let provider_of = |code: &str| -> Option<&Provider> {
        profiles.providers.get(code).or_else(|| defaults.get(code))
    };
    let checks: Vec<Option<(Hold, String)>> = (0..n)
        .into_par_iter()
        .map(|i| {
            let code = view.provider(i);
            let Some(p) = provider_of(code) else {
                let why = if let Some(src) = &profiles.source {
                    format!("provider {code:?} has no profile in {}", src.display())
                } else {
                    format!("provider code {code:?} cannot name a payment file (1 to 32 letters, digits, '_' or '-')")
                };
                return Some((Hold::UnknownProvider, why));
            };
            let account = view.account(i);
            if let Err(e) = accounts::check(p.account_kind, p.country.as_deref(), account) {
                return Some((Hold::AccountCheck, e));
            }
            if p.format == Format::Pain001 && p.account_kind != AccountKind::Iban {
                let bad_char = account
                    .chars()
                    .any(|c| (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}');
                if account.chars().count() > 34 || bad_char {
                    return Some((
                        Hold::AccountCheck,
                        "account does not fit pain.001 (at most 34 characters, no control characters)".to_string(),
                    ));
                }
            }
            if let Some(&cap) = profiles
                .caps
                .get(view.program(i))
                .and_then(|c| c.get(&view.ccy(i)))
            {
                if view.amount(i) > cap {
                    let m = table.minor_units(view.ccy(i));
                    return Some((
                        Hold::OverCap,
                        format!(
                            "{} {} is over programme {}'s cap of {}",
                            money::minor_string(view.amount(i), m),
                            table.code(view.ccy(i)),
                            view.program(i),
                            money::minor_string(cap, m)
                        ),
                    ));
                }
            }
            None
        })
        .collect();
    for (h, c) in holds.iter_mut().zip(checks) {
        if h.is_none() {
            *h = c;
        }
    }
    let issued_rows: Vec<u32> = (0..n as u32)
        .filter(|&i| holds[i as usize].is_none())
        .collect();
    clock.lap("holds");

    // Payment files: per (provider, currency), input order, split at the batch size.
    let mut groups: BTreeMap<(String, &str), Vec<u32>> = BTreeMap::new();
    for &i in &issued_rows {
        groups
            .entry((
                view.provider(i as usize).to_string(),
                table.code(view.ccy(i as usize)),
            ))
            .or_default()
            .push(i);
    }
    let mut pay_files_out: Vec<PayFile> = Vec::new();
    for ((prov, code), rows) in groups {
        let p = provider_of(&prov).expect("issued rows have a profile");
        let size = match (p.batch_size, cfg.max_batch_rows) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => usize::MAX,
        };
        let parts = rows.len().div_ceil(size);
        let width = parts.to_string().len().max(3);
        for (k, chunk) in rows.chunks(size).enumerate() {
            pay_files_out.push(PayFile {
                name: format!("{prov}-{code}-{:0width$}.{}", k + 1, p.format.extension()),
                provider: prov.clone(),
                currency: table.lookup(code).expect("known"),
                format: p.format,
                rows: chunk.to_vec(),
            });
        }
    }
    let mut file_of = vec![u32::MAX; n];
    for (f, pf) in pay_files_out.iter().enumerate() {
        for &i in &pf.rows {
            file_of[i as usize] = f as u32;
        }
    }
    // The run id: a digest of everything issued (ids are unique for ever, so is it).
    let run_id = {
        let mut h = Sha256::new();
        h.update(date::date_string(execution_date).as_bytes());
        for &i in &issued_rows {
            h.update(ids_arr.value(i as usize).as_bytes());
            h.update([0u8]);
        }
        format!("R{}", &hex::encode(h.finalize())[..16].to_uppercase())
    };

    let settings = json!({
        "execution_date": date::date_string(execution_date),
        "execution_date_from": if cfg.execution_date.is_some() { "--execution-date" } else { "earliest payroll due_date" },
        "max_batch_rows": cfg.max_batch_rows,
        "ledger": cfg.ledger.display().to_string(),
        "providers": cfg.providers.as_ref().map(|p| p.display().to_string()),
        "retry_from": cfg.retry_from.as_ref().map(|p| p.display().to_string()),
        "id_scheme": "sverka-instruction-v1",
        "currency_table": table.version,
    });

    // Nothing to issue into a folder that holds an earlier run: leave it as it is.
    if was_occupied && !issued_rows.is_empty() {
        return Err(Error::Usage(format!(
            "--out {} already holds the payment files of an earlier run; give each new batch its own --out folder (nothing was issued)",
            cfg.out.display()
        )));
    }

    let file_paths: Vec<String> = pay_files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    let retry_path = retry_in.as_ref().map(|r| r.path.display().to_string());
    let src = |i: usize| -> (String, u64) {
        if i < n_pay {
            let (f, row) = origin_parts(pay_table.origin[i]);
            (file_paths[f as usize].clone(), row)
        } else {
            (
                retry_path.clone().unwrap_or_default(),
                view.retry[i - n_pay].row,
            )
        }
    };

    // Counts and totals.
    let mut by_hold: BTreeMap<Hold, u64> = BTreeMap::new();
    let mut held_pay = 0u64;
    let mut held_retry = 0u64;
    #[derive(Default)]
    struct Tot {
        issued_count: u64,
        issued_amount: i128,
        held_count: u64,
        held_amount: i128,
        recovery_count: u64,
        recovery_amount: i128,
    }
    let mut totals: BTreeMap<&str, Tot> = BTreeMap::new();
    for (i, h) in holds.iter().enumerate() {
        let t = totals.entry(table.code(view.ccy(i))).or_default();
        match h {
            Some((r, _)) => {
                *by_hold.entry(*r).or_default() += 1;
                if i < n_pay {
                    held_pay += 1;
                } else {
                    held_retry += 1;
                }
                t.held_count += 1;
                t.held_amount += view.amount(i);
            }
            None => {
                t.issued_count += 1;
                t.issued_amount += view.amount(i);
            }
        }
    }
    for r in &recovery_rows {
        let t = totals.entry(table.code(r.currency)).or_default();
        t.recovery_count += 1;
        t.recovery_amount += r.difference;
    }
    let issued_pay = issued_rows
        .iter()
        .filter(|&&i| (i as usize) < n_pay)
        .count() as u64;
    let issued_retry = issued_rows.len() as u64 - issued_pay;
    let payroll_in: u64 = pay_stats.iter().map(|s| s.rows).sum();
    // Conservation: every payroll row is issued, held or rejected; every reconciled row
    // is retried, held, listed for recovery or needs no action.
    if payroll_in != issued_pay + held_pay + rejects.len() as u64 {
        return Err(Error::Internal(format!(
            "payroll conservation: {payroll_in} rows in, {issued_pay} issued + {held_pay} held + {} rejected",
            rejects.len()
        )));
    }
    let retry_total = retry_in.as_ref().map_or(0, |r| r.rows.len() as u64);
    let no_action_n: u64 = no_action.values().sum();
    if retry_total != issued_retry + held_retry + recovery_rows.len() as u64 + no_action_n {
        return Err(Error::Internal("retry conservation failed".into()));
    }
    clock.lap("plan");

    // The ledger transaction starts now, beside the writing (it needs only the ids).
    let dir = out_abs.as_path();
    let issued_n = issued_rows.len() as u64;
    let mut ledger = Some(ledger);
    let mut worker: Option<Worker> = None;
    if issued_n > 0 {
        let mut order: Vec<u32> = issued_rows.clone();
        // In key order: appends to the B-tree instead of random inserts.
        order.par_sort_unstable_by_key(|&i| ids_arr.value(i as usize));
        let recs: Vec<(u32, u32, i64, Ccy, Option<String>)> = order
            .iter()
            .map(|&i| {
                let k = i as usize;
                (
                    i,
                    view.attempt[k],
                    view.amount(k) as i64,
                    view.ccy(k),
                    view.original(k).map(str::to_string),
                )
            })
            .collect();
        let mut per_cycle: BTreeMap<(&str, &str), i64> = BTreeMap::new();
        for &i in &issued_rows {
            *per_cycle
                .entry((view.program(i as usize), view.cycle(i as usize)))
                .or_default() += 1;
        }
        let cycles: BTreeMap<(String, String), i64> = per_cycle
            .into_iter()
            .map(|((p, c), n)| ((p.to_string(), c.to_string()), n))
            .collect();
        let ids_owned = ids_arr.clone();
        let (send, recv) = std::sync::mpsc::channel::<(Vec<RunFile>, String)>();
        let run_id_t = run_id.clone();
        let dir_t = dir.to_path_buf();
        let date_t = date::date_string(execution_date);
        let mut l = ledger.take().expect("ledger");
        let handle = std::thread::spawn(move || {
            let r = (|| -> Result<()> {
                let table = currency::table();
                let tx = l.begin()?;
                let run_no = tx.next_run_no()?;
                let n = tx.issue(
                    run_no,
                    recs.iter().map(|r| NewIssue {
                        instruction_id: ids_owned.value(r.0 as usize),
                        original_instruction_id: r.4.as_deref(),
                        attempt: r.1,
                        amount_minor: r.2,
                        currency: table.code(r.3),
                    }),
                )?;
                tx.add_cycles(&cycles)?;
                let (files, manifest_sha) = recv
                    .recv()
                    .map_err(|_| Error::Internal("run abandoned".into()))?;
                tx.record_run(&run_id_t, run_no, &dir_t, &date_t, n, &manifest_sha, &files)?;
                crash_point("before-ledger-commit");
                tx.commit()
            })();
            (l, r)
        });
        worker = Some(Worker { send, handle });
    }

    // Write everything under temporary names; on error discard all of it.
    // Payment files ‖ the row outputs: built and written side by side.
    let pay_job = || -> Vec<Result<Written>> {
        // Payment files, built and written in parallel, one file's bytes at a time per thread.
        pay_files_out
            .par_iter()
            .map(|pf| -> Result<Written> {
                let p = provider_of(&pf.provider).expect("profile");
                let minor = table.minor_units(pf.currency);
                let code = table.code(pf.currency);
                let txs: Vec<Tx> = pf
                    .rows
                    .iter()
                    .map(|&i| {
                        let i = i as usize;
                        Tx {
                            id: ids_arr.value(i),
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
                        let msg_id = ids::digest_id("M", &[run_id.as_bytes(), pf.name.as_bytes()]);
                        payfile::pain001(
                            &Message {
                                msg_id: &msg_id,
                                execution_date,
                                currency: code,
                                minor,
                                provider: p,
                                iban_accounts: p.account_kind == AccountKind::Iban,
                            },
                            &txs,
                        )?
                    }
                };
                let mut w = written_bytes(dir, &pf.name, &bytes, Some(txs.len() as u64))?;
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
            })
            .collect()
    };
    let rows_job = || -> (Vec<Written>, Result<()>) {
        let mut written: Vec<Written> = Vec::new();
        let r = (|| -> Result<()> {
            // instructions.parquet: what was issued, in the contract's instruction format.
            let iss: Vec<usize> = issued_rows.iter().map(|&i| i as usize).collect();
            let scale = scale_of(iss.iter().map(|&i| view.ccy(i)));
            let amounts: Vec<(i128, Ccy)> =
                iss.iter().map(|&i| (view.amount(i), view.ccy(i))).collect();
            let dec = dec_column(&amounts, scale)?;
            let ins = batch(
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
                    strings(iss.iter().map(|&i| ids_arr.value(i))),
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
                    strings(
                        iss.iter()
                            .map(|&i| pay_files_out[file_of[i] as usize].name.as_str()),
                    ),
                ],
            )?;
            written.push(parquet_file(dir, "instructions.parquet", &ins)?);
            drop(ins);

            // holds.parquet + holds.csv
            let held: Vec<usize> = (0..n).filter(|&i| holds[i].is_some()).collect();
            let hsrc: Vec<(String, u64)> = held.iter().map(|&i| src(i)).collect();
            let scale_h = scale_of(held.iter().map(|&i| view.ccy(i)));
            let hamounts: Vec<(i128, Ccy)> = held
                .iter()
                .map(|&i| (view.amount(i), view.ccy(i)))
                .collect();
            let hdec = dec_column(&hamounts, scale_h)?;
            let hold_of = |i: usize| holds[i].as_ref().expect("held");
            let hb = batch(
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
                    field("amount", hdec.data_type().clone(), false),
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
                            .map(|&i| (!ids_arr.is_null(i)).then(|| ids_arr.value(i))),
                    ),
                    opt_strings(held.iter().map(|&i| view.original(i))),
                    strings(held.iter().map(|&i| view.ben(i))),
                    strings(held.iter().map(|&i| view.program(i))),
                    strings(held.iter().map(|&i| view.cycle(i))),
                    strings(held.iter().map(|&i| view.provider(i))),
                    strings(held.iter().map(|&i| view.account(i))),
                    hdec,
                    strings(held.iter().map(|&i| table.code(view.ccy(i)))),
                    strings(held.iter().map(|&i| hold_of(i).0.as_str())),
                    strings(held.iter().map(|&i| hold_of(i).1.as_str())),
                ],
            )?;
            written.push(parquet_file(dir, "holds.parquet", &hb)?);
            written.push(csv_file(dir, "holds.csv", &hb)?);

            // rejects.parquet + rejects.csv, reconcile's format (side "payroll").
            let rb = sverka_engine::write::rejects_batch(&rejects, |r| {
                file_paths[r.file as usize].as_str()
            })?;
            written.push(parquet_file(dir, "rejects.parquet", &rb)?);
            written.push(csv_file(dir, "rejects.csv", &rb)?);

            // recovery.parquet + recovery.csv (with --retry-from only).
            if let Some(rin) = &retry_in {
                let scale_r = scale_of(recovery_rows.iter().map(|r| r.currency));
                let col = |f: &dyn Fn(&Reconciled) -> i128| -> Result<ArrayRef> {
                    let v: Vec<(i128, Ccy)> =
                        recovery_rows.iter().map(|r| (f(r), r.currency)).collect();
                    dec_column(&v, scale_r)
                };
                let (a, p, d) = (
                    col(&|r| r.amount)?,
                    col(&|r| r.paid_amount)?,
                    col(&|r| r.difference)?,
                );
                let file = rin.path.display().to_string();
                let rec = batch(
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
                        strings(recovery_rows.iter().map(|_| file.as_str())),
                        Arc::new(Int64Array::from_iter_values(
                            recovery_rows.iter().map(|r| r.row as i64),
                        )),
                        strings(recovery_rows.iter().map(|r| r.instruction_id.as_str())),
                        strings(recovery_rows.iter().map(|r| r.beneficiary_id.as_str())),
                        strings(recovery_rows.iter().map(|r| r.program.as_str())),
                        strings(recovery_rows.iter().map(|r| r.cycle.as_str())),
                        strings(recovery_rows.iter().map(|r| r.provider.as_str())),
                        strings(recovery_rows.iter().map(|r| r.account.as_str())),
                        strings(recovery_rows.iter().map(|r| table.code(r.currency))),
                        strings(recovery_rows.iter().map(|r| r.status.as_str())),
                        a,
                        p,
                        d,
                    ],
                )?;
                written.push(parquet_file(dir, "recovery.parquet", &rec)?);
                written.push(csv_file(dir, "recovery.csv", &rec)?);
            }
            Ok(())
        })();
        (written, r)
    };
    let ((pay_results, pay_t), ((mut written, rows_r), rows_t)) = rayon::join(
        || {
            let t = Instant::now();
            (pay_job(), t.elapsed())
        },
        || {
            let t = Instant::now();
            (rows_job(), t.elapsed())
        },
    );
    let mut first_err = rows_r.err();
    for r in pay_results {
        match r {
            Ok(w) => written.push(w),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_err {
        discard_all(&written);
        stop(&mut worker);
        return Err(e);
    }
    clock.lap("write");
    // The two halves of `write`, which overlap (for --timings only).
    clock.laps.push(("  payment files", pay_t));
    clock.laps.push(("  row outputs", rows_t));

    // summary.json
    let mut inputs = Vec::new();
    for (f, st) in pay_files.iter().zip(&pay_stats) {
        inputs.push(json!({"side": "payroll", "path": f.path.display().to_string(), "size": st.bytes, "rows": st.rows, "sha256": st.sha256}));
    }
    if let Some(r) = &retry_in {
        let (sha, size) = sha_file(&r.path).map_err(|e| Error::input(&r.path, e.to_string()))?;
        inputs.push(json!({"side": "retry_from", "path": r.path.display().to_string(), "size": size, "rows": r.rows.len(), "sha256": sha}));
    }
    if let Some(p) = &cfg.providers {
        let (sha, size) = sha_file(p).map_err(|e| Error::input(p, e.to_string()))?;
        inputs.push(json!({"side": "providers", "path": p.display().to_string(), "size": size, "rows": null, "sha256": sha}));
    }
    let mut providers_json = Map::new();
    for (k, pf) in pay_files_out.iter().enumerate() {
        let w = written.iter().find(|w| w.name == pf.name).expect("written");
        let e = providers_json.entry(pf.provider.clone()).or_insert_with(
            || json!({"format": pf.format.as_str(), "files": [], "issued": {}, "held": 0}),
        );
        let extra = w.extra.as_ref().expect("payment file");
        e["files"].as_array_mut().expect("array").push(json!({
            "name": pf.name, "rows": pf.rows.len(), "control_sums": extra["control_sums"], "sha256": w.sha256,
        }));
        let _ = k;
    }
    for (prov, v) in providers_json.iter_mut() {
        let mut per: BTreeMap<&str, (u64, i128)> = BTreeMap::new();
        for pf in pay_files_out.iter().filter(|p| &p.provider == prov) {
            let e = per.entry(table.code(pf.currency)).or_default();
            e.0 += pf.rows.len() as u64;
            e.1 += pf
                .rows
                .iter()
                .map(|&i| view.amount(i as usize))
                .sum::<i128>();
        }
        for (code, (c, a)) in per {
            let m = table.minor_units(table.lookup(code).expect("known"));
            v["issued"][code] = json!({"count": c, "amount": money::minor_string(a, m)});
        }
    }
    let mut held_by_provider: BTreeMap<&str, u64> = BTreeMap::new();
    for (i, h) in holds.iter().enumerate() {
        if h.is_some() {
            *held_by_provider.entry(view.provider(i)).or_default() += 1;
        }
    }
    for (prov, c) in &held_by_provider {
        if let Some(v) = providers_json.get_mut(*prov) {
            v["held"] = json!(c);
        }
    }
    let mut rej_by_reason: BTreeMap<&str, u64> = BTreeMap::new();
    for r in &rejects {
        *rej_by_reason.entry(r.reason.as_str()).or_default() += 1;
    }
    let mut totals_json = Map::new();
    for (code, t) in &totals {
        let m = table.minor_units(table.lookup(code).expect("known"));
        totals_json.insert(
            code.to_string(),
            json!({
                "issued_count": t.issued_count, "issued_amount": money::minor_string(t.issued_amount, m),
                "held_count": t.held_count, "held_amount": money::minor_string(t.held_amount, m),
                "recovery_count": t.recovery_count, "recovery_amount": money::minor_string(t.recovery_amount, m),
            }),
        );
    }
    let holds_json: Map<String, Value> = by_hold
        .iter()
        .map(|(h, c)| (h.as_str().to_string(), json!(c)))
        .collect();
    let summary = json!({
        "kind": "disburse",
        "run_id": if issued_rows.is_empty() { Value::Null } else { json!(run_id) },
        "counts": {
            "payroll_in": payroll_in,
            "payroll_accepted": n_pay,
            "rejected": rejects.len(),
            "held": held_pay + held_retry,
            "issued": issued_rows.len(),
            "issued_from_payroll": issued_pay,
            "retry_in": retry_total,
            "retried": issued_retry,
            "retry_held": held_retry,
            "recovery": recovery_rows.len(),
            "retry_no_action": no_action,
            "holds_by_reason": holds_json,
            "rejects_by_reason": rej_by_reason,
            "payment_files": pay_files_out.len(),
        },
        "totals": totals_json,
        "providers": providers_json,
        "inputs": inputs,
        "engine": {"name": "sverka", "version": VERSION},
        "settings": settings,
        "warnings": warnings,
    });

    if was_occupied {
        // Nothing issued (checked above): the folder keeps the earlier run's files.
        notes.push(format!(
            "nothing new issued ({} rows already issued); {} already holds an earlier run's files and was left as it was",
            by_hold.get(&Hold::AlreadyIssued).copied().unwrap_or(0),
            cfg.out.display()
        ));
        discard_all(&written);
        clock.lap("summary");
        return Ok(Outcome {
            summary,
            out_dir: cfg.out.clone(),
            written: Vec::new(),
            issued: 0,
            notes,
            warnings,
            timings: clock.laps,
        });
    }
    let summary_bytes = {
        let mut s = serde_json::to_vec_pretty(&summary).expect("json");
        s.push(b'\n');
        s
    };
    match written_bytes(dir, "summary.json", &summary_bytes, None) {
        Ok(w) => written.push(w),
        Err(e) => {
            discard_all(&written);
            stop(&mut worker);
            return Err(e);
        }
    }
    // manifest.json (shared format v1), written last.
    written.sort_by(|a, b| a.name.cmp(&b.name));
    let outputs: Vec<Value> = written
        .iter()
        .map(|w| {
            let mut o = Map::new();
            o.insert("name".into(), json!(w.name));
            o.insert("size".into(), json!(w.size));
            o.insert("rows".into(), json!(w.rows));
            o.insert("sha256".into(), json!(w.sha256));
            if let Some(extra) = &w.extra {
                for (k, v) in extra {
                    o.insert(k.clone(), v.clone());
                }
            }
            Value::Object(o)
        })
        .collect();
    let mut manifest = json!({
        "manifest_version": 1,
        "kind": "disburse",
        "engine": {"name": "sverka", "version": VERSION},
        "settings": summary["settings"],
        "inputs": summary["inputs"],
        "outputs": outputs,
    });
    let manifest_sha = sha_hex(serde_json::to_string(&manifest).expect("json").as_bytes());
    manifest["manifest_sha256"] = json!(manifest_sha);
    let mut mbytes = serde_json::to_vec_pretty(&manifest).expect("json");
    mbytes.push(b'\n');
    match written_bytes(dir, "manifest.json", &mbytes, None) {
        Ok(w) => written.push(w),
        Err(e) => {
            discard_all(&written);
            stop(&mut worker);
            return Err(e);
        }
    }
    clock.lap("summary");

    // The ledger transaction: all issued ids and the run's files, or nothing.
    if let Some(w) = worker.take() {
        let run_files: Vec<RunFile> = written
            .iter()
            .map(|w| RunFile {
                name: w.name.clone(),
                tmp_name: w
                    .pending
                    .tmp
                    .file_name()
                    .expect("file")
                    .to_string_lossy()
                    .into_owned(),
                sha256: w.sha256.clone(),
            })
            .collect();
        let _ = w.send.send((run_files, manifest_sha.clone()));
        let (l, r) = match w.handle.join() {
            Ok(x) => x,
            Err(p) => {
                discard_all(&written);
                return Err(Error::Internal(format!(
                    "ledger thread: {}",
                    load::panic_message(&p)
                )));
            }
        };
        ledger = Some(l);
        if let Err(e) = r {
            discard_all(&written);
            return Err(e);
        }
        clock.lap("ledger");
        crash_point("after-ledger-commit");
    }
    // Rename: old manifest out first, new manifest last.
    let _ = std::fs::remove_file(dir.join("manifest.json"));
    let (manifest_w, rest): (Vec<&Written>, Vec<&Written>) =
        written.iter().partition(|w| w.name == "manifest.json");
    for (k, w) in rest.iter().enumerate() {
        if k == rest.len() / 2 {
            crash_point("mid-rename");
        }
        write::commit(std::slice::from_ref(&w.pending))?;
    }
    for w in manifest_w {
        write::commit(std::slice::from_ref(&w.pending))?;
    }
    if issued_n > 0 {
        ledger.as_ref().expect("ledger").mark_committed(&run_id)?;
    } else {
        notes.push(format!(
            "nothing new issued ({} rows already issued; see holds and rejects)",
            by_hold.get(&Hold::AlreadyIssued).copied().unwrap_or(0)
        ));
    }
    clock.lap("commit");
    Ok(Outcome {
        summary,
        out_dir: cfg.out.clone(),
        written: written.iter().map(|w| w.name.clone()).collect(),
        issued: issued_n,
        notes,
        warnings,
        timings: clock.laps,
    })
}

fn discard_all(written: &[Written]) {
    for w in written {
        write::discard(std::slice::from_ref(&w.pending));
    }
}
