//! Runs `generate` or `score` without the CLI, for measuring and debugging:
//!
//! ```text
//! cargo run --release -p sverka-refdata --example refdata -- generate N OUT [SEED] [FORMAT] [PROFILE] [SETTLEMENT_FORMAT]
//! cargo run --release -p sverka-refdata --example refdata -- score TRUTH RESULTS
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use sverka_refdata::{generate, score, Format, GenerateConfig, RefdataError};

fn run(args: &[String]) -> Result<ExitCode, RefdataError> {
    let usage = || {
        RefdataError::BadArgument(
            "usage: generate N OUT [SEED] [FORMAT] [PROFILE] [SETTLEMENT_FORMAT] | score TRUTH RESULTS".into(),
        )
    };
    match args.first().map(String::as_str) {
        Some("generate") => {
            let n = args.get(1).and_then(|s| s.parse().ok()).ok_or_else(usage)?;
            let out = PathBuf::from(args.get(2).ok_or_else(usage)?);
            let seed = args
                .get(3)
                .map_or(Ok(42), |s| s.parse().map_err(|_| usage()))?;
            let format: Format = args.get(4).map_or(Ok(Format::Parquet), |s| s.parse())?;
            let profile = args.get(5).cloned().unwrap_or_else(|| "default".into());
            let settlement_format = args.get(6).map(|s| s.parse()).transpose()?;
            let report = generate(&GenerateConfig {
                instructions: n,
                out,
                seed,
                format,
                settlement_format,
                profile,
                rates: Vec::new(),
            })?;
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Some("score") => {
            let truth = PathBuf::from(args.get(1).ok_or_else(usage)?);
            let results = PathBuf::from(args.get(2).ok_or_else(usage)?);
            let report = score(&truth, &results)?;
            println!("{report}");
            Ok(if report.full_agreement() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(3)
            })
        }
        _ => Err(usage()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
