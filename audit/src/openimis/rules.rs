//! Whether a row of openIMIS's payroll is marked paid: one closed catalogue of reasons to
//! leave it, in the order they are decided (the first that holds is the row's reason).
//! A row is filled only when openIMIS would act on it (`Status` ACCEPTED, `Paid` and
//! `Receipt` empty) and sverka saw it paid exactly: status PAID, to the instructed account
//! (or a reviewer accepted the difference), of the amount the payroll says.

use sverka_engine::money::parse_amount;

use super::results::Instruction;
use crate::{fmt_minor, minor_units};

/// openIMIS's `Status` of a benefit it marks paid on upload (BenefitConsumptionStatus).
pub const ACCEPTED: &str = "ACCEPTED";
/// openIMIS's `Status` of a benefit already marked paid.
pub const RECONCILED: &str = "RECONCILED";
/// openIMIS's Receipt column (`receipt`, a CharField of at most 255 characters).
pub const RECEIPT_MAX_CHARS: usize = 255;

/// Why a row is left as it was, in the order decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// The Code is not an accepted instruction of the reconciliation.
    NotInResults,
    /// openIMIS's Status is not ACCEPTED: openIMIS marks only ACCEPTED benefits paid.
    OpenimisStatus,
    /// Paid or Receipt already has a value.
    AlreadyFilled,
    /// sverka's status is not PAID.
    NotPaid,
    /// PAID to another account than instructed, and no reviewer accepted it.
    AccountMismatch,
    /// The row's Amount is not the instructed amount.
    AmountDiffers,
    /// The provider reference does not fit openIMIS's Receipt.
    ReceiptTooLong,
}

impl Reason {
    pub const ALL: [Reason; 7] = [
        Reason::NotInResults,
        Reason::OpenimisStatus,
        Reason::AlreadyFilled,
        Reason::NotPaid,
        Reason::AccountMismatch,
        Reason::AmountDiffers,
        Reason::ReceiptTooLong,
    ];

    /// The reason as written in not-paid.csv.
    pub fn code(self) -> &'static str {
        match self {
            Reason::NotInResults => "not_in_results",
            Reason::OpenimisStatus => "openimis_status",
            Reason::AlreadyFilled => "already_filled",
            Reason::NotPaid => "not_paid",
            Reason::AccountMismatch => "account_mismatch",
            Reason::AmountDiffers => "amount_differs",
            Reason::ReceiptTooLong => "receipt_too_long",
        }
    }
}

/// The fields of a download row the rules read (unescaped).
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    pub code: &'a str,
    pub status: &'a str,
    pub amount: &'a str,
    pub paid: &'a str,
    pub receipt: &'a str,
}

/// What becomes of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<'a> {
    /// `Paid` = Yes, `Receipt` = this provider reference.
    Fill(&'a str),
    /// Left as it was, for this reason (and a sentence saying it for this row).
    Leave(Reason, String),
}

/// The row's fate; `ins` is the instruction whose id is the row's Code, if any.
pub fn decide<'a>(row: &Row, ins: Option<&Instruction<'a>>) -> Decision<'a> {
    let leave = |r, s: String| Decision::Leave(r, s);
    let Some(ins) = ins else {
        let what = if row.code.is_empty() {
            "the Code is empty".to_string()
        } else {
            "the Code is not an accepted instruction of the reconciliation (a rejected row, or \
             another payroll's)"
                .to_string()
        };
        return leave(Reason::NotInResults, what);
    };
    if row.status != ACCEPTED {
        let what = if row.status == RECONCILED {
            "already marked paid in openIMIS (Status RECONCILED)".to_string()
        } else {
            format!(
                "openIMIS Status {:?}: openIMIS marks only ACCEPTED benefits paid",
                row.status
            )
        };
        return leave(Reason::OpenimisStatus, what);
    }
    if !row.paid.is_empty() || !row.receipt.is_empty() {
        let set: Vec<String> = [("Paid", row.paid), ("Receipt", row.receipt)]
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k} {v:?}"))
            .collect();
        return leave(
            Reason::AlreadyFilled,
            format!("already filled in ({}): left as it is", set.join(", ")),
        );
    }
    let money = |v| fmt_minor(v, minor_units(ins.currency).unwrap_or(0));
    if ins.status != "PAID" {
        let mut what = format!("sverka status {}", ins.status);
        if ins.paid != 0 {
            what += &format!(": {} of {} paid", money(ins.paid), money(ins.amount));
        }
        return leave(Reason::NotPaid, what);
    }
    if ins.has_flag("ACCOUNT_MISMATCH") && !ins.has_flag("ACCEPTED") {
        return leave(
            Reason::AccountMismatch,
            "paid to another account than instructed; a reviewer can ACCEPT it (sverka \
             worksheet, reconcile --decisions), then fill again"
                .to_string(),
        );
    }
    if !same_amount(row.amount, ins) {
        return leave(
            Reason::AmountDiffers,
            format!(
                "Amount {:?} in openIMIS, {} {} instructed and paid",
                row.amount,
                money(ins.amount),
                ins.currency
            ),
        );
    }
    let receipt = ins.receipt.unwrap_or("");
    if receipt.chars().count() > RECEIPT_MAX_CHARS {
        return leave(
            Reason::ReceiptTooLong,
            format!(
                "the provider reference has {} characters, openIMIS's Receipt holds {RECEIPT_MAX_CHARS}",
                receipt.chars().count()
            ),
        );
    }
    Decision::Fill(receipt)
}

/// Whether the row's Amount is the instruction's amount, as exact decimals: `72000`,
/// `72000.0` and `72000.00` are the same; `72,000.00`, `7.2E+04` or a digit beyond the
/// currency's minor units are not (sverka's grammar, CONTRACT 2; spaces and tabs around it
/// trimmed).
pub fn same_amount(text: &str, ins: &Instruction) -> bool {
    let Some(minor) = minor_units(ins.currency) else {
        return false;
    };
    parse_amount(text.trim_matches([' ', '\t']))
        .and_then(|a| a.to_minor(minor))
        .is_some_and(|v| v == ins.amount)
}

/// Whether openIMIS may not store `receipt` as written: its upload reads the file with
/// pandas' type inference (`pd.read_csv` without `dtype`), which takes a value that looks
/// like a number as a number (leading zeros lost, `.0` added when the column has empty
/// cells, digits beyond 2^53 changed) and pandas' missing-value words (`NA`, `null`, ...)
/// as missing.
pub fn pandas_changes(receipt: &str) -> bool {
    const MISSING: [&str; 19] = [
        "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
        "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null", "",
    ];
    if MISSING.contains(&receipt) {
        return true;
    }
    let s = receipt.trim();
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let number = !(int.is_empty() && frac.is_empty()) && digits(int) && digits(frac);
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    number && exponent_ok || ["inf", "infinity"].contains(&s.to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ins(status: &'static str, flags: &'static str) -> Instruction<'static> {
        Instruction {
            id: "BEN-1",
            status,
            flags,
            currency: "UZS",
            amount: 7_200_000,
            paid: if status == "UNDERPAID" {
                3_600_000
            } else {
                7_200_000
            },
            receipt: Some("TX-1"),
        }
    }

    fn row(status: &'static str, amount: &'static str) -> Row<'static> {
        Row {
            code: "BEN-1",
            status,
            amount,
            paid: "",
            receipt: "",
        }
    }

    fn reason(d: Decision) -> Reason {
        match d {
            Decision::Leave(r, _) => r,
            Decision::Fill(_) => panic!("filled"),
        }
    }

    #[test]
    fn paid_exactly_is_filled() {
        let r = row(ACCEPTED, "72000.00");
        assert_eq!(decide(&r, Some(&ins("PAID", ""))), Decision::Fill("TX-1"));
        // Flags that do not say the money went elsewhere do not hold it back.
        let i = ins("PAID", "FALLBACK_MATCH;LATE;MANUAL_MATCH");
        assert_eq!(decide(&r, Some(&i)), Decision::Fill("TX-1"));
        let i = ins("PAID", "ACCEPTED;ACCOUNT_MISMATCH");
        assert_eq!(decide(&r, Some(&i)), Decision::Fill("TX-1"));
        for same in ["72000", "72000.0", " 72000.000\t", "072000.00"] {
            assert_eq!(
                decide(&row(ACCEPTED, same), Some(&ins("PAID", ""))),
                Decision::Fill("TX-1")
            );
        }
    }

    #[test]
    fn the_first_reason_wins() {
        let paid = ins("PAID", "");
        assert_eq!(
            reason(decide(&row(ACCEPTED, "1"), None)),
            Reason::NotInResults
        );
        let d = decide(&row(RECONCILED, "1"), Some(&paid));
        assert_eq!(
            d,
            Decision::Leave(
                Reason::OpenimisStatus,
                "already marked paid in openIMIS (Status RECONCILED)".into()
            )
        );
        assert_eq!(
            reason(decide(&row("accepted", "72000"), Some(&paid))),
            Reason::OpenimisStatus
        );
        let mut filled = row(ACCEPTED, "1");
        filled.paid = "No";
        assert_eq!(
            reason(decide(&filled, Some(&ins("UNPAID", "")))),
            Reason::AlreadyFilled
        );
        let mut receipt = row(ACCEPTED, "72000");
        receipt.receipt = "X";
        assert_eq!(reason(decide(&receipt, Some(&paid))), Reason::AlreadyFilled);
        let d = decide(&row(ACCEPTED, "1"), Some(&ins("UNDERPAID", "")));
        assert_eq!(
            d,
            Decision::Leave(
                Reason::NotPaid,
                "sverka status UNDERPAID: 36000.00 of 72000.00 paid".into()
            )
        );
        let i = ins("PAID", "ACCOUNT_MISMATCH;LATE");
        assert_eq!(
            reason(decide(&row(ACCEPTED, "1"), Some(&i))),
            Reason::AccountMismatch
        );
        for other in [
            "72000.01",
            "72,000.00",
            "7.2E+04",
            "72000.001",
            "",
            "-72000",
        ] {
            assert_eq!(
                reason(decide(&row(ACCEPTED, other), Some(&paid))),
                Reason::AmountDiffers,
                "{other}"
            );
        }
        let long = "R".repeat(256);
        let mut i = paid;
        i.receipt = Some(&long);
        assert_eq!(
            reason(decide(&row(ACCEPTED, "72000"), Some(&i))),
            Reason::ReceiptTooLong
        );
        i.receipt = Some(&long[..255]);
        assert!(matches!(
            decide(&row(ACCEPTED, "72000"), Some(&i)),
            Decision::Fill(_)
        ));
    }

    #[test]
    fn receipts_pandas_would_change() {
        for changed in [
            "0012",
            "4815162342",
            "1e5",
            "-3.5",
            "+1",
            "NA",
            "null",
            ".5",
            "5.",
            "inf",
        ] {
            assert!(pandas_changes(changed), "{changed}");
        }
        for kept in [
            "TX-0012", "AM2611", "1-2", "e5", "1e", "12 34", "N/A2", "0x12", ".",
        ] {
            assert!(!pandas_changes(kept), "{kept}");
        }
    }
}
