//! Field validation (CONTRACT.md section 2): raw batches become chunks of accepted,
//! trimmed, typed rows plus rejects. Pure: no IO. Columns are checked in the contract's
//! table order and the first failing rule is the reason; the precision of amount and fee
//! is checked at the currency column's turn. The work goes column by column (a rejected
//! row is skipped by the later columns), which gives the same reasons as row by row
//! without a dispatch per cell.

use std::borrow::Cow;

use arrow_array::builder::StringBuilder;
use arrow_array::{Array, BooleanArray, StringArray};

use crate::currency::{self, Ccy};
use crate::date;
use crate::load::{RawBatch, RawCol};
use crate::money::{self, Amount};
use crate::schema::{cut_value, Kind, Reason, Reject, SettleStatus, Side};

/// Accepted rows of one raw batch, in input order, with the batch's rejects.
#[derive(Debug, Default)]
pub struct Chunk {
    /// One array per text field of the side, trimmed.
    pub text: Vec<StringArray>,
    /// One vector per amount field, in minor units of the row's currency (absent fee: 0).
    pub amounts: Vec<Vec<i128>>,
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
    if nullable && crate::load::is_null(col, i) {
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
    }
}

/// Whether every value can be used as it is: no surrounding spaces or tabs, no blank
/// strings (those become missing).
fn is_clean(a: &StringArray) -> bool {
    let blankish = |v: &[u8]| {
        v.is_empty() || matches!(v[0], b' ' | b'\t') || matches!(v[v.len() - 1], b' ' | b'\t')
    };
    (0..a.len()).all(|i| a.is_null(i) || !blankish(a.value(i).as_bytes()))
}

/// Validates one raw batch of `side`.
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

    for (fi, field) in fields.iter().enumerate() {
        let col = batch.cols[fi].as_ref();
        let nullable = col.is_none_or(raw_null_count_nonzero);
        let cell_at = |i: usize| match col {
            Some(c) => cell_checked(c, i, nullable),
            None => Cell::Null,
        };
        match field.kind {
            Kind::Text => {
                if !field.required {
                    continue; // optional text cannot fail: blank or null is missing
                }
                match col {
                    Some(RawCol::Text(a)) if !nullable => {
                        // Only blank values can be missing here.
                        for (i, d) in dead.iter_mut().enumerate() {
                            if !*d && is_blank(a.value(i)) {
                                *d = true;
                                let shown = Some(cut_value(a.value(i)));
                                rejects.push(fail(i, field.name, Reason::MissingField, shown));
                            }
                        }
                    }
                    _ => {
                        for (i, d) in dead.iter_mut().enumerate() {
                            if *d {
                                continue;
                            }
                            let c = cell_at(i);
                            if c.is_missing() {
                                *d = true;
                                rejects.push(fail(i, field.name, Reason::MissingField, c.shown()));
                            }
                        }
                    }
                }
            }
            Kind::Amount => {
                let mut v: Vec<Option<Amount>> = vec![None; n];
                for i in 0..n {
                    if dead[i] {
                        continue;
                    }
                    let c = cell_at(i);
                    if c.is_missing() {
                        if field.required {
                            dead[i] = true;
                            rejects.push(fail(i, field.name, Reason::MissingField, c.shown()));
                        }
                        // An empty fee means 0 (CONTRACT.md section 1).
                        continue;
                    }
                    let parsed = match &c {
                        Cell::Text(s) => money::parse_amount(trim(s)),
                        Cell::Dec(x, s) => Amount::from_scaled(*x, *s),
                        Cell::Int(x) => Amount::from_whole(*x),
                        _ => None,
                    };
                    let Some(a) = parsed else {
                        dead[i] = true;
                        rejects.push(fail(i, field.name, Reason::InvalidAmount, c.shown()));
                        continue;
                    };
                    let sign_bad = match side {
                        Side::Instructions | Side::Payroll => {
                            (!a.is_positive()).then_some(Reason::NonPositiveAmount)
                        }
                        Side::Settlements => {
                            a.is_negative_nonzero().then_some(Reason::NegativeAmount)
                        }
                    };
                    if let Some(reason) = sign_bad {
                        dead[i] = true;
                        rejects.push(fail(i, field.name, reason, c.shown()));
                        continue;
                    }
                    v[i] = Some(a);
                }
                amounts.push(v);
                amount_fields.push(fi);
            }
            Kind::Currency => each_required(
                &mut dead,
                &mut rejects,
                &cell_at,
                field.name,
                &fail,
                |i, c| {
                    let Some(code) = (match c {
                        Cell::Text(s) => table.lookup(trim(s)),
                        _ => None,
                    }) else {
                        return Err(fail(i, field.name, Reason::UnknownCurrency, c.shown()));
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
            Kind::Date => each_required(
                &mut dead,
                &mut rejects,
                &cell_at,
                field.name,
                &fail,
                |i, c| {
                    let in_range =
                        |d: i64| (date::MIN_DAY as i64..=date::MAX_DAY as i64).contains(&d);
                    let d = match c {
                        Cell::Text(s) => date::parse_date(trim(s)),
                        Cell::Days(d) => Some(*d).filter(|&d| in_range(d)).map(|d| d as i32),
                        Cell::Millis(m) => (m % 86_400_000 == 0)
                            .then(|| m / 86_400_000)
                            .filter(|&d| in_range(d))
                            .map(|d| d as i32),
                        _ => None,
                    };
                    let Some(d) = d else {
                        return Err(fail(i, field.name, Reason::InvalidDate, c.shown()));
                    };
                    day[i] = d;
                    Ok(())
                },
            ),
            Kind::Status => {
                status = vec![0; n];
                each_required(
                    &mut dead,
                    &mut rejects,
                    &cell_at,
                    field.name,
                    &fail,
                    |i, c| {
                        let Some(s) = (match c {
                            Cell::Text(s) => SettleStatus::parse(trim(s)),
                            _ => None,
                        }) else {
                            return Err(fail(i, field.name, Reason::InvalidStatus, c.shown()));
                        };
                        status[i] = s as u8;
                        Ok(())
                    },
                )
            }
        }
    }
    rejects.sort_unstable_by_key(|r| r.row);

    // Accepted rows, in input order.
    let kept: Vec<usize> = (0..n).filter(|&i| !dead[i]).collect();
    let all_kept = kept.len() == n;
    let keep = BooleanArray::from(dead.iter().map(|&d| !d).collect::<Vec<bool>>());
    let text = fields
        .iter()
        .zip(&batch.cols)
        .filter(|(f, _)| f.kind == Kind::Text)
        .map(|(_, c)| match c {
            // Passed through without copying when no value needs trimming or is blank.
            Some(RawCol::Text(a)) if is_clean(a) => {
                if all_kept {
                    a.clone()
                } else {
                    let f = arrow_select::filter::filter(a, &keep).expect("same length");
                    f.as_any()
                        .downcast_ref::<StringArray>()
                        .expect("utf8")
                        .clone()
                }
            }
            Some(c) => {
                let mut b = StringBuilder::with_capacity(kept.len(), kept.len() * 12);
                for &i in &kept {
                    match cell(c, i).text() {
                        Some(t) => b.append_value(t),
                        None => b.append_null(),
                    }
                }
                b.finish()
            }
            // An absent optional column: all null.
            None => StringArray::new_null(kept.len()),
        })
        .collect();
    let amounts = amounts
        .iter()
        .map(|v| {
            kept.iter()
                .map(|&i| {
                    let minor = table.minor_units(ccy[i]);
                    v[i].map_or(0, |a| {
                        a.to_minor(minor).expect("checked at the currency's turn")
                    })
                })
                .collect()
        })
        .collect();
    let chunk = Chunk {
        text,
        amounts,
        currency: kept.iter().map(|&i| ccy[i]).collect(),
        date: kept.iter().map(|&i| day[i]).collect(),
        status: if side == Side::Settlements {
            kept.iter().map(|&i| status[i]).collect()
        } else {
            Vec::new()
        },
        origin: kept
            .iter()
            .map(|&i| origin(batch.file, batch.first_row + i as u64))
            .collect(),
        rejects,
        rows_in: n,
    };
    debug_assert_eq!(chunk.rows_in, chunk.origin.len() + chunk.rejects.len());
    chunk
}

type Fail<'f> = dyn Fn(usize, &'static str, Reason, Option<String>) -> Reject + 'f;

/// Visits the live rows of a required typed column: a missing value rejects the row
/// (missing_field); `check` takes a present value, or returns the row's reject.
fn each_required<'a>(
    dead: &mut [bool],
    rejects: &mut Vec<Reject>,
    cell_at: &dyn Fn(usize) -> Cell<'a>,
    column: &'static str,
    fail: &Fail,
    mut check: impl FnMut(usize, &Cell<'a>) -> std::result::Result<(), Reject>,
) {
    for (i, d) in dead.iter_mut().enumerate() {
        if *d {
            continue;
        }
        let c = cell_at(i);
        let r = if c.is_missing() {
            Err(fail(i, column, Reason::MissingField, c.shown()))
        } else {
            check(i, &c)
        };
        if let Err(r) = r {
            *d = true;
            rejects.push(r);
        }
    }
}

/// Whether a text value is blank (empty or only spaces and tabs): missing.
#[inline]
fn is_blank(s: &str) -> bool {
    s.bytes().all(|c| c == b' ' || c == b'\t')
}
