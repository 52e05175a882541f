//! Decisions (CONTRACT.md section 8): what a person decided about an exception, read
//! from the decision files and resolved against the run's accepted rows before matching.
//!
//! Every row of every decision file ends as exactly one decision with an outcome:
//! `APPLIED`, `PENDING` (not approved by a second person, or no action chosen yet) or
//! `REFUSED` (with its reason). The checks, in this order (the contract leaves the order
//! open; a decision that could never apply is refused before its approval is looked at):
//! malformed row; empty `decision_id`; a `decision_id` an earlier row has; no action
//! (pending); unknown action; a field the action needs is empty; the settlement or
//! instruction it names is not accepted in this run; maker-checker (pending); the
//! settlement was already touched by an earlier applied decision.

use rayon::prelude::*;

use crate::error::Result;
use crate::group::{self, Index};
use crate::ingest::{FileStats, InputFile};
use crate::matching::NO_MATCH;
use crate::schema::{ins, set, Columns, Field, Kind, Reason as RejectReason, Side};
use crate::table::Table;

/// A decision file's columns (CONTRACT.md section 8), in this order everywhere sverka
/// writes them (`decisions.parquet`, the worksheet's first eight).
pub const COLUMNS: [&str; 8] = [
    "decision_id",
    "action",
    "provider",
    "provider_ref",
    "instruction_id",
    "note",
    "decided_by",
    "approved_by",
];

/// The decision files as a side: each column must be in every file, any value may be
/// empty.
pub const DECISIONS: Side = Side::Custom(&Columns {
    name: "decisions",
    fields: &[
        Field::in_every_file(COLUMNS[col::ID], Kind::Text),
        Field::in_every_file(COLUMNS[col::ACTION], Kind::Text),
        Field::in_every_file(COLUMNS[col::PROVIDER], Kind::Text),
        Field::in_every_file(COLUMNS[col::REF], Kind::Text),
        Field::in_every_file(COLUMNS[col::INSTRUCTION], Kind::Text),
        Field::in_every_file(COLUMNS[col::NOTE], Kind::Text),
        Field::in_every_file(COLUMNS[col::DECIDED_BY], Kind::Text),
        Field::in_every_file(COLUMNS[col::APPROVED_BY], Kind::Text),
    ],
});

/// Positions of the columns in [`COLUMNS`] (and of [`Decision::field`]).
mod col {
    pub const ID: usize = 0;
    pub const ACTION: usize = 1;
    pub const PROVIDER: usize = 2;
    pub const REF: usize = 3;
    pub const INSTRUCTION: usize = 4;
    pub const NOTE: usize = 5;
    pub const DECIDED_BY: usize = 6;
    pub const APPROVED_BY: usize = 7;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Match,
    Unmatch,
    Accept,
}

impl Action {
    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "MATCH" => Some(Action::Match),
            "UNMATCH" => Some(Action::Unmatch),
            "ACCEPT" => Some(Action::Accept),
            _ => None,
        }
    }

    /// The columns the action needs a value in.
    fn needs(self) -> &'static [usize] {
        match self {
            Action::Match => &[col::PROVIDER, col::REF, col::INSTRUCTION],
            Action::Unmatch => &[col::PROVIDER, col::REF],
            Action::Accept => &[col::INSTRUCTION, col::NOTE],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Outcome {
    Applied = 0,
    Pending = 1,
    Refused = 2,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "APPLIED",
            Outcome::Pending => "PENDING",
            Outcome::Refused => "REFUSED",
        }
    }
}

/// Why a decision is pending or refused, in the order they are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    MalformedRow,
    MissingDecisionId,
    DuplicateDecisionId,
    NoAction,
    UnknownAction,
    MissingField,
    UnknownSettlement,
    UnknownInstruction,
    NotApproved,
    SelfApproved,
    SettlementAlreadyDecided,
}

impl Reason {
    pub const ALL: [Reason; 11] = [
        Reason::MalformedRow,
        Reason::MissingDecisionId,
        Reason::DuplicateDecisionId,
        Reason::NoAction,
        Reason::UnknownAction,
        Reason::MissingField,
        Reason::UnknownSettlement,
        Reason::UnknownInstruction,
        Reason::NotApproved,
        Reason::SelfApproved,
        Reason::SettlementAlreadyDecided,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::MalformedRow => "malformed_row",
            Reason::MissingDecisionId => "missing_decision_id",
            Reason::DuplicateDecisionId => "duplicate_decision_id",
            Reason::NoAction => "no_action",
            Reason::UnknownAction => "unknown_action",
            Reason::MissingField => "missing_field",
            Reason::UnknownSettlement => "unknown_settlement",
            Reason::UnknownInstruction => "unknown_instruction",
            Reason::NotApproved => "not_approved",
            Reason::SelfApproved => "self_approved",
            Reason::SettlementAlreadyDecided => "settlement_already_decided",
        }
    }

    /// Pending reasons leave the decision for later; the others refuse it.
    pub fn outcome(self) -> Outcome {
        match self {
            Reason::NoAction | Reason::NotApproved | Reason::SelfApproved => Outcome::Pending,
            _ => Outcome::Refused,
        }
    }
}

/// One row of a decision file: where it was read, and its values (trimmed) in the
/// read's table, none for a malformed record.
#[derive(Debug, Clone, Copy)]
pub struct Decision<'a> {
    /// Index into the decision files.
    pub file: u32,
    /// 1-based data row in its file.
    pub row: u64,
    values: Option<(&'a Table, u32)>,
}

impl<'a> Decision<'a> {
    /// The record had more or fewer fields than the header: no value is read from it.
    pub fn malformed(&self) -> bool {
        self.values.is_none()
    }

    /// The value of column `c` (a position in [`COLUMNS`]), empty where none.
    pub fn field(&self, c: usize) -> &'a str {
        match self.values {
            Some((t, i)) => unguard(t.opt_str(c, i as usize).unwrap_or("")),
            None => "",
        }
    }
    pub fn id(&self) -> &'a str {
        self.field(col::ID)
    }
    pub fn action(&self) -> &'a str {
        self.field(col::ACTION)
    }
    pub fn provider(&self) -> &'a str {
        self.field(col::PROVIDER)
    }
    pub fn provider_ref(&self) -> &'a str {
        self.field(col::REF)
    }
    pub fn instruction_id(&self) -> &'a str {
        self.field(col::INSTRUCTION)
    }
    pub fn decided_by(&self) -> &'a str {
        self.field(col::DECIDED_BY)
    }
    pub fn approved_by(&self) -> &'a str {
        self.field(col::APPROVED_BY)
    }
}

/// Where a decision was read (file, data row) and its row in the table (`MALFORMED`:
/// none).
#[derive(Debug, Clone, Copy)]
struct Place {
    file: u32,
    row: u64,
    at: u32,
}

const MALFORMED: u32 = u32::MAX;

/// The decision files as read: every row, in input order. The values stay in the side
/// reader's table; a [`Decision`] reads them there (no copy a decision).
#[derive(Debug, Default)]
pub struct Read {
    pub files: Vec<InputFile>,
    pub stats: Vec<FileStats>,
    table: Option<Table>,
    places: Vec<Place>,
}

impl Read {
    /// How many decisions (rows of the decision files) there are.
    pub fn len(&self) -> usize {
        self.places.len()
    }

    /// Decision `k`, in input order.
    pub fn row(&self, k: usize) -> Decision<'_> {
        let p = self.places[k];
        Decision {
            file: p.file,
            row: p.row,
            values: match &self.table {
                Some(t) if p.at != MALFORMED => Some((t, p.at)),
                _ => None,
            },
        }
    }

    /// Every decision, in input order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = Decision<'_>> + Clone + '_ {
        (0..self.len()).map(|k| self.row(k))
    }
}

/// Reads the decision files `paths` stand for (a file, or a directory's `.csv`,
/// `.parquet` and `.arrow` files by name) with the ingestion layer's checks: a missing
/// column, a file that is not UTF-8, an unterminated quote stop the run (exit 2); a
/// record with the wrong number of fields is a malformed decision, refused.
pub fn read(paths: &[std::path::PathBuf]) -> Result<Read> {
    if paths.is_empty() {
        return Ok(Read::default());
    }
    let r = crate::side::read_paths(DECISIONS, paths)?;
    let t = &r.table;
    if t.len() >= MALFORMED as usize {
        return Err(crate::error::Error::Usage(format!(
            "the decision files hold over {MALFORMED} decisions: split them over several runs"
        )));
    }
    let mut places: Vec<Place> = (0..t.len())
        .map(|i| {
            let (file, row) = t.origin(i);
            Place {
                file,
                row,
                at: i as u32,
            }
        })
        .collect();
    // Text columns that need no value: a record of the wrong width is the only row-level
    // fault a decision file can have.
    places.extend(r.rejects.iter().map(|rej| {
        debug_assert_eq!(rej.reason, RejectReason::MalformedRow);
        Place {
            file: rej.file,
            row: rej.row,
            at: MALFORMED,
        }
    }));
    places.sort_unstable_by_key(|p| (p.file, p.row));
    Ok(Read {
        files: r.files,
        stats: r.stats,
        table: Some(r.table),
        places,
    })
}

/// A value as the worksheet (or any spreadsheet-safe CSV) wrote it: a leading `'` before
/// `=`, `+`, `-`, `@`, tab, CR or NUL was added against formula injection (as
/// [`crate::write::safe_text`] adds it) and is taken off.
fn unguard(v: &str) -> &str {
    match v.strip_prefix('\'') {
        Some(rest) if rest.starts_with(crate::write::FORMULA_STARTS) => crate::validate::trim(rest),
        _ => v,
    }
}

/// A decision's outcome and what it names.
#[derive(Debug, Clone)]
pub struct Judged {
    pub outcome: Outcome,
    pub reason: Option<Reason>,
    /// Why, in words (empty when applied).
    pub detail: String,
    pub action: Option<Action>,
    /// The accepted settlement row it names (`NO_MATCH`: none).
    pub settlement: u32,
    /// The accepted instruction row it names (`NO_MATCH`: none).
    pub instruction: u32,
}

/// The decisions resolved against the run's accepted rows.
#[derive(Debug, Default)]
pub struct Resolved {
    pub judged: Vec<Judged>,
    /// Per settlement decided by an applied MATCH or UNMATCH: (settlement row, instruction
    /// row or `NO_MATCH`), in input order.
    pub forced: Vec<(u32, u32)>,
    /// Instruction rows an applied ACCEPT names, in input order (repeats kept).
    pub accepted: Vec<u32>,
}

impl Resolved {
    pub fn count(&self, o: Outcome) -> u64 {
        self.judged.iter().filter(|j| j.outcome == o).count() as u64
    }
}

/// Judges every decision in input order. `ins_index` and `set_index` are the sides' key
/// indexes from de-duplication (instruction id; provider and provider_ref).
pub fn resolve(
    read: &Read,
    ins_t: &Table,
    ins_index: &Index,
    set_t: &Table,
    set_index: &Index,
) -> Resolved {
    // The rows each decision names, looked up for all at once, partition by partition
    // of the indexes (each lookup would otherwise mostly wait for memory); judging then
    // goes in input order and uses those it needs.
    let n = read.len();
    let given = |d: Decision, v: &str| !d.malformed() && !v.is_empty();
    let set_found = set_index.find_all(
        n,
        &|k| {
            let d = read.row(k);
            (given(d, d.provider()) && given(d, d.provider_ref()))
                .then(|| group::hash((d.provider(), d.provider_ref())))
        },
        &|k, pos| {
            let d = read.row(k);
            set_t.str(set::PROVIDER, pos as usize) == d.provider()
                && set_t.str(set::REF, pos as usize) == d.provider_ref()
        },
    );
    let ins_found = ins_index.find_all(
        n,
        &|k| {
            let d = read.row(k);
            given(d, d.instruction_id()).then(|| group::hash(d.instruction_id()))
        },
        &|k, pos| ins_t.str(ins::ID, pos as usize) == read.row(k).instruction_id(),
    );
    let id_hashes: Vec<u64> = (0..n)
        .into_par_iter()
        .map(|k| group::hash(read.row(k).id()))
        .collect();
    // The decisions with an id so far, by their ids' hashes.
    let mut seen: hashbrown::HashTable<u32> = hashbrown::HashTable::with_capacity(n);
    // Settlement row -> the applied decision that touched it.
    let mut touched: hashbrown::HashMap<u32, usize> = hashbrown::HashMap::with_capacity(n);
    let mut out = Resolved {
        judged: Vec::with_capacity(n),
        ..Resolved::default()
    };
    for (k, d) in read.rows().enumerate() {
        let mut j = Judged {
            outcome: Outcome::Applied,
            reason: None,
            detail: String::new(),
            action: Action::parse(d.action()),
            settlement: NO_MATCH,
            instruction: NO_MATCH,
        };
        let (set_row, ins_row, id_hash) = (set_found[k], ins_found[k], id_hashes[k]);
        // An id met before (only rows that reach this check are counted, as in `judge`).
        let repeated = !d.malformed() && !d.id().is_empty() && {
            let same = |&e: &u32| read.row(e as usize).id() == d.id();
            match seen.entry(id_hash, same, |&e| id_hashes[e as usize]) {
                hashbrown::hash_table::Entry::Occupied(_) => true,
                hashbrown::hash_table::Entry::Vacant(v) => {
                    v.insert(k as u32);
                    false
                }
            }
        };
        let verdict = judge(&d, &mut j, repeated, (set_row, ins_row)).or_else(|| {
            let earlier = *touched.get(&j.settlement)?;
            Some((
                Reason::SettlementAlreadyDecided,
                format!(
                    "settlement {} / {} was already decided by {} (row {} of its file); one decision per settlement",
                    d.provider(),
                    d.provider_ref(),
                    read.row(earlier).id(),
                    read.row(earlier).row
                ),
            ))
        });
        match verdict {
            Some((reason, detail)) => {
                j.outcome = reason.outcome();
                j.reason = Some(reason);
                j.detail = detail;
            }
            None => {
                match j.action {
                    Some(Action::Match) => out.forced.push((j.settlement, j.instruction)),
                    Some(Action::Unmatch) => out.forced.push((j.settlement, NO_MATCH)),
                    Some(Action::Accept) | None => out.accepted.push(j.instruction),
                }
                if j.settlement != NO_MATCH {
                    touched.insert(j.settlement, k);
                }
            }
        }
        out.judged.push(j);
    }
    out
}

/// The first failing check before "already decided", as (reason, detail); `None` when
/// the decision may apply. `repeated`: an earlier row has its id. Fills in the rows it
/// names, of `found` (the settlement and the instruction its fields name, `NO_MATCH`
/// where none or where a field is empty).
fn judge(
    d: &Decision,
    j: &mut Judged,
    repeated: bool,
    found: (u32, u32),
) -> Option<(Reason, String)> {
    if d.malformed() {
        return Some((
            Reason::MalformedRow,
            "the record has more or fewer fields than the header".into(),
        ));
    }
    if d.id().is_empty() {
        return Some((
            Reason::MissingDecisionId,
            "decision_id is empty: every decision needs an id of its own".into(),
        ));
    }
    if repeated {
        return Some((
            Reason::DuplicateDecisionId,
            format!(
                "decision_id {} is used by an earlier row; give each decision its own id",
                d.id()
            ),
        ));
    }
    if d.action().is_empty() {
        return Some((
            Reason::NoAction,
            "no action chosen yet (MATCH, UNMATCH or ACCEPT)".into(),
        ));
    }
    let Some(action) = j.action else {
        return Some((
            Reason::UnknownAction,
            format!(
                "action {:?} is none of MATCH, UNMATCH, ACCEPT (written in capitals)",
                d.action()
            ),
        ));
    };
    if let Some(&c) = action.needs().iter().find(|&&c| d.field(c).is_empty()) {
        return Some((
            Reason::MissingField,
            format!("{} needs a value in {}", d.action(), COLUMNS[c]),
        ));
    }
    if action != Action::Accept {
        j.settlement = found.0;
        if j.settlement == NO_MATCH {
            return Some((
                Reason::UnknownSettlement,
                format!(
                    "no accepted settlement {} / {} in this run (absent, or rejected: see rejects)",
                    d.provider(),
                    d.provider_ref()
                ),
            ));
        }
    }
    if action != Action::Unmatch {
        j.instruction = found.1;
        if j.instruction == NO_MATCH {
            return Some((
                Reason::UnknownInstruction,
                format!(
                    "no accepted instruction {} in this run (another run's, or rejected: see rejects)",
                    d.instruction_id()
                ),
            ));
        }
    }
    if d.approved_by().is_empty() {
        return Some((
            Reason::NotApproved,
            "approved_by is empty: a decision applies once someone other than its maker approves it".into(),
        ));
    }
    if d.approved_by() == d.decided_by() {
        return Some((
            Reason::SelfApproved,
            format!(
                "approved by its own maker ({}): a second person must approve it",
                d.decided_by()
            ),
        ));
    }
    None
}

/// The run's results without decisions, for what each applied decision changed: each
/// settlement's instruction and method, and the statuses of the instructions decisions
/// moved ((row, status) by row; every other instruction's is the run's).
#[derive(Debug)]
pub struct Baseline<'a> {
    pub instruction: &'a [u32],
    pub method: &'a [u8],
    pub moved_status: &'a [(u32, u8)],
}

impl Baseline<'_> {
    fn status(&self, i: u32, run_status: &[u8]) -> u8 {
        match self.moved_status.binary_search_by_key(&i, |&(r, _)| r) {
            Ok(x) => self.moved_status[x].1,
            Err(_) => run_status[i as usize],
        }
    }
}

/// What an applied decision changed: the instruction it moved (MATCH and ACCEPT: the one
/// it names; UNMATCH: the one its settlement was matched to without decisions) with its
/// status without and with the decisions, and its settlement's match without and with.
#[derive(Debug, Clone, Copy)]
pub struct Moved {
    /// `NO_MATCH`: none (an UNMATCH of a settlement that was unmatched anyway).
    pub instruction: u32,
    pub status_before: u8,
    pub status_after: u8,
    /// (method, instruction) of the settlement, for MATCH and UNMATCH.
    pub match_before: Option<(u8, u32)>,
    pub match_after: Option<(u8, u32)>,
}

/// The `decision_ids` column of each side, as codes into one dictionary (0: empty).
#[derive(Debug)]
pub struct DecisionIds {
    pub ins: Vec<i32>,
    pub set: Vec<i32>,
    pub dict: arrow_array::StringArray,
}

/// The instruction an applied decision's settlement was matched to without decisions.
fn before(j: &Judged, base_instruction: &[u32]) -> u32 {
    if j.settlement == NO_MATCH {
        NO_MATCH
    } else {
        base_instruction[j.settlement as usize]
    }
}

/// The instruction whose status an applied decision moved (see [`Moved`]).
fn moved_instruction(j: &Judged, base_instruction: &[u32]) -> u32 {
    if j.instruction != NO_MATCH {
        j.instruction
    } else {
        before(j, base_instruction)
    }
}

/// Every instruction an applied decision moved, given the matches without decisions.
pub fn moved_instructions(r: &Resolved, base_instruction: &[u32]) -> Vec<u32> {
    r.judged
        .iter()
        .filter(|j| j.outcome == Outcome::Applied)
        .map(|j| moved_instruction(j, base_instruction))
        .filter(|&i| i != NO_MATCH)
        .collect()
}

/// Per decision its [`Moved`] (applied ones only), and each row's `decision_ids`: the
/// applied decisions that name the row, and for a MATCH or UNMATCH the instruction its
/// settlement was matched to without decisions (it lost that settlement). Rows a
/// decision changed only through the fallback (CONTRACT.md section 3.2) are not
/// attributed to it: no decision names them.
pub fn effects(
    read: &Read,
    r: &Resolved,
    base: &Baseline<'_>,
    method: &[u8],
    instruction: &[u32],
    status: &[u8],
) -> Result<(Vec<Option<Moved>>, DecisionIds)> {
    // On the pool: each decision looks up rows scattered over the tables.
    let moved: Vec<Option<Moved>> = r
        .judged
        .par_iter()
        .map(|j| {
            if j.outcome != Outcome::Applied {
                return None;
            }
            let s = j.settlement;
            let i = moved_instruction(j, base.instruction);
            let at = |m: &[u8], x: &[u32]| (s != NO_MATCH).then(|| (m[s as usize], x[s as usize]));
            let (status_before, status_after) = if i == NO_MATCH {
                (0, 0)
            } else {
                (base.status(i, status), status[i as usize])
            };
            Some(Moved {
                instruction: i,
                status_before,
                status_after,
                match_before: at(base.method, base.instruction),
                match_after: at(method, instruction),
            })
        })
        .collect();
    let mut dict = Dict::of(read.rows().map(|d| d.id()));
    // The rows each applied decision names, in input order, with the instruction its
    // settlement had without decisions.
    let named = || {
        r.judged
            .iter()
            .zip(&moved)
            .enumerate()
            .filter_map(|(k, (j, m))| {
                let before_ins = m.as_ref()?.match_before.map_or(NO_MATCH, |(_, i)| i);
                Some((k as u32, j, before_ins))
            })
    };
    let ins = dict.column(
        status.len(),
        named().flat_map(|(k, j, b)| [(j.instruction, k), (b, k)]),
    )?;
    let set = dict.column(method.len(), named().map(|(k, j, _)| (j.settlement, k)))?;
    Ok((
        moved,
        DecisionIds {
            ins,
            set,
            dict: dict.finish()?,
        },
    ))
}

/// The `decision_ids` dictionary being built: 0 is empty, `1 + k` decision `k`'s id
/// (one pass over the decisions, in input order), then the lists of rows more than one
/// decision names. Most decided rows have one decision: their code is that decision's,
/// no text is made for them.
struct Dict {
    values: Vec<u8>,
    offsets: Vec<usize>,
}

impl Dict {
    fn of<'a>(ids: impl ExactSizeIterator<Item = &'a str> + Clone) -> Dict {
        let mut values = Vec::with_capacity(ids.clone().map(str::len).sum());
        let mut offsets = Vec::with_capacity(ids.len() + 2);
        offsets.extend([0, 0]);
        for id in ids {
            values.extend_from_slice(id.as_bytes());
            offsets.push(values.len());
        }
        Dict { values, offsets }
    }

    /// Each of `n` rows' code, from (row, decision) pairs in decision order (`NO_MATCH`
    /// rows skipped, repeats counted once).
    fn column(&mut self, n: usize, pairs: impl Iterator<Item = (u32, u32)>) -> Result<Vec<i32>> {
        let code = |k: u32| i32::try_from(k as usize + 1).map_err(|_| too_many());
        let mut out = vec![0i32; n];
        // Rows named by more than one decision, with their decisions.
        let mut more: hashbrown::HashMap<u32, Vec<u32>> = hashbrown::HashMap::new();
        for (i, k) in pairs {
            if i == NO_MATCH {
                continue;
            }
            let c = code(k)?;
            match out[i as usize] {
                0 => out[i as usize] = c,
                x if x == c => {}
                x => {
                    let ks = more.entry(i).or_insert_with(|| vec![x as u32 - 1]);
                    if ks.last() != Some(&k) {
                        ks.push(k);
                    }
                }
            }
        }
        let mut more: Vec<(u32, Vec<u32>)> = more.into_iter().collect();
        more.sort_unstable();
        for (i, ks) in more {
            for (x, &k) in ks.iter().enumerate() {
                if x > 0 {
                    self.values.push(b';');
                }
                let k = k as usize;
                self.values
                    .extend_from_within(self.offsets[k + 1]..self.offsets[k + 2]);
            }
            out[i as usize] = i32::try_from(self.offsets.len() - 1).map_err(|_| too_many())?;
            self.offsets.push(self.values.len());
        }
        Ok(out)
    }

    fn finish(self) -> Result<arrow_array::StringArray> {
        let offsets = self
            .offsets
            .iter()
            .map(|&o| i32::try_from(o).map_err(|_| too_many()))
            .collect::<Result<Vec<i32>>>()?;
        Ok(arrow_array::StringArray::new(
            arrow_buffer::OffsetBuffer::new(offsets.into()),
            self.values.into(),
            None,
        ))
    }
}

/// `decision_ids` beyond what one Arrow text column holds (2 GiB).
fn too_many() -> crate::error::Error {
    crate::error::Error::Usage(
        "the decisions' ids come to over 2 GiB in the rows' decision_ids: split the decision files over several runs"
            .into(),
    )
}

/// `decisions.parquet`'s columns: the decision as read, where it came from, its outcome,
/// and what an applied one changed.
pub fn schema(scale: i8) -> arrow_schema::SchemaRef {
    use arrow_schema::{DataType, Field};
    let text = |n: &str, nullable: bool| Field::new(n, DataType::Utf8, nullable);
    let mut fields: Vec<Field> = DECISIONS
        .fields()
        .iter()
        .map(|f| text(f.name, false))
        .collect();
    fields.extend([
        text("file", false),
        Field::new("row", DataType::Int64, false),
        text("outcome", false),
        text("reason", true),
        text("detail", false),
        text("moved_instruction_id", true),
        text("status_before", true),
        text("status_after", true),
        Field::new(
            "amount",
            DataType::Decimal128(crate::write::DECIMAL_PRECISION, scale),
            true,
        ),
        text("currency", true),
        text("settlement_method_before", true),
        text("settlement_instruction_before", true),
        text("settlement_method_after", true),
        text("settlement_instruction_after", true),
    ]);
    std::sync::Arc::new(arrow_schema::Schema::new(fields))
}

/// The rows of `decisions.parquet`, one per decision in input order. `scaled` turns an
/// amount in a currency's minor units into the run's scale.
pub fn batch(
    read: &Read,
    r: &Resolved,
    moved: &[Option<Moved>],
    ins_t: &Table,
    scale: i8,
    scaled: &dyn Fn(i128, crate::currency::Ccy) -> i128,
) -> Result<arrow_array::RecordBatch> {
    use crate::classify::Status;
    use crate::matching::Method;
    use arrow_array::{ArrayRef, Decimal128Array, Int64Array, StringArray};
    use std::sync::Arc;
    let judged = &r.judged;
    let n = read.len();
    // Each column borrows its text: no string is made per row.
    fn column<'a>(n: usize, f: &dyn Fn(usize) -> Option<&'a str>) -> ArrayRef {
        Arc::new((0..n).map(f).collect::<StringArray>())
    }
    let paths: Vec<String> = read
        .files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    // Instruction `i`'s id, for decision `k`: the decision's own instruction_id when it
    // names `i` (the same text, found by it), else looked up in the table (scattered).
    let ins_id = |k: usize, i: u32| {
        if judged[k].instruction == i {
            read.row(k).instruction_id()
        } else {
            ins_t.str(ins::ID, i as usize)
        }
    };
    let of = |k: usize| moved[k].filter(|m| m.instruction != NO_MATCH);
    // Statuses, methods and reasons as keys into their names, listed in code order.
    let statuses = StringArray::from_iter_values(Status::ALL.map(Status::as_str));
    let status = |after: bool| {
        (0..n).map(move |k| {
            of(k).map(|m| {
                if after {
                    m.status_after as i32
                } else {
                    m.status_before as i32
                }
            })
        })
    };
    let methods = StringArray::from_iter_values((0..4).map(|x| Method::from_u8(x).as_str()));
    let reasons = StringArray::from_iter_values(Reason::ALL.map(Reason::as_str));
    let optional = |keys: &mut dyn Iterator<Item = Option<i32>>, values: &StringArray| {
        crate::write::dictionary(keys.collect(), values)
    };
    let method = |after: bool| {
        moved.iter().map(move |m| {
            m.and_then(|m| if after { m.match_after } else { m.match_before })
                .map(|(x, _)| x as i32)
        })
    };
    let matched =
        |k: usize, x: Option<(u8, u32)>| x.and_then(|(_, i)| (i != NO_MATCH).then(|| ins_id(k, i)));
    // The decisions' own values in one pass over them (each decision's text is read
    // once, not once a column). Text that repeats goes as dictionary columns, which the
    // Parquet writer encodes from their keys.
    let mut own: Vec<TextBuilder> = (0..COLUMNS.len())
        .map(|c| match c {
            col::ACTION | col::PROVIDER | col::NOTE | col::DECIDED_BY | col::APPROVED_BY => {
                TextBuilder::Repeating(Repeating::default())
            }
            _ => TextBuilder::Plain(arrow_array::builder::StringBuilder::with_capacity(n, 0)),
        })
        .collect();
    for d in read.rows() {
        for (c, b) in own.iter_mut().enumerate() {
            b.push(d.field(c));
        }
    }
    let mut columns: Vec<ArrayRef> = own.into_iter().map(TextBuilder::finish).collect();
    let mut detail = Repeating::default();
    let mut currency = Repeating::default();
    for (k, j) in judged.iter().enumerate() {
        detail.push(Some(&j.detail));
        currency.push(
            of(k).map(|m| crate::currency::table().code(ins_t.currency(m.instruction as usize))),
        );
    }
    let outcomes = StringArray::from_iter_values(
        [Outcome::Applied, Outcome::Pending, Outcome::Refused].map(Outcome::as_str),
    );
    columns.extend([
        crate::write::coded(
            read.rows().map(|d| d.file as i32),
            &StringArray::from(paths),
        ),
        Arc::new(Int64Array::from_iter_values(
            read.rows().map(|d| d.row as i64),
        )) as ArrayRef,
        crate::write::coded(judged.iter().map(|j| j.outcome as i32), &outcomes),
        optional(
            &mut judged.iter().map(|j| j.reason.map(|x| x as i32)),
            &reasons,
        ),
        detail.finish(),
        column(n, &|k| of(k).map(|m| ins_id(k, m.instruction))),
        optional(&mut status(false), &statuses),
        optional(&mut status(true), &statuses),
        Arc::new(
            (0..n)
                .map(|k| {
                    of(k).map(|m| {
                        let i = m.instruction as usize;
                        scaled(ins_t.amount(0, i) as i128, ins_t.currency(i))
                    })
                })
                .collect::<Decimal128Array>()
                .with_precision_and_scale(crate::write::DECIMAL_PRECISION, scale)
                .map_err(|e| crate::error::Error::Internal(e.to_string()))?,
        ),
        currency.finish(),
        optional(&mut method(false), &methods),
        column(n, &|k| matched(k, moved[k].and_then(|m| m.match_before))),
        optional(&mut method(true), &methods),
        column(n, &|k| matched(k, moved[k].and_then(|m| m.match_after))),
    ]);
    crate::write::batch(&schema(scale), columns)
}

/// A text column of `decisions.parquet` being built.
enum TextBuilder<'a> {
    Plain(arrow_array::builder::StringBuilder),
    Repeating(Repeating<'a>),
}

impl<'a> TextBuilder<'a> {
    fn push(&mut self, v: &'a str) {
        match self {
            TextBuilder::Plain(b) => b.append_value(v),
            TextBuilder::Repeating(r) => r.push(Some(v)),
        }
    }

    fn finish(self) -> arrow_array::ArrayRef {
        match self {
            TextBuilder::Plain(mut b) => std::sync::Arc::new(b.finish()),
            TextBuilder::Repeating(r) => r.finish(),
        }
    }
}

/// Text that usually repeats (an action, a reviewer, a standard note): each distinct
/// value once, and a key per row (`None`: null).
#[derive(Default)]
struct Repeating<'a> {
    index: hashbrown::HashMap<&'a str, i32>,
    values: Vec<&'a str>,
    keys: Vec<Option<i32>>,
}

impl<'a> Repeating<'a> {
    fn push(&mut self, v: Option<&'a str>) {
        let Some(v) = v else {
            self.keys.push(None);
            return;
        };
        let next = self.values.len() as i32;
        let k = match self.index.entry(v) {
            hashbrown::hash_map::Entry::Occupied(e) => *e.get(),
            hashbrown::hash_map::Entry::Vacant(e) => {
                self.values.push(v);
                *e.insert(next)
            }
        };
        self.keys.push(Some(k));
    }

    /// A dictionary column; plain text when most values are distinct after all (a
    /// dictionary would then only add its keys) or too many for the writer to encode.
    fn finish(self) -> arrow_array::ArrayRef {
        use arrow_array::StringArray;
        let distinct = self.values.len();
        if distinct > self.keys.len() / 2 || distinct > crate::parquet_out::MAX_CODED_VALUES {
            let plain: StringArray = self
                .keys
                .iter()
                .map(|k| k.map(|k| self.values[k as usize]))
                .collect();
            return std::sync::Arc::new(plain);
        }
        crate::write::dictionary(
            self.keys.into_iter().collect(),
            &StringArray::from(self.values),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// decisions.parquet codes reasons and statuses by their place in `ALL`.
    #[test]
    fn reasons_and_statuses_are_listed_in_code_order() {
        for (k, r) in Reason::ALL.iter().enumerate() {
            assert_eq!(*r as usize, k, "{}", r.as_str());
        }
        for (k, st) in crate::classify::Status::ALL.iter().enumerate() {
            assert_eq!(*st as usize, k, "{}", st.as_str());
        }
    }

    #[test]
    fn decision_ids_list_a_rows_decisions_once_in_input_order() {
        let mut dict = Dict::of(["D1", "D2", "D3"].into_iter());
        // Row 0: D1 alone; row 2: D3 and D1 (in input order: D1;D3), D1 named twice;
        // row 3: none.
        let pairs = [(0, 0), (2, 0), (2, 0), (NO_MATCH, 1), (2, 2)];
        let codes = dict.column(4, pairs.into_iter()).unwrap();
        let dict = dict.finish().unwrap();
        let text = |c: i32| dict.value(c as usize).to_owned();
        assert_eq!(
            codes.iter().map(|&c| text(c)).collect::<Vec<_>>(),
            ["D1", "", "D1;D3", ""]
        );
        // A row with one decision shares that decision's entry: no text made for it.
        assert_eq!(codes[0], 1);
    }

    #[test]
    fn decision_ids_beyond_an_arrow_text_column_stop_the_run() {
        // Offsets past 2 GiB (no bytes behind them: only the check is reached).
        let dict = Dict {
            values: Vec::new(),
            offsets: vec![0, 0, 1 << 31],
        };
        let e = dict.finish().expect_err("over 2 GiB");
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("split the decision files"), "{e}");
    }
}
