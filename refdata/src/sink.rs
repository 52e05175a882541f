//! Writing tables: column buffers filled on the generator thread, encoded and written on
//! one writer thread (Parquet, Arrow IPC file or CSV), so generation and encoding overlap
//! on two cores. Provider files (camt, pain.002, MT940) are documents: the generator
//! thread hands over whole statements ([`Chunk`]) and the writer thread formats them.
//!
//! Only this module and `generate` touch files. Batches have a fixed number of rows, so
//! the bytes of every file depend on the rows alone, never on timing. Memory is bounded
//! by [`BATCH_ROWS`] per open table, [`CHANNEL_BATCHES`] batches in flight and one Parquet
//! row group ([`ROW_GROUP_ROWS`]) per open Parquet writer.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use arrow_array::builder::{Int64Builder, StringBuilder};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::error::RefdataError;
use crate::render::RowText;
use crate::statement::Chunk;

/// Rows per record batch handed to a writer.
pub(crate) const BATCH_ROWS: usize = 32 * 1024;
/// Batches queued between the generator and the writer thread.
const CHANNEL_BATCHES: usize = 8;
/// Rows per Parquet row group.
const ROW_GROUP_ROWS: usize = 256 * 1024;
/// Output buffer per open file.
const FILE_BUFFER: usize = 256 * 1024;

/// How a table is encoded.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Encoding {
    Parquet,
    Arrow,
    Csv { crlf: bool, bom: bool },
}

/// A table to open: where, what columns, how, and which columns are low-cardinality
/// (dictionary-encoded in Parquet).
pub(crate) struct TableSpec {
    pub path: PathBuf,
    pub schema: SchemaRef,
    pub encoding: Encoding,
    pub dictionary: Vec<&'static str>,
}

/// An all-text schema with nullable columns.
pub(crate) fn text_schema(columns: &[&str]) -> SchemaRef {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| Field::new(*c, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ))
}

/// Identifies an open table on the writer thread.
pub(crate) type TableId = usize;

enum Msg {
    Open(TableId, TableSpec),
    OpenDoc(TableId, Box<dyn DocWriter>),
    Batch(TableId, RecordBatch, Vec<(usize, String)>),
    Chunk(TableId, Chunk),
    Close(TableId),
}

/// A provider file being written on the writer thread, one statement at a time.
pub(crate) trait DocWriter: Send {
    /// Creates the file and writes the document's start.
    fn begin(&mut self) -> Result<(), RefdataError>;
    fn statement(&mut self, c: Chunk) -> Result<(), RefdataError>;
    /// Writes the document's end and closes the file.
    fn finish(self: Box<Self>) -> Result<Written, RefdataError>;
}

/// An open output file on the writer thread.
enum Open {
    Table(Box<dyn TableWriter>),
    Doc(Box<dyn DocWriter>),
}

/// Size of a closed file.
#[derive(Clone, Debug)]
pub(crate) struct Written {
    pub bytes: u64,
}

/// The writer thread and its queue.
pub(crate) struct Writer {
    tx: Option<SyncSender<Msg>>,
    handle: Option<JoinHandle<Result<Vec<Written>, RefdataError>>>,
}

impl Writer {
    pub(crate) fn spawn() -> Result<Writer, RefdataError> {
        let (tx, rx) = sync_channel(CHANNEL_BATCHES);
        let handle = std::thread::Builder::new()
            .name("refdata-writer".into())
            .spawn(move || writer_loop(rx))
            .map_err(|e| RefdataError::internal(format!("cannot start the writer thread: {e}")))?;
        Ok(Writer {
            tx: Some(tx),
            handle: Some(handle),
        })
    }

    fn send(&mut self, msg: Msg) -> Result<(), RefdataError> {
        let tx = self
            .tx
            .as_ref()
            .ok_or_else(|| RefdataError::internal("writer already finished"))?;
        if tx.send(msg).is_err() {
            // The thread stopped on an error: report that error.
            return Err(match self.join() {
                Err(e) => e,
                Ok(_) => RefdataError::internal("the writer thread stopped early"),
            });
        }
        Ok(())
    }

    pub(crate) fn open(&mut self, id: TableId, spec: TableSpec) -> Result<(), RefdataError> {
        self.send(Msg::Open(id, spec))
    }

    pub(crate) fn open_doc(
        &mut self,
        id: TableId,
        doc: Box<dyn DocWriter>,
    ) -> Result<(), RefdataError> {
        self.send(Msg::OpenDoc(id, doc))
    }

    pub(crate) fn chunk(&mut self, id: TableId, c: Chunk) -> Result<(), RefdataError> {
        self.send(Msg::Chunk(id, c))
    }

    pub(crate) fn batch(
        &mut self,
        id: TableId,
        b: RecordBatch,
        raw: Vec<(usize, String)>,
    ) -> Result<(), RefdataError> {
        self.send(Msg::Batch(id, b, raw))
    }

    pub(crate) fn close(&mut self, id: TableId) -> Result<(), RefdataError> {
        self.send(Msg::Close(id))
    }

    fn join(&mut self) -> Result<Vec<Written>, RefdataError> {
        self.tx = None;
        match self.handle.take() {
            Some(h) => h
                .join()
                .map_err(|_| RefdataError::internal("the writer thread panicked"))?,
            None => Err(RefdataError::internal("writer already joined")),
        }
    }

    /// Waits for every queued batch to be written; returns the closed files.
    pub(crate) fn finish(mut self) -> Result<Vec<Written>, RefdataError> {
        self.join()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn writer_loop(rx: Receiver<Msg>) -> Result<Vec<Written>, RefdataError> {
    let mut open: Vec<Option<Open>> = Vec::new();
    let mut done = Vec::new();
    let missing = |what: &str, id: TableId| {
        RefdataError::internal(format!("{what} for table {id}, which is not open"))
    };
    for msg in rx {
        match msg {
            Msg::Open(id, spec) => put(&mut open, id, Open::Table(open_table(spec)?)),
            Msg::OpenDoc(id, mut doc) => {
                doc.begin()?;
                put(&mut open, id, Open::Doc(doc));
            }
            Msg::Batch(id, b, raw) => match open.get_mut(id) {
                Some(Some(Open::Table(w))) => w.write(&b, &raw)?,
                _ => return Err(missing("batch", id)),
            },
            Msg::Chunk(id, c) => match open.get_mut(id) {
                Some(Some(Open::Doc(d))) => d.statement(c)?,
                _ => return Err(missing("statement", id)),
            },
            Msg::Close(id) => match open.get_mut(id).and_then(Option::take) {
                Some(Open::Table(w)) => done.push(w.close()?),
                Some(Open::Doc(d)) => done.push(d.finish()?),
                None => return Err(missing("close", id)),
            },
        }
    }
    if let Some(id) = open.iter().position(Option::is_some) {
        return Err(RefdataError::internal(format!(
            "table {id} was never closed"
        )));
    }
    Ok(done)
}

fn put(open: &mut Vec<Option<Open>>, id: TableId, o: Open) {
    if open.len() <= id {
        open.resize_with(id + 1, || None);
    }
    open[id] = Some(o);
}

/// An open output file of one table.
pub(crate) trait TableWriter: Send {
    fn write(&mut self, b: &RecordBatch, raw: &[(usize, String)]) -> Result<(), RefdataError>;
    fn close(self: Box<Self>) -> Result<Written, RefdataError>;
}

pub(crate) fn create(path: &Path) -> Result<BufWriter<File>, RefdataError> {
    let f = File::create(path).map_err(|e| RefdataError::io(path, e))?;
    Ok(BufWriter::with_capacity(FILE_BUFFER, f))
}

pub(crate) fn finish_file(path: PathBuf, mut w: BufWriter<File>) -> Result<Written, RefdataError> {
    w.flush().map_err(|e| RefdataError::io(&path, e))?;
    let bytes = w
        .get_ref()
        .metadata()
        .map_err(|e| RefdataError::io(&path, e))?
        .len();
    Ok(Written { bytes })
}

/// Creates the file of `spec` and writes its header.
pub(crate) fn open_table(spec: TableSpec) -> Result<Box<dyn TableWriter>, RefdataError> {
    let out = create(&spec.path)?;
    Ok(match spec.encoding {
        Encoding::Parquet => {
            let mut props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(
                    ZstdLevel::try_new(1).expect("level 1 is valid"),
                ))
                .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
                .set_statistics_enabled(EnabledStatistics::Chunk)
                .set_dictionary_enabled(false);
            for c in &spec.dictionary {
                props = props.set_column_dictionary_enabled(ColumnPath::from(*c), true);
            }
            let w = ArrowWriter::try_new(out, spec.schema.clone(), Some(props.build()))
                .map_err(|e| RefdataError::internal(format!("{}: {e}", spec.path.display())))?;
            Box::new(ParquetTable { path: spec.path, w })
        }
        Encoding::Arrow => {
            let w = arrow_ipc::writer::FileWriter::try_new(out, &spec.schema)
                .map_err(|e| RefdataError::internal(format!("{}: {e}", spec.path.display())))?;
            Box::new(ArrowTable { path: spec.path, w })
        }
        Encoding::Csv { crlf, bom } => {
            let mut t = CsvTable {
                path: spec.path,
                w: out,
                eol: if crlf { "\r\n" } else { "\n" },
                line: String::new(),
            };
            if bom {
                t.put("\u{feff}")?;
            }
            for (i, f) in spec.schema.fields().iter().enumerate() {
                if i > 0 {
                    t.line.push(',');
                }
                push_csv_field(&mut t.line, f.name());
            }
            t.line.push_str(t.eol);
            t.flush_line()?;
            Box::new(t)
        }
    })
}

struct ParquetTable {
    path: PathBuf,
    w: ArrowWriter<BufWriter<File>>,
}

impl TableWriter for ParquetTable {
    fn write(&mut self, b: &RecordBatch, _raw: &[(usize, String)]) -> Result<(), RefdataError> {
        self.w
            .write(b)
            .map_err(|e| RefdataError::internal(format!("{}: {e}", self.path.display())))
    }

    fn close(self: Box<Self>) -> Result<Written, RefdataError> {
        let ParquetTable { path, w } = *self;
        let out = w
            .into_inner()
            .map_err(|e| RefdataError::internal(format!("{}: {e}", path.display())))?;
        finish_file(path, out)
    }
}

struct ArrowTable {
    path: PathBuf,
    w: arrow_ipc::writer::FileWriter<BufWriter<File>>,
}

impl TableWriter for ArrowTable {
    fn write(&mut self, b: &RecordBatch, _raw: &[(usize, String)]) -> Result<(), RefdataError> {
        self.w
            .write(b)
            .map_err(|e| RefdataError::internal(format!("{}: {e}", self.path.display())))
    }

    fn close(self: Box<Self>) -> Result<Written, RefdataError> {
        let ArrowTable { path, mut w } = *self;
        w.finish()
            .map_err(|e| RefdataError::internal(format!("{}: {e}", path.display())))?;
        let out = w
            .into_inner()
            .map_err(|e| RefdataError::internal(format!("{}: {e}", path.display())))?;
        finish_file(path, out)
    }
}

struct CsvTable {
    path: PathBuf,
    w: BufWriter<File>,
    eol: &'static str,
    line: String,
}

/// RFC 4180: quote a field holding a comma, quote or line break; double inner quotes.
fn push_csv_field(line: &mut String, v: &str) {
    if v.contains([',', '"', '\n', '\r']) {
        line.push('"');
        for c in v.chars() {
            if c == '"' {
                line.push('"');
            }
            line.push(c);
        }
        line.push('"');
    } else {
        line.push_str(v);
    }
}

impl CsvTable {
    fn put(&mut self, s: &str) -> Result<(), RefdataError> {
        self.w
            .write_all(s.as_bytes())
            .map_err(|e| RefdataError::io(&self.path, e))
    }

    fn flush_line(&mut self) -> Result<(), RefdataError> {
        let line = std::mem::take(&mut self.line);
        self.put(&line)?;
        self.line = line;
        self.line.clear();
        Ok(())
    }
}

impl TableWriter for CsvTable {
    fn write(&mut self, b: &RecordBatch, raw: &[(usize, String)]) -> Result<(), RefdataError> {
        let cols: Vec<&StringArray> = b
            .columns()
            .iter()
            .map(|c| {
                c.as_any()
                    .downcast_ref::<StringArray>()
                    .ok_or_else(|| RefdataError::internal("CSV tables hold text columns only"))
            })
            .collect::<Result<_, _>>()?;
        let mut raw = raw.iter().peekable();
        for row in 0..b.num_rows() {
            if let Some((_, line)) = raw.next_if(|(r, _)| *r == row) {
                self.line.push_str(line);
            } else {
                for (i, c) in cols.iter().enumerate() {
                    if i > 0 {
                        self.line.push(',');
                    }
                    if c.is_valid(row) {
                        push_csv_field(&mut self.line, c.value(row));
                    }
                }
            }
            self.line.push_str(self.eol);
            self.flush_line()?;
        }
        Ok(())
    }

    fn close(self: Box<Self>) -> Result<Written, RefdataError> {
        finish_file(self.path, self.w)
    }
}

/// A batch and the raw CSV lines of some of its rows.
pub(crate) type TakenBatch = (RecordBatch, Vec<(usize, String)>);

enum ColBuf {
    Text(StringBuilder),
    Int(Int64Builder),
}

/// Column buffers of one table, filled row by row; hands out a batch every
/// [`BATCH_ROWS`] rows.
pub(crate) struct TableBuf {
    schema: SchemaRef,
    cols: Vec<ColBuf>,
    raw: Vec<(usize, String)>,
    len: usize,
}

impl TableBuf {
    pub(crate) fn new(schema: SchemaRef) -> TableBuf {
        let cols = schema
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Int64 => ColBuf::Int(Int64Builder::with_capacity(BATCH_ROWS)),
                _ => ColBuf::Text(StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 16)),
            })
            .collect();
        TableBuf {
            schema,
            cols,
            raw: Vec::new(),
            len: 0,
        }
    }

    pub(crate) fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Appends a rendered input row (and its raw CSV line, if any).
    pub(crate) fn push_row(&mut self, row: &RowText) {
        for i in 0..row.n {
            self.text(i, row.get(i));
        }
        if let Some(line) = &row.raw {
            self.raw.push((self.len, line.clone()));
        }
        self.len += 1;
    }

    /// Sets text column `i` of the current row.
    pub(crate) fn text(&mut self, i: usize, v: Option<&str>) {
        match &mut self.cols[i] {
            ColBuf::Text(b) => b.append_option(v),
            ColBuf::Int(_) => unreachable!("column {i} is an integer column"),
        }
    }

    /// Sets integer column `i` of the current row.
    pub(crate) fn int(&mut self, i: usize, v: i64) {
        match &mut self.cols[i] {
            ColBuf::Int(b) => b.append_value(v),
            ColBuf::Text(_) => unreachable!("column {i} is a text column"),
        }
    }

    /// Ends a row filled with [`TableBuf::text`] / [`TableBuf::int`].
    pub(crate) fn end_row(&mut self) {
        self.len += 1;
    }

    pub(crate) fn is_full(&self) -> bool {
        self.len >= BATCH_ROWS
    }

    /// The buffered rows as a batch, or `None` when empty.
    pub(crate) fn take(&mut self) -> Result<Option<TakenBatch>, RefdataError> {
        if self.len == 0 {
            return Ok(None);
        }
        let arrays: Vec<ArrayRef> = self
            .cols
            .iter_mut()
            .map(|c| -> ArrayRef {
                match c {
                    ColBuf::Text(b) => Arc::new(b.finish()),
                    ColBuf::Int(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|e| RefdataError::internal(format!("building a batch: {e}")))?;
        self.len = 0;
        Ok(Some((batch, std::mem::take(&mut self.raw))))
    }
}
