//! `sverka report RESULTS_DIR`: writes report.html from a results folder's outputs, the
//! same bytes a run writes (one code path, `sverka_audit::report`).

use sverka_engine::{write, Error};

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
    let dest = a.out.unwrap_or_else(|| a.dir.join(sverka_audit::REPORT));
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = dest
        .file_name()
        .ok_or_else(|| Error::Usage(format!("--out {}: name a file", dest.display())))?
        .to_string_lossy()
        .into_owned();
    // Temporary name, then rename: a reader never sees half a report.
    let p = write::write_bytes(&dir, &name, html.as_bytes())?;
    if let Err(e) = std::fs::rename(&p.tmp, &p.dest) {
        write::discard(&[p]);
        return Err(Error::Output {
            path: dest,
            message: e.to_string(),
        }
        .into());
    }
    eprintln!("sverka report: {}", dest.display());
    Ok(0)
}
