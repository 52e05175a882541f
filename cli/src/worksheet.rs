//! `sverka worksheet RESULTS_DIR --out FILE`: the open exceptions of a results folder as a
//! CSV a reviewer fills in (`sverka_audit::worksheet`), written whole or not at all, with
//! a count per exception on stderr.

use sverka_audit::worksheet::{self, Counts, Kind};

use crate::args::WorksheetArgs;
use crate::Failure;

pub fn run(a: WorksheetArgs) -> Result<u8, Failure> {
    let w = worksheet::build(&a.dir)?;
    crate::staged::write_file(&a.out, &w.csv)?;
    if !a.quiet {
        eprint!("{}", screen(&a.out.display().to_string(), &w.counts));
    }
    Ok(0)
}

/// The closing screen: rows per exception, and what decisions already closed.
fn screen(out: &str, c: &Counts) -> String {
    let mut s = format!("sverka worksheet: {out}: {} rows to decide\n", c.total());
    for (k, n) in Kind::ALL.iter().zip(c.rows) {
        if n == 0 {
            continue;
        }
        s.push_str(&format!("  {:<18} {n:>8}", k.name()));
        if *k == Kind::Ambiguous {
            s.push_str(&format!(" ({} settlements)", c.ambiguous_settlements));
        }
        s.push('\n');
    }
    if c.accepted_instructions + c.unmatched_settlements > 0 {
        s.push_str(&format!(
            "  left out, already decided: {} accepted instructions, {} unmatched settlements\n",
            c.accepted_instructions, c.unmatched_settlements
        ));
    }
    s
}
