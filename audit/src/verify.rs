//! `sverka verify`: an auditor's independent check of a results folder.
//!
//! 1. `manifest.json`: its own hash, then every listed output's size, SHA-256 and rows
//!    (and, for disburse folders, per-currency `control_sums` when listed);
//! 2. with `--inputs`: every given input file's SHA-256 against the manifest;
//! 3. for reconcile folders, every count and total of `summary.json` re-derived from the
//!    Parquet rows, the row-level arithmetic (paid, difference, settlement count, status)
//!    re-derived from the matched settlements, and conservation (CONTRACT.md section 5):
//!    in counts, and row by row through the lineage columns (contract 2: every input
//!    row is exactly one output row, settlement formats as the inputs say), with the
//!    optional values of a FAILED settlement and the warnings of failed control checks.
//!
//! Nothing here calls the engine's `totals` or `verify`: the Parquet files are read with
//! the parquet/arrow crates and summed by this module's own code. A discrepancy names the
//! file, the field, the expected value (the manifest's hash; the figure re-derived from
//! the rows) and the value found (the file's hash; the figure in summary.json).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sverka_engine::{Error, Result};

use crate::manifest::{self, InputEntry, Manifest, OutputEntry};
use crate::read::{decimal, Pq, ReadResult};
use crate::text::Text;
use crate::{fmt_minor, hash_file, minor_units, MANIFEST};

mod reconcile;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discrepancy {
    pub file: String,
    pub field: String,
    pub expected: String,
    pub found: String,
}

#[derive(Debug, Default)]
pub struct VerifyReport {
    pub dir: PathBuf,
    pub kind: String,
    /// What was checked, one line each.
    pub checked: Vec<String>,
    pub discrepancies: Vec<Discrepancy>,
    pub warnings: Vec<String>,
}

/// Row-level discrepancies listed per kind before the rest are only counted.
const ROW_LIST: usize = 20;

impl VerifyReport {
    fn diff(
        &mut self,
        file: &str,
        field: impl Into<String>,
        expected: impl ToString,
        found: impl ToString,
    ) {
        self.discrepancies.push(Discrepancy {
            file: file.to_string(),
            field: field.into(),
            expected: expected.to_string(),
            found: found.to_string(),
        });
    }

    fn same(&mut self, file: &str, field: &str, expected: &Value, found: &Value) {
        if expected != found {
            self.diff(file, field, show(expected), show(found));
        }
    }

    pub fn text(&self) -> String {
        let mut s = format!("sverka verify {} ({})\n", self.dir.display(), self.kind);
        for c in &self.checked {
            s.push_str(&format!("  checked: {c}\n"));
        }
        for w in &self.warnings {
            s.push_str(&format!("  warning: {w}\n"));
        }
        if self.discrepancies.is_empty() {
            s.push_str("ALL HOLDS: every hash matches and every figure re-derives\n");
        } else {
            s.push_str(&format!("{} DISCREPANCIES\n", self.discrepancies.len()));
            for d in &self.discrepancies {
                s.push_str(&format!(
                    "  {}: {}: expected {}, found {}\n",
                    d.file, d.field, d.expected, d.found
                ));
            }
        }
        s
    }

    pub fn to_json(&self) -> Value {
        json!({
            "dir": self.dir.display().to_string(),
            "kind": self.kind,
            "ok": self.discrepancies.is_empty(),
            "checked": self.checked,
            "warnings": self.warnings,
            "discrepancies": self.discrepancies.iter().map(|d| json!({
                "file": d.file, "field": d.field, "expected": d.expected, "found": d.found,
            })).collect::<Vec<_>>(),
        })
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "(none)".into(),
        other => other.to_string(),
    }
}

fn unusable(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::input(
        path,
        format!("{what}; give an output folder of `sverka reconcile` or `sverka disburse`"),
    )
}

/// Checks the folder `dir`; `inputs` are files or folders whose hashes must match the
/// manifest. `Err` (exit 2) only when the folder cannot be checked at all.
pub fn verify(dir: &Path, inputs: &[PathBuf]) -> Result<VerifyReport> {
    if !dir.is_dir() {
        return Err(unusable(dir, "not a folder"));
    }
    let mpath = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&mpath).map_err(|e| unusable(&mpath, e))?;
    let m: Value = serde_json::from_str(&text)
        .map_err(|e| unusable(&mpath, format!("not valid JSON ({e})")))?;
    let Value::Object(mut m) = m else {
        return Err(unusable(&mpath, "not a JSON object"));
    };
    if m.get("manifest_version") != Some(&json!(1)) {
        return Err(unusable(
            &mpath,
            format!(
                "manifest_version {} is not 1",
                show(m.get("manifest_version").unwrap_or(&Value::Null))
            ),
        ));
    }
    let mut r = VerifyReport {
        dir: dir.to_path_buf(),
        kind: m.get("kind").map(show).unwrap_or_default(),
        ..Default::default()
    };
    // 1. The manifest's own hash, over the document as written.
    let recorded = m.remove("manifest_sha256");
    let computed = manifest::hash(&m);
    match recorded {
        Some(Value::String(h)) if h == computed => {}
        Some(v) => r.diff(MANIFEST, "manifest_sha256", &computed, show(&v)),
        None => r.diff(MANIFEST, "manifest_sha256", &computed, "(none)"),
    }
    r.checked.push("manifest.json hash".into());
    // A manifest that is not one (a key missing, a value of the wrong type) cannot list
    // what to check: that is the discrepancy.
    let m = match serde_json::from_str::<Manifest>(&text) {
        Ok(m) => m,
        Err(e) => {
            r.diff(
                MANIFEST,
                "contents",
                "a manifest as schemas/manifest.schema.json describes",
                format!("{} does not parse: {e}", mpath.display()),
            );
            return Ok(r);
        }
    };
    let outputs = &m.outputs;
    // 2. Every output.
    let mut listed = BTreeSet::new();
    for o in outputs {
        check_output(&mut r, dir, o, &mut listed);
    }
    r.checked
        .push(format!("{} outputs: size, SHA-256, rows", outputs.len()));
    if let Ok(rd) = std::fs::read_dir(dir) {
        let mut extra: Vec<String> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != MANIFEST && !n.starts_with('.') && !listed.contains(n))
            .collect();
        extra.sort();
        for n in extra {
            r.warnings.push(format!(
                "{n} is in the folder but not in manifest.json (not from this run)"
            ));
        }
    }
    // 3. Inputs.
    if !inputs.is_empty() {
        check_inputs(&mut r, &m, inputs)?;
    }
    // 4. Figures.
    if r.kind == "reconcile" {
        if let Err(e) = reconcile::check_reconcile(&mut r, dir, &m) {
            r.diff(
                "(outputs)",
                "readable",
                "Parquet outputs with the documented columns",
                e,
            );
        }
    } else if r.kind != "disburse" {
        let kind = r.kind.clone();
        r.diff(MANIFEST, "kind", "reconcile or disburse", kind);
    }
    Ok(r)
}

fn check_output(r: &mut VerifyReport, dir: &Path, o: &OutputEntry, listed: &mut BTreeSet<String>) {
    let name = o.name.as_str();
    let safe = !name.is_empty()
        && !name.contains('/')
        && !name.contains('\\')
        && name != ".."
        && name != "."
        && name != MANIFEST;
    if !safe {
        r.diff(
            MANIFEST,
            "outputs[].name",
            "a file name in the folder",
            name,
        );
        return;
    }
    listed.insert(name.to_string());
    let path = dir.join(name);
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(m) if m.is_file() => m,
        Ok(_) => return r.diff(name, "file", "a regular file", "not a regular file"),
        Err(_) => return r.diff(name, "file", "present", "missing"),
    };
    let _ = meta;
    match hash_file(&path) {
        Ok((size, sha)) => {
            r.same(name, "size", &json!(o.size), &json!(size));
            r.same(name, "sha256", &json!(o.sha256), &json!(sha));
        }
        Err(e) => return r.diff(name, "file", "readable", e),
    }
    let rows = count_rows(&path);
    let want = json!(o.rows);
    match (o.rows, rows) {
        (None, _) if !is_row_file(name) => {}
        (_, Ok(Some(n))) => r.same(name, "rows", &want, &json!(n)),
        (_, Ok(None)) => r.same(name, "rows", &want, &Value::Null),
        (_, Err(e)) => r.diff(name, "rows", show(&want), format!("unreadable: {e}")),
    }
    if let Some(sums) = &o.control_sums {
        match control_sums(&path) {
            Ok(found) => {
                for code in sums.keys().chain(found.keys()).collect::<BTreeSet<_>>() {
                    let want = sums.get(code).map_or(Value::Null, |v| json!(v));
                    let got = found.get(code).map_or(Value::Null, |v| json!(v));
                    r.same(name, &format!("control_sums.{code}"), &want, &got);
                }
            }
            Err(e) => r.diff(name, "control_sums", "amount and currency columns", e),
        }
    }
}

fn is_row_file(name: &str) -> bool {
    name.ends_with(".parquet") || name.ends_with(".csv") || name.ends_with(".xml")
}

/// A pain.001 payment file read back: its transactions (`CdtTrfTxInf`) and the sum of
/// their `InstdAmt` per `Ccy`, in minor units. The group header's `NbOfTxs` must equal the
/// transactions found (a file cut or edited by hand is caught here too).
fn pain001(path: &Path) -> ReadResult<(u64, BTreeMap<String, i128>)> {
    use quick_xml::events::Event;
    let mut rd = quick_xml::Reader::from_file(path).map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let (mut txs, mut sums) = (0u64, BTreeMap::<String, i128>::new());
    let (mut in_amt, mut ccy, mut in_grp_nb) = (false, String::new(), false);
    let mut header_nb: Option<u64> = None;
    let mut path_stack: Vec<Vec<u8>> = Vec::new();
    loop {
        match rd.read_event_into(&mut buf).map_err(|e| e.to_string())? {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_vec();
                in_grp_nb = name == b"NbOfTxs" && path_stack.last().is_some_and(|p| p == b"GrpHdr");
                if name == b"CdtTrfTxInf" {
                    txs += 1;
                }
                if name == b"InstdAmt" {
                    let a = e
                        .try_get_attribute("Ccy")
                        .map_err(|e| e.to_string())?
                        .ok_or("InstdAmt without Ccy")?;
                    ccy = String::from_utf8_lossy(&a.value).into_owned();
                    in_amt = true;
                }
                path_stack.push(name);
            }
            Event::Text(t) => {
                let text = t.decode().map_err(|e| e.to_string())?;
                if in_amt {
                    let v = parse_decimal(text.trim(), &ccy)
                        .ok_or_else(|| format!("InstdAmt {text:?} is not exact {ccy}"))?;
                    *sums.entry(ccy.clone()).or_default() += v;
                } else if in_grp_nb {
                    header_nb = text.trim().parse().ok();
                }
            }
            Event::End(_) => {
                path_stack.pop();
                in_amt = false;
                in_grp_nb = false;
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if header_nb != Some(txs) {
        return Err(format!(
            "group header NbOfTxs {header_nb:?} but {txs} CdtTrfTxInf transactions"
        ));
    }
    Ok((txs, sums))
}

/// Data rows of a Parquet file (footer) or a CSV file (records after the header).
fn count_rows(path: &Path) -> ReadResult<Option<u64>> {
    let name = path.to_string_lossy();
    if name.ends_with(".parquet") {
        Ok(Some(Pq::open(path, &[])?.rows()))
    } else if name.ends_with(".csv") {
        let mut rd = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_path(path)
            .map_err(|e| e.to_string())?;
        let mut rec = csv::ByteRecord::new();
        let mut n = 0u64;
        while rd.read_byte_record(&mut rec).map_err(|e| e.to_string())? {
            n += 1;
        }
        Ok(Some(n))
    } else if name.ends_with(".xml") {
        Ok(Some(pain001(path)?.0))
    } else {
        Ok(None)
    }
}

/// Per-currency sums of the `amount` column of a Parquet or CSV file, as decimal text.
fn control_sums(path: &Path) -> ReadResult<BTreeMap<String, String>> {
    let mut minor: BTreeMap<String, i128> = BTreeMap::new();
    let name = path.to_string_lossy();
    if name.ends_with(".parquet") {
        let pq = Pq::open(path, &["currency"])?;
        let sums = pq.scan(
            &["amount", "currency"],
            BTreeMap::<String, i128>::new,
            |acc, b, _| {
                let (v, scale) = decimal(b, "amount")?;
                let c = Text::of(b, "currency")?;
                for (i, x) in v.iter().enumerate() {
                    let code = c.value(i);
                    let d = to_minor(*x, scale, code)?;
                    *acc.entry(code.to_string()).or_default() += d;
                }
                Ok(())
            },
            |mut a, b| {
                for (k, v) in b {
                    *a.entry(k).or_default() += v;
                }
                Ok(a)
            },
        )?;
        minor = sums;
    } else if name.ends_with(".csv") {
        let mut rd = csv::Reader::from_path(path).map_err(|e| e.to_string())?;
        let h = rd.headers().map_err(|e| e.to_string())?.clone();
        let ai = h
            .iter()
            .position(|x| x == "amount")
            .ok_or("no amount column")?;
        let ci = h
            .iter()
            .position(|x| x == "currency")
            .ok_or("no currency column")?;
        for rec in rd.records() {
            let rec = rec.map_err(|e| e.to_string())?;
            let code = &rec[ci];
            let v = parse_decimal(&rec[ai], code)
                .ok_or_else(|| format!("amount {:?} is not exact {code}", &rec[ai]))?;
            *minor.entry(code.to_string()).or_default() += v;
        }
    } else if name.ends_with(".xml") {
        minor = pain001(path)?.1;
    } else {
        return Err("control sums are only checked in Parquet, CSV and pain.001 XML files".into());
    }
    minor
        .into_iter()
        .map(|(k, v)| {
            let m = minor_units(&k).ok_or_else(|| format!("unknown currency {k:?}"))?;
            Ok((k, fmt_minor(v, m)))
        })
        .collect()
}

/// Decimal text with exactly the currency's minor units, as minor units.
fn parse_decimal(s: &str, code: &str) -> Option<i128> {
    let minor = minor_units(code)? as usize;
    let (neg, t) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if frac.len() != minor
        || int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let v: i128 = format!("{int}{frac}").parse().ok()?;
    Some(if neg { -v } else { v })
}

/// A Decimal128 value of scale `scale` as minor units of `code`; an error when the
/// scale cannot hold `code`'s minor units or digits would be lost.
pub(crate) fn to_minor(v: i128, scale: i8, code: &str) -> ReadResult<i128> {
    let m = minor_units(code).ok_or_else(|| format!("unknown currency {code:?}"))?;
    let shift = scale as i32 - m as i32;
    if shift < 0 {
        return Err(format!(
            "decimal scale {scale} is below {code}'s minor units"
        ));
    }
    let d = 10i128.pow(shift as u32);
    if v % d != 0 {
        return Err(format!(
            "amount {v} (scale {scale}) has digits beyond {code}'s minor units"
        ));
    }
    Ok(v / d)
}

/// Files of the given paths, folders expanded to their .csv/.parquet/.arrow files by name.
fn input_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| Error::input(p, e.to_string()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.is_file()
                        && matches!(
                            f.extension().and_then(|e| e.to_str()),
                            Some("csv" | "parquet" | "arrow")
                        )
                })
                .collect();
            v.sort();
            out.extend(v);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(Error::input(p, "no such file or folder (--inputs)"));
        }
    }
    Ok(out)
}

fn check_inputs(r: &mut VerifyReport, m: &Manifest, given: &[PathBuf]) -> Result<()> {
    let listed: &[InputEntry] = &m.inputs;
    let files = input_files(given)?;
    let mut matched = BTreeSet::new();
    for f in &files {
        let (size, sha) = hash_file(f).map_err(|e| Error::input(f, e.to_string()))?;
        let shown = f.display().to_string();
        if let Some(k) = listed.iter().position(|i| i.sha256 == sha) {
            matched.insert(k);
            r.same(&shown, "size", &json!(listed[k].size), &json!(size));
            continue;
        }
        // Not in the manifest: name the entry it should have matched when the path says.
        match listed.iter().position(|i| i.path == shown) {
            Some(k) => {
                matched.insert(k);
                r.diff(&shown, "sha256", &listed[k].sha256, &sha);
            }
            None => r.diff(&shown, "sha256", "one of the manifest's inputs", &sha),
        }
    }
    for (k, i) in listed.iter().enumerate() {
        if !matched.contains(&k) {
            r.warnings.push(format!(
                "input {} was not given to --inputs (not checked)",
                i.path
            ));
        }
    }
    r.checked
        .push(format!("{} input files against manifest.json", files.len()));
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn exact_decimals() {
        assert_eq!(super::parse_decimal("900000.00", "UZS"), Some(90_000_000));
        assert_eq!(super::parse_decimal("1.5", "UZS"), None);
        assert_eq!(super::to_minor(12_300, 3, "UZS"), Ok(1_230));
        assert!(super::to_minor(12_301, 3, "UZS").is_err());
    }
}
