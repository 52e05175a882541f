//! The synthetic programme's fixed world: currencies, countries, providers, programmes
//! and benefit amounts.
//!
//! Everything here is static and indexed by position, so the planner works with small
//! integers and text is only produced when a row is written.
//!
//! Amount invariant that the AMOUNT_OUTLIER truth relies on: an ordinary instruction's
//! amount is `base + base/4 * (household_size - 1)` with `household_size` in 1..=9, so it
//! lies in `[base, 3 * base]` of its (programme, currency). Any lower median of a group
//! whose median element is ordinary is therefore >= base, and `3 * median >= 3 * base`
//! bounds every ordinary amount: no ordinary instruction is ever an outlier. Planted
//! outliers are `>= 10 * base > 3 * (3 * base)`, above any ordinary median's threshold.

/// Index into [`CURRENCIES`].
pub(crate) type Cur = usize;
/// Index into [`PROVIDERS`].
pub(crate) type Prov = usize;
/// Index into [`PROGRAMS`].
pub(crate) type Prog = usize;

pub(crate) struct Currency {
    pub code: &'static str,
    pub minor_units: u32,
    /// Smallest realistic increment, in minor units, for deductions and top-ups.
    pub step: i64,
    /// The currency a mis-booked settlement of this currency is reported in.
    pub mismatch: Cur,
    /// Approximate rate to `mismatch`: one major unit is worth `rate.0 / rate.1` major
    /// units of it.
    pub rate: (i128, i128),
}

pub(crate) const UZS: Cur = 0;
pub(crate) const UGX: Cur = 1;
pub(crate) const KZT: Cur = 2;
pub(crate) const JOD: Cur = 3;
pub(crate) const USD: Cur = 4;

pub(crate) const CURRENCIES: [Currency; 5] = [
    Currency {
        code: "UZS",
        minor_units: 2,
        step: 100,
        mismatch: USD,
        rate: (1, 12_500),
    },
    Currency {
        code: "UGX",
        minor_units: 0,
        step: 500,
        mismatch: USD,
        rate: (1, 3_700),
    },
    Currency {
        code: "KZT",
        minor_units: 2,
        step: 100,
        mismatch: USD,
        rate: (1, 520),
    },
    Currency {
        code: "JOD",
        minor_units: 3,
        step: 10,
        mismatch: USD,
        rate: (141, 100),
    },
    Currency {
        code: "USD",
        minor_units: 2,
        step: 1,
        mismatch: JOD,
        rate: (709, 1_000),
    },
];

pub(crate) struct Country {
    pub code: &'static str,
    /// Share of households, in arbitrary units.
    pub weight: u32,
}

pub(crate) const COUNTRIES: [Country; 4] = [
    Country {
        code: "UZ",
        weight: 55,
    },
    Country {
        code: "UG",
        weight: 20,
    },
    Country {
        code: "KZ",
        weight: 15,
    },
    Country {
        code: "JO",
        weight: 10,
    },
];

/// How a provider's accounts look. Every provider's format has a provider-specific
/// component (bank code, card BIN, phone prefixes), so account texts of different
/// providers never coincide, and within a provider the text is injective in the account
/// number: account text equality is account-number equality.
pub(crate) enum AccountKind {
    /// ISO 13616 IBAN (or IBAN-like where the country has none) with real mod-97 check
    /// digits: country, bank code, then `digits` digits of the account number.
    Iban {
        country: &'static str,
        bank: &'static str,
        digits: u32,
    },
    /// 16-digit card number: a 6-digit BIN, 9 account digits and a Luhn check digit.
    Card { bin: &'static str },
    /// E.164 mobile-money wallet: one of the prefixes, then 7 digits.
    Wallet { prefixes: &'static [&'static str] },
}

pub(crate) enum Fee {
    /// The fee column is empty.
    None,
    /// A fixed fee per SETTLED line, in minor units.
    Fixed(i64),
    /// Per mille of the amount, floored to a minor unit.
    PerMille(i64),
}

pub(crate) struct Provider {
    pub name: &'static str,
    pub country: usize,
    pub currency: Cur,
    pub account: AccountKind,
    /// Share within its country.
    pub weight: u32,
    pub ref_prefix: &'static str,
    pub fee: Fee,
    /// CSV files of this provider use CRLF line ends.
    pub crlf: bool,
    /// CSV files of this provider start with a UTF-8 byte order mark.
    pub bom: bool,
}

pub(crate) const PROVIDERS: [Provider; 13] = [
    Provider {
        name: "XALQ_BANK",
        country: 0,
        currency: UZS,
        account: AccountKind::Iban {
            country: "UZ",
            bank: "XALQ",
            digits: 16,
        },
        weight: 25,
        ref_prefix: "XB",
        fee: Fee::None,
        crlf: true,
        bom: false,
    },
    Provider {
        name: "UZCARD",
        country: 0,
        currency: UZS,
        account: AccountKind::Card { bin: "860014" },
        weight: 35,
        ref_prefix: "UC",
        fee: Fee::PerMille(5),
        crlf: false,
        bom: false,
    },
    Provider {
        name: "HUMO",
        country: 0,
        currency: UZS,
        account: AccountKind::Card { bin: "986010" },
        weight: 25,
        ref_prefix: "HM",
        fee: Fee::None,
        crlf: false,
        bom: true,
    },
    Provider {
        name: "PAYME",
        country: 0,
        currency: UZS,
        account: AccountKind::Wallet {
            prefixes: &["+99890", "+99891", "+99893", "+99894", "+99897", "+99899"],
        },
        weight: 15,
        ref_prefix: "PM",
        fee: Fee::PerMille(10),
        crlf: false,
        bom: false,
    },
    Provider {
        name: "MTN_MOMO_UG",
        country: 1,
        currency: UGX,
        account: AccountKind::Wallet {
            prefixes: &["+25677", "+25678", "+25676"],
        },
        weight: 55,
        ref_prefix: "MP",
        fee: Fee::Fixed(500),
        crlf: false,
        bom: false,
    },
    Provider {
        name: "AIRTEL_UG",
        country: 1,
        currency: UGX,
        account: AccountKind::Wallet {
            prefixes: &["+25670", "+25675", "+25674"],
        },
        weight: 35,
        ref_prefix: "AM",
        fee: Fee::Fixed(500),
        crlf: true,
        bom: false,
    },
    Provider {
        name: "STANBIC_UG",
        country: 1,
        currency: UGX,
        account: AccountKind::Iban {
            country: "UG",
            bank: "SBIC",
            digits: 14,
        },
        weight: 10,
        ref_prefix: "SU",
        fee: Fee::None,
        crlf: false,
        bom: false,
    },
    Provider {
        name: "HALYK_KZ",
        country: 2,
        currency: KZT,
        account: AccountKind::Iban {
            country: "KZ",
            bank: "601",
            digits: 13,
        },
        weight: 60,
        ref_prefix: "HB",
        fee: Fee::None,
        crlf: false,
        bom: false,
    },
    Provider {
        name: "KASPI_KZ",
        country: 2,
        currency: KZT,
        account: AccountKind::Card { bin: "440043" },
        weight: 40,
        ref_prefix: "KS",
        fee: Fee::None,
        crlf: false,
        bom: true,
    },
    Provider {
        name: "CAIRO_AMMAN_BANK",
        country: 3,
        currency: JOD,
        account: AccountKind::Iban {
            country: "JO",
            bank: "CAAB0010",
            digits: 18,
        },
        weight: 35,
        ref_prefix: "CA",
        fee: Fee::Fixed(250),
        crlf: true,
        bom: false,
    },
    Provider {
        name: "ZAIN_CASH_JO",
        country: 3,
        currency: JOD,
        account: AccountKind::Wallet {
            prefixes: &["+96279", "+96278", "+96277"],
        },
        weight: 35,
        ref_prefix: "ZC",
        fee: Fee::Fixed(150),
        crlf: false,
        bom: false,
    },
    Provider {
        name: "ETIHAD_USD_JO",
        country: 3,
        currency: USD,
        account: AccountKind::Iban {
            country: "JO",
            bank: "UBSI1080",
            digits: 18,
        },
        weight: 15,
        ref_prefix: "EU",
        fee: Fee::None,
        crlf: false,
        bom: false,
    },
    Provider {
        name: "MEPS_PREPAID_JO",
        country: 3,
        currency: USD,
        account: AccountKind::Card { bin: "523514" },
        weight: 15,
        ref_prefix: "MC",
        fee: Fee::Fixed(50),
        crlf: false,
        bom: false,
    },
];

pub(crate) struct Program {
    pub name: &'static str,
    pub code: &'static str,
    pub weight: u32,
    /// Weights of household sizes 1..=9.
    pub household: [u32; 9],
    /// Base monthly amount per currency, in minor units; divisible by 4.
    pub base: [i64; 5],
    /// Payroll tranche days in November 2026 (the due date is one of them plus 0..=2).
    pub tranches: [u32; 2],
}

pub(crate) const PROGRAMS: [Program; 4] = [
    Program {
        name: "CHILD_BENEFIT",
        code: "CB",
        weight: 40,
        household: [0, 5, 15, 25, 25, 15, 8, 5, 2],
        base: [450_000_00, 25_000, 21_000_00, 40_000, 30_00],
        tranches: [5, 15],
    },
    Program {
        name: "DISABILITY",
        code: "DS",
        weight: 15,
        household: [30, 25, 20, 12, 7, 3, 2, 1, 0],
        base: [900_000_00, 60_000, 60_000_00, 60_000, 60_00],
        tranches: [7, 17],
    },
    Program {
        name: "ELDERLY_PENSION",
        code: "EP",
        weight: 25,
        household: [55, 30, 8, 4, 2, 1, 0, 0, 0],
        base: [750_000_00, 25_000, 45_000_00, 50_000, 45_00],
        tranches: [3, 10],
    },
    Program {
        name: "LOW_INCOME",
        code: "LI",
        weight: 20,
        household: [5, 10, 15, 20, 20, 15, 8, 4, 3],
        base: [600_000_00, 40_000, 30_000_00, 75_000, 50_00],
        tranches: [12, 20],
    },
];

/// Payment cycles: index 0 is the arrears cycle, index 1 the current one.
pub(crate) const CYCLES: [&str; 2] = ["2026-10", "2026-11"];
pub(crate) const ARREARS: u8 = 0;
pub(crate) const CURRENT: u8 = 1;

/// Ordinary amount of a household of `size` (1..=9) members, in minor units.
pub(crate) fn ordinary_amount(program: Prog, currency: Cur, size: u32) -> i64 {
    let base = PROGRAMS[program].base[currency];
    base + base / 4 * i64::from(size.clamp(1, 9) - 1)
}

/// Providers of the same currency as `provider`, other than itself.
pub(crate) fn sibling_providers(provider: Prov) -> impl Iterator<Item = Prov> {
    let cur = PROVIDERS[provider].currency;
    (0..PROVIDERS.len()).filter(move |&p| p != provider && PROVIDERS[p].currency == cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_divisible_and_three_fold_range() {
        for (p, prog) in PROGRAMS.iter().enumerate() {
            for (c, cur) in CURRENCIES.iter().enumerate() {
                let base = prog.base[c];
                assert_eq!(base % 4, 0, "{} {}", prog.name, cur.code);
                assert_eq!(ordinary_amount(p, c, 9), 3 * base);
                assert_eq!(ordinary_amount(p, c, 1), base);
            }
        }
    }

    #[test]
    fn every_currency_has_two_providers() {
        for (c, cur) in CURRENCIES.iter().enumerate() {
            let n = PROVIDERS.iter().filter(|p| p.currency == c).count();
            assert!(n >= 2, "{}", cur.code);
        }
    }
}
