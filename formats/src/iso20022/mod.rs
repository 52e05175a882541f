//! ISO 20022 camt.053, camt.054 and pain.002, every message version (CONTRACT 7.1, 7.3,
//! 7.5), read as a stream of XML events: no DOM, no serde structures, memory bounded
//! whatever the file's size (a payroll is often one debit entry with millions of
//! `TxDtls`, so a camt entry's transactions are handed on as they close, holding back
//! one to learn whether the entry has more).
//!
//! Elements are matched by local name in any namespace, inside `AppHdr`/`BizMsgEnvlp`
//! envelopes or another wrapper. Choices the contract leaves open, and made here:
//! - Text values are trimmed of XML whitespace (space, tab, CR, LF) before any rule;
//!   an element present but empty counts as absent. When the schema allows one element
//!   and a file repeats it, the first one counts.
//! - camt `not_a_payment` value: the direction and the bank transaction code, the ISO
//!   code `Domn/Cd/Fmly/Cd/SubFmlyCd` joined with `/` (`CRDT PMNT/RCDT/ESCT`), else the
//!   proprietary `Prtry/Cd` (`CRDT 544`), else the direction alone.
//! - `batch_without_details` value: `PmtInfId=X NbOfTxs=3 TtlAmt=300.00` (the parts the
//!   file has). A non-booked entry is `not_booked` even when it is also such a batch.
//! - camt `account`: the counterparty is compared with the statement's own account
//!   without spaces and in upper case (as CONTRACT 7.2 compares accounts).
//! - camt `fee`: `Chrgs/TtlChrgsAndTaxAmt` only when its `Ccy` is the row's currency
//!   (or absent); a fee in another currency cannot be a fee of this row and is left out.
//! - Balance check: both conventions of CONTRACT 7.5 are computed; `found` names the
//!   one that holds, or both when neither does.
//! - Anything after the root element but whitespace, comments and processing
//!   instructions is an error: it would otherwise be silently ignored.
//! - A second message element in one file (two `Document`s in one envelope) is an error.
//! - Places name the 1-based line, the 0-based byte offset and the element path.

use quick_xml::events::{BytesDecl, BytesStart, Event};
use quick_xml::Reader;

use crate::{FileInfo, FormatError, Kind, Recognised, RefCounter, Source, Statement, Txn, TxnSink};

mod camt;
mod names;
mod pain;
mod xml;

use xml::Path;

/// Recognises ISO 20022 XML from the first bytes of a file (CONTRACT 7.1): `None` when
/// the file is not XML at all.
pub fn recognise(head: &[u8]) -> Option<Recognised> {
    if let Some(encoding) = utf16_xml(head) {
        return Some(Recognised::Refused(FormatError {
            place: "byte 0".into(),
            message: format!(
                "the file is XML in {encoding}: ISO 20022 XML is UTF-8; ask the sender for \
                 UTF-8, or convert it (e.g. iconv -f {encoding} -t UTF-8)"
            ),
        }));
    }
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'<' {
        return None;
    }
    Some(sniff(
        body,
        head.len() - body.len(),
        head.len() < crate::SNIFF_BYTES,
    ))
}

/// `UTF-16LE`/`UTF-16BE` when the head is XML in UTF-16 (with or without its byte-order
/// mark). A UTF-16 file that is not XML (a provider's CSV) is not refused here.
fn utf16_xml(head: &[u8]) -> Option<&'static str> {
    let (le, body) = match head {
        [0xFF, 0xFE, rest @ ..] => (true, rest),
        [0xFE, 0xFF, rest @ ..] => (false, rest),
        [b'<', 0, ..] => (true, head),
        [0, b'<', ..] => (false, head),
        _ => return None,
    };
    let first = body
        .chunks_exact(2)
        .map(|p| if le { (p[0], p[1]) } else { (p[1], p[0]) })
        .find(|&(lo, hi)| !(hi == 0 && matches!(lo, b' ' | b'\t' | b'\r' | b'\n')))?;
    (first == (b'<', 0)).then_some(if le { "UTF-16LE" } else { "UTF-16BE" })
}

/// Looks through the head's XML for the message element. `bom`: bytes of a byte-order mark
/// before `body`; `whole`: the head is the whole file, so running out of it is the file's
/// end, not the head's.
fn sniff(body: &[u8], bom: usize, whole: bool) -> Recognised {
    let mut reader = Reader::from_reader(body);
    let mut buf = Vec::new();
    let mut env = Envelope::default();
    let mut depth = 0usize;
    let mut text = String::new();
    loop {
        buf.clear();
        let refused =
            |message: String, place: String| Recognised::Refused(FormatError { place, message });
        let start = reader.buffer_position() + bom as u64;
        let place = || format!("byte {start}");
        let event = match reader.read_event_into(&mut buf) {
            Ok(ev) => ev,
            Err(_) if !whole => return env.unseen(),
            Err(e) => {
                return refused(
                    format!("the XML is not well-formed: {e}"),
                    format!("byte {}", reader.error_position() + bom as u64),
                )
            }
        };
        match event {
            Event::Decl(d) => {
                if let Some(message) = declared_encoding_problem(&d) {
                    return refused(message, place());
                }
            }
            Event::DocType(_) => return refused(xml::DOCTYPE.into(), place()),
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                depth += 1;
                match env.start(depth, e) {
                    Seen::Message(kind) => return Recognised::Provider(kind),
                    Seen::Other(message) => return refused(message, place()),
                    Seen::Pass => {}
                }
                text.clear();
                if empty {
                    env.end(depth, e.local_name().into_inner(), Some(""));
                    depth -= 1;
                }
            }
            Event::Text(t) => text.push_str(&String::from_utf8_lossy(&t)),
            Event::End(ref e) => {
                env.end(depth, e.local_name().into_inner(), Some(xml::trim(&text)));
                text.clear();
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return env.unseen_in_whole();
                }
            }
            Event::Eof if whole && depth == 0 => return env.unseen_in_whole(),
            Event::Eof if whole => {
                return refused(
                    format!(
                        "the file ends inside <{}> before any ISO 20022 message element: it may \
                         be truncated",
                        env.root
                    ),
                    place(),
                )
            }
            Event::Eof => return env.unseen(),
            _ => {}
        }
    }
}

/// `Some(message)` when an XML declaration names an encoding other than UTF-8.
fn declared_encoding_problem(d: &BytesDecl<'_>) -> Option<String> {
    let encoding = match d.encoding()? {
        Ok(e) => String::from_utf8_lossy(&e).into_owned(),
        Err(e) => return Some(format!("the XML declaration cannot be read: {e}")),
    };
    if encoding.eq_ignore_ascii_case("UTF-8") {
        return None;
    }
    Some(format!(
        "the XML declaration says encoding=\"{encoding}\": ISO 20022 XML is UTF-8; ask the sender \
         for UTF-8, or convert the file (e.g. iconv -f {encoding} -t UTF-8) and correct the \
         declaration"
    ))
}

/// The kind of a message element, by local name, any version: `BkToCstmrStmt` (and the
/// version 1 `BkToCstmrStmtV01`), `BkToCstmrDbtCdtNtfctn`, `CstmrPmtStsRpt`, and the
/// `pain.002.001.02` root element of the oldest pain.002.
fn message_kind(local: &[u8]) -> Option<Kind> {
    let versioned = |base: &[u8]| {
        local.strip_prefix(base).is_some_and(|rest| {
            rest.is_empty()
                || rest
                    .strip_prefix(b"V")
                    .is_some_and(|n| !n.is_empty() && n.iter().all(u8::is_ascii_digit))
        })
    };
    if versioned(b"BkToCstmrStmt") || local.starts_with(b"camt.053.") {
        Some(Kind::Camt053)
    } else if versioned(b"BkToCstmrDbtCdtNtfctn") || local.starts_with(b"camt.054.") {
        Some(Kind::Camt054)
    } else if versioned(b"CstmrPmtStsRpt") || local.starts_with(b"pain.002.") {
        Some(Kind::Pain002)
    } else {
        None
    }
}

/// Other ISO 20022 messages people mistake for statements, to name them in the refusal.
const OTHER_MESSAGES: &[(&str, &str)] = &[
    ("BkToCstmrAcctRpt", "camt.052"),
    ("CstmrCdtTrfInitn", "pain.001"),
    ("CstmrDrctDbtInitn", "pain.008"),
    ("CstmrPmtRvsl", "pain.007"),
    ("FIToFICstmrCdtTrf", "pacs.008"),
    ("FIToFIPmtStsRpt", "pacs.002"),
    ("FIToFICstmrDrctDbt", "pacs.003"),
    ("PmtRtr", "pacs.004"),
    ("FICdtTrf", "pacs.009"),
    ("CstmrPmtCxlReq", "camt.055"),
    ("FIToFIPmtCxlReq", "camt.056"),
    ("RsltnOfInvstgtn", "camt.029"),
    ("AcctRptgReq", "camt.060"),
];

/// The refusal of another ISO 20022 message, named by its element and its identifier
/// (from the namespace, else the table above).
fn other_message(local: &str, version: &str) -> String {
    let id = if version.is_empty() {
        OTHER_MESSAGES
            .iter()
            .find(|(n, _)| *n == local)
            .map_or("", |(_, id)| *id)
    } else {
        version
    };
    let named = match (local.is_empty(), id.is_empty()) {
        (true, _) => id.to_string(),
        (false, true) => local.to_string(),
        (false, false) => format!("{local} ({id})"),
    };
    let hint = if id.starts_with("camt.052") {
        " (an intraday account report; ask the bank for the end-of-day camt.053 statement)"
    } else {
        ""
    };
    format!(
        "an ISO 20022 {named} message, not a statement sverka reads{hint}: sverka reads camt.053 \
         (BkToCstmrStmt), camt.054 (BkToCstmrDbtCdtNtfctn) and pain.002 (CstmrPmtStsRpt)"
    )
}

/// The message identifier an ISO 20022 namespace ends with: `camt.053.001.08` from
/// `urn:iso:std:iso:20022:tech:xsd:camt.053.001.08`, also `urn:swift:xsd:$camt...` and
/// Swiss `http://www.six-interbank-clearing.com/de/pain.002.001.03.ch.02.xsd`
/// (`pain.002.001.03.ch.02`).
fn message_id_of_namespace(ns: &str) -> Option<&str> {
    let last = ns.rsplit([':', '/']).next()?.trim_start_matches('$');
    let last = last.strip_suffix(".xsd").unwrap_or(last);
    let b = last.as_bytes();
    let shape = b.len() >= 15
        && b[..4].iter().all(u8::is_ascii_lowercase)
        && b[4] == b'.'
        && b[5..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'.'
        && b[9..12].iter().all(u8::is_ascii_digit)
        && b[12] == b'.'
        && b[13..15].iter().all(u8::is_ascii_digit)
        && (b.len() == 15 || b[15] == b'.');
    shape.then_some(last)
}

/// The ISO 20022 message identifier among an element's namespace declarations.
fn namespace_version(e: &BytesStart<'_>) -> Option<String> {
    e.attributes().with_checks(false).flatten().find_map(|a| {
        let key = a.key.as_ref();
        if key != b"xmlns" && !key.starts_with(b"xmlns:") {
            return None;
        }
        let value = String::from_utf8_lossy(&a.value).into_owned();
        message_id_of_namespace(&value).map(str::to_string)
    })
}

/// What an element outside the message is.
enum Seen {
    /// An envelope, a wrapper or the inside of `AppHdr`: go on.
    Pass,
    /// The message element of a file this crate reads.
    Message(Kind),
    /// Another ISO 20022 message: the refusal.
    Other(String),
}

/// The elements around the message: `BizMsgEnvlp`, `AppHdr` (skipped, but its
/// `MsgDefIdr` noted), `Document` (its namespace gives the version), other wrappers.
#[derive(Default)]
struct Envelope {
    /// Depth of the open `AppHdr`, 0 when none is open.
    app_hdr: usize,
    /// Depth of the open `Document`, 0 when none is open.
    document: usize,
    doc_version: String,
    hdr_version: String,
    root: String,
}

impl Envelope {
    fn start(&mut self, depth: usize, e: &BytesStart<'_>) -> Seen {
        let local = e.local_name().into_inner();
        if depth == 1 {
            self.root = String::from_utf8_lossy(local).into_owned();
        }
        if self.app_hdr > 0 {
            return Seen::Pass;
        }
        if local == b"AppHdr" {
            self.app_hdr = depth;
            return Seen::Pass;
        }
        if let Some(kind) = message_kind(local) {
            if self.doc_version.is_empty() {
                if let Some(v) = namespace_version(e) {
                    self.doc_version = v;
                }
            }
            return Seen::Message(kind);
        }
        if local == b"Document" {
            self.document = depth;
            if let Some(v) = namespace_version(e) {
                self.doc_version = v;
            }
            return Seen::Pass;
        }
        let name = String::from_utf8_lossy(local);
        if self.document > 0 && depth == self.document + 1 {
            return Seen::Other(other_message(&name, &self.doc_version));
        }
        if OTHER_MESSAGES.iter().any(|(n, _)| *n == name) {
            return Seen::Other(other_message(&name, &self.doc_version));
        }
        Seen::Pass
    }

    /// An element outside the message closes (`text`: its text when a leaf). The
    /// application header's own `MsgDefIdr` (not a related message's) names the message.
    fn end(&mut self, depth: usize, local: &[u8], text: Option<&str>) {
        if self.app_hdr > 0 && depth == self.app_hdr + 1 && local == b"MsgDefIdr" {
            if let Some(id) = text.and_then(message_id_of_namespace) {
                if self.hdr_version.is_empty() {
                    self.hdr_version = id.to_string();
                }
            }
        }
        if depth == self.app_hdr {
            self.app_hdr = 0;
        }
        if depth == self.document {
            self.document = 0;
        }
    }

    /// The version: the `Document` namespace, else the `AppHdr`'s `MsgDefIdr`.
    fn version(&self) -> String {
        if self.doc_version.is_empty() {
            self.hdr_version.clone()
        } else {
            self.doc_version.clone()
        }
    }

    /// The head ended before the message element: infer from the namespace or the
    /// application header, else refuse.
    fn unseen(&self) -> Recognised {
        let version = self.version();
        let kind = if version.starts_with("camt.053.") {
            Some(Kind::Camt053)
        } else if version.starts_with("camt.054.") {
            Some(Kind::Camt054)
        } else if version.starts_with("pain.002.") {
            Some(Kind::Pain002)
        } else {
            None
        };
        match kind {
            Some(kind) => Recognised::Provider(kind),
            None if !version.is_empty() => Recognised::Refused(FormatError {
                place: String::new(),
                message: other_message("", &version),
            }),
            None => Recognised::Refused(FormatError {
                place: format!("the first {} KiB", crate::SNIFF_BYTES / 1024),
                message: format!(
                    "an XML file (root element <{}>) with no ISO 20022 message element in its \
                     first {} KiB: sverka reads camt.053, camt.054 and pain.002 XML",
                    self.root,
                    crate::SNIFF_BYTES / 1024
                ),
            }),
        }
    }

    /// The whole file was seen and holds no message element.
    fn unseen_in_whole(&self) -> Recognised {
        Recognised::Refused(FormatError {
            place: String::new(),
            message: self.no_message(),
        })
    }

    fn no_message(&self) -> String {
        format!(
            "an XML file (root element <{}>) that holds no ISO 20022 message: sverka reads \
             camt.053 (BkToCstmrStmt), camt.054 (BkToCstmrDbtCdtNtfctn) and pain.002 \
             (CstmrPmtStsRpt)",
            self.root
        )
    }
}

/// Reads a whole camt.053, camt.054 or pain.002 file (see the module notes).
pub fn read(
    kind: Kind,
    input: &mut dyn Source,
    sink: TxnSink<'_>,
) -> Result<FileInfo, FormatError> {
    let out = Out::new(kind, sink);
    let body = match kind {
        Kind::Pain002 => Body::Pain(Box::new(pain::Pain::new(out))),
        Kind::Camt053 | Kind::Camt054 => Body::Camt(Box::new(camt::Camt::new(out))),
        Kind::Mt940 => {
            return Err(FormatError {
                place: String::new(),
                message: "an MT940 file was handed to the ISO 20022 reader (internal error)".into(),
            })
        }
    };
    let mut dispatch = Dispatch {
        kind,
        env: Envelope::default(),
        message: 0,
        done: false,
        body,
    };
    if let Err(e) = xml::walk(&mut *input, &mut dispatch) {
        return Err(with_line(input, e));
    }
    if !dispatch.done {
        return Err(FormatError {
            place: String::new(),
            message: dispatch.env.no_message(),
        });
    }
    let version = dispatch.env.version();
    let mut info = match dispatch.body {
        Body::Camt(c) => c.out.info,
        Body::Pain(p) => p.out.info,
    };
    info.version = version;
    Ok(info)
}

enum Body<'s> {
    Camt(Box<camt::Camt<'s>>),
    Pain(Box<pain::Pain<'s>>),
}

/// Finds the message element in its envelope and hands what is inside it to the reader
/// of its kind.
struct Dispatch<'s> {
    kind: Kind,
    env: Envelope,
    /// Depth of the message element once found, 0 before.
    message: usize,
    done: bool,
    body: Body<'s>,
}

impl xml::Handler for Dispatch<'_> {
    // Inlined into the walker, so that an element inside the message (nearly all of
    // them) goes straight to its reader.
    #[inline(always)]
    fn start(&mut self, path: &Path, e: &BytesStart<'_>) -> Result<(), FormatError> {
        if self.message > 0 && path.depth() > self.message {
            return match &mut self.body {
                Body::Camt(c) => c.start(path, e),
                Body::Pain(p) => p.start(path, e),
            };
        }
        self.start_outside(path, e)
    }

    #[inline(always)]
    fn end(&mut self, path: &Path, text: Option<&str>) -> Result<(), FormatError> {
        if self.message > 0 && path.depth() > self.message {
            return match &mut self.body {
                Body::Camt(c) => c.end(path, text),
                Body::Pain(p) => p.end(path, text),
            };
        }
        self.end_outside(path, text)
    }
}

impl Dispatch<'_> {
    /// An element outside the message, or the message element itself, opens.
    #[inline(never)]
    fn start_outside(&mut self, path: &Path, e: &BytesStart<'_>) -> Result<(), FormatError> {
        let depth = path.depth();
        match self.env.start(depth, e) {
            Seen::Pass => Ok(()),
            Seen::Other(message) => Err(path.error(message)),
            Seen::Message(_) if self.done => Err(path.error(
                "a second message in one file: sverka reads one ISO 20022 message per file; \
                 split the file",
            )),
            Seen::Message(kind) if kind != self.kind => Err(path.error(format!(
                "the file holds a {} message where a {} was expected",
                kind.as_str(),
                self.kind.as_str()
            ))),
            Seen::Message(_) => {
                self.message = depth;
                match &mut self.body {
                    Body::Camt(c) => c.begin(depth),
                    Body::Pain(p) => p.begin(depth),
                }
                Ok(())
            }
        }
    }

    /// An element outside the message, or the message element itself, closes.
    #[inline(never)]
    fn end_outside(&mut self, path: &Path, text: Option<&str>) -> Result<(), FormatError> {
        let depth = path.depth();
        if self.message > 0 && depth == self.message {
            self.message = 0;
            self.done = true;
            return match &mut self.body {
                Body::Camt(c) => c.finish(path),
                Body::Pain(p) => p.finish(path),
            };
        }
        self.env.end(depth, path.name(), text);
        Ok(())
    }
}

/// Where transactions go: numbers rows, makes references unique, counts per statement
/// and calls the sink.
struct Out<'s> {
    sink: TxnSink<'s>,
    refs: RefCounter,
    info: FileInfo,
    /// The transaction being handed on; the readers fill it in place so that its strings
    /// keep their allocations from one transaction to the next.
    txn: Txn,
}

impl<'s> Out<'s> {
    fn new(kind: Kind, sink: TxnSink<'s>) -> Self {
        Out {
            sink,
            refs: RefCounter::default(),
            info: FileInfo {
                kind: Some(kind),
                ..FileInfo::default()
            },
            txn: Txn::default(),
        }
    }

    /// The row the next transaction gets.
    fn next_row(&self) -> u64 {
        self.info.transactions + 1
    }

    /// Opens a statement; its index.
    fn open_statement(&mut self) -> usize {
        self.info.statements.push(Statement::default());
        self.info.statements.len() - 1
    }

    fn statement(&mut self, i: usize) -> &mut Statement {
        self.info
            .statements
            .get_mut(i)
            .expect("statement indices come from open_statement and statements are never removed")
    }

    /// Hands [`Out::txn`] (of statement `txn.statement`) to the sink.
    fn deliver(&mut self) -> Result<(), FormatError> {
        let txn = &mut self.txn;
        txn.row = self.info.transactions + 1;
        self.refs.unique(&mut txn.provider_ref);
        self.info.transactions += 1;
        if let Some(s) = self.info.statements.get_mut(txn.statement) {
            s.transactions += 1;
        }
        (self.sink)(&self.txn, &self.info.statements)
    }
}

/// Sets `field` to `text` unless it has a value already (the first element counts).
fn set_first(field: &mut String, text: &str) {
    if field.is_empty() {
        field.push_str(text);
    }
}

/// A date as the contract wants it: `YYYY-MM-DD` from an ISO date or date-time
/// (`2026-11-05`, `2026-11-05+01:00`, `2026-11-05T10:00:00`), with the file's text as the
/// original when it differs; any other text as it is (section 2 judges it).
fn date_of(t: &str) -> (String, Option<String>) {
    owned(date_of_str(t))
}

/// [`date_of`] as parts of `t`.
fn date_of_str(t: &str) -> (&str, Option<&str>) {
    let b = t.as_bytes();
    let shaped = b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
        && (b.len() == 10 || matches!(b[10], b'T' | b'Z' | b'+' | b'-'));
    if shaped && b.len() > 10 {
        (&t[..10], Some(t))
    } else {
        (t, None)
    }
}

fn owned((date, original): (&str, Option<&str>)) -> (String, Option<String>) {
    (date.to_string(), original.map(str::to_string))
}

/// A date element's value (ISO 20022 `ISODate`, an XML `date`): its date when it carries
/// a time zone (`2026-11-05+01:00`), else as written, so that a date-time where a date
/// belongs (`2026-11-05T10:00:00`) reaches section 2 as the file wrote it.
fn date_only(t: &str) -> (String, Option<String>) {
    owned(date_only_str(t))
}

/// [`date_only`] as parts of `t`.
fn date_only_str(t: &str) -> (&str, Option<&str>) {
    if t.as_bytes().get(10) == Some(&b'T') {
        (t, None)
    } else {
        date_of_str(t)
    }
}

/// The `Ccy` attribute of an amount element (empty when absent).
fn currency_of(path: &Path, e: &BytesStart<'_>, into: &mut String) -> Result<(), FormatError> {
    into.clear();
    // The usual shapes are read directly: no attribute, or exactly ` Ccy="EUR"` with a
    // code of letters and digits, which quick-xml reads the same way (no error, nothing
    // to normalise or trim) at many times the cost. Anything else goes through it.
    match e.attributes_raw() {
        [] => return Ok(()),
        [b' ', b'C', b'c', b'y', b'=', b'"', rest @ .., b'"']
            if rest.iter().all(u8::is_ascii_alphanumeric) =>
        {
            into.push_str(std::str::from_utf8(rest).unwrap_or_default());
            return Ok(());
        }
        _ => {}
    }
    currency_by_attributes(path, e, into)
}

/// The `Ccy` attribute as quick-xml reads attributes, into the cleared `into`.
fn currency_by_attributes(
    path: &Path,
    e: &BytesStart<'_>,
    into: &mut String,
) -> Result<(), FormatError> {
    match e.try_get_attribute("Ccy") {
        Ok(Some(a)) => match a.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
            Ok(v) => into.push_str(xml::trim(&v)),
            Err(err) => return Err(path.error(format!("the Ccy attribute cannot be read: {err}"))),
        },
        Ok(None) => {}
        Err(err) => return Err(path.error(format!("the attributes cannot be read: {err}"))),
    }
    Ok(())
}

/// An error's place `byte N, …` as `line L (byte N), …`: the line is counted from the file
/// once the read has stopped (the hot path counts bytes only). Left as it was if the file
/// cannot be read again.
fn with_line(input: &mut dyn Source, mut e: FormatError) -> FormatError {
    use std::io::{BufRead, BufReader, SeekFrom};
    let Some(rest) = e.place.strip_prefix("byte ") else {
        return e;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let Ok(byte) = rest[..digits].parse::<u64>() else {
        return e;
    };
    if input.seek(SeekFrom::Start(0)).is_err() {
        return e;
    }
    let mut r = BufReader::with_capacity(1 << 16, input);
    let (mut seen, mut newlines) = (0u64, 0u64);
    while seen < byte {
        let Ok(buf) = r.fill_buf() else { return e };
        if buf.is_empty() {
            break;
        }
        let n = buf.len().min((byte - seen) as usize);
        newlines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        seen += n as u64;
        r.consume(n);
    }
    e.place = format!("line {} (byte {byte}){}", newlines + 1, &rest[digits..]);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct reading of the usual `Ccy` shapes agrees with quick-xml's.
    #[test]
    fn currency_shortcut_agrees_with_attributes() {
        let path = Path::new();
        let tags = [
            "Amt",
            "Amt Ccy=\"EUR\"",
            "Amt Ccy=\"\"",
            "Amt Ccy=\"uzs1\"",
            "TtlChrgsAndTaxAmt Ccy=\"USD\"",
            "Amt Ccy=\" EUR \"",
            "Amt Ccy=\"E&amp;R\"",
            "Amt Ccy='EUR'",
            "Amt  Ccy=\"EUR\"",
            "Amt Ccy=\"EUR\" ",
            "Amt Ccy=\"EUR\" Ccy=\"USD\"",
            "Amt Ccy=\"EUR",
            "Amt Ccy=\"E\tR\"",
            "Amt Ccy=\"EU\"R\"",
        ];
        for tag in tags {
            let e = BytesStart::from_content(tag, tag.find(' ').unwrap_or(tag.len()));
            let (mut fast, mut slow) = (String::from("x"), String::new());
            let got = currency_of(&path, &e, &mut fast);
            let want = currency_by_attributes(&path, &e, &mut slow);
            assert_eq!(got, want, "{tag}");
            assert_eq!(fast, slow, "{tag}");
        }
    }
}
