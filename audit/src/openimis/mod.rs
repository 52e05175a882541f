//! `sverka openimis fill`: openIMIS's payroll CSV (the blank reconciliation sheet its
//! payroll module downloads) filled from a reconcile folder, ready to upload back
//! (docs/OPENIMIS.md). A row whose benefit sverka saw paid exactly gets `Paid` = `Yes` and
//! `Receipt` = the provider's reference; every other row is left as it was and listed in
//! not-paid.csv with its reason ([`rules`]). Every other byte of the file is written back
//! as it came: only the Paid and Receipt fields of the filled rows change.
//!
//! Memory holds the reconciliation's map ([`results::Results`]) and one record of the
//! download, which is streamed ([`download::Cutter`]).

pub mod download;
pub mod results;
pub mod rules;

use std::io::{Read, Write};
use std::path::Path;

use hashbrown::HashMap;
use sverka_engine::{safe_text, Error, Result};

use crate::{fmt_minor, minor_units};
use download::{Cutter, Record};
use results::Results;
use rules::{Decision, Reason};

/// The columns of openIMIS's download that fill reads, as openIMIS names them
/// (`csv_reconciliation_field_mapping`, `csv_reconciliation_paid_extra_field`).
pub const CODE: &str = "Code";
pub const STATUS: &str = "Status";
pub const AMOUNT: &str = "Amount";
pub const RECEIPT: &str = "Receipt";
pub const PAID: &str = "Paid";
/// The column openIMIS adds to the file it returns after an upload with errors; it
/// refuses a file that has it (`csv_reconciliation_errors_column`).
pub const ERRORS: &str = "errors";
/// openIMIS's `Paid` value for a paid benefit (`csv_reconciliation_paid_yes`).
pub const YES: &str = "Yes";

const REQUIRED: [&str; 5] = [CODE, STATUS, AMOUNT, RECEIPT, PAID];

/// not-paid.csv's columns.
pub const NOT_PAID_COLUMNS: [&str; 11] = [
    "row",
    "code",
    "openimis_status",
    "amount",
    "sverka_status",
    "sverka_flags",
    "sverka_amount",
    "currency",
    "paid_amount",
    "reason",
    "detail",
];

/// What a fill did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    /// Data rows of the download (the header and blank lines are not rows).
    pub rows: u64,
    /// Rows marked `Paid` = Yes.
    pub filled: u64,
    /// Rows left as they were, per [`Reason::ALL`] entry (each is a not-paid.csv row).
    pub left: [u64; 7],
    /// Rows of the reconciliation whose Amount is not sverka's instructed amount (whatever
    /// their fate).
    pub amount_differs: u64,
    /// Filled receipts openIMIS's reading may change ([`rules::pandas_changes`]), and the
    /// first of them with its row.
    pub receipts_changed: u64,
    pub first_changed: Option<(u64, String)>,
    /// Instructions of the reconciliation not in the download, and how many are PAID.
    pub not_in_download: u64,
    pub paid_not_in_download: u64,
}

impl Counts {
    pub fn left_total(&self) -> u64 {
        self.left.iter().sum()
    }
}

/// Where the two outputs go, with their names for messages.
pub struct Outputs<'a> {
    pub upload: &'a mut dyn Write,
    pub upload_path: &'a Path,
    pub not_paid: &'a mut dyn Write,
    pub not_paid_path: &'a Path,
}

/// The download's columns that fill reads, by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    code: usize,
    status: usize,
    amount: usize,
    receipt: usize,
    paid: usize,
    width: usize,
}

/// Fills the download read from `src` (named `name` in messages) from `results` into
/// `out`. Unusable input is exit 2 naming the file, line and column; the outputs are then
/// incomplete and the caller discards them.
pub fn fill(src: impl Read, name: &Path, results: &Results, out: Outputs) -> Result<Counts> {
    let bad = |m: String| Error::input(name, m);
    let mut cut = Cutter::new(src);
    let header = cut.next_record().map_err(|e| bad(e.to_string()))?;
    let Some(header) = header else {
        return Err(bad(
            "empty file: no header row; download the payroll CSV from openIMIS again".into(),
        ));
    };
    let layout = layout(&header).map_err(bad)?;
    let w = |e: std::io::Error| Error::Output {
        path: out.upload_path.to_path_buf(),
        message: e.to_string(),
    };
    out.upload.write_all(header.bytes).map_err(w)?;
    let mut side = SideFile::new(out.not_paid, out.not_paid_path)?;
    let mut state = State {
        counts: Counts::default(),
        seen: vec![0; results.len()],
        others: HashMap::new(),
        all_reconciled: true,
    };
    while let Some(rec) = cut.next_record().map_err(|e| bad(e.to_string()))? {
        state.counts.rows += 1;
        let row = state.counts.rows;
        if rec.len() != layout.width {
            return Err(bad(format!(
                "line {} (row {row}): {} fields, the header has {}: openIMIS refuses a row \
                 with more fields and fill will not guess the missing ones; fix the row",
                rec.line,
                rec.len(),
                layout.width
            )));
        }
        let found = results.get(rec.value(layout.code));
        state
            .check_code(&rec, row, layout.code, found.map(|(k, _)| k))
            .map_err(bad)?;
        let ins = found.map(|(_, i)| i);
        let fields = rules::Row {
            code: rec.value(layout.code),
            status: rec.value(layout.status),
            amount: rec.value(layout.amount),
            paid: rec.value(layout.paid),
            receipt: rec.value(layout.receipt),
        };
        state.all_reconciled &= fields.status == rules::RECONCILED;
        if ins.is_some_and(|i| !rules::same_amount(fields.amount, &i)) {
            state.counts.amount_differs += 1;
        }
        match rules::decide(&fields, ins.as_ref()) {
            Decision::Fill(receipt) => {
                write_filled(out.upload, &rec, &layout, receipt).map_err(w)?;
                state.filled(row, receipt);
            }
            Decision::Leave(reason, detail) => {
                out.upload.write_all(rec.bytes).map_err(w)?;
                state.counts.left[reason as usize] += 1;
                side.row(row, &fields, ins.as_ref(), reason, &detail)?;
            }
        }
    }
    out.upload.write_all(cut.tail()).map_err(w)?;
    side.finish()?;
    let c = state.finish(results).map_err(bad)?;
    // The pair assertion: every row was filled or listed.
    if c.rows != c.filled + c.left_total() {
        return Err(Error::Internal(format!(
            "openimis fill: {} rows, {} filled and {} listed",
            c.rows,
            c.filled,
            c.left_total()
        )));
    }
    Ok(c)
}

/// What a fill keeps while it streams the rows.
struct State {
    counts: Counts,
    /// Per instruction of the results, the row its code was first seen on (0: not seen).
    seen: Vec<u64>,
    /// The same for codes that are no instruction of the results.
    others: HashMap<String, u64>,
    all_reconciled: bool,
}

impl State {
    /// A Code seen twice is refused: openIMIS lists each benefit once, and a second row
    /// would be a second payment of it. `found`: the code's instruction in the results.
    fn check_code(
        &mut self,
        rec: &Record,
        row: u64,
        col: usize,
        found: Option<usize>,
    ) -> std::result::Result<(), String> {
        let code = rec.value(col);
        if code.is_empty() {
            return Ok(());
        }
        let first = match found {
            Some(k) => std::mem::replace(&mut self.seen[k], row),
            None => self.others.insert(code.to_string(), row).unwrap_or(0),
        };
        if first == 0 {
            return Ok(());
        }
        Err(format!(
            "line {} (row {row}): Code {code:?} again (first on row {first}): openIMIS lists \
             each benefit once; remove the repeated row",
            rec.line
        ))
    }

    fn filled(&mut self, row: u64, receipt: &str) {
        self.counts.filled += 1;
        if rules::pandas_changes(receipt) {
            self.counts.receipts_changed += 1;
            if self.counts.first_changed.is_none() {
                self.counts.first_changed = Some((row, receipt.to_string()));
            }
        }
    }

    /// The file-wide checks, and the instructions the download does not name.
    fn finish(mut self, results: &Results) -> std::result::Result<Counts, String> {
        let c = &mut self.counts;
        if c.rows == 0 {
            return Err(
                "no data rows: openIMIS refuses an empty file; download the payroll \
                        CSV again"
                    .into(),
            );
        }
        if self.all_reconciled {
            return Err(
                "every row's Status is RECONCILED: the payroll is already reconciled \
                        in openIMIS, which refuses this file; there is nothing to fill"
                    .into(),
            );
        }
        for (k, &row) in self.seen.iter().enumerate() {
            if row == 0 {
                c.not_in_download += 1;
                c.paid_not_in_download += u64::from(results.instruction(k).status == "PAID");
            }
        }
        Ok(self.counts)
    }
}

/// The header's columns: each required one exactly once, and no `errors` column.
fn layout(header: &Record) -> std::result::Result<Layout, String> {
    let names: Vec<&str> = (0..header.len()).map(|i| header.value(i)).collect();
    if let Some(i) = names.iter().position(|&n| n == ERRORS) {
        return Err(format!(
            "column {} is {ERRORS:?}: this is the error report openIMIS returned for an earlier \
             upload, and openIMIS refuses a file with that column; fill the payroll CSV \
             downloaded from openIMIS instead",
            i + 1
        ));
    }
    let mut at = [0usize; 5];
    for (slot, want) in at.iter_mut().zip(REQUIRED) {
        let found: Vec<usize> = (0..names.len()).filter(|&i| names[i] == want).collect();
        *slot = match found.as_slice() {
            [i] => *i,
            [] => return Err(missing(want, &names)),
            [a, b, ..] => {
                return Err(format!(
                    "two columns named {want:?} (columns {} and {}): openIMIS would read only \
                     one; remove the other",
                    a + 1,
                    b + 1
                ))
            }
        };
    }
    Ok(Layout {
        code: at[0],
        status: at[1],
        amount: at[2],
        receipt: at[3],
        paid: at[4],
        width: names.len(),
    })
}

/// The message for a missing column, with a near miss or a foreign separator named.
fn missing(want: &str, names: &[&str]) -> String {
    let mut m = format!(
        "no column {want:?}: openIMIS's payroll CSV has the columns {} (named exactly so)",
        REQUIRED.join(", ")
    );
    if let Some(n) = names.iter().find(|n| n.trim().eq_ignore_ascii_case(want)) {
        m += &format!("; column {n:?} differs only in case or spaces: rename it {want:?}");
    } else if names.len() == 1 && names[0].contains([';', '\t']) {
        m += "; the header is one column holding ';' or tabs: openIMIS reads comma-separated \
              files only; save the file as CSV with commas";
    }
    m
}

/// The record with Paid = Yes and Receipt = `receipt` (quoted only when it must be), every
/// other byte as it was.
fn write_filled(
    w: &mut dyn Write,
    rec: &Record,
    layout: &Layout,
    receipt: &str,
) -> std::io::Result<()> {
    let quoted;
    let receipt = if receipt.contains([',', '"', '\r', '\n']) {
        quoted = format!("\"{}\"", receipt.replace('"', "\"\""));
        quoted.as_str()
    } else {
        receipt
    };
    let mut parts = [
        (rec.raw[layout.receipt].clone(), receipt),
        (rec.raw[layout.paid].clone(), YES),
    ];
    parts.sort_by_key(|p| p.0.start);
    let mut at = 0;
    for (range, value) in parts {
        w.write_all(&rec.bytes[at..range.start])?;
        w.write_all(value.as_bytes())?;
        at = range.end;
    }
    w.write_all(&rec.bytes[at..])
}

/// not-paid.csv: a row per download row left as it was, spreadsheet-safe.
struct SideFile<'a> {
    w: csv::Writer<&'a mut dyn Write>,
    path: &'a Path,
}

impl<'a> SideFile<'a> {
    fn new(w: &'a mut dyn Write, path: &'a Path) -> Result<SideFile<'a>> {
        let mut s = SideFile {
            w: csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(w),
            path,
        };
        s.write(NOT_PAID_COLUMNS.map(String::from))?;
        Ok(s)
    }

    fn write(&mut self, cells: [String; 11]) -> Result<()> {
        self.w.write_record(&cells).map_err(|e| Error::Output {
            path: self.path.to_path_buf(),
            message: e.to_string(),
        })
    }

    fn row(
        &mut self,
        row: u64,
        f: &rules::Row,
        ins: Option<&results::Instruction>,
        reason: Reason,
        detail: &str,
    ) -> Result<()> {
        let t = |s: &str| safe_text(s).into_owned();
        let (status, flags, currency, amount, paid) = match ins {
            Some(i) => {
                let m = minor_units(i.currency).unwrap_or(0);
                (
                    t(i.status),
                    t(i.flags),
                    t(i.currency),
                    fmt_minor(i.amount, m),
                    fmt_minor(i.paid, m),
                )
            }
            None => (
                "not in results".into(),
                "".into(),
                "".into(),
                "".into(),
                "".into(),
            ),
        };
        self.write([
            row.to_string(),
            t(f.code),
            t(f.status),
            t(f.amount),
            status,
            flags,
            amount,
            currency,
            paid,
            reason.code().into(),
            t(detail),
        ])
    }

    fn finish(mut self) -> Result<()> {
        self.w.flush().map_err(|e| Error::Output {
            path: self.path.to_path_buf(),
            message: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::results::Instruction;
    use super::*;

    fn results() -> Results {
        let ins = |id, status, flags, receipt| Instruction {
            id,
            status,
            flags,
            currency: "ZMW",
            amount: 45_000,
            paid: if status == "UNPAID" { 0 } else { 45_000 },
            receipt,
        };
        Results::from_rows([
            ins("B1", "PAID", "", Some("R1")),
            ins("B2", "UNPAID", "", None),
            ins("007", "PAID", "LATE", Some("say \"hi\", 7")),
        ])
        .unwrap()
    }

    /// (upload, not-paid, counts) of `download`.
    fn run(download: &[u8]) -> Result<(String, String, Counts)> {
        let (mut up, mut np) = (Vec::new(), Vec::new());
        let c = fill(
            download,
            Path::new("d.csv"),
            &results(),
            Outputs {
                upload: &mut up,
                upload_path: Path::new("u.csv"),
                not_paid: &mut np,
                not_paid_path: Path::new("n.csv"),
            },
        )?;
        Ok((
            String::from_utf8(up).unwrap(),
            String::from_utf8(np).unwrap(),
            c,
        ))
    }

    #[test]
    fn only_paid_and_receipt_of_paid_rows_change() {
        // Paid before Receipt, extra columns, CRLF, a quoted empty Paid.
        let d = "Paid,Code,Status,Amount,Receipt,x\r\n\
                 \"\",B1,ACCEPTED,450.00,,\"a,b\"\r\n\
                 ,B2,ACCEPTED,450,,\r\n\
                 ,007,ACCEPTED,450.0,,007\r\n\
                 ,B9,ACCEPTED,1,,\r\n";
        let (up, np, c) = run(d.as_bytes()).unwrap();
        assert_eq!(
            up,
            "Paid,Code,Status,Amount,Receipt,x\r\n\
             Yes,B1,ACCEPTED,450.00,R1,\"a,b\"\r\n\
             ,B2,ACCEPTED,450,,\r\n\
             Yes,007,ACCEPTED,450.0,\"say \"\"hi\"\", 7\",007\r\n\
             ,B9,ACCEPTED,1,,\r\n"
        );
        assert_eq!(
            np,
            "row,code,openimis_status,amount,sverka_status,sverka_flags,sverka_amount,currency,\
             paid_amount,reason,detail\n\
             2,B2,ACCEPTED,450,UNPAID,,450.00,ZMW,0.00,not_paid,sverka status UNPAID\n\
             4,B9,ACCEPTED,1,not in results,,,,,not_in_results,\"the Code is not an accepted \
             instruction of the reconciliation (a rejected row, or another payroll's)\"\n"
        );
        assert_eq!((c.rows, c.filled, c.left_total()), (4, 2, 2));
        assert_eq!(c.left[Reason::NotPaid as usize], 1);
        assert_eq!(c.left[Reason::NotInResults as usize], 1);
        assert_eq!((c.amount_differs, c.not_in_download), (0, 0));
    }

    #[test]
    fn a_file_nothing_is_filled_in_comes_back_as_it_was() {
        let d = "\u{feff}Code,Status,Amount,Receipt,Paid\r\n\r\nB2,ACCEPTED,450.00,,\r\n\"B1\",RECONCILED,450.00,R1,Yes";
        let (up, np, c) = run(d.as_bytes()).unwrap();
        assert_eq!(up, d);
        assert_eq!(np.lines().count(), 3);
        assert_eq!(
            (c.rows, c.filled, c.not_in_download, c.paid_not_in_download),
            (2, 0, 1, 1)
        );
    }

    #[test]
    fn unusable_files_name_the_place() {
        let err = |d: &str| run(d.as_bytes()).err().unwrap().to_string();
        assert_eq!(
            err("Code,Status,Amount,Receipt,Paid,Code\n"),
            "d.csv: two columns named \"Code\" (columns 1 and 6): openIMIS would read only one; \
             remove the other"
        );
        assert_eq!(
            err(""),
            "d.csv: empty file: no header row; download the payroll CSV from openIMIS again"
        );
        assert!(err("Code,Status,Amount,Receipt,Paid\nB1,ACCEPTED,450,,,\n")
            .starts_with("d.csv: line 2 (row 1): 6 fields, the header has 5"));
        assert!(err(
            "Code,Status,Amount,Receipt,Paid\n,ACCEPTED,1,,\n007,ACCEPTED,1,,\nx,A,1,,\nx,A,1,,\n"
        )
        .starts_with("d.csv: line 5 (row 4): Code \"x\" again (first on row 3)"));
    }

    /// The fuzz target's property on many small files: rows of likely values, quoted or
    /// not, with any line ending, some broken by a CSV special byte put anywhere
    /// (fuzz/fuzz_targets/openimis_download.rs runs it on any bytes): never a panic; a fill
    /// that fills nothing writes the download back byte for byte; every row is filled or
    /// listed.
    #[test]
    fn any_bytes_fill_or_refuse_and_keep_the_rest() {
        const VALUES: [&[&str]; 5] = [
            &["B1", "007", "B2", "", "X", "B1"],
            &["ACCEPTED", "ACCEPTED", "RECONCILED", "a,b"],
            &["450.00", "450", "", "4\n50"],
            &["", "", "R"],
            &["", "", "Yes"],
        ];
        const BREAKS: [&str; 7] = [",", "\"", "\r", "\n", "\u{feff}", "\u{e9}", "\"\""];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let (mut ok, mut filled) = (0, 0);
        for _ in 0..8_000 {
            let mut d = String::from("Code,Status,Amount,Receipt,Paid\n");
            for _ in 0..next(5) {
                let row: Vec<String> = VALUES
                    .iter()
                    .map(|v| {
                        let x = v[next(v.len())];
                        match next(3) {
                            0 => format!("\"{}\"", x.replace('"', "\"\"")),
                            _ => x.to_string(),
                        }
                    })
                    .collect();
                d += &row.join(",");
                d += ["\n", "\r\n", "\r"][next(3)];
            }
            if next(4) == 0 {
                let at = next(d.len() + 1);
                if d.is_char_boundary(at) {
                    d.insert_str(at, BREAKS[next(BREAKS.len())]);
                }
            }
            let Ok((up, np, c)) = run(d.as_bytes()) else {
                continue;
            };
            ok += 1;
            assert_eq!(c.rows, c.filled + c.left_total(), "{d:?}");
            let listed = csv::Reader::from_reader(np.as_bytes()).records().count();
            assert_eq!(listed as u64, c.left_total(), "{d:?}");
            if c.filled == 0 {
                assert_eq!(up, d, "{d:?}");
            } else {
                filled += 1;
                assert!(up.len() > d.len(), "{d:?}");
            }
        }
        assert!(ok > 800 && filled > 80, "{ok} accepted, {filled} filled");
    }
}
