//! The truth's `summary.json` (`schemas/truth-summary.schema.json`) as one serde type:
//! what `generate` planted, in figures. Not the shape of a reconciliation's summary
//! (`sverka_engine::Summary`): it records the generator, seed, rates and files, its
//! totals have no returned or failed counts, and rejects by reason are `by_reason`.
//!
//! Field order is the file's key order; name-to-count maps keyed by status, flag or
//! method are alphabetical, rejects by reason and plantings keep their fixed order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sverka_engine::summary::{PerSide, Tally};

use crate::rates::Rates;
use crate::{Format, SettlementFormat};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TruthSummary {
    pub generator: Generator,
    pub seed: u64,
    pub profile: String,
    /// `--rate` settings; absent in data sets made before `--rate` (testdata/demo).
    #[serde(default)]
    pub rates_set: Vec<String>,
    pub format: Format,
    /// Absent in data sets made before `--settlement-format` (then the same as `format`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement_format: Option<SettlementFormat>,
    pub counts: TruthCounts,
    /// Per currency code with anything instructed, settled, returned or charged.
    pub totals: BTreeMap<String, TruthTotals>,
    pub files: Vec<TruthFile>,
    pub planted: Tally,
    pub rates: Rates,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generator {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TruthCounts {
    pub instructions_in: u64,
    pub instructions_accepted: u64,
    pub settlements_in: u64,
    pub settlements_accepted: u64,
    pub rejects: PerSide<u64>,
    pub by_status: BTreeMap<String, u64>,
    pub by_flag: BTreeMap<String, u64>,
    pub by_match: BTreeMap<String, u64>,
    /// In the generator's reason order; zero counts left out.
    pub by_reason: PerSide<Tally>,
}

/// Amounts are exact decimal text in the currency's minor units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TruthTotals {
    pub instructed_count: u64,
    pub instructed_amount: String,
    pub settled_count: u64,
    pub settled_amount: String,
    pub returned_amount: String,
    pub fees: String,
    pub unpaid_count: u64,
    pub unpaid_amount: String,
    pub unexpected_count: u64,
    pub unexpected_amount: String,
}

/// One generated input file, relative to the data set folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TruthFile {
    pub side: String,
    pub path: String,
    pub rows: u64,
}
