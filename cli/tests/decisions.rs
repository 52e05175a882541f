//! The review loop end to end (issue 23): reconcile → worksheet → a reviewer fills it in
//! → reconcile with the decisions → verify holds, and the next worksheet holds no
//! exception a decision covered.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{bin, reconcile, text};

fn demo(side: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/demo")
        .join(side)
}

fn worksheet(results: &Path, out: &Path) -> Vec<csv::StringRecord> {
    let o = bin()
        .arg("worksheet")
        .arg(results)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mut r = csv::Reader::from_path(out).unwrap();
    assert_eq!(
        r.headers().unwrap().iter().take(8).collect::<Vec<_>>(),
        [
            "decision_id",
            "action",
            "provider",
            "provider_ref",
            "instruction_id",
            "note",
            "decided_by",
            "approved_by"
        ]
    );
    r.records().map(|x| x.unwrap()).collect()
}

/// Column `name` of a worksheet row.
fn cell<'a>(header: &csv::StringRecord, row: &'a csv::StringRecord, name: &str) -> &'a str {
    &row[header.iter().position(|h| h == name).unwrap()]
}

#[test]
fn reviewed_decisions_close_the_exceptions_they_cover() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("first"), dir.path().join("second"));
    let o = reconcile(&demo("instructions"), &demo("settlements"), &first, &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let ws = dir.path().join("review.csv");
    let rows = worksheet(&first, &ws);
    let header = csv::Reader::from_path(&ws)
        .unwrap()
        .headers()
        .unwrap()
        .clone();
    assert!(!rows.is_empty());

    // A reviewer's pass: each ambiguous settlement matched to its first candidate, each
    // unexpected settlement confirmed as not ours (UNMATCH), each other exception accepted
    // once with a note; one acceptance approved by its own maker, which must stay open.
    let mut filled = csv::Writer::from_path(dir.path().join("filled.csv")).unwrap();
    filled.write_record(&header).unwrap();
    let (mut settled, mut accepted, mut self_approved) = (BTreeSet::new(), BTreeSet::new(), None);
    for r in &rows {
        let kind = cell(&header, r, "exception");
        let set_key = (
            cell(&header, r, "provider").to_string(),
            cell(&header, r, "provider_ref").to_string(),
        );
        let ins = cell(&header, r, "instruction_id").to_string();
        let (action, note) = match kind {
            "AMBIGUOUS" if !settled.contains(&set_key) => ("MATCH", "confirmed with the bank"),
            "UNEXPECTED" if !settled.contains(&set_key) => ("UNMATCH", "not this programme's"),
            "AMBIGUOUS" | "UNEXPECTED" => ("", ""),
            _ if !accepted.contains(&ins) => ("ACCEPT", "explained by the provider"),
            _ => ("", ""),
        };
        let mut out: Vec<String> = r.iter().map(String::from).collect();
        if !action.is_empty() {
            let checker = if action == "ACCEPT" && self_approved.is_none() {
                self_approved = Some(ins.clone());
                "reviewer.a"
            } else {
                "checker.b"
            };
            out[1] = action.into();
            out[5] = note.into();
            out[6] = "reviewer.a".into();
            out[7] = checker.into();
            if action == "ACCEPT" {
                if checker == "checker.b" {
                    accepted.insert(ins.clone());
                }
            } else {
                settled.insert(set_key);
            }
        }
        filled.write_record(&out).unwrap();
    }
    filled.flush().unwrap();
    drop(filled);
    let self_approved = self_approved.expect("the demo has instruction exceptions");

    let o = reconcile(
        &demo("instructions"),
        &demo("settlements"),
        &second,
        &[
            "--decisions",
            dir.path().join("filled.csv").to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v = bin().arg("verify").arg(&second).output().unwrap();
    assert!(v.status.success(), "{}", text(&v.stdout));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(second.join("summary.json")).unwrap())
            .unwrap();
    let applied = summary["decisions"]["applied"].as_u64().unwrap();
    assert_eq!(applied as usize, settled.len() + accepted.len());
    assert_eq!(summary["decisions"]["by_reason"]["self_approved"], 1);

    // The next worksheet: nothing a decision covered is open again; the self-approved
    // acceptance is.
    let again = worksheet(&second, &dir.path().join("again.csv"));
    let mut open_ins = BTreeSet::new();
    for r in &again {
        let key = (
            cell(&header, r, "provider").to_string(),
            cell(&header, r, "provider_ref").to_string(),
        );
        let kind = cell(&header, r, "exception");
        if matches!(kind, "AMBIGUOUS" | "UNEXPECTED") {
            assert!(
                !settled.contains(&key),
                "{key:?} decided but open as {kind}"
            );
        } else {
            let ins = cell(&header, r, "instruction_id");
            assert!(!accepted.contains(ins), "{ins} accepted but open as {kind}");
            open_ins.insert(ins.to_string());
        }
    }
    assert!(open_ins.contains(&self_approved));
    assert!(again.len() < rows.len());
}
