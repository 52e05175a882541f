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
        // Text whose two ends are visible ASCII has nothing to trim.
        let visible = |c: Option<&u8>| c.is_some_and(u8::is_ascii_graphic);
        let s = if visible(s.as_bytes().first()) && visible(s.as_bytes().last()) {
            s
        } else {
            s.trim()
        };
        let (neg, body) = match s.as_bytes() {
            [b'-', rest @ ..] => (true, rest),
            b => (false, b),
        };
        // One pass over the digits. Units wrap only past the digit counts refused below,
        // which fit an i128 (20 + 18 digits).
        let (mut units, mut int, mut frac, mut dot) = (0i128, 0usize, 0usize, false);
        for &b in body {
            match b {
                b'0'..=b'9' => {
                    units = units.wrapping_mul(10).wrapping_add(i128::from(b - b'0'));
                    if dot {
                        frac += 1;
                    } else {
                        int += 1;
                    }
                }
                b'.' if !dot => dot = true,
                _ => return None,
            }
        }
        if int == 0 || int > 20 || frac > MAX_SCALE as usize || (dot && frac == 0) {
            return None;
        }
        Some(Dec {
            units: if neg { -units } else { units },
            scale: frac as u32,
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
        for bad in [
            "", "1,5", "+1", ".5", "5.", "1e5", "1 000", "--1", "-", ".", "1.2.3", "1..2", "-.5",
        ] {
            assert!(Dec::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(Dec::parse(" -12.50\u{a0}").unwrap().to_string(), "-12.50");
        let widest = format!("{}.{}", "9".repeat(20), "9".repeat(18));
        assert_eq!(Dec::parse(&widest).unwrap().to_string(), widest);
        assert!(Dec::parse(&format!("1{widest}")).is_none());
        assert!(Dec::parse(&format!("{widest}9")).is_none());
        assert!(Dec::parse(&"9".repeat(60)).is_none());
    }
}
