//! What a run issues and how: the payment files (per provider and currency, split at the
//! batch size), the run id, and the counts and totals with their conservation checks.

use std::collections::BTreeMap;

use arrow_array::StringArray;
use sha2::{Digest, Sha256};
use sverka_engine::currency::{self, Ccy};
use sverka_engine::{date, Error, Result};

use crate::holds::{Hold, Holds, Providers};
use crate::profiles::Format;
use crate::view::{Input, RetrySort, View};

/// A payment file to write.
pub(crate) struct PayFile {
    pub name: String,
    pub provider: String,
    pub currency: Ccy,
    pub format: Format,
    /// Row positions (into the View), input order.
    pub rows: Vec<u32>,
}

/// The rows issued, their payment files and the run's id.
pub(crate) struct Plan {
    /// Rows without a hold, in view order.
    pub issued: Vec<u32>,
    pub files: Vec<PayFile>,
    /// Per row: its payment file's index (`u32::MAX` for held rows).
    pub file_of: Vec<u32>,
    pub run_id: String,
}

impl Plan {
    pub fn new(
        view: &View,
        ids: &StringArray,
        holds: &Holds,
        providers: &Providers,
        max_batch_rows: Option<usize>,
    ) -> Plan {
        let issued: Vec<u32> = (0..view.len() as u32)
            .filter(|&i| holds[i as usize].is_none())
            .collect();
        let files = pay_files(view, &issued, providers, max_batch_rows);
        let mut file_of = vec![u32::MAX; view.len()];
        for (f, pf) in files.iter().enumerate() {
            for &i in &pf.rows {
                file_of[i as usize] = f as u32;
            }
        }
        // The run id: a digest of everything issued (ids are unique for ever, so is it).
        let run_id = {
            let mut h = Sha256::new();
            h.update(date::date_string(view.execution_date).as_bytes());
            for &i in &issued {
                h.update(ids.value(i as usize).as_bytes());
                h.update([0u8]);
            }
            format!("R{}", &hex::encode(h.finalize())[..16].to_uppercase())
        };
        Plan {
            issued,
            files,
            file_of,
            run_id,
        }
    }
}

/// Payment files: per (provider, currency), input order, split at the batch size.
fn pay_files(
    view: &View,
    issued: &[u32],
    providers: &Providers,
    max_batch_rows: Option<usize>,
) -> Vec<PayFile> {
    let table = currency::table();
    let mut groups: BTreeMap<(String, &str), Vec<u32>> = BTreeMap::new();
    for &i in issued {
        groups
            .entry((
                view.provider(i as usize).to_string(),
                table.code(view.ccy(i as usize)),
            ))
            .or_default()
            .push(i);
    }
    let mut out: Vec<PayFile> = Vec::new();
    for ((prov, code), rows) in groups {
        let p = providers.get(&prov).expect("issued rows have a profile");
        let size = match (p.batch_size, max_batch_rows) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => usize::MAX,
        };
        let parts = rows.len().div_ceil(size);
        let width = parts.to_string().len().max(3);
        for (k, chunk) in rows.chunks(size).enumerate() {
            out.push(PayFile {
                name: format!("{prov}-{code}-{:0width$}.{}", k + 1, p.format.extension()),
                provider: prov.clone(),
                currency: table.lookup(code).expect("known"),
                format: p.format,
                rows: chunk.to_vec(),
            });
        }
    }
    out
}

/// Issued, held and recovery count and amount of one currency.
#[derive(Default)]
pub(crate) struct Tot {
    pub issued_count: u64,
    pub issued_amount: i128,
    pub held_count: u64,
    pub held_amount: i128,
    pub recovery_count: u64,
    pub recovery_amount: i128,
}

/// The run's counts for summary.json.
pub(crate) struct Counts {
    pub by_hold: BTreeMap<Hold, u64>,
    pub held_pay: u64,
    pub held_retry: u64,
    pub issued_pay: u64,
    pub issued_retry: u64,
    pub payroll_in: u64,
    pub retry_total: u64,
    pub totals: BTreeMap<&'static str, Tot>,
}

impl Counts {
    /// Counts and totals, checked: every payroll row is issued, held or rejected; every
    /// reconciled row is retried, held, listed for recovery or needs no action.
    pub fn new(
        view: &View,
        holds: &Holds,
        input: &Input,
        sort: &RetrySort,
        plan: &Plan,
    ) -> Result<Counts> {
        let table = currency::table();
        let mut c = Counts {
            by_hold: BTreeMap::new(),
            held_pay: 0,
            held_retry: 0,
            issued_pay: 0,
            issued_retry: 0,
            payroll_in: input.stats.iter().map(|s| s.rows).sum(),
            retry_total: input.retry.as_ref().map_or(0, |r| r.rows.len() as u64),
            totals: BTreeMap::new(),
        };
        for (i, h) in holds.iter().enumerate() {
            let t = c.totals.entry(table.code(view.ccy(i))).or_default();
            match h {
                Some((r, _)) => {
                    *c.by_hold.entry(*r).or_default() += 1;
                    if i < view.n_pay {
                        c.held_pay += 1;
                    } else {
                        c.held_retry += 1;
                    }
                    t.held_count += 1;
                    t.held_amount += view.amount(i);
                }
                None => {
                    t.issued_count += 1;
                    t.issued_amount += view.amount(i);
                }
            }
        }
        for r in &sort.recovery {
            let t = c.totals.entry(table.code(r.currency)).or_default();
            t.recovery_count += 1;
            t.recovery_amount += r.difference;
        }
        c.issued_pay = plan
            .issued
            .iter()
            .filter(|&&i| (i as usize) < view.n_pay)
            .count() as u64;
        c.issued_retry = plan.issued.len() as u64 - c.issued_pay;
        let rejected = input.rejects.len() as u64;
        if c.payroll_in != c.issued_pay + c.held_pay + rejected {
            return Err(Error::Internal(format!(
                "payroll conservation: {} rows in, {} issued + {} held + {rejected} rejected",
                c.payroll_in, c.issued_pay, c.held_pay
            )));
        }
        let no_action: u64 = sort.no_action.values().sum();
        if c.retry_total != c.issued_retry + c.held_retry + sort.recovery.len() as u64 + no_action {
            return Err(Error::Internal("retry conservation failed".into()));
        }
        Ok(c)
    }

    pub fn already_issued(&self) -> u64 {
        self.by_hold.get(&Hold::AlreadyIssued).copied().unwrap_or(0)
    }
}
