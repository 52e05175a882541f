//! The one place that owns the control flow of a disbursement (STYLE.md 4):
//! ledger repair → load + validate payroll → retry input → ids → holds → payment-file
//! plan → outputs, summary, manifest (into the run's output set) → ledger transaction →
//! the set swapped into place → run marked committed.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use arrow_array::StringArray;
use sverka_engine::outset::OutputSet;
use sverka_engine::side::{self, InputFile};
use sverka_engine::{Error, Result};

use crate::commit::{self, LedgerTx};
pub use crate::holds::Hold;
use crate::holds::{self, Holds, Providers};
use crate::ledger::Ledger;
use crate::outputs;
use crate::plan::{Counts, Plan};
use crate::profiles::Profiles;
use crate::summary::{self, DisburseSettings, DisburseSummary};
use crate::view::{self, Input, RetrySort, View};

/// Everything a disbursement needs (resolved from the command line by `cli`).
#[derive(Debug, Clone)]
pub struct DisburseConfig {
    pub payroll: Vec<PathBuf>,
    pub out: PathBuf,
    pub ledger: PathBuf,
    pub providers: Option<PathBuf>,
    /// Days since 1970-01-01; None: the earliest due date of the accepted payroll.
    pub execution_date: Option<i32>,
    pub max_batch_rows: Option<usize>,
    pub retry_from: Option<PathBuf>,
}

/// What a run did, for the closing screen.
#[derive(Debug)]
pub struct Outcome {
    pub summary: DisburseSummary,
    pub out_dir: PathBuf,
    /// Files written into `out_dir` (none when the folder was left as it was).
    pub written: Vec<String>,
    pub issued: u64,
    /// Things the operator must read: completed interrupted runs, nothing issued, ...
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
    pub timings: Vec<(&'static str, Duration)>,
}

/// What the steps after the plan read of the run.
pub(crate) struct Run<'a> {
    pub cfg: &'a DisburseConfig,
    pub input: &'a Input,
    pub sort: &'a RetrySort<'a>,
    pub view: &'a View<'a>,
    pub ids: &'a StringArray,
    pub holds: &'a Holds,
    pub providers: &'a Providers<'a>,
    pub plan: &'a Plan,
    pub settings: DisburseSettings,
}

#[derive(Default)]
struct Clock {
    last: Option<Instant>,
    laps: Vec<(&'static str, Duration)>,
}

impl Clock {
    fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        if let Some(l) = self.last {
            self.laps.push((name, now - l));
        }
        self.last = Some(now);
    }
}

/// Runs a whole disbursement. On any error before the ledger commit nothing is issued
/// and no file in `cfg.out` changes.
pub fn disburse(cfg: &DisburseConfig) -> Result<Outcome> {
    let mut clock = Clock::default();
    clock.lap("start");
    let (mut notes, mut warnings) = (Vec::new(), Vec::new());
    let (pay_files, profiles) = prepare(cfg, &mut warnings)?;
    let ledger = Ledger::open(&cfg.ledger)?;
    // Before the set begins: `begin` clears dead writers' staging folders beside the
    // folder, and a run the ledger has issued may still need its own.
    commit::complete_pending(&ledger, &mut notes)?;
    let set = OutputSet::begin(&cfg.out)?;
    let was_occupied = commit::occupied(set.dest())?;
    clock.lap("prepare");

    let input = Input::load(pay_files, cfg.retry_from.as_deref())?;
    clock.lap("load");
    let execution_date = input.execution_date(cfg.execution_date)?;
    let sort = RetrySort::of(input.retry.as_ref());
    let view = View::new(&input.table, sort.retry.clone(), execution_date);
    let ids = view::ids_for(&view);
    clock.lap("ids");
    let providers = Providers::new(&profiles, &view);
    let holds = holds::decide(&view, &ids, &ledger, &providers, &input.files)?;
    clock.lap("holds");
    let plan = Plan::new(&view, &ids, &holds, &providers, cfg.max_batch_rows);
    // Nothing to issue into a folder that holds an earlier run: leave it as it is.
    if was_occupied && !plan.issued.is_empty() {
        return Err(Error::Usage(format!(
            "--out {} already holds the payment files of an earlier run; give each new batch its own --out folder (nothing was issued)",
            cfg.out.display()
        )));
    }
    let counts = Counts::new(&view, &holds, &input, &sort, &plan)?;
    clock.lap("plan");

    let run = Run {
        cfg,
        input: &input,
        sort: &sort,
        view: &view,
        ids: &ids,
        holds: &holds,
        providers: &providers,
        plan: &plan,
        settings: summary::settings(cfg, execution_date),
    };
    // The ledger transaction starts now, beside the writing (it needs only the ids).
    let tx = (!plan.issued.is_empty())
        .then(|| LedgerTx::start(ledger, &view, &ids, &plan.issued, &plan.run_id, set.dest()));
    let (mut written, [pay_t, rows_t]) = outputs::write(&set, &run)?;
    clock.lap("write");
    // The two halves of `write`, which overlap (for --timings only).
    clock.laps.push(("  payment files", pay_t));
    clock.laps.push(("  row outputs", rows_t));
    let summary = summary::summary(&run, &counts, &written, &warnings)?;
    let mut outcome = Outcome {
        summary,
        out_dir: cfg.out.clone(),
        written: Vec::new(),
        issued: plan.issued.len() as u64,
        notes,
        warnings,
        timings: Vec::new(),
    };
    if was_occupied {
        // Nothing issued (checked above): the folder keeps the earlier run's files, and
        // the dropped set removes the new ones.
        outcome.notes.push(format!(
            "nothing new issued ({} rows already issued); {} already holds an earlier run's files and was left as it was",
            counts.already_issued(),
            cfg.out.display()
        ));
        clock.lap("summary");
        outcome.timings = clock.laps;
        return Ok(outcome);
    }
    let manifest_sha = summary::seal(&set, &outcome.summary, &mut written)?;
    clock.lap("summary");
    let set_notes = commit::publish(set, tx, &written, manifest_sha, &plan.run_id)?;
    if plan.issued.is_empty() {
        outcome.notes.push(format!(
            "nothing new issued ({} rows already issued; see holds and rejects)",
            counts.already_issued()
        ));
    }
    outcome.warnings.extend(set_notes);
    outcome.written = written.into_iter().map(|w| w.name).collect();
    clock.lap("commit");
    outcome.timings = clock.laps;
    Ok(outcome)
}

/// Checks the command line's settings and reads the small inputs: the payroll files'
/// list and the provider profiles.
fn prepare(cfg: &DisburseConfig, warnings: &mut Vec<String>) -> Result<(Vec<InputFile>, Profiles)> {
    if cfg.max_batch_rows == Some(0) {
        return Err(Error::Usage("--max-batch-rows must be at least 1".into()));
    }
    if cfg.payroll.is_empty() && cfg.retry_from.is_none() {
        return Err(Error::Usage(
            "nothing to disburse: give --payroll, --retry-from, or both".into(),
        ));
    }
    let pay_files = if cfg.payroll.is_empty() {
        Vec::new()
    } else {
        side::discover(view::PAYROLL, &cfg.payroll)?
    };
    let profiles = match &cfg.providers {
        Some(p) => Profiles::load(p)?,
        None => {
            warnings.push(
                "no --providers file: every provider gets a CSV file, no account check and no caps"
                    .to_string(),
            );
            Profiles::default()
        }
    };
    if cfg.out.exists() && !cfg.out.is_dir() {
        return Err(Error::Usage(format!(
            "--out {}: exists and is not a directory; name a directory for the outputs",
            cfg.out.display()
        )));
    }
    Ok((pay_files, profiles))
}
