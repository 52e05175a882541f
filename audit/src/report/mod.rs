//! `report.html`: one self-contained page (inline CSS and SVG, no script, no external
//! resource) for auditors, built only from a results folder's written outputs, so that
//! the report a run writes and `sverka report DIR` are the same bytes.
//!
//! Every figure is exact decimal text in the currency's minor units; every value from the
//! data passes through the template's HTML auto-escaping (ids and file names are hostile).

pub mod chart;
pub mod data;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sverka_engine::{Error, Result};

use crate::read::{date32, decimal, int64, Pq, ReadResult, Text};
use crate::{fmt_minor, minor_units};
use data::{Cell, FINDINGS, STATUSES, TOP};

const TEMPLATE: &str = include_str!("report.html.j2");

/// Exception rows in the whole page: beyond this, each (finding, currency) table shows
/// fewer than `TOP` rows (only with dozens of currencies).
pub const MAX_EXCEPTION_ROWS: usize = 6000;
/// Histograms drawn: the currencies with the most instructions.
pub const MAX_HISTOGRAMS: usize = 12;
/// Rows of a "status by value" chart over all currencies.
pub const MAX_VALUE_ROWS: usize = 60;

/// Characters of a text cell shown in tables (ids are hostile input; the full values are
/// in the Parquet and CSV outputs).
pub const CELL_CHARS: usize = 80;

const STATUS_FILLS: [&str; 8] = [
    "#7f8c8d", // UNPAID
    "#8e44ad", // CURRENCY_MISMATCH
    "#922b21", // DOUBLE_PAID
    "#e67e22", // RETURNED
    "#e74c3c", // FAILED
    "#27ae60", // PAID
    "#f1c40f", // UNDERPAID
    "#2e86c1", // OVERPAID
];

fn cut(s: &str) -> String {
    if s.chars().count() <= CELL_CHARS {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(CELL_CHARS).collect();
        t.push('…');
        t
    }
}

fn money(v: i128, code: &str) -> String {
    fmt_minor(v, minor_units(code).unwrap_or(0))
}

/// Parses a decimal string of `summary.json` into minor units of `code`.
fn parse_minor(s: &str, code: &str) -> Option<i128> {
    let minor = minor_units(code)? as usize;
    let (neg, s) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() != minor || int.is_empty() {
        return None;
    }
    let mut v: i128 = int.parse().ok()?;
    for _ in 0..minor {
        v = v.checked_mul(10)?;
    }
    if minor > 0 {
        v += frac.parse::<i128>().ok()?;
    }
    Some(if neg { -v } else { v })
}

/// Builds the report from `summary` and the Parquet outputs found by `at(name)` (a run's
/// own outputs: a failure to read them back is an internal error).
pub fn render(summary: &Value, at: &dyn Fn(&str) -> PathBuf) -> Result<String> {
    let ctx = context(summary, at).map_err(|e| Error::Internal(format!("report: {e}")))?;
    fill(ctx)
}

/// The report must open anywhere: beyond this many bytes, exception tables are cut
/// further (halving the rows per table) until the page fits.
pub const MAX_BYTES: usize = 9 << 19; // 4.5 MiB

fn fill(mut ctx: Value) -> Result<String> {
    loop {
        let html = fill_once(&ctx)?;
        let top = ctx["top"].as_u64().unwrap_or(0) as usize;
        if html.len() <= MAX_BYTES || top == 0 {
            return Ok(html);
        }
        let top = top / 2;
        ctx["top"] = json!(top);
        if let Some(findings) = ctx["findings"].as_array_mut() {
            for f in findings {
                if let Some(tables) = f["tables"].as_array_mut() {
                    for t in tables {
                        if let Some(rows) = t["rows"].as_array_mut() {
                            rows.truncate(top);
                            t["shown"] = json!(rows.len());
                        }
                    }
                }
            }
        }
    }
}

fn fill_once(ctx: &Value) -> Result<String> {
    let mut env = minijinja::Environment::new();
    env.add_template("report.html", TEMPLATE)
        .map_err(|e| Error::Internal(format!("report template: {e}")))?;
    let tmpl = env
        .get_template("report.html")
        .map_err(|e| Error::Internal(format!("report template: {e}")))?;
    tmpl.render(ctx)
        .map_err(|e| Error::Internal(format!("report template: {e:#}")))
}

/// The report of a results folder on disk (`sverka report`); an unusable folder is exit 2.
pub fn render_folder(dir: &Path) -> Result<String> {
    let path = dir.join("summary.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::input(
            &path,
            format!("{e}; give the output folder of `sverka reconcile`"),
        )
    })?;
    let summary: Value = serde_json::from_str(&text)
        .map_err(|e| Error::input(&path, format!("not valid JSON: {e}")))?;
    for name in [
        "instructions.parquet",
        "settlements.parquet",
        "rejects.parquet",
    ] {
        if !dir.join(name).is_file() {
            return Err(Error::input(
                dir.join(name),
                "missing; give the output folder of `sverka reconcile`",
            ));
        }
    }
    let ctx = context(&summary, &|n| dir.join(n)).map_err(|e| Error::input(dir, e))?;
    fill(ctx)
}

fn context(s: &Value, at: &dyn Fn(&str) -> PathBuf) -> ReadResult<Value> {
    let ins_pq = Pq::open(&at("instructions.parquet"), &data::INS_DICT)?;
    let set_pq = Pq::open(&at("settlements.parquet"), &data::SET_DICT)?;
    let rej_pq = Pq::open(
        &at("rejects.parquet"),
        &["side", "file", "reason", "column"],
    )?;
    let ((ins, set), rej) = rayon::join(
        || {
            rayon::join(
                || data::scan_instructions(&ins_pq),
                || data::scan_settlements(&set_pq),
            )
        },
        || data::scan_rejects(&rej_pq),
    );
    let (ins, set, rej) = (ins?, set?, rej?);

    let currencies: Vec<String> = s["totals"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();

    // Headline figures per currency.
    let mut headline = Vec::new();
    for code in &currencies {
        let t = &s["totals"][code];
        let txt = |k: &str| t[k].as_str().unwrap_or("").to_string();
        let num = |k: &str| t[k].as_u64().unwrap_or(0);
        let c = ins.ccy.get(code).cloned().unwrap_or_default();
        let net = match (
            parse_minor(t["settled_amount"].as_str().unwrap_or(""), code),
            parse_minor(t["returned_amount"].as_str().unwrap_or(""), code),
        ) {
            (Some(a), Some(b)) => money(a - b, code),
            _ => String::new(),
        };
        headline.push(json!({
            "code": code,
            "instructed_count": num("instructed_count"), "instructed": txt("instructed_amount"),
            "paid": money(c.paid, code),
            "not_paid_count": c.not_paid_count, "not_paid": money(c.not_paid, code),
            "settled_count": num("settled_count"), "settled": txt("settled_amount"),
            "returned": txt("returned_amount"), "net_settled": net, "fees": txt("fees"),
            "unpaid_count": num("unpaid_count"), "unpaid": txt("unpaid_amount"),
            "unexpected_count": num("unexpected_count"), "unexpected": txt("unexpected_amount"),
        }));
    }

    // Findings: amount at risk per currency, and the rows to show.
    let mut cells: BTreeMap<(usize, String), &Cell> = BTreeMap::new();
    for (k, v) in ins.findings.iter().chain(set.iter()) {
        cells.insert(k.clone(), v);
    }
    // The page stays small whatever the input: with many currencies, fewer rows per table.
    let per_table = if cells.len() * TOP <= MAX_EXCEPTION_ROWS {
        TOP
    } else {
        (MAX_EXCEPTION_ROWS / cells.len()).max(1)
    };
    let cells: BTreeMap<(usize, String), Cell> = cells
        .into_iter()
        .map(|(k, c)| {
            let mut c = c.clone();
            c.top.truncate(per_table);
            (k, c)
        })
        .collect();
    let pick = |settlement: bool| -> Vec<usize> {
        let mut rows: Vec<usize> = cells
            .iter()
            .filter(|((f, _), _)| FINDINGS[*f].settlement() == settlement)
            .flat_map(|(_, c)| c.top.iter().map(|t| t.1))
            .collect();
        rows.sort_unstable();
        rows.dedup();
        rows
    };
    let (ins_rows, set_rows) = (pick(false), pick(true));
    let ins_cols = [
        "instruction_id",
        "beneficiary_id",
        "program",
        "provider",
        "account",
        "amount",
        "currency",
        "due_date",
        "status",
        "paid_amount",
        "difference",
        "settlement_count",
        "flags",
    ];
    let set_cols = [
        "provider",
        "provider_ref",
        "instruction_id",
        "account",
        "amount",
        "fee",
        "currency",
        "status",
        "value_date",
        "match_method",
        "flags",
    ];
    let ins_b = ins_pq.take(&ins_cols, &ins_rows)?;
    let set_b = set_pq.take(&set_cols, &set_rows)?;
    let mut findings = Vec::new();
    let mut risk_table = Vec::new();
    for (f_i, f) in FINDINGS.iter().enumerate() {
        let mut per_ccy = Vec::new();
        let mut tables = Vec::new();
        for code in &currencies {
            let Some(cell) = cells.get(&(f_i, code.clone())) else {
                continue;
            };
            per_ccy
                .push(json!({"code": code, "count": cell.count, "risk": money(cell.risk, code)}));
            let (rows, batch) = if f.settlement() {
                (&set_rows, set_b.as_ref())
            } else {
                (&ins_rows, ins_b.as_ref())
            };
            let batch = batch.ok_or("rows missing")?;
            let mut shown = Vec::new();
            for &(risk, row) in &cell.top {
                let i = rows.binary_search(&row).map_err(|_| "row missing")?;
                let mut r = if f.settlement() {
                    settlement_row(batch, i)?
                } else {
                    instruction_row(batch, i)?
                };
                r["risk"] = json!(money(risk, code));
                r["row"] = json!(row + 1);
                shown.push(r);
            }
            tables.push(json!({
                "code": code, "count": cell.count, "risk": money(cell.risk, code),
                "shown": shown.len(), "rows": shown,
            }));
        }
        if !per_ccy.is_empty() {
            risk_table.push(
                json!({"name": f.name, "what": f.what, "risk_text": f.risk_text, "cells": per_ccy}),
            );
            findings.push(json!({
                "name": f.name, "what": f.what, "risk_text": f.risk_text,
                "settlement": f.settlement(), "tables": tables,
            }));
        }
    }

    // Charts.
    let mut charts = Vec::new();
    for (what, mix) in [
        ("provider", &ins.by_provider),
        ("programme", &ins.by_program),
    ] {
        charts.push(status_count_chart(what, mix));
        charts.push(status_value_chart(what, mix));
    }
    let mut histograms = Vec::new();
    let mut by_size: Vec<(&String, &data::Currency)> = ins.ccy.iter().collect();
    by_size.sort_by(|a, b| {
        let n = |c: &data::Currency| c.bins.iter().sum::<u64>();
        n(b.1).cmp(&n(a.1)).then(a.0.cmp(b.0))
    });
    let histograms_omitted: Vec<String> = by_size
        .iter()
        .skip(MAX_HISTOGRAMS)
        .map(|(k, _)| (*k).clone())
        .collect();
    by_size.truncate(MAX_HISTOGRAMS);
    by_size.sort_by(|a, b| a.0.cmp(b.0));
    for (code, c) in by_size {
        let lo = c.bins.iter().position(|&n| n > 0).unwrap_or(0);
        let hi = c.bins.iter().rposition(|&n| n > 0).unwrap_or(0);
        let minor = minor_units(code).unwrap_or(0);
        let bins = (lo..=hi)
            .map(|b| {
                let floor = fmt_minor(data::bin_floor(b), minor);
                let next = fmt_minor(data::bin_floor(b + 1), minor);
                let title = format!(
                    "{} instructions of {floor} to under {next} {code}{}",
                    c.bins[b],
                    if c.outliers[b] > 0 {
                        format!(", {} AMOUNT_OUTLIER", c.outliers[b])
                    } else {
                        String::new()
                    }
                );
                (
                    short_number(&data::bin_floor(b), minor),
                    c.bins[b],
                    c.outliers[b],
                    title,
                )
            })
            .collect();
        let tallest = c.bins.iter().max().copied().unwrap_or(0);
        let n_out: u64 = c.outliers.iter().sum();
        histograms.push(chart::histogram(
            format!("Instructed amounts, {code}"),
            bins,
            format!(
                "{n_out} AMOUNT_OUTLIER instructions (red). Log scale, ten bins per power of ten; \
                 the tallest bar is {tallest} instructions; hover a bar for its exact bounds."
            ),
        ));
    }
    let late_days = s["settings"]["late_days"].as_i64().unwrap_or(3);
    let delays = delay_chart(&s["settlement_delay_by_provider"], late_days);

    // Rejects.
    let mut by_reason: BTreeMap<(String, String), u64> = BTreeMap::new();
    for ((side, _, reason), n) in &rej {
        *by_reason.entry((side.clone(), reason.clone())).or_default() += n;
    }
    let rejects_by_reason: Vec<Value> = by_reason
        .iter()
        .map(|((side, reason), n)| json!({"side": side, "reason": reason, "count": n}))
        .collect();
    let mut by_file: Vec<Value> = rej
        .iter()
        .map(|((side, file, reason), n)| json!({"side": side, "file": cut(file), "reason": reason, "count": n}))
        .collect();
    let files_total = by_file.len();
    by_file.truncate(500);

    let inputs: Vec<Value> = s["inputs"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| {
                    json!({"side": i["side"], "path": i["path"], "format": i["format"],
                                "rows": i["rows"], "bytes": i["bytes"], "sha256": i["sha256"]})
                })
                .collect()
        })
        .unwrap_or_default();
    let settings: Vec<Value> = s["settings"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| json!({"key": k, "value": plain(v)}))
                .collect()
        })
        .unwrap_or_default();
    let counts = &s["counts"];
    Ok(json!({
        "engine": s["engine"],
        "settings": settings,
        "inputs": inputs,
        "warnings": s["warnings"],
        "counts": {
            "instructions_in": counts["instructions_in"], "instructions_accepted": counts["instructions_accepted"],
            "settlements_in": counts["settlements_in"], "settlements_accepted": counts["settlements_accepted"],
            "rejects_instructions": counts["rejects"]["instructions"], "rejects_settlements": counts["rejects"]["settlements"],
            "by_status": pairs(&counts["by_status"]), "by_flag": pairs(&counts["by_flag"]), "by_match": pairs(&counts["by_match"]),
        },
        "headline": headline,
        "risk_table": risk_table,
        "charts": charts,
        "histograms": histograms,
        "histograms_omitted": histograms_omitted,
        "delays": delays,
        "late_days": late_days,
        "findings": findings,
        "top": per_table,
        "cell_chars": CELL_CHARS,
        "rejects_by_reason": rejects_by_reason,
        "rejects_by_file": by_file,
        "rejects_by_file_total": files_total,
    }))
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn pairs(v: &Value) -> Vec<Value> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, n)| json!({"name": k, "count": n}))
                .collect()
        })
        .unwrap_or_default()
}

/// An axis label for `v` minor units: whole units shortened (`20k`, `1.5M`); titles keep
/// the exact figures.
fn short_number(v: &i128, minor: u8) -> String {
    let unit = 10i128.pow(minor as u32);
    if v % unit != 0 {
        return fmt_minor(*v, minor);
    }
    let whole = v / unit;
    for (size, suffix) in [(1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")] {
        if whole >= size {
            let (i, f) = (whole / size, whole % size);
            return if f == 0 {
                format!("{i}{suffix}")
            } else {
                let frac = format!("{:03}", f * 1000 / size);
                format!("{i}.{}{suffix}", frac.trim_end_matches('0'))
            };
        }
    }
    whole.to_string()
}

/// Rows sorted by `key` descending then name; beyond `max` summed into "others".
fn capped<T: Clone>(
    max: usize,
    mut rows: Vec<(String, T)>,
    key: impl Fn(&T) -> i128,
    add: impl Fn(&mut T, &T),
) -> Vec<(String, T)> {
    rows.sort_by(|a, b| key(&b.1).cmp(&key(&a.1)).then(a.0.cmp(&b.0)));
    if rows.len() > max {
        let rest = rows.split_off(max - 1);
        let mut acc = rest[0].1.clone();
        for r in &rest[1..] {
            add(&mut acc, &r.1);
        }
        rows.push((format!("{} others", rest.len()), acc));
    }
    rows
}

fn status_count_chart(what: &str, mix: &BTreeMap<String, data::StatusMix>) -> chart::Stacked {
    let rows: Vec<(String, [u64; 8])> = mix.iter().map(|(k, m)| (k.clone(), m.count)).collect();
    let rows = capped(
        data::CHART_ROWS,
        rows,
        |c| c.iter().sum::<u64>() as i128,
        |a, b| a.iter_mut().zip(b).for_each(|(x, y)| *x += y),
    );
    let rows = rows
        .into_iter()
        .map(|(label, c)| {
            let total: u64 = c.iter().sum();
            let parts = c
                .iter()
                .map(|&n| (n as i128, format!("{n} instructions")))
                .collect();
            (cut(&label), format!("{total} instructions"), parts)
        })
        .collect();
    chart::stacked(
        format!("Status by count, per {what}"),
        rows,
        &STATUS_FILLS,
        &STATUSES,
        "Each bar is 100% of the instructions of that row; hover a segment for its count.".into(),
    )
}

fn status_value_chart(what: &str, mix: &BTreeMap<String, data::StatusMix>) -> chart::Stacked {
    let mut rows: Vec<(String, (String, [i128; 8]))> = Vec::new();
    for (k, m) in mix {
        for (code, v) in &m.value {
            rows.push((format!("{k} · {code}"), (code.clone(), *v)));
        }
    }
    // Amounts are only comparable within a currency: cap per currency.
    type ValueRow = (String, (String, [i128; 8]));
    let mut by_ccy: BTreeMap<String, Vec<ValueRow>> = BTreeMap::new();
    for r in rows {
        by_ccy.entry(r.1 .0.clone()).or_default().push(r);
    }
    let mut out = Vec::new();
    let per_ccy = (MAX_VALUE_ROWS / by_ccy.len().max(1)).clamp(2, data::CHART_ROWS);
    for (code, rows) in by_ccy {
        let rows = capped(
            per_ccy,
            rows,
            |v| v.1.iter().sum(),
            |a, b| a.1.iter_mut().zip(&b.1).for_each(|(x, y)| *x += y),
        );
        for (label, (_, v)) in rows {
            let label = if label.ends_with(" others") {
                format!("{label} · {code}")
            } else {
                label
            };
            let total: i128 = v.iter().sum();
            let parts = v
                .iter()
                .map(|&a| (a, format!("{} {code}", money(a, &code))))
                .collect();
            out.push((
                cut(&label),
                format!("{} {code}", money(total, &code)),
                parts,
            ));
        }
    }
    chart::stacked(
        format!("Status by value (instructed amount), per {what} and currency"),
        out,
        &STATUS_FILLS,
        &STATUSES,
        "Each bar is 100% of the instructed amount of that row, in its currency.".into(),
    )
}

fn delay_chart(v: &Value, late_days: i64) -> chart::Delays {
    let mut rows: Vec<(String, Vec<u64>)> = v
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, h)| {
                    let counts = h["counts"]
                        .as_array()
                        .map(|a| a.iter().map(|n| n.as_u64().unwrap_or(0)).collect())
                        .unwrap_or_default();
                    (k.clone(), counts)
                })
                .collect()
        })
        .unwrap_or_default();
    let from = v
        .as_object()
        .and_then(|o| o.values().next())
        .and_then(|h| h["days_from"].as_i64())
        .unwrap_or(-30);
    rows = capped(
        data::CHART_ROWS,
        rows,
        |c| c.iter().sum::<u64>() as i128,
        |a, b| {
            if a.len() < b.len() {
                a.resize(b.len(), 0);
            }
            a.iter_mut().zip(b).for_each(|(x, y)| *x += y)
        },
    );
    let rows = rows
        .into_iter()
        .map(|(label, counts)| {
            let total: u64 = counts.iter().sum();
            let median = median_day(&counts, from);
            (
                cut(&label),
                format!("{total} settled, median {median} d"),
                counts,
            )
        })
        .collect();
    chart::delays(rows, from, late_days)
}

/// The lower median delay of a day histogram, exactly.
fn median_day(counts: &[u64], from: i64) -> i64 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return 0;
    }
    let target = (total - 1) / 2;
    let mut seen = 0;
    for (k, &n) in counts.iter().enumerate() {
        seen += n;
        if seen > target {
            return from + k as i64;
        }
    }
    from + counts.len() as i64 - 1
}

/// Row `i` of decimal column `c` as text with `code`'s minor units.
fn amount_text(b: &arrow_array::RecordBatch, c: &str, i: usize, code: &str) -> ReadResult<String> {
    let (v, scale) = decimal(b, c)?;
    let minor = minor_units(code).ok_or("unknown currency")?;
    Ok(fmt_minor(
        v[i] / 10i128.pow((scale as i32 - minor as i32).max(0) as u32),
        minor,
    ))
}

fn instruction_row(b: &arrow_array::RecordBatch, i: usize) -> ReadResult<Value> {
    let t = |c: &str| -> ReadResult<String> { Ok(cut(Text::of(b, c)?.value(i))) };
    let code = Text::of(b, "currency")?.value(i).to_string();
    let amt = |c: &str| amount_text(b, c, i, &code);
    Ok(json!({
        "instruction_id": t("instruction_id")?, "beneficiary_id": t("beneficiary_id")?,
        "program": t("program")?, "provider": t("provider")?, "account": t("account")?,
        "amount": amt("amount")?, "currency": code.clone(), "due_date": crate::read::date_text(date32(b, "due_date")?[i]),
        "status": t("status")?, "paid_amount": amt("paid_amount")?, "difference": amt("difference")?,
        "settlement_count": int64(b, "settlement_count")?[i], "flags": t("flags")?.replace(';', " "),
    }))
}

fn settlement_row(b: &arrow_array::RecordBatch, i: usize) -> ReadResult<Value> {
    let t = |c: &str| -> ReadResult<String> { Ok(cut(Text::of(b, c)?.value(i))) };
    let code = Text::of(b, "currency")?.value(i).to_string();
    let amt = |c: &str| amount_text(b, c, i, &code);
    Ok(json!({
        "provider": t("provider")?, "provider_ref": t("provider_ref")?, "instruction_id": t("instruction_id")?,
        "account": t("account")?, "amount": amt("amount")?, "fee": amt("fee")?, "currency": code.clone(),
        "status": t("status")?, "value_date": crate::read::date_text(date32(b, "value_date")?[i]),
        "match_method": t("match_method")?, "flags": t("flags")?.replace(';', " "),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_decimals_parse_exactly() {
        assert_eq!(parse_minor("900000.00", "UZS"), Some(90_000_000));
        assert_eq!(parse_minor("25000", "UGX"), Some(25_000));
        assert_eq!(parse_minor("-40.000", "JOD"), Some(-40_000));
        assert_eq!(parse_minor("40.00", "JOD"), None);
    }

    #[test]
    fn medians_and_labels() {
        assert_eq!(median_day(&[0, 2, 1, 0], -1), 0);
        assert_eq!(median_day(&[1, 1], 0), 0);
        assert_eq!(short_number(&2_000_000, 2), "20k");
        assert_eq!(short_number(&150_000_000, 2), "1.5M");
        assert_eq!(short_number(&5_000, 2), "50");
        assert_eq!(short_number(&15, 2), "0.15");
    }
}
