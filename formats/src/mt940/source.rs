//! The bytes of an MT940 file as lines of text. CONTRACT 7.3 reads a file that is not
//! valid UTF-8 as ISO-8859-1, the whole file: one pass over the source decides, a second
//! one reads lines, so neither ever holds more than a chunk and one line.

use std::io::{ErrorKind, SeekFrom};

use crate::{limits, FormatError, Source};

/// Bytes read from the source at a time.
pub(crate) const CHUNK: usize = 256 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// An I/O failure, as a file-level problem.
pub(crate) fn io_error(e: std::io::Error) -> FormatError {
    FormatError {
        place: String::new(),
        message: format!("cannot read the file: {e}"),
    }
}

/// Reads into `buf`, retrying on interruption; 0 at the end of the source.
fn fill(src: &mut dyn Source, buf: &mut [u8]) -> Result<usize, FormatError> {
    loop {
        match src.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(e)),
        }
    }
}

/// Whether everything from the source's position to its end is valid UTF-8, read
/// `chunk` bytes at a time; the source is put back where it was. A character split
/// across two chunks is carried over to the next one.
pub(crate) fn is_utf8(src: &mut dyn Source, chunk: usize) -> Result<bool, FormatError> {
    let start = src.stream_position().map_err(io_error)?;
    let mut buf = vec![0u8; chunk.max(1) + 3];
    // Bytes of an incomplete character at the end of the previous chunk (at most 3).
    let mut carry = 0usize;
    let valid = loop {
        let n = fill(src, &mut buf[carry..])?;
        if n == 0 {
            break carry == 0;
        }
        let len = carry + n;
        match std::str::from_utf8(&buf[..len]) {
            Ok(_) => carry = 0,
            // Incomplete at the end: the rest of the character is in the next chunk.
            Err(e) if e.error_len().is_none() => {
                let good = e.valid_up_to();
                buf.copy_within(good..len, 0);
                carry = len - good;
            }
            Err(_) => break false,
        }
    };
    src.seek(SeekFrom::Start(start)).map_err(io_error)?;
    Ok(valid)
}

/// The source's lines, decoded, ended by LF, CRLF or a lone CR; empty lines are
/// returned too (the caller skips them). Line numbers count every terminator.
pub(crate) struct Lines<'a> {
    src: &'a mut dyn Source,
    latin1: bool,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    /// The last line ended with CR: an LF right after it belongs to that ending.
    after_cr: bool,
    first: bool,
    number: u64,
    raw: Vec<u8>,
    text: String,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(src: &'a mut dyn Source, latin1: bool, chunk: usize) -> Lines<'a> {
        Lines {
            src,
            latin1,
            buf: vec![0u8; chunk.max(1)],
            pos: 0,
            len: 0,
            eof: false,
            after_cr: false,
            first: true,
            number: 0,
            raw: Vec::with_capacity(256),
            text: String::with_capacity(256),
        }
    }

    /// Makes bytes available; false at the end of the source.
    fn available(&mut self) -> Result<bool, FormatError> {
        if self.pos < self.len {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        self.len = fill(self.src, &mut self.buf)?;
        self.pos = 0;
        self.eof = self.len == 0;
        Ok(!self.eof)
    }

    /// The next line without its terminator and its 1-based number, or `None` at the
    /// end of the file.
    pub(crate) fn next_line(&mut self) -> Result<Option<(u64, &str)>, FormatError> {
        self.raw.clear();
        if self.after_cr && self.available()? && self.buf[self.pos] == b'\n' {
            self.pos += 1;
        }
        self.after_cr = false;
        let mut any = false;
        while self.available()? {
            any = true;
            let rest = &self.buf[self.pos..self.len];
            let end = rest.iter().position(|&b| b == b'\n' || b == b'\r');
            let take = end.unwrap_or(rest.len());
            if self.raw.len() + take > limits::MAX_LINE_BYTES {
                return Err(FormatError {
                    place: format!("line {}", self.number + 1),
                    message: format!(
                        "the line is longer than {} bytes: not an MT940 line (a binary or \
                         damaged file?)",
                        limits::MAX_LINE_BYTES
                    ),
                });
            }
            self.raw.extend_from_slice(&rest[..take]);
            self.pos += take;
            if let Some(i) = end {
                self.after_cr = rest[i] == b'\r';
                self.pos += 1;
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.number += 1;
        let mut bytes = &self.raw[..];
        if self.first {
            self.first = false;
            bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
        }
        if self.latin1 {
            self.text.clear();
            self.text.extend(bytes.iter().map(|&b| char::from(b)));
            return Ok(Some((self.number, &self.text)));
        }
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(Some((self.number, s))),
            // The first pass found the file valid UTF-8: it changed while being read.
            Err(_) => Err(FormatError {
                place: format!("line {}", self.number),
                message: "the file changed while it was read (it was valid UTF-8 a moment \
                          before); read it again when it is complete"
                    .into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn lines(bytes: &[u8], chunk: usize) -> Vec<String> {
        let mut c = Cursor::new(bytes.to_vec());
        let latin1 = !is_utf8(&mut c, chunk).unwrap();
        let mut l = Lines::new(&mut c, latin1, chunk);
        let mut out = Vec::new();
        while let Some((_, s)) = l.next_line().unwrap() {
            out.push(s.to_string());
        }
        out
    }

    #[test]
    fn a_character_split_across_chunks_is_still_utf8() {
        let text = "ab\u{e9}\u{20ac}\u{1F600}cd";
        for chunk in 1..9 {
            let mut c = Cursor::new(text.as_bytes().to_vec());
            assert!(is_utf8(&mut c, chunk).unwrap(), "chunk {chunk}");
            assert_eq!(c.position(), 0);
        }
        for bad in [&b"ab\xE9cd"[..], b"ab\xE2\x82", b"\xFF", b"a\xC3"] {
            for chunk in 1..5 {
                assert!(!is_utf8(&mut Cursor::new(bad.to_vec()), chunk).unwrap());
            }
        }
    }

    #[test]
    fn line_endings_are_lf_crlf_or_cr_whatever_the_chunk() {
        let bytes = b"\xEF\xBB\xBFa\r\nb\rc\n\nd\r\r\ne";
        for chunk in 1..7 {
            assert_eq!(lines(bytes, chunk), ["a", "b", "c", "", "d", "", "e"]);
        }
    }

    #[test]
    fn a_file_not_utf8_is_latin1() {
        assert_eq!(lines(b":86:M\xFCller\n", 4), [":86:M\u{fc}ller"]);
    }
}
