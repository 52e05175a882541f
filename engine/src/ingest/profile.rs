//! A provider's own CSV report read through its profile (CONTRACT 7.4,
//! [`crate::profiles`]): decoded from the profile's encoding as it streams (a byte the
//! encoding does not have stops the read, naming it: a file that changes encoding
//! mid-way must not become rows of replacement characters), the title block above the
//! header and the footer rows below the data skipped, each canonical column taken from
//! its header, a pattern over a column, or a constant, and the values rewritten as 7.4
//! says. A value that does not fit the declared form is handed on as the provider wrote
//! it, so that section 2 rejects it with the original text.

use std::collections::VecDeque;
use std::io::{self, Read};

use super::{
    on_pool, on_pool_jobs, Decoded, Opened, RawBatch, Sink, TextBatch, BATCH_ROWS, MAX_RECORD_BYTES,
};
use crate::error::{Error, Result};
use crate::profiles::{Layout, Profile, Source};
use crate::schema::{Side, INSTRUCTION_FIELDS, SETTLEMENT_FIELDS};

/// A `Read` of UTF-8 from bytes in `encoding`, decoded as they stream. The byte-order
/// mark, if any, decides between UTF-8 and UTF-16 (LE or BE) and is removed.
pub(crate) struct Decoding<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    raw: Vec<u8>,
    /// Bytes of `raw` not yet decoded.
    start: usize,
    end: usize,
    /// File offset of `raw[0]`.
    base: u64,
    eof: bool,
    finished: bool,
}

impl<R: Read> Decoding<R> {
    pub(crate) fn new(inner: R, encoding: &'static encoding_rs::Encoding) -> Self {
        Decoding {
            inner,
            decoder: encoding.new_decoder(),
            raw: vec![0; 64 * 1024],
            start: 0,
            end: 0,
            base: 0,
            eof: false,
            finished: false,
        }
    }
}

impl<R: Read> Read for Decoding<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        use encoding_rs::DecoderResult;
        loop {
            if self.finished || out.len() < 4 {
                return Ok(0);
            }
            if self.start == self.end && !self.eof {
                self.base += self.end as u64;
                self.start = 0;
                self.end = self.inner.read(&mut self.raw)?;
                self.eof = self.end == 0;
            }
            let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(
                &self.raw[self.start..self.end],
                out,
                self.eof,
            );
            let at = self.base + self.start as u64;
            self.start += read;
            match result {
                DecoderResult::Malformed(bad, extra) => {
                    let offset =
                        (at + read as u64).saturating_sub(u64::from(bad) + u64::from(extra));
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "byte {offset} is not {}: the file is in another encoding than the \
                             profile's, or damaged (fix `encoding` in the profile, or ask the \
                             provider for a new copy)",
                            self.decoder.encoding().name()
                        ),
                    ));
                }
                DecoderResult::InputEmpty if self.eof => {
                    self.finished = true;
                    return Ok(written);
                }
                _ if written > 0 => return Ok(written),
                _ => {}
            }
        }
    }
}

/// A `Read` that stops a CSV record from growing past [`MAX_RECORD_BYTES`] (PITFALLS H4:
/// the csv crate grows its buffers until a record ends, so a field with no end would be
/// read whole). A record ends at a line break outside quotes; `""` inside a quoted field
/// toggles twice, so counting quotes is enough.
struct RecordCap<R> {
    inner: R,
    in_quotes: bool,
    /// Bytes since the last record ended.
    run: usize,
}

impl<R: Read> Read for RecordCap<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        let mut rest = &out[..n];
        loop {
            let next = memchr::memchr2(b'"', b'\n', rest);
            self.run += next.unwrap_or(rest.len());
            if self.run > MAX_RECORD_BYTES {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "a record runs over {} KiB (a quote that is never closed, or not a CSV \
                         file): the file is damaged or not the report the profile describes",
                        MAX_RECORD_BYTES / 1024
                    ),
                ));
            }
            let Some(i) = next else { break };
            if rest[i] == b'"' {
                self.in_quotes = !self.in_quotes;
                self.run += 1;
            } else if self.in_quotes {
                self.run += 1;
            } else {
                self.run = 0;
            }
            rest = &rest[i + 1..];
        }
        Ok(n)
    }
}

/// A profile's columns resolved against the file's header.
#[derive(Clone)]
pub(crate) struct Resolved<'p> {
    /// Per field of the side (in the contract's order): its name and how to get it.
    take: Vec<(&'static str, Option<Take<'p>>)>,
    /// Where a rewritten value is written (no allocation per value).
    scratch: String,
}

#[derive(Clone)]
enum Take<'p> {
    Column(usize),
    /// The column, the pattern and its reused capture slots (no allocation per row);
    /// no slots when the match is the value.
    Pattern(usize, &'p regex::Regex, Option<regex::CaptureLocations>),
    Value(&'p str),
    /// The first of these that gives a value that is not empty.
    FirstOf(Vec<Take<'p>>),
}

impl<'p> Resolved<'p> {
    /// Finds each mapped column in the header; a missing one is an error naming the
    /// header's columns and the closest.
    pub(crate) fn new(profile: &'p Profile, header: &[&str]) -> std::result::Result<Self, String> {
        let names: Vec<&str> = header.iter().map(|h| h.trim()).collect();
        let find = |want: &str| -> std::result::Result<usize, String> {
            names.iter().position(|h| *h == want.trim()).ok_or_else(|| {
                let closest = names
                    .iter()
                    .max_by(|a, b| {
                        strsim::jaro_winkler(a, want).total_cmp(&strsim::jaro_winkler(b, want))
                    })
                    .map(|c| format!("; the closest is {c:?}"))
                    .unwrap_or_default();
                format!(
                    "the header has no column {want:?} (profile of {}: check columns in the \
                     providers file); its columns are {}{closest}",
                    profile.code,
                    names
                        .iter()
                        .map(|n| format!("{n:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        };
        let mut take = Vec::new();
        for field in fields(profile.side) {
            let source = profile.columns.iter().find(|(f, _)| *f == field.name);
            take.push((
                field.name,
                match source {
                    Some((_, source)) => Some(Take::of(source, &find)?),
                    // A settlement profile's rows are its provider's.
                    None if field.name == "provider" => Some(Take::Value(&profile.code)),
                    None => None,
                },
            ));
        }
        Ok(Resolved {
            take,
            scratch: String::new(),
        })
    }
}

impl<'p> Take<'p> {
    fn of(
        source: &'p Source,
        find: &dyn Fn(&str) -> std::result::Result<usize, String>,
    ) -> std::result::Result<Self, String> {
        Ok(match source {
            Source::Header(h) => Take::Column(find(h)?),
            Source::Pattern {
                column,
                regex,
                whole,
            } => Take::Pattern(
                find(column)?,
                regex,
                (!whole).then(|| regex.capture_locations()),
            ),
            Source::Value(v) => Take::Value(v),
            Source::FirstOf(sources) => Take::FirstOf(
                sources
                    .iter()
                    .map(|s| Take::of(s, find))
                    .collect::<std::result::Result<_, _>>()?,
            ),
        })
    }

    /// The value on `row`, what the cell held, and the column it came from whole (a
    /// pattern's cut is text of no one cell).
    fn value<'a>(&'a mut self, row: &'a impl ReportRow) -> (&'a str, Kind, Option<usize>) {
        match self {
            Take::Column(i) => {
                let (t, kind) = row.cell(*i);
                (t, kind, Some(*i))
            }
            Take::Value(v) => (v, Kind::Text, None),
            Take::FirstOf(takes) => takes
                .iter_mut()
                .map(|t| t.value(row))
                .find(|(v, ..)| !v.trim_matches([' ', '\t']).is_empty())
                .unwrap_or(("", Kind::Text, None)),
            Take::Pattern(i, re, locs) => {
                let hay = row.cell(*i).0;
                let cut = match locs {
                    None => re.find(hay).map_or("", |m| m.as_str()),
                    Some(locs) => re
                        .captures_read(locs, hay)
                        .and(locs.get(1))
                        .map_or("", |(a, b)| &hay[a..b]),
                };
                (cut, Kind::Text, None)
            }
        }
    }

    /// The report's columns this reads.
    fn columns(&self, out: &mut Vec<usize>) {
        match self {
            Take::Column(i) | Take::Pattern(i, ..) => out.push(*i),
            Take::FirstOf(takes) => takes.iter().for_each(|t| t.columns(out)),
            Take::Value(_) => {}
        }
    }
}

/// What a report's cell holds. Every CSV field is text; an XLSX cell may be a number or a
/// date, which arrive already in the contract's form and skip the profile's text rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    /// A number as its shortest decimal text.
    Number,
    /// A date as `YYYY-MM-DD`; the row keeps the workbook's own value as the original.
    Date,
}

/// One data row of a provider report, as the profile's columns see it.
pub(crate) trait ReportRow {
    /// Column `i`'s text ("" past the row's end) and what the cell held.
    fn cell(&self, i: usize) -> (&str, Kind);
    /// The workbook's own value of a [`Kind::Date`] cell (its serial number).
    fn original(&self, _i: usize) -> &str {
        ""
    }
}

impl ReportRow for csv::StringRecord {
    fn cell(&self, i: usize) -> (&str, Kind) {
        (self.get(i).unwrap_or(""), Kind::Text)
    }
}

/// The contract's fields of a side's rows.
fn fields(side: Side) -> &'static [crate::schema::Field] {
    match side {
        Side::Settlements => &SETTLEMENT_FIELDS,
        _ => &INSTRUCTION_FIELDS,
    }
}

impl TextBatch {
    /// Adds one data row of a report as its canonical values.
    pub(super) fn push_record(
        &mut self,
        profile: &Profile,
        r: &mut Resolved<'_>,
        row: &impl ReportRow,
    ) {
        let Resolved { take, scratch } = r;
        for (k, (field, take)) in take.iter_mut().enumerate() {
            let field: &'static str = field;
            let (text, kind, col) = match take {
                None => ("", Kind::Text, None),
                Some(take) => take.value(row),
            };
            let has_text = !text.trim().is_empty();
            let rewritten: Option<&str> = match (field, kind) {
                // A number cell is already a plain decimal: only its sign is the profile's.
                ("amount" | "fee", Kind::Number) if profile.absolute_amounts => {
                    text.strip_prefix('-')
                }
                ("amount" | "fee", Kind::Text) if has_text => profile
                    .amount_into(text, scratch)
                    .then_some(scratch.as_str()),
                ("value_date" | "due_date", Kind::Text) if has_text => {
                    profile.date_into(text, scratch).then_some(scratch.as_str())
                }
                ("status", _) => profile.status_of(text),
                _ => None,
            };
            match (rewritten, col) {
                (Some(v), _) if v != text.trim() => {
                    self.cols[k].append_value(v);
                    if field != "status" {
                        self.originals.push((self.len, field, text.to_string()));
                    }
                }
                (_, Some(i)) if kind == Kind::Date => {
                    self.cols[k].append_value(text);
                    self.originals
                        .push((self.len, field, row.original(i).to_string()));
                }
                _ => self.cols[k].append_value(text),
            }
        }
        self.len += 1;
    }
}

/// Reads a provider's CSV or XLSX report through its profile and hands its rows to the sink as
/// raw settlement batches (validated on the pool while the file is read on); returns
/// the sink's results in row order and the data rows read.
pub(super) fn read<T: Send>(
    profile: &Profile,
    input: Opened<'_>,
    sink: Sink<'_, T>,
) -> Result<Decoded<T>> {
    let Opened {
        index,
        file,
        handle,
        ..
    } = input;
    // Each batch is mapped (CSV) and validated on the pool as soon as it is cut, while
    // this thread reads on.
    let (rows, out) = match profile.layout {
        Layout::Csv => on_pool_jobs(sink, &|job: Records<'_>| job.map(profile), |hand_on| {
            read_csv(profile, index, handle, hand_on)
        }),
        Layout::Xlsx => on_pool(sink, |hand_on| {
            super::workbook::read_xlsx(profile, index, handle, hand_on)
        }),
    };
    let rows =
        rows.map_err(|m| Error::input(&file.path, format!("{} report: {m}", profile.code)))?;
    Ok((out, rows))
}

/// Reads a profile CSV into blocks of records handed to `hand_on` in row order (each
/// made into a raw batch by [`Records::map`], on the pool); returns the data rows read.
/// Lines above the header and the footer rows are skipped.
pub(crate) fn read_csv<'p>(
    profile: &'p Profile,
    file: u32,
    input: impl Read,
    hand_on: &mut dyn FnMut(Records<'p>),
) -> std::result::Result<u64, String> {
    // The header is a line number: the lines above it (a title block, blank lines) are
    // skipped as lines, before the CSV reader sees the file.
    let mut text = io::BufReader::with_capacity(
        64 * 1024,
        RecordCap {
            inner: Decoding::new(input, profile.encoding),
            in_quotes: false,
            run: 0,
        },
    );
    let mut skipped = Vec::new();
    for line in 1..profile.header_row {
        skipped.clear();
        let n =
            io::BufRead::read_until(&mut text, b'\n', &mut skipped).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err(format!(
                "the file ends at line {line}, before its header (header_row = {} in the \
                 profile of {})",
                profile.header_row, profile.code
            ));
        }
    }
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(profile.delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text);
    let mut next = |rec: &mut csv::ByteRecord| -> Result<bool, String> {
        rdr.read_byte_record(rec).map_err(|e| match e.kind() {
            csv::ErrorKind::Io(io) => io.to_string(),
            _ => format!("not a CSV file as the profile describes it: {e}"),
        })
    };
    let mut header = csv::ByteRecord::new();
    if !next(&mut header)? {
        return Err(format!(
            "the file has no header at line {} (header_row in the profile of {})",
            profile.header_row, profile.code
        ));
    }
    // The decoder gave UTF-8, and the CSV reader cuts at ASCII bytes.
    let names: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .collect();
    let resolved = std::sync::Arc::new(Resolved::new(
        profile,
        &names.iter().map(String::as_str).collect::<Vec<_>>(),
    )?);
    let mut block = Records::new(file, 1, &resolved);
    let mut footer = Footer::new(profile.footer_rows);
    let mut rows = 0u64;
    // Records done with are filled again: no allocation per row.
    let mut rec = header;
    while next(&mut rec)? {
        let Some(data) = footer.push(std::mem::take(&mut rec)) else {
            continue;
        };
        block.push(&data);
        rec = data;
        rows += 1;
        if block.rows.len() == BATCH_ROWS || block.text.len() >= BLOCK_BYTES {
            let next_block = Records::new(file, rows + 1, &resolved);
            hand_on(std::mem::replace(&mut block, next_block));
        }
    }
    if !block.rows.is_empty() {
        hand_on(block);
    }
    Ok(rows)
}

/// Most text one block of records holds, whatever its row count.
const BLOCK_BYTES: usize = 16 << 20;

/// Data records of a profile CSV as read, not yet mapped: their fields' text in one
/// buffer, so that cutting them costs the reading thread no allocation per row.
pub(crate) struct Records<'p> {
    text: Vec<u8>,
    /// Each field's end in `text` (it starts where the one before ends).
    ends: Vec<usize>,
    /// Each row's first field in `ends`.
    rows: Vec<usize>,
    file: u32,
    first_row: u64,
    resolved: std::sync::Arc<Resolved<'p>>,
}

impl<'p> Records<'p> {
    fn new(file: u32, first_row: u64, resolved: &std::sync::Arc<Resolved<'p>>) -> Self {
        Records {
            text: Vec::new(),
            ends: Vec::new(),
            rows: Vec::new(),
            file,
            first_row,
            resolved: resolved.clone(),
        }
    }

    fn push(&mut self, rec: &csv::ByteRecord) {
        self.rows.push(self.ends.len());
        for field in rec {
            self.text.extend_from_slice(field);
            self.ends.push(self.text.len());
        }
    }

    /// The records through the profile, as a raw batch.
    pub(crate) fn map(self, profile: &Profile) -> RawBatch {
        // Always UTF-8 (the decoder's output, cut at ASCII bytes): borrowed, not copied.
        let text = String::from_utf8_lossy(&self.text);
        let mut resolved = Resolved::clone(&self.resolved);
        let mut batch = TextBatch::new(fields(profile.side).len(), self.rows.len());
        for (r, &first) in self.rows.iter().enumerate() {
            let last = self.rows.get(r + 1).copied().unwrap_or(self.ends.len());
            let row = Record {
                text: &text,
                start: first.checked_sub(1).map_or(0, |i| self.ends[i]),
                ends: &self.ends[first..last],
            };
            batch.push_record(profile, &mut resolved, &row);
        }
        batch.into_raw(self.file, self.first_row)
    }
}

/// One record of [`Records`].
struct Record<'a> {
    text: &'a str,
    /// Where its first field starts.
    start: usize,
    ends: &'a [usize],
}

impl ReportRow for Record<'_> {
    fn cell(&self, i: usize) -> (&str, Kind) {
        let Some(&end) = self.ends.get(i) else {
            return ("", Kind::Text);
        };
        let start = match i {
            0 => self.start,
            _ => self.ends[i - 1],
        };
        (self.text.get(start..end).unwrap_or(""), Kind::Text)
    }
}

/// Holds back a report's last `n` rows until it ends: they are its footer, never rows.
struct Footer<R> {
    n: u64,
    held: VecDeque<R>,
}

impl<R> Footer<R> {
    fn new(n: u64) -> Self {
        Footer {
            n,
            held: VecDeque::new(),
        }
    }

    /// Takes the next row; gives back the row that is now known to be data, if any.
    fn push(&mut self, row: R) -> Option<R> {
        self.held.push_back(row);
        if self.held.len() as u64 <= self.n {
            return None;
        }
        self.held.pop_front()
    }
}

/// Cuts a report's data rows into batches in row order, holding back the last
/// `footer_rows` rows until the report ends: those are its footer, never rows.
pub(super) struct Rows<'a, 'p, R> {
    profile: &'p Profile,
    resolved: Resolved<'p>,
    footer: Footer<R>,
    batch: TextBatch,
    file: u32,
    rows: u64,
    first_row: u64,
    hand_on: &'a mut dyn FnMut(RawBatch),
}

impl<'a, 'p, R: ReportRow> Rows<'a, 'p, R> {
    pub(super) fn new(
        profile: &'p Profile,
        resolved: Resolved<'p>,
        file: u32,
        hand_on: &'a mut dyn FnMut(RawBatch),
    ) -> Self {
        Rows {
            profile,
            resolved,
            footer: Footer::new(profile.footer_rows),
            batch: TextBatch::new(fields(profile.side).len(), BATCH_ROWS),
            file,
            rows: 0,
            first_row: 1,
            hand_on,
        }
    }

    /// Takes the next row; gives back a row done with, for the caller to fill again.
    pub(super) fn push(&mut self, row: R) -> Option<R> {
        let row = self.footer.push(row)?;
        self.rows += 1;
        self.batch
            .push_record(self.profile, &mut self.resolved, &row);
        if self.batch.len == BATCH_ROWS {
            (self.hand_on)(self.batch.finish(self.file, self.first_row));
            self.first_row = self.rows + 1;
        }
        Some(row)
    }

    /// The report's columns the profile reads.
    pub(super) fn columns(&self) -> Vec<usize> {
        let mut out = Vec::new();
        for t in self.resolved.take.iter().filter_map(|(_, t)| t.as_ref()) {
            t.columns(&mut out);
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Hands on the last batch; returns the data rows read.
    pub(super) fn finish(mut self) -> u64 {
        if self.batch.len > 0 {
            (self.hand_on)(self.batch.finish(self.file, self.first_row));
        }
        self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::RawCol;
    use arrow_array::Array;

    fn uzcard() -> Profile {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../schemas/providers.example.toml");
        let mut o = super::super::ProviderOptions::default();
        crate::providers::load(&p, &mut o).unwrap();
        o.profiles.into_iter().find(|p| p.code == "UZCARD").unwrap()
    }

    fn rows(profile: &Profile, bytes: &[u8]) -> std::result::Result<Vec<Vec<String>>, String> {
        let mut out = Vec::new();
        read_csv(profile, 0, bytes, &mut |r: Records<'_>| {
            let b = r.map(profile);
            for i in 0..b.len {
                out.push(
                    b.cols
                        .iter()
                        .map(|c| match c {
                            Some(RawCol::Text(a)) if !a.is_null(i) => a.value(i).to_string(),
                            _ => String::new(),
                        })
                        .collect(),
                );
            }
        })?;
        Ok(out)
    }

    #[test]
    fn a_windows_1251_report_with_title_block_and_totals_line() {
        let text = "Отчёт UZCARD за ноябрь 2026\n\n\
                    Transaction ID;Purpose;Card number;Amount;Commission;Status;Date\n\
                    T-1;Пособие UZ-EP-2026-11-000000003;8600141011402426;-750 000,00;3 750,00;Успешно;04.11.2026 10:15\n\
                    T-2;без ссылки;8600148790819993;900 000;0;Отклонено;06.11.2026\n\
                    T-3;UZ-CB-2026-11-000000007;8600148790819993;1.5;;Непонятно;2026-11-06\n\
                    Итого;;;2 651 500,00;;;\n";
        let (bytes, _, bad) = encoding_rs::WINDOWS_1251.encode(text);
        assert!(!bad);
        let got = rows(&uzcard(), &bytes).unwrap();
        assert_eq!(got.len(), 3, "title lines and the totals line are no rows");
        let want = |v: [&str; 9]| v.map(str::to_string).to_vec();
        assert_eq!(
            got[0],
            want([
                "UZCARD",
                "T-1",
                "UZ-EP-2026-11-000000003",
                "8600141011402426",
                "750000.00",
                "3750.00",
                "UZS",
                "SETTLED",
                "2026-11-04"
            ])
        );
        assert_eq!(
            got[1],
            want([
                "UZCARD",
                "T-2",
                "",
                "8600148790819993",
                "900000",
                "0",
                "UZS",
                "FAILED",
                "2026-11-06"
            ])
        );
        // Not in the declared forms: handed on as written, for section 2 to reject.
        assert_eq!(
            got[2],
            want([
                "UZCARD",
                "T-3",
                "UZ-CB-2026-11-000000007",
                "8600148790819993",
                "1.5",
                "",
                "UZS",
                "Непонятно",
                "2026-11-06"
            ])
        );
    }

    /// An M-Pesa-style organisation statement: preamble lines, amounts in "Paid In" or
    /// "Withdrawn" (`first_of`), ISO dates with a time, the reference in "A/C No.", the
    /// account at the start of "Other Party Info".
    #[test]
    fn first_of_takes_the_first_amount_column_with_a_value() {
        let profile = Profile::parse(
            "MPESA_KE",
            r#"files = ["mpesa-*.csv"]
header_row = 6
negative_amounts = "absolute"
[columns]
provider_ref = "Receipt No."
instruction_id = "A/C No."
account = { column = "Other Party Info", pattern = '^(\d+)' }
amount = { first_of = ["Withdrawn", "Paid In"] }
currency = { value = "KES" }
status = { first_of = [{ column = "Reason Type", pattern = '^(Reversal)$' }, "Transaction Status"] }
value_date = "Completion Time"
[status]
"Completed" = "SETTLED"
"Failed" = "FAILED"
"Reversal" = "RETURNED"
"#,
        )
        .unwrap();
        let text = "MPESA ORGANIZATION STATEMENT\n\
                    Organization Name: NATIONAL SAFETY NET PROGRAMME\n\
                    Organization Short Code: 600123\n\
                    Time Period: 01-11-2026 - 30-11-2026\n\
                    \n\
                    Receipt No.,Completion Time,Reason Type,Transaction Status,Paid In,Withdrawn,Balance,Other Party Info,A/C No.\n\
                    QK1A2B3C4D,2026-11-05 10:12:33,Business Payment,Completed,,-2000.00,998000.00,254712345678 - JANE DOE,KE-CT-2026-11-000000001\n\
                    QK1A2B3C4E,2026-11-05 10:13:01,Business Payment,Failed,,-1500.00,998000.00,254712345679 - JOHN DOE,KE-CT-2026-11-000000002\n\
                    QK1A2B3C4F,2026-11-06 09:00:00,Business Payment,Completed,2000.00,-0.00,1000000.00,254712345678 - JANE DOE,KE-CT-2026-11-000000003\n\
                    QK1A2B3C4G,2026-11-07 08:00:00,Reversal,Completed,2000.00,,1002000.00,254712345678 - JANE DOE,KE-CT-2026-11-000000001\n";
        let got = rows(&profile, text.as_bytes()).unwrap();
        let cols = |r: &Vec<String>| (r[3].clone(), r[4].clone(), r[7].clone(), r[8].clone());
        assert_eq!(
            got.iter().map(cols).collect::<Vec<_>>(),
            [
                (
                    "254712345678".into(),
                    "2000.00".into(),
                    "SETTLED".into(),
                    "2026-11-05".into()
                ),
                (
                    "254712345679".into(),
                    "1500.00".into(),
                    "FAILED".into(),
                    "2026-11-05".into()
                ),
                // "Withdrawn" holds a value ("-0.00"), so it is the amount: first_of takes
                // the first column that is not empty, whatever the value.
                (
                    "254712345678".into(),
                    "0.00".into(),
                    "SETTLED".into(),
                    "2026-11-06".into()
                ),
                // The reason column overrides the transaction's status: a reversal is
                // the payment coming back.
                (
                    "254712345678".into(),
                    "2000.00".into(),
                    "RETURNED".into(),
                    "2026-11-07".into()
                ),
            ]
        );
    }

    #[test]
    fn a_missing_column_names_the_header_and_the_closest() {
        let text = "\n\nTransaction ID;Purpose;Card;Amount;Commission;Status;Date\n";
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(text);
        let e = rows(&uzcard(), &bytes).unwrap_err();
        assert!(e.contains("no column \"Card number\""), "{e}");
        assert!(e.contains("the closest is \"Card\""), "{e}");
    }

    /// xorshift64*: deterministic, so a failure reproduces.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Thousands of mutations of the golden case's report (bytes changed, cut, a quote,
    /// a delimiter or a line break put in): an error or rows, never a panic.
    #[test]
    fn mutated_reports_never_panic() {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/cases/098-v2-profile-csv");
        let mut o = super::super::ProviderOptions::default();
        crate::providers::load(&p.join("providers.toml"), &mut o).unwrap();
        let profile = o.profiles.remove(0);
        let golden = std::fs::read(p.join("settlements/uzcard-2026-12.csv")).unwrap();
        assert_eq!(profile.count_rows(&golden[..]), Ok(6));
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..3000 {
            let mut bytes = golden.clone();
            for _ in 0..1 + next(&mut state) % 4 {
                let at = (next(&mut state) % bytes.len().max(1) as u64) as usize;
                match next(&mut state) % 5 {
                    0 => bytes[at] = next(&mut state) as u8,
                    1 => bytes.truncate(at),
                    2 => bytes.insert(at, b'"'),
                    3 => bytes.insert(at, b';'),
                    _ => bytes.insert(at, b'\n'),
                }
                if bytes.is_empty() {
                    break;
                }
            }
            let _ = profile.count_rows(&bytes[..]);
            let _ = rows(&profile, &bytes);
        }
    }

    #[test]
    fn a_record_without_an_end_is_capped() {
        let head = "a\nb\nTransaction ID;Purpose;Card number;Amount;Commission;Status;Date\n";
        let mut bytes = head.as_bytes().to_vec();
        bytes.extend_from_slice(b"T-1;\"");
        bytes.extend(std::iter::repeat_n(b'x', 3 << 20));
        let e = rows(&uzcard(), &bytes).unwrap_err();
        assert!(e.contains("a record runs over 1024 KiB"), "{e}");
        // Long lines of a quoted field are one record; short records never add up.
        let mut ok = head.as_bytes().to_vec();
        for _ in 0..40_000 {
            ok.extend_from_slice("T-1;\"a \"\"b\"\"\nc\";1;1,00;;Успешно;04.11.2026\n".as_bytes());
        }
        let (ok, _, _) = encoding_rs::WINDOWS_1251.encode(std::str::from_utf8(&ok).unwrap());
        // The example profile's last record is its totals line (footer_rows = 1).
        assert_eq!(rows(&uzcard(), &ok).unwrap().len(), 39_999);
    }

    #[test]
    fn bytes_not_in_the_encoding_stop_the_read_naming_the_byte() {
        let mut p = uzcard();
        p.encoding = encoding_rs::UTF_8;
        let mut bytes = "a\nb\nTransaction ID;Purpose;Card number;Amount;Commission;Status;Date\nT-1;x;1;1,00;;Успешно;04.11.2026\n"
            .as_bytes()
            .to_vec();
        let at = bytes.len();
        bytes.extend_from_slice(b"T-2;\xC0\xFF;1;1,00;;x;04.11.2026\n");
        let e = rows(&p, &bytes).unwrap_err();
        assert!(e.contains(&format!("byte {} is not UTF-8", at + 4)), "{e}");
    }
}
