//! sverka-disburse: from an approved payroll to provider payment files, never paying
//! anyone twice. See docs/DISBURSE.md for the rules and ARCHITECTURE.md for the map.
//!
//! The entry point is [`run::disburse`]. The payroll is validated with the engine's
//! instruction rules (`Side::Payroll`), rows that must not be paid are held with a
//! reason, the rest get deterministic instruction ids, payment files (CSV or
//! pain.001.001.09), `instructions.parquet` in the contract's format, and one SQLite
//! ledger transaction that makes issuing all-or-nothing.

pub mod accounts;
pub mod ids;
pub mod ledger;
pub mod payfile;
pub mod profiles;
pub mod retry;
pub mod run;

pub use run::{disburse, DisburseConfig, Hold, Outcome};
