//! A provider's XLSX report read through its profile (CONTRACT 7.4).
//!
//! The workbook is a zip archive: before calamine inflates anything, every entry is
//! checked against what the archive declares ([`check_archive`]), so a zip bomb or an
//! entry that is larger than it says stops the read with exit 2 instead of filling memory.
//! The sheet's cells are then streamed one at a time (calamine's cells reader), so memory
//! holds the shared strings and one row, never the sheet.
//!
//! Cells become text as 7.4 says: text as it is; a number as the shortest decimal text
//! that reads back as the same number (`0.1 + 0.2` stays `0.30000000000000004`, which
//! section 2 rejects for its precision; nothing is rounded); a date cell as `YYYY-MM-DD`
//! with its serial number kept as the original; a formula by the value Excel cached
//! (never evaluated). Data rows that merged cells cover stop the read: only the first
//! cell of a merge holds the value, and guessing the others is not sverka's to do.

use std::io::{self, Read, Seek, SeekFrom};

use calamine::{DataRef, Reader, SheetVisible, Xlsx};

use super::profile::{Kind, ReportRow, Resolved, Rows};
use super::{RawBatch, MAX_COLUMNS, MAX_RECORD_BYTES};
use crate::profiles::Profile;

/// Largest inflated entry: a 1M-row sheet of ten columns is about 400 MB of XML.
const MAX_ENTRY_BYTES: u64 = 4 << 30;
/// Largest inflated workbook, all entries together.
const MAX_INFLATED_BYTES: u64 = 8 << 30;
/// Largest inflated shared-strings table: calamine holds it in memory whole.
const MAX_SHARED_STRINGS_BYTES: u64 = 256 << 20;
/// Inflated bytes per compressed byte above which an entry is taken for a zip bomb.
/// Spreadsheet XML deflates 10–50 times; deflate's own limit is about 1,032.
const MAX_RATIO: u64 = 250;

/// What the archive check learnt: which entries hold merged cells.
struct Archive {
    merges: Vec<String>,
}

/// Checks every entry of the workbook before calamine reads it: not encrypted, its
/// declared size within the caps and the ratio, and, inflated, no larger than declared
/// and without an XML item (a tag or a text) over [`MAX_RECORD_BYTES`] (quick-xml holds
/// a whole item in memory). Leaves `input` at its start.
fn check_archive<R: Read + Seek>(input: &mut R) -> Result<Archive, String> {
    let mut magic = [0u8; 8];
    let n = input
        .read(&mut magic)
        .map_err(|e| format!("cannot read: {e}"))?;
    input
        .seek(SeekFrom::Start(0))
        .map_err(|e| format!("cannot read: {e}"))?;
    // Excel saves a workbook with a password, and every .xls, as an OLE compound file.
    if magic[..n] == *b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1" {
        return Err(
            "the workbook is protected by a password, or is an .xls file (Excel \
                    97-2003): ask the provider for the report as .xlsx without a password"
                .to_string(),
        );
    }
    let mut zip = zip::ZipArchive::new(&mut *input).map_err(|e| {
        format!(
            "not an XLSX workbook ({e}): the profile says format = \"xlsx\"; a CSV must be \
             described as CSV"
        )
    })?;
    let mut total = 0u64;
    let mut merges = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    for i in 0..zip.len() {
        let entry = zip
            .by_index(i)
            .map_err(|e| format!("the workbook is damaged: {e}"))?;
        let name = entry.name().to_string();
        let declared = entry.size();
        let packed = entry.compressed_size().max(1);
        let cap = if name.ends_with("sharedStrings.xml") {
            MAX_SHARED_STRINGS_BYTES
        } else {
            MAX_ENTRY_BYTES
        };
        total = total.saturating_add(declared);
        if declared > cap || total > MAX_INFLATED_BYTES || declared / packed > MAX_RATIO {
            return Err(format!(
                "the workbook's part {name} inflates from {packed} to {declared} bytes: a zip \
                 bomb, or a workbook larger than sverka reads (caps: {} MiB a part, ratio \
                 {MAX_RATIO}); ask the provider for the report as CSV",
                cap >> 20
            ));
        }
        let scan = scan_part(entry.take(declared + 1), &name, &mut buf)?;
        if scan.read > declared {
            return Err(format!(
                "the workbook's part {name} inflates to more than the {declared} bytes it \
                 declares: the file is damaged or a zip bomb; ask the provider for a new copy"
            ));
        }
        // calamine reserves room for the shared strings the table declares: a count its
        // bytes cannot hold (an `<si/>` takes at least 5) would be a huge allocation.
        if name.ends_with("sharedStrings.xml") && scan.counts > declared / 5 {
            return Err(format!(
                "the workbook's part {name} declares {} strings in {declared} bytes: the file \
                 is damaged; ask the provider for a new copy",
                scan.counts
            ));
        }
        if scan.merged {
            merges.push(name);
        }
    }
    drop(zip);
    input
        .seek(SeekFrom::Start(0))
        .map_err(|e| format!("cannot read: {e}"))?;
    Ok(Archive { merges })
}

fn long_item(name: &str) -> String {
    format!(
        "the workbook's part {name} holds an XML item over {} KiB: the file is damaged or not \
         a spreadsheet",
        MAX_RECORD_BYTES >> 10
    )
}

/// What reading a part inflated found.
#[derive(Debug)]
struct PartScan {
    /// Bytes inflated.
    read: u64,
    /// Whether the part mentions merged cells.
    merged: bool,
    /// The largest `uniqueCount` it declares.
    counts: u64,
}

impl PartScan {
    /// Notes the words of `bytes`: `mergeCell`, and the number after `uniqueCount`.
    fn words(&mut self, bytes: &[u8]) {
        self.merged |= memchr::memmem::find(bytes, b"mergeCell").is_some();
        for at in memchr::memmem::find_iter(bytes, b"uniqueCount") {
            let digits = bytes[at + 11..]
                .iter()
                .skip_while(|b| matches!(b, b' ' | b'=' | b'"' | b'\''))
                .take_while(|b| b.is_ascii_digit())
                .fold(0u64, |n, d| {
                    n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
                });
            self.counts = self.counts.max(digits);
        }
    }
}

/// Inflates a part, checking that no XML item (the stretch between two `<`) is longer
/// than [`MAX_RECORD_BYTES`] (quick-xml holds a whole item in memory), and noting what
/// [`check_archive`] needs. Words are searched in each chunk and across its start, so a
/// word cut by a chunk's end is found.
fn scan_part(mut part: impl Read, name: &str, buf: &mut [u8]) -> Result<PartScan, String> {
    const CARRY: usize = 32;
    debug_assert!(buf.len() <= MAX_RECORD_BYTES);
    let mut scan = PartScan {
        read: 0,
        merged: false,
        counts: 0,
    };
    let mut run = 0usize;
    let mut carry = Vec::with_capacity(2 * CARRY);
    loop {
        let n = part
            .read(buf)
            .map_err(|e| format!("the workbook's part {name} is damaged: {e}"))?;
        if n == 0 {
            return Ok(scan);
        }
        scan.read += n as u64;
        let chunk = &buf[..n];
        // `run`: the bytes since the last `<` before this chunk. A chunk is shorter than
        // the cap, so only a stretch that crosses chunks can be longer.
        match (memchr::memchr(b'<', chunk), memchr::memrchr(b'<', chunk)) {
            (Some(first), Some(last)) => {
                if run + first > MAX_RECORD_BYTES {
                    return Err(long_item(name));
                }
                run = n - last;
            }
            _ => run += n,
        }
        if run > MAX_RECORD_BYTES {
            return Err(long_item(name));
        }
        // The words inside the chunk, then across its start (with the end of the one
        // before); a word's place is not needed, so finding one twice does no harm.
        scan.words(chunk);
        carry.extend_from_slice(&chunk[..n.min(CARRY)]);
        scan.words(&carry);
        // Keep the stream's last bytes (a chunk may be shorter than them).
        if n > CARRY {
            carry.clear();
            carry.extend_from_slice(&chunk[n - CARRY..]);
        } else {
            carry.drain(..carry.len().saturating_sub(CARRY));
        }
    }
}

/// One sheet row as the profile reads it: each cell's text and kind, and a date cell's
/// serial number.
#[derive(Default)]
struct SheetRow {
    text: Vec<String>,
    kind: Vec<Kind>,
    serial: Vec<String>,
    /// The sheet's own row number (1-based), for messages.
    number: u32,
}

impl SheetRow {
    /// Empties the row and makes it `width` cells wide.
    fn clear(&mut self, width: usize) {
        self.text.iter_mut().for_each(String::clear);
        self.kind.fill(Kind::Text);
        self.widen(width);
    }

    fn widen(&mut self, width: usize) {
        self.text.resize_with(width, String::new);
        self.kind.resize(width, Kind::Text);
        self.serial.resize_with(width, String::new);
    }

    fn is_empty(&self) -> bool {
        self.text.iter().all(|t| t.trim().is_empty())
    }
}

impl ReportRow for SheetRow {
    fn cell(&self, i: usize) -> (&str, Kind) {
        match self.text.get(i) {
            Some(t) => (t, self.kind[i]),
            None => ("", Kind::Text),
        }
    }

    fn original(&self, i: usize) -> &str {
        self.serial.get(i).map_or("", String::as_str)
    }
}

/// Writes a cell into `row` at column `col`: its text, and for a date its serial.
fn put(row: &mut SheetRow, col: usize, value: &DataRef<'_>, is_1904: bool) {
    use std::fmt::Write;
    let text = &mut row.text[col];
    text.clear();
    row.kind[col] = match value {
        DataRef::Empty => Kind::Text,
        // A `t="d"` cell's ISO text is text: the profile's date form applies to it.
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
            text.push_str(s);
            Kind::Text
        }
        DataRef::SharedString(s) => {
            text.push_str(s);
            Kind::Text
        }
        // A number cell comes from calamine as the f64 the file stores; it is written
        // out as text at once and never computed with (an amount is only ever the
        // contract's decimal text). Rust writes a float as the shortest decimal that
        // reads back as the same number, without an exponent: exactly 7.4's rule.
        DataRef::Float(f) => {
            let _ = write!(text, "{f}");
            Kind::Number
        }
        DataRef::Int(i) => {
            let _ = write!(text, "{i}");
            Kind::Number
        }
        DataRef::Bool(b) => {
            text.push_str(if *b { "TRUE" } else { "FALSE" });
            Kind::Text
        }
        DataRef::Error(e) => {
            let _ = write!(text, "{e}");
            Kind::Text
        }
        DataRef::DateTime(dt) => {
            let serial = dt.as_f64();
            match excel_date(serial, is_1904).filter(|_| dt.is_datetime()) {
                Some(date) => {
                    text.push_str(&date);
                    let s = &mut row.serial[col];
                    s.clear();
                    let _ = write!(s, "{serial}");
                    Kind::Date
                }
                None => {
                    let _ = write!(text, "{serial}");
                    Kind::Number
                }
            }
        }
    };
}

/// The calendar date of an Excel serial date-time, or `None` outside Excel's dates.
///
/// In the 1900 system day 1 is 1900-01-01 and day 60 is 1900-02-29, a day that never was
/// (Lotus 1-2-3's leap-year bug, kept by Excel): it comes back as `1900-02-29`, which
/// section 2 rejects. Days after it are one behind a plain count from 1899-12-31. In the
/// 1904 system day 0 is 1904-01-01. The time of day is dropped after rounding to Excel's
/// millisecond, so that 45943.99999999999 is the next day's midnight.
// Excel stores a date as a float: this is the one place it is read as a number (to its
// millisecond), never money.
#[allow(clippy::float_arithmetic)]
pub(crate) fn excel_date(serial: f64, is_1904: bool) -> Option<String> {
    use crate::date::{date_string, days_from_civil};
    // 2,958,465 is 9999-12-31, Excel's last date.
    if !serial.is_finite() || !(0.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let day = ((serial * 86_400_000.0).round() as i64).div_euclid(86_400_000) as i32;
    let days = if is_1904 {
        days_from_civil(1904, 1, 1) + day
    } else {
        match day {
            0 => return None,
            60 => return Some("1900-02-29".to_string()),
            1..=59 => days_from_civil(1899, 12, 31) + day,
            _ => days_from_civil(1899, 12, 30) + day,
        }
    };
    (days <= days_from_civil(9999, 12, 31)).then(|| date_string(days))
}

/// calamine's error as a message for the user.
fn damaged(e: calamine::XlsxError) -> String {
    match e {
        calamine::XlsxError::Password => {
            "the workbook is protected by a password: ask the provider for it without one"
                .to_string()
        }
        e => format!("the workbook is damaged or not an XLSX report: {e}"),
    }
}

/// The sheet to read: the profile's, or the first; a hidden first sheet is not guessed
/// past, since the report the officer sees in Excel is another one.
fn sheet_name<R: Read + Seek>(profile: &Profile, book: &Xlsx<R>) -> Result<String, String> {
    let sheets = book.sheets_metadata();
    let visible: Vec<String> = sheets
        .iter()
        .filter(|s| s.visible == SheetVisible::Visible)
        .map(|s| format!("{:?}", s.name))
        .collect();
    match &profile.sheet {
        Some(want) => sheets
            .iter()
            .find(|s| s.name == *want)
            .map(|s| s.name.clone())
            .ok_or_else(|| {
                format!(
                    "the workbook has no sheet {want:?} (sheet in the profile of {}); its \
                     sheets are {}",
                    profile.code,
                    sheets
                        .iter()
                        .map(|s| format!("{:?}", s.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }),
        None => match sheets.first() {
            None => Err("the workbook has no sheets".to_string()),
            Some(s) if s.visible != SheetVisible::Visible => Err(format!(
                "the workbook's first sheet {:?} is hidden: name the sheet to read with \
                 sheet = \"...\" in the profile of {} (visible sheets: {})",
                s.name,
                profile.code,
                if visible.is_empty() {
                    "none".to_string()
                } else {
                    visible.join(", ")
                }
            )),
            Some(s) => Ok(s.name.clone()),
        },
    }
}

/// Reads a profile XLSX into raw batches handed to `hand_on` in row order; returns the
/// data rows read. Rows above the header, empty rows and the footer rows are skipped.
pub(crate) fn read_xlsx<R: Read + Seek>(
    profile: &Profile,
    file: u32,
    mut input: R,
    hand_on: &mut dyn FnMut(RawBatch),
) -> Result<u64, String> {
    let archive = check_archive(&mut input)?;
    let mut book = Xlsx::new(io::BufReader::with_capacity(64 * 1024, input)).map_err(damaged)?;
    let name = sheet_name(profile, &book)?;
    let is_1904 = book.has_1904_epoch();
    let mut sheet = Sheet {
        profile,
        name: &name,
        file,
        hand_on: Some(hand_on),
        rows: None,
        width: 0,
        row: SheetRow::default(),
        filling: None,
        data: None,
    };
    {
        let mut cells = book.worksheet_cells_reader(&name).map_err(damaged)?;
        while let Some(cell) = cells.next_cell().map_err(damaged)? {
            let (r, c) = cell.get_position();
            sheet.cell(r, c as usize, cell.get_value(), is_1904)?;
        }
    }
    let done = sheet.finish()?;
    // Only a sheet with merged cells pays for reading it a second time.
    if let Some((first, last)) = done.data.filter(|_| {
        archive
            .merges
            .iter()
            .any(|m| m.starts_with("xl/worksheets/"))
    }) {
        let merges = book.merge_cells_by_sheet_name(&name).map_err(damaged)?;
        merged_data(&merges, first, last, &done.columns, &name)?;
    }
    Ok(done.rows)
}

/// What a sheet gave.
struct Done {
    /// Data rows read.
    rows: u64,
    /// The sheet's columns the profile reads.
    columns: Vec<usize>,
    /// The first and last sheet rows (0-based) that became data rows.
    data: Option<(u32, u32)>,
}

/// The rows of a sheet as they stream in, cell by cell.
struct Sheet<'a, 'p> {
    profile: &'p Profile,
    name: &'p str,
    file: u32,
    /// Moves into `rows` when the header is read.
    hand_on: Option<&'a mut dyn FnMut(RawBatch)>,
    rows: Option<Rows<'a, 'p, SheetRow>>,
    /// The header's width: data cells right of it are not read.
    width: usize,
    row: SheetRow,
    /// The sheet row (0-based) `row` holds.
    filling: Option<u32>,
    /// The first and last sheet rows (0-based) that became data rows.
    data: Option<(u32, u32)>,
}

impl<'a, 'p> Sheet<'a, 'p> {
    fn cell(&mut self, r: u32, c: usize, value: &DataRef<'_>, is_1904: bool) -> Result<(), String> {
        let header_at = self.profile.header_row - 1;
        if u64::from(r) < header_at {
            return Ok(());
        }
        match self.filling {
            Some(f) if f == r => {}
            Some(f) if f > r => {
                return Err(format!(
                    "sheet {:?} lists row {} after row {}: the workbook is damaged",
                    self.name,
                    r + 1,
                    f + 1
                ))
            }
            _ => {
                self.complete()?;
                self.filling = Some(r);
                self.row.number = r;
                self.row.clear(self.width);
            }
        }
        if self.rows.is_none() {
            // The header row: as wide as its cells, up to the cap.
            if c >= MAX_COLUMNS {
                return Err(format!(
                    "the header (row {}) has a cell in column {}, past the {MAX_COLUMNS}                      columns sverka reads",
                    r + 1,
                    c + 1
                ));
            }
            if c >= self.row.text.len() {
                self.row.widen(c + 1);
            }
        } else if c >= self.width {
            return Ok(());
        }
        put(&mut self.row, c, value, is_1904);
        Ok(())
    }

    /// The row being filled is complete: the header, a data row, or empty.
    fn complete(&mut self) -> Result<(), String> {
        let Some(r) = self.filling.take() else {
            return Ok(());
        };
        let header_at = self.profile.header_row - 1;
        match &mut self.rows {
            None if u64::from(r) == header_at => {
                let names: Vec<&str> = self.row.text.iter().map(String::as_str).collect();
                let resolved = Resolved::new(self.profile, &names)?;
                self.width = names.len();
                let hand_on = self
                    .hand_on
                    .take()
                    .ok_or("internal: the header read twice")?;
                self.rows = Some(Rows::new(self.profile, resolved, self.file, hand_on));
            }
            None => return Err(self.no_header()),
            Some(_) if self.row.is_empty() => {}
            Some(rows) => {
                let row = std::mem::take(&mut self.row);
                if let Some(done) = rows.push(row) {
                    let n = done.number;
                    self.data = Some(self.data.map_or((n, n), |(first, _)| (first, n)));
                    self.row = done;
                }
            }
        }
        Ok(())
    }

    fn no_header(&self) -> String {
        format!(
            "row {} of sheet {:?} is empty or missing: it is the header (header_row in the              profile of {})",
            self.profile.header_row, self.name, self.profile.code
        )
    }

    fn finish(mut self) -> Result<Done, String> {
        self.complete()?;
        let rows = self.rows.take().ok_or_else(|| self.no_header())?;
        let columns = rows.columns();
        Ok(Done {
            rows: rows.finish(),
            columns,
            data: self.data,
        })
    }
}

/// Stops the read when a merge covers a data-row cell the profile reads other than the
/// merge's first: Excel keeps the value in the first cell only.
fn merged_data(
    merges: &[calamine::Dimensions],
    first: u32,
    last: u32,
    read: &[usize],
    sheet: &str,
) -> Result<(), String> {
    for m in merges {
        let ((r0, c0), (r1, c1)) = (m.start, m.end);
        let (lo, hi) = (r0.max(first), r1.min(last));
        if lo > hi {
            continue;
        }
        let covered = |c: u32| (c0..=c1).contains(&c) && (hi > r0 || c > c0);
        if let Some(&c) = read.iter().find(|&&c| covered(c as u32)) {
            return Err(format!(
                "cells {}:{} of sheet {sheet:?} are merged over data rows, in column {} that                  the profile reads: only the first cell of a merge holds its value; unmerge                  them and fill each row, or ask the provider for the report without merged                  cells",
                a1(r0, c0),
                a1(r1, c1),
                column_letters(c as u32)
            ));
        }
    }
    Ok(())
}

/// `A`, `Z`, `AA`, … for a 0-based column.
fn column_letters(mut c: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn a1(r: u32, c: u32) -> String {
    format!("{}{}", column_letters(c), r + 1)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ingest::RawCol;
    use arrow_array::Array;
    use std::io::Write;

    /// A workbook's parts, written as Excel lays them out. Style 1 is a date format
    /// (built-in 14, `m/d/yyyy`), style 2 a plain number.
    pub(crate) struct Book {
        pub sheets: Vec<(&'static str, String, &'static str)>,
        pub strings: Vec<&'static str>,
        pub date1904: bool,
        /// The shared strings' declared `uniqueCount` when not their number.
        pub unique_count: Option<u64>,
    }

    impl Book {
        /// One visible sheet named `Report` with these rows (`<row>` elements).
        pub(crate) fn one(rows: &str) -> Book {
            Book {
                sheets: vec![("Report", rows.to_string(), "visible")],
                strings: Vec::new(),
                date1904: false,
                unique_count: None,
            }
        }

        pub(crate) fn bytes(&self) -> Vec<u8> {
            let mut parts: Vec<(String, String)> = Vec::new();
            let mut types = String::new();
            let (mut sheets, mut rels) = (String::new(), String::new());
            for (i, (name, rows, state)) in self.sheets.iter().enumerate() {
                let n = i + 1;
                types.push_str(&format!(
                    r#"<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#
                ));
                sheets.push_str(&format!(
                    r#"<sheet name="{name}" sheetId="{n}" state="{state}" r:id="rId{n}"/>"#
                ));
                rels.push_str(&format!(
                    r#"<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>"#
                ));
                let (data, after) = match rows.split_once("<mergeCells") {
                    Some((d, m)) => (d.to_string(), format!("<mergeCells{m}")),
                    None => (rows.clone(), String::new()),
                };
                parts.push((
                    format!("xl/worksheets/sheet{n}.xml"),
                    format!(
                        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{data}</sheetData>{after}</worksheet>"#
                    ),
                ));
            }
            let n = self.sheets.len();
            rels.push_str(&format!(
                r#"<Relationship Id="rId{}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId{}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>"#,
                n + 1,
                n + 2
            ));
            let date1904 = if self.date1904 {
                r#" date1904="1""#
            } else {
                ""
            };
            parts.push((
                "xl/workbook.xml".into(),
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><workbookPr{date1904}/><sheets>{sheets}</sheets></workbook>"#
                ),
            ));
            parts.push((
                "xl/_rels/workbook.xml.rels".into(),
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>"#
                ),
            ));
            parts.push((
                "xl/styles.xml".into(),
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="4" applyNumberFormat="1"/></cellXfs></styleSheet>"#.into(),
            ));
            let si: String = self
                .strings
                .iter()
                .map(|s| format!("<si><t xml:space=\"preserve\">{s}</t></si>"))
                .collect();
            parts.push((
                "xl/sharedStrings.xml".into(),
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{0}" uniqueCount="{1}">{si}</sst>"#,
                    self.strings.len(),
                    self.unique_count.unwrap_or(self.strings.len() as u64)
                ),
            ));
            parts.push((
                "_rels/.rels".into(),
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.into(),
            ));
            parts.push((
                "[Content_Types].xml".into(),
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>{types}</Types>"#
                ),
            ));
            zip_of(&parts)
        }
    }

    pub(crate) fn zip_of(parts: &[(String, String)]) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, body) in parts {
            zip.start_file(name.as_str(), opts).unwrap();
            zip.write_all(body.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
        out.into_inner()
    }

    /// Text cells `A`, `B`, … of row `r`, empty strings left out.
    pub(crate) fn text_row(r: u32, cells: &[&str]) -> String {
        let mut out = format!("<row r=\"{r}\">");
        for (c, v) in cells.iter().enumerate() {
            if !v.is_empty() {
                out.push_str(&format!(
                    "<c r=\"{}{r}\" t=\"inlineStr\"><is><t>{v}</t></is></c>",
                    column_letters(c as u32)
                ));
            }
        }
        out + "</row>"
    }

    fn profile(extra: &str) -> Profile {
        Profile::parse(
            "HUMO",
            &format!(
                "files = [\"humo-*.xlsx\"]\nformat = \"xlsx\"\n{extra}\n[columns]\n\
                 provider_ref = \"Ref\"\ninstruction_id = \"Payment\"\namount = \"Amount\"\n\
                 currency = {{ value = \"UZS\" }}\nstatus = \"Status\"\nvalue_date = \"Date\"\n\
                 [status]\n\"OK\" = \"SETTLED\"\n\"Rejected\" = \"FAILED\"\n"
            ),
        )
        .unwrap()
    }

    const HEADER: [&str; 5] = ["Ref", "Payment", "Amount", "Status", "Date"];

    /// The rows as canonical text (provider_ref, instruction_id, amount, status,
    /// value_date) and the originals recorded.
    #[allow(clippy::type_complexity)]
    fn read(
        p: &Profile,
        bytes: &[u8],
    ) -> Result<(Vec<[String; 5]>, Vec<(usize, &'static str, String)>), String> {
        let mut rows = Vec::new();
        let mut originals = Vec::new();
        let base = std::cell::Cell::new(0usize);
        read_xlsx(p, 0, std::io::Cursor::new(bytes), &mut |b: RawBatch| {
            let text = |k: usize, i: usize| match &b.cols[k] {
                Some(RawCol::Text(a)) if !a.is_null(i) => a.value(i).to_string(),
                _ => String::new(),
            };
            for i in 0..b.len {
                rows.push([text(1, i), text(2, i), text(4, i), text(7, i), text(8, i)]);
            }
            originals.extend(
                b.originals
                    .iter()
                    .map(|(i, f, o)| (i + base.get(), *f, o.clone())),
            );
            base.set(base.get() + b.len);
        })?;
        Ok((rows, originals))
    }

    fn strings(rows: &[[String; 5]]) -> Vec<Vec<&str>> {
        rows.iter()
            .map(|r| r.iter().map(String::as_str).collect())
            .collect()
    }

    #[test]
    fn cells_become_the_contracts_text() {
        // A title row, the header in row 3, numbers, a date cell, a formula with its
        // cached value, a shared string, a float that is not a whole number of cents,
        // an empty row, a totals line.
        let mut book = Book::one(&format!(
            "{}{}\
             <row r=\"4\"><c r=\"A4\" t=\"s\"><v>0</v></c><c r=\"B4\" t=\"inlineStr\"><is><t>UZ-EP-1</t></is></c><c r=\"C4\" s=\"2\"><v>-750000</v></c><c r=\"D4\" t=\"s\"><v>1</v></c><c r=\"E4\" s=\"1\"><v>46331.604166666664</v></c></row>\
             <row r=\"5\"><c r=\"A5\"><v>12345</v></c><c r=\"C5\"><f>0.1+0.2</f><v>0.30000000000000004</v></c><c r=\"D5\" t=\"str\"><f>\"Rejec\"&amp;\"ted\"</f><v>Rejected</v></c><c r=\"E5\" t=\"inlineStr\"><is><t>05.11.2026</t></is></c></row>\
             <row r=\"6\"><c r=\"A6\" s=\"2\"/><c r=\"C6\"></c></row>\
             <row r=\"7\"><c r=\"A7\" t=\"inlineStr\"><is><t>T-3</t></is></c><c r=\"C7\" t=\"inlineStr\"><is><t>1 500,25</t></is></c><c r=\"D7\" t=\"b\"><v>1</v></c><c r=\"E7\"><v>46331</v></c></row>\
             {}",
            text_row(1, &["HUMO settlement report, November 2026"]),
            text_row(3, &HEADER),
            text_row(8, &["Total", "", "-750000.30000000000000004"]),
        ));
        book.strings = vec!["T-1", "OK"];
        let p = profile(
            "header_row = 3\nfooter_rows = 1\ndecimal_separator = \",\"\n\
             thousands_separator = \" \"\ndate_format = \"DD.MM.YYYY\"\nnegative_amounts = \"absolute\"",
        );
        let (rows, originals) = read(&p, &book.bytes()).unwrap();
        assert_eq!(
            strings(&rows),
            [
                ["T-1", "UZ-EP-1", "750000", "SETTLED", "2026-11-05"],
                ["12345", "", "0.30000000000000004", "FAILED", "2026-11-05"],
                // A text cell follows the profile's forms; a number in a General cell is
                // no date (section 2 rejects it); a boolean is its word.
                ["T-3", "", "1500.25", "TRUE", "46331"],
            ]
        );
        assert_eq!(
            originals,
            [
                (0, "amount", "-750000".to_string()),
                (0, "value_date", "46331.604166666664".to_string()),
                (1, "value_date", "05.11.2026".to_string()),
                (2, "amount", "1 500,25".to_string()),
            ]
        );
    }

    #[test]
    fn excel_serial_dates_with_the_1900_leap_year_bug() {
        let d = |s: f64| excel_date(s, false);
        assert_eq!(d(1.0).as_deref(), Some("1900-01-01"));
        assert_eq!(d(59.0).as_deref(), Some("1900-02-28"));
        // The day that never was: handed on for section 2 to reject.
        assert_eq!(d(60.0).as_deref(), Some("1900-02-29"));
        assert_eq!(d(61.0).as_deref(), Some("1900-03-01"));
        assert_eq!(d(45943.5).as_deref(), Some("2025-10-13"));
        assert_eq!(d(46331.0).as_deref(), Some("2026-11-05"));
        assert_eq!(d(46_331.999_999_999_99).as_deref(), Some("2026-11-06"));
        assert_eq!(d(2_958_465.0).as_deref(), Some("9999-12-31"));
        for bad in [0.0, -1.0, 2_958_466.0, f64::NAN, f64::INFINITY] {
            assert_eq!(d(bad), None, "{bad}");
        }
        assert_eq!(excel_date(0.0, true).as_deref(), Some("1904-01-01"));
        assert_eq!(excel_date(44869.0, true).as_deref(), Some("2026-11-05"));
    }

    #[test]
    fn a_1904_workbook_dates_from_1904() {
        let mut book = Book::one(&format!(
            "{}<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>T-1</t></is></c><c r=\"C2\"><v>10</v></c><c r=\"D2\" t=\"inlineStr\"><is><t>OK</t></is></c><c r=\"E2\" s=\"1\"><v>44869</v></c></row>",
            text_row(1, &HEADER)
        ));
        book.date1904 = true;
        let (rows, _) = read(&profile(""), &book.bytes()).unwrap();
        assert_eq!(rows[0][4], "2026-11-05");
    }

    #[test]
    fn sheets_by_name_and_hidden_sheets() {
        let rows = format!(
            "{}{}",
            text_row(1, &HEADER),
            text_row(2, &["T-1", "", "10", "OK", "2026-11-05"])
        );
        let book = Book {
            sheets: vec![
                ("Lists", text_row(1, &["lookup"]), "hidden"),
                ("Report", rows.clone(), "visible"),
            ],
            strings: Vec::new(),
            date1904: false,
            unique_count: None,
        };
        let e = read(&profile(""), &book.bytes()).unwrap_err();
        assert!(e.contains("first sheet \"Lists\" is hidden"), "{e}");
        assert!(e.contains("visible sheets: \"Report\""), "{e}");
        let (got, _) = read(&profile("sheet = \"Report\""), &book.bytes()).unwrap();
        assert_eq!(got.len(), 1);
        let e = read(&profile("sheet = \"Отчёт\""), &book.bytes()).unwrap_err();
        assert!(
            e.contains("no sheet \"Отчёт\"") && e.contains("\"Lists\", \"Report\""),
            "{e}"
        );
    }

    #[test]
    fn merged_cells_over_data_rows_stop_the_read() {
        let rows = format!(
            "{}{}{}{}",
            text_row(1, &["Report"]),
            text_row(2, &HEADER),
            text_row(3, &["T-1", "", "10", "OK", "2026-11-05"]),
            text_row(4, &["T-2", "", "10", "OK", ""]),
        );
        // A merged title is the report's look, not its data.
        let title = Book::one(&format!(
            "{rows}<mergeCells count=\"1\"><mergeCell ref=\"A1:E1\"/></mergeCells>"
        ));
        let p = profile("header_row = 2");
        assert_eq!(read(&p, &title.bytes()).unwrap().0.len(), 2);
        // The date written once for two rows: the second row's date is not there.
        let data = Book::one(&format!(
            "{rows}<mergeCells count=\"1\"><mergeCell ref=\"E3:E4\"/></mergeCells>"
        ));
        let e = read(&p, &data.bytes()).unwrap_err();
        assert!(
            e.contains("cells E3:E4 of sheet \"Report\" are merged over data rows"),
            "{e}"
        );
        // A merge over a column the profile does not read is left alone.
        let other = Book::one(&format!(
            "{rows}<mergeCells count=\"1\"><mergeCell ref=\"G3:G4\"/></mergeCells>"
        ));
        assert_eq!(read(&p, &other.bytes()).unwrap().0.len(), 2);
    }

    #[test]
    fn a_sheet_of_a_million_empty_rows_has_no_data_rows() {
        let mut rows = text_row(1, &HEADER);
        for r in 2..=1_048_576u32 {
            rows.push_str(&format!("<row r=\"{r}\"><c r=\"A{r}\" s=\"2\"/></row>"));
        }
        let bytes = Book::one(&rows).bytes();
        assert!(bytes.len() < 8 << 20, "{}", bytes.len());
        let (got, _) = read(&profile(""), &bytes).unwrap();
        assert!(got.is_empty());
    }

    #[test]
    fn a_zip_bomb_is_refused_before_it_is_inflated() {
        let mut rows = text_row(1, &HEADER);
        rows.push_str(&" ".repeat(64 << 20));
        let bomb = Book::one(&rows).bytes();
        let e = read(&profile(""), &bomb).unwrap_err();
        assert!(
            e.contains("part xl/worksheets/sheet1.xml inflates from") && e.contains("zip bomb"),
            "{e}"
        );
    }

    #[test]
    fn a_shared_strings_count_its_bytes_cannot_hold_is_refused() {
        let mut book = Book::one(&text_row(1, &HEADER));
        book.strings = vec!["T-1"];
        book.unique_count = Some(4_000_000_000);
        let e = read(&profile(""), &book.bytes()).unwrap_err();
        assert!(e.contains("declares 4000000000 strings in"), "{e}");
    }

    /// The scan reads in small chunks here: words and items cut by a chunk's end.
    #[test]
    fn the_scan_finds_words_across_chunks_and_long_items() {
        let mut buf = [0u8; 7];
        let xml = b"<sheetData/><mergeCells count=\"1\"><mergeCell ref=\"A1:B1\"/></mergeCells>";
        let scan = scan_part(&xml[..], "s", &mut buf).unwrap();
        assert!(scan.merged && scan.read == xml.len() as u64);
        let sst = b"<sst uniqueCount=\"123456\"><si><t>a</t></si></sst>";
        assert_eq!(scan_part(&sst[..], "s", &mut buf).unwrap().counts, 123_456);
        let mut long = b"<v>".to_vec();
        long.extend(std::iter::repeat_n(b'7', MAX_RECORD_BYTES + 1));
        long.extend_from_slice(b"</v>");
        let mut buf = [0u8; 4096];
        let e = scan_part(&long[..], "xl/worksheets/sheet1.xml", &mut buf).unwrap_err();
        assert!(e.contains("holds an XML item over 1024 KiB"), "{e}");
        long.truncate(MAX_RECORD_BYTES);
        long.extend_from_slice(b"</v>");
        assert!(scan_part(&long[..], "s", &mut buf).is_ok());
    }

    /// A part whose central directory says it is smaller than it inflates to.
    #[test]
    fn a_part_larger_than_it_declares_is_refused() {
        let rows = format!(
            "{}{}",
            text_row(1, &HEADER),
            text_row(2, &["T-1", "", "10", "OK", "2026-11-05"])
        );
        let mut bytes = Book::one(&rows).bytes();
        let name = b"xl/worksheets/sheet1.xml";
        // Central directory header: signature, then the uncompressed size at offset 24.
        let cd = memchr::memmem::rfind(&bytes, b"PK\x01\x02").unwrap();
        let mut at = cd;
        loop {
            let name_len = u16::from_le_bytes([bytes[at + 28], bytes[at + 29]]) as usize;
            if &bytes[at + 46..at + 46 + name_len] == name {
                break;
            }
            at = memchr::memmem::rfind(&bytes[..at], b"PK\x01\x02").unwrap();
        }
        bytes[at + 24..at + 28].copy_from_slice(&100u32.to_le_bytes());
        let e = read(&profile(""), &bytes).unwrap_err();
        assert!(e.contains("inflates to more than the 100 bytes"), "{e}");
    }

    fn fixture(name: &str) -> Vec<u8> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/profiles/calamine")
            .join(name);
        std::fs::read(p).unwrap()
    }

    /// calamine's own fixtures (written by LibreOffice): the same two dates in the 1900
    /// and the 1904 system, a duration, plain numbers.
    #[test]
    fn dates_of_real_workbooks_in_both_date_systems() {
        for file in ["date.xlsx", "date_1904.xlsx"] {
            let bytes = fixture(file);
            let mut book = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
            let is_1904 = book.has_1904_epoch();
            assert_eq!(is_1904, file == "date_1904.xlsx");
            let mut cells = book.worksheet_cells_reader("Sheet1").unwrap();
            let mut got = Vec::new();
            while let Some(cell) = cells.next_cell().unwrap() {
                let mut row = SheetRow::default();
                row.clear(1);
                put(&mut row, 0, cell.get_value(), is_1904);
                got.push((row.text[0].clone(), row.kind[0], row.serial[0].clone()));
            }
            let serial = |s: &str| {
                if is_1904 {
                    s.replace("44197", "42735").replace("44198", "42736")
                } else {
                    s.to_string()
                }
            };
            let want = [
                ("2021-01-01", Kind::Date, serial("44197")),
                ("15", Kind::Number, String::new()),
                ("2021-01-02", Kind::Date, serial("44198")),
                ("16", Kind::Number, String::new()),
                // A duration format ([hh]:mm:ss) is no date.
                ("10.6320601851852", Kind::Number, String::new()),
                ("17", Kind::Number, String::new()),
            ];
            let want: Vec<(String, Kind, String)> = want
                .into_iter()
                .map(|(t, k, s)| (t.to_string(), k, s))
                .collect();
            assert_eq!(got, want, "{file}");
        }
    }

    /// calamine's fixture of merged ranges: a header over two rows (A1:A2, …) and a data
    /// row with C3:D3 merged. The header's second row is empty and skipped; the merges
    /// cover no data cell the profile reads, so the rows are read.
    #[test]
    fn a_header_merged_over_two_rows_in_a_real_workbook() {
        let p = Profile::parse(
            "X",
            "files = [\"*.xlsx\"]\nformat = \"xlsx\"\n[columns]\nprovider_ref = \"A1\"\n\
             instruction_id = \"B1\"\namount = \"C1\"\ncurrency = \"E1\"\nstatus = \"F1\"\n\
             value_date = \"G1\"\naccount = \"H1\"\n",
        )
        .unwrap();
        let (rows, _) = read(&p, &fixture("merged_range.xlsx")).unwrap();
        assert_eq!(
            strings(&rows),
            [
                ["A3", "B3", "C3", "F3", "G3"],
                ["A4", "B4", "C4", "F4", "G4"]
            ]
        );
        let e = read(&p, &fixture("pass_protected.xlsx")).unwrap_err();
        assert!(e.contains("protected by a password"), "{e}");
    }

    #[test]
    fn not_a_workbook_and_a_missing_header() {
        let e = read(&profile(""), b"Ref;Amount\nT-1;10\n").unwrap_err();
        assert!(e.contains("not an XLSX workbook"), "{e}");
        let book = Book::one(&text_row(2, &["T-1", "", "10", "OK", "2026-11-05"]));
        let e = read(&profile(""), &book.bytes()).unwrap_err();
        assert!(
            e.contains("row 1 of sheet \"Report\" is empty or missing"),
            "{e}"
        );
        let book = Book::one(&text_row(1, &["Ref", "Payment", "Amt", "Status", "Date"]));
        let e = read(&profile(""), &book.bytes()).unwrap_err();
        assert!(
            e.contains("no column \"Amount\"") && e.contains("closest is \"Amt\""),
            "{e}"
        );
    }
}
