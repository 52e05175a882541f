//! Helpers shared by the CLI's integration tests (each test file is its own crate and
//! uses a part of them).
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// The `sverka` binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sverka"))
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `sverka reconcile` of `ins` and `set` into `out`, with `extra` arguments.
pub fn reconcile(ins: &Path, set: &Path, out: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("reconcile")
        .arg("--instructions")
        .arg(ins)
        .arg("--settlements")
        .arg(set)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}
