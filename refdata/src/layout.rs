//! Which settlement file each settlement goes to, for every `--settlement-format`.
//!
//! Table formats (Parquet, CSV, Arrow IPC) write one file per provider, as before. Provider
//! formats write the month as providers send it (CONTRACT 7):
//!
//! | mode | SETTLED | RETURNED | FAILED |
//! |---|---|---|---|
//! | camt053 | camt.053 debit | camt.053 credit with return info | pain.002 `RJCT` |
//! | pain002 | pain.002 `ACSC` | camt.054 credit with return info | pain.002 `RJCT` |
//! | mt940 | MT940 `D` | MT940 `RD`, or `C` marked as a return | pain.002 `RJCT` |
//!
//! A planted defect that the file kind can carry stays there (a bad amount text in
//! `TxDtls/Amt`, a bad currency code in `Ccy`, an impossible MT940 value date). One the
//! kind cannot carry — a provider file has no provider column, no free status, and
//! synthesises a reference when there is none — goes, with its reject reason, to the
//! provider's small CSV file beside it (`NAME.csv`, sverka's CSV layout). A re-sent copy
//! of a settlement goes to a second file of its kind (`NAME.resent.*`): within one file
//! a repeated reference is renamed (`#2`, CONTRACT 7), across files it is
//! `duplicate_provider_ref`, as in the table formats.
//!
//! What a kind leaves out is left out of the truth too: pain.002 and MT940 have no fee
//! (CONTRACT 7.3), so the fees of settlements written there count in no total.

use crate::catalog::{AccountKind, CURRENCIES, PROVIDERS};
use crate::plan::{Mangle, RefText, SDefect, SRow, SStatus};
use crate::text::push_iban;
use crate::{Format, SettlementFormat};

const N_PROV: usize = PROVIDERS.len();

/// How one provider reports its settlements.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Mode {
    Table(Format),
    Camt053,
    Pain002,
    Mt940,
}

/// What one settlement file is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum FileKind {
    Table(Format),
    Camt053,
    Camt054,
    Pain002,
    Mt940,
}

impl FileKind {
    /// The outputs' `format` of the file (CONTRACT 5).
    pub(crate) fn format_name(self) -> &'static str {
        match self {
            FileKind::Table(f) => f.extension(),
            FileKind::Camt053 => "camt.053",
            FileKind::Camt054 => "camt.054",
            FileKind::Pain002 => "pain.002",
            FileKind::Mt940 => "mt940",
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            FileKind::Table(Format::Parquet) => ".parquet",
            FileKind::Table(Format::Csv) => ".csv",
            FileKind::Table(Format::Arrow) => ".arrow",
            FileKind::Camt053 => ".camt053.xml",
            FileKind::Camt054 => ".camt054.xml",
            FileKind::Pain002 => ".pain002.xml",
            FileKind::Mt940 => ".mt940",
        }
    }

    /// Whether the kind has a fee (CONTRACT 7.3: pain.002 and MT940 have none).
    pub(crate) fn carries_fee(self) -> bool {
        !matches!(self, FileKind::Pain002 | FileKind::Mt940)
    }

    /// Whether a reject of this kind gets the CSV reason of a CSV-only defect.
    pub(crate) fn is_csv(self) -> bool {
        self == FileKind::Table(Format::Csv)
    }
}

/// One settlement file of the data set.
#[derive(Clone, Debug)]
pub(crate) struct SettFile {
    /// File name in `settlements/`.
    pub name: String,
    pub provider: u8,
    pub kind: FileKind,
    /// Opened before the first row (table formats write every provider's file, even an
    /// empty one); the others are created at their first row.
    pub eager: bool,
}

/// The settlement files of a data set and the rule that routes a settlement to one.
pub(crate) struct Layout {
    pub modes: [Mode; N_PROV],
    pub files: Vec<SettFile>,
    /// Per provider: (kind, re-sent copies, file index).
    by_provider: Vec<Vec<(FileKind, bool, u16)>>,
}

/// `--settlement-format mixed`: banks with IBAN accounts send statements, card and
/// wallet providers status reports or their own tables. Fixed, so a seed always gives
/// the same files.
const MIXED: [Mode; N_PROV] = [
    Mode::Camt053,                // XALQ_BANK
    Mode::Pain002,                // UZCARD
    Mode::Table(Format::Csv),     // HUMO
    Mode::Table(Format::Parquet), // PAYME
    Mode::Pain002,                // MTN_MOMO_UG
    Mode::Table(Format::Csv),     // AIRTEL_UG
    Mode::Mt940,                  // STANBIC_UG
    Mode::Mt940,                  // HALYK_KZ
    Mode::Table(Format::Parquet), // KASPI_KZ
    Mode::Camt053,                // CAIRO_AMMAN_BANK
    Mode::Table(Format::Csv),     // ZAIN_CASH_JO
    Mode::Mt940,                  // ETIHAD_USD_JO
    Mode::Camt053,                // MEPS_PREPAID_JO
];

impl Layout {
    pub(crate) fn new(format: SettlementFormat) -> Layout {
        let modes = match format {
            SettlementFormat::Parquet => [Mode::Table(Format::Parquet); N_PROV],
            SettlementFormat::Csv => [Mode::Table(Format::Csv); N_PROV],
            SettlementFormat::Arrow => [Mode::Table(Format::Arrow); N_PROV],
            SettlementFormat::Camt053 => [Mode::Camt053; N_PROV],
            SettlementFormat::Pain002 => [Mode::Pain002; N_PROV],
            SettlementFormat::Mt940 => [Mode::Mt940; N_PROV],
            SettlementFormat::Mixed => MIXED,
        };
        let mut layout = Layout {
            modes,
            files: Vec::new(),
            by_provider: vec![Vec::new(); N_PROV],
        };
        for (p, mode) in modes.iter().enumerate() {
            let kinds: &[FileKind] = match mode {
                Mode::Table(f) => {
                    layout.add(p, FileKind::Table(*f), false, true);
                    continue;
                }
                Mode::Camt053 => &[FileKind::Camt053, FileKind::Pain002],
                Mode::Pain002 => &[FileKind::Pain002, FileKind::Camt054],
                Mode::Mt940 => &[FileKind::Mt940, FileKind::Pain002],
            };
            for &resent in &[false, true] {
                for &k in kinds {
                    layout.add(p, k, resent, false);
                }
            }
            layout.add(p, FileKind::Table(Format::Csv), false, false);
        }
        layout
    }

    fn add(&mut self, p: usize, kind: FileKind, resent: bool, eager: bool) {
        let name = format!(
            "{}{}{}",
            PROVIDERS[p].name,
            if resent { ".resent" } else { "" },
            kind.suffix()
        );
        let index = u16::try_from(self.files.len()).expect("a few files per provider");
        self.by_provider[p].push((kind, resent, index));
        self.files.push(SettFile {
            name,
            provider: p as u8,
            kind,
            eager,
        });
    }

    fn file(&self, p: usize, kind: FileKind, resent: bool) -> u16 {
        self.by_provider[p]
            .iter()
            .find(|&&(k, r, _)| k == kind && r == resent)
            .map(|&(_, _, i)| i)
            .expect("every provider has the files of its mode")
    }

    /// Whether any provider sends provider files (then `providers.toml` is needed).
    pub(crate) fn has_provider_files(&self) -> bool {
        self.modes.iter().any(|m| !matches!(m, Mode::Table(_)))
    }

    /// The file a settlement goes to (see the module documentation).
    pub(crate) fn route(&self, r: &SRow) -> u16 {
        let p = usize::from(r.provider);
        let kind = match (self.modes[p], r.status) {
            (Mode::Table(f), _) => return self.file(p, FileKind::Table(f), false),
            (Mode::Camt053, SStatus::Settled | SStatus::Returned) => FileKind::Camt053,
            (Mode::Pain002, SStatus::Settled | SStatus::Failed) => FileKind::Pain002,
            (Mode::Pain002, SStatus::Returned) => FileKind::Camt054,
            (Mode::Mt940, SStatus::Settled | SStatus::Returned) => FileKind::Mt940,
            (Mode::Camt053 | Mode::Mt940, SStatus::Failed) => FileKind::Pain002,
        };
        if !carries(kind, r) {
            return self.file(p, FileKind::Table(Format::Csv), false);
        }
        let resent = matches!(r.defect, SDefect::DuplicateRef | SDefect::ReusedRef);
        self.file(p, kind, resent)
    }
}

/// Whether a settlement's text (its planted defect included) can be written in a file
/// of `kind` so that CONTRACT 7.3 reads it back as the same row.
fn carries(kind: FileKind, r: &SRow) -> bool {
    use SDefect as D;
    let text_defect = matches!(
        r.defect,
        D::AmountThousands
            | D::AmountExponent
            | D::AmountDecimalComma
            | D::AmountTooLong
            | D::Negative
            | D::PrecisionAmount
            | D::NegativeAndCurrency
            | D::CurrencyLower
            | D::CurrencyUnknown
            | D::DateImpossible
            | D::DateFormat
    );
    let valid = matches!(r.defect, D::None | D::DuplicateRef | D::ReusedRef);
    // `2026-11-05T10:00:00` (DateFormat's variant 4) in an ISO date element: CONTRACT 7.3
    // takes the element's text (invalid_date), but readers take the date of a date-time
    // (sverka-formats does), so it is planted in the CSV file only.
    let text_defect = text_defect && !(r.defect == D::DateFormat && r.variant % 8 == 4);
    match kind {
        FileKind::Table(_) => true,
        // Transaction amount, currency, fee and value date are the file's own text; an
        // entry without a value date is allowed. Status and reference are not free.
        FileKind::Camt053 | FileKind::Camt054 => {
            valid
                || text_defect
                || matches!(
                    r.defect,
                    D::FeeInvalid | D::PrecisionFee | D::FeeAndStatus | D::MissingValueDate
                )
        }
        // No fee to damage; an absent amount is possible, an absent date is not (the
        // message's creation date stands in).
        FileKind::Pain002 => valid || text_defect || r.defect == D::MissingAmount,
        // Amounts are `:61:` digits with a decimal comma and the currency is the
        // statement's: only the value date may be impossible. Dutch `:86:` subfields end
        // at `/`, so a reference holding one is not written there.
        FileKind::Mt940 => {
            (valid || r.defect == D::DateImpossible) && !(dutch(r.provider) && slash(r))
        }
    }
}

/// MT940 `:86:` in the Dutch (`/EREF/…/`) layout for odd providers, German (`?20EREF+`)
/// for even ones.
pub(crate) fn dutch(provider: u8) -> bool {
    provider % 2 == 1
}

/// Whether the echoed reference holds a `/`.
fn slash(r: &SRow) -> bool {
    matches!(
        r.reference,
        RefText::Mangled(Mangle::Prefixed | Mangle::Suffixed, _)
    )
}

/// Whether `provider`'s beneficiary accounts are IBANs (camt `Id/IBAN`, else `Othr/Id`).
pub(crate) fn iban_accounts(provider: u8) -> bool {
    matches!(
        PROVIDERS[usize::from(provider)].account,
        AccountKind::Iban { .. }
    )
}

/// The agency's account at `provider` in `currency`: the statement account of its camt
/// and MT940 files and the debtor account of its pain.002 files, listed in
/// `providers.toml`. Its bank code `TRSY` (treasury) is no provider's, so it never
/// equals a beneficiary's account.
pub(crate) fn agency_account(provider: u8, currency: u8) -> String {
    let p = &PROVIDERS[usize::from(provider)];
    let code = CURRENCIES[usize::from(currency)].code;
    match p.account {
        AccountKind::Iban { country, .. } => {
            let bban = format!("TRSY{:02}{}000000000001", provider, currency);
            let mut s = String::new();
            push_iban(&mut s, country, &bban);
            s
        }
        _ => format!("TRSY-{}-{code}", p.name),
    }
}

/// The currencies a provider's statements can be in: its own and the one a mis-booked
/// payment of it is reported in.
pub(crate) fn statement_currencies(provider: u8) -> [u8; 2] {
    let c = PROVIDERS[usize::from(provider)].currency;
    [c as u8, CURRENCIES[c].mismatch as u8]
}

/// `providers.toml` for `sverka reconcile --providers`: every provider with its
/// statement accounts (CONTRACT 7.2), and the keys `sverka disburse` requires.
pub(crate) fn providers_toml() -> String {
    let mut s = String::from(
        "# The providers of this generated data set (sverka generate).\n\
         # `sverka reconcile --providers providers.toml` finds the provider of each camt,\n\
         # MT940 and pain.002 file by the account it states (CONTRACT.md 7.2).\n\
         # account_kind and format are the keys `sverka disburse` reads.\n",
    );
    for (p, prov) in PROVIDERS.iter().enumerate() {
        let accounts: Vec<String> = statement_currencies(p as u8)
            .iter()
            .map(|&c| format!("\"{}\"", agency_account(p as u8, c)))
            .collect();
        s.push_str(&format!(
            "\n[providers.{}]\naccount_kind = \"any\"\nformat = \"csv\"\nstatement_accounts = [{}]\n",
            prov.name,
            accounts.join(", ")
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agency_accounts_are_distinct_and_no_beneficiary_account() {
        let mut seen = std::collections::BTreeSet::new();
        for p in 0..N_PROV as u8 {
            for c in statement_currencies(p) {
                let a = agency_account(p, c);
                assert!(seen.insert(a.clone()), "{a}");
                assert!(a.contains("TRSY"), "{a}");
            }
        }
    }

    #[test]
    fn file_names_sort_originals_before_resent_copies() {
        for f in [
            SettlementFormat::Camt053,
            SettlementFormat::Pain002,
            SettlementFormat::Mt940,
            SettlementFormat::Mixed,
        ] {
            let l = Layout::new(f);
            for a in &l.files {
                for b in &l.files {
                    let original = !a.name.contains(".resent");
                    if a.provider == b.provider && original && b.name.contains(".resent") {
                        assert!(a.name < b.name, "{} {}", a.name, b.name);
                    }
                }
            }
            let mut names: Vec<&str> = l.files.iter().map(|f| f.name.as_str()).collect();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), l.files.len());
        }
    }
}
