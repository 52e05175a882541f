//! pain.002 customer payment status reports: every `TxInfAndSts` is a transaction,
//! its status its own `TxSts`, else the enclosing `PmtInfSts`, else `GrpSts` (CONTRACT
//! 7.3). A status without any transaction yields no rows and becomes a notice. The
//! report's `OrgnlNbOfTxs`/`OrgnlCtrlSum` describe the original message and are not
//! checked (7.5). Version 2 puts `TxInfAndSts` directly in the message; later versions
//! inside `OrgnlPmtInfAndSts`: both are read.

use quick_xml::events::BytesStart;

use super::camt::{first_reference, Amount};
use super::names::Name as N;
use super::xml::Path;
use super::{currency_of, date_of, date_only, set_first, Out};
use crate::{absent_reference, FormatError, NotSettlement, Rejection, Status, Txn};

/// One `TxInfAndSts`, as far as CONTRACT 7.3 reads it.
#[derive(Default)]
struct Tx {
    sts_id: String,
    instr_id: String,
    end_to_end: String,
    status: String,
    amount: Amount,
    creditor_iban: String,
    creditor_other: String,
    debtor_iban: String,
    debtor_other: String,
    settlement_date: String,
    execution_date: String,
    execution_dttm: String,
}

impl Tx {
    fn leaf(&mut self, rel: &[N], t: &str, ccy: &str) {
        let field = match rel {
            [N::StsId] => &mut self.sts_id,
            [N::OrgnlInstrId] => &mut self.instr_id,
            [N::OrgnlEndToEndId] => &mut self.end_to_end,
            [N::TxSts] => &mut self.status,
            [N::OrgnlTxRef, rest @ ..] => match rest {
                [N::Amt, N::InstdAmt] => {
                    self.amount.set(t, ccy);
                    return;
                }
                [N::IntrBkSttlmDt] => &mut self.settlement_date,
                [N::ReqdExctnDt] | [N::ReqdExctnDt, N::Dt] => &mut self.execution_date,
                [N::ReqdExctnDt, N::DtTm] => &mut self.execution_dttm,
                [N::CdtrAcct, N::Id, N::IBAN] => &mut self.creditor_iban,
                [N::CdtrAcct, N::Id, N::Othr, N::Id] => &mut self.creditor_other,
                [N::DbtrAcct, N::Id, N::IBAN] => &mut self.debtor_iban,
                [N::DbtrAcct, N::Id, N::Othr, N::Id] => &mut self.debtor_other,
                _ => return,
            },
            _ => return,
        };
        set_first(field, t);
    }
}

fn either(first: &str, second: &str) -> String {
    if first.is_empty() { second } else { first }.to_string()
}

/// A status and its first reason code, as written.
#[derive(Default)]
struct StatusOf {
    code: String,
    reason: String,
}

impl StatusOf {
    /// `RJCT (reason AC01)`.
    fn describe(&self) -> String {
        if self.reason.is_empty() {
            self.code.clone()
        } else {
            format!("{} (reason {})", self.code, self.reason)
        }
    }

    /// A reason code leaf below the status's owner: `StsRsnInf/Rsn/Cd` (version 2:
    /// `StsRsnInf/StsRsn/Cd`), or `Prtry`.
    fn reason_leaf(&mut self, rel: &[N], t: &str) {
        if let [N::StsRsnInf, N::Rsn | N::StsRsn, N::Cd | N::Prtry] = rel {
            set_first(&mut self.reason, t);
        }
    }
}

/// The pain.002 reader.
pub(super) struct Pain<'s> {
    pub(super) out: Out<'s>,
    message: usize,
    statement: usize,
    msg_id: String,
    created: String,
    group: StatusOf,
    /// Depth of the open `OrgnlPmtInfAndSts`, 0 when none is.
    pmt_depth: usize,
    pmt_id: String,
    pmt: StatusOf,
    pmt_txs: u64,
    pmts: u64,
    tx_depth: usize,
    tx: Tx,
    ccy: String,
}

impl<'s> Pain<'s> {
    pub(super) fn new(out: Out<'s>) -> Self {
        Pain {
            out,
            message: 0,
            statement: 0,
            msg_id: String::new(),
            created: String::new(),
            group: StatusOf::default(),
            pmt_depth: 0,
            pmt_id: String::new(),
            pmt: StatusOf::default(),
            pmt_txs: 0,
            pmts: 0,
            tx_depth: 0,
            tx: Tx::default(),
            ccy: String::new(),
        }
    }

    pub(super) fn begin(&mut self, depth: usize) {
        self.message = depth;
        self.statement = self.out.open_statement();
    }

    pub(super) fn start(&mut self, path: &Path, e: &BytesStart<'_>) -> Result<(), FormatError> {
        if path.is_amount() {
            currency_of(path, e, &mut self.ccy)?;
        }
        if self.tx_depth > 0 {
            return Ok(());
        }
        let name = path.id();
        if name == N::TxInfAndSts {
            self.tx_depth = path.depth();
            self.tx = Tx::default();
        } else if name == N::OrgnlPmtInfAndSts && self.pmt_depth == 0 {
            self.pmt_depth = path.depth();
            self.pmt_id.clear();
            self.pmt = StatusOf::default();
            self.pmt_txs = 0;
            self.pmts += 1;
        }
        Ok(())
    }

    pub(super) fn end(&mut self, path: &Path, text: Option<&str>) -> Result<(), FormatError> {
        let depth = path.depth();
        if let Some(t) = text {
            self.leaf(path, t);
        }
        if depth == self.tx_depth {
            self.tx_depth = 0;
            self.end_tx()?;
        } else if depth == self.pmt_depth {
            self.pmt_depth = 0;
            self.end_pmt();
        }
        Ok(())
    }

    fn leaf(&mut self, path: &Path, t: &str) {
        if self.tx_depth > 0 {
            self.tx.leaf(path.below(self.tx_depth), t, &self.ccy);
            return;
        }
        if self.pmt_depth > 0 {
            match path.below(self.pmt_depth) {
                [N::OrgnlPmtInfId] => set_first(&mut self.pmt_id, t),
                [N::PmtInfSts] => set_first(&mut self.pmt.code, t),
                rel => self.pmt.reason_leaf(rel, t),
            }
            return;
        }
        match path.below(self.message) {
            [N::GrpHdr, N::MsgId] => {
                set_first(&mut self.msg_id, t);
                self.out
                    .statement(self.statement)
                    .id
                    .clone_from(&self.msg_id);
            }
            [N::GrpHdr, N::CreDtTm] => set_first(&mut self.created, t),
            [N::OrgnlGrpInfAndSts, N::GrpSts] => set_first(&mut self.group.code, t),
            [N::OrgnlGrpInfAndSts, rest @ ..] => self.group.reason_leaf(rest, t),
            _ => {}
        }
    }

    fn end_tx(&mut self) -> Result<(), FormatError> {
        self.pmt_txs += 1;
        let tx = std::mem::take(&mut self.tx);
        let inherited = if self.pmt_depth > 0 && !self.pmt.code.is_empty() {
            &self.pmt.code
        } else {
            &self.group.code
        };
        let code = either(&tx.status, inherited);
        let (status, rejection) = match code.as_str() {
            "RJCT" => (Some(Status::Failed), None),
            "ACSC" | "ACCC" | "ACWC" => (Some(Status::Settled), None),
            _ => (
                None,
                Some(Rejection {
                    reason: NotSettlement::NotFinal,
                    column: "status",
                    value: code,
                }),
            ),
        };
        let provider_ref = if absent_reference(&tx.sts_id) {
            format!("{}/{}", self.msg_id, self.out.next_row())
        } else {
            tx.sts_id.clone()
        };
        // Dates as written (a date-time in a date element is section 2's `invalid_date`);
        // the date of a date-time element (CONTRACT 7.3).
        let (value_date, value_date_original) = [
            (&tx.settlement_date, false),
            (&tx.execution_date, false),
            (&tx.execution_dttm, true),
            (&self.created, true),
        ]
        .into_iter()
        .find(|(d, _)| !d.is_empty())
        .map_or((String::new(), None), |(d, time)| {
            if time {
                date_of(d)
            } else {
                date_only(d)
            }
        });
        self.out.txn = Txn {
            row: 0,
            statement: self.statement,
            own_account: either(&tx.debtor_iban, &tx.debtor_other),
            instruction_id: first_reference(&[&tx.end_to_end, &tx.instr_id]).to_string(),
            provider_ref,
            account: either(&tx.creditor_iban, &tx.creditor_other),
            amount: tx.amount.value,
            fee: String::new(),
            currency: tx.amount.ccy,
            status,
            value_date,
            amount_original: None,
            value_date_original,
            rejection,
        };
        self.out.deliver()
    }

    fn end_pmt(&mut self) {
        if self.pmt_txs > 0 {
            return;
        }
        let id = if self.pmt_id.is_empty() {
            format!("#{}", self.pmts)
        } else {
            self.pmt_id.clone()
        };
        let notice = if !self.pmt.code.is_empty() {
            format!(
                "payment information {id} status {} without transaction details: no rows",
                self.pmt.describe()
            )
        } else if !self.group.code.is_empty() {
            format!(
                "payment information {id} (group status {}) without transaction details: no rows",
                self.group.describe()
            )
        } else {
            format!("payment information {id} without a status or transaction details: no rows")
        };
        self.out.info.notices.push(notice);
    }

    /// The message closed: a group status that no transaction carries is a notice.
    pub(super) fn finish(&mut self, _path: &Path) -> Result<(), FormatError> {
        if self.out.info.transactions > 0 || self.pmts > 0 {
            return Ok(());
        }
        let notice = if self.group.code.is_empty() {
            "the report holds no status and no transaction: no rows".to_string()
        } else {
            format!(
                "group status {} without transaction details: no rows",
                self.group.describe()
            )
        };
        self.out.info.notices.push(notice);
        Ok(())
    }
}
