//! Finding a side's input files: the paths as given, a directory standing for its files
//! of the known extensions (CONTRACT.md section 1), capped at [`MAX_FILES`].

use std::path::PathBuf;

use super::{Format, InputFile, MAX_FILES};
use crate::error::{Error, Result};
use crate::schema::Side;

/// Expands the paths of one side: a file stands for itself, a directory for its `.csv`,
/// `.parquet` and `.arrow` files sorted by file name (CONTRACT.md section 1).
pub fn discover(side: Side, paths: &[PathBuf]) -> Result<Vec<InputFile>> {
    let mut files = Vec::new();
    if paths.is_empty() {
        return Err(Error::Usage(format!("no {} input given", side.as_str())));
    }
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| {
            Error::input(
                p,
                format!("cannot open {} input: {e}; check the path", side.as_str()),
            )
        })?;
        if meta.is_dir() {
            let mut names = Vec::new();
            let entries = std::fs::read_dir(p)
                .map_err(|e| Error::input(p, format!("cannot list directory: {e}")))?;
            for entry in entries {
                let entry =
                    entry.map_err(|e| Error::input(p, format!("cannot list directory: {e}")))?;
                let name = entry.file_name();
                let child = p.join(&name);
                if Format::from_path(&child).is_some() {
                    names.push(name);
                }
            }
            names.sort();
            if names.is_empty() {
                return Err(Error::input(
                    p,
                    format!(
                        "directory has no .csv, .parquet or .arrow files to read as {}",
                        side.as_str()
                    ),
                ));
            }
            for name in names {
                let path = p.join(name);
                let format = Format::from_path(&path).expect("filtered above");
                files.push(InputFile { side, path, format });
            }
        } else {
            let format = Format::from_path(p).ok_or_else(|| {
                Error::input(p, "unknown file type: name a .csv, .parquet or .arrow (Arrow IPC file) file, or a directory")
            })?;
            files.push(InputFile {
                side,
                path: p.clone(),
                format,
            });
        }
        if files.len() > MAX_FILES {
            return Err(Error::Usage(format!(
                "more than {MAX_FILES} {} files: merge them before reconciling",
                side.as_str()
            )));
        }
    }
    Ok(files)
}
