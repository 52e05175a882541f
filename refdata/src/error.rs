//! Errors of `generate` and `score`, in two channels: what the user can fix (bad
//! arguments, unusable input files: exit 2) and what is a bug or an environment failure
//! (exit 1).

use std::path::PathBuf;

/// An error of [`crate::generate`] or [`crate::score`].
#[derive(Debug, thiserror::Error)]
pub enum RefdataError {
    /// An argument is unusable (unknown profile, rates out of range, output folder not
    /// empty). The message says what to do.
    #[error("{0}")]
    BadArgument(String),
    /// An input file is missing or unusable. The message names the file, the problem
    /// and what to do.
    #[error("{}: {problem}; {remedy}", path.display())]
    BadInput {
        path: PathBuf,
        problem: String,
        remedy: String,
    },
    /// Reading or writing a file failed for a reason outside the data (disk full,
    /// permissions while writing).
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A broken invariant: a bug in sverka-refdata.
    #[error("internal error (a bug in sverka-refdata): {0}")]
    Internal(String),
}

impl RefdataError {
    /// True when the user can fix the problem (the CLI exits 2), false for internal and
    /// environment errors (exit 1).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            RefdataError::BadArgument(_) | RefdataError::BadInput { .. }
        )
    }

    /// The exit status CONTRACT.md section 6 gives this error.
    pub fn exit_code(&self) -> i32 {
        if self.is_bad_input() {
            2
        } else {
            1
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        RefdataError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn bad_input(
        path: impl Into<PathBuf>,
        problem: impl Into<String>,
        remedy: impl Into<String>,
    ) -> Self {
        RefdataError::BadInput {
            path: path.into(),
            problem: problem.into(),
            remedy: remedy.into(),
        }
    }

    pub(crate) fn internal(msg: impl Into<String>) -> Self {
        RefdataError::Internal(msg.into())
    }
}
