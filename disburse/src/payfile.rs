//! Payment files: sverka's CSV layout and ISO 20022 pain.001.001.09 XML. Pure: each
//! builder takes the rows of one file and returns its bytes.
//!
//! A file holds one provider's rows in one currency (at most the batch size), in input
//! order. A pain.001 file has one payment information block per requested execution
//! date (the rows' `due_date`), in date order.

use std::io::Write;

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;
use sverka_engine::{date, money, Error, Result};

use crate::profiles::{AccountId, Provider};

/// One transaction of a payment file.
pub struct Tx<'a> {
    pub id: &'a str,
    pub beneficiary_id: &'a str,
    pub name: Option<&'a str>,
    pub account: &'a str,
    pub amount: i128,
    pub due: i32,
    pub program: &'a str,
    pub cycle: &'a str,
}

/// The columns of the CSV layout, in order.
pub const CSV_HEADER: [&str; 8] = [
    "end_to_end_id",
    "beneficiary_id",
    "beneficiary_name",
    "account",
    "amount",
    "currency",
    "requested_execution_date",
    "remittance_information",
];

/// pain.001's largest decimal: 18 digits in all (DecimalNumber, ActiveOrHistoricCurrencyAndAmount).
const MAX_XML_DIGITS: i128 = 1_000_000_000_000_000_000;

fn remittance(program: &str, cycle: &str) -> String {
    format!("{program} {cycle}")
}

/// The CSV layout. Cells are written as they are (no spreadsheet escaping: a wallet
/// number starts with `+`, and the provider's system reads the file, not a person).
pub fn csv(txs: &[Tx], currency: &str, minor: u8) -> Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::with_capacity(txs.len() * 120 + 200));
    let err = |e: csv::Error| Error::Internal(format!("payment csv: {e}"));
    w.write_record(CSV_HEADER).map_err(err)?;
    let mut amount = String::new();
    let mut day = String::new();
    for t in txs {
        amount.clear();
        money::format_minor(t.amount, minor, &mut amount);
        day.clear();
        date::format_date(t.due, &mut day);
        let rem = remittance(t.program, t.cycle);
        w.write_record([
            t.id,
            t.beneficiary_id,
            t.name.unwrap_or(""),
            t.account,
            amount.as_str(),
            currency,
            day.as_str(),
            rem.as_str(),
        ])
        .map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| Error::Internal(format!("payment csv: {e}")))
}

/// Text as XML 1.0 may carry it: characters XML forbids (C0 controls other than tab,
/// LF, CR) become spaces; cut to `max` characters (pain.001 MaxNText).
fn xml_text(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    // Fast path: short enough in bytes and no byte that could start a forbidden character.
    if s.len() <= max && s.bytes().all(|b| b >= 0x20 && b != 0xEF) {
        return std::borrow::Cow::Borrowed(s);
    }
    s.chars()
        .map(|c| {
            if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r')
                || c == '\u{FFFE}'
                || c == '\u{FFFF}'
            {
                ' '
            } else {
                c
            }
        })
        .take(max)
        .collect::<String>()
        .into()
}

/// Settings of one pain.001 message.
pub struct Message<'a> {
    pub msg_id: &'a str,
    pub execution_date: i32,
    pub currency: &'a str,
    pub minor: u8,
    pub provider: &'a Provider,
    /// True when creditor accounts are IBANs (`account_kind = "iban"`).
    pub iban_accounts: bool,
}

type W = Writer<Vec<u8>>;

fn io(e: std::io::Error) -> Error {
    Error::Internal(format!("pain.001: {e}"))
}

fn leaf(w: &mut W, name: &str, text: &str) -> Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(text))
        .map_err(io)?;
    Ok(())
}

fn open(w: &mut W, name: &str) -> Result<()> {
    w.write_event(Event::Start(quick_xml::events::BytesStart::new(name)))
        .map_err(io)
}

fn close(w: &mut W, name: &str) -> Result<()> {
    w.write_event(Event::End(quick_xml::events::BytesEnd::new(name)))
        .map_err(io)
}

fn account(w: &mut W, a: &AccountId) -> Result<()> {
    match a {
        AccountId::Iban(s) => account_ref(w, true, s),
        AccountId::Other(s) => account_ref(w, false, s),
    }
}

fn account_ref(w: &mut W, iban: bool, id: &str) -> Result<()> {
    open(w, "Id")?;
    match (iban, id) {
        (true, s) => leaf(w, "IBAN", s)?,
        (false, s) => {
            open(w, "Othr")?;
            leaf(w, "Id", s)?;
            close(w, "Othr")?;
        }
    }
    close(w, "Id")
}

fn amount_text(v: i128, minor: u8) -> Result<String> {
    if v >= MAX_XML_DIGITS {
        return Err(Error::Usage(format!(
            "the sum {} exceeds pain.001's 18 digits; lower --max-batch-rows (or the provider's batch_size)",
            money::minor_string(v, minor)
        )));
    }
    Ok(money::minor_string(v, minor))
}

/// A pain.001.001.09 document. `txs` must be in input order; blocks are per due date.
pub fn pain001(m: &Message, txs: &[Tx]) -> Result<Vec<u8>> {
    let p = m.provider;
    let debtor = p
        .debtor_name
        .as_deref()
        .ok_or_else(|| Error::Internal(format!("provider {} has no debtor_name", p.code)))?;
    let debtor_account = p
        .debtor_account
        .as_ref()
        .ok_or_else(|| Error::Internal(format!("provider {} has no debtor_account", p.code)))?;
    let debtor_bic = p
        .debtor_agent_bic
        .as_deref()
        .ok_or_else(|| Error::Internal(format!("provider {} has no debtor_agent_bic", p.code)))?;
    // Blocks: one per due date, dates ascending, rows in input order within a block.
    let mut order: Vec<usize> = (0..txs.len()).collect();
    order.sort_by_key(|&i| (txs[i].due, i));
    let total: i128 = txs.iter().map(|t| t.amount).sum();

    let mut w = Writer::new_with_indent(Vec::with_capacity(txs.len() * 560 + 2048), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .map_err(io)?;
    w.write_event(Event::Start(
        quick_xml::events::BytesStart::new("Document").with_attributes([
            ("xmlns", "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
        ]),
    ))
    .map_err(io)?;
    open(&mut w, "CstmrCdtTrfInitn")?;
    open(&mut w, "GrpHdr")?;
    leaf(&mut w, "MsgId", m.msg_id)?;
    leaf(
        &mut w,
        "CreDtTm",
        &format!("{}T00:00:00", date::date_string(m.execution_date)),
    )?;
    leaf(&mut w, "NbOfTxs", &txs.len().to_string())?;
    leaf(&mut w, "CtrlSum", &amount_text(total, m.minor)?)?;
    open(&mut w, "InitgPty")?;
    leaf(&mut w, "Nm", &xml_text(debtor, 140))?;
    close(&mut w, "InitgPty")?;
    close(&mut w, "GrpHdr")?;

    let mut start = 0;
    let mut block = 0;
    let mut amount = String::new();
    let mut rem = String::new();
    while start < order.len() {
        let due = txs[order[start]].due;
        let end = start
            + order[start..]
                .iter()
                .take_while(|&&i| txs[i].due == due)
                .count();
        block += 1;
        let rows = &order[start..end];
        let sum: i128 = rows.iter().map(|&i| txs[i].amount).sum();
        open(&mut w, "PmtInf")?;
        leaf(&mut w, "PmtInfId", &format!("{}-{block}", m.msg_id))?;
        leaf(&mut w, "PmtMtd", "TRF")?;
        leaf(&mut w, "NbOfTxs", &rows.len().to_string())?;
        leaf(&mut w, "CtrlSum", &amount_text(sum, m.minor)?)?;
        open(&mut w, "ReqdExctnDt")?;
        leaf(&mut w, "Dt", &date::date_string(due))?;
        close(&mut w, "ReqdExctnDt")?;
        open(&mut w, "Dbtr")?;
        leaf(&mut w, "Nm", &xml_text(debtor, 140))?;
        close(&mut w, "Dbtr")?;
        open(&mut w, "DbtrAcct")?;
        account(&mut w, debtor_account)?;
        leaf(&mut w, "Ccy", m.currency)?;
        close(&mut w, "DbtrAcct")?;
        open(&mut w, "DbtrAgt")?;
        open(&mut w, "FinInstnId")?;
        leaf(&mut w, "BICFI", debtor_bic)?;
        close(&mut w, "FinInstnId")?;
        close(&mut w, "DbtrAgt")?;
        for &i in rows {
            let t = &txs[i];
            open(&mut w, "CdtTrfTxInf")?;
            open(&mut w, "PmtId")?;
            leaf(&mut w, "EndToEndId", t.id)?;
            close(&mut w, "PmtId")?;
            open(&mut w, "Amt")?;
            if t.amount >= MAX_XML_DIGITS {
                amount_text(t.amount, m.minor)?;
            }
            amount.clear();
            money::format_minor(t.amount, m.minor, &mut amount);
            w.create_element("InstdAmt")
                .with_attribute(("Ccy", m.currency))
                .write_text_content(BytesText::new(&amount))
                .map_err(io)?;
            close(&mut w, "Amt")?;
            if let Some(bic) = &p.creditor_agent_bic {
                open(&mut w, "CdtrAgt")?;
                open(&mut w, "FinInstnId")?;
                leaf(&mut w, "BICFI", bic)?;
                close(&mut w, "FinInstnId")?;
                close(&mut w, "CdtrAgt")?;
            }
            open(&mut w, "Cdtr")?;
            leaf(
                &mut w,
                "Nm",
                &xml_text(t.name.unwrap_or(t.beneficiary_id), 140),
            )?;
            close(&mut w, "Cdtr")?;
            open(&mut w, "CdtrAcct")?;
            account_ref(&mut w, m.iban_accounts, &xml_text(t.account, 34))?;
            close(&mut w, "CdtrAcct")?;
            open(&mut w, "RmtInf")?;
            rem.clear();
            rem.push_str(t.program);
            rem.push(' ');
            rem.push_str(t.cycle);
            leaf(&mut w, "Ustrd", &xml_text(&rem, 140))?;
            close(&mut w, "RmtInf")?;
            close(&mut w, "CdtTrfTxInf")?;
        }
        close(&mut w, "PmtInf")?;
        start = end;
    }
    close(&mut w, "CstmrCdtTrfInitn")?;
    close(&mut w, "Document")?;
    let mut out = w.into_inner();
    out.write_all(b"\n").map_err(io)?;
    Ok(out)
}
