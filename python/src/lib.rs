//! `sverka._native`: the engine's front door for Python. `sverka/__init__.py` is the API
//! its users see (argument forms, the result types); this module only converts and calls:
//! the engine runs with the GIL released, its errors become the package's exceptions with
//! the CLI's message, Arrow data crosses the C data interface without copies.

mod arrow_io;

use std::path::PathBuf;

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use sverka_engine::{Error, Factor, ProviderOptions, ReconcileConfig, Settings};

create_exception!(
    _native,
    SverkaError,
    PyException,
    "Base of the errors sverka raises: the run stopped and its output folder was left as it was."
);
create_exception!(
    _native,
    InputError,
    SverkaError,
    "The inputs or settings cannot be used as given (the CLI's exit 2); the message names the file and what to fix."
);
create_exception!(
    _native,
    OutputError,
    SverkaError,
    "The outputs could not be written (the CLI's exit 1: the machine, not the input)."
);
create_exception!(
    _native,
    InternalError,
    SverkaError,
    "A broken invariant: a bug in sverka (the CLI's exit 1). Nothing was written."
);

/// The engine's error as the exception of its exit code, with the CLI's message.
fn py_err(e: Error) -> PyErr {
    let message = e.to_string();
    match e {
        Error::Input { .. } | Error::Usage(_) => InputError::new_err(message),
        Error::Output { .. } => OutputError::new_err(message),
        Error::Internal(_) => InternalError::new_err(message),
    }
}

/// Runs `f` with the GIL released, on a pool of `threads` workers (None: rayon's global
/// pool, one per core). A panic the engine failed to contain is an `InternalError`, as
/// the CLI reports it, not an abort of the interpreter.
fn run_detached<T: Send>(
    py: Python<'_>,
    threads: Option<usize>,
    f: impl FnOnce() -> sverka_engine::Result<T> + Send,
) -> PyResult<T> {
    let pool = match threads {
        Some(0) => return Err(InputError::new_err("threads must be at least 1")),
        Some(n) => Some(
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| InternalError::new_err(format!("thread pool: {e}")))?,
        ),
        None => None,
    };
    let result = py.detach(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match &pool {
            Some(p) => p.install(f),
            None => f(),
        }))
    });
    match result {
        Ok(r) => r.map_err(py_err),
        Err(p) => Err(InternalError::new_err(format!(
            "internal error: {}; nothing was written. Please report this with the call you made.",
            sverka_engine::panic_message(&p)
        ))),
    }
}

/// What a run returns to Python: summary.json's text, the folder, the files written,
/// warnings, and each stage's wall time in seconds.
type RunResult = (
    String,
    PathBuf,
    Vec<String>,
    Vec<String>,
    Vec<(String, f64)>,
);

fn laps(timings: &[(&'static str, std::time::Duration)]) -> Vec<(String, f64)> {
    timings
        .iter()
        .map(|(s, d)| (s.to_string(), d.as_secs_f64()))
        .collect()
}

/// `sverka.reconcile`'s native half: every path resolved, every setting given.
#[pyfunction]
#[pyo3(signature = (instructions, settlements, out, providers, decisions, csv, threads,
    late_days, fallback_days, shared_account_min, outlier_factor, control_totals, report))]
#[allow(clippy::too_many_arguments)]
fn reconcile(
    py: Python<'_>,
    instructions: Vec<PathBuf>,
    settlements: Vec<PathBuf>,
    out: PathBuf,
    providers: Option<PathBuf>,
    decisions: Vec<PathBuf>,
    csv: bool,
    threads: Option<usize>,
    late_days: u32,
    fallback_days: u32,
    shared_account_min: u32,
    outlier_factor: String,
    control_totals: String,
    report: bool,
) -> PyResult<RunResult> {
    let control_warn = match control_totals.as_str() {
        "fail" => false,
        "warn" => true,
        other => {
            return Err(InputError::new_err(format!(
                "control_totals {other:?}: choose \"fail\" or \"warn\""
            )))
        }
    };
    let outlier_factor = Factor::parse(&outlier_factor).map_err(py_err)?;
    run_detached(py, threads, move || {
        let mut providers_opt = ProviderOptions {
            control_warn,
            ..Default::default()
        };
        if let Some(p) = &providers {
            sverka_engine::providers::load(p, &mut providers_opt)?;
        }
        let cfg = ReconcileConfig {
            instructions,
            settlements,
            out,
            csv,
            settings: Settings {
                late_days,
                fallback_days,
                shared_account_min,
                outlier_factor,
            },
            providers: providers_opt,
            decisions,
        };
        let audit = sverka_audit::AuditFinish::new(report);
        let o = sverka_engine::reconcile_with(&cfg, &sverka_engine::Silent, &audit)?;
        Ok((
            o.summary.to_text(),
            o.out_dir,
            o.written,
            o.warnings,
            laps(&o.timings),
        ))
    })
}

/// `sverka.verify`'s native half: the report as JSON (`sverka verify --json`) and as the
/// CLI prints it.
#[pyfunction]
#[pyo3(signature = (out, inputs, threads))]
fn verify(
    py: Python<'_>,
    out: PathBuf,
    inputs: Vec<PathBuf>,
    threads: Option<usize>,
) -> PyResult<(String, String)> {
    let r = run_detached(py, threads, move || {
        sverka_audit::verify::verify(&out, &inputs)
    })?;
    Ok((r.to_json().to_string(), r.text()))
}

/// `sverka.disburse`'s native half: the run's summary.json text and what the CLI's closing
/// screen shows.
#[pyfunction]
#[pyo3(signature = (payroll, out, ledger, providers, execution_date, max_batch_rows,
    retry_from, threads))]
#[allow(clippy::too_many_arguments)]
fn disburse(
    py: Python<'_>,
    payroll: Vec<PathBuf>,
    out: PathBuf,
    ledger: PathBuf,
    providers: Option<PathBuf>,
    execution_date: Option<String>,
    max_batch_rows: Option<usize>,
    retry_from: Option<PathBuf>,
    threads: Option<usize>,
) -> PyResult<(RunResult, u64, Vec<String>)> {
    let execution_date = execution_date
        .map(|s| {
            sverka_engine::date::parse_date(&s).ok_or_else(|| {
                InputError::new_err(format!(
                    "execution_date {s:?} is not a date; write YYYY-MM-DD, e.g. 2026-11-05"
                ))
            })
        })
        .transpose()?;
    run_detached(py, threads, move || {
        let cfg = sverka_disburse::DisburseConfig {
            payroll,
            out,
            ledger,
            providers,
            execution_date,
            max_batch_rows,
            retry_from,
        };
        let o = sverka_disburse::disburse(&cfg)?;
        let summary = serde_json::to_string_pretty(&o.summary)
            .map_err(|e| Error::Internal(format!("disburse summary: {e}")))?;
        Ok((
            (summary, o.out_dir, o.written, o.warnings, laps(&o.timings)),
            o.issued,
            o.notes,
        ))
    })
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("VERSION", sverka_engine::VERSION)?;
    m.add("SverkaError", py.get_type::<SverkaError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("OutputError", py.get_type::<OutputError>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    m.add_function(wrap_pyfunction!(reconcile, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_function(wrap_pyfunction!(disburse, m)?)?;
    m.add_function(wrap_pyfunction!(arrow_io::write_arrow_file, m)?)?;
    m.add_function(wrap_pyfunction!(arrow_io::read_parquet, m)?)?;
    Ok(())
}
