//! The ingestion layer's public items under their old paths ([`crate::ingest`]), for the
//! other crates until the engine's public API is narrowed.

pub use crate::ingest::{
    discover, is_null, panic_message, read_side, FileStats, Format, InputFile, RawBatch, RawCol,
    BATCH_ROWS, MAX_COLUMNS, MAX_FILES, MAX_RECORD_BYTES,
};
