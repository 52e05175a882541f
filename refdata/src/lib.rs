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
//! (text; pure) -> `layout` (which settlement file each row goes to) -> `emit` (rows into
//! files and truth, in file order; `statement` gathers provider files' statements) ->
//! `sink` (buffers, writer thread; IO; provider files formatted there by `render_camt`,
//! `render_pain`, `render_mt940` over `xml`) -> `generate` (control flow). `score` reads
//! truth and results (`read`) and compares by key.

// Amounts in minor units are written major_minor: 450_000_00 is 450,000.00 UZS.
#![allow(clippy::inconsistent_digit_grouping)]

mod catalog;
mod emit;
mod error;
mod generate;
mod layout;
mod plan;
mod rates;
mod read;
mod render;
mod render_camt;
mod render_mt940;
mod render_pain;
mod score;
mod sink;
mod statement;
mod text;
mod truth;
mod truth_summary;
mod xml;

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

/// File format of the settlement files: a table format, the files providers send
/// (CONTRACT.md section 7), or a mix of all of them by provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SettlementFormat {
    Parquet,
    Csv,
    Arrow,
    /// camt.053 statements (payments and returns), pain.002 for failures.
    Camt053,
    /// pain.002 status reports (payments and failures), camt.054 for returns.
    Pain002,
    /// MT940 statements (payments and returns), pain.002 for failures.
    Mt940,
    /// Each provider in one of parquet, csv, camt053, pain002, mt940 (a fixed choice).
    Mixed,
}

impl SettlementFormat {
    pub const NAMES: [&'static str; 7] = [
        "parquet", "csv", "arrow", "camt053", "pain002", "mt940", "mixed",
    ];

    pub fn name(self) -> &'static str {
        match self {
            SettlementFormat::Parquet => "parquet",
            SettlementFormat::Csv => "csv",
            SettlementFormat::Arrow => "arrow",
            SettlementFormat::Camt053 => "camt053",
            SettlementFormat::Pain002 => "pain002",
            SettlementFormat::Mt940 => "mt940",
            SettlementFormat::Mixed => "mixed",
        }
    }
}

impl From<Format> for SettlementFormat {
    fn from(f: Format) -> SettlementFormat {
        match f {
            Format::Parquet => SettlementFormat::Parquet,
            Format::Csv => SettlementFormat::Csv,
            Format::Arrow => SettlementFormat::Arrow,
        }
    }
}

impl std::fmt::Display for SettlementFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for SettlementFormat {
    type Err = RefdataError;

    fn from_str(s: &str) -> Result<SettlementFormat, RefdataError> {
        [
            SettlementFormat::Parquet,
            SettlementFormat::Csv,
            SettlementFormat::Arrow,
            SettlementFormat::Camt053,
            SettlementFormat::Pain002,
            SettlementFormat::Mt940,
            SettlementFormat::Mixed,
        ]
        .into_iter()
        .find(|f| f.name() == s)
        .ok_or_else(|| {
            RefdataError::BadArgument(format!(
                "unknown settlement format {s:?}: use {}",
                SettlementFormat::NAMES.join(", ")
            ))
        })
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
    /// Format of the instruction files, and of the settlement files unless
    /// `settlement_format` says otherwise.
    pub format: Format,
    /// Format of the settlement files; `None`: the same as `format`.
    pub settlement_format: Option<SettlementFormat>,
    /// `default`, `clean` (nothing planted) or `messy` (four times the default rates).
    pub profile: String,
    /// `NAME=VALUE` rate settings applied over the profile's rates, in order
    /// ([`Rates::set`]: parts per million, or a percentage).
    pub rates: Vec<String>,
}

impl GenerateConfig {
    /// The settlement files' format in effect.
    pub fn settlement_format(&self) -> SettlementFormat {
        self.settlement_format
            .unwrap_or_else(|| SettlementFormat::from(self.format))
    }
}
