//! End-to-end runs of the `sverka` binary: exit codes, messages, atomic replace, --csv,
//! --json, --fail-on, thread-count independence.

mod common;
#[path = "../../engine/tests/common/summary.rs"]
mod summary_schema;
use common::{bin, reconcile, text};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/cases")
        .join(name)
}

const CASE: &str = "059-flags-combined-alphabetical";

/// Reconciles a golden case's `instructions.csv` and `settlements.csv`.
fn run_case(case: &Path, out: &Path, extra: &[&str]) -> Output {
    reconcile(
        &case.join("instructions.csv"),
        &case.join("settlements.csv"),
        out,
        extra,
    )
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn reconciles_and_prints_the_closing_screen() {
    let c = case(CASE);
    let out = tempfile::tempdir().unwrap();
    let o = run_case(&c, out.path(), &["--csv"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let screen = text(&o.stdout);
    for needle in ["instructions", "status", "flags", "totals", "UZS", "files"] {
        assert!(screen.contains(needle), "{screen}");
    }
    let names: Vec<String> = snapshot(out.path()).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "instructions.csv",
            "instructions.parquet",
            "manifest.json",
            "rejects.csv",
            "rejects.parquet",
            "report.html",
            "settlements.csv",
            "settlements.parquet",
            "summary.json"
        ]
    );
}

#[test]
fn json_and_quiet() {
    let c = case(CASE);
    let out = tempfile::tempdir().unwrap();
    let o = run_case(&c, out.path(), &["--json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let on_disk: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(v, on_disk);
    let o = run_case(&c, out.path(), &["--quiet"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty() && o.stderr.is_empty());
}

#[test]
fn fail_on_gives_exit_3_with_outputs_written() {
    let c = case("036-status-unpaid");
    let out = tempfile::tempdir().unwrap();
    let o = run_case(&c, out.path(), &["--fail-on", "DOUBLE_PAID,UNPAID"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("UNPAID"));
    assert!(out.path().join("summary.json").exists());
    let o = run_case(&c, out.path(), &["--fail-on", "DOUBLE_PAID"]);
    assert_eq!(o.status.code(), Some(0));
    let o = run_case(&c, out.path(), &["--fail-on", "PAYED"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("PAYED"));
}

#[test]
fn bad_input_is_exit_2_and_leaves_earlier_outputs_untouched() {
    let c = case(CASE);
    let out = tempfile::tempdir().unwrap();
    let o = run_case(&c, out.path(), &["--csv"]);
    assert_eq!(o.status.code(), Some(0));
    let before = snapshot(out.path());
    // The manifest and the report are part of what must stay untouched.
    for name in ["manifest.json", "report.html", "summary.json"] {
        assert!(before.iter().any(|(n, _)| n == name), "{name} written");
    }

    let bad = case("072-error-missing-column-instructions");
    let o = reconcile(
        &bad.join("instructions.csv"),
        &c.join("settlements.csv"),
        out.path(),
        &["--csv"],
    );
    assert_eq!(o.status.code(), Some(2));
    let msg = text(&o.stderr);
    assert!(
        msg.contains("instructions.csv") && msg.contains("missing required column"),
        "{msg}"
    );
    assert_eq!(
        snapshot(out.path()),
        before,
        "a failed run must not touch earlier outputs"
    );

    let o = reconcile(
        Path::new("/no/such/file.csv"),
        &c.join("settlements.csv"),
        out.path(),
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("/no/such/file.csv"));
    assert_eq!(snapshot(out.path()), before);
}

#[test]
fn bad_arguments_are_exit_2() {
    let o = bin()
        .args(["reconcile", "--instructions", "x.csv"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let c = case(CASE);
    let out = tempfile::tempdir().unwrap();
    for extra in [
        &["--outlier-factor", "abc"][..],
        &["--threads", "0"],
        &["--late-days", "-1"],
    ] {
        let o = run_case(&c, out.path(), extra);
        assert_eq!(o.status.code(), Some(2), "{extra:?}");
    }
}

#[test]
fn outputs_are_byte_identical_for_any_thread_count() {
    let c = case(CASE);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for (dir, t) in [(&a, "1"), (&b, "2")] {
        let o = run_case(&c, dir.path(), &["--csv", "--threads", t]);
        assert_eq!(o.status.code(), Some(0));
    }
    assert_eq!(snapshot(a.path()), snapshot(b.path()));
}

#[test]
fn csv_copies_are_safe_for_spreadsheets() {
    let dir = tempfile::tempdir().unwrap();
    let ins = dir.path().join("ins.csv");
    let set = dir.path().join("set.csv");
    std::fs::write(
        &ins,
        "instruction_id,beneficiary_id,program,cycle,provider,account,amount,currency,due_date\n\
         =HYPERLINK(\"x\"),@SUM(A1),+P,-C,P1,A1,100.00,UZS,2026-11-05\n",
    )
    .unwrap();
    std::fs::write(
        &set,
        "provider,provider_ref,instruction_id,account,amount,fee,currency,status,value_date\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = reconcile(&ins, &set, &out, &["--csv"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let csv = std::fs::read_to_string(out.join("instructions.csv")).unwrap();
    let row = csv.lines().nth(1).unwrap();
    assert!(
        row.starts_with("\"'=HYPERLINK(\"\"x\"\")\",'@SUM(A1),'+P,'-C,P1,A1,100.00,UZS"),
        "{row}"
    );
    assert!(
        row.contains(",-100.00,"),
        "difference stays a number: {row}"
    );
    assert!(
        text(&o.stderr).contains("no data rows"),
        "empty settlement file warns"
    );
}

/// `sverka score` of a results folder against the demo's ground truth.
fn score_demo(results: &Path) -> Output {
    bin()
        .args(["score", "--truth"])
        .arg(demo().join("truth"))
        .arg("--results")
        .arg(results)
        .output()
        .unwrap()
}

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/demo")
}

/// The README's sample: every status, flag and reject reason occurs, and the results
/// agree fully with the data set's ground truth.
#[test]
fn demo_covers_every_finding_and_scores_full_agreement() {
    let out = tempfile::tempdir().unwrap();
    let o = reconcile(
        &demo().join("instructions"),
        &demo().join("settlements"),
        out.path(),
        &["--json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(demo().join("../../schemas/reconcile-v2.json")).unwrap(),
    )
    .unwrap();
    let c = &s["counts"];
    for st in schema["statuses"].as_array().unwrap() {
        assert!(
            c["by_status"][st.as_str().unwrap()].as_u64().unwrap_or(0) > 0,
            "status {st}"
        );
    }
    for f in schema["instruction_flags"]
        .as_array()
        .unwrap()
        .iter()
        .chain(schema["settlement_flags"].as_array().unwrap())
        // A person's decisions give these (section 8): golden cases 102-105 cover them.
        .filter(|f| !matches!(f.as_str(), Some("ACCEPTED" | "MANUAL_MATCH")))
    {
        assert!(
            c["by_flag"][f.as_str().unwrap()].as_u64().unwrap_or(0) > 0,
            "flag {f}"
        );
    }
    // The section 7 reasons come from provider files, which the demo (the contract's own
    // layout) has none of; golden cases 090-097 cover them (engine/tests/golden.rs).
    let provider_only = [
        "not_booked",
        "not_a_payment",
        "not_final",
        "batch_without_details",
    ];
    for r in schema["reject_reasons"].as_array().unwrap() {
        let r = r.as_str().unwrap();
        if provider_only.contains(&r) {
            continue;
        }
        let n = c["rejects_by_reason"]["instructions"][r]
            .as_u64()
            .unwrap_or(0)
            + c["rejects_by_reason"]["settlements"][r]
                .as_u64()
                .unwrap_or(0);
        assert!(n > 0, "reject reason {r}");
    }
    let o = score_demo(out.path());
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert!(text(&o.stdout).contains("FULL AGREEMENT"));
}

#[test]
fn score_catches_a_tampered_result() {
    let out = tempfile::tempdir().unwrap();
    let o = reconcile(
        &demo().join("instructions"),
        &demo().join("settlements"),
        out.path(),
        &["--quiet", "--late-days", "0"],
    );
    assert_eq!(o.status.code(), Some(0));
    let o = score_demo(out.path());
    assert_eq!(
        o.status.code(),
        Some(1),
        "different settings must disagree with the truth"
    );
}

#[test]
fn generate_with_rate_settings_scores_full_agreement() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("g");
    let o = bin()
        .args(["generate", "--instructions", "3000", "--profile", "clean"])
        .args([
            "--rate",
            "fallback=5%",
            "--rate",
            "resent_settlement=20000",
            "--out",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("profile clean with fallback=5% resent_settlement=20000"),
        "{}",
        text(&o.stdout)
    );
    let out = dir.path().join("out");
    let o = reconcile(
        &data.join("instructions"),
        &data.join("settlements"),
        &out,
        &["--json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(s["counts"]["by_flag"]["FALLBACK_MATCH"].as_u64().unwrap() > 0);
    // The generated set's summary.json matches its schema and reads back as a `Summary`;
    // --json printed the same bytes.
    let path = out.join("summary.json");
    assert_eq!(o.stdout, std::fs::read(&path).unwrap());
    assert_eq!(summary_schema::summary_errors(&path), Vec::<String>::new());
    let o = bin()
        .args(["score", "--truth"])
        .arg(data.join("truth"))
        .arg("--results")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    // A rate that does not exist is a usage error naming the rates; nothing is written.
    let bad = dir.path().join("bad");
    let o = bin()
        .args([
            "generate",
            "--instructions",
            "10",
            "--rate",
            "fallbak=1%",
            "--out",
        ])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("unknown rate \"fallbak\": the rates are unpaid,"));
    assert!(!bad.exists());
}

#[test]
fn generate_is_deterministic() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for d in [&a, &b] {
        let o = bin()
            .args([
                "generate",
                "--instructions",
                "2000",
                "--seed",
                "9",
                "--quiet",
                "--out",
            ])
            .arg(d.path().join("g"))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    }
    let files = |d: &Path| -> Vec<(PathBuf, Vec<u8>)> {
        let mut v = Vec::new();
        for sub in ["instructions", "settlements", "truth"] {
            for e in std::fs::read_dir(d.join("g").join(sub)).unwrap() {
                let p = e.unwrap().path();
                v.push((
                    p.strip_prefix(d).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
        v.sort();
        v
    };
    assert_eq!(files(a.path()), files(b.path()));
}

/// When the reader of stdout goes away (`sverka reconcile ... --json | head`), sverka
/// stops quietly: exit 0, nothing on stderr, the outputs written.
#[test]
fn stops_quietly_when_stdout_is_closed() {
    let c = case(CASE);
    for extra in [&["--json"][..], &[]] {
        let out = tempfile::tempdir().unwrap();
        let mut child = bin()
            .arg("reconcile")
            .arg("--instructions")
            .arg(c.join("instructions.csv"))
            .arg("--settlements")
            .arg(c.join("settlements.csv"))
            .arg("--out")
            .arg(out.path())
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Closed before sverka prints anything, so that its first write fails (EPIPE).
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{extra:?}: {}", text(&o.stderr));
        assert_eq!(text(&o.stderr), "", "{extra:?}");
        assert!(out.path().join("summary.json").exists(), "{extra:?}");
    }
}

/// Reconciles a golden case's instructions with the settlement arguments given.
/// `sverka reconcile` of these inputs with a providers file.
fn reconcile_with(instructions: &Path, settlements: &Path, providers: &Path, out: &Path) -> Output {
    bin()
        .arg("reconcile")
        .arg("--instructions")
        .arg(instructions)
        .arg("--settlements")
        .arg(settlements)
        .arg("--providers")
        .arg(providers)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

fn reconcile_args(case: &Path, out: &Path, args: &[String]) -> Output {
    let mut cmd = bin();
    cmd.arg("reconcile")
        .arg("--instructions")
        .arg(case.join("instructions.csv"))
        .arg("--out")
        .arg(out)
        .arg("--settlements");
    cmd.args(args).output().unwrap()
}

#[test]
fn provider_files_with_providers_file_code_and_control_totals() {
    // A camt.053 whose account the providers file lists.
    let c = case("090-v2-camt053-statement");
    let out = tempfile::tempdir().unwrap();
    let stmt = c.join("settlements").display().to_string();
    let providers = c.join("providers.toml").display().to_string();
    let o = reconcile_args(
        &c,
        &out.path().join("a"),
        &[stmt.clone(), "--providers".into(), providers],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // Without the providers file the account names no provider: exit 2 with both fixes.
    let o = reconcile_args(&c, &out.path().join("b"), std::slice::from_ref(&stmt));
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("20210000900100001001")
            && err.contains("statement_accounts")
            && err.contains("CODE=PATH"),
        "{err}"
    );
    // CODE=PATH names it instead.
    let o = reconcile_args(&c, &out.path().join("c"), &[format!("HAMKOR={stmt}")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // A control total that disagrees: exit 2, or recorded with --control-totals warn.
    let bad = case("091-v2-control-total-mismatch")
        .join("settlements")
        .display()
        .to_string();
    let o = reconcile_args(&c, &out.path().join("d"), &[format!("HAMKOR={bad}")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("declared 7, found 6"),
        "{}",
        text(&o.stderr)
    );
    let o = reconcile_args(
        &c,
        &out.path().join("e"),
        &[
            format!("HAMKOR={bad}"),
            "--control-totals".into(),
            "warn".into(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("control check"),
        "{}",
        text(&o.stderr)
    );
    let summary = std::fs::read_to_string(out.path().join("e/summary.json")).unwrap();
    assert!(summary.contains("\"outcome\":\"failed\""), "{summary}");
    // An unknown value of --control-totals is a usage error.
    let o = reconcile_args(
        &c,
        &out.path().join("f"),
        &[stmt, "--control-totals".into(), "maybe".into()],
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_provider_report_is_read_by_its_profile_and_a_wrong_profile_stops_the_run() {
    let c = case("098-v2-profile-csv");
    let out = tempfile::tempdir().unwrap();
    let settlements = c.join("settlements").display().to_string();
    let profile = std::fs::read_to_string(c.join("providers.toml")).unwrap();
    let run = |name: &str, toml: &str| {
        let p = out.path().join(format!("{name}.toml"));
        std::fs::write(&p, toml).unwrap();
        reconcile_args(
            &c,
            &out.path().join(name),
            &[
                settlements.clone(),
                "--providers".into(),
                p.display().to_string(),
            ],
        )
    };
    let o = run("ok", &profile);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // Each wrong profile names its key (or the header's columns) and the fix.
    for (name, from, to, says) in [
        (
            "typo",
            "footer_rows",
            "footer_row",
            "unknown field `footer_row`",
        ),
        (
            "encoding",
            "windows-1251",
            "koi8-r",
            "encoding is \"koi8-r\"",
        ),
        (
            "status",
            "= \"FAILED\"",
            "= \"REJECTED\"",
            "mapped to \"REJECTED\"",
        ),
        (
            "header",
            "\"Номер карты\"",
            "\"Номер карт\"",
            "the closest is \"Номер карты\"",
        ),
        ("utf8", "windows-1251", "utf-8", "is not UTF-8"),
    ] {
        let o = run(name, &profile.replacen(from, to, 1));
        assert_eq!(o.status.code(), Some(2), "{name}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains(says),
            "{name}: {}",
            text(&o.stderr)
        );
    }
    // Two profiles claiming one file name.
    let twice = format!(
        "{profile}\n[providers.HUMO.settlements]\nfiles = [\"*.csv\"]\n[providers.HUMO.settlements.columns]\nprovider_ref = \"a\"\namount = \"b\"\ncurrency = \"c\"\nstatus = \"d\"\nvalue_date = \"e\"\n"
    );
    let o = run("twice", &twice);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("both [providers.HUMO.settlements]"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn inspect_shows_how_files_are_read_and_what_each_row_would_get() {
    let c = case("098-v2-profile-csv");
    let providers = c.join("providers.toml");
    let o = bin()
        .arg("inspect")
        .arg(c.join("settlements"))
        .arg("--providers")
        .arg(&providers)
        .args(["--rows", "3"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("format      profile:UZCARD"), "{out}");
    assert!(
        out.contains("amount=\"750000.00\" (file: \"-750 000,00\")"),
        "{out}"
    );
    assert!(out.contains("row 3  reject amount_precision"), "{out}");
    assert!(!out.contains("row 4"), "{out}");
    // JSON: every row with its values, the file's own text and its reject.
    let o = bin()
        .arg("inspect")
        .arg(c.join("settlements"))
        .arg("--providers")
        .arg(&providers)
        .arg("--json")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = v[0]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[4]["reject"]["reason"], "invalid_status");
    assert_eq!(rows[4]["values"]["status"], "В обработке");
    // A bank statement whose provider is unknown: the message reconcile gives, exit 2.
    let camt = case("090-v2-camt053-statement");
    let o = bin()
        .arg("inspect")
        .arg(camt.join("settlements"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stdout).contains("statement_accounts"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn an_xlsx_report_is_read_by_its_profile_and_a_hostile_workbook_stops_the_run() {
    let c = case("099-v2-profile-xlsx");
    let out = tempfile::tempdir().unwrap();
    let o = bin()
        .arg("inspect")
        .arg(c.join("settlements"))
        .arg("--providers")
        .arg(c.join("providers.toml"))
        .args(["--rows", "6", "--json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out_text = text(&o.stdout);
    assert!(out_text.contains("profile:HUMO"), "{out_text}");
    assert!(out_text.contains("46361.42708333334"), "{out_text}");
    let hostile =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/profiles/hostile");
    for (file, says) in [
        ("humo-bomb.xlsx", "zip bomb"),
        ("humo-hidden.xlsx", "first sheet \"Hisobot\" is hidden"),
    ] {
        let providers = out.path().join("p.toml");
        let toml = std::fs::read_to_string(c.join("providers.toml"))
            .unwrap()
            .replace("sheet = \"Hisobot\"\n", "");
        std::fs::write(&providers, toml).unwrap();
        let o = reconcile_with(
            &c.join("instructions.csv"),
            &hostile.join(file),
            &providers,
            &out.path().join(file),
        );
        assert_eq!(o.status.code(), Some(2), "{file}: {}", text(&o.stderr));
        let err = text(&o.stderr);
        assert!(err.contains(file) && err.contains(says), "{file}: {err}");
    }
}

/// The example profiles of `schemas/providers.example.toml` read their samples in
/// `testdata/profiles/` into the rows written by hand in `testdata/profiles/expected/`.
#[test]
fn the_example_profiles_read_their_samples() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = root.join("testdata/profiles");
    for sample in [
        "uzcard-2026-11.csv",
        "humo-2026-11.xlsx",
        "mpesa-600123-2026-11.csv",
    ] {
        let o = bin()
            .arg("inspect")
            .arg(dir.join(sample))
            .arg("--providers")
            .arg(root.join("schemas/providers.example.toml"))
            .args(["--rows", "100", "--json"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{sample}: {}", text(&o.stderr));
        let got: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let rows: Vec<serde_json::Value> = got[0]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let mut r = r.clone();
                // Only what the profile made of the file; the reject is section 2's.
                r.as_object_mut()
                    .unwrap()
                    .retain(|k, _| ["row", "values", "original"].contains(&k.as_str()));
                r
            })
            .collect();
        let want: Vec<serde_json::Value> = serde_json::from_str(
            &std::fs::read_to_string(dir.join("expected").join(format!("{sample}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(rows, want, "{sample}");
    }
}

#[test]
fn a_payroll_is_read_by_an_instruction_profile_and_a_wrong_one_stops_the_run() {
    let c = case("101-v2-profile-instructions");
    let out = tempfile::tempdir().unwrap();
    let toml = std::fs::read_to_string(c.join("providers.toml")).unwrap();
    let run = |name: &str, toml: &str| {
        let p = out.path().join(format!("{name}.toml"));
        std::fs::write(&p, toml).unwrap();
        reconcile_with(
            &c.join("instructions"),
            &c.join("settlements"),
            &p,
            &out.path().join(name),
        )
    };
    let o = run("ok", &toml);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let summary = std::fs::read_to_string(out.path().join("ok/summary.json")).unwrap();
    assert!(summary.contains("profile:NSNP"), "{summary}");
    let o = bin()
        .args(["inspect", "--instructions", "--rows", "4"])
        .arg(c.join("instructions"))
        .arg("--providers")
        .arg(c.join("providers.toml"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let shown = text(&o.stdout);
    assert!(
        shown.contains("amount=\"2000.00\" (file: \"2,000.00\")")
            && shown.contains("reject invalid_amount (amount: \"2,5OO.00\")"),
        "{shown}"
    );
    for (name, from, to, says) in [
        (
            "header",
            "\"Mobile number\"",
            "\"Mobile\"",
            "the closest is \"Mobile number\"",
        ),
        (
            "missing",
            "due_date = \"Payment date\"\n",
            "",
            "[instructions.NSNP] columns has no due_date",
        ),
        // Claimed by no profile, the file is read as the contract's own CSV layout.
        (
            "unclaimed",
            "files = [\"payroll-NSNP-*.csv\"]",
            "files = [\"payroll-OTHER-*.csv\"]",
            "of the header has an empty name",
        ),
    ] {
        let o = run(name, &toml.replacen(from, to, 1));
        assert_eq!(o.status.code(), Some(2), "{name}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains(says),
            "{name}: {}",
            text(&o.stderr)
        );
    }
}
