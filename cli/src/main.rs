//! The `sverka` binary: parses arguments, runs the command, maps the result to an exit
//! code and prints the error once (STYLE.md 1).

mod args;
mod disburse;
mod memory;
mod reconcile;
mod refdata;
mod report;
mod verify;

// Large blocks kept and reused after free: fewer page faults (memory.rs).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[global_allocator]
static ALLOCATOR: memory::Reuse = memory::Reuse;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Panics are bugs or hostile files the engine failed to contain: report them once,
    // as an internal error, without the default hook's noise.
    std::panic::set_hook(Box::new(|_| {}));
    let cli = args::Cli::parse();
    let result = std::panic::catch_unwind(|| run(cli));
    match result {
        Ok(Ok(code)) => ExitCode::from(code),
        Ok(Err(e)) => {
            eprintln!("sverka: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
        // The reader of our stdout went away (`sverka score ... | head`): like other
        // command-line tools, stop quietly.
        Err(p) if sverka_engine::load::panic_message(&p).contains("failed printing to stdout") => {
            ExitCode::from(0)
        }
        Err(p) => {
            eprintln!(
                "sverka: internal error: {}; nothing was written. Please report this with the command you ran.",
                sverka_engine::load::panic_message(&p)
            );
            ExitCode::from(1)
        }
    }
}

fn run(cli: args::Cli) -> Result<u8, sverka_engine::Error> {
    match cli.command {
        args::Command::Reconcile(a) => reconcile::run(a),
        args::Command::Generate(a) => refdata::generate(a),
        args::Command::Score(a) => refdata::score(a),
        args::Command::Report(a) => report::run(a),
        args::Command::Verify(a) => verify::run(a),
        args::Command::Disburse(a) => disburse::run(a),
    }
}

/// What `reconcile` and `disburse` print beside their closing screen: warnings (unless
/// `quiet`), stage timings (`--timings`) and, with `--json`, the summary on stdout. Returns
/// whether the closing screen is still to be printed.
fn print_outcome(
    quiet: bool,
    timings: bool,
    json: bool,
    warnings: &[String],
    laps: &[(&'static str, std::time::Duration)],
    summary: &serde_json::Value,
) -> bool {
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
        println!("{}", serde_json::to_string_pretty(summary).expect("json"));
    }
    !quiet && !json
}
