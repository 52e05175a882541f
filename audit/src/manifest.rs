//! `manifest.json` (format v1, docs/AUDIT.md): every input and output with size, rows and
//! SHA-256, the settings, the engine version, and `manifest_sha256` over the rest.
//!
//! The hash is over the compact serialization (serde_json, keys in document order) of the
//! manifest object without its `manifest_sha256` key; the file is that object with the key
//! appended, pretty-printed, with a trailing newline.

use serde_json::{json, Map, Value};
use sha2::Digest;
use sverka_engine::outset::Pending;
use sverka_engine::{Error, Result, VERSION};

pub const VERSION_1: u64 = 1;

/// SHA-256 (hex) of the compact serialization of `m` (which must not hold the hash key).
pub fn hash(m: &Map<String, Value>) -> String {
    let compact = serde_json::to_vec(m).expect("a JSON map serializes");
    hex::encode(sha2::Sha256::digest(&compact))
}

/// The bytes of `manifest.json` for `m`: the hash appended, pretty-printed, newline.
pub fn seal(m: Map<String, Value>) -> Result<Vec<u8>> {
    let mut m = m;
    if m.contains_key("manifest_sha256") {
        return Err(Error::Internal("manifest already sealed".into()));
    }
    let h = hash(&m);
    m.insert("manifest_sha256".into(), Value::String(h));
    let mut text = serde_json::to_string_pretty(&Value::Object(m))
        .map_err(|e| Error::Internal(format!("manifest: {e}")))?;
    text.push('\n');
    Ok(text.into_bytes())
}

/// One output entry from a written (pending) file.
pub fn output_entry(p: &Pending) -> Result<Value> {
    let name = p
        .dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| Error::Internal(format!("{}: no file name", p.dest.display())))?;
    let d = p
        .digest
        .as_ref()
        .ok_or_else(|| Error::Internal(format!("{name}: written without a digest")))?;
    Ok(json!({"name": name, "size": d.size, "rows": p.rows, "sha256": d.sha256}))
}

/// The manifest of a reconciliation: settings and inputs as `summary.json` records them
/// (input `bytes` as `size`), every written output sorted by name.
pub fn for_reconcile(summary: &Value, outputs: &[&Pending]) -> Result<Map<String, Value>> {
    let inputs: Vec<Value> = summary["inputs"]
        .as_array()
        .ok_or_else(|| Error::Internal("summary.json has no inputs".into()))?
        .iter()
        .map(|i| {
            json!({"side": i["side"], "path": i["path"], "size": i["bytes"],
                   "rows": i["rows"], "sha256": i["sha256"]})
        })
        .collect();
    let mut outs = outputs
        .iter()
        .map(|p| output_entry(p))
        .collect::<Result<Vec<Value>>>()?;
    outs.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    Ok(build(
        "reconcile",
        summary["settings"].clone(),
        inputs,
        outs,
    ))
}

/// A manifest object in the v1 key order, without its hash.
pub fn build(
    kind: &str,
    settings: Value,
    inputs: Vec<Value>,
    outputs: Vec<Value>,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("manifest_version".into(), json!(VERSION_1));
    m.insert("kind".into(), json!(kind));
    m.insert(
        "engine".into(),
        json!({"name": "sverka", "version": VERSION}),
    );
    m.insert("settings".into(), settings);
    m.insert("inputs".into(), Value::Array(inputs));
    m.insert("outputs".into(), Value::Array(outputs));
    m
}
