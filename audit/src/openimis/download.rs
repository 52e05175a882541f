//! openIMIS's payroll CSV cut into records without changing a byte: csv-core finds the
//! fields, and each record keeps its own bytes (from the end of the record before it, so
//! blank lines, a byte-order mark and the terminators travel with it) and each field's raw
//! range inside them (quotes included). Writing a record back is copying its bytes, with
//! only the fields that change replaced.
//!
//! Streamed: the file is read in 1 MiB blocks and memory holds one block and the record
//! being cut. Refused (the caller names the file): bytes that are not UTF-8, a UTF-16 file,
//! a record over [`MAX_RECORD_BYTES`] or [`MAX_FIELDS`] fields, and a quote left open at
//! the end of the file (csv-core, like the csv crate, would accept it: rust-csv#252).

use std::io::Read;
use std::ops::Range;

use csv_core::ReadFieldResult;

/// The longest record read (PITFALLS H4: a file without line breaks, an unbalanced quote).
pub const MAX_RECORD_BYTES: usize = 1 << 20;
/// Most fields a record may have (openIMIS appends a column per `extra_info` key).
pub const MAX_FIELDS: usize = 4096;
const BLOCK: usize = 1 << 20;

/// Why the bytes cannot be cut into records; `line` is the physical line (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CutError {
    Io(String),
    NotUtf8 { line: u64, byte: u8 },
    Utf16,
    TooLong { line: u64 },
    TooManyFields { line: u64 },
    OpenQuote { line: u64 },
}

impl std::fmt::Display for CutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CutError::Io(e) => write!(f, "{e}"),
            CutError::NotUtf8 { line, byte } => write!(
                f,
                "line {line}: byte 0x{byte:02X} is not UTF-8: openIMIS reads the file as UTF-8; \
                 download it again, or save it from the spreadsheet as \"CSV UTF-8\""
            ),
            CutError::Utf16 => write!(
                f,
                "the file is UTF-16: openIMIS reads UTF-8; save it as \"CSV UTF-8\""
            ),
            CutError::TooLong { line } => write!(
                f,
                "line {line}: a record longer than {} MiB: a quote is unbalanced or this is not \
                 openIMIS's payroll CSV",
                MAX_RECORD_BYTES >> 20
            ),
            CutError::TooManyFields { line } => write!(
                f,
                "line {line}: more than {MAX_FIELDS} fields: this is not openIMIS's payroll CSV"
            ),
            CutError::OpenQuote { line } => write!(
                f,
                "line {line}: a quote opened here is never closed: the file is cut short or a \
                 quote is unbalanced; fix the quoting or download the file again"
            ),
        }
    }
}

/// One record: its bytes, and its fields as raw ranges of them and as unescaped values.
pub struct Record<'a> {
    /// From the end of the previous record to the end of this one's terminator.
    pub bytes: &'a [u8],
    /// Each field's raw bytes in `bytes` (quotes included, delimiter and terminator not).
    pub raw: &'a [Range<usize>],
    values: &'a str,
    ends: &'a [usize],
    /// The physical line the record starts on.
    pub line: u64,
}

impl<'a> Record<'a> {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Field `i` unescaped (quotes taken off, `""` as `"`).
    pub fn value(&self, i: usize) -> &'a str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.values[start..self.ends[i]]
    }
}

/// The records of a CSV byte stream, in order; [`Cutter::tail`] gives what follows the last.
pub struct Cutter<R> {
    src: R,
    rdr: csv_core::Reader,
    buf: Vec<u8>,
    /// `buf[..len]` holds bytes read; `buf[start..pos]` the record being cut.
    len: usize,
    start: usize,
    pos: usize,
    eof: bool,
    done: bool,
    /// Bytes before `buf[0]` (the file offset of `buf[0]`).
    offset: u64,
    out: Vec<u8>,
    ends: Vec<usize>,
    raw: Vec<Range<usize>>,
    /// Line breaks seen before `buf[start]`, and the byte before it (a CR then an LF is one).
    lines: u64,
    prev: u8,
}

impl<R: Read> Cutter<R> {
    pub fn new(src: R) -> Cutter<R> {
        Cutter {
            src,
            rdr: csv_core::Reader::new(),
            buf: vec![0; 2 * BLOCK],
            len: 0,
            start: 0,
            pos: 0,
            eof: false,
            done: false,
            offset: 0,
            out: vec![0; 4096],
            ends: Vec::new(),
            raw: Vec::new(),
            lines: 0,
            prev: 0,
        }
    }

    /// The next record, or None after the last.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, CutError> {
        if self.done {
            return Ok(None);
        }
        self.ends.clear();
        self.raw.clear();
        let (mut nout, mut field) = (0usize, self.start);
        loop {
            if self.pos == self.len && !self.eof {
                self.fill(&mut field)?;
            }
            let (res, nin, n) = self
                .rdr
                .read_field(&self.buf[self.pos..self.len], &mut self.out[nout..]);
            self.pos += nin;
            nout += n;
            if self.pos - self.start > MAX_RECORD_BYTES {
                return Err(CutError::TooLong { line: self.line() });
            }
            match res {
                ReadFieldResult::InputEmpty => {}
                ReadFieldResult::OutputFull => {
                    let grown = self.out.len() * 2;
                    self.out.resize(grown, 0);
                }
                ReadFieldResult::Field { record_end } => {
                    if self.ends.len() == MAX_FIELDS {
                        return Err(CutError::TooManyFields { line: self.line() });
                    }
                    self.raw.push(self.field_range(field, record_end));
                    self.ends.push(nout);
                    field = self.pos;
                    if record_end {
                        return self.record(nout).map(Some);
                    }
                }
                ReadFieldResult::End => {
                    self.done = true;
                    return Ok(None);
                }
            }
        }
    }

    /// What follows the last record (a line break the last record's CR left): call after
    /// [`Cutter::next_record`] gave None.
    pub fn tail(&self) -> &[u8] {
        &self.buf[self.start..self.pos]
    }

    /// The physical line of the record being cut (after the blank lines before it).
    fn line(&self) -> u64 {
        let mut gap = &self.buf[self.start..self.pos];
        if self.offset + self.start as u64 == 0 {
            gap = gap.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(gap);
        }
        let blank = gap
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        self.lines + count_lines(&gap[..blank], self.prev).0 + 1
    }

    /// The record just cut, after the checks; moves `start` past it.
    fn record(&mut self, nout: usize) -> Result<Record<'_>, CutError> {
        let line = self.line();
        let (from, to) = (self.start, self.pos);
        let bytes = &self.buf[from..to];
        if self.offset + from as u64 == 0
            && (bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]))
        {
            return Err(CutError::Utf16);
        }
        if let Err(e) = std::str::from_utf8(bytes) {
            let at = e.valid_up_to();
            return Err(CutError::NotUtf8 {
                line: self.lines + count_lines(&bytes[..at], self.prev).0 + 1,
                byte: bytes[at],
            });
        }
        let last = self.raw[self.raw.len() - 1].clone();
        if self.eof && to == self.len && open_quote(&bytes[last]) {
            return Err(CutError::OpenQuote { line });
        }
        let (n, prev) = count_lines(bytes, self.prev);
        self.lines += n;
        self.prev = prev;
        self.start = to;
        // The unescaped values are UTF-8 because the record's bytes are.
        let values = std::str::from_utf8(&self.out[..nout])
            .map_err(|_| CutError::NotUtf8 { line, byte: 0 })?;
        Ok(Record {
            bytes: &self.buf[from..to],
            raw: &self.raw,
            values,
            ends: &self.ends,
            line,
        })
    }

    /// The raw bytes of the field that began at `from` and was just read, relative to the
    /// record's start: without the delimiter or terminator after it, and for the first
    /// field without the blank lines and byte-order mark before it.
    fn field_range(&self, from: usize, record_end: bool) -> Range<usize> {
        let mut a = from;
        let mut b = self.pos;
        if self.raw.is_empty() {
            if self.offset + a as u64 == 0 && self.buf[a..b].starts_with(b"\xEF\xBB\xBF") {
                a += 3;
            }
            while a < b && matches!(self.buf[a], b'\r' | b'\n') {
                a += 1;
            }
        }
        if record_end {
            while b > a && matches!(self.buf[b - 1], b'\r' | b'\n') {
                b -= 1;
            }
        } else {
            b -= 1;
        }
        a - self.start..b - self.start
    }

    /// Reads the next block, first moving the record being cut to the front of the buffer.
    /// `field`: the start of the field being read, moved with it.
    fn fill(&mut self, field: &mut usize) -> Result<(), CutError> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.len, 0);
            self.offset += self.start as u64;
            self.len -= self.start;
            self.pos -= self.start;
            *field -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.len < BLOCK {
            self.buf.resize(self.len + BLOCK, 0);
        }
        // At least 4 bytes before the first parse: csv-core strips a BOM only when it sees
        // all of it, and takes a first input that was only a BOM for the end of the file.
        let want = if self.offset == 0 && self.len < 4 {
            4 - self.len
        } else {
            1
        };
        let before = self.len;
        while self.len - before < want {
            match self.src.read(&mut self.buf[self.len..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(CutError::Io(e.to_string())),
            }
        }
        Ok(())
    }
}

/// Line breaks in `bytes` (CR LF, LF or a lone CR each one), given the byte before them;
/// and the last byte.
fn count_lines(bytes: &[u8], mut prev: u8) -> (u64, u8) {
    let mut n = 0u64;
    for &b in bytes {
        n += u64::from(b == b'\r' || (b == b'\n' && prev != b'\r'));
        prev = b;
    }
    (n, prev)
}

/// A field that opens a quote and never closes it (RFC 4180: `""` inside is a quote).
fn open_quote(raw: &[u8]) -> bool {
    let Some(rest) = raw.strip_prefix(b"\"") else {
        return false;
    };
    let mut i = 0;
    while i < rest.len() {
        if rest[i] == b'"' {
            if rest.get(i + 1) == Some(&b'"') {
                i += 2;
                continue;
            }
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record as (line, raw fields, values).
    type Rec = (u64, Vec<String>, Vec<String>);

    /// The records, and the tail.
    fn cut(bytes: &[u8]) -> Result<(Vec<Rec>, Vec<u8>), CutError> {
        // A reader that hands out one byte at a time: every boundary is crossed.
        struct Slow<'a>(&'a [u8]);
        impl Read for Slow<'_> {
            fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(b.len()).min(1);
                b[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut all = Vec::new();
        for slow in [false, true] {
            let mut c: Cutter<Box<dyn Read>> = Cutter::new(if slow {
                Box::new(Slow(bytes))
            } else {
                Box::new(bytes)
            });
            let mut recs = Vec::new();
            let mut joined = Vec::new();
            while let Some(r) = c.next_record()? {
                joined.extend_from_slice(r.bytes);
                let raw = r
                    .raw
                    .iter()
                    .map(|x| String::from_utf8_lossy(&r.bytes[x.clone()]).into_owned())
                    .collect();
                let vals = (0..r.len()).map(|i| r.value(i).to_string()).collect();
                recs.push((r.line, raw, vals));
            }
            joined.extend_from_slice(c.tail());
            assert_eq!(joined, bytes, "the records and the tail are the file");
            all.push((recs, c.tail().to_vec()));
        }
        assert_eq!(all[0], all[1], "the same records whatever the reads");
        Ok(all.remove(0))
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn fields_keep_their_raw_bytes_and_records_their_terminators() {
        let (recs, tail) = cut(b"\xEF\xBB\xBFa,b\r\n\"x,\"\"y\"\"\",\r\n\r\n007,\"\"\r\n").unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[0], (1, s(&["a", "b"]), s(&["a", "b"])));
        assert_eq!(
            recs[1],
            (2, s(&["\"x,\"\"y\"\"\"", ""]), s(&["x,\"y\"", ""]))
        );
        // The blank line before it is the record's, not a field's.
        assert_eq!(recs[2], (4, s(&["007", "\"\""]), s(&["007", ""])));
        assert_eq!(tail, b"\n");
    }

    #[test]
    fn a_quoted_line_break_is_counted_as_a_line() {
        let (recs, tail) = cut(b"a,b\n\"1\n2\",3\n4,5").unwrap();
        let lines: Vec<u64> = recs.iter().map(|r| r.0).collect();
        assert_eq!(lines, [1, 2, 4]);
        assert_eq!(recs[2].2, s(&["4", "5"]));
        assert!(tail.is_empty());
    }

    #[test]
    fn a_lone_cr_ends_a_line() {
        let (recs, _) = cut(b"a,b\r1,2\r3,4\r").unwrap();
        let lines: Vec<u64> = recs.iter().map(|r| r.0).collect();
        assert_eq!(lines, [1, 2, 3]);
    }

    #[test]
    fn bad_bytes_are_named_by_line() {
        assert_eq!(
            cut(b"a,b\n1,\xE9\n").err(),
            Some(CutError::NotUtf8 {
                line: 2,
                byte: 0xE9
            })
        );
        assert_eq!(cut(b"\xFF\xFEa\x00").err(), Some(CutError::Utf16));
        assert_eq!(
            cut(b"a,b\n1,\"2\n3\n").err(),
            Some(CutError::OpenQuote { line: 2 })
        );
        // A closed quote at the very end is fine.
        assert!(cut(b"a,b\n1,\"2\"\"\"").is_ok());
        let long = [b"a\n".as_slice(), &vec![b'x'; MAX_RECORD_BYTES + 1]].concat();
        assert_eq!(cut(&long).err(), Some(CutError::TooLong { line: 2 }));
        let wide = vec![b','; MAX_FIELDS + 1];
        assert_eq!(cut(&wide).err(), Some(CutError::TooManyFields { line: 1 }));
    }

    #[test]
    fn open_quotes() {
        assert!(open_quote(b"\"abc"));
        assert!(open_quote(b"\"ab\"\""));
        assert!(!open_quote(b"\"ab\"\"c\""));
        assert!(!open_quote(b"abc\""));
        assert!(!open_quote(b"\"\""));
    }
}
