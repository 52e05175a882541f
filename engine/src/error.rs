//! Errors: the two channels of STYLE.md 12. Row-level problems are data (rejects) and
//! never reach this type; what is here stops the run.

use std::path::PathBuf;

/// A problem that stops the run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input cannot be used as given (exit 2). The message names the file, the
    /// line or column where known, and what to do.
    #[error("{file}: {message}")]
    Input { file: PathBuf, message: String },
    /// Bad arguments or settings (exit 2).
    #[error("{0}")]
    Usage(String),
    /// Writing the outputs failed (exit 1: the machine, not the input).
    #[error("cannot write {path}: {message}")]
    Output { path: PathBuf, message: String },
    /// A broken invariant: a bug in sverka (exit 1). Nothing was written.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn input(file: impl Into<PathBuf>, message: impl Into<String>) -> Error {
        Error::Input {
            file: file.into(),
            message: message.into(),
        }
    }

    /// The process exit code the contract (section 6) gives this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input { .. } | Error::Usage(_) => 2,
            Error::Output { .. } | Error::Internal(_) => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
