//! Lines into tags. A line starting with `:NN:` or `:NNa:` opens a tag; any other line
//! belongs to the tag above it (CONTRACT 7.3) — except the FIN envelope (`{1:…}{2:…}{4:`,
//! `-}`, `-}{5:…}`), a message end (`-` alone, `-XXX` of ING), and, outside a tag, the
//! preamble lines banks put before a message (`:940:`, `0000 01INGBNL2AXXXX00001`, `940 00`,
//! `ABNANL2A`), which carry nothing.

use crate::{limits, FormatError};

/// The FIN envelope's braces and the opener of block 4 (the message text), named once.
const OPEN: u8 = b'{';
const CLOSE: u8 = b'}';
const BLOCK4: &[u8] = b"{4:";

/// A tag's name: two digits and an optional letter (`61`, `60F`), or `NS` (a
/// non-standard tag some Hungarian and Russian banks write).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Name {
    bytes: [u8; 3],
    len: u8,
}

impl Name {
    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII letters and digits are ever stored (see `tag_of`).
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

/// The tag a line opens, and where its value starts.
pub(crate) fn tag_of(line: &[u8]) -> Option<(Name, usize)> {
    let (&colon, rest) = line.split_first()?;
    if colon != b':' || rest.len() < 3 {
        return None;
    }
    let two = (rest[0].is_ascii_digit() && rest[1].is_ascii_digit()) || &rest[..2] == b"NS";
    if !two {
        return None;
    }
    let len = if rest[2] == b':' {
        2
    } else if rest[2].is_ascii_uppercase() && rest.get(3) == Some(&b':') {
        3
    } else {
        return None;
    };
    let mut bytes = [0u8; 3];
    bytes[..len].copy_from_slice(&rest[..len]);
    Some((
        Name {
            bytes,
            len: len as u8,
        },
        len + 2,
    ))
}

/// A FIN envelope line: starts with a block `{1:` … `{5:`.
fn is_envelope(line: &[u8]) -> bool {
    matches!(line, [OPEN, b'1'..=b'5', b':', ..])
}

/// A message end: `-` alone (maybe followed by control characters such as ETX), `-}`
/// and whatever follows it, or ING's `-XXX`. A line like `-2014 Omschrijving/` is a
/// continuation line, not an end.
fn is_message_end(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"-") else {
        return false;
    };
    rest.first() == Some(&CLOSE)
        || rest
            .iter()
            .all(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        || rest.trim_ascii() == b"XXX"
}

/// For a framing line (envelope or message end): what follows its block-4 opener, empty
/// when it has none; `None` for any other line.
fn framing_rest(line: &[u8]) -> Option<&[u8]> {
    if !is_envelope(line) && !is_message_end(line) {
        return None;
    }
    Some(match line.windows(BLOCK4.len()).position(|w| w == BLOCK4) {
        Some(i) => &line[i + BLOCK4.len()..],
        None => &[],
    })
}

/// Whether the first bytes of a file say MT940 (CONTRACT 7.1): after an optional BOM,
/// envelope and at most a few preamble lines, the first tag line is `:20:`.
pub(crate) fn starts_like_mt940(head: &[u8]) -> bool {
    /// Preamble lines seen in real files number 1 to 3; a CSV file has no tag lines.
    const MAX_PREAMBLE: usize = 10;
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let mut preamble = 0;
    for mut line in head.split(|&b| b == b'\n' || b == b'\r') {
        if let Some(rest) = framing_rest(line) {
            line = rest;
        }
        if line.is_empty() {
            continue;
        }
        if let Some((name, _)) = tag_of(line) {
            return name.as_str() == "20";
        }
        preamble += 1;
        if preamble > MAX_PREAMBLE || line.first() == Some(&b'<') {
            return false;
        }
    }
    false
}

/// One tag with its continuation lines, joined without separators.
#[derive(Debug, Default)]
pub(crate) struct Tag {
    pub(crate) name: Name,
    /// Line number of the tag line.
    pub(crate) line: u64,
    pub(crate) text: String,
    /// Where each continuation line starts in `text`.
    breaks: Vec<usize>,
}

impl Tag {
    /// The `i`-th line of the tag (0: the tag line without its `:NN:`), if it has one.
    pub(crate) fn line_text(&self, i: usize) -> Option<&str> {
        let start = if i == 0 { 0 } else { *self.breaks.get(i - 1)? };
        let end = self.breaks.get(i).copied().unwrap_or(self.text.len());
        self.text.get(start..end)
    }

    fn open(&mut self, name: Name, line: u64, value: &str) {
        self.name = name;
        self.line = line;
        self.text.clear();
        self.text.push_str(value);
        self.breaks.clear();
    }
}

/// Turns lines into tags, reusing two tag buffers: the one being read and the one last
/// completed.
#[derive(Debug, Default)]
pub(crate) struct Tokenizer {
    current: Tag,
    open: bool,
    done: Tag,
    /// Lines ignored in a row (preamble); a file made of them is not MT940.
    ignored: u32,
}

/// Consecutive lines outside any tag after which the file is refused (a binary file or
/// text that is not MT940 would otherwise be read to its end for nothing).
const MAX_IGNORED_LINES: u32 = 1000;

impl Tokenizer {
    fn close(&mut self) -> bool {
        if !self.open {
            return false;
        }
        std::mem::swap(&mut self.current, &mut self.done);
        self.open = false;
        true
    }

    /// Reads one line; returns the tag it completes, if any (at most one per line).
    pub(crate) fn line(&mut self, number: u64, line: &str) -> Result<Option<&Tag>, FormatError> {
        if line.is_empty() {
            return Ok(None);
        }
        let mut line = line;
        let mut completed = false;
        if let Some(rest) = framing_rest(line.as_bytes()) {
            completed = self.close();
            if rest.is_empty() {
                return Ok(completed.then_some(&self.done));
            }
            // A suffix after an ASCII opener: a character boundary.
            line = &line[line.len() - rest.len()..];
        }
        if let Some((name, start)) = tag_of(line.as_bytes()) {
            completed |= self.close();
            self.current
                .open(name, number, line.get(start..).unwrap_or(""));
            self.open = true;
            self.ignored = 0;
        } else if self.open {
            let tag = &mut self.current;
            if tag.text.len() + line.len() > limits::MAX_TEXT_BYTES {
                return Err(FormatError {
                    place: format!("line {number}"),
                    message: format!(
                        "the :{}: tag of line {} is longer than {} bytes with its \
                         continuation lines: not an MT940 field (a damaged file?)",
                        tag.name.as_str(),
                        tag.line,
                        limits::MAX_TEXT_BYTES
                    ),
                });
            }
            tag.breaks.push(tag.text.len());
            tag.text.push_str(line);
        } else {
            self.ignored += 1;
            if self.ignored > MAX_IGNORED_LINES {
                return Err(FormatError {
                    place: format!("line {number}"),
                    message: format!(
                        "{MAX_IGNORED_LINES} lines in a row that are neither an MT940 tag nor \
                         part of one: not an MT940 file"
                    ),
                });
            }
        }
        Ok(completed.then_some(&self.done))
    }

    /// The tag still open at the end of the file.
    pub(crate) fn finish(&mut self) -> Option<&Tag> {
        self.close().then_some(&self.done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_lines_and_others() {
        let name = |s: &str| tag_of(s.as_bytes()).map(|(n, i)| (n.as_str().to_string(), i));
        assert_eq!(name(":20:X"), Some(("20".into(), 4)));
        assert_eq!(name(":60F:C"), Some(("60F".into(), 5)));
        assert_eq!(name(":NS:01"), Some(("NS".into(), 4)));
        for no in [
            ":940:", ":", ":2", ":6F:", ":60f:", "86:1", ":AB:", ":61", "-",
        ] {
            assert_eq!(name(no), None, "{no}");
        }
    }

    #[test]
    fn envelope_and_message_ends() {
        assert!(is_message_end(b"-"));
        assert!(is_message_end(b"-}"));
        assert!(is_message_end(b"-}{5:}"));
        assert!(is_message_end(b"-\x03"));
        assert!(is_message_end(b"-XXX"));
        assert!(!is_message_end(b"-2014 Omschrijving/"));
        assert!(is_envelope(b"{1:F01ASNBNL21XXXX0000000000}{2:O940}{4:"));
        assert!(!is_envelope(b"{REMI}"));
    }

    #[test]
    fn recognises_by_the_first_tag() {
        assert!(starts_like_mt940(b":20:X\n:25:Y"));
        assert!(starts_like_mt940(
            b"\xEF\xBB\xBF{1:F01X}{2:O940X}{4:\r\n:20:X"
        ));
        assert!(starts_like_mt940(b"{1:F01X}{2:O940X}{3:{108:B}}{4::20:X"));
        assert!(starts_like_mt940(
            b"0000 01INGBNL2AXXXX00001\n940 00\n:20:MPBZ"
        ));
        assert!(starts_like_mt940(b":940:\n:20:940S130101\n"));
        assert!(!starts_like_mt940(b":61:1811261126CR\n"));
        assert!(!starts_like_mt940(b"provider,provider_ref\nP,:20:\n"));
        assert!(!starts_like_mt940(b"<?xml version=\"1.0\"?>\n:20:"));
        assert!(!starts_like_mt940(b"{1:F01X}{2:O940X}{4:\n-}"));
        assert!(!starts_like_mt940(b""));
    }
}
