//! End-to-end runs of `sverka disburse`: golden payment files, XSD validation, every hold
//! reason, idempotency, kills at every fault point, retry and recovery, and the round
//! trip disburse → settlements → reconcile → every instruction PAID.
//!
//! Golden files: `SVERKA_BLESS=1 cargo test -p sverka --test disburse` rewrites
//! `testdata/disburse/small/expected/` (review the diff).

mod common;
use common::{bin, copy_dir, kill_at, nothing_beside, points, run_ok, text, verify};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn case_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/disburse/small")
}

/// Runs disburse on the small case from inside its folder (so paths in outputs are the
/// relative ones given), with `out` and `ledger` absolute.
fn disburse(out: &Path, ledger: &Path, extra: &[&str]) -> Output {
    disburse_with("providers.toml", "2026-11-04", out, ledger, extra)
}

fn disburse_with(providers: &str, date: &str, out: &Path, ledger: &Path, extra: &[&str]) -> Output {
    let o = bin()
        .current_dir(case_dir())
        .args([
            "disburse",
            "--payroll",
            "payroll.csv",
            "--providers",
            providers,
        ])
        .arg("--out")
        .arg(out)
        .arg("--ledger")
        .arg(ledger)
        .args(["--execution-date", date, "--max-batch-rows", "2"])
        .args(extra)
        .output()
        .unwrap();
    // Every summary.json and manifest.json a run writes is its type and matches its schema.
    let (summary, manifest) = (out.join("summary.json"), out.join("manifest.json"));
    if o.status.success() && summary.exists() {
        assert_eq!(
            common::disburse_summary_errors(&summary),
            Vec::<String>::new()
        );
        assert_eq!(common::manifest_errors(&manifest), Vec::<String>::new());
    }
    o
}

/// Asserts the exit code and that stderr says `needle`.
fn expect_exit(o: &Output, code: i32, needle: &str) {
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "{err}");
    assert!(err.contains(needle), "{err}");
}

/// `disburse --retry-from results` alone, from the small case's folder.
fn retry_run(results: &Path, out: &Path, ledger: &Path) -> Output {
    bin()
        .current_dir(case_dir())
        .args(["disburse", "--providers", "providers.toml"])
        .args(["--execution-date", "2026-12-04", "--json"])
        .arg("--retry-from")
        .arg(results)
        .arg("--out")
        .arg(out)
        .arg("--ledger")
        .arg(ledger)
        .output()
        .unwrap()
}

fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

fn is_payment_file(name: &str) -> bool {
    name.ends_with(".xml")
        || (name.ends_with(".csv") && !["holds.csv", "rejects.csv", "recovery.csv"].contains(&name))
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o.stdout)))
}

const GOLDEN: [&str; 7] = [
    "HAMKOR-UZS-001.xml",
    "JOBANK-JOD-001.xml",
    "PAYME-UZS-001.csv",
    "UZCARD-UZS-001.csv",
    "UZCARD-UZS-002.csv",
    "holds.csv",
    "rejects.csv",
];

#[test]
fn small_payroll_matches_the_golden_files() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let o = disburse(&out, &t.path().join("ledger.db"), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let screen = text(&o.stdout);
    for needle in [
        "issued",
        "8 instructions in 5 payment files",
        "HAMKOR-UZS-001.xml",
        "control sum",
    ] {
        assert!(screen.contains(needle), "{screen}");
    }
    let got = snapshot(&out);
    let names: Vec<&str> = got.keys().map(|s| s.as_str()).collect();
    assert_eq!(
        names,
        [
            "HAMKOR-UZS-001.xml",
            "JOBANK-JOD-001.xml",
            "PAYME-UZS-001.csv",
            "UZCARD-UZS-001.csv",
            "UZCARD-UZS-002.csv",
            "holds.csv",
            "holds.parquet",
            "instructions.parquet",
            "manifest.json",
            "rejects.csv",
            "rejects.parquet",
            "summary.json",
        ]
    );
    let expected = case_dir().join("expected");
    for name in GOLDEN {
        if std::env::var("SVERKA_BLESS").is_ok() {
            std::fs::create_dir_all(&expected).unwrap();
            std::fs::write(expected.join(name), &got[name]).unwrap();
        }
        let want = std::fs::read(expected.join(name)).unwrap();
        assert_eq!(
            text(&got[name]),
            text(&want),
            "{name} differs from the golden file"
        );
    }
}

#[test]
fn every_hold_and_reject_reason_and_conservation() {
    let t = tempfile::tempdir().unwrap();
    let o = disburse(&t.path().join("out"), &t.path().join("l.db"), &["--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let s = json(&o);
    let c = &s["counts"];
    assert_eq!(c["payroll_in"], 21);
    assert_eq!(c["issued"], 8);
    assert_eq!(c["held"], 6);
    assert_eq!(c["rejected"], 7);
    assert_eq!(
        c["payroll_in"].as_u64().unwrap(),
        c["issued"].as_u64().unwrap()
            + c["held"].as_u64().unwrap()
            + c["rejected"].as_u64().unwrap()
    );
    let h = &c["holds_by_reason"];
    assert_eq!(h["account_check"], 3, "{h}");
    assert_eq!(h["over_cap"], 1);
    assert_eq!(h["duplicate_in_payroll"], 1);
    assert_eq!(h["unknown_provider"], 1);
    for reason in [
        "malformed_row",
        "missing_field",
        "invalid_amount",
        "non_positive_amount",
        "unknown_currency",
        "amount_precision",
        "invalid_date",
    ] {
        assert_eq!(c["rejects_by_reason"][reason], 1, "{reason}");
    }
    assert_eq!(s["totals"]["UZS"]["issued_amount"], "3200000.00");
    assert_eq!(s["totals"]["JOD"]["issued_amount"], "120.500");
    assert_eq!(
        s["providers"]["UZCARD"]["files"][0]["control_sums"]["UZS"],
        "900000.00"
    );
}

/// The manifest lists every other file with its real size, rows and SHA-256, and its
/// own hash is the SHA-256 of its compact form without the key (common format v1).
#[test]
fn manifest_lists_every_output_with_its_hash() {
    use sha2::Digest;
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let o = disburse(&out, &t.path().join("l.db"), &["--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty());
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["kind"], "disburse");
    assert_eq!(m["manifest_version"], 1);
    let outputs = m["outputs"].as_array().unwrap();
    let files = snapshot(&out);
    assert_eq!(outputs.len(), files.len() - 1);
    for e in outputs {
        let name = e["name"].as_str().unwrap();
        let bytes = &files[name];
        assert_eq!(e["size"], bytes.len() as u64, "{name}");
        assert_eq!(
            e["sha256"],
            hex::encode(sha2::Sha256::digest(bytes)),
            "{name}"
        );
        if is_payment_file(name) {
            assert!(
                e["provider"].is_string() && e["control_sums"].is_object(),
                "{e}"
            );
        }
    }
    let mut without = m.clone();
    let claimed = without
        .as_object_mut()
        .unwrap()
        .shift_remove("manifest_sha256")
        .unwrap();
    let compact = serde_json::to_string(&without).unwrap();
    assert_eq!(
        claimed,
        hex::encode(sha2::Sha256::digest(compact.as_bytes()))
    );
    let kinds: Vec<&str> = m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["side"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["payroll", "providers"]);
}

fn xsd() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("SVERKA_PAIN001_XSD") {
        return Some(PathBuf::from(p));
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/xsd-venv/lib");
    for py in std::fs::read_dir(venv).ok()?.flatten() {
        let p = py
            .path()
            .join("site-packages/sepaxml/schemas/pain.001.001.09.xsd");
        if p.is_file() {
            return Some(p);
        }
    }
    None
}

fn xmllint(xsd: &Path, file: &Path) -> Output {
    Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(xsd)
        .arg(file)
        .output()
        .expect("xmllint runs")
}

/// The pain.001 files validate against the official pain.001.001.09 XSD (from the
/// `sepaxml` package), and a damaged copy does not (the validator is not a no-op).
#[test]
fn pain001_validates_against_the_official_xsd() {
    let required = std::env::var("SVERKA_REQUIRE_TOOLS").is_ok_and(|v| v == "1");
    let have_xmllint = Command::new("xmllint").arg("--version").output().is_ok();
    let Some(xsd) = xsd().filter(|_| have_xmllint) else {
        assert!(
            !required,
            "SVERKA_REQUIRE_TOOLS=1 but xmllint or the pain.001.001.09 XSD (target/xsd-venv with sepaxml, or SVERKA_PAIN001_XSD) is missing"
        );
        eprintln!("note: skipping XSD validation: xmllint or the sepaxml XSD not found (.ci/run installs them)");
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let o = disburse(&out, &t.path().join("l.db"), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let mut n = 0;
    for (name, bytes) in snapshot(&out) {
        if !name.ends_with(".xml") {
            continue;
        }
        n += 1;
        let v = xmllint(&xsd, &out.join(&name));
        assert!(v.status.success(), "{name}: {}", text(&v.stderr));
        let bad = t.path().join(format!("bad-{name}"));
        let damaged = text(&bytes).replacen("<PmtMtd>TRF</PmtMtd>", "<PmtMtd>XXX</PmtMtd>", 1);
        std::fs::write(&bad, damaged).unwrap();
        assert!(
            !xmllint(&xsd, &bad).status.success(),
            "damaged {name} validated"
        );
    }
    assert_eq!(n, 2);
}

#[test]
fn second_run_issues_nothing_and_says_so() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let ledger = t.path().join("l.db");
    assert_eq!(disburse(&out, &ledger, &[]).status.code(), Some(0));
    let before = snapshot(&out);
    // Same folder: left as it was.
    let o = disburse(&out, &ledger, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("nothing new issued (9 rows already issued)"),
        "{}",
        text(&o.stdout)
    );
    assert_eq!(snapshot(&out), before);
    // A new folder: the report lists the already-issued rows, no payment file.
    let out2 = t.path().join("out2");
    let o = disburse(&out2, &ledger, &["--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let s = json(&o);
    assert_eq!(s["counts"]["issued"], 0);
    assert_eq!(s["counts"]["holds_by_reason"]["already_issued"], 9);
    let files = snapshot(&out2);
    assert!(
        !files.keys().any(|n| is_payment_file(n)),
        "{:?}",
        files.keys()
    );
    let holds = text(&files["holds.csv"]);
    assert_eq!(holds.matches("already_issued").count(), 9, "{holds}");
    assert!(holds.contains("issued in run R"), "{holds}");
}

#[test]
fn new_rows_into_a_folder_of_an_earlier_run_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let ledger = t.path().join("l.db");
    // First run pays only part of the payroll (JOBANK unknown without its profile).
    let partial = t.path().join("providers.toml");
    let full = std::fs::read_to_string(case_dir().join("providers.toml")).unwrap();
    let cut = full.split("[providers.JOBANK]").next().unwrap().to_string()
        + &full[full.find("[programs.CASH_TRANSFER.caps]").unwrap()..];
    std::fs::write(&partial, cut).unwrap();
    let o = disburse_with(partial.to_str().unwrap(), "2026-11-04", &out, &ledger, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let before = snapshot(&out);
    let o = disburse(&out, &ledger, &[]);
    expect_exit(&o, 2, "already holds the payment files of an earlier run");
    assert_eq!(snapshot(&out), before);
    // In its own folder the remaining row is issued, and only it.
    let o = disburse(&t.path().join("out2"), &ledger, &["--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(json(&o)["counts"]["issued"], 1);
}

/// The disbursement of the small case into `out` with `ledger`, as a kill-test job.
fn disburse_job(ledger: PathBuf) -> impl Fn(&Path) -> Command {
    move |out: &Path| {
        let mut c = bin();
        c.current_dir(case_dir())
            .args(["disburse", "--payroll", "payroll.csv"])
            .args(["--providers", "providers.toml"])
            .arg("--out")
            .arg(out)
            .arg("--ledger")
            .arg(&ledger)
            .args(["--execution-date", "2026-11-04", "--max-batch-rows", "2"]);
        c
    }
}

/// The folder's files, or none when it does not exist.
fn files_of(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    if dir.exists() {
        snapshot(dir)
    } else {
        BTreeMap::new()
    }
}

/// Staging folders of output sets beside `out`.
fn staging_beside(out: &Path) -> Vec<String> {
    let prefix = format!(".{}.sverka-", out.file_name().unwrap().to_string_lossy());
    std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&prefix) && !n.ends_with(".names"))
        .collect()
}

/// A run killed at each point of its commit leaves ledger and folder consistent: before
/// the ledger commit nothing is issued and no payment file is in place; after it, the
/// staging folder the ledger names is left beside the folder, and the next run (whose
/// own output set would clear a dead writer's staging folder) publishes it first and
/// issues nothing new.
#[test]
fn killed_runs_leave_ledger_and_folder_consistent() {
    let t = tempfile::tempdir().unwrap();
    let clean = t.path().join("clean");
    let o = disburse(&clean, &t.path().join("clean.db"), &[]);
    assert_eq!(o.status.code(), Some(0));
    let clean_files = snapshot(&clean);
    let points = [
        "disburse:before-ledger-commit",
        "disburse:after-ledger-commit",
        "set:before-swap",
    ];
    for (k, point) in points.into_iter().enumerate() {
        let parent = t.path().join(format!("p{k}"));
        let out = parent.join("out");
        let ledger = t.path().join(format!("{k}.db"));
        kill_at(disburse_job(ledger.clone())(&out), point);
        let after = files_of(&out);
        assert!(
            !after.keys().any(|n| is_payment_file(n)),
            "{point}: {:?}",
            after.keys()
        );
        let issued = point != "disburse:before-ledger-commit";
        assert_eq!(
            staging_beside(&out).len(),
            1,
            "{point}: the killed run's staging folder"
        );
        let o = disburse(&out, &ledger, &[]);
        assert_eq!(o.status.code(), Some(0), "{point}: {}", text(&o.stderr));
        assert_eq!(
            text(&o.stdout).contains("completed interrupted run"),
            issued,
            "{point}: {}",
            text(&o.stdout)
        );
        let o = disburse(&t.path().join(format!("probe{k}")), &ledger, &["--json"]);
        let s = json(&o);
        // Issued once, by the killed run or by the rerun: never again.
        assert_eq!(s["counts"]["issued"], 0, "{point}");
        assert_eq!(
            s["counts"]["holds_by_reason"]["already_issued"], 9,
            "{point}"
        );
        let files = snapshot(&out);
        for (name, bytes) in &clean_files {
            if is_payment_file(name) {
                assert_eq!(files.get(name), Some(bytes), "{point}: {name}");
            }
        }
        assert!(files.contains_key("manifest.json"), "{point}");
        nothing_beside(&parent);
    }
}

/// Kills the disbursement at every fault point it passes, over a folder holding `old`
/// (none: no folder), and checks after each kill: `sverka verify` passes on the folder if
/// it exists, which holds the old set or exactly the complete new one; the next run
/// completes or redoes the disbursement, so that the folder is the uninterrupted run's,
/// byte for byte, and every payable row is issued once in the ledger.
fn disburse_kill_everywhere(old: Option<&Path>, extra_env: &[(&str, &str)]) {
    let t = tempfile::tempdir().unwrap();
    let parent = t.path().join("p");
    let out = parent.join("out");
    let ledger = t.path().join("l.db");
    let job = disburse_job(ledger.clone());
    let fresh = || {
        let _ = std::fs::remove_dir_all(&parent);
        let _ = std::fs::remove_file(&ledger);
        std::fs::create_dir_all(&parent).unwrap();
        if let Some(old) = old {
            copy_dir(old, &out);
        }
    };
    fresh();
    let old_set = files_of(&out);
    let pts = points(&job, &out, t.path());
    let new_set = snapshot(&out);
    assert!(
        pts.iter()
            .any(|p| p.starts_with("disburse:after-ledger-commit")),
        "{pts:?}"
    );
    for p in &pts {
        fresh();
        let mut c = job(&out);
        for (k, v) in extra_env {
            c.env(k, v);
        }
        kill_at(c, p);
        if out.exists() {
            let now = snapshot(&out);
            assert!(
                now == old_set || now == new_set,
                "{p}: the folder is neither the old set nor the new one: {:?}",
                now.keys()
            );
            verify(&out);
        } else {
            // No folder before, or the fallback swap killed between its two renames.
            assert!(old.is_none() || !extra_env.is_empty(), "{p}: no folder");
        }
        run_ok(job(&out));
        assert!(snapshot(&out) == new_set, "{p}: the rerun's set differs");
        nothing_beside(&parent);
        let probe = t.path().join("probe");
        let _ = std::fs::remove_dir_all(&probe);
        let o = job(&probe).arg("--json").output().unwrap();
        let s = json(&o);
        assert_eq!(s["counts"]["issued"], 0, "{p}");
        assert_eq!(s["counts"]["holds_by_reason"]["already_issued"], 9, "{p}");
    }
}

#[test]
fn disburse_is_whole_under_kill_into_a_new_folder() {
    disburse_kill_everywhere(None, &[]);
}

/// A folder that holds a run that issued nothing (disburse refuses a folder with payment
/// files: one folder per batch).
fn nothing_issued_set(t: &Path) -> PathBuf {
    let ledger = t.join("first.db");
    let o = disburse(&t.join("first"), &ledger, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let old = t.join("old");
    let o = disburse(&old, &ledger, &["--json"]);
    assert_eq!(json(&o)["counts"]["issued"], 0);
    old
}

#[test]
fn disburse_is_whole_under_kill_over_a_run_that_issued_nothing() {
    let t = tempfile::tempdir().unwrap();
    disburse_kill_everywhere(Some(&nothing_issued_set(t.path())), &[]);
}

#[test]
fn disburse_is_whole_under_kill_with_the_fallback_swap() {
    let t = tempfile::tempdir().unwrap();
    disburse_kill_everywhere(
        Some(&nothing_issued_set(t.path())),
        &[("SVERKA_FAULT_ON", "set:no-exchange")],
    );
}

#[test]
fn outputs_do_not_depend_on_threads() {
    let t = tempfile::tempdir().unwrap();
    let mut snaps = Vec::new();
    for n in ["1", "3"] {
        let out = t.path().join(n);
        let o = disburse(&out, &t.path().join(format!("{n}.db")), &["--threads", n]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        let mut s = snapshot(&out);
        // Settings name the ledger, which differs here.
        s.remove("summary.json");
        s.remove("manifest.json");
        snaps.push(s);
    }
    assert_eq!(snaps[0], snaps[1]);
}

#[test]
fn unusable_input_is_exit_2_naming_what_to_fix() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let ledger = t.path().join("l.db");
    let o = disburse_with("providers.toml", "05/11/2026", &out, &ledger, &[]);
    expect_exit(&o, 2, "YYYY-MM-DD");
    let bad = t.path().join("payroll.csv");
    std::fs::write(
        &bad,
        "beneficiary_id,program,cycle,provider,acct,amount,currency,due_date\n",
    )
    .unwrap();
    let o = bin()
        .args(["disburse", "--payroll"])
        .arg(&bad)
        .arg("--out")
        .arg(&out)
        .arg("--ledger")
        .arg(&ledger)
        .output()
        .unwrap();
    expect_exit(&o, 2, "missing required column account for payroll");
    let prov = t.path().join("p.toml");
    std::fs::write(
        &prov,
        "[providers.X]\naccount_kind = \"iban\"\nformat = \"xml\"\n",
    )
    .unwrap();
    let o = disburse_with(prov.to_str().unwrap(), "2026-11-04", &out, &ledger, &[]);
    expect_exit(&o, 2, "[providers.X] format");
    assert!(!out.join("manifest.json").exists());
}

// ---------------------------------------------------------------------------------------
// Settlements from payment files, reconcile, retry.

/// (end-to-end id, account, amount, currency, date) of every transaction in the payment
/// files of `dir`, read back from the files themselves.
fn transactions(dir: &Path) -> Vec<[String; 5]> {
    let mut out = Vec::new();
    for (name, bytes) in snapshot(dir) {
        if !is_payment_file(&name) {
            continue;
        }
        let s = text(&bytes);
        if name.ends_with(".csv") {
            let mut r = csv::Reader::from_reader(s.as_bytes());
            for rec in r.records() {
                let rec = rec.unwrap();
                out.push([0, 3, 4, 5, 6].map(|k| rec[k].to_string()));
            }
        } else {
            let tag = |block: &str, t: &str| -> String {
                let open = format!("<{t}");
                let i = block.find(&open).unwrap();
                let j = i + block[i..].find('>').unwrap() + 1;
                let k = j + block[j..].find('<').unwrap();
                block[j..k].to_string()
            };
            for pmt in s.split("<PmtInf>").skip(1) {
                let date = tag(pmt, "Dt");
                for tx in pmt.split("<CdtTrfTxInf>").skip(1) {
                    let ccy_at = tx.find("Ccy=\"").unwrap() + 5;
                    let ccy = tx[ccy_at..ccy_at + 3].to_string();
                    let acct = tx.split("<CdtrAcct>").nth(1).unwrap();
                    let acct = if acct.contains("<IBAN>") {
                        tag(acct, "IBAN")
                    } else {
                        tag(acct.split("<Othr>").nth(1).unwrap(), "Id")
                    };
                    out.push([
                        tag(tx, "EndToEndId"),
                        acct,
                        tag(tx, "InstdAmt"),
                        ccy,
                        date.clone(),
                    ]);
                }
            }
        }
    }
    out
}

fn write_settlements(path: &Path, rows: &[(String, String, String, String, &str, String)]) {
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record([
        "provider",
        "provider_ref",
        "instruction_id",
        "account",
        "amount",
        "fee",
        "currency",
        "status",
        "value_date",
    ])
    .unwrap();
    for (k, (id, acct, amount, ccy, status, date)) in rows.iter().enumerate() {
        w.write_record([
            "PSP",
            &format!("REF{k}"),
            id,
            acct,
            amount,
            "",
            ccy,
            status,
            date,
        ])
        .unwrap();
    }
    w.flush().unwrap();
}

fn reconcile(ins: &Path, set: &Path, out: &Path) -> serde_json::Value {
    let o = common::reconcile(ins, set, out, &["--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    json(&o)
}

/// disburse → settlements generated from the payment files, each paid in full →
/// reconcile reads instructions.parquet as it is → every instruction PAID.
#[test]
fn round_trip_every_instruction_paid() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let o = disburse(&out, &t.path().join("l.db"), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let txs = transactions(&out);
    assert_eq!(txs.len(), 8);
    let rows: Vec<_> = txs
        .iter()
        .map(|[id, a, m, c, d]| {
            (
                id.clone(),
                a.clone(),
                m.clone(),
                c.clone(),
                "SETTLED",
                d.clone(),
            )
        })
        .collect();
    let set = t.path().join("settlements.csv");
    write_settlements(&set, &rows);
    let s = reconcile(
        &out.join("instructions.parquet"),
        &set,
        &t.path().join("rec"),
    );
    assert_eq!(s["counts"]["instructions_accepted"], 8, "{s}");
    assert_eq!(
        s["counts"]["by_status"],
        serde_json::json!({"PAID": 8}),
        "{s}"
    );
}

/// A reconciliation with every status that matters: UNPAID, FAILED, RETURNED go out
/// again as attempt 2 referencing the original; DOUBLE_PAID and OVERPAID become recovery
/// rows with the amount to recover; PAID needs nothing. A second retry issues nothing.
#[test]
fn retry_and_recovery_from_a_reconciliation() {
    let t = tempfile::tempdir().unwrap();
    let ledger = t.path().join("l.db");
    let out = t.path().join("out");
    assert_eq!(disburse(&out, &ledger, &[]).status.code(), Some(0));
    let mut txs = transactions(&out);
    txs.sort();
    let mut rows = Vec::new();
    let mut expect: BTreeMap<String, &str> = BTreeMap::new();
    for (k, [id, a, m, c, d]) in txs.iter().enumerate() {
        let paid = |st: &'static str, amount: &str| {
            (
                id.clone(),
                a.clone(),
                amount.to_string(),
                c.clone(),
                st,
                d.clone(),
            )
        };
        match k {
            0 => expect.insert(id.clone(), "UNPAID"),
            1 => {
                rows.push(paid("FAILED", m));
                expect.insert(id.clone(), "FAILED")
            }
            2 => {
                rows.push(paid("SETTLED", m));
                rows.push(paid("RETURNED", m));
                expect.insert(id.clone(), "RETURNED")
            }
            3 => {
                rows.push(paid("SETTLED", m));
                rows.push(paid("SETTLED", m));
                expect.insert(id.clone(), "DOUBLE_PAID")
            }
            4 => {
                // Overpaid by exactly one major unit.
                let (int, frac) = m.split_once('.').unwrap_or((m, ""));
                let more = format!(
                    "{}{}{}",
                    int.parse::<u64>().unwrap() + 1,
                    if frac.is_empty() { "" } else { "." },
                    frac
                );
                rows.push(paid("SETTLED", &more));
                expect.insert(id.clone(), "OVERPAID")
            }
            _ => {
                rows.push(paid("SETTLED", m));
                expect.insert(id.clone(), "PAID")
            }
        };
    }
    let set = t.path().join("settlements.csv");
    write_settlements(&set, &rows);
    let results = t.path().join("results");
    let s = reconcile(&out.join("instructions.parquet"), &set, &results);
    assert_eq!(s["counts"]["by_status"]["PAID"], 3, "{s}");

    let retry = |dir: &Path| retry_run(&results, dir, &ledger);
    let r1 = t.path().join("retry1");
    let o = retry(&r1);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let s = json(&o);
    assert_eq!(s["counts"]["retried"], 3, "{s}");
    assert_eq!(s["counts"]["recovery"], 2, "{s}");
    assert_eq!(s["counts"]["retry_no_action"]["PAID"], 3, "{s}");
    let files = snapshot(&r1);
    let again = transactions(&r1);
    assert_eq!(again.len(), 3);
    for [id, _, _, _, d] in &again {
        assert!(id.starts_with("SV2-"), "{id}");
        assert_eq!(d, "2026-12-04");
    }
    let recovery = text(&files["recovery.csv"]);
    let mut lines = recovery.lines();
    assert_eq!(
        lines.next().unwrap(),
        "file,row,original_instruction_id,beneficiary_id,program,cycle,provider,account,currency,status,amount,paid_amount,amount_to_recover"
    );
    let rec: Vec<&str> = lines.collect();
    assert_eq!(rec.len(), 2, "{recovery}");
    for line in &rec {
        let id = line.split(',').nth(2).unwrap();
        let status = expect[id];
        assert!(line.contains(status), "{line}");
        let to_recover = line.rsplit(',').next().unwrap();
        let (_, _, m, _, _, _) = rows.iter().find(|r| r.0 == id).unwrap();
        if status == "DOUBLE_PAID" {
            assert_eq!(to_recover, m, "{line}");
        } else {
            assert!(to_recover.starts_with("1."), "{line}");
        }
        // Never in a payment file.
        assert!(!again.iter().any(|t| t[0] == id));
    }
    // The same retry again issues nothing new.
    let o = retry(&t.path().join("retry2"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let s = json(&o);
    assert_eq!(s["counts"]["retried"], 0, "{s}");
    assert_eq!(s["counts"]["holds_by_reason"]["already_issued"], 3, "{s}");
}

/// The committed reconciliation output under testdata/disburse/retry/results can be
/// retried: its UNPAID/FAILED/RETURNED rows go out, its DOUBLE_PAID/OVERPAID rows do not.
#[test]
fn retry_from_the_committed_reconciliation_output() {
    let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/disburse/retry/results");
    let t = tempfile::tempdir().unwrap();
    let o = retry_run(&results, &t.path().join("out"), &t.path().join("l.db"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let s = json(&o);
    let c = &s["counts"];
    assert_eq!(
        c["retry_in"].as_u64().unwrap(),
        c["retried"].as_u64().unwrap()
            + c["retry_held"].as_u64().unwrap()
            + c["recovery"].as_u64().unwrap()
            + c["retry_no_action"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v.as_u64().unwrap())
                .sum::<u64>()
    );
    assert!(c["retried"].as_u64().unwrap() > 0, "{c}");
    assert!(c["recovery"].as_u64().unwrap() > 0, "{c}");
}

/// A reconciliation of instructions disburse did not issue (the bundled demo month, ids
/// like `INS-...`): their retries are held `unknown_original` (no attempt to continue),
/// recovery rows are still listed, and every reconciled row is accounted for.
#[test]
fn retry_of_ids_not_issued_by_disburse_is_held() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/demo");
    let t = tempfile::tempdir().unwrap();
    let results = t.path().join("results");
    let s = reconcile(
        &demo.join("instructions"),
        &demo.join("settlements"),
        &results,
    );
    let by = &s["counts"]["by_status"];
    let n = |k: &str| by[k].as_u64().unwrap_or(0);
    let o = retry_run(&results, &t.path().join("out"), &t.path().join("l.db"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let c = json(&o)["counts"].clone();
    assert_eq!(c["retried"], 0, "{c}");
    assert_eq!(
        c["holds_by_reason"]["unknown_original"].as_u64().unwrap(),
        n("UNPAID") + n("FAILED") + n("RETURNED"),
        "{c}"
    );
    assert_eq!(
        c["recovery"].as_u64().unwrap(),
        n("DOUBLE_PAID") + n("OVERPAID"),
        "{c}"
    );
    let holds = text(&std::fs::read(t.path().join("out/holds.csv")).unwrap());
    assert!(
        holds.contains("was not issued by sverka disburse"),
        "{holds}"
    );
}

#[test]
fn a_folder_holding_a_reconciliation_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/demo");
    let o = common::reconcile(
        &demo.join("instructions"),
        &demo.join("settlements"),
        &out,
        &["--quiet"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = disburse(&out, &t.path().join("ledger.db"), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains(
            "the folder holds the outputs of a reconcile run; give disburse its own --out folder"
        ),
        "{}",
        text(&o.stderr)
    );
}
