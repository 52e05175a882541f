//! The issuing ledger: an SQLite database (rusqlite, bundled library) that records every
//! instruction id ever issued, so that no id is issued twice, and every run with its
//! files, so that a run interrupted after its ledger commit can be completed.
//!
//! Protocol of a run (docs/DISBURSE.md, "Crash safety"):
//! 1. every output is written into the run's output set (a staging folder beside the
//!    output folder) and fsynced;
//! 2. one transaction inserts all issued ids (PRIMARY KEY: a second issue of an id is
//!    impossible; this starts on its own thread while step 1 runs), then the run (state
//!    `pending`, with its staging folder) and its files (name, SHA-256);
//! 3. the transaction commits: from here the ids are issued;
//! 4. the set is swapped into place, then the run is marked `committed`.
//!
//! A failure before 3 rolls back (SQLite) and removes the staging folder. A kill between
//! 3 and 4 leaves a `pending` run: the next run on this ledger finds it and publishes its
//! staging folder, checking every file's SHA-256 against the ledger first.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use sverka_engine::{Error, Result};

pub struct Ledger {
    pub path: PathBuf,
    conn: Connection,
}

/// What the ledger knows about an issued id.
#[derive(Debug, Clone)]
pub struct Issued {
    pub run_id: std::sync::Arc<str>,
    /// In minor units of `currency`.
    pub amount_minor: i64,
    pub currency: String,
}

/// A file of a run as the ledger records it.
#[derive(Debug, Clone)]
pub struct RunFile {
    pub name: String,
    pub tmp_name: String,
    pub sha256: String,
}

/// A run whose ids are issued but whose files may not all be in place.
#[derive(Debug, Clone)]
pub struct PendingRun {
    pub run_id: String,
    pub out_dir: PathBuf,
    pub files: Vec<RunFile>,
    /// The staging folder of its output set; `None` for a run of a sverka before output
    /// sets, whose files wait under `tmp_name` in `out_dir`.
    pub stage: Option<PathBuf>,
}

/// One id to record.
pub struct NewIssue<'a> {
    pub instruction_id: &'a str,
    pub original_instruction_id: Option<&'a str>,
    pub attempt: u32,
    pub amount_minor: i64,
    pub currency: &'a str,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    run_no INTEGER NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('pending', 'committed')),
    out_dir TEXT NOT NULL,
    execution_date TEXT NOT NULL,
    issued INTEGER NOT NULL,
    manifest_sha256 TEXT NOT NULL,
    recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    -- The run's staging folder (NULL: a run of a sverka before output sets).
    stage TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run_files (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    name TEXT NOT NULL,
    tmp_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cycles (
    program TEXT NOT NULL,
    cycle TEXT NOT NULL,
    issued INTEGER NOT NULL,
    PRIMARY KEY (program, cycle)
) WITHOUT ROWID;
-- One row per issued id, kept small (millions per cycle): beneficiary, programme, cycle,
-- provider, account and payment file of each id are in its run's instructions.parquet,
-- whose SHA-256 is in run_files.
CREATE TABLE IF NOT EXISTS issued (
    instruction_id TEXT PRIMARY KEY,
    run_no INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    original_instruction_id TEXT
) WITHOUT ROWID;
";

const LEDGER_VERSION: &str = "1";

/// Ledgers made before output sets have no `runs.stage`: it is added (NULL for their
/// runs), which older sverkas still read (they name their columns).
fn add_stage_column(conn: &Connection) -> rusqlite::Result<()> {
    let has: bool = conn.query_row(
        "SELECT count(*) FROM pragma_table_info('runs') WHERE name = 'stage'",
        [],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if !has {
        conn.execute_batch("ALTER TABLE runs ADD COLUMN stage TEXT")?;
    }
    Ok(())
}

fn db_err(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |e| Error::Output {
        path: path.to_path_buf(),
        message: format!("ledger: {e}"),
    }
}

impl Ledger {
    /// Opens (or creates) the ledger. A file that is not a sverka ledger is refused.
    pub fn open(path: &Path) -> Result<Ledger> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !parent.is_dir() {
                return Err(Error::input(
                    path,
                    "the ledger's folder does not exist; create it or name another --ledger",
                ));
            }
        }
        let conn = Connection::open(path)
            .map_err(|e| Error::input(path, format!("cannot open the ledger: {e}")))?;
        let not_ledger = |e: rusqlite::Error| {
            Error::input(
                path,
                format!("is not a usable sverka ledger ({e}); name the ledger file of earlier runs, or a new file"),
            )
        };
        // DELETE journal (one file beside the ledger, nothing left after a clean close);
        // synchronous=FULL: the commit that issues ids must survive a power cut.
        // cache_size: a run inserts millions of keys; 256 MiB keeps the B-tree pages it
        // touches in memory (BENCHMARKS.md).
        conn.execute_batch(
            "PRAGMA journal_mode = DELETE; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
             PRAGMA cache_size = -262144; PRAGMA page_size = 16384;",
        )
        .map_err(not_ledger)?;
        conn.execute_batch(SCHEMA).map_err(not_ledger)?;
        add_stage_column(&conn).map_err(not_ledger)?;
        let version: Option<String> = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'ledger_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(not_ledger)?;
        match version.as_deref() {
            None => {
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('ledger_version', ?1)",
                    [LEDGER_VERSION],
                )
                .map_err(db_err(path))?;
            }
            Some(LEDGER_VERSION) => {}
            Some(v) => {
                return Err(Error::input(
                    path,
                    format!(
                    "ledger version {v} is not supported by this sverka (version {LEDGER_VERSION})"
                ),
                ))
            }
        }
        Ok(Ledger {
            path: path.to_path_buf(),
            conn,
        })
    }

    pub fn issued_count(&self) -> Result<u64> {
        self.conn
            .query_row("SELECT count(*) FROM issued", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(db_err(&self.path))
    }

    /// Looks up many ids at once; returns, per id, what was issued (in the same order).
    /// The ids are visited in key order: when they are many compared with the ledger,
    /// one ordered scan of `issued` merged with them (no per-id query); otherwise one
    /// point query each, in key order (B-tree pages stay in the cache).
    pub fn lookup(&self, ids: &[&str]) -> Result<Vec<Option<Issued>>> {
        let e = db_err(&self.path);
        let runs: std::collections::HashMap<i64, std::sync::Arc<str>> = {
            let mut stmt = self
                .conn
                .prepare("SELECT run_no, run_id FROM runs")
                .map_err(&e)?;
            let rows: Vec<(i64, String)> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(|rows| rows.collect())
                .map_err(&e)?;
            rows.into_iter().map(|(n, id)| (n, id.into())).collect()
        };
        let total: i64 = self
            .conn
            .query_row("SELECT coalesce(sum(issued), 0) FROM cycles", [], |r| {
                r.get(0)
            })
            .map_err(&e)?;
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_unstable_by_key(|&k| ids[k]);
        let mut out: Vec<Option<Issued>> = (0..ids.len()).map(|_| None).collect();
        let issued = |run_no: i64, amount_minor: i64, currency: String| -> Result<Issued> {
            Ok(Issued {
                run_id: runs.get(&run_no).cloned().ok_or_else(|| {
                    Error::Internal(format!("ledger: issued id of unknown run {run_no}"))
                })?,
                amount_minor,
                currency,
            })
        };
        if ids.len() as i64 * 8 >= total {
            let mut stmt = self
                .conn
                .prepare(
                    "SELECT instruction_id, run_no, amount_minor, currency FROM issued ORDER BY instruction_id",
                )
                .map_err(&e)?;
            let mut rows = stmt.query([]).map_err(&e)?;
            let mut k = 0;
            while let Some(row) = rows.next().map_err(&e)? {
                if k == order.len() {
                    break;
                }
                let id = row
                    .get_ref(0)
                    .map_err(&e)?
                    .as_str()
                    .map_err(|x| e(x.into()))?;
                while k < order.len() && ids[order[k]] < id {
                    k += 1;
                }
                while k < order.len() && ids[order[k]] == id {
                    out[order[k]] = Some(issued(
                        row.get(1).map_err(&e)?,
                        row.get(2).map_err(&e)?,
                        row.get(3).map_err(&e)?,
                    )?);
                    k += 1;
                }
            }
        } else {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT run_no, amount_minor, currency FROM issued WHERE instruction_id = ?1",
                )
                .map_err(&e)?;
            for &k in &order {
                let row: Option<(i64, i64, String)> = stmt
                    .query_row([ids[k]], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .optional()
                    .map_err(&e)?;
                if let Some((n, a, c)) = row {
                    out[k] = Some(issued(n, a, c)?);
                }
            }
        }
        Ok(out)
    }

    /// The (programme, cycle) pairs with at least one issued id: rows of any other pair
    /// cannot be issued yet, and need no lookup (a new cycle's payroll skips them all).
    pub fn cycles(&self) -> Result<std::collections::BTreeSet<(String, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT program, cycle FROM cycles")
            .map_err(db_err(&self.path))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .map_err(db_err(&self.path));
        rows
    }

    pub fn pending_runs(&self) -> Result<Vec<PendingRun>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT run_id, out_dir, stage FROM runs WHERE state = 'pending' ORDER BY run_id",
            )
            .map_err(db_err(&self.path))?;
        let runs: Vec<(String, String, Option<String>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .and_then(|rows| rows.collect())
            .map_err(db_err(&self.path))?;
        let mut out = Vec::new();
        for (run_id, dir, stage) in runs {
            let mut fs = self
                .conn
                .prepare(
                    "SELECT name, tmp_name, sha256 FROM run_files WHERE run_id = ?1 ORDER BY name",
                )
                .map_err(db_err(&self.path))?;
            let files = fs
                .query_map([&run_id], |r| {
                    Ok(RunFile {
                        name: r.get(0)?,
                        tmp_name: r.get(1)?,
                        sha256: r.get(2)?,
                    })
                })
                .and_then(|rows| rows.collect())
                .map_err(db_err(&self.path))?;
            out.push(PendingRun {
                run_id,
                out_dir: PathBuf::from(dir),
                files,
                stage: stage.map(PathBuf::from),
            });
        }
        Ok(out)
    }

    pub fn mark_committed(&self, run_id: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE runs SET state = 'committed' WHERE run_id = ?1",
                [run_id],
            )
            .map_err(db_err(&self.path))?;
        Ok(())
    }

    /// Starts the run's transaction (rolled back when dropped uncommitted).
    pub fn begin(&mut self) -> Result<RunTx<'_>> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db_err(&path))?;
        Ok(RunTx { tx, path })
    }
}

/// The one transaction of a run.
pub struct RunTx<'c> {
    tx: Transaction<'c>,
    path: PathBuf,
}

impl RunTx<'_> {
    #[allow(clippy::too_many_arguments)]
    pub fn record_run(
        &self,
        run_id: &str,
        run_no: i64,
        out_dir: &Path,
        execution_date: &str,
        issued: u64,
        manifest_sha256: &str,
        stage: &Path,
        files: &[RunFile],
    ) -> Result<()> {
        let e = db_err(&self.path);
        self.tx
            .execute(
                "INSERT INTO runs (run_id, run_no, state, out_dir, execution_date, issued, manifest_sha256, stage) \
                 VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?6, ?7)",
                params![run_id, run_no, out_dir.to_string_lossy(), execution_date, issued as i64, manifest_sha256, stage.to_string_lossy()],
            )
            .map_err(|err| match err {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                    Error::Internal(format!("run {run_id} is already in the ledger"))
                }
                other => e(other),
            })?;
        let mut stmt = self
            .tx
            .prepare(
                "INSERT INTO run_files (run_id, name, tmp_name, sha256) VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(&e)?;
        for f in files {
            stmt.execute(params![run_id, f.name, f.tmp_name, f.sha256])
                .map_err(&e)?;
        }
        Ok(())
    }

    /// The number the run being recorded gets (the transaction holds the write lock).
    pub fn next_run_no(&self) -> Result<i64> {
        self.tx
            .query_row("SELECT coalesce(max(run_no), 0) + 1 FROM runs", [], |r| {
                r.get(0)
            })
            .map_err(db_err(&self.path))
    }

    /// Inserts the issued ids under run number `run_no`; an id
    /// already in the ledger is an internal error (the run checked them all before).
    pub fn issue<'a>(&self, run_no: i64, rows: impl Iterator<Item = NewIssue<'a>>) -> Result<u64> {
        let e = db_err(&self.path);
        let mut stmt = self
            .tx
            .prepare(
                "INSERT INTO issued (instruction_id, run_no, attempt, amount_minor, currency, original_instruction_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(&e)?;
        let mut n = 0u64;
        for r in rows {
            stmt.execute(params![
                r.instruction_id,
                run_no,
                r.attempt,
                r.amount_minor,
                r.currency,
                r.original_instruction_id
            ])
            .map_err(|err| match err {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    Error::Internal(format!(
                        "instruction {} is already issued (another run wrote the ledger at the same time?); nothing was issued",
                        r.instruction_id
                    ))
                }
                other => e(other),
            })?;
            n += 1;
        }
        Ok(n)
    }

    /// Adds a run's issued counts per (programme, cycle).
    pub fn add_cycles(
        &self,
        counts: &std::collections::BTreeMap<(String, String), i64>,
    ) -> Result<()> {
        let e = db_err(&self.path);
        let mut up = self
            .tx
            .prepare(
                "INSERT INTO cycles (program, cycle, issued) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (program, cycle) DO UPDATE SET issued = issued + excluded.issued",
            )
            .map_err(&e)?;
        for ((p, c), k) in counts {
            up.execute(params![p, c, k]).map_err(&e)?;
        }
        Ok(())
    }

    pub fn commit(self) -> Result<()> {
        self.tx.commit().map_err(db_err(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both lookup paths (ordered scan, point queries) find exactly the issued ids.
    #[test]
    fn lookup_paths_agree() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("l.db")).unwrap();
        let ids: Vec<String> = (0..40).map(|k| format!("SV1-{k:026}")).collect();
        {
            let tx = l.begin().unwrap();
            let no = tx.next_run_no().unwrap();
            let n = tx
                .issue(
                    no,
                    ids.iter().step_by(2).map(|id| NewIssue {
                        instruction_id: id,
                        original_instruction_id: None,
                        attempt: 1,
                        amount_minor: 100,
                        currency: "UZS",
                    }),
                )
                .unwrap();
            let mut counts = std::collections::BTreeMap::new();
            counts.insert(("P".to_string(), "C".to_string()), n as i64);
            tx.add_cycles(&counts).unwrap();
            tx.record_run("R1", no, dir.path(), "2026-11-04", n, "x", dir.path(), &[])
                .unwrap();
            tx.commit().unwrap();
        }
        let all: Vec<&str> = ids.iter().rev().map(|s| s.as_str()).collect();
        let scan = l.lookup(&all).unwrap();
        for (id, hit) in all.iter().zip(&scan) {
            let even = ids.iter().position(|x| x == id).unwrap() % 2 == 0;
            assert_eq!(hit.is_some(), even, "{id}");
        }
        // Few ids (2 x 8 < 20 issued): point queries.
        let hit_id = *all.iter().zip(&scan).find(|(_, h)| h.is_some()).unwrap().0;
        let few = [hit_id, "SV1-missing"];
        let point = l.lookup(&few).unwrap();
        assert!(point[0].is_some());
        assert!(point[1].is_none());
        let hit = point.iter().flatten().next().unwrap();
        assert_eq!(
            (&*hit.run_id, hit.amount_minor, hit.currency.as_str()),
            ("R1", 100, "UZS")
        );
    }
}
