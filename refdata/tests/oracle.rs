//! An independent check of the truth: a naive, from-scratch reading of CONTRACT.md
//! sections 1-4 (version 2) applied to the generated inputs (nothing shared with the
//! generator but the file layout), whose result must equal `truth/*` row for row. The
//! settlement files are read as they are (CSV, Parquet) or by section 7.3 (camt,
//! pain.002, MT940; `common::files`), with their declared control figures checked.
//!
//! The generator computes the truth from its planting model; this test catches any
//! place where the written text does not mean what the model intended (an "invalid"
//! amount that parses, a padded id that no longer matches, an accidental fallback pair,
//! an outlier threshold crossed by accident).

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use common::files::{read_settlements, Reading};
use common::{gen, gen_settlements, read_json, read_rows};
use serde_json::Value;
use sverka_refdata::{Format, SettlementFormat};

const FLAGS: [&str; 7] = [
    "ACCOUNT_MISMATCH",
    "AMOUNT_OUTLIER",
    "DUPLICATE_BENEFICIARY",
    "FALLBACK_MATCH",
    "LATE",
    "PROVIDER_MISMATCH",
    "SHARED_ACCOUNT",
];

fn iso_table() -> HashMap<String, u32> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/iso4217.json");
    let v = read_json(&path);
    v["currencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap().to_string(),
                c["minor_units"].as_u64().unwrap() as u32,
            )
        })
        .collect()
}

fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// `-?digits(.digits)?`, at most 15 integer digits: (negative, integer digits, fraction digits).
fn amount_grammar(s: &str) -> Option<(bool, String, String)> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => {
            if f.is_empty() {
                return None;
            }
            (i, f)
        }
        None => (body, ""),
    };
    if int.is_empty() || int.len() > 15 || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((neg, int.to_string(), frac.to_string()))
}

/// Value in minor units, or `None` when non-zero digits go beyond them.
fn minor_value(a: &(bool, String, String), minor: u32) -> Option<i128> {
    let (neg, int, frac) = a;
    let m = minor as usize;
    if frac.len() > m && frac[m..].bytes().any(|b| b != b'0') {
        return None;
    }
    let mut f: String = frac.chars().take(m).collect();
    while f.len() < m {
        f.push('0');
    }
    let v: i128 = format!("{int}{f}").parse().unwrap();
    Some(if *neg { -v } else { v })
}

fn is_zero(a: &(bool, String, String)) -> bool {
    a.1.bytes().all(|b| b == b'0') && a.2.bytes().all(|b| b == b'0')
}

fn days(y: i64, m: i64, d: i64) -> i64 {
    // Days since 1970-01-01, straightforward (not the generator's algorithm).
    let mut n = 0;
    for yy in 1970..y {
        n += if leap(yy) { 366 } else { 365 };
    }
    for mm in 1..m {
        n += month_len(y, mm);
    }
    n + d - 1
}

fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn month_len(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap(y) => 29,
        _ => 28,
    }
}

fn date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = &s[r];
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    if !(1..=12).contains(&m) || d < 1 || d > month_len(y, m) {
        return None;
    }
    Some(days(y, m, d))
}

struct Instr {
    id: String,
    ben: String,
    program: String,
    cycle: String,
    provider: String,
    account: String,
    amount: i128,
    currency: String,
    due: i64,
}

struct Sett {
    provider: String,
    pref: String,
    iid: String,
    /// CONTRACT v2: account, amount and currency may be absent.
    account: Option<String>,
    amount: Option<i128>,
    fee: i128,
    currency: Option<String>,
    status: String,
    value: i64,
    /// Where it came from: file, row, format.
    file: String,
    row: u64,
    format: String,
}

type Reject = (String, String, i64, String);

fn csv_files(dir: &Path) -> Vec<(String, Vec<csv::StringRecord>, csv::StringRecord)> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".csv"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let mut bytes = std::fs::read(dir.join(&n)).unwrap();
            if bytes.starts_with(b"\xEF\xBB\xBF") {
                bytes.drain(..3);
            }
            let mut rdr = csv::ReaderBuilder::new()
                .flexible(true)
                .from_reader(&bytes[..]);
            let header = rdr.headers().unwrap().clone();
            let rows = rdr.records().map(|r| r.unwrap()).collect();
            (n, rows, header)
        })
        .collect()
}

/// CONTRACT 2 over one settlement's trimmed columns (v2: amount and currency are
/// required unless the status is exactly FAILED, currency whenever amount or fee has a
/// value; account is optional): (amount, fee, value date) or the first failing reason.
fn settlement_fields(
    v: &[&str],
    iso: &HashMap<String, u32>,
) -> Result<(Option<i128>, i128, i64), &'static str> {
    let failed = v[7] == "FAILED";
    let required = [
        true,
        true,
        false,
        false,
        !failed,
        false,
        !failed || !v[4].is_empty() || !v[5].is_empty(),
        true,
        true,
    ];
    let (mut amount, mut fee) = (None, None);
    let (mut value, mut fee_value, mut vd) = (None, 0, 0);
    for k in 0..9 {
        if v[k].is_empty() {
            if required[k] {
                return Err("missing_field");
            }
            continue;
        }
        match k {
            4 => match amount_grammar(v[k]) {
                None => return Err("invalid_amount"),
                Some(a) if a.0 && !is_zero(&a) => return Err("negative_amount"),
                Some(a) => amount = Some(a),
            },
            5 => match amount_grammar(v[k]) {
                None => return Err("invalid_amount"),
                Some(a) => fee = Some(a),
            },
            6 => {
                let Some(&mu) = iso.get(v[k]) else {
                    return Err("unknown_currency");
                };
                if let Some(a) = &amount {
                    value = Some(minor_value(a, mu).ok_or("amount_precision")?);
                }
                if let Some(f) = &fee {
                    fee_value = minor_value(f, mu).ok_or("amount_precision")?;
                }
            }
            7 if !["SETTLED", "FAILED", "RETURNED"].contains(&v[k]) => {
                return Err("invalid_status");
            }
            8 => vd = date(v[k]).ok_or("invalid_date")?,
            _ => {}
        }
    }
    Ok((value, fee_value, vd))
}

struct Oracle {
    instrs: Vec<Instr>,
    setts: Vec<Sett>,
    rejects: BTreeSet<Reject>,
}

fn load(data: &Path, iso: &HashMap<String, u32>, reading: Reading) -> Oracle {
    let mut rejects = BTreeSet::new();
    let mut instrs = Vec::new();
    let mut seen_ids = BTreeSet::new();
    for (file, rows, header) in csv_files(&data.join("instructions")) {
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let cols: Vec<usize> = [
            "instruction_id",
            "beneficiary_id",
            "program",
            "cycle",
            "provider",
            "account",
            "amount",
            "currency",
            "due_date",
        ]
        .iter()
        .map(|c| col(c))
        .collect();
        for (i, rec) in rows.iter().enumerate() {
            let row = i as i64 + 1;
            let mut reject = |reason: &str| {
                rejects.insert((
                    "instructions".to_string(),
                    file.clone(),
                    row,
                    reason.to_string(),
                ));
            };
            if rec.len() != header.len() {
                reject("malformed_row");
                continue;
            }
            let v: Vec<&str> = cols.iter().map(|&c| trim(&rec[c])).collect();
            let mut reason = None;
            let mut amount = None;
            let mut value = 0;
            let mut due = 0;
            for (k, name) in [
                "id", "ben", "program", "cycle", "provider", "account", "amount", "currency", "due",
            ]
            .iter()
            .enumerate()
            {
                if reason.is_some() {
                    break;
                }
                if v[k].is_empty() {
                    reason = Some("missing_field");
                    break;
                }
                match *name {
                    "amount" => match amount_grammar(v[k]) {
                        None => reason = Some("invalid_amount"),
                        Some(a) if a.0 || is_zero(&a) => reason = Some("non_positive_amount"),
                        Some(a) => amount = Some(a),
                    },
                    "currency" => match iso.get(v[k]) {
                        None => reason = Some("unknown_currency"),
                        Some(&mu) => match minor_value(amount.as_ref().unwrap(), mu) {
                            None => reason = Some("amount_precision"),
                            Some(x) => value = x,
                        },
                    },
                    "due" => match date(v[k]) {
                        None => reason = Some("invalid_date"),
                        Some(d) => due = d,
                    },
                    _ => {}
                }
            }
            if reason.is_none() && !seen_ids.insert(v[0].to_string()) {
                reason = Some("duplicate_instruction_id");
            }
            if let Some(r) = reason {
                reject(r);
                continue;
            }
            instrs.push(Instr {
                id: v[0].into(),
                ben: v[1].into(),
                program: v[2].into(),
                cycle: v[3].into(),
                provider: v[4].into(),
                account: v[5].into(),
                amount: value,
                currency: v[7].into(),
                due,
            });
        }
    }
    let (raw, failed) = read_settlements(data, reading);
    assert_eq!(
        failed,
        Vec::<String>::new(),
        "control checks of {}",
        data.display()
    );
    let mut setts = Vec::new();
    let mut seen_refs = BTreeSet::new();
    for x in raw {
        let mut reject = |reason: &str| {
            rejects.insert((
                "settlements".to_string(),
                x.file.clone(),
                x.row as i64,
                reason.to_string(),
            ));
        };
        if x.malformed {
            reject("malformed_row");
            continue;
        }
        if let Some(r) = &x.rejection {
            reject(r);
            continue;
        }
        let v: Vec<&str> = x.cols.iter().map(|c| trim(c)).collect();
        match settlement_fields(&v, iso) {
            Err(r) => reject(r),
            Ok(_) if !seen_refs.insert((v[0].to_string(), v[1].to_string())) => {
                reject("duplicate_provider_ref")
            }
            Ok((amount, fee, vd)) => setts.push(Sett {
                provider: v[0].into(),
                pref: v[1].into(),
                iid: v[2].into(),
                account: Some(v[3].to_string()).filter(|a| !a.is_empty()),
                amount,
                fee,
                currency: Some(v[6].to_string()).filter(|c| !c.is_empty()),
                status: v[7].into(),
                value: vd,
                file: x.file.clone(),
                row: x.row,
                format: x.format.clone(),
            }),
        }
    }
    Oracle {
        instrs,
        setts,
        rejects,
    }
}

struct Expected {
    instr: Vec<(String, String, String, i128, i64)>,
    sett: Vec<(String, String, String, String, String)>,
}

fn reconcile(o: &Oracle) -> Expected {
    let by_id: HashMap<&str, usize> = o
        .instrs
        .iter()
        .enumerate()
        .map(|(i, x)| (x.id.as_str(), i))
        .collect();
    let ns = o.setts.len();
    let mut matched: Vec<Option<usize>> = vec![None; ns];
    let mut method = vec!["NONE"; ns];
    let mut ref_matched = vec![false; o.instrs.len()];
    for (s, x) in o.setts.iter().enumerate() {
        if let Some(&i) = by_id.get(x.iid.as_str()) {
            matched[s] = Some(i);
            method[s] = "REFERENCE";
            ref_matched[i] = true;
        }
    }
    // Fallback candidates, indexed by (provider, account, currency, amount).
    let mut by_key: HashMap<(&str, &str, &str, i128), Vec<usize>> = HashMap::new();
    for (i, x) in o.instrs.iter().enumerate() {
        if !ref_matched[i] {
            by_key
                .entry((&x.provider, &x.account, &x.currency, x.amount))
                .or_default()
                .push(i);
        }
    }
    let mut cands: Vec<Vec<usize>> = vec![Vec::new(); ns];
    let mut icount = vec![0usize; o.instrs.len()];
    for (s, x) in o.setts.iter().enumerate() {
        if method[s] != "NONE" {
            continue;
        }
        // v2: without account, amount or currency, never a candidate.
        let (Some(account), Some(currency), Some(amount)) = (&x.account, &x.currency, x.amount)
        else {
            continue;
        };
        if let Some(list) = by_key.get(&(
            x.provider.as_str(),
            account.as_str(),
            currency.as_str(),
            amount,
        )) {
            for &i in list {
                if (x.value - o.instrs[i].due).abs() <= 7 {
                    cands[s].push(i);
                    icount[i] += 1;
                }
            }
        }
    }
    let mut ambiguous = vec![false; ns];
    for s in 0..ns {
        if cands[s].len() == 1 && icount[cands[s][0]] == 1 {
            matched[s] = Some(cands[s][0]);
            method[s] = "FALLBACK";
        } else if !cands[s].is_empty() {
            ambiguous[s] = true;
        }
    }
    // Instruction-side groups.
    let mut amounts: HashMap<(&str, &str, &str), Vec<i128>> = HashMap::new();
    let mut bens: HashMap<(&str, &str, &str), usize> = HashMap::new();
    let mut shared: HashMap<(&str, &str), BTreeSet<&str>> = HashMap::new();
    for x in &o.instrs {
        amounts
            .entry((&x.program, &x.cycle, &x.currency))
            .or_default()
            .push(x.amount);
        *bens.entry((&x.ben, &x.program, &x.cycle)).or_default() += 1;
        shared
            .entry((&x.provider, &x.account))
            .or_default()
            .insert(&x.ben);
    }
    let medians: HashMap<(&str, &str, &str), i128> = amounts
        .into_iter()
        .map(|(k, mut v)| {
            v.sort();
            (k, v[(v.len() - 1) / 2])
        })
        .collect();
    let mut per_instr: Vec<Vec<usize>> = vec![Vec::new(); o.instrs.len()];
    for (s, m) in matched.iter().enumerate() {
        if let Some(i) = *m {
            per_instr[i].push(s);
        }
    }
    let mut instr = Vec::new();
    for (i, x) in o.instrs.iter().enumerate() {
        let ms = &per_instr[i];
        let n = ms.len();
        let settled = ms
            .iter()
            .filter(|&&s| o.setts[s].status == "SETTLED")
            .count();
        let returned = ms
            .iter()
            .filter(|&&s| o.setts[s].status == "RETURNED")
            .count();
        let mut paid = 0i128;
        for &s in ms {
            let y = &o.setts[s];
            if y.currency.as_ref() == Some(&x.currency) {
                match y.status.as_str() {
                    "SETTLED" => paid += y.amount.unwrap(),
                    "RETURNED" => paid -= y.amount.unwrap(),
                    _ => {}
                }
            }
        }
        let status = if n == 0 {
            "UNPAID"
        } else if ms.iter().any(|&s| {
            o.setts[s]
                .currency
                .as_ref()
                .is_some_and(|c| *c != x.currency)
        }) {
            "CURRENCY_MISMATCH"
        } else if settled >= 2 {
            "DOUBLE_PAID"
        } else if settled == 0 && returned > 0 {
            "RETURNED"
        } else if settled == 0 {
            "FAILED"
        } else if paid == 0 && returned > 0 {
            "RETURNED"
        } else if paid == x.amount {
            "PAID"
        } else if paid < x.amount {
            "UNDERPAID"
        } else {
            "OVERPAID"
        };
        let settled_ms = || {
            ms.iter()
                .map(|&s| &o.setts[s])
                .filter(|y| y.status == "SETTLED")
        };
        let have = [
            settled_ms().any(|y| y.account.as_ref().is_some_and(|a| *a != x.account)),
            x.amount > 3 * medians[&(x.program.as_str(), x.cycle.as_str(), x.currency.as_str())],
            bens[&(x.ben.as_str(), x.program.as_str(), x.cycle.as_str())] >= 2,
            ms.iter().any(|&s| method[s] == "FALLBACK"),
            settled_ms().any(|y| y.value > x.due + 3),
            ms.iter().any(|&s| o.setts[s].provider != x.provider),
            shared[&(x.provider.as_str(), x.account.as_str())].len() >= 4,
        ];
        let flags: Vec<&str> = FLAGS
            .iter()
            .zip(have)
            .filter(|(_, h)| *h)
            .map(|(f, _)| *f)
            .collect();
        instr.push((
            x.id.clone(),
            status.to_string(),
            flags.join(";"),
            paid,
            n as i64,
        ));
    }
    let sett = (0..ns)
        .map(|s| {
            let y = &o.setts[s];
            (
                y.provider.clone(),
                y.pref.clone(),
                method[s].to_string(),
                matched[s]
                    .map(|i| o.instrs[i].id.clone())
                    .unwrap_or_default(),
                if ambiguous[s] {
                    "AMBIGUOUS".to_string()
                } else {
                    String::new()
                },
            )
        })
        .collect();
    Expected { instr, sett }
}

fn minor_units_of(text: &str) -> i128 {
    let a = amount_grammar(text).unwrap();
    minor_value(&a, a.2.len() as u32).unwrap()
}

fn check(data: &Path, iso: &HashMap<String, u32>, reading: Reading) {
    let o = load(data, iso, reading);
    let exp = reconcile(&o);
    let truth = data.join("truth");

    let (_, ti) = read_rows(&truth.join("instructions.parquet"));
    assert_eq!(ti.len(), exp.instr.len(), "accepted instructions");
    for (t, e) in ti.iter().zip(&exp.instr) {
        let t: Vec<String> = t.iter().map(|v| v.clone().unwrap()).collect();
        assert_eq!(t[0], e.0, "instruction order");
        assert_eq!((&t[1], &t[2]), (&e.1, &e.2), "instruction {}", e.0);
        assert_eq!(minor_units_of(&t[3]), e.3, "paid_amount of {}", e.0);
        assert_eq!(
            t[5].parse::<i64>().unwrap(),
            e.4,
            "settlement_count of {}",
            e.0
        );
    }

    let (_, ts) = read_rows(&truth.join("settlements.parquet"));
    assert_eq!(ts.len(), exp.sett.len(), "accepted settlements");
    for ((t, e), y) in ts.iter().zip(&exp.sett).zip(&o.setts) {
        let t: Vec<String> = t.iter().map(|v| v.clone().unwrap()).collect();
        assert_eq!((&t[0], &t[1]), (&e.0, &e.1), "settlement order");
        assert_eq!(
            (&t[5], &t[6], &t[7]),
            (&y.file, &y.row.to_string(), &y.format),
            "position and format of settlement {}/{}",
            e.0,
            e.1
        );
        assert_eq!(
            (&t[2], &t[3], &t[4]),
            (&e.2, &e.3, &e.4),
            "settlement {}/{}",
            e.0,
            e.1
        );
    }

    let (_, tr) = read_rows(&truth.join("rejects.parquet"));
    let truth_rejects: Vec<Reject> = tr
        .iter()
        .map(|r| {
            (
                r[0].clone().unwrap(),
                r[1].clone().unwrap(),
                r[2].clone().unwrap().parse().unwrap(),
                r[3].clone().unwrap(),
            )
        })
        .collect();
    let expected: Vec<Reject> = o.rejects.iter().cloned().collect();
    assert_eq!(truth_rejects, expected, "rejects (and their order)");

    // Totals per currency.
    let summary = read_json(&truth.join("summary.json"));
    let mut totals: BTreeMap<String, [i128; 10]> = BTreeMap::new();
    for (x, e) in o.instrs.iter().zip(&exp.instr) {
        let t = totals.entry(x.currency.clone()).or_default();
        t[0] += 1;
        t[1] += x.amount;
        if e.1 == "UNPAID" {
            t[6] += 1;
            t[7] += x.amount;
        }
    }
    for (y, e) in o.setts.iter().zip(&exp.sett) {
        // v2: a settlement without a currency counts in no currency's totals.
        let Some(currency) = &y.currency else {
            continue;
        };
        let t = totals.entry(currency.clone()).or_default();
        t[5] += y.fee;
        let amount = y.amount.unwrap_or(0);
        match y.status.as_str() {
            "SETTLED" => {
                t[2] += 1;
                t[3] += amount;
                if e.2 == "NONE" {
                    t[8] += 1;
                    t[9] += amount;
                }
            }
            "RETURNED" => t[4] += amount,
            _ => {}
        }
    }
    let fields = [
        "instructed_count",
        "instructed_amount",
        "settled_count",
        "settled_amount",
        "returned_amount",
        "fees",
        "unpaid_count",
        "unpaid_amount",
        "unexpected_count",
        "unexpected_amount",
    ];
    let t_obj = summary["totals"].as_object().unwrap();
    assert_eq!(
        t_obj.keys().cloned().collect::<Vec<_>>(),
        totals.keys().cloned().collect::<Vec<_>>()
    );
    for (cur, vals) in &totals {
        for (k, f) in fields.iter().enumerate() {
            let got = match &summary["totals"][cur][f] {
                Value::String(s) => minor_units_of(s),
                Value::Number(n) => i128::from(n.as_u64().unwrap()),
                other => panic!("{cur}.{f}: {other}"),
            };
            assert_eq!(got, vals[k], "totals.{cur}.{f}");
        }
    }
}

#[test]
fn truth_equals_an_independent_reading_of_the_contract() {
    let iso = iso_table();
    let dir = tempfile::tempdir().unwrap();
    let mut cases = vec![
        (1, "default", 4_000),
        (2, "messy", 4_000),
        (3, "messy", 1_500),
        (4, "clean", 1_000),
    ];
    // Tiny sets: every planting is forced from the first row on.
    for n in [0, 1, 2, 3, 5, 8, 13, 21, 60] {
        cases.push((100 + n, "messy", n));
    }
    for (seed, profile, n) in cases {
        let (data, _) = gen(
            dir.path(),
            &format!("{profile}-{seed}"),
            n,
            seed,
            Format::Csv,
            profile,
        );
        check(&data, &iso, Reading::Mini);
    }
}

#[test]
fn catalogue_currencies_are_active_iso_codes() {
    let iso = iso_table();
    for (code, mu) in [("UZS", 2), ("UGX", 0), ("KZT", 2), ("JOD", 3), ("USD", 2)] {
        assert_eq!(iso.get(code), Some(&mu), "{code}");
    }
    for bad in ["XYZ", "UZM", "860", "so'm", "RUR", "сум", "uzs"] {
        assert!(!iso.contains_key(bad), "{bad}");
    }
}

/// The same check at a larger size (run with `cargo test --release -p sverka-refdata
/// --test oracle -- --ignored`; `REFDATA_ORACLE_N` sets the size).
#[test]
#[ignore]
fn truth_equals_an_independent_reading_at_scale() {
    let n = std::env::var("REFDATA_ORACLE_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300_000);
    let iso = iso_table();
    let dir = tempfile::tempdir().unwrap();
    for (seed, profile) in [(101, "default"), (102, "messy")] {
        let (data, _) = gen(dir.path(), profile, n, seed, Format::Csv, profile);
        check(&data, &iso, Reading::Mini);
    }
    // Provider files at that size, read by the engine's readers.
    for sf in PROVIDER_FORMATS {
        let name = format!("messy-{sf}");
        let (data, _) = gen_settlements(dir.path(), &name, n, 103, Format::Csv, Some(sf), "messy");
        check(&data, &iso, Reading::Formats);
        std::fs::remove_dir_all(&data).unwrap();
    }
}

/// Provider files read back by this test's own reading of CONTRACT 7.3: every
/// transaction is exactly the planted settlement or reject, every control figure holds.
#[test]
fn provider_files_hold_the_truth() {
    let iso = iso_table();
    let dir = tempfile::tempdir().unwrap();
    for (k, sf) in PROVIDER_FORMATS.iter().enumerate() {
        for (seed, profile, n) in [
            (31, "messy", 3_000),
            (32, "default", 2_000),
            (33, "messy", 40),
        ] {
            let name = format!("{sf}-{seed}-{k}");
            let (data, _) =
                gen_settlements(dir.path(), &name, n, seed, Format::Csv, Some(*sf), profile);
            check(&data, &iso, Reading::Mini);
        }
    }
}

/// The same, with the readers the engine uses (`sverka-formats`), which must also give
/// exactly the rows of this test's own reading.
#[test]
fn provider_files_read_by_sverka_formats_hold_the_truth() {
    let iso = iso_table();
    let dir = tempfile::tempdir().unwrap();
    for sf in PROVIDER_FORMATS {
        let (data, _) = gen_settlements(
            dir.path(),
            &sf.to_string(),
            3_000,
            41,
            Format::Csv,
            Some(sf),
            "messy",
        );
        let (mine, _) = read_settlements(&data, Reading::Mini);
        let (theirs, _) = read_settlements(&data, Reading::Formats);
        for (a, b) in mine.iter().zip(&theirs) {
            assert_eq!(a, b, "{sf}: sverka-formats reads another row");
        }
        assert_eq!(mine.len(), theirs.len(), "{sf}: transactions");
        check(&data, &iso, Reading::Formats);
    }
}

const PROVIDER_FORMATS: [SettlementFormat; 4] = [
    SettlementFormat::Camt053,
    SettlementFormat::Pain002,
    SettlementFormat::Mt940,
    SettlementFormat::Mixed,
];
