//! The truth files (docs/REFERENCE-DATA.md), formatted and written on their own thread.
//!
//! The generator hands over compact records in input order; this thread turns them into
//! text and Parquet. Settlement truth is written per settlement file to hidden files first
//! (rows arrive interleaved across files), as Arrow IPC, and concatenated into Parquet at
//! the end in input order: settlement files sorted by name, then row.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::catalog::{CURRENCIES, PROVIDERS};
use crate::error::RefdataError;
use crate::plan::{flag, InstrKey, Method, Reason, Status};
use crate::render::{push_key, push_provider_ref};
use crate::sink::{open_table, Encoding, TableBuf, TableSpec, TableWriter, Written};
use crate::text::{push_amount, Day};

/// Records per message to the truth thread.
const CHUNK: usize = 8 * 1024;
/// Messages queued for the truth thread.
const CHANNEL_CHUNKS: usize = 8;

/// Expected result of an accepted instruction.
#[derive(Clone, Copy)]
pub(crate) struct TruthI {
    pub key: InstrKey,
    pub status: Status,
    pub flags: u8,
    pub paid: i64,
    pub currency: u8,
    pub n: u32,
    /// Instruction file (part number) and 1-based row in it.
    pub part: u32,
    pub row: u64,
}

/// Expected result of an accepted settlement.
#[derive(Clone, Copy)]
pub(crate) struct TruthS {
    pub provider: u8,
    pub ref_no: u64,
    pub ref_day: Day,
    pub method: Method,
    pub matched: Option<InstrKey>,
    pub ambiguous: bool,
    /// Settlement file (index into [`TruthFiles::settlements`]) and 1-based row in it.
    pub file: u16,
    pub row: u64,
}

/// The names the truth gives files: instruction parts by number, settlement files by
/// index (names without folders, and the `format` the outputs give the file).
#[derive(Clone)]
pub(crate) struct TruthFiles {
    /// Extension of the instruction parts.
    pub instruction_ext: &'static str,
    pub settlements: Vec<(String, &'static str)>,
}

/// The file name of instruction part `k`.
pub(crate) fn part_file(k: usize, ext: &str) -> String {
    format!("instructions-{k:04}.{ext}")
}

/// Expected reject.
pub(crate) struct TruthReject {
    /// 0 instructions, 1 settlements.
    pub side: u8,
    /// File name without directories.
    pub file: String,
    pub row: u64,
    pub reason: Reason,
}

fn instruction_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("instruction_id", DataType::Utf8, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("flags", DataType::Utf8, false),
        Field::new("paid_amount", DataType::Utf8, false),
        Field::new("currency", DataType::Utf8, false),
        Field::new("settlement_count", DataType::Int64, false),
        Field::new("file", DataType::Utf8, false),
        Field::new("row", DataType::Int64, false),
    ]))
}

fn settlement_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("provider", DataType::Utf8, false),
        Field::new("provider_ref", DataType::Utf8, false),
        Field::new("match_method", DataType::Utf8, false),
        Field::new("matched_instruction_id", DataType::Utf8, false),
        Field::new("flags", DataType::Utf8, false),
        Field::new("file", DataType::Utf8, false),
        Field::new("row", DataType::Int64, false),
        Field::new("format", DataType::Utf8, false),
    ]))
}

fn reject_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("side", DataType::Utf8, false),
        Field::new("file", DataType::Utf8, false),
        Field::new("row", DataType::Int64, false),
        Field::new("reason", DataType::Utf8, false),
    ]))
}

fn spec(path: PathBuf, schema: SchemaRef, dictionary: Vec<&'static str>) -> TableSpec {
    TableSpec {
        path,
        schema,
        encoding: Encoding::Parquet,
        dictionary,
    }
}

fn file_tmp(dir: &Path, f: usize) -> PathBuf {
    dir.join(format!(".settlements-{f:04}.arrow"))
}

fn row_int(row: u64) -> Result<i64, RefdataError> {
    i64::try_from(row).map_err(|_| RefdataError::internal("row number overflow"))
}

enum Msg {
    I(Vec<TruthI>),
    S(Vec<TruthS>),
}

/// The truth thread and the chunks being filled for it.
pub(crate) struct TruthWriter {
    tx: Option<SyncSender<Msg>>,
    handle: Option<JoinHandle<Result<Vec<Written>, RefdataError>>>,
    pend_i: Vec<TruthI>,
    pend_s: Vec<TruthS>,
}

impl TruthWriter {
    /// Starts the thread writing into `truth_dir`.
    pub(crate) fn spawn(truth_dir: &Path, files: TruthFiles) -> Result<TruthWriter, RefdataError> {
        let (tx, rx) = sync_channel(CHANNEL_CHUNKS);
        let dir = truth_dir.to_path_buf();
        let handle = std::thread::Builder::new()
            .name("refdata-truth".into())
            .spawn(move || truth_loop(&dir, &files, rx))
            .map_err(|e| RefdataError::internal(format!("cannot start the truth thread: {e}")))?;
        Ok(TruthWriter {
            tx: Some(tx),
            handle: Some(handle),
            pend_i: Vec::with_capacity(CHUNK),
            pend_s: Vec::with_capacity(CHUNK),
        })
    }

    fn send(&mut self, msg: Msg) -> Result<(), RefdataError> {
        let tx = self
            .tx
            .as_ref()
            .ok_or_else(|| RefdataError::internal("truth writer already finished"))?;
        if tx.send(msg).is_err() {
            return Err(match self.join() {
                Err(e) => e,
                Ok(_) => RefdataError::internal("the truth thread stopped early"),
            });
        }
        Ok(())
    }

    pub(crate) fn instruction(&mut self, t: TruthI) -> Result<(), RefdataError> {
        self.pend_i.push(t);
        if self.pend_i.len() == CHUNK {
            let chunk = std::mem::replace(&mut self.pend_i, Vec::with_capacity(CHUNK));
            self.send(Msg::I(chunk))?;
        }
        Ok(())
    }

    pub(crate) fn settlement(&mut self, t: TruthS) -> Result<(), RefdataError> {
        self.pend_s.push(t);
        if self.pend_s.len() == CHUNK {
            let chunk = std::mem::replace(&mut self.pend_s, Vec::with_capacity(CHUNK));
            self.send(Msg::S(chunk))?;
        }
        Ok(())
    }

    fn join(&mut self) -> Result<Vec<Written>, RefdataError> {
        self.tx = None;
        match self.handle.take() {
            Some(h) => h
                .join()
                .map_err(|_| RefdataError::internal("the truth thread panicked"))?,
            None => Err(RefdataError::internal("truth writer already joined")),
        }
    }

    /// Sends what is left, waits for the thread, and returns the files written.
    pub(crate) fn finish(mut self) -> Result<Vec<Written>, RefdataError> {
        let i = std::mem::take(&mut self.pend_i);
        if !i.is_empty() {
            self.send(Msg::I(i))?;
        }
        let s = std::mem::take(&mut self.pend_s);
        if !s.is_empty() {
            self.send(Msg::S(s))?;
        }
        self.join()
    }
}

impl Drop for TruthWriter {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn write_full(w: &mut dyn TableWriter, buf: &mut TableBuf) -> Result<(), RefdataError> {
    if let Some((b, raw)) = buf.take()? {
        w.write(&b, &raw)?;
    }
    Ok(())
}

fn truth_loop(
    dir: &Path,
    files: &TruthFiles,
    rx: Receiver<Msg>,
) -> Result<Vec<Written>, RefdataError> {
    let mut wi = open_table(spec(
        dir.join("instructions.parquet"),
        instruction_schema(),
        vec!["status", "flags", "currency", "file"],
    ))?;
    let mut bi = TableBuf::new(instruction_schema());
    // Per settlement file, opened at its first row: files without accepted rows have none.
    let mut ws: Vec<Option<(Box<dyn TableWriter>, TableBuf)>> =
        (0..files.settlements.len()).map(|_| None).collect();
    let mut text = String::new();
    for msg in rx {
        match msg {
            Msg::I(chunk) => {
                for t in chunk {
                    instruction_row(&mut bi, &t, files, &mut text)?;
                    if bi.is_full() {
                        write_full(wi.as_mut(), &mut bi)?;
                    }
                }
            }
            Msg::S(chunk) => {
                for t in chunk {
                    let f = usize::from(t.file);
                    let slot = ws.get_mut(f).ok_or_else(|| {
                        RefdataError::internal(format!("settlement truth for unknown file {f}"))
                    })?;
                    if slot.is_none() {
                        // Arrow IPC: cheap to write and to read back for the merge.
                        let w = open_table(TableSpec {
                            path: file_tmp(dir, f),
                            schema: settlement_schema(),
                            encoding: Encoding::Arrow,
                            dictionary: Vec::new(),
                        })?;
                        *slot = Some((w, TableBuf::new(settlement_schema())));
                    }
                    let (w, b) = slot.as_mut().expect("opened just above");
                    settlement_row(b, &t, files, &mut text)?;
                    if b.is_full() {
                        write_full(w.as_mut(), b)?;
                    }
                }
            }
        }
    }
    let mut written = Vec::new();
    write_full(wi.as_mut(), &mut bi)?;
    written.push(wi.close()?);
    for (mut w, mut b) in ws.into_iter().flatten() {
        write_full(w.as_mut(), &mut b)?;
        w.close()?;
    }
    written.push(merge_settlements(dir, files)?);
    Ok(written)
}

fn instruction_row(
    b: &mut TableBuf,
    t: &TruthI,
    files: &TruthFiles,
    text: &mut String,
) -> Result<(), RefdataError> {
    let cur = &CURRENCIES[usize::from(t.currency)];
    text.clear();
    push_key(text, &t.key);
    b.text(0, Some(text));
    b.text(1, Some(t.status.name()));
    text.clear();
    flag::push_names(text, t.flags);
    b.text(2, Some(text));
    text.clear();
    push_amount(text, t.paid.into(), cur.minor_units);
    b.text(3, Some(text));
    b.text(4, Some(cur.code));
    b.int(5, i64::from(t.n));
    b.text(6, Some(&part_file(t.part as usize, files.instruction_ext)));
    b.int(7, row_int(t.row)?);
    b.end_row();
    Ok(())
}

fn settlement_row(
    b: &mut TableBuf,
    t: &TruthS,
    files: &TruthFiles,
    text: &mut String,
) -> Result<(), RefdataError> {
    let (name, format) = &files.settlements[usize::from(t.file)];
    b.text(0, Some(PROVIDERS[usize::from(t.provider)].name));
    text.clear();
    push_provider_ref(text, t.provider, t.ref_day, t.ref_no);
    b.text(1, Some(text));
    b.text(2, Some(t.method.name()));
    text.clear();
    if let Some(k) = t.matched {
        push_key(text, &k);
    }
    b.text(3, Some(text));
    b.text(4, Some(if t.ambiguous { flag::AMBIGUOUS } else { "" }));
    b.text(5, Some(name));
    b.int(6, row_int(t.row)?);
    b.text(7, Some(format));
    b.end_row();
    Ok(())
}

/// Concatenates the per-file settlement truth in input order (files sorted by name) into
/// `settlements.parquet`.
fn merge_settlements(dir: &Path, files: &TruthFiles) -> Result<Written, RefdataError> {
    let mut order: Vec<usize> = (0..files.settlements.len()).collect();
    order.sort_by(|&a, &b| files.settlements[a].0.cmp(&files.settlements[b].0));
    let mut w = open_table(spec(
        dir.join("settlements.parquet"),
        settlement_schema(),
        vec!["provider", "match_method", "flags", "file", "format"],
    ))?;
    for f in order {
        let path = file_tmp(dir, f);
        if !path.exists() {
            continue;
        }
        let file = fs::File::open(&path).map_err(|e| RefdataError::io(&path, e))?;
        let reader = arrow_ipc::reader::FileReader::try_new(std::io::BufReader::new(file), None)
            .map_err(|e| RefdataError::internal(format!("{}: {e}", path.display())))?;
        for batch in reader {
            let batch =
                batch.map_err(|e| RefdataError::internal(format!("{}: {e}", path.display())))?;
            w.write(&batch, &[])?;
        }
        fs::remove_file(&path).map_err(|e| RefdataError::io(&path, e))?;
    }
    w.close()
}

/// `rejects.parquet`, ordered like the engine's rejects: instructions first, then by
/// file name and row.
pub(crate) fn write_rejects(
    dir: &Path,
    mut rejects: Vec<TruthReject>,
) -> Result<Written, RefdataError> {
    rejects.sort_by(|a, b| (a.side, &a.file, a.row).cmp(&(b.side, &b.file, b.row)));
    let mut w = open_table(spec(
        dir.join("rejects.parquet"),
        reject_schema(),
        vec!["side", "file", "reason"],
    ))?;
    let mut buf = TableBuf::new(reject_schema());
    for r in &rejects {
        buf.text(
            0,
            Some(if r.side == 0 {
                "instructions"
            } else {
                "settlements"
            }),
        );
        buf.text(1, Some(&r.file));
        buf.int(2, row_int(r.row)?);
        buf.text(3, Some(r.reason.name()));
        buf.end_row();
        if buf.is_full() {
            write_full(w.as_mut(), &mut buf)?;
        }
    }
    write_full(w.as_mut(), &mut buf)?;
    w.close()
}
