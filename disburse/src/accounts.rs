//! Account checks per provider account kind (holds with reason `account_check`):
//! IBAN (ISO 13616: mod-97 check digits and the country's BBAN length and format, via
//! the `iban_validate` crate, electronic format only), card number (12 to 19 digits,
//! Luhn), mobile wallet (E.164 `+` country calling code + national number, for the
//! provider's country, from the table below).

use iban::IbanLike;

/// What a provider pays into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    Iban,
    Card,
    Wallet,
    /// No structural check (a provider's own account numbers).
    Any,
}

impl AccountKind {
    pub fn parse(s: &str) -> Option<AccountKind> {
        match s {
            "iban" => Some(AccountKind::Iban),
            "card" => Some(AccountKind::Card),
            "wallet" => Some(AccountKind::Wallet),
            "any" => Some(AccountKind::Any),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Iban => "iban",
            AccountKind::Card => "card",
            AccountKind::Wallet => "wallet",
            AccountKind::Any => "any",
        }
    }
}

/// Mobile numbers per country: ISO 3166 alpha-2, E.164 country calling code, allowed
/// lengths of the national (significant) mobile number. Sources: ITU-T E.164 assignments
/// and the national numbering plans as published by the ITU (mobile ranges). A country
/// not listed cannot have a wallet provider (the profile is refused, exit 2).
pub const E164: &[(&str, &str, &[usize])] = &[
    ("BD", "880", &[10]),
    ("CD", "243", &[9]),
    ("CI", "225", &[10]),
    ("CM", "237", &[9]),
    ("EG", "20", &[10]),
    ("ET", "251", &[9]),
    ("GH", "233", &[9]),
    ("HT", "509", &[8]),
    ("ID", "62", &[9, 10, 11, 12]),
    ("IN", "91", &[10]),
    ("JO", "962", &[9]),
    ("KE", "254", &[9]),
    ("KG", "996", &[9]),
    ("KZ", "7", &[10]),
    ("MA", "212", &[9]),
    ("MW", "265", &[9]),
    ("MZ", "258", &[9]),
    ("NG", "234", &[10]),
    ("PH", "63", &[10]),
    ("PK", "92", &[10]),
    ("RW", "250", &[9]),
    ("SN", "221", &[9]),
    ("SO", "252", &[8, 9]),
    ("TJ", "992", &[9]),
    ("TZ", "255", &[9]),
    ("UG", "256", &[9]),
    ("UZ", "998", &[9]),
    ("ZM", "260", &[9]),
];

pub fn e164_entry(country: &str) -> Option<(&'static str, &'static [usize])> {
    E164.iter()
        .find(|(c, _, _)| *c == country)
        .map(|(_, cc, lens)| (*cc, *lens))
}

/// Luhn (ISO/IEC 7812-1) over ASCII digits.
pub fn luhn(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = (b - b'0') as u32;
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

/// Checks `account` for a provider of `kind` in `country`; the error says what is wrong.
pub fn check(kind: AccountKind, country: Option<&str>, account: &str) -> Result<(), String> {
    match kind {
        AccountKind::Any => Ok(()),
        AccountKind::Iban => {
            let iban: iban::Iban = account.parse().map_err(|e| match e {
                iban::ParseIbanError::InvalidBaseIban { source } => {
                    format!("not a valid IBAN: {source}")
                }
                other => format!("not a valid IBAN: {other}"),
            })?;
            if iban.electronic_str() != account {
                return Err("IBAN must be in electronic format (upper case, no spaces)".to_string());
            }
            if let Some(c) = country {
                if iban.country_code() != c {
                    return Err(format!(
                        "IBAN of country {} but the provider pays in {c}",
                        iban.country_code()
                    ));
                }
            }
            Ok(())
        }
        AccountKind::Card => {
            if !account.bytes().all(|b| b.is_ascii_digit()) {
                return Err("card number must be digits only".to_string());
            }
            if !(12..=19).contains(&account.len()) {
                return Err(format!(
                    "card number has {} digits; 12 to 19 expected",
                    account.len()
                ));
            }
            if !luhn(account) {
                return Err("card number fails the Luhn check".to_string());
            }
            Ok(())
        }
        AccountKind::Wallet => {
            let c = country.unwrap_or("");
            let (cc, lens) = e164_entry(c)
                .ok_or_else(|| format!("no E.164 numbering known for country {c:?}"))?;
            let Some(digits) = account.strip_prefix('+') else {
                return Err(format!("wallet number must be E.164: +{cc} and the number"));
            };
            if !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err("wallet number must be + and digits only (E.164)".to_string());
            }
            let Some(national) = digits.strip_prefix(cc) else {
                return Err(format!("wallet number must start with +{cc} ({c})"));
            };
            if !lens.contains(&national.len()) {
                return Err(format!(
                    "wallet number has {} digits after +{cc}; {c} mobile numbers have {}",
                    national.len(),
                    lens.iter()
                        .map(|l| l.to_string())
                        .collect::<Vec<_>>()
                        .join(" or ")
                ));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iban() {
        assert!(check(AccountKind::Iban, None, "GB82WEST12345698765432").is_ok());
        assert!(check(AccountKind::Iban, Some("GB"), "GB82WEST12345698765432").is_ok());
        assert!(check(AccountKind::Iban, Some("DE"), "GB82WEST12345698765432").is_err());
        // Wrong check digits, wrong length, print format, lower case.
        assert!(check(AccountKind::Iban, None, "GB82WEST12345698765433").is_err());
        assert!(check(AccountKind::Iban, None, "GB82WEST1234569876543").is_err());
        assert!(check(AccountKind::Iban, None, "GB82 WEST 1234 5698 7654 32").is_err());
        assert!(check(AccountKind::Iban, None, "gb82west12345698765432").is_err());
    }

    #[test]
    fn card() {
        assert!(check(AccountKind::Card, None, "4111111111111111").is_ok());
        assert!(check(AccountKind::Card, None, "4111111111111112").is_err());
        assert!(check(AccountKind::Card, None, "4111 1111 1111 1111").is_err());
        assert!(check(AccountKind::Card, None, "41111").is_err());
        assert!(luhn("79927398713"));
        assert!(!luhn("79927398710"));
    }

    #[test]
    fn wallet() {
        assert!(check(AccountKind::Wallet, Some("UZ"), "+998901234567").is_ok());
        assert!(check(AccountKind::Wallet, Some("UZ"), "998901234567").is_err());
        assert!(check(AccountKind::Wallet, Some("UZ"), "+99890123456").is_err());
        assert!(check(AccountKind::Wallet, Some("UZ"), "+254712345678").is_err());
        assert!(check(AccountKind::Wallet, Some("KE"), "+254712345678").is_ok());
        assert!(check(AccountKind::Wallet, Some("UZ"), "+998 90 123 45 67").is_err());
        assert!(check(AccountKind::Wallet, Some("XX"), "+998901234567").is_err());
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn with_check_digit(body: &str) -> String {
        (0..10u8)
            .map(|d| format!("{body}{d}"))
            .find(|s| luhn(s))
            .expect("one digit completes any body")
    }

    proptest! {
        /// A card number completed with its Luhn digit passes; changing any one digit fails.
        #[test]
        fn luhn_catches_every_single_digit_error(body in "[0-9]{11,18}", pos in 0usize..19, delta in 1u8..10) {
            let card = with_check_digit(&body);
            prop_assert!(check(AccountKind::Card, None, &card).is_ok());
            let pos = pos % card.len();
            let mut bytes = card.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            prop_assert!(!luhn(std::str::from_utf8(&bytes).unwrap()));
        }
    }
}
