//! The truth files (docs/REFERENCE-DATA.md), formatted and written on their own thread.
//!
//! The generator hands over compact records in input order; this thread turns them into
//! text and Parquet. Settlement truth is written per provider to hidden files first (rows
//! arrive interleaved across providers), as Arrow IPC, and concatenated into Parquet at
//! the end in input order: provider files sorted by name, then row.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::catalog::{CURRENCIES, PROVIDERS};
use crate::error::RefdataError;
use crate::plan::{flag, InstrKey, Method, Reason, Status};
use crate::render::push_key;
use crate::sink::{open_table, Encoding, TableBuf, TableSpec, TableWriter, Written};
use crate::text::{push_amount, push_num, push_yymmdd, Day};

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
    ]))
}

fn settlement_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("provider", DataType::Utf8, false),
        Field::new("provider_ref", DataType::Utf8, false),
        Field::new("match_method", DataType::Utf8, false),
        Field::new("matched_instruction_id", DataType::Utf8, false),
        Field::new("flags", DataType::Utf8, false),
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

fn provider_tmp(dir: &Path, p: usize) -> PathBuf {
    dir.join(format!(".settlements-{p:02}.arrow"))
}

/// Appends a provider's reference text (as `render` writes it, unpadded).
pub(crate) fn push_provider_ref(buf: &mut String, provider: u8, ref_day: Day, ref_no: u64) {
    buf.push_str(PROVIDERS[usize::from(provider)].ref_prefix);
    push_yymmdd(buf, ref_day);
    push_num(buf, ref_no, 9);
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
    pub(crate) fn spawn(truth_dir: &Path) -> Result<TruthWriter, RefdataError> {
        let (tx, rx) = sync_channel(CHANNEL_CHUNKS);
        let dir = truth_dir.to_path_buf();
        let handle = std::thread::Builder::new()
            .name("refdata-truth".into())
            .spawn(move || truth_loop(&dir, rx))
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

fn truth_loop(dir: &Path, rx: Receiver<Msg>) -> Result<Vec<Written>, RefdataError> {
    let mut wi = open_table(spec(
        dir.join("instructions.parquet"),
        instruction_schema(),
        vec!["status", "flags", "currency"],
    ))?;
    let mut bi = TableBuf::new(instruction_schema());
    let mut ws = Vec::new();
    let mut bs = Vec::new();
    for p in 0..PROVIDERS.len() {
        // Arrow IPC: cheap to write and to read back for the merge.
        ws.push(open_table(TableSpec {
            path: provider_tmp(dir, p),
            schema: settlement_schema(),
            encoding: Encoding::Arrow,
            dictionary: Vec::new(),
        })?);
        bs.push(TableBuf::new(settlement_schema()));
    }
    let mut text = String::new();
    for msg in rx {
        match msg {
            Msg::I(chunk) => {
                for t in chunk {
                    let cur = &CURRENCIES[usize::from(t.currency)];
                    text.clear();
                    push_key(&mut text, &t.key);
                    bi.text(0, Some(&text));
                    bi.text(1, Some(t.status.name()));
                    text.clear();
                    flag::push_names(&mut text, t.flags);
                    bi.text(2, Some(&text));
                    text.clear();
                    push_amount(&mut text, t.paid.into(), cur.minor_units);
                    bi.text(3, Some(&text));
                    bi.text(4, Some(cur.code));
                    bi.int(5, i64::from(t.n));
                    bi.end_row();
                    if bi.is_full() {
                        write_full(wi.as_mut(), &mut bi)?;
                    }
                }
            }
            Msg::S(chunk) => {
                for t in chunk {
                    let p = usize::from(t.provider);
                    let b = &mut bs[p];
                    b.text(0, Some(PROVIDERS[p].name));
                    text.clear();
                    push_provider_ref(&mut text, t.provider, t.ref_day, t.ref_no);
                    b.text(1, Some(&text));
                    b.text(2, Some(t.method.name()));
                    text.clear();
                    if let Some(k) = t.matched {
                        push_key(&mut text, &k);
                    }
                    b.text(3, Some(&text));
                    b.text(4, Some(if t.ambiguous { flag::AMBIGUOUS } else { "" }));
                    b.end_row();
                    if b.is_full() {
                        write_full(ws[p].as_mut(), b)?;
                    }
                }
            }
        }
    }
    let mut written = Vec::new();
    write_full(wi.as_mut(), &mut bi)?;
    written.push(wi.close()?);
    for (mut w, mut b) in ws.into_iter().zip(bs) {
        write_full(w.as_mut(), &mut b)?;
        w.close()?;
    }
    written.push(merge_settlements(dir)?);
    Ok(written)
}

/// Concatenates the per-provider settlement truth in input order (provider files sorted
/// by name) into `settlements.parquet`.
fn merge_settlements(dir: &Path) -> Result<Written, RefdataError> {
    let mut order: Vec<usize> = (0..PROVIDERS.len()).collect();
    // The order of the input files' names (`NAME.ext`), not of the bare names.
    order.sort_by_key(|&p| format!("{}.", PROVIDERS[p].name));
    let mut w = open_table(spec(
        dir.join("settlements.parquet"),
        settlement_schema(),
        vec!["provider", "match_method", "flags"],
    ))?;
    for p in order {
        let path = provider_tmp(dir, p);
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
        buf.int(
            2,
            i64::try_from(r.row).map_err(|_| RefdataError::internal("row number overflow"))?,
        );
        buf.text(3, Some(r.reason.name()));
        buf.end_row();
        if buf.is_full() {
            write_full(w.as_mut(), &mut buf)?;
        }
    }
    write_full(w.as_mut(), &mut buf)?;
    w.close()
}
