//! Reference data sets for sverka: `generate` writes a synthetic month of a national
//! cash-transfer programme with planted findings and rejects, plus the exact truth of
//! what was planted; `score` compares a `sverka reconcile` results folder against that
//! truth.
//!
//! The crate never uses the engine's code: the truth is the planting model's own record
//! (see `plan`), so scoring the engine against it is a real test. It reads the results'
//! `summary.json` with the engine's type of that file (`sverka_engine::Summary`).
//!
//! Module map: `catalog` (static world) -> `plan` (units, truth; pure) -> `render`
//! (text; pure) -> `sink` (buffers, writer thread; IO) -> `generate` (control flow).
//! `score` reads truth and results (`read`) and compares by key.

// Amounts in minor units are written major_minor: 450_000_00 is 450,000.00 UZS.
#![allow(clippy::inconsistent_digit_grouping)]

mod catalog;
mod error;
mod generate;
mod plan;
mod rates;
mod read;
mod render;
mod score;
mod sink;
mod text;
mod truth;
mod truth_summary;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use error::RefdataError;
pub use generate::{
    generate, generate_with_part_rows, generate_with_rates, GenerateReport, GeneratedFile,
    MAX_INSTRUCTIONS, MAX_ROWS_PER_PART,
};
pub use rates::{Rates, PER_MILLION};
pub use score::{score, FlagScore, ScoreCheck, ScoreReport};

/// File format of the generated input files (the truth is always Parquet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Parquet,
    Csv,
    /// Arrow IPC file.
    Arrow,
}

impl Format {
    /// File name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
            Format::Arrow => "arrow",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.extension())
    }
}

impl std::str::FromStr for Format {
    type Err = RefdataError;

    fn from_str(s: &str) -> Result<Format, RefdataError> {
        match s {
            "parquet" => Ok(Format::Parquet),
            "csv" => Ok(Format::Csv),
            "arrow" => Ok(Format::Arrow),
            other => Err(RefdataError::BadArgument(format!(
                "unknown format {other:?}: use parquet, csv or arrow"
            ))),
        }
    }
}

/// Settings of [`generate`].
#[derive(Clone, Debug)]
pub struct GenerateConfig {
    /// Instruction rows to write, rejected rows included.
    pub instructions: u64,
    /// Folder to create (must not exist, or be empty).
    pub out: PathBuf,
    /// Same seed, same bytes.
    pub seed: u64,
    pub format: Format,
    /// `default`, `clean` (nothing planted) or `messy` (four times the default rates).
    pub profile: String,
    /// `NAME=VALUE` rate settings applied over the profile's rates, in order
    /// ([`Rates::set`]: parts per million, or a percentage).
    pub rates: Vec<String>,
}
