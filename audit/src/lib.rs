//! sverka-audit: the auditor's view of a results folder (issue 6, docs/AUDIT.md).
//!
//! - [`manifest`]: `manifest.json`, the hashes of every input and output and of itself;
//! - [`report`]: `report.html`, one self-contained page built from the written outputs:
//!   `summary.json` and the row outputs (a run's batches as they are written; a folder's
//!   Parquet files for `sverka report DIR`), the same bytes either way;
//! - [`verify`]: `sverka verify`, which recomputes every hash and re-derives every count
//!   and total of `summary.json` from the Parquet rows, by code independent of the engine's
//!   own totals and self-check;
//! - [`worksheet`]: `sverka worksheet`, every open exception as a CSV row for a person to
//!   decide, in the columns `reconcile --decisions` reads back;
//! - [`openimis`]: `sverka openimis fill`, openIMIS's payroll CSV filled from a
//!   reconciliation (Paid and Receipt of the rows paid exactly) for upload back.
//!
//! [`AuditFinish`] plugs the report and manifest into the engine's all-or-nothing commit.

mod currency;
pub mod manifest;
pub mod openimis;
pub mod read;
pub mod report;
pub mod text;
pub mod verify;
pub mod worksheet;

use std::path::Path;

use arrow_array::RecordBatch;
use sverka_engine::outset::{OutputSet, Pending};
use sverka_engine::{Error, Finish, Output, Result, Rows, Summary};

pub const REPORT: &str = "report.html";
pub use sverka_engine::MANIFEST;

/// Adds `report.html` (unless skipped) and `manifest.json` to a reconciliation's outputs.
/// The report's figures are gathered from the batches as they are written (`observe`) and
/// its exception rows fetched from the run's own data: nothing is read back from disk.
/// One value per run.
pub struct AuditFinish {
    report: bool,
    observed: report::Observer,
}

impl AuditFinish {
    /// `report`: write `report.html` (`--no-report` clears it).
    pub fn new(report: bool) -> AuditFinish {
        AuditFinish {
            report,
            observed: report::Observer::default(),
        }
    }
}

impl Finish for AuditFinish {
    fn names(&self) -> Vec<String> {
        let mut v = Vec::new();
        if self.report {
            v.push(REPORT.to_string());
        }
        v.push(MANIFEST.to_string());
        v
    }

    fn observe(&self, output: Output, first_row: usize, batch: &RecordBatch) -> Result<()> {
        if !self.report {
            return Ok(());
        }
        self.observed
            .observe(output, first_row, batch)
            .map_err(|e| Error::Internal(format!("report: {e}")))
    }

    fn observe_decisions(&self, batch: &RecordBatch) -> Result<()> {
        if !self.report {
            return Ok(());
        }
        self.observed
            .observe_decisions(batch)
            .map_err(|e| Error::Internal(format!("report: {e}")))
    }

    fn finish(
        &self,
        set: &OutputSet,
        staged: &[Pending],
        summary: &Summary,
        rows: &Rows,
    ) -> Result<Vec<Pending>> {
        let mut extra = Vec::new();
        if self.report {
            let (figures, seen) = self
                .observed
                .take()
                .map_err(|e| Error::Internal(format!("report: {e}")))?;
            // Every written row, and no other, went into the figures.
            for (o, n) in Output::ALL.iter().zip(seen) {
                let name = format!("{}.parquet", o.name());
                let written = staged
                    .iter()
                    .find(|p| p.name() == name)
                    .and_then(|p| p.rows);
                if written != Some(n) {
                    return Err(Error::Internal(format!(
                        "report: {n} rows of {name} observed, {written:?} written"
                    )));
                }
            }
            let html = report::render(summary, figures, rows)?;
            extra.push(set.write_bytes(REPORT, html.as_bytes())?);
        }
        let all: Vec<&Pending> = staged.iter().chain(&extra).collect();
        let m = manifest::for_reconcile(summary, &all)?;
        extra.push(set.write_bytes(MANIFEST, &manifest::seal(m)?)?);
        Ok(extra)
    }
}

/// SHA-256 (hex) and size of a file, read in 1 MiB blocks.
pub fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    use sha2::Digest;
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex::encode(h.finalize())))
}

/// `v` minor units as exact decimal text with `minor` decimals (`900000.00`, `25000`).
/// The audit crate's own formatter: `verify` must not lean on the engine's code.
pub fn fmt_minor(v: i128, minor: u8) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    if minor == 0 {
        return format!("{sign}{a}");
    }
    let p = 10u128.pow(minor as u32);
    format!("{sign}{}.{:0w$}", a / p, a % p, w = minor as usize)
}

pub use currency::minor_units;
