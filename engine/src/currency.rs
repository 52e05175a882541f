//! The ISO 4217 table shipped in `schemas/iso4217.json`: active alphabetic codes and their
//! minor units. Currencies are carried through the engine as a small index (`Ccy`).

use std::sync::OnceLock;

/// Index of a currency in the shipped table.
pub type Ccy = u16;

/// (v2) No currency: a FAILED settlement with neither amount nor fee (CONTRACT 1).
/// Counts in no currency's totals; never an index into the table.
pub const NO_CCY: Ccy = Ccy::MAX;

/// The table file, compiled in so that a binary always carries the table it was tested with.
pub const TABLE_JSON: &str = include_str!("../../schemas/iso4217.json");

#[derive(Debug)]
pub struct Currency {
    pub code: String,
    pub minor_units: u8,
}

#[derive(Debug)]
pub struct Table {
    pub version: String,
    pub currencies: Vec<Currency>,
    /// Direct lookup of three upper-case ASCII letters: index 26*26*a + 26*b + c.
    by_code: Vec<u16>,
}

const NONE: u16 = u16::MAX;

impl Table {
    fn parse(json: &str) -> Table {
        let v: serde_json::Value =
            serde_json::from_str(json).expect("schemas/iso4217.json is valid JSON");
        let version = v["version"].as_str().expect("version").to_string();
        let mut currencies = Vec::new();
        let mut by_code = vec![NONE; 26 * 26 * 26];
        for c in v["currencies"].as_array().expect("currencies") {
            let code = c["code"].as_str().expect("code").to_string();
            let minor_units = c["minor_units"].as_u64().expect("minor_units") as u8;
            let slot = slot(code.as_bytes()).expect("three upper-case letters");
            assert_eq!(by_code[slot], NONE, "duplicate code {code}");
            by_code[slot] = currencies.len() as u16;
            currencies.push(Currency { code, minor_units });
        }
        Table {
            version,
            currencies,
            by_code,
        }
    }

    /// Looks up an exact code (already trimmed). Lower case is not a code.
    pub fn lookup(&self, code: &str) -> Option<Ccy> {
        let s = slot(code.as_bytes())?;
        let i = self.by_code[s];
        (i != NONE).then_some(i)
    }

    pub fn code(&self, c: Ccy) -> &str {
        &self.currencies[c as usize].code
    }

    pub fn minor_units(&self, c: Ccy) -> u8 {
        self.currencies[c as usize].minor_units
    }
}

fn slot(b: &[u8]) -> Option<usize> {
    if b.len() != 3 || !b.iter().all(u8::is_ascii_uppercase) {
        return None;
    }
    let d = |x: u8| (x - b'A') as usize;
    Some(d(b[0]) * 676 + d(b[1]) * 26 + d(b[2]))
}

/// The shipped table.
pub fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| Table::parse(TABLE_JSON))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_and_minor_units() {
        let t = table();
        let mu = |c: &str| t.minor_units(t.lookup(c).unwrap());
        assert_eq!(mu("UZS"), 2);
        assert_eq!(mu("UGX"), 0);
        assert_eq!(mu("JPY"), 0);
        assert_eq!(mu("KWD"), 3);
        assert_eq!(mu("JOD"), 3);
        assert_eq!(mu("CLF"), 4);
        for bad in [
            "uzs", "UZM", "XYZ", "XDR", "XAU", "HRK", "BGN", "860", "UZ", "UZSS", "",
        ] {
            assert!(t.lookup(bad).is_none(), "{bad}");
        }
    }
}
