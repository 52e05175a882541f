//! Reading one side of rows whose columns the caller describes (disburse's payroll):
//! the ingestion layer's formats, the instruction rules of validation (CONTRACT.md
//! section 2), the rows joined into a read-only [`Table`], and its rejects as
//! `rejects.parquet` writes them. No de-duplication: a custom side has no ids.

use std::path::PathBuf;

use crate::error::{Error, Result};
pub use crate::ingest::{FileStats, Format, InputFile};
pub use crate::schema::{Columns, Field, Kind, Reason, Reject, Side};
pub use crate::table::Table;
pub use crate::write::{rejects_batch, rejects_schema};
use crate::{ingest, validate};

/// What reading a side gave: its files, each one's statistics, the accepted rows and
/// the rejected ones.
#[derive(Debug)]
pub struct Read {
    pub files: Vec<InputFile>,
    pub stats: Vec<FileStats>,
    pub table: Table,
    pub rejects: Vec<Reject>,
}

/// The files `paths` stand for: a file itself, a directory its `.csv`, `.parquet` and
/// `.arrow` files by name (CONTRACT.md section 1).
pub fn discover(side: Side, paths: &[PathBuf]) -> Result<Vec<InputFile>> {
    ingest::discover(side, paths)
}

/// [`discover`] and [`read`] in one.
pub fn read_paths(side: Side, paths: &[PathBuf]) -> Result<Read> {
    read(side, discover(side, paths)?)
}

/// Reads, validates and joins the files of `side` (none: an empty table).
pub fn read(side: Side, files: Vec<InputFile>) -> Result<Read> {
    let (chunks, stats) = ingest::read_side(&files, &Default::default(), &|b| {
        validate::validate(side, b)
    })?;
    let (table, rejects, rows_in) = Table::from_chunks(side, chunks, None)?;
    let counted: u64 = stats.iter().map(|s| s.rows).sum();
    if counted != rows_in {
        return Err(Error::Internal(format!(
            "{}: {counted} rows read but {rows_in} validated",
            side.as_str()
        )));
    }
    Ok(Read {
        files,
        stats,
        table,
        rejects,
    })
}
