//! Output sets: every file of a run appears in the output folder at once, or none does.
//!
//! A run writes its files into a fresh staging folder beside the output folder
//! (`.NAME.sverka-PID-NANOS`), then swaps the two folders with one atomic
//! `renameat2(RENAME_EXCHANGE)` (a plain rename when the output folder is new). Killed at
//! any instant, the output folder holds exactly the earlier complete set or exactly the
//! new one. Entries of the output folder that are not sverka's are carried into the new
//! set (hard links before the swap; anything that cannot be linked is moved after it).
//!
//! Each staging folder has a journal beside it (`.NAME.sverka-PID-NANOS.names`, the names
//! of the files sverka wrote or replaced), locked with `flock` while its writer lives: the
//! next run into the same folder clears the leftovers of a writer that is gone, and only
//! what the journal names as sverka's is ever removed; anything else is put back into the
//! output folder. Where the exchange is not available (not Linux, or a file system
//! without it), the old folder is renamed aside and the new one into place; a kill
//! between the two leaves no output folder, and the next run renames the old one back.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::fault;
pub use crate::outfile::Digest;

/// A file written into a staging folder, with what the manifest needs of it.
pub struct Pending {
    /// Where it is written (inside the staging folder).
    pub tmp: PathBuf,
    /// Where it will be once the set is committed.
    pub dest: PathBuf,
    /// Size and SHA-256 of the bytes written, taken while writing (for manifest.json);
    /// `None` until the file is finished.
    pub digest: Option<Digest>,
    /// Data rows of a row output (Parquet, CSV); `None` for JSON and HTML.
    pub rows: Option<u64>,
}

impl Pending {
    /// The file's name in the output folder.
    pub fn name(&self) -> String {
        self.dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// What becomes of the files of the set being replaced.
#[derive(Debug, Clone, Copy)]
pub enum Old<'a> {
    /// The new set replaces the old one: files the old `manifest.json` lists, files named
    /// in `known` (every name this kind of run can write) and sverka's own temporaries
    /// are dropped; everything else in the folder is carried over.
    Replace { known: &'a [&'a str] },
    /// The new files are added to the old set (`sverka report` rewriting `report.html`):
    /// every other entry is carried over.
    Keep,
}

/// A new set of output files on its way into `dest`. Dropped without [`OutputSet::commit`],
/// it removes what it wrote and leaves `dest` as it was.
pub struct OutputSet {
    dest: PathBuf,
    stage: PathBuf,
    journal_path: PathBuf,
    /// The journal, locked while this value lives; names are appended before each file
    /// is created.
    journal: Mutex<File>,
    committed: bool,
    /// A resumed set's staging folder is someone's record (disburse's ledger names it):
    /// dropped uncommitted, it stays for the next attempt.
    keep_uncommitted: bool,
}

const JOURNAL_HEADER: &str = "sverka output set 1\n";

impl OutputSet {
    /// Prepares a new set for the folder `dest` (created at commit if missing): checks it,
    /// clears leftovers of killed runs into it, and makes the staging folder beside it.
    pub fn begin(dest: &Path) -> Result<OutputSet> {
        let dest = resolve(dest)?;
        let parent = dest.parent().expect("resolved paths have a parent");
        let name = dest_name(&dest);
        clear_leftovers(&dest)?;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let stem = format!(".{name}.sverka-{}-{stamp}", std::process::id());
        let stage = parent.join(&stem);
        let journal_path = parent.join(format!("{stem}.names"));
        let out_err = |path: &Path, e: std::io::Error| {
            Error::Output {
            path: path.to_path_buf(),
            message: format!(
                "{e} (sverka writes a new output set beside {} and swaps it in: its parent folder must be writable)",
                dest.display()
            ),
        }
        };
        let mut journal = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&journal_path)
            .map_err(|e| out_err(&journal_path, e))?;
        if !try_lock(&journal) {
            return Err(Error::Internal(format!(
                "{}: a new journal is locked by someone else",
                journal_path.display()
            )));
        }
        journal
            .write_all(JOURNAL_HEADER.as_bytes())
            .map_err(|e| out_err(&journal_path, e))?;
        let set = OutputSet {
            dest: dest.clone(),
            stage: stage.clone(),
            journal_path,
            journal: Mutex::new(journal),
            committed: false,
            keep_uncommitted: false,
        };
        std::fs::create_dir(&stage).map_err(|e| out_err(&stage, e))?;
        Ok(set)
    }

    /// Adopts the staging folder `stage` of a writer into `dest` that is gone, for
    /// [`OutputSet::commit`]: for a caller that recorded the folder before its writer was
    /// killed (disburse's ledger). Call it before any [`OutputSet::begin`] on `dest`,
    /// which would clear the folder. Dropped uncommitted, the set leaves the staging
    /// folder as it is.
    pub fn resume(dest: &Path, stage: &Path) -> Result<OutputSet> {
        let dest = resolve(dest)?;
        let parent = dest.parent().expect("resolved paths have a parent");
        let prefix = format!(".{}.sverka-", dest_name(&dest));
        let ours = stage.parent() == Some(parent)
            && stage
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&prefix));
        if !ours || !stage.is_dir() {
            return Err(Error::Internal(format!(
                "{}: not a staging folder of {}",
                stage.display(),
                dest.display()
            )));
        }
        let journal_path = PathBuf::from(format!("{}.names", stage.display()));
        let io = |e: std::io::Error| Error::Output {
            path: journal_path.clone(),
            message: e.to_string(),
        };
        let mut journal = OpenOptions::new()
            .append(true)
            .create(true)
            .open(&journal_path)
            .map_err(io)?;
        if !try_lock(&journal) {
            return Err(Error::Output {
                path: stage.to_path_buf(),
                message: "another sverka is writing this set".into(),
            });
        }
        if journal.metadata().map_err(io)?.len() == 0 {
            journal.write_all(JOURNAL_HEADER.as_bytes()).map_err(io)?;
        }
        let aside = aside_of(stage);
        if !dest.exists() && aside.is_dir() {
            // Killed between the fallback's two renames: the old set goes back first.
            std::fs::rename(&aside, &dest).map_err(|e| Error::Output {
                path: dest.clone(),
                message: e.to_string(),
            })?;
        }
        Ok(OutputSet {
            dest,
            stage: stage.to_path_buf(),
            journal_path,
            journal: Mutex::new(journal),
            committed: false,
            keep_uncommitted: true,
        })
    }

    /// The staging folder the files are written into.
    pub fn dir(&self) -> &Path {
        &self.stage
    }

    /// The output folder the set is for.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Creates `name` in the staging folder (create-new: never through a planted link).
    pub fn create(&self, name: &str) -> Result<(Pending, File)> {
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(Error::Internal(format!("output name {name:?}")));
        }
        self.note(name)?;
        let tmp = self.stage.join(name);
        let f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| Error::Output {
                path: tmp.clone(),
                message: e.to_string(),
            })?;
        fault::point("set:created");
        Ok((
            Pending {
                tmp,
                dest: self.dest.join(name),
                digest: None,
                rows: None,
            },
            f,
        ))
    }

    /// Writes a small file whole (JSON, HTML): created, written, synced, digested.
    pub fn write_bytes(&self, name: &str, bytes: &[u8]) -> Result<Pending> {
        use sha2::Digest as _;
        let (mut pending, mut file) = self.create(name)?;
        pending.digest = Some(Digest {
            size: bytes.len() as u64,
            sha256: hex::encode(sha2::Sha256::digest(bytes)),
        });
        file.write_all(bytes)
            .and_then(|_| file.sync_all())
            .map_err(|e| Error::Output {
                path: pending.tmp.clone(),
                message: e.to_string(),
            })?;
        Ok(pending)
    }

    /// Records a name as sverka's in the journal (before the file exists).
    fn note(&self, name: &str) -> Result<()> {
        let mut j = self.journal.lock().unwrap_or_else(|p| p.into_inner());
        j.write_all(format!("{name}\n").as_bytes())
            .map_err(|e| Error::Output {
                path: self.journal_path.clone(),
                message: e.to_string(),
            })
    }

    /// Publishes the set: carries the folder's other entries over, swaps the staging
    /// folder in, and clears the replaced set. Returns notes for the operator (entries it
    /// could not put back), which are rare and never errors: the new set is in place.
    pub fn commit(mut self, old: Old) -> Result<Vec<String>> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |e: std::io::Error| Error::Output {
                path,
                message: e.to_string(),
            }
        };
        let exists = match std::fs::symlink_metadata(&self.dest) {
            Ok(m) if m.is_dir() => true,
            Ok(_) => {
                return Err(Error::Usage(format!(
                    "--out {}: exists and is not a directory; name a directory for the outputs",
                    self.dest.display()
                )))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(io(&self.dest)(e)),
        };
        if exists {
            self.carry(old)?;
        }
        {
            let j = self.journal.lock().unwrap_or_else(|p| p.into_inner());
            j.sync_all().map_err(io(&self.journal_path))?;
        }
        sync_dir(&self.stage).map_err(io(&self.stage))?;
        fault::point("set:before-swap");
        if exists {
            swap(&self.stage, &self.dest).map_err(io(&self.dest))?;
        } else {
            std::fs::rename(&self.stage, &self.dest).map_err(io(&self.dest))?;
        }
        self.committed = true;
        fault::point("set:after-swap");
        let parent = self.dest.parent().expect("resolved");
        sync_dir(parent).map_err(io(parent))?;
        // The staging path now holds the replaced set (or nothing).
        let mut notes = Vec::new();
        if exists {
            clean(
                &self.stage,
                &self.dest,
                &journal_names(&self.journal_path),
                &mut notes,
            );
        }
        let _ = std::fs::remove_file(&self.journal_path);
        Ok(notes)
    }

    /// Links every entry of the output folder that is not being replaced into the staging
    /// folder, and writes the names being dropped into the journal.
    fn carry(&self, old: Old) -> Result<()> {
        let listed = match old {
            Old::Replace { .. } => manifest_outputs(&self.dest),
            Old::Keep => Vec::new(),
        };
        let entries = std::fs::read_dir(&self.dest).map_err(|e| Error::Output {
            path: self.dest.clone(),
            message: e.to_string(),
        })?;
        for e in entries {
            let e = e.map_err(|e| Error::Output {
                path: self.dest.clone(),
                message: e.to_string(),
            })?;
            let name = e.file_name().to_string_lossy().into_owned();
            if self.stage.join(&name).symlink_metadata().is_ok() {
                continue; // replaced by the new set (its name is in the journal already)
            }
            let dropped = match old {
                Old::Replace { known } => {
                    known.contains(&name.as_str())
                        || listed.contains(&name)
                        || legacy_temporary(&name)
                }
                Old::Keep => false,
            };
            if dropped {
                self.note(&name)?;
                continue;
            }
            // A directory, or an entry that cannot be linked, stays; the clean-up after
            // the swap moves it into the new set.
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            if !is_dir {
                let _ = std::fs::hard_link(e.path(), self.stage.join(&name));
            }
            fault::point("set:carried");
        }
        Ok(())
    }
}

impl Drop for OutputSet {
    fn drop(&mut self) {
        if !self.committed && !self.keep_uncommitted {
            let mut notes = Vec::new();
            clean(
                &self.stage,
                &self.dest,
                &journal_names(&self.journal_path),
                &mut notes,
            );
            let _ = std::fs::remove_file(&self.journal_path);
        }
    }
}

/// `dest` as an absolute path whose parent exists, with symbolic links resolved (the set
/// replaces the folder a link points to, not the link).
fn resolve(dest: &Path) -> Result<PathBuf> {
    let usage = || {
        Error::Usage(format!(
            "--out {}: name a directory for the outputs",
            dest.display()
        ))
    };
    if dest.exists() {
        if !dest.is_dir() {
            return Err(Error::Usage(format!(
                "--out {}: exists and is not a directory; name a directory for the outputs",
                dest.display()
            )));
        }
        let real = dest.canonicalize().map_err(|e| Error::Output {
            path: dest.to_path_buf(),
            message: e.to_string(),
        })?;
        return match real.parent() {
            Some(_) => Ok(real),
            None => Err(usage()),
        };
    }
    let name = dest.file_name().ok_or_else(usage)?;
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| Error::Output {
        path: parent.clone(),
        message: e.to_string(),
    })?;
    let parent = parent.canonicalize().map_err(|e| Error::Output {
        path: parent.clone(),
        message: e.to_string(),
    })?;
    Ok(parent.join(name))
}

fn dest_name(dest: &Path) -> String {
    dest.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Clears what killed runs into `dest` left beside it: staging folders and journals of
/// writers that are gone, and an old set renamed aside by the fallback swap.
fn clear_leftovers(dest: &Path) -> Result<()> {
    let parent = dest.parent().expect("resolved");
    let prefix = format!(".{}.sverka-", dest_name(dest));
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Ok(());
    };
    let mut journals = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(".names"))
        {
            journals.push(parent.join(format!("{prefix}{stem}")));
        }
    }
    journals.sort();
    for stage in journals {
        let journal_path = PathBuf::from(format!("{}.names", stage.display()));
        let Ok(journal) = File::open(&journal_path) else {
            continue;
        };
        if !try_lock(&journal) {
            continue; // its writer is still running
        }
        let aside = aside_of(&stage);
        if !dest.exists() && aside.is_dir() {
            // Killed between the fallback's two renames: the old set goes back.
            std::fs::rename(&aside, dest).map_err(|e| Error::Output {
                path: dest.to_path_buf(),
                message: e.to_string(),
            })?;
        }
        let names = journal_names(&journal_path);
        let mut notes = Vec::new();
        for dir in [&stage, &aside] {
            if dir.is_dir() {
                clean(dir, dest, &names, &mut notes);
            }
        }
        fault::point("set:cleared-leftover");
        let _ = std::fs::remove_file(&journal_path);
    }
    Ok(())
}

/// Where the fallback swap puts the old set for a moment.
fn aside_of(stage: &Path) -> PathBuf {
    PathBuf::from(format!("{}.old", stage.display()))
}

fn journal_names(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect()
}

/// Empties a staging (or replaced-set) folder `dir` and removes it: files the journal
/// names are sverka's and are removed; an entry that is also in `dest` (a carried link)
/// is removed; anything else is moved back into `dest`, or left with a note.
fn clean(dir: &Path, dest: &Path, names: &[String], notes: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        let is_file = e.file_type().is_ok_and(|t| !t.is_dir());
        let ours = is_file && names.contains(&name);
        let there = dest.join(&name);
        if ours || same_file(&path, &there) {
            let _ = std::fs::remove_file(&path);
        } else if there.symlink_metadata().is_err() && std::fs::rename(&path, &there).is_ok() {
        } else {
            notes.push(format!(
                "{} was left in {} (not sverka's, and {} has an entry of that name)",
                name,
                dir.display(),
                dest.display()
            ));
        }
        fault::point("set:cleaned");
    }
    if std::fs::remove_dir(dir).is_err() && dir.exists() {
        notes.push(format!(
            "{} could not be removed: move what it holds, then remove it",
            dir.display()
        ));
    }
}

#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (a.symlink_metadata(), b.symlink_metadata()) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &Path, _: &Path) -> bool {
    false
}

/// The output names an existing `manifest.json` lists (any kind of run).
fn manifest_outputs(dir: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(dir.join("manifest.json")) else {
        return Vec::new();
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    v["outputs"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|o| o["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `.NAME.tmp-PID`: what sverka versions before output sets left behind when killed.
fn legacy_temporary(name: &str) -> bool {
    name.starts_with('.')
        && name
            .rsplit_once(".tmp-")
            .is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(unix)]
fn try_lock(f: &File) -> bool {
    use rustix::fs::{flock, FlockOperation};
    flock(f, FlockOperation::NonBlockingLockExclusive).is_ok()
}

/// Without `flock`, a journal is taken as abandoned only by the run that finds it; two
/// runs into one folder at once must then be kept apart by the operator.
#[cfg(not(unix))]
fn try_lock(_: &File) -> bool {
    true
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Swaps the staging folder and the output folder in one step where the system can.
fn swap(stage: &Path, dest: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    if !fault::active("set:no-exchange") {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        match renameat_with(CWD, stage, CWD, dest, RenameFlags::EXCHANGE) {
            Ok(()) => return Ok(()),
            Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {}
            Err(e) => return Err(e.into()),
        }
    }
    // Two renames: a kill between them leaves the old set aside, renamed back by the
    // next run (`clear_leftovers`).
    let aside = aside_of(stage);
    std::fs::rename(dest, &aside)?;
    fault::point("set:aside");
    std::fs::rename(stage, dest)?;
    std::fs::rename(&aside, stage)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// What a writer into `parent/out` killed before its swap leaves: a staging folder
    /// holding a new `a.json`, and its journal, unlocked.
    fn dead_writer(parent: &Path) -> PathBuf {
        let stage = parent.join(".out.sverka-1-1");
        std::fs::create_dir(&stage).unwrap();
        std::fs::write(stage.join("a.json"), "new").unwrap();
        std::fs::write(
            parent.join(".out.sverka-1-1.names"),
            format!("{JOURNAL_HEADER}a.json\n"),
        )
        .unwrap();
        stage
    }

    fn set_of(dest: &Path, files: &[(&str, &str)]) -> OutputSet {
        let set = OutputSet::begin(dest).unwrap();
        for (n, body) in files {
            set.write_bytes(n, body.as_bytes()).unwrap();
        }
        set
    }

    #[test]
    fn a_new_folder_gets_the_set_and_nothing_is_left_beside_it() {
        let t = tempfile::tempdir().unwrap();
        let dest = t.path().join("out");
        set_of(&dest, &[("a.json", "1"), ("manifest.json", "{}")])
            .commit(Old::Replace { known: &[] })
            .unwrap();
        assert_eq!(names(&dest), ["a.json", "manifest.json"]);
        assert_eq!(names(t.path()), ["out"]);
    }

    #[test]
    fn a_replaced_set_goes_whole_and_foreign_entries_stay() {
        let t = tempfile::tempdir().unwrap();
        let dest = t.path().join("out");
        set_of(
            &dest,
            &[
                ("a.json", "old"),
                ("old.csv", "x"),
                (
                    "manifest.json",
                    r#"{"outputs":[{"name":"a.json"},{"name":"old.csv"}]}"#,
                ),
            ],
        )
        .commit(Old::Replace { known: &[] })
        .unwrap();
        std::fs::write(dest.join("notes.txt"), "mine").unwrap();
        std::fs::create_dir(dest.join("sub")).unwrap();
        std::fs::write(dest.join("sub/x"), "mine too").unwrap();
        std::fs::write(dest.join(".r.tmp-99999999"), "left by an old version").unwrap();
        let notes = set_of(&dest, &[("a.json", "new"), ("manifest.json", "{}")])
            .commit(Old::Replace {
                known: &["report.html"],
            })
            .unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(
            names(&dest),
            ["a.json", "manifest.json", "notes.txt", "sub"]
        );
        assert_eq!(std::fs::read_to_string(dest.join("a.json")).unwrap(), "new");
        assert_eq!(
            std::fs::read_to_string(dest.join("sub/x")).unwrap(),
            "mine too"
        );
        assert_eq!(names(t.path()), ["out"]);
    }

    #[test]
    fn keep_adds_to_the_old_set() {
        let t = tempfile::tempdir().unwrap();
        let dest = t.path().join("out");
        set_of(&dest, &[("a.json", "1"), ("report.html", "old")])
            .commit(Old::Keep)
            .unwrap();
        set_of(&dest, &[("report.html", "new")])
            .commit(Old::Keep)
            .unwrap();
        assert_eq!(names(&dest), ["a.json", "report.html"]);
        assert_eq!(
            std::fs::read_to_string(dest.join("report.html")).unwrap(),
            "new"
        );
    }

    #[test]
    fn a_dropped_set_leaves_the_folder_as_it_was() {
        let t = tempfile::tempdir().unwrap();
        let dest = t.path().join("out");
        set_of(&dest, &[("a.json", "1")]).commit(Old::Keep).unwrap();
        drop(set_of(&dest, &[("a.json", "2"), ("b.json", "3")]));
        assert_eq!(names(&dest), ["a.json"]);
        assert_eq!(std::fs::read_to_string(dest.join("a.json")).unwrap(), "1");
        assert_eq!(names(t.path()), ["out"]);
    }

    #[test]
    fn leftovers_of_a_gone_writer_are_cleared_and_a_live_ones_kept() {
        let t = tempfile::tempdir().unwrap();
        let dest = t.path().join("out");
        set_of(&dest, &[("a.json", "1")]).commit(Old::Keep).unwrap();
        // A writer that died: its journal and staging folder, no lock held.
        let stage = t.path().join(".out.sverka-1-1");
        std::fs::create_dir(&stage).unwrap();
        std::fs::write(stage.join("a.json"), "half").unwrap();
        std::fs::write(stage.join("theirs.txt"), "displaced").unwrap();
        std::fs::write(
            t.path().join(".out.sverka-1-1.names"),
            format!("{JOURNAL_HEADER}a.json\n"),
        )
        .unwrap();
        // A live one (this process holds its lock).
        let live = OutputSet::begin(&dest).unwrap();
        live.write_bytes("b.json", b"2").unwrap();
        let other = OutputSet::begin(&dest).unwrap();
        assert!(
            live.dir().join("b.json").exists(),
            "a live writer's files stay"
        );
        assert!(!stage.exists());
        assert_eq!(names(&dest), ["a.json", "theirs.txt"]);
        assert_eq!(std::fs::read_to_string(dest.join("a.json")).unwrap(), "1");
        drop(other);
        drop(live);
        assert_eq!(names(t.path()), ["out"]);
    }

    #[test]
    fn the_fallback_swap_is_undone_by_the_next_run_when_killed_between_its_renames() {
        let t = tempfile::tempdir().unwrap();
        let dest = t.path().join("out");
        set_of(&dest, &[("a.json", "old")])
            .commit(Old::Keep)
            .unwrap();
        // As a kill after the first rename would leave it.
        let stage = dead_writer(t.path());
        std::fs::rename(&dest, aside_of(&stage)).unwrap();
        drop(OutputSet::begin(&dest).unwrap());
        assert_eq!(std::fs::read_to_string(dest.join("a.json")).unwrap(), "old");
        assert_eq!(names(t.path()), ["out"]);
    }

    #[test]
    fn a_resumed_set_is_published_and_kept_when_dropped_uncommitted() {
        let t = tempfile::tempdir().unwrap();
        let dest = t.path().join("out");
        set_of(&dest, &[("a.json", "old"), ("gone.json", "x")])
            .commit(Old::Keep)
            .unwrap();
        let stage = dead_writer(t.path());
        drop(OutputSet::resume(&dest, &stage).unwrap());
        assert_eq!(names(&stage), ["a.json"], "kept for the next attempt");
        assert!(
            OutputSet::resume(&dest, &t.path().join("elsewhere")).is_err(),
            "only a staging folder of dest"
        );
        let set = OutputSet::resume(&dest, &stage).unwrap();
        assert!(
            OutputSet::resume(&dest, &stage).is_err(),
            "a live writer's set is not adopted twice"
        );
        set.commit(Old::Replace {
            known: &["gone.json"],
        })
        .unwrap();
        assert_eq!(names(&dest), ["a.json"]);
        assert_eq!(std::fs::read_to_string(dest.join("a.json")).unwrap(), "new");
        assert_eq!(names(t.path()), ["out"]);
    }

    #[test]
    fn a_resumed_set_restores_an_old_set_left_aside_first() {
        let t = tempfile::tempdir().unwrap();
        let dest = t.path().join("out");
        set_of(&dest, &[("mine.txt", "foreign")])
            .commit(Old::Keep)
            .unwrap();
        let stage = dead_writer(t.path());
        std::fs::rename(&dest, aside_of(&stage)).unwrap();
        OutputSet::resume(&dest, &stage)
            .unwrap()
            .commit(Old::Replace { known: &[] })
            .unwrap();
        assert_eq!(names(&dest), ["a.json", "mine.txt"]);
        assert_eq!(names(t.path()), ["out"]);
    }

    #[test]
    fn a_link_to_a_folder_is_followed() {
        let t = tempfile::tempdir().unwrap();
        let real = t.path().join("real");
        std::fs::create_dir(&real).unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&real, t.path().join("link")).unwrap();
            set_of(&t.path().join("link"), &[("a.json", "1")])
                .commit(Old::Keep)
                .unwrap();
            assert_eq!(names(&real), ["a.json"]);
            assert!(t
                .path()
                .join("link")
                .symlink_metadata()
                .unwrap()
                .is_symlink());
        }
    }
}
