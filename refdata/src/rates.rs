//! How often each finding is planted.
//!
//! Rates are integers in parts per million (no floats anywhere near the generator). Unit
//! rates are per planning unit (a household or cluster, about one instruction each): the
//! planner draws one unit kind per unit, and whatever the listed rates leave over is an
//! ordinary instruction paid on time by reference. Row rates apply to every eligible row.

use serde::{Deserialize, Serialize};

use crate::error::RefdataError;

/// One million: the denominator of every rate.
pub const PER_MILLION: u32 = 1_000_000;

/// Planting rates in parts per million. See the module documentation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rates {
    // --- unit kinds: one instruction and its settlements ---
    /// No settlement at all: UNPAID.
    pub unpaid: u32,
    /// One FAILED line: FAILED.
    pub failed: u32,
    /// FAILED, then a later SETTLED retry: PAID.
    pub failed_then_paid: u32,
    /// SETTLED, then RETURNED: RETURNED.
    pub returned: u32,
    /// Only a RETURNED line (its SETTLED line was in an earlier month): RETURNED.
    pub returned_only: u32,
    /// SETTLED for less: UNDERPAID.
    pub underpaid: u32,
    /// SETTLED for more: OVERPAID.
    pub overpaid: u32,
    /// Two SETTLED lines with different provider refs: DOUBLE_PAID.
    pub double_paid: u32,
    /// SETTLED in another currency: CURRENCY_MISMATCH.
    pub currency_mismatch: u32,
    /// SETTLED to another account: ACCOUNT_MISMATCH.
    pub account_mismatch: u32,
    /// SETTLED more than 3 days after the due date: LATE.
    pub late: u32,
    /// Reported by another provider of the same currency: PROVIDER_MISMATCH.
    pub provider_mismatch: u32,
    /// Reference empty or mangled, unique candidate: FALLBACK_MATCH.
    pub fallback: u32,
    /// Reference mangled and the date, amount or account just outside the rule: NONE.
    pub fallback_near_miss: u32,
    /// Paid by reference, and a second SETTLED line without reference: NONE.
    pub unreferenced_second_payment: u32,
    /// The provider's line is rejected (optionally re-sent corrected under a new ref).
    pub settlement_rejected: u32,
    // --- unit kinds: clusters of instructions ---
    /// The same household in the arrears cycle and the current one (no finding).
    pub arrears_pair: u32,
    /// The same beneficiary twice in one programme and cycle: DUPLICATE_BENEFICIARY.
    pub duplicate_beneficiary: u32,
    /// 4 to 6 beneficiaries on one account: SHARED_ACCOUNT.
    pub shared_account: u32,
    /// 3 beneficiaries on one account, plus a rejected or same-beneficiary fourth (no flag).
    pub shared_account_near_miss: u32,
    /// Two beneficiaries on one account, told apart by amount or date: FALLBACK_MATCH.
    pub family_account: u32,
    /// Two instructions one unreferenced settlement cannot choose between: AMBIGUOUS.
    pub ambiguous_instructions: u32,
    /// Two unreferenced settlements for one instruction: AMBIGUOUS.
    pub ambiguous_settlements: u32,
    /// An instruction row failing field validation (every reason of CONTRACT.md 2).
    pub instruction_rejected: u32,
    /// A rejected instruction re-sent later, corrected, under the same id (accepted).
    pub corrected_resent: u32,
    /// A settlement nobody instructed: NONE.
    pub unexpected_settlement: u32,
    // --- row rates ---
    /// An ordinary instruction's amount multiplied by ten: AMOUNT_OUTLIER.
    pub amount_outlier: u32,
    /// An accepted instruction row sent again later: duplicate_instruction_id.
    pub resent_instruction: u32,
    /// An accepted settlement line sent again later: duplicate_provider_ref.
    pub resent_settlement: u32,
    /// A provider ref reused for a different line: duplicate_provider_ref.
    pub reused_provider_ref: u32,
    /// A text value surrounded by spaces or tabs (valid after trimming).
    pub padding: u32,
    /// An amount with extra trailing zeros (`450000.000` UZS; valid).
    pub trailing_zeros: u32,
    /// An amount with leading zeros (`000450000.00`; valid).
    pub leading_zeros: u32,
    /// A FAILED line reporting amount `0` or `-0.00` (valid).
    pub zero_amount_failed: u32,
    /// A settlement narrative with commas, quotes, a line break or Cyrillic (extra column).
    pub narrative_text: u32,
    /// An accepted settlement that does not say which account it credited (CONTRACT v2:
    /// never a fallback candidate, never ACCOUNT_MISMATCH). Absent (0) in data sets made
    /// before version 2 of the contract.
    #[serde(default)]
    pub settlement_without_account: u32,
    /// A FAILED line with neither amount nor currency, as pain.002 rejections often are
    /// (CONTRACT v2: never a fallback candidate, never CURRENCY_MISMATCH, in no totals).
    #[serde(default)]
    pub failed_without_amount: u32,
}

impl Default for Rates {
    fn default() -> Self {
        Rates {
            unpaid: 20_000,
            failed: 10_000,
            failed_then_paid: 6_000,
            returned: 6_000,
            returned_only: 1_500,
            underpaid: 5_000,
            overpaid: 3_000,
            double_paid: 4_000,
            currency_mismatch: 1_500,
            account_mismatch: 4_000,
            late: 15_000,
            provider_mismatch: 3_000,
            fallback: 15_000,
            fallback_near_miss: 3_000,
            unreferenced_second_payment: 1_500,
            settlement_rejected: 6_000,
            arrears_pair: 15_000,
            duplicate_beneficiary: 3_000,
            shared_account: 800,
            shared_account_near_miss: 500,
            family_account: 2_000,
            ambiguous_instructions: 1_500,
            ambiguous_settlements: 1_500,
            instruction_rejected: 6_000,
            corrected_resent: 800,
            unexpected_settlement: 4_000,
            amount_outlier: 1_000,
            resent_instruction: 2_000,
            resent_settlement: 3_000,
            reused_provider_ref: 500,
            padding: 5_000,
            trailing_zeros: 20_000,
            leading_zeros: 1_000,
            zero_amount_failed: 100_000,
            narrative_text: 2_000,
            settlement_without_account: 5_000,
            failed_without_amount: 200_000,
        }
    }
}

impl Rates {
    /// The rates of a named profile: `default`, `clean` (no planted problems: every
    /// instruction paid on time by reference, no rejects, pristine text) or `messy`
    /// (four times the default rates of every problem).
    pub fn for_profile(profile: &str) -> Result<Rates, RefdataError> {
        match profile {
            "default" => Ok(Rates::default()),
            "clean" => Ok(Rates::clean()),
            "messy" => Ok(Rates::default().scaled(4)),
            other => Err(RefdataError::BadArgument(format!(
                "unknown profile {other:?}: use default, clean or messy"
            ))),
        }
    }

    /// The rates of `profile` with each `NAME=VALUE` of `settings` applied over them, in
    /// order (see [`Rates::set`]); a rate may be set once.
    pub fn with_settings(profile: &str, settings: &[String]) -> Result<Rates, RefdataError> {
        let mut rates = Rates::for_profile(profile)?;
        let mut seen: Vec<&str> = Vec::new();
        for s in settings {
            let name = rates.set(s)?;
            if seen.contains(&name) {
                return Err(RefdataError::BadArgument(format!(
                    "rate {name} is set twice: keep one --rate {name}=..."
                )));
            }
            seen.push(name);
        }
        rates.validate()?;
        Ok(rates)
    }

    /// Sets one rate from `NAME=VALUE` and returns the rate's name. VALUE is parts per
    /// million (`30000`) or a percentage with at most four decimals (`3%`, `0.15%`), so
    /// that every accepted value is a whole number of parts per million.
    pub fn set(&mut self, setting: &str) -> Result<&'static str, RefdataError> {
        let bad = |why: String| RefdataError::BadArgument(why);
        let Some((name, value)) = setting.split_once('=') else {
            return Err(bad(format!(
                "rate setting {setting:?} is not NAME=VALUE: write e.g. late=30000 or late=3%"
            )));
        };
        let (name, value) = (name.trim(), value.trim());
        let ppm = parse_ppm(value).ok_or_else(|| {
            bad(format!(
                "rate {name}: {value:?} is neither parts per million (30000) nor a \
                 percentage with at most four decimals (3%, 0.15%)"
            ))
        })?;
        let Some(slot) = self.fields_mut().into_iter().find(|(n, _)| *n == name) else {
            return Err(bad(format!(
                "unknown rate {name:?}: the rates are {}",
                Rates::names().join(", ")
            )));
        };
        if ppm > PER_MILLION {
            return Err(bad(format!(
                "rate {name} is {value}, more than one million per million (100%): lower it"
            )));
        }
        *slot.1 = ppm;
        Ok(slot.0)
    }

    /// Every rate's name, in the order of the struct.
    pub fn names() -> Vec<&'static str> {
        Rates::default().fields_mut().map(|(n, _)| n).to_vec()
    }

    /// Nothing planted but ordinary arrears (which are not findings).
    pub fn clean() -> Rates {
        let mut r = Rates::default().scaled(0);
        r.arrears_pair = Rates::default().arrears_pair;
        r
    }

    /// Every problem rate multiplied by `k` (ordinary arrears unchanged), capped at one
    /// million per row rate.
    pub fn scaled(&self, k: u32) -> Rates {
        let mut r = self.clone();
        for (_, v) in r.fields_mut() {
            *v = v.saturating_mul(k).min(PER_MILLION);
        }
        r.arrears_pair = self.arrears_pair;
        r
    }

    /// Checks that the unit rates leave room for ordinary units and every rate is a
    /// probability.
    pub fn validate(&self) -> Result<(), RefdataError> {
        let unit_sum: u64 = self.unit_rates().iter().map(|&(_, v)| u64::from(v)).sum();
        if unit_sum > u64::from(PER_MILLION) {
            return Err(RefdataError::BadArgument(format!(
                "the unit rates add up to {unit_sum} per million, more than one million: lower them"
            )));
        }
        let mut me = self.clone();
        for (name, v) in me.fields_mut() {
            if *v > PER_MILLION {
                return Err(RefdataError::BadArgument(format!(
                    "rate {name} is {v} per million, more than one million: lower it"
                )));
            }
        }
        Ok(())
    }

    /// Unit kinds and their rates, in planning order.
    pub(crate) fn unit_rates(&self) -> [(&'static str, u32); 26] {
        [
            ("unpaid", self.unpaid),
            ("failed", self.failed),
            ("failed_then_paid", self.failed_then_paid),
            ("returned", self.returned),
            ("returned_only", self.returned_only),
            ("underpaid", self.underpaid),
            ("overpaid", self.overpaid),
            ("double_paid", self.double_paid),
            ("currency_mismatch", self.currency_mismatch),
            ("account_mismatch", self.account_mismatch),
            ("late", self.late),
            ("provider_mismatch", self.provider_mismatch),
            ("fallback", self.fallback),
            ("fallback_near_miss", self.fallback_near_miss),
            (
                "unreferenced_second_payment",
                self.unreferenced_second_payment,
            ),
            ("settlement_rejected", self.settlement_rejected),
            ("arrears_pair", self.arrears_pair),
            ("duplicate_beneficiary", self.duplicate_beneficiary),
            ("shared_account", self.shared_account),
            ("shared_account_near_miss", self.shared_account_near_miss),
            ("family_account", self.family_account),
            ("ambiguous_instructions", self.ambiguous_instructions),
            ("ambiguous_settlements", self.ambiguous_settlements),
            ("instruction_rejected", self.instruction_rejected),
            ("corrected_resent", self.corrected_resent),
            ("unexpected_settlement", self.unexpected_settlement),
        ]
    }

    fn fields_mut(&mut self) -> [(&'static str, &mut u32); 37] {
        [
            ("unpaid", &mut self.unpaid),
            ("failed", &mut self.failed),
            ("failed_then_paid", &mut self.failed_then_paid),
            ("returned", &mut self.returned),
            ("returned_only", &mut self.returned_only),
            ("underpaid", &mut self.underpaid),
            ("overpaid", &mut self.overpaid),
            ("double_paid", &mut self.double_paid),
            ("currency_mismatch", &mut self.currency_mismatch),
            ("account_mismatch", &mut self.account_mismatch),
            ("late", &mut self.late),
            ("provider_mismatch", &mut self.provider_mismatch),
            ("fallback", &mut self.fallback),
            ("fallback_near_miss", &mut self.fallback_near_miss),
            (
                "unreferenced_second_payment",
                &mut self.unreferenced_second_payment,
            ),
            ("settlement_rejected", &mut self.settlement_rejected),
            ("arrears_pair", &mut self.arrears_pair),
            ("duplicate_beneficiary", &mut self.duplicate_beneficiary),
            ("shared_account", &mut self.shared_account),
            (
                "shared_account_near_miss",
                &mut self.shared_account_near_miss,
            ),
            ("family_account", &mut self.family_account),
            ("ambiguous_instructions", &mut self.ambiguous_instructions),
            ("ambiguous_settlements", &mut self.ambiguous_settlements),
            ("instruction_rejected", &mut self.instruction_rejected),
            ("corrected_resent", &mut self.corrected_resent),
            ("unexpected_settlement", &mut self.unexpected_settlement),
            ("amount_outlier", &mut self.amount_outlier),
            ("resent_instruction", &mut self.resent_instruction),
            ("resent_settlement", &mut self.resent_settlement),
            ("reused_provider_ref", &mut self.reused_provider_ref),
            ("padding", &mut self.padding),
            ("trailing_zeros", &mut self.trailing_zeros),
            ("leading_zeros", &mut self.leading_zeros),
            ("zero_amount_failed", &mut self.zero_amount_failed),
            ("narrative_text", &mut self.narrative_text),
            (
                "settlement_without_account",
                &mut self.settlement_without_account,
            ),
            ("failed_without_amount", &mut self.failed_without_amount),
        ]
    }
}

/// `30000` (parts per million) or `3%` / `0.15%` (at most four decimals): a whole number
/// of parts per million, or `None`. No float is involved.
fn parse_ppm(v: &str) -> Option<u32> {
    let digits = |s: &str| !s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit());
    let Some(pct) = v.strip_suffix('%') else {
        return if digits(v) { v.parse().ok() } else { None };
    };
    let (int, frac) = pct.split_once('.').unwrap_or((pct, ""));
    if !digits(int) || frac.len() > 4 || !(frac.is_empty() || digits(frac)) {
        return None;
    }
    let int: u64 = int.parse().ok()?;
    let frac_ppm: u64 = format!("{frac:0<4}").parse().ok()?;
    u32::try_from(int * 10_000 + frac_ppm).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_validate() {
        for p in ["default", "clean", "messy"] {
            Rates::for_profile(p).unwrap().validate().unwrap();
        }
        assert!(Rates::for_profile("noisy").is_err());
        let clean = Rates::clean();
        assert_eq!(clean.unpaid, 0);
        assert_eq!(clean.padding, 0);
        assert_eq!(clean.arrears_pair, Rates::default().arrears_pair);
    }

    #[test]
    fn rates_set_by_name_in_ppm_or_percent() {
        let r = Rates::with_settings(
            "clean",
            &[
                "late=30000".into(),
                "unpaid=2.5%".into(),
                " padding = 0.0001% ".into(),
            ],
        )
        .unwrap();
        assert_eq!((r.late, r.unpaid, r.padding), (30_000, 25_000, 1));
        assert_eq!(r.failed, 0);
        let full = Rates::with_settings("clean", &["zero_amount_failed=100%".into()]).unwrap();
        assert_eq!(full.zero_amount_failed, PER_MILLION);
        assert_eq!(Rates::names().len(), 37);
        for (setting, says) in [
            ("late", "not NAME=VALUE"),
            ("late=", "neither parts per million"),
            ("late=-1", "neither parts per million"),
            ("late=1e3", "neither parts per million"),
            ("late=0.5", "neither parts per million"),
            ("late=0.00001%", "neither parts per million"),
            ("late=1,5%", "neither parts per million"),
            ("late=%", "neither parts per million"),
            ("late=1000001", "more than one million"),
            ("late=100.01%", "more than one million"),
            (
                "lates=1",
                "unknown rate \"lates\": the rates are unpaid, failed,",
            ),
        ] {
            let e = Rates::with_settings("default", &[setting.into()]).unwrap_err();
            assert!(e.is_bad_input(), "{setting}");
            assert!(e.to_string().contains(says), "{setting}: {e}");
        }
        let twice = Rates::with_settings("default", &["late=1".into(), "late=2".into()]);
        assert!(twice.unwrap_err().to_string().contains("set twice"));
        // Unit kinds together may not exceed one unit in one.
        let over = Rates::with_settings("default", &["unpaid=99%".into()]).unwrap_err();
        assert!(over.to_string().contains("unit rates add up to"), "{over}");
    }
}
