//! `sverka disburse`: resolves arguments into the disburse settings and prints the
//! closing screen (per provider: files, rows, control sums; holds; rejects).

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

/// The closing screen.
fn screen(o: &Outcome) -> String {
    let s = &o.summary;
    let c = &s.counts;
    let mut out = String::new();
    let line = |out: &mut String, k: &str, v: String| out.push_str(&format!("  {k:<13}{v}\n"));
    out.push_str(&format!(
        "sverka disburse — results in {}\n",
        o.out_dir.display()
    ));
    for n in &o.notes {
        line(&mut out, "note", n.clone());
    }
    if let Some(r) = &s.run_id {
        line(&mut out, "run", r.to_string());
    }
    line(
        &mut out,
        "payroll",
        format!(
            "{} read, {} accepted, {} rejected",
            c.payroll_in, c.payroll_accepted, c.rejected
        ),
    );
    if c.retry_in > 0 {
        line(
            &mut out,
            "retry-from",
            format!(
                "{} read, {} retried, {} held, {} to recover, no action: {}",
                c.retry_in,
                c.retried,
                c.retry_held,
                c.recovery,
                pairs(&c.retry_no_action)
            ),
        );
    }
    line(
        &mut out,
        "issued",
        format!(
            "{} instructions in {} payment files",
            c.issued, c.payment_files
        ),
    );
    line(
        &mut out,
        "held",
        format!("{} ({})", c.held, pairs(c.holds_by_reason.iter())),
    );
    line(&mut out, "rejected", pairs(&c.rejects_by_reason));
    out.push_str("  providers\n");
    for (name, v) in &s.providers {
        let issued: Vec<String> = v
            .issued
            .iter()
            .map(|(ccy, t)| format!("{} rows {} {ccy}", t.count, t.amount))
            .collect();
        out.push_str(&format!(
            "    {name:<12} {:<8} {} files  {}  held {}\n",
            v.format,
            v.files.len(),
            issued.join(", "),
            v.held
        ));
        for f in &v.files {
            out.push_str(&format!(
                "      {}  {} rows  control sum {}\n",
                f.name,
                f.rows,
                pairs(&f.control_sums)
            ));
        }
    }
    if o.written.is_empty() {
        line(&mut out, "files", "none written".to_string());
    } else {
        line(&mut out, "files", format!("{} written", o.written.len()));
    }
    out
}
