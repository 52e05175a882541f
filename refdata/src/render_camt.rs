//! camt.053.001.08 bank-to-customer statements and camt.054.001.08 debit/credit
//! notifications of the agency's account at a provider, read back by CONTRACT 7.3.
//!
//! Each settlement is a `TxDtls` with `Refs/AcctSvcrRef` (the provider's reference),
//! `Refs/EndToEndId` (the echoed instruction id; `NOTPROVIDED` when the provider sent
//! none), `Amt` with `Ccy`, `Chrgs/TtlChrgsAndTaxAmt` (the fee), `RltdPties/CdtrAcct`
//! (the beneficiary's account; the agency's own `DbtrAcct` beside it, which the reading
//! skips) and `RmtInf/Ustrd` (the narrative). A payment is a `DBIT` entry; a return a
//! `CRDT` entry marked by `RtrInf`, by `SubFmlyCd` `RRTN`, or both. The entry's `Amt` is
//! always the valid booked amount in the account's currency, so the statement's declared
//! totals and balances (`TxsSummry`, `OPBD` + credits − debits = `CLBD`) hold even when
//! a transaction's own amount text is a planted defect. A payment booked in another
//! currency keeps the booked amount in `TxDtls/Amt` and says the paid one in
//! `AmtDtls/TxAmt/Amt`, which the reading prefers.

use std::path::PathBuf;

use crate::catalog::{CURRENCIES, PROVIDERS};
use crate::error::RefdataError;
use crate::layout::{agency_account, iban_accounts, FileKind};
use crate::plan::{SDefect, SRow, SStatus, NOV_1};
use crate::render::{render_settlement, RowText};
use crate::sink::{DocWriter, Written};
use crate::statement::{Chunk, Entry};
use crate::text::{day, push_amount, push_date, Day};
use crate::xml::{XmlOut, AGENCY, CREATED};

/// A camt.053 or camt.054 file being written.
pub(crate) struct CamtDoc {
    x: XmlOut,
    provider: u8,
    /// camt.054: notifications (`Ntfctn`), no balances.
    notification: bool,
    resent: bool,
    seq: u32,
    /// The account's booked balance after the last statement, minor units.
    balance: i128,
    row: RowText,
    text: String,
}

/// One entry's booked amount and direction.
struct Booked {
    amount: i128,
    credit: bool,
}

impl CamtDoc {
    pub(crate) fn new(path: PathBuf, provider: u8, kind: FileKind, resent: bool) -> CamtDoc {
        CamtDoc {
            x: XmlOut::new(path),
            provider,
            notification: kind == FileKind::Camt054,
            resent,
            seq: 0,
            balance: 0,
            row: RowText::new(),
            text: String::new(),
        }
    }

    fn tag(&self) -> &'static str {
        match (self.notification, self.resent) {
            (false, false) => "053",
            (false, true) => "053R",
            (true, false) => "054",
            (true, true) => "054R",
        }
    }

    fn amount_text(&mut self, v: i128, currency: u8) -> &str {
        self.text.clear();
        push_amount(
            &mut self.text,
            v,
            CURRENCIES[usize::from(currency)].minor_units,
        );
        &self.text
    }
}

/// The booked amount of a settlement in the statement's currency.
fn booked(r: &SRow, currency: u8) -> i128 {
    if r.currency == currency {
        return i128::from(r.amount);
    }
    // A payment mis-booked in the currency `r.currency` = CURRENCIES[currency].mismatch:
    // one major unit of the account's currency is worth rate.0 / rate.1 of it.
    let to = &CURRENCIES[usize::from(currency)];
    let from = &CURRENCIES[usize::from(r.currency)];
    let v = i128::from(r.amount) * to.rate.1 * 10i128.pow(to.minor_units)
        / (to.rate.0 * 10i128.pow(from.minor_units));
    v.max(1)
}

/// A value date the statement's period and balance dates can use.
fn valid_day(r: &SRow) -> Option<Day> {
    match r.defect {
        SDefect::DateImpossible | SDefect::DateFormat | SDefect::MissingValueDate => None,
        _ => Some(r.value),
    }
}

/// The statement's first and last value dates (the month when it has none).
pub(crate) fn period(c: &Chunk) -> (Day, Day) {
    let from = c.bookings().filter_map(valid_day).min().unwrap_or(NOV_1);
    let to = c
        .bookings()
        .filter_map(valid_day)
        .max()
        .unwrap_or(day(2026, 11, 30));
    (from, to)
}

/// Each entry's booked amount and direction, in document order.
fn bookings(c: &Chunk) -> Vec<Booked> {
    let paid: i128 = c
        .entries
        .iter()
        .filter_map(|e| match e {
            Entry::Booking(rows) if rows.iter().all(|r| r.status == SStatus::Settled) => {
                Some(rows.iter().map(|r| booked(r, c.currency)).sum::<i128>())
            }
            _ => None,
        })
        .sum();
    let fees = c.fees();
    c.entries
        .iter()
        .map(|e| match e {
            Entry::Funding => Booked {
                amount: paid + fees,
                credit: true,
            },
            Entry::Charges => Booked {
                amount: fees,
                credit: false,
            },
            Entry::Booking(rows) => Booked {
                amount: rows.iter().map(|r| booked(r, c.currency)).sum(),
                credit: rows.iter().any(|r| r.status != SStatus::Settled),
            },
        })
        .collect()
}

impl DocWriter for CamtDoc {
    fn begin(&mut self) -> Result<(), RefdataError> {
        let (ns, root) = if self.notification {
            (
                "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08",
                "BkToCstmrDbtCdtNtfctn",
            )
        } else {
            (
                "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08",
                "BkToCstmrStmt",
            )
        };
        self.x.begin(ns)?;
        self.x.start(root)?;
        self.x.nl();
        self.x.start("GrpHdr")?;
        let msg_id = format!(
            "{}-{}-202611",
            PROVIDERS[usize::from(self.provider)].name,
            self.tag()
        );
        self.x.leaf("MsgId", &msg_id)?;
        self.x.leaf("CreDtTm", CREATED)?;
        self.x.end("GrpHdr")?;
        self.x.nl();
        self.x.flush()
    }

    fn statement(&mut self, c: Chunk) -> Result<(), RefdataError> {
        self.seq += 1;
        let booked = bookings(&c);
        let (from, to) = period(&c);
        let element = if self.notification { "Ntfctn" } else { "Stmt" };
        self.x.start(element)?;
        self.header(&c, from, to)?;
        if !self.notification {
            self.balances(&c, &booked, from, to)?;
        }
        self.summary(&c, &booked)?;
        self.x.nl();
        for (k, (e, b)) in c.entries.iter().zip(&booked).enumerate() {
            match e {
                Entry::Funding => self.bank_entry(&c, b, "FUND", from, ["PMNT", "RCDT", "ESCT"])?,
                Entry::Charges => self.bank_entry(&c, b, "CHRG", to, ["ACMT", "MDOP", "CHRG"])?,
                Entry::Booking(rows) => self.booking(&c, b, rows, k)?,
            }
            self.x.nl();
        }
        self.x.end(element)?;
        self.x.nl();
        self.x.flush()
    }

    fn finish(self: Box<Self>) -> Result<Written, RefdataError> {
        let mut me = *self;
        me.x.end(if me.notification {
            "BkToCstmrDbtCdtNtfctn"
        } else {
            "BkToCstmrStmt"
        })?;
        me.x.nl();
        me.x.finish()
    }
}

impl CamtDoc {
    /// Statement id, sequence, dates and the account.
    fn header(&mut self, c: &Chunk, from: Day, to: Day) -> Result<(), RefdataError> {
        let prov = &PROVIDERS[usize::from(self.provider)];
        let id = format!("{}-{}-{:05}", prov.ref_prefix, self.tag(), self.seq);
        self.x.leaf("Id", &id)?;
        self.x.leaf("ElctrncSeqNb", &self.seq.to_string())?;
        self.x.leaf("CreDtTm", CREATED)?;
        self.x.start("FrToDt")?;
        let mut d = String::new();
        push_date(&mut d, from);
        self.x.leaf("FrDtTm", &format!("{d}T00:00:00"))?;
        d.clear();
        push_date(&mut d, to);
        self.x.leaf("ToDtTm", &format!("{d}T23:59:59"))?;
        self.x.end("FrToDt")?;
        let acct = agency_account(self.provider, c.currency);
        self.x.start("Acct")?;
        self.x.start("Id")?;
        if iban_accounts(self.provider) {
            self.x.leaf("IBAN", &acct)?;
        } else {
            self.x.start("Othr")?;
            self.x.leaf("Id", &acct)?;
            self.x.end("Othr")?;
        }
        self.x.end("Id")?;
        self.x
            .leaf("Ccy", CURRENCIES[usize::from(c.currency)].code)?;
        self.x.start("Ownr")?;
        self.x.leaf("Nm", AGENCY)?;
        self.x.end("Ownr")?;
        self.x.end("Acct")
    }

    /// Opening and closing booked balances: closing = opening + credits − debits.
    fn balances(
        &mut self,
        c: &Chunk,
        booked: &[Booked],
        from: Day,
        to: Day,
    ) -> Result<(), RefdataError> {
        let opening = self.balance;
        let net: i128 = booked
            .iter()
            .map(|b| if b.credit { b.amount } else { -b.amount })
            .sum();
        self.balance = opening + net;
        for (code, v, d) in [("OPBD", opening, from), ("CLBD", self.balance, to)] {
            self.x.start("Bal")?;
            self.x.start("Tp")?;
            self.x.start("CdOrPrtry")?;
            self.x.leaf("Cd", code)?;
            self.x.end("CdOrPrtry")?;
            self.x.end("Tp")?;
            let ccy = CURRENCIES[usize::from(c.currency)].code;
            let text = self.amount_text(v.abs(), c.currency).to_string();
            self.x.amount("Amt", ccy, &text)?;
            self.x
                .leaf("CdtDbtInd", if v < 0 { "DBIT" } else { "CRDT" })?;
            let mut date = String::new();
            push_date(&mut date, d);
            self.x.date("Dt", &date)?;
            self.x.end("Bal")?;
        }
        Ok(())
    }

    /// `TxsSummry`: number and sum of all, credit and debit entries, and the net.
    fn summary(&mut self, c: &Chunk, booked: &[Booked]) -> Result<(), RefdataError> {
        let sum = |credit: Option<bool>| -> (usize, i128) {
            let all = booked
                .iter()
                .filter(|b| credit.is_none_or(|k| b.credit == k));
            (all.clone().count(), all.map(|b| b.amount).sum())
        };
        let (n, total) = sum(None);
        let (nc, credits) = sum(Some(true));
        let (nd, debits) = sum(Some(false));
        self.x.start("TxsSummry")?;
        self.x.start("TtlNtries")?;
        self.x.leaf("NbOfNtries", &n.to_string())?;
        let t = self.amount_text(total, c.currency).to_string();
        self.x.leaf("Sum", &t)?;
        self.x.start("TtlNetNtry")?;
        let net = credits - debits;
        let t = self.amount_text(net.abs(), c.currency).to_string();
        self.x.leaf("Amt", &t)?;
        self.x
            .leaf("CdtDbtInd", if net < 0 { "DBIT" } else { "CRDT" })?;
        self.x.end("TtlNetNtry")?;
        self.x.end("TtlNtries")?;
        for (name, count, v) in [("TtlCdtNtries", nc, credits), ("TtlDbtNtries", nd, debits)] {
            self.x.start(name)?;
            self.x.leaf("NbOfNtries", &count.to_string())?;
            let t = self.amount_text(v, c.currency).to_string();
            self.x.leaf("Sum", &t)?;
            self.x.end(name)?;
        }
        self.x.end("TxsSummry")
    }

    /// An entry of the bank's own (funding credit, charges): no transaction details, a
    /// reference of its own that no settlement has.
    fn bank_entry(
        &mut self,
        c: &Chunk,
        b: &Booked,
        what: &str,
        on: Day,
        code: [&str; 3],
    ) -> Result<(), RefdataError> {
        let ccy = CURRENCIES[usize::from(c.currency)].code;
        let mut date = String::new();
        push_date(&mut date, on);
        self.x.start("Ntry")?;
        let t = self.amount_text(b.amount, c.currency).to_string();
        self.x.amount("Amt", ccy, &t)?;
        self.x
            .leaf("CdtDbtInd", if b.credit { "CRDT" } else { "DBIT" })?;
        self.status()?;
        self.x.date("BookgDt", &date)?;
        self.x.date("ValDt", &date)?;
        let r = format!("{what}-{}-{:05}", self.tag(), self.seq);
        self.x.leaf("AcctSvcrRef", &r)?;
        self.bank_code(code)?;
        let info = if b.credit {
            "Funding of benefit payments"
        } else {
            "Charges for benefit payments"
        };
        self.x.leaf("AddtlNtryInf", info)?;
        self.x.end("Ntry")
    }

    /// `<Sts><Cd>BOOK</Cd></Sts>` (the version 8 form).
    fn status(&mut self) -> Result<(), RefdataError> {
        self.x.start("Sts")?;
        self.x.leaf("Cd", "BOOK")?;
        self.x.end("Sts")
    }

    fn bank_code(&mut self, [domain, family, sub]: [&str; 3]) -> Result<(), RefdataError> {
        self.x.start("BkTxCd")?;
        self.x.start("Domn")?;
        self.x.leaf("Cd", domain)?;
        self.x.start("Fmly")?;
        self.x.leaf("Cd", family)?;
        self.x.leaf("SubFmlyCd", sub)?;
        self.x.end("Fmly")?;
        self.x.end("Domn")?;
        self.x.end("BkTxCd")
    }

    /// A booking of one settlement, or of a batch (`Btch` with the number and total of
    /// its `TxDtls`).
    fn booking(
        &mut self,
        c: &Chunk,
        b: &Booked,
        rows: &[SRow],
        k: usize,
    ) -> Result<(), RefdataError> {
        let first = rows
            .first()
            .ok_or_else(|| RefdataError::internal("empty booking"))?;
        let ccy = CURRENCIES[usize::from(c.currency)].code;
        let ret = first.status == SStatus::Returned;
        // Returns are marked three ways: return information, the RRTN code, or both.
        let how = first.ref_no % 3;
        render_settlement(first, &mut self.row, false);
        let date = self
            .row
            .get(8)
            .filter(|d| !d.is_empty())
            .map(str::to_string);
        self.x.start("Ntry")?;
        let t = self.amount_text(b.amount, c.currency).to_string();
        self.x.amount("Amt", ccy, &t)?;
        self.x
            .leaf("CdtDbtInd", if b.credit { "CRDT" } else { "DBIT" })?;
        self.status()?;
        if let Some(d) = &date {
            if valid_day(first).is_some() {
                self.x.date("BookgDt", d)?;
            }
            self.x.date("ValDt", d)?;
        }
        if rows.len() > 1 {
            let r = format!("BATCH-{}-{:05}-{k}", self.tag(), self.seq);
            self.x.leaf("AcctSvcrRef", &r)?;
        }
        let sub = if ret && how != 1 { "RRTN" } else { "ESCT" };
        self.bank_code(["PMNT", if ret { "RCDT" } else { "ICDT" }, sub])?;
        self.x.start("NtryDtls")?;
        if rows.len() > 1 {
            self.x.start("Btch")?;
            let id = format!("PAYROLL-2026-11-{}-{:05}-{k}", self.tag(), self.seq);
            self.x.leaf("PmtInfId", &id)?;
            self.x.leaf("NbOfTxs", &rows.len().to_string())?;
            self.x.amount("TtlAmt", ccy, &t)?;
            self.x.leaf("CdtDbtInd", "DBIT")?;
            self.x.end("Btch")?;
        }
        for r in rows {
            self.transaction(c, r, ret && how != 2)?;
        }
        self.x.end("NtryDtls")?;
        self.x.end("Ntry")
    }

    /// One `TxDtls`: the settlement's columns as CONTRACT 7.3 reads them.
    fn transaction(&mut self, c: &Chunk, r: &SRow, return_info: bool) -> Result<(), RefdataError> {
        render_settlement(r, &mut self.row, false);
        let text =
            |row: &RowText, i: usize| row.get(i).filter(|v| !v.is_empty()).map(str::to_string);
        let (reference, e2e) = (text(&self.row, 1), self.row.get(2).map(str::to_string));
        let (account, amount, fee) = (text(&self.row, 3), text(&self.row, 4), text(&self.row, 5));
        let ccy = self.row.get(6).unwrap_or("").to_string();
        let narrative = text(&self.row, 9);
        let credit = r.status != SStatus::Settled;
        self.x.start("TxDtls")?;
        self.x.start("Refs")?;
        if let Some(v) = &reference {
            self.x.leaf("AcctSvcrRef", v)?;
        }
        match e2e.as_deref() {
            None => self.x.leaf("EndToEndId", "NOTPROVIDED")?,
            Some("") => {}
            Some(v) => self.x.leaf("EndToEndId", v)?,
        }
        self.x.end("Refs")?;
        let foreign = r.currency != c.currency;
        if let Some(a) = &amount {
            if foreign {
                let own = self
                    .amount_text(booked(r, c.currency), c.currency)
                    .to_string();
                self.x
                    .amount("Amt", CURRENCIES[usize::from(c.currency)].code, &own)?;
            } else {
                self.x.amount("Amt", &ccy, a)?;
            }
        }
        self.x
            .leaf("CdtDbtInd", if credit { "CRDT" } else { "DBIT" })?;
        if let (true, Some(a)) = (foreign, &amount) {
            self.x.start("AmtDtls")?;
            self.x.start("TxAmt")?;
            self.x.amount("Amt", &ccy, a)?;
            self.x.end("TxAmt")?;
            self.x.end("AmtDtls")?;
        }
        if let Some(f) = &fee {
            self.x.start("Chrgs")?;
            self.x.amount("TtlChrgsAndTaxAmt", &ccy, f)?;
            self.x.end("Chrgs")?;
        }
        self.x.start("RltdPties")?;
        self.x
            .debtor_and_creditor(self.provider, c.currency, r.provider, account.as_deref())?;
        self.x.end("RltdPties")?;
        if let Some(n) = &narrative {
            self.x.start("RmtInf")?;
            self.x.leaf("Ustrd", n)?;
            self.x.end("RmtInf")?;
        }
        if return_info {
            self.x.start("RtrInf")?;
            self.x.start("Rsn")?;
            self.x.leaf("Cd", "AC04")?;
            self.x.end("Rsn")?;
            self.x.leaf("AddtlInf", "Account closed")?;
            self.x.end("RtrInf")?;
        }
        self.x.end("TxDtls")
    }
}
