//! `sverka reconcile`: resolves arguments into engine settings, shows progress on a
//! terminal, prints the closing screen and applies `--fail-on`.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use std::fmt::Display;

use sverka_engine::summary::{CcyTotals, TotalsByCcy};
use sverka_engine::{
    fail_on_names, Error, Factor, Outcome, Progress, ProviderOptions, ReconcileConfig, Settings,
};

use crate::args::ReconcileArgs;
use crate::Failure;

/// Progress on a terminal (a spinner with the rows validated so far), or none.
struct Host {
    bar: Option<ProgressBar>,
    /// Inputs over the engine's concurrent-load size: freed memory is trimmed.
    large: bool,
}

impl Progress for Host {
    fn stage(&self, name: &'static str) {
        if let Some(b) = &self.bar {
            b.set_message(name);
        }
    }
    fn rows(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }
    fn release_memory(&self) {
        if self.large {
            crate::memory::trim();
        }
    }
}

pub fn run(a: ReconcileArgs) -> Result<u8, Failure> {
    let known = fail_on_names();
    for name in &a.fail_on {
        if !known.contains(&name.as_str()) {
            return Err(Error::Usage(format!(
                "--fail-on {name:?} is not a status, flag or `rejects`; choose from {}",
                known.join(", ")
            ))
            .into());
        }
    }
    if let Some(n) = a.threads {
        if n == 0 {
            return Err(Error::Usage("--threads must be at least 1".into()).into());
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| Error::Internal(format!("thread pool: {e}")))?;
    }
    let mut providers = ProviderOptions {
        control_warn: a.control_totals == "warn",
        ..Default::default()
    };
    if let Some(p) = &a.providers {
        sverka_engine::providers::load(p, &mut providers)?;
    }
    let cfg = ReconcileConfig {
        instructions: a.instructions,
        settlements: a.settlements,
        out: a.out,
        csv: a.csv,
        settings: Settings {
            late_days: a.late_days,
            fallback_days: a.fallback_days,
            shared_account_min: a.shared_account_min,
            outlier_factor: Factor::parse(&a.outlier_factor)?,
        },
        providers,
        decisions: a.decisions,
    };
    let large = sverka_engine::is_large(&cfg);
    let audit = sverka_audit::AuditFinish::new(!a.no_report);
    let show = !a.quiet && !a.json;
    let bar = (show && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg:10} {human_pos} rows validated  {elapsed}",
            )
            .expect("valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    let host = Host { bar, large };
    let outcome = sverka_engine::reconcile_with(&cfg, &host, &audit);
    if let Some(b) = &host.bar {
        b.finish_and_clear();
    }
    let outcome = outcome?;
    if crate::print_outcome(
        a.quiet,
        a.timings,
        a.json,
        &outcome.warnings,
        &outcome.timings,
        || outcome.summary.to_text(),
    )? {
        crate::print(screen(&outcome))?;
    }
    let hits: Vec<String> = a
        .fail_on
        .iter()
        .filter_map(|n| {
            let c = outcome.count_of(n);
            (c > 0).then(|| format!("{n} {c}"))
        })
        .collect();
    if !hits.is_empty() {
        if !a.quiet {
            eprintln!(
                "sverka: --fail-on: {} (outputs were written)",
                hits.join(", ")
            );
        }
        return Ok(3);
    }
    Ok(0)
}

/// `[("A", 1), ("B", 2)]` as `A 1, B 2` (`none` when empty); both closing screens use it.
pub(crate) fn pairs<K: Display, V: Display>(items: impl IntoIterator<Item = (K, V)>) -> String {
    let v: Vec<String> = items.into_iter().map(|(k, n)| format!("{k} {n}")).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// The one closing screen: counts by status and flag, totals per currency, rejects by
/// reason, where the files are.
fn screen(o: &Outcome) -> String {
    let s = &o.summary;
    let c = &s.counts;
    let mut out = String::new();
    let line = |out: &mut String, k: &str, v: String| out.push_str(&format!("  {k:<13}{v}\n"));
    out.push_str(&format!(
        "sverka reconcile — results in {}\n",
        o.out_dir.display()
    ));
    line(
        &mut out,
        "instructions",
        format!(
            "{} read, {} accepted, {} rejected",
            c.instructions_in, c.instructions_accepted, c.rejects.instructions
        ),
    );
    line(
        &mut out,
        "settlements",
        format!(
            "{} read, {} accepted, {} rejected",
            c.settlements_in, c.settlements_accepted, c.rejects.settlements
        ),
    );
    line(&mut out, "status", pairs(c.by_status.iter()));
    line(&mut out, "flags", pairs(c.by_flag.iter()));
    line(&mut out, "matches", pairs(c.by_match.iter()));
    let r = &c.rejects_by_reason;
    for (side, r) in [("ins", &r.instructions), ("set", &r.settlements)] {
        if !r.is_empty() {
            line(&mut out, &format!("rejected {side}"), pairs(r.iter()));
        }
    }
    totals(&mut out, &s.totals);
    line(&mut out, "files", o.written.join(", "));
    out
}

/// The closing screen's table of totals per currency.
fn totals(out: &mut String, t: &TotalsByCcy) {
    let cells = |v: &CcyTotals| {
        [
            v.instructed_amount.clone(),
            v.settled_amount.clone(),
            v.unpaid_amount.clone(),
            v.unexpected_amount.clone(),
        ]
    };
    // Wide enough for the longest figure: 15-digit amounts summed over millions of rows.
    let w = t
        .values()
        .flat_map(|v| cells(v).map(|c| c.len()))
        .max()
        .unwrap_or(0)
        .max(12)
        + 2;
    out.push_str("  totals\n");
    out.push_str(&format!(
        "    {:<5}{:>w$}{:>w$}{:>w$}{:>w$}\n",
        "ccy", "instructed", "settled", "unpaid", "unexpected"
    ));
    for (ccy, v) in t {
        out.push_str(&format!("    {ccy:<5}"));
        for c in cells(v) {
            out.push_str(&format!("{c:>w$}"));
        }
        out.push('\n');
    }
}
