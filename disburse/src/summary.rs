//! summary.json (what the run did, in figures) and manifest.json (shared format v1: every
//! input and output with its SHA-256), the last two files of a run.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sverka_audit::manifest::{self, InputEntry, OutputEntry};
use sverka_engine::outset::OutputSet;
use sverka_engine::summary::Tally;
use sverka_engine::{currency, date, money, Error, Result, VERSION};

use crate::outputs::{sha_file, written_bytes, Written};
use crate::plan::Counts;
use crate::run::{DisburseConfig, Run};

/// A disburse run's `summary.json` (`schemas/disburse-summary.schema.json`). Field order
/// is the file's key order; maps keyed by currency, provider or name are alphabetical,
/// holds by reason keep the holds' order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DisburseSummary {
    /// `disburse`.
    pub kind: String,
    /// Null when nothing was issued.
    pub run_id: Option<String>,
    pub counts: DisburseCounts,
    /// Per currency code.
    pub totals: BTreeMap<String, DisburseTotals>,
    /// Per provider with payment files.
    pub providers: BTreeMap<String, ProviderSummary>,
    /// `rows` is null for the providers file.
    pub inputs: Vec<InputEntry>,
    pub engine: EngineName,
    pub settings: DisburseSettings,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DisburseCounts {
    pub payroll_in: u64,
    pub payroll_accepted: u64,
    pub rejected: u64,
    pub held: u64,
    pub issued: u64,
    pub issued_from_payroll: u64,
    pub retry_in: u64,
    pub retried: u64,
    pub retry_held: u64,
    pub recovery: u64,
    /// Retry rows needing no action, per status.
    pub retry_no_action: BTreeMap<String, u64>,
    /// In [`crate::Hold`] order.
    pub holds_by_reason: Tally,
    pub rejects_by_reason: BTreeMap<String, u64>,
    pub payment_files: u64,
}

/// Amounts are exact decimal text in the currency's minor units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DisburseTotals {
    pub issued_count: u64,
    pub issued_amount: String,
    pub held_count: u64,
    pub held_amount: String,
    pub recovery_count: u64,
    pub recovery_amount: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderSummary {
    pub format: String,
    pub files: Vec<PaymentFileSummary>,
    /// Per currency code.
    pub issued: BTreeMap<String, Issued>,
    pub held: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentFileSummary {
    pub name: String,
    pub rows: u64,
    /// Per currency code, the sum of the file's amounts.
    pub control_sums: BTreeMap<String, String>,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issued {
    pub count: u64,
    pub amount: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineName {
    pub name: String,
    pub version: String,
}

/// The run's settings as summary.json and manifest.json record them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DisburseSettings {
    pub execution_date: String,
    /// `--execution-date` or `earliest payroll due_date`.
    pub execution_date_from: String,
    pub max_batch_rows: Option<u64>,
    pub ledger: String,
    pub providers: Option<String>,
    pub retry_from: Option<String>,
    pub id_scheme: String,
    pub currency_table: String,
}

pub(crate) fn settings(cfg: &DisburseConfig, execution_date: i32) -> DisburseSettings {
    let from = if cfg.execution_date.is_some() {
        "--execution-date"
    } else {
        "earliest payroll due_date"
    };
    DisburseSettings {
        execution_date: date::date_string(execution_date),
        execution_date_from: from.into(),
        max_batch_rows: cfg.max_batch_rows.map(|n| n as u64),
        ledger: cfg.ledger.display().to_string(),
        providers: cfg.providers.as_ref().map(|p| p.display().to_string()),
        retry_from: cfg.retry_from.as_ref().map(|p| p.display().to_string()),
        id_scheme: "sverka-instruction-v1".into(),
        currency_table: currency::table().version.to_string(),
    }
}

/// summary.json's value. `written`: the files written so far (the payment files' hashes).
pub(crate) fn summary(
    run: &Run,
    counts: &Counts,
    written: &[Written],
    warnings: &[String],
) -> Result<DisburseSummary> {
    let c = counts;
    let rejects_by_reason: BTreeMap<String, u64> =
        run.input.rejects.iter().fold(BTreeMap::new(), |mut m, r| {
            *m.entry(r.reason.as_str().to_string()).or_default() += 1;
            m
        });
    let issued = run.plan.issued.len();
    Ok(DisburseSummary {
        kind: "disburse".into(),
        run_id: (issued > 0).then(|| run.plan.run_id.clone()),
        counts: DisburseCounts {
            payroll_in: c.payroll_in,
            payroll_accepted: run.view.n_pay as u64,
            rejected: run.input.rejects.len() as u64,
            held: c.held_pay + c.held_retry,
            issued: issued as u64,
            issued_from_payroll: c.issued_pay,
            retry_in: c.retry_total,
            retried: c.issued_retry,
            retry_held: c.held_retry,
            recovery: run.sort.recovery.len() as u64,
            retry_no_action: run.sort.no_action.clone(),
            holds_by_reason: Tally(
                c.by_hold
                    .iter()
                    .map(|(h, n)| (h.as_str().to_string(), *n))
                    .collect(),
            ),
            rejects_by_reason,
            payment_files: run.plan.files.len() as u64,
        },
        totals: totals(c),
        providers: providers(run, written),
        inputs: inputs(run)?,
        engine: EngineName {
            name: "sverka".into(),
            version: VERSION.into(),
        },
        settings: run.settings.clone(),
        warnings: warnings.to_vec(),
    })
}

fn inputs(run: &Run) -> Result<Vec<InputEntry>> {
    let input = |side: &str, path: &std::path::Path, size, rows, sha256| InputEntry {
        side: side.into(),
        path: path.display().to_string(),
        size,
        rows,
        sha256,
    };
    let mut inputs = Vec::new();
    for (f, st) in run.input.files.iter().zip(&run.input.stats) {
        inputs.push(input(
            "payroll",
            &f.path,
            st.bytes,
            Some(st.rows),
            st.sha256.clone(),
        ));
    }
    if let Some(r) = &run.input.retry {
        let (sha, size) = sha_file(&r.path).map_err(|e| Error::input(&r.path, e.to_string()))?;
        inputs.push(input(
            "retry_from",
            &r.path,
            size,
            Some(r.rows.len() as u64),
            sha,
        ));
    }
    if let Some(p) = &run.cfg.providers {
        let (sha, size) = sha_file(p).map_err(|e| Error::input(p, e.to_string()))?;
        inputs.push(input("providers", p, size, None, sha));
    }
    Ok(inputs)
}

/// Per provider: format, payment files, issued count and amount per currency, held rows.
fn providers(run: &Run, written: &[Written]) -> BTreeMap<String, ProviderSummary> {
    let (table, view, files) = (currency::table(), run.view, &run.plan.files);
    let mut out: BTreeMap<String, ProviderSummary> = BTreeMap::new();
    for pf in files {
        let w = written.iter().find(|w| w.name == pf.name).expect("written");
        let e = out
            .entry(pf.provider.clone())
            .or_insert_with(|| ProviderSummary {
                format: pf.format.as_str().to_string(),
                files: Vec::new(),
                issued: BTreeMap::new(),
                held: 0,
            });
        let extra = w.extra.as_ref().expect("payment file");
        let control_sums = serde_json::from_value(extra["control_sums"].clone())
            .expect("written as code to amount");
        e.files.push(PaymentFileSummary {
            name: pf.name.clone(),
            rows: pf.rows.len() as u64,
            control_sums,
            sha256: w.sha256.clone(),
        });
    }
    for (prov, v) in out.iter_mut() {
        let mut per: BTreeMap<&str, (u64, i128)> = BTreeMap::new();
        for pf in files.iter().filter(|p| &p.provider == prov) {
            let e = per.entry(table.code(pf.currency)).or_default();
            e.0 += pf.rows.len() as u64;
            e.1 += pf
                .rows
                .iter()
                .map(|&i| view.amount(i as usize))
                .sum::<i128>();
        }
        for (code, (count, a)) in per {
            let m = table.minor_units(table.lookup(code).expect("known"));
            let amount = money::minor_string(a, m);
            v.issued.insert(code.to_string(), Issued { count, amount });
        }
    }
    for (i, h) in run.holds.iter().enumerate() {
        if h.is_some() {
            if let Some(v) = out.get_mut(view.provider(i)) {
                v.held += 1;
            }
        }
    }
    out
}

fn totals(c: &Counts) -> BTreeMap<String, DisburseTotals> {
    let table = currency::table();
    let mut out = BTreeMap::new();
    for (code, t) in &c.totals {
        let m = table.minor_units(table.lookup(code).expect("known"));
        let a = |v: i128| money::minor_string(v, m);
        out.insert(
            code.to_string(),
            DisburseTotals {
                issued_count: t.issued_count,
                issued_amount: a(t.issued_amount),
                held_count: t.held_count,
                held_amount: a(t.held_amount),
                recovery_count: t.recovery_count,
                recovery_amount: a(t.recovery_amount),
            },
        );
    }
    out
}

/// Writes summary.json, then manifest.json listing every file written (itself sealed by
/// the SHA-256 of its compact form). Returns that seal (the ledger records it).
pub(crate) fn seal(
    set: &OutputSet,
    summary: &DisburseSummary,
    written: &mut Vec<Written>,
) -> Result<String> {
    let mut bytes = serde_json::to_vec_pretty(summary).expect("json");
    bytes.push(b'\n');
    written.push(written_bytes(set, "summary.json", &bytes, None)?);
    written.sort_by(|a, b| a.name.cmp(&b.name));
    let internal = |e: serde_json::Error| Error::Internal(format!("manifest: {e}"));
    let outputs = written
        .iter()
        .map(|w| {
            let mut o = Map::new();
            o.insert("name".into(), json!(w.name));
            o.insert("size".into(), json!(w.size));
            o.insert("rows".into(), json!(w.rows));
            o.insert("sha256".into(), json!(w.sha256));
            if let Some(extra) = &w.extra {
                for (k, v) in extra {
                    o.insert(k.clone(), v.clone());
                }
            }
            serde_json::from_value::<OutputEntry>(Value::Object(o)).map_err(internal)
        })
        .collect::<Result<Vec<_>>>()?;
    let settings = serde_json::to_value(&summary.settings).map_err(internal)?;
    let m = manifest::build("disburse", settings, summary.inputs.clone(), outputs);
    let (seal, mbytes) = manifest::sealed(m)?;
    written.push(written_bytes(set, "manifest.json", &mbytes, None)?);
    Ok(seal)
}
