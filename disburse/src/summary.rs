//! summary.json (what the run did, in figures) and manifest.json (shared format v1: every
//! input and output with its SHA-256), the last two files of a run.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use sverka_engine::outset::OutputSet;
use sverka_engine::{currency, date, money, Error, Result, VERSION};

use crate::outputs::{sha_file, written_bytes, Written};
use crate::plan::Counts;
use crate::run::{DisburseConfig, Run};

/// The run's settings as summary.json and manifest.json record them.
pub(crate) fn settings(cfg: &DisburseConfig, execution_date: i32) -> Value {
    json!({
        "execution_date": date::date_string(execution_date),
        "execution_date_from": if cfg.execution_date.is_some() { "--execution-date" } else { "earliest payroll due_date" },
        "max_batch_rows": cfg.max_batch_rows,
        "ledger": cfg.ledger.display().to_string(),
        "providers": cfg.providers.as_ref().map(|p| p.display().to_string()),
        "retry_from": cfg.retry_from.as_ref().map(|p| p.display().to_string()),
        "id_scheme": "sverka-instruction-v1",
        "currency_table": currency::table().version,
    })
}

/// summary.json's value. `written`: the files written so far (the payment files' hashes).
pub(crate) fn summary(
    run: &Run,
    counts: &Counts,
    written: &[Written],
    warnings: &[String],
) -> Result<Value> {
    let c = counts;
    let rej_by_reason: BTreeMap<&str, u64> =
        run.input.rejects.iter().fold(BTreeMap::new(), |mut m, r| {
            *m.entry(r.reason.as_str()).or_default() += 1;
            m
        });
    let holds_json: Map<String, Value> = c
        .by_hold
        .iter()
        .map(|(h, c)| (h.as_str().to_string(), json!(c)))
        .collect();
    let issued = run.plan.issued.len();
    Ok(json!({
        "kind": "disburse",
        "run_id": if issued == 0 { Value::Null } else { json!(run.plan.run_id) },
        "counts": {
            "payroll_in": c.payroll_in,
            "payroll_accepted": run.view.n_pay,
            "rejected": run.input.rejects.len(),
            "held": c.held_pay + c.held_retry,
            "issued": issued,
            "issued_from_payroll": c.issued_pay,
            "retry_in": c.retry_total,
            "retried": c.issued_retry,
            "retry_held": c.held_retry,
            "recovery": run.sort.recovery.len(),
            "retry_no_action": run.sort.no_action,
            "holds_by_reason": holds_json,
            "rejects_by_reason": rej_by_reason,
            "payment_files": run.plan.files.len(),
        },
        "totals": totals(c),
        "providers": providers(run, written),
        "inputs": inputs(run)?,
        "engine": {"name": "sverka", "version": VERSION},
        "settings": run.settings,
        "warnings": warnings,
    }))
}

fn inputs(run: &Run) -> Result<Vec<Value>> {
    let mut inputs = Vec::new();
    for (f, st) in run.input.files.iter().zip(&run.input.stats) {
        inputs.push(json!({"side": "payroll", "path": f.path.display().to_string(), "size": st.bytes, "rows": st.rows, "sha256": st.sha256}));
    }
    if let Some(r) = &run.input.retry {
        let (sha, size) = sha_file(&r.path).map_err(|e| Error::input(&r.path, e.to_string()))?;
        inputs.push(json!({"side": "retry_from", "path": r.path.display().to_string(), "size": size, "rows": r.rows.len(), "sha256": sha}));
    }
    if let Some(p) = &run.cfg.providers {
        let (sha, size) = sha_file(p).map_err(|e| Error::input(p, e.to_string()))?;
        inputs.push(json!({"side": "providers", "path": p.display().to_string(), "size": size, "rows": null, "sha256": sha}));
    }
    Ok(inputs)
}

/// Per provider: format, payment files, issued count and amount per currency, held rows.
fn providers(run: &Run, written: &[Written]) -> Map<String, Value> {
    let (table, view, files) = (currency::table(), run.view, &run.plan.files);
    let mut out = Map::new();
    for pf in files {
        let w = written.iter().find(|w| w.name == pf.name).expect("written");
        let e = out.entry(pf.provider.clone()).or_insert_with(
            || json!({"format": pf.format.as_str(), "files": [], "issued": {}, "held": 0}),
        );
        let extra = w.extra.as_ref().expect("payment file");
        e["files"].as_array_mut().expect("array").push(json!({
            "name": pf.name, "rows": pf.rows.len(), "control_sums": extra["control_sums"], "sha256": w.sha256,
        }));
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
        for (code, (c, a)) in per {
            let m = table.minor_units(table.lookup(code).expect("known"));
            v["issued"][code] = json!({"count": c, "amount": money::minor_string(a, m)});
        }
    }
    let mut held_by_provider: BTreeMap<&str, u64> = BTreeMap::new();
    for (i, h) in run.holds.iter().enumerate() {
        if h.is_some() {
            *held_by_provider.entry(view.provider(i)).or_default() += 1;
        }
    }
    for (prov, c) in &held_by_provider {
        if let Some(v) = out.get_mut(*prov) {
            v["held"] = json!(c);
        }
    }
    out
}

fn totals(c: &Counts) -> Map<String, Value> {
    let table = currency::table();
    let mut out = Map::new();
    for (code, t) in &c.totals {
        let m = table.minor_units(table.lookup(code).expect("known"));
        out.insert(
            code.to_string(),
            json!({
                "issued_count": t.issued_count, "issued_amount": money::minor_string(t.issued_amount, m),
                "held_count": t.held_count, "held_amount": money::minor_string(t.held_amount, m),
                "recovery_count": t.recovery_count, "recovery_amount": money::minor_string(t.recovery_amount, m),
            }),
        );
    }
    out
}

/// Writes summary.json, then manifest.json listing every file written (itself sealed by
/// the SHA-256 of its compact form). Returns that seal (the ledger records it).
pub(crate) fn seal(set: &OutputSet, summary: &Value, written: &mut Vec<Written>) -> Result<String> {
    let mut bytes = serde_json::to_vec_pretty(summary).expect("json");
    bytes.push(b'\n');
    written.push(written_bytes(set, "summary.json", &bytes, None)?);
    written.sort_by(|a, b| a.name.cmp(&b.name));
    let outputs: Vec<Value> = written
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
            Value::Object(o)
        })
        .collect();
    let mut manifest = json!({
        "manifest_version": 1,
        "kind": "disburse",
        "engine": {"name": "sverka", "version": VERSION},
        "settings": summary["settings"],
        "inputs": summary["inputs"],
        "outputs": outputs,
    });
    let seal = hex::encode(Sha256::digest(
        serde_json::to_string(&manifest).expect("json").as_bytes(),
    ));
    manifest["manifest_sha256"] = json!(seal);
    let mut mbytes = serde_json::to_vec_pretty(&manifest).expect("json");
    mbytes.push(b'\n');
    written.push(written_bytes(set, "manifest.json", &mbytes, None)?);
    Ok(seal)
}
