//! `sverka generate` and `sverka score`: thin wrappers over the `sverka-refdata` crate.

use sverka_engine::Error;
use sverka_refdata::{GenerateConfig, RefdataError};

use crate::args::{GenerateArgs, ScoreArgs};
use crate::Failure;

fn engine_error(e: RefdataError) -> Error {
    if e.exit_code() == 2 {
        Error::Usage(e.to_string())
    } else {
        Error::Internal(e.to_string())
    }
}

pub fn generate(a: GenerateArgs) -> Result<u8, Failure> {
    let cfg = GenerateConfig {
        instructions: a.instructions,
        out: a.out,
        seed: a.seed,
        format: a.format.parse().map_err(engine_error)?,
        settlement_format: a
            .settlement_format
            .map(|f| f.parse())
            .transpose()
            .map_err(engine_error)?,
        profile: a.profile,
        rates: a.rates,
    };
    let report = sverka_refdata::generate(&cfg).map_err(engine_error)?;
    if !a.quiet {
        crate::print_line(&report.to_string())?;
    }
    Ok(0)
}

pub fn score(a: ScoreArgs) -> Result<u8, Failure> {
    let report = sverka_refdata::score(&a.truth, &a.results).map_err(engine_error)?;
    let text = if a.json {
        serde_json::to_string_pretty(&report).map_err(|e| Error::Internal(e.to_string()))?
    } else {
        report.to_string()
    };
    crate::print_line(&text)?;
    Ok(if report.full_agreement() { 0 } else { 1 })
}
