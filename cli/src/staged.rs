//! Files written outside an output set (`report --out`, `worksheet --out`, `openimis fill`):
//! each is written into a temporary file beside its destination, synced, then renamed over
//! it in one step, so that a reader never sees half of it and a failed command leaves the
//! old file (or none) in place.

use std::fs::File;
use std::path::{Path, PathBuf};

use sverka_engine::Error;

/// A file being written: dropped without [`Staged::commit`], its temporary file goes.
pub(crate) struct Staged {
    tmp: tempfile::NamedTempFile,
    dest: PathBuf,
}

impl Staged {
    /// A temporary file in `dest`'s folder.
    pub(crate) fn new(dest: &Path) -> Result<Staged, Error> {
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if dest.file_name().is_none() {
            return Err(Error::Usage(format!("{}: name a file", dest.display())));
        }
        if !dir.is_dir() {
            return Err(Error::Usage(format!(
                "{}: no such folder; create it, or write {} elsewhere",
                dir.display(),
                dest.display()
            )));
        }
        // As `NamedTempFile::new_in`, but with the mode a plain create gets (0666 less the
        // umask) instead of 0600: the file is for others to read.
        let mut b = tempfile::Builder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            b.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let tmp = b.tempfile_in(&dir).map_err(|e| output(&dir, e))?;
        Ok(Staged {
            tmp,
            dest: dest.to_path_buf(),
        })
    }

    pub(crate) fn file(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    /// Synced, then renamed over the destination.
    pub(crate) fn commit(self) -> Result<(), Error> {
        self.tmp
            .as_file()
            .sync_all()
            .map_err(|e| output(self.tmp.path(), e))?;
        let dest = self.dest;
        self.tmp
            .persist(&dest)
            .map_err(|e| output(&dest, e.error))?;
        Ok(())
    }
}

fn output(path: &Path, e: std::io::Error) -> Error {
    Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// `bytes` written to `dest` whole or not at all.
pub(crate) fn write_file(dest: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let mut s = Staged::new(dest)?;
    s.file()
        .write_all(bytes)
        .map_err(|e| output(s.tmp.path(), e))?;
    s.commit()
}
