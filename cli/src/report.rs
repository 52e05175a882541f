//! `sverka report RESULTS_DIR`: writes report.html from a results folder's outputs, the
//! same bytes a run writes (one code path, `sverka_audit::report`).

use std::path::Path;

use sverka_engine::outset::{Old, OutputSet};
use sverka_engine::Error;

use crate::args::ReportArgs;
use crate::Failure;

pub fn run(a: ReportArgs) -> Result<u8, Failure> {
    if !a.dir.is_dir() {
        return Err(Error::input(
            &a.dir,
            "not a folder; give the output folder of `sverka reconcile`",
        )
        .into());
    }
    let html = sverka_audit::report::render_folder(&a.dir)?;
    let dest = match a.out {
        Some(file) => {
            write_file(&file, html.as_bytes())?;
            file
        }
        None => {
            // The folder's set gains the new report in one step; the rest is carried over.
            let set = OutputSet::begin(&a.dir)?;
            set.write_bytes(sverka_audit::REPORT, html.as_bytes())?;
            for note in set.commit(Old::Keep)? {
                eprintln!("sverka report: warning: {note}");
            }
            a.dir.join(sverka_audit::REPORT)
        }
    };
    eprintln!("sverka report: {}", dest.display());
    Ok(0)
}

/// A file written outside an output set (`report --out FILE`, `worksheet --out FILE`): a
/// temporary file beside it, synced, then one rename, so a reader never sees half of it.
pub(crate) fn write_file(dest: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    if dest.file_name().is_none() {
        return Err(Error::Usage(format!(
            "--out {}: name a file",
            dest.display()
        )));
    }
    let err = |path: &Path, e: std::io::Error| Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    // As `NamedTempFile::new_in`, but with the mode a plain create gets (0666 less the
    // umask) instead of 0600: the file is for others to read.
    let mut b = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = b.tempfile_in(&dir).map_err(|e| err(&dir, e))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| err(tmp.path(), e))?;
    tmp.persist(dest).map_err(|e| err(dest, e.error))?;
    Ok(())
}
