//! `schemas/` and the engine agree: input columns, output columns and types, the
//! summary's schema, and the currency table (the vocabularies: the engine's own tests,
//! `engine/src/vocabulary_tests.rs`, as they are private).

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;
use sverka_engine::side::{Kind, Side};

fn read_schema(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../schemas")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn schema() -> Value {
    read_schema("reconcile-v2.json")
}

#[test]
fn input_columns_agree() {
    let s = schema();
    for side in [Side::Instructions, Side::Settlements] {
        let declared = s["inputs"][side.as_str()].as_array().unwrap();
        assert_eq!(declared.len(), side.fields().len());
        for (d, f) in declared.iter().zip(side.fields()) {
            assert_eq!(d["name"], f.name);
            assert_eq!(d["required"], f.required);
            let kind = match f.kind {
                Kind::Text => "text",
                Kind::Amount => "amount",
                Kind::Currency => "currency",
                Kind::Date => "date",
                Kind::Status => "status",
            };
            assert_eq!(d["kind"], kind, "{}", f.name);
        }
    }
}

/// The demo's summary.json matches its schema and reads back as a `Summary` (the golden
/// cases are checked in golden.rs, a generated data set in the CLI's tests).
/// Reconciles with the default settings into `out`.
fn run(ins: PathBuf, set: PathBuf, out: &Path) -> sverka_engine::Outcome {
    run_with(ins, set, Vec::new(), out)
}

fn run_with(
    ins: PathBuf,
    set: PathBuf,
    decisions: Vec<PathBuf>,
    out: &Path,
) -> sverka_engine::Outcome {
    let cfg = sverka_engine::ReconcileConfig {
        providers: Default::default(),
        decisions,
        instructions: vec![ins],
        settlements: vec![set],
        out: out.to_path_buf(),
        csv: false,
        settings: Default::default(),
    };
    sverka_engine::reconcile(&cfg, &sverka_engine::Silent).unwrap()
}

#[test]
fn demo_summary_matches_its_schema() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/demo");
    let out = tempfile::tempdir().unwrap();
    let o = run(
        demo.join("instructions"),
        demo.join("settlements"),
        out.path(),
    );
    let path = out.path().join("summary.json");
    assert_eq!(common::summary::summary_errors(&path), Vec::<String>::new());
    // Every name-to-count map is filled on the demo, so each enum was exercised.
    let c = &o.summary.counts;
    for t in [&c.by_status, &c.by_flag, &c.by_match] {
        assert!(!t.is_empty());
    }
    assert!(!c.rejects_by_reason.instructions.is_empty());
    assert!(!o.summary.settlement_delay_by_provider.is_empty());
}

#[test]
fn output_columns_agree() {
    // 059: no settlement without a currency; 084: some (v2), whose columns are nullable.
    output_columns_agree_on("059-flags-combined-alphabetical", false);
    output_columns_agree_on("084-v2-failed-without-amount-or-currency", true);
    output_columns_agree_on("102-v2-decision-match", false);
}

fn output_columns_agree_on(case: &str, bare_failed: bool) {
    let s = schema();
    let c = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/cases")
        .join(case);
    let out = tempfile::tempdir().unwrap();
    let decisions: Vec<PathBuf> = Some(c.join("decisions.csv"))
        .filter(|p| p.exists())
        .into_iter()
        .collect();
    let with_decisions = !decisions.is_empty();
    run_with(
        c.join("instructions.csv"),
        c.join("settlements.csv"),
        decisions,
        out.path(),
    );
    for file in [
        "instructions.parquet",
        "settlements.parquet",
        "rejects.parquet",
        "decisions.parquet",
    ] {
        if file == "decisions.parquet" && !with_decisions {
            assert!(!out.path().join(file).exists());
            continue;
        }
        let f = std::fs::File::open(out.path().join(file)).unwrap();
        let b = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f).unwrap();
        let fields = b.schema().fields().clone();
        let declared = s["outputs"][file].as_array().unwrap();
        assert_eq!(fields.len(), declared.len(), "{file}");
        for (f, d) in fields.iter().zip(declared) {
            assert_eq!(d["name"], f.name().as_str(), "{file}");
            let ty = format!("{}", f.data_type());
            assert!(
                ty.starts_with(d["type"].as_str().unwrap()),
                "{file}.{}: {ty}",
                f.name()
            );
            let nullable = d["nullable"].as_bool().unwrap()
                || (bare_failed && d.get("nullable_when").is_some());
            assert_eq!(nullable, f.is_nullable(), "{file}.{}", f.name());
        }
    }
}

#[test]
fn currency_table_is_the_shipped_file() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/iso4217.json");
    assert_eq!(
        std::fs::read_to_string(p).unwrap(),
        sverka_engine::currency::TABLE_JSON
    );
    let t = sverka_engine::currency::table();
    let v: Value = serde_json::from_str(sverka_engine::currency::TABLE_JSON).unwrap();
    for c in v["currencies"].as_array().unwrap() {
        let code = c["code"].as_str().unwrap();
        let idx = t.lookup(code).unwrap();
        assert_eq!(
            t.minor_units(idx) as u64,
            c["minor_units"].as_u64().unwrap()
        );
    }
}
