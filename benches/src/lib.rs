//! Synthetic inputs for the stage benchmarks in `benches/stages.rs`, made in-process from
//! row numbers alone (no seed file, no external data), so every run sees the same bytes.
//!
//! Every row carries a planted fate, decided by its row number before any engine code
//! runs: a field reject, a duplicate, a reference match, a fallback-only match, a
//! settlement for an unknown instruction. [`Expected`] counts those fates so that each
//! benchmark can check its answer inside the timed loop (STYLE.md 17); the test at the
//! bottom checks the plan against a full `reconcile` on a small data set.
//!
//! Shape of a data set of `n` rows per side:
//! - four providers: UZCARD and HUMO pay in UZS (2 decimals), MTN_UG in UGX (0), KNET in
//!   KWD (3);
//! - 2% field rejects per side, one reason per row, rotating through the reasons;
//! - 0.2% duplicate instruction ids and 0.1% duplicate (provider, provider_ref);
//! - 5% settlements without `instruction_id` that only the fallback rule matches;
//! - 1% settlements naming an instruction that does not exist;
//! - a few FAILED and RETURNED settlements, underpayments, late value dates, repeated
//!   beneficiaries and padded text, so that classification has work to do.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use sverka_engine::date;
use sverka_engine::side::Side;
use sverka_engine::Summary;

/// Rows per side of the benchmark data set.
pub const ROWS: usize = 200_000;

/// Rows per side for this run: `SVERKA_BENCH_ROWS` (a tiny size checks that the benches
/// work), else [`ROWS`].
pub fn rows() -> usize {
    std::env::var("SVERKA_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ROWS)
}

/// Rows per Parquet row group in the written inputs. Smaller than the generator's
/// (256K) so that a 200K-row file has several row groups, which `load` reads in
/// parallel as it does for big inputs. (This is what caught parallel row-group readers
/// sharing one file offset, fixed in `load` by 2f7108f.)
pub const PARQUET_ROW_GROUP_ROWS: usize = 64 * 1024;

/// Provider name and its currency (code, minor units).
pub const PROVIDERS: [(&str, &str, u32); 4] = [
    ("UZCARD", "UZS", 2),
    ("HUMO", "UZS", 2),
    ("MTN_UG", "UGX", 0),
    ("KNET", "KWD", 3),
];

/// The one field of a rejected row that breaks its contract rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bad {
    /// `1e3`: not `-?digits(.digits)?` (invalid_amount).
    Amount,
    /// `0` on an instruction (non_positive_amount).
    NonPositive,
    /// `-5` on a settlement (negative_amount).
    Negative,
    /// One digit more than the currency has (amount_precision).
    Precision,
    /// `XYZ` / `usd` (unknown_currency).
    Currency,
    /// `2026-02-30` / `2026-13-01` (invalid_date).
    Date,
    /// `PAID` (invalid_status).
    Status,
    /// An empty required text field (missing_field).
    Missing,
}

/// The planted fate of an instruction row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsPlan {
    Accepted,
    /// Carries the id of the row before it (duplicate_instruction_id).
    Duplicate,
    Rejected(Bad),
}

/// The planted fate of a settlement row. Settlement `j` concerns instruction `j`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetPlan {
    /// Names instruction `j` by id.
    Reference,
    /// No `instruction_id`; provider, account, currency and amount equal instruction
    /// `j`'s, value date within the fallback window.
    FallbackOnly,
    /// Names an instruction that does not exist, on an account no instruction has.
    Ghost,
    /// A copy of the row before it (duplicate_provider_ref).
    Duplicate,
    Rejected(Bad),
}

pub fn ins_plan(k: usize) -> InsPlan {
    if k % 50 == 7 {
        const BAD: [Bad; 5] = [
            Bad::Amount,
            Bad::NonPositive,
            Bad::Currency,
            Bad::Date,
            Bad::Missing,
        ];
        InsPlan::Rejected(BAD[(k / 50) % BAD.len()])
    } else if k % 500 == 499 {
        InsPlan::Duplicate
    } else {
        InsPlan::Accepted
    }
}

pub fn set_plan(j: usize) -> SetPlan {
    if j % 50 == 11 {
        const BAD: [Bad; 6] = [
            Bad::Negative,
            Bad::Currency,
            Bad::Status,
            Bad::Date,
            Bad::Missing,
            Bad::Precision,
        ];
        SetPlan::Rejected(BAD[(j / 50) % BAD.len()])
    } else if j % 1000 == 999 {
        SetPlan::Duplicate
    } else if j % 100 == 42 {
        SetPlan::Ghost
    } else if j % 20 == 3 {
        SetPlan::FallbackOnly
    } else {
        SetPlan::Reference
    }
}

/// Counts that follow from the plan alone, for the benchmarks to assert.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// Input rows per side: instructions, settlements.
    pub rows_in: [u64; 2],
    pub field_rejects: [u64; 2],
    pub duplicates: [u64; 2],
    /// Rows left after validation and de-duplication.
    pub accepted: [u64; 2],
    pub by_reference: u64,
    pub by_fallback: u64,
    pub by_none: u64,
    /// Accepted instructions no settlement matched.
    pub unpaid: u64,
    /// Amount texts (the `amount` columns of both sides) that parse as amounts.
    pub amounts_parsed: u64,
    /// Date texts (`due_date`, `value_date`) that are real dates.
    pub dates_parsed: u64,
}

impl Expected {
    pub fn for_rows(n: usize) -> Expected {
        let mut e = Expected {
            rows_in: [n as u64; 2],
            ..Expected::default()
        };
        let exists = |k: usize| ins_plan(k) == InsPlan::Accepted;
        for k in 0..n {
            match ins_plan(k) {
                InsPlan::Accepted => {}
                InsPlan::Duplicate => e.duplicates[0] += 1,
                InsPlan::Rejected(_) => e.field_rejects[0] += 1,
            }
            match set_plan(k) {
                SetPlan::Reference if exists(k) => e.by_reference += 1,
                SetPlan::FallbackOnly if exists(k) => e.by_fallback += 1,
                SetPlan::Reference | SetPlan::FallbackOnly | SetPlan::Ghost => {
                    e.by_none += 1;
                    if exists(k) {
                        e.unpaid += 1;
                    }
                }
                SetPlan::Duplicate => {
                    e.duplicates[1] += 1;
                    e.unpaid += exists(k) as u64;
                }
                SetPlan::Rejected(_) => {
                    e.field_rejects[1] += 1;
                    e.unpaid += exists(k) as u64;
                }
            }
            let bad_ins = |b| ins_plan(k) == InsPlan::Rejected(b);
            let bad_set = |b| set_plan(k) == SetPlan::Rejected(b);
            e.amounts_parsed += 2 - bad_ins(Bad::Amount) as u64 - bad_set(Bad::Amount) as u64;
            e.dates_parsed += 2 - bad_ins(Bad::Date) as u64 - bad_set(Bad::Date) as u64;
        }
        for s in 0..2 {
            e.accepted[s] = e.rows_in[s] - e.field_rejects[s] - e.duplicates[s];
        }
        e
    }

    /// Input rows of both sides.
    pub fn total_rows_in(&self) -> u64 {
        self.rows_in[0] + self.rows_in[1]
    }

    /// Accepted rows of both sides.
    pub fn total_accepted(&self) -> u64 {
        self.accepted[0] + self.accepted[1]
    }

    pub fn rejects(&self) -> [u64; 2] {
        [
            self.field_rejects[0] + self.duplicates[0],
            self.field_rejects[1] + self.duplicates[1],
        ]
    }

    /// Asserts a whole run's summary against the plan (STYLE.md 17).
    pub fn check(&self, s: &Summary) {
        let c = &s.counts;
        assert_eq!([c.instructions_in, c.settlements_in], self.rows_in);
        assert_eq!(
            [c.instructions_accepted, c.settlements_accepted],
            self.accepted
        );
        assert_eq!(
            [c.rejects.instructions, c.rejects.settlements],
            self.rejects()
        );
        assert_eq!(c.by_match.get("REFERENCE"), self.by_reference);
        assert_eq!(c.by_match.get("FALLBACK"), self.by_fallback);
        assert_eq!(c.by_match.get("NONE"), self.by_none);
        assert_eq!(c.by_status.get("UNPAID"), self.unpaid);
    }
}

// ---------------------------------------------------------------------------------------
// Rows

/// SplitMix64: a fixed, well-mixed function of the row number.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `minor` minor units written with `scale` decimals.
fn decimal(minor: u64, scale: u32) -> String {
    if scale == 0 {
        return minor.to_string();
    }
    let p = 10u64.pow(scale);
    format!("{}.{:0w$}", minor / p, minor % p, w = scale as usize)
}

/// The fields instruction `k` has before anything is broken.
struct Base {
    provider: &'static str,
    ccy: &'static str,
    scale: u32,
    amount: u64,
    due: i32,
}

fn base(k: usize) -> Base {
    let (provider, ccy, scale) = PROVIDERS[k % PROVIDERS.len()];
    let h = mix(k as u64);
    // 10.00 .. 20,010.00 in the currency's unit; one row in 997 is an outlier.
    let unit = 10u64.pow(scale);
    let mut amount = 10 * unit + h % (20_000 * unit);
    if k % 997 == 500 {
        amount *= 40;
    }
    let due = date::days_from_civil(2026, 1, 1) + ((k / 1000) % 180) as i32;
    Base {
        provider,
        ccy,
        scale,
        amount,
        due,
    }
}

/// Field names and text columns of one side, in the contract's column order.
pub struct Columns {
    pub side: Side,
    pub names: Vec<&'static str>,
    pub cols: Vec<StringArray>,
}

impl Columns {
    pub fn len(&self) -> usize {
        self.cols.first().map_or(0, |c| c.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn column(&self, name: &str) -> &StringArray {
        let i = self.names.iter().position(|n| *n == name).expect("column");
        &self.cols[i]
    }

    /// All columns as one Arrow batch of Utf8 columns.
    pub fn record_batch(&self) -> RecordBatch {
        let fields: Vec<Field> = self
            .names
            .iter()
            .map(|n| Field::new(*n, DataType::Utf8, false))
            .collect();
        let cols: Vec<ArrayRef> = self
            .cols
            .iter()
            .map(|c| Arc::new(c.clone()) as ArrayRef)
            .collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).expect("valid batch")
    }
}

fn columns(side: Side, n: usize, row: impl Fn(usize, &mut [String])) -> Columns {
    let names: Vec<&'static str> = side.fields().iter().map(|f| f.name).collect();
    let mut values: Vec<Vec<String>> = vec![Vec::with_capacity(n); names.len()];
    let mut cells = vec![String::new(); names.len()];
    for k in 0..n {
        row(k, &mut cells);
        for (v, c) in values.iter_mut().zip(&mut cells) {
            v.push(std::mem::take(c));
        }
    }
    Columns {
        side,
        names,
        cols: values.into_iter().map(StringArray::from).collect(),
    }
}

/// Instruction `k`'s cells, in `INSTRUCTION_FIELDS` order.
fn instruction_row(k: usize, c: &mut [String]) {
    let b = base(k);
    let id = match ins_plan(k) {
        InsPlan::Duplicate => k - 1,
        _ => k,
    };
    // One row in 300 repeats the beneficiary of the row before (same programme and
    // cycle): DUPLICATE_BENEFICIARY.
    let ben = if k % 300 == 150 { k - 1 } else { k };
    c[0] = format!("IN{id:09}");
    c[1] = if k % 97 == 0 {
        format!(" BEN{ben:08}\t")
    } else {
        format!("BEN{ben:08}")
    };
    c[2] = format!("PROG-{:02}", (k / 1000) % 12);
    c[3] = format!("2026-{:02}", (k / 40_000) % 6 + 1);
    c[4] = b.provider.to_string();
    c[5] = format!("AC{k:010}");
    c[6] = decimal(b.amount, b.scale);
    c[7] = b.ccy.to_string();
    c[8] = date::date_string(b.due);
    if let InsPlan::Rejected(bad) = ins_plan(k) {
        match bad {
            Bad::Amount => c[6] = "1e3".into(),
            Bad::NonPositive => c[6] = "0".into(),
            Bad::Currency => c[7] = "XYZ".into(),
            Bad::Date => c[8] = "2026-02-30".into(),
            Bad::Missing => c[1] = String::new(),
            Bad::Negative | Bad::Precision | Bad::Status => unreachable!("not planted"),
        }
    }
}

/// Settlement `j`'s cells, in `SETTLEMENT_FIELDS` order.
fn settlement_row(j: usize, c: &mut [String]) {
    let plan = set_plan(j);
    if plan == SetPlan::Duplicate {
        return settlement_row(j - 1, c);
    }
    let b = base(j);
    c[0] = b.provider.to_string();
    c[1] = if j % 89 == 0 {
        format!("{}-{j:09} ", b.provider)
    } else {
        format!("{}-{j:09}", b.provider)
    };
    c[2] = match plan {
        SetPlan::FallbackOnly => String::new(),
        SetPlan::Ghost => format!("GHOST{j:09}"),
        _ => format!("IN{j:09}"),
    };
    c[3] = match plan {
        SetPlan::Ghost => format!("GH{j:010}"),
        _ => format!("AC{j:010}"),
    };
    let underpaid = plan == SetPlan::Reference && j % 60 == 17;
    c[4] = decimal(b.amount - underpaid as u64, b.scale);
    c[5] = if j % 3 == 0 {
        String::new()
    } else {
        decimal(100 + (j % 50) as u64, b.scale)
    };
    c[6] = b.ccy.to_string();
    c[7] = match j % 40 {
        5 => "FAILED",
        13 => "RETURNED",
        _ => "SETTLED",
    }
    .to_string();
    // 0..=5 days after due: within the fallback window (7), late (> 3) for 4 and 5.
    c[8] = date::date_string(b.due + (j % 6) as i32);
    if let SetPlan::Rejected(bad) = plan {
        match bad {
            Bad::Negative => c[4] = "-5".into(),
            Bad::Currency => c[6] = "usd".into(),
            Bad::Status => c[7] = "PAID".into(),
            Bad::Date => c[8] = "2026-13-01".into(),
            Bad::Missing => c[1] = String::new(),
            Bad::Precision => c[4] = format!("{}1", decimal(b.amount * 10, b.scale + 1)),
            Bad::Amount | Bad::NonPositive => unreachable!("not planted"),
        }
    }
}

/// Both sides of a synthetic data set and what reconciling it must give.
pub struct Dataset {
    pub instructions: Columns,
    pub settlements: Columns,
    pub expected: Expected,
}

impl Dataset {
    /// `n` instructions and `n` settlements.
    pub fn generate(n: usize) -> Dataset {
        let (instructions, settlements) = rayon::join(
            || columns(Side::Instructions, n, instruction_row),
            || columns(Side::Settlements, n, settlement_row),
        );
        Dataset {
            instructions,
            settlements,
            expected: Expected::for_rows(n),
        }
    }

    pub fn side(&self, side: Side) -> &Columns {
        match side {
            Side::Instructions => &self.instructions,
            Side::Settlements => &self.settlements,
            Side::Custom(_) => unreachable!("the reconcile benches have no custom side"),
        }
    }

    /// Every amount text of both sides (the `amount` columns).
    pub fn amount_texts(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .instructions
            .column("amount")
            .iter()
            .flatten()
            .collect();
        v.extend(self.settlements.column("amount").iter().flatten());
        v
    }

    /// Every date text of both sides (`due_date`, `value_date`).
    pub fn date_texts(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .instructions
            .column("due_date")
            .iter()
            .flatten()
            .collect();
        v.extend(self.settlements.column("value_date").iter().flatten());
        v
    }
}

// ---------------------------------------------------------------------------------------
// Files

/// Writes one side as a Parquet file of Utf8 columns (ZSTD level 1, like `sverka generate`).
pub fn write_parquet(path: &Path, cols: &Columns) -> std::io::Result<()> {
    let batch = cols.record_batch();
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(1).expect("valid level"),
        ))
        .set_max_row_group_row_count(Some(PARQUET_ROW_GROUP_ROWS))
        .build();
    let file = BufWriter::new(File::create(path)?);
    let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props)).map_err(io_err)?;
    w.write(&batch).map_err(io_err)?;
    w.close().map_err(io_err)?;
    Ok(())
}

fn io_err(e: parquet::errors::ParquetError) -> std::io::Error {
    std::io::Error::other(e)
}

/// Writes one side as CSV with a header. No generated value holds a comma, quote or line
/// break, so no field needs quoting.
pub fn write_csv(path: &Path, cols: &Columns) -> std::io::Result<()> {
    let mut w = BufWriter::new(File::create(path)?);
    writeln!(w, "{}", cols.names.join(","))?;
    for i in 0..cols.len() {
        for (c, col) in cols.cols.iter().enumerate() {
            if c > 0 {
                w.write_all(b",")?;
            }
            let v = col.value(i);
            debug_assert!(!v.contains([',', '"', '\n', '\r']));
            w.write_all(v.as_bytes())?;
        }
        w.write_all(b"\n")?;
    }
    w.flush()
}

/// The data set written to a temporary directory, in both formats.
pub struct Files {
    pub dir: tempfile::TempDir,
    pub ins_parquet: PathBuf,
    pub set_parquet: PathBuf,
    pub ins_csv: PathBuf,
    pub set_csv: PathBuf,
}

impl Files {
    pub fn write(data: &Dataset) -> std::io::Result<Files> {
        let dir = tempfile::Builder::new().prefix("sverka-bench-").tempdir()?;
        let p = |name: &str| dir.path().join(name);
        let files = Files {
            ins_parquet: p("instructions.parquet"),
            set_parquet: p("settlements.parquet"),
            ins_csv: p("instructions.csv"),
            set_csv: p("settlements.csv"),
            dir,
        };
        write_parquet(&files.ins_parquet, &data.instructions)?;
        write_parquet(&files.set_parquet, &data.settlements)?;
        write_csv(&files.ins_csv, &data.instructions)?;
        write_csv(&files.set_csv, &data.settlements)?;
        Ok(files)
    }

    /// A fresh, empty directory inside the temporary one.
    pub fn out_dir(&self, name: &str) -> std::io::Result<PathBuf> {
        let d = self.dir.path().join(name);
        std::fs::create_dir_all(&d)?;
        Ok(d)
    }
}

/// Size of a file in bytes (0 when it cannot be read).
pub fn file_bytes(p: &Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sverka_engine::side;
    use sverka_engine::{ReconcileConfig, Settings, Silent};

    const N: usize = 6_000;

    #[test]
    fn the_plan_holds_in_parsing_and_loading() {
        let data = Dataset::generate(N);
        let e = &data.expected;
        assert_eq!(e.field_rejects, [120, 120]);
        assert_eq!(e.duplicates, [12, 6]);
        let parsed_amounts = data
            .amount_texts()
            .iter()
            .filter(|s| sverka_engine::money::parse_amount(s).is_some())
            .count() as u64;
        assert_eq!(parsed_amounts, e.amounts_parsed);
        let parsed_dates = data
            .date_texts()
            .iter()
            .filter(|s| date::parse_date(s).is_some())
            .count() as u64;
        assert_eq!(parsed_dates, e.dates_parsed);

        // Read and validated one side at a time (no de-duplication): field rejects only.
        let files = Files::write(&data).unwrap();
        for (i, (s, path)) in [
            (Side::Instructions, &files.ins_csv),
            (Side::Settlements, &files.set_parquet),
        ]
        .into_iter()
        .enumerate()
        {
            let read = side::read_paths(s, std::slice::from_ref(path)).unwrap();
            assert_eq!(read.stats[0].rows, e.rows_in[i]);
            assert_eq!(read.rejects.len() as u64, e.field_rejects[i]);
            assert_eq!(read.table.len() as u64, e.rows_in[i] - e.field_rejects[i]);
        }
    }

    #[test]
    fn reconcile_agrees_with_the_plan_in_both_formats() {
        let data = Dataset::generate(N);
        let e = &data.expected;
        let files = Files::write(&data).unwrap();
        for (name, ins, set) in [
            ("parquet", &files.ins_parquet, &files.set_parquet),
            ("csv", &files.ins_csv, &files.set_csv),
        ] {
            let cfg = ReconcileConfig {
                providers: Default::default(),
                decisions: Vec::new(),
                instructions: vec![ins.clone()],
                settlements: vec![set.clone()],
                out: files.out_dir(name).unwrap(),
                csv: false,
                settings: Settings::default(),
            };
            let out = sverka_engine::reconcile(&cfg, &Silent).unwrap();
            e.check(&out.summary);
            let ambiguous = out.summary.counts.by_flag.get("AMBIGUOUS");
            assert_eq!(ambiguous, 0, "no ambiguity planted");
            assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        }
    }
}
