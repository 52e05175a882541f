//! `sverka verify`: an auditor's independent check of a results folder.
//!
//! 1. `manifest.json`: its own hash, then every listed output's size, SHA-256 and rows
//!    (and, for disburse folders, per-currency `control_sums` when listed);
//! 2. with `--inputs`: every given input file's SHA-256 against the manifest;
//! 3. for reconcile folders, every count and total of `summary.json` re-derived from the
//!    Parquet rows, the row-level arithmetic (paid, difference, settlement count, status)
//!    re-derived from the matched settlements, and conservation (CONTRACT.md section 5).
//!
//! Nothing here calls the engine's `totals` or `verify`: the Parquet files are read with
//! the parquet/arrow crates and summed by this module's own code. A discrepancy names the
//! file, the field, the expected value (the manifest's hash; the figure re-derived from
//! the rows) and the value found (the file's hash; the figure in summary.json).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use hashbrown::HashMap;
use serde_json::{json, Map, Value};
use sverka_engine::{Error, Result};

use crate::read::{date32, decimal, int64, Pq, ReadResult, Text};
use crate::{fmt_minor, hash_file, manifest, minor_units, MANIFEST};

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
    // 1. The manifest's own hash.
    let recorded = m.remove("manifest_sha256");
    let computed = manifest::hash(&m);
    match recorded {
        Some(Value::String(h)) if h == computed => {}
        Some(v) => r.diff(MANIFEST, "manifest_sha256", &computed, show(&v)),
        None => r.diff(MANIFEST, "manifest_sha256", &computed, "(none)"),
    }
    r.checked.push("manifest.json hash".into());
    let outputs = m
        .get("outputs")
        .and_then(Value::as_array)
        .ok_or_else(|| unusable(&mpath, "no \"outputs\" list"))?
        .clone();
    // 2. Every output.
    let mut listed = BTreeSet::new();
    for o in &outputs {
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
        if let Err(e) = check_reconcile(&mut r, dir, &m) {
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

fn check_output(r: &mut VerifyReport, dir: &Path, o: &Value, listed: &mut BTreeSet<String>) {
    let name = o["name"].as_str().unwrap_or("");
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
            r.same(name, "size", &o["size"], &json!(size));
            r.same(name, "sha256", &o["sha256"], &json!(sha));
        }
        Err(e) => return r.diff(name, "file", "readable", e),
    }
    let rows = count_rows(&path);
    match (&o["rows"], rows) {
        (Value::Null, _) if !is_row_file(name) => {}
        (want, Ok(Some(n))) => r.same(name, "rows", want, &json!(n)),
        (want, Ok(None)) => r.same(name, "rows", want, &Value::Null),
        (_, Err(e)) => r.diff(name, "rows", show(&o["rows"]), format!("unreadable: {e}")),
    }
    if let Some(sums) = o.get("control_sums").and_then(Value::as_object) {
        match control_sums(&path) {
            Ok(found) => {
                for code in sums.keys().chain(found.keys()).collect::<BTreeSet<_>>() {
                    let want = sums.get(code).cloned().unwrap_or(Value::Null);
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

fn to_minor(v: i128, scale: i8, code: &str) -> ReadResult<i128> {
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

fn check_inputs(r: &mut VerifyReport, m: &Map<String, Value>, given: &[PathBuf]) -> Result<()> {
    let listed = m
        .get("inputs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let files = input_files(given)?;
    let mut matched = BTreeSet::new();
    for f in &files {
        let (size, sha) = hash_file(f).map_err(|e| Error::input(f, e.to_string()))?;
        let shown = f.display().to_string();
        if let Some(k) = listed.iter().position(|i| i["sha256"] == json!(sha)) {
            matched.insert(k);
            r.same(&shown, "size", &listed[k]["size"], &json!(size));
            continue;
        }
        // Not in the manifest: name the entry it should have matched when the path says.
        match listed.iter().position(|i| i["path"] == json!(shown)) {
            Some(k) => {
                matched.insert(k);
                r.diff(&shown, "sha256", show(&listed[k]["sha256"]), &sha);
            }
            None => r.diff(&shown, "sha256", "one of the manifest's inputs", &sha),
        }
    }
    for (k, i) in listed.iter().enumerate() {
        if !matched.contains(&k) {
            r.warnings.push(format!(
                "input {} was not given to --inputs (not checked)",
                show(&i["path"])
            ));
        }
    }
    r.checked
        .push(format!("{} input files against manifest.json", files.len()));
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Re-derivation of summary.json from the row outputs.

/// The twelve per-currency figures (CONTRACT.md section 5, plus the engine's extra counts).
#[derive(Debug, Default, Clone, Copy)]
struct Fig {
    instructed_count: u64,
    instructed_amount: i128,
    settled_count: u64,
    settled_amount: i128,
    returned_count: u64,
    returned_amount: i128,
    failed_count: u64,
    fees: i128,
    unpaid_count: u64,
    unpaid_amount: i128,
    unexpected_count: u64,
    unexpected_amount: i128,
}

impl Fig {
    fn json(&self, code: &str) -> Value {
        let m = minor_units(code).unwrap_or(0);
        let a = |v: i128| fmt_minor(v, m);
        json!({
            "instructed_count": self.instructed_count, "instructed_amount": a(self.instructed_amount),
            "settled_count": self.settled_count, "settled_amount": a(self.settled_amount),
            "returned_count": self.returned_count, "returned_amount": a(self.returned_amount),
            "failed_count": self.failed_count, "fees": a(self.fees),
            "unpaid_count": self.unpaid_count, "unpaid_amount": a(self.unpaid_amount),
            "unexpected_count": self.unexpected_count, "unexpected_amount": a(self.unexpected_amount),
        })
    }
}

type Figs = BTreeMap<String, Fig>;

/// One accepted instruction, as far as the re-derivation needs it.
struct Ins {
    program: u32,
    ccy: String,
    amount: i128,
    due: i32,
    status: String,
    paid: i128,
    count: i64,
}

#[derive(Default)]
struct PerIns {
    n: u64,
    n_settled: u64,
    n_returned: u64,
    other_ccy: bool,
    paid: i128,
}

fn batches(path: &Path, columns: &[&str]) -> ReadResult<Vec<RecordBatch>> {
    let pq = Pq::open(path, &[])?;
    pq.scan(
        columns,
        Vec::new,
        |acc, b, _| {
            acc.push(b.clone());
            Ok(())
        },
        |mut a, b| {
            a.extend(b);
            Ok(a)
        },
    )
}

fn check_reconcile(r: &mut VerifyReport, dir: &Path, m: &Map<String, Value>) -> ReadResult<()> {
    const S: &str = "summary.json";
    let s: Value =
        match std::fs::read_to_string(dir.join(S)).map(|t| serde_json::from_str::<Value>(&t)) {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => return Err(format!("summary.json: not valid JSON ({e})")),
            Err(e) => return Err(format!("summary.json: {e}")),
        };
    // Identity: the manifest and the summary describe the same run.
    r.same(S, "settings", &m["settings"], &s["settings"]);
    r.same(
        S,
        "engine.version",
        &m["engine"]["version"],
        &s["engine"]["version"],
    );
    let m_inputs: Vec<Value> = m["inputs"].as_array().cloned().unwrap_or_default();
    let s_inputs: Vec<Value> = s["inputs"].as_array().cloned().unwrap_or_default();
    if m_inputs.len() != s_inputs.len() {
        r.diff(S, "inputs (count)", m_inputs.len(), s_inputs.len());
    }
    for (k, (a, b)) in m_inputs.iter().zip(&s_inputs).enumerate() {
        for (mk, sk) in [
            ("path", "path"),
            ("rows", "rows"),
            ("sha256", "sha256"),
            ("size", "bytes"),
            ("side", "side"),
        ] {
            r.same(S, &format!("inputs[{k}].{sk}"), &a[mk], &b[sk]);
        }
    }

    // Instructions.
    let ib = batches(
        &dir.join("instructions.parquet"),
        &[
            "instruction_id",
            "program",
            "provider",
            "amount",
            "currency",
            "due_date",
            "status",
            "paid_amount",
            "difference",
            "settlement_count",
            "flags",
        ],
    )?;
    let mut ins: Vec<Ins> = Vec::new();
    let mut id_of: HashMap<String, u32> = HashMap::new();
    let mut programs: Vec<String> = Vec::new();
    let mut program_ix: HashMap<String, u32> = HashMap::new();
    let mut by_ccy = Figs::new();
    let mut by_provider: BTreeMap<String, Figs> = BTreeMap::new();
    let mut by_program: BTreeMap<String, Figs> = BTreeMap::new();
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_flag: BTreeMap<String, u64> = BTreeMap::new();
    let mut row_issues: BTreeMap<&'static str, (u64, Vec<Discrepancy>)> = BTreeMap::new();
    let mut issue = |kind: &'static str, d: Discrepancy| {
        let e = row_issues.entry(kind).or_default();
        e.0 += 1;
        if e.1.len() < ROW_LIST {
            e.1.push(d);
        }
    };
    const IF: &str = "instructions.parquet";
    for b in &ib {
        let id = Text::of(b, "instruction_id")?;
        let prog = Text::of(b, "program")?;
        let prov = Text::of(b, "provider")?;
        let ccy = Text::of(b, "currency")?;
        let st = Text::of(b, "status")?;
        let fl = Text::of(b, "flags")?;
        let (amt, sc) = decimal(b, "amount")?;
        let (paid, sc_p) = decimal(b, "paid_amount")?;
        let (diff, sc_d) = decimal(b, "difference")?;
        let due = date32(b, "due_date")?;
        let cnt = int64(b, "settlement_count")?;
        for i in 0..b.num_rows() {
            let row = ins.len() + 1;
            let code = ccy.value(i);
            let a = to_minor(amt[i], sc, code)?;
            let p = to_minor(paid[i], sc_p, code)?;
            let d = to_minor(diff[i], sc_d, code)?;
            if d != p - a {
                issue(
                    "difference",
                    Discrepancy {
                        file: IF.into(),
                        field: format!("row {row} difference"),
                        expected: fmt_minor(p - a, minor_units(code).unwrap_or(0)),
                        found: fmt_minor(d, minor_units(code).unwrap_or(0)),
                    },
                );
            }
            let status = st.value(i).to_string();
            *by_status.entry(status.clone()).or_default() += 1;
            for f in fl.value(i).split(';').filter(|f| !f.is_empty()) {
                *by_flag.entry(f.to_string()).or_default() += 1;
            }
            let add = |f: &mut Fig| {
                f.instructed_count += 1;
                f.instructed_amount += a;
                if status == "UNPAID" {
                    f.unpaid_count += 1;
                    f.unpaid_amount += a;
                }
            };
            add(by_ccy.entry(code.to_string()).or_default());
            add(by_provider
                .entry(prov.value(i).to_string())
                .or_default()
                .entry(code.to_string())
                .or_default());
            add(by_program
                .entry(prog.value(i).to_string())
                .or_default()
                .entry(code.to_string())
                .or_default());
            let pname = prog.value(i);
            let pid = match program_ix.get(pname) {
                Some(&x) => x,
                None => {
                    programs.push(pname.to_string());
                    program_ix.insert(pname.to_string(), (programs.len() - 1) as u32);
                    (programs.len() - 1) as u32
                }
            };
            if id_of
                .insert(id.value(i).to_string(), ins.len() as u32)
                .is_some()
            {
                issue(
                    "duplicate id",
                    Discrepancy {
                        file: IF.into(),
                        field: format!("row {row} instruction_id"),
                        expected: "unique".into(),
                        found: format!("{:?} again", id.value(i)),
                    },
                );
            }
            ins.push(Ins {
                program: pid,
                ccy: code.to_string(),
                amount: a,
                due: due[i],
                status,
                paid: p,
                count: cnt[i],
            });
        }
    }
    drop(ib);

    // Settlements.
    const SF: &str = "settlements.parquet";
    let sb = batches(
        &dir.join(SF),
        &[
            "provider",
            "amount",
            "fee",
            "currency",
            "status",
            "value_date",
            "match_method",
            "matched_instruction_id",
            "flags",
        ],
    )?;
    let mut per: Vec<PerIns> = (0..ins.len()).map(|_| PerIns::default()).collect();
    let mut by_match: BTreeMap<String, u64> = BTreeMap::new();
    let mut delays: BTreeMap<String, BTreeMap<i64, u64>> = BTreeMap::new();
    let mut n_set = 0u64;
    for b in &sb {
        let prov = Text::of(b, "provider")?;
        let ccy = Text::of(b, "currency")?;
        let st = Text::of(b, "status")?;
        let mm = Text::of(b, "match_method")?;
        let mi = Text::of(b, "matched_instruction_id")?;
        let fl = Text::of(b, "flags")?;
        let (amt, sc) = decimal(b, "amount")?;
        let (fee, sc_f) = decimal(b, "fee")?;
        let vd = date32(b, "value_date")?;
        for i in 0..b.num_rows() {
            n_set += 1;
            let code = ccy.value(i);
            let a = to_minor(amt[i], sc, code)?;
            let f = to_minor(fee[i], sc_f, code)?;
            let status = st.value(i);
            let method = mm.value(i);
            *by_match.entry(method.to_string()).or_default() += 1;
            for x in fl.value(i).split(';').filter(|x| !x.is_empty()) {
                *by_flag.entry(x.to_string()).or_default() += 1;
            }
            let matched = mi.get(i);
            let target = match matched {
                Some(id) => match id_of.get(id) {
                    Some(&k) => Some(k as usize),
                    None => {
                        issue(
                            "matched id",
                            Discrepancy {
                                file: SF.into(),
                                field: format!("row {n_set} matched_instruction_id"),
                                expected: "an instruction in instructions.parquet".into(),
                                found: format!("{id:?}"),
                            },
                        );
                        None
                    }
                },
                None => None,
            };
            if (method == "NONE") != matched.is_none() {
                issue(
                    "match method",
                    Discrepancy {
                        file: SF.into(),
                        field: format!("row {n_set} match_method"),
                        expected: if matched.is_none() {
                            "NONE".into()
                        } else {
                            "REFERENCE or FALLBACK".to_string()
                        },
                        found: method.to_string(),
                    },
                );
            }
            let add = |g: &mut Fig| {
                g.fees += f;
                match status {
                    "SETTLED" => {
                        g.settled_count += 1;
                        g.settled_amount += a;
                        if method == "NONE" {
                            g.unexpected_count += 1;
                            g.unexpected_amount += a;
                        }
                    }
                    "RETURNED" => {
                        g.returned_count += 1;
                        g.returned_amount += a;
                    }
                    _ => g.failed_count += 1,
                }
            };
            add(by_ccy.entry(code.to_string()).or_default());
            add(by_provider
                .entry(prov.value(i).to_string())
                .or_default()
                .entry(code.to_string())
                .or_default());
            if let Some(k) = target {
                let it = &ins[k];
                add(by_program
                    .entry(programs[it.program as usize].clone())
                    .or_default()
                    .entry(code.to_string())
                    .or_default());
                let p = &mut per[k];
                p.n += 1;
                if code != it.ccy {
                    p.other_ccy = true;
                }
                match status {
                    "SETTLED" => {
                        p.n_settled += 1;
                        if code == it.ccy {
                            p.paid += a;
                        }
                        let d = (vd[i] as i64 - it.due as i64).clamp(-30, 30);
                        *delays
                            .entry(prov.value(i).to_string())
                            .or_default()
                            .entry(d)
                            .or_default() += 1;
                    }
                    "RETURNED" => {
                        p.n_returned += 1;
                        if code == it.ccy {
                            p.paid -= a;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    drop(sb);

    // Row level: paid, settlement_count and status from the matched settlements (§4).
    for (k, (it, p)) in ins.iter().zip(&per).enumerate() {
        let row = k + 1;
        let m = minor_units(&it.ccy).unwrap_or(0);
        if it.paid != p.paid {
            issue(
                "paid_amount",
                Discrepancy {
                    file: IF.into(),
                    field: format!("row {row} paid_amount"),
                    expected: fmt_minor(p.paid, m),
                    found: fmt_minor(it.paid, m),
                },
            );
        }
        if it.count != p.n as i64 {
            issue(
                "settlement_count",
                Discrepancy {
                    file: IF.into(),
                    field: format!("row {row} settlement_count"),
                    expected: p.n.to_string(),
                    found: it.count.to_string(),
                },
            );
        }
        let status = if p.n == 0 {
            "UNPAID"
        } else if p.other_ccy {
            "CURRENCY_MISMATCH"
        } else if p.n_settled >= 2 {
            "DOUBLE_PAID"
        } else if p.n_settled == 0 && p.n_returned > 0 {
            "RETURNED"
        } else if p.n_settled == 0 {
            "FAILED"
        } else if p.paid == 0 && p.n_returned > 0 {
            "RETURNED"
        } else if p.paid == it.amount {
            "PAID"
        } else if p.paid < it.amount {
            "UNDERPAID"
        } else {
            "OVERPAID"
        };
        if it.status != status {
            issue(
                "status",
                Discrepancy {
                    file: IF.into(),
                    field: format!("row {row} status"),
                    expected: status.into(),
                    found: it.status.clone(),
                },
            );
        }
    }

    // Rejects.
    const RF: &str = "rejects.parquet";
    let rb = batches(&dir.join(RF), &["side", "reason"])?;
    let mut rej: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for b in &rb {
        let side = Text::of(b, "side")?;
        let reason = Text::of(b, "reason")?;
        for i in 0..b.num_rows() {
            *rej.entry(side.value(i).to_string())
                .or_default()
                .entry(reason.value(i).to_string())
                .or_default() += 1;
        }
    }
    let n_rej = |side: &str| rej.get(side).map_or(0, |m| m.values().sum::<u64>());

    let c = &s["counts"];
    let count_map = |m: &BTreeMap<String, u64>| -> Value {
        Value::Object(m.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
    };
    r.same(
        S,
        "counts.instructions_accepted",
        &json!(ins.len()),
        &c["instructions_accepted"],
    );
    r.same(
        S,
        "counts.settlements_accepted",
        &json!(n_set),
        &c["settlements_accepted"],
    );
    r.same(
        S,
        "counts.rejects.instructions",
        &json!(n_rej("instructions")),
        &c["rejects"]["instructions"],
    );
    r.same(
        S,
        "counts.rejects.settlements",
        &json!(n_rej("settlements")),
        &c["rejects"]["settlements"],
    );
    // Conservation: rows read = accepted + rejected, and rows read = the inputs' rows.
    for (side, accepted) in [("instructions", ins.len() as u64), ("settlements", n_set)] {
        let derived = accepted + n_rej(side);
        r.same(
            S,
            &format!("counts.{side}_in (accepted + rejected)"),
            &json!(derived),
            &c[&format!("{side}_in")],
        );
        let read: u64 = m_inputs
            .iter()
            .filter(|i| i["side"] == json!(side))
            .filter_map(|i| i["rows"].as_u64())
            .sum();
        r.same(
            MANIFEST,
            &format!("inputs rows of {side} (accepted + rejected)"),
            &json!(derived),
            &json!(read),
        );
    }
    r.same(
        S,
        "counts.by_status",
        &count_map(&by_status),
        &c["by_status"],
    );
    r.same(S, "counts.by_flag", &count_map(&by_flag), &c["by_flag"]);
    r.same(S, "counts.by_match", &count_map(&by_match), &c["by_match"]);
    for side in ["instructions", "settlements"] {
        let derived = rej.get(side).map(count_map).unwrap_or_else(|| json!({}));
        let found = &c["rejects_by_reason"][side];
        // Same figures whatever the key order.
        let as_map = |v: &Value| -> BTreeMap<String, Value> {
            v.as_object()
                .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default()
        };
        if as_map(&derived) != as_map(found) {
            r.diff(
                S,
                format!("counts.rejects_by_reason.{side}"),
                show(&derived),
                show(found),
            );
        }
    }
    compare_figs(r, "totals", &by_ccy, &s["totals"]);
    for (key, nested) in [
        ("totals_by_provider", &by_provider),
        ("totals_by_program", &by_program),
    ] {
        let found = s[key].as_object().cloned().unwrap_or_default();
        for name in nested.keys().chain(found.keys()).collect::<BTreeSet<_>>() {
            let empty = Figs::new();
            compare_figs(
                r,
                &format!("{key}.{name}"),
                nested.get(name).unwrap_or(&empty),
                found.get(name).unwrap_or(&Value::Null),
            );
        }
    }
    // Settlement delay histogram.
    if let Some(found) = s
        .get("settlement_delay_by_provider")
        .and_then(Value::as_object)
    {
        for name in delays.keys().chain(found.keys()).collect::<BTreeSet<_>>() {
            let from = found
                .get(name)
                .and_then(|h| h["days_from"].as_i64())
                .unwrap_or(-30);
            let derived: Vec<u64> = (from..=-from)
                .map(|d| {
                    delays
                        .get(name)
                        .and_then(|h| h.get(&d))
                        .copied()
                        .unwrap_or(0)
                })
                .collect();
            let got = found
                .get(name)
                .map(|h| h["counts"].clone())
                .unwrap_or(Value::Null);
            r.same(
                S,
                &format!("settlement_delay_by_provider.{name}.counts"),
                &json!(derived),
                &got,
            );
        }
    }
    let n_rows: u64 = row_issues.values().map(|x| x.0).sum();
    for (kind, (n, list)) in row_issues {
        let shown = list.len() as u64;
        r.discrepancies.extend(list);
        if n > shown {
            r.diff(
                IF,
                format!("{kind}: {} more rows", n - shown),
                "none",
                "see above",
            );
        }
    }
    r.checked.push(format!(
        "summary.json: counts, totals per currency/provider/programme, rejects by reason, delays, conservation; {} instructions and {n_set} settlements re-derived ({n_rows} row discrepancies)",
        ins.len()
    ));
    Ok(())
}

fn compare_figs(r: &mut VerifyReport, prefix: &str, derived: &Figs, found: &Value) {
    let empty = Map::new();
    let found = found.as_object().unwrap_or(&empty);
    for code in derived.keys().chain(found.keys()).collect::<BTreeSet<_>>() {
        let d = derived
            .get(code)
            .map(|f| f.json(code))
            .unwrap_or(Value::Null);
        let f = found.get(code).cloned().unwrap_or(Value::Null);
        match (d.as_object(), f.as_object()) {
            (Some(dm), Some(fm)) => {
                for k in dm.keys().chain(fm.keys()).collect::<BTreeSet<_>>() {
                    let a = dm.get(k).cloned().unwrap_or(Value::Null);
                    let b = fm.get(k).cloned().unwrap_or(Value::Null);
                    r.same("summary.json", &format!("{prefix}.{code}.{k}"), &a, &b);
                }
            }
            _ => r.same("summary.json", &format!("{prefix}.{code}"), &d, &f),
        }
    }
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
