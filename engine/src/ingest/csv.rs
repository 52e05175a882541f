//! CSV (CONTRACT.md section 1): streamed in 1 MiB reads, UTF-8 checked as the bytes pass
//! (a character cut by a read carried over), never held whole; each 64K-row batch goes
//! to the sink on the pool as soon as it is cut, results put back by batch number.

use std::fs::File;
use std::io::{BufRead, Read, Seek, SeekFrom};
use std::path::Path;

use arrow_array::StringArray;
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};

use super::columns::resolve_columns;
use super::{
    on_pool, Decoded, Opened, RawBatch, RawCol, Reader, Sink, BATCH_ROWS, MAX_RECORD_BYTES,
};
use crate::error::{Error, Result};
use crate::schema::Reject;

/// Reads RFC 4180 CSV with a header (CONTRACT.md section 1), streamed.
pub(super) struct CsvReader;

impl Reader for CsvReader {
    // One loop over the records with its batch hand-over inline: the hot path of a CSV
    // run, kept in one piece (the checks before and after it are `start` and `finish`).
    fn read<T: Send>(input: Opened<'_>, f: Sink<'_, T>) -> Result<Decoded<T>> {
        let Opened {
            index,
            file,
            handle,
            size,
        } = input;
        let path = &file.path;
        let (mut rdr, bom) = start(path, handle, size)?;
        // A parse error where the stream stopped being UTF-8 says where that is.
        let parse_error = |e: ::csv::Error, what: String, bad_at: Option<u64>| match bad_at {
            Some(at) => not_utf8_at(path, bom + at),
            None => Error::input(path, format!("{what}: {e}")),
        };
        let mut record = ::csv::ByteRecord::new();
        let header_ok = rdr.read_byte_record(&mut record).map_err(|e| {
            parse_error(e, "cannot parse the header".into(), rdr.get_ref().bad_at())
        })?;
        if !header_ok {
            return Err(Error::input(
                path,
                "file is empty: no header row (CONTRACT.md section 1 requires one)",
            ));
        }
        let names: Vec<&str> = record
            .iter()
            .map(|b| std::str::from_utf8(b).unwrap_or(""))
            .collect();
        let cols = resolve_columns(path, file, &names)?;
        let width = names.len();

        let mut builders: Vec<TextBuilder> = cols.iter().map(|_| TextBuilder::default()).collect();
        let mut pre_rejects = Vec::new();
        let mut len = 0usize;
        let mut rows: u64 = 0;
        let mut last_start = 0u64;
        // Each batch is handed to `f` (validation) as soon as it is cut, on the pool: the
        // other core validates while this one parses.
        let flush = |builders: &mut Vec<TextBuilder>,
                     pre: &mut Vec<(usize, Reject)>,
                     len: &mut usize,
                     rows: u64|
         -> Result<RawBatch> {
            let mut out = Vec::with_capacity(builders.len());
            for (b, c) in builders.iter_mut().zip(&cols) {
                out.push(match c {
                    Some(_) => Some(RawCol::Text(
                        std::mem::take(b)
                            .finish()
                            .map_err(|e| Error::input(path, e))?,
                    )),
                    None => None,
                });
            }
            let batch = RawBatch {
                file: index,
                first_row: rows - *len as u64 + 1,
                len: *len,
                cols: out,
                pre_rejects: std::mem::take(pre),
                originals: Vec::new(),
            };
            *len = 0;
            Ok(batch)
        };
        let (read, out) = on_pool(f, |hand_on| -> Result<()> {
            loop {
                let ok = rdr.read_byte_record(&mut record).map_err(|e| {
                    let line = rdr.position().line();
                    let what = format!("cannot parse CSV near line {line}");
                    parse_error(e, what, rdr.get_ref().bad_at())
                })?;
                if !ok {
                    break;
                }
                let pos = record.position().expect("csv records carry positions");
                last_start = pos.byte();
                if record.as_slice().len() > MAX_RECORD_BYTES {
                    return Err(Error::input(
                    path,
                    format!(
                        "record starting at line {} is larger than {} bytes: probably an unbalanced quote starting there; fix the quoting",
                        pos.line(),
                        MAX_RECORD_BYTES
                    ),
                ));
                }
                rows += 1;
                if record.len() != width {
                    let raw: Vec<&str> = record
                        .iter()
                        .map(|b| std::str::from_utf8(b).unwrap_or(""))
                        .collect();
                    pre_rejects.push((
                        len,
                        Reject {
                            side: file.side,
                            file: index,
                            row: rows,
                            column: None,
                            reason: crate::schema::Reason::MalformedRow,
                            value: Some(crate::schema::cut_value(&raw.join(","))),
                        },
                    ));
                    for (b, c) in builders.iter_mut().zip(&cols) {
                        if c.is_some() {
                            b.push_null();
                        }
                    }
                } else {
                    for (b, c) in builders.iter_mut().zip(&cols) {
                        if let Some(c) = c {
                            b.push(&record[*c]);
                        }
                    }
                }
                len += 1;
                if len == BATCH_ROWS {
                    hand_on(flush(&mut builders, &mut pre_rejects, &mut len, rows)?);
                }
            }
            if len > 0 {
                hand_on(flush(&mut builders, &mut pre_rejects, &mut len, rows)?);
            }
            Ok(())
        });
        read?;
        finish(path, rdr, bom, last_start, rows)?;
        Ok((out, rows))
    }
}

/// Checks a CSV file's two ends and opens the streaming reader past its byte-order mark;
/// returns the reader and the mark's length.
fn start(
    path: &Path,
    mut handle: File,
    size: u64,
) -> Result<(::csv::Reader<Utf8Stream<File>>, u64)> {
    let cannot_read = |e: std::io::Error| Error::input(path, format!("cannot read: {e}"));
    // The file is streamed, never held whole; `Utf8Stream` checks its encoding on the
    // way. An empty, UTF-16 or NUL-padded file, seen at the file's two ends, is
    // described by `check_csv_bytes` over the whole file (read for that message only).
    let head = read_at(&mut handle, 0, 3).map_err(cannot_read)?;
    let tail =
        read_at(&mut handle, size.saturating_sub(TAIL_BYTES), TAIL_BYTES).map_err(cannot_read)?;
    if size == 0
        || head.starts_with(b"\xFF\xFE")
        || head.starts_with(b"\xFE\xFF")
        || nul_padded(&tail)
    {
        return Err(whole_file_problem(path));
    }
    let bom: u64 = if head.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    handle.seek(SeekFrom::Start(bom)).map_err(cannot_read)?;
    let rdr = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(CSV_BUFFER)
        .from_reader(Utf8Stream::new(handle));
    Ok((rdr, bom))
}

/// The checks after the last record: the stream was UTF-8 to its end, and the last
/// record (starting at byte `last_start` after the byte-order mark) closes its quotes.
fn finish(
    path: &Path,
    rdr: ::csv::Reader<Utf8Stream<File>>,
    bom: u64,
    last_start: u64,
    rows: u64,
) -> Result<()> {
    if let Some(at) = rdr.get_ref().bad_at() {
        return Err(not_utf8_at(path, bom + at));
    }
    let mut handle = rdr.into_inner().into_inner();
    let last = read_at(&mut handle, bom + last_start, u64::MAX)
        .map_err(|e| Error::input(path, format!("cannot read: {e}")))?;
    check_final_quote(path, &last, rows)
}

/// Bytes of a CSV file looked at for NUL padding before it is parsed.
const TAIL_BYTES: u64 = 64 << 10;
/// The CSV reader's buffer: each read of the file is this large.
const CSV_BUFFER: usize = 1 << 20;

/// Up to `len` bytes of the file from `offset` on.
fn read_at(f: &mut File, offset: u64, len: u64) -> std::io::Result<Vec<u8>> {
    f.seek(SeekFrom::Start(offset))?;
    let mut out = Vec::new();
    f.take(len).read_to_end(&mut out)?;
    Ok(out)
}

/// Whether the file ends in NUL bytes (before its last line breaks): `check_csv_bytes`
/// says where they start.
fn nul_padded(tail: &[u8]) -> bool {
    tail.iter()
        .rev()
        .find(|&&b| b != b'\n' && b != b'\r')
        .is_some_and(|&b| b == 0)
}

/// The error `check_csv_bytes` gives for the whole file, which a cheap check has found
/// unusable (the whole file is read for the message only, on this failing path).
fn whole_file_problem(path: &Path) -> Error {
    match std::fs::read(path) {
        Err(e) => Error::input(path, format!("cannot read: {e}")),
        Ok(bytes) => check_csv_bytes(path, &bytes).err().unwrap_or_else(|| {
            Error::Internal(format!(
                "{}: a streaming check failed but the whole file passes",
                path.display()
            ))
        }),
    }
}

/// A reader that checks that the bytes passing through are UTF-8 (PITFALLS.md E2),
/// carrying a character cut by a read over to the next. On the first invalid byte it
/// records where it is and returns an error; `bad_at` says where, and also counts a
/// character cut off by the end.
struct Utf8Stream<R> {
    inner: R,
    /// The start of a character cut at the end of the last read (at most 3 bytes).
    cut: Vec<u8>,
    /// Bytes passed through so far.
    offset: u64,
    /// Where the first invalid byte is, from the start of the stream.
    bad: Option<u64>,
}

impl<R: Read> Utf8Stream<R> {
    fn new(inner: R) -> Utf8Stream<R> {
        Utf8Stream {
            inner,
            cut: Vec::new(),
            offset: 0,
            bad: None,
        }
    }

    /// Where the stream stopped being UTF-8, if it did: an invalid byte, or a character
    /// the end of the stream cut off.
    fn bad_at(&self) -> Option<u64> {
        self.bad
            .or_else(|| (!self.cut.is_empty()).then(|| self.offset - self.cut.len() as u64))
    }

    fn into_inner(self) -> R {
        self.inner
    }

    /// Checks `data`, which follows the bytes checked so far; returns where its first
    /// invalid byte is (from the start of the stream), if any.
    fn check(&mut self, data: &[u8]) -> Option<u64> {
        let start = self.offset;
        self.offset += data.len() as u64;
        let mut rest = data;
        if !self.cut.is_empty() {
            let cut_at = start - self.cut.len() as u64;
            // Complete the cut character first: its width is in its first byte.
            let width = match self.cut[0] {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                _ => 4,
            };
            let take = (width - self.cut.len()).min(rest.len());
            self.cut.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            match std::str::from_utf8(&self.cut) {
                Ok(_) => self.cut.clear(),
                // Still a valid beginning: the data ran out first.
                Err(e) if e.error_len().is_none() && rest.is_empty() => return None,
                Err(_) => return Some(cut_at),
            }
        }
        let rest_at = self.offset - rest.len() as u64;
        match std::str::from_utf8(rest) {
            Ok(_) => None,
            Err(e) if e.error_len().is_none() => {
                self.cut.extend_from_slice(&rest[e.valid_up_to()..]);
                None
            }
            Err(e) => Some(rest_at + e.valid_up_to() as u64),
        }
    }
}

impl<R: Read> Read for Utf8Stream<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(at) = self.check(&buf[..n]) {
            self.bad = Some(at);
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "not UTF-8",
            ));
        }
        Ok(n)
    }
}

/// "Not UTF-8" for the file's byte `at`, with its line, counted in a streaming pass.
fn not_utf8_at(path: &Path, at: u64) -> Error {
    let lines = File::open(path).and_then(|f| {
        let mut r = std::io::BufReader::with_capacity(CSV_BUFFER, f.take(at));
        let mut n = 0usize;
        loop {
            let buf = r.fill_buf()?;
            if buf.is_empty() {
                return Ok(n);
            }
            n += buf.iter().filter(|&&b| b == b'\n').count();
            let k = buf.len();
            r.consume(k);
        }
    });
    match lines {
        Ok(n) => not_utf8(path, n + 1, at),
        Err(e) => Error::input(path, format!("cannot read: {e}")),
    }
}

fn not_utf8(path: &Path, line: usize, at: u64) -> Error {
    Error::input(
        path,
        format!(
            "file is not UTF-8 (line {line}, byte {at}); convert it (e.g. iconv -f CP1251 -t UTF-8) before reconciling"
        ),
    )
}

/// File-level checks on CSV bytes: encoding and padding (PITFALLS.md E2, E3, E9).
fn check_csv_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    if bytes.is_empty() {
        return Err(Error::input(
            path,
            "file is empty: no header row (CONTRACT.md section 1 requires one)",
        ));
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        let which = if bytes[0] == 0xFF {
            "UTF-16 LE"
        } else {
            "UTF-16 BE"
        };
        return Err(Error::input(
            path,
            format!(
                "file is {which} (it starts with a UTF-16 byte-order mark); save it as UTF-8 CSV"
            ),
        ));
    }
    if let Err(e) = std::str::from_utf8(bytes) {
        let at = e.valid_up_to();
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        return Err(not_utf8(path, line, at as u64));
    }
    let trimmed = bytes
        .iter()
        .rposition(|&b| b != b'\n' && b != b'\r')
        .map_or(0, |i| i + 1);
    if trimmed > 0 && bytes[trimmed - 1] == 0 {
        let first_nul = bytes[..trimmed]
            .iter()
            .rposition(|&b| b != 0)
            .map_or(0, |i| i + 1);
        let line = bytes[..first_nul].iter().filter(|&&b| b == b'\n').count() + 1;
        return Err(Error::input(
            path,
            format!("file is padded with NUL bytes after line {line} (an interrupted transfer?); ask for a complete copy"),
        ));
    }
    Ok(())
}

/// The csv crate accepts a quote left open at the end of the file (rust-csv#252); the
/// contract makes it a file-level error. Scans the last record with RFC 4180's rules.
fn check_final_quote(path: &Path, last: &[u8], rows: u64) -> Result<()> {
    let mut in_quotes = false;
    let mut at_field_start = true;
    let mut i = 0;
    while i < last.len() {
        let c = last[i];
        if in_quotes {
            if c == b'"' {
                if last.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    in_quotes = false;
                }
            }
        } else if c == b'"' && at_field_start {
            in_quotes = true;
        } else if c == b'\n' || c == b'\r' {
            break;
        }
        at_field_start = !in_quotes && c == b',';
        i += 1;
    }
    if in_quotes {
        return Err(Error::input(
            path,
            format!(
                "unterminated quote in the last record (data row {rows}): the file is truncated or a quote is unbalanced; fix the quoting or ask for a complete copy"
            ),
        ));
    }
    Ok(())
}

/// Builds a StringArray without a String per row; UTF-8 is checked once per batch.
#[derive(Default)]
struct TextBuilder {
    values: Vec<u8>,
    offsets: Vec<i32>,
    nulls: Vec<bool>,
    any_null: bool,
}

impl TextBuilder {
    fn push(&mut self, v: &[u8]) {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        self.values.extend_from_slice(v);
        self.offsets.push(self.values.len() as i32);
        self.nulls.push(true);
    }

    fn push_null(&mut self) {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        self.offsets.push(self.values.len() as i32);
        self.nulls.push(false);
        self.any_null = true;
    }

    fn finish(self) -> std::result::Result<StringArray, String> {
        let offsets = if self.offsets.is_empty() {
            vec![0]
        } else {
            self.offsets
        };
        let nulls = self
            .any_null
            .then(|| arrow_buffer::NullBuffer::from(self.nulls));
        StringArray::try_new(
            OffsetBuffer::new(ScalarBuffer::from(offsets)),
            Buffer::from_vec(self.values),
            nulls,
        )
        .map_err(|e| format!("text is not valid UTF-8: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Hands out `data` in reads of the given sizes (cycled), as a file read in blocks
    /// that cut characters anywhere would.
    struct Pieces<'a> {
        data: &'a [u8],
        sizes: Vec<usize>,
        k: usize,
    }

    impl Read for Pieces<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.sizes[self.k % self.sizes.len()]
                .min(buf.len())
                .min(self.data.len());
            self.k += 1;
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    /// Where the streaming check finds the stream stops being UTF-8 (`None`: it does
    /// not), having passed every byte on until then.
    fn streamed_bad_at(data: &[u8], sizes: Vec<usize>) -> Option<u64> {
        let mut s = Utf8Stream::new(Pieces { data, sizes, k: 0 });
        let mut sink = Vec::new();
        let read = s.read_to_end(&mut sink);
        assert_eq!(read.is_err(), s.bad.is_some());
        if read.is_ok() {
            assert_eq!(sink, data);
        }
        s.bad_at()
    }

    fn streams_as_utf8(data: &[u8], sizes: Vec<usize>) -> bool {
        streamed_bad_at(data, sizes).is_none()
    }

    proptest! {
        /// Cut into reads anywhere, a stream stops being UTF-8 exactly where the whole
        /// does (the whole file's check gives the same byte).
        #[test]
        fn utf8_stream_agrees_with_the_whole(
            text in "[a-z,\"\n é€😀Ж]{0,40}",
            garbage in proptest::collection::vec(any::<u8>(), 0..3),
            at in 0usize..200,
            sizes in proptest::collection::vec(1usize..7, 1..4),
        ) {
            let mut data = text.into_bytes();
            let at = at.min(data.len());
            data.splice(at..at, garbage);
            let whole = std::str::from_utf8(&data).err().map(|e| e.valid_up_to() as u64);
            prop_assert_eq!(streamed_bad_at(&data, sizes), whole);
        }
    }

    #[test]
    fn cut_characters_and_truncated_ends() {
        let text = "Ж€😀".as_bytes();
        for size in 1..=text.len() {
            assert!(streams_as_utf8(text, vec![size]), "{size}");
            // Cut off inside the last character: not UTF-8.
            assert!(
                !streams_as_utf8(&text[..text.len() - 1], vec![size]),
                "{size}"
            );
        }
        // A stray continuation byte, an overlong form, a surrogate.
        for bad in [&b"a\x80b"[..], b"\xC0\xAF", b"\xED\xA0\x80"] {
            assert!(!streams_as_utf8(bad, vec![1]));
            assert!(!streams_as_utf8(bad, vec![64]));
        }
    }
}
