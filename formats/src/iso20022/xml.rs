//! The XML mechanics under the camt and pain.002 readers: a guarded byte source, the
//! event loop, the path of open elements and the places errors name.
//!
//! Everything here treats the file as hostile (PITFALLS.md 2.6, H5, H12): a `<!DOCTYPE>`
//! stops the read, only the five predefined entities and character references are
//! resolved, nesting, element count, text and single-item sizes are capped, every byte is
//! checked to be UTF-8 as it goes by, and nothing is kept of an element once it closes.

use std::io::{self, BufRead, Read};

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader;

use crate::{limits, FormatError};

/// Largest single XML item (a tag with its attributes, a run of text between two
/// references, a comment, a DOCTYPE) read into memory at once. Real ISO 20022 items are
/// under a few KiB; without this cap quick-xml would buffer a 2 GB comment whole.
pub(super) const MAX_ITEM_BYTES: usize = 1024 * 1024;

/// Bytes read from the file per system call.
const READ_CHUNK: usize = 64 * 1024;

/// The start of a UTF-8 sequence cut by the end of a chunk read.
#[derive(Default)]
struct Utf8Carry {
    bytes: [u8; 4],
    len: usize,
}

impl Utf8Carry {
    /// Checks `chunk`, which starts at file offset `base`, as the continuation of what was
    /// checked before; the offset of the first byte that is not UTF-8, if any.
    fn check(&mut self, mut chunk: &[u8], mut base: u64) -> Option<u64> {
        if self.len > 0 {
            let lead_at = base.saturating_sub(self.len as u64);
            let want = utf8_width(self.bytes[0]);
            let take = want.saturating_sub(self.len).min(chunk.len());
            for &b in &chunk[..take] {
                self.bytes[self.len] = b;
                self.len += 1;
            }
            chunk = &chunk[take..];
            base += take as u64;
            if self.len < want {
                return None;
            }
            let whole = std::str::from_utf8(&self.bytes[..self.len]).is_ok();
            self.len = 0;
            if !whole {
                return Some(lead_at);
            }
        }
        match std::str::from_utf8(chunk) {
            Ok(_) => None,
            Err(e) => {
                let at = e.valid_up_to();
                if e.error_len().is_some() {
                    return Some(base + at as u64);
                }
                // A sequence cut at the end (at most 3 bytes): finish it with the next chunk.
                for &b in &chunk[at..] {
                    self.bytes[self.len] = b;
                    self.len += 1;
                }
                None
            }
        }
    }
}

/// Length of the UTF-8 sequence a lead byte starts (only asked of the lead byte of a cut
/// sequence, which `from_utf8` accepted as a valid start).
fn utf8_width(lead: u8) -> usize {
    match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

/// What the guard found wrong with the bytes themselves.
#[derive(Debug, Clone)]
struct Problem {
    byte: u64,
    message: String,
}

const NOT_UTF8: &str = "this byte is not UTF-8: ISO 20022 XML is UTF-8, so the file is in \
    another encoding or damaged (ask the sender for UTF-8, or convert it, e.g. with iconv)";

/// A `BufRead` over the file that counts bytes, checks that every byte is
/// UTF-8 (a whole chunk at a time, as it is read), and stops one XML item from growing
/// past [`MAX_ITEM_BYTES`] (the walker marks where each item starts).
///
/// A byte that is not UTF-8 is not handed to quick-xml: the buffer it sees ends just
/// before it, and reading on from there fails, so the error names the element it is in.
pub(super) struct Guard<R> {
    inner: R,
    buf: Box<[u8]>,
    /// `buf[start..end]` is read and not yet consumed.
    start: usize,
    end: usize,
    /// Index in `buf` of a byte that is not UTF-8, where reading stops.
    bad: Option<usize>,
    /// File offset of `buf[0]`.
    base: u64,
    item_start: u64,
    utf8: Utf8Carry,
    problem: Option<Problem>,
    eof: bool,
}

impl<R: Read> Guard<R> {
    pub(super) fn new(inner: R) -> Self {
        Guard {
            inner,
            buf: vec![0; READ_CHUNK].into_boxed_slice(),
            start: 0,
            end: 0,
            bad: None,
            base: 0,
            item_start: 0,
            utf8: Utf8Carry::default(),
            problem: None,
            eof: false,
        }
    }

    /// File offset of the next byte to consume.
    fn offset(&self) -> u64 {
        self.base + self.start as u64
    }

    /// A new XML item starts here.
    fn start_item(&mut self) {
        self.item_start = self.offset();
    }

    fn fail(&mut self, byte: u64, message: String) {
        if self.problem.is_none() {
            self.problem = Some(Problem { byte, message });
        }
    }

    /// Reads the next chunk (all of the previous one consumed) and checks it.
    fn refill(&mut self) -> io::Result<()> {
        self.base += self.end as u64;
        self.start = 0;
        self.end = 0;
        let n = loop {
            match self.inner.read(&mut self.buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        self.end = n;
        let found = if n == 0 {
            self.eof = true;
            // A UTF-8 sequence cut by the end of the file.
            (self.utf8.len > 0).then(|| self.base - self.utf8.len as u64)
        } else {
            self.utf8.check(&self.buf[..n], self.base)
        };
        if let Some(at) = found {
            // Stop before the byte when it is in this chunk; a cut sequence that began in
            // the previous chunk was handed on already, so fail at once.
            match at.checked_sub(self.base) {
                Some(i) => self.bad = Some(i as usize),
                None => self.fail(at, NOT_UTF8.into()),
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(out.len());
            out[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Guard<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.offset() - self.item_start > MAX_ITEM_BYTES as u64 {
            self.fail(
                self.offset(),
                format!(
                    "one XML item (a tag, a text, a comment) runs over {} KiB here: no ISO 20022 \
                     file has one so long; the file is damaged or not a statement",
                    MAX_ITEM_BYTES / 1024
                ),
            );
        }
        if self.start == self.end && !self.eof && self.bad.is_none() {
            self.refill()?;
        }
        if let Some(bad) = self.bad.filter(|&b| b == self.start) {
            self.fail(self.base + bad as u64, NOT_UTF8.into());
        }
        if self.problem.is_some() {
            return Err(io::Error::other("stopped by the input guard"));
        }
        let stop = self.bad.unwrap_or(self.end);
        Ok(&self.buf[self.start..stop])
    }

    fn consume(&mut self, amt: usize) {
        let stop = self.bad.unwrap_or(self.end);
        self.start = (self.start + amt).min(stop);
    }
}

/// The open elements, outermost first, by local name, with each one's position among
/// the run of same-named siblings it belongs to (`Stmt[2]`, `Ntry[5]`); and where the
/// reader is. Buffers are reused: opening an element allocates nothing once warm.
pub(super) struct Path {
    names: Vec<Vec<u8>>,
    index: Vec<u64>,
    /// Per open element: the name of its last child and how many of the same name ran.
    last_child: Vec<Vec<u8>>,
    run: Vec<u64>,
    len: usize,
    /// 0-based byte offset where the current event starts.
    pub(super) byte: u64,
}

/// Elements whose position is always shown in a place, as they repeat by design.
const NUMBERED: &[&[u8]] = &[
    b"Stmt",
    b"Ntfctn",
    b"Ntry",
    b"NtryDtls",
    b"TxDtls",
    b"Bal",
    b"OrgnlPmtInfAndSts",
    b"TxInfAndSts",
];

impl Path {
    fn new() -> Self {
        Path {
            names: Vec::new(),
            index: Vec::new(),
            last_child: vec![Vec::new()],
            run: vec![0],
            len: 0,
            byte: 0,
        }
    }

    /// Number of open elements (the root is depth 1).
    pub(super) fn depth(&self) -> usize {
        self.len
    }

    /// Local name of the innermost open element (empty before the root).
    pub(super) fn name(&self) -> &[u8] {
        match self.len.checked_sub(1) {
            Some(i) => self.names.get(i).map_or(&[][..], |n| n.as_slice()),
            None => &[],
        }
    }

    /// The open elements below the one at `anchor` depth, down to the innermost one.
    pub(super) fn below(&self, anchor: usize) -> &[Vec<u8>] {
        self.names.get(anchor..self.len).unwrap_or(&[])
    }

    fn push(&mut self, name: &[u8]) {
        let parent = self.len;
        let same = self.last_child.get(parent).is_some_and(|n| n == name);
        let position = if same {
            self.run[parent] + 1
        } else {
            self.last_child[parent].clear();
            self.last_child[parent].extend_from_slice(name);
            1
        };
        self.run[parent] = position;
        if self.len < self.names.len() {
            self.names[self.len].clear();
            self.names[self.len].extend_from_slice(name);
            self.index[self.len] = position;
        } else {
            self.names.push(name.to_vec());
            self.index.push(position);
        }
        self.len += 1;
        if self.last_child.len() <= self.len {
            self.last_child.push(Vec::new());
            self.run.push(0);
        }
        self.last_child[self.len].clear();
        self.run[self.len] = 0;
    }

    fn pop(&mut self) {
        self.len = self.len.saturating_sub(1);
    }

    /// `Document/BkToCstmrStmt/Stmt[2]/Ntry[5]`.
    pub(super) fn elements(&self) -> String {
        let mut out = String::new();
        for (name, &i) in self.names.iter().zip(&self.index).take(self.len) {
            if !out.is_empty() {
                out.push('/');
            }
            out.push_str(&String::from_utf8_lossy(name));
            if i > 1 || NUMBERED.contains(&name.as_slice()) {
                out.push_str(&format!("[{i}]"));
            }
        }
        out
    }

    /// `line 12 (byte 4051), element Document/BkToCstmrStmt/Stmt[2]/Ntry[5]`.
    pub(super) fn place(&self) -> String {
        self.place_at(self.byte)
    }

    fn place_at(&self, byte: u64) -> String {
        // The line is added by `super::with_line` once the read has stopped, from the
        // file itself: counting lines as the bytes pass cost a tenth of the read time.
        let mut place = format!("byte {byte}");
        if self.len > 0 {
            place.push_str(", element ");
            place.push_str(&self.elements());
        }
        place
    }

    /// A file-level problem at the current element.
    pub(super) fn error(&self, message: impl Into<String>) -> FormatError {
        FormatError {
            place: self.place(),
            message: message.into(),
        }
    }
}

/// What a message reader does with the elements the walker passes it.
pub(super) trait Handler {
    /// An element opened; `path` already ends with it.
    fn start(&mut self, path: &Path, e: &BytesStart<'_>) -> Result<(), FormatError>;
    /// An element closes; `path` still ends with it. `text` is its trimmed text when it
    /// has no child elements, `None` when it has.
    fn end(&mut self, path: &Path, text: Option<&str>) -> Result<(), FormatError>;
}

/// XML whitespace, trimmed from around every text value: a pretty-printer's line break
/// around a reference is not part of it.
pub(super) fn trim(t: &str) -> &str {
    t.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
}

/// Reads the whole XML file from `input`, passing elements to `handler`. Returns when
/// the root element has closed and the rest of the file has been checked.
pub(super) fn walk<R: Read, H: Handler>(input: R, handler: &mut H) -> Result<(), FormatError> {
    let mut reader = Reader::from_reader(Guard::new(input));
    let mut buf = Vec::with_capacity(8 * 1024);
    let mut path = Path::new();
    let mut text = String::new();
    let mut leaf = false;
    let mut elements: u64 = 0;
    let mut root_closed = false;
    loop {
        buf.clear();
        // Places name where the event starts: every markup event starts at its `<`, as
        // quick-xml hands text and markup over separately. quick-xml's own offsets leave
        // out a byte-order mark; the guard counts every byte of the file.
        let guard = reader.get_mut();
        guard.start_item();
        path.byte = guard.offset();
        let shift = path.byte.saturating_sub(reader.buffer_position());
        let event = reader.read_event_into(&mut buf);
        if let Some(p) = reader.get_mut().problem.take() {
            return Err(path_error_at(&path, p.byte, p.message));
        }
        let event = match event {
            Ok(ev) => ev,
            Err(e) => return Err(xml_error(&path, reader.error_position() + shift, &e)),
        };
        match event {
            Event::Start(e) | Event::Empty(e) if root_closed => {
                let name = String::from_utf8_lossy(e.local_name().into_inner()).into_owned();
                return Err(after_root(&path, &format!("another element <{name}>")));
            }
            Event::Start(e) => {
                open(&mut path, &e, &mut elements)?;
                handler.start(&path, &e)?;
                text.clear();
                leaf = true;
            }
            Event::Empty(e) => {
                open(&mut path, &e, &mut elements)?;
                handler.start(&path, &e)?;
                handler.end(&path, Some(""))?;
                close(&mut path, &mut root_closed);
                text.clear();
                leaf = false;
            }
            Event::End(_) => {
                handler.end(&path, leaf.then(|| trim(&text)))?;
                close(&mut path, &mut root_closed);
                text.clear();
                leaf = false;
            }
            // Text between child elements (indentation) is nobody's value: skip it.
            Event::Text(_) if !leaf && path.depth() > 0 => {}
            Event::Text(t) => add_text(&path, &mut text, &t, root_closed)?,
            Event::CData(t) => add_text(&path, &mut text, &t, root_closed)?,
            Event::GeneralRef(r) => add_text(&path, &mut text, &resolve(&path, &r)?, root_closed)?,
            Event::DocType(_) => return Err(path.error(DOCTYPE)),
            Event::Decl(d) => {
                if let Some(message) = super::declared_encoding_problem(&d) {
                    return Err(path.error(message));
                }
            }
            Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => return end_of_file(&path),
        }
    }
}

pub(super) const DOCTYPE: &str = "the file has a <!DOCTYPE> declaration: ISO 20022 files have \
    none, and sverka refuses every DTD (entity expansion, PITFALLS.md 2.6); ask the sender for \
    the plain ISO 20022 XML";

fn open(path: &mut Path, e: &BytesStart<'_>, elements: &mut u64) -> Result<(), FormatError> {
    if path.depth() >= limits::MAX_DEPTH {
        return Err(path.error(format!(
            "elements are nested deeper than {} levels: no ISO 20022 message is; the file is \
             damaged or hostile",
            limits::MAX_DEPTH
        )));
    }
    *elements += 1;
    if *elements > limits::MAX_ELEMENTS {
        return Err(path.error(format!(
            "the file has more than {} elements, more than sverka reads from one file; split it",
            limits::MAX_ELEMENTS
        )));
    }
    path.push(e.local_name().into_inner());
    Ok(())
}

fn close(path: &mut Path, root_closed: &mut bool) {
    path.pop();
    if path.depth() == 0 {
        *root_closed = true;
    }
}

/// Adds a piece of an element's text; outside the root only whitespace may stand.
fn add_text(
    path: &Path,
    text: &mut String,
    piece: &[u8],
    root_closed: bool,
) -> Result<(), FormatError> {
    if path.depth() == 0 {
        if piece
            .iter()
            .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        {
            return Ok(());
        }
        return Err(if root_closed {
            after_root(path, "text")
        } else {
            path.error("text before the root element: the file is not an ISO 20022 XML message")
        });
    }
    if text.len() + piece.len() > limits::MAX_TEXT_BYTES {
        return Err(path.error(format!(
            "the text of this element is longer than {} KiB: no ISO 20022 value is; the file is \
             damaged or hostile",
            limits::MAX_TEXT_BYTES / 1024
        )));
    }
    match std::str::from_utf8(piece) {
        Ok(s) => {
            text.push_str(s);
            Ok(())
        }
        Err(e) => Err(path_error_at(
            path,
            path.byte + e.valid_up_to() as u64,
            NOT_UTF8,
        )),
    }
}

/// The five predefined entities and character references; any other entity would need
/// a DTD, which sverka never reads.
fn resolve(path: &Path, r: &BytesRef<'_>) -> Result<Vec<u8>, FormatError> {
    let name = String::from_utf8_lossy(r).into_owned();
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(c)) => Ok(c.to_string().into_bytes()),
            _ => Err(path.error(format!(
                "&{name}; is not a character reference XML allows: the file is damaged"
            ))),
        };
    }
    let c = match &**r {
        b"lt" => "<",
        b"gt" => ">",
        b"amp" => "&",
        b"apos" => "'",
        b"quot" => "\"",
        _ => {
            return Err(path.error(format!(
                "the entity &{name}; is not one of XML's five (&amp; &lt; &gt; &apos; &quot;): \
                 sverka defines no others (no DTD is read); the sender must escape the text"
            )))
        }
    };
    Ok(c.as_bytes().to_vec())
}

fn after_root(path: &Path, what: &str) -> FormatError {
    path.error(format!(
        "{what} after the end of the root element: a file holds one message, and what follows \
         it would be ignored; the file may be two files joined, or damaged"
    ))
}

fn end_of_file(path: &Path) -> Result<(), FormatError> {
    if path.depth() == 0 {
        return Ok(());
    }
    Err(path.error(format!(
        "the file ends inside <{}> at byte {}: it may be truncated",
        String::from_utf8_lossy(path.name()),
        path.byte
    )))
}

fn path_error_at(path: &Path, byte: u64, message: impl Into<String>) -> FormatError {
    FormatError {
        place: path.place_at(byte),
        message: message.into(),
    }
}

/// A quick-xml error as a place and a message a treasury clerk can act on.
fn xml_error(path: &Path, byte: u64, e: &quick_xml::Error) -> FormatError {
    use quick_xml::errors::{Error, IllFormedError, SyntaxError};
    let message = match e {
        Error::Syntax(
            s @ (SyntaxError::UnclosedTag
            | SyntaxError::UnclosedComment
            | SyntaxError::UnclosedCData
            | SyntaxError::UnclosedPI
            | SyntaxError::UnclosedXmlDecl
            | SyntaxError::UnclosedDoctype
            | SyntaxError::UnclosedSingleQuotedAttributeValue
            | SyntaxError::UnclosedDoubleQuotedAttributeValue),
        ) => format!("the file ends inside a tag ({s}): it may be truncated"),
        Error::IllFormed(IllFormedError::MismatchedEndTag { expected, found }) => format!(
            "</{found}> closes <{expected}>: the XML is not well-formed (damaged or cut and \
             joined)"
        ),
        Error::IllFormed(IllFormedError::UnmatchedEndTag(found)) => {
            format!("</{found}> closes no open element: the XML is not well-formed")
        }
        other => format!("the XML is not well-formed: {other}"),
    };
    path_error_at(path, byte, message)
}
