//! Exact decimal text for control figures: parse, add, compare, print. Never a float
//! (PITFALLS.md 2.4); control sums of any scale (`4277084.260`, PITFALLS.md B10).

use std::cmp::Ordering;

/// An exact decimal: `units / 10^scale`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Dec {
    pub units: i128,
    pub scale: u32,
}

/// Most fraction digits a control figure may have; more is not a number we compare.
const MAX_SCALE: u32 = 18;

impl Dec {
    pub const ZERO: Dec = Dec { units: 0, scale: 0 };

    /// `-?digits(.digits)?` (leading `+` not allowed), at most 18 fraction digits and 20
    /// integer digits; `None` for anything else.
    pub fn parse(s: &str) -> Option<Dec> {
        let s = s.trim();
        let (neg, body) = match s.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, s),
        };
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, ""),
        };
        if int.is_empty()
            || int.len() > 20
            || frac.len() > MAX_SCALE as usize
            || body.ends_with('.')
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let mut units: i128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            units = units * 10 + i128::from(b - b'0');
        }
        Some(Dec {
            units: if neg { -units } else { units },
            scale: frac.len() as u32,
        })
    }

    fn rescaled(self, scale: u32) -> Option<i128> {
        // Sums mostly add figures of one scale: spare the 128-bit multiplication.
        if scale == self.scale {
            return Some(self.units);
        }
        self.units
            .checked_mul(10i128.checked_pow(scale - self.scale)?)
    }

    /// `self + other`, exact; `None` on overflow (a hostile figure).
    pub fn checked_add(self, other: Dec) -> Option<Dec> {
        let scale = self.scale.max(other.scale);
        Some(Dec {
            units: self.rescaled(scale)?.checked_add(other.rescaled(scale)?)?,
            scale,
        })
    }

    pub fn checked_sub(self, other: Dec) -> Option<Dec> {
        self.checked_add(Dec {
            units: other.units.checked_neg()?,
            scale: other.scale,
        })
    }

    /// Numeric comparison, whatever the scales (`1490` equals `1490.00`).
    pub fn cmp_value(self, other: Dec) -> Option<Ordering> {
        let scale = self.scale.max(other.scale);
        Some(self.rescaled(scale)?.cmp(&other.rescaled(scale)?))
    }

    pub fn eq_value(self, other: Dec) -> bool {
        self.cmp_value(other) == Some(Ordering::Equal)
    }
}

impl std::fmt::Display for Dec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let neg = self.units < 0;
        let digits = self.units.unsigned_abs().to_string();
        let scale = self.scale as usize;
        let (int, frac) = if digits.len() > scale {
            digits.split_at(digits.len() - scale)
        } else {
            ("0", digits.as_str())
        };
        let sign = if neg { "-" } else { "" };
        if scale == 0 {
            write!(f, "{sign}{int}")
        } else {
            write!(f, "{sign}{int}.{frac:0>scale$}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_adds_compares_and_prints_exactly() {
        let a = Dec::parse("4277084.260").unwrap();
        let b = Dec::parse("1490").unwrap();
        assert_eq!(a.checked_add(b).unwrap().to_string(), "4278574.260");
        assert!(Dec::parse("1490.00").unwrap().eq_value(b));
        assert_eq!(Dec::parse("-0.05").unwrap().to_string(), "-0.05");
        assert_eq!(
            Dec::parse("0.5")
                .unwrap()
                .checked_sub(b)
                .unwrap()
                .to_string(),
            "-1489.5"
        );
        for bad in ["", "1,5", "+1", ".5", "5.", "1e5", "1 000", "--1"] {
            assert!(Dec::parse(bad).is_none(), "{bad}");
        }
    }
}
