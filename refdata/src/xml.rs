//! XML output of the ISO 20022 provider files: quick-xml's writer (it escapes every text
//! and attribute value) into a buffer that goes to the file after each statement, so
//! memory stays bounded by one statement.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use crate::error::RefdataError;
use crate::sink::{create, finish_file, Written};

/// When the generated files say they were made: the morning after the month.
pub(crate) const CREATED: &str = "2026-12-01T06:00:00";
/// The account holder and debtor of every payment.
pub(crate) const AGENCY: &str = "National Social Protection Agency";

pub(crate) struct XmlOut {
    path: PathBuf,
    file: Option<BufWriter<File>>,
    w: Writer<Vec<u8>>,
}

fn xml_error(e: std::io::Error) -> RefdataError {
    RefdataError::internal(format!("writing XML into memory: {e}"))
}

impl XmlOut {
    pub(crate) fn new(path: PathBuf) -> XmlOut {
        XmlOut {
            path,
            file: None,
            w: Writer::new(Vec::with_capacity(1 << 20)),
        }
    }

    /// Creates the file and writes the declaration and the `Document` start.
    pub(crate) fn begin(&mut self, namespace: &str) -> Result<(), RefdataError> {
        self.file = Some(create(&self.path)?);
        self.w
            .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
            .map_err(xml_error)?;
        self.nl();
        self.w
            .write_event(Event::Start(
                BytesStart::new("Document").with_attributes([("xmlns", namespace)]),
            ))
            .map_err(xml_error)?;
        self.nl();
        Ok(())
    }

    /// A line break between elements, to keep the files readable (no indentation: it
    /// would add a third to their size).
    pub(crate) fn nl(&mut self) {
        self.w.get_mut().push(b'\n');
    }

    pub(crate) fn start(&mut self, name: &str) -> Result<(), RefdataError> {
        self.w
            .write_event(Event::Start(BytesStart::new(name)))
            .map_err(xml_error)
    }

    pub(crate) fn end(&mut self, name: &str) -> Result<(), RefdataError> {
        self.w
            .write_event(Event::End(BytesEnd::new(name)))
            .map_err(xml_error)
    }

    /// `<name>text</name>`.
    pub(crate) fn leaf(&mut self, name: &str, text: &str) -> Result<(), RefdataError> {
        self.w
            .create_element(name)
            .write_text_content(BytesText::new(text))
            .map_err(xml_error)?;
        Ok(())
    }

    /// `<name Ccy="ccy">amount</name>`.
    pub(crate) fn amount(
        &mut self,
        name: &str,
        ccy: &str,
        amount: &str,
    ) -> Result<(), RefdataError> {
        self.w
            .create_element(name)
            .with_attribute(("Ccy", ccy))
            .write_text_content(BytesText::new(amount))
            .map_err(xml_error)?;
        Ok(())
    }

    /// `<outer><Id><IBAN>id</IBAN></Id></outer>`, or `Othr/Id` for other accounts.
    pub(crate) fn account(
        &mut self,
        outer: &str,
        iban: bool,
        id: &str,
    ) -> Result<(), RefdataError> {
        self.start(outer)?;
        self.start("Id")?;
        if iban {
            self.leaf("IBAN", id)?;
        } else {
            self.start("Othr")?;
            self.leaf("Id", id)?;
            self.end("Othr")?;
        }
        self.end("Id")?;
        self.end(outer)
    }

    /// The agency as debtor with its statement account at `provider` in `currency`, and
    /// the beneficiary's account (at `creditor`'s provider) when the row names one: the
    /// parties of a camt transaction and of a pain.002's original transaction alike.
    pub(crate) fn debtor_and_creditor(
        &mut self,
        provider: u8,
        currency: u8,
        creditor: u8,
        account: Option<&str>,
    ) -> Result<(), RefdataError> {
        use crate::layout::{agency_account, iban_accounts};
        self.party("Dbtr", AGENCY)?;
        let own = agency_account(provider, currency);
        self.account("DbtrAcct", iban_accounts(provider), &own)?;
        if let Some(a) = account {
            self.account("CdtrAcct", iban_accounts(creditor), a)?;
        }
        Ok(())
    }

    /// `<outer><Pty><Nm>name</Nm></Pty></outer>` (Party40Choice).
    pub(crate) fn party(&mut self, outer: &str, name: &str) -> Result<(), RefdataError> {
        self.start(outer)?;
        self.start("Pty")?;
        self.leaf("Nm", name)?;
        self.end("Pty")?;
        self.end(outer)
    }

    /// `<outer><Dt>date</Dt></outer>`.
    pub(crate) fn date(&mut self, outer: &str, date: &str) -> Result<(), RefdataError> {
        self.start(outer)?;
        self.leaf("Dt", date)?;
        self.end(outer)
    }

    /// Moves what was written so far to the file.
    pub(crate) fn flush(&mut self) -> Result<(), RefdataError> {
        let f = self
            .file
            .as_mut()
            .ok_or_else(|| RefdataError::internal("XML written before the file was created"))?;
        let buf = self.w.get_mut();
        f.write_all(buf)
            .map_err(|e| RefdataError::io(&self.path, e))?;
        buf.clear();
        Ok(())
    }

    /// Closes `Document`, writes the rest and closes the file.
    pub(crate) fn finish(mut self) -> Result<Written, RefdataError> {
        self.end("Document")?;
        self.nl();
        self.flush()?;
        let f = self
            .file
            .take()
            .ok_or_else(|| RefdataError::internal("XML file never created"))?;
        finish_file(self.path, f)
    }
}
