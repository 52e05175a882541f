//! The shipped ISO 4217 table (`schemas/iso4217.json`) as the audit reads it: code to
//! minor units. The audit's own reading, so that `verify` re-derives amounts without the
//! engine's table code.

use std::sync::OnceLock;

use serde::Deserialize;

const TABLE_JSON: &str = include_str!("../../schemas/iso4217.json");

#[derive(Deserialize)]
struct File {
    currencies: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    code: String,
    minor_units: u8,
}

/// No currency in a slot of [`by_code`].
const NONE: u8 = u8::MAX;

/// Slot of three upper-case ASCII letters (26*26*a + 26*b + c); None for anything else.
fn slot(code: &str) -> Option<usize> {
    let b = code.as_bytes();
    if b.len() != 3 || !b.iter().all(u8::is_ascii_uppercase) {
        return None;
    }
    Some(b.iter().fold(0, |s, &x| s * 26 + (x - b'A') as usize))
}

/// Minor units by slot: a direct lookup, as `verify` looks a code up for every amount.
fn by_code() -> &'static [u8] {
    static T: OnceLock<Vec<u8>> = OnceLock::new();
    T.get_or_init(|| {
        let file: File =
            serde_json::from_str(TABLE_JSON).expect("schemas/iso4217.json: the currency table");
        let mut t = vec![NONE; 26 * 26 * 26];
        for c in file.currencies {
            let s = slot(&c.code).expect("schemas/iso4217.json: codes are three capitals");
            assert_eq!(t[s], NONE, "schemas/iso4217.json: {} twice", c.code);
            assert_ne!(c.minor_units, NONE, "schemas/iso4217.json: {}", c.code);
            t[s] = c.minor_units;
        }
        t
    })
}

/// Minor units of a currency code from the shipped ISO 4217 table.
pub fn minor_units(code: &str) -> Option<u8> {
    let m = by_code()[slot(code)?];
    (m != NONE).then_some(m)
}

#[cfg(test)]
mod tests {
    use super::minor_units;
    use serde_json::Value;

    #[test]
    fn every_code_of_the_file() {
        let v: Value = serde_json::from_str(super::TABLE_JSON).unwrap();
        let list = v["currencies"].as_array().unwrap();
        assert!(list.len() > 150);
        for c in list {
            let code = c["code"].as_str().unwrap();
            let mu = c["minor_units"].as_u64().unwrap();
            assert_eq!(minor_units(code).map(u64::from), Some(mu), "{code}");
        }
        let known = list.iter().filter_map(|c| c["code"].as_str()).count();
        let all = (0..26 * 26 * 26)
            .map(|s: usize| {
                let l = |k: usize| (b'A' + (s / k % 26) as u8) as char;
                [l(676), l(26), l(1)].iter().collect::<String>()
            })
            .filter(|c| minor_units(c).is_some())
            .count();
        assert_eq!(all, known, "no code beyond the file's");
    }

    #[test]
    fn examples_and_non_codes() {
        assert_eq!(minor_units("UZS"), Some(2));
        assert_eq!(minor_units("UGX"), Some(0));
        assert_eq!(minor_units("JOD"), Some(3));
        for bad in ["", "uzs", "HRK", "XXX", "UZSX", "UZ", "ÜZS"] {
            assert_eq!(minor_units(bad), None, "{bad:?}");
        }
    }
}
