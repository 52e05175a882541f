//! `manifest.json` (format v1, docs/AUDIT.md, `schemas/manifest.schema.json`) as one
//! serde type: every input and output with size, rows and SHA-256, the settings, the
//! engine version, and `manifest_sha256` over the rest.
//!
//! The hash is over the compact serialization (serde_json, keys in document order) of the
//! manifest object without its `manifest_sha256` key; the file is that object with the key
//! appended, pretty-printed, with a trailing newline. Field order is the file's key order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Digest;
use sverka_engine::outset::Pending;
use sverka_engine::{Error, Result, Summary, VERSION};

pub const VERSION_1: u64 = 1;

/// Unknown keys are refused: the hash covers the whole document, so must the type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub manifest_version: u64,
    /// `reconcile` or `disburse`.
    pub kind: String,
    pub engine: ManifestEngine,
    /// The run's settings as its `summary.json` records them (their shape is the kind's).
    pub settings: Value,
    pub inputs: Vec<InputEntry>,
    /// Sorted by name.
    pub outputs: Vec<OutputEntry>,
    /// Absent until [`seal`]ed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEngine {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputEntry {
    pub side: String,
    pub path: String,
    pub size: u64,
    /// Null for a file without rows (disburse's providers file).
    pub rows: Option<u64>,
    pub sha256: String,
}

/// One written file; the last four keys only on disburse's payment files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputEntry {
    pub name: String,
    pub size: u64,
    /// Null for a file without rows (`summary.json`, `report.html`).
    pub rows: Option<u64>,
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Per currency code, the sum of the file's amounts as exact decimal text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_sums: Option<BTreeMap<String, String>>,
}

/// SHA-256 (hex) of the compact serialization of `m` (which must not hold the hash key):
/// a manifest as read, keys in document order.
pub fn hash(m: &Map<String, Value>) -> String {
    let compact = serde_json::to_vec(m).expect("a JSON map serializes");
    hex::encode(sha2::Sha256::digest(&compact))
}

/// The bytes of `manifest.json` for `m`: the hash appended, pretty-printed, newline.
pub fn seal(m: Manifest) -> Result<Vec<u8>> {
    sealed(m).map(|(_, bytes)| bytes)
}

/// [`seal`], and the hash (disburse's ledger records it).
pub fn sealed(m: Manifest) -> Result<(String, Vec<u8>)> {
    let mut m = m;
    if m.manifest_sha256.is_some() {
        return Err(Error::Internal("manifest already sealed".into()));
    }
    let internal = |e: serde_json::Error| Error::Internal(format!("manifest: {e}"));
    let compact = serde_json::to_vec(&m).map_err(internal)?;
    let hash = hex::encode(sha2::Sha256::digest(&compact));
    m.manifest_sha256 = Some(hash.clone());
    let mut text = serde_json::to_string_pretty(&m).map_err(internal)?;
    text.push('\n');
    Ok((hash, text.into_bytes()))
}

/// One output entry from a written (pending) file.
pub fn output_entry(p: &Pending) -> Result<OutputEntry> {
    let name = p
        .dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| Error::Internal(format!("{}: no file name", p.dest.display())))?;
    let d = p
        .digest
        .as_ref()
        .ok_or_else(|| Error::Internal(format!("{name}: written without a digest")))?;
    Ok(OutputEntry {
        name,
        size: d.size,
        rows: p.rows,
        sha256: d.sha256.clone(),
        provider: None,
        format: None,
        currency: None,
        control_sums: None,
    })
}

/// The manifest of a reconciliation: settings and inputs as `summary.json` records them
/// (input `bytes` as `size`), every written output sorted by name.
pub fn for_reconcile(summary: &Summary, outputs: &[&Pending]) -> Result<Manifest> {
    let inputs = summary
        .inputs
        .iter()
        .map(|i| InputEntry {
            side: i.side.clone(),
            path: i.path.clone(),
            size: i.bytes,
            rows: Some(i.rows),
            sha256: i.sha256.clone(),
        })
        .collect();
    let mut outs = outputs
        .iter()
        .map(|p| output_entry(p))
        .collect::<Result<Vec<OutputEntry>>>()?;
    outs.sort_by(|a, b| a.name.cmp(&b.name));
    let settings =
        serde_json::to_value(&summary.settings).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(build("reconcile", settings, inputs, outs))
}

/// A manifest in the v1 key order, without its hash.
pub fn build(
    kind: &str,
    settings: Value,
    inputs: Vec<InputEntry>,
    outputs: Vec<OutputEntry>,
) -> Manifest {
    Manifest {
        manifest_version: VERSION_1,
        kind: kind.to_string(),
        engine: ManifestEngine {
            name: "sverka".into(),
            version: VERSION.into(),
        },
        settings,
        inputs,
        outputs,
        manifest_sha256: None,
    }
}
