//! Exact money. An amount is parsed from text with the contract's own grammar
//! (`-?digits(.digits)?`, at most 15 integer digits, ASCII digits only) and becomes an
//! integer number of the currency's minor units (`i128`). Nothing here rounds: a value
//! with non-zero digits beyond the currency's minor units is refused, never cut.
//! No library parser is used (PITFALLS.md 2.3, 2.4: they truncate, round or accept
//! exponents and `_`).

/// Most integer digits an amount may have (CONTRACT.md section 2).
pub const MAX_INT_DIGITS: usize = 15;

/// An amount as written, before its currency is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount {
    pub negative: bool,
    /// Integer part, below 10^15.
    pub int: u64,
    /// Significant fraction digits (trailing zeros removed) when there are at most 4,
    /// as an integer of `frac_digits` digits.
    pub frac: u32,
    /// Number of significant fraction digits (may exceed 4; then `frac` is unused).
    pub frac_digits: u32,
}

impl Amount {
    pub fn is_negative_nonzero(&self) -> bool {
        self.negative && (self.int != 0 || self.frac_digits != 0)
    }

    pub fn is_positive(&self) -> bool {
        !self.negative && (self.int != 0 || self.frac_digits != 0)
    }

    /// The value in minor units of a currency with `minor` decimals, or `None` when the
    /// amount has non-zero digits beyond them (`amount_precision`).
    pub fn to_minor(&self, minor: u8) -> Option<i128> {
        if self.frac_digits > minor as u32 {
            return None;
        }
        let m = self.int as i128 * POW10[minor as usize]
            + self.frac as i128 * POW10[(minor as u32 - self.frac_digits) as usize];
        Some(if self.negative { -m } else { m })
    }

    pub fn from_whole(v: i128) -> Option<Amount> {
        let a = v.unsigned_abs();
        (a < POW10[MAX_INT_DIGITS] as u128).then_some(Amount {
            negative: v < 0,
            int: a as u64,
            frac: 0,
            frac_digits: 0,
        })
    }

    /// An integer `v` with `scale` decimals (Arrow Decimal128; a negative scale multiplies).
    pub fn from_scaled(v: i128, scale: i8) -> Option<Amount> {
        let a = v.unsigned_abs();
        let limit = POW10[MAX_INT_DIGITS] as u128;
        if scale <= 0 {
            let f = *POW10.get((-(scale as i32)) as usize)? as u128;
            let int = a.checked_mul(f).filter(|&x| x < limit)?;
            return Some(Amount {
                negative: v < 0,
                int: int as u64,
                frac: 0,
                frac_digits: 0,
            });
        }
        let p = POW10[scale as usize] as u128;
        let int = a / p;
        if int >= limit {
            return None;
        }
        let (mut frac, mut digits) = (a % p, scale as u32);
        if frac == 0 {
            digits = 0;
        } else {
            while frac % 10 == 0 {
                frac /= 10;
                digits -= 1;
            }
        }
        Some(Amount {
            negative: v < 0,
            int: int as u64,
            frac: if digits <= 4 { frac as u32 } else { 0 },
            frac_digits: digits,
        })
    }
}

/// Powers of ten that fit an i128 (10^0 ..= 10^38).
pub const POW10: [i128; 39] = {
    let mut t = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// Parses `-?digits(.digits)?` with at most 15 integer digits. Leading zeros are allowed
/// and counted as written. Any other character (`+`, `,`, `_`, `e`, spaces, non-ASCII
/// digits) makes the text invalid.
pub fn parse_amount(s: &str) -> Option<Amount> {
    let b = s.as_bytes();
    let (negative, rest) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    let dot = rest.iter().position(|&c| c == b'.');
    let (int_part, frac_part) = match dot {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    if int_part.is_empty()
        || int_part.len() > MAX_INT_DIGITS
        || !int_part.iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    let int = int_part
        .iter()
        .fold(0u64, |acc, &c| acc * 10 + (c - b'0') as u64);
    let (mut frac, mut frac_digits) = (0u32, 0u32);
    if let Some(f) = frac_part {
        if f.is_empty() || !f.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let sig = f.len() - f.iter().rev().take_while(|&&c| c == b'0').count();
        frac_digits = sig as u32;
        if sig <= 4 {
            frac = f[..sig]
                .iter()
                .fold(0u32, |acc, &c| acc * 10 + (c - b'0') as u32);
        }
    }
    Some(Amount {
        negative,
        int,
        frac,
        frac_digits,
    })
}

/// Writes `v` minor units with exactly `minor` decimals (`900000.00`, `25000`, `40.000`).
/// Zero is never written with a minus sign.
pub fn format_minor(v: i128, minor: u8, out: &mut String) {
    use std::fmt::Write;
    if v < 0 {
        out.push('-');
    }
    let a = v.unsigned_abs();
    if minor == 0 {
        let _ = write!(out, "{a}");
    } else {
        let p = POW10[minor as usize] as u128;
        let _ = write!(out, "{}.{:0width$}", a / p, a % p, width = minor as usize);
    }
}

pub fn minor_string(v: i128, minor: u8) -> String {
    let mut s = String::new();
    format_minor(v, minor, &mut s);
    s
}

/// Writes an integer with `scale` decimals (for Decimal128 values shown in rejects).
pub fn format_scaled(v: i128, scale: i8) -> String {
    if scale <= 0 {
        let mut s = v.to_string();
        if v != 0 {
            s.extend(std::iter::repeat_n('0', (-(scale as i32)) as usize));
        }
        s
    } else {
        let sign = if v < 0 { "-" } else { "" };
        let a = v.unsigned_abs();
        let p = 10u128.pow(scale as u32);
        format!("{sign}{}.{:0w$}", a / p, a % p, w = scale as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minor(s: &str, m: u8) -> Option<Option<i128>> {
        parse_amount(s).map(|a| a.to_minor(m))
    }

    #[test]
    fn grammar() {
        for bad in [
            "",
            "-",
            "1,5",
            "1.234,56",
            "1,234.56",
            "1 234.56",
            "1\u{a0}234",
            "1_234.56",
            "4.5E+05",
            "1e5",
            "+100",
            ".5",
            "5.",
            "(150.00)",
            "$100",
            "100 UZS",
            "٤٥٠",
            "４５０",
            "1234567890123456",
            "--1",
            "1..2",
            "0x10",
        ] {
            assert_eq!(parse_amount(bad), None, "{bad:?}");
        }
        assert_eq!(minor("000450000.00", 2), Some(Some(45_000_000)));
        assert_eq!(minor("123456789012345", 0), Some(Some(123_456_789_012_345)));
        assert_eq!(minor("450000.000", 2), Some(Some(45_000_000)));
        assert_eq!(minor("450000.005", 2), Some(None));
        assert_eq!(minor("1500.5", 0), Some(None));
        assert_eq!(minor("12.3456", 3), Some(None));
        assert_eq!(minor("12.3456", 4), Some(Some(123_456)));
        assert_eq!(
            minor("1.0000000000000000000000000000000000000000001", 4),
            Some(None)
        );
        assert_eq!(
            minor("1.00000000000000000000000000000000000000000", 0),
            Some(Some(1))
        );
        assert_eq!(minor("-150", 2), Some(Some(-15_000)));
        let z = parse_amount("-0.00").unwrap();
        assert!(!z.is_negative_nonzero() && !z.is_positive());
        assert_eq!(z.to_minor(2), Some(0));
    }

    #[test]
    fn scaled() {
        assert_eq!(
            Amount::from_scaled(4_500_000_050, 4).unwrap().to_minor(2),
            None
        );
        assert_eq!(
            Amount::from_scaled(4_500_000_000, 4).unwrap().to_minor(2),
            Some(45_000_000)
        );
        assert_eq!(
            Amount::from_scaled(45, -2).unwrap().to_minor(2),
            Some(450_000)
        );
        assert_eq!(Amount::from_scaled(12345, 5).unwrap().to_minor(4), None);
        assert_eq!(Amount::from_scaled(1_000_000_000_000_000, 0), None);
        assert_eq!(Amount::from_scaled(i128::MAX, 38).unwrap().int, 1);
        assert_eq!(Amount::from_scaled(1, -40), None);
        assert_eq!(format_scaled(-12345, 2), "-123.45");
        assert_eq!(format_scaled(5, -2), "500");
    }

    #[test]
    fn format() {
        assert_eq!(minor_string(90_000_000, 2), "900000.00");
        assert_eq!(minor_string(25_000, 0), "25000");
        assert_eq!(minor_string(40_000, 3), "40.000");
        assert_eq!(minor_string(0, 2), "0.00");
        assert_eq!(minor_string(-5, 2), "-0.05");
    }
}
