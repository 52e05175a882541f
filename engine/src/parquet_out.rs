//! Parquet output files, written a row group at a time.
//!
//! Text columns that the batches carry as dictionaries (`Dictionary(Int32, Utf8)`: status,
//! flags, currency, programme, cycle, provider, match method) are encoded here from their
//! keys: a dictionary page of the values the row group uses, in order of first use, and
//! data pages of indices in the RLE/bit-packing hybrid (a row group using more than
//! `MAX_CODED_VALUES` values goes through arrow-rs as plain text instead). arrow-rs would
//! hash and compare every row's text to rebuild a dictionary the engine already has (BENCHMARKS.md).
//! The file still declares these columns `Utf8`: readers see ordinary
//! dictionary-encoded text columns.
//!
//! Plain `Utf8` columns that the properties leave without dictionary and statistics (the
//! unique ids, accounts and references) are written here too, as PLAIN version 1 data
//! pages under the properties' page limits and LZ4_RAW (or no) compression, each value
//! copied once (`PlainText`). Every other column goes through arrow-rs's column writers.

use std::io::{Read, Write};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Schema};
use bytes::Bytes;
use parquet::arrow::arrow_writer::{
    compute_leaves, ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory,
};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, PageType, Type as PhysicalType};
use parquet::column::page::{CompressedPage, Page, PageWriter};
use parquet::column::writer::ColumnCloseResult;
use parquet::errors::{ParquetError, Result};
use parquet::file::metadata::{
    ColumnChunkMetaData, ColumnChunkMetaDataBuilder, OffsetIndexBuilder, PageEncodingStats,
};
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use parquet::file::reader::{ChunkReader, Length};
use parquet::file::writer::{SerializedFileWriter, SerializedPageWriter, TrackedWrite};
use parquet::schema::types::{ColumnDescPtr, ColumnPath};
use rayon::prelude::*;

/// Rows per data page of a coded column (at most 64K indices of a few bits each).
const DATA_PAGE_ROWS: usize = 1 << 16;

/// A row group's coded column with more distinct values than this is written as plain
/// text by arrow-rs instead (which then decides on its own dictionary).
pub const MAX_CODED_VALUES: usize = 1 << 16;

/// A Parquet file being written: `ArrowWriter`'s file writer and column writers, with
/// the coded and the unique text columns encoded here.
pub struct Writer<W: Write + Send> {
    file: SerializedFileWriter<W>,
    factory: ArrowRowGroupWriterFactory,
    schema: Arc<Schema>,
    /// Per column: how its plain text pages are made here, when they are.
    text: Vec<Option<TextPlan>>,
    rows_per_group: usize,
    group: Option<Group>,
    groups: usize,
}

/// The row group being filled: each column's writer and what it has been given.
struct Group {
    rows: usize,
    columns: Vec<(ArrowColumnWriter, Kind)>,
}

/// A finished column chunk of a row group.
enum Chunk {
    Arrow(ArrowColumnChunk),
    /// A coded or plain text column written here.
    Pages(Pieces, ColumnCloseResult),
}

/// What a column of a row group holds, settled by its first batch.
enum Kind {
    Unset,
    Plain,
    Coded(Coded),
    Text(PlainText),
}

impl<W: Write + Send> Writer<W> {
    /// A writer of `schema` (the file's schema: coded columns declared `Utf8`) with rows
    /// cut into row groups of `rows_per_group`.
    pub fn try_new(
        sink: W,
        schema: Arc<Schema>,
        props: WriterProperties,
        rows_per_group: usize,
    ) -> Result<Writer<W>> {
        let text = schema
            .fields()
            .iter()
            .map(|f| TextPlan::of(f.name(), f.data_type(), &props))
            .collect::<Vec<_>>();
        let (file, factory) =
            ArrowWriter::try_new(sink, schema.clone(), Some(props))?.into_serialized_writer()?;
        let descr = file.schema_descr();
        let text = text
            .into_iter()
            .enumerate()
            .map(|(c, plan)| plan.filter(|_| text_column(&descr.column(c))))
            .collect();
        Ok(Writer {
            file,
            factory,
            schema,
            text,
            rows_per_group: rows_per_group.max(1),
            group: None,
            groups: 0,
        })
    }

    /// Appends a batch whose columns follow the file's schema, each either of the
    /// field's type or, for a text field, `Dictionary(Int32, Utf8)` (null keys: null
    /// rows, in an optional field).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_columns() != self.schema.fields().len() {
            return Err(ParquetError::General(format!(
                "batch of {} columns for a file of {}",
                batch.num_columns(),
                self.schema.fields().len()
            )));
        }
        let mut off = 0;
        while off < batch.num_rows() {
            if self.group.is_none() {
                let columns = self
                    .factory
                    .create_column_writers(self.groups)?
                    .into_iter()
                    .map(|w| (w, Kind::Unset))
                    .collect::<Vec<_>>();
                if columns.len() != self.schema.fields().len() {
                    return Err(ParquetError::General(
                        "nested columns cannot be written here".into(),
                    ));
                }
                self.group = Some(Group { rows: 0, columns });
            }
            let group = self.group.as_mut().expect("made above");
            let len = (self.rows_per_group - group.rows).min(batch.num_rows() - off);
            let part = batch.slice(off, len);
            let descr = self.file.schema_descr();
            let schema = &self.schema;
            let text = &self.text;
            // Columns are encoded in parallel: the outputs are written side by side, and
            // this lets a thread whose output is done help with the other's columns.
            group.columns.par_iter_mut().enumerate().try_for_each(
                |(c, (writer, kind))| -> Result<()> {
                    let array = part.column(c);
                    let coded = matches!(array.data_type(), DataType::Dictionary(k, v)
                        if **k == DataType::Int32 && **v == DataType::Utf8);
                    if let Kind::Unset = kind {
                        *kind = if let (Some(plan), DataType::Utf8) = (&text[c], array.data_type())
                        {
                            Kind::Text(PlainText::new(*plan, descr.column(c).max_def_level() > 0))
                        } else if !coded {
                            Kind::Plain
                        } else if text_column(&descr.column(c)) {
                            Kind::Coded(Coded::new(descr.column(c).max_def_level() > 0))
                        } else {
                            return Err(ParquetError::General(format!(
                                "column {} is not a flat text column",
                                schema.field(c).name()
                            )));
                        };
                    }
                    match kind {
                        Kind::Plain if !coded => {
                            for leaf in compute_leaves(schema.field(c), array)? {
                                writer.write(&leaf)?;
                            }
                            Ok(())
                        }
                        Kind::Coded(codes) if coded => {
                            codes.push(array.as_dictionary::<Int32Type>())
                        }
                        Kind::Text(pages) if array.data_type() == &DataType::Utf8 => {
                            pages.push(array.as_string::<i32>())
                        }
                        _ => Err(ParquetError::General(format!(
                            "column {} changed between coded and plain within a row group",
                            schema.field(c).name()
                        ))),
                    }
                },
            )?;
            group.rows += len;
            off += len;
            if group.rows == self.rows_per_group {
                self.flush_group()?;
            }
        }
        Ok(())
    }

    fn flush_group(&mut self) -> Result<()> {
        let Some(group) = self.group.take() else {
            return Ok(());
        };
        let descr = self.file.schema_descr();
        let descrs: Vec<ColumnDescPtr> =
            (0..descr.num_columns()).map(|c| descr.column(c)).collect();
        let schema = &self.schema;
        // Each column chunk is finished in parallel, then appended in schema order.
        let chunks = group
            .columns
            .into_par_iter()
            .enumerate()
            .map(|(c, (mut writer, kind))| -> Result<Chunk> {
                match kind {
                    Kind::Coded(codes) if codes.local.len() <= MAX_CODED_VALUES => {
                        let (pieces, close) = codes.encode(descrs[c].clone())?;
                        Ok(Chunk::Pages(pieces, close))
                    }
                    Kind::Coded(codes) => {
                        let array: Arc<dyn Array> = Arc::new(codes.expand());
                        for leaf in compute_leaves(schema.field(c), &array)? {
                            writer.write(&leaf)?;
                        }
                        Ok(Chunk::Arrow(writer.close()?))
                    }
                    Kind::Text(pages) => {
                        let (pieces, close) = pages.finish(descrs[c].clone())?;
                        Ok(Chunk::Pages(pieces, close))
                    }
                    Kind::Unset | Kind::Plain => Ok(Chunk::Arrow(writer.close()?)),
                }
            })
            .collect::<Result<Vec<Chunk>>>()?;
        let mut rg = self.file.next_row_group()?;
        for chunk in chunks {
            match chunk {
                Chunk::Arrow(c) => c.append_to_row_group(&mut rg)?,
                Chunk::Pages(pieces, close) => rg.append_column(&pieces, close)?,
            }
        }
        rg.close()?;
        self.groups += 1;
        Ok(())
    }

    /// Row groups written to the sink so far.
    pub fn row_groups(&self) -> usize {
        self.groups
    }

    /// Writes the last row group and the footer; returns the sink.
    pub fn into_inner(mut self) -> Result<W> {
        self.flush_group()?;
        self.file.into_inner()
    }
}

/// Whether a Parquet column is a flat byte array, required or optional.
fn text_column(d: &ColumnDescPtr) -> bool {
    d.max_def_level() <= 1
        && d.max_rep_level() == 0
        && d.physical_type() == PhysicalType::BYTE_ARRAY
}

/// How a text column's pages are made here: plain values, no statistics, the properties'
/// page limits and compression.
#[derive(Clone, Copy)]
struct TextPlan {
    lz4: bool,
    page_rows: usize,
    page_bytes: usize,
}

impl TextPlan {
    /// The plan for a top-level `Utf8` field whose properties ask for what is done here
    /// (no dictionary, no statistics, LZ4_RAW or no compression, version 1 data pages);
    /// `None` leaves the column to arrow-rs.
    fn of(name: &str, data_type: &DataType, props: &WriterProperties) -> Option<TextPlan> {
        let col = ColumnPath::from(name);
        let lz4 = match props.compression(&col) {
            Compression::LZ4_RAW => true,
            Compression::UNCOMPRESSED => false,
            _ => return None,
        };
        (data_type == &DataType::Utf8
            && !props.dictionary_enabled(&col)
            && props.statistics_enabled(&col) == EnabledStatistics::None
            && props.writer_version() == WriterVersion::PARQUET_1_0)
            .then(|| TextPlan {
                lz4,
                page_rows: props.data_page_row_count_limit().max(1),
                page_bytes: props.data_page_size_limit().max(1),
            })
    }
}

/// A unique-valued text column of the row group being filled (ids, accounts,
/// references), written as PLAIN version 1 data pages as its batches arrive. arrow-rs
/// would gather the values, copy them again behind the levels and compress into a
/// zero-filled buffer per page; here each value is copied once into its page, a
/// required column's page is compressed where it was built, and the compressed bytes
/// are not copied before they go to the column chunk.
struct PlainText {
    plan: TextPlan,
    nullable: bool,
    /// The page being filled: each value's length (u32, little-endian) and bytes.
    values: Vec<u8>,
    /// The page's definition levels (optional columns): 1 for a value, 0 for a null.
    levels: Vec<u32>,
    /// Rows in the page being filled.
    rows: usize,
    /// The finished pages.
    pages: ChunkPages,
}

impl PlainText {
    fn new(plan: TextPlan, nullable: bool) -> PlainText {
        PlainText {
            plan,
            nullable,
            values: Vec::new(),
            levels: Vec::new(),
            rows: 0,
            pages: ChunkPages::new(),
        }
    }

    fn push(&mut self, a: &StringArray) -> Result<()> {
        if !self.nullable && a.null_count() > 0 {
            return Err(ParquetError::General(
                "a required text column holds nulls".into(),
            ));
        }
        let offsets = a.value_offsets();
        let data = a.value_data();
        let nulls = a.nulls().filter(|n| n.null_count() > 0);
        for i in 0..a.len() {
            if self.nullable {
                let valid = nulls.is_none_or(|n| n.is_valid(i));
                self.levels.push(valid as u32);
                if !valid {
                    self.end_row()?;
                    continue;
                }
            }
            let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
            self.values
                .extend_from_slice(&((end - start) as u32).to_le_bytes());
            self.values.extend_from_slice(&data[start..end]);
            self.end_row()?;
        }
        Ok(())
    }

    #[inline]
    fn end_row(&mut self) -> Result<()> {
        self.rows += 1;
        if self.rows >= self.plan.page_rows || self.values.len() >= self.plan.page_bytes {
            self.flush_page()?;
        }
        Ok(())
    }

    fn flush_page(&mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        // A version 1 page: the definition levels (length-prefixed RLE/bit-packed hybrid
        // of width 1) before the values, compressed together.
        let with_levels;
        let page: &[u8] = if self.nullable {
            let mut buf = Vec::with_capacity(self.values.len() + self.levels.len() / 8 + 16);
            def_levels(&self.levels, &mut buf);
            buf.extend_from_slice(&self.values);
            with_levels = buf;
            &with_levels
        } else {
            &self.values
        };
        let buf = if self.plan.lz4 {
            Bytes::from(lz4_flex::block::compress(page))
        } else {
            Bytes::copy_from_slice(page)
        };
        self.pages.write(
            Page::DataPage {
                buf,
                num_values: self.rows as u32,
                encoding: Encoding::PLAIN,
                def_level_encoding: Encoding::RLE,
                rep_level_encoding: Encoding::RLE,
                statistics: None,
            },
            page.len(),
        )?;
        self.rows = 0;
        self.values.clear();
        self.levels.clear();
        Ok(())
    }

    /// The column chunk's pages and metadata, offsets relative to the start of the pages.
    fn finish(mut self, descr: ColumnDescPtr) -> Result<(Pieces, ColumnCloseResult)> {
        self.flush_page()?;
        let (lz4, data_pages) = (self.plan.lz4, self.pages.data_pages);
        self.pages.close(descr, |m| {
            m.set_compression(if lz4 {
                Compression::LZ4_RAW
            } else {
                Compression::UNCOMPRESSED
            })
            .set_encodings(vec![Encoding::PLAIN, Encoding::RLE])
            .set_page_encoding_stats(vec![PageEncodingStats {
                page_type: PageType::DATA_PAGE,
                encoding: Encoding::PLAIN,
                count: data_pages,
            }])
        })
    }
}

/// The pages of a column chunk written here, and what its metadata needs: the pages
/// themselves (as [`Pieces`]: each page's buffer kept, not copied), the offset index,
/// the uncompressed size, the rows and the data pages.
struct ChunkPages {
    sink: TrackedWrite<Pieces>,
    offsets: OffsetIndexBuilder,
    uncompressed: u64,
    rows: u64,
    data_pages: i32,
    /// Where the first data page starts (after a dictionary page).
    data_offset: Option<u64>,
}

impl ChunkPages {
    fn new() -> ChunkPages {
        ChunkPages {
            sink: TrackedWrite::new(Pieces::default()),
            offsets: OffsetIndexBuilder::new(),
            uncompressed: 0,
            rows: 0,
            data_pages: 0,
            data_offset: None,
        }
    }

    /// Appends a page whose buffer is as it goes in the file (compressed or not) and was
    /// `uncompressed` bytes before; a data page enters the offset index.
    fn write(&mut self, page: Page, uncompressed: usize) -> Result<()> {
        let data_rows = match &page {
            Page::DataPage { num_values, .. } => Some(*num_values),
            _ => None,
        };
        self.sink.inner_mut().next = Some(page.buffer().clone());
        let spec = SerializedPageWriter::new(&mut self.sink)
            .write_page(CompressedPage::new(page, uncompressed))?;
        self.uncompressed += spec.uncompressed_size as u64;
        if let Some(rows) = data_rows {
            self.data_offset.get_or_insert(spec.offset);
            self.offsets
                .append_offset_and_size(spec.offset as i64, spec.compressed_size as i32);
            self.offsets.append_row_count(rows as i64);
            self.rows += rows as u64;
            self.data_pages += 1;
        }
        Ok(())
    }

    /// The pages and the chunk's close result; `metadata` adds what is particular to the
    /// column (compression, encodings, page statistics, a dictionary page's offset) to a
    /// builder holding the sizes, the row count and the first data page's offset.
    fn close(
        self,
        descr: ColumnDescPtr,
        metadata: impl FnOnce(ColumnChunkMetaDataBuilder) -> ColumnChunkMetaDataBuilder,
    ) -> Result<(Pieces, ColumnCloseResult)> {
        let mut pieces = self.sink.into_inner()?;
        pieces.seal();
        let compressed = pieces.len;
        let metadata = metadata(
            ColumnChunkMetaData::builder(descr)
                .set_total_compressed_size(compressed as i64)
                .set_total_uncompressed_size(self.uncompressed as i64)
                .set_num_values(self.rows as i64)
                .set_data_page_offset(self.data_offset.unwrap_or(0) as i64),
        )
        .build()?;
        let close = ColumnCloseResult {
            bytes_written: compressed,
            rows_written: self.rows,
            metadata,
            bloom_filter: None,
            column_index: None,
            offset_index: Some(self.offsets.build()),
        };
        Ok((pieces, close))
    }
}

/// A coded column of the row group being filled.
#[derive(Default)]
struct Coded {
    /// An optional column: its definition levels go before the indices.
    nullable: bool,
    /// Per row (optional columns): 1 for a value, 0 for a null.
    levels: Vec<u32>,
    /// The dictionary the batches' keys point into (the same array in every batch).
    dict: Option<StringArray>,
    /// For each key of `dict`, its index in this row group's dictionary page.
    local_of: Vec<u32>,
    /// The keys of `dict` in the row group's dictionary page, in order of first use.
    local: Vec<u32>,
    /// One index into `local` per row with a value.
    indices: Vec<u32>,
}

impl Coded {
    fn new(nullable: bool) -> Coded {
        Coded {
            nullable,
            ..Coded::default()
        }
    }

    fn push(&mut self, a: &arrow_array::DictionaryArray<Int32Type>) -> Result<()> {
        let values = a.values().as_string::<i32>();
        match &self.dict {
            None => {
                self.local_of = vec![u32::MAX; values.len()];
                self.dict = Some(values.clone());
            }
            Some(d) if d.to_data().ptr_eq(&values.to_data()) => {}
            Some(_) => {
                return Err(ParquetError::General(
                    "the batches of a coded column changed dictionary".into(),
                ))
            }
        }
        let nulls = a.keys().nulls().filter(|n| n.null_count() > 0);
        if nulls.is_some() && !self.nullable {
            return Err(ParquetError::General(
                "a required coded column holds nulls".into(),
            ));
        }
        self.indices.reserve(a.len());
        for (i, &k) in a.keys().values().iter().enumerate() {
            if self.nullable {
                let valid = nulls.is_none_or(|n| n.is_valid(i));
                self.levels.push(valid as u32);
                if !valid {
                    continue;
                }
            }
            let slot = self
                .local_of
                .get_mut(k as usize)
                .ok_or_else(|| ParquetError::General(format!("dictionary key {k} out of range")))?;
            if *slot == u32::MAX {
                *slot = self.local.len() as u32;
                self.local.push(k as u32);
            }
            self.indices.push(*slot);
        }
        Ok(())
    }

    /// The rows as plain text (the fallback for a row group with too many values).
    fn expand(&self) -> StringArray {
        let dict = self.dict.as_ref().expect("a coded column has a dictionary");
        let mut values = self
            .indices
            .iter()
            .map(|&i| dict.value(self.local[i as usize] as usize));
        if !self.nullable {
            return StringArray::from_iter_values(values);
        }
        self.levels
            .iter()
            .map(|&l| if l == 1 { values.next() } else { None })
            .collect()
    }

    /// The column chunk's pages (dictionary page first) and its metadata, offsets
    /// relative to the start of the pages.
    fn encode(self, descr: ColumnDescPtr) -> Result<(Pieces, ColumnCloseResult)> {
        let dict = self.dict.as_ref().expect("a coded column has a dictionary");
        let mut pages = ChunkPages::new();
        let mut plain = Vec::new();
        for &k in &self.local {
            let v = dict.value(k as usize).as_bytes();
            plain.extend_from_slice(&(v.len() as u32).to_le_bytes());
            plain.extend_from_slice(v);
        }
        let len = plain.len();
        pages.write(
            Page::DictionaryPage {
                buf: Bytes::from(plain),
                num_values: self.local.len() as u32,
                encoding: Encoding::PLAIN,
                is_sorted: false,
            },
            len,
        )?;
        let width = bit_width(self.local.len().saturating_sub(1) as u32);
        let rows = if self.nullable {
            self.levels.len()
        } else {
            self.indices.len()
        };
        let mut next = 0;
        for start in (0..rows).step_by(DATA_PAGE_ROWS) {
            let end = (start + DATA_PAGE_ROWS).min(rows);
            let mut buf = Vec::with_capacity(1 + (end - start) * (width as usize + 1) / 8 + 64);
            // A version 1 page: an optional column's definition levels (length-prefixed
            // RLE/bit-packed hybrid of width 1), then the indices of the rows with a value.
            let values = if self.nullable {
                let levels = &self.levels[start..end];
                def_levels(levels, &mut buf);
                levels.iter().filter(|&&l| l == 1).count()
            } else {
                end - start
            };
            buf.push(width);
            hybrid(&self.indices[next..next + values], width, &mut buf);
            next += values;
            let len = buf.len();
            pages.write(
                Page::DataPage {
                    buf: Bytes::from(buf),
                    num_values: (end - start) as u32,
                    encoding: Encoding::RLE_DICTIONARY,
                    def_level_encoding: Encoding::RLE,
                    rep_level_encoding: Encoding::RLE,
                    statistics: None,
                },
                len,
            )?;
        }
        let data_pages = pages.data_pages;
        pages.close(descr, |m| {
            m.set_compression(Compression::UNCOMPRESSED)
                .set_encodings(vec![
                    Encoding::PLAIN,
                    Encoding::RLE,
                    Encoding::RLE_DICTIONARY,
                ])
                .set_page_encoding_stats(vec![
                    PageEncodingStats {
                        page_type: PageType::DICTIONARY_PAGE,
                        encoding: Encoding::PLAIN,
                        count: 1,
                    },
                    PageEncodingStats {
                        page_type: PageType::DATA_PAGE,
                        encoding: Encoding::RLE_DICTIONARY,
                        count: data_pages,
                    },
                ])
                .set_dictionary_page_offset(Some(0))
        })
    }
}

/// A column chunk's bytes as the buffers they were made in: a page's compressed bytes are
/// kept as they are (the page writer hands them over in one write, recognised by address)
/// and the headers between them gathered into small buffers of their own.
#[derive(Default)]
struct Pieces {
    parts: Vec<Bytes>,
    /// Bytes written since the last kept page.
    small: Vec<u8>,
    /// The page data about to be written.
    next: Option<Bytes>,
    len: u64,
}

impl Pieces {
    fn seal(&mut self) {
        if !self.small.is_empty() {
            self.parts
                .push(Bytes::from(std::mem::take(&mut self.small)));
        }
    }
}

impl Write for Pieces {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.next.take() {
            Some(page) if page.as_ptr() == buf.as_ptr() && page.len() == buf.len() => {
                self.seal();
                self.parts.push(page);
            }
            next => {
                self.next = next;
                self.small.extend_from_slice(buf);
            }
        }
        self.len += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Length for Pieces {
    fn len(&self) -> u64 {
        self.len
    }
}

impl ChunkReader for Pieces {
    type T = PiecesRead;

    fn get_read(&self, start: u64) -> Result<PiecesRead> {
        let mut read = PiecesRead {
            parts: self.parts.clone().into_iter(),
            current: Bytes::new(),
        };
        std::io::copy(&mut (&mut read).take(start), &mut std::io::sink())?;
        Ok(read)
    }

    fn get_bytes(&self, start: u64, length: usize) -> Result<Bytes> {
        let mut out = Vec::with_capacity(length);
        self.get_read(start)?
            .take(length as u64)
            .read_to_end(&mut out)?;
        if out.len() != length {
            return Err(ParquetError::EOF(format!(
                "{length} bytes at {start} of a column chunk of {}",
                self.len
            )));
        }
        Ok(Bytes::from(out))
    }
}

/// Reads [`Pieces`] front to back.
struct PiecesRead {
    parts: std::vec::IntoIter<Bytes>,
    current: Bytes,
}

impl Read for PiecesRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.parts.next() {
                Some(p) => self.current = p,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        bytes::Buf::advance(&mut self.current, n);
        Ok(n)
    }
}

/// Bits per index for a dictionary whose largest index is `max` (at least 1: some
/// readers mishandle a width of 0).
fn bit_width(max: u32) -> u8 {
    (32 - max.leading_zeros()).max(1) as u8
}

/// A version 1 page's definition levels (1: a value, 0: a null): their length, then the
/// RLE/bit-packed hybrid of width 1.
fn def_levels(levels: &[u32], out: &mut Vec<u8>) {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    hybrid(levels, 1, out);
    let len = (out.len() - at - 4) as u32;
    out[at..at + 4].copy_from_slice(&len.to_le_bytes());
}

/// Repeats shorter than this go into bit-packed runs.
const MIN_REPEAT: usize = 16;

/// Appends `values` in Parquet's RLE/bit-packing hybrid: repeats of at least
/// `MIN_REPEAT` equal values as RLE runs, everything else bit-packed (settlement files
/// come sorted by provider, and most instructions are PAID with no flags).
fn hybrid(values: &[u32], width: u8, out: &mut Vec<u8>) {
    let mut packed_from = 0;
    let mut i = 0;
    while i < values.len() {
        let v = values[i];
        let end = values[i..]
            .iter()
            .position(|&x| x != v)
            .map_or(values.len(), |p| i + p);
        // A bit-packed run holds whole groups of 8: the repeat gives up its first values
        // to fill the group before it.
        let fill = (8 - (i - packed_from) % 8) % 8;
        if end - i >= MIN_REPEAT + fill {
            bit_pack(&values[packed_from..i + fill], width, out);
            let n = end - i - fill;
            put_uleb((n as u64) << 1, out);
            out.extend_from_slice(&v.to_le_bytes()[..(width as usize).div_ceil(8)]);
            packed_from = end;
        }
        i = end;
    }
    bit_pack(&values[packed_from..], width, out);
}

/// Unsigned LEB128, the varint of run headers.
fn put_uleb(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Appends `values` as bit-packed runs of at most 63 groups of 8 (a one-byte run header,
/// as parquet-mr writes them); the last group is padded with zeros, which readers skip
/// by the page's value count (so only a page's last run may end part-way in a group).
fn bit_pack(values: &[u32], width: u8, out: &mut Vec<u8>) {
    let w = width as usize;
    for run in values.chunks(63 * 8) {
        let groups = run.len().div_ceil(8);
        out.push(((groups << 1) | 1) as u8);
        for g in 0..groups {
            let mut group = [0u32; 8];
            let n = (run.len() - g * 8).min(8);
            group[..n].copy_from_slice(&run[g * 8..g * 8 + n]);
            if w <= 16 {
                let mut acc: u128 = 0;
                for (k, &v) in group.iter().enumerate() {
                    acc |= (v as u128) << (k * w);
                }
                out.extend_from_slice(&acc.to_le_bytes()[..w]);
            } else {
                let mut acc: u64 = 0;
                let mut bits = 0;
                for &v in &group {
                    acc |= (v as u64) << bits;
                    bits += w;
                    while bits >= 8 {
                        out.push(acc as u8);
                        acc >>= 8;
                        bits -= 8;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{DictionaryArray, Int32Array, Int64Array};
    use arrow_schema::Field;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    fn coded(keys: Vec<Option<i32>>, values: &StringArray) -> Arc<dyn Array> {
        Arc::new(
            DictionaryArray::<Int32Type>::try_new(Int32Array::from(keys), Arc::new(values.clone()))
                .unwrap(),
        )
    }

    fn read_back(bytes: Vec<u8>) -> (Vec<Option<String>>, Vec<i64>, usize) {
        let r = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(bytes)).unwrap();
        let groups = r.metadata().num_row_groups();
        let mut text = Vec::new();
        let mut num = Vec::new();
        for b in r.build().unwrap() {
            let b = b.unwrap();
            let t = b.column(0).as_string::<i32>();
            text.extend(t.iter().map(|v| v.map(str::to_string)));
            num.extend(
                b.column(1)
                    .as_primitive::<arrow_array::types::Int64Type>()
                    .values(),
            );
        }
        (text, num, groups)
    }

    /// Writes `rows` rows whose text is the `key(i)`-th of `values`, coded, in batches
    /// of `batch` rows; `nullable`: an optional column, null where [`null_row`].
    fn write(
        rows: usize,
        batch: usize,
        per_group: usize,
        values: &StringArray,
        nullable: bool,
    ) -> Vec<u8> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("t", DataType::Utf8, nullable),
            Field::new("n", DataType::Int64, false),
        ]));
        let mut w = Writer::try_new(
            Vec::new(),
            schema.clone(),
            WriterProperties::builder()
                .set_compression(Compression::LZ4_RAW)
                .build(),
            per_group,
        )
        .unwrap();
        let mut off = 0;
        while off < rows {
            let n = batch.min(rows - off);
            let keys: Vec<Option<i32>> = (off..off + n)
                .map(|i| (!(nullable && null_row(i))).then(|| key(i, values.len())))
                .collect();
            let b = RecordBatch::try_new(
                Arc::new(Schema::new(vec![
                    Field::new(
                        "t",
                        DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                        nullable,
                    ),
                    Field::new("n", DataType::Int64, false),
                ])),
                vec![
                    coded(keys, values),
                    Arc::new(Int64Array::from_iter_values(
                        (off..off + n).map(|i| i as i64),
                    )),
                ],
            )
            .unwrap();
            w.write(&b).unwrap();
            off += n;
        }
        w.into_inner().unwrap()
    }

    /// The null rows of an optional coded column: every fifth, a run of 1,000 (whole
    /// pages of some row groups), and the first four (a whole row group of the smallest
    /// case: a chunk without a value).
    fn null_row(i: usize) -> bool {
        i % 5 == 2 || (300..1300).contains(&i) || i < 4
    }

    /// Row i's key among n values: runs of equal keys of every length from 1 to 63
    /// (to exercise the repeat runs and the groups they borrow from) when n is odd,
    /// scattered keys when it is even.
    fn key(i: usize, n: usize) -> i32 {
        if n % 2 == 1 {
            let mut start = 0;
            let mut len = 1;
            let mut run = 0;
            while start + len <= i {
                start += len;
                run += 1;
                len = run % 63 + 1;
            }
            (run * 7 % n) as i32
        } else {
            ((i * 7919 + i / 3) % n) as i32
        }
    }

    #[test]
    fn coded_columns_read_back_as_their_text() {
        for &(distinct, rows, batch, per_group) in &[
            (1, 10, 3, 4),
            (1, 100_000, 65_536, 100_000),
            (2, 1000, 64, 100),
            (5, 70_000, 6_000, 65_537),
            (3, 200_000, 7_000, 150_000),
            (300, 5_000, 999, 1_024),
            (301, 20_000, 999, 8_192),
            (70_000, 140_000, 50_000, 140_000),
        ] {
            let values = StringArray::from_iter_values((0..distinct).map(|v| format!("v{v}")));
            for nullable in [false, true] {
                let bytes = write(rows, batch, per_group, &values, nullable);
                let (text, num, groups) = read_back(bytes);
                assert_eq!(groups, rows.div_ceil(per_group), "{distinct} values");
                assert_eq!(text.len(), rows);
                for (i, t) in text.iter().enumerate() {
                    let want = (!(nullable && null_row(i)))
                        .then(|| values.value(key(i, distinct) as usize));
                    assert_eq!(
                        t.as_deref(),
                        want,
                        "row {i} of {rows} ({distinct} values, nullable {nullable})"
                    );
                    assert_eq!(num[i], i as i64);
                }
            }
        }
    }

    #[test]
    fn a_row_group_of_coded_columns_is_wholly_dictionary_encoded() {
        let values = StringArray::from(vec!["PAID", "UNPAID", "PARTIAL"]);
        let bytes = write(200_000, 65_536, 100_000, &values, true);
        let r = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(bytes)).unwrap();
        for g in r.metadata().row_groups() {
            let m = g.column(0);
            assert!(m.dictionary_page_offset().is_some());
            assert!(m
                .page_encoding_stats_mask()
                .is_some_and(|mask| mask.is_only(Encoding::RLE_DICTIONARY)));
        }
    }

    /// Row i's text in the unique-text test: lengths from 0 to 300 bytes, some non-ASCII;
    /// `None` (a null, in the optional column) on every 7th row and on a run of 500.
    fn text_value(i: usize, optional: bool) -> Option<String> {
        if optional && (i % 7 == 3 || (1000..1500).contains(&i)) {
            return None;
        }
        let len = (i * 37) % 301;
        Some(format!("{i}-ключ-").chars().cycle().take(len).collect())
    }

    #[test]
    fn unique_text_columns_read_back_page_by_page() {
        for (compression, page_rows, page_bytes, rows, batch, per_group) in [
            (Compression::LZ4_RAW, 100, 1 << 20, 5_000, 999, 2_048),
            (
                Compression::UNCOMPRESSED,
                20_000,
                4_096,
                3_000,
                3_000,
                3_000,
            ),
            (Compression::LZ4_RAW, 1, 1 << 20, 300, 7, 64),
        ] {
            let schema = Arc::new(Schema::new(vec![
                Field::new("id", DataType::Utf8, false),
                Field::new("opt", DataType::Utf8, true),
            ]));
            let mut props = WriterProperties::builder()
                .set_compression(compression)
                .set_data_page_row_count_limit(page_rows)
                .set_data_page_size_limit(page_bytes);
            for c in ["id", "opt"] {
                props = props
                    .set_column_dictionary_enabled(ColumnPath::from(c), false)
                    .set_column_statistics_enabled(ColumnPath::from(c), EnabledStatistics::None);
            }
            let mut w =
                Writer::try_new(Vec::new(), schema.clone(), props.build(), per_group).unwrap();
            assert!(
                w.text.iter().all(Option::is_some),
                "both columns written here"
            );
            let mut off = 0;
            while off < rows {
                let n = batch.min(rows - off);
                let col = |optional: bool| -> Arc<dyn Array> {
                    Arc::new(StringArray::from_iter(
                        (off..off + n).map(|i| text_value(i, optional)),
                    ))
                };
                let b = RecordBatch::try_new(schema.clone(), vec![col(false), col(true)]).unwrap();
                // A slice, so that the arrays' offsets do not start at 0.
                let b = if n > 2 {
                    w.write(&b.slice(0, 1)).unwrap();
                    b.slice(1, n - 1)
                } else {
                    b
                };
                w.write(&b).unwrap();
                off += n;
            }
            let bytes = Bytes::from(w.into_inner().unwrap());
            let r = ParquetRecordBatchReaderBuilder::try_new(bytes.clone()).unwrap();
            let meta = r.metadata().clone();
            assert_eq!(meta.num_row_groups(), rows.div_ceil(per_group));
            for g in meta.row_groups() {
                for c in g.columns() {
                    assert_eq!(c.compression(), compression);
                    assert!(c.dictionary_page_offset().is_none());
                }
            }
            let mut got: Vec<(Option<String>, Option<String>)> = Vec::new();
            for b in r.build().unwrap() {
                let b = b.unwrap();
                let (id, opt) = (
                    b.column(0).as_string::<i32>(),
                    b.column(1).as_string::<i32>(),
                );
                assert_eq!(id.null_count(), 0);
                for i in 0..b.num_rows() {
                    got.push((
                        id.is_valid(i).then(|| id.value(i).to_string()),
                        opt.is_valid(i).then(|| opt.value(i).to_string()),
                    ));
                }
            }
            assert_eq!(got.len(), rows);
            for (i, (id, opt)) in got.into_iter().enumerate() {
                assert_eq!(id, text_value(i, false), "id of row {i}");
                assert_eq!(opt, text_value(i, true), "opt of row {i}");
            }
            // Every page holds at most `page_rows` rows, and its values once it has
            // reached `page_bytes` (the page ends at that row).
            use parquet::file::reader::{FileReader, SerializedFileReader};
            let file = SerializedFileReader::new(bytes).unwrap();
            for g in 0..file.num_row_groups() {
                let group = file.get_row_group(g).unwrap();
                for c in 0..2 {
                    let (mut total, mut pages) = (0, 0);
                    for page in group.get_column_page_reader(c).unwrap() {
                        let page = page.unwrap();
                        assert!(page.num_values() as usize <= page_rows);
                        assert_eq!(page.encoding(), Encoding::PLAIN);
                        total += page.num_values() as i64;
                        pages += 1;
                    }
                    let group_rows = file.metadata().row_group(g).num_rows();
                    assert_eq!(total, group_rows);
                    if page_bytes == 4_096 {
                        // ~150 bytes a value: a page every ~27 rows.
                        assert!(
                            pages >= group_rows / 40,
                            "{pages} pages of {group_rows} rows"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn bit_packing_matches_the_spec_example() {
        // Parquet's encoding spec: 0..=7 at width 3 packs to 0x88 0xC6 0xFA.
        let mut out = Vec::new();
        bit_pack(&[0, 1, 2, 3, 4, 5, 6, 7], 3, &mut out);
        assert_eq!(out, [0x03, 0x88, 0xC6, 0xFA]);
        // A repeat of 20 after 3 values: 5 of it fill the first group, 15 stay a repeat
        // (too short); after 8 values it is a run of 20.
        let mut out = Vec::new();
        let v: Vec<u32> = [1, 2, 3].into_iter().chain([5; 20]).collect();
        hybrid(&v, 3, &mut out);
        assert_eq!(out[0], (3 << 1) | 1, "one bit-packed run of 3 groups");
        let mut out = Vec::new();
        let v: Vec<u32> = (0..8).chain([5; 20]).collect();
        hybrid(&v, 3, &mut out);
        assert_eq!(out, [0x03, 0x88, 0xC6, 0xFA, 20 << 1, 5]);
        let mut wide = Vec::new();
        bit_pack(&[1, 2], 17, &mut wide);
        assert_eq!(wide.len(), 1 + 17);
        assert_eq!(&wide[1..4], &[1, 0, 4]);
    }
}
