//! `sverka openimis fill`: openIMIS's payroll CSV filled from a reconcile folder
//! (`sverka_audit::openimis`), the upload and the not-paid list each written whole or not
//! at all, and the counts on stderr.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use sverka_audit::openimis::rules::Reason;
use sverka_audit::openimis::{self, results::Results, Counts, Outputs};
use sverka_engine::Error;

use crate::args::OpenimisFillArgs;
use crate::staged::Staged;
use crate::Failure;

pub fn fill(a: OpenimisFillArgs) -> Result<u8, Failure> {
    let not_paid = a.not_paid.clone().unwrap_or_else(|| beside(&a.out));
    distinct(&a.download, &a.out, &not_paid)?;
    let (mut up, mut np) = (Staged::new(&a.out)?, Staged::new(&not_paid)?);
    let src = std::fs::File::open(&a.download).map_err(|e| {
        Error::input(
            &a.download,
            format!("{e}; give the CSV downloaded from openIMIS"),
        )
    })?;
    let results = Results::read(&a.results)?;
    let counts = {
        let (mut uw, mut nw) = (BufWriter::new(up.file()), BufWriter::new(np.file()));
        let counts = openimis::fill(
            std::io::BufReader::with_capacity(1 << 16, src),
            &a.download,
            &results,
            Outputs {
                upload: &mut uw,
                upload_path: &a.out,
                not_paid: &mut nw,
                not_paid_path: &not_paid,
            },
        )?;
        flush(uw, &a.out)?;
        flush(nw, &not_paid)?;
        counts
    };
    // The upload last: a new upload.csv is never beside an older not-paid list.
    np.commit()?;
    up.commit()?;
    if !a.quiet {
        eprint!("{}", screen(&a.out, &not_paid, &counts));
    }
    Ok(0)
}

/// not-paid.csv in `--out`'s folder.
fn beside(out: &Path) -> PathBuf {
    match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join("not-paid.csv"),
        _ => PathBuf::from("not-paid.csv"),
    }
}

/// The three paths name three files: the download stays the record of what openIMIS
/// gave, and the two outputs must not replace each other.
fn distinct(download: &Path, out: &Path, not_paid: &Path) -> Result<(), Error> {
    let same = |a: &Path, b: &Path| {
        a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
    };
    if same(download, out) || same(download, not_paid) {
        return Err(Error::Usage(format!(
            "{}: the download would be replaced; write the upload and the not-paid list to \
             other files (--out, --not-paid)",
            download.display()
        )));
    }
    if same(out, not_paid) {
        return Err(Error::Usage(format!(
            "--out and --not-paid both name {}; give two files",
            out.display()
        )));
    }
    Ok(())
}

fn flush(w: BufWriter<&mut std::fs::File>, path: &Path) -> Result<(), Error> {
    w.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.flush())
        .map_err(|e| Error::Output {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// The closing screen: every row accounted for, and what to look at.
fn screen(out: &Path, not_paid: &Path, c: &Counts) -> String {
    let mut s = format!(
        "sverka openimis fill: {} rows: {} marked paid (Paid = Yes) in {}, {} left as they were \
         (listed in {})\n",
        c.rows,
        c.filled,
        out.display(),
        c.left_total(),
        not_paid.display()
    );
    for (r, n) in Reason::ALL.iter().zip(c.left) {
        if n > 0 {
            s += &format!("  {:<18} {n:>9}\n", r.code());
        }
    }
    let warn = |s: &mut String, what: String| {
        *s += &format!("sverka openimis fill: warning: {what}\n");
    };
    if c.amount_differs > 0 {
        let what = format!(
            "the Amount of {} is not the instructed amount",
            rows(c.amount_differs)
        );
        warn(&mut s, what);
    }
    if let Some((row, receipt)) = &c.first_changed {
        let what = format!(
            "{} filled look like numbers or missing values to openIMIS's reader (first: row \
             {row}, {receipt:?}), which may store them changed (leading zeros lost, \".0\" \
             added); see docs/OPENIMIS.md",
            plural(c.receipts_changed, "receipt")
        );
        warn(&mut s, what);
    }
    if c.not_in_download > 0 {
        s += &format!(
            "sverka openimis fill: note: {} of the reconciliation ({} PAID) not in the \
             download (another payroll's?)\n",
            plural(c.not_in_download, "instruction"),
            c.paid_not_in_download
        );
    }
    s
}

fn plural(n: u64, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn rows(n: u64) -> String {
    plural(n, "row")
}
