//! Helpers shared by the CLI's integration tests (each test file is its own crate and
//! uses a part of them).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The `sverka` binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sverka"))
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The repository's root.
pub fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Reconciles the demo with paths relative to the repository (as the README does), so that
/// the paths recorded in the outputs do not depend on the checkout's location.
pub fn demo(out: &Path, extra: &[&str]) -> Output {
    bin()
        .current_dir(root())
        .args([
            "reconcile",
            "--instructions",
            "testdata/demo/instructions",
            "--settlements",
            "testdata/demo/settlements",
            "--quiet",
            "--out",
        ])
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

/// `sverka reconcile` of `ins` and `set` into `out`, with `extra` arguments.
pub fn reconcile(ins: &Path, set: &Path, out: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("reconcile")
        .arg("--instructions")
        .arg(ins)
        .arg("--settlements")
        .arg(set)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// Kill tests (kill.rs, disburse.rs): a real child stopped at a fault point with SIGKILL.

/// A command that writes an output set into `out`.
pub type Job = dyn Fn(&Path) -> Command;

/// The folder's entries and their bytes.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap_or_default())
        })
        .collect();
    v.sort();
    v
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

pub fn run_ok(mut c: Command) {
    let o = c.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

pub fn verify(dir: &Path) {
    let o = bin().arg("verify").arg(dir).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "verify after the kill: {}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
}

/// Runs `cmd` until it reports pausing at `point`, then kills it with SIGKILL.
pub fn kill_at(mut cmd: Command, point: &str) {
    let mut child = cmd
        .env("SVERKA_FAULT_PAUSE_AT", point)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut seen = String::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if line.starts_with("SVERKA_FAULT ") {
            child.kill().unwrap();
            child.wait().unwrap();
            return;
        }
        seen.push_str(&line);
        seen.push('\n');
    }
    let status = child.wait().unwrap();
    panic!("{point}: the run ended ({status}) without pausing there:\n{seen}");
}

/// The fault points a clean run of `job` passes, as `POINT#K`.
pub fn points(job: &Job, out: &Path, scratch: &Path) -> Vec<String> {
    let trace = scratch.join("trace");
    let _ = std::fs::remove_file(&trace);
    let mut c = job(out);
    c.env("SVERKA_FAULT_TRACE", &trace);
    run_ok(c);
    std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Only the output folder is left in `parent`: no staging folder, journal or old set.
pub fn nothing_beside(parent: &Path) {
    let names: Vec<String> = std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["out"], "leftovers beside the output folder");
}

/// What is wrong with the JSON file at `path` against `schemas/<schema>` (nothing: empty).
pub fn schema_errors(schema: &str, path: &Path) -> Vec<String> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../schemas")
        .join(schema);
    let schema = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    let v = jsonschema::draft202012::new(&schema).expect("a valid draft 2020-12 schema");
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v.iter_errors(&value)
        .map(|e| format!("{}: {} at {}", path.display(), e, e.instance_path()))
        .collect()
}

/// [`schema_errors`] of a `manifest.json`, which must also read back as
/// `sverka_audit::manifest::Manifest` and write the same bytes again.
pub fn manifest_errors(path: &Path) -> Vec<String> {
    let mut errs = schema_errors("manifest.schema.json", path);
    let text = std::fs::read_to_string(path).unwrap();
    match serde_json::from_str::<sverka_audit::manifest::Manifest>(&text) {
        Ok(m) if serde_json::to_string_pretty(&m).unwrap() + "\n" == text => {}
        Ok(_) => errs.push(format!("{}: read back, writes other bytes", path.display())),
        Err(e) => errs.push(format!("{}: not a Manifest: {e}", path.display())),
    }
    errs
}

/// [`schema_errors`] of a disburse `summary.json`, which must also read back as
/// `sverka_disburse::DisburseSummary` and write the same bytes again.
pub fn disburse_summary_errors(path: &Path) -> Vec<String> {
    let mut errs = schema_errors("disburse-summary.schema.json", path);
    let text = std::fs::read_to_string(path).unwrap();
    match serde_json::from_str::<sverka_disburse::DisburseSummary>(&text) {
        Ok(s) if serde_json::to_string_pretty(&s).unwrap() + "\n" == text => {}
        Ok(_) => errs.push(format!("{}: read back, writes other bytes", path.display())),
        Err(e) => errs.push(format!("{}: not a DisburseSummary: {e}", path.display())),
    }
    errs
}
