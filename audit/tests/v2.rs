//! The auditor's view of CONTRACT.md version 2 outputs: `sverka verify` on folders with
//! settlements without amount, currency or account (golden cases 084, 087), row-by-row
//! conservation through the lineage columns (`file`, `row`, `format`) catching each kind
//! of tampering, failed control checks without their warning, and the report's "Input
//! files" section (bounded, escaped, the same bytes from a run and from the folder).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use serde_json::{json, Value};
use sverka_audit::verify::{verify, VerifyReport};
use sverka_audit::AuditFinish;
use sverka_engine::{ReconcileConfig, Settings, Silent};

fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/cases")
        .join(name)
}

/// Reconciles with report and manifest, as `sverka reconcile` does.
fn run(instructions: &[PathBuf], settlements: &[PathBuf]) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let cfg = ReconcileConfig {
        instructions: instructions.to_vec(),
        settlements: settlements.to_vec(),
        out: out.path().to_path_buf(),
        csv: false,
        settings: Settings::default(),
        providers: Default::default(),
        decisions: Vec::new(),
    };
    sverka_engine::reconcile_with(&cfg, &Silent, &AuditFinish::new(true)).expect("reconcile");
    out
}

fn run_case(name: &str) -> tempfile::TempDir {
    let dir = case(name);
    let set = if dir.join("settlements").is_dir() {
        dir.join("settlements")
    } else {
        dir.join("settlements.csv")
    };
    run(&[dir.join("instructions.csv")], &[set])
}

fn check(dir: &Path) -> VerifyReport {
    verify(dir, &[]).expect("a folder that can be checked")
}

fn assert_holds(dir: &Path) {
    let r = check(dir);
    assert!(r.discrepancies.is_empty(), "{}", r.text());
    assert!(r.text().contains("ALL HOLDS"));
}

/// Verify fails and its text holds every needle.
fn assert_caught(dir: &Path, needles: &[&str]) -> String {
    let text = check(dir).text();
    assert!(text.contains("DISCREPANCIES"), "{text}");
    for n in needles {
        assert!(text.contains(n), "missing {n:?} in:\n{text}");
    }
    text
}

fn read_pq(path: &Path) -> Vec<RecordBatch> {
    let f = std::fs::File::open(path).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

/// The rows of `path` as one batch, changed by `edit`, written back.
fn rewrite(path: &Path, edit: impl Fn(RecordBatch) -> RecordBatch) {
    let batches = read_pq(path);
    let one = arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap();
    let b = edit(one);
    let f = std::fs::File::create(path).unwrap();
    let mut w = ArrowWriter::try_new(f, b.schema(), None).unwrap();
    w.write(&b).unwrap();
    w.close().unwrap();
}

/// `b` with column `name` replaced.
fn with_column(b: &RecordBatch, name: &str, a: ArrayRef) -> RecordBatch {
    let i = b.schema().index_of(name).unwrap();
    let mut cols = b.columns().to_vec();
    cols[i] = a;
    RecordBatch::try_new(b.schema(), cols).unwrap()
}

fn ints(b: &RecordBatch, name: &str) -> Vec<i64> {
    let a = b.column(b.schema().index_of(name).unwrap());
    let a = a.as_any().downcast_ref::<Int64Array>().unwrap();
    a.values().to_vec()
}

fn texts(b: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let a = b.column(b.schema().index_of(name).unwrap());
    let a = a.as_any().downcast_ref::<StringArray>().unwrap();
    (0..a.len())
        .map(|i| (!a.is_null(i)).then(|| a.value(i).to_string()))
        .collect()
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

/// Re-computes the manifest's entry for `name` and its own hash, as a forger would: what
/// remains is what the re-derivation finds.
fn reseal(dir: &Path, name: &str) {
    let path = dir.join("manifest.json");
    let mut m: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let data = std::fs::read(dir.join(name)).unwrap();
    for o in m["outputs"].as_array_mut().unwrap() {
        if o["name"] == name {
            o["size"] = json!(data.len());
            o["sha256"] = json!(sha256_hex(&data));
            if name.ends_with(".parquet") {
                let rows: usize = read_pq(&dir.join(name)).iter().map(|b| b.num_rows()).sum();
                o["rows"] = json!(rows);
            }
        }
    }
    let mut obj = m.as_object().unwrap().clone();
    obj.remove("manifest_sha256");
    let h = sverka_audit::manifest::hash(&obj);
    obj.insert("manifest_sha256".into(), json!(h));
    std::fs::write(path, serde_json::to_string_pretty(&obj).unwrap() + "\n").unwrap();
}

fn edit_rows(dir: &Path, name: &str, edit: impl Fn(RecordBatch) -> RecordBatch) {
    rewrite(&dir.join(name), edit);
    reseal(dir, name);
}

fn edit_summary(dir: &Path, edit: impl Fn(&mut Value)) {
    let path = dir.join("summary.json");
    let mut s: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut s);
    std::fs::write(&path, serde_json::to_string_pretty(&s).unwrap() + "\n").unwrap();
    reseal(dir, "summary.json");
}

// ---------------------------------------------------------------------------------------
// Settlements without amount, currency or account

#[test]
fn failed_settlements_without_amount_or_currency_verify_and_report() {
    for name in [
        "084-v2-failed-without-amount-or-currency",
        "085-v2-settlement-without-account",
        "086-v2-no-fallback-without-amount-or-currency",
        "087-v2-no-currency-mismatch-from-empty",
        "089-v2-lineage-columns",
    ] {
        let d = run_case(name);
        let r = check(d.path());
        assert!(r.discrepancies.is_empty(), "{name}:\n{}", r.text());
        assert!(
            r.checked
                .iter()
                .any(|c| c.starts_with("lineage: each of the")),
            "{name}: {:?}",
            r.checked
        );
        // The report a run writes is the report of its folder.
        let written = std::fs::read_to_string(d.path().join("report.html")).unwrap();
        let again = sverka_audit::report::render_folder(d.path()).unwrap();
        assert!(written == again, "{name}: report differs from the folder's");
        assert!(written.contains("id=\"input-files\""), "{name}");
        if name.starts_with("085") {
            // UZC-202, unexpected and without an account: "—" in its table.
            let t = written
                .split("data-finding=\"UNEXPECTED\" data-currency=\"UZS\"")
                .nth(1)
                .unwrap();
            assert!(
                t.contains(
                    "<td class=\"id\">UZC-202</td><td class=\"id\"></td><td class=\"id\">—</td>"
                ),
                "{t}"
            );
        }
    }
}

#[test]
fn null_currency_rows_are_as_the_contract_says() {
    let d = run_case("087-v2-no-currency-mismatch-from-empty");
    let b = &read_pq(&d.path().join("settlements.parquet"))[0];
    // UZC-401 and UZC-403 have no currency and no amount; UZC-404 a currency, no amount.
    let ccy = texts(b, "currency");
    assert_eq!(
        ccy,
        [None, Some("UZS".into()), None, Some("USD".into())].to_vec()
    );
    let amount = b.column(b.schema().index_of("amount").unwrap());
    assert_eq!(
        (0..4).map(|i| amount.is_null(i)).collect::<Vec<_>>(),
        [true, false, true, true]
    );
    assert_holds(d.path());
    // A null-currency row turned SETTLED: it would have to count somewhere.
    edit_rows(d.path(), "settlements.parquet", |b| {
        let mut st = texts(&b, "status");
        st[0] = Some("SETTLED".into());
        with_column(&b, "status", Arc::new(StringArray::from(st)))
    });
    assert_caught(
        d.path(),
        &["settlements.parquet: row 1 status: expected FAILED (the row has no amount), found SETTLED"],
    );
}

#[test]
fn a_currency_given_to_a_null_row_is_caught_in_the_totals() {
    let d = run_case("084-v2-failed-without-amount-or-currency");
    assert_holds(d.path());
    // The row now counts as a UZS failure: the summary's failed_count disagrees.
    edit_rows(d.path(), "settlements.parquet", |b| {
        let mut c = texts(&b, "currency");
        assert_eq!(c[0], None);
        c[0] = Some("UZS".into());
        with_column(&b, "currency", Arc::new(StringArray::from(c)))
    });
    assert_caught(
        d.path(),
        &["summary.json: totals.UZS.failed_count: expected 2, found 1"],
    );
}

// ---------------------------------------------------------------------------------------
// Lineage: every input row exactly once

/// 089: instructions.csv (3 rows, row 2 rejected), settlements/a.csv (1), settlements/b.csv (2).
fn lineage_folder() -> tempfile::TempDir {
    let d = run_case("089-v2-lineage-columns");
    assert_holds(d.path());
    d
}

#[test]
fn a_tampered_row_number_is_caught() {
    let d = lineage_folder();
    // Settlement 2 (b.csv row 1) claims to be b.csv row 2: row 2 twice, row 1 in none.
    edit_rows(d.path(), "settlements.parquet", |b| {
        let mut r = ints(&b, "row");
        assert_eq!(r, [1, 1, 2]);
        r[1] = 2;
        with_column(&b, "row", Arc::new(Int64Array::from(r)))
    });
    let text = assert_caught(
        d.path(),
        &[
            "settlements.parquet: row 3 (file, row): expected \"",
            "settlements/b.csv\" row 2 in one output row only, found that input row again",
            "settlements/b.csv: row 1: expected one row of settlements.parquet or rejects.parquet, found in no output",
        ],
    );
    // Every count still holds: only the lineage sees it.
    assert!(text.contains("\n2 DISCREPANCIES\n"), "{text}");
    // A row beyond the file's rows.
    edit_rows(d.path(), "settlements.parquet", |b| {
        with_column(&b, "row", Arc::new(Int64Array::from(vec![1, 1, 9])))
    });
    assert_caught(
        d.path(),
        &[
            "settlements.parquet: row 3 row: expected 1 to 2 (the rows of \"",
            "found 9",
        ],
    );
}

#[test]
fn a_duplicated_row_is_caught() {
    let d = lineage_folder();
    // The reject (instructions.csv row 2) written twice.
    edit_rows(d.path(), "rejects.parquet", |b| {
        arrow_select::concat::concat_batches(&b.schema(), &[b.clone(), b.clone()]).unwrap()
    });
    assert_caught(
        d.path(),
        &[
            "rejects.parquet: row 2 (file, row): expected \"",
            "instructions.csv\" row 2 in one output row only, found that input row again",
        ],
    );
}

#[test]
fn a_missing_row_is_caught() {
    let d = lineage_folder();
    // The reject dropped: the counts disagree, and the lineage names the row.
    edit_rows(d.path(), "rejects.parquet", |b| b.slice(0, 0));
    let text = assert_caught(
        d.path(),
        &["instructions.csv: row 2: expected one row of instructions.parquet or rejects.parquet, found in no output"],
    );
    assert!(text.contains("counts.instructions_in"), "{text}");
}

#[test]
fn a_wrong_format_or_file_is_caught() {
    let d = lineage_folder();
    edit_rows(d.path(), "settlements.parquet", |b| {
        let mut f = texts(&b, "format");
        f[2] = Some("camt.053".into());
        with_column(&b, "format", Arc::new(StringArray::from(f)))
    });
    assert_caught(
        d.path(),
        &[
            "settlements.parquet: row 3 format: expected \"csv\" (the format of \"",
            "found \"camt.053\"",
        ],
    );
    let d = lineage_folder();
    edit_rows(d.path(), "instructions.parquet", |b| {
        let mut f = texts(&b, "file");
        f[0] = Some("elsewhere.csv".into());
        with_column(&b, "file", Arc::new(StringArray::from(f)))
    });
    assert_caught(
        d.path(),
        &[
            "instructions.parquet: row 1 file: expected the path of one of summary.json's instructions inputs, found \"elsewhere.csv\"",
            "instructions.csv: row 1: expected one row of instructions.parquet or rejects.parquet",
        ],
    );
    // A decision id without decisions.
    let d = lineage_folder();
    edit_rows(d.path(), "instructions.parquet", |b| {
        let mut f = texts(&b, "decision_ids");
        f[1] = Some("D-1".into());
        with_column(&b, "decision_ids", Arc::new(StringArray::from(f)))
    });
    assert_caught(
        d.path(),
        &["instructions.parquet: row 2 decision_ids: expected empty (the folder has no decisions.parquet), found \"D-1\""],
    );
}

#[test]
fn lineage_columns_missing_under_contract_2_are_a_discrepancy() {
    let d = lineage_folder();
    edit_rows(d.path(), "settlements.parquet", |b| {
        let i = b.schema().index_of("row").unwrap();
        let mut b = b;
        b.remove_column(i);
        b
    });
    assert_caught(
        d.path(),
        &["settlements.parquet: columns: expected the lineage columns of CONTRACT.md section 5 (v2), found no column row"],
    );
}

/// The same file given twice: each of its rows is two output rows (the second copy's are
/// duplicate_provider_ref rejects), which the lineage counts instead of flagging.
#[test]
fn a_path_given_twice_holds_each_row_twice() {
    let dir = case("089-v2-lineage-columns");
    let b = dir.join("settlements/b.csv");
    let d = run(&[dir.join("instructions.csv")], &[b.clone(), b]);
    assert_holds(d.path());
    let rej = read_pq(&d.path().join("rejects.parquet"));
    let n: usize = rej.iter().map(|b| b.num_rows()).sum();
    assert_eq!(n, 3, "the instruction and the second copy's two rows");
    // One of the copies' rows dropped: seen once where twice is due.
    edit_rows(d.path(), "rejects.parquet", |b| b.slice(0, 2));
    assert_caught(
        d.path(),
        &["settlements/b.csv: row 2: expected one row of settlements.parquet or rejects.parquet"],
    );
}

// ---------------------------------------------------------------------------------------
// Provider files in summary.json: control checks and the report's "Input files"

/// A statement file's description as the engine records it, with `statements` statements
/// and `checks` ok control checks followed by one failed check.
fn provider_input(path: &str, statements: usize, checks: usize) -> Value {
    let st: Vec<Value> = (0..statements)
        .map(|k| {
            json!({"id": format!("STMT-{k}"), "account": "UZ12<b>ACC</b>", "from": "2026-12-01",
                   "to": "", "entries": 2, "transactions": 3})
        })
        .collect();
    let mut ck: Vec<Value> = (0..checks)
        .map(|k| {
            json!({"statement": format!("STMT-{k}"), "check": "balance", "declared": "10.00",
                   "found": "10.00", "outcome": "ok"})
        })
        .collect();
    ck.push(
        json!({"statement": "STMT-LAST", "check": "entries", "declared": "120",
                   "found": "119", "outcome": "failed"}),
    );
    json!({"side": "settlements", "path": path, "format": "camt.053",
           "rows": 0, "bytes": 10, "sha256": "0".repeat(64),
           "provider": "UZCARD", "version": "camt.053.001.08",
           "statements": st, "control": ck,
           "notices": ["pain.002 group status RJCT without transactions: <i>none</i>"]})
}

const HOSTILE: &str = "statements/<script>alert(1)</script>.xml";

/// A folder whose summary lists one more settlement input: a provider file of `rows` 0
/// (so the figures still hold), resealed.
fn with_provider_file(d: &Path, statements: usize, checks: usize, warn: bool) {
    edit_summary(d, |s| {
        s["inputs"]
            .as_array_mut()
            .unwrap()
            .push(provider_input(HOSTILE, statements, checks));
        if warn {
            s["warnings"].as_array_mut().unwrap().push(json!(format!(
                "{HOSTILE}: statement \"STMT-LAST\": control check entries failed (declared 120, found 119); recorded because of --control-totals warn"
            )));
        }
    });
    // The manifest lists the same inputs.
    let path = d.join("manifest.json");
    let mut m: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    m["inputs"].as_array_mut().unwrap().push(json!({
        "side": "settlements", "path": HOSTILE, "size": 10, "rows": 0, "sha256": "0".repeat(64)
    }));
    std::fs::write(&path, serde_json::to_string_pretty(&m).unwrap()).unwrap();
    reseal(d, "summary.json");
}

#[test]
fn a_failed_control_check_needs_its_warning() {
    let d = lineage_folder();
    with_provider_file(d.path(), 2, 2, false);
    assert_caught(
        d.path(),
        &["summary.json: inputs[3].control[2] (failed) in warnings: expected a warning naming statements/<script>alert(1)</script>.xml, control check entries failed, declared 120, found 119, found none"],
    );
    let d = lineage_folder();
    with_provider_file(d.path(), 2, 2, true);
    assert_holds(d.path());
}

#[test]
fn the_report_lists_input_files_bounded_and_escaped() {
    let d = lineage_folder();
    with_provider_file(d.path(), 250, 300, true);
    let html = sverka_audit::report::render_folder(d.path()).unwrap();
    let section = html.split("<h2 id=\"input-files\">").nth(1).unwrap();
    let section = &section[..section.find("<h2 id=\"identity\">").unwrap()];
    assert!(html.contains("<li><a href=\"#input-files\">Input files</a></li>"));
    // Every input in the table: the CSV files and the provider file with its version,
    // provider and checks (the failed one counted and highlighted).
    assert_eq!(
        section.matches("<tr><td class=\"num\">").count(),
        3,
        "{section}"
    );
    assert!(section.contains("<td>camt.053 (camt.053.001.08)</td><td>UZCARD</td>"));
    assert!(
        section.contains("<td class=\"failed\">301, 1 failed</td>"),
        "{section}"
    );
    // Hostile values are escaped, never markup.
    assert!(!section.contains("<script>") && !section.contains("<b>ACC"));
    assert!(section.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;.xml"));
    assert!(section.contains("UZ12&lt;b&gt;ACC&lt;&#x2f;b&gt;"));
    assert!(section.contains("&lt;i&gt;none&lt;&#x2f;i&gt;"));
    // At most 200 statements, then the rest counted; an empty period end as "—".
    // (Each listed check names its statement too.)
    assert_eq!(section.matches("<td class=\"id\">STMT-").count(), 200 + 200);
    assert!(section.contains("and 50 more statements"));
    assert!(section.contains("<td>2026-12-01</td><td>—</td>"));
    // At most 200 checks, the failed one kept although it comes last.
    assert!(section.contains("and 101 more control checks"));
    assert!(section.contains(
        "<tr class=\"failed\"><td class=\"id\">STMT-LAST</td><td>entries</td><td class=\"num\">120</td><td class=\"num\">119</td><td class=\"outcome\">failed</td></tr>"
    ));
    // The rendering does not depend on anything but the folder.
    assert_eq!(html, sverka_audit::report::render_folder(d.path()).unwrap());
}

/// Real bank statements (testdata/formats/PROVENANCE.md: Nordea's camt.053 sample via
/// genkgo/camt and genkgo's own v08 file, MIT), read with `--control-totals warn`: the
/// genkgo file's balances do not add up, so its check is recorded as failed with a
/// warning. Every transaction is a settlement or a reject of its file (format camt.053),
/// verify holds, and the report lists each statement and check, the failed one highlighted.
#[test]
fn real_statements_with_a_failed_control_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/formats/camt053");
    let (nordea, genkgo) = (
        root.join("real-nordea-v02.xml"),
        root.join("real-genkgo-v08.xml"),
    );
    let out = tempfile::tempdir().unwrap();
    let cfg = ReconcileConfig {
        instructions: vec![case("089-v2-lineage-columns").join("instructions.csv")],
        settlements: vec![
            PathBuf::from(format!("NORDEA={}", nordea.display())),
            PathBuf::from(format!("GENKGO={}", genkgo.display())),
        ],
        out: out.path().to_path_buf(),
        csv: false,
        settings: Settings::default(),
        providers: sverka_engine::ProviderOptions {
            control_warn: true,
            ..Default::default()
        },
        decisions: Vec::new(),
    };
    let o = sverka_engine::reconcile_with(&cfg, &Silent, &AuditFinish::new(true)).unwrap();
    let d = out.path();
    let c = &o.summary.counts;
    assert!(
        c.settlements_accepted > 0 && c.rejects.settlements > 0,
        "{c:?}"
    );
    assert_holds(d);
    let b = &read_pq(&d.join("settlements.parquet"))[0];
    assert!(texts(b, "format")
        .iter()
        .all(|f| f.as_deref() == Some("camt.053")));
    assert!(texts(b, "file")
        .iter()
        .all(|f| f.as_deref() == Some(nordea.to_str().unwrap())));
    let html = std::fs::read_to_string(d.join("report.html")).unwrap();
    assert_eq!(html, sverka_audit::report::render_folder(d).unwrap());
    let section = html.split("<h2 id=\"input-files\">").nth(1).unwrap();
    let section = &section[..section.find("<h2 id=\"identity\">").unwrap()];
    assert!(
        section.contains("<td>camt.053 (camt.053.001.08)</td><td>GENKGO</td>"),
        "{section}"
    );
    assert!(
        section.contains("<td class=\"failed\">1, 1 failed</td>"),
        "{section}"
    );
    assert!(section.contains("<td class=\"id\">253EURNL26VAYB8060476890</td><td class=\"id\">NL26VAYB8060476890</td><td>2007-10-18</td>"), "{section}");
    assert!(section.contains("<tr class=\"failed\"><td class=\"id\">253EURNL26VAYB8060476890</td><td>balance OPBD + CRDT - DBIT = CLBD</td><td class=\"num\">-27.00</td>"), "{section}");
    assert!(
        section.contains("<td class=\"outcome\">ok</td>"),
        "{section}"
    );
    // The warning removed from the summary (and the manifest resealed): caught.
    edit_summary(d, |s| s["warnings"] = json!([]));
    assert_caught(
        d,
        &["summary.json: inputs[2].control[0] (failed) in warnings: expected a warning naming"],
    );
}

// ---------------------------------------------------------------------------------------
// Decisions (CONTRACT.md section 8)

/// Case 105 (every refusal, two applied decisions) reconciled with its decision files.
fn decisions_folder() -> tempfile::TempDir {
    let dir = case("105-v2-decision-refusals");
    let out = tempfile::tempdir().unwrap();
    let cfg = ReconcileConfig {
        instructions: vec![dir.join("instructions.csv")],
        settlements: vec![dir.join("settlements.csv")],
        out: out.path().to_path_buf(),
        csv: false,
        settings: Settings::default(),
        providers: Default::default(),
        decisions: vec![dir.join("decisions")],
    };
    sverka_engine::reconcile_with(&cfg, &Silent, &AuditFinish::new(true)).expect("reconcile");
    out
}

/// Column `name` with row `i` replaced by `v`.
fn set_text(b: &RecordBatch, name: &str, i: usize, v: &str) -> RecordBatch {
    let mut col = texts(b, name);
    col[i] = Some(v.to_string());
    with_column(b, name, Arc::new(StringArray::from(col)))
}

fn row_of(b: &RecordBatch, name: &str, value: &str) -> usize {
    texts(b, name)
        .iter()
        .position(|v| v.as_deref() == Some(value))
        .unwrap()
}

#[test]
fn decisions_verify_and_every_tampering_is_caught() {
    let d = decisions_folder();
    assert_holds(d.path());
    assert!(check(d.path()).text().contains("decisions: 13 re-counted"));

    // A MANUAL match's decision id taken off its settlement.
    let d = decisions_folder();
    edit_rows(d.path(), "settlements.parquet", |b| {
        let i = row_of(&b, "match_method", "MANUAL");
        set_text(&b, "decision_ids", i, "")
    });
    assert_caught(d.path(), &["decision_ids", "E-9"]);

    // A MANUAL match whose decision is no longer applied.
    let d = decisions_folder();
    edit_rows(d.path(), "decisions.parquet", |b| {
        let i = row_of(&b, "decision_id", "E-9");
        set_text(&b, "outcome", i, "PENDING")
    });
    assert_caught(
        d.path(),
        &["an applied MATCH decision naming it", "decisions.applied"],
    );

    // An applied decision approved by its maker.
    let d = decisions_folder();
    edit_rows(d.path(), "decisions.parquet", |b| {
        let i = row_of(&b, "decision_id", "E-5");
        set_text(&b, "approved_by", i, "aziz.k")
    });
    assert_caught(
        d.path(),
        &["(E-5) approved_by", "a name other than decided_by"],
    );

    // An ACCEPTED flag no decision backs.
    let d = decisions_folder();
    edit_rows(d.path(), "instructions.parquet", |b| {
        set_text(&b, "flags", 0, "ACCEPTED")
    });
    assert_caught(
        d.path(),
        &["flags ACCEPTED", "absent (no applied decision)"],
    );

    // The summary's counts.
    let d = decisions_folder();
    edit_summary(d.path(), |s| s["decisions"]["refused"] = json!(7));
    assert_caught(d.path(), &["decisions.refused"]);
}

#[test]
fn without_decisions_no_row_is_decided() {
    let d = run_case("024-reference-match-whatever-differs");
    assert_holds(d.path());
    edit_rows(d.path(), "settlements.parquet", |b| {
        let i = row_of(&b, "match_method", "REFERENCE");
        set_text(&b, "match_method", i, "MANUAL")
    });
    assert_caught(d.path(), &["MANUAL matches", "no decisions.parquet"]);
}
