//! End-to-end tests of `sverka worksheet` (issue 23): the demo's worksheet checked row by
//! row against the run's own CSV outputs (every exception real, every AMBIGUOUS settlement
//! with candidates whose keys match, the order, spreadsheet-safe cells, the same bytes
//! twice), and unusable folders (exit 2, nothing written).

mod common;
use common::{bin, root, text};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Output;

type Rec = BTreeMap<String, String>;

fn worksheet(dir: &Path, out: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("worksheet")
        .arg(dir)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

/// A CSV file's records by header name; `undo` takes off the spreadsheet guard.
fn read_csv(path: &Path, undo: bool) -> Vec<Rec> {
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
                        Some(rest)
                            if undo && rest.starts_with(['=', '+', '-', '@', '\t', '\r']) =>
                        {
                            rest
                        }
                        _ => v,
                    };
                    (h.to_string(), v.to_string())
                })
                .collect()
        })
        .collect()
}

const KINDS: [&str; 8] = [
    "AMBIGUOUS",
    "UNEXPECTED",
    "UNPAID",
    "DOUBLE_PAID",
    "UNDERPAID",
    "OVERPAID",
    "CURRENCY_MISMATCH",
    "ACCOUNT_MISMATCH",
];

/// Cells that hold numbers or dates: the only ones that may start with `-`.
const NUMBERS: [&str; 10] = [
    "amount_at_risk",
    "candidates",
    "settlement_amount",
    "value_date",
    "settlement_row",
    "instruction_amount",
    "due_date",
    "paid_amount",
    "difference",
    "instruction_row",
];

fn flags(s: &str) -> Vec<&str> {
    s.split(';').filter(|f| !f.is_empty()).collect()
}

/// Days of a `YYYY-MM-DD` date, enough to compare two (days from a fixed origin).
fn days(d: &str) -> i64 {
    let p: Vec<i64> = d.split('-').map(|x| x.parse().unwrap()).collect();
    let (y, m) = if p[1] <= 2 {
        (p[0] - 1, p[1] + 9)
    } else {
        (p[0], p[1] - 3)
    };
    365 * y + y / 4 - y / 100 + y / 400 + (153 * m + 2) / 5 + p[2]
}

/// An amount's exact integer of minor units (the text has the currency's decimals).
fn minor(a: &str) -> i128 {
    a.replace('.', "").parse().unwrap()
}

/// The demo reconciled with `--csv` into `out/` of a temporary folder.
fn demo() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let o = common::demo(&d.path().join("out"), &["--csv"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    d
}

#[test]
fn demo_worksheet_lists_every_open_exception_in_order() {
    let d = demo();
    let out = d.path().join("out");
    let (ws, again) = (d.path().join("ws.csv"), d.path().join("again.csv"));
    let o = worksheet(&out, &ws, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("rows to decide"),
        "{}",
        text(&o.stderr)
    );
    let o = worksheet(&out, &again, &["-q"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stderr.is_empty() && o.stdout.is_empty());
    let bytes = std::fs::read(&ws).unwrap();
    assert_eq!(
        bytes,
        std::fs::read(&again).unwrap(),
        "same folder, same bytes"
    );
    assert!(!bytes.contains(&b'\r'), "LF line ends");

    let ins: BTreeMap<String, Rec> = read_csv(&out.join("instructions.csv"), true)
        .into_iter()
        .map(|r| (r["instruction_id"].clone(), r))
        .collect();
    let set: BTreeMap<(String, String), Rec> = read_csv(&out.join("settlements.csv"), true)
        .into_iter()
        .map(|r| ((r["provider"].clone(), r["provider_ref"].clone()), r))
        .collect();
    let rows = read_csv(&ws, true);
    check_guarded(&read_csv(&ws, false));
    check_order(&rows);
    for r in &rows {
        check_row(r, &ins, &set);
    }
    check_ambiguous(&rows, &ins, &set);
    check_complete(&rows, &ins, &set);
}

/// No text cell starts a formula; number cells are numbers.
fn check_guarded(raw: &[Rec]) {
    for r in raw {
        for (col, v) in r {
            if NUMBERS.contains(&col.as_str()) {
                let number = |b: u8| b.is_ascii_digit() || b == b'.' || b == b'-';
                assert!(v.bytes().all(number), "{col}: {v}");
            } else {
                assert!(
                    !v.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{col}: {v}"
                );
            }
        }
    }
    // The demo has wallets written `+998...`: the guard is exercised.
    assert!(raw
        .iter()
        .any(|r| r["instruction_account"].starts_with("'+")));
}

fn check_order(rows: &[Rec]) {
    let key = |r: &Rec| {
        (
            r["currency"].clone(),
            -minor(&r["amount_at_risk"]),
            KINDS.iter().position(|k| *k == r["exception"]).unwrap(),
            r["provider"].clone(),
            r["provider_ref"].clone(),
            r["instruction_id"].clone(),
        )
    };
    for w in rows.windows(2) {
        assert!(key(&w[0]) < key(&w[1]), "{:?} before {:?}", w[0], w[1]);
    }
    let ids: BTreeSet<&String> = rows.iter().map(|r| &r["decision_id"]).collect();
    assert_eq!(ids.len(), rows.len(), "decision ids unique");
    for id in ids {
        assert!(id.len() == 18 && id.starts_with("W-"), "{id}");
    }
}

/// The row's exception holds in the outputs, and its facts are the rows' own.
fn check_row(r: &Rec, ins: &BTreeMap<String, Rec>, set: &BTreeMap<(String, String), Rec>) {
    for empty in ["action", "note", "decided_by", "approved_by"] {
        assert_eq!(r[empty], "", "{r:?}");
    }
    let kind = r["exception"].as_str();
    let s = (!r["provider"].is_empty())
        .then(|| &set[&(r["provider"].clone(), r["provider_ref"].clone())]);
    let i = (!r["instruction_id"].is_empty()).then(|| &ins[&r["instruction_id"]]);
    if let Some(s) = s {
        assert_eq!(r["settlement_amount"], s["amount"]);
        assert_eq!(r["match_method"], s["match_method"]);
    }
    if let Some(i) = i {
        assert_eq!(r["instruction_status"], i["status"]);
        assert_eq!(r["difference"], i["difference"]);
    }
    match kind {
        "AMBIGUOUS" | "UNEXPECTED" => {
            let s = s.unwrap();
            assert_eq!(s["match_method"], "NONE");
            assert_eq!(
                flags(&s["flags"]).contains(&"AMBIGUOUS"),
                kind == "AMBIGUOUS"
            );
            assert!(kind == "AMBIGUOUS" || s["status"] == "SETTLED");
            assert_eq!(r["possible_actions"], "MATCH");
            assert_eq!(r["amount_at_risk"], s["amount"]);
        }
        _ => {
            let i = i.unwrap();
            let holds = i["status"] == kind
                || (kind == "ACCOUNT_MISMATCH" && flags(&i["flags"]).contains(&"ACCOUNT_MISMATCH"));
            assert!(holds, "{r:?}");
            if let Some(s) = s {
                assert_eq!(s["matched_instruction_id"], i["instruction_id"]);
                assert_eq!(r["possible_actions"], "ACCEPT;UNMATCH");
            } else {
                assert_eq!(i["settlement_count"], "0");
                assert_eq!(r["possible_actions"], "ACCEPT");
            }
        }
    }
}

/// Every AMBIGUOUS settlement has its candidate rows: UNPAID instructions whose provider,
/// account, currency and amount are the settlement's, within 7 days; two or more, or one
/// that another ambiguous settlement also claims.
fn check_ambiguous(
    rows: &[Rec],
    ins: &BTreeMap<String, Rec>,
    set: &BTreeMap<(String, String), Rec>,
) {
    let mut by_set: BTreeMap<(String, String), Vec<&Rec>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r["exception"] == "AMBIGUOUS") {
        by_set
            .entry((r["provider"].clone(), r["provider_ref"].clone()))
            .or_default()
            .push(r);
    }
    let flagged: Vec<_> = set
        .iter()
        .filter(|(_, s)| flags(&s["flags"]).contains(&"AMBIGUOUS"))
        .map(|(k, _)| k.clone())
        .collect();
    assert!(!flagged.is_empty(), "the demo has AMBIGUOUS settlements");
    assert_eq!(by_set.keys().cloned().collect::<Vec<_>>(), flagged);
    let mut claims: BTreeMap<&str, usize> = BTreeMap::new();
    for (k, cand) in &by_set {
        let s = &set[k];
        for r in cand {
            assert_eq!(r["candidates"], cand.len().to_string());
            let i = &ins[&r["instruction_id"]];
            assert_eq!(i["status"], "UNPAID");
            for (a, b) in [
                ("provider", "provider"),
                ("account", "account"),
                ("currency", "currency"),
                ("amount", "amount"),
            ] {
                assert_eq!(i[a], s[b], "{a} of {k:?}");
            }
            assert!((days(&s["value_date"]) - days(&i["due_date"])).abs() <= 7);
            *claims.entry(&r["instruction_id"]).or_default() += 1;
        }
    }
    for cand in by_set.values() {
        assert!(cand.len() >= 2 || claims[cand[0]["instruction_id"].as_str()] >= 2);
    }
}

/// Every open exception of the outputs has its rows (the demo has no decisions).
fn check_complete(
    rows: &[Rec],
    ins: &BTreeMap<String, Rec>,
    set: &BTreeMap<(String, String), Rec>,
) {
    let count = |k: &str| rows.iter().filter(|r| r["exception"] == k).count();
    let unexpected = set
        .values()
        .filter(|s| s["match_method"] == "NONE" && s["status"] == "SETTLED")
        .filter(|s| !flags(&s["flags"]).contains(&"AMBIGUOUS"))
        .count();
    assert_eq!(count("UNEXPECTED"), unexpected);
    for k in &KINDS[2..7] {
        let want: usize = ins
            .values()
            .filter(|i| i["status"] == *k)
            .map(|i| i["settlement_count"].parse::<usize>().unwrap().max(1))
            .sum();
        assert_eq!(count(k), want, "{k}");
        assert!(want > 0, "the demo has {k}");
    }
    let mismatched: usize = ins
        .values()
        .filter(|i| !KINDS[2..7].contains(&i["status"].as_str()))
        .filter(|i| flags(&i["flags"]).contains(&"ACCOUNT_MISMATCH"))
        .map(|i| i["settlement_count"].parse::<usize>().unwrap())
        .sum();
    assert_eq!(count("ACCOUNT_MISMATCH"), mismatched);
}

#[test]
fn unusable_folders_are_exit_2_and_write_nothing() {
    let d = demo();
    let ws = d.path().join("ws.csv");
    let demo_inputs = root().join("testdata/demo");
    for (dir, needle) in [
        (d.path().join("nothing-here"), "not a folder"),
        (demo_inputs, "summary.json"),
    ] {
        let o = worksheet(&dir, &ws, &[]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
        let e = text(&o.stderr);
        assert!(e.contains(needle) && e.contains("sverka reconcile"), "{e}");
        assert!(!ws.exists());
    }
    // A reconcile folder from before decisions: settlements.parquet without decision_ids.
    let out = d.path().join("out");
    drop_column(&out.join("settlements.parquet"), "decision_ids");
    let o = worksheet(&out, &ws, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let e = text(&o.stderr);
    assert!(
        e.contains("settlements.parquet: no column \"decision_ids\""),
        "{e}"
    );
    assert!(!ws.exists());
}

/// Rewrites a Parquet file without one column.
fn drop_column(path: &Path, name: &str) {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::arrow::{ArrowWriter, ProjectionMask};
    let b = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap()).unwrap();
    let keep: Vec<usize> = (0..b.schema().fields().len())
        .filter(|&k| b.schema().field(k).name() != name)
        .collect();
    let mask = ProjectionMask::roots(b.parquet_schema(), keep);
    let batches: Vec<_> = b
        .with_projection(mask)
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect();
    let mut w = ArrowWriter::try_new(
        std::fs::File::create(path).unwrap(),
        batches[0].schema(),
        None,
    )
    .unwrap();
    for b in &batches {
        w.write(b).unwrap();
    }
    w.close().unwrap();
}
