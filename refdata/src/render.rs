//! Rows of the model to the text of the input files.
//!
//! Pure: the same row always gives the same text, whatever the format. Every choice
//! (which bad date, which padding) was drawn by the planner and sits in the row's
//! `variant` and `style`. Planted defects produce texts that fail exactly the rule their
//! [`Reason`](crate::plan::Reason) names; valid variations (padding, trailing or leading
//! zeros, `-0.00` on a zero FAILED line) stay valid under CONTRACT.md section 2.

use crate::catalog::{COUNTRIES, CURRENCIES, CYCLES, PROGRAMS, PROVIDERS};
use crate::plan::{
    AmountStyle, IDefect, IRow, InstrKey, Mangle, RefText, SDefect, SRow, Style, FOREIGN_CYCLE,
};
use crate::text::{
    civil, day, push_account, push_amount, push_date, push_num, push_yymmdd, scramble, Day,
};

/// Column names of the instruction files (CONTRACT.md section 1).
pub(crate) const INSTRUCTION_COLUMNS: [&str; 9] = [
    "instruction_id",
    "beneficiary_id",
    "program",
    "cycle",
    "provider",
    "account",
    "amount",
    "currency",
    "due_date",
];

/// Column names of the settlement files; `narrative` is an extra column the engine
/// ignores (free text, sometimes with commas, quotes and line breaks).
pub(crate) const SETTLEMENT_COLUMNS: [&str; 10] = [
    "provider",
    "provider_ref",
    "instruction_id",
    "account",
    "amount",
    "fee",
    "currency",
    "status",
    "value_date",
    "narrative",
];

const NARRATIVE_TEXTS: [&str; 6] = [
    "Bolalar nafaqasi, noyabr 2026",
    "Детское пособие за ноябрь 2026",
    "Pensiya \"qarilik\" to‘lovi",
    "Return: account closed\nby the bank",
    "Oʻzbekiston, Toshkent sh.",
    "SAGE grant; Kampala, 2026-11",
];

/// The text of one row: up to ten columns, each a value or null, and for a CSV record
/// that must not parse as a regular row, the raw line to write instead.
pub(crate) struct RowText {
    pub cols: [String; 10],
    pub null: [bool; 10],
    pub n: usize,
    pub raw: Option<String>,
}

impl RowText {
    pub(crate) fn new() -> RowText {
        RowText {
            cols: Default::default(),
            null: [false; 10],
            n: 0,
            raw: None,
        }
    }

    fn reset(&mut self, n: usize) {
        for c in &mut self.cols {
            c.clear();
        }
        self.null = [false; 10];
        self.n = n;
        self.raw = None;
    }

    pub(crate) fn get(&self, i: usize) -> Option<&str> {
        if self.null[i] {
            None
        } else {
            Some(&self.cols[i])
        }
    }

    fn set_null(&mut self, i: usize) {
        self.cols[i].clear();
        self.null[i] = true;
    }

    fn set(&mut self, i: usize, v: &str) {
        self.cols[i].clear();
        self.cols[i].push_str(v);
        self.null[i] = false;
    }

    /// A missing value, written both ways CONTRACT.md reads as missing: null for an even
    /// `variant`, else `blank` (empty, or spaces that trimming empties).
    fn set_missing(&mut self, i: usize, variant: u8, blank: &str) {
        if variant % 2 == 0 {
            self.set_null(i)
        } else {
            self.set(i, blank)
        }
    }

    fn pad(&mut self, st: &Style) {
        let i = usize::from(st.pad_col);
        if st.pad_col == Style::NO_PAD || i >= self.n || self.null[i] {
            return;
        }
        let v = std::mem::take(&mut self.cols[i]);
        let c = &mut self.cols[i];
        match st.pad % 4 {
            0 => {
                c.push(' ');
                c.push_str(&v);
            }
            1 => {
                c.push_str(&v);
                c.push(' ');
            }
            2 => {
                c.push('\t');
                c.push_str(&v);
            }
            _ => {
                c.push_str("  ");
                c.push_str(&v);
                c.push_str(" \t");
            }
        }
    }

    /// The first `k` columns joined by commas, for a CSV record with a wrong field count.
    fn raw_line(&mut self, k: usize) {
        let mut line = String::new();
        for i in 0..k {
            if i > 0 {
                line.push(',');
            }
            let v = &self.cols[i];
            debug_assert!(
                !v.contains(['"', '\n', '\r']),
                "raw CSV field needs quoting: {v:?}"
            );
            line.push_str(v);
        }
        self.raw = Some(line);
    }
}

pub(crate) fn push_key(buf: &mut String, k: &InstrKey) {
    buf.push_str(COUNTRIES[usize::from(k.country)].code);
    buf.push('-');
    buf.push_str(PROGRAMS[usize::from(k.program)].code);
    buf.push('-');
    buf.push_str(if k.cycle == FOREIGN_CYCLE {
        "2026-09"
    } else {
        CYCLES[usize::from(k.cycle)]
    });
    buf.push('-');
    push_num(buf, k.seq, 9);
}

fn push_beneficiary(buf: &mut String, country: u8, ben: u64) {
    buf.push_str(COUNTRIES[usize::from(country)].code);
    buf.push_str("-HH-");
    push_num(buf, scramble(ben, 10, u64::from(country) + 100), 10);
}

/// Appends a provider's reference: a two-letter prefix, `YYMMDD` and an eight-digit
/// sequence number, 16 characters: what fits MT940's bank reference (`:61:` subfield 8,
/// `16x`), so that every settlement format carries the same reference.
pub(crate) fn push_provider_ref(buf: &mut String, provider: u8, ref_day: Day, ref_no: u64) {
    buf.push_str(PROVIDERS[usize::from(provider)].ref_prefix);
    push_yymmdd(buf, ref_day);
    push_num(buf, ref_no, 8);
}

/// A valid amount text in the row's style.
fn push_styled_amount(buf: &mut String, minor: i64, scale: u32, style: AmountStyle) {
    match style {
        AmountStyle::Canonical => push_amount(buf, minor.into(), scale),
        AmountStyle::Trailing(n) => {
            push_amount(buf, minor.into(), scale);
            if scale == 0 {
                buf.push('.');
            }
            for _ in 0..n {
                buf.push('0');
            }
        }
        AmountStyle::Leading(n) => {
            let start = buf.len();
            push_amount(buf, minor.into(), scale);
            let zeros = "0".repeat(usize::from(n));
            // Zeros go after a sign, before the first digit.
            let at = if buf[start..].starts_with('-') {
                start + 1
            } else {
                start
            };
            buf.insert_str(at, &zeros);
        }
        AmountStyle::NegZero => {
            if minor == 0 {
                buf.push('-');
            }
            push_amount(buf, minor.into(), scale);
        }
    }
}

/// Bad amount texts shared by both sides.
fn push_bad_amount(
    buf: &mut String,
    kind: BadAmount,
    minor: i64,
    scale: u32,
    code: &str,
    variant: u8,
) {
    let mut canon = String::new();
    push_amount(&mut canon, minor.into(), scale);
    let (int, frac) = match canon.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (canon.clone(), None),
    };
    match kind {
        BadAmount::Thousands => {
            let sep = ["\u{20}", "\u{a0}", "\u{202f}", "'"][usize::from(variant % 4)];
            let digits: Vec<char> = int.chars().collect();
            if digits.len() < 4 {
                buf.push(digits[0]);
                buf.push_str(sep);
                buf.extend(&digits[1..]);
            } else {
                for (k, d) in digits.iter().enumerate() {
                    if k > 0 && (digits.len() - k) % 3 == 0 {
                        buf.push_str(sep);
                    }
                    buf.push(*d);
                }
            }
            if let Some(f) = &frac {
                buf.push('.');
                buf.push_str(f);
            }
        }
        BadAmount::Exponent => {
            let digits: Vec<char> = int.chars().collect();
            let mark = ["E+", "e+", "E"][usize::from(variant % 3)];
            buf.push(digits[0]);
            if digits.len() > 1 {
                buf.push('.');
                let mut tail: String = digits[1..].iter().collect();
                while tail.len() > 1 && tail.ends_with('0') {
                    tail.pop();
                }
                buf.push_str(&tail);
            }
            buf.push_str(mark);
            push_num(buf, (digits.len() - 1) as u64, 2);
        }
        BadAmount::DecimalComma => match &frac {
            Some(f) => {
                buf.push_str(&int);
                buf.push(',');
                buf.push_str(f);
            }
            None => {
                buf.push_str(&int);
                buf.push_str(",00");
            }
        },
        BadAmount::TooLong => {
            buf.push('1');
            let pad = 15usize.saturating_sub(int.len());
            for _ in 0..pad {
                buf.push('0');
            }
            buf.push_str(&int);
            if let Some(f) = &frac {
                buf.push('.');
                buf.push_str(f);
            }
        }
        BadAmount::Sign => {
            buf.push('+');
            buf.push_str(&canon);
        }
        BadAmount::WithCode => {
            if variant % 2 == 0 {
                buf.push_str(&canon);
                buf.push(' ');
                buf.push_str(code);
            } else {
                buf.push_str(code);
                buf.push_str(&canon);
            }
        }
        BadAmount::NonAscii => {
            let base = if variant % 2 == 0 { 0x0660 } else { 0xFF10 };
            for c in canon.chars() {
                match c.to_digit(10) {
                    Some(d) => buf.push(char::from_u32(base + d).expect("digit code point")),
                    None => buf.push(c),
                }
            }
        }
        BadAmount::Precision => {
            let extra = char::from(b'1' + variant % 9);
            buf.push_str(&canon);
            if scale == 0 {
                buf.push('.');
            }
            buf.push(extra);
        }
        BadAmount::Negative => {
            buf.push('-');
            buf.push_str(&canon);
        }
    }
}

#[derive(Clone, Copy)]
enum BadAmount {
    Thousands,
    Exponent,
    DecimalComma,
    TooLong,
    Sign,
    WithCode,
    NonAscii,
    Precision,
    Negative,
}

fn bad_currency(variant: u8) -> &'static str {
    ["XYZ", "UZM", "860", "so'm", "RUR", "сум"][usize::from(variant % 6)]
}

fn push_impossible_date(buf: &mut String, variant: u8) {
    buf.push_str(
        [
            "2026-02-30",
            "2026-11-31",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "2026-02-29",
        ][usize::from(variant % 6)],
    );
}

fn push_other_date_format(buf: &mut String, d: Day, variant: u8) {
    let (y, m, dd) = civil(d);
    let (y, m, dd) = (u64::from(y.unsigned_abs()), u64::from(m), u64::from(dd));
    match variant % 8 {
        0 => {
            push_num(buf, dd, 2);
            buf.push('/');
            push_num(buf, m, 2);
            buf.push('/');
            push_num(buf, y, 4);
        }
        1 => {
            push_num(buf, dd, 2);
            buf.push('.');
            push_num(buf, m, 2);
            buf.push('.');
            push_num(buf, y, 4);
        }
        2 => {
            push_num(buf, y, 4);
            buf.push('/');
            push_num(buf, m, 2);
            buf.push('/');
            push_num(buf, dd, 2);
        }
        3 => {
            push_num(buf, y, 4);
            push_num(buf, m, 2);
            push_num(buf, dd, 2);
        }
        4 => {
            push_date(buf, d);
            buf.push_str("T10:00:00");
        }
        5 => {
            // Excel serial date.
            push_num(buf, (d - day(1899, 12, 30)) as u64, 1);
        }
        6 => {
            push_num(buf, y % 100, 2);
            buf.push('-');
            push_num(buf, m, 2);
            buf.push('-');
            push_num(buf, dd, 2);
        }
        _ => {
            const MONTHS: [&str; 12] = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ];
            push_num(buf, dd, 2);
            buf.push('-');
            buf.push_str(MONTHS[(m as usize + 11) % 12]);
            buf.push('-');
            push_num(buf, y, 4);
        }
    }
}

/// Renders an instruction row.
pub(crate) fn render_instruction(r: &IRow, out: &mut RowText) {
    use IDefect as D;
    out.reset(9);
    let cur = &CURRENCIES[usize::from(r.currency)];
    let (scale, code) = (cur.minor_units, cur.code);
    let v = r.variant;
    push_key(&mut out.cols[0], &r.key);
    push_beneficiary(&mut out.cols[1], r.key.country, r.ben);
    out.cols[2].push_str(PROGRAMS[usize::from(r.program)].name);
    out.cols[3].push_str(CYCLES[usize::from(r.key.cycle)]);
    out.cols[4].push_str(PROVIDERS[usize::from(r.provider)].name);
    push_account(
        &mut out.cols[5],
        usize::from(r.account.provider),
        r.account.n,
    );
    push_styled_amount(&mut out.cols[6], r.amount, scale, r.style.amount);
    out.cols[7].push_str(code);
    push_date(&mut out.cols[8], r.due);

    let bad_amount = |out: &mut RowText, kind: BadAmount| {
        out.cols[6].clear();
        push_bad_amount(&mut out.cols[6], kind, r.amount, scale, code, v);
    };
    match r.defect {
        D::None | D::DuplicateId => {}
        D::MissingId => out.set_missing(0, v, ""),
        D::MissingBeneficiary => out.set_null(1),
        D::MissingAccount => out.set(5, ["  ", "\t", " \t "][usize::from(v % 3)]),
        D::MissingCurrency => out.set_missing(7, v, ""),
        D::MissingDueDate => match v % 3 {
            0 => out.set_null(8),
            1 => out.set(8, ""),
            _ => out.set(8, "\t"),
        },
        D::AmountThousands => bad_amount(out, BadAmount::Thousands),
        D::AmountExponent => bad_amount(out, BadAmount::Exponent),
        D::AmountDecimalComma => bad_amount(out, BadAmount::DecimalComma),
        D::AmountTooLong => bad_amount(out, BadAmount::TooLong),
        D::AmountSign => bad_amount(out, BadAmount::Sign),
        D::AmountWithCode => bad_amount(out, BadAmount::WithCode),
        D::AmountNonAscii => bad_amount(out, BadAmount::NonAscii),
        D::AmountZero => out.set(6, ["0", "0.00", "0.000", "00"][usize::from(v % 4)]),
        D::AmountNegative => bad_amount(out, BadAmount::Negative),
        D::AmountNegZero => out.set(6, ["-0.00", "-0", "-0.0"][usize::from(v % 3)]),
        D::CurrencyLower => {
            let lower = code.to_ascii_lowercase();
            out.set(7, &lower);
        }
        D::CurrencyUnknown => out.set(7, bad_currency(v)),
        D::Precision => bad_amount(out, BadAmount::Precision),
        D::DateImpossible => {
            out.cols[8].clear();
            push_impossible_date(&mut out.cols[8], v);
        }
        D::DateFormat => {
            out.cols[8].clear();
            push_other_date_format(&mut out.cols[8], r.due, v);
        }
        D::AmountAndCurrency => {
            bad_amount(out, BadAmount::Thousands);
            out.set(7, "XYZ");
        }
        D::CurrencyAndPrecision => {
            bad_amount(out, BadAmount::Precision);
            out.set(7, "XYZ");
        }
        D::PrecisionAndDate => {
            bad_amount(out, BadAmount::Precision);
            out.cols[8].clear();
            push_other_date_format(&mut out.cols[8], r.due, v);
        }
        D::MissingAndAmount => {
            out.set_null(1);
            bad_amount(out, BadAmount::Exponent);
        }
        D::CsvShortRow => {
            out.raw_line(7);
            out.set_null(7);
            out.set_null(8);
            return;
        }
        D::CsvSplitAmount => {
            bad_amount(out, BadAmount::DecimalComma);
            out.raw_line(9);
            return;
        }
    }
    out.pad(&r.style);
}

/// The settlement's `reference` cell, column `col` of `out`.
fn push_reference(out: &mut RowText, col: usize, reference: RefText) {
    match reference {
        RefText::Null => out.null[col] = true,
        RefText::Empty => {}
        RefText::Blank => out.cols[col].push_str("   "),
        RefText::Exact(k) | RefText::Foreign(k) => push_key(&mut out.cols[col], &k),
        RefText::Mangled(m, k) => {
            let mut id = String::with_capacity(24);
            push_key(&mut id, &k);
            let c = &mut out.cols[col];
            match m {
                Mangle::Truncated => c.push_str(&id[..16]),
                Mangle::Prefixed => {
                    c.push_str("PAY/");
                    c.push_str(&id);
                }
                Mangle::Lower => c.push_str(&id.to_ascii_lowercase()),
                Mangle::NoDashes => c.extend(id.chars().filter(|&ch| ch != '-')),
                Mangle::Suffixed => {
                    c.push_str(&id);
                    c.push_str("/1");
                }
            }
        }
    }
}

/// Renders a settlement row. `padding`: apply the row's padding style (provider files
/// are written without: their values are not padded by senders, see `layout`).
pub(crate) fn render_settlement(r: &SRow, out: &mut RowText, padding: bool) {
    render_settlement_values(r, out);
    if settlement_defect(r, out) && padding {
        out.pad(&r.style);
    }
}

/// The row's values as planted, before any defect.
fn render_settlement_values(r: &SRow, out: &mut RowText) {
    use SDefect as D;
    out.reset(10);
    let cur = &CURRENCIES[usize::from(r.currency)];
    let scale = cur.minor_units;
    out.cols[0].push_str(PROVIDERS[usize::from(r.provider)].name);
    push_provider_ref(&mut out.cols[1], r.provider, r.ref_day, r.ref_no);
    push_reference(out, 2, r.reference);
    push_account(
        &mut out.cols[3],
        usize::from(r.account.provider),
        r.account.n,
    );
    push_styled_amount(&mut out.cols[4], r.amount, scale, r.style.amount);
    match r.fee {
        Some(f) => push_amount(&mut out.cols[5], f.into(), scale),
        // Some providers leave the cell empty, others null (same thing in CSV).
        None if r.provider % 2 == 0 => out.null[5] = true,
        None => {}
    }
    out.cols[6].push_str(cur.code);
    out.cols[7].push_str(r.status.name());
    push_date(&mut out.cols[8], r.value);
    if r.narrative == 0 || matches!(r.defect, D::CsvShortRow | D::CsvSplitAmount) {
        out.null[9] = true;
    } else {
        out.cols[9].push_str(NARRATIVE_TEXTS[usize::from(r.narrative - 1) % NARRATIVE_TEXTS.len()]);
    }
    // CONTRACT v2: values a provider may leave out, null or empty by the reference's
    // parity (both read as absent).
    let absent = (r.ref_no % 2) as u8;
    if r.no_account {
        out.set_missing(3, absent, "");
    }
    if r.no_amount {
        out.set_missing(4, absent, "");
        out.set_missing(6, absent, "");
        out.set_missing(5, absent, "");
    }
}

/// Applies the row's planted defect to its rendered values; false when the defect
/// made it a raw CSV line (no padding then).
fn settlement_defect(r: &SRow, out: &mut RowText) -> bool {
    use SDefect as D;
    let cur = &CURRENCIES[usize::from(r.currency)];
    let (scale, code) = (cur.minor_units, cur.code);
    let v = r.variant;
    let amount = r.amount.max(cur.step);
    let bad_amount = |out: &mut RowText, kind: BadAmount| {
        out.cols[4].clear();
        push_bad_amount(&mut out.cols[4], kind, amount, scale, code, v);
    };
    let fee = r.fee.unwrap_or(cur.step * 5);
    let bad_fee = |out: &mut RowText, kind: BadAmount| {
        out.cols[5].clear();
        out.null[5] = false;
        push_bad_amount(&mut out.cols[5], kind, fee, scale, code, v);
    };
    match r.defect {
        D::None | D::DuplicateRef | D::ReusedRef => {}
        D::MissingProvider => out.set(0, ""),
        D::MissingRef => out.set_missing(1, v, " "),
        D::MissingAmount => out.set_missing(4, v, ""),
        D::MissingStatus => out.set_missing(7, v, "  "),
        D::MissingValueDate => out.set_missing(8, v, ""),
        D::AmountThousands => bad_amount(out, BadAmount::Thousands),
        D::AmountExponent => bad_amount(out, BadAmount::Exponent),
        D::AmountDecimalComma => bad_amount(out, BadAmount::DecimalComma),
        D::AmountTooLong => bad_amount(out, BadAmount::TooLong),
        D::FeeInvalid => match v % 3 {
            0 => bad_fee(out, BadAmount::DecimalComma),
            1 => bad_fee(out, BadAmount::Exponent),
            _ => out.set(5, "n/a"),
        },
        D::Negative => bad_amount(out, BadAmount::Negative),
        D::CurrencyLower => {
            let lower = code.to_ascii_lowercase();
            out.set(6, &lower);
        }
        D::CurrencyUnknown => out.set(6, bad_currency(v)),
        D::PrecisionAmount => bad_amount(out, BadAmount::Precision),
        D::PrecisionFee => bad_fee(out, BadAmount::Precision),
        D::DateImpossible => {
            out.cols[8].clear();
            push_impossible_date(&mut out.cols[8], v);
        }
        D::DateFormat => {
            out.cols[8].clear();
            push_other_date_format(&mut out.cols[8], r.value, v);
        }
        D::StatusInvalid => out.set(
            7,
            [
                "PAID",
                "settled",
                "REVERSED",
                "OK",
                "SUCCESS",
                "Settled",
                "COMPLETED",
            ][usize::from(v % 7)],
        ),
        D::NegativeAndCurrency => {
            bad_amount(out, BadAmount::Negative);
            out.set(6, "XYZ");
        }
        D::StatusAndDate => {
            out.set(7, "PAID");
            out.cols[8].clear();
            push_other_date_format(&mut out.cols[8], r.value, v);
        }
        D::FeeAndStatus => {
            bad_fee(out, BadAmount::DecimalComma);
            out.set(7, "OK");
        }
        D::CsvShortRow => {
            out.raw_line(5);
            for i in 5..10 {
                out.set_null(i);
            }
            return false;
        }
        D::CsvSplitAmount => {
            bad_amount(out, BadAmount::DecimalComma);
            out.raw_line(10);
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(kind: BadAmount, minor: i64, scale: u32, variant: u8) -> String {
        let mut s = String::new();
        push_bad_amount(&mut s, kind, minor, scale, "UZS", variant);
        s
    }

    #[test]
    fn bad_amount_texts() {
        assert_eq!(bad(BadAmount::Thousands, 123_450_00, 2, 0), "123 450.00");
        assert_eq!(
            bad(BadAmount::Thousands, 1_234_500_00, 2, 0),
            "1 234 500.00"
        );
        assert_eq!(bad(BadAmount::Thousands, 40_000, 3, 0), "4 0.000");
        assert_eq!(bad(BadAmount::Exponent, 450_000_00, 2, 0), "4.5E+05");
        assert_eq!(bad(BadAmount::Exponent, 5_00, 2, 1), "5e+00");
        assert_eq!(bad(BadAmount::DecimalComma, 450_000_00, 2, 0), "450000,00");
        assert_eq!(bad(BadAmount::DecimalComma, 25_000, 0, 0), "25000,00");
        assert_eq!(
            bad(BadAmount::TooLong, 450_000_00, 2, 0),
            "1000000000450000.00"
        );
        assert_eq!(bad(BadAmount::Precision, 450_000_00, 2, 4), "450000.005");
        assert_eq!(bad(BadAmount::Precision, 25_000, 0, 0), "25000.1");
        assert_eq!(bad(BadAmount::NonAscii, 5_00, 2, 0), "٥.٠٠");
    }

    #[test]
    fn styled_amounts() {
        let mut s = String::new();
        push_styled_amount(&mut s, 25_000, 0, AmountStyle::Trailing(2));
        assert_eq!(s, "25000.00");
        s.clear();
        push_styled_amount(&mut s, 40_000, 3, AmountStyle::Leading(3));
        assert_eq!(s, "00040.000");
        s.clear();
        push_styled_amount(&mut s, 0, 2, AmountStyle::NegZero);
        assert_eq!(s, "-0.00");
    }

    #[test]
    fn other_date_formats() {
        let d = day(2026, 11, 5);
        let all: Vec<String> = (0..8)
            .map(|v| {
                let mut s = String::new();
                push_other_date_format(&mut s, d, v);
                s
            })
            .collect();
        assert_eq!(
            all,
            [
                "05/11/2026",
                "05.11.2026",
                "2026/11/05",
                "20261105",
                "2026-11-05T10:00:00",
                "46331",
                "26-11-05",
                "05-Nov-2026"
            ]
        );
    }
}
