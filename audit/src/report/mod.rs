//! `report.html`: one self-contained page (inline CSS and SVG, no script, no external
//! resource) for auditors, built only from a run's written outputs: `summary.json` and
//! the row outputs. A run feeds it the batches it writes ([`Observer`], [`render`]) and
//! fetches the few exception rows from its own data; `sverka report DIR` reads the same
//! rows back from the Parquet files ([`render_folder`]). One code path after the source:
//! the same bytes either way.
//!
//! Every figure is exact decimal text in the currency's minor units; every value from the
//! data passes through the template's HTML auto-escaping (ids and file names are hostile).

pub mod chart;
pub mod data;
mod decisions;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use arrow_array::RecordBatch;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};
use sverka_engine::summary::{Delays, Input, Tally};
use sverka_engine::{Error, Output, Result, Rows, Summary};

use crate::read::{date32, decimal, nulls, Pq, ReadResult};
use crate::text::Text;
use crate::{fmt_minor, minor_units};
use data::{Cell, Figures, InsFigures, RejectCounts, SetFigures, FINDINGS, STATUSES, TOP};

const TEMPLATE: &str = include_str!("report.html.j2");
const ROWS_TEMPLATE: &str = include_str!("exception-rows.html.j2");
const DECISIONS_TEMPLATE: &str = include_str!("decisions.html.j2");

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

/// Input files listed in "Input files" and in the identity table (a run may read up to
/// 100,000); the rest are in `summary.json` and `manifest.json`.
pub const MAX_FILES_LISTED: usize = 1000;
/// Statements, and control checks, and notices listed per input file.
pub const MAX_LISTED: usize = 200;
/// Statement, check and notice lines in all of "Input files": beyond it, files show their
/// counts only.
pub const MAX_LISTED_LINES: usize = 5000;
/// Characters of a notice shown.
const NOTICE_CHARS: usize = 300;

/// An absent value (a FAILED settlement's amount or currency, CONTRACT.md 1, v2).
pub const ABSENT: &str = "—";

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
    cut_to(s, CELL_CHARS)
}

/// `s` cut to `n` characters, `…` marking a cut.
fn cut_to(s: &str, n: usize) -> String {
    if s.len() <= n || s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n).collect();
        t.push('…');
        t
    }
}

/// `v` minor units of `code` as the outputs write amounts (`900000.00`, `25000`).
pub(crate) fn money(v: i128, code: &str) -> String {
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

/// Builds a run's report from `summary`, the figures its written batches gave
/// ([`Observer`]) and `rows`, which fetches whole written rows (a failure here is an
/// internal error). The same bytes as [`render_folder`] on the committed folder.
pub fn render(summary: &Summary, figures: Figures, rows: &Rows) -> Result<String> {
    let take = |o: Output, _: &[&str], r: &[usize]| -> ReadResult<Option<RecordBatch>> {
        if r.is_empty() {
            return Ok(None);
        }
        rows(o, r).map(Some).map_err(|e| e.to_string())
    };
    let page =
        context(summary, figures, &take).map_err(|e| Error::Internal(format!("report: {e}")))?;
    fill(page)
}

/// The report's figures gathered from the batches a run writes, one lock per output:
/// each output is written by one task, batch after batch, so no lock is contended.
#[derive(Default)]
pub struct Observer {
    ins: Mutex<(InsFigures, u64)>,
    set: Mutex<(SetFigures, u64)>,
    rej: Mutex<(RejectCounts, u64)>,
    decisions: Mutex<Option<decisions::Gathered>>,
}

fn add<T>(
    acc: &Mutex<(T, u64)>,
    scan: fn(&mut T, &RecordBatch, usize) -> ReadResult<()>,
    first_row: usize,
    b: &RecordBatch,
) -> ReadResult<()> {
    let mut g = acc.lock().map_err(|_| "report: a writer failed")?;
    scan(&mut g.0, b, first_row)?;
    g.1 += b.num_rows() as u64;
    Ok(())
}

fn take<T: Default>(acc: &Mutex<(T, u64)>) -> ReadResult<(T, u64)> {
    let mut g = acc.lock().map_err(|_| "report: a writer failed")?;
    Ok(std::mem::take(&mut *g))
}

impl Observer {
    /// Adds one written batch of `output` (the same per-batch scans as a folder's).
    pub fn observe(&self, output: Output, first_row: usize, b: &RecordBatch) -> ReadResult<()> {
        match output {
            Output::Instructions => add(&self.ins, data::scan_ins_batch, first_row, b),
            Output::Settlements => add(&self.set, data::scan_set_batch, first_row, b),
            Output::Rejects => add(&self.rej, data::scan_rej_batch, first_row, b),
        }
    }

    /// Gathers the run's one batch of `decisions.parquet` (with decisions).
    pub fn observe_decisions(&self, b: &RecordBatch) -> ReadResult<()> {
        let g = decisions::Gathered::of_batch(b)?;
        let mut d = self
            .decisions
            .lock()
            .map_err(|_| "report: a writer failed")?;
        *d = Some(g);
        Ok(())
    }

    /// The figures gathered so far and the rows seen per output (instructions,
    /// settlements, rejects); the observer starts again empty.
    pub fn take(&self) -> ReadResult<(Figures, [u64; 3])> {
        let (ins, a) = take(&self.ins)?;
        let (set, b) = take(&self.set)?;
        let (rej, c) = take(&self.rej)?;
        let decisions = std::mem::take(
            &mut *self
                .decisions
                .lock()
                .map_err(|_| "report: a writer failed")?,
        );
        let figures = Figures {
            ins,
            set,
            rej,
            decisions,
        };
        Ok((figures, [a, b, c]))
    }
}

/// The report must open anywhere: beyond this many bytes, exception tables are cut
/// further (halving the rows per table) until the page fits.
pub const MAX_BYTES: usize = 9 << 19; // 4.5 MiB

/// The page's data: everything but the exception rows (`ctx`), and the rows of each
/// exception table in page order (`ctx` findings, then their tables).
struct Page {
    ctx: Value,
    tables: Vec<Shown>,
}

/// The exception tables' entries of the page data, in page order.
fn tables_of(ctx: &mut Value) -> impl Iterator<Item = &mut Value> {
    ctx["findings"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .filter_map(|f| f["tables"].as_array_mut())
        .flatten()
}

fn template_err(e: minijinja::Error) -> Error {
    Error::Internal(format!("report template: {e:#}"))
}

/// Renders the page: the rows of each exception table by `exception-rows.html.j2`, the
/// tables in parallel (they are most of the page), then the page around them.
fn fill(mut page: Page) -> Result<String> {
    let mut env = minijinja::Environment::new();
    // The names end in .html: values are HTML-escaped.
    env.add_template("report.html", TEMPLATE)
        .map_err(template_err)?;
    env.add_template("exception-rows.html", ROWS_TEMPLATE)
        .map_err(template_err)?;
    env.add_template("decisions.html", DECISIONS_TEMPLATE)
        .map_err(template_err)?;
    let page_t = env.get_template("report.html").map_err(template_err)?;
    let rows_t = env
        .get_template("exception-rows.html")
        .map_err(template_err)?;
    let render_tables = |tables: &[Shown]| {
        tables
            .par_iter()
            .map(|rows| {
                rows_t.render(minijinja::context! { settlement => rows.settlement(), rows => rows })
            })
            .collect::<std::result::Result<Vec<String>, _>>()
            .map_err(template_err)
    };
    // The decisions' tables beside the exception tables: each is rendered once, on one
    // thread, and both come before the page.
    let (decisions_html, bodies) = rayon::join(
        || -> Result<Option<String>> {
            if page.ctx["decisions"].is_null() {
                return Ok(None);
            }
            let t = env.get_template("decisions.html").map_err(template_err)?;
            let d = &page.ctx["decisions"];
            Ok(Some(
                t.render(minijinja::context! { d => d })
                    .map_err(template_err)?,
            ))
        },
        || render_tables(&page.tables),
    );
    if let Some(html) = decisions_html? {
        page.ctx["decisions_html"] = Value::String(html);
    }
    let mut bodies = bodies?;
    loop {
        for (t, body) in tables_of(&mut page.ctx).zip(bodies) {
            t["body"] = Value::String(body);
        }
        let html = page_t.render(&page.ctx).map_err(template_err)?;
        let top = page.ctx["top"].as_u64().unwrap_or(0) as usize;
        if html.len() <= MAX_BYTES || top == 0 {
            return Ok(html);
        }
        // Too large: halve the rows per table and render again.
        let top = top / 2;
        page.ctx["top"] = json!(top);
        for (t, rows) in tables_of(&mut page.ctx).zip(&mut page.tables) {
            rows.truncate(top);
            t["shown"] = json!(rows.len());
        }
        bodies = render_tables(&page.tables)?;
    }
}

/// The report of a results folder on disk (`sverka report`); an unusable folder is exit 2.
pub fn render_folder(dir: &Path) -> Result<String> {
    let summary = crate::read::reconcile_folder(dir)?;
    // A folder with decisions (CONTRACT.md section 8) has their file too.
    let decisions = summary
        .decisions
        .is_some()
        .then(|| dir.join("decisions.parquet"));
    if let Some(d) = decisions.as_ref().filter(|d| !d.is_file()) {
        return Err(Error::input(
            d,
            "missing; give the output folder of `sverka reconcile`",
        ));
    }
    let read = || -> ReadResult<Page> {
        let ins_pq = Pq::open(&dir.join("instructions.parquet"), &data::INS_DICT)?;
        let set_pq = Pq::open(&dir.join("settlements.parquet"), &data::SET_DICT)?;
        let rej_pq = Pq::open(&dir.join("rejects.parquet"), &data::REJ_DICT)?;
        let mut figures = Figures::scan(&ins_pq, &set_pq, &rej_pq)?;
        figures.decisions = decisions
            .as_deref()
            .map(decisions::Gathered::of_file)
            .transpose()?;
        let take = |o: Output, cols: &[&str], rows: &[usize]| match o {
            Output::Instructions => ins_pq.take(cols, rows),
            Output::Settlements => set_pq.take(cols, rows),
            Output::Rejects => Err("the report shows no reject rows".to_string()),
        };
        context(&summary, figures, &take)
    };
    let page = read().map_err(|e| Error::input(dir, e))?;
    fill(page)
}

/// Fetches `rows` (ascending, distinct) of an output with at least `columns`; `None` when
/// `rows` is empty.
type Take<'a> = dyn Fn(Output, &[&str], &[usize]) -> ReadResult<Option<RecordBatch>> + 'a;

/// The template's data from `summary.json`, the figures of the row outputs and their
/// exception rows and decisions (from a folder's files or a run's batches: the same
/// values either way).
fn context(s: &Summary, figures: Figures, take: &Take) -> ReadResult<Page> {
    let Figures {
        ins,
        set,
        rej,
        decisions,
    } = figures;
    let currencies: Vec<String> = s.totals.keys().cloned().collect();
    let headline = headline(s, &ins.ccy, &currencies);
    let ex = exceptions(&currencies, ins.findings, set, take)?;
    let mut charts = Vec::new();
    for (what, mix) in [
        ("provider", &ins.by_provider),
        ("programme", &ins.by_program),
    ] {
        charts.push(status_count_chart(what, mix));
        charts.push(status_value_chart(what, mix));
    }
    let (histograms, histograms_omitted) = histograms(&ins.ccy);
    let late_days = s.settings.late_days as i64;
    let delays = delay_chart(&s.settlement_delay_by_provider, late_days);
    let (rejects_by_reason, by_file, files_total) = rejects(&rej);
    let decisions = match (&s.decisions, decisions) {
        (Some(c), Some(g)) => Some(decisions::section(c, g)),
        (Some(_), None) => return Err("decisions.parquet's rows missing".into()),
        (None, _) => None,
    };
    let counts = &s.counts;
    let ctx = json!({
        "engine": s.engine,
        "settings": settings(&s.settings),
        // Only what the identity table shows: a provider file's checks can be millions.
        "inputs": s.inputs[..s.inputs.len().min(MAX_FILES_LISTED)]
            .iter()
            .map(|i| json!({"side": i.side, "path": i.path, "format": i.format, "rows": i.rows, "bytes": i.bytes, "sha256": i.sha256}))
            .collect::<Vec<_>>(),
        "inputs_total": s.inputs.len(),
        "input_files": input_files(&s.inputs),
        "warnings": s.warnings,
        "counts": {
            "instructions_in": counts.instructions_in, "instructions_accepted": counts.instructions_accepted,
            "settlements_in": counts.settlements_in, "settlements_accepted": counts.settlements_accepted,
            "rejects_instructions": counts.rejects.instructions, "rejects_settlements": counts.rejects.settlements,
            "by_status": pairs(&counts.by_status), "by_flag": pairs(&counts.by_flag), "by_match": pairs(&counts.by_match),
        },
        "headline": headline,
        "risk_table": ex.risk_table,
        "charts": charts,
        "histograms": histograms,
        "histograms_omitted": histograms_omitted,
        "delays": delays,
        "late_days": late_days,
        "findings": ex.findings,
        "top": ex.per_table,
        "cell_chars": CELL_CHARS,
        "max_listed": MAX_LISTED,
        "rejects_by_reason": rejects_by_reason,
        "rejects_by_file": by_file,
        "rejects_by_file_total": files_total,
        "decisions": decisions,
    });
    Ok(Page {
        ctx,
        tables: ex.tables,
    })
}

/// The "Input files" section: each input (at most `MAX_FILES_LISTED`) with its format,
/// provider and rows, and for a provider file (CONTRACT.md 7) its statements, control
/// checks and notices, bounded per file and in all.
fn input_files(inputs: &[Input]) -> Vec<Value> {
    let mut budget = MAX_LISTED_LINES;
    inputs
        .iter()
        .take(MAX_FILES_LISTED)
        .enumerate()
        .map(|(k, i)| input_file(k + 1, i, &mut budget))
        .collect()
}

/// Of `n` items, the indexes to list: at most `cap` (and `budget`, which they use up),
/// `first` ones before the others (a failed check must not be cut for ok ones), in order.
fn listed(n: usize, cap: usize, budget: &mut usize, first: impl Fn(usize) -> bool) -> Vec<usize> {
    let take = n.min(cap).min(*budget);
    *budget -= take;
    let mut pick: Vec<usize> = (0..n).filter(|&k| first(k)).take(take).collect();
    let rest = take - pick.len();
    pick.extend((0..n).filter(|&k| !first(k)).take(rest));
    pick.sort_unstable();
    pick
}

fn input_file(number: usize, i: &Input, budget: &mut usize) -> Value {
    let checks = i.control.as_deref().unwrap_or_default();
    let failed = |k: usize| checks[k].outcome != "ok";
    let st_shown = listed(i.statements.len(), MAX_LISTED, budget, |_| false);
    let ck_shown = listed(checks.len(), MAX_LISTED, budget, failed);
    let no_shown = listed(i.notices.len(), MAX_LISTED, budget, |_| false);
    let statements: Vec<Value> = st_shown
        .iter()
        .map(|&k| {
            let s = &i.statements[k];
            json!({
                "id": cut(&s.id), "account": cut(&s.account), "from": cut(&s.from),
                "to": cut(&s.to), "entries": s.entries, "transactions": s.transactions,
            })
        })
        .collect();
    let control: Vec<Value> = ck_shown
        .iter()
        .map(|&k| {
            let c = &checks[k];
            json!({
                "statement": cut(&c.statement), "check": cut(&c.check),
                "declared": cut(&c.declared), "found": cut(&c.found),
                "outcome": cut(&c.outcome), "failed": failed(k),
            })
        })
        .collect();
    let notices: Vec<String> = no_shown
        .iter()
        .map(|&k| cut_to(&i.notices[k], NOTICE_CHARS))
        .collect();
    json!({
        "number": number,
        "side": i.side, "path": i.path, "format": i.format,
        "version": i.version.as_deref().map(cut).unwrap_or_default(),
        "provider": i.provider.as_deref().map(cut).unwrap_or_default(),
        "rows": i.rows,
        // A provider file (section 7) lists its control checks, maybe none.
        "detail": i.control.is_some() || !i.statements.is_empty() || !i.notices.is_empty(),
        "n_statements": i.statements.len(),
        "statements": statements,
        "statements_more": i.statements.len() - st_shown.len(),
        "has_control": i.control.is_some(),
        "n_checks": checks.len(),
        "n_failed": (0..checks.len()).filter(|&k| failed(k)).count(),
        "control": control,
        "control_more": checks.len() - ck_shown.len(),
        "notices": notices,
        "notices_more": i.notices.len() - no_shown.len(),
    })
}

/// Headline figures per currency: the summary's totals, with paid and not paid from the
/// instruction rows.
fn headline(
    s: &Summary,
    ccy: &BTreeMap<String, data::Currency>,
    currencies: &[String],
) -> Vec<Value> {
    let mut headline = Vec::new();
    for code in currencies {
        let Some(t) = s.totals.get(code) else {
            continue;
        };
        let c = ccy.get(code).cloned().unwrap_or_default();
        let net = match (
            parse_minor(&t.settled_amount, code),
            parse_minor(&t.returned_amount, code),
        ) {
            (Some(a), Some(b)) => money(a - b, code),
            _ => String::new(),
        };
        headline.push(json!({
            "code": code,
            "instructed_count": t.instructed_count, "instructed": t.instructed_amount,
            "paid": money(c.paid, code),
            "not_paid_count": c.not_paid_count, "not_paid": money(c.not_paid, code),
            "settled_count": t.settled_count, "settled": t.settled_amount,
            "returned": t.returned_amount, "net_settled": net, "fees": t.fees,
            "unpaid_count": t.unpaid_count, "unpaid": t.unpaid_amount,
            "unexpected_count": t.unexpected_count, "unexpected": t.unexpected_amount,
        }));
    }
    headline
}

/// The findings part of the page: amount at risk per finding and currency, and the rows
/// of each exception table.
struct Exceptions {
    /// Rows per table (fewer than `TOP` with many currencies).
    per_table: usize,
    risk_table: Vec<Value>,
    findings: Vec<Value>,
    /// The rows of each table, in page order.
    tables: Vec<Shown>,
}

type Cells = BTreeMap<(usize, String), Cell>;

fn exceptions(
    currencies: &[String],
    ins: Cells,
    set: SetFigures,
    take: &Take,
) -> ReadResult<Exceptions> {
    let cells: Cells = ins.into_iter().chain(set).collect();
    // The page stays small whatever the input: with many currencies, fewer rows per table.
    let per_table = if cells.len() * TOP <= MAX_EXCEPTION_ROWS {
        TOP
    } else {
        (MAX_EXCEPTION_ROWS / cells.len()).max(1)
    };
    let cells: Cells = cells
        .into_iter()
        .map(|(k, mut c)| {
            c.trim();
            c.top.truncate(per_table);
            (k, c)
        })
        .collect();
    let mut shown = shown_rows(&cells, take)?;
    let mut ex = Exceptions {
        per_table,
        risk_table: Vec::new(),
        findings: Vec::new(),
        tables: Vec::new(),
    };
    for (f_i, f) in FINDINGS.iter().enumerate() {
        let mut per_ccy = Vec::new();
        let mut tables = Vec::new();
        for code in currencies {
            let key = (f_i, code.clone());
            let (Some(cell), Some(rows)) = (cells.get(&key), shown.remove(&key)) else {
                continue;
            };
            per_ccy
                .push(json!({"code": code, "count": cell.count, "risk": money(cell.risk, code)}));
            tables.push(json!({
                "code": code, "count": cell.count, "risk": money(cell.risk, code),
                "shown": rows.len(),
            }));
            ex.tables.push(rows);
        }
        if !per_ccy.is_empty() {
            ex.risk_table.push(
                json!({"name": f.name, "what": f.what, "risk_text": f.risk_text, "cells": per_ccy}),
            );
            ex.findings.push(json!({
                "name": f.name, "what": f.what, "risk_text": f.risk_text,
                "settlement": f.settlement(), "tables": tables,
            }));
        }
    }
    Ok(ex)
}

/// The rows of every (finding, currency) table: the rows they show fetched once per
/// output, the tables built in parallel (the bulk of the work).
fn shown_rows(cells: &Cells, take: &Take) -> ReadResult<BTreeMap<(usize, String), Shown>> {
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
    let ins_b = take(Output::Instructions, &INS_COLUMNS, &ins_rows)?;
    let set_b = take(Output::Settlements, &SET_COLUMNS, &set_rows)?;
    let ins_row = ins_b.as_ref().map(instruction_rows).transpose()?;
    let set_row = set_b.as_ref().map(settlement_rows).transpose()?;
    cells
        .par_iter()
        .map(|((f_i, code), cell)| {
            let rows = if FINDINGS[*f_i].settlement() {
                Shown::Settlements(table_rows(cell, code, &set_rows, set_row.as_ref())?)
            } else {
                Shown::Instructions(table_rows(cell, code, &ins_rows, ins_row.as_ref())?)
            };
            Ok(((*f_i, code.clone()), rows))
        })
        .collect()
}

/// The amount histograms of the currencies with the most instructions (at most
/// `MAX_HISTOGRAMS`, by code), and the codes left out.
fn histograms(ccy: &BTreeMap<String, data::Currency>) -> (Vec<chart::Histogram>, Vec<String>) {
    let mut histograms = Vec::new();
    let mut by_size: Vec<(&String, &data::Currency)> = ccy.iter().collect();
    by_size.sort_by(|a, b| {
        let n = |c: &data::Currency| c.bins.iter().sum::<u64>();
        n(b.1).cmp(&n(a.1)).then(a.0.cmp(b.0))
    });
    let omitted: Vec<String> = by_size
        .iter()
        .skip(MAX_HISTOGRAMS)
        .map(|(k, _)| (*k).clone())
        .collect();
    by_size.truncate(MAX_HISTOGRAMS);
    by_size.sort_by(|a, b| a.0.cmp(b.0));
    for (code, c) in by_size {
        histograms.push(histogram(code, c));
    }
    (histograms, omitted)
}

fn histogram(code: &str, c: &data::Currency) -> chart::Histogram {
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
    chart::histogram(
        format!("Instructed amounts, {code}"),
        bins,
        format!(
            "{n_out} AMOUNT_OUTLIER instructions (red). Log scale, ten bins per power of ten; \
             the tallest bar is {tallest} instructions; hover a bar for its exact bounds."
        ),
    )
}

/// Rejects by (side, reason), and by (side, file, reason) up to 500 rows with the number
/// there were.
fn rejects(rej: &RejectCounts) -> (Vec<Value>, Vec<Value>, usize) {
    let mut by_reason: BTreeMap<(String, String), u64> = BTreeMap::new();
    for ((side, _, reason), n) in rej {
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
    (rejects_by_reason, by_file, files_total)
}

/// The settings as key and value text, in the file's order.
fn settings(s: &impl Serialize) -> Vec<Value> {
    match serde_json::to_value(s) {
        Ok(Value::Object(o)) => o
            .iter()
            .map(|(k, v)| json!({"key": k, "value": plain(v)}))
            .collect(),
        _ => Vec::new(),
    }
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn pairs(t: &Tally) -> Vec<Value> {
    t.iter()
        .map(|(k, n)| json!({"name": k, "count": n}))
        .collect()
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

fn delay_chart(v: &BTreeMap<String, Delays>, late_days: i64) -> chart::Delays {
    let mut rows: Vec<(String, Vec<u64>)> = v
        .iter()
        .map(|(k, h)| (k.clone(), h.counts.clone()))
        .collect();
    let from = v.values().next().map_or(-30, |h| h.days_from as i64);
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

/// Decimal column `c` of `b` as a function of (row, currency code) giving exact text with
/// the currency's minor units; [`ABSENT`] for a null value or a row without a currency
/// (v2: a FAILED settlement may have neither).
fn amounts<'a>(
    b: &'a RecordBatch,
    c: &str,
) -> ReadResult<impl Fn(usize, &str) -> ReadResult<String> + Sync + 'a> {
    let (v, scale) = decimal(b, c)?;
    let absent = nulls(b, c)?;
    Ok(move |i: usize, code: &str| {
        if code.is_empty() || absent.is_some_and(|n| n.is_null(i)) {
            return Ok(ABSENT.to_string());
        }
        let minor = minor_units(code).ok_or("unknown currency")?;
        Ok(fmt_minor(
            v[i] / 10i128.pow((scale as i32 - minor as i32).max(0) as u32),
            minor,
        ))
    })
}

/// Columns the exception tables show (and need: currency for the amounts' minor units).
const INS_COLUMNS: [&str; 12] = [
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
    "flags",
];
const SET_COLUMNS: [&str; 11] = [
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

/// One row of an instruction exception table, as `exception-rows.html.j2` shows it.
#[derive(Serialize)]
struct InsRow {
    /// 1-based row of `instructions.parquet`.
    row: usize,
    instruction_id: String,
    beneficiary_id: String,
    program: String,
    provider: String,
    account: String,
    due_date: String,
    amount: String,
    paid_amount: String,
    difference: String,
    status: String,
    flags: String,
    risk: String,
}

/// One row of a settlement exception table.
#[derive(Serialize)]
struct SetRow {
    /// 1-based row of `settlements.parquet`.
    row: usize,
    provider: String,
    provider_ref: String,
    instruction_id: String,
    account: String,
    amount: String,
    fee: String,
    status: String,
    value_date: String,
    match_method: String,
    flags: String,
    risk: String,
}

/// The rows of `cell`'s table: `row_of(i, row, risk)` builds row `i` of the taken batch,
/// whose output rows are `taken`.
fn table_rows<R>(
    cell: &Cell,
    code: &str,
    taken: &[usize],
    row_of: Option<&impl Fn(usize, usize, String) -> ReadResult<R>>,
) -> ReadResult<Vec<R>> {
    let row_of = row_of.ok_or("rows missing")?;
    cell.top
        .iter()
        .map(|&(risk, row)| {
            let i = taken.binary_search(&row).map_err(|_| "row missing")?;
            row_of(i, row + 1, money(risk, code))
        })
        .collect()
}

/// The rows shown in one exception table.
#[derive(Serialize)]
#[serde(untagged)]
enum Shown {
    Instructions(Vec<InsRow>),
    Settlements(Vec<SetRow>),
}

impl Shown {
    fn len(&self) -> usize {
        match self {
            Shown::Instructions(v) => v.len(),
            Shown::Settlements(v) => v.len(),
        }
    }

    fn truncate(&mut self, n: usize) {
        match self {
            Shown::Instructions(v) => v.truncate(n),
            Shown::Settlements(v) => v.truncate(n),
        }
    }

    fn settlement(&self) -> bool {
        matches!(self, Shown::Settlements(_))
    }
}

/// Row `i` of a batch of instruction rows as table cells, shown as output row `row` with
/// amount at risk `risk`; columns are looked up once per batch.
fn instruction_rows(
    b: &RecordBatch,
) -> ReadResult<impl Fn(usize, usize, String) -> ReadResult<InsRow> + Sync + '_> {
    let t = |c: &str| Text::of(b, c);
    let (id, beneficiary, program, provider, account, currency, status, flags) = (
        t("instruction_id")?,
        t("beneficiary_id")?,
        t("program")?,
        t("provider")?,
        t("account")?,
        t("currency")?,
        t("status")?,
        t("flags")?,
    );
    let (amount, paid, difference) = (
        amounts(b, "amount")?,
        amounts(b, "paid_amount")?,
        amounts(b, "difference")?,
    );
    let due = date32(b, "due_date")?;
    Ok(
        move |i: usize, row: usize, risk: String| -> ReadResult<InsRow> {
            let code = currency.value(i);
            Ok(InsRow {
                row,
                instruction_id: cut(id.value(i)),
                beneficiary_id: cut(beneficiary.value(i)),
                program: cut(program.value(i)),
                provider: cut(provider.value(i)),
                account: cut(account.value(i)),
                due_date: crate::read::date_text(due[i]),
                amount: amount(i, code)?,
                paid_amount: paid(i, code)?,
                difference: difference(i, code)?,
                status: cut(status.value(i)),
                flags: cut(flags.value(i)).replace(';', " "),
                risk,
            })
        },
    )
}

/// As [`instruction_rows`], for settlement rows.
fn settlement_rows(
    b: &RecordBatch,
) -> ReadResult<impl Fn(usize, usize, String) -> ReadResult<SetRow> + Sync + '_> {
    let t = |c: &str| Text::of(b, c);
    let (provider, reference, id, account, currency, status, method, flags) = (
        t("provider")?,
        t("provider_ref")?,
        t("instruction_id")?,
        t("account")?,
        t("currency")?,
        t("status")?,
        t("match_method")?,
        t("flags")?,
    );
    let (amount, fee) = (amounts(b, "amount")?, amounts(b, "fee")?);
    let value_date = date32(b, "value_date")?;
    Ok(
        move |i: usize, row: usize, risk: String| -> ReadResult<SetRow> {
            let code = currency.value(i);
            Ok(SetRow {
                row,
                provider: cut(provider.value(i)),
                provider_ref: cut(reference.value(i)),
                instruction_id: cut(id.value(i)),
                // (v2) Optional: empty when the provider does not say.
                account: match account.value(i) {
                    "" => ABSENT.to_string(),
                    a => cut(a),
                },
                amount: amount(i, code)?,
                fee: fee(i, code)?,
                status: cut(status.value(i)),
                value_date: crate::read::date_text(value_date[i]),
                match_method: cut(method.value(i)),
                flags: cut(flags.value(i)).replace(';', " "),
                risk,
            })
        },
    )
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
