//! Field validation (CONTRACT.md section 2): raw batches become chunks of accepted,
//! trimmed, typed rows plus rejects. Pure: no IO. Columns are checked in the contract's
//! table order and the first failing rule is the reason; the precision of amount and fee
//! is checked at the currency column's turn.

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

/// Text and space trimming: only U+0020 and U+0009 (CONTRACT.md section 2).
pub fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
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
    if crate::load::is_null(col, i) {
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
    let n_text = fields.iter().filter(|f| f.kind == Kind::Text).count();
    let n_amount = fields.iter().filter(|f| f.kind == Kind::Amount).count();
    // A text column whose values need no trimming and hold no blank strings is passed
    // through without copying (filtered when rows are rejected); only the others are
    // rebuilt, trimmed, row by row.
    let text_cols: Vec<Option<&RawCol>> = fields
        .iter()
        .zip(&batch.cols)
        .filter(|(f, _)| f.kind == Kind::Text)
        .map(|(_, c)| c.as_ref())
        .collect();
    let mut text: Vec<Option<StringBuilder>> = text_cols
        .iter()
        .map(|c| match c {
            Some(RawCol::Text(a)) if is_clean(a) => None,
            None => None,
            _ => Some(StringBuilder::with_capacity(batch.len, batch.len * 12)),
        })
        .collect();
    let mut keep = arrow_buffer::BooleanBufferBuilder::new(batch.len);
    let mut amounts: Vec<Vec<i128>> = (0..n_amount)
        .map(|_| Vec::with_capacity(batch.len))
        .collect();
    let mut chunk = Chunk {
        currency: Vec::with_capacity(batch.len),
        date: Vec::with_capacity(batch.len),
        origin: Vec::with_capacity(batch.len),
        rows_in: batch.len,
        ..Chunk::default()
    };
    let mut pre = batch.pre_rejects.into_iter().peekable();
    // Per-row scratch, reused.
    let mut row_text: Vec<Option<Cow<str>>> = Vec::with_capacity(n_text);
    let mut row_amounts: Vec<(Option<Amount>, Option<String>)> = Vec::with_capacity(n_amount);

    'rows: for i in 0..batch.len {
        let row = batch.first_row + i as u64;
        keep.append(false);
        if pre.peek().is_some_and(|(j, _)| *j == i) {
            let (_, r) = pre.next().expect("peeked");
            chunk.rejects.push(r);
            continue;
        }
        row_text.clear();
        row_amounts.clear();
        let (mut ccy, mut day, mut status) = (0 as Ccy, 0i32, 0u8);
        let fail = |column: &'static str, reason: Reason, value: Option<String>| Reject {
            side,
            file: batch.file,
            row,
            column: Some(column),
            reason,
            value,
        };
        let mut ti = 0;
        for (fi, field) in fields.iter().enumerate() {
            if field.kind == Kind::Text {
                ti += 1;
                // A clean text column (see `is_clean`) is passed through: only a null
                // can be missing, and no trimmed copy is needed.
                if let (None, Some(RawCol::Text(a))) = (&text[ti - 1], text_cols[ti - 1]) {
                    if a.is_null(i) && field.required {
                        chunk
                            .rejects
                            .push(fail(field.name, Reason::MissingField, None));
                        continue 'rows;
                    }
                    row_text.push(None);
                    continue;
                }
            }
            let c = match &batch.cols[fi] {
                Some(col) => cell(col, i),
                None => Cell::Null,
            };
            if c.is_missing() {
                if field.required {
                    chunk
                        .rejects
                        .push(fail(field.name, Reason::MissingField, c.shown()));
                    continue 'rows;
                }
                match field.kind {
                    Kind::Text => row_text.push(None),
                    // An empty fee means 0 (CONTRACT.md section 1).
                    _ => row_amounts.push((None, None)),
                }
                continue;
            }
            match field.kind {
                Kind::Text => row_text.push(c.text()),
                Kind::Amount => {
                    let parsed = match &c {
                        Cell::Text(s) => money::parse_amount(trim(s)),
                        Cell::Dec(v, s) => Amount::from_scaled(*v, *s),
                        Cell::Int(v) => Amount::from_whole(*v),
                        _ => None,
                    };
                    let Some(a) = parsed else {
                        chunk
                            .rejects
                            .push(fail(field.name, Reason::InvalidAmount, c.shown()));
                        continue 'rows;
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
                        chunk.rejects.push(fail(field.name, reason, c.shown()));
                        continue 'rows;
                    }
                    row_amounts.push((Some(a), c.shown()));
                }
                Kind::Currency => {
                    let code = match &c {
                        Cell::Text(s) => table.lookup(trim(s)),
                        _ => None,
                    };
                    let Some(code) = code else {
                        chunk
                            .rejects
                            .push(fail(field.name, Reason::UnknownCurrency, c.shown()));
                        continue 'rows;
                    };
                    ccy = code;
                    let minor = table.minor_units(code);
                    let amount_fields = fields.iter().filter(|f| f.kind == Kind::Amount);
                    for ((a, shown), f) in row_amounts.iter().zip(amount_fields) {
                        if let Some(a) = a {
                            if a.to_minor(minor).is_none() {
                                chunk.rejects.push(fail(
                                    f.name,
                                    Reason::AmountPrecision,
                                    shown.clone(),
                                ));
                                continue 'rows;
                            }
                        }
                    }
                }
                Kind::Date => {
                    let d = match &c {
                        Cell::Text(s) => date::parse_date(trim(s)),
                        Cell::Days(d) => Some(*d)
                            .filter(|d| (date::MIN_DAY as i64..=date::MAX_DAY as i64).contains(d))
                            .map(|d| d as i32),
                        Cell::Millis(m) => (m % 86_400_000 == 0)
                            .then(|| m / 86_400_000)
                            .filter(|d| (date::MIN_DAY as i64..=date::MAX_DAY as i64).contains(d))
                            .map(|d| d as i32),
                        _ => None,
                    };
                    let Some(d) = d else {
                        chunk
                            .rejects
                            .push(fail(field.name, Reason::InvalidDate, c.shown()));
                        continue 'rows;
                    };
                    day = d;
                }
                Kind::Status => {
                    let s = match &c {
                        Cell::Text(s) => SettleStatus::parse(trim(s)),
                        _ => None,
                    };
                    let Some(s) = s else {
                        chunk
                            .rejects
                            .push(fail(field.name, Reason::InvalidStatus, c.shown()));
                        continue 'rows;
                    };
                    status = s as u8;
                }
            }
        }
        // Accepted.
        let minor = table.minor_units(ccy);
        keep.set_bit(i, true);
        for (b, t) in text.iter_mut().zip(&row_text) {
            match (b, t) {
                (Some(b), Some(t)) => b.append_value(t),
                (Some(b), None) => b.append_null(),
                (None, _) => {}
            }
        }
        for (v, (a, _)) in amounts.iter_mut().zip(&row_amounts) {
            v.push(a.map_or(0, |a| {
                a.to_minor(minor).expect("checked at the currency's turn")
            }));
        }
        chunk.currency.push(ccy);
        chunk.date.push(day);
        if side == Side::Settlements {
            chunk.status.push(status);
        }
        chunk.origin.push(origin(batch.file, row));
    }
    let keep = BooleanArray::new(keep.finish(), None);
    let all_kept = chunk.rejects.is_empty();
    chunk.text = text
        .into_iter()
        .zip(&text_cols)
        .map(|(b, c)| match (b, c) {
            (Some(mut b), _) => b.finish(),
            (None, Some(RawCol::Text(a))) if all_kept => a.clone(),
            (None, Some(RawCol::Text(a))) => {
                let f = arrow_select::filter::filter(a, &keep).expect("same length");
                f.as_any()
                    .downcast_ref::<StringArray>()
                    .expect("utf8")
                    .clone()
            }
            // An absent optional column: all null.
            _ => StringArray::new_null(chunk.origin.len()),
        })
        .collect();
    chunk.amounts = amounts;
    debug_assert_eq!(chunk.rows_in, chunk.origin.len() + chunk.rejects.len());
    chunk
}
