//! Text rendering of the model's numbers: dates, amounts, identifiers, accounts.
//!
//! All functions append to a caller's reusable `String`, so writing a row allocates
//! nothing. Money is `i64`/`i128` minor units throughout; nothing here touches a float.

use crate::catalog::{AccountKind, PROVIDERS};

/// Days since 1970-01-01.
pub(crate) type Day = i32;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) const fn day(y: i32, m: u32, d: u32) -> Day {
    let y = if m <= 2 { y - 1 } else { y };
    let era = (if y >= 0 { y } else { y - 399 }) / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy as i32;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day number.
pub(crate) const fn civil(z: Day) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = (if z >= 0 { z } else { z - 146_096 }) / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Appends `n` in decimal, left-padded with zeros to `width` digits.
pub(crate) fn push_num(buf: &mut String, n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut i = digits.len();
    let mut v = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let used = digits.len() - i;
    if width > digits.len() {
        for _ in 0..width - digits.len() {
            buf.push('0');
        }
    }
    let start = if width > used {
        digits.len() - width.min(digits.len())
    } else {
        i
    };
    buf.push_str(ascii(&digits[start..]));
}

/// ASCII bytes as text.
fn ascii(b: &[u8]) -> &str {
    std::str::from_utf8(b).expect("ASCII digits")
}

/// Writes `n` as exactly `out.len()` digits (zero-padded, high digits dropped).
fn fill_digits(out: &mut [u8], n: u64) {
    let mut v = n;
    for d in out.iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Appends `YYYY-MM-DD`.
pub(crate) fn push_date(buf: &mut String, d: Day) {
    let (y, m, dd) = civil(d);
    push_num(buf, y.unsigned_abs().into(), 4);
    buf.push('-');
    push_num(buf, m.into(), 2);
    buf.push('-');
    push_num(buf, dd.into(), 2);
}

/// Appends `YYMMDD`, used inside provider references.
pub(crate) fn push_yymmdd(buf: &mut String, d: Day) {
    let (y, m, dd) = civil(d);
    push_num(buf, (y.unsigned_abs() % 100).into(), 2);
    push_num(buf, m.into(), 2);
    push_num(buf, dd.into(), 2);
}

/// Appends an amount of `minor` minor units as decimal text with exactly `scale`
/// fractional digits (`-` only for a negative non-zero value).
pub(crate) fn push_amount(buf: &mut String, minor: i128, scale: u32) {
    if minor < 0 {
        buf.push('-');
    }
    let v = minor.unsigned_abs();
    let p = 10u128.pow(scale);
    let int = v / p;
    let frac = v % p;
    push_u128(buf, int);
    if scale > 0 {
        buf.push('.');
        let mut digits = [b'0'; 40];
        let mut f = frac;
        for i in (0..scale as usize).rev() {
            digits[i] = b'0' + (f % 10) as u8;
            f /= 10;
        }
        for &d in &digits[..scale as usize] {
            buf.push(char::from(d));
        }
    }
}

fn push_u128(buf: &mut String, v: u128) {
    if let Ok(small) = u64::try_from(v) {
        push_num(buf, small, 1);
    } else {
        push_u128(buf, v / 10);
        buf.push(char::from(b'0' + (v % 10) as u8));
    }
}

/// A bijection of `0..10^digits` that makes sequential numbers look scattered; `salt`
/// gives each provider or country its own scattering.
pub(crate) fn scramble(n: u64, digits: u32, salt: u64) -> u64 {
    let m = u128::from(10u64.pow(digits));
    // Ends in 7: odd and not a multiple of 5, hence a unit modulo every power of ten.
    let a = 2_862_933_555_777_941_757u128 % m;
    let b = u128::from(salt.wrapping_mul(0x9E37_79B9_7F4A_7C15)) % m;
    ((u128::from(n) % m * a + b) % m) as u64
}

/// Capacity of a provider's account space (account numbers `0..capacity`).
pub(crate) fn account_capacity(provider: usize) -> u64 {
    match PROVIDERS[provider].account {
        AccountKind::Iban { digits, .. } => 10u64.pow(digits.min(18)),
        AccountKind::Card { .. } => 1_000_000_000,
        AccountKind::Wallet { prefixes } => prefixes.len() as u64 * 10_000_000,
    }
}

/// Appends the text of account number `n` of `provider`.
pub(crate) fn push_account(buf: &mut String, provider: usize, n: u64) {
    let salt = provider as u64;
    match PROVIDERS[provider].account {
        AccountKind::Iban {
            country,
            bank,
            digits,
        } => {
            let mut d = [b'0'; 18];
            let d = &mut d[..digits.min(18) as usize];
            fill_digits(d, scramble(n, digits.min(18), salt));
            let check = iban_check_digits(country, bank.bytes().chain(d.iter().copied()));
            buf.push_str(country);
            push_num(buf, check.into(), 2);
            buf.push_str(bank);
            buf.push_str(ascii(d));
        }
        AccountKind::Card { bin } => {
            let mut d = [b'0'; 16];
            d[..6].copy_from_slice(&bin.as_bytes()[..6]);
            fill_digits(&mut d[6..15], scramble(n, 9, salt));
            d[15] = b'0' + luhn_check_digit(&d[..15]);
            buf.push_str(ascii(&d));
        }
        AccountKind::Wallet { prefixes } => {
            let prefix = prefixes[(n / 10_000_000) as usize % prefixes.len()];
            buf.push_str(prefix);
            push_num(buf, scramble(n % 10_000_000, 7, salt), 7);
        }
    }
}

/// ISO 13616 check digits: 98 - (BBAN ++ country ++ "00" as digits) mod 97.
fn iban_check_digits(country: &str, bban: impl Iterator<Item = u8>) -> u32 {
    let mut rem: u32 = 0;
    for c in bban.chain(country.bytes()).chain(*b"00") {
        rem = if c.is_ascii_digit() {
            (rem * 10 + u32::from(c - b'0')) % 97
        } else {
            (rem * 100 + u32::from(c.to_ascii_uppercase() - b'A') + 10) % 97
        };
    }
    98 - rem
}

/// Appends an IBAN: country, check digits, BBAN.
pub(crate) fn push_iban(buf: &mut String, country: &str, bban: &str) {
    buf.push_str(country);
    push_num(buf, iban_check_digits(country, bban.bytes()).into(), 2);
    buf.push_str(bban);
}

/// Luhn check digit for a string of ASCII digits.
pub(crate) fn luhn_check_digit(digits: &[u8]) -> u8 {
    let mut sum = 0u32;
    for (i, &c) in digits.iter().rev().enumerate() {
        let mut v = u32::from(c - b'0');
        if i % 2 == 0 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    ((10 - sum % 10) % 10) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        for d in day(2024, 1, 1)..day(2028, 12, 31) {
            let (y, m, dd) = civil(d);
            assert_eq!(day(y, m, dd), d);
        }
        let mut s = String::new();
        push_date(&mut s, day(2026, 11, 5));
        assert_eq!(s, "2026-11-05");
        assert_eq!(day(1970, 1, 1), 0);
    }

    #[test]
    fn amounts() {
        let mut s = String::new();
        push_num(&mut s, 42, 5);
        push_num(&mut s, 123_456, 2);
        push_num(&mut s, 0, 1);
        push_num(&mut s, 7, 22);
        assert_eq!(s, "0004212345600000000000000000000007");
        let cases: [(i128, u32, &str); 7] = [
            (45_000_000, 2, "450000.00"),
            (25_000, 0, "25000"),
            (40_000, 3, "40.000"),
            (5, 3, "0.005"),
            (0, 2, "0.00"),
            (-150, 2, "-1.50"),
            (i128::from(i64::MAX) * 1000, 3, "9223372036854775807.000"),
        ];
        for (v, s, want) in cases {
            let mut b = String::new();
            push_amount(&mut b, v, s);
            assert_eq!(b, want);
        }
    }

    #[test]
    fn iban_and_luhn() {
        // Known valid examples.
        let mut s = String::new();
        push_iban(&mut s, "GB", "WEST12345698765432");
        assert_eq!(s, "GB82WEST12345698765432");
        assert_eq!(luhn_check_digit(b"7992739871"), 3);
    }

    #[test]
    fn scramble_is_a_bijection() {
        let mut seen = vec![false; 100_000];
        for n in 0..100_000 {
            let v = scramble(n, 5, 3) as usize;
            assert!(!seen[v]);
            seen[v] = true;
        }
    }

    #[test]
    fn account_formats_are_distinct_across_providers() {
        let mut all = std::collections::BTreeSet::new();
        for p in 0..PROVIDERS.len() {
            for n in [0u64, 1, 2, 9_999_999, 10_000_000] {
                let mut s = String::new();
                push_account(&mut s, p, n);
                assert!(all.insert(s.clone()), "{s}");
            }
        }
    }
}
