//! The report's "Decisions" section (CONTRACT.md section 8), from `decisions.parquet`'s
//! rows (a run's batch as it is written, or a folder's file): the counts by outcome and
//! reason, the applied decisions with what each changed, the money they moved between
//! statuses, and the pending and refused ones. Both sources are gathered by the same
//! [`Gathered::add`]: the same bytes either way. Lists are bounded ([`MAX_DECISION_ROWS`]
//! per table, in input order); sums are exact, in the currency's minor units.

use std::collections::BTreeMap;
use std::path::Path;

use arrow_array::RecordBatch;
use serde::Serialize;
use serde_json::{json, Value};
use sverka_engine::summary::DecisionCounts;

use super::data::{minor, shift, status_index};
use super::{amounts, cut, cut_to, money, ABSENT, NOTICE_CHARS};
use crate::read::{decimal, int64, nulls, Pq, ReadResult};
use crate::text::Text;

/// Rows listed per table (applied, pending, refused); the rest are in `decisions.parquet`.
pub const MAX_DECISION_ROWS: usize = 1000;

/// The columns the section reads, all of `decisions.parquet` but none it could do without.
const COLUMNS: [&str; 22] = [
    "decision_id",
    "action",
    "provider",
    "provider_ref",
    "instruction_id",
    "note",
    "decided_by",
    "approved_by",
    "file",
    "row",
    "outcome",
    "reason",
    "detail",
    "moved_instruction_id",
    "status_before",
    "status_after",
    "amount",
    "currency",
    "settlement_method_before",
    "settlement_instruction_before",
    "settlement_method_after",
    "settlement_instruction_after",
];

/// One decision as its table shows it: cut text, the applied fields empty otherwise.
#[derive(Debug, Serialize)]
struct Row {
    /// The decision file (cut) and its row there, from 1.
    file: String,
    row: i64,
    decision_id: String,
    action: String,
    provider: String,
    provider_ref: String,
    instruction_id: String,
    note: String,
    decided_by: String,
    approved_by: String,
    reason: String,
    detail: String,
    moved_instruction_id: String,
    status_before: String,
    status_after: String,
    amount: String,
    currency: String,
    /// The settlement's match as `METHOD instruction`, before and after.
    match_before: String,
    match_after: String,
}

/// The first [`MAX_DECISION_ROWS`] rows of a table, and how many there were.
#[derive(Debug, Default, Serialize)]
struct Listed {
    rows: Vec<Row>,
    total: u64,
}

impl Listed {
    fn push(&mut self, row: impl FnOnce() -> ReadResult<Row>) -> ReadResult<()> {
        self.total += 1;
        if self.rows.len() < MAX_DECISION_ROWS {
            self.rows.push(row()?);
        }
        Ok(())
    }

    /// The table's page data under its heading `title` (HTML id `decisions-{id}`).
    fn value(self, title: &str, id: &str) -> Value {
        let more = self.total - self.rows.len() as u64;
        json!({"title": title, "id": id, "rows": self.rows, "total": self.total, "more": more})
    }
}

/// (currency, status before, status after) with statuses in precedence order.
type MoveKey = (String, (Option<u8>, String), (Option<u8>, String));

/// A [`MoveKey`] borrowed from a batch, to find its entry without making its strings
/// (hashed as the key is: fields in order, text as `str`).
#[derive(Hash)]
struct MoveRef<'a>(&'a str, (Option<u8>, &'a str), (Option<u8>, &'a str));

impl hashbrown::Equivalent<MoveKey> for MoveRef<'_> {
    fn equivalent(&self, k: &MoveKey) -> bool {
        self.0 == k.0
            && self.1 .0 == k.1 .0
            && self.1 .1 == k.1 .1
            && self.2 .0 == k.2 .0
            && self.2 .1 == k.2 .1
    }
}

/// Money moved from one status to another: decisions, distinct instructions and the sum
/// of those instructions' amounts (an instruction two decisions moved counts once).
#[derive(Debug, Default)]
struct Moved {
    decisions: u64,
    instructions: u64,
    amount: i128,
}

/// Everything the section gathers from `decisions.parquet`'s rows, in file order.
#[derive(Debug, Default)]
pub struct Gathered {
    applied: Listed,
    pending: Listed,
    refused: Listed,
    by_reason: BTreeMap<(String, String), u64>,
    /// Put in order once gathered.
    moved: hashbrown::HashMap<MoveKey, Moved>,
    /// Moved instructions already summed.
    seen: Ids,
}

/// A set of ids held in one buffer (an allocation per id cost more than the rest of
/// gathering).
#[derive(Debug, Default)]
struct Ids {
    text: String,
    /// Each id's (start, end) in `text`.
    table: hashbrown::HashTable<(usize, usize)>,
    hasher: hashbrown::DefaultHashBuilder,
}

impl Ids {
    /// Adds `id`; whether it was new.
    fn insert(&mut self, id: &str) -> bool {
        use std::hash::BuildHasher;
        let h = self.hasher.hash_one(id);
        let text = &self.text;
        if self.table.find(h, |&(a, b)| &text[a..b] == id).is_some() {
            return false;
        }
        let (a, b) = (self.text.len(), self.text.len() + id.len());
        self.text.push_str(id);
        let (text, hasher) = (&self.text, &self.hasher);
        self.table
            .insert_unique(h, (a, b), |&(a, b)| hasher.hash_one(&text[a..b]));
        true
    }
}

impl Gathered {
    /// A results folder's `decisions.parquet`.
    pub(super) fn of_file(path: &Path) -> ReadResult<Gathered> {
        let pq = Pq::open(path, &[])?;
        let mut g = Gathered::default();
        pq.for_each(&COLUMNS, |b, _| g.add(b))?;
        Ok(g)
    }

    /// A run's decisions batch, as it is written to `decisions.parquet`: the report
    /// needs no read back of the file.
    pub(super) fn of_batch(b: &RecordBatch) -> ReadResult<Gathered> {
        let mut g = Gathered::default();
        g.add(b)?;
        Ok(g)
    }

    /// Adds one batch of decisions, in file order.
    fn add(&mut self, b: &RecordBatch) -> ReadResult<()> {
        let t = |c: &str| Text::of(b, c);
        let (outcome, reason, moved_id, before, after, code) = (
            t("outcome")?,
            t("reason")?,
            t("moved_instruction_id")?,
            t("status_before")?,
            t("status_after")?,
            t("currency")?,
        );
        let (amount, scale) = decimal(b, "amount")?;
        let no_amount = nulls(b, "amount")?;
        let row_of = rows(b)?;
        for (i, &raw) in amount.iter().enumerate().take(b.num_rows()) {
            let listed = match outcome.value(i) {
                "APPLIED" => &mut self.applied,
                "PENDING" => &mut self.pending,
                "REFUSED" => &mut self.refused,
                other => return Err(format!("decisions: unknown outcome {other:?}")),
            };
            listed.push(|| row_of(i))?;
            if let Some(r) = reason.get(i) {
                let key = (outcome.value(i).to_string(), r.to_string());
                *self.by_reason.entry(key).or_default() += 1;
            }
            // Only an applied decision that moved an instruction moved money.
            let Some(id) = moved_id.get(i).filter(|_| outcome.value(i) == "APPLIED") else {
                continue;
            };
            if no_amount.is_some_and(|n| n.is_null(i)) || code.value(i).is_empty() {
                return Err(format!("decisions: {id}: moved without amount or currency"));
            }
            let status = |s| (status_index(s), s);
            let key = MoveRef(
                code.value(i),
                status(before.value(i)),
                status(after.value(i)),
            );
            // One lookup for the usual case of a move seen before.
            let m = match self.moved.get_mut(&key) {
                Some(m) => m,
                None => {
                    let owned = |(x, s): (Option<u8>, &str)| (x, s.to_string());
                    let k = (key.0.to_string(), owned(key.1), owned(key.2));
                    self.moved.entry(k).or_default()
                }
            };
            m.decisions += 1;
            if self.seen.insert(id) {
                let v = minor(raw, shift(code.value(i), scale)?);
                m.instructions += 1;
                m.amount = m
                    .amount
                    .checked_add(v)
                    .ok_or("decisions: moved amounts overflow")?;
            }
        }
        Ok(())
    }
}

/// The section's page data, from the summary's counts and the gathered decisions.
pub(super) fn section(counts: &DecisionCounts, g: Gathered) -> Value {
    let by_reason: Vec<Value> = g
        .by_reason
        .iter()
        .map(|((outcome, reason), n)| json!({"outcome": outcome, "reason": reason, "count": n}))
        .collect();
    let moved: BTreeMap<MoveKey, Moved> = g.moved.into_iter().collect();
    let moved: Vec<Value> = moved
        .iter()
        .map(|((code, before, after), m)| {
            json!({
                "code": code, "before": before.1, "after": after.1,
                "decisions": m.decisions, "instructions": m.instructions,
                "amount": money(m.amount, code),
            })
        })
        .collect();
    json!({
        "applied": counts.applied,
        "pending": counts.pending,
        "refused": counts.refused,
        "by_reason": by_reason,
        "moved": moved,
        "applied_rows": g.applied.value("Applied", "applied"),
        "others": [
            g.pending.value("Pending", "pending"),
            g.refused.value("Refused", "refused"),
        ],
        "max_rows": MAX_DECISION_ROWS,
    })
}

/// Row `i` of a batch of decisions as table cells; columns are looked up once per batch.
fn rows(b: &RecordBatch) -> ReadResult<impl Fn(usize) -> ReadResult<Row> + '_> {
    let mut text = Vec::with_capacity(COLUMNS.len());
    for c in COLUMNS {
        // `row` and `amount` are not text: read below.
        text.push(match c {
            "row" | "amount" => None,
            _ => Some(Text::of(b, c)?),
        });
    }
    let col = move |name: &str| COLUMNS.iter().position(|c| *c == name).unwrap_or(0);
    let row = int64(b, "row")?;
    let amount = amounts(b, "amount")?;
    Ok(move |i: usize| -> ReadResult<Row> {
        let v = |name: &str| text[col(name)].as_ref().map_or("", |t| t.value(i));
        let c = |name: &str| cut(v(name));
        let matched = |m: &str, ins: &str| match (v(m), v(ins)) {
            ("", _) => String::new(),
            (m, "") => m.to_string(),
            (m, ins) => format!("{m} {}", cut(ins)),
        };
        let moved = !v("moved_instruction_id").is_empty();
        Ok(Row {
            file: c("file"),
            row: row[i],
            decision_id: c("decision_id"),
            action: c("action"),
            provider: c("provider"),
            provider_ref: c("provider_ref"),
            instruction_id: c("instruction_id"),
            note: cut_to(v("note"), NOTICE_CHARS),
            decided_by: c("decided_by"),
            approved_by: c("approved_by"),
            reason: c("reason"),
            detail: cut_to(v("detail"), NOTICE_CHARS),
            moved_instruction_id: c("moved_instruction_id"),
            status_before: c("status_before"),
            status_after: c("status_after"),
            amount: if moved {
                amount(i, v("currency"))?
            } else {
                ABSENT.to_string()
            },
            currency: c("currency"),
            match_before: matched("settlement_method_before", "settlement_instruction_before"),
            match_after: matched("settlement_method_after", "settlement_instruction_after"),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::Ids;

    #[test]
    fn ids_are_new_once() {
        let mut ids = Ids::default();
        let got: Vec<bool> = ["I-1", "I-2", "I-1", "", "I-2", ""]
            .into_iter()
            .map(|id| ids.insert(id))
            .collect();
        assert_eq!(got, [true, true, false, true, false, false]);
        // Many ids: the table grows and still finds each by its text.
        for k in 0..10_000 {
            assert!(ids.insert(&format!("X-{k}")));
        }
        assert!(!ids.insert("X-9999") && !ids.insert("I-1"));
    }
}
