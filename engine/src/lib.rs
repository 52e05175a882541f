//! sverka-engine: reconciliation of payment instructions with provider settlements,
//! exactly as `shared/spec/CONTRACT.md` says. See ARCHITECTURE.md for the stages.
//!
//! This is the engine's front door (STYLE.md 21); the stages (ingest, validate, table,
//! dedupe, group, matching, classify, totals, write, verify, pipeline...) are private.
//!
//! - Running: [`reconcile`] / [`reconcile_with`] take a [`ReconcileConfig`] (the inputs'
//!   paths, the output folder and the [`Settings`], with their [`Factor`]) and return an
//!   [`Outcome`] (the typed [`Summary`], files written, per-stage timings) or an [`Error`].
//!   [`Progress`] reports stages to a terminal ([`Silent`]: nothing) and when freed memory
//!   may go back to the system ([`is_large`]: whether the inputs are large enough for it).
//! - Outputs made from the written ones (crate `sverka-audit`): [`Finish`], which reads
//!   written rows through [`Rows`] per [`Output`] and writes into the run's [`outset`].
//! - Names: [`OUTPUT_NAMES`] (every file a run may write), [`MANIFEST`], and
//!   [`fail_on_names`] (what `--fail-on` accepts); [`summary`] holds summary.json's types.
//! - [`side`]: reading and validating one side of columns the caller describes
//!   (disburse's payroll), and `rejects.parquet`'s batch of its rejects; with
//!   [`csv_bytes`] and [`ROW_GROUP_ROWS`], the row outputs' file forms; [`safe_text`],
//!   their guard of a text cell against spreadsheet formulas.
//! - [`money`], [`date`], [`currency`]: the contract's value grammar (CONTRACT.md
//!   section 2: amounts, dates, ISO 4217 codes and minor units), which disburse shares
//!   with validation; they are parsers and tables, not stages.
//! - [`providers`]: the providers file's statement accounts ([`ProviderOptions`]: who sent
//!   a bank statement, what a failed control check does; CONTRACT section 7).
//! - [`inspect`]: how settlement files are read, without reconciling (`sverka inspect`).
//! - [`outset`]: a set of output files published all or nothing (STYLE.md 24).
//! - [`DECISION_COLUMNS`]: a decision file's columns (CONTRACT section 8), which the audit's
//!   worksheet writes first.
//! - [`fault`]: the kill tests' hooks; [`panic_message`]: a caught panic's text.

mod classify;
mod column;
mod config;
pub mod currency;
pub mod date;
mod decisions;
mod dedupe;
mod error;
pub mod fault;
mod group;
mod ingest;
pub mod inspect;
mod matching;
pub mod money;
mod outfile;
pub mod outset;
mod parquet_out;
mod pipeline;
pub mod profiles;
pub mod providers;
mod schema;
pub mod side;
pub mod summary;
mod table;
mod totals;
mod validate;
mod verify;
#[cfg(test)]
mod vocabulary_tests;
mod write;

pub use config::{Factor, ProviderOptions, ReconcileConfig, Settings};
pub use decisions::COLUMNS as DECISION_COLUMNS;
pub use error::{Error, Result};
pub use ingest::panic_message;
pub use pipeline::{
    fail_on_names, is_large, reconcile, reconcile_with, Finish, Outcome, Progress, Rows, Silent,
    OUTPUT_NAMES,
};
pub use schema::Side;
pub use summary::Summary;
pub use write::{csv_bytes, safe_text, Output, MANIFEST, ROW_GROUP_ROWS};

/// The engine's version, as written into every output.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
