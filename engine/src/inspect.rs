//! `sverka inspect`: how sverka reads settlement files (or, asked, instruction files),
//! without reconciling anything. For each file: the format it is recognised as (and
//! version, or the profile that claims it), what it says about itself (statements,
//! control checks, notices) and its first rows as canonical rows of its side, with the file's own text of any value the
//! reader rewrote and the reject each row would get. A file that cannot be read gives
//! the message `reconcile` would stop with. It is how a treasury officer checks a new
//! provider profile.
//!
//! The whole file is read and validated (a control total or an encoding error can be
//! at its end); only the first rows are kept.

use std::path::PathBuf;

use serde::Serialize;

use crate::ingest::{self, RawBatch, RawCol};
use crate::schema::{Side, INSTRUCTION_FIELDS, SETTLEMENT_FIELDS};
use crate::{summary, validate, ProviderOptions, Result};

/// What `inspect` found in one file.
#[derive(Debug, Serialize)]
pub struct Inspected {
    pub path: String,
    /// The file as `summary.json` would list it (format, version, provider, rows,
    /// statements, control checks, notices); absent when the file cannot be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<summary::Input>,
    /// Why the file cannot be read, as `reconcile` would say it (exit 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The first rows, as the side's columns.
    pub rows: Vec<SampleRow>,
}

/// One row as sverka reads it.
#[derive(Debug, Serialize)]
pub struct SampleRow {
    /// The row's position in its file (CONTRACT 5, 7).
    pub row: u64,
    /// Each column's value, in the contract's order.
    pub values: serde_json::Map<String, serde_json::Value>,
    /// The file's own text of a value the reader rewrote (a decimal comma, a date form).
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub original: serde_json::Map<String, serde_json::Value>,
    /// The reject the row would get (section 2 or 7), none when it would be accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject: Option<RejectEcho>,
}

#[derive(Debug, Serialize)]
pub struct RejectEcho {
    pub column: Option<&'static str>,
    pub reason: &'static str,
    pub value: Option<String>,
}

/// Inspects the files of `side` that `paths` stand for (files, folders, `CODE=PATH` for
/// settlements), keeping at most `rows` rows of each.
pub fn inspect(
    paths: &[PathBuf],
    side: Side,
    opts: &ProviderOptions,
    rows: usize,
) -> Result<Vec<Inspected>> {
    let files = ingest::discover(side, paths)?;
    Ok(files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let sink = |b: RawBatch| sample(side, b, rows);
            match ingest::read_file(i as u32, f, opts, &sink) {
                Ok((samples, stats)) => Inspected {
                    path: f.path.display().to_string(),
                    input: Some(summary::input_of(f, &stats)),
                    error: None,
                    rows: samples.into_iter().flatten().collect(),
                },
                Err(e) => Inspected {
                    path: f.path.display().to_string(),
                    input: None,
                    error: Some(e.to_string()),
                    rows: Vec::new(),
                },
            }
        })
        .collect())
}

/// The rows of `b` among the file's first `keep`, with the rejects validation gives them.
fn sample(side: Side, b: RawBatch, keep: usize) -> Vec<SampleRow> {
    let fields: &[crate::schema::Field] = match side {
        Side::Settlements => &SETTLEMENT_FIELDS,
        _ => &INSTRUCTION_FIELDS,
    };
    let keep = keep as u64;
    if b.first_row > keep {
        return Vec::new();
    }
    let take = ((keep - b.first_row + 1) as usize).min(b.len);
    let mut out: Vec<SampleRow> = (0..take)
        .map(|i| SampleRow {
            row: b.first_row + i as u64,
            values: fields
                .iter()
                .zip(&b.cols)
                .map(|(f, c)| (f.name.to_string(), shown(c.as_ref(), i).into()))
                .collect(),
            original: b
                .originals
                .iter()
                .filter(|(k, _, _)| *k == i)
                .map(|(_, c, t)| (c.to_string(), t.clone().into()))
                .collect(),
            reject: None,
        })
        .collect();
    let chunk = validate::validate(side, b);
    for r in chunk.rejects {
        if let Some(s) = out.iter_mut().find(|s| s.row == r.row) {
            s.reject = Some(RejectEcho {
                column: r.column,
                reason: r.reason.as_str(),
                value: r.value,
            });
        }
    }
    out
}

/// A raw value as text (null: empty).
fn shown(c: Option<&RawCol>, i: usize) -> String {
    use arrow_array::Array;
    let Some(c) = c else { return String::new() };
    if ingest::is_null(c, i) {
        return String::new();
    }
    let array: &dyn Array = match c {
        RawCol::Text(a) => return a.value(i).to_string(),
        RawCol::Dict(k, v) => return v.value(k.value(i) as usize).to_string(),
        RawCol::Dec128(a, _) => a,
        RawCol::Dec256(a, _) => a,
        RawCol::Int(a) => a,
        RawCol::UInt(a) => a,
        RawCol::Date32(a) => a,
        RawCol::Date64(a) => a,
    };
    arrow_cast::display::array_value_to_string(array, i).unwrap_or_default()
}
