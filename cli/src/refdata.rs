//! `sverka generate` and `sverka score`: thin wrappers over the `sverka-refdata` crate.

use sverka_engine::Error;
use sverka_refdata::{GenerateConfig, RefdataError};

use crate::args::{GenerateArgs, ScoreArgs};

fn engine_error(e: RefdataError) -> Error {
    if e.exit_code() == 2 {
        Error::Usage(e.to_string())
    } else {
        Error::Internal(e.to_string())
    }
}

pub fn generate(a: GenerateArgs) -> Result<u8, Error> {
    let cfg = GenerateConfig {
        instructions: a.instructions,
        out: a.out,
        seed: a.seed,
        format: a.format.parse().map_err(engine_error)?,
        profile: a.profile,
        rates: a.rates,
    };
    let report = sverka_refdata::generate(&cfg).map_err(engine_error)?;
    if !a.quiet {
        let text = report.to_string();
        print!("{text}");
        if !text.ends_with('\n') {
            println!();
        }
    }
    Ok(0)
}

pub fn score(a: ScoreArgs) -> Result<u8, Error> {
    let report = sverka_refdata::score(&a.truth, &a.results).map_err(engine_error)?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| Error::Internal(e.to_string()))?
        );
    } else {
        let text = report.to_string();
        print!("{text}");
        if !text.ends_with('\n') {
            println!();
        }
    }
    Ok(if report.full_agreement() { 0 } else { 1 })
}
