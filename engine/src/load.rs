//! Loading: finds the input files, checks them, and decodes them into raw batches of the
//! side's columns. Only this module and `write` touch files.
//!
//! Every file is untrusted (PITFALLS.md 2.1, 2.2, 3.9): regular files only, a column cap,
//! flat column types only, a record-size cap for CSV, Parquet footer checks before the
//! decoder sees the file, and every third-party decode runs under `catch_unwind` so that a
//! decoder panic becomes an exit-2 message naming the file.

use std::fs::File;
use std::io::{BufRead, Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{
    Array, ArrayRef, Date32Array, Date64Array, Decimal128Array, Decimal256Array, Int32Array,
    Int64Array, RecordBatch, StringArray, UInt64Array,
};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Schema};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::schema::{Field, Kind, Reject, Side};

/// Rows per raw batch (the unit of parallel validation).
pub const BATCH_ROWS: usize = 64 * 1024;
/// Most columns a file may have (PITFALLS.md H3).
pub const MAX_COLUMNS: usize = 1024;
/// Largest CSV record, in bytes (PITFALLS.md H4, E7).
pub const MAX_RECORD_BYTES: usize = 1 << 20;
/// Most files one side may have (PITFALLS.md H13).
pub const MAX_FILES: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
    Arrow,
}

impl Format {
    pub fn from_path(p: &Path) -> Option<Format> {
        match p.extension()?.to_str()? {
            "csv" => Some(Format::Csv),
            "parquet" => Some(Format::Parquet),
            "arrow" => Some(Format::Arrow),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
            Format::Arrow => "arrow",
        }
    }
}

/// One input file, as the user named it (or its directory joined with its name).
#[derive(Debug, Clone)]
pub struct InputFile {
    pub side: Side,
    pub path: PathBuf,
    pub format: Format,
}

/// What was read from a file besides its rows.
#[derive(Debug, Clone, Default)]
pub struct FileStats {
    /// Data rows (records) in the file.
    pub rows: u64,
    pub sha256: String,
    pub bytes: u64,
}

/// Expands the paths of one side: a file stands for itself, a directory for its `.csv`,
/// `.parquet` and `.arrow` files sorted by file name (CONTRACT.md section 1).
pub fn discover(side: Side, paths: &[PathBuf]) -> Result<Vec<InputFile>> {
    let mut files = Vec::new();
    if paths.is_empty() {
        return Err(Error::Usage(format!("no {} input given", side.as_str())));
    }
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| {
            Error::input(
                p,
                format!("cannot open {} input: {e}; check the path", side.as_str()),
            )
        })?;
        if meta.is_dir() {
            let mut names = Vec::new();
            let entries = std::fs::read_dir(p)
                .map_err(|e| Error::input(p, format!("cannot list directory: {e}")))?;
            for entry in entries {
                let entry =
                    entry.map_err(|e| Error::input(p, format!("cannot list directory: {e}")))?;
                let name = entry.file_name();
                let child = p.join(&name);
                if Format::from_path(&child).is_some() {
                    names.push(name);
                }
            }
            names.sort();
            if names.is_empty() {
                return Err(Error::input(
                    p,
                    format!(
                        "directory has no .csv, .parquet or .arrow files to read as {}",
                        side.as_str()
                    ),
                ));
            }
            for name in names {
                let path = p.join(name);
                let format = Format::from_path(&path).expect("filtered above");
                files.push(InputFile { side, path, format });
            }
        } else {
            let format = Format::from_path(p).ok_or_else(|| {
                Error::input(p, "unknown file type: name a .csv, .parquet or .arrow (Arrow IPC file) file, or a directory")
            })?;
            files.push(InputFile {
                side,
                path: p.clone(),
                format,
            });
        }
        if files.len() > MAX_FILES {
            return Err(Error::Usage(format!(
                "more than {MAX_FILES} {} files: merge them before reconciling",
                side.as_str()
            )));
        }
    }
    Ok(files)
}

/// A raw column of one batch, in one of the representations the contract allows.
#[derive(Debug, Clone)]
pub enum RawCol {
    Text(StringArray),
    Dec128(Decimal128Array, i8),
    Dec256(Decimal256Array, i8),
    Int(Int64Array),
    UInt(UInt64Array),
    Date32(Date32Array),
    Date64(Date64Array),
    /// Dictionary-encoded text, kept encoded for the fields validation decides once per
    /// distinct value ([`crate::table::per_value_field`]). Every key is a valid index of
    /// `values` (checked when the column is read).
    Dict(Int32Array, StringArray),
}

/// A batch of one file's rows, holding the side's columns (None: optional and absent).
#[derive(Debug)]
pub struct RawBatch {
    pub file: u32,
    /// Row number (1-based) of the batch's first row in its file.
    pub first_row: u64,
    pub len: usize,
    pub cols: Vec<Option<RawCol>>,
    /// Rows already rejected while reading (malformed CSV records), sorted by local index.
    pub pre_rejects: Vec<(usize, Reject)>,
}

/// Reads every file of a side in input order and hands each raw batch to `f` (in
/// parallel); returns the results in input order with each file's statistics.
pub fn read_side<T: Send>(
    files: &[InputFile],
    f: &(dyn Fn(RawBatch) -> T + Sync),
) -> Result<(Vec<T>, Vec<FileStats>)> {
    // Files are decoded in parallel (a provider's file is often one row group, which
    // one thread decodes); results are put back in input order.
    let per_file: Vec<Result<(Vec<T>, FileStats)>> = files
        .par_iter()
        .enumerate()
        .map(|(i, file)| read_file(i as u32, file, f))
        .collect();
    let mut out = Vec::new();
    let mut stats = Vec::with_capacity(files.len());
    for r in per_file {
        let (results, st) = r?;
        out.extend(results);
        stats.push(st);
    }
    Ok((out, stats))
}

fn read_file<T: Send>(
    index: u32,
    file: &InputFile,
    f: &(dyn Fn(RawBatch) -> T + Sync),
) -> Result<(Vec<T>, FileStats)> {
    let path = &file.path;
    let handle = File::open(path).map_err(|e| Error::input(path, format!("cannot open: {e}")))?;
    let meta = handle
        .metadata()
        .map_err(|e| Error::input(path, format!("cannot stat: {e}")))?;
    if !meta.is_file() {
        return Err(Error::input(
            path,
            "not a regular file (devices, FIFOs and sockets are not read)",
        ));
    }
    let (hash, decoded) = rayon::join(
        || sha256_file(path),
        || {
            catch_unwind(AssertUnwindSafe(|| match file.format {
                Format::Csv => read_csv(index, file, handle, f),
                Format::Parquet => read_parquet(index, file, handle, f),
                Format::Arrow => read_ipc(index, file, handle, f),
            }))
            .unwrap_or_else(|p| {
                Err(Error::input(
                    path,
                    format!(
                        "file is damaged: the {} decoder failed ({}); ask the sender for a new copy",
                        file.format.as_str(),
                        panic_message(&p)
                    ),
                ))
            })
        },
    );
    let (results, rows) = decoded?;
    Ok((
        results,
        FileStats {
            rows,
            sha256: hash?,
            bytes: meta.len(),
        },
    ))
}

pub fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

fn sha256_file(path: &Path) -> Result<String> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    let mut f = File::open(path).map_err(|e| Error::input(path, format!("cannot open: {e}")))?;
    // The 1 MiB buffer matters beyond hashing: it is the first mmapped chunk glibc sees
    // freed, which raises malloc's dynamic mmap threshold to 1 MiB, so the decoders'
    // per-batch buffers below that size are reused from the heap instead of being mapped
    // afresh for every batch. Hashing a CSV file from the bytes already read, without this
    // buffer, cost +250 K page faults and +0.45 s at 10M (BENCHMARKS.md, session 10).
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| Error::input(path, format!("cannot read: {e}")))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

// ---------------------------------------------------------------------------------------
// Header checks shared by all formats.

/// Maps the side's fields to column positions, or explains what is wrong with the header.
fn resolve_columns(path: &Path, side: Side, names: &[&str]) -> Result<Vec<Option<usize>>> {
    if names.len() > MAX_COLUMNS {
        return Err(Error::input(
            path,
            format!(
                "has {} columns; at most {MAX_COLUMNS} are read",
                names.len()
            ),
        ));
    }
    for (i, n) in names.iter().enumerate() {
        if n.is_empty() {
            return Err(Error::input(
                path,
                format!(
                    "column {} of the header has an empty name (a trailing comma?); name every column or remove the empty one",
                    i + 1
                ),
            ));
        }
        if let Some(j) = names[..i].iter().position(|m| m == n) {
            return Err(Error::input(
                path,
                format!(
                    "column {n} appears twice (positions {} and {}); keep one, sverka will not guess which holds the right values",
                    j + 1,
                    i + 1
                ),
            ));
        }
    }
    let mut idx = Vec::with_capacity(side.fields().len());
    for field in side.fields() {
        let pos = names.iter().position(|n| *n == field.name);
        if pos.is_none() && field.required {
            let mut msg = format!(
                "missing required column {} for {}",
                field.name,
                side.as_str()
            );
            if let Some(near) = names.iter().find(|n| {
                n.trim().eq_ignore_ascii_case(field.name)
                    || n.trim_start_matches('\u{feff}') == field.name
            }) {
                msg.push_str(&format!(
                    " (found {near:?}: column names must match exactly)"
                ));
            } else if names.len() == 1 && names[0].contains(';') {
                msg.push_str(" (the header contains ';': the file looks semicolon-separated; export it comma-separated)");
            }
            msg.push_str(&format!("; the header has: {}", names.join(", ")));
            return Err(Error::input(path, msg));
        }
        idx.push(pos);
    }
    Ok(idx)
}

// ---------------------------------------------------------------------------------------
// CSV

fn read_csv<T: Send>(
    index: u32,
    file: &InputFile,
    mut handle: File,
    f: &(dyn Fn(RawBatch) -> T + Sync),
) -> Result<(Vec<T>, u64)> {
    let path = &file.path;
    let cannot_read = |e: std::io::Error| Error::input(path, format!("cannot read: {e}"));
    // The file is streamed, never held whole; `Utf8Stream` checks its encoding on the
    // way. An empty, UTF-16 or NUL-padded file, seen at the file's two ends, is
    // described by `check_csv_bytes` over the whole file (read for that message only).
    let size = handle.metadata().map_err(cannot_read)?.len();
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
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(CSV_BUFFER)
        .from_reader(Utf8Stream::new(handle));
    // A parse error where the stream stopped being UTF-8 says where that is.
    let parse_error = |e: csv::Error, what: String, bad_at: Option<u64>| match bad_at {
        Some(at) => not_utf8_at(path, bom + at),
        None => Error::input(path, format!("{what}: {e}")),
    };
    let mut record = csv::ByteRecord::new();
    let header_ok = rdr
        .read_byte_record(&mut record)
        .map_err(|e| parse_error(e, "cannot parse the header".into(), rdr.get_ref().bad_at()))?;
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
    let cols = resolve_columns(path, file.side, &names)?;
    let width = names.len();

    let mut builders: Vec<TextBuilder> = cols.iter().map(|_| TextBuilder::default()).collect();
    let mut pre_rejects = Vec::new();
    let mut len = 0usize;
    let mut rows: u64 = 0;
    let mut last_start = 0u64;
    // Each batch is handed to `f` (validation) as soon as it is cut, on the pool: the
    // other core validates while this one parses. Results come back by batch number.
    let (done, results) = std::sync::mpsc::channel::<(usize, T)>();
    let mut cut = 0usize;
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
        };
        *len = 0;
        Ok(batch)
    };
    rayon::scope(|scope| -> Result<()> {
        let mut hand_on = |batch: RawBatch| {
            let done = done.clone();
            let i = cut;
            cut += 1;
            scope.spawn(move |_| {
                // The receiver outlives the scope: a send cannot fail.
                let _ = done.send((i, f(batch)));
            });
        };
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
    })?;
    if let Some(at) = rdr.get_ref().bad_at() {
        return Err(not_utf8_at(path, bom + at));
    }
    let mut handle = rdr.into_inner().into_inner();
    let last = read_at(&mut handle, bom + last_start, u64::MAX).map_err(cannot_read)?;
    check_final_quote(path, &last, rows)?;
    drop(done);
    let mut results: Vec<(usize, T)> = results.into_iter().collect();
    results.sort_unstable_by_key(|&(i, _)| i);
    Ok((results.into_iter().map(|(_, t)| t).collect(), rows))
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

// ---------------------------------------------------------------------------------------
// Typed columns (Parquet and Arrow IPC)

/// Turns a decoded column into a raw column, or says why its type cannot hold `field`.
/// Dictionary-encoded text stays encoded when `keep_dict` (the field is validated per
/// distinct value) and its keys are `Int32`; any other text becomes plain `Utf8`.
fn typed_col(path: &Path, field: &Field, a: &ArrayRef, keep_dict: bool) -> Result<RawCol> {
    let dt = a.data_type();
    if keep_dict && dt == &dict_type() {
        let d = a.as_dictionary::<Int32Type>();
        if let Some(values) = d.values().as_string_opt::<i32>() {
            let n = values.len() as i64;
            let keys = d.keys();
            // Readers check keys against the dictionary, but an index out of range must
            // never reach validation, whoever built the array.
            if keys.iter().flatten().any(|k| !(0..n).contains(&(k as i64))) {
                return Err(Error::input(
                    path,
                    format!(
                        "column {}: a dictionary key is out of range; the file is damaged, ask the sender for a new copy",
                        field.name
                    ),
                ));
            }
            return Ok(RawCol::Dict(keys.clone(), values.clone()));
        }
    }
    let bad = |why: &str| {
        Err(Error::input(
            path,
            format!("column {} has type {dt}, which {why}", field.name),
        ))
    };
    let is_text = matches!(
        dt,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    ) || matches!(dt, DataType::Dictionary(_, v) if matches!(**v, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View));
    if is_text {
        let cast = arrow_cast::cast(a, &DataType::Utf8)
            .map_err(|e| Error::input(path, format!("column {}: {e}", field.name)))?;
        return Ok(RawCol::Text(cast.as_string::<i32>().clone()));
    }
    if dt.is_nested() {
        return bad("is nested; sverka reads flat columns only");
    }
    let int = || -> Option<RawCol> {
        Some(match dt {
            DataType::Int8 => RawCol::Int(widen(a.as_primitive::<Int8Type>())),
            DataType::Int16 => RawCol::Int(widen(a.as_primitive::<Int16Type>())),
            DataType::Int32 => RawCol::Int(widen(a.as_primitive::<Int32Type>())),
            DataType::Int64 => RawCol::Int(a.as_primitive::<Int64Type>().clone()),
            DataType::UInt8 => RawCol::Int(widen(a.as_primitive::<UInt8Type>())),
            DataType::UInt16 => RawCol::Int(widen(a.as_primitive::<UInt16Type>())),
            DataType::UInt32 => RawCol::Int(widen(a.as_primitive::<UInt32Type>())),
            DataType::UInt64 => RawCol::UInt(a.as_primitive::<UInt64Type>().clone()),
            _ => return None,
        })
    };
    match field.kind {
        Kind::Text => int().map_or_else(|| bad("cannot hold text; use a string column"), Ok),
        Kind::Amount => match dt {
            DataType::Decimal128(_, s) => Ok(RawCol::Dec128(a.as_primitive().clone(), *s)),
            DataType::Decimal256(_, s) => Ok(RawCol::Dec256(a.as_primitive().clone(), *s)),
            DataType::Float16 | DataType::Float32 | DataType::Float64 => bad(
                "is floating point: floats are not exact (CONTRACT.md section 1); write amounts as text or Decimal128",
            ),
            _ => int().map_or_else(|| bad("cannot hold an amount; use text, Decimal128/Decimal256 or an integer of whole units"), Ok),
        },
        Kind::Date => match dt {
            DataType::Date32 => Ok(RawCol::Date32(a.as_primitive().clone())),
            DataType::Date64 => Ok(RawCol::Date64(a.as_primitive().clone())),
            _ => bad("cannot hold a date; use text YYYY-MM-DD, Date32 or Date64"),
        },
        Kind::Currency | Kind::Status => bad("is not text; use a string column"),
    }
}

fn widen<T: arrow_array::ArrowPrimitiveType>(a: &arrow_array::PrimitiveArray<T>) -> Int64Array
where
    T::Native: Into<i64>,
{
    a.unary(|v| v.into())
}

/// The dictionary type kept encoded: `Int32` keys into `Utf8` values.
fn dict_type() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

fn batch_cols(
    path: &Path,
    side: Side,
    cols: &[Option<usize>],
    batch: &RecordBatch,
) -> Result<Vec<Option<RawCol>>> {
    side.fields()
        .iter()
        .zip(cols)
        .enumerate()
        .map(|(fi, (field, c))| {
            c.map(|c| {
                typed_col(
                    path,
                    field,
                    batch.column(c),
                    crate::table::per_value_field(side, fi),
                )
            })
            .transpose()
        })
        .collect()
}

fn check_schema_types(
    path: &Path,
    side: Side,
    cols: &[Option<usize>],
    schema: &Schema,
) -> Result<()> {
    for (field, c) in side.fields().iter().zip(cols) {
        if let Some(c) = c {
            let empty = arrow_array::new_empty_array(schema.field(*c).data_type());
            typed_col(path, field, &empty, false)?;
        }
    }
    Ok(())
}

fn read_parquet<T: Send>(
    index: u32,
    file: &InputFile,
    mut handle: File,
    f: &(dyn Fn(RawBatch) -> T + Sync),
) -> Result<(Vec<T>, u64)> {
    use parquet::arrow::arrow_reader::{
        ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
    };
    use parquet::arrow::ProjectionMask;
    let path = &file.path;
    // The footer is checked before the decoder allocates anything from it (arrow-rs#10920).
    let size = handle.metadata().map(|m| m.len()).unwrap_or(0);
    let mut tail = [0u8; 8];
    let footer_ok = size >= 12
        && handle.seek(SeekFrom::End(-8)).is_ok()
        && handle.read_exact(&mut tail).is_ok()
        && &tail[4..] == b"PAR1"
        && (u32::from_le_bytes(tail[..4].try_into().expect("4 bytes")) as u64) <= size - 12;
    if !footer_ok {
        return Err(Error::input(
            path,
            "is not a complete Parquet file (missing or damaged footer; truncated in transfer?); ask the sender for a new copy",
        ));
    }
    let damaged = |e: parquet::errors::ParquetError| {
        Error::input(
            path,
            format!("file is damaged or not Parquet: {e}; ask the sender for a new copy"),
        )
    };
    let meta = ArrowReaderMetadata::load(&handle, ArrowReaderOptions::new()).map_err(damaged)?;
    let schema = meta.schema().clone();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let cols = resolve_columns(path, file.side, &names)?;
    check_schema_types(path, file.side, &cols, &schema)?;
    // Text columns written with dictionary pages only are decoded as dictionaries when
    // validation can use them: each distinct value is checked once, not once per row.
    let meta = match dictionary_hint(file.side, &cols, &meta) {
        Some(hinted) => ArrowReaderMetadata::try_new(
            meta.metadata().clone(),
            ArrowReaderOptions::new().with_schema(hinted),
        )
        .map_err(damaged)?,
        None => meta,
    };
    let roots: Vec<usize> = cols.iter().flatten().copied().collect();
    let mask = ProjectionMask::roots(
        meta.metadata().file_metadata().schema_descr(),
        roots.iter().copied(),
    );
    // Columns in the projected batches come in file order; map fields to their position there.
    let mut sorted = roots.clone();
    sorted.sort_unstable();
    let proj_cols: Vec<Option<usize>> = cols
        .iter()
        .map(|c| c.map(|c| sorted.iter().position(|&x| x == c).expect("projected")))
        .collect();
    let groups = meta.metadata().row_groups();
    let mut starts = Vec::with_capacity(groups.len());
    let mut total: u64 = 0;
    for g in groups {
        starts.push(total);
        total += g.num_rows().max(0) as u64;
    }
    let per_group: Vec<Result<Vec<T>>> = (0..groups.len())
        .into_par_iter()
        .map(|g| {
            catch_unwind(AssertUnwindSafe(|| -> Result<Vec<T>> {
                // A file of its own per task: cloned handles share one file offset, and
                // the reader seeks then reads, so tasks sharing it would read each
                // other's bytes.
                let h = File::open(path).map_err(|e| Error::input(path, format!("cannot read: {e}")))?;
                let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(h, meta.clone())
                    .with_row_groups(vec![g])
                    .with_projection(mask.clone())
                    .with_batch_size(BATCH_ROWS)
                    .build()
                    .map_err(damaged)?;
                let mut row = starts[g];
                let mut out = Vec::new();
                for batch in reader {
                    let batch = batch.map_err(|e| Error::input(path, format!("file is damaged: {e}; ask the sender for a new copy")))?;
                    let len = batch.num_rows();
                    let raw = RawBatch {
                        file: index,
                        first_row: row + 1,
                        len,
                        cols: batch_cols(path, file.side, &proj_cols, &batch)?,
                        pre_rejects: Vec::new(),
                    };
                    row += len as u64;
                    out.push(f(raw));
                }
                if row != starts[g] + groups[g].num_rows() as u64 {
                    return Err(Error::input(path, "file is damaged: a row group holds fewer rows than its metadata says"));
                }
                Ok(out)
            }))
            .unwrap_or_else(|p| {
                Err(Error::input(
                    path,
                    format!("file is damaged: the parquet decoder failed ({}); ask the sender for a new copy", panic_message(&p)),
                ))
            })
        })
        .collect();
    let mut out = Vec::new();
    for r in per_group {
        out.extend(r?);
    }
    Ok((out, total))
}

/// The file's schema with the columns worth decoding as dictionaries
/// ([`crate::table::per_value_field`], `Utf8`, every data page dictionary-encoded in every
/// row group) changed to `Dictionary(Int32, Utf8)`; None when there are none.
fn dictionary_hint(
    side: Side,
    cols: &[Option<usize>],
    meta: &parquet::arrow::arrow_reader::ArrowReaderMetadata,
) -> Option<Arc<Schema>> {
    use parquet::basic::Encoding;
    let schema = meta.schema();
    let descr = meta.metadata().file_metadata().schema_descr();
    // Flat schemas only (checked before): arrow field c is Parquet leaf c.
    if descr.num_columns() != schema.fields().len() {
        return None;
    }
    let mut fields: Vec<arrow_schema::FieldRef> = schema.fields().iter().cloned().collect();
    let mut any = false;
    for (fi, c) in cols.iter().enumerate() {
        let Some(c) = *c else { continue };
        if !crate::table::per_value_field(side, fi)
            || schema.field(c).data_type() != &DataType::Utf8
        {
            continue;
        }
        let all_dict = meta.metadata().row_groups().iter().all(|g| {
            let m = g.column(c);
            m.dictionary_page_offset().is_some()
                && m.page_encoding_stats_mask().is_some_and(|mask| {
                    mask.is_only(Encoding::RLE_DICTIONARY)
                        || mask.is_only(Encoding::PLAIN_DICTIONARY)
                })
        });
        if all_dict {
            fields[c] = Arc::new(schema.field(c).clone().with_data_type(dict_type()));
            any = true;
        }
    }
    any.then(|| Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())))
}

fn read_ipc<T: Send>(
    index: u32,
    file: &InputFile,
    handle: File,
    f: &(dyn Fn(RawBatch) -> T + Sync),
) -> Result<(Vec<T>, u64)> {
    let path = &file.path;
    let damaged = |e: arrow_schema::ArrowError| {
        Error::input(
            path,
            format!("file is damaged or not an Arrow IPC file: {e}; ask the sender for a new copy"),
        )
    };
    let probe = arrow_ipc::reader::FileReader::try_new_buffered(
        handle
            .try_clone()
            .map_err(|e| Error::input(path, e.to_string()))?,
        None,
    )
    .map_err(damaged)?;
    let schema = probe.schema();
    drop(probe);
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let cols = resolve_columns(path, file.side, &names)?;
    check_schema_types(path, file.side, &cols, &schema)?;
    let mut projection: Vec<usize> = cols.iter().flatten().copied().collect();
    projection.sort_unstable();
    let proj_cols: Vec<Option<usize>> = cols
        .iter()
        .map(|c| c.map(|c| projection.iter().position(|&x| x == c).expect("projected")))
        .collect();
    let reader = arrow_ipc::reader::FileReader::try_new_buffered(handle, Some(projection))
        .map_err(damaged)?;
    let mut raws = Vec::new();
    let mut row: u64 = 0;
    for batch in reader {
        let batch = batch.map_err(damaged)?;
        // Re-slice big IPC batches so that validation stays parallel and bounded.
        let mut off = 0;
        while off < batch.num_rows() {
            let len = BATCH_ROWS.min(batch.num_rows() - off);
            let part = batch.slice(off, len);
            raws.push(RawBatch {
                file: index,
                first_row: row + 1,
                len,
                cols: batch_cols(path, file.side, &proj_cols, &part)?,
                pre_rejects: Vec::new(),
            });
            row += len as u64;
            off += len;
        }
    }
    let results = raws.into_par_iter().map(f).collect();
    Ok((results, row))
}

/// Whether a raw value at `i` is null.
pub fn is_null(col: &RawCol, i: usize) -> bool {
    match col {
        RawCol::Text(a) => a.is_null(i),
        RawCol::Dec128(a, _) => a.is_null(i),
        RawCol::Dec256(a, _) => a.is_null(i),
        RawCol::Int(a) => a.is_null(i),
        RawCol::UInt(a) => a.is_null(i),
        RawCol::Date32(a) => a.is_null(i),
        RawCol::Date64(a) => a.is_null(i),
        RawCol::Dict(k, v) => k.is_null(i) || v.is_null(k.value(i) as usize),
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
