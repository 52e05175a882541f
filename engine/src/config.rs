//! Resolved settings of a run. The CLI turns its arguments into these; the engine never
//! sees clap (STYLE.md 2).

use std::path::PathBuf;

use crate::error::{Error, Result};
pub use crate::ingest::ProviderOptions;
use crate::money;

/// A positive exact factor `num / 10^scale` (e.g. `3`, `2.5`), never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Factor {
    pub num: i128,
    pub scale: u8,
}

impl Factor {
    pub fn parse(s: &str) -> Result<Factor> {
        let a = money::parse_amount(s.trim())
            .filter(|a| a.is_positive() && a.frac_digits <= 4)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--outlier-factor {s:?}: give a positive number such as 3 or 2.5"
                ))
            })?;
        let scale = a.frac_digits as u8;
        Ok(Factor {
            num: a.to_minor(scale).expect("within scale"),
            scale,
        })
    }

    /// Whether `amount > factor * median`, exactly.
    pub fn exceeded(&self, amount: i128, median: i128) -> bool {
        amount * money::POW10[self.scale as usize] > self.num * median
    }
}

impl std::fmt::Display for Factor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&money::minor_string(self.num, self.scale))
    }
}

/// The contract's configurable values, with their defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    pub late_days: u32,
    pub fallback_days: u32,
    pub shared_account_min: u32,
    pub outlier_factor: Factor,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            late_days: 3,
            fallback_days: 7,
            shared_account_min: 4,
            outlier_factor: Factor { num: 3, scale: 0 },
        }
    }
}

/// Everything `reconcile` needs.
#[derive(Debug, Clone)]
pub struct ReconcileConfig {
    pub instructions: Vec<PathBuf>,
    pub settlements: Vec<PathBuf>,
    pub out: PathBuf,
    /// Also write CSV copies of the row outputs.
    pub csv: bool,
    pub settings: Settings,
    /// (v2) Who sent a provider file, and what a failed control check does (CONTRACT 7).
    pub providers: ProviderOptions,
    /// (v2) Decision files (CONTRACT 8); none: no decisions, and no `decisions.parquet`.
    pub decisions: Vec<PathBuf>,
}
