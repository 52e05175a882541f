//! The commit protocol (docs/DISBURSE.md, "Crash safety"): the run's files are whole in
//! its output set's staging folder; one ledger transaction issues the ids and records the
//! run (`pending`), its files' SHA-256 and the staging folder; the set is swapped in; the
//! run is marked `committed`. A run killed between the ledger commit and the swap is
//! published by the next run on the ledger ([`complete_pending`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Sender};
use std::thread::JoinHandle;

use arrow_array::StringArray;
use rayon::prelude::*;
use sverka_audit::manifest::Manifest;
use sverka_engine::outset::{Old, OutputSet};
use sverka_engine::{currency, date, fault, panic_message, Error, Result};

use crate::ledger::{Ledger, NewIssue, PendingRun, RunFile};
use crate::outputs::{sha_file, Written};
use crate::view::View;

/// Every name a disburse run writes besides its payment files (which the old manifest
/// lists): what a new set replaces in its folder.
pub(crate) const KNOWN: &[&str] = &[
    "instructions.parquet",
    "holds.parquet",
    "holds.csv",
    "rejects.parquet",
    "rejects.csv",
    "recovery.parquet",
    "recovery.csv",
    "summary.json",
    "manifest.json",
];

/// Publishes the runs the ledger has issued but whose files may not be in place (a kill
/// between the ledger commit and the swap), after checking every file's SHA-256. Must run
/// before any [`OutputSet::begin`] on their folders, which would clear their staging
/// folders.
pub(crate) fn complete_pending(ledger: &Ledger, notes: &mut Vec<String>) -> Result<()> {
    for run in ledger.pending_runs()? {
        let put = if in_place(&run)? {
            0
        } else {
            check_staged(ledger, &run)?;
            match &run.stage {
                Some(stage) => {
                    let set = OutputSet::resume(&run.out_dir, stage)?;
                    set.commit(Old::Replace { known: KNOWN })?;
                    run.files.len()
                }
                None => legacy_renames(&run)?,
            }
        };
        ledger.mark_committed(&run.run_id)?;
        notes.push(format!(
            "completed interrupted run {} in {} ({put} files put in place)",
            run.run_id,
            run.out_dir.display(),
        ));
    }
    Ok(())
}

/// Whether the run's folder holds its manifest already (the swap happened).
fn in_place(run: &PendingRun) -> Result<bool> {
    match run.files.iter().find(|f| f.name == "manifest.json") {
        Some(m) => has(&run.out_dir.join(&m.name), &m.sha256),
        None => Ok(false),
    }
}

fn has(path: &Path, sha256: &str) -> Result<bool> {
    Ok(path.is_file() && sha_file(path)?.0 == sha256)
}

/// Where a file of the run waits: in its staging folder, or (a run of a sverka before
/// output sets) under its temporary name `.NAME.tmp-PID` in the folder.
fn staged(run: &PendingRun, f: &RunFile) -> PathBuf {
    match &run.stage {
        Some(stage) => stage.join(&f.name),
        None => run.out_dir.join(&f.tmp_name),
    }
}

/// Every file of the run must wait with its recorded SHA-256 (a legacy run's may be in
/// place already); else the error names the first that does not, manifest last.
fn check_staged(ledger: &Ledger, run: &PendingRun) -> Result<()> {
    let mut files: Vec<&RunFile> = run.files.iter().collect();
    files.sort_by_key(|f| (f.name == "manifest.json", f.name.clone()));
    for f in files {
        let legacy_in_place = run.stage.is_none() && has(&run.out_dir.join(&f.name), &f.sha256)?;
        if legacy_in_place || has(&staged(run, f), &f.sha256)? {
            continue;
        }
        return Err(Error::input(
            &ledger.path,
            format!(
                "run {} issued its instructions but was interrupted before its files were in place, and {} is missing or changed in {} (SHA-256 {} expected). Restore that folder, then run again: the ledger will not issue those instructions a second time",
                run.run_id,
                f.name,
                run.out_dir.display(),
                f.sha256
            ),
        ));
    }
    Ok(())
}

/// A legacy run's files renamed into place, manifest last (the old one removed first).
/// Returns how many were renamed.
fn legacy_renames(run: &PendingRun) -> Result<usize> {
    let mut files: Vec<&RunFile> = Vec::new();
    for f in &run.files {
        if !has(&run.out_dir.join(&f.name), &f.sha256)? {
            files.push(f);
        }
    }
    files.sort_by_key(|f| (f.name == "manifest.json", f.name.clone()));
    if !files.is_empty() {
        let _ = std::fs::remove_file(run.out_dir.join("manifest.json"));
    }
    for f in &files {
        let dest = run.out_dir.join(&f.name);
        std::fs::rename(staged(run, f), &dest).map_err(|e| Error::Output {
            path: dest.clone(),
            message: e.to_string(),
        })?;
    }
    Ok(files.len())
}

/// Whether `dir` already holds an earlier run's payment files (its manifest says so).
pub(crate) fn occupied(dir: &Path) -> Result<bool> {
    let path = dir.join("manifest.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(false);
    };
    let m: Manifest = serde_json::from_str(&text).map_err(|e| {
        Error::input(
            &path,
            format!("is not a readable manifest ({e}); choose an empty --out folder"),
        )
    })?;
    match m.kind.as_str() {
        "disburse" => Ok(m.outputs.iter().any(|f| f.provider.is_some())),
        other => Err(Error::input(
            &path,
            format!(
                "the folder holds the outputs of a {other} run; give disburse its own --out folder"
            ),
        )),
    }
}

/// What the ledger records of a run once its files are written.
struct Record {
    files: Vec<RunFile>,
    manifest_sha: String,
    stage: PathBuf,
}

/// The ledger transaction, run on its own thread while the files are written: it inserts
/// the ids, then waits for the run's [`Record`]. Dropped without [`LedgerTx::commit`] (the
/// run failed), it is rolled back.
pub(crate) struct LedgerTx {
    send: Option<Sender<Record>>,
    handle: Option<JoinHandle<(Ledger, Result<()>)>>,
}

impl LedgerTx {
    /// Starts inserting the issued rows' ids (`issued`, view positions) under `run_id`,
    /// for the run into `out_dir`.
    pub fn start(
        mut ledger: Ledger,
        view: &View,
        ids: &StringArray,
        issued: &[u32],
        run_id: &str,
        out_dir: &Path,
    ) -> LedgerTx {
        let mut order: Vec<u32> = issued.to_vec();
        // In key order: appends to the B-tree instead of random inserts.
        order.par_sort_unstable_by_key(|&i| ids.value(i as usize));
        let recs: Vec<(u32, u32, i64, &'static str, Option<String>)> = order
            .iter()
            .map(|&i| {
                let k = i as usize;
                (
                    i,
                    view.attempt[k],
                    view.amount(k) as i64,
                    currency::table().code(view.ccy(k)),
                    view.original(k).map(str::to_string),
                )
            })
            .collect();
        let mut cycles: BTreeMap<(String, String), i64> = BTreeMap::new();
        for &i in issued {
            let (p, c) = (view.program(i as usize), view.cycle(i as usize));
            *cycles.entry((p.to_string(), c.to_string())).or_default() += 1;
        }
        let ids = ids.clone();
        let (send, recv) = channel::<Record>();
        let (run_id, out_dir) = (run_id.to_string(), out_dir.to_path_buf());
        let date = date::date_string(view.execution_date);
        let handle = std::thread::spawn(move || {
            let r = (|| -> Result<()> {
                let tx = ledger.begin()?;
                let run_no = tx.next_run_no()?;
                let n = tx.issue(
                    run_no,
                    recs.iter().map(|r| NewIssue {
                        instruction_id: ids.value(r.0 as usize),
                        original_instruction_id: r.4.as_deref(),
                        attempt: r.1,
                        amount_minor: r.2,
                        currency: r.3,
                    }),
                )?;
                tx.add_cycles(&cycles)?;
                let rec = recv
                    .recv()
                    .map_err(|_| Error::Internal("run abandoned".into()))?;
                tx.record_run(
                    &run_id,
                    run_no,
                    &out_dir,
                    &date,
                    n,
                    &rec.manifest_sha,
                    &rec.stage,
                    &rec.files,
                )?;
                fault::point("disburse:before-ledger-commit");
                tx.commit()
            })();
            (ledger, r)
        });
        LedgerTx {
            send: Some(send),
            handle: Some(handle),
        }
    }

    /// Hands over the run's files and waits for the COMMIT: from its return the ids are
    /// issued.
    fn commit(mut self, rec: Record) -> Result<Ledger> {
        let _ = self.send.take().expect("once").send(rec);
        let handle = self.handle.take().expect("once");
        let (ledger, r) = handle
            .join()
            .map_err(|p| Error::Internal(format!("ledger thread: {}", panic_message(&p))))?;
        r.map(|()| ledger)
    }
}

impl Drop for LedgerTx {
    fn drop(&mut self) {
        drop(self.send.take());
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Commits the run: the ledger transaction (when something is issued), the swap, the run
/// marked committed. Returns the notes for the operator.
pub(crate) fn publish(
    set: OutputSet,
    tx: Option<LedgerTx>,
    written: &[Written],
    manifest_sha: String,
    run_id: &str,
) -> Result<Vec<String>> {
    let ledger = match tx {
        Some(tx) => {
            let files = written
                .iter()
                .map(|w| RunFile {
                    name: w.name.clone(),
                    tmp_name: w.name.clone(),
                    sha256: w.sha256.clone(),
                })
                .collect();
            let stage = set.dir().to_path_buf();
            let l = tx.commit(Record {
                files,
                manifest_sha,
                stage,
            })?;
            fault::point("disburse:after-ledger-commit");
            Some(l)
        }
        None => None,
    };
    let notes = set.commit(Old::Replace { known: KNOWN })?;
    if let Some(l) = ledger {
        l.mark_committed(run_id)?;
    }
    Ok(notes)
}
