//! `sverka report RESULTS_DIR`: writes report.html from a results folder's outputs, the
//! same bytes a run writes (one code path, `sverka_audit::report`).

use std::path::Path;

use sverka_engine::outset::{Old, OutputSet};
use sverka_engine::{write, Error};

use crate::args::ReportArgs;

pub fn run(a: ReportArgs) -> Result<u8, Error> {
    if !a.dir.is_dir() {
        return Err(Error::input(
            &a.dir,
            "not a folder; give the output folder of `sverka reconcile`",
        ));
    }
    let html = sverka_audit::report::render_folder(&a.dir)?;
    let dest = match a.out {
        Some(file) => {
            write_file(&file, &html)?;
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

/// A report written elsewhere (`--out FILE`): a temporary name, then one rename, so a
/// reader never sees half a report.
fn write_file(dest: &Path, html: &str) -> Result<(), Error> {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = dest
        .file_name()
        .ok_or_else(|| Error::Usage(format!("--out {}: name a file", dest.display())))?
        .to_string_lossy()
        .into_owned();
    let p = write::write_bytes(&dir, &name, html.as_bytes())?;
    std::fs::rename(&p.tmp, &p.dest).map_err(|e| {
        write::discard(&[p]);
        Error::Output {
            path: dest.to_path_buf(),
            message: e.to_string(),
        }
    })
}
