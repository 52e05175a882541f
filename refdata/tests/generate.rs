//! `generate`: determinism, coverage of every finding and reject reason, format
//! independence of the truth, file layout and argument errors.

mod common;

use std::collections::BTreeSet;

use common::{all_files, gen, read_json, read_rows};
use sverka_refdata::{generate, generate_with_part_rows, Format, GenerateConfig, Rates};

const STATUSES: [&str; 8] = [
    "UNPAID",
    "CURRENCY_MISMATCH",
    "DOUBLE_PAID",
    "RETURNED",
    "FAILED",
    "PAID",
    "UNDERPAID",
    "OVERPAID",
];
const FLAGS: [&str; 8] = [
    "ACCOUNT_MISMATCH",
    "AMBIGUOUS",
    "AMOUNT_OUTLIER",
    "DUPLICATE_BENEFICIARY",
    "FALLBACK_MATCH",
    "LATE",
    "PROVIDER_MISMATCH",
    "SHARED_ACCOUNT",
];
const INSTRUCTION_REASONS: [&str; 8] = [
    "malformed_row",
    "missing_field",
    "invalid_amount",
    "non_positive_amount",
    "unknown_currency",
    "amount_precision",
    "invalid_date",
    "duplicate_instruction_id",
];
const SETTLEMENT_REASONS: [&str; 9] = [
    "malformed_row",
    "missing_field",
    "invalid_amount",
    "negative_amount",
    "unknown_currency",
    "amount_precision",
    "invalid_date",
    "invalid_status",
    "duplicate_provider_ref",
];

#[test]
fn same_seed_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    for format in [Format::Parquet, Format::Csv, Format::Arrow] {
        let (a, _) = gen(
            dir.path(),
            &format!("a-{format}"),
            2_000,
            7,
            format,
            "default",
        );
        let (b, _) = gen(
            dir.path(),
            &format!("b-{format}"),
            2_000,
            7,
            format,
            "default",
        );
        let fa = all_files(&a);
        assert_eq!(fa, all_files(&b));
        assert_eq!(fa.len(), 19, "{fa:?}");
        for f in &fa {
            let x = std::fs::read(a.join(f)).unwrap();
            let y = std::fs::read(b.join(f)).unwrap();
            assert!(
                x == y,
                "{} differs between two runs with the same seed",
                f.display()
            );
        }
    }
    // Another seed gives other data.
    let (c, _) = gen(dir.path(), "c", 2_000, 8, Format::Parquet, "default");
    let x = std::fs::read(c.join("truth/instructions.parquet")).unwrap();
    let y = std::fs::read(dir.path().join("a-parquet/truth/instructions.parquet")).unwrap();
    assert_ne!(x, y);
}

fn keys(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn every_finding_and_reason_is_planted() {
    let dir = tempfile::tempdir().unwrap();
    for profile in ["default", "messy"] {
        let (out, report) = gen(dir.path(), profile, 3_000, 11, Format::Csv, profile);
        assert_eq!(report.instructions_in, 3_000);
        let s = read_json(&out.join("truth/summary.json"));
        assert_eq!(truth_summary_errors(&s), Vec::<String>::new());
        let c = &s["counts"];
        assert_eq!(
            keys(&c["by_status"]),
            STATUSES.iter().map(|x| x.to_string()).collect()
        );
        assert_eq!(
            keys(&c["by_flag"]),
            FLAGS.iter().map(|x| x.to_string()).collect()
        );
        assert_eq!(
            keys(&c["by_match"]),
            ["FALLBACK", "NONE", "REFERENCE"]
                .iter()
                .map(|x| x.to_string())
                .collect()
        );
        assert_eq!(
            keys(&c["by_reason"]["instructions"]),
            INSTRUCTION_REASONS.iter().map(|x| x.to_string()).collect()
        );
        assert_eq!(
            keys(&c["by_reason"]["settlements"]),
            SETTLEMENT_REASONS.iter().map(|x| x.to_string()).collect()
        );
        for (k, v) in s["planted"].as_object().unwrap() {
            assert!(v.as_u64().unwrap() > 0, "{profile}: {k} never planted");
        }
        // The counts add up.
        let n = |k: &str| c[k].as_u64().unwrap();
        assert_eq!(
            n("instructions_in"),
            n("instructions_accepted") + c["rejects"]["instructions"].as_u64().unwrap()
        );
        assert_eq!(
            n("settlements_in"),
            n("settlements_accepted") + c["rejects"]["settlements"].as_u64().unwrap()
        );
        let (_, ti) = read_rows(&out.join("truth/instructions.parquet"));
        let (_, ts) = read_rows(&out.join("truth/settlements.parquet"));
        let (_, tr) = read_rows(&out.join("truth/rejects.parquet"));
        assert_eq!(ti.len() as u64, n("instructions_accepted"));
        assert_eq!(ts.len() as u64, n("settlements_accepted"));
        assert_eq!(
            tr.len() as u64,
            c["rejects"]["instructions"].as_u64().unwrap()
                + c["rejects"]["settlements"].as_u64().unwrap()
        );
    }
}

#[test]
fn clean_profile_plants_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (out, report) = gen(dir.path(), "clean", 2_000, 3, Format::Parquet, "clean");
    assert_eq!(report.rejects_instructions + report.rejects_settlements, 0);
    assert_eq!(report.by_status.keys().collect::<Vec<_>>(), ["PAID"]);
    assert!(report.by_flag.is_empty(), "{:?}", report.by_flag);
    assert_eq!(report.by_match.keys().collect::<Vec<_>>(), ["REFERENCE"]);
    assert_eq!(report.settlements_in, report.instructions_in);
    let (_, tr) = read_rows(&out.join("truth/rejects.parquet"));
    assert!(tr.is_empty());
}

#[test]
fn rate_settings_plant_what_they_set_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("set");
    let report = generate(&GenerateConfig {
        instructions: 3_000,
        out: out.clone(),
        seed: 5,
        format: Format::Parquet,
        settlement_format: None,
        profile: "clean".into(),
        rates: vec!["late=10%".into(), "unexpected_settlement=20000".into()],
    })
    .unwrap();
    assert_eq!(
        report.rates_set,
        ["late=10%", "unexpected_settlement=20000"]
    );
    assert_eq!(report.by_flag.keys().collect::<Vec<_>>(), ["LATE"]);
    assert_eq!(
        report.by_match.keys().collect::<Vec<_>>(),
        ["NONE", "REFERENCE"]
    );
    let s = read_json(&out.join("truth/summary.json"));
    assert_eq!(s["rates"]["late"], 100_000);
    assert_eq!(s["rates"]["unexpected_settlement"], 20_000);
    assert_eq!(s["rates"]["unpaid"], 0);
    assert_eq!(s["rates_set"][1], "unexpected_settlement=20000");
    let planted: BTreeSet<String> = s["planted"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| v.as_u64().unwrap() > 0)
        .map(|(k, _)| k.clone())
        .collect();
    let expected = [
        "unit.arrears_pair",
        "unit.late",
        "unit.paid",
        "unit.unexpected_settlement",
    ];
    assert_eq!(planted, expected.iter().map(|x| x.to_string()).collect());
    // About one unit in ten is late (a binomial draw: 3 sigma is ~50 units).
    let late = s["planted"]["unit.late"].as_u64().unwrap();
    assert!((220..=380).contains(&late), "{late}");
    let e = generate(&GenerateConfig {
        instructions: 10,
        out: dir.path().join("bad"),
        seed: 5,
        format: Format::Parquet,
        settlement_format: None,
        profile: "default".into(),
        rates: vec!["late=10".into(), "late=20".into()],
    })
    .unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("rate late is set twice"), "{e}");
    assert!(!dir.path().join("bad").exists());
}

/// Reject rows differ only where a CSV-only defect is rendered by other means.
fn comparable_rejects(
    rows: &[Vec<Option<String>>],
    ext: &str,
) -> Vec<(String, String, String, String)> {
    rows.iter()
        .map(|r| {
            let file = r[1].clone().unwrap().replace(&format!(".{ext}"), "");
            let reason = r[3].clone().unwrap();
            (r[0].clone().unwrap(), file, r[2].clone().unwrap(), reason)
        })
        .collect()
}

#[test]
fn formats_share_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    let (p, _) = gen(dir.path(), "p", 3_000, 5, Format::Parquet, "messy");
    let (c, _) = gen(dir.path(), "c", 3_000, 5, Format::Csv, "messy");
    let (a, _) = gen(dir.path(), "a", 3_000, 5, Format::Arrow, "messy");
    // The same rows but for the files' extensions (and the settlements' format).
    for (f, file_col, format_col) in [
        ("truth/instructions.parquet", 6, None),
        ("truth/settlements.parquet", 5, Some(7)),
    ] {
        let rows = |d: &std::path::Path, ext: &str| {
            let (_, mut rows) = read_rows(&d.join(f));
            for r in &mut rows {
                r[file_col] = r[file_col].as_ref().map(|v| v.replace(ext, ""));
                if let Some(k) = format_col {
                    r[k] = None;
                }
            }
            rows
        };
        let x = rows(&p, ".parquet");
        assert!(x == rows(&c, ".csv"), "{f}: parquet vs csv");
        assert!(x == rows(&a, ".arrow"), "{f}: parquet vs arrow");
    }
    let (_, rp) = read_rows(&p.join("truth/rejects.parquet"));
    let (_, rc) = read_rows(&c.join("truth/rejects.parquet"));
    let (_, ra) = read_rows(&a.join("truth/rejects.parquet"));
    let (rp, rc, ra) = (
        comparable_rejects(&rp, "parquet"),
        comparable_rejects(&rc, "csv"),
        comparable_rejects(&ra, "arrow"),
    );
    assert_eq!(rp, ra);
    assert_eq!(rp.len(), rc.len());
    let mut malformed = 0;
    for (x, y) in rp.iter().zip(&rc) {
        assert_eq!((&x.0, &x.1, &x.2), (&y.0, &y.1, &y.2));
        if x.3 != y.3 {
            // A short CSV record is a row with null tail columns elsewhere; a split
            // amount is an amount with a decimal comma.
            assert_eq!(y.3, "malformed_row");
            assert!(x.3 == "missing_field" || x.3 == "invalid_amount", "{x:?}");
            malformed += 1;
        }
    }
    assert!(malformed >= 4, "{malformed}");
}

#[test]
fn instruction_files_are_split_into_parts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("parts");
    let cfg = GenerateConfig {
        instructions: 2_500,
        out: out.clone(),
        seed: 1,
        format: Format::Csv,
        settlement_format: None,
        profile: "default".into(),
        rates: Vec::new(),
    };
    let report = generate_with_part_rows(&cfg, &Rates::default(), 1_000).unwrap();
    let parts: Vec<_> = report
        .files
        .iter()
        .filter(|f| f.side == "instructions")
        .collect();
    assert_eq!(
        parts
            .iter()
            .map(|f| (f.path.as_str(), f.rows))
            .collect::<Vec<_>>(),
        [
            ("instructions/instructions-0000.csv", 1_000),
            ("instructions/instructions-0001.csv", 1_000),
            ("instructions/instructions-0002.csv", 500)
        ]
    );
    for p in parts {
        let text = std::fs::read_to_string(out.join(&p.path)).unwrap();
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        assert_eq!(rdr.records().count() as u64, p.rows, "{}", p.path);
    }
    let (_, tr) = read_rows(&out.join("truth/rejects.parquet"));
    for r in tr
        .iter()
        .filter(|r| r[0].as_deref() == Some("instructions"))
    {
        assert!(r[2].as_deref().unwrap().parse::<u64>().unwrap() <= 1_000);
    }
}

#[test]
fn layout_and_settings() {
    let dir = tempfile::tempdir().unwrap();
    let (out, report) = gen(dir.path(), "layout", 500, 2, Format::Parquet, "default");
    let files: Vec<String> = all_files(&out)
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    for f in [
        "generate.json",
        "instructions/instructions-0000.parquet",
        "settlements/UZCARD.parquet",
        "settlements/MTN_MOMO_UG.parquet",
        "truth/instructions.parquet",
        "truth/settlements.parquet",
        "truth/rejects.parquet",
        "truth/summary.json",
    ] {
        assert!(files.iter().any(|x| x == f), "{f} missing from {files:?}");
    }
    assert!(
        !files
            .iter()
            .any(|f| f.contains("partial") || f.contains("/.")),
        "{files:?}"
    );
    let settings = read_json(&out.join("generate.json"));
    assert_eq!(settings["seed"], 2);
    assert_eq!(settings["format"], "parquet");
    assert_eq!(settings["instructions"], 500);
    let shown = report.to_string();
    assert!(
        shown.contains("generated") && shown.contains("instructions"),
        "{shown}"
    );
    serde_json::to_string(&report).unwrap();
    // No sibling working folder is left behind.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
}

#[test]
fn bad_arguments_are_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let busy = dir.path().join("busy");
    std::fs::create_dir(&busy).unwrap();
    std::fs::write(busy.join("x"), "keep me").unwrap();
    let cfg = |out: std::path::PathBuf, profile: &str| GenerateConfig {
        instructions: 10,
        out,
        seed: 1,
        format: Format::Parquet,
        settlement_format: None,
        profile: profile.into(),
        rates: Vec::new(),
    };
    let e = generate(&cfg(busy.clone(), "default")).unwrap_err();
    assert!(e.is_bad_input(), "{e}");
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("not empty"), "{e}");
    assert_eq!(std::fs::read_to_string(busy.join("x")).unwrap(), "keep me");
    let e = generate(&cfg(dir.path().join("new"), "noisy")).unwrap_err();
    assert!(e.is_bad_input());
    assert_eq!(
        e.to_string(),
        "unknown profile \"noisy\": use default, clean or messy"
    );
    let e = generate(&cfg(dir.path().join("no/such/parent"), "default")).unwrap_err();
    assert!(e.is_bad_input(), "{e}");
    // An existing empty folder is fine.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    generate(&cfg(empty.clone(), "default")).unwrap();
    assert!(empty.join("truth/summary.json").exists());
    "csv".parse::<Format>().unwrap();
    assert!("xlsx".parse::<Format>().unwrap_err().is_bad_input());
}

#[test]
fn zero_instructions() {
    let dir = tempfile::tempdir().unwrap();
    let (out, report) = gen(dir.path(), "zero", 0, 1, Format::Csv, "default");
    assert_eq!(report.instructions_in + report.settlements_in, 0);
    let text = std::fs::read_to_string(out.join("instructions/instructions-0000.csv")).unwrap();
    assert_eq!(
        text,
        "instruction_id,beneficiary_id,program,cycle,provider,account,amount,currency,due_date\n"
    );
}

/// A missing value is written both ways the contract reads as missing: as a null and as
/// empty or space-only text, in each column where the generator plants it.
#[test]
fn missing_values_are_written_as_nulls_and_as_blanks() {
    let dir = tempfile::tempdir().unwrap();
    let (out, report) = gen(dir.path(), "messy", 20_000, 11, Format::Parquet, "messy");
    for (side, columns) in [
        ("instructions", &["instruction_id", "currency"][..]),
        (
            "settlements",
            &["provider_ref", "account", "amount", "status", "value_date"][..],
        ),
    ] {
        // Per column: (nulls, blank texts).
        let mut seen = vec![(0u32, 0u32); columns.len()];
        for f in report.files.iter().filter(|f| f.side == side) {
            let (names, rows) = read_rows(&out.join(&f.path));
            for (c, name) in columns.iter().enumerate() {
                let i = names.iter().position(|n| n == name).unwrap();
                for r in &rows {
                    match &r[i] {
                        None => seen[c].0 += 1,
                        Some(v) if v.trim_matches([' ', '\t']).is_empty() => seen[c].1 += 1,
                        Some(_) => {}
                    }
                }
            }
        }
        for (name, (nulls, blanks)) in columns.iter().zip(seen) {
            assert!(
                nulls > 0 && blanks > 0,
                "{side}.{name}: {nulls} nulls, {blanks} blanks"
            );
        }
    }
}

/// What is wrong with a truth summary.json against `schemas/truth-summary.schema.json`.
fn truth_summary_errors(v: &serde_json::Value) -> Vec<String> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../schemas/truth-summary.schema.json");
    let schema = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    let validator = jsonschema::draft202012::new(&schema).expect("a valid draft 2020-12 schema");
    validator
        .iter_errors(v)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// The same seed gives the same month whatever format carries the settlements: the
/// same instruction truth, the same settlements matched alike, the same rejects but for
/// the statements' own entries (`not_a_payment`), the same totals but for the fees that
/// pain.002 and MT940 cannot carry.
#[test]
fn settlement_formats_share_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    let (base, _) = gen(dir.path(), "csv", 3_000, 5, Format::Csv, "messy");
    let sorted = |d: &std::path::Path| {
        let (_, rows) = read_rows(&d.join("truth/settlements.parquet"));
        let mut keys: Vec<Vec<Option<String>>> =
            rows.into_iter().map(|r| r[..5].to_vec()).collect();
        keys.sort();
        keys
    };
    let reasons = |d: &std::path::Path| {
        let s = read_json(&d.join("truth/summary.json"));
        let mut m = s["counts"]["by_reason"]["settlements"]
            .as_object()
            .unwrap()
            .clone();
        m.remove("not_a_payment");
        (s["counts"]["by_reason"]["instructions"].clone(), m)
    };
    let totals = |d: &std::path::Path, fees: bool| {
        let mut t = read_json(&d.join("truth/summary.json"))["totals"].clone();
        for v in t.as_object_mut().unwrap().values_mut() {
            if !fees {
                v.as_object_mut().unwrap().remove("fees");
            }
        }
        t
    };
    for sf in ["camt053", "pain002", "mt940", "mixed"] {
        let (d, report) = common::gen_settlements(
            dir.path(),
            sf,
            3_000,
            5,
            Format::Csv,
            Some(sf.parse().unwrap()),
            "messy",
        );
        assert!(
            std::fs::read(d.join("truth/instructions.parquet")).unwrap()
                == std::fs::read(base.join("truth/instructions.parquet")).unwrap(),
            "{sf}: instruction truth"
        );
        assert!(sorted(&d) == sorted(&base), "{sf}: settlement truth");
        let (x, y) = (reasons(&d), reasons(&base));
        assert_eq!(x.0, y.0, "{sf}: instruction reject reasons");
        if sf == "mixed" {
            // Its Parquet providers give CSV-only defects their Parquet reasons.
            let total = |m: &serde_json::Map<String, serde_json::Value>| {
                m.values().map(|v| v.as_u64().unwrap()).sum::<u64>()
            };
            assert_eq!(total(&x.1), total(&y.1), "{sf}: settlement rejects");
        } else {
            assert_eq!(x.1, y.1, "{sf}: settlement reject reasons");
        }
        let fees = sf == "camt053";
        assert_eq!(totals(&d, fees), totals(&base, fees), "{sf}: totals");
        assert!(d.join("providers.toml").exists());
        let kinds: BTreeSet<&str> = report
            .files
            .iter()
            .filter(|f| f.side == "settlements")
            .map(|f| f.path.rsplit_once('.').unwrap().1)
            .collect();
        assert!(kinds.contains("csv"), "{sf}: {kinds:?}");
    }
    assert!(!base.join("providers.toml").exists());
}
