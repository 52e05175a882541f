//! The `sverka` binary: parses arguments, runs the command, maps the result to an exit
//! code and prints the error once (STYLE.md 1).

mod args;
mod disburse;
mod inspect;
mod memory;
mod openimis;
mod reconcile;
mod refdata;
mod report;
mod staged;
mod verify;
mod worksheet;

// Large blocks kept and reused after free: fewer page faults and a lower peak than
// mimalloc or jemalloc at 10M rows (memory.rs says why it stays; BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: memory::Reuse = memory::Reuse;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;
use sverka_engine::Error;

/// Why a command stopped early.
pub(crate) enum Failure {
    Run(Error),
    /// Writing to stdout failed (the reader went away: `BrokenPipe`).
    Stdout(io::Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Run(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::Stdout(e)
    }
}

fn main() -> ExitCode {
    // Panics are bugs or hostile files the engine failed to contain: report them once,
    // as an internal error, without the default hook's noise.
    std::panic::set_hook(Box::new(|_| {}));
    let cli = args::Cli::parse();
    let result = std::panic::catch_unwind(|| run(cli));
    match result {
        Ok(Ok(code)) => ExitCode::from(code),
        Ok(Err(Failure::Run(e))) => {
            eprintln!("sverka: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
        // The reader of our stdout went away (`sverka score ... | head`): like other
        // command-line tools, stop quietly.
        Ok(Err(Failure::Stdout(e))) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(0),
        Ok(Err(Failure::Stdout(e))) => internal_error(&format!("failed printing to stdout: {e}")),
        Err(p) => internal_error(&sverka_engine::panic_message(&p)),
    }
}

fn internal_error(message: &str) -> ExitCode {
    eprintln!(
        "sverka: internal error: {message}; nothing was written. Please report this with the command you ran."
    );
    ExitCode::from(1)
}

fn run(cli: args::Cli) -> Result<u8, Failure> {
    match cli.command {
        args::Command::Reconcile(a) => reconcile::run(a),
        args::Command::Generate(a) => refdata::generate(a),
        args::Command::Score(a) => refdata::score(a),
        args::Command::Report(a) => report::run(a),
        args::Command::Verify(a) => verify::run(a),
        args::Command::Disburse(a) => disburse::run(a),
        args::Command::Inspect(a) => inspect::run(a),
        args::Command::Worksheet(a) => worksheet::run(a),
        args::Command::Openimis(args::OpenimisCommand::Fill(a)) => openimis::fill(a),
    }
}

/// Writes `text` to stdout and flushes it, so that a reader gone away is reported here
/// (as `BrokenPipe`) and not lost at exit.
pub(crate) fn print(text: impl std::fmt::Display) -> io::Result<()> {
    let mut out = io::stdout().lock();
    write!(out, "{text}")?;
    out.flush()
}

/// [`print`], ending the text with a newline if it has none.
pub(crate) fn print_line(text: &str) -> io::Result<()> {
    if text.ends_with('\n') {
        print(text)
    } else {
        print(format_args!("{text}\n"))
    }
}

/// What `reconcile` and `disburse` print beside their closing screen: warnings (unless
/// `quiet`), stage timings (`--timings`) and, with `--json`, the summary (`json()`, pretty
/// JSON) on stdout. Returns whether the closing screen is still to be printed.
fn print_outcome(
    quiet: bool,
    timings: bool,
    json: bool,
    warnings: &[String],
    laps: &[(&'static str, std::time::Duration)],
    summary: impl FnOnce() -> String,
) -> io::Result<bool> {
    if !quiet {
        for w in warnings {
            eprintln!("sverka: warning: {w}");
        }
    }
    if timings {
        for (stage, d) in laps {
            eprintln!("sverka: timing {stage:<14} {:>8.3} s", d.as_secs_f64());
        }
    }
    if json {
        print_line(&summary())?;
    }
    Ok(!quiet && !json)
}
