//! `schemas/` and the engine agree: input columns, output columns and types, statuses,
//! flags, match methods, reject reasons, and the currency table.

use std::path::Path;

use serde_json::Value;
use sverka_engine::classify::{flag, Status};
use sverka_engine::matching::Method;
use sverka_engine::schema::{Kind, Reason, Side};

fn schema() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/reconcile-v1.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
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

#[test]
fn vocabularies_agree() {
    let s = schema();
    assert_eq!(
        names(&s["statuses"]),
        Status::ALL.iter().map(|x| x.as_str()).collect::<Vec<_>>()
    );
    assert_eq!(names(&s["instruction_flags"]), flag::NAMES.to_vec());
    assert_eq!(
        names(&s["match_methods"]),
        [Method::Reference, Method::Fallback, Method::None]
            .map(|m| m.as_str())
            .to_vec()
    );
    assert_eq!(
        names(&s["reject_reasons"]),
        Reason::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>()
    );
}

#[test]
fn output_columns_agree() {
    let s = schema();
    let c = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/cases/059-flags-combined-alphabetical");
    let out = tempfile::tempdir().unwrap();
    sverka_engine::reconcile(
        &sverka_engine::ReconcileConfig {
            instructions: vec![c.join("instructions.csv")],
            settlements: vec![c.join("settlements.csv")],
            out: out.path().to_path_buf(),
            csv: false,
            settings: Default::default(),
        },
        &sverka_engine::pipeline::Silent,
    )
    .unwrap();
    for file in [
        "instructions.parquet",
        "settlements.parquet",
        "rejects.parquet",
    ] {
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
            assert_eq!(d["nullable"], f.is_nullable(), "{file}.{}", f.name());
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
