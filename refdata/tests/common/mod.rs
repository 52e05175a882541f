//! Helpers shared by the integration tests: small data sets, reading truth tables, and
//! a fake results folder built from a truth (what a perfect engine would write).

#![allow(dead_code)]

pub mod files;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{Decimal128Builder, Int64Builder, StringBuilder};
use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use serde_json::{json, Map, Value};
use sverka_refdata::{generate, Format, GenerateConfig, GenerateReport, SettlementFormat};

pub fn gen(
    dir: &Path,
    name: &str,
    n: u64,
    seed: u64,
    format: Format,
    profile: &str,
) -> (PathBuf, GenerateReport) {
    gen_settlements(dir, name, n, seed, format, None, profile)
}

/// As [`gen`], with the settlement files in `settlements` (`None`: as `format`).
pub fn gen_settlements(
    dir: &Path,
    name: &str,
    n: u64,
    seed: u64,
    format: Format,
    settlements: Option<SettlementFormat>,
    profile: &str,
) -> (PathBuf, GenerateReport) {
    let out = dir.join(name);
    let report = generate(&GenerateConfig {
        instructions: n,
        out: out.clone(),
        seed,
        format,
        settlement_format: settlements,
        profile: profile.into(),
        rates: Vec::new(),
    })
    .expect("generate");
    (out, report)
}

/// Every column of a Parquet file as text (integers formatted), row by row.
pub fn read_rows(path: &Path) -> (Vec<String>, Vec<Vec<Option<String>>>) {
    let f = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap();
    let mut names = Vec::new();
    let mut rows = Vec::new();
    for b in reader {
        let b = b.unwrap();
        names = b
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        for r in 0..b.num_rows() {
            let row = b
                .columns()
                .iter()
                .map(|c| {
                    if c.is_null(r) {
                        None
                    } else if let Some(s) = c.as_any().downcast_ref::<StringArray>() {
                        Some(s.value(r).to_string())
                    } else if let Some(i) = c.as_any().downcast_ref::<Int64Array>() {
                        Some(i.value(r).to_string())
                    } else {
                        panic!("unexpected type {}", c.data_type())
                    }
                })
                .collect();
            rows.push(row);
        }
    }
    (names, rows)
}

pub fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[derive(Clone, Debug)]
pub struct FakeInstr {
    pub id: String,
    pub status: String,
    pub flags: String,
    pub paid: String,
    pub count: i64,
}

#[derive(Clone, Debug)]
pub struct FakeSett {
    pub provider: String,
    pub provider_ref: String,
    pub method: String,
    pub matched: String,
    pub flags: String,
}

#[derive(Clone, Debug)]
pub struct FakeReject {
    pub side: String,
    pub file: String,
    pub row: i64,
    pub reason: String,
}

/// What a perfect engine would write for a data set, editable before writing.
pub struct FakeResults {
    pub instrs: Vec<FakeInstr>,
    pub setts: Vec<FakeSett>,
    pub rejects: Vec<FakeReject>,
    pub totals: Value,
}

fn s(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

impl FakeResults {
    pub fn from_truth(data_set: &Path) -> FakeResults {
        let truth = data_set.join("truth");
        let (_, ir) = read_rows(&truth.join("instructions.parquet"));
        let (_, sr) = read_rows(&truth.join("settlements.parquet"));
        let (_, rr) = read_rows(&truth.join("rejects.parquet"));
        let summary = read_json(&truth.join("summary.json"));
        FakeResults {
            instrs: ir
                .iter()
                .map(|r| FakeInstr {
                    id: s(&r[0]),
                    status: s(&r[1]),
                    flags: s(&r[2]),
                    paid: s(&r[3]),
                    count: s(&r[5]).parse().unwrap(),
                })
                .collect(),
            setts: sr
                .iter()
                .map(|r| FakeSett {
                    provider: s(&r[0]),
                    provider_ref: s(&r[1]),
                    method: s(&r[2]),
                    matched: s(&r[3]),
                    flags: s(&r[4]),
                })
                .collect(),
            rejects: rr
                .iter()
                .map(|r| {
                    let side = s(&r[0]);
                    // The engine writes the path as given: directory joined with the name.
                    let file = format!("{}/{}/{}", data_set.display(), side, s(&r[1]));
                    FakeReject {
                        side,
                        file,
                        row: s(&r[2]).parse().unwrap(),
                        reason: s(&r[3]),
                    }
                })
                .collect(),
            totals: summary["totals"].clone(),
        }
    }

    /// Writes the folder, with summary counts computed from the rows as written.
    pub fn write(&self, out: &Path) {
        std::fs::create_dir_all(out).unwrap();
        let mut id = StringBuilder::new();
        let mut status = StringBuilder::new();
        let mut flags = StringBuilder::new();
        let mut paid = Decimal128Builder::new()
            .with_precision_and_scale(38, 3)
            .unwrap();
        let mut count = Int64Builder::new();
        for r in &self.instrs {
            id.append_value(&r.id);
            status.append_value(&r.status);
            flags.append_value(&r.flags);
            paid.append_value(to_scale3(&r.paid));
            count.append_value(r.count);
        }
        write_parquet(
            &out.join("instructions.parquet"),
            vec![
                ("instruction_id", Arc::new(id.finish()) as ArrayRef),
                ("status", Arc::new(status.finish())),
                ("flags", Arc::new(flags.finish())),
                ("paid_amount", Arc::new(paid.finish())),
                ("settlement_count", Arc::new(count.finish())),
            ],
        );
        let mut prov = StringBuilder::new();
        let mut pref = StringBuilder::new();
        let mut method = StringBuilder::new();
        let mut matched = StringBuilder::new();
        let mut sflags = StringBuilder::new();
        for r in &self.setts {
            prov.append_value(&r.provider);
            pref.append_value(&r.provider_ref);
            method.append_value(&r.method);
            if r.matched.is_empty() {
                matched.append_null();
            } else {
                matched.append_value(&r.matched);
            }
            sflags.append_value(&r.flags);
        }
        write_parquet(
            &out.join("settlements.parquet"),
            vec![
                ("provider", Arc::new(prov.finish()) as ArrayRef),
                ("provider_ref", Arc::new(pref.finish())),
                ("match_method", Arc::new(method.finish())),
                ("matched_instruction_id", Arc::new(matched.finish())),
                ("flags", Arc::new(sflags.finish())),
            ],
        );
        let mut side = StringBuilder::new();
        let mut file = StringBuilder::new();
        let mut row = Int64Builder::new();
        let mut column = StringBuilder::new();
        let mut reason = StringBuilder::new();
        for r in &self.rejects {
            side.append_value(&r.side);
            file.append_value(&r.file);
            row.append_value(r.row);
            column.append_null();
            reason.append_value(&r.reason);
        }
        write_parquet(
            &out.join("rejects.parquet"),
            vec![
                ("side", Arc::new(side.finish()) as ArrayRef),
                ("file", Arc::new(file.finish())),
                ("row", Arc::new(row.finish())),
                ("column", Arc::new(column.finish())),
                ("reason", Arc::new(reason.finish())),
            ],
        );
        let mut by_status = Map::new();
        let mut by_flag = Map::new();
        let mut by_match = Map::new();
        let bump = |m: &mut Map<String, Value>, k: &str| {
            let n = m.get(k).and_then(Value::as_u64).unwrap_or(0);
            m.insert(k.to_string(), json!(n + 1));
        };
        for r in &self.instrs {
            bump(&mut by_status, &r.status);
            for f in r.flags.split(';').filter(|f| !f.is_empty()) {
                bump(&mut by_flag, f);
            }
        }
        for r in &self.setts {
            bump(&mut by_match, &r.method);
            if !r.flags.is_empty() {
                bump(&mut by_flag, &r.flags);
            }
        }
        let rej = |side: &str| self.rejects.iter().filter(|r| r.side == side).count() as u64;
        // The results' shape (`sverka_engine::Summary`): the truth's totals lack the
        // returned and failed counts, which score does not compare.
        let mut totals = self.totals.clone();
        for t in totals
            .as_object_mut()
            .into_iter()
            .flat_map(|m| m.values_mut())
        {
            t["returned_count"] = json!(0);
            t["failed_count"] = json!(0);
        }
        let summary = json!({
            "counts": {
                "instructions_in": self.instrs.len() as u64 + rej("instructions"),
                "instructions_accepted": self.instrs.len(),
                "settlements_in": self.setts.len() as u64 + rej("settlements"),
                "settlements_accepted": self.setts.len(),
                "rejects": {"instructions": rej("instructions"), "settlements": rej("settlements")},
                "by_status": by_status,
                "by_flag": by_flag,
                "by_match": by_match,
                "rejects_by_reason": {"instructions": {}, "settlements": {}},
            },
            "totals": totals,
            "totals_by_provider": {},
            "totals_by_program": {},
            "inputs": [],
            "outputs": [],
            "warnings": [],
            "engine": {"name": "fake", "version": "0", "contract": 1},
            "settings": {"late_days": 3, "fallback_days": 7, "shared_account_min": 3,
                         "outlier_factor": "3", "currency_table": "0", "amount_scale": 4},
            "settlement_delay_by_provider": {},
        });
        std::fs::write(
            out.join("summary.json"),
            serde_json::to_string_pretty(&summary).unwrap(),
        )
        .unwrap();
    }
}

/// Decimal text to an integer at scale 3.
fn to_scale3(t: &str) -> i128 {
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let mut frac = frac.to_string();
    while frac.len() < 3 {
        frac.push('0');
    }
    let v: i128 = format!("{int}{frac}").parse().unwrap();
    if neg {
        -v
    } else {
        v
    }
}

fn write_parquet(path: &Path, cols: Vec<(&str, ArrayRef)>) {
    let fields: Vec<Field> = cols
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let batch =
        RecordBatch::try_new(schema.clone(), cols.into_iter().map(|(_, a)| a).collect()).unwrap();
    let mut w = ArrowWriter::try_new(File::create(path).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

pub fn text_type() -> DataType {
    DataType::Utf8
}

/// All files under `dir`, relative, sorted.
pub fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// A Parquet file of nullable text columns.
pub fn write_text_parquet(path: &Path, names: &[String], rows: Vec<Vec<Option<String>>>) {
    let cols = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut b = StringBuilder::new();
            for r in &rows {
                b.append_option(r[i].as_deref());
            }
            (n.as_str(), Arc::new(b.finish()) as ArrayRef)
        })
        .collect();
    write_parquet(path, cols);
}
