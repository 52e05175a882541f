//! The XML mechanics under the camt and pain.002 readers: the file read in checked
//! windows, the event loop, the path of open elements and the places errors name.
//!
//! Everything here treats the file as hostile (PITFALLS.md 2.6, H5, H12): a `<!DOCTYPE>`
//! stops the read, only the five predefined entities and character references are
//! resolved, nesting, element count, text and single-item sizes are capped, every byte is
//! checked to be UTF-8 as it goes by, and nothing is kept of an element once it closes.

use std::io::{self, Read};

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader;

use super::names::Name;
use crate::{limits, FormatError};

/// Largest single XML item (a tag with its attributes, a run of text between two
/// references, a comment, a DOCTYPE) read into memory at once. Real ISO 20022 items are
/// under a few KiB; without this cap quick-xml would buffer a 2 GB comment whole.
pub(super) const MAX_ITEM_BYTES: usize = 1024 * 1024;

/// Bytes read from the file per system call.
const READ_CHUNK: usize = 256 * 1024;

/// Where the first byte that is not UTF-8 lies in `bytes`, if any; a sequence only cut
/// by the end of `bytes` is not one (the next read may finish it).
fn bad_byte(bytes: &[u8]) -> Option<usize> {
    match std::str::from_utf8(bytes) {
        Ok(_) => None,
        Err(e) => e.error_len().map(|_| e.valid_up_to()),
    }
}

/// What the window found wrong with the bytes themselves.
#[derive(Debug, Clone)]
struct Problem {
    byte: u64,
    message: String,
}

const NOT_UTF8: &str = "this byte is not UTF-8: ISO 20022 XML is UTF-8, so the file is in \
    another encoding or damaged (ask the sender for UTF-8, or convert it, e.g. with iconv)";

/// How much of the window may be parsed now.
#[derive(Debug, Clone, Copy)]
enum Cut {
    /// `buf[..n]` holds whole items; more of the file follows.
    More(usize),
    /// `buf[..n]` is the rest of the file.
    Last(usize),
    /// `buf[..n]` ends at a byte that is not UTF-8; nothing after it is read.
    Bad(usize),
}

/// The file as a run of windows, each parsed by quick-xml's borrowing slice reader:
/// handing it whole windows avoids the copy of every item into an event buffer that its
/// buffered reader makes, which was most of the read's cost.
///
/// A window ends before its last `<`, so every text and reference in it is whole. Only
/// an item that holds a `<` itself (a comment, CDATA) can be cut: the walker stops at
/// its start, and it is parsed again with the next window. One item may not grow past
/// [`MAX_ITEM_BYTES`]. Every byte is checked to be UTF-8 before it is parsed: the walker
/// checks the part of the window it parses, once, as it makes it the text it parses
/// (checking each chunk as read as well cost a second pass over the file); the window
/// checks only what it holds beyond that part, so that reading still stops at the first
/// byte that is not UTF-8.
struct Window<R> {
    inner: R,
    /// `buf[..len]` holds the file from offset `base` on.
    buf: Vec<u8>,
    len: usize,
    base: u64,
    eof: bool,
}

impl<R: Read> Window<R> {
    fn new(inner: R) -> Self {
        Window {
            inner,
            buf: vec![0; 2 * READ_CHUNK],
            len: 0,
            base: 0,
            eof: false,
        }
    }

    /// Reads the next chunk after what the window holds.
    fn read_chunk(&mut self) -> io::Result<()> {
        if self.buf.len() < self.len + READ_CHUNK {
            self.buf.resize(self.len + READ_CHUNK, 0);
        }
        let n = loop {
            match self
                .inner
                .read(&mut self.buf[self.len..self.len + READ_CHUNK])
            {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        self.eof = n == 0;
        self.len += n;
        Ok(())
    }

    /// Reads on and says how much of the window may be parsed: at least one whole item
    /// more than the window held (the part kept from the last window starts an item).
    /// The part to parse is not checked here (the walker checks it); a byte that is not
    /// UTF-8 after it, or in a window with no item's end yet, stops the read there.
    fn next(&mut self) -> io::Result<Result<Cut, Problem>> {
        loop {
            if self.len > MAX_ITEM_BYTES {
                return Ok(Err(Problem {
                    byte: self.base,
                    message: format!(
                        "one XML item (a tag, a text, a comment) runs over {} KiB here: no ISO \
                         20022 file has one so long; the file is damaged or not a statement",
                        MAX_ITEM_BYTES / 1024
                    ),
                }));
            }
            if !self.eof {
                self.read_chunk()?;
            }
            if self.eof {
                return Ok(Ok(Cut::Last(self.len)));
            }
            if let Some(i) = memchr::memrchr(b'<', &self.buf[1..self.len]) {
                // The rest after the last `<` is one item at most, checked again with the
                // next window. A `<` ends any UTF-8 sequence before it.
                let n = i + 1;
                return Ok(Ok(match bad_byte(&self.buf[n..self.len]) {
                    Some(at) => Cut::Bad(n + at),
                    None => Cut::More(n),
                }));
            }
            if let Some(at) = bad_byte(&self.buf[..self.len]) {
                return Ok(Ok(Cut::Bad(at)));
            }
        }
    }

    /// Drops the first `n` bytes, parsed.
    fn consume(&mut self, n: usize) {
        self.buf.copy_within(n..self.len, 0);
        self.len -= n;
        self.base += n as u64;
    }
}

/// The open elements, outermost first, by local name, with each one's position among
/// the run of same-named siblings it belongs to (`Stmt[2]`, `Ntry[5]`); and where the
/// reader is. Per-depth state lives in arrays of the depth cap: opening an element is a
/// few stores, with no growth and nothing allocated once warm.
pub(super) struct Path {
    /// Per depth: the element's [`Name`]; where it is `Other`, `others` holds its bytes.
    /// A closed element's slot keeps its name until the next sibling (or cousin) takes
    /// it: the parent's last child is still there while `run` counts its run.
    ids: [Name; limits::MAX_DEPTH],
    others: Vec<Vec<u8>>,
    /// Per depth: whether the element's name as written has a prefix; `qnames` holds
    /// the name as written, which its end tag must repeat, where it has.
    prefixed: [bool; limits::MAX_DEPTH],
    qnames: Vec<Vec<u8>>,
    /// Per depth: how many children of the same name ran in a row under the open element
    /// above it (0: none yet). For an open element, its own position in its run.
    run: [u64; limits::MAX_DEPTH + 1],
    len: usize,
    /// 0-based byte offset where the current event starts.
    pub(super) byte: u64,
}

/// Elements whose position is always shown in a place, as they repeat by design.
const NUMBERED: &[Name] = &[
    Name::Stmt,
    Name::Ntfctn,
    Name::Ntry,
    Name::NtryDtls,
    Name::TxDtls,
    Name::Bal,
    Name::OrgnlPmtInfAndSts,
    Name::TxInfAndSts,
];

impl Path {
    pub(super) fn new() -> Self {
        Path {
            ids: [Name::Other; limits::MAX_DEPTH],
            others: Vec::new(),
            prefixed: [false; limits::MAX_DEPTH],
            qnames: Vec::new(),
            run: [0; limits::MAX_DEPTH + 1],
            len: 0,
            byte: 0,
        }
    }

    /// Number of open elements (the root is depth 1).
    pub(super) fn depth(&self) -> usize {
        self.len
    }

    /// Local name of the element at `i` (0-based depth), open or last closed there.
    fn text_at(&self, i: usize) -> &[u8] {
        match self.ids.get(i) {
            Some(Name::Other) => self.others.get(i).map_or(&[][..], |n| n.as_slice()),
            Some(id) => id.text(),
            None => &[],
        }
    }

    /// Local name of the innermost open element (empty before the root).
    pub(super) fn name(&self) -> &[u8] {
        match self.len.checked_sub(1) {
            Some(i) => self.text_at(i),
            None => &[],
        }
    }

    /// [`Name`] of the innermost open element (`Other` before the root).
    pub(super) fn id(&self) -> Name {
        self.len
            .checked_sub(1)
            .and_then(|i| self.ids.get(i).copied())
            .unwrap_or(Name::Other)
    }

    /// Whether the innermost open element's local name ends with `Amt` (an amount).
    pub(super) fn is_amount(&self) -> bool {
        match self.id() {
            Name::Other => self.name().ends_with(b"Amt"),
            id => id.is_amount(),
        }
    }

    /// The open elements below the one at `anchor` depth, down to the innermost one.
    pub(super) fn below(&self, anchor: usize) -> &[Name] {
        self.ids.get(anchor..self.len).unwrap_or(&[])
    }

    /// Opens the element `qname` (as written), of local name `name` named `id`. The
    /// caller has checked the depth against [`limits::MAX_DEPTH`].
    #[inline(always)]
    fn push(&mut self, qname: &[u8], name: &[u8], id: Name) {
        let depth = self.len;
        let same = self.run[depth] > 0
            && self.ids[depth] == id
            && (id != Name::Other || self.others.get(depth).is_some_and(|n| n == name));
        let position = if same { self.run[depth] + 1 } else { 1 };
        self.run[depth] = position;
        self.ids[depth] = id;
        if id == Name::Other && !same {
            set_at(&mut self.others, depth, name);
        }
        // Most files have no prefixes: the name as written is then the local one.
        let prefixed = qname.len() != name.len();
        self.prefixed[depth] = prefixed;
        if prefixed {
            set_at(&mut self.qnames, depth, qname);
        }
        self.len = depth + 1;
        // The new element has no child yet.
        self.run[depth + 1] = 0;
    }

    /// Checks that an end tag named `found` closes the innermost open element.
    fn check_end(&self, found: &[u8]) -> Result<(), FormatError> {
        let open = self.len.checked_sub(1).map(|i| {
            if self.prefixed[i] {
                self.qnames.get(i).map_or(&[][..], |q| q.as_slice())
            } else {
                self.text_at(i)
            }
        });
        if open == Some(found) {
            return Ok(());
        }
        // XML allows whitespace after the name (`</Amt >`). quick-xml is not asked to trim
        // it (a scan of every end tag's name): it is trimmed here, where a name differs.
        let found = match found.iter().rposition(|b| !is_xml_space(*b)) {
            Some(i) => &found[..=i],
            None => found,
        };
        if open == Some(found) {
            return Ok(());
        }
        let found = String::from_utf8_lossy(found);
        Err(self.error(match open {
            None => format!("</{found}> closes no open element: the XML is not well-formed"),
            Some(o) => format!(
                "</{found}> closes <{}>: the XML is not well-formed (damaged or cut and joined)",
                String::from_utf8_lossy(o)
            ),
        }))
    }

    fn pop(&mut self) {
        self.len = self.len.saturating_sub(1);
    }

    /// `Document/BkToCstmrStmt/Stmt[2]/Ntry[5]`.
    pub(super) fn elements(&self) -> String {
        let mut out = String::new();
        for (d, &i) in self.run.iter().enumerate().take(self.len) {
            if !out.is_empty() {
                out.push('/');
            }
            out.push_str(&String::from_utf8_lossy(self.text_at(d)));
            if i > 1 || self.ids.get(d).is_some_and(|n| NUMBERED.contains(n)) {
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

/// Sets `slots[i]` to `bytes`, growing `slots` to hold it, in the allocation it has.
fn set_at(slots: &mut Vec<Vec<u8>>, i: usize, bytes: &[u8]) {
    if slots.len() <= i {
        slots.resize_with(i + 1, Vec::new);
    }
    if let Some(slot) = slots.get_mut(i) {
        slot.clear();
        slot.extend_from_slice(bytes);
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
    // By bytes: the four are ASCII, so the cuts fall between characters (`trim_matches`
    // decoded every character to compare it).
    let b = t.as_bytes();
    let start = b.iter().position(|c| !is_xml_space(*c)).unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !is_xml_space(*c))
        .map_or(start, |i| i + 1);
    t.get(start..end).unwrap_or_default()
}

fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Reads the whole XML file from `input`, passing elements to `handler`. Returns when
/// the root element has closed and the rest of the file has been checked.
pub(super) fn walk<R: Read, H: Handler>(input: R, handler: &mut H) -> Result<(), FormatError> {
    let mut window = Window::new(input);
    let mut w = Walker {
        path: Path::new(),
        text: String::new(),
        borrowed: None,
        leaf: false,
        elements: 0,
        root_closed: false,
    };
    let mut first = true;
    loop {
        let cut = match window.next() {
            Ok(Ok(cut)) => cut,
            Ok(Err(p)) => return Err(path_error_at(&w.path, p.byte, p.message)),
            Err(e) => {
                return Err(w.path.error(format!("the file cannot be read on: {e}")));
            }
        };
        let limit = match cut {
            Cut::More(n) | Cut::Last(n) | Cut::Bad(n) => n,
        };
        // A byte-order mark is no part of the XML; offsets still count it.
        let skip = if first && window.buf[..limit].starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        first = false;
        let origin = window.base + skip as u64;
        // The window as text: the one check of its bytes as UTF-8; texts in it are slices
        // of it and need no check of their own. Where a byte is not UTF-8, the text before
        // it is parsed, then the read stops there.
        let (src, cut) = match std::str::from_utf8(&window.buf[skip..limit]) {
            Ok(src) => (src, cut),
            Err(e) => {
                let valid = window.buf[skip..limit].utf8_chunks().next();
                let src = valid.map_or("", |c| c.valid());
                (src, Cut::Bad(skip + e.valid_up_to()))
            }
        };
        let limit = skip + src.len();
        let mut reader = Reader::from_reader(src.as_bytes());
        // The walker checks end names itself: a window starts among open elements that
        // a new reader has not seen.
        reader.config_mut().check_end_names = false;
        reader.config_mut().allow_unmatched_ends = true;
        reader.config_mut().trim_markup_names_in_closing_tags = false;
        let parsed = loop {
            let at = reader.buffer_position();
            w.path.byte = origin + at;
            match reader.read_event() {
                Ok(Event::Eof) => break limit,
                Ok(event) => w.event(event, handler, src)?,
                Err(e) if cut_item(&e) && !matches!(cut, Cut::Last(_)) => break skip + at as usize,
                Err(e) => return Err(xml_error(&w.path, origin + reader.error_position(), &e)),
            }
        };
        // The window's bytes move: a text borrowed from it is copied out.
        w.own_text(src);
        match cut {
            Cut::More(_) => window.consume(parsed),
            Cut::Last(_) => return end_of_file(&w.path),
            Cut::Bad(n) => return Err(path_error_at(&w.path, window.base + n as u64, NOT_UTF8)),
        }
    }
}

/// An error that says only that the item runs on past the window's end.
fn cut_item(e: &quick_xml::Error) -> bool {
    use quick_xml::errors::{Error, SyntaxError};
    matches!(
        e,
        Error::Syntax(
            SyntaxError::UnclosedTag
                | SyntaxError::UnclosedComment
                | SyntaxError::UnclosedCData
                | SyntaxError::UnclosedPI
                | SyntaxError::UnclosedXmlDecl
                | SyntaxError::UnclosedDoctype
                | SyntaxError::UnclosedSingleQuotedAttributeValue
                | SyntaxError::UnclosedDoubleQuotedAttributeValue
        )
    )
}

/// The walk's state between events (and windows).
struct Walker {
    path: Path,
    /// The current leaf element's text so far: `src[a..b]` of the window being parsed
    /// when `borrowed` is `Some((a, b))` (a text of one piece, most of them: no copy),
    /// else `text`.
    text: String,
    borrowed: Option<(usize, usize)>,
    /// Whether the innermost open element has had no child element yet.
    leaf: bool,
    elements: u64,
    root_closed: bool,
}

impl Walker {
    /// Copies a text borrowed from the window `src` into [`Walker::text`].
    fn own_text(&mut self, src: &str) {
        if let Some((a, b)) = self.borrowed.take() {
            self.text.push_str(src.get(a..b).unwrap_or_default());
        }
    }

    fn clear_text(&mut self) {
        self.text.clear();
        self.borrowed = None;
    }

    /// The first piece of a leaf's text, as a part of the window `src` when it is one.
    fn first_piece(&mut self, src: &str, piece: &[u8]) -> Result<(), FormatError> {
        let start = (piece.as_ptr() as usize).wrapping_sub(src.as_ptr() as usize);
        let end = start.wrapping_add(piece.len());
        if piece.len() > limits::MAX_TEXT_BYTES || src.get(start..end).is_none() {
            return add_text(&self.path, &mut self.text, piece, false, Some(src));
        }
        self.borrowed = Some((start, end));
        Ok(())
    }

    fn event<H: Handler>(
        &mut self,
        event: Event<'_>,
        handler: &mut H,
        src: &str,
    ) -> Result<(), FormatError> {
        let path = &mut self.path;
        match event {
            Event::Start(e) | Event::Empty(e) if self.root_closed => {
                let name = String::from_utf8_lossy(e.local_name().into_inner()).into_owned();
                return Err(after_root(path, &format!("another element <{name}>")));
            }
            Event::Start(e) => {
                open(path, &e, &mut self.elements)?;
                handler.start(path, &e)?;
                self.clear_text();
                self.leaf = true;
            }
            Event::Empty(e) => {
                open(path, &e, &mut self.elements)?;
                handler.start(path, &e)?;
                handler.end(path, Some(""))?;
                close(path, &mut self.root_closed);
                self.clear_text();
                self.leaf = false;
            }
            Event::End(e) => {
                path.check_end(e.name().into_inner())?;
                let text = match self.borrowed {
                    Some((a, b)) => src.get(a..b).unwrap_or_default(),
                    None => &self.text,
                };
                handler.end(path, self.leaf.then(|| trim(text)))?;
                close(path, &mut self.root_closed);
                self.clear_text();
                self.leaf = false;
            }
            // Text between child elements (indentation) is nobody's value: skip it.
            Event::Text(_) if !self.leaf && path.depth() > 0 => {}
            Event::Text(t)
                if path.depth() > 0 && self.borrowed.is_none() && self.text.is_empty() =>
            {
                self.first_piece(src, &t)?
            }
            Event::Text(t) => {
                self.own_text(src);
                add_text(&self.path, &mut self.text, &t, self.root_closed, Some(src))?
            }
            Event::CData(t) => {
                self.own_text(src);
                add_text(&self.path, &mut self.text, &t, self.root_closed, Some(src))?
            }
            Event::GeneralRef(r) => {
                self.own_text(src);
                let c = resolve(&self.path, &r)?;
                add_text(&self.path, &mut self.text, &c, self.root_closed, None)?
            }
            Event::DocType(_) => return Err(path.error(DOCTYPE)),
            Event::Decl(d) => {
                if let Some(message) = super::declared_encoding_problem(&d) {
                    return Err(path.error(message));
                }
            }
            Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => {}
        }
        Ok(())
    }
}

pub(super) const DOCTYPE: &str = "the file has a <!DOCTYPE> declaration: ISO 20022 files have \
    none, and sverka refuses every DTD (entity expansion, PITFALLS.md 2.6); ask the sender for \
    the plain ISO 20022 XML";

#[inline(always)]
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
    let qname = e.name().into_inner();
    // The local name follows the first `:`, as quick-xml's `local_name` has it. A known
    // name has no `:`, so most elements are named without looking for one.
    let id = Name::of(qname);
    if id != Name::Other {
        path.push(qname, qname, id);
        return Ok(());
    }
    let (local, id) = match qname.iter().position(|&b| b == b':') {
        Some(i) => {
            let local = qname.get(i + 1..).unwrap_or_default();
            (local, Name::of(local))
        }
        None => (qname, id),
    };
    path.push(qname, local, id);
    Ok(())
}

fn close(path: &mut Path, root_closed: &mut bool) {
    path.pop();
    if path.depth() == 0 {
        *root_closed = true;
    }
}

/// Adds a piece of an element's text; outside the root only whitespace may stand.
/// `src`: the window as text, when it is.
fn add_text(
    path: &Path,
    text: &mut String,
    piece: &[u8],
    root_closed: bool,
    src: Option<&str>,
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
    if let Some(s) = src.and_then(|src| within(src, piece)) {
        text.push_str(s);
        return Ok(());
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

/// `piece` as text when it is a part of `src` (the same bytes in memory).
fn within<'a>(src: &'a str, piece: &[u8]) -> Option<&'a str> {
    let start = (piece.as_ptr() as usize).checked_sub(src.as_ptr() as usize)?;
    let s = src.get(start..start.checked_add(piece.len())?)?;
    (s.as_ptr() == piece.as_ptr()).then_some(s)
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
    // End tags are matched by the walker (`Path::check_end`), not by quick-xml.
    let message = match e {
        quick_xml::Error::Syntax(s) if cut_item(e) => {
            format!("the file ends inside a tag ({s}): it may be truncated")
        }
        other => format!("the XML is not well-formed: {other}"),
    };
    path_error_at(path, byte, message)
}
