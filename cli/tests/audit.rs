//! End-to-end tests of the auditor's view (issue 6): report.html (golden, structure,
//! escaping, determinism, a real browser), manifest.json, and `sverka verify` catching
//! every kind of tampering.
//!
//! `SVERKA_BLESS=1 cargo test -p sverka --test audit` rewrites the goldens in
//! testdata/report/ (review the diff).

mod common;
use common::{bin, demo, root, text};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Decimal128Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use serde_json::Value;

/// `sverka reconcile --quiet` of the given inputs into `out`; it must succeed.
fn reconcile(ins: &Path, set: &Path, out: &Path, extra: &[&str]) {
    let args = [&["--quiet"], extra].concat();
    let o = common::reconcile(ins, set, out, &args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

fn demo_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let o = demo(d.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let manifest = d.path().join("manifest.json");
    assert_eq!(common::manifest_errors(&manifest), Vec::<String>::new());
    d
}

fn verify(dir: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let o = bin()
        .current_dir(root())
        .arg("verify")
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    (o.status.code(), text(&o.stdout) + &text(&o.stderr))
}

/// The `name` of every output entry of a manifest.
fn output_names(m: &Value) -> Vec<&str> {
    m["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect()
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Exact decimal text as an integer of its digits (same currency, same minor units).
fn digits(s: &str) -> i128 {
    s.replace('.', "").parse().unwrap()
}

/// The contents of every `<td class="num risk">` of each exception table.
fn risk_columns(html: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for part in html.split("<table class=\"exceptions\"").skip(1) {
        let table = &part[..part.find("</table>").unwrap()];
        let name = table.split('"').nth(1).unwrap().to_string();
        let cells = table
            .split("<td class=\"num risk\">")
            .skip(1)
            .map(|c| c[..c.find("</td>").unwrap()].to_string())
            .collect();
        out.push((name, cells));
    }
    out
}

fn golden(name: &str, actual: &[u8]) {
    let path = root().join("testdata/report").join(name);
    if std::env::var_os("SVERKA_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let want = std::fs::read(&path)
        .unwrap_or_else(|_| panic!("{}: missing golden (SVERKA_BLESS=1)", path.display()));
    assert!(
        want == actual,
        "{} differs from the golden; review and re-bless with SVERKA_BLESS=1",
        path.display()
    );
}

#[test]
fn demo_report_has_the_structure_and_the_headline_figures() {
    let d = demo_dir();
    let html = std::fs::read_to_string(d.path().join("report.html")).unwrap();
    let s = json(&d.path().join("summary.json"));
    // Self-contained: no script, no external resource (the SVG namespace is a name, not a fetch).
    assert!(!html.contains("<script"), "no scripts");
    let external = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(
        !external.contains("http://")
            && !external.contains("https://")
            && !external.contains("url(")
    );
    assert!(html.len() < 5 << 20);
    for id in [
        "headline",
        "risk",
        "charts",
        "amounts",
        "delays",
        "exceptions",
        "rejects",
        "input-files",
        "identity",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "section {id}");
    }
    assert!(html.contains("@media print"));
    // Identity: engine version, settings, every input with rows and SHA-256.
    assert!(html.contains(&format!(
        "sverka {}",
        s["engine"]["version"].as_str().unwrap()
    )));
    for i in s["inputs"].as_array().unwrap() {
        assert!(html.contains(i["sha256"].as_str().unwrap()));
        // minijinja's HTML escaping writes `/` as `&#x2f;`.
        let path = i["path"].as_str().unwrap().replace('/', "&#x2f;");
        assert!(html.contains(&path), "{path}");
    }
    // Headline figures per currency, exactly as summary.json has them.
    for (code, t) in s["totals"].as_object().unwrap() {
        let card = html.split(&format!("id=\"ccy-{code}\"")).nth(1).unwrap();
        let card = &card[..card.find("</table>").unwrap()];
        for k in [
            "instructed_amount",
            "settled_amount",
            "returned_amount",
            "unpaid_amount",
            "unexpected_amount",
            "fees",
        ] {
            let v = t[k].as_str().unwrap();
            assert!(
                card.contains(&format!("data-figure=\"{k}\">{v}</td>")),
                "{code} {k} {v}"
            );
        }
    }
    // UZS of the demo: 204300000.00 instructed.
    assert!(html.contains(">204300000.00<"));
    // Every finding of the demo has a table, ordered by amount at risk.
    let tables = risk_columns(&html);
    for f in [
        "UNPAID",
        "FAILED",
        "RETURNED",
        "CURRENCY_MISMATCH",
        "DOUBLE_PAID",
        "OVERPAID",
        "UNDERPAID",
        "UNEXPECTED",
        "AMBIGUOUS",
        "ACCOUNT_MISMATCH",
        "PROVIDER_MISMATCH",
        "AMOUNT_OUTLIER",
        "DUPLICATE_BENEFICIARY",
        "SHARED_ACCOUNT",
        "LATE",
        "FALLBACK_MATCH",
    ] {
        assert!(tables.iter().any(|(n, _)| n == f), "table {f}");
    }
    for (name, cells) in &tables {
        assert!(!cells.is_empty(), "{name}");
        let v: Vec<i128> = cells.iter().map(|c| digits(c)).collect();
        assert!(
            v.windows(2).all(|w| w[0] >= w[1]),
            "{name} not ordered by amount at risk: {cells:?}"
        );
    }
    // UNPAID in UZS: the amounts at risk are the instructed amounts, summing to unpaid_amount.
    let uzs_unpaid = html
        .split("data-finding=\"UNPAID\" data-currency=\"UZS\"")
        .nth(1)
        .unwrap();
    let uzs_unpaid = &uzs_unpaid[..uzs_unpaid.find("</table>").unwrap()];
    let sum: i128 = uzs_unpaid
        .split("<td class=\"num risk\">")
        .skip(1)
        .map(|c| digits(&c[..c.find("</td>").unwrap()]))
        .sum();
    assert_eq!(
        sum,
        digits(s["totals"]["UZS"]["unpaid_amount"].as_str().unwrap())
    );
    // Rejects by reason: every reason of the summary with its count.
    for side in ["instructions", "settlements"] {
        for (reason, n) in s["counts"]["rejects_by_reason"][side].as_object().unwrap() {
            assert!(
                html.contains(&format!(
                    "<td>{side}</td><td>{reason}</td><td class=\"num\">{n}</td>"
                )),
                "{side} {reason}"
            );
        }
    }
    // Charts: one stacked bar chart per (count, value) x (provider, programme), a
    // histogram per currency with the outliers marked, the delay strips.
    assert_eq!(html.matches("<h3>Status by count, per ").count(), 2);
    assert_eq!(
        html.matches("<h3>Status by value (instructed amount), per ")
            .count(),
        2
    );
    assert!(html.contains("AMOUNT_OUTLIER instructions (red)"));
    // Every outlier is marked in its bin.
    let marked: u64 = html
        .split("style=\"fill: #c0392b\">▼")
        .skip(1)
        .map(|t| t[..t.find('<').unwrap()].parse::<u64>().unwrap())
        .sum();
    assert_eq!(
        marked,
        s["counts"]["by_flag"]["AMOUNT_OUTLIER"].as_u64().unwrap()
    );
    assert!(html.contains("fill=\"#c0392b\""));
    assert!(html.contains("aria-label=\"Settlement delay by provider\""));
    golden("demo-report.html", html.as_bytes());
}

#[test]
fn report_command_rewrites_the_same_bytes_and_threads_do_not_matter() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for (d, t) in [(&a, "1"), (&b, "2")] {
        let o = demo(d.path(), &["--threads", t, "--csv"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    }
    let written = std::fs::read(a.path().join("report.html")).unwrap();
    assert_eq!(
        written,
        std::fs::read(b.path().join("report.html")).unwrap()
    );
    assert_eq!(
        std::fs::read(a.path().join("manifest.json")).unwrap(),
        std::fs::read(b.path().join("manifest.json")).unwrap()
    );
    let elsewhere = a.path().join("again.html");
    for args in [
        vec![],
        vec!["--out".to_string(), elsewhere.display().to_string()],
    ] {
        let o = bin()
            .arg("report")
            .arg(a.path())
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    }
    assert_eq!(
        std::fs::read(a.path().join("report.html")).unwrap(),
        written
    );
    assert_eq!(std::fs::read(&elsewhere).unwrap(), written);
    std::fs::remove_file(&elsewhere).unwrap();
    // Rewriting the report left the folder valid.
    assert_eq!(verify(a.path(), &[]).0, Some(0));
    let o = bin().arg("report").arg("/no/such/folder").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// Rewrites a Parquet file with row groups of `rows` rows (the reader's batches follow).
fn regroup(path: &Path, rows: usize) -> usize {
    let batches = read_pq(path);
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(rows))
        .build();
    let f = std::fs::File::create(path).unwrap();
    let mut w = ArrowWriter::try_new(f, batches[0].schema(), Some(props)).unwrap();
    for b in &batches {
        w.write(b).unwrap();
    }
    w.close().unwrap().row_groups().len()
}

/// A run builds its report from the 64K-row batches it writes; `sverka report` from the
/// files' row groups and batches. On data spanning several write batches, the two agree
/// byte for byte, also when the files are rewritten with row groups cut elsewhere (figures
/// must not depend on where batches end), and for 1 and 2 threads.
#[test]
fn report_from_the_written_batches_equals_the_report_from_the_files() {
    let d = tempfile::tempdir().unwrap();
    let g = d.path().join("g");
    let o = bin()
        .args(["generate", "--instructions", "150000", "--quiet", "--out"])
        .arg(&g)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let run = |out: &Path, threads: &str| {
        let (ins, set) = (g.join("instructions"), g.join("settlements"));
        reconcile(&ins, &set, out, &["--threads", threads]);
        std::fs::read(out.join("report.html")).unwrap()
    };
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    let written = run(&a, "2");
    assert_eq!(run(&b, "1"), written, "threads changed the report");
    let html = String::from_utf8(written.clone()).unwrap();
    // Many findings, most with more rows than a table shows: top-k merges are exercised.
    assert!(
        html.matches("data-finding=").count() >= 10,
        "findings shown"
    );
    let report_of = |dir: &Path| {
        let again = d.path().join("again.html");
        let o = bin()
            .arg("report")
            .arg(dir)
            .arg("--out")
            .arg(&again)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        std::fs::read(&again).unwrap()
    };
    assert_eq!(
        report_of(&a),
        written,
        "sverka report differs from the run's"
    );
    let ins = read_pq(&a.join("instructions.parquet"));
    assert!(ins.iter().map(|b| b.num_rows()).sum::<usize>() > 2 * 65_536);
    // Row groups (and so read batches) ending where the run's batches do not.
    for (name, rows) in [
        ("instructions.parquet", 9_999),
        ("settlements.parquet", 7_001),
        ("rejects.parquet", 333),
    ] {
        assert!(
            regroup(&b.join(name), rows) > 3,
            "{name}: several row groups"
        );
    }
    assert_eq!(report_of(&b), written, "figures depend on batch boundaries");
}

#[test]
fn hostile_ids_and_file_names_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let ins = dir.path().join("ins<img src=x>.csv");
    let set = dir.path().join("set.csv");
    std::fs::write(
        &ins,
        "instruction_id,beneficiary_id,program,cycle,provider,account,amount,currency,due_date\n\
         \"<script>alert(1)</script>\",\"B&\"\"1'\",P<b>,C,P1,A1,100.00,UZS,2026-11-05\n\
         X2,B2,P,C,P1,A2,oops,UZS,2026-11-05\n",
    )
    .unwrap();
    std::fs::write(
        &set,
        "provider,provider_ref,instruction_id,account,amount,fee,currency,status,value_date\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    reconcile(&ins, &set, &out, &[]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!html.contains("<script"), "raw script tag");
    assert!(!html.contains("<img"), "raw img tag from a file name");
    assert!(!html.contains("P<b>"));
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
        "escaped id shown"
    );
    assert!(
        html.contains("B&amp;&quot;1&#x27;"),
        "escaped beneficiary shown"
    );
    assert!(
        html.contains("ins&lt;img src=x&gt;.csv"),
        "escaped file name shown"
    );
    assert_eq!(verify(&out, &[]).0, Some(0));
}

#[test]
fn no_report_skips_the_report_and_removes_a_stale_one() {
    let d = demo_dir();
    assert!(d.path().join("report.html").exists());
    let o = demo(d.path(), &["--no-report"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        !d.path().join("report.html").exists(),
        "stale report removed"
    );
    let m = json(&d.path().join("manifest.json"));
    let names = output_names(&m);
    assert_eq!(
        names,
        [
            "instructions.parquet",
            "rejects.parquet",
            "settlements.parquet",
            "summary.json"
        ]
    );
    let (code, msg) = verify(d.path(), &[]);
    assert_eq!(code, Some(0), "{msg}");
}

#[test]
fn manifest_lists_everything_and_hashes_itself() {
    let d = tempfile::tempdir().unwrap();
    let o = demo(d.path(), &["--csv"]);
    assert_eq!(o.status.code(), Some(0));
    let bytes = std::fs::read(d.path().join("manifest.json")).unwrap();
    assert!(bytes.ends_with(b"}\n"));
    let errs = common::manifest_errors(&d.path().join("manifest.json"));
    assert_eq!(errs, Vec::<String>::new());
    let m: Value = serde_json::from_slice(&bytes).unwrap();
    let keys: Vec<&String> = m.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "manifest_version",
            "kind",
            "engine",
            "settings",
            "inputs",
            "outputs",
            "manifest_sha256"
        ]
    );
    let s = json(&d.path().join("summary.json"));
    assert_eq!(m["settings"], s["settings"]);
    assert_eq!(m["engine"]["version"], s["engine"]["version"]);
    let names = output_names(&m);
    assert_eq!(
        names,
        [
            "instructions.csv",
            "instructions.parquet",
            "rejects.csv",
            "rejects.parquet",
            "report.html",
            "settlements.csv",
            "settlements.parquet",
            "summary.json"
        ]
    );
    for o in m["outputs"].as_array().unwrap() {
        let data = std::fs::read(d.path().join(o["name"].as_str().unwrap())).unwrap();
        assert_eq!(o["size"], data.len() as u64);
        use sha2_check::sha256_hex;
        assert_eq!(o["sha256"], sha256_hex(&data));
    }
    let rows = |n: &str| {
        m["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == n)
            .unwrap()["rows"]
            .clone()
    };
    assert_eq!(
        rows("instructions.parquet"),
        s["counts"]["instructions_accepted"]
    );
    assert_eq!(
        rows("instructions.csv"),
        s["counts"]["instructions_accepted"]
    );
    assert_eq!(rows("summary.json"), Value::Null);
    let inputs = m["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 14);
    assert_eq!(
        inputs[0]["path"],
        "testdata/demo/instructions/instructions-0000.csv"
    );
    assert_eq!(inputs[0]["rows"], 400);
    // The hash: compact serialization of the object without the key (docs/AUDIT.md).
    let mut without = m.as_object().unwrap().clone();
    let h = without.remove("manifest_sha256").unwrap();
    assert_eq!(
        h,
        sha2_check::sha256_hex(&serde_json::to_vec(&without).unwrap())
    );
}

/// SHA-256 through the same crate sverka uses would prove less: this asks coreutils'
/// `sha256sum`.
mod sha2_check {
    pub fn sha256_hex(data: &[u8]) -> String {
        use std::io::Write;
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(data).unwrap();
        let o = std::process::Command::new("sha256sum")
            .arg(f.path())
            .output()
            .unwrap();
        String::from_utf8(o.stdout)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    }
}

// ---------------------------------------------------------------------------------------
// verify and tampering

fn read_pq(path: &Path) -> Vec<RecordBatch> {
    let f = std::fs::File::open(path).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

fn write_pq(path: &Path, batches: &[RecordBatch]) {
    let f = std::fs::File::create(path).unwrap();
    let mut w = ArrowWriter::try_new(f, batches[0].schema(), None).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.close().unwrap();
}

/// Adds `delta` (in the file's decimal units) to `column` of the first row.
fn edit_amount(path: &Path, column: &str, delta: i128) {
    let mut batches = read_pq(path);
    let b = &batches[0];
    let i = b.schema().index_of(column).unwrap();
    let a = b
        .column(i)
        .as_any()
        .downcast_ref::<Decimal128Array>()
        .unwrap();
    let mut v: Vec<i128> = a.values().to_vec();
    v[0] += delta;
    let new: ArrayRef = Arc::new(Decimal128Array::from(v).with_data_type(a.data_type().clone()));
    let mut cols = b.columns().to_vec();
    cols[i] = new;
    batches[0] = RecordBatch::try_new(b.schema(), cols).unwrap();
    write_pq(path, &batches);
}

fn drop_last_row(path: &Path) {
    let mut batches = read_pq(path);
    let last = batches.last().unwrap().clone();
    let n = last.num_rows();
    *batches.last_mut().unwrap() = last.slice(0, n - 1);
    write_pq(path, &batches);
}

/// Re-computes the manifest's entry for `name` and its own hash, as a forger would.
fn reseal(dir: &Path, name: &str) {
    let mut m = json(&dir.join("manifest.json"));
    let data = std::fs::read(dir.join(name)).unwrap();
    for o in m["outputs"].as_array_mut().unwrap() {
        if o["name"] == name {
            o["size"] = Value::from(data.len() as u64);
            o["sha256"] = Value::from(sha2_check::sha256_hex(&data));
            if name.ends_with(".parquet") {
                let rows: usize = read_pq(&dir.join(name)).iter().map(|b| b.num_rows()).sum();
                o["rows"] = Value::from(rows as u64);
            }
        }
    }
    let mut obj = m.as_object().unwrap().clone();
    obj.remove("manifest_sha256");
    let h = sha2_check::sha256_hex(&serde_json::to_vec(&obj).unwrap());
    obj.insert("manifest_sha256".into(), Value::from(h));
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_string_pretty(&obj).unwrap() + "\n",
    )
    .unwrap();
}

fn assert_caught(dir: &Path, needles: &[&str]) {
    let (code, msg) = verify(dir, &[]);
    assert_eq!(code, Some(1), "{msg}");
    for n in needles {
        assert!(msg.contains(n), "missing {n:?} in:\n{msg}");
    }
}

#[test]
fn verify_accepts_an_untouched_folder_and_its_inputs() {
    let d = demo_dir();
    let (code, msg) = verify(d.path(), &[]);
    assert_eq!(code, Some(0), "{msg}");
    assert!(msg.contains("ALL HOLDS"));
    let (code, msg) = verify(
        d.path(),
        &[
            "--inputs",
            "testdata/demo/instructions",
            "testdata/demo/settlements",
        ],
    );
    assert_eq!(code, Some(0), "{msg}");
    assert!(msg.contains("14 input files"), "{msg}");
    let (code, msg) = verify(d.path(), &["--json"]);
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(&msg).unwrap();
    assert_eq!(v["ok"], true);
}

#[test]
fn verify_catches_an_edited_amount() {
    let d = demo_dir();
    edit_amount(&d.path().join("instructions.parquet"), "amount", 1000);
    assert_caught(
        d.path(),
        &[
            "instructions.parquet: sha256: expected",
            "instructions.parquet: size",
        ],
    );
    // A forger who also rewrites the manifest is caught by the re-derivation.
    reseal(d.path(), "instructions.parquet");
    assert_caught(
        d.path(),
        &[
            "summary.json: totals.",
            ".instructed_amount: expected",
            "row 1 difference",
        ],
    );
}

#[test]
fn verify_catches_an_edited_settlement_amount_even_with_a_resealed_manifest() {
    let d = demo_dir();
    edit_amount(&d.path().join("settlements.parquet"), "amount", 1000);
    reseal(d.path(), "settlements.parquet");
    assert_caught(d.path(), &["summary.json: totals.", "settled_amount"]);
}

#[test]
fn verify_catches_a_dropped_row() {
    let d = demo_dir();
    drop_last_row(&d.path().join("settlements.parquet"));
    assert_caught(
        d.path(),
        &[
            "settlements.parquet: rows: expected 359, found 358",
            "settlements.parquet: sha256",
        ],
    );
    reseal(d.path(), "settlements.parquet");
    assert_caught(
        d.path(),
        &[
            "counts.settlements_accepted: expected 358, found 359",
            "settlements_in (accepted + rejected)",
            // Row by row (contract 2 lineage): the very row that is gone.
            "testdata/demo/settlements/ZAIN_CASH_JO.csv: row 8: expected one row of settlements.parquet or rejects.parquet, found in no output",
        ],
    );
}

/// Contract 2 lineage: a settlement renumbered to another row of its file leaves every
/// count and total right; verify names the row given twice and the row in no output.
#[test]
fn verify_catches_a_renumbered_row_that_every_count_misses() {
    let d = demo_dir();
    let path = d.path().join("settlements.parquet");
    let mut batches = read_pq(&path);
    let b = &batches[0];
    let i = b.schema().index_of("row").unwrap();
    let rows = b
        .column(i)
        .as_any()
        .downcast_ref::<arrow_array::Int64Array>()
        .unwrap();
    // Row 2 of the file takes the number of row 1 (same file: the demo's are sorted).
    let mut v = rows.values().to_vec();
    let (first, second) = (v[0], v[1]);
    v[1] = first;
    let mut cols = b.columns().to_vec();
    cols[i] = Arc::new(arrow_array::Int64Array::from(v));
    batches[0] = RecordBatch::try_new(b.schema(), cols).unwrap();
    write_pq(&path, &batches);
    reseal(d.path(), "settlements.parquet");
    let (code, msg) = verify(d.path(), &[]);
    assert_eq!(code, Some(1), "{msg}");
    assert!(msg.contains("\n2 DISCREPANCIES\n"), "{msg}");
    assert!(
        msg.contains(&format!(
            "settlements.parquet: row 2 (file, row): expected \"testdata/demo/settlements/AIRTEL_UG.csv\" row {first} in one output row only"
        )),
        "{msg}"
    );
    assert!(
        msg.contains(&format!(
            "testdata/demo/settlements/AIRTEL_UG.csv: row {second}: expected one row of settlements.parquet or rejects.parquet, found in no output"
        )),
        "{msg}"
    );
}

#[test]
fn verify_catches_a_replaced_file() {
    let d = demo_dir();
    let other = tempfile::tempdir().unwrap();
    assert_eq!(
        demo(other.path(), &["--late-days", "0"]).status.code(),
        Some(0)
    );
    std::fs::copy(
        other.path().join("instructions.parquet"),
        d.path().join("instructions.parquet"),
    )
    .unwrap();
    assert_caught(d.path(), &["instructions.parquet: sha256"]);
    reseal(d.path(), "instructions.parquet");
    assert_caught(d.path(), &["summary.json: counts.by_flag"]);
    // A swapped report is caught by its hash.
    let d = demo_dir();
    std::fs::write(d.path().join("report.html"), "<html>all fine</html>").unwrap();
    assert_caught(d.path(), &["report.html: sha256"]);
}

#[test]
fn verify_catches_an_edited_manifest_and_summary() {
    let d = demo_dir();
    let p = d.path().join("manifest.json");
    let t = std::fs::read_to_string(&p)
        .unwrap()
        .replace("\"late_days\": 3", "\"late_days\": 5");
    std::fs::write(&p, t).unwrap();
    assert_caught(
        d.path(),
        &[
            "manifest.json: manifest_sha256: expected",
            "summary.json: settings",
        ],
    );

    let d = demo_dir();
    let p = d.path().join("summary.json");
    let t = std::fs::read_to_string(&p).unwrap().replacen(
        "\"instructed_amount\": \"1648.750\"",
        "\"instructed_amount\": \"1640.750\"",
        1,
    );
    std::fs::write(&p, t).unwrap();
    assert_caught(d.path(), &["summary.json: sha256"]);
    reseal(d.path(), "summary.json");
    assert_caught(
        d.path(),
        &["summary.json: totals.JOD.instructed_amount: expected 1648.750, found 1640.750"],
    );
}

#[test]
fn verify_checks_the_inputs_and_refuses_unusable_folders() {
    let d = demo_dir();
    let copy = tempfile::tempdir().unwrap();
    let src = root().join("testdata/demo/instructions/instructions-0000.csv");
    let changed = copy.path().join("instructions-0000.csv");
    let mut bytes = std::fs::read(&src).unwrap();
    let n = bytes.len();
    bytes[n - 2] = if bytes[n - 2] == b'1' { b'2' } else { b'1' };
    std::fs::write(&changed, bytes).unwrap();
    let (code, msg) = verify(d.path(), &["--inputs", changed.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{msg}");
    assert!(
        msg.contains("instructions-0000.csv: sha256: expected one of the manifest's inputs"),
        "{msg}"
    );

    let empty = tempfile::tempdir().unwrap();
    let (code, msg) = verify(empty.path(), &[]);
    assert_eq!(code, Some(2), "{msg}");
    assert!(msg.contains("manifest.json"), "{msg}");
    std::fs::write(empty.path().join("manifest.json"), "{not json").unwrap();
    assert_eq!(verify(empty.path(), &[]).0, Some(2));
    let (code, _) = verify(Path::new("/no/such/dir"), &[]);
    assert_eq!(code, Some(2));
}

#[test]
fn verify_checks_disburse_control_sums() {
    // A disburse-kind folder: hashes, and the per-currency control sums when listed.
    let d = tempfile::tempdir().unwrap();
    let csv = "id,amount,currency\n1,100.00,UZS\n2,250.50,UZS\n3,40.000,JOD\n";
    std::fs::write(d.path().join("batch.csv"), csv).unwrap();
    let write = |sums: Value| {
        let mut m = serde_json::Map::new();
        m.insert("manifest_version".into(), 1.into());
        m.insert("kind".into(), "disburse".into());
        m.insert(
            "engine".into(),
            serde_json::json!({"name": "sverka", "version": "0"}),
        );
        m.insert("settings".into(), serde_json::json!({}));
        m.insert("inputs".into(), serde_json::json!([]));
        m.insert(
            "outputs".into(),
            serde_json::json!([{"name": "batch.csv", "size": csv.len(), "rows": 3,
            "sha256": sha2_check::sha256_hex(csv.as_bytes()), "control_sums": sums}]),
        );
        let h = sha2_check::sha256_hex(&serde_json::to_vec(&m).unwrap());
        m.insert("manifest_sha256".into(), h.into());
        std::fs::write(
            d.path().join("manifest.json"),
            serde_json::to_string_pretty(&m).unwrap() + "\n",
        )
        .unwrap();
    };
    write(serde_json::json!({"JOD": "40.000", "UZS": "350.50"}));
    let (code, msg) = verify(d.path(), &[]);
    assert_eq!(code, Some(0), "{msg}");
    write(serde_json::json!({"JOD": "40.000", "UZS": "350.00"}));
    assert_caught(
        d.path(),
        &["batch.csv: control_sums.UZS: expected 350.00, found 350.50"],
    );
}

// ---------------------------------------------------------------------------------------
// A real browser

#[test]
fn report_renders_in_headless_chromium() {
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        if std::env::var_os("SVERKA_REQUIRE_TOOLS").is_some() {
            panic!(
                "/usr/bin/chromium is missing (SVERKA_REQUIRE_TOOLS is set; .ci/run installs it)"
            );
        }
        eprintln!("note: /usr/bin/chromium not found; skipping the browser test");
        return;
    }
    let d = demo_dir();
    let s = json(&d.path().join("summary.json"));
    let report = d.path().join("report.html");
    let profile = tempfile::tempdir().unwrap();
    let shot = root().join("target/report-demo.png");
    let base = |c: &mut Command| {
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()));
    };
    let url = format!("file://{}", report.display());
    let mut c = Command::new(chromium);
    base(&mut c);
    let o = c.arg("--dump-dom").arg(&url).output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let dom = text(&o.stdout);
    assert!(
        dom.contains("Reconciliation report"),
        "rendered: {}",
        &dom[..dom.len().min(500)]
    );
    for (code, t) in s["totals"].as_object().unwrap() {
        assert!(dom.contains(&format!("id=\"ccy-{code}\"")));
        for k in ["instructed_amount", "unpaid_amount", "settled_amount"] {
            assert!(
                dom.contains(t[k].as_str().unwrap()),
                "{code} {k} in the DOM"
            );
        }
    }
    assert!(dom.contains("<svg"), "charts in the DOM");
    let _ = std::fs::remove_file(&shot);
    let mut c = Command::new(chromium);
    base(&mut c);
    let o = c
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "a real screenshot"
    );
}

/// Hostile volume: 120 currencies, providers and programmes, every instruction UNPAID with
/// a long id. The report keeps to its size bound (fewer rows per table, capped charts).
#[test]
fn report_stays_small_with_many_currencies() {
    let table: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schemas/iso4217.json")).unwrap(),
    )
    .unwrap();
    let codes: Vec<(String, u64)> = table["currencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap().to_string(),
                c["minor_units"].as_u64().unwrap(),
            )
        })
        .take(120)
        .collect();
    assert_eq!(codes.len(), 120);
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from(
        "instruction_id,beneficiary_id,program,cycle,provider,account,amount,currency,due_date\n",
    );
    for (k, (code, minor)) in codes.iter().enumerate() {
        let amount = if *minor == 0 {
            "100".to_string()
        } else {
            format!("100.{}", "0".repeat(*minor as usize))
        };
        for i in 0..120 {
            csv.push_str(&format!(
                "{}-{k:03}-{i:05},B{k}-{i},PROG{k},2026-11,PROV{k},{}-{i},{amount},{code},2026-11-05\n",
                "X".repeat(70),
                "A".repeat(60)
            ));
        }
    }
    let ins = dir.path().join("ins.csv");
    let set = dir.path().join("set.csv");
    std::fs::write(&ins, csv).unwrap();
    std::fs::write(
        &set,
        "provider,provider_ref,instruction_id,account,amount,fee,currency,status,value_date\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    reconcile(&ins, &set, &out, &[]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    eprintln!("report.html: {} bytes", html.len());
    assert!(html.len() < 5 << 20, "report.html is {} bytes", html.len());
    // Every currency still has its UNPAID table and headline card.
    assert_eq!(html.matches("data-finding=\"UNPAID\"").count(), 120);
    assert_eq!(html.matches("<div class=\"card\" id=\"ccy-").count(), 120);
    assert!(html.contains("Not drawn (fewer instructions)"));
}

#[test]
fn verify_reads_back_a_real_disburse_folder_and_its_pain001_files() {
    // A folder written by `sverka disburse` (CSV and pain.001 payment files): every file's
    // rows and control sums re-derive; an edited XML amount is caught even when the file's
    // hash is resealed into the manifest.
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("pay");
    let o = bin()
        .current_dir(root())
        .args([
            "disburse",
            "--payroll",
            "testdata/disburse/small/payroll.csv",
            "--providers",
            "testdata/disburse/small/providers.toml",
            "--execution-date",
            "2026-11-04",
            "--quiet",
            "--ledger",
        ])
        .arg(d.path().join("ledger.db"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let (code, report) = verify(&out, &[]);
    assert_eq!(code, Some(0), "{report}");
    let errs = common::manifest_errors(&out.join("manifest.json"));
    assert_eq!(errs, Vec::<String>::new());
    let xml = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "xml"))
        .expect("the small payroll has a pain.001 provider");
    let body = std::fs::read_to_string(&xml).unwrap();
    let at = body.find("<InstdAmt").expect("a transaction");
    let digit = at + body[at..].find('>').unwrap() + 1;
    let mut bytes = body.into_bytes();
    bytes[digit] = if bytes[digit] == b'9' {
        b'1'
    } else {
        bytes[digit] + 1
    };
    std::fs::write(&xml, bytes).unwrap();
    let name = xml.file_name().unwrap().to_str().unwrap().to_string();
    reseal(&out, &name);
    assert_caught(&out, &[&name, "control_sums"]);
}

/// Regression: a manifest without `settings`, `engine` or `inputs` panicked in verify
/// (indexing a JSON map by a missing key) instead of reporting the discrepancy.
#[test]
fn a_manifest_missing_its_keys_is_a_discrepancy_not_a_panic() {
    for key in ["settings", "engine", "inputs"] {
        let d = demo_dir();
        let path = d.path().join("manifest.json");
        let mut m = json(&path);
        m.as_object_mut().unwrap().remove(key);
        std::fs::write(&path, serde_json::to_string_pretty(&m).unwrap()).unwrap();
        let (code, out) = verify(d.path(), &[]);
        assert_eq!(code, Some(1), "{key}: {out}");
        assert!(!out.contains("panicked"), "{key}: {out}");
    }
}

/// A key added to summary.json, with the manifest resealed over it, is a discrepancy:
/// the summary type refuses unknown keys.
#[test]
fn an_added_summary_key_is_caught_even_when_resealed() {
    let d = demo_dir();
    let path = d.path().join("summary.json");
    let mut s = json(&path);
    s["counts"]["instructions_paid_twice_but_fine"] = Value::from(0);
    std::fs::write(&path, serde_json::to_string_pretty(&s).unwrap() + "\n").unwrap();
    reseal(d.path(), "summary.json");
    assert_caught(
        d.path(),
        &["summary.json", "instructions_paid_twice_but_fine"],
    );
}
