//! Property tests: for random inputs full of duplicates, collisions and bad values,
//! every row is accounted for, the summary's totals equal the written rows, and results
//! do not depend on the number of threads or on how the input is split into files.

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;
use sverka_engine::{ReconcileConfig, Settings, Silent};

const INS_HEADER: &str =
    "instruction_id,beneficiary_id,program,cycle,provider,account,amount,currency,due_date";
const SET_HEADER: &str =
    "provider,provider_ref,instruction_id,account,amount,fee,currency,status,value_date";

fn pick(pool: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    proptest::sample::select(pool)
}

fn ins_row() -> impl Strategy<Value = String> {
    (
        pick(&["I0", "I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8", " I9 "]),
        pick(&["B1", "B2", "B3", "B4", "B5"]),
        pick(&["CB", "PEN"]),
        pick(&["P1", "P2"]),
        pick(&["A1", "A2", "A3"]),
        pick(&[
            "100.00", "100", "300", "2500.50", "0", "-5", "1e2", "100.005", "", "99999",
        ]),
        pick(&["UZS", "USD", "JPY", "KWD", "uzs"]),
        pick(&["2026-11-01", "2026-11-05", "2026-11-12", "2026-02-30"]),
    )
        .prop_map(|(id, b, p, prov, a, amt, c, d)| {
            format!("{id},{b},{p},2026-11,{prov},{a},{amt},{c},{d}")
        })
}

fn set_row() -> impl Strategy<Value = String> {
    (
        pick(&["P1", "P2"]),
        pick(&["R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8"]),
        pick(&["I0", "I1", "I2", "I3", "", "", "X9", "I5"]),
        pick(&["A1", "A2", "A3"]),
        pick(&["100.00", "100", "300", "50", "0", "-1", "2500.50", "1,5"]),
        pick(&["", "0", "1.00", "-1"]),
        pick(&["UZS", "USD", "JPY", "XYZ"]),
        pick(&["SETTLED", "SETTLED", "FAILED", "RETURNED", "settled"]),
        pick(&["2026-11-02", "2026-11-09", "2026-11-20", "bad"]),
    )
        .prop_map(|(p, r, i, a, amt, fee, c, s, d)| {
            format!("{p},{r},{i},{a},{amt},{fee},{c},{s},{d}")
        })
}

const DECISION_HEADER: &str =
    "decision_id,action,provider,provider_ref,instruction_id,note,decided_by,approved_by";

/// Decisions over the same small key spaces as the rows: repeated ids, unknown actions,
/// settlements and instructions that are absent or rejected, makers approving themselves.
fn decision_row() -> impl Strategy<Value = String> {
    (
        pick(&["D0", "D1", "D2", "D3", "D4", "D5", "D6", "D7", ""]),
        pick(&["MATCH", "MATCH", "UNMATCH", "ACCEPT", "", "match"]),
        pick(&["P1", "P2"]),
        pick(&["R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8"]),
        pick(&["I0", "I1", "I2", "I3", "I4", "I5", "X9", ""]),
        pick(&["", "checked"]),
        pick(&["ana", "bek", ""]),
        pick(&["ana", "bek", "bek", ""]),
    )
        .prop_map(|(id, a, p, r, i, n, m, c)| format!("{id},{a},{p},{r},{i},{n},{m},{c}"))
}

fn write_csv(path: &Path, header: &str, rows: &[String]) {
    let mut s = String::from(header);
    s.push('\n');
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    std::fs::write(path, s).unwrap();
}

fn run_in_pool(
    threads: usize,
    ins: Vec<std::path::PathBuf>,
    set: Vec<std::path::PathBuf>,
    out: &Path,
) {
    run_decided(threads, ins, set, Vec::new(), out)
}

fn run_decided(
    threads: usize,
    ins: Vec<std::path::PathBuf>,
    set: Vec<std::path::PathBuf>,
    decisions: Vec<std::path::PathBuf>,
    out: &Path,
) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        sverka_engine::reconcile(
            &ReconcileConfig {
                providers: Default::default(),
                decisions,
                instructions: ins,
                settlements: set,
                out: out.to_path_buf(),
                csv: true,
                settings: Settings::default(),
            },
            &Silent,
        )
        .unwrap()
    });
}

fn read(out: &Path, name: &str) -> Vec<csv::StringRecord> {
    csv::Reader::from_path(out.join(name))
        .unwrap()
        .records()
        .map(|r| r.unwrap())
        .collect()
}

/// Decimal text to minor units at the given number of decimals.
fn minor(s: &str, decimals: usize) -> i128 {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    assert_eq!(frac.len(), decimals, "{s}");
    format!("{int}{frac}").parse().unwrap()
}

fn decimals(code: &str) -> usize {
    match code {
        "JPY" => 0,
        "KWD" => 3,
        _ => 2,
    }
}

fn check_conservation_and_totals(out: &Path, n_ins: usize, n_set: usize) {
    let ins = read(out, "instructions.csv");
    let set = read(out, "settlements.csv");
    let rej = read(out, "rejects.csv");
    let rej_ins = rej.iter().filter(|r| &r[0] == "instructions").count();
    assert_eq!(ins.len() + rej_ins, n_ins);
    assert_eq!(set.len() + rej.len() - rej_ins, n_set);

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    // Independent sums over the CSV rows.
    let mut t: BTreeMap<String, BTreeMap<&str, i128>> = BTreeMap::new();
    for r in &ins {
        let (c, a) = (r[7].to_string(), minor(&r[6], decimals(&r[7])));
        let e = t.entry(c).or_default();
        *e.entry("instructed_amount").or_default() += a;
        *e.entry("instructed_count").or_default() += 1;
        if &r[9] == "UNPAID" {
            *e.entry("unpaid_amount").or_default() += a;
        }
    }
    for r in &set {
        let (c, a, fee) = (
            r[6].to_string(),
            minor(&r[4], decimals(&r[6])),
            minor(&r[5], decimals(&r[6])),
        );
        let e = t.entry(c).or_default();
        *e.entry("fees").or_default() += fee;
        match &r[7] {
            "SETTLED" => {
                *e.entry("settled_amount").or_default() += a;
                if &r[9] == "NONE" {
                    *e.entry("unexpected_amount").or_default() += a;
                }
            }
            "RETURNED" => *e.entry("returned_amount").or_default() += a,
            _ => {}
        }
    }
    for (code, fields) in &t {
        for (k, v) in fields {
            let got = &summary["totals"][code][k];
            let got = match got {
                serde_json::Value::String(s) => minor(s, decimals(code)),
                other => other.as_i64().unwrap() as i128,
            };
            assert_eq!(got, *v, "{code} {k}");
        }
    }
}

fn all_bytes(out: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(out)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn conservation_totals_threads_and_splits(
        ins in proptest::collection::vec(ins_row(), 0..40),
        set in proptest::collection::vec(set_row(), 0..40),
        split in 0usize..40,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (ip, sp) = (dir.path().join("ins.csv"), dir.path().join("set.csv"));
        write_csv(&ip, INS_HEADER, &ins);
        write_csv(&sp, SET_HEADER, &set);

        let one = dir.path().join("one");
        run_in_pool(1, vec![ip.clone()], vec![sp.clone()], &one);
        check_conservation_and_totals(&one, ins.len(), set.len());

        let three = dir.path().join("three");
        run_in_pool(3, vec![ip.clone()], vec![sp.clone()], &three);
        prop_assert_eq!(all_bytes(&one), all_bytes(&three), "outputs depend on the thread count");

        // The same rows split over two files of a directory, in the same order.
        let split = split.min(ins.len());
        let parts = dir.path().join("parts");
        std::fs::create_dir(&parts).unwrap();
        write_csv(&parts.join("a.csv"), INS_HEADER, &ins[..split]);
        write_csv(&parts.join("b.csv"), INS_HEADER, &ins[split..]);
        let splitted = dir.path().join("split");
        run_in_pool(2, vec![parts], vec![sp], &splitted);
        // Same rows, but the lineage (`file`, `row`) names the part each came from.
        let without_lineage = |dir: &Path, f: &str| -> Vec<Vec<String>> {
            let mut r = csv::Reader::from_path(dir.join(f)).unwrap();
            let h = r.headers().unwrap().clone();
            let keep: Vec<usize> = (0..h.len()).filter(|&k| !matches!(&h[k], "file" | "row")).collect();
            r.records().map(|rec| {
                let rec = rec.unwrap();
                keep.iter().map(|&k| rec[k].to_string()).collect()
            }).collect()
        };
        prop_assert_eq!(
            without_lineage(&one, "instructions.csv"),
            without_lineage(&splitted, "instructions.csv"),
            "instructions differ when split"
        );
        prop_assert_eq!(
            std::fs::read(one.join("settlements.csv")).unwrap(),
            std::fs::read(splitted.join("settlements.csv")).unwrap(),
            "settlements differ when the instructions are split"
        );
        let key = |rows: Vec<csv::StringRecord>| -> Vec<(String, String, String)> {
            rows.iter().map(|r| (r[0].to_string(), r[4].to_string(), r[5].to_string())).collect()
        };
        prop_assert_eq!(key(read(&one, "rejects.csv")), key(read(&splitted, "rejects.csv")));
    }

    #[test]
    fn decisions_change_only_what_they_touch(
        ins in proptest::collection::vec(ins_row(), 0..30),
        set in proptest::collection::vec(set_row(), 0..30),
        decisions in proptest::collection::vec(decision_row(), 0..12),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (ip, sp, dp) = (
            dir.path().join("ins.csv"),
            dir.path().join("set.csv"),
            dir.path().join("decisions.csv"),
        );
        write_csv(&ip, INS_HEADER, &ins);
        write_csv(&sp, SET_HEADER, &set);
        write_csv(&dp, DECISION_HEADER, &decisions);
        let base = dir.path().join("base");
        run_in_pool(2, vec![ip.clone()], vec![sp.clone()], &base);
        let decided = dir.path().join("decided");
        run_decided(1, vec![ip.clone()], vec![sp.clone()], vec![dp.clone()], &decided);
        // Conservation and the totals' re-derivation hold with decisions too.
        check_conservation_and_totals(&decided, ins.len(), set.len());
        let three = dir.path().join("three");
        run_decided(3, vec![ip], vec![sp], vec![dp], &three);
        prop_assert_eq!(all_bytes(&decided), all_bytes(&three), "outputs depend on the thread count");
        prop_assert_eq!(read(&base, "rejects.csv"), read(&decided, "rejects.csv"));
        prop_assert_eq!(read(&decided, "decisions.csv").len(), decisions.len());

        // What an applied decision may change: the rows it names (and the instruction its
        // settlement had), and through §3.2 the rows of the same fallback key (provider,
        // account, currency, amount): a MATCH makes its instruction a reference match and
        // takes the settlement out of the fallback, which can settle an ambiguity there.
        let (bi, bs) = (read(&base, "instructions.csv"), read(&base, "settlements.csv"));
        let (di, ds) = (read(&decided, "instructions.csv"), read(&decided, "settlements.csv"));
        prop_assert_eq!((bi.len(), bs.len()), (di.len(), ds.len()));
        let ins_key = |r: &csv::StringRecord| format!("{}|{}|{}|{}", &r[4], &r[5], &r[7], &r[6]);
        let set_key = |r: &csv::StringRecord| format!("{}|{}|{}|{}", &r[0], &r[3], &r[6], &r[4]);
        let mut named_ins = std::collections::BTreeSet::new();
        let mut named_set = std::collections::BTreeSet::new();
        for d in read(&decided, "decisions.csv") {
            if &d[10] != "APPLIED" {
                continue;
            }
            named_set.insert((d[2].to_string(), d[3].to_string()));
            named_ins.insert(d[4].to_string());
            named_ins.insert(d[19].to_string()); // settlement_instruction_before
        }
        // decisions.csv's "before" is the run without decisions.
        let status_of: BTreeMap<&str, &str> = bi.iter().map(|r| (&r[0], &r[9])).collect();
        let match_of: BTreeMap<(&str, &str), (&str, &str)> =
            bs.iter().map(|r| ((&r[0], &r[1]), (&r[9], &r[10]))).collect();
        for d in read(&decided, "decisions.csv") {
            if &d[10] != "APPLIED" {
                continue;
            }
            if !d[13].is_empty() {
                prop_assert_eq!(status_of[&d[13]], &d[14], "status_before of {}", &d[0]);
            }
            if !d[18].is_empty() {
                prop_assert_eq!(match_of[&(&d[2], &d[3])], (&d[18], &d[19]), "match before of {}", &d[0]);
            }
        }
        let mut keys = std::collections::BTreeSet::new();
        for r in &bi {
            if named_ins.contains(&r[0]) {
                keys.insert(ins_key(r));
            }
        }
        for r in &bs {
            if named_set.contains(&(r[0].to_string(), r[1].to_string())) {
                keys.insert(set_key(r));
            }
        }
        for (b, d) in bi.iter().zip(&di) {
            if !named_ins.contains(&b[0]) && !keys.contains(&ins_key(b)) {
                prop_assert_eq!(b, d, "an instruction no decision touches changed");
            }
        }
        for (b, d) in bs.iter().zip(&ds) {
            if !named_set.contains(&(b[0].to_string(), b[1].to_string())) && !keys.contains(&set_key(b)) {
                prop_assert_eq!(b, d, "a settlement no decision touches changed");
            }
        }
    }
}
