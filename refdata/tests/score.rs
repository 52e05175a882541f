//! `score`: the truth scored against itself agrees fully; each kind of engine mistake
//! is caught and named.

mod common;

use common::{gen, FakeResults};
use sverka_refdata::{score, Format, ScoreReport};

fn data_set(dir: &std::path::Path) -> std::path::PathBuf {
    gen(dir, "data", 3_000, 21, Format::Csv, "messy").0
}

fn scored(
    dir: &std::path::Path,
    data: &std::path::Path,
    name: &str,
    fake: &FakeResults,
) -> ScoreReport {
    let out = dir.join(name);
    fake.write(&out);
    score(&data.join("truth"), &out).unwrap()
}

#[test]
fn truth_against_itself_is_full_agreement() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_set(dir.path());
    let fake = FakeResults::from_truth(&data);
    let r = scored(dir.path(), &data, "perfect", &fake);
    assert!(r.full_agreement(), "{r}");
    assert_eq!(r.disagreements, 0);
    assert!(r.examples.is_empty());
    assert_eq!(r.instructions.rows.missing + r.instructions.rows.extra, 0);
    assert!(r.checks.iter().all(|c| c.ok));
    assert!(r
        .checks
        .iter()
        .any(|c| c.name.contains("totals.UZS.settled_amount")));
    for (name, f) in &r.instructions.flags {
        assert_eq!(f.precision.as_deref(), Some("1.0000"), "{name}");
        assert_eq!(f.recall.as_deref(), Some("1.0000"), "{name}");
    }
    let shown = r.to_string();
    assert!(shown.contains("FULL AGREEMENT"), "{shown}");
    serde_json::to_string(&r).unwrap();
    // The data set folder works as --truth too.
    let r2 = score(&data, &dir.path().join("perfect")).unwrap();
    assert!(r2.full_agreement());
}

#[test]
fn flipped_status_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_set(dir.path());
    let mut fake = FakeResults::from_truth(&data);
    let i = fake
        .instrs
        .iter()
        .position(|r| r.status == "UNDERPAID")
        .unwrap();
    fake.instrs[i].status = "PAID".into();
    let id = fake.instrs[i].id.clone();
    let r = scored(dir.path(), &data, "flipped", &fake);
    assert!(!r.full_agreement());
    assert_eq!(r.instructions.status_agree + 1, r.instructions.rows.paired);
    assert_eq!(r.instructions.confusion["UNDERPAID"]["PAID"], 1);
    assert!(
        r.examples
            .iter()
            .any(|e| e == &format!("instruction {id}: status UNDERPAID expected, PAID in results")),
        "{:?}",
        r.examples
    );
}

#[test]
fn dropped_row_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_set(dir.path());
    let mut fake = FakeResults::from_truth(&data);
    let gone = fake.instrs.remove(100);
    let r = scored(dir.path(), &data, "dropped", &fake);
    assert!(!r.full_agreement());
    assert_eq!(r.instructions.rows.missing, 1);
    assert_eq!(r.instructions.rows.extra, 0);
    assert_eq!(r.instructions.status_agree, r.instructions.rows.paired);
    let conservation = r
        .checks
        .iter()
        .find(|c| c.name.starts_with("conservation: truth instructions"))
        .unwrap();
    assert!(!conservation.ok);
    assert!(
        r.examples
            .iter()
            .any(|e| e.contains(&gone.id) && e.contains("missing")),
        "{:?}",
        r.examples
    );
}

#[test]
fn wrong_matched_id_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_set(dir.path());
    let mut fake = FakeResults::from_truth(&data);
    let i = fake
        .setts
        .iter()
        .position(|s| s.method == "FALLBACK")
        .unwrap();
    let other = fake.instrs[0].id.clone();
    fake.setts[i].matched = other;
    let r = scored(dir.path(), &data, "wrong-id", &fake);
    assert!(!r.full_agreement());
    assert_eq!(r.settlements.match_agree + 1, r.settlements.rows.paired);
    let key = format!(
        "settlement {}/{}:",
        fake.setts[i].provider, fake.setts[i].provider_ref
    );
    assert!(
        r.examples.iter().any(|e| e.starts_with(&key)),
        "{:?}",
        r.examples
    );
}

#[test]
fn missing_reject_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_set(dir.path());
    let mut fake = FakeResults::from_truth(&data);
    let i = fake
        .rejects
        .iter()
        .position(|r| r.reason == "invalid_status")
        .unwrap();
    fake.rejects.remove(i);
    let r = scored(dir.path(), &data, "no-reject", &fake);
    assert!(!r.full_agreement());
    assert_eq!(r.rejects.missing_by_reason.get("invalid_status"), Some(&1));
    assert!(r.rejects.extra_by_reason.is_empty());
    assert!(r
        .checks
        .iter()
        .any(|c| !c.ok && c.name.contains("conservation: truth settlements")));
}

#[test]
fn wrong_flags_and_paid_amount_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_set(dir.path());
    let mut fake = FakeResults::from_truth(&data);
    let i = fake.instrs.iter().position(|r| r.flags == "LATE").unwrap();
    fake.instrs[i].flags = String::new();
    let j = fake
        .instrs
        .iter()
        .position(|r| r.status == "OVERPAID")
        .unwrap();
    fake.instrs[j].paid = "1.000".into();
    let k = fake
        .instrs
        .iter()
        .position(|r| r.flags.contains(';'))
        .unwrap();
    let reversed: Vec<&str> = fake.instrs[k].flags.split(';').rev().collect();
    fake.instrs[k].flags = reversed.join(";");
    let r = scored(dir.path(), &data, "flags", &fake);
    assert!(!r.full_agreement());
    assert_eq!(r.instructions.flags["LATE"].false_negatives, 1);
    assert_eq!(
        r.instructions.paid_amount_agree + 1,
        r.instructions.rows.paired
    );
    assert_eq!(r.instructions.flags_not_canonical, 1);
}

#[test]
fn wrong_summary_count_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_set(dir.path());
    let fake = FakeResults::from_truth(&data);
    let out = dir.path().join("summary");
    fake.write(&out);
    let path = out.join("summary.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    v["counts"]["by_status"]["PAID"] = serde_json::json!(1);
    v["totals"]["UZS"]["fees"] = serde_json::json!("0.01");
    std::fs::write(&path, v.to_string()).unwrap();
    let r = score(&data.join("truth"), &out).unwrap();
    assert!(!r.full_agreement());
    let bad: Vec<&str> = r
        .checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        bad,
        [
            "summary.json counts.by_status = row files",
            "summary.json totals.UZS.fees"
        ]
    );
}

#[test]
fn unusable_results_are_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_set(dir.path());
    let nothing = dir.path().join("nothing");
    let e = score(&data.join("truth"), &nothing).unwrap_err();
    assert!(e.is_bad_input(), "{e}");
    assert_eq!(
        e.to_string(),
        format!(
            "{}: not a folder; point --results at a folder written by `sverka reconcile --out RESULTS` (CONTRACT.md section 5)",
            nothing.display()
        )
    );
    std::fs::create_dir(&nothing).unwrap();
    let e = score(&data.join("truth"), &nothing).unwrap_err();
    assert!(e.is_bad_input(), "{e}");
    assert!(
        e.to_string().contains("nothing/summary.json: cannot read"),
        "{e}"
    );
    let fake = FakeResults::from_truth(&data);
    let out = dir.path().join("broken");
    fake.write(&out);
    std::fs::write(out.join("settlements.parquet"), b"not parquet").unwrap();
    let e = score(&data.join("truth"), &out).unwrap_err();
    assert!(e.is_bad_input());
    assert!(e.to_string().contains("settlements.parquet"), "{e}");
}

#[test]
fn hand_made_truth_without_summary_or_extra_columns() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_set(dir.path());
    let fake = FakeResults::from_truth(&data);
    let out = dir.path().join("results");
    fake.write(&out);
    // A truth folder as benches/compare/make_tiny.py writes it: no summary.json, and
    // truth/instructions.parquet with only the four documented columns.
    let tiny = dir.path().join("tiny-truth");
    std::fs::create_dir(&tiny).unwrap();
    for f in ["settlements.parquet", "rejects.parquet"] {
        std::fs::copy(data.join("truth").join(f), tiny.join(f)).unwrap();
    }
    let (names, rows) = common::read_rows(&data.join("truth/instructions.parquet"));
    assert_eq!(
        names[..4],
        ["instruction_id", "status", "flags", "paid_amount"]
    );
    common::write_text_parquet(
        &tiny.join("instructions.parquet"),
        &names[..4],
        rows.iter().map(|r| r[..4].to_vec()).collect(),
    );
    let r = score(&tiny, &out).unwrap();
    assert!(r.full_agreement(), "{r}");
    assert_eq!(r.instructions.settlement_count_compared, 0);
    assert!(!r.checks.iter().any(|c| c.name.contains("totals")));
}
