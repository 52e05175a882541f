//! Finding a side's input files: the paths as given, a directory standing for its files
//! of the known extensions (CONTRACT.md section 1), capped at [`MAX_FILES`].

use std::path::{Path, PathBuf};

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
        let (provider, p) = given_provider(side, p);
        let p = &p;
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
                if Format::from_path(&child).is_some() || other_file_name(side, &child) {
                    names.push(name);
                }
            }
            names.sort();
            if names.is_empty() {
                return Err(Error::input(
                    p,
                    match side {
                        Side::Settlements => "directory has no .csv, .parquet, .arrow, .xml, .sta, .940, .mt940 or .xlsx files to read as settlements".to_string(),
                        _ => format!(
                            "directory has no .csv, .parquet, .arrow or .xlsx files to read as {}",
                            side.as_str()
                        ),
                    },
                ));
            }
            for name in names {
                let path = p.join(name);
                // A provider file's name says nothing: its content decides (7.1).
                let format = Format::from_path(&path).unwrap_or(Format::Unrecognised);
                files.push(InputFile {
                    side,
                    path,
                    format,
                    provider: provider.clone(),
                });
            }
        } else {
            // A named settlement file may be a provider file whatever its name (7.1), and
            // a file of either side one a profile claims by its name (7.4).
            let format = Format::from_path(p).unwrap_or(Format::Unrecognised);
            files.push(InputFile {
                side,
                path: p.clone(),
                format,
                provider,
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

/// Extensions of provider files a settlement directory stands for (CONTRACT 1, v2), and
/// of the XLSX reports a profile may claim on either side (7.4).
const PROVIDER_EXTENSIONS: [&str; 4] = ["xml", "sta", "940", "mt940"];

fn other_file_name(side: Side, p: &Path) -> bool {
    let ext = p
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    ext == "xlsx" || (side == Side::Settlements && PROVIDER_EXTENSIONS.contains(&ext.as_str()))
}

/// A settlement path given as `CODE=PATH` (CONTRACT 7.2): the provider and the path. A
/// path that exists as written is taken as it is, even with a `=` in its name.
fn given_provider(side: Side, p: &Path) -> (Option<String>, PathBuf) {
    if side != Side::Settlements || p.exists() {
        return (None, p.to_path_buf());
    }
    let Some(s) = p.to_str() else {
        return (None, p.to_path_buf());
    };
    match s.split_once('=') {
        Some((code, rest)) if !rest.is_empty() && crate::providers::usable_code(code) => {
            (Some(code.to_string()), PathBuf::from(rest))
        }
        _ => (None, p.to_path_buf()),
    }
}
