//! sverka-disburse: from an approved payroll to provider payment files, never paying
//! anyone twice. See docs/DISBURSE.md for the rules and ARCHITECTURE.md for the map.
//!
//! The entry point is [`run::disburse`]. The payroll is validated with the engine's
//! instruction rules (`view::PAYROLL`, a custom side), rows that must not be paid are held with a
//! reason, the rest get deterministic instruction ids, payment files (CSV or
//! pain.001.001.09), `instructions.parquet` in the contract's format, and one SQLite
//! ledger transaction that makes issuing all-or-nothing; all files of a run are published
//! together as one output set.

pub mod accounts;
mod commit;
pub mod holds;
pub mod ids;
pub mod ledger;
mod outputs;
pub mod payfile;
mod plan;
pub mod profiles;
pub mod retry;
pub mod run;
mod summary;
mod view;

pub use run::{disburse, DisburseConfig, Hold, Outcome};
pub use summary::DisburseSummary;
