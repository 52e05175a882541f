//! Row-by-row conservation (CONTRACT.md sections 2 and 5, v2 lineage): every row of every
//! input file, named by (side, file, row), is exactly one row of `instructions.parquet`,
//! `settlements.parquet` or `rejects.parquet`; the file is one of the side's inputs in
//! `summary.json` and the row within its `rows`; a settlement's `format` is its file's.
//!
//! Stronger than the counts: a row moved to another number, given twice or dropped with
//! another row added in its place leaves every count right and is caught here. Memory is
//! one bit per input row (a counter when a path was given more than once), the outputs are
//! read batch by batch.

use hashbrown::HashMap;

use super::{RowIssues, IF, RF, SF};
use crate::read::{int64, Pq, ReadResult};
use crate::report::data::keys;
use crate::text::Text;
use crate::verify::Discrepancy;

/// Text columns of the lineage read as dictionaries: one lookup per distinct value.
pub(super) const DICT: [&str; 3] = ["file", "format", "side"];

const SIDES: [&str; 2] = ["instructions", "settlements"];

/// One input of `summary.json` (or, when the summary is unreadable, of the manifest).
pub(super) struct Source<'a> {
    pub side: &'a str,
    pub path: &'a str,
    pub rows: u64,
    /// `None` from the manifest, which does not record formats.
    pub format: Option<&'a str>,
}

/// The side of a batch's rows: one for all (instructions, settlements), or each row's own
/// `side` (rejects).
enum RowSide<'a> {
    All(usize),
    Each(crate::report::data::Keys<'a>),
}

/// The rows seen of one input file.
enum Seen {
    /// Bit `r - 1` for row `r`: the path given once.
    Bits(Vec<u64>),
    /// Times row `r` was seen, at `r - 1`: the path given several times (each time reads
    /// the file again, and each of its rows is an output row again).
    Counts(Vec<u32>),
    /// Not tracked (the inputs claim far more rows than the outputs hold).
    Off,
}

struct File {
    side: usize,
    path: String,
    /// `rows` of each time the path was given (the same file: normally equal).
    given: Vec<u64>,
    format: Option<String>,
    seen: Seen,
}

impl File {
    fn rows(&self) -> u64 {
        self.given.iter().copied().max().unwrap_or(0)
    }

    /// How many output rows row `r` must be.
    fn expected(&self, r: u64) -> u64 {
        self.given.iter().filter(|&&n| n >= r).count() as u64
    }

    /// Records row `r` (within `rows`); false when it was seen as often as expected.
    fn mark(&mut self, r: u64) -> bool {
        let i = (r - 1) as usize;
        let want = match self.seen {
            Seen::Counts(_) => self.expected(r),
            _ => 1,
        };
        match &mut self.seen {
            Seen::Bits(b) => {
                let (w, bit) = (i / 64, 1u64 << (i % 64));
                let first = b[w] & bit == 0;
                b[w] |= bit;
                first
            }
            Seen::Counts(c) => {
                c[i] = c[i].saturating_add(1);
                u64::from(c[i]) <= want
            }
            Seen::Off => true,
        }
    }

    /// Rows seen fewer times than expected, in order (none when not tracked).
    fn missing(&self) -> Box<dyn Iterator<Item = u64> + '_> {
        let n = self.rows();
        match &self.seen {
            // A full word is 64 rows seen: skipped without looking at its bits.
            Seen::Bits(b) => Box::new(
                b.iter()
                    .enumerate()
                    .filter(|(_, &w)| w != u64::MAX)
                    .flat_map(|(k, &w)| {
                        (0..64u64)
                            .filter(move |bit| w & (1 << bit) == 0)
                            .map(move |bit| k as u64 * 64 + bit + 1)
                    })
                    .take_while(move |&r| r <= n),
            ),
            Seen::Counts(c) => Box::new(
                (1..=n).filter(move |&r| u64::from(c[(r - 1) as usize]) < self.expected(r)),
            ),
            Seen::Off => Box::new(std::iter::empty()),
        }
    }
}

/// The lineage check over the three row outputs, fed batch by batch in output order.
pub(super) struct Lineage {
    files: Vec<File>,
    /// (side, path) → index in `files`.
    index: HashMap<(usize, String), usize>,
    /// Lineage columns the outputs lack ("OUTPUT: no column C").
    absent: Vec<String>,
    /// Outputs whose rows cannot be placed (no `file` or `row` column).
    skipped: Vec<&'static str>,
    /// Why rows are not tracked, when they are not.
    untracked: Option<String>,
    /// The folder has decisions (CONTRACT.md section 8): `decision_ids` may name them.
    decisions: bool,
    /// Output rows placed.
    placed: u64,
}

impl Lineage {
    /// `out_rows`: the rows of the three outputs (their footers): inputs that claim far
    /// more rows are not tracked row by row (the count checks report them), so that a
    /// tampered `rows` cannot make this allocate without bound.
    pub(super) fn new(sources: &[Source], out_rows: u64, decisions: bool) -> Lineage {
        let mut l = Lineage {
            files: Vec::new(),
            index: HashMap::new(),
            absent: Vec::new(),
            skipped: Vec::new(),
            untracked: None,
            decisions,
            placed: 0,
        };
        for s in sources {
            let Some(side) = SIDES.iter().position(|x| *x == s.side) else {
                continue;
            };
            let k = *l
                .index
                .entry((side, s.path.to_string()))
                .or_insert_with(|| {
                    l.files.push(File {
                        side,
                        path: s.path.to_string(),
                        given: Vec::new(),
                        format: s.format.map(str::to_string),
                        seen: Seen::Off,
                    });
                    l.files.len() - 1
                });
            l.files[k].given.push(s.rows);
        }
        let claimed: u64 = sources.iter().map(|s| s.rows).fold(0, u64::saturating_add);
        if claimed > out_rows.saturating_mul(2).saturating_add(1024) {
            l.untracked = Some(format!(
                "the inputs claim {claimed} rows, the outputs hold {out_rows}"
            ));
            return l;
        }
        for f in &mut l.files {
            let n = f.rows() as usize;
            f.seen = if f.given.len() == 1 {
                Seen::Bits(vec![0; n.div_ceil(64)])
            } else {
                Seen::Counts(vec![0; n])
            };
        }
        l
    }

    /// `base` and the lineage columns `out` has (`file`, `row`, and `format` and
    /// `decision_ids` where the contract gives them); the missing ones are noted.
    pub(super) fn columns<'c>(
        &mut self,
        pq: &Pq,
        out: &'static str,
        base: &[&'c str],
    ) -> Vec<&'c str> {
        let want: &[&'c str] = match out {
            SF => &["file", "row", "format", "decision_ids"],
            IF => &["file", "row", "decision_ids"],
            _ => &["file", "row"],
        };
        let mut cols = base.to_vec();
        for &c in want {
            if pq.has_column(c) {
                if !cols.contains(&c) {
                    cols.push(c);
                }
            } else {
                self.absent.push(format!("{out}: no column {c}"));
                if matches!(c, "file" | "row") && !self.skipped.contains(&out) {
                    self.skipped.push(out);
                }
            }
        }
        cols
    }

    /// Places the rows of one batch of `out` (its first row is output row `first + 1`);
    /// `side`: the side of every row, or `None` to read each row's `side` (rejects).
    pub(super) fn batch(
        &mut self,
        out: &'static str,
        first: usize,
        b: &arrow_array::RecordBatch,
        side: Option<usize>,
        issues: &mut RowIssues,
    ) -> ReadResult<()> {
        if self.skipped.contains(&out) {
            return Ok(());
        }
        let n = b.num_rows();
        let file = keys(&Text::of(b, "file")?, n);
        let row = int64(b, "row")?;
        let sides = match side {
            Some(s) => RowSide::All(s),
            None => RowSide::Each(keys(&Text::of(b, "side")?, n)),
        };
        let format = Text::of(b, "format").ok();
        let decision_ids = Text::of(b, "decision_ids").ok();
        // Per side, file key → input file: resolved once per batch, side and file.
        let mut resolved = [vec![None; file.names.len()], vec![None; file.names.len()]];
        for (i, &r) in row.iter().enumerate().take(n) {
            let out_row = first + i + 1;
            let issue = |field: &str, expected: String, found: String| Discrepancy {
                file: out.into(),
                field: format!("row {out_row} {field}"),
                expected,
                found,
            };
            if let Some(ids) = decision_ids.as_ref().filter(|_| !self.decisions) {
                if !ids.value(i).is_empty() {
                    issues.push(
                        "decision_ids",
                        issue(
                            "decision_ids",
                            "empty (the folder has no decisions.parquet)".into(),
                            format!("{:?}", ids.value(i)),
                        ),
                    );
                }
            }
            let s = match &sides {
                RowSide::All(s) => *s,
                RowSide::Each(k) => {
                    let name = k.names[k.ids[i] as usize];
                    match SIDES.iter().position(|x| *x == name) {
                        Some(s) => s,
                        None => {
                            let expected = "instructions or settlements".into();
                            issues
                                .push("lineage file", issue("side", expected, format!("{name:?}")));
                            continue;
                        }
                    }
                }
            };
            let key = file.ids[i];
            let name = file.names[key as usize];
            let at = *resolved[s][key as usize]
                .get_or_insert_with(|| self.index.get(&(s, name.to_string())).copied());
            let Some(k) = at else {
                issues.push(
                    "lineage file",
                    issue(
                        "file",
                        format!("the path of one of summary.json's {} inputs", SIDES[s]),
                        format!("{name:?}"),
                    ),
                );
                continue;
            };
            self.placed += 1;
            let f = &mut self.files[k];
            if r < 1 || r as u64 > f.rows() {
                issues.push(
                    "lineage row",
                    issue(
                        "row",
                        format!(
                            "1 to {} (the rows of {:?} in summary.json)",
                            f.rows(),
                            f.path
                        ),
                        r.to_string(),
                    ),
                );
                continue;
            }
            if !f.mark(r as u64) {
                issues.push(
                    "lineage twice",
                    issue(
                        "(file, row)",
                        format!("{:?} row {r} in one output row only", f.path),
                        "that input row again (a row given twice)".into(),
                    ),
                );
            }
            if let (Some(want), Some(t)) = (&f.format, &format) {
                if t.value(i) != want {
                    issues.push(
                        "format",
                        issue(
                            "format",
                            format!("{want:?} (the format of {:?} in summary.json)", f.path),
                            format!("{:?}", t.value(i)),
                        ),
                    );
                }
            }
        }
        Ok(())
    }

    /// Reports the input rows no output row has, and what could not be checked: absent
    /// lineage columns are discrepancies under contract 2 (or an unreadable summary),
    /// warnings for a contract 1 folder. Returns the line for `checked`.
    pub(super) fn finish(
        self,
        contract: Option<u32>,
        issues: &mut RowIssues,
        r: &mut crate::verify::VerifyReport,
    ) -> String {
        for a in &self.absent {
            if contract.is_some_and(|c| c < 2) {
                r.warnings.push(format!(
                    "{a} (contract {} folder): row-by-row conservation not checked",
                    contract.unwrap_or(0)
                ));
            } else {
                let (file, col) = a.split_once(": ").unwrap_or(("(outputs)", a.as_str()));
                r.diff(
                    file,
                    "columns",
                    "the lineage columns of CONTRACT.md section 5 (v2)",
                    col,
                );
            }
        }
        if !self.skipped.is_empty() {
            return "lineage: not checked (columns missing)".into();
        }
        if let Some(why) = &self.untracked {
            r.diff(
                "summary.json",
                "inputs[].rows",
                "no more input rows than the outputs can hold",
                why,
            );
            return "lineage: rows not tracked".into();
        }
        let mut rows = 0u64;
        for f in &self.files {
            rows += f.given.iter().sum::<u64>();
            let outputs = format!("{} or {RF}", [IF, SF][f.side]);
            for m in f.missing() {
                issues.push(
                    "lineage missing",
                    Discrepancy {
                        file: f.path.clone(),
                        field: format!("row {m}"),
                        expected: format!("one row of {outputs}"),
                        found: "in no output (a row dropped)".into(),
                    },
                );
            }
        }
        format!(
            "lineage: each of the {rows} rows of {} input files is one output row ({} output rows placed), settlement formats",
            self.files.len(),
            self.placed
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(given: &[u64]) -> File {
        let n = given.iter().copied().max().unwrap_or(0) as usize;
        File {
            side: 1,
            path: "x.csv".into(),
            given: given.to_vec(),
            format: None,
            seen: if given.len() == 1 {
                Seen::Bits(vec![0; n.div_ceil(64)])
            } else {
                Seen::Counts(vec![0; n])
            },
        }
    }

    #[test]
    fn bits_find_rows_twice_and_missing_across_words() {
        let mut f = file(&[130]);
        for r in 1..=130 {
            if ![2, 64, 65, 130].contains(&r) {
                assert!(f.mark(r), "row {r}");
            }
        }
        assert!(!f.mark(1), "row 1 again");
        // Missing rows in the first, second and last (partial) word; none beyond 130.
        assert_eq!(f.missing().collect::<Vec<_>>(), [2, 64, 65, 130]);
        for r in [2, 64, 65, 130] {
            assert!(f.mark(r));
        }
        assert_eq!(f.missing().count(), 0);
    }

    #[test]
    fn a_path_given_twice_expects_each_row_twice() {
        // The same path read twice, the second time with fewer rows (a file that grew).
        let mut f = file(&[3, 2]);
        assert_eq!(f.missing().collect::<Vec<_>>(), [1, 2, 3]);
        assert!(f.mark(1) && f.mark(1) && !f.mark(1));
        assert!(f.mark(3) && !f.mark(3));
        assert_eq!(f.missing().collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn claimed_rows_beyond_the_outputs_are_not_allocated() {
        let s = [Source {
            side: "settlements",
            path: "x.csv",
            rows: u64::MAX,
            format: Some("csv"),
        }];
        let l = Lineage::new(&s, 10, false);
        assert!(l.untracked.is_some());
        assert!(matches!(l.files[0].seen, Seen::Off));
    }
}
