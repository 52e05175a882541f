//! Ingestion: finds the input files, recognises each one's format by its content, and
//! decodes it into raw batches of the side's columns carrying their lineage (file, row),
//! for validation. Below validation: it knows the side's fields (`schema`, `column`) and
//! nothing of chunks or tables. With `write` and `outfile`, the only modules doing IO.
//!
//! Every file is untrusted (PITFALLS.md 2.1, 2.2, 3.9): regular files only, a column cap,
//! flat column types only, a record-size cap for CSV, Parquet footer checks before the
//! decoder sees the file, and every third-party decode runs under `catch_unwind` so that a
//! decoder panic becomes an exit-2 message naming the file.
//!
//! `discover.rs` finds the files; each format is one [`Reader`] (`csv.rs`, `parquet.rs`,
//! `ipc.rs`); `columns.rs` maps a header to the side's fields and typed Arrow columns to
//! raw columns for them.

mod columns;
mod csv;
mod discover;
mod ipc;
mod parquet;
pub(crate) mod profile;
mod provider;
pub(crate) mod workbook;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use arrow_array::builder::StringBuilder;
use arrow_array::{
    Array, Date32Array, Date64Array, Decimal128Array, Decimal256Array, Int32Array, Int64Array,
    StringArray, UInt64Array,
};

use self::{csv::CsvReader, ipc::IpcReader, parquet::ParquetReader};
use crate::error::{Error, Result};
use crate::schema::{Reject, Side};

pub use discover::discover;
pub use provider::{ProviderInfo, ProviderOptions};

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
    /// (v2) A bank's or provider's own file (CONTRACT section 7), settlements only.
    Provider(sverka_formats::Kind),
    /// (v2) A provider's own CSV report, read by the profile at this index of
    /// [`ProviderOptions::profiles`] (CONTRACT 7.4), settlements only.
    Profile(usize),
    /// Neither the name nor (yet) the content says: a settlement file read only if its
    /// content is recognised.
    Unrecognised,
}

/// Magic numbers at both ends of a file of the format (Parquet; Arrow IPC file format).
const MAGIC: [(Format, &[u8]); 2] = [(Format::Parquet, b"PAR1"), (Format::Arrow, b"ARROW1")];
/// Bytes read at each end of a file to recognise it.
const SNIFF_BYTES: u64 = 8;

impl Format {
    /// The format a file's name says: how a directory's files are chosen, and the
    /// fallback where the content says nothing.
    pub fn from_path(p: &Path) -> Option<Format> {
        match p.extension()?.to_str()? {
            "csv" => Some(Format::Csv),
            "parquet" => Some(Format::Parquet),
            "arrow" => Some(Format::Arrow),
            _ => None,
        }
    }

    /// The format a file's bytes say, from its first and last bytes (up to
    /// [`SNIFF_BYTES`] each) and its size: a magic number at the start, confirmed by the
    /// same at the end, or by a control byte right after it (a binary file cut short).
    /// None for anything else: text, which is CSV or what the name says. A CSV file whose
    /// first column is named `PAR1…` stays CSV (a comma or text follows the magic).
    pub fn from_content(head: &[u8], tail: &[u8], size: u64) -> Option<Format> {
        let binary = |b: &u8| *b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r');
        MAGIC
            .iter()
            .find(|(_, m)| {
                head.starts_with(m)
                    && ((size >= 2 * m.len() as u64 && tail.ends_with(m))
                        || head.get(m.len()).is_some_and(binary))
            })
            .map(|&(f, _)| f)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
            Format::Arrow => "arrow",
            Format::Provider(k) => k.as_str(),
            Format::Profile(_) => "profile",
            Format::Unrecognised => "unrecognised",
        }
    }
}

/// One input file, as the user named it (or its directory joined with its name).
#[derive(Debug, Clone)]
pub struct InputFile {
    pub side: Side,
    pub path: PathBuf,
    /// What the name says; the file is read as its content says ([`FileStats::format`]).
    pub format: Format,
    /// (v2) The provider given as `CODE=PATH`: every row read from the file has it.
    pub provider: Option<String>,
}

/// What was read from a file besides its rows.
#[derive(Debug, Clone)]
pub struct FileStats {
    /// Data rows (records) in the file.
    pub rows: u64,
    pub sha256: String,
    pub bytes: u64,
    /// The format the file was read as: its content's, else its name's.
    pub format: Format,
    /// The format's name in the outputs: [`Format::as_str`], or `profile:CODE` for a
    /// file read by a provider's profile (CONTRACT section 5).
    pub format_name: String,
    /// A provider file's statements, control checks and notices (CONTRACT 7.5).
    pub provider: Option<ProviderInfo>,
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
    /// distinct value ([`crate::column::per_value_field`]). Every key is a valid index of
    /// `values` (checked when the column is read).
    Dict(Int32Array, StringArray),
}

/// A batch of one file's rows, holding the side's columns (None: optional and absent).
/// Its lineage: row `i` is row `first_row + i` of file `file` (validation's origin).
#[derive(Debug)]
pub struct RawBatch {
    /// The file's position among its side's files.
    pub file: u32,
    /// Row number (1-based) of the batch's first row in its file.
    pub first_row: u64,
    pub len: usize,
    pub cols: Vec<Option<RawCol>>,
    /// Rows already rejected while reading (malformed CSV records), sorted by local index.
    pub pre_rejects: Vec<(usize, Reject)>,
    /// The file's own text of a value the reader rewrote (local index, column, text):
    /// what a reject of that value shows (CONTRACT 7: MT940 `300,` read as `300`).
    pub originals: Vec<(usize, &'static str, String)>,
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

// ---------------------------------------------------------------------------------------
// The readers' interface

/// Where a reader hands each raw batch: validation, run on the pool. The reader returns
/// what the sink gave back for its batches, in row order.
pub type Sink<'a, T> = &'a (dyn Fn(RawBatch) -> T + Sync);

/// An input file opened for reading: a regular file, its format recognised.
pub struct Opened<'a> {
    /// The file's position among its side's files: the lineage's [`RawBatch::file`].
    pub index: u32,
    pub file: &'a InputFile,
    pub handle: File,
    /// Its size in bytes when opened.
    pub size: u64,
}

/// The sink's results for a file's batches in row order, and the file's data rows.
pub type Decoded<T> = (Vec<T>, u64);

/// A reader of one format: reads an opened file and hands each raw batch (at most
/// [`BATCH_ROWS`] rows, lineage set) to the sink, in whatever parallel order suits the
/// format, returning the results in row order. Called under `catch_unwind`.
///
/// Dispatched statically, by one `match` on the recognised [`Format`] per file
/// ([`decode`]): the results' type is the caller's, so a `dyn Reader` would box them,
/// and the hot per-batch call is the sink's either way.
pub(crate) trait Reader {
    fn read<T: Send>(input: Opened<'_>, sink: Sink<'_, T>) -> Result<Decoded<T>>;
}

/// Runs `read`, which hands each raw batch it cuts to the closure it is given; each batch
/// goes to `sink` on the pool at once, so that validation runs beside the reading.
/// Returns what `read` returned and the sink's results in the order the batches were cut.
fn on_pool<T: Send, R: Send>(
    sink: Sink<'_, T>,
    read: impl FnOnce(&mut dyn FnMut(RawBatch)) -> R + Send,
) -> (R, Vec<T>) {
    on_pool_jobs(sink, &|b| b, read)
}

/// [`on_pool`] for a reader that hands on jobs: each job is made into its raw batch by
/// `make` on the pool, then goes to `sink` there, so that work moves off the reading
/// thread.
fn on_pool_jobs<T: Send, J: Send, R: Send>(
    sink: Sink<'_, T>,
    make: &(dyn Fn(J) -> RawBatch + Sync),
    read: impl FnOnce(&mut dyn FnMut(J)) -> R + Send,
) -> (R, Vec<T>) {
    let (done, results) = std::sync::mpsc::channel::<(usize, T)>();
    let r = rayon::scope(|scope| {
        let mut cut = 0usize;
        let mut hand_on = |job: J| {
            let done = done.clone();
            let i = cut;
            cut += 1;
            scope.spawn(move |_| {
                // The receiver outlives the scope: a send cannot fail.
                let _ = done.send((i, sink(make(job))));
            });
        };
        read(&mut hand_on)
    });
    drop(done);
    let mut results: Vec<(usize, T)> = results.into_iter().collect();
    results.sort_unstable_by_key(|&(i, _)| i);
    (r, results.into_iter().map(|(_, t)| t).collect())
}

/// Rows of one batch being cut, as text columns in the contract's order (the provider
/// and profile readers fill it, each with its own `push`).
struct TextBatch {
    cols: Vec<StringBuilder>,
    pre_rejects: Vec<(usize, Reject)>,
    originals: Vec<(usize, &'static str, String)>,
    len: usize,
}

impl TextBatch {
    /// A batch of `fields` text columns (a side's fields) with room for `rows` rows.
    fn new(fields: usize, rows: usize) -> TextBatch {
        TextBatch {
            cols: (0..fields)
                .map(|_| StringBuilder::with_capacity(rows, rows * 12))
                .collect(),
            pre_rejects: Vec::new(),
            originals: Vec::new(),
            len: 0,
        }
    }

    /// The rows so far as a raw batch of file `file` whose first row is `first_row`; the
    /// batch is then empty, for the next rows.
    fn finish(&mut self, file: u32, first_row: u64) -> RawBatch {
        // A finished builder starts again from nothing and would grow by doubling, each
        // step a copy into fresh pages: give it the room the batch just cut needed.
        let cols = self
            .cols
            .iter_mut()
            .map(|b| {
                let bytes = b.values_slice().len();
                let col = b.finish();
                *b = StringBuilder::with_capacity(BATCH_ROWS, bytes + bytes / 8);
                Some(RawCol::Text(col))
            })
            .collect();
        self.raw(file, first_row, cols)
    }

    /// [`TextBatch::finish`] for a batch cut once: no builders are made for more rows.
    fn into_raw(mut self, file: u32, first_row: u64) -> RawBatch {
        let cols = self
            .cols
            .iter_mut()
            .map(|b| Some(RawCol::Text(b.finish())))
            .collect();
        self.raw(file, first_row, cols)
    }

    fn raw(&mut self, file: u32, first_row: u64, cols: Vec<Option<RawCol>>) -> RawBatch {
        let batch = RawBatch {
            file,
            first_row,
            len: self.len,
            cols,
            pre_rejects: std::mem::take(&mut self.pre_rejects),
            originals: std::mem::take(&mut self.originals),
        };
        self.len = 0;
        batch
    }
}

/// A file's decoded batches, and for a provider file what it said about itself and its
/// SHA-256, hashed as it was read.
type DecodedFile<T> = (Decoded<T>, Option<(ProviderInfo, String)>);

fn decode<T: Send>(
    format: Format,
    input: Opened<'_>,
    opts: &ProviderOptions,
    sink: Sink<'_, T>,
) -> Result<DecodedFile<T>> {
    let plain = |d: Result<Decoded<T>>| d.map(|d| (d, None));
    match format {
        Format::Csv => plain(CsvReader::read(input, sink)),
        Format::Parquet => plain(ParquetReader::read(input, sink)),
        Format::Arrow => plain(IpcReader::read(input, sink)),
        Format::Provider(kind) => {
            provider::read(kind, input, opts, sink).map(|(d, info, hash)| (d, Some((info, hash))))
        }
        Format::Profile(i) => match opts.profiles.get(i) {
            Some(p) => plain(profile::read(p, input, sink)),
            None => Err(Error::Internal(format!("profile {i} is not loaded"))),
        },
        Format::Unrecognised => Err(Error::input(&input.file.path, "unrecognised file")),
    }
}

/// The format a file is read as (its content's, else its name's, else a profile's that
/// claims it), if sverka reads it: a provider format only on the settlement side
/// (CONTRACT 7.1).
fn accepted_format(file: &InputFile, format: Format) -> Result<Format> {
    match (format, file.side) {
        (Format::Provider(k), Side::Settlements) => Ok(Format::Provider(k)),
        (Format::Provider(k), side) => Err(Error::input(
            &file.path,
            format!(
                "is a {} file, which only the settlement side reads; it was given as {}",
                k.as_str(),
                side.as_str()
            ),
        )),
        (Format::Unrecognised, Side::Settlements) => Err(Error::input(
            &file.path,
            "is none of the formats sverka reads: a CSV, Parquet or Arrow file in the contract's \
             layout (by its name's extension), a camt.053, camt.054, pain.002 or MT940 file \
             (by its content), or a provider's report that a profile in the providers file \
             claims by its name (CSV or XLSX); check that the right file was given, or the \
             profile's files globs",
        )),
        (Format::Unrecognised, side) => Err(Error::input(
            &file.path,
            format!(
                "is none of the formats sverka reads as {}: a CSV, Parquet or Arrow file in the \
                 contract's layout (by its name's extension), or a payroll that an \
                 [instructions.NAME] profile in the providers file claims by its name (CSV or \
                 XLSX); check that the right file was given, or the profile's files globs",
                side.as_str()
            ),
        )),
        (f, _) => Ok(f),
    }
}

/// Files up to this size are asked into the page cache whole as their read starts.
const READ_AHEAD_MAX: u64 = 4 << 30;

/// Asks the kernel to read a file that is about to be read from start to end into the
/// page cache at once (`POSIX_FADV_WILLNEED`), so that the disk works while the reader
/// parses instead of stopping it at each read (BENCHMARKS.md, design choices). Larger
/// files are only marked sequential (a larger read-ahead window), so as not to push the
/// rest of the cache out. Advice that fails changes nothing, so its error is ignored.
fn read_ahead(handle: &File, size: u64) {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{fadvise, Advice};
        let advice = if size <= READ_AHEAD_MAX {
            Advice::WillNeed
        } else {
            Advice::Sequential
        };
        let _ = fadvise(handle, 0, None, advice);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (handle, size);
}

// ---------------------------------------------------------------------------------------
// Reading a side

/// Reads every file of a side in input order and hands each raw batch to `f` (in
/// parallel); returns the results in input order with each file's statistics.
pub fn read_side<T: Send>(
    files: &[InputFile],
    opts: &ProviderOptions,
    f: &(dyn Fn(RawBatch) -> T + Sync),
) -> Result<(Vec<T>, Vec<FileStats>)> {
    // Files are decoded in parallel, largest first, each by one thread (a provider's
    // file is one stream, a Parquet file often one row group): a large file started
    // last would be read alone while the other threads idle. Results are put back in
    // input order.
    let mut order: Vec<usize> = (0..files.len()).collect();
    let size = |i: usize| std::fs::metadata(&files[i].path).map_or(0, |m| m.len());
    order.sort_by_cached_key(|&i| (std::cmp::Reverse(size(i)), i));
    let next = std::sync::atomic::AtomicUsize::new(0);
    type Slot<T> = std::sync::Mutex<Option<Result<(Vec<T>, FileStats)>>>;
    let slots: Vec<Slot<T>> = files.iter().map(|_| Slot::new(None)).collect();
    rayon::scope(|scope| {
        for _ in 0..rayon::current_num_threads().min(files.len()) {
            scope.spawn(|_| {
                while let Some(&i) =
                    order.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                {
                    let r = read_file(i as u32, &files[i], opts, f);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(r);
                    }
                }
            });
        }
    });
    let per_file = slots.into_iter().map(|slot| {
        slot.into_inner()
            .ok()
            .flatten()
            .unwrap_or_else(|| Err(Error::Internal("a file's result was lost".into())))
    });
    let mut out = Vec::new();
    let mut stats = Vec::with_capacity(files.len());
    for r in per_file {
        let (results, st) = r?;
        out.extend(results);
        stats.push(st);
    }
    Ok((out, stats))
}

/// Reads one file of a side (the file at `index` of its side's files), handing its raw
/// batches to `f`; also what `sverka inspect` reads a file with.
pub fn read_file<T: Send>(
    index: u32,
    file: &InputFile,
    opts: &ProviderOptions,
    f: Sink<'_, T>,
) -> Result<(Vec<T>, FileStats)> {
    let path = &file.path;
    let mut handle =
        File::open(path).map_err(|e| Error::input(path, format!("cannot open: {e}")))?;
    let meta = handle
        .metadata()
        .map_err(|e| Error::input(path, format!("cannot stat: {e}")))?;
    if !meta.is_file() {
        return Err(Error::input(
            path,
            "not a regular file (devices, FIFOs and sockets are not read)",
        ));
    }
    let format = recognise(&mut handle, meta.len())
        .map_err(|e| Error::input(path, format!("cannot read: {e}")))?;
    let format = format.map_err(|e| Error::input(path, e))?;
    let format = claimed(file, format.unwrap_or(file.format), opts)?;
    let format = accepted_format(file, format)?;
    // `CODE=PATH`: every row has the provider given.
    let given = |mut b: RawBatch| {
        if let Some(code) = &file.provider {
            b.cols[0] = Some(RawCol::Text(StringArray::from_iter_values(
                std::iter::repeat_n(code.as_str(), b.len),
            )));
        }
        f(b)
    };
    let f: Sink<'_, T> = if file.provider.is_some() && !matches!(format, Format::Provider(_)) {
        &given
    } else {
        f
    };
    if matches!(
        format,
        Format::Provider(_) | Format::Profile(_) | Format::Csv
    ) {
        read_ahead(&handle, meta.len());
    }
    let input = Opened {
        index,
        file,
        handle,
        size: meta.len(),
    };
    let decode = || {
        catch_unwind(AssertUnwindSafe(|| decode(format, input, opts, f))).unwrap_or_else(|p| {
            Err(Error::input(
                path,
                format!(
                    "file is damaged: the {} decoder failed ({}); ask the sender for a new copy",
                    format.as_str(),
                    panic_message(&p)
                ),
            ))
        })
    };
    // A provider file is hashed by its reader as it reads (its one pass over the bytes
    // is the bulk of its cost); the other formats are hashed beside their decoding.
    let (hash, decoded) = if matches!(format, Format::Provider(_)) {
        (None, decode())
    } else {
        let (hash, decoded) = rayon::join(|| sha256_file(path), decode);
        (Some(hash?), decoded)
    };
    let ((results, rows), provider) = decoded?;
    let (provider, sha256) = match (provider, hash) {
        (Some((info, hash)), _) => (Some(info), hash),
        (None, Some(hash)) => (None, hash),
        (None, None) => return Err(Error::input(path, "internal: the file was not hashed")),
    };
    Ok((
        results,
        FileStats {
            rows,
            sha256,
            bytes: meta.len(),
            format_name: match format {
                Format::Profile(i) => opts
                    .profiles
                    .get(i)
                    .map_or_else(|| "profile".into(), |p| format!("profile:{}", p.code)),
                f => f.as_str().to_string(),
            },
            format,
            provider,
        },
    ))
}

/// A file that is neither binary nor a bank file, claimed by its name by a profile of its
/// side (CONTRACT 7.1, 7.4; `[instructions.NAME]` on the instruction side), is read by
/// that profile; a name two profiles claim is an error naming both.
fn claimed(file: &InputFile, format: Format, opts: &ProviderOptions) -> Result<Format> {
    if !matches!(format, Format::Csv | Format::Unrecognised) {
        return Ok(format);
    }
    let name = file
        .path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let mut claims = opts
        .profiles
        .iter()
        .enumerate()
        .filter(|(_, p)| p.side == file.side && p.claims(&name));
    let Some((i, p)) = claims.next() else {
        return Ok(format);
    };
    if let Some((_, q)) = claims.next() {
        return Err(Error::input(
            &file.path,
            format!(
                "both {} ({}) and {} ({}) claim this file's name; make their files globs in \
                 the providers file tell the two apart",
                crate::profiles::Profile::table(p.side, &p.code),
                p.files.join(", "),
                crate::profiles::Profile::table(q.side, &q.code),
                q.files.join(", ")
            ),
        ));
    }
    Ok(Format::Profile(i))
}

/// The format the file's content says: a binary format by its two ends
/// ([`Format::from_content`]), else a provider file by its first bytes
/// ([`sverka_formats::recognise`]; `Err` for a file that is refused by what it is, such
/// as UTF-16 XML or another ISO 20022 message). Leaves the handle at the start.
fn recognise(
    handle: &mut File,
    size: u64,
) -> std::io::Result<std::result::Result<Option<Format>, String>> {
    let n = SNIFF_BYTES.min(size);
    let mut tail = Vec::with_capacity(n as usize);
    handle.seek(SeekFrom::Start(size - n))?;
    handle.by_ref().take(n).read_to_end(&mut tail)?;
    handle.seek(SeekFrom::Start(0))?;
    let mut head = Vec::with_capacity(sverka_formats::SNIFF_BYTES.min(size as usize));
    handle
        .by_ref()
        .take(sverka_formats::SNIFF_BYTES as u64)
        .read_to_end(&mut head)?;
    handle.seek(SeekFrom::Start(0))?;
    let magic = &head[..head.len().min(SNIFF_BYTES as usize)];
    if let Some(f) = Format::from_content(magic, &tail, size) {
        return Ok(Ok(Some(f)));
    }
    Ok(match sverka_formats::recognise(&head) {
        sverka_formats::Recognised::Provider(k) => Ok(Some(Format::Provider(k))),
        sverka_formats::Recognised::Other => Ok(None),
        sverka_formats::Recognised::Refused(e) => Err(e.to_string()),
    })
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
    // buffer, was slower (BENCHMARKS.md).
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

#[cfg(test)]
mod tests {
    use super::*;

    fn content(bytes: &[u8]) -> Option<Format> {
        let n = bytes.len().min(SNIFF_BYTES as usize);
        Format::from_content(&bytes[..n], &bytes[bytes.len() - n..], bytes.len() as u64)
    }

    #[test]
    fn recognised_by_magic_at_both_ends_or_a_binary_byte_after_it() {
        assert_eq!(
            content(b"PAR1\x15\x00\x00\x00xxxxPAR1"),
            Some(Format::Parquet)
        );
        assert_eq!(content(b"PAR1PAR1"), Some(Format::Parquet));
        // Cut short: the byte after the magic is binary.
        assert_eq!(content(b"PAR1\x15\x04abc"), Some(Format::Parquet));
        assert_eq!(content(b"ARROW1\0\0xxxxARROW1"), Some(Format::Arrow));
        assert_eq!(content(b"ARROW1\0\0\x10\0"), Some(Format::Arrow));
        // Text: CSV or what the name says.
        assert_eq!(content(b"PAR1,instruction_id\nx,y\n"), None);
        assert_eq!(content(b"ARROW1,b\n1,2\n"), None);
        assert_eq!(content(b""), None);
        assert_eq!(content(b"PAR"), None);
        assert_eq!(content(b"PAR1"), None);
        assert_eq!(content(b"instruction_id,amount\n"), None);
    }
}
