//! camt.053 statements (`Stmt`) and camt.054 notifications (`Ntfctn`): their entries and
//! transactions as CONTRACT 7.3 maps them, and their control figures (7.5).
//!
//! Streaming: the schema puts an entry's own fields (`Amt`, `CdtDbtInd`, `RvslInd`,
//! `Sts`, `BookgDt`, `ValDt`, `AcctSvcrRef`, `BkTxCd`) before its `NtryDtls`, so each
//! `TxDtls` is complete when it closes. One is held back until the next closes or the
//! entry ends, to know whether the entry has more than one (the `/k` suffix and the
//! `Ntry/Amt` fallback depend on it). An entry field written after `NtryDtls` counts
//! for the transactions not yet handed on.

use std::collections::BTreeMap;
use std::fmt::Write;

use quick_xml::events::BytesStart;

use super::names::Name as N;
use super::xml::Path;
use super::{currency_of, date_of, date_of_str, date_only_str, set_first, Out};
use crate::decimal::Dec;
use crate::{absent_reference, Check, FormatError, NotSettlement, Rejection, Status, Txn};

/// Sub-family codes of bank charges, fees, taxes and interest: a debit with one of them
/// is the bank's, not a payment (CONTRACT 7.3).
const CHARGES: &[&str] = &["CHRG", "COMM", "FEES", "TAXE", "INTR"];

/// Most distinct value dates kept per statement for the balance check's second
/// convention; past it (a hostile file) only the first convention is computed.
const MAX_VALUE_DATES: usize = 100_000;

/// A bank transaction code as written: the ISO domain, family and sub-family, or the
/// bank's proprietary code.
#[derive(Default)]
struct Code {
    domain: String,
    family: String,
    sub_family: String,
    proprietary: String,
}

impl Code {
    fn clear(&mut self) {
        self.domain.clear();
        self.family.clear();
        self.sub_family.clear();
        self.proprietary.clear();
    }

    fn is_given(&self) -> bool {
        !self.domain.is_empty() || !self.proprietary.is_empty()
    }

    /// `PMNT/RCDT/ESCT`, else the proprietary code.
    fn text(&self) -> String {
        if self.domain.is_empty() {
            return self.proprietary.clone();
        }
        [&self.domain, &self.family, &self.sub_family]
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// A leaf below the code's owner (`TxDtls` or `Ntry`): `BkTxCd/Domn/Cd`, ….
    fn leaf(&mut self, rel: &[N], t: &str) {
        let field = match rel {
            [N::BkTxCd, N::Domn, N::Cd] => &mut self.domain,
            [N::BkTxCd, N::Domn, N::Fmly, N::Cd] => &mut self.family,
            [N::BkTxCd, N::Domn, N::Fmly, N::SubFmlyCd] => &mut self.sub_family,
            [N::BkTxCd, N::Prtry, N::Cd] => &mut self.proprietary,
            _ => return,
        };
        set_first(field, t);
    }
}

/// An account as written: `Id/IBAN`, else `Id/Othr/Id`.
#[derive(Default)]
struct Account {
    iban: String,
    other: String,
}

impl Account {
    fn clear(&mut self) {
        self.iban.clear();
        self.other.clear();
    }

    fn get(&self) -> &str {
        if self.iban.is_empty() {
            &self.other
        } else {
            &self.iban
        }
    }

    /// `rest` below the account element: `Id/IBAN` or `Id/Othr/Id`.
    fn leaf(&mut self, rest: &[N], t: &str) {
        match rest {
            [N::Id, N::IBAN] => set_first(&mut self.iban, t),
            [N::Id, N::Othr, N::Id] => set_first(&mut self.other, t),
            _ => {}
        }
    }
}

/// Whether two accounts are the same, ignoring spaces and case (CONTRACT 7.2).
fn same_account(a: &str, b: &str) -> bool {
    fn norm(s: &str) -> impl Iterator<Item = char> + '_ {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
    }
    norm(a).eq(norm(b))
}

/// An amount and its `Ccy` as written.
#[derive(Default)]
pub(super) struct Amount {
    pub(super) value: String,
    pub(super) ccy: String,
}

impl Amount {
    pub(super) fn clear(&mut self) {
        self.value.clear();
        self.ccy.clear();
    }

    pub(super) fn is_given(&self) -> bool {
        !self.value.is_empty()
    }

    pub(super) fn set(&mut self, value: &str, ccy: &str) {
        if self.value.is_empty() {
            self.value.push_str(value);
            self.ccy.clear();
            self.ccy.push_str(ccy);
        }
    }
}

/// One `TxDtls`, as far as CONTRACT 7.3 reads it.
#[derive(Default)]
struct Tx {
    /// Its 1-based position in the entry.
    k: u64,
    end_to_end: String,
    instr_id: String,
    acct_svcr_ref: String,
    tx_amt: Amount,
    amt: Amount,
    fee: Amount,
    creditor: Account,
    debtor: Account,
    code: Code,
    /// It has `RtrInf`.
    returned: bool,
}

impl Tx {
    fn clear(&mut self) {
        self.k = 0;
        self.end_to_end.clear();
        self.instr_id.clear();
        self.acct_svcr_ref.clear();
        self.tx_amt.clear();
        self.amt.clear();
        self.fee.clear();
        self.creditor.clear();
        self.debtor.clear();
        self.code.clear();
        self.returned = false;
    }

    /// Its own amount: `AmtDtls/TxAmt/Amt`, else `Amt`.
    fn own_amount(&self) -> Option<&Amount> {
        [&self.tx_amt, &self.amt].into_iter().find(|a| a.is_given())
    }

    fn leaf(&mut self, rel: &[N], t: &str, ccy: &str) {
        match rel {
            [N::Refs, N::EndToEndId] => set_first(&mut self.end_to_end, t),
            [N::Refs, N::InstrId] => set_first(&mut self.instr_id, t),
            [N::Refs, N::AcctSvcrRef] => set_first(&mut self.acct_svcr_ref, t),
            [N::Amt] => self.amt.set(t, ccy),
            [N::AmtDtls, N::TxAmt, N::Amt] => self.tx_amt.set(t, ccy),
            [N::Chrgs, N::TtlChrgsAndTaxAmt] => self.fee.set(t, ccy),
            [N::RltdPties, N::CdtrAcct, rest @ ..] => self.creditor.leaf(rest, t),
            [N::RltdPties, N::DbtrAcct, rest @ ..] => self.debtor.leaf(rest, t),
            _ => self.code.leaf(rel, t),
        }
    }
}

/// `NtryDtls/Btch` as written.
#[derive(Default, Clone)]
struct Batch {
    pmt_inf_id: String,
    nb_of_txs: String,
    ttl_amt: String,
}

impl Batch {
    fn clear(&mut self) {
        self.pmt_inf_id.clear();
        self.nb_of_txs.clear();
        self.ttl_amt.clear();
    }

    fn is_given(&self) -> bool {
        !(self.pmt_inf_id.is_empty() && self.nb_of_txs.is_empty() && self.ttl_amt.is_empty())
    }

    /// `PmtInfId=X NbOfTxs=3 TtlAmt=300.00`, the parts written.
    fn describe(&self) -> String {
        [
            ("PmtInfId", &self.pmt_inf_id),
            ("NbOfTxs", &self.nb_of_txs),
            ("TtlAmt", &self.ttl_amt),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
    }

    fn leaf(&mut self, rel: &[N], t: &str) {
        let field = match rel {
            [N::Btch, N::PmtInfId] => &mut self.pmt_inf_id,
            [N::Btch, N::NbOfTxs] => &mut self.nb_of_txs,
            [N::Btch, N::TtlAmt] => &mut self.ttl_amt,
            _ => return,
        };
        set_first(field, t);
    }
}

/// An exact running sum, or why it cannot be had.
#[derive(Clone, Default)]
struct Sum {
    value: Dec,
    broken: Option<String>,
}

impl Sum {
    fn add(&mut self, text: &str, why: impl FnOnce() -> String) {
        self.add_dec(Dec::parse(text), why);
    }

    fn add_dec(&mut self, d: Option<Dec>, why: impl FnOnce() -> String) {
        if self.broken.is_some() {
            return;
        }
        match d.and_then(|d| self.value.checked_add(d)) {
            Some(v) => self.value = v,
            None => self.broken = Some(why()),
        }
    }

    fn merge(&mut self, other: &Sum) {
        if let Some(why) = &other.broken {
            if self.broken.is_none() {
                self.broken = Some(why.clone());
            }
            return;
        }
        self.add_dec(Some(other.value), || "the sum overflows".into());
    }

    fn get(&self) -> Option<Dec> {
        self.broken.is_none().then_some(self.value)
    }

    fn found(&self) -> String {
        match &self.broken {
            Some(why) => format!("cannot be summed: {why}"),
            None => self.value.to_string(),
        }
    }
}

/// One `Ntry` and its current `NtryDtls`.
#[derive(Default)]
struct Entry {
    /// 1-based position in the statement.
    position: u64,
    amt: Amount,
    direction: String,
    reversal: String,
    status: String,
    booking_dt: String,
    booking_dttm: String,
    value_dt: String,
    value_dttm: String,
    acct_svcr_ref: String,
    code: Code,
    fee: Amount,
    /// The first `Btch` written (for `batch_without_details`).
    batch: Batch,
    /// `TxDtls` seen so far.
    txs: u64,
    details_batch: Batch,
    details_txs: u64,
    details_sum: Sum,
}

impl Entry {
    fn clear(&mut self, position: u64) {
        self.position = position;
        self.amt.clear();
        self.direction.clear();
        self.reversal.clear();
        self.status.clear();
        self.booking_dt.clear();
        self.booking_dttm.clear();
        self.value_dt.clear();
        self.value_dttm.clear();
        self.acct_svcr_ref.clear();
        self.code.clear();
        self.fee.clear();
        self.batch.clear();
        self.txs = 0;
        self.clear_details();
    }

    fn clear_details(&mut self) {
        self.details_batch.clear();
        self.details_txs = 0;
        self.details_sum = Sum::default();
    }

    /// `ValDt/Dt`, or the date of `ValDt/DtTm`, else `BookgDt`'s (CONTRACT 7.3). A `Dt`
    /// is taken as written (a date-time there is section 2's `invalid_date`); only a
    /// `DtTm` is cut to its date; with the file's text when it differs. Parts of the
    /// entry's fields.
    fn value_date_str(&self) -> (&str, Option<&str>) {
        [
            (&self.value_dt, false),
            (&self.value_dttm, true),
            (&self.booking_dt, false),
            (&self.booking_dttm, true),
        ]
        .into_iter()
        .find(|(d, _)| !d.is_empty())
        .map_or(("", None), |(d, time)| {
            if time {
                date_of_str(d)
            } else {
                date_only_str(d)
            }
        })
    }

    fn leaf(&mut self, rel: &[N], t: &str, ccy: &str) {
        let field = match rel {
            [N::Amt] => {
                self.amt.set(t, ccy);
                return;
            }
            [N::Chrgs, N::TtlChrgsAndTaxAmt] => {
                self.fee.set(t, ccy);
                return;
            }
            [N::CdtDbtInd] => &mut self.direction,
            [N::RvslInd] => &mut self.reversal,
            [N::Sts] => &mut self.status,
            [N::Sts, N::Cd | N::Prtry] => &mut self.status,
            [N::BookgDt, N::Dt] => &mut self.booking_dt,
            [N::BookgDt, N::DtTm] => &mut self.booking_dttm,
            [N::ValDt, N::Dt] => &mut self.value_dt,
            [N::ValDt, N::DtTm] => &mut self.value_dttm,
            [N::AcctSvcrRef] => &mut self.acct_svcr_ref,
            _ => {
                self.code.leaf(rel, t);
                return;
            }
        };
        set_first(field, t);
    }

    /// `NbOfTxs` of the first batch above 1: the entry is a batch whose transactions
    /// are not in the file.
    fn is_undetailed_batch(&self) -> bool {
        self.txs == 0 && self.batch.nb_of_txs.parse::<u64>().is_ok_and(|n| n > 1)
    }
}

/// A `Bal` as written.
#[derive(Default, Clone)]
struct Balance {
    code: String,
    amount: String,
    direction: String,
    date: String,
}

impl Balance {
    /// The balance as a signed number (`DBIT` negative).
    fn signed(&self) -> Option<Dec> {
        let d = Dec::parse(&self.amount)?;
        match self.direction.as_str() {
            "DBIT" => Some(Dec {
                units: d.units.checked_neg()?,
                scale: d.scale,
            }),
            _ => Some(d),
        }
    }

    /// As written, with a `-` for a debit balance.
    fn signed_text(&self) -> String {
        match self.direction.as_str() {
            "DBIT" => format!("-{}", self.amount),
            _ => self.amount.clone(),
        }
    }
}

/// TxsSummry figures in the order they are reported: (element, of which entries).
const SUMMARY: [N; 3] = [N::TtlNtries, N::TtlCdtNtries, N::TtlDbtNtries];

/// One `Stmt`/`Ntfctn` being read.
#[derive(Default)]
struct Stmt {
    /// Index in `FileInfo::statements`.
    index: usize,
    id: String,
    iban: String,
    other: String,
    from: String,
    to: String,
    entries: u64,
    /// Declared `NbOfNtries` and `Sum` of [`SUMMARY`].
    declared: [(String, String); 3],
    /// Found count and sum of all, credit and debit entries.
    counted: [(u64, Sum); 3],
    balance: Balance,
    opening: Option<Balance>,
    previous: Option<Balance>,
    closing: Option<Balance>,
    /// Net booked amount, over all booked entries and by value date.
    booked: Sum,
    booked_by_date: BTreeMap<String, Sum>,
    by_date_lost: bool,
    batch_checks: Vec<Check>,
}

impl Stmt {
    fn account(&self) -> &str {
        if self.iban.is_empty() {
            &self.other
        } else {
            &self.iban
        }
    }

    /// Leaves of the statement's own elements. `true` when its id or account changed.
    fn leaf(&mut self, rel: &[N], t: &str) -> bool {
        let field = match rel {
            [N::Id] => {
                set_first(&mut self.id, t);
                return true;
            }
            [N::Acct, N::Id, N::IBAN] => {
                set_first(&mut self.iban, t);
                return true;
            }
            [N::Acct, N::Id, N::Othr, N::Id] => {
                set_first(&mut self.other, t);
                return true;
            }
            [N::FrToDt, N::FrDtTm | N::FrDt] => &mut self.from,
            [N::FrToDt, N::ToDtTm | N::ToDt] => &mut self.to,
            [N::Bal, N::Tp, N::CdOrPrtry, N::Cd] => &mut self.balance.code,
            [N::Bal, N::Amt] => &mut self.balance.amount,
            [N::Bal, N::CdtDbtInd] => &mut self.balance.direction,
            [N::Bal, N::Dt, N::Dt | N::DtTm] => &mut self.balance.date,
            [N::TxsSummry, which, last @ (N::NbOfNtries | N::Sum)] => {
                let Some(i) = SUMMARY.iter().position(|n| n == which) else {
                    return false;
                };
                let (nb, sum) = &mut self.declared[i];
                if *last == N::Sum {
                    sum
                } else {
                    nb
                }
            }
            _ => return false,
        };
        set_first(field, t);
        false
    }

    fn end_balance(&mut self) {
        let b = std::mem::take(&mut self.balance);
        let slot = match b.code.as_str() {
            "OPBD" => &mut self.opening,
            "PRCD" => &mut self.previous,
            "CLBD" => &mut self.closing,
            _ => return,
        };
        if slot.is_none() {
            *slot = Some(b);
        }
    }

    /// Counts an entry into the summary and balance figures.
    fn count_entry(&mut self, e: &Entry) {
        let position = e.position;
        let why = || format!("entry {position} has amount `{}`", e.amt.value);
        let amount = Dec::parse(&e.amt.value);
        let sides: &[usize] = match e.direction.as_str() {
            "CRDT" => &[0, 1],
            "DBIT" => &[0, 2],
            _ => &[0],
        };
        for &i in sides {
            self.counted[i].0 += 1;
            self.counted[i].1.add_dec(amount, why);
        }
        if e.status != "BOOK" {
            return;
        }
        let net = match (e.direction.as_str(), amount) {
            ("CRDT", Some(a)) => Some(a),
            ("DBIT", Some(a)) => a.units.checked_neg().map(|units| Dec {
                units,
                scale: a.scale,
            }),
            _ => None,
        };
        let why = || {
            format!(
                "booked entry {position} has amount `{}` and CdtDbtInd `{}`",
                e.amt.value, e.direction
            )
        };
        self.booked.add_dec(net, why);
        let date = e.value_date_str().0;
        if let Some(s) = self.booked_by_date.get_mut(date) {
            s.add_dec(net, why);
        } else if self.booked_by_date.len() < MAX_VALUE_DATES {
            let mut s = Sum::default();
            s.add_dec(net, why);
            self.booked_by_date.insert(date.to_string(), s);
        } else {
            self.by_date_lost = true;
        }
    }

    /// The statement's checks (CONTRACT 7.5): `TxsSummry`, batches, balance.
    fn checks(&mut self) -> Vec<Check> {
        let mut checks = Vec::new();
        for (i, name) in SUMMARY.iter().enumerate() {
            let name = name.as_str();
            let (nb, sum) = &self.declared[i];
            let (count, found) = &self.counted[i];
            if !nb.is_empty() {
                checks.push(Check {
                    what: format!("TxsSummry/{name}/NbOfNtries"),
                    declared: nb.clone(),
                    found: count.to_string(),
                    ok: nb.parse::<u64>() == Ok(*count),
                });
            }
            if !sum.is_empty() {
                checks.push(Check {
                    what: format!("TxsSummry/{name}/Sum"),
                    declared: sum.clone(),
                    found: found.found(),
                    ok: equal(Dec::parse(sum), found.get()),
                });
            }
        }
        checks.append(&mut self.batch_checks);
        checks.extend(self.balance_check());
        checks
    }

    /// Opening (`OPBD`, else `PRCD`) + booked credits - booked debits = `CLBD`, over all
    /// booked entries or only those with a value date on or before the `CLBD` date.
    fn balance_check(&self) -> Option<Check> {
        let closing = self.closing.as_ref()?;
        let opening = self.opening.as_ref().or(self.previous.as_ref())?;
        let what = format!("balance {} + CRDT - DBIT = CLBD", opening.code);
        let declared = closing.signed_text();
        let (Some(open), Some(close)) = (opening.signed(), closing.signed()) else {
            return Some(Check {
                what,
                declared,
                found: format!(
                    "cannot be computed: the {} or CLBD amount is not a decimal",
                    opening.code
                ),
                ok: false,
            });
        };
        let cut = date_of(&closing.date).0;
        let mut upto = Sum::default();
        for (date, net) in &self.booked_by_date {
            if cut.is_empty() || *date <= cut {
                upto.merge(net);
            }
        }
        let expect = |net: &Sum| net.get().and_then(|n| open.checked_add(n));
        let all = expect(&self.booked);
        let by_date = if self.by_date_lost {
            None
        } else {
            expect(&upto)
        };
        let ok_all = equal(all, Some(close));
        let ok_by_date = equal(by_date, Some(close));
        let show = |d: Option<Dec>, net: &Sum| d.map_or_else(|| net.found(), |d| d.to_string());
        let found = if ok_all || (!ok_by_date && equal(all, by_date)) {
            show(all, &self.booked)
        } else if ok_by_date {
            show(by_date, &upto)
        } else {
            format!(
                "{} (all booked entries) or {} (booked entries with value date on or before {cut})",
                show(all, &self.booked),
                show(by_date, &upto)
            )
        };
        Some(Check {
            what,
            declared,
            found,
            ok: ok_all || ok_by_date,
        })
    }
}

fn equal(a: Option<Dec>, b: Option<Dec>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a.eq_value(b))
}

/// The camt reader: anchors are the depths of the open `Stmt`, `Ntry`, `NtryDtls`,
/// `TxDtls` and `Bal` (0 when none is open).
pub(super) struct Camt<'s> {
    pub(super) out: Out<'s>,
    message: usize,
    stmt_depth: usize,
    entry_depth: usize,
    details_depth: usize,
    tx_depth: usize,
    balance_depth: usize,
    stmt: Stmt,
    entry: Entry,
    tx: Tx,
    pending: Tx,
    has_pending: bool,
    /// `Ccy` of the last amount element opened.
    ccy: String,
}

impl<'s> Camt<'s> {
    pub(super) fn new(out: Out<'s>) -> Self {
        Camt {
            out,
            message: 0,
            stmt_depth: 0,
            entry_depth: 0,
            details_depth: 0,
            tx_depth: 0,
            balance_depth: 0,
            stmt: Stmt::default(),
            entry: Entry::default(),
            tx: Tx::default(),
            pending: Tx::default(),
            has_pending: false,
            ccy: String::new(),
        }
    }

    pub(super) fn begin(&mut self, depth: usize) {
        self.message = depth;
    }

    /// An element opened. Only the elements named in [`Camt::open`] change the reader's
    /// state; any other element matters only as an amount.
    #[inline]
    pub(super) fn start(&mut self, path: &Path, e: &BytesStart<'_>) -> Result<(), FormatError> {
        if path.is_amount() {
            currency_of(path, e, &mut self.ccy)?;
        }
        match path.id() {
            N::Stmt | N::Ntfctn | N::Ntry | N::Bal | N::NtryDtls | N::TxDtls | N::RtrInf => {
                self.open(path)
            }
            _ => Ok(()),
        }
    }

    #[inline(never)]
    fn open(&mut self, path: &Path) -> Result<(), FormatError> {
        let depth = path.depth();
        let name = path.id();
        // An entry or transaction where the schema has none would be skipped unseen.
        let misplaced = match name {
            N::Ntry => self.stmt_depth == 0 || self.entry_depth > 0 || depth != self.stmt_depth + 1,
            N::TxDtls => {
                self.details_depth == 0 || self.tx_depth > 0 || depth != self.details_depth + 1
            }
            _ => false,
        };
        if misplaced {
            return Err(path.error(format!(
                "<{}> where the camt schema has none (an entry belongs in Stmt or Ntfctn, a \
                 transaction in Ntry/NtryDtls): its transactions would be lost, so the file is \
                 refused; it may be damaged",
                name.as_str()
            )));
        }
        if self.stmt_depth == 0 {
            if depth == self.message + 1 && matches!(name, N::Stmt | N::Ntfctn) {
                self.stmt_depth = depth;
                self.stmt = Stmt {
                    index: self.out.open_statement(),
                    ..Stmt::default()
                };
            }
        } else if self.entry_depth == 0 {
            if depth == self.stmt_depth + 1 {
                match name {
                    N::Ntry => {
                        self.entry_depth = depth;
                        self.stmt.entries += 1;
                        self.out.statement(self.stmt.index).entries = self.stmt.entries;
                        self.entry.clear(self.stmt.entries);
                    }
                    N::Bal => self.balance_depth = depth,
                    _ => {}
                }
            }
        } else if self.details_depth == 0 {
            if depth == self.entry_depth + 1 && name == N::NtryDtls {
                self.details_depth = depth;
                self.entry.clear_details();
            }
        } else if self.tx_depth == 0 {
            if depth == self.details_depth + 1 && name == N::TxDtls {
                self.tx_depth = depth;
                self.tx.clear();
            }
        } else if depth == self.tx_depth + 1 && name == N::RtrInf {
            self.tx.returned = true;
        }
        Ok(())
    }

    /// An element closes. Only an element [`Camt::open`] may have made an anchor can
    /// close one: the element closing at an anchor's depth is the one that opened there.
    #[inline]
    pub(super) fn end(&mut self, path: &Path, text: Option<&str>) -> Result<(), FormatError> {
        if let Some(t) = text {
            self.leaf(path, t);
        }
        match path.id() {
            N::Stmt | N::Ntfctn | N::Ntry | N::Bal | N::NtryDtls | N::TxDtls => self.close(path),
            _ => Ok(()),
        }
    }

    #[inline(never)]
    fn close(&mut self, path: &Path) -> Result<(), FormatError> {
        let depth = path.depth();
        if depth == self.tx_depth {
            self.tx_depth = 0;
            self.end_tx()?;
        } else if depth == self.details_depth {
            self.details_depth = 0;
            self.end_details();
        } else if depth == self.entry_depth {
            self.entry_depth = 0;
            self.end_entry()?;
        } else if depth == self.balance_depth {
            self.balance_depth = 0;
            self.stmt.end_balance();
        } else if depth == self.stmt_depth {
            self.stmt_depth = 0;
            self.end_stmt();
        }
        Ok(())
    }

    pub(super) fn finish(&mut self, _path: &Path) -> Result<(), FormatError> {
        Ok(())
    }

    fn leaf(&mut self, path: &Path, t: &str) {
        if self.tx_depth > 0 {
            self.tx.leaf(path.below(self.tx_depth), t, &self.ccy);
        } else if self.details_depth > 0 {
            self.entry
                .details_batch
                .leaf(path.below(self.details_depth), t);
        } else if self.entry_depth > 0 {
            self.entry.leaf(path.below(self.entry_depth), t, &self.ccy);
        } else if self.stmt_depth > 0 && self.stmt.leaf(path.below(self.stmt_depth), t) {
            // The header as far as known, for the sink (`Stmt/Id` and `Acct` come first).
            let s = self.out.statement(self.stmt.index);
            s.id.clone_from(&self.stmt.id);
            s.account = self.stmt.account().to_string();
        }
    }

    fn end_tx(&mut self) -> Result<(), FormatError> {
        let e = &mut self.entry;
        e.txs += 1;
        e.details_txs += 1;
        self.tx.k = e.txs;
        let k = e.txs;
        match self.tx.own_amount() {
            Some(a) => e.details_sum.add(&a.value, || {
                format!("transaction {k} has amount `{}`", a.value)
            }),
            None => e
                .details_sum
                .add_dec(None, || format!("transaction {k} has no amount")),
        }
        if self.has_pending {
            self.hand_on_pending(true)?;
        }
        std::mem::swap(&mut self.tx, &mut self.pending);
        self.has_pending = true;
        Ok(())
    }

    fn hand_on_pending(&mut self, several: bool) -> Result<(), FormatError> {
        self.has_pending = false;
        build(
            &self.stmt,
            &self.entry,
            Some(&self.pending),
            several,
            &mut self.out.txn,
        );
        self.out.deliver()
    }

    fn end_details(&mut self) {
        let e = &mut self.entry;
        if !e.batch.is_given() {
            e.batch = e.details_batch.clone();
        }
        let b = &e.details_batch;
        if e.details_txs == 0 {
            return;
        }
        let position = e.position;
        if !b.nb_of_txs.is_empty() {
            self.stmt.batch_checks.push(Check {
                what: format!("Btch/NbOfTxs (entry {position})"),
                declared: b.nb_of_txs.clone(),
                found: e.details_txs.to_string(),
                ok: b.nb_of_txs.parse::<u64>() == Ok(e.details_txs),
            });
        }
        if !b.ttl_amt.is_empty() {
            self.stmt.batch_checks.push(Check {
                what: format!("Btch/TtlAmt (entry {position})"),
                declared: b.ttl_amt.clone(),
                found: e.details_sum.found(),
                ok: equal(Dec::parse(&b.ttl_amt), e.details_sum.get()),
            });
        }
    }

    fn end_entry(&mut self) -> Result<(), FormatError> {
        self.stmt.count_entry(&self.entry);
        if self.has_pending {
            self.hand_on_pending(self.entry.txs > 1)
        } else if self.entry.txs == 0 {
            build(&self.stmt, &self.entry, None, false, &mut self.out.txn);
            self.out.deliver()
        } else {
            Ok(())
        }
    }

    fn end_stmt(&mut self) {
        let mut stmt = std::mem::take(&mut self.stmt);
        let checks = stmt.checks();
        let period = |explicit: &str, balance: Option<&Balance>| {
            let d = if explicit.is_empty() {
                balance.map_or("", |b| b.date.as_str())
            } else {
                explicit
            };
            date_of(d).0
        };
        let from = period(&stmt.from, stmt.opening.as_ref().or(stmt.previous.as_ref()));
        let to = period(&stmt.to, stmt.closing.as_ref());
        let s = self.out.statement(stmt.index);
        s.account = stmt.account().to_string();
        s.id = stmt.id;
        s.from = from;
        s.to = to;
        s.entries = stmt.entries;
        s.checks = checks;
    }
}

/// One transaction of an entry as CONTRACT 7.3 maps it (`tx`: its `TxDtls`, `None` when
/// the entry has none and is a transaction by itself; `several`: the entry has more
/// than one), written over `out` (its `row` is the caller's).
fn build(st: &Stmt, e: &Entry, tx: Option<&Tx>, several: bool, out: &mut Txn) {
    let empty = Tx::default();
    let t = tx.unwrap_or(&empty);
    let k = if tx.is_some() { t.k } else { 1 };
    let amount = match t.own_amount() {
        Some(a) => Some(a),
        None if !several && e.amt.is_given() => Some(&e.amt),
        None => None,
    };
    let (amount, currency) = amount.map_or(("", ""), |a| (&a.value, &a.ccy));
    let fee = if tx.is_some() { &t.fee } else { &e.fee };
    let fee = if fee.is_given() && (fee.ccy.is_empty() || fee.ccy == currency) {
        fee.value.as_str()
    } else {
        ""
    };
    let provider_ref = &mut out.provider_ref;
    provider_ref.clear();
    if !absent_reference(&t.acct_svcr_ref) {
        provider_ref.push_str(&t.acct_svcr_ref);
    } else if !absent_reference(&e.acct_svcr_ref) && several {
        let _ = write!(provider_ref, "{}/{k}", e.acct_svcr_ref);
    } else if !absent_reference(&e.acct_svcr_ref) {
        provider_ref.push_str(&e.acct_svcr_ref);
    } else {
        let _ = write!(provider_ref, "{}/{}/{k}", st.id, e.position);
    }
    let (value_date, value_date_original) = e.value_date_str();
    put(&mut out.value_date, value_date);
    match (&mut out.value_date_original, value_date_original) {
        (Some(o), Some(v)) => put(o, v),
        (o, v) => *o = v.map(str::to_string),
    }
    (out.status, out.rejection) = match classify(e, tx) {
        Ok(s) => (Some(s), None),
        Err(r) => (None, Some(r)),
    };
    out.statement = st.index;
    put(&mut out.own_account, st.account());
    put(
        &mut out.instruction_id,
        first_reference(&[&t.end_to_end, &t.instr_id]),
    );
    put(
        &mut out.account,
        counterparty(t, &e.direction, st.account()),
    );
    put(&mut out.amount, amount);
    put(&mut out.fee, fee);
    put(&mut out.currency, currency);
    out.amount_original = None;
}

/// Sets `field` to `value`, in the allocation it has.
fn put(field: &mut String, value: &str) {
    field.clear();
    field.push_str(value);
}

/// The first reference that is not absent (CONTRACT 7: `NOTPROVIDED`, `NONREF`, …).
pub(super) fn first_reference<'a>(refs: &[&'a String]) -> &'a str {
    refs.iter()
        .find(|r| !absent_reference(r))
        .map_or("", |r| r.as_str())
}

/// `CdtrAcct` first for a debit, `DbtrAcct` first for a credit; the first present that
/// is not the statement's own account.
fn counterparty<'a>(t: &'a Tx, direction: &str, own: &str) -> &'a str {
    let order = if direction == "CRDT" {
        [&t.debtor, &t.creditor]
    } else {
        [&t.creditor, &t.debtor]
    };
    order
        .iter()
        .map(|a| a.get())
        .find(|a| !a.is_empty() && (own.is_empty() || !same_account(a, own)))
        .unwrap_or("")
}

/// The status, or the section 7 reason the transaction is not a settlement.
fn classify(e: &Entry, tx: Option<&Tx>) -> Result<Status, Rejection> {
    let reject = |reason, column, value: String| Rejection {
        reason,
        column,
        value,
    };
    if e.status != "BOOK" {
        return Err(reject(NotSettlement::NotBooked, "status", e.status.clone()));
    }
    if tx.is_none() && e.is_undetailed_batch() {
        return Err(reject(
            NotSettlement::BatchWithoutDetails,
            "amount",
            e.batch.describe(),
        ));
    }
    let (code, returned) = match tx {
        Some(t) if t.code.is_given() => (&t.code, t.returned),
        Some(t) => (&e.code, t.returned),
        None => (&e.code, false),
    };
    let returned =
        returned || code.sub_family == "RRTN" || matches!(e.reversal.as_str(), "true" | "1");
    match (e.direction.as_str(), returned) {
        ("DBIT", false) if !CHARGES.contains(&code.sub_family.as_str()) => Ok(Status::Settled),
        ("CRDT", true) => Ok(Status::Returned),
        _ => {
            let value = [e.direction.clone(), code.text()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            Err(reject(NotSettlement::NotAPayment, "status", value))
        }
    }
}
