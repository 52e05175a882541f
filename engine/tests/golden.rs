//! Golden cases: `testdata/cases/<case>/` holds inputs, optional `args.txt` and an
//! `expected.json` derived by hand from the contract. One `check(case)` runs the engine
//! and compares every output row (STYLE.md 15).

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;
use sverka_engine::{Factor, ProviderOptions, ReconcileConfig, Settings, Silent};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/cases")
}

fn side_path(case: &Path, side: &str) -> PathBuf {
    let file = case.join(format!("{side}.csv"));
    let dir = case.join(side);
    if !file.exists() && dir.is_dir() {
        dir
    } else {
        file
    }
}

/// The settlement arguments: `settlements.args` (one per line, `CODE=PATH` allowed,
/// paths relative to the case) when the case has one, else the file or directory.
fn settlement_paths(case: &Path) -> Vec<PathBuf> {
    match std::fs::read_to_string(case.join("settlements.args")) {
        Ok(text) => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| match l.trim().split_once('=') {
                Some((code, path)) => {
                    PathBuf::from(format!("{code}={}", case.join(path).display()))
                }
                None => case.join(l.trim()),
            })
            .collect(),
        Err(_) => vec![side_path(case, "settlements")],
    }
}

/// The decision files: `decisions.csv` or a `decisions/` folder when the case has one.
fn decision_paths(case: &Path) -> Vec<PathBuf> {
    let path = side_path(case, "decisions");
    if path.exists() {
        vec![path]
    } else {
        Vec::new()
    }
}

/// The provider options: `providers.toml` when the case has one; `--control-totals warn`
/// from `args.txt`.
fn providers(case: &Path) -> ProviderOptions {
    let mut o = ProviderOptions::default();
    let p = case.join("providers.toml");
    if p.exists() {
        sverka_engine::providers::load(&p, &mut o).unwrap();
    }
    o.control_warn = std::fs::read_to_string(case.join("args.txt"))
        .is_ok_and(|a| a.contains("--control-totals warn"));
    o
}

fn settings(case: &Path) -> Settings {
    let mut s = Settings::default();
    let Ok(args) = std::fs::read_to_string(case.join("args.txt")) else {
        return s;
    };
    let words: Vec<&str> = args.split_whitespace().collect();
    for pair in words.chunks(2) {
        let v = pair[1];
        match pair[0] {
            "--control-totals" => {}
            "--late-days" => s.late_days = v.parse().unwrap(),
            "--fallback-days" => s.fallback_days = v.parse().unwrap(),
            "--shared-account-min" => s.shared_account_min = v.parse().unwrap(),
            "--outlier-factor" => s.outlier_factor = Factor::parse(v).unwrap(),
            other => panic!("{}: unknown option {other}", case.display()),
        }
    }
    s
}

/// Reads a CSV output into rows of (column name -> text), undoing formula escaping.
fn read_csv(path: &Path) -> Vec<serde_json::Map<String, Value>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| {
                    let v = match v.strip_prefix('\'') {
                        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
                        _ => v,
                    };
                    (h.to_string(), Value::String(v.to_string()))
                })
                .collect()
        })
        .collect()
}

fn compare(
    case: &str,
    what: &str,
    expected: &Value,
    actual: &[serde_json::Map<String, Value>],
    case_dir: &Path,
) -> Vec<String> {
    let expected = expected.as_array().cloned().unwrap_or_default();
    let mut errs = Vec::new();
    if expected.len() != actual.len() {
        errs.push(format!(
            "{case}: {what}: expected {} rows, got {}",
            expected.len(),
            actual.len()
        ));
    }
    for (i, (e, a)) in expected.iter().zip(actual).enumerate() {
        for (k, ev) in e.as_object().unwrap() {
            let av = a.get(k).and_then(|v| v.as_str()).unwrap_or("");
            let av = if k == "file" {
                let prefix = format!("{}/", case_dir.display());
                av.strip_prefix(&prefix).unwrap_or(av).to_string()
            } else {
                av.to_string()
            };
            let ev = match ev {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if ev != av {
                errs.push(format!(
                    "{case}: {what} row {}: {k}: expected {ev:?}, got {av:?}  (row {:?})",
                    i + 1,
                    a
                ));
            }
        }
    }
    errs
}

fn check(case_dir: &Path) -> Vec<String> {
    let case = case_dir.file_name().unwrap().to_string_lossy().to_string();
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(case_dir.join("expected.json")).unwrap())
            .unwrap();
    let out = tempfile::tempdir().unwrap();
    let cfg = ReconcileConfig {
        providers: providers(case_dir),
        decisions: decision_paths(case_dir),
        instructions: vec![side_path(case_dir, "instructions")],
        settlements: settlement_paths(case_dir),
        out: out.path().to_path_buf(),
        csv: true,
        settings: settings(case_dir),
    };
    let want_exit = expected["exit_code"].as_i64().unwrap_or(0) as i32;
    match sverka_engine::reconcile(&cfg, &Silent) {
        Err(e) => {
            let msg = e.to_string();
            let mut errs = Vec::new();
            if e.exit_code() != want_exit {
                errs.push(format!(
                    "{case}: expected exit {want_exit}, got {} ({msg})",
                    e.exit_code()
                ));
            }
            for s in expected["error_contains"].as_array().into_iter().flatten() {
                if !msg.contains(s.as_str().unwrap()) {
                    errs.push(format!("{case}: error message {msg:?} lacks {s}"));
                }
            }
            errs
        }
        Ok(_) if want_exit != 0 => vec![format!(
            "{case}: expected exit {want_exit}, but the run succeeded"
        )],
        Ok(_) => {
            let mut errs = Vec::new();
            for (what, file) in [
                ("instructions", "instructions.csv"),
                ("settlements", "settlements.csv"),
                ("rejects", "rejects.csv"),
            ] {
                let actual = read_csv(&out.path().join(file));
                errs.extend(compare(&case, what, &expected[what], &actual, case_dir));
            }
            // A case with decisions (CONTRACT section 8) lists every decision's outcome.
            let decisions = out.path().join("decisions.csv");
            match (expected.get("decisions"), decisions.exists()) {
                (Some(want), true) => {
                    let actual = read_csv(&decisions);
                    errs.extend(compare(&case, "decisions", want, &actual, case_dir));
                }
                (None, false) => {}
                (w, _) => errs.push(format!(
                    "{case}: decisions expected: {}, written: {}",
                    w.is_some(),
                    decisions.exists()
                )),
            }
            errs.extend(common::summary::summary_errors(
                &out.path().join("summary.json"),
            ));
            if let Some(want) = expected.get("summary") {
                let got: Value = serde_json::from_str(
                    &std::fs::read_to_string(out.path().join("summary.json")).unwrap(),
                )
                .unwrap();
                subset(&case, "summary", want, &got, case_dir, &mut errs);
            }
            errs
        }
    }
}

/// Whether `want` is in `got`: every key of an object (a path under the case compared
/// without the case's folder; `~text`: contains text), every element of an array (same
/// length), equal scalars.
fn subset(case: &str, at: &str, want: &Value, got: &Value, dir: &Path, errs: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                match g.get(k) {
                    Some(gv) => subset(case, &format!("{at}.{k}"), wv, gv, dir, errs),
                    None => errs.push(format!("{case}: {at}.{k} missing")),
                }
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                subset(case, &format!("{at}[{i}]"), wv, gv, dir, errs);
            }
        }
        // `~text`: the value contains `text`.
        (Value::String(w), Value::String(g)) if w.starts_with('~') => {
            if !g.contains(&w[1..]) {
                errs.push(format!(
                    "{case}: {at}: expected to contain {:?}, got {g:?}",
                    &w[1..]
                ));
            }
        }
        (Value::String(w), Value::String(g)) => {
            let prefix = format!("{}/", dir.display());
            if g.strip_prefix(&prefix).unwrap_or(g) != w {
                errs.push(format!("{case}: {at}: expected {w:?}, got {g:?}"));
            }
        }
        (w, g) if w == g => {}
        (w, g) => errs.push(format!("{case}: {at}: expected {w}, got {g}")),
    }
}

#[test]
fn golden_cases() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expected.json").exists())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 50, "golden cases missing");
    let errs: Vec<String> = dirs.iter().flat_map(|d| check(d)).collect();
    assert!(
        errs.is_empty(),
        "{} golden mismatches:\n{}",
        errs.len(),
        errs.join("\n")
    );
}

/// Every reject reason of the contract is the expected outcome of some golden case (the
/// demo cannot carry the section 7 ones: they come from provider files).
#[test]
fn every_reject_reason_has_a_golden_case() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(cases_dir().join("../../schemas/reconcile-v2.json")).unwrap(),
    )
    .unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for e in std::fs::read_dir(cases_dir()).unwrap() {
        let p = e.unwrap().path().join("expected.json");
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        let v: Value = serde_json::from_str(&text).unwrap();
        for r in v["rejects"].as_array().into_iter().flatten() {
            seen.insert(r["reason"].as_str().unwrap_or("").to_string());
        }
    }
    for r in schema["reject_reasons"].as_array().unwrap() {
        assert!(
            seen.contains(r.as_str().unwrap()),
            "no golden case rejects a row with {r}"
        );
    }
}

#[test]
fn every_decision_outcome_and_reason_has_a_golden_case() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(cases_dir().join("../../schemas/reconcile-v2.json")).unwrap(),
    )
    .unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for e in std::fs::read_dir(cases_dir()).unwrap() {
        let Ok(text) = std::fs::read_to_string(e.unwrap().path().join("expected.json")) else {
            continue;
        };
        let v: Value = serde_json::from_str(&text).unwrap();
        for d in v["decisions"].as_array().into_iter().flatten() {
            for k in ["outcome", "reason"] {
                seen.insert(d[k].as_str().unwrap_or("").to_string());
            }
        }
    }
    for key in ["decision_outcomes", "decision_reasons"] {
        for r in schema[key].as_array().unwrap() {
            assert!(
                seen.contains(r.as_str().unwrap()),
                "no golden case has a decision with {r}"
            );
        }
    }
}

/// `sverka inspect` on every case's settlement files reads each as `reconcile` does: the
/// format and row count the case's summary expects, and a file-level error only where
/// the case expects the run to stop.
#[test]
fn inspect_reads_every_cases_settlements_as_reconcile_does() {
    let mut checked = 0;
    for e in std::fs::read_dir(cases_dir()).unwrap() {
        let case = e.unwrap().path();
        let Ok(text) = std::fs::read_to_string(case.join("expected.json")) else {
            continue;
        };
        let want: Value = serde_json::from_str(&text).unwrap();
        if !case.join("settlements").exists() && !case.join("settlements.csv").exists() {
            continue;
        }
        let mut opts = providers(&case);
        opts.control_warn = true;
        let Ok(files) = sverka_engine::inspect::inspect(
            &settlement_paths(&case),
            sverka_engine::Side::Settlements,
            &opts,
            3,
        ) else {
            // A path the run refuses before reading (a bad CODE=PATH) stops it too.
            assert_eq!(want["exit_code"], 2, "{}", case.display());
            continue;
        };
        for f in &files {
            let name = f.path.rsplit('/').next().unwrap_or_default();
            match (&f.input, &f.error) {
                (Some(input), None) => {
                    let expected = want["summary"]["inputs"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|i| {
                            i["side"] == "settlements"
                                && i["path"].as_str().is_some_and(|p| p.ends_with(name))
                        });
                    if let Some(x) = expected {
                        for key in ["format", "rows"] {
                            if !x[key].is_null() {
                                let got = serde_json::to_value(input).unwrap()[key].clone();
                                assert_eq!(got, x[key], "{} {name} {key}", case.display());
                            }
                        }
                    }
                    checked += 1;
                }
                (_, Some(error)) => assert_eq!(
                    want["exit_code"],
                    2,
                    "{} {name}: inspect says {error}",
                    case.display()
                ),
                (None, None) => panic!("{} {name}: neither read nor refused", case.display()),
            }
        }
    }
    assert!(checked >= 90, "{checked} files inspected");
}
