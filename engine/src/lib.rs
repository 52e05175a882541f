//! sverka-engine: reconciliation of payment instructions with provider settlements,
//! exactly as `shared/spec/CONTRACT.md` says. See ARCHITECTURE.md for the stages.
//!
//! The entry point is [`pipeline::reconcile`].

pub mod classify;
pub mod column;
pub mod config;
pub mod currency;
pub mod date;
pub mod dedupe;
pub mod error;
pub mod fault;
pub mod group;
pub mod ingest;
pub mod load;
pub mod matching;
pub mod money;
pub mod outfile;
pub mod outset;
pub mod parquet_out;
pub mod pipeline;
pub mod schema;
pub mod summary;
pub mod table;
pub mod totals;
pub mod validate;
pub mod verify;
pub mod write;

pub use config::{Factor, ReconcileConfig, Settings};
pub use error::{Error, Result};
pub use pipeline::{reconcile, reconcile_with, Finish, Outcome, Progress};
pub use summary::Summary;

/// The engine's version, as written into every output.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
