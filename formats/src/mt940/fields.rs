//! The values of single MT940 fields: the `:61:` statement line, balances (`:60F:`,
//! `:62F:`, …), the MT942 floor limit `:34F:` and sums `:90D:`/`:90C:`, dates and amounts
//! with a decimal comma.

use crate::decimal::Dec;

/// A `:61:` mark: credit, debit, reversal of a credit, reversal of a debit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    C,
    D,
    RC,
    RD,
}

impl Mark {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Mark::C => "C",
            Mark::D => "D",
            Mark::RC => "RC",
            Mark::RD => "RD",
        }
    }

    /// C and RD add to the balance, D and RC take from it (CONTRACT 7.5).
    pub(crate) fn adds(self) -> bool {
        matches!(self, Mark::C | Mark::RD)
    }
}

/// The first line of a `:61:` field, cut into its parts (slices of the line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatementLine<'a> {
    /// `YYMMDD` as written.
    pub(crate) value_date: &'a str,
    pub(crate) mark: Mark,
    /// As written, decimal comma and all (`300,`).
    pub(crate) amount: &'a str,
    /// 4 characters: `N` or `F` or `S` and 3 more (`NTRF`, `N192`, `NOV `).
    pub(crate) kind: &'a str,
    /// Up to `//` (trimmed).
    pub(crate) customer_ref: &'a str,
    /// After `//`, the rest of the line (trimmed).
    pub(crate) bank_ref: &'a str,
}

/// How a `:61:` line did not parse: what was expected, at which character (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unreadable {
    pub(crate) expected: &'static str,
    pub(crate) at: usize,
}

/// Longest `:61:` amount (SWIFT `15d`, the comma included).
const MAX_AMOUNT_CHARS: usize = 15;

fn digits(s: &[u8]) -> bool {
    s.iter().all(u8::is_ascii_digit)
}

/// Cuts the first line of a `:61:` field: `YYMMDD[MMDD](C|D|RC|RD)[funds code]amount
/// type[customer reference][//bank reference]`. The funds code is a letter and an
/// amount starts with a digit, so `CR50,00` is a credit with funds code `R`.
pub(crate) fn statement_line(line: &str) -> Result<StatementLine<'_>, Unreadable> {
    let b = line.as_bytes();
    let fail = |expected, at: usize| Unreadable {
        expected,
        at: at + 1,
    };
    if b.len() < 6 || !digits(&b[..6]) {
        return Err(fail("a value date YYMMDD", 0));
    }
    let mut i = 6;
    if b.len() >= 10 && digits(&b[6..10]) {
        i = 10;
    }
    let mark = match b.get(i..i + 2) {
        Some(b"RC") => Mark::RC,
        Some(b"RD") => Mark::RD,
        _ => match b.get(i) {
            Some(b'C') => Mark::C,
            Some(b'D') => Mark::D,
            _ => return Err(fail("a mark C, D, RC or RD", i)),
        },
    };
    i += mark.as_str().len();
    if b.get(i).is_some_and(u8::is_ascii_alphabetic) && b.get(i + 1).is_some_and(u8::is_ascii_digit)
    {
        i += 1;
    }
    let start = i;
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return Err(fail("an amount", i));
    }
    while b.get(i).is_some_and(|c| c.is_ascii_digit()) {
        i += 1;
    }
    if b.get(i) == Some(&b',') {
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
    }
    if i - start > MAX_AMOUNT_CHARS {
        return Err(fail("an amount of at most 15 characters", start));
    }
    let amount = &line[start..i];
    // The type is 4 characters; everything so far was ASCII, so `i` is a char boundary.
    let rest = &line[i..];
    let kind_end = match rest.char_indices().nth(4) {
        Some((e, _)) => e,
        None if rest.chars().count() == 4 => rest.len(),
        None => return Err(fail("a transaction type (N, F or S and 3 characters)", i)),
    };
    let kind = &rest[..kind_end];
    if !matches!(kind.as_bytes().first(), Some(b'N' | b'F' | b'S')) {
        return Err(fail("a transaction type (N, F or S and 3 characters)", i));
    }
    let refs = &rest[kind_end..];
    let (customer_ref, bank_ref) = match refs.find("//") {
        Some(j) => (&refs[..j], &refs[j + 2..]),
        None => (refs, ""),
    };
    Ok(StatementLine {
        value_date: &line[..6],
        mark,
        amount,
        kind,
        customer_ref: customer_ref.trim(),
        bank_ref: bank_ref.trim(),
    })
}

/// An MT940 amount (`300,`, `12,5`, `0,01`, `500`) written with a point (`300`, `12.5`),
/// and its value; `None` when it is not digits with at most one decimal comma.
pub(crate) fn amount(s: &str) -> Option<(String, Dec)> {
    let (int, frac) = match s.split_once(',') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() || !digits(int.as_bytes()) || !digits(frac.as_bytes()) {
        return None;
    }
    let mut text = String::with_capacity(s.len());
    text.push_str(int);
    if !frac.is_empty() {
        text.push('.');
        text.push_str(frac);
    }
    let value = Dec::parse(&text)?;
    Some((text, value))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 0,
    }
}

/// `YYMMDD` as `YYYY-MM-DD` (YY 00–79 → 20YY, else 19YY), when it is a real date.
pub(crate) fn date(yymmdd: &str) -> Option<String> {
    let b = yymmdd.as_bytes();
    if b.len() != 6 || !digits(b) {
        return None;
    }
    let num = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    let (yy, month, day) = (num(0), num(2), num(4));
    let year = if yy < 80 { 2000 + yy } else { 1900 + yy };
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(format!("{year}-{month:02}-{day:02}"))
}

/// A balance (`:60F:`, `:60M:`, `:62F:`, `:62M:`): `C|D`, date `YYMMDD`, currency, amount.
#[derive(Debug, Clone)]
pub(crate) struct Balance {
    /// `YYYY-MM-DD` (or the text as written when it is not a real date).
    pub(crate) date: String,
    pub(crate) currency: String,
    /// Signed: a `D` balance is negative.
    pub(crate) value: Dec,
}

pub(crate) fn balance(text: &str) -> Option<Balance> {
    let t = text.trim();
    let negative = match t.as_bytes().first()? {
        b'C' => false,
        b'D' => true,
        _ => return None,
    };
    let yymmdd = t.get(1..7)?;
    let currency = t.get(7..10)?;
    if !digits(yymmdd.as_bytes()) || !currency.bytes().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let (_, value) = amount(t.get(10..)?)?;
    let value = if negative {
        Dec::ZERO.checked_sub(value)?
    } else {
        value
    };
    Some(Balance {
        date: date(yymmdd).unwrap_or_else(|| yymmdd.to_string()),
        currency: currency.to_string(),
        value,
    })
}

/// The currency of an MT942 floor limit `:34F:` (`PLN0`, `EURD100,`).
pub(crate) fn floor_currency(text: &str) -> Option<String> {
    let c = text.trim().get(..3)?;
    c.bytes()
        .all(|b| b.is_ascii_alphabetic())
        .then(|| c.to_string())
}

/// An MT942 `:90D:`/`:90C:`: number of entries, currency, sum (`3PLN0,03`).
#[derive(Debug, Clone)]
pub(crate) struct Declared {
    pub(crate) count: u64,
    pub(crate) currency: String,
    pub(crate) sum: Dec,
}

pub(crate) fn declared(text: &str) -> Option<Declared> {
    let t = text.trim();
    let n = t.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 || n > 12 {
        return None;
    }
    let currency = t.get(n..n + 3)?;
    if !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let (_, sum) = amount(t.get(n + 3..)?)?;
    Some(Declared {
        count: t[..n].parse().ok()?,
        currency: currency.to_string(),
        sum,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(s: &str) -> (String, Mark, String, String, String, String) {
        let l = statement_line(s).unwrap();
        (
            l.value_date.into(),
            l.mark,
            l.amount.into(),
            l.kind.into(),
            l.customer_ref.into(),
            l.bank_ref.into(),
        )
    }

    #[test]
    fn statement_lines_of_real_banks() {
        let s = |x: &str| x.to_string();
        // Sparkasse: funds code R after the mark.
        assert_eq!(
            cut("0709070904CR50990,05NTRFNONREF//0724710333343453"),
            (
                s("070907"),
                Mark::C,
                s("50990,05"),
                s("NTRF"),
                s("NONREF"),
                s("0724710333343453")
            )
        );
        // ABN AMRO: no entry date mark D, `9,`.
        assert_eq!(
            cut("1105240524D9,N192NONREF"),
            (s("110524"), Mark::D, s("9,"), s("N192"), s("NONREF"), s(""))
        );
        // Knab: amount without a comma.
        assert_eq!(
            cut("1407290729C500NTRF29-07-2014 10:05//B4G29PGDCK1QFV3E"),
            (
                s("140729"),
                Mark::C,
                s("500"),
                s("NTRF"),
                s("29-07-2014 10:05"),
                s("B4G29PGDCK1QFV3E")
            )
        );
        // Raiffeisen: funds code F, no reference; Sberbank: type `S   `.
        assert_eq!(
            cut("180417CF2066637,00N527"),
            (
                s("180417"),
                Mark::C,
                s("2066637,00"),
                s("N527"),
                s(""),
                s("")
            )
        );
        assert_eq!(
            cut("1710111011DF2402,00S   X"),
            (s("171011"), Mark::D, s("2402,00"), s("S   "), s("X"), s(""))
        );
        assert_eq!(cut("0709040904RD1,NTRFX").1, Mark::RD);
        assert_eq!(cut("070904RCR1,NTRFX").1, Mark::RC);
    }

    #[test]
    fn statement_lines_that_do_not_parse() {
        let at = |s: &str| statement_line(s).unwrap_err();
        assert_eq!(at("1811261126CR").expected, "an amount");
        assert_eq!(at("18112").at, 1);
        assert_eq!(at("1811261126X1,N").at, 11);
        assert!(at("181126C1,").expected.starts_with("a transaction type"));
        assert_eq!(at("181126C1,XTRF").at, 10);
        assert_eq!(at("181126C1234567890123456,NTRF").at, 8);
    }

    #[test]
    fn amounts_dates_balances() {
        assert_eq!(amount("300,").unwrap().0, "300");
        assert_eq!(amount("12,5").unwrap().0, "12.5");
        assert_eq!(amount("000000000025,00").unwrap().0, "000000000025.00");
        assert!(amount(",5").is_none() && amount("1,2,3").is_none() && amount("").is_none());
        assert_eq!(date("261105").as_deref(), Some("2026-11-05"));
        assert_eq!(date("991231").as_deref(), Some("1999-12-31"));
        assert_eq!(date("000229").as_deref(), Some("2000-02-29"));
        assert_eq!(date("261332"), None);
        assert_eq!(date("250229"), None);
        let b = balance("D070903EUR1970431,87").unwrap();
        assert_eq!(
            (b.date.as_str(), b.currency.as_str()),
            ("2007-09-03", "EUR")
        );
        assert_eq!(b.value.to_string(), "-1970431.87");
        assert!(balance("C0709EUR1,").is_none());
        assert_eq!(floor_currency("PLN0").as_deref(), Some("PLN"));
        let d = declared("3PLN0,03").unwrap();
        assert_eq!(
            (d.count, d.currency.as_str(), d.sum.to_string().as_str()),
            (3, "PLN", "0.03")
        );
    }
}
