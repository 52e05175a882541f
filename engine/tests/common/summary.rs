//! Every `summary.json` a test writes is checked against `schemas/summary.schema.json`
//! and read back into `sverka_engine::Summary` (which must write the same bytes again).
//! Shared by the engine's and the CLI's tests.

use std::path::Path;
use std::sync::OnceLock;

use sverka_engine::Summary;

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/summary.schema.json");
        let schema = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        jsonschema::draft202012::new(&schema).expect("a valid draft 2020-12 schema")
    })
}

/// What is wrong with the summary.json text at `path` (nothing: empty).
pub fn summary_errors(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut errs: Vec<String> = validator()
        .iter_errors(&value)
        .map(|e| format!("{}: {} at {}", path.display(), e, e.instance_path()))
        .collect();
    match serde_json::from_str::<Summary>(&text) {
        Ok(s) if s.to_text() == text => {}
        Ok(_) => errs.push(format!("{}: read back, writes other bytes", path.display())),
        Err(e) => errs.push(format!("{}: not a Summary: {e}", path.display())),
    }
    errs
}
