//! `sverka report RESULTS_DIR`: writes report.html from a results folder's outputs, the
//! same bytes a run writes (one code path, `sverka_audit::report`).

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
            crate::staged::write_file(&file, html.as_bytes())?;
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
