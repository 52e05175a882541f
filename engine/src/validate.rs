//! Field validation (CONTRACT.md section 2): raw batches become chunks of accepted,
//! trimmed, typed rows plus rejects. Pure: no IO. Columns are checked in the contract's
//! table order and the first failing rule is the reason; the precision of amount and fee
//! is checked at the currency column's turn. The work goes column by column (a rejected
//! row is skipped by the later columns), which gives the same reasons as row by row
//! without a dispatch per cell.

use std::borrow::Cow;

use arrow_array::builder::StringBuilder;
use arrow_array::{Array, StringArray};

use crate::column::TextCol;
use crate::currency::{self, Ccy};
use crate::date;
use crate::ingest::{RawBatch, RawCol};
use crate::money::{self, Amount};
use crate::schema::{cut_value, Field, Kind, Reason, Reject, SettleStatus, Side};

/// Accepted rows of one raw batch, in input order, with the batch's rejects.
#[derive(Debug, Default)]
pub struct Chunk {
    /// One column per text field of the side, trimmed: plain, or for dictionary-encoded
    /// input of a dictionary field the input's keys into its (trimmed) values.
    pub text: Vec<TextCol>,
    /// One vector per amount field, in minor units of the row's currency (absent fee: 0).
    /// Never negative (negative values are rejects) and below 10^19 (15 integer digits,
    /// at most 4 minor units): `u64`, half the memory of `i128`; sums are `i128`.
    pub amounts: Vec<Vec<u64>>,
    pub currency: Vec<Ccy>,
    pub date: Vec<i32>,
    /// Settlement status (`SettleStatus as u8`); empty for instructions.
    pub status: Vec<u8>,
    /// Where each accepted row came from: file index << 40 | row.
    pub origin: Vec<u64>,
    pub rejects: Vec<Reject>,
    /// Input rows this chunk accounts for (accepted + rejected).
    pub rows_in: usize,
}

pub const ORIGIN_ROW_BITS: u32 = 40;

/// (v2) A settlement amount that is absent (a FAILED row may give none). Every accepted
/// amount is below 10^19, so the largest `u64` is never a real one.
pub const NO_AMOUNT: u64 = u64::MAX;

pub fn origin(file: u32, row: u64) -> u64 {
    ((file as u64) << ORIGIN_ROW_BITS) | row
}

pub fn origin_parts(o: u64) -> (u32, u64) {
    (
        (o >> ORIGIN_ROW_BITS) as u32,
        o & ((1 << ORIGIN_ROW_BITS) - 1),
    )
}

/// Text and space trimming: only U+0020 and U+0009 (CONTRACT.md section 2). Works on
/// bytes: both are ASCII, and an ASCII byte is never part of a multi-byte UTF-8 sequence,
/// so the cut is always at a character boundary.
#[inline]
pub fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    let blank = |c: u8| c == b' ' || c == b'\t';
    let start = b.iter().position(|&c| !blank(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|&c| !blank(c)).map_or(start, |e| e + 1);
    &s[start..end]
}

enum Cell<'a> {
    Null,
    Text(&'a str),
    Dec(i128, i8),
    Int(i128),
    Days(i64),
    Millis(i64),
    Overflow(String),
}

fn cell(col: &RawCol, i: usize) -> Cell<'_> {
    cell_checked(col, i, true)
}

/// A cell; `nullable` false skips the null check (the column has no nulls).
#[inline]
fn cell_checked(col: &RawCol, i: usize, nullable: bool) -> Cell<'_> {
    if nullable && crate::ingest::is_null(col, i) {
        return Cell::Null;
    }
    match col {
        RawCol::Text(a) => Cell::Text(a.value(i)),
        RawCol::Dec128(a, s) => Cell::Dec(a.value(i), *s),
        RawCol::Dec256(a, s) => {
            let v = a.value(i);
            match v.to_i128() {
                Some(x) => Cell::Dec(x, *s),
                None => Cell::Overflow(v.to_string()),
            }
        }
        RawCol::Int(a) => Cell::Int(a.value(i) as i128),
        RawCol::UInt(a) => Cell::Int(a.value(i) as i128),
        RawCol::Date32(a) => Cell::Days(a.value(i) as i64),
        RawCol::Date64(a) => Cell::Millis(a.value(i)),
        RawCol::Dict(k, v) => Cell::Text(v.value(k.value(i) as usize)),
    }
}

impl<'a> Cell<'a> {
    /// The value as shown in a reject.
    fn shown(&self) -> Option<String> {
        match self {
            Cell::Null => None,
            Cell::Text(s) => Some(cut_value(s)),
            Cell::Dec(v, s) => Some(money::format_scaled(*v, *s)),
            Cell::Int(v) => Some(v.to_string()),
            Cell::Days(d) => Some(format!("{d} (days since 1970-01-01)")),
            Cell::Millis(m) => Some(format!("{m} (ms since 1970-01-01)")),
            Cell::Overflow(s) => Some(cut_value(s)),
        }
    }

    /// The trimmed text of a text field; None when missing.
    fn text(&self) -> Option<Cow<'a, str>> {
        match *self {
            Cell::Text(s) => {
                let t = trim(s);
                (!t.is_empty()).then_some(Cow::Borrowed(t))
            }
            Cell::Int(v) => Some(Cow::Owned(v.to_string())),
            _ => None,
        }
    }

    fn is_missing(&self) -> bool {
        match self {
            Cell::Null => true,
            Cell::Text(s) => trim(s).is_empty(),
            _ => false,
        }
    }
}

fn raw_null_count_nonzero(col: &RawCol) -> bool {
    match col {
        RawCol::Text(a) => a.null_count() > 0,
        RawCol::Dec128(a, _) => a.null_count() > 0,
        RawCol::Dec256(a, _) => a.null_count() > 0,
        RawCol::Int(a) => a.null_count() > 0,
        RawCol::UInt(a) => a.null_count() > 0,
        RawCol::Date32(a) => a.null_count() > 0,
        RawCol::Date64(a) => a.null_count() > 0,
        RawCol::Dict(k, v) => k.null_count() > 0 || v.null_count() > 0,
    }
}

/// Whether every value can be used as it is: no surrounding spaces or tabs, no blank
/// strings (those become missing).
fn is_clean(a: &StringArray) -> bool {
    !(0..a.len()).any(|i| changes(a, i))
}

/// Whether row `i`'s value must change to be used: it is empty or starts or ends with a
/// space or a tab (a null stays as it is).
#[inline]
fn changes(a: &StringArray, i: usize) -> bool {
    if a.is_null(i) {
        return false;
    }
    let v = a.value(i).as_bytes();
    v.is_empty() || matches!(v[0], b' ' | b'\t') || matches!(v[v.len() - 1], b' ' | b'\t')
}

/// What a value of a field comes to once checked: its parsed form, or the reason its row
/// is rejected.
type Verdict<T> = std::result::Result<T, Reason>;

/// Validates one raw batch of `side`: one pass per column in the contract's order, then
/// the accepted rows' columns.
pub fn validate(side: Side, batch: RawBatch) -> Chunk {
    let fields = side.fields();
    let table = currency::table();
    let n = batch.len;
    // Column by column, in the contract's order: a row's first failing rule rejects it
    // and later columns skip it, which gives the same reason as checking row by row.
    // `dead[i]`: row i is rejected already.
    let mut dead = vec![false; n];
    let mut rejects: Vec<Reject> = Vec::new();
    for (j, r) in batch.pre_rejects {
        dead[j] = true;
        rejects.push(r);
    }
    let fail = |i: usize, column: &'static str, reason: Reason, value: Option<String>| Reject {
        side,
        file: batch.file,
        row: batch.first_row + i as u64,
        column: Some(column),
        reason,
        value,
    };
    // Parsed values of the typed fields, indexed by row (meaningful for live rows).
    let mut amounts: Vec<Vec<Option<Amount>>> = Vec::new();
    let mut amount_fields: Vec<usize> = Vec::new();
    let mut ccy: Vec<Ccy> = vec![0; n];
    let mut day: Vec<i32> = vec![0; n];
    let mut status: Vec<u8> = Vec::new();
    // Settlements: a row whose trimmed status is exactly FAILED may leave its amount and
    // currency empty (CONTRACT v2 section 2); asked only of rows where one is empty.
    let settlements = matches!(side, Side::Settlements);
    let failed = |i: usize| settlements && is_failed(fields, &batch.cols, i);

    for (fi, field) in fields.iter().enumerate() {
        let col = batch.cols[fi].as_ref();
        let mut rows = Rows {
            dead: &mut dead,
            rejects: &mut rejects,
            col,
            column: field.name,
            fail: &fail,
        };
        let missing = |c: &Cell| -> Verdict<()> {
            if c.is_missing() {
                Err(Reason::MissingField)
            } else {
                Ok(())
            }
        };
        match field.kind {
            // Optional text cannot fail: blank or null is missing.
            Kind::Text if !field.required => {}
            Kind::Text => match col {
                // Only blank values can be missing here.
                Some(RawCol::Text(a)) if a.null_count() == 0 => {
                    reject_blanks(a, &mut rows, |i, v| {
                        fail(i, field.name, Reason::MissingField, v)
                    })
                }
                _ => rows.each(missing, |_, ()| Ok(())),
            },
            Kind::Amount => {
                let mut v: Vec<Option<Amount>> = vec![None; n];
                // (v2) A FAILED settlement may leave its amount empty: judged as optional,
                // then required row by row where the row is not FAILED.
                let when_failed = settlements && field.required;
                rows.each(
                    |c| amount_of(side, field.required && !when_failed, c),
                    |i, a| {
                        if a.is_none() && when_failed && !failed(i) {
                            let shown = batch.cols[fi].as_ref().and_then(|c| cell(c, i).shown());
                            return Err(fail(i, field.name, Reason::MissingField, shown));
                        }
                        v[i] = a;
                        Ok(())
                    },
                );
                amounts.push(v);
                amount_fields.push(fi);
            }
            Kind::Currency => rows.each(
                |c| currency_of(c, settlements),
                |i, code| {
                    let Some(code) = code else {
                        // (v2) Without a currency only a FAILED row with neither amount
                        // nor fee: nothing to count in any currency.
                        let bare = failed(i) && amounts.iter().all(|v| v[i].is_none());
                        if bare {
                            ccy[i] = currency::NO_CCY;
                            return Ok(());
                        }
                        let shown = batch.cols[fi].as_ref().and_then(|c| cell(c, i).shown());
                        return Err(fail(i, field.name, Reason::MissingField, shown));
                    };
                    ccy[i] = code;
                    // The amounts' precision is checked at the currency's turn, in
                    // amount-field order.
                    let minor = table.minor_units(code);
                    for (v, &afi) in amounts.iter().zip(&amount_fields) {
                        if v[i].is_some_and(|a| a.to_minor(minor).is_none()) {
                            let shown = batch.cols[afi].as_ref().and_then(|c| cell(c, i).shown());
                            return Err(fail(i, fields[afi].name, Reason::AmountPrecision, shown));
                        }
                    }
                    Ok(())
                },
            ),
            Kind::Date => rows.each(
                |c| {
                    missing(c)?;
                    day_of(c)
                },
                |i, d| {
                    day[i] = d;
                    Ok(())
                },
            ),
            Kind::Status => {
                status = vec![0; n];
                rows.each(
                    |c| {
                        missing(c)?;
                        status_of(c)
                    },
                    |i, s| {
                        status[i] = s;
                        Ok(())
                    },
                )
            }
        }
    }
    rejects.sort_unstable_by_key(|r| r.row);
    show_originals(&mut rejects, batch.first_row, batch.originals);
    let parsed = Parsed {
        amounts,
        ccy,
        day,
        status,
    };
    accepted(
        side,
        &batch.cols,
        (batch.file, batch.first_row),
        &dead,
        rejects,
        parsed,
    )
}

/// The typed values validation parsed, indexed by row (meaningful for live rows).
struct Parsed {
    amounts: Vec<Vec<Option<Amount>>>,
    ccy: Vec<Ccy>,
    day: Vec<i32>,
    status: Vec<u8>,
}

/// A value the reader rewrote is shown in its reject as the file wrote it (CONTRACT 7).
fn show_originals(rejects: &mut [Reject], first_row: u64, originals: Vec<(usize, &str, String)>) {
    for (i, column, text) in originals {
        let row = first_row + i as u64;
        if let Ok(k) = rejects.binary_search_by_key(&row, |r| r.row) {
            if rejects[k].column == Some(column) {
                rejects[k].value = Some(cut_value(&text));
            }
        }
    }
}

/// The chunk of a batch's accepted rows (those not `dead`), in input order, with its
/// rejects; `(file, first_row)` is the batch's lineage.
fn accepted(
    side: Side,
    cols: &[Option<RawCol>],
    (file, first_row): (u32, u64),
    dead: &[bool],
    rejects: Vec<Reject>,
    p: Parsed,
) -> Chunk {
    let n = dead.len();
    let kept: Vec<usize> = (0..n).filter(|&i| !dead[i]).collect();
    let chunk = Chunk {
        text: kept_text(side.fields(), cols, &kept),
        amounts: kept_amounts(&p.amounts, &kept, &p.ccy),
        currency: kept.iter().map(|&i| p.ccy[i]).collect(),
        date: kept.iter().map(|&i| p.day[i]).collect(),
        status: if matches!(side, Side::Settlements) {
            kept.iter().map(|&i| p.status[i]).collect()
        } else {
            Vec::new()
        },
        origin: kept
            .iter()
            .map(|&i| origin(file, first_row + i as u64))
            .collect(),
        rejects,
        rows_in: n,
    };
    debug_assert_eq!(chunk.rows_in, chunk.origin.len() + chunk.rejects.len());
    chunk
}

/// A currency cell as its table index; `None` for an empty one where that may be allowed
/// (`optional`: settlements, where a bare FAILED row may have none; decided per row).
#[inline]
fn currency_of(c: &Cell, optional: bool) -> Verdict<Option<Ccy>> {
    if c.is_missing() {
        return if optional {
            Ok(None)
        } else {
            Err(Reason::MissingField)
        };
    }
    match c {
        Cell::Text(s) => currency::table().lookup(trim(s)),
        _ => None,
    }
    .map(Some)
    .ok_or(Reason::UnknownCurrency)
}

/// Rejects the live rows whose value is blank (`missing_field`).
fn reject_blanks(a: &StringArray, rows: &mut Rows, fail: impl Fn(usize, Option<String>) -> Reject) {
    for (i, d) in rows.dead.iter_mut().enumerate() {
        if !*d && is_blank(a.value(i)) {
            *d = true;
            rows.rejects.push(fail(i, Some(cut_value(a.value(i)))));
        }
    }
}

/// Whether row `i`'s status is exactly `FAILED` once trimmed.
fn is_failed(fields: &[Field], cols: &[Option<RawCol>], i: usize) -> bool {
    fields
        .iter()
        .position(|f| f.kind == Kind::Status)
        .and_then(|fi| cols[fi].as_ref())
        .is_some_and(|c| matches!(cell(c, i), Cell::Text(s) if trim(s) == "FAILED"))
}

/// An amount cell: parsed, or why its row is rejected. An empty optional amount (a fee)
/// means 0 (CONTRACT.md section 1).
#[inline]
fn amount_of(side: Side, required: bool, c: &Cell) -> Verdict<Option<Amount>> {
    if c.is_missing() {
        return if required {
            Err(Reason::MissingField)
        } else {
            Ok(None)
        };
    }
    let a = match c {
        Cell::Text(s) => money::parse_amount(trim(s)),
        Cell::Dec(x, s) => Amount::from_scaled(*x, *s),
        Cell::Int(x) => Amount::from_whole(*x),
        _ => None,
    }
    .ok_or(Reason::InvalidAmount)?;
    let sign_bad = match side {
        Side::Instructions | Side::Custom(_) => {
            (!a.is_positive()).then_some(Reason::NonPositiveAmount)
        }
        Side::Settlements => a.is_negative_nonzero().then_some(Reason::NegativeAmount),
    };
    sign_bad.map_or(Ok(Some(a)), Err)
}

/// A present date cell as days since 1970-01-01 (a typed date must fall on midnight).
#[inline]
fn day_of(c: &Cell) -> Verdict<i32> {
    let in_range = |d: i64| (date::MIN_DAY as i64..=date::MAX_DAY as i64).contains(&d);
    match c {
        Cell::Text(s) => date::parse_date(trim(s)),
        Cell::Days(d) => Some(*d).filter(|&d| in_range(d)).map(|d| d as i32),
        Cell::Millis(m) => (m % 86_400_000 == 0)
            .then(|| m / 86_400_000)
            .filter(|&d| in_range(d))
            .map(|d| d as i32),
        _ => None,
    }
    .ok_or(Reason::InvalidDate)
}

/// A present status cell as its `SettleStatus` code.
#[inline]
fn status_of(c: &Cell) -> Verdict<u8> {
    match c {
        Cell::Text(s) => SettleStatus::parse(trim(s)),
        _ => None,
    }
    .map(|s| s as u8)
    .ok_or(Reason::InvalidStatus)
}

/// The text columns of the accepted rows, trimmed.
fn kept_text(fields: &[Field], cols: &[Option<RawCol>], kept: &[usize]) -> Vec<TextCol> {
    fields
        .iter()
        .zip(cols)
        .filter(|(f, _)| f.kind == Kind::Text)
        .map(|(_, c)| match c {
            // A dictionary column (required, so every kept row has a value): the kept
            // rows' keys into the trimmed dictionary.
            Some(RawCol::Dict(keys, values)) => TextCol::Dict {
                codes: kept.iter().map(|&i| keys.value(i) as u32).collect(),
                values: if is_clean(values) {
                    values.clone()
                } else {
                    StringArray::from_iter_values(
                        (0..values.len()).map(|k| trim(dict_value(values, k))),
                    )
                },
            },
            Some(RawCol::Text(a)) => TextCol::Plain(trimmed(a, kept)),
            Some(c) => {
                let mut b = StringBuilder::with_capacity(kept.len(), kept.len() * 12);
                for &i in kept {
                    match cell(c, i).text() {
                        Some(t) => b.append_value(t),
                        None => b.append_null(),
                    }
                }
                TextCol::Plain(b.finish())
            }
            // An absent optional column: all null.
            None => TextCol::Plain(StringArray::new_null(kept.len())),
        })
        .collect()
}

/// The amount columns of the accepted rows in their currency's minor units.
fn kept_amounts(amounts: &[Vec<Option<Amount>>], kept: &[usize], ccy: &[Ccy]) -> Vec<Vec<u64>> {
    let table = currency::table();
    amounts
        .iter()
        .enumerate()
        .map(|(ai, v)| {
            kept.iter()
                .map(|&i| {
                    // An empty amount: the side's first amount field (a FAILED
                    // settlement's amount) is NO_AMOUNT; any other (a fee) is 0.
                    let none = if ai == 0 { NO_AMOUNT } else { 0 };
                    v[i].map_or(none, |a| {
                        let minor = table.minor_units(ccy[i]);
                        let m = a.to_minor(minor).expect("checked at the currency's turn");
                        // Accepted amounts are never negative (a negative one is a
                        // reject) and below 10^15 x 10^4: a u64 holds every one.
                        u64::try_from(m).expect("accepted amounts are not negative")
                    })
                })
                .collect()
        })
        .collect()
}

type Fail<'f> = dyn Fn(usize, &'static str, Reason, Option<String>) -> Reject + 'f;

/// The live rows of one column of a batch, and where their rejects go.
struct Rows<'r, 'a> {
    dead: &'r mut [bool],
    rejects: &'r mut Vec<Reject>,
    col: Option<&'a RawCol>,
    column: &'static str,
    fail: &'r Fail<'r>,
}

impl<'a> Rows<'_, 'a> {
    /// Visits the live rows: `judge` turns a cell into its value or a reject reason (once
    /// per distinct value of a dictionary column, once per row otherwise), and `store`
    /// keeps a row's value or returns the row's reject (checks that need the row's other
    /// fields). A rejected row is dead for the later columns.
    fn each<T>(
        &mut self,
        judge: impl Fn(&Cell<'a>) -> Verdict<T>,
        mut store: impl FnMut(usize, T) -> std::result::Result<(), Reject>,
    ) where
        T: Clone,
    {
        let (fail, column) = (self.fail, self.column);
        let mut outcome = |i: usize, v: Verdict<T>, c: &dyn Fn() -> Cell<'a>| match v {
            Ok(t) => store(i, t),
            Err(reason) => Err(fail(i, column, reason, c().shown())),
        };
        match self.col {
            Some(RawCol::Dict(keys, values)) => {
                let cell_of = |k: usize| {
                    if values.is_null(k) {
                        Cell::Null
                    } else {
                        Cell::Text(values.value(k))
                    }
                };
                let verdicts: Vec<Verdict<T>> =
                    (0..values.len()).map(|k| judge(&cell_of(k))).collect();
                let null_verdict = judge(&Cell::Null);
                for i in 0..keys.len() {
                    if self.dead[i] {
                        continue;
                    }
                    let r = if keys.is_null(i) {
                        outcome(i, null_verdict.clone(), &|| Cell::Null)
                    } else {
                        let k = keys.value(i) as usize;
                        outcome(i, verdicts[k].clone(), &|| cell_of(k))
                    };
                    if let Err(r) = r {
                        self.dead[i] = true;
                        self.rejects.push(r);
                    }
                }
            }
            col => {
                let nullable = col.is_none_or(raw_null_count_nonzero);
                let (dead, rejects) = (&mut *self.dead, &mut *self.rejects);
                // One loop per form of the column (a macro: each loop reads its cells
                // directly, with no call through a pointer per cell).
                macro_rules! scan {
                    ($cell_at:expr) => {{
                        let cell_at = $cell_at;
                        for i in 0..dead.len() {
                            if dead[i] {
                                continue;
                            }
                            if let Err(r) = outcome(i, judge(&cell_at(i)), &|| cell_at(i)) {
                                dead[i] = true;
                                rejects.push(r);
                            }
                        }
                    }};
                }
                // Text, the usual form, is read without a dispatch per cell.
                match col {
                    Some(RawCol::Text(a)) if nullable => scan!(|i: usize| {
                        if a.is_null(i) {
                            Cell::Null
                        } else {
                            Cell::Text(a.value(i))
                        }
                    }),
                    Some(RawCol::Text(a)) => scan!(|i: usize| Cell::Text(a.value(i))),
                    Some(c) => scan!(|i: usize| cell_checked(c, i, nullable)),
                    None => scan!(|_: usize| Cell::Null),
                }
            }
        }
    }
}

/// The rows `kept` of a text column, trimmed, blank values null; one pass over the bytes.
/// Runs of consecutive kept rows that need no change (nulls, and values that are not
/// empty and neither start nor end with a space or tab) are appended whole; when that is
/// every row, the column is returned as it is, uncopied.
fn trimmed(a: &StringArray, kept: &[usize]) -> StringArray {
    if kept.len() == a.len() && is_clean(a) {
        return a.clone();
    }
    let bytes: usize = kept.iter().map(|&i| a.value_length(i) as usize).sum();
    let mut b = StringBuilder::with_capacity(kept.len(), bytes);
    // The run of unchanged rows not yet appended: [start, end).
    let mut run = (0, 0);
    let flush = |b: &mut StringBuilder, (start, end): (usize, usize)| {
        if end > start {
            b.append_array(&a.slice(start, end - start))
                .expect("a run of one column fits its offsets");
        }
    };
    for &i in kept {
        if !changes(a, i) {
            if run.1 != i {
                flush(&mut b, run);
                run.0 = i;
            }
            run.1 = i + 1;
            continue;
        }
        flush(&mut b, run);
        run = (0, 0);
        // A value to trim; blank ones become null.
        let t = trim(a.value(i));
        if t.is_empty() {
            b.append_null();
        } else {
            b.append_value(t);
        }
    }
    flush(&mut b, run);
    b.finish()
}

/// A dictionary value as text (a null value reads as empty).
fn dict_value(values: &StringArray, k: usize) -> &str {
    if values.is_null(k) {
        ""
    } else {
        values.value(k)
    }
}

/// Whether a text value is blank (empty or only spaces and tabs): missing.
#[inline]
fn is_blank(s: &str) -> bool {
    s.bytes().all(|c| c == b' ' || c == b'\t')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The one-pass trim equals trimming value by value, with nulls, blanks,
        /// skipped (rejected) rows and a sliced input.
        #[test]
        fn trimmed_equals_value_by_value(
            values in proptest::collection::vec(
                proptest::option::weighted(0.9, "[ \t]{0,2}[a-zé]{0,4}[ \t]{0,2}"),
                0..40,
            ),
            skip in proptest::collection::vec(any::<bool>(), 40),
            offset in 0usize..3,
        ) {
            let all = StringArray::from(values.clone());
            let offset = offset.min(values.len());
            let a = all.slice(offset, values.len() - offset);
            let kept: Vec<usize> = (0..a.len()).filter(|&i| !skip[i]).collect();
            let want: Vec<Option<&str>> = kept
                .iter()
                .map(|&i| values[offset + i].as_deref().map(trim).filter(|t| !t.is_empty()))
                .collect();
            let got = trimmed(&a, &kept);
            prop_assert_eq!(got.iter().collect::<Vec<_>>(), want);
        }
    }
}
