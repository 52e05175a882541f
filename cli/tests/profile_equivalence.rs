//! A generated month reconciled twice: once with its settlements in sverka's own CSV
//! layout, once with the same rows rewritten into each provider's own report layout
//! (Windows-1251, `;`, a title block, decimal commas and spaces between thousands,
//! payouts negative, `DD.MM.YYYY` dates with a time, Russian status words, the reference
//! inside a free-text purpose, a totals line) and read back through profiles. The
//! results must be the same row for row (CONTRACT 7.4: a profile only undoes the layout).

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::bin;

const WORDS: [(&str, &str); 3] = [
    ("SETTLED", "Успешно"),
    ("FAILED", "Отклонено"),
    ("RETURNED", "Возврат"),
];

/// `-?digits(.digits)?`: the only amounts the layout can carry both ways.
fn canonical_amount(s: &str) -> bool {
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    let (int, frac) = s.split_once('.').unwrap_or((s, "0"));
    digits(int) && digits(frac)
}

/// `1234567.5` as `1 234 567,5`.
fn grouped(s: &str) -> String {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push(',');
        out.push_str(f);
    }
    out
}

/// The row in the provider's layout, or `None` when the layout cannot carry it as it is
/// (a planted value the provider's own report would not have): such rows stay in sverka's
/// layout in both runs.
fn in_layout(r: &csv::StringRecord) -> Option<Vec<String>> {
    let (status, amount, fee, date) = (&r[7], &r[4], &r[5], &r[8]);
    let word = WORDS.iter().find(|(s, _)| *s == status)?.1;
    let plain = |s: &str| s.is_ascii() && !s.contains([';', '"', '\n', '\r']) && s.trim() == s;
    let date_ok = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    let amount_ok = |a: &str| a.is_empty() || canonical_amount(a);
    if !(amount_ok(amount) && amount_ok(fee) && date_ok)
        || [&r[1], &r[2], &r[3], &r[6]].iter().any(|s| !plain(s))
    {
        return None;
    }
    // Payouts are reported negative; returns positive (negative_amounts = "absolute").
    let amount = match (amount, status) {
        ("", _) => String::new(),
        (a, "RETURNED") => grouped(a),
        (a, _) => format!("-{}", grouped(a)),
    };
    let fee = if fee.is_empty() {
        String::new()
    } else {
        grouped(fee)
    };
    let date = format!("{}.{}.{} 10:15", &date[8..10], &date[5..7], &date[0..4]);
    Some(vec![
        r[1].to_string(),
        format!("Пособие {} за ноябрь", &r[2]),
        r[3].to_string(),
        amount,
        fee,
        r[6].to_string(),
        word.to_string(),
        date,
    ])
}

const PROFILE: &str = r#"
files = ["CODE-report-*.csv"]
encoding = "windows-1251"
delimiter = ";"
header_row = 3
footer_rows = 1
decimal_separator = ","
thousands_separator = " "
date_format = "DD.MM.YYYY"
negative_amounts = "absolute"
[columns]
provider_ref = "ID транзакции"
instruction_id = { column = "Назначение платежа", pattern = '^Пособие (.*) за ноябрь$' }
account = "Номер карты"
amount = "Сумма"
fee = "Комиссия"
currency = "Валюта"
status = "Статус"
value_date = "Дата"
[status]
"Успешно" = "SETTLED"
"Отклонено" = "FAILED"
"Возврат" = "RETURNED"
"#;

/// Rewrites `own` (sverka's layout) into `dir`: one report per provider, the rows the
/// layout cannot carry in `rest.csv`; returns the providers file and the rows rewritten.
fn rewrite(own: &Path, dir: &Path) -> (String, usize) {
    let mut reports: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    let mut rest = csv::WriterBuilder::new()
        .flexible(true)
        .from_path(dir.join("rest.csv"))
        .unwrap();
    let mut names: Vec<_> = std::fs::read_dir(own)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let mut header = false;
    for path in names {
        // Planted rows may be short, long or not UTF-8: they go to `rest.csv` as read.
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(&path)
            .unwrap();
        if !header {
            rest.write_record(rdr.byte_headers().unwrap()).unwrap();
            header = true;
        }
        for r in rdr.byte_records() {
            let r = r.unwrap();
            let text = csv::StringRecord::from_byte_record(r.clone())
                .ok()
                .filter(|t| t.len() == 10 && sverka_engine::providers::usable_code(&t[0]));
            match text.as_ref().and_then(|t| Some((t, in_layout(t)?))) {
                Some((t, row)) => reports.entry(t[0].to_string()).or_default().push(row),
                None => rest.write_byte_record(&r).unwrap(),
            }
        }
    }
    rest.flush().unwrap();
    let mut providers = String::new();
    let mut rewritten = 0;
    for (code, rows) in &reports {
        let mut text = format!(
            "Реестр выплат {code} за ноябрь 2026;;;;;;;\r\nСформирован 01.12.2026;;;;;;;\r\n"
        );
        text.push_str(
            "ID транзакции;Назначение платежа;Номер карты;Сумма;Комиссия;Валюта;Статус;Дата\r\n",
        );
        for row in rows {
            text.push_str(&row.join(";"));
            text.push_str("\r\n");
        }
        text.push_str("Итого;;;;;;;\r\n");
        let (bytes, _, bad) = encoding_rs::WINDOWS_1251.encode(&text);
        assert!(!bad);
        std::fs::write(dir.join(format!("{code}-report-2026-11.csv")), bytes).unwrap();
        let body = PROFILE
            .replace("CODE", code)
            .replace(
                "[columns]",
                &format!("[providers.{code}.settlements.columns]"),
            )
            .replace(
                "[status]",
                &format!("[providers.{code}.settlements.status]"),
            );
        providers.push_str(&format!("[providers.{code}.settlements]{body}\n"));
        rewritten += rows.len();
    }
    (providers, rewritten)
}

/// A CSV copy's rows without the columns that name where a row came from, sorted.
fn rows_of(path: &Path, drop: &[&str]) -> Vec<Vec<String>> {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let keep: Vec<usize> = rdr
        .headers()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, h)| !drop.contains(h))
        .map(|(i, _)| i)
        .collect();
    let mut rows: Vec<Vec<String>> = rdr
        .records()
        .map(|r| {
            let r = r.unwrap();
            keep.iter().map(|&i| r[i].to_string()).collect()
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn a_month_through_provider_profiles_reconciles_as_in_sverkas_own_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let month = tmp.path().join("month");
    let o = bin()
        .args([
            "generate",
            "--instructions",
            "20000",
            "--seed",
            "7",
            "--format",
            "csv",
        ])
        .arg("--out")
        .arg(&month)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let reports = tmp.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let (providers, rewritten) = rewrite(&month.join("settlements"), &reports);
    assert!(
        rewritten > 15_000,
        "most rows go through a profile: {rewritten}"
    );
    let providers_file = tmp.path().join("providers.toml");
    std::fs::write(&providers_file, providers).unwrap();
    let run = |settlements: &Path, out: &Path, providers: Option<&Path>| {
        let mut cmd = bin();
        cmd.arg("reconcile")
            .arg("--instructions")
            .arg(month.join("instructions"))
            .arg("--settlements")
            .arg(settlements)
            .arg("--out")
            .arg(out)
            .arg("--csv");
        if let Some(p) = providers {
            cmd.arg("--providers").arg(p);
        }
        let o = cmd.output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    let (a, b) = (tmp.path().join("own"), tmp.path().join("profiles"));
    run(&month.join("settlements"), &a, None);
    run(&reports, &b, Some(&providers_file));
    let same = |file: &str, drop: &[&str]| {
        let (x, y) = (rows_of(&a.join(file), drop), rows_of(&b.join(file), drop));
        assert_eq!(x.len(), y.len(), "{file}");
        for (x, y) in x.iter().zip(&y) {
            assert_eq!(x, y, "{file}");
        }
    };
    same("instructions.csv", &[]);
    // Where a row came from differs by design; the values a reject shows are the
    // provider's own text, so only the reasons are compared.
    same("settlements.csv", &["file", "row", "format"]);
    same("rejects.csv", &["file", "row", "value"]);
}
