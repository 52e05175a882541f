//! `sverka disburse`: resolves arguments into the disburse settings and prints the
//! closing screen (per provider: files, rows, control sums; holds; rejects).

use serde_json::Value;
use sverka_disburse::{DisburseConfig, Outcome};
use sverka_engine::{date, Error};

use crate::args::DisburseArgs;
use crate::reconcile::pairs;
use crate::Failure;

pub fn run(a: DisburseArgs) -> Result<u8, Failure> {
    if let Some(n) = a.threads {
        if n == 0 {
            return Err(Error::Usage("--threads must be at least 1".into()).into());
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| Error::Internal(format!("thread pool: {e}")))?;
    }
    let execution_date = a
        .execution_date
        .as_deref()
        .map(|s| {
            date::parse_date(s).ok_or_else(|| {
                Error::Usage(format!(
                    "--execution-date {s:?} is not a date; write YYYY-MM-DD, e.g. 2026-11-05"
                ))
            })
        })
        .transpose()?;
    let cfg = DisburseConfig {
        payroll: a.payroll,
        out: a.out,
        ledger: a.ledger,
        providers: a.providers,
        execution_date,
        max_batch_rows: a.max_batch_rows,
        retry_from: a.retry_from,
    };
    let outcome = sverka_disburse::disburse(&cfg)?;
    if crate::print_outcome(
        a.quiet,
        a.timings,
        a.json,
        &outcome.warnings,
        &outcome.timings,
        || serde_json::to_string_pretty(&outcome.summary).expect("json"),
    )? {
        crate::print(screen(&outcome))?;
    }
    Ok(0)
}

/// A JSON object's entries (none for another value), for [`pairs`].
fn entries(v: &Value) -> impl Iterator<Item = (&String, &Value)> {
    v.as_object().into_iter().flatten()
}

/// The closing screen.
fn screen(o: &Outcome) -> String {
    let s = &o.summary;
    let c = &s["counts"];
    let mut out = String::new();
    let line = |out: &mut String, k: &str, v: String| out.push_str(&format!("  {k:<13}{v}\n"));
    out.push_str(&format!(
        "sverka disburse — results in {}\n",
        o.out_dir.display()
    ));
    for n in &o.notes {
        line(&mut out, "note", n.clone());
    }
    if let Some(r) = s["run_id"].as_str() {
        line(&mut out, "run", r.to_string());
    }
    line(
        &mut out,
        "payroll",
        format!(
            "{} read, {} accepted, {} rejected",
            c["payroll_in"], c["payroll_accepted"], c["rejected"]
        ),
    );
    if c["retry_in"].as_u64().unwrap_or(0) > 0 {
        line(
            &mut out,
            "retry-from",
            format!(
                "{} read, {} retried, {} held, {} to recover, no action: {}",
                c["retry_in"],
                c["retried"],
                c["retry_held"],
                c["recovery"],
                pairs(entries(&c["retry_no_action"]))
            ),
        );
    }
    line(
        &mut out,
        "issued",
        format!(
            "{} instructions in {} payment files",
            c["issued"], c["payment_files"]
        ),
    );
    line(
        &mut out,
        "held",
        format!("{} ({})", c["held"], pairs(entries(&c["holds_by_reason"]))),
    );
    line(
        &mut out,
        "rejected",
        pairs(entries(&c["rejects_by_reason"])),
    );
    if let Some(p) = s["providers"].as_object() {
        out.push_str("  providers\n");
        for (name, v) in p {
            let files = v["files"].as_array().map_or(0, |f| f.len());
            let issued: Vec<String> = v["issued"]
                .as_object()
                .map(|o| {
                    o.iter()
                        .map(|(ccy, t)| {
                            format!(
                                "{} rows {} {ccy}",
                                t["count"],
                                t["amount"].as_str().unwrap_or("")
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push_str(&format!(
                "    {name:<12} {:<8} {files} files  {}  held {}\n",
                v["format"].as_str().unwrap_or(""),
                issued.join(", "),
                v["held"]
            ));
            for f in v["files"].as_array().into_iter().flatten() {
                out.push_str(&format!(
                    "      {}  {} rows  control sum {}\n",
                    f["name"].as_str().unwrap_or(""),
                    f["rows"],
                    pairs(entries(&f["control_sums"])).replace('"', "")
                ));
            }
        }
    }
    if o.written.is_empty() {
        line(&mut out, "files", "none written".to_string());
    } else {
        line(&mut out, "files", format!("{} written", o.written.len()));
    }
    out
}
