//! SWIFT MT940 customer statements of the agency's account at a provider, read back by
//! CONTRACT 7.3.
//!
//! A statement per currency and [`crate::statement::STATEMENT_TXNS`] transactions:
//! `:20:`, `:25:` (the agency's account, how the provider is found), `:28C:`, `:60F:`,
//! one `:61:` + `:86:` per settlement, `:62F:` = `:60F:` + credits − debits. A payment is
//! `D`; a return is `RD`, or `C` with a return mark (German GVC 159 and `RETOURE`,
//! Dutch `/RTRN/`). The bank reference after `//` is the provider's reference (16
//! characters, see `render::push_provider_ref`); the customer reference is `NONREF`
//! (absent), so the instruction id comes from `:86:` only: German `?20EREF+` (split
//! over `?20`/`?21` past 27 characters, followed by `?2nSVWZ+` so it ends there) for
//! even providers, Dutch `/EREF/…/` for odd ones. The beneficiary's account is in `?31`
//! or `/CNTP/`, or for some IBANs only in the `:61:` supplementary details. A statement
//! with payments opens with the agency's funding credit (`C`, not a return: CONTRACT
//! 7.3 `not_a_payment`). MT940 has no fee.

use std::io::Write;
use std::path::PathBuf;

use crate::catalog::{AccountKind, CURRENCIES, PROVIDERS};
use crate::error::RefdataError;
use crate::layout::{agency_account, dutch};
use crate::plan::{SDefect, SRow, SStatus};
use crate::render::{render_settlement, RowText};
use crate::render_camt::period;
use crate::sink::{create, finish_file, DocWriter, Written};
use crate::statement::{Chunk, Entry};
use crate::text::{civil, push_amount, push_num, push_yymmdd, Day};

/// Longest `:86:` line.
const LINE: usize = 65;
/// Longest German `?nn` subfield value.
const SUBFIELD: usize = 27;

/// An MT940 file being written.
pub(crate) struct Mt940Doc {
    path: PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
    provider: u8,
    resent: bool,
    seq: u32,
    /// Booked balance per currency after the last statement, minor units.
    balance: Vec<(u8, i128)>,
    out: String,
    row: RowText,
}

impl Mt940Doc {
    pub(crate) fn new(path: PathBuf, provider: u8, resent: bool) -> Mt940Doc {
        Mt940Doc {
            path,
            file: None,
            provider,
            resent,
            seq: 0,
            balance: Vec::new(),
            out: String::with_capacity(1 << 20),
            row: RowText::new(),
        }
    }

    fn line(&mut self, s: &str) {
        self.out.push_str(s);
        self.out.push_str("\r\n");
    }
}

/// `C`/`D`, `YYMMDD`, currency, amount with a decimal comma.
fn push_balance(out: &mut String, v: i128, d: Day, currency: u8) {
    out.push(if v < 0 { 'D' } else { 'C' });
    push_yymmdd(out, d);
    let cur = &CURRENCIES[usize::from(currency)];
    out.push_str(cur.code);
    let mut a = String::new();
    push_amount(&mut a, v.abs(), cur.minor_units);
    push_mt_amount(out, &a);
}

/// An amount text written with a decimal comma (`450000.00` → `450000,00`, `25000` →
/// `25000,`).
fn push_mt_amount(out: &mut String, a: &str) {
    match a.split_once('.') {
        Some((i, f)) => {
            out.push_str(i);
            out.push(',');
            out.push_str(f);
        }
        None => {
            out.push_str(a);
            out.push(',');
        }
    }
}

/// `YYMMDD` of a `YYYY-MM-DD` text (impossible dates stay impossible: `2026-02-30` →
/// `260230`); `None` for any other text.
fn yymmdd(date: &str) -> Option<String> {
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    Some(format!("{}{}{}", &date[2..4], &date[5..7], &date[8..10]))
}

impl DocWriter for Mt940Doc {
    fn begin(&mut self) -> Result<(), RefdataError> {
        self.file = Some(create(&self.path)?);
        Ok(())
    }

    fn statement(&mut self, c: Chunk) -> Result<(), RefdataError> {
        self.seq += 1;
        let (from, to) = period(&c);
        let cur = c.currency;
        let k = match self.balance.iter().position(|(x, _)| *x == cur) {
            Some(k) => k,
            None => {
                self.balance.push((cur, 0));
                self.balance.len() - 1
            }
        };
        let opening = self.balance[k].1;
        let prov = &PROVIDERS[usize::from(self.provider)];
        let r = if self.resent { "R" } else { "" };
        self.line(&format!(":20:{}940{r}{:05}", prov.ref_prefix, self.seq));
        self.line(&format!(":25:{}", agency_account(self.provider, cur)));
        self.line(&format!(":28C:{}/1", self.seq));
        let mut l = String::from(":60F:");
        push_balance(&mut l, opening, from, cur);
        self.line(&l);
        let paid: i128 = c
            .bookings()
            .filter(|r| r.status == SStatus::Settled)
            .map(|r| i128::from(r.amount))
            .sum();
        let returned: i128 = c
            .bookings()
            .filter(|r| r.status == SStatus::Returned)
            .map(|r| i128::from(r.amount))
            .sum();
        for e in &c.entries {
            match e {
                Entry::Funding => self.funding(paid, from, cur),
                Entry::Booking(rows) => {
                    for r in rows {
                        self.transaction(r);
                    }
                }
                Entry::Charges => {
                    return Err(RefdataError::internal(
                        "MT940 statements have no charges entry",
                    ))
                }
            }
        }
        // Credits (funding, returns) minus debits (payments).
        let funding = if c.entries.iter().any(|e| matches!(e, Entry::Funding)) {
            paid
        } else {
            0
        };
        let closing = opening + funding + returned - paid;
        self.balance[k].1 = closing;
        let mut l = String::from(":62F:");
        push_balance(&mut l, closing, to, cur);
        self.line(&l);
        let path = &self.path;
        let f = self
            .file
            .as_mut()
            .ok_or_else(|| RefdataError::internal("MT940 written before the file was created"))?;
        f.write_all(self.out.as_bytes())
            .map_err(|e| RefdataError::io(path, e))?;
        self.out.clear();
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<Written, RefdataError> {
        let me = *self;
        let f = me
            .file
            .ok_or_else(|| RefdataError::internal("MT940 file never created"))?;
        finish_file(me.path, f)
    }
}

impl Mt940Doc {
    /// The agency's credit that covers the statement's payments: not a settlement.
    fn funding(&mut self, paid: i128, on: Day, cur: u8) {
        let mut l = String::from(":61:");
        push_yymmdd(&mut l, on);
        let (_, m, d) = civil(on);
        push_num(&mut l, m.into(), 2);
        push_num(&mut l, d.into(), 2);
        l.push('C');
        let mut a = String::new();
        push_amount(&mut a, paid, CURRENCIES[usize::from(cur)].minor_units);
        push_mt_amount(&mut l, &a);
        l.push_str(&format!("NTRFNONREF//FUND940{:05}", self.seq));
        self.line(&l);
        let text = if dutch(self.provider) {
            "/TRCD/00100//REMI/USTD//Funding of benefit payments/".to_string()
        } else {
            "166?00GUTSCHRIFT?20SVWZ+Funding of benefit?21payments".to_string()
        };
        self.field86(&text);
    }

    /// One settlement: `:61:` and `:86:`.
    fn transaction(&mut self, r: &SRow) {
        render_settlement(r, &mut self.row, false);
        let get = |row: &RowText, i: usize| row.get(i).unwrap_or("").to_string();
        let (reference, e2e, account) = (get(&self.row, 1), self.row.get(2), get(&self.row, 3));
        let e2e = e2e.map(str::to_string);
        let (amount, date, narrative) = (get(&self.row, 4), get(&self.row, 8), get(&self.row, 9));
        let ret = r.status == SStatus::Returned;
        // Returns: `RD` for even references, `C` with a return mark for odd ones.
        let credit_return = ret && r.ref_no % 2 == 1;
        // Some IBANs only in the supplementary details, where the reading takes a valid
        // IBAN: only countries of the IBAN registry (UZ and UG have none, so their
        // IBAN-like accounts stay in `?31` / `/CNTP/`).
        let registry = matches!(iban_country(r.provider), Some("JO" | "KZ"));
        let in_details = registry && !account.is_empty() && r.ref_no % 4 == 0;
        let mut l = String::from(":61:");
        let date6 = yymmdd(&date).unwrap_or_default();
        l.push_str(&date6);
        if r.defect == SDefect::None {
            // The optional entry date (MMDD), on valid dates only.
            l.push_str(date6.get(2..).unwrap_or(""));
        }
        l.push_str(match (ret, credit_return) {
            (false, _) => "D",
            (true, false) => "RD",
            (true, true) => "C",
        });
        push_mt_amount(&mut l, &amount);
        l.push_str("NTRFNONREF//");
        l.push_str(&reference);
        self.line(&l);
        if in_details {
            self.line(&account);
        }
        let counterparty = if in_details { "" } else { account.as_str() };
        let narrative = narrative.replace(['\n', '\r'], " ");
        let text = if dutch(r.provider) {
            dutch_86(e2e.as_deref(), counterparty, &narrative, credit_return)
        } else {
            german_86(e2e.as_deref(), counterparty, &narrative, ret, credit_return)
        };
        self.field86(&text);
    }

    /// `:86:` cut into lines of at most 65 characters. No line after the first starts
    /// with `:` or `-`, which a reader could take for a tag or the end of a message.
    fn field86(&mut self, text: &str) {
        let chars: Vec<char> = text.chars().collect();
        let mut start = 0;
        let mut first = true;
        while start < chars.len() {
            let mut end = (start + LINE - 4).min(chars.len());
            while end < chars.len() && end > start + 1 && matches!(chars[end], ':' | '-') {
                end -= 1;
            }
            let part: String = chars[start..end].iter().collect();
            if first {
                self.line(&format!(":86:{part}"));
                first = false;
            } else {
                self.line(&part);
            }
            start = end;
        }
    }
}

/// The country of a provider's IBAN accounts.
fn iban_country(provider: u8) -> Option<&'static str> {
    match PROVIDERS[usize::from(provider)].account {
        AccountKind::Iban { country, .. } => Some(country),
        _ => None,
    }
}

/// Dutch (ING-style) `:86:`: `/EREF/…//CNTP/account////…//REMI/USTD//…/`.
fn dutch_86(e2e: Option<&str>, account: &str, narrative: &str, credit_return: bool) -> String {
    let mut s = String::new();
    if credit_return {
        s.push_str("/RTRN/AC04/");
    }
    match e2e {
        None => s.push_str("/EREF/NOTPROVIDED/"),
        Some("") => {}
        Some(v) => {
            s.push_str("/EREF/");
            s.push_str(v);
            s.push('/');
        }
    }
    if !account.is_empty() {
        s.push_str("/CNTP/");
        s.push_str(account);
        s.push_str("////");
    }
    s.push_str("/REMI/USTD//");
    s.push_str(if narrative.is_empty() {
        "Social benefit payment"
    } else {
        narrative
    });
    s.push('/');
    s
}

/// German `:86:`: GVC, `?00` posting text, `?20`… end-to-end reference and purpose,
/// `?31` the counterparty account.
fn german_86(
    e2e: Option<&str>,
    account: &str,
    narrative: &str,
    ret: bool,
    credit_return: bool,
) -> String {
    let mut s = String::new();
    s.push_str(match (ret, credit_return) {
        (_, true) => "159?00RETOURE",
        (true, false) => "116?00STORNO UEBERWEISUNG",
        (false, false) => "116?00SEPA-UEBERWEISUNG",
    });
    let mut sub = 20;
    let mut field = |s: &mut String, text: &str| {
        let chars: Vec<char> = text.chars().collect();
        for part in chars.chunks(SUBFIELD) {
            if sub > 29 {
                return;
            }
            s.push_str(&format!("?{sub}"));
            s.extend(part);
            sub += 1;
        }
    };
    match e2e {
        None => field(&mut s, "EREF+NOTPROVIDED"),
        Some("") => {}
        Some(v) => field(&mut s, &format!("EREF+{v}")),
    }
    let purpose = if narrative.is_empty() {
        "Social benefit payment"
    } else {
        narrative
    };
    field(&mut s, &format!("SVWZ+{purpose}"));
    if !account.is_empty() {
        s.push_str("?31");
        s.push_str(account);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_dates_and_details() {
        let mut s = String::new();
        push_mt_amount(&mut s, "450000.00");
        push_mt_amount(&mut s, " ");
        push_mt_amount(&mut s, "25000");
        assert_eq!(s, "450000,00 ,25000,");
        assert_eq!(yymmdd("2026-02-30").as_deref(), Some("260230"));
        assert_eq!(yymmdd("05/11/2026"), None);
        let mut b = String::new();
        push_balance(&mut b, -1_50, crate::text::day(2026, 11, 5), 0);
        assert_eq!(b, "D261105UZS1,50");
        // The end-to-end id continues into ?21 and stops at SVWZ+.
        let g = german_86(
            Some("UZ-CB-2026-11-000000123"),
            "+998901234567",
            "",
            false,
            false,
        );
        assert_eq!(
            g,
            "116?00SEPA-UEBERWEISUNG?20EREF+UZ-CB-2026-11-00000012?213\
             ?22SVWZ+Social benefit payment?31+998901234567"
        );
        let d = dutch_86(None, "", "Bolalar", true);
        assert_eq!(d, "/RTRN/AC04//EREF/NOTPROVIDED//REMI/USTD//Bolalar/");
    }
}
