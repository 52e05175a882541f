//! `score`: compare a results folder (CONTRACT.md section 5) with a data set's truth.
//!
//! Keys (docs/REFERENCE-DATA.md): instructions by `instruction_id`, settlements by
//! (`provider`, `provider_ref`), rejects by (`side`, file name, `row`, `reason`).
//!
//! Both sides are in input order when all is well, so rows are joined by walking both
//! files in step; rows that arrive out of step wait in a map until their partner comes
//! (memory grows only with disorder). Leftovers are missing or extra rows.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use sverka_engine::summary::{Counts, TotalsByCcy};
use sverka_engine::Summary;

use crate::truth_summary::{TruthSummary, TruthTotals};

use crate::error::RefdataError;
use crate::generate::group_digits;
use crate::plan::flag;
use crate::read::{Batch, Dec, Rows, Table};

/// Most example disagreements listed.
pub const MAX_EXAMPLES: usize = 20;

/// Precision and recall of one flag.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FlagScore {
    pub true_positives: u64,
    pub false_positives: u64,
    pub false_negatives: u64,
    /// `tp / (tp + fp)` to four decimals, `None` when nothing was flagged.
    pub precision: Option<String>,
    /// `tp / (tp + fn)` to four decimals, `None` when nothing was expected.
    pub recall: Option<String>,
}

impl FlagScore {
    fn add(&mut self, expected: bool, actual: bool) {
        match (expected, actual) {
            (true, true) => self.true_positives += 1,
            (false, true) => self.false_positives += 1,
            (true, false) => self.false_negatives += 1,
            (false, false) => {}
        }
    }

    fn finish(&mut self) {
        self.precision = ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        );
        self.recall = ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        );
    }

    fn agrees(&self) -> bool {
        self.false_positives == 0 && self.false_negatives == 0
    }
}

/// `num / den` as decimal text with four places, by integer arithmetic.
fn ratio(num: u64, den: u64) -> Option<String> {
    if den == 0 {
        return None;
    }
    let scaled = u128::from(num) * 10_000 / u128::from(den);
    Some(format!("{}.{:04}", scaled / 10_000, scaled % 10_000))
}

/// `, what 99.50%` when something was compared, else nothing.
fn optional(what: &str, agree: u64, compared: u64) -> String {
    if compared == 0 {
        String::new()
    } else {
        format!("{what} {}", percent(agree, compared))
    }
}

fn percent(num: u64, den: u64) -> String {
    if den == 0 {
        return "-".into();
    }
    let bp = u128::from(num) * 10_000 / u128::from(den);
    format!("{}.{:02}%", bp / 100, bp % 100)
}

/// Rows of one kind (instructions or settlements) in the truth and in the results,
/// joined by key.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RowCounts {
    pub expected: u64,
    pub actual: u64,
    /// Expected rows absent from the results.
    pub missing: u64,
    /// Result rows absent from the truth (or their key's second row).
    pub extra: u64,
    pub paired: u64,
}

impl RowCounts {
    /// Counts a joined row (`truth`, `results`: either may be absent) and its cell of
    /// `table` (expected `label` -> actual `label`; `(extra)` or `(missing)` for an absent
    /// side). Hands a pair back; an unpaired row is counted missing or extra, with an
    /// example naming it (`name`).
    fn pair<T>(
        &mut self,
        (truth, results): (Option<T>, Option<T>),
        table: &mut BTreeMap<String, BTreeMap<String, u64>>,
        label: impl Fn(&T) -> &str,
        name: impl Fn() -> String,
        ex: &mut Examples,
    ) -> Option<(T, T)> {
        self.expected += u64::from(truth.is_some());
        self.actual += u64::from(results.is_some());
        let expected = truth.as_ref().map_or("(extra)", &label);
        let row = match table.get_mut(expected) {
            Some(row) => row,
            None => table.entry(expected.to_string()).or_default(),
        };
        bump(row, results.as_ref().map_or("(missing)", &label));
        match (truth, results) {
            (Some(e), Some(a)) => {
                self.paired += 1;
                return Some((e, a));
            }
            (Some(e), None) => {
                self.missing += 1;
                ex.add(|| {
                    format!(
                        "{}: expected ({}) but missing from the results",
                        name(),
                        label(&e)
                    )
                });
            }
            (None, Some(a)) => {
                self.extra += 1;
                ex.add(|| {
                    format!(
                        "{}: in the results ({}) but not expected",
                        name(),
                        label(&a)
                    )
                });
            }
            (None, None) => {}
        }
        None
    }
}

impl std::fmt::Display for RowCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} expected, {} in results, {} missing, {} extra",
            group_digits(self.expected),
            group_digits(self.actual),
            group_digits(self.missing),
            group_digits(self.extra),
        )
    }
}

/// Adds one to `key`'s count, making the key only when it is new (one row at a time:
/// most keys are there already).
fn bump(counts: &mut BTreeMap<String, u64>, key: &str) {
    match counts.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            counts.insert(key.to_string(), 1);
        }
    }
}

/// Instruction results against the truth.
#[derive(Clone, Debug, Default, Serialize)]
pub struct InstructionScore {
    #[serde(flatten)]
    pub rows: RowCounts,
    pub status_agree: u64,
    pub flags_agree: u64,
    pub paid_amount_agree: u64,
    /// Paired rows whose results have a `settlement_count` to compare.
    pub settlement_count_compared: u64,
    pub settlement_count_agree: u64,
    /// Results `flags` values not written as CONTRACT.md 4 says (unknown name, wrong
    /// order, repeated, stray separators).
    pub flags_not_canonical: u64,
    /// Where the row came from (`file` name and `row`, CONTRACT v2), compared when both
    /// the truth and the results have them.
    #[serde(flatten)]
    pub position: Compared,
    /// Expected status -> actual status -> rows; `(missing)` / `(extra)` for unpaired rows.
    pub confusion: BTreeMap<String, BTreeMap<String, u64>>,
    pub flags: BTreeMap<String, FlagScore>,
}

/// Settlement results against the truth.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SettlementScore {
    #[serde(flatten)]
    pub rows: RowCounts,
    /// Same method and same matched instruction.
    pub match_agree: u64,
    pub flags_agree: u64,
    /// Where the row came from (`file` name and `row`), when both sides have them.
    #[serde(flatten)]
    pub position: Compared,
    /// The file's `format` (`csv`, `camt.053`, `mt940`, ...), when both sides have it.
    pub format_compared: u64,
    pub format_agree: u64,
    /// Expected method -> actual method -> rows.
    pub methods: BTreeMap<String, BTreeMap<String, u64>>,
    pub ambiguous: FlagScore,
}

/// Paired rows whose `file` and `row` were compared (both sides have them), and how
/// many agree.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Compared {
    pub position_compared: u64,
    pub position_agree: u64,
}

impl Compared {
    /// Compares two optional (file name, row) positions; `name` names the row.
    fn add(
        &mut self,
        e: &Option<(String, i64)>,
        a: &Option<(String, i64)>,
        name: impl Fn() -> String,
        ex: &mut Examples,
    ) {
        let (Some(e), Some(a)) = (e, a) else {
            return;
        };
        self.position_compared += 1;
        if e == a {
            self.position_agree += 1;
        } else {
            ex.add(|| {
                format!(
                    "{}: from {} row {} expected, {} row {} in results",
                    name(),
                    e.0,
                    e.1,
                    a.0,
                    a.1
                )
            });
        }
    }

    fn agrees(&self) -> bool {
        self.position_agree == self.position_compared
    }
}

/// Reject results against the truth.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RejectScore {
    pub expected: u64,
    pub actual: u64,
    pub agree: u64,
    /// Expected rejects absent from the results, by reason.
    pub missing_by_reason: BTreeMap<String, u64>,
    /// Result rejects absent from the truth, by reason.
    pub extra_by_reason: BTreeMap<String, u64>,
}

/// One count or total compared.
#[derive(Clone, Debug, Serialize)]
pub struct ScoreCheck {
    pub name: String,
    pub expected: String,
    pub actual: String,
    pub ok: bool,
}

/// The comparison. `Display` prints one screen.
#[derive(Clone, Debug, Serialize)]
pub struct ScoreReport {
    pub truth: PathBuf,
    pub results: PathBuf,
    pub full_agreement: bool,
    pub instructions: InstructionScore,
    pub settlements: SettlementScore,
    pub rejects: RejectScore,
    /// Conservation, summary.json against the row files, totals against the truth.
    pub checks: Vec<ScoreCheck>,
    /// Number of disagreements found (rows and checks).
    pub disagreements: u64,
    /// Up to [`MAX_EXAMPLES`] of them.
    pub examples: Vec<String>,
}

impl ScoreReport {
    /// True only when every row, reject, count and total agrees.
    pub fn full_agreement(&self) -> bool {
        self.full_agreement
    }
}

#[derive(Default)]
struct Examples {
    n: u64,
    list: Vec<String>,
}

impl Examples {
    fn add(&mut self, f: impl FnOnce() -> String) {
        self.n += 1;
        if self.list.len() < MAX_EXAMPLES {
            self.list.push(f());
        }
    }
}

/// A row of the truth, of the results, or of both.
enum Joined<T, R> {
    Pair(T, R),
    Missing(T),
    Extra(R),
}

impl<T> Joined<T, T> {
    /// The truth's row and the results' row, either absent for an unpaired row.
    fn sides(self) -> (Option<T>, Option<T>) {
        match self {
            Joined::Pair(e, a) => (Some(e), Some(a)),
            Joined::Missing(e) => (Some(e), None),
            Joined::Extra(a) => (None, Some(a)),
        }
    }
}

/// Walks two keyed row streams in step; see the module documentation.
fn zip_join<K, T, R>(
    truth: impl Iterator<Item = Result<(K, T), RefdataError>>,
    results: impl Iterator<Item = Result<(K, R), RefdataError>>,
    mut visit: impl FnMut(&K, Joined<T, R>),
) -> Result<(), RefdataError>
where
    K: Hash + Eq + Ord + Clone,
{
    let mut truth = truth.fuse();
    let mut results = results.fuse();
    let mut wait_t: HashMap<K, T> = HashMap::new();
    let mut wait_r: HashMap<K, R> = HashMap::new();
    let mut extra_rows: Vec<(K, R)> = Vec::new();
    loop {
        let t = truth.next().transpose()?;
        let r = results.next().transpose()?;
        let (t, r) = match (t, r) {
            (None, None) => break,
            (Some((kt, vt)), Some((kr, vr))) if kt == kr && !wait_t.contains_key(&kt) => {
                visit(&kt, Joined::Pair(vt, vr));
                continue;
            }
            other => other,
        };
        if let Some((kt, vt)) = t {
            match wait_r.remove(&kt) {
                Some(vr) => visit(&kt, Joined::Pair(vt, vr)),
                None => {
                    wait_t.insert(kt, vt);
                }
            }
        }
        if let Some((kr, vr)) = r {
            if let Some(vt) = wait_t.remove(&kr) {
                visit(&kr, Joined::Pair(vt, vr));
            } else {
                match wait_r.entry(kr) {
                    // The same key twice in the results.
                    Entry::Occupied(e) => extra_rows.push((e.key().clone(), vr)),
                    Entry::Vacant(e) => {
                        e.insert(vr);
                    }
                }
            }
        }
    }
    let mut left_t: Vec<(K, T)> = wait_t.into_iter().collect();
    left_t.sort_by(|a, b| a.0.cmp(&b.0));
    for (k, v) in left_t {
        visit(&k, Joined::Missing(v));
    }
    extra_rows.extend(wait_r);
    extra_rows.sort_by(|a, b| a.0.cmp(&b.0));
    for (k, v) in extra_rows {
        visit(&k, Joined::Extra(v));
    }
    Ok(())
}

struct InstrRec {
    status: String,
    flags: String,
    paid: Option<Dec>,
    count: Option<i64>,
    position: Option<(String, i64)>,
}

impl InstrRec {
    /// What the status confusion table counts.
    fn status(&self) -> &str {
        &self.status
    }
}

struct SettRec {
    method: String,
    matched: String,
    flags: String,
    position: Option<(String, i64)>,
    format: Option<String>,
}

impl SettRec {
    /// What the method table counts.
    fn method(&self) -> &str {
        &self.method
    }
}

/// Parses a flags value: known flag bits, and whether it is canonical.
fn parse_flags(s: &str) -> (u8, bool) {
    if s.is_empty() {
        return (0, true);
    }
    let mut bits = 0u8;
    let mut canonical = true;
    let mut last: Option<usize> = None;
    for tok in s.split(';') {
        match flag::NAMES.iter().position(|n| *n == tok) {
            Some(i) => {
                if last.is_some_and(|l| l >= i) {
                    canonical = false;
                }
                last = Some(i);
                bits |= 1 << i;
            }
            None => canonical = false,
        }
    }
    (bits, canonical)
}

fn text_at(
    t: &Table,
    b: &Batch,
    col: usize,
    name: &str,
    row: usize,
    file_row: u64,
) -> Result<Option<String>, RefdataError> {
    match b.col(col) {
        None => Ok(None),
        Some(c) => c
            .text(row)
            .map(|v| v.map(str::to_string))
            .map_err(|p| t.value_error(file_row, name, &p)),
    }
}

fn required_text(
    t: &Table,
    b: &Batch,
    col: usize,
    name: &str,
    row: usize,
    file_row: u64,
) -> Result<String, RefdataError> {
    text_at(t, b, col, name, row, file_row)?.ok_or_else(|| t.value_error(file_row, name, "is null"))
}

const INSTR_COLS: [(&str, bool); 7] = [
    ("instruction_id", true),
    ("status", true),
    ("flags", true),
    ("paid_amount", true),
    ("settlement_count", false),
    ("file", false),
    ("row", false),
];

/// The optional `file` (as a file name) and `row` columns at `col` and `col + 1`.
fn position_at(
    t: &Table,
    b: &Batch,
    col: usize,
    row: usize,
    file_row: u64,
) -> Result<Option<(String, i64)>, RefdataError> {
    let file = text_at(t, b, col, "file", row, file_row)?;
    let r = match b.col(col + 1) {
        Some(c) => c.int(row).map_err(|p| t.value_error(file_row, "row", &p))?,
        None => None,
    };
    Ok(match (file, r) {
        (Some(f), Some(r)) => {
            let name = f.rsplit(['/', '\\']).next().unwrap_or(&f).to_string();
            Some((name, r))
        }
        _ => None,
    })
}

fn instr_rows(table: Table) -> impl Iterator<Item = Result<(String, InstrRec), RefdataError>> {
    Rows::new(table, |t: &Table, b: &Batch, row: usize, file_row: u64| {
        let id = required_text(t, b, 0, "instruction_id", row, file_row)?;
        let status = required_text(t, b, 1, "status", row, file_row)?;
        let flags = text_at(t, b, 2, "flags", row, file_row)?.unwrap_or_default();
        let paid = match b.col(3) {
            Some(c) => c
                .dec(row)
                .map_err(|p| t.value_error(file_row, "paid_amount", &p))?,
            None => None,
        };
        let count = match b.col(4) {
            Some(c) => c
                .int(row)
                .map_err(|p| t.value_error(file_row, "settlement_count", &p))?,
            None => None,
        };
        let position = position_at(t, b, 5, row, file_row)?;
        Ok((
            id,
            InstrRec {
                status,
                flags,
                paid,
                count,
                position,
            },
        ))
    })
}

const SETT_COLS: [(&str, bool); 8] = [
    ("provider", true),
    ("provider_ref", true),
    ("match_method", true),
    ("matched_instruction_id", true),
    ("flags", true),
    ("file", false),
    ("row", false),
    ("format", false),
];

fn sett_rows(
    table: Table,
) -> impl Iterator<Item = Result<((String, String), SettRec), RefdataError>> {
    Rows::new(table, |t: &Table, b: &Batch, row: usize, file_row: u64| {
        let provider = required_text(t, b, 0, "provider", row, file_row)?;
        let provider_ref = required_text(t, b, 1, "provider_ref", row, file_row)?;
        let method = required_text(t, b, 2, "match_method", row, file_row)?;
        let matched =
            text_at(t, b, 3, "matched_instruction_id", row, file_row)?.unwrap_or_default();
        let flags = text_at(t, b, 4, "flags", row, file_row)?.unwrap_or_default();
        let position = position_at(t, b, 5, row, file_row)?;
        let format = text_at(t, b, 7, "format", row, file_row)?;
        Ok((
            (provider, provider_ref),
            SettRec {
                method,
                matched,
                flags,
                position,
                format,
            },
        ))
    })
}

const REJECT_COLS: [(&str, bool); 4] = [
    ("side", true),
    ("file", true),
    ("row", true),
    ("reason", true),
];

type RejectKey = (String, String, i64, String);

fn reject_rows(table: Table) -> impl Iterator<Item = Result<(RejectKey, ()), RefdataError>> {
    Rows::new(table, |t: &Table, b: &Batch, row: usize, file_row: u64| {
        let side = required_text(t, b, 0, "side", row, file_row)?;
        let file = required_text(t, b, 1, "file", row, file_row)?;
        let name = file.rsplit(['/', '\\']).next().unwrap_or(&file).to_string();
        let r = b
            .col(2)
            .map(|c| c.int(row))
            .transpose()
            .map_err(|p| t.value_error(file_row, "row", &p))?
            .flatten()
            .ok_or_else(|| t.value_error(file_row, "row", "is null"))?;
        let reason = required_text(t, b, 3, "reason", row, file_row)?;
        Ok(((side, name, r, reason), ()))
    })
}

const TRUTH_REMEDY: &str =
    "point --truth at the truth folder of a data set made by `sverka generate` (DIR/truth)";
const RESULTS_REMEDY: &str =
    "point --results at a folder written by `sverka reconcile --out RESULTS` (CONTRACT.md section 5)";

/// A summary.json as its type; `what` names the type in the error.
fn read_json<T: DeserializeOwned>(
    path: &Path,
    what: &str,
    remedy: &str,
) -> Result<T, RefdataError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| RefdataError::bad_input(path, format!("cannot read ({e})"), remedy))?;
    serde_json::from_str(&text).map_err(|e| {
        let why = if e.is_data() {
            format!("not {what} ({e})")
        } else {
            format!("not valid JSON ({e})")
        };
        RefdataError::bad_input(path, why, remedy)
    })
}

/// The truth folder: `truth` itself, or `truth/truth` when given the data set folder.
fn truth_dir(truth: &Path) -> PathBuf {
    if !truth.join("instructions.parquet").exists()
        && truth.join("truth").join("instructions.parquet").exists()
    {
        truth.join("truth")
    } else {
        truth.to_path_buf()
    }
}

/// The two folders and their summary.json files.
struct Inputs<'a> {
    /// The truth folder proper (see [`truth_dir`]).
    truth: PathBuf,
    results: &'a Path,
    /// Absent in hand-made truths.
    truth_summary: Option<TruthSummary>,
    results_summary: Summary,
}

impl<'a> Inputs<'a> {
    /// Checks that both are folders and reads their summary.json.
    fn read(truth: &Path, results: &'a Path) -> Result<Self, RefdataError> {
        for (dir, remedy) in [(truth, TRUTH_REMEDY), (results, RESULTS_REMEDY)] {
            if !dir.is_dir() {
                return Err(RefdataError::bad_input(dir, "not a folder", remedy));
            }
        }
        let truth = truth_dir(truth);
        // Optional: only its totals are compared (hand-made truths may not have one).
        let truth_summary = match truth.join("summary.json") {
            p if p.exists() => Some(read_json(&p, "a truth summary", TRUTH_REMEDY)?),
            _ => None,
        };
        let results_summary = read_json(
            &results.join("summary.json"),
            "a reconciliation summary",
            RESULTS_REMEDY,
        )?;
        Ok(Inputs {
            truth,
            results,
            truth_summary,
            results_summary,
        })
    }

    /// Opens the file `name` of the truth, then of the results.
    fn open(
        &self,
        name: &str,
        columns: &[(&'static str, bool)],
    ) -> Result<(Table, Table), RefdataError> {
        let t = Table::open(&self.truth.join(name), columns, TRUTH_REMEDY)?;
        let r = Table::open(&self.results.join(name), columns, RESULTS_REMEDY)?;
        Ok((t, r))
    }
}

/// What the checks count beyond the scores: the results' row files by status, flag and
/// method (against their summary.json), and rejects by side (instructions, settlements).
#[derive(Default)]
struct Tally {
    status: BTreeMap<String, u64>,
    flags: BTreeMap<String, u64>,
    methods: BTreeMap<String, u64>,
    ambiguous: u64,
    expected_rejects: [u64; 2],
    actual_rejects: [u64; 2],
}

/// Compares the results folder `results` with the truth folder `truth` (a data set
/// folder is accepted too).
pub fn score(truth: &Path, results: &Path) -> Result<ScoreReport, RefdataError> {
    let inputs = Inputs::read(truth, results)?;
    let mut tally = Tally::default();
    let mut ex = Examples::default();
    let instructions = join_instructions(&inputs, &mut tally, &mut ex)?;
    let settlements = join_settlements(&inputs, &mut tally, &mut ex)?;
    let rejects = join_rejects(&inputs, &mut tally, &mut ex)?;
    let checks = checks(&inputs, &instructions, &settlements, &tally);
    for c in checks.iter().filter(|c| !c.ok) {
        ex.add(|| format!("{}: {} expected, {} found", c.name, c.expected, c.actual));
    }
    let full = instructions.agrees()
        && settlements.agrees()
        && rejects.agrees()
        && checks.iter().all(|c| c.ok);
    debug_assert!(
        !full || ex.n == 0,
        "full agreement with disagreements listed"
    );
    Ok(ScoreReport {
        truth: inputs.truth,
        results: results.to_path_buf(),
        full_agreement: full && ex.n == 0,
        instructions,
        settlements,
        rejects,
        checks,
        disagreements: ex.n,
        examples: ex.list,
    })
}

/// Joins the instructions: the status table, each flag's score, and each paired row's
/// fields.
fn join_instructions(
    inputs: &Inputs,
    tally: &mut Tally,
    ex: &mut Examples,
) -> Result<InstructionScore, RefdataError> {
    let mut s = InstructionScore::default();
    let mut flag_scores: Vec<FlagScore> = vec![FlagScore::default(); flag::NAMES.len()];
    let (t, r) = inputs.open("instructions.parquet", &INSTR_COLS)?;
    zip_join(instr_rows(t), instr_rows(r), |id, joined| {
        let (e, a) = joined.sides();
        if let Some(a) = &a {
            bump(&mut tally.status, &a.status);
            for tok in a.flags.split(';').filter(|t| !t.is_empty()) {
                bump(&mut tally.flags, tok);
            }
        }
        let eb = e.as_ref().map_or(0, |e| parse_flags(&e.flags).0);
        let (ab, canonical) = a.as_ref().map_or((0, true), |a| parse_flags(&a.flags));
        for (k, f) in flag_scores.iter_mut().enumerate() {
            f.add(eb & (1 << k) != 0, ab & (1 << k) != 0);
        }
        let name = || format!("instruction {id}");
        if let Some((e, a)) = s
            .rows
            .pair((e, a), &mut s.confusion, InstrRec::status, name, ex)
        {
            s.compare(id, (&e, &a), (eb, ab, canonical), ex);
        }
    })?;
    for (name, mut f) in flag::NAMES.iter().zip(flag_scores) {
        f.finish();
        s.flags.insert(name.to_string(), f);
    }
    Ok(s)
}

impl InstructionScore {
    /// Compares a paired row's status, flags (`flags`: the truth's bits, the results'
    /// bits, whether the results' text is canonical), paid amount and settlement count.
    fn compare(
        &mut self,
        id: &str,
        (e, a): (&InstrRec, &InstrRec),
        (eb, ab, canonical): (u8, u8, bool),
        ex: &mut Examples,
    ) {
        if e.status == a.status {
            self.status_agree += 1;
        } else {
            ex.add(|| {
                format!(
                    "instruction {id}: status {} expected, {} in results",
                    e.status, a.status
                )
            });
        }
        if !canonical {
            self.flags_not_canonical += 1;
            ex.add(|| {
                format!(
                    "instruction {id}: flags {:?} not written as CONTRACT.md 4 says",
                    a.flags
                )
            });
        } else if eb == ab {
            self.flags_agree += 1;
        } else {
            ex.add(|| {
                format!(
                    "instruction {id}: flags {:?} expected, {:?} in results",
                    e.flags, a.flags
                )
            });
        }
        match (e.paid, a.paid) {
            (Some(x), Some(y)) if x.same_value(y) => self.paid_amount_agree += 1,
            (x, y) => ex.add(|| paid_example(id, x, y)),
        }
        let name = || format!("instruction {id}");
        self.position.add(&e.position, &a.position, name, ex);
        if let (Some(x), Some(y)) = (e.count, a.count) {
            self.settlement_count_compared += 1;
            if x == y {
                self.settlement_count_agree += 1;
            } else {
                ex.add(|| {
                    format!("instruction {id}: settlement_count {x} expected, {y} in results")
                });
            }
        }
    }

    /// Every row paired and every field and flag agrees.
    fn agrees(&self) -> bool {
        self.rows.missing == 0
            && self.rows.extra == 0
            && self.status_agree == self.rows.paired
            && self.flags_agree == self.rows.paired
            && self.paid_amount_agree == self.rows.paired
            && self.settlement_count_agree == self.settlement_count_compared
            && self.position.agrees()
            && self.flags_not_canonical == 0
            && self.flags.values().all(FlagScore::agrees)
    }
}

/// The example for paid amounts that differ (`x` the truth's, `y` the results').
fn paid_example(id: &str, x: Option<Dec>, y: Option<Dec>) -> String {
    let show = |d: Option<Dec>| d.map_or("null".to_string(), |d| d.to_string());
    // The results' column may carry more decimals than the currency's.
    let y = match (x, y) {
        (Some(x), Some(y)) => Some(y.scaled_like(x)),
        _ => y,
    };
    format!(
        "instruction {id}: paid_amount {} expected, {} in results",
        show(x),
        show(y)
    )
}

/// Joins the settlements: the method table, the AMBIGUOUS score, and each paired row's
/// match and flags.
fn join_settlements(
    inputs: &Inputs,
    tally: &mut Tally,
    ex: &mut Examples,
) -> Result<SettlementScore, RefdataError> {
    let mut s = SettlementScore::default();
    let (t, r) = inputs.open("settlements.parquet", &SETT_COLS)?;
    zip_join(sett_rows(t), sett_rows(r), |(p, pr), joined| {
        let (e, a) = joined.sides();
        let e_amb = e.as_ref().is_some_and(|e| e.flags == flag::AMBIGUOUS);
        let a_amb = a.as_ref().is_some_and(|a| a.flags == flag::AMBIGUOUS);
        s.ambiguous.add(e_amb, a_amb);
        if let Some(a) = &a {
            bump(&mut tally.methods, &a.method);
            if a_amb {
                tally.ambiguous += 1;
            }
        }
        let name = || format!("settlement {p}/{pr}");
        if let Some((e, a)) = s
            .rows
            .pair((e, a), &mut s.methods, SettRec::method, name, ex)
        {
            s.compare((p.as_str(), pr.as_str()), (&e, &a), ex);
        }
    })?;
    s.ambiguous.finish();
    Ok(s)
}

impl SettlementScore {
    /// Compares a paired row's match (method and instruction) and flags.
    fn compare(&mut self, (p, pr): (&str, &str), (e, a): (&SettRec, &SettRec), ex: &mut Examples) {
        if e.method == a.method && e.matched == a.matched {
            self.match_agree += 1;
        } else {
            ex.add(|| {
                format!(
                    "settlement {p}/{pr}: {} {:?} expected, {} {:?} in results",
                    e.method, e.matched, a.method, a.matched
                )
            });
        }
        if e.flags == a.flags {
            self.flags_agree += 1;
        } else {
            ex.add(|| {
                format!(
                    "settlement {p}/{pr}: flags {:?} expected, {:?} in results",
                    e.flags, a.flags
                )
            });
        }
        let name = || format!("settlement {p}/{pr}");
        self.position.add(&e.position, &a.position, name, ex);
        if let (Some(x), Some(y)) = (&e.format, &a.format) {
            self.format_compared += 1;
            if x == y {
                self.format_agree += 1;
            } else {
                ex.add(|| format!("settlement {p}/{pr}: format {x} expected, {y} in results"));
            }
        }
    }

    /// Every row paired and matched alike, with the same flags.
    fn agrees(&self) -> bool {
        self.rows.missing == 0
            && self.rows.extra == 0
            && self.match_agree == self.rows.paired
            && self.flags_agree == self.rows.paired
            && self.position.agrees()
            && self.format_agree == self.format_compared
    }
}

/// Joins the rejects: each expected reject found, each found reject expected.
fn join_rejects(
    inputs: &Inputs,
    tally: &mut Tally,
    ex: &mut Examples,
) -> Result<RejectScore, RefdataError> {
    let mut s = RejectScore::default();
    let (t, r) = inputs.open("rejects.parquet", &REJECT_COLS)?;
    zip_join(reject_rows(t), reject_rows(r), |k, joined| {
        s.add(k, joined, tally, ex)
    })?;
    Ok(s)
}

impl RejectScore {
    fn add(&mut self, k: &RejectKey, joined: Joined<(), ()>, tally: &mut Tally, ex: &mut Examples) {
        let side = usize::from(k.0 != "instructions");
        match joined {
            Joined::Pair((), ()) => {
                self.expected += 1;
                self.actual += 1;
                self.agree += 1;
                tally.actual_rejects[side] += 1;
                tally.expected_rejects[side] += 1;
            }
            Joined::Missing(()) => {
                self.expected += 1;
                tally.expected_rejects[side] += 1;
                *self.missing_by_reason.entry(k.3.clone()).or_default() += 1;
                ex.add(|| {
                    format!(
                        "reject {} {} row {}: {} expected, missing from the results",
                        k.0, k.1, k.2, k.3
                    )
                });
            }
            Joined::Extra(()) => {
                self.actual += 1;
                tally.actual_rejects[side] += 1;
                *self.extra_by_reason.entry(k.3.clone()).or_default() += 1;
                ex.add(|| {
                    format!(
                        "reject {} {} row {}: {} in the results, not expected",
                        k.0, k.1, k.2, k.3
                    )
                });
            }
        }
    }

    /// Every expected reject found and nothing else.
    fn agrees(&self) -> bool {
        self.agree == self.expected && self.agree == self.actual
    }
}

/// Conservation, the results' summary.json counts against its row files, and its totals
/// against the truth's.
fn checks(
    inputs: &Inputs,
    is: &InstructionScore,
    ss: &SettlementScore,
    tally: &Tally,
) -> Vec<ScoreCheck> {
    let mut checks = Vec::new();
    let mut check = |name: String, expected: String, actual: String| {
        let ok = expected == actual;
        checks.push(ScoreCheck {
            name,
            expected,
            actual,
            ok,
        });
    };
    count_checks(&inputs.results_summary.counts, (is, ss, tally), &mut check);
    if let Some(truth) = &inputs.truth_summary {
        compare_totals(&truth.totals, &inputs.results_summary.totals, &mut check);
    }
    checks
}

/// Rows conserved (truth's rows and rejects against the results'), and the results'
/// summary.json `counts` against its row files.
fn count_checks(
    rcounts: &Counts,
    (is, ss, tally): (&InstructionScore, &SettlementScore, &Tally),
    check: &mut impl FnMut(String, String, String),
) {
    let (expected_rejects, actual_rejects) = (tally.expected_rejects, tally.actual_rejects);
    check(
        "conservation: truth instructions + rejects = result instructions + rejects".into(),
        (is.rows.expected + expected_rejects[0]).to_string(),
        (is.rows.actual + actual_rejects[0]).to_string(),
    );
    check(
        "conservation: truth settlements + rejects = result settlements + rejects".into(),
        (ss.rows.expected + expected_rejects[1]).to_string(),
        (ss.rows.actual + actual_rejects[1]).to_string(),
    );
    let c = rcounts;
    let files_say = [
        (
            "instructions_in",
            is.rows.actual + actual_rejects[0],
            c.instructions_in,
        ),
        (
            "instructions_accepted",
            is.rows.actual,
            c.instructions_accepted,
        ),
        (
            "settlements_in",
            ss.rows.actual + actual_rejects[1],
            c.settlements_in,
        ),
        (
            "settlements_accepted",
            ss.rows.actual,
            c.settlements_accepted,
        ),
    ];
    for (key, n, found) in files_say {
        check(
            format!("summary.json counts.{key} = row files"),
            n.to_string(),
            found.to_string(),
        );
    }
    check(
        "summary.json counts.rejects.instructions = rejects.parquet".into(),
        actual_rejects[0].to_string(),
        c.rejects.instructions.to_string(),
    );
    check(
        "summary.json counts.rejects.settlements = rejects.parquet".into(),
        actual_rejects[1].to_string(),
        c.rejects.settlements.to_string(),
    );
    let mut flags_in_files = tally.flags.clone();
    if tally.ambiguous > 0 {
        *flags_in_files
            .entry(flag::AMBIGUOUS.to_string())
            .or_default() += tally.ambiguous;
    }
    for (key, files, found) in [
        ("by_status", &tally.status, &c.by_status),
        ("by_flag", &flags_in_files, &c.by_flag),
        ("by_match", &tally.methods, &c.by_match),
    ] {
        let found: BTreeMap<String, u64> = found.iter().map(|(k, n)| (k.to_string(), n)).collect();
        check(
            format!("summary.json counts.{key} = row files"),
            show_counts(files),
            show_counts(&found),
        );
    }
}

fn show_counts(m: &BTreeMap<String, u64>) -> String {
    let parts: Vec<String> = m
        .iter()
        .filter(|(_, v)| **v > 0)
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// `totals` of the truth against the results' summary.json, per currency and field.
/// Field by field by name: the truth's totals have fewer fields than the results'.
fn compare_totals(
    truth: &BTreeMap<String, TruthTotals>,
    results: &TotalsByCcy,
    check: &mut impl FnMut(String, String, String),
) {
    let object = |v: serde_json::Result<Value>| match v {
        Ok(Value::Object(o)) => o,
        _ => serde_json::Map::new(),
    };
    let t = object(serde_json::to_value(truth));
    let results = Value::Object(object(serde_json::to_value(results)));
    let show = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "(absent)".to_string(),
        other => other.to_string(),
    };
    for (cur, fields) in &t {
        let Some(fields) = fields.as_object() else {
            continue;
        };
        for (field, tv) in fields {
            let rv = &results[cur][field];
            let same = match (tv, rv) {
                (Value::String(a), Value::String(b)) => match (Dec::parse(a), Dec::parse(b)) {
                    (Some(x), Some(y)) => x.same_value(y),
                    _ => a == b,
                },
                (a, b) => a == b,
            };
            let expected = show(tv);
            let actual = if same { expected.clone() } else { show(rv) };
            check(
                format!("summary.json totals.{cur}.{field}"),
                expected,
                actual,
            );
        }
    }
    if let Some(r) = results.as_object() {
        for cur in r.keys().filter(|c| !t.contains_key(*c)) {
            check(
                format!("summary.json totals.{cur}"),
                "(absent)".into(),
                "present".into(),
            );
        }
    }
}

impl std::fmt::Display for ScoreReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verdict = if self.full_agreement {
            "FULL AGREEMENT".to_string()
        } else {
            format!("{} DISAGREEMENT(S)", group_digits(self.disagreements))
        };
        writeln!(
            f,
            "score: {} vs {}: {verdict}",
            self.results.display(),
            self.truth.display()
        )?;
        let i = &self.instructions;
        writeln!(
            f,
            "instructions  {}; status {}, flags {}, paid_amount {}{}",
            i.rows,
            percent(i.status_agree, i.rows.paired),
            percent(i.flags_agree, i.rows.paired),
            percent(i.paid_amount_agree, i.rows.paired),
            optional(
                ", file/row",
                i.position.position_agree,
                i.position.position_compared
            ),
        )?;
        let off: Vec<String> = i
            .confusion
            .iter()
            .flat_map(|(e, row)| {
                row.iter()
                    .filter(move |(a, _)| *a != e)
                    .map(move |(a, n)| format!("{e}->{a} {n}"))
            })
            .collect();
        if !off.is_empty() {
            writeln!(
                f,
                "  status confusion (expected->actual): {}",
                off.join(", ")
            )?;
        }
        self.write_flag_table(f)?;
        let s = &self.settlements;
        writeln!(
            f,
            "settlements   {}; match (method + id) {}{}{}",
            s.rows,
            percent(s.match_agree, s.rows.paired),
            optional(
                ", file/row",
                s.position.position_agree,
                s.position.position_compared
            ),
            optional(", format", s.format_agree, s.format_compared),
        )?;
        let r = &self.rejects;
        let by = |m: &BTreeMap<String, u64>| {
            if m.is_empty() {
                "none".to_string()
            } else {
                m.iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        writeln!(
            f,
            "rejects       {} expected, {} in results, {} agree; missing: {}; extra: {}",
            group_digits(r.expected),
            group_digits(r.actual),
            group_digits(r.agree),
            by(&r.missing_by_reason),
            by(&r.extra_by_reason)
        )?;
        let bad = self.checks.iter().filter(|c| !c.ok).count();
        write!(
            f,
            "checks        {} of {} counts and totals agree",
            self.checks.len() - bad,
            self.checks.len()
        )?;
        if !self.examples.is_empty() {
            write!(f, "\nexamples:")?;
            for e in &self.examples {
                write!(f, "\n  {e}")?;
            }
        }
        Ok(())
    }
}

impl ScoreReport {
    /// Precision and recall of each flag, AMBIGUOUS (a settlement flag) last.
    fn write_flag_table(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "  {:<22} {:>10} {:>8} {:>8} {:>9} {:>7}",
            "flag", "tp", "fp", "fn", "precision", "recall"
        )?;
        let mut flags: Vec<(&String, &FlagScore)> = self.instructions.flags.iter().collect();
        let amb = ("AMBIGUOUS".to_string(), &self.settlements.ambiguous);
        flags.push((&amb.0, amb.1));
        for (name, s) in flags {
            writeln!(
                f,
                "  {:<22} {:>10} {:>8} {:>8} {:>9} {:>7}",
                name,
                group_digits(s.true_positives),
                group_digits(s.false_positives),
                group_digits(s.false_negatives),
                s.precision.as_deref().unwrap_or("-"),
                s.recall.as_deref().unwrap_or("-")
            )?;
        }
        Ok(())
    }
}
