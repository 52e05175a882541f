//! Why a row is not paid: every row gets the first hold reason that applies, or none
//! (it is issued).

use std::collections::BTreeMap;

use arrow_array::{Array, StringArray};
use rayon::prelude::*;
use sverka_engine::currency;
use sverka_engine::money;
use sverka_engine::side::InputFile;
use sverka_engine::Result;

use crate::accounts::{self, AccountKind};
use crate::ledger::{Issued, Ledger};
use crate::profiles::{self, Format, Profiles, Provider};
use crate::view::View;

/// Why a row is held (not paid), in the order the checks run: the first that applies is
/// the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Hold {
    /// A retry whose original id is not one sverka derived (no attempt to continue).
    UnknownOriginal,
    /// The instruction id is already in the ledger.
    AlreadyIssued,
    /// A later payroll row for the same (beneficiary, programme, cycle).
    DuplicateInPayroll,
    /// The provider has no profile.
    UnknownProvider,
    /// The account fails the provider's account check.
    AccountCheck,
    /// The amount is over the programme's cap.
    OverCap,
}

impl Hold {
    pub const ALL: [Hold; 6] = [
        Hold::UnknownOriginal,
        Hold::AlreadyIssued,
        Hold::DuplicateInPayroll,
        Hold::UnknownProvider,
        Hold::AccountCheck,
        Hold::OverCap,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Hold::UnknownOriginal => "unknown_original",
            Hold::AlreadyIssued => "already_issued",
            Hold::DuplicateInPayroll => "duplicate_in_payroll",
            Hold::UnknownProvider => "unknown_provider",
            Hold::AccountCheck => "account_check",
            Hold::OverCap => "over_cap",
        }
    }
}

/// Per row: its hold and the detail the operator reads, or `None` (issued).
pub(crate) type Holds = Vec<Option<(Hold, String)>>;

/// The provider profiles of a run: the file's, or a default one per usable code seen.
pub(crate) struct Providers<'a> {
    pub profiles: &'a Profiles,
    defaults: BTreeMap<String, Provider>,
}

impl<'a> Providers<'a> {
    pub fn new(profiles: &'a Profiles, view: &View) -> Providers<'a> {
        let mut defaults: BTreeMap<String, Provider> = BTreeMap::new();
        if profiles.source.is_none() {
            for i in 0..view.len() {
                let p = view.provider(i);
                if profiles::usable_code(p) && !defaults.contains_key(p) {
                    defaults.insert(p.to_string(), Profiles::default_for(p));
                }
            }
        }
        Providers { profiles, defaults }
    }

    pub fn get(&self, code: &str) -> Option<&Provider> {
        self.profiles
            .providers
            .get(code)
            .or_else(|| self.defaults.get(code))
    }
}

/// Every row's hold, the checks in [`Hold`]'s order.
pub(crate) fn decide(
    view: &View,
    ids: &StringArray,
    ledger: &Ledger,
    providers: &Providers,
    pay_files: &[InputFile],
) -> Result<Holds> {
    let mut holds: Holds = vec![None; view.len()];
    for (k, d) in view.retry_hold.iter().enumerate() {
        if let Some(d) = d {
            holds[view.n_pay + k] = Some((Hold::UnknownOriginal, d.clone()));
        }
    }
    already_issued(view, ids, ledger, &mut holds)?;
    duplicates(view, pay_files, &mut holds);
    let checks: Vec<Option<(Hold, String)>> = (0..view.len())
        .into_par_iter()
        .map(|i| profile_check(view, providers, i))
        .collect();
    for (h, c) in holds.iter_mut().zip(checks) {
        if h.is_none() {
            *h = c;
        }
    }
    Ok(holds)
}

/// Rows whose id the ledger has issued already.
fn already_issued(
    view: &View,
    ids: &StringArray,
    ledger: &Ledger,
    holds: &mut Holds,
) -> Result<()> {
    let cycles = ledger.cycles()?;
    if cycles.is_empty() {
        return Ok(());
    }
    let table = currency::table();
    // Only rows of a (programme, cycle) the ledger has issued in can be issued already.
    let known: hashbrown::HashSet<(&str, &str)> = cycles
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let candidates: Vec<usize> = (0..view.len())
        .filter(|&i| !ids.is_null(i) && known.contains(&(view.program(i), view.cycle(i))))
        .collect();
    let cand_ids: Vec<&str> = candidates.iter().map(|&i| ids.value(i)).collect();
    let looked = ledger.lookup(&cand_ids)?;
    let mut amount = String::new();
    for (&i, t) in candidates.iter().zip(looked) {
        if let (Some(t), None) = (t, &holds[i]) {
            amount.clear();
            money::format_minor(view.amount(i), table.minor_units(view.ccy(i)), &mut amount);
            let d = describe_issued(&t, &amount, table.code(view.ccy(i)));
            holds[i] = Some((Hold::AlreadyIssued, d));
        }
    }
    Ok(())
}

fn describe_issued(t: &Issued, amount: &str, currency: &str) -> String {
    let table = currency::table();
    let was = match table.lookup(&t.currency) {
        Some(c) => money::minor_string(t.amount_minor as i128, table.minor_units(c)),
        None => t.amount_minor.to_string(),
    };
    let mut d = format!("issued in run {} for {was} {}", t.run_id, t.currency);
    if was != amount || t.currency != currency {
        d.push_str(&format!("; this row now says {amount} {currency}"));
    }
    d
}

/// Payroll rows of a (beneficiary, programme, cycle) seen before: the first stays.
fn duplicates(view: &View, pay_files: &[InputFile], holds: &mut Holds) {
    let mut first: hashbrown::HashMap<(&str, &str, &str), u32> =
        hashbrown::HashMap::with_capacity(view.n_pay);
    for (i, hold) in holds.iter_mut().enumerate().take(view.n_pay) {
        let key = (view.ben(i), view.program(i), view.cycle(i));
        match first.entry(key) {
            hashbrown::hash_map::Entry::Occupied(e) => {
                if hold.is_none() {
                    let (file, row) = view.pay.origin(*e.get() as usize);
                    *hold = Some((
                        Hold::DuplicateInPayroll,
                        format!(
                            "same beneficiary, programme and cycle as {} row {row}",
                            pay_files[file as usize].path.display()
                        ),
                    ));
                }
            }
            hashbrown::hash_map::Entry::Vacant(e) => {
                e.insert(i as u32);
            }
        }
    }
}

/// The provider's checks of row `i`: a profile, the account, the programme's cap.
fn profile_check(view: &View, providers: &Providers, i: usize) -> Option<(Hold, String)> {
    let table = currency::table();
    let code = view.provider(i);
    let Some(p) = providers.get(code) else {
        let why = if let Some(src) = &providers.profiles.source {
            format!("provider {code:?} has no profile in {}", src.display())
        } else {
            format!("provider code {code:?} cannot name a payment file (1 to 32 letters, digits, '_' or '-')")
        };
        return Some((Hold::UnknownProvider, why));
    };
    let account = view.account(i);
    if let Err(e) = accounts::check(p.account_kind, p.country.as_deref(), account) {
        return Some((Hold::AccountCheck, e));
    }
    if p.format == Format::Pain001 && p.account_kind != AccountKind::Iban {
        let bad_char = account
            .chars()
            .any(|c| (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}');
        if account.chars().count() > 34 || bad_char {
            return Some((
                Hold::AccountCheck,
                "account does not fit pain.001 (at most 34 characters, no control characters)"
                    .to_string(),
            ));
        }
    }
    let cap = providers
        .profiles
        .caps
        .get(view.program(i))
        .and_then(|c| c.get(&view.ccy(i)))?;
    if view.amount(i) > *cap {
        let m = table.minor_units(view.ccy(i));
        return Some((
            Hold::OverCap,
            format!(
                "{} {} is over programme {}'s cap of {}",
                money::minor_string(view.amount(i), m),
                table.code(view.ccy(i)),
                view.program(i),
                money::minor_string(*cap, m)
            ),
        ));
    }
    None
}
