//! `sverka worksheet`: every open exception of a reconcile folder as a CSV row for a person
//! to decide, whose first eight columns are CONTRACT §8's decision columns, so that the
//! filled file goes straight back to `sverka reconcile --decisions` (docs/DECISIONS.md).
//!
//! Built from the outputs alone. The candidates of an AMBIGUOUS settlement are re-derived
//! by §3.2 among the UNPAID instructions: an instruction with a reference (or manual) match
//! never takes part in fallback, and one that two settlements claim is never
//! fallback-matched, so every candidate has no settlement at all. Memory holds the
//! exceptions (UNPAID and other open instructions, ambiguous and unexpected settlements,
//! the settlements matched to an open instruction), never every id of the folder.
//!
//! Closed exceptions are left out: instructions flagged `ACCEPTED`, and settlements that
//! an applied decision unmatched (method `NONE` with `decision_ids`).

use std::cmp::Ordering;
use std::path::Path;

use arrow_array::RecordBatch;
use hashbrown::{HashMap, HashSet};
use sha2::{Digest, Sha256};
use sverka_engine::{safe_text, Error, Result};

use crate::read::{
    date32, date_text, decimal, int64, nulls, reconcile_folder, reconcile_output, Pq, ReadResult,
};
use crate::report::money;
use crate::text::Text;
use crate::verify::to_minor;

const IF: &str = "instructions.parquet";
const SF: &str = "settlements.parquet";

/// The instruction columns read (`decision_ids` only required: every v2 output has it).
const INS_COLS: [&str; 17] = [
    "instruction_id",
    "beneficiary_id",
    "program",
    "cycle",
    "provider",
    "account",
    "amount",
    "currency",
    "due_date",
    "status",
    "paid_amount",
    "difference",
    "settlement_count",
    "flags",
    "file",
    "row",
    "decision_ids",
];
const INS_DICT: [&str; 6] = [
    "provider", "program", "cycle", "currency", "status", "flags",
];

const SET_COLS: [&str; 13] = [
    "provider",
    "provider_ref",
    "account",
    "amount",
    "currency",
    "status",
    "value_date",
    "match_method",
    "matched_instruction_id",
    "flags",
    "file",
    "row",
    "decision_ids",
];
const SET_DICT: [&str; 5] = ["provider", "currency", "status", "match_method", "flags"];

/// The worksheet's columns: CONTRACT §8's decision columns (`sverka_engine::DECISION_COLUMNS`,
/// as a test checks), then the facts.
pub const COLUMNS: [&str; 33] = [
    "decision_id",
    "action",
    "provider",
    "provider_ref",
    "instruction_id",
    "note",
    "decided_by",
    "approved_by",
    "exception",
    "possible_actions",
    "currency",
    "amount_at_risk",
    "candidates",
    "settlement_amount",
    "settlement_currency",
    "settlement_status",
    "settlement_account",
    "value_date",
    "match_method",
    "settlement_file",
    "settlement_row",
    "instruction_amount",
    "instruction_account",
    "due_date",
    "beneficiary_id",
    "program",
    "cycle",
    "instruction_status",
    "instruction_flags",
    "paid_amount",
    "difference",
    "instruction_file",
    "instruction_row",
];

/// An exception, in the order rows of equal currency and amount at risk are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Ambiguous,
    Unexpected,
    Unpaid,
    DoublePaid,
    Underpaid,
    Overpaid,
    CurrencyMismatch,
    /// Only when the instruction's status is none of the above.
    AccountMismatch,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Ambiguous,
        Kind::Unexpected,
        Kind::Unpaid,
        Kind::DoublePaid,
        Kind::Underpaid,
        Kind::Overpaid,
        Kind::CurrencyMismatch,
        Kind::AccountMismatch,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Ambiguous => "AMBIGUOUS",
            Kind::Unexpected => "UNEXPECTED",
            Kind::Unpaid => "UNPAID",
            Kind::DoublePaid => "DOUBLE_PAID",
            Kind::Underpaid => "UNDERPAID",
            Kind::Overpaid => "OVERPAID",
            Kind::CurrencyMismatch => "CURRENCY_MISMATCH",
            Kind::AccountMismatch => "ACCOUNT_MISMATCH",
        }
    }

    /// An instruction's exception: its status when that is one, else ACCOUNT_MISMATCH
    /// when flagged (the flags column shows the rest).
    fn of_instruction(status: &str, flags: &str) -> Option<Kind> {
        Kind::ALL[2..7]
            .iter()
            .copied()
            .find(|k| k.name() == status)
            .or_else(|| has_flag(flags, "ACCOUNT_MISMATCH").then_some(Kind::AccountMismatch))
    }
}

fn has_flag(flags: &str, flag: &str) -> bool {
    flags.split(';').any(|f| f == flag)
}

/// Rows per exception, and what was left out as decided.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    /// Rows per [`Kind::ALL`] entry.
    pub rows: [u64; 8],
    /// AMBIGUOUS settlements (each has a row per candidate).
    pub ambiguous_settlements: u64,
    /// Exception instructions flagged ACCEPTED.
    pub accepted_instructions: u64,
    /// SETTLED or AMBIGUOUS settlements unmatched by an applied decision.
    pub unmatched_settlements: u64,
}

impl Counts {
    pub fn total(&self) -> u64 {
        self.rows.iter().sum()
    }
}

/// The worksheet's bytes (UTF-8 CSV, header row, LF) and its counts.
pub struct Worksheet {
    pub csv: Vec<u8>,
    pub counts: Counts,
}

/// The worksheet of the reconcile folder `dir`. A folder that is not one is exit 2; outputs
/// that contradict the contract (an AMBIGUOUS settlement without the candidates that made
/// it so) are an internal error (exit 1): nothing is written from them.
pub fn build(dir: &Path) -> Result<Worksheet> {
    let summary = reconcile_folder(dir)?;
    let ins_pq = reconcile_output(dir, IF, &INS_COLS, &INS_DICT)?;
    let set_pq = reconcile_output(dir, SF, &SET_COLS, &SET_DICT)?;
    let (ins, accepted) = read_instructions(&ins_pq).map_err(|e| Error::input(dir.join(IF), e))?;
    let open: HashMap<&str, u32> = ins
        .iter()
        .enumerate()
        .filter(|(_, r)| r.open.is_some() && r.count > 0)
        .map(|(k, r)| (r.id.as_str(), k as u32))
        .collect();
    let set = read_settlements(&set_pq, &open).map_err(|e| Error::input(dir.join(SF), e))?;
    let cands = candidates(&ins, &set.ambiguous, summary.settings.fallback_days)
        .map_err(Error::Internal)?;
    let mut rows = rows(&ins, &set, &cands).map_err(Error::Internal)?;
    rows.sort_by(order);
    let mut counts = Counts {
        ambiguous_settlements: set.ambiguous.len() as u64,
        accepted_instructions: accepted,
        unmatched_settlements: set.unmatched,
        ..Counts::default()
    };
    for r in &rows {
        counts.rows[r.kind as usize] += 1;
    }
    Ok(Worksheet {
        csv: write_csv(&rows)?,
        counts,
    })
}

/// An instruction the worksheet may show: an UNPAID one (a possible candidate of an
/// AMBIGUOUS settlement) or an open exception. Amounts in minor units of `currency`.
#[derive(Debug, Clone, Default)]
struct Ins {
    id: String,
    beneficiary_id: String,
    program: String,
    cycle: String,
    provider: String,
    account: String,
    currency: String,
    amount: i128,
    due: i32,
    status: String,
    paid: i128,
    difference: i128,
    count: i64,
    flags: String,
    file: String,
    row: i64,
    /// Its open exception; None for an ACCEPTED UNPAID one, kept only as a candidate.
    open: Option<Kind>,
}

/// A settlement the worksheet shows. `currency` is "" and `amount` None where the row has
/// none (a FAILED settlement may lack both); the amount is in minor units of `currency`.
#[derive(Debug, Clone, Default)]
struct Set {
    provider: String,
    provider_ref: String,
    account: String,
    currency: String,
    amount: Option<i128>,
    status: String,
    value_date: i32,
    method: String,
    file: String,
    row: i64,
}

/// The kept instructions in file order, and how many exceptions ACCEPTED closed.
fn read_instructions(pq: &Pq) -> ReadResult<(Vec<Ins>, u64)> {
    let mut kept = Vec::new();
    let mut accepted = 0u64;
    pq.for_each(&INS_COLS, |b, _| {
        fold_instructions(b, &mut kept, &mut accepted)
    })?;
    Ok((kept, accepted))
}

fn fold_instructions(b: &RecordBatch, kept: &mut Vec<Ins>, accepted: &mut u64) -> ReadResult<()> {
    let t = |name| Text::of(b, name);
    let (status, flags) = (t("status")?, t("flags")?);
    let (id, ben, program, cycle) = (
        t("instruction_id")?,
        t("beneficiary_id")?,
        t("program")?,
        t("cycle")?,
    );
    let (provider, account, currency, file) =
        (t("provider")?, t("account")?, t("currency")?, t("file")?);
    let (amount, sa) = decimal(b, "amount")?;
    let (paid, sp) = decimal(b, "paid_amount")?;
    let (diff, sd) = decimal(b, "difference")?;
    let (due, count, row) = (
        date32(b, "due_date")?,
        int64(b, "settlement_count")?,
        int64(b, "row")?,
    );
    for i in 0..b.num_rows() {
        let (st, fl) = (status.value(i), flags.value(i));
        let kind = Kind::of_instruction(st, fl);
        let closed = has_flag(fl, "ACCEPTED");
        *accepted += u64::from(kind.is_some() && closed);
        let open = kind.filter(|_| !closed);
        if open.is_none() && st != "UNPAID" {
            continue;
        }
        let code = currency.value(i);
        kept.push(Ins {
            id: id.value(i).into(),
            beneficiary_id: ben.value(i).into(),
            program: program.value(i).into(),
            cycle: cycle.value(i).into(),
            provider: provider.value(i).into(),
            account: account.value(i).into(),
            currency: code.into(),
            amount: to_minor(amount[i], sa, code)?,
            due: due[i],
            status: st.into(),
            paid: to_minor(paid[i], sp, code)?,
            difference: to_minor(diff[i], sd, code)?,
            count: count[i],
            flags: fl.into(),
            file: file.value(i).into(),
            row: row[i],
            open,
        });
    }
    Ok(())
}

/// The settlements the worksheet shows, in file order.
#[derive(Debug, Default)]
struct Settlements {
    ambiguous: Vec<Set>,
    /// SETTLED, method NONE, not AMBIGUOUS.
    unexpected: Vec<Set>,
    /// Matched to an open instruction (its index among the kept ones).
    matched: Vec<(u32, Set)>,
    /// Left out: unmatched by an applied decision.
    unmatched: u64,
}

/// `open`: the open instructions with matched settlements, by id.
fn read_settlements(pq: &Pq, open: &HashMap<&str, u32>) -> ReadResult<Settlements> {
    let mut out = Settlements::default();
    pq.for_each(&SET_COLS, |b, _| fold_settlements(b, open, &mut out))?;
    Ok(out)
}

fn fold_settlements(
    b: &RecordBatch,
    open: &HashMap<&str, u32>,
    out: &mut Settlements,
) -> ReadResult<()> {
    let t = |name| Text::of(b, name);
    let (flags, decided) = (t("flags")?, t("decision_ids")?);
    let matched_id = t("matched_instruction_id")?;
    let read = SetCols::of(b)?;
    for i in 0..b.num_rows() {
        let ambiguous = has_flag(flags.value(i), "AMBIGUOUS");
        let settled = read.status.value(i) == "SETTLED";
        if read.method.value(i) != "NONE" {
            if let Some(&k) = open.get(matched_id.value(i)) {
                out.matched.push((k, read.row(i)?));
            }
        } else if !decided.value(i).is_empty() {
            out.unmatched += u64::from(settled || ambiguous);
        } else if ambiguous {
            out.ambiguous.push(read.row(i)?);
        } else if settled {
            out.unexpected.push(read.row(i)?);
        }
    }
    Ok(())
}

/// A settlement batch's columns, for reading chosen rows into [`Set`]s.
struct SetCols<'a> {
    provider: Text<'a>,
    provider_ref: Text<'a>,
    account: Text<'a>,
    currency: Text<'a>,
    status: Text<'a>,
    method: Text<'a>,
    file: Text<'a>,
    amount: (&'a [i128], i8),
    no_amount: Option<&'a arrow_buffer::NullBuffer>,
    value_date: &'a [i32],
    row: &'a [i64],
}

impl<'a> SetCols<'a> {
    fn of(b: &'a RecordBatch) -> ReadResult<SetCols<'a>> {
        let t = |name| Text::of(b, name);
        Ok(SetCols {
            provider: t("provider")?,
            provider_ref: t("provider_ref")?,
            account: t("account")?,
            currency: t("currency")?,
            status: t("status")?,
            method: t("match_method")?,
            file: t("file")?,
            amount: decimal(b, "amount")?,
            no_amount: nulls(b, "amount")?,
            value_date: date32(b, "value_date")?,
            row: int64(b, "row")?,
        })
    }

    fn row(&self, i: usize) -> ReadResult<Set> {
        let code = self.currency.value(i);
        // A FAILED settlement may have neither amount nor currency (CONTRACT v2 §1).
        let amount = if self.no_amount.is_some_and(|n| n.is_null(i)) || code.is_empty() {
            None
        } else {
            Some(to_minor(self.amount.0[i], self.amount.1, code)?)
        };
        Ok(Set {
            provider: self.provider.value(i).into(),
            provider_ref: self.provider_ref.value(i).into(),
            account: self.account.value(i).into(),
            currency: code.into(),
            amount,
            status: self.status.value(i).into(),
            value_date: self.value_date[i],
            method: self.method.value(i).into(),
            file: self.file.value(i).into(),
            row: self.row[i],
        })
    }
}

/// Per AMBIGUOUS settlement, its candidate instructions (indices into `ins`, file order)
/// by CONTRACT §3.2: same provider, account, currency and amount, and |value_date −
/// due_date| ≤ `days`, among the UNPAID instructions (ACCEPTED ones too: a decision does
/// not change who is a candidate). The engine flags a settlement AMBIGUOUS when it has a
/// candidate and is not matched: two or more candidates, or one that another settlement
/// also claims. Anything else contradicts the outputs (`Err`).
fn candidates(
    ins: &[Ins],
    ambiguous: &[Set],
    days: u32,
) -> std::result::Result<Vec<Vec<u32>>, String> {
    type Key<'a> = (&'a str, &'a str, &'a str, i128);
    let mut index: HashMap<Key, Vec<u32>> = HashMap::new();
    for (k, r) in ins.iter().enumerate().filter(|(_, r)| r.status == "UNPAID") {
        let key = (
            r.provider.as_str(),
            r.account.as_str(),
            r.currency.as_str(),
            r.amount,
        );
        index.entry(key).or_default().push(k as u32);
    }
    let mut claims = vec![0u32; ins.len()];
    let found: Vec<Vec<u32>> = ambiguous
        .iter()
        .map(|s| {
            let Some(amount) = s.amount else {
                return Vec::new();
            };
            let key = (
                s.provider.as_str(),
                s.account.as_str(),
                s.currency.as_str(),
                amount,
            );
            let near = |&&k: &&u32| {
                (s.value_date as i64 - ins[k as usize].due as i64).unsigned_abs() <= days as u64
            };
            let v: Vec<u32> = index
                .get(&key)
                .map_or(Vec::new(), |v| v.iter().filter(near).copied().collect());
            for &k in &v {
                claims[k as usize] += 1;
            }
            v
        })
        .collect();
    for (s, v) in ambiguous.iter().zip(&found) {
        let only = match v.as_slice() {
            [] => "no candidate instruction",
            [k] if claims[*k as usize] < 2 => {
                "one candidate instruction that no other settlement claims"
            }
            _ => continue,
        };
        return Err(format!(
            "settlement {} {} ({} row {}) is flagged AMBIGUOUS, but the outputs give it {only} \
             (CONTRACT 3.2, fallback_days {days}); the folder's outputs disagree with each other",
            s.provider, s.provider_ref, s.file, s.row
        ));
    }
    Ok(found)
}

/// One worksheet row: an exception and the settlement and/or instruction it is about.
#[derive(Debug, Clone, Copy)]
struct Row<'a> {
    kind: Kind,
    /// The currency of `risk`: the settlement's for AMBIGUOUS and UNEXPECTED, else the
    /// instruction's.
    currency: &'a str,
    /// Amount at risk, minor units of `currency`.
    risk: i128,
    /// AMBIGUOUS: how many candidates the settlement has.
    candidates: Option<usize>,
    set: Option<&'a Set>,
    ins: Option<&'a Ins>,
}

impl<'a> Row<'a> {
    fn provider(&self) -> &'a str {
        self.set.map_or("", |s| &s.provider)
    }

    fn provider_ref(&self) -> &'a str {
        self.set.map_or("", |s| &s.provider_ref)
    }

    fn instruction_id(&self) -> &'a str {
        self.ins.map_or("", |r| &r.id)
    }

    fn of_instruction(kind: Kind, r: &'a Ins, set: Option<&'a Set>) -> Row<'a> {
        let risk = match kind {
            Kind::Unpaid | Kind::CurrencyMismatch => r.amount,
            Kind::DoublePaid | Kind::Underpaid | Kind::Overpaid => r.difference.abs(),
            // The status is none of the above, so the currencies agree.
            _ => set.and_then(|s| s.amount).unwrap_or(0),
        };
        Row {
            kind,
            currency: &r.currency,
            risk,
            candidates: None,
            set,
            ins: Some(r),
        }
    }

    fn of_settlement(
        kind: Kind,
        s: &'a Set,
        ins: Option<&'a Ins>,
        candidates: Option<usize>,
    ) -> Row<'a> {
        Row {
            kind,
            currency: &s.currency,
            risk: s.amount.unwrap_or(0),
            candidates,
            set: Some(s),
            ins,
        }
    }
}

/// Every row, unordered. `Err` when an open instruction's matched settlements are not
/// the `settlement_count` it says.
fn rows<'a>(
    ins: &'a [Ins],
    set: &'a Settlements,
    cands: &[Vec<u32>],
) -> std::result::Result<Vec<Row<'a>>, String> {
    let mut rows = Vec::new();
    for (s, v) in set.ambiguous.iter().zip(cands) {
        for &k in v {
            rows.push(Row::of_settlement(
                Kind::Ambiguous,
                s,
                Some(&ins[k as usize]),
                Some(v.len()),
            ));
        }
    }
    for s in &set.unexpected {
        rows.push(Row::of_settlement(Kind::Unexpected, s, None, None));
    }
    let mut seen = vec![0i64; ins.len()];
    for (k, s) in &set.matched {
        let r = &ins[*k as usize];
        seen[*k as usize] += 1;
        if let Some(kind) = r.open {
            rows.push(Row::of_instruction(kind, r, Some(s)));
        }
    }
    for (r, &n) in ins.iter().zip(&seen) {
        let Some(kind) = r.open else { continue };
        if n != r.count {
            return Err(format!(
                "instruction {} ({} row {}) has settlement_count {}, but {n} settlements name it as matched",
                r.id, r.file, r.row, r.count
            ));
        }
        if n == 0 {
            rows.push(Row::of_instruction(kind, r, None));
        }
    }
    Ok(rows)
}

/// Currency, then amount at risk (largest first), then exception, provider, provider_ref,
/// instruction_id: the candidate rows of one settlement stay together.
fn order(a: &Row, b: &Row) -> Ordering {
    a.currency
        .cmp(b.currency)
        .then(b.risk.cmp(&a.risk))
        .then(a.kind.cmp(&b.kind))
        .then_with(|| a.provider().cmp(b.provider()))
        .then_with(|| a.provider_ref().cmp(b.provider_ref()))
        .then_with(|| a.instruction_id().cmp(b.instruction_id()))
}

/// The proposed decision id: the same exception gets the same id in every run, so a
/// worksheet filled in part can be merged with the next run's.
pub fn decision_id(
    exception: &str,
    provider: &str,
    provider_ref: &str,
    instruction_id: &str,
) -> String {
    let mut h = Sha256::new();
    h.update(exception);
    for part in [provider, provider_ref, instruction_id] {
        h.update([0x1f]);
        h.update(part);
    }
    format!("W-{}", &hex::encode(h.finalize())[..16])
}

/// The row's cells in [`COLUMNS`] order: text guarded against spreadsheet formulas,
/// amounts with their currency's minor units, dates `YYYY-MM-DD`.
fn cells(r: &Row) -> Vec<String> {
    let t = |s: &str| safe_text(s).into_owned();
    let kind = r.kind.name();
    let actions = match (r.kind, r.set) {
        (Kind::Ambiguous | Kind::Unexpected, _) => "MATCH",
        (_, Some(_)) => "ACCEPT;UNMATCH",
        (_, None) => "ACCEPT",
    };
    let mut c = vec![
        decision_id(kind, r.provider(), r.provider_ref(), r.instruction_id()),
        String::new(),
        t(r.provider()),
        t(r.provider_ref()),
        t(r.instruction_id()),
        String::new(),
        String::new(),
        String::new(),
        kind.into(),
        actions.into(),
        t(r.currency),
        money(r.risk, r.currency),
        r.candidates.map_or(String::new(), |n| n.to_string()),
    ];
    match r.set {
        Some(s) => c.extend([
            s.amount.map_or(String::new(), |a| money(a, &s.currency)),
            t(&s.currency),
            t(&s.status),
            t(&s.account),
            date_text(s.value_date),
            t(&s.method),
            t(&s.file),
            s.row.to_string(),
        ]),
        None => c.extend(std::iter::repeat_n(String::new(), 8)),
    }
    match r.ins {
        Some(i) => c.extend([
            money(i.amount, &i.currency),
            t(&i.account),
            date_text(i.due),
            t(&i.beneficiary_id),
            t(&i.program),
            t(&i.cycle),
            t(&i.status),
            t(&i.flags),
            money(i.paid, &i.currency),
            money(i.difference, &i.currency),
            t(&i.file),
            i.row.to_string(),
        ]),
        None => c.extend(std::iter::repeat_n(String::new(), 12)),
    }
    c
}

/// The CSV (RFC 4180 quoting, LF); `Err` if two rows got one decision id.
fn write_csv(rows: &[Row]) -> Result<Vec<u8>> {
    let internal = |e: csv::Error| Error::Internal(format!("worksheet: {e}"));
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(COLUMNS).map_err(internal)?;
    let mut ids = HashSet::with_capacity(rows.len());
    for r in rows {
        let c = cells(r);
        if !ids.insert(c[0].clone()) {
            return Err(Error::Internal(format!(
                "worksheet: decision id {} given twice",
                c[0]
            )));
        }
        w.write_record(&c).map_err(internal)?;
    }
    w.into_inner()
        .map_err(|e| Error::Internal(format!("worksheet: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{ArrayRef, Date32Array, Decimal128Array, Int64Array, StringArray};
    use std::sync::Arc;

    fn ins(id: &str, account: &str, amount: i128, due: i32, status: &str) -> Ins {
        Ins {
            id: id.into(),
            provider: "UZCARD".into(),
            account: account.into(),
            currency: "UZS".into(),
            amount,
            due,
            status: status.into(),
            open: (status == "UNPAID").then_some(Kind::Unpaid),
            ..Ins::default()
        }
    }

    fn set(provider_ref: &str, account: &str, amount: i128, value_date: i32) -> Set {
        Set {
            provider: "UZCARD".into(),
            provider_ref: provider_ref.into(),
            account: account.into(),
            currency: "UZS".into(),
            amount: Some(amount),
            status: "SETTLED".into(),
            value_date,
            method: "NONE".into(),
            file: "s.csv".into(),
            row: 1,
        }
    }

    #[test]
    fn candidates_are_unpaid_instructions_with_the_key_within_the_window() {
        let mut accepted = ins("F", "8600", 500, 101, "UNPAID");
        accepted.open = None;
        let mut kes = ins("G", "8600", 500, 101, "UNPAID");
        kes.currency = "KES".into();
        let mut other_provider = ins("H", "8600", 500, 101, "UNPAID");
        other_provider.provider = "PAYME".into();
        let all = [
            ins("A", "8600", 500, 94, "UNPAID"), // 7 days before: in
            ins("B", "8600", 500, 104, "UNPAID"),
            ins("C", "8601", 500, 101, "UNPAID"), // another account
            ins("D", "8600", 500, 93, "UNPAID"),  // 8 days: out
            ins("E", "8600", 500, 101, "PAID"),   // has a settlement
            accepted,                             // ACCEPTED: still a candidate
            kes,
            other_provider,
            ins("I", "8600", 501, 101, "UNPAID"), // another amount
        ];
        let got = candidates(&all, &[set("R1", "8600", 500, 101)], 7).unwrap();
        let ids: Vec<&str> = got[0]
            .iter()
            .map(|&k| all[k as usize].id.as_str())
            .collect();
        assert_eq!(ids, ["A", "B", "F"]);
        // A narrower window drops A.
        let got = candidates(&all, &[set("R1", "8600", 500, 101)], 6).unwrap();
        assert_eq!(got[0].len(), 2);
    }

    #[test]
    fn one_candidate_is_ambiguous_when_another_settlement_claims_it() {
        let all = [ins("A", "8600", 500, 100, "UNPAID")];
        let two = [set("R1", "8600", 500, 100), set("R2", "8600", 500, 102)];
        assert_eq!(candidates(&all, &two, 7).unwrap(), vec![vec![0], vec![0]]);
    }

    #[test]
    fn an_ambiguous_settlement_without_its_candidates_is_an_internal_error() {
        let all = [ins("A", "8600", 500, 100, "UNPAID")];
        let e = candidates(&all, &[set("R1", "8600", 500, 100)], 7).unwrap_err();
        assert_eq!(
            e,
            "settlement UZCARD R1 (s.csv row 1) is flagged AMBIGUOUS, but the outputs give it \
             one candidate instruction that no other settlement claims (CONTRACT 3.2, \
             fallback_days 7); the folder's outputs disagree with each other"
        );
        let e = candidates(&all, &[set("R1", "8699", 500, 100)], 7).unwrap_err();
        assert!(e.contains("no candidate instruction"), "{e}");
    }

    #[test]
    fn rows_are_ordered_by_currency_then_risk_then_exception_then_keys() {
        let a = ins("A", "8600", 700, 100, "UNPAID");
        let b = ins("B", "8600", 700, 100, "UNPAID");
        let mut under = ins("C", "8600", 900, 100, "UNDERPAID");
        under.difference = -200;
        let mut kes = ins("K", "1", 100, 100, "UNPAID");
        kes.currency = "KES".into();
        let (s1, s2) = (set("R1", "8600", 700, 100), set("R2", "8600", 700, 100));
        let small = set("R0", "8600", 10, 100);
        let mut rows = [
            Row::of_instruction(Kind::Underpaid, &under, Some(&small)),
            Row::of_instruction(Kind::Unpaid, &b, None),
            Row::of_settlement(Kind::Ambiguous, &s2, Some(&a), Some(2)),
            Row::of_settlement(Kind::Unexpected, &small, None, None),
            Row::of_settlement(Kind::Ambiguous, &s1, Some(&b), Some(2)),
            Row::of_instruction(Kind::Unpaid, &a, None),
            Row::of_settlement(Kind::Ambiguous, &s1, Some(&a), Some(2)),
            Row::of_instruction(Kind::Unpaid, &kes, None),
        ];
        rows.sort_by(order);
        let got: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {}",
                    r.currency,
                    r.risk,
                    r.kind.name(),
                    r.provider_ref()
                ) + r.instruction_id()
            })
            .collect();
        assert_eq!(
            got,
            [
                "KES 100 UNPAID K",
                "UZS 700 AMBIGUOUS R1A",
                "UZS 700 AMBIGUOUS R1B",
                "UZS 700 AMBIGUOUS R2A",
                "UZS 700 UNPAID A",
                "UZS 700 UNPAID B",
                "UZS 200 UNDERPAID R0C",
                "UZS 10 UNEXPECTED R0",
            ]
        );
    }

    #[test]
    fn the_first_eight_columns_are_a_decision_files() {
        assert_eq!(COLUMNS[..8], sverka_engine::DECISION_COLUMNS);
    }

    #[test]
    fn decision_ids_are_stable_and_keep_their_fields_apart() {
        let id = decision_id("UNPAID", "", "", "INS-1");
        assert_eq!(id, decision_id("UNPAID", "", "", "INS-1"));
        assert!(id.starts_with("W-") && id.len() == 18, "{id}");
        assert!(id[2..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_ne!(
            decision_id("X", "AB", "", ""),
            decision_id("X", "A", "B", "")
        );
        assert_ne!(id, decision_id("UNDERPAID", "", "", "INS-1"));
    }

    #[test]
    fn cells_are_spreadsheet_safe_and_amounts_exact() {
        let mut r = ins("=HYPERLINK(1)", "+998", 123_456, 0, "UNDERPAID");
        r.currency = "UZS".into();
        r.paid = 100_000;
        r.difference = -23_456;
        let mut s = set("-R1", "@x", 100_000, 1);
        s.currency = "UZS".into();
        let c = cells(&Row::of_instruction(Kind::Underpaid, &r, Some(&s)));
        assert_eq!(c.len(), COLUMNS.len());
        let cell = |name: &str| c[COLUMNS.iter().position(|&n| n == name).unwrap()].as_str();
        assert_eq!(cell("instruction_id"), "'=HYPERLINK(1)");
        assert_eq!(cell("provider_ref"), "'-R1");
        assert_eq!(cell("settlement_account"), "'@x");
        assert_eq!(cell("instruction_account"), "'+998");
        assert_eq!(cell("difference"), "-234.56");
        assert_eq!(cell("amount_at_risk"), "234.56");
        assert_eq!(cell("instruction_amount"), "1234.56");
        assert_eq!(cell("settlement_amount"), "1000.00");
        assert_eq!(cell("due_date"), "1970-01-01");
        assert_eq!(cell("value_date"), "1970-01-02");
        assert_eq!(cell("possible_actions"), "ACCEPT;UNMATCH");
        assert_eq!((cell("action"), cell("candidates")), ("", ""));
    }

    fn text(v: &[&str]) -> ArrayRef {
        Arc::new(StringArray::from(v.to_vec()))
    }

    fn dec(v: &[i128]) -> ArrayRef {
        Arc::new(
            Decimal128Array::from(v.to_vec())
                .with_precision_and_scale(18, 2)
                .unwrap(),
        )
    }

    /// Decided exceptions are left out; a MANUAL match still UNDERPAID stays open.
    #[test]
    fn decided_exceptions_are_closed() {
        let n = 4;
        let same = |v: &str| text(&vec![v; n]);
        let b = RecordBatch::try_from_iter([
            ("instruction_id", text(&["I1", "I2", "I3", "I4"])),
            ("beneficiary_id", same("B")),
            ("program", same("P")),
            ("cycle", same("C")),
            ("provider", same("UZCARD")),
            ("account", same("8600")),
            ("amount", dec(&[100, 100, 100, 100])),
            ("currency", same("UZS")),
            (
                "due_date",
                Arc::new(Date32Array::from(vec![0; n])) as ArrayRef,
            ),
            ("status", text(&["UNPAID", "UNPAID", "UNDERPAID", "PAID"])),
            ("paid_amount", dec(&[0, 0, 50, 100])),
            ("difference", dec(&[0, 0, -50, 0])),
            (
                "settlement_count",
                Arc::new(Int64Array::from(vec![0, 0, 1, 1])) as ArrayRef,
            ),
            (
                "flags",
                text(&["ACCEPTED", "", "MANUAL_MATCH", "ACCEPTED;ACCOUNT_MISMATCH"]),
            ),
            ("file", same("i.csv")),
            (
                "row",
                Arc::new(Int64Array::from(vec![1, 2, 3, 4])) as ArrayRef,
            ),
            ("decision_ids", text(&["D1", "", "D2", "D3"])),
        ])
        .unwrap();
        let (mut kept, mut accepted) = (Vec::new(), 0);
        fold_instructions(&b, &mut kept, &mut accepted).unwrap();
        let got: Vec<(&str, Option<Kind>)> = kept.iter().map(|r| (r.id.as_str(), r.open)).collect();
        // I1: accepted, kept only as a candidate; I4: accepted, gone.
        assert_eq!(
            got,
            [
                ("I1", None),
                ("I2", Some(Kind::Unpaid)),
                ("I3", Some(Kind::Underpaid))
            ]
        );
        assert_eq!(accepted, 2);

        let m = 4;
        let b = RecordBatch::try_from_iter([
            ("provider", text(&vec!["UZCARD"; m])),
            ("provider_ref", text(&["R1", "R2", "R3", "R4"])),
            ("account", text(&vec!["8600"; m])),
            ("amount", dec(&[100, 100, 50, 100])),
            ("currency", text(&vec!["UZS"; m])),
            ("status", text(&vec!["SETTLED"; m])),
            (
                "value_date",
                Arc::new(Date32Array::from(vec![0; m])) as ArrayRef,
            ),
            (
                "match_method",
                text(&["NONE", "NONE", "MANUAL", "REFERENCE"]),
            ),
            (
                "matched_instruction_id",
                Arc::new(StringArray::from(vec![None, None, Some("I3"), Some("I4")])) as ArrayRef,
            ),
            ("flags", text(&vec![""; m])),
            ("file", text(&vec!["s.csv"; m])),
            (
                "row",
                Arc::new(Int64Array::from(vec![1, 2, 3, 4])) as ArrayRef,
            ),
            ("decision_ids", text(&["D9", "", "D2", ""])),
        ])
        .unwrap();
        let open: HashMap<&str, u32> = [("I3", 2)].into_iter().collect();
        let mut out = Settlements::default();
        fold_settlements(&b, &open, &mut out).unwrap();
        assert_eq!(out.unmatched, 1);
        let refs: Vec<&str> = out
            .unexpected
            .iter()
            .map(|s| s.provider_ref.as_str())
            .collect();
        assert_eq!(refs, ["R2"]);
        assert_eq!(out.matched.len(), 1);
        assert_eq!(
            (out.matched[0].0, out.matched[0].1.method.as_str()),
            (2, "MANUAL")
        );
        let rows = rows(&kept, &out, &[]).unwrap();
        let kinds: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.kind.name(), r.instruction_id()))
            .collect();
        assert_eq!(
            kinds,
            [("UNEXPECTED", ""), ("UNDERPAID", "I3"), ("UNPAID", "I2")]
        );
    }
}
