//! pain.002.001.10 customer payment status reports: the provider's answer to the
//! agency's pain.001, one `TxInfAndSts` per settlement, read back by CONTRACT 7.3.
//!
//! `StsId` is the provider's reference, `OrgnlEndToEndId` the echoed instruction id
//! (`NOTPROVIDED` when the provider sent none), `TxSts` `ACSC` (settled) or `RJCT`
//! (failed, with a reason code); `OrgnlTxRef` gives `Amt/InstdAmt` with `Ccy` (left out
//! when the provider did not say it: CONTRACT v2), the value date as `IntrBkSttlmDt`
//! for a settled payment and as `ReqdExctnDt/Dt` for a rejected one, the agency's
//! `DbtrAcct` (how the provider is found, CONTRACT 7.2) and the beneficiary's
//! `CdtrAcct`. A status report has no fee and no declared totals to check.

use std::path::PathBuf;

use crate::catalog::PROVIDERS;
use crate::error::RefdataError;
use crate::plan::{SRow, SStatus};
use crate::render::{render_settlement, RowText};
use crate::sink::{DocWriter, Written};
use crate::statement::{Chunk, Entry};
use crate::xml::{XmlOut, CREATED};

/// A pain.002 file being written.
pub(crate) struct PainDoc {
    x: XmlOut,
    provider: u8,
    resent: bool,
    seq: u32,
    row: RowText,
}

impl PainDoc {
    pub(crate) fn new(path: PathBuf, provider: u8, resent: bool) -> PainDoc {
        PainDoc {
            x: XmlOut::new(path),
            provider,
            resent,
            seq: 0,
            row: RowText::new(),
        }
    }

    fn name(&self) -> &'static str {
        PROVIDERS[usize::from(self.provider)].name
    }
}

impl DocWriter for PainDoc {
    fn begin(&mut self) -> Result<(), RefdataError> {
        self.x
            .begin("urn:iso:std:iso:20022:tech:xsd:pain.002.001.10")?;
        self.x.start("CstmrPmtStsRpt")?;
        self.x.nl();
        self.x.start("GrpHdr")?;
        let r = if self.resent { "R" } else { "" };
        self.x
            .leaf("MsgId", &format!("{}-STS{r}-202611", self.name()))?;
        self.x.leaf("CreDtTm", CREATED)?;
        self.x.end("GrpHdr")?;
        self.x.nl();
        self.x.start("OrgnlGrpInfAndSts")?;
        self.x
            .leaf("OrgnlMsgId", &format!("PAYROLL-2026-11-{}", self.name()))?;
        self.x.leaf("OrgnlMsgNmId", "pain.001.001.09")?;
        self.x.end("OrgnlGrpInfAndSts")?;
        self.x.nl();
        self.x.flush()
    }

    fn statement(&mut self, c: Chunk) -> Result<(), RefdataError> {
        self.seq += 1;
        self.x.start("OrgnlPmtInfAndSts")?;
        let id = format!("PAYROLL-2026-11-{}-{:05}", self.name(), self.seq);
        self.x.leaf("OrgnlPmtInfId", &id)?;
        self.x.nl();
        for e in &c.entries {
            let Entry::Booking(rows) = e else {
                return Err(RefdataError::internal("a pain.002 holds settlements only"));
            };
            for r in rows {
                self.transaction(&c, r)?;
                self.x.nl();
            }
        }
        self.x.end("OrgnlPmtInfAndSts")?;
        self.x.nl();
        self.x.flush()
    }

    fn finish(self: Box<Self>) -> Result<Written, RefdataError> {
        let mut me = *self;
        me.x.end("CstmrPmtStsRpt")?;
        me.x.nl();
        me.x.finish()
    }
}

impl PainDoc {
    fn transaction(&mut self, c: &Chunk, r: &SRow) -> Result<(), RefdataError> {
        render_settlement(r, &mut self.row, false);
        let text =
            |row: &RowText, i: usize| row.get(i).filter(|v| !v.is_empty()).map(str::to_string);
        let (reference, e2e) = (text(&self.row, 1), self.row.get(2).map(str::to_string));
        let (account, amount, date) = (text(&self.row, 3), text(&self.row, 4), text(&self.row, 8));
        let ccy = self.row.get(6).unwrap_or("").to_string();
        let narrative = text(&self.row, 9);
        let failed = r.status == SStatus::Failed;
        self.x.start("TxInfAndSts")?;
        if let Some(v) = &reference {
            self.x.leaf("StsId", v)?;
        }
        match e2e.as_deref() {
            None => self.x.leaf("OrgnlEndToEndId", "NOTPROVIDED")?,
            Some("") => {}
            Some(v) => self.x.leaf("OrgnlEndToEndId", v)?,
        }
        self.x.leaf("TxSts", if failed { "RJCT" } else { "ACSC" })?;
        if failed {
            self.x.start("StsRsnInf")?;
            self.x.start("Rsn")?;
            self.x.leaf(
                "Cd",
                ["AC04", "AC01", "AM04", "BE01"][(r.ref_no % 4) as usize],
            )?;
            self.x.end("Rsn")?;
            self.x.end("StsRsnInf")?;
        }
        self.x.start("OrgnlTxRef")?;
        if let Some(a) = &amount {
            self.x.start("Amt")?;
            self.x.amount("InstdAmt", &ccy, a)?;
            self.x.end("Amt")?;
        }
        if let Some(d) = &date {
            if failed {
                self.x.date("ReqdExctnDt", d)?;
            } else {
                self.x.leaf("IntrBkSttlmDt", d)?;
            }
        }
        if let Some(n) = &narrative {
            self.x.start("RmtInf")?;
            self.x.leaf("Ustrd", n)?;
            self.x.end("RmtInf")?;
        }
        self.x
            .debtor_and_creditor(self.provider, c.currency, r.provider, account.as_deref())?;
        self.x.end("OrgnlTxRef")?;
        self.x.end("TxInfAndSts")
    }
}
