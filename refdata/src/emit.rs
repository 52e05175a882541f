//! The emitter: renders planned rows into the input files and records each row's truth
//! at the position it gets in its file (CONTRACT 5 and 7.3: `file` and `row`).
//!
//! Instructions go to numbered parts of the instruction format. Each settlement goes to
//! the file [`Layout::route`] gives it: a table file (rendered and placed at once), or a
//! provider file, where it waits in its statement ([`DocFile`]) and is placed when the
//! statement is handed to the writer thread.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::catalog::PROVIDERS;
use crate::error::RefdataError;
use crate::generate::{GeneratedFile, Stats};
use crate::layout::{FileKind, Layout};
use crate::plan::{flag, IRow, ITruth, Method, Reason, SRow, SStatus, STruth, Status, Unit};
use crate::render::{
    render_instruction, render_settlement, RowText, INSTRUCTION_COLUMNS, SETTLEMENT_COLUMNS,
};
use crate::render_camt::CamtDoc;
use crate::render_mt940::Mt940Doc;
use crate::render_pain::PainDoc;
use crate::sink::{text_schema, DocWriter, Encoding, TableBuf, TableSpec, Writer};
use crate::statement::{Chunk, DocFile, Entry};
use crate::truth::{part_file, TruthFiles, TruthI, TruthReject, TruthS, TruthWriter};
use crate::Format;

/// A row held back to be emitted after a later unit (re-sent rows).
enum Held {
    I(IRow),
    S(SRow),
}

/// Where one settlement file's rows wait before the writer thread.
enum Sink {
    Table(TableBuf),
    Doc(DocFile),
}

/// One settlement file: its rows so far and whether the writer has it open.
struct SettOut {
    sink: Sink,
    opened: bool,
    /// Rows (transactions) placed so far.
    rows: u64,
}

/// Renders rows into the input files and records their truth, in input order.
pub(crate) struct Emitter {
    format: Format,
    part_rows: u64,
    dir: PathBuf,
    pub(crate) w: Writer,
    instr: TableBuf,
    instr_part: usize,
    instr_row: u64,
    layout: Layout,
    outs: Vec<SettOut>,
    pub(crate) truth: TruthWriter,
    pub(crate) rejects: Vec<TruthReject>,
    pending: BTreeMap<u64, Vec<Held>>,
    text: RowText,
    pub(crate) stats: Stats,
}

fn input_encoding(format: Format, crlf: bool, bom: bool) -> Encoding {
    match format {
        Format::Parquet => Encoding::Parquet,
        Format::Arrow => Encoding::Arrow,
        Format::Csv => Encoding::Csv { crlf, bom },
    }
}

impl Emitter {
    pub(crate) fn new(
        format: Format,
        layout: Layout,
        part_rows: u64,
        dir: &Path,
        stats: Stats,
    ) -> Result<Emitter, RefdataError> {
        let files = TruthFiles {
            instruction_ext: format.extension(),
            settlements: layout
                .files
                .iter()
                .map(|f| (f.name.clone(), f.kind.format_name()))
                .collect(),
        };
        let truth = TruthWriter::spawn(&dir.join("truth"), files)?;
        let sett_schema = text_schema(&SETTLEMENT_COLUMNS);
        let outs = layout
            .files
            .iter()
            .map(|f| SettOut {
                sink: match f.kind {
                    FileKind::Table(_) => Sink::Table(TableBuf::new(sett_schema.clone())),
                    k => Sink::Doc(DocFile::new(k)),
                },
                opened: false,
                rows: 0,
            })
            .collect();
        let mut em = Emitter {
            format,
            part_rows,
            dir: dir.to_path_buf(),
            w: Writer::spawn()?,
            instr: TableBuf::new(text_schema(&INSTRUCTION_COLUMNS)),
            instr_part: 0,
            instr_row: 0,
            layout,
            outs,
            truth,
            rejects: Vec::new(),
            pending: BTreeMap::new(),
            text: RowText::new(),
            stats,
        };
        for f in 0..em.layout.files.len() {
            if em.layout.files[f].eager {
                em.open_settlement_file(f)?;
            }
        }
        em.open_part(0)?;
        Ok(em)
    }

    /// Writer table id of instruction part `k` (settlement files come first).
    fn part_table(&self, k: usize) -> usize {
        self.layout.files.len() + k
    }

    fn open_part(&mut self, k: usize) -> Result<(), RefdataError> {
        let ext = self.format.extension();
        self.w.open(
            self.part_table(k),
            TableSpec {
                path: self.dir.join("instructions").join(part_file(k, ext)),
                schema: self.instr.schema(),
                encoding: input_encoding(self.format, false, false),
                dictionary: vec!["program", "cycle", "provider", "currency", "due_date"],
            },
        )
    }

    /// Has the writer thread create settlement file `f` (at its first row, or at once
    /// for the table formats' per-provider files).
    fn open_settlement_file(&mut self, f: usize) -> Result<(), RefdataError> {
        if self.outs[f].opened {
            return Ok(());
        }
        self.outs[f].opened = true;
        let file = &self.layout.files[f];
        let path = self.dir.join("settlements").join(&file.name);
        let (p, resent) = (file.provider, file.name.contains(".resent."));
        let prov = &PROVIDERS[usize::from(p)];
        let doc: Box<dyn DocWriter> = match file.kind {
            FileKind::Table(format) => {
                return self.w.open(
                    f,
                    TableSpec {
                        path,
                        schema: text_schema(&SETTLEMENT_COLUMNS),
                        encoding: input_encoding(format, prov.crlf, prov.bom),
                        dictionary: vec![
                            "provider",
                            "fee",
                            "currency",
                            "status",
                            "value_date",
                            "narrative",
                        ],
                    },
                );
            }
            k @ (FileKind::Camt053 | FileKind::Camt054) => {
                Box::new(CamtDoc::new(path, p, k, resent))
            }
            FileKind::Pain002 => Box::new(PainDoc::new(path, p, resent)),
            FileKind::Mt940 => Box::new(Mt940Doc::new(path, p, resent)),
        };
        self.w.open_doc(f, doc)
    }

    /// Emits the held-back rows that are due, then the unit's own rows.
    pub(crate) fn unit(&mut self, unit_no: u64, u: &Unit) -> Result<(), RefdataError> {
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() > unit_no {
                break;
            }
            for h in entry.remove() {
                self.held(h)?;
            }
        }
        for i in &u.instrs {
            if i.delay > 0 {
                self.pending
                    .entry(unit_no + u64::from(i.delay))
                    .or_default()
                    .push(Held::I(*i));
            } else {
                self.instruction(i)?;
            }
        }
        for s in &u.setts {
            if s.delay > 0 {
                self.pending
                    .entry(unit_no + u64::from(s.delay))
                    .or_default()
                    .push(Held::S(*s));
            } else {
                self.settlement(s)?;
            }
        }
        Ok(())
    }

    fn held(&mut self, h: Held) -> Result<(), RefdataError> {
        match h {
            Held::I(i) => self.instruction(&i),
            Held::S(s) => self.settlement(&s),
        }
    }

    fn instruction(&mut self, r: &IRow) -> Result<(), RefdataError> {
        if self.instr_row == self.part_rows {
            self.close_part()?;
            self.instr_part += 1;
            self.instr_row = 0;
            self.open_part(self.instr_part)?;
        }
        render_instruction(r, &mut self.text);
        self.instr.push_row(&self.text);
        self.instr_row += 1;
        self.stats.instructions_in += 1;
        if self.instr.is_full() {
            let id = self.part_table(self.instr_part);
            if let Some((b, raw)) = self.instr.take()? {
                self.w.batch(id, b, raw)?;
            }
        }
        match r.truth {
            ITruth::Accepted {
                status,
                flags,
                paid,
                n,
            } => {
                self.truth.instruction(TruthI {
                    key: r.key,
                    status,
                    flags,
                    paid,
                    currency: r.currency,
                    n,
                    part: u32::try_from(self.instr_part)
                        .map_err(|_| RefdataError::internal("too many instruction files"))?,
                    row: self.instr_row,
                })?;
                self.count_instruction(r, status, flags);
            }
            ITruth::Rejected => {
                let csv = self.format == Format::Csv;
                let reason = r.defect.reason(csv).ok_or_else(|| {
                    RefdataError::internal("rejected instruction without a defect")
                })?;
                let file = part_file(self.instr_part, self.format.extension());
                self.reject(0, file, self.instr_row, reason);
            }
            ITruth::Pending => return Err(RefdataError::internal("instruction without truth")),
        }
        Ok(())
    }

    /// An accepted instruction in the counts, totals and amount groups.
    fn count_instruction(&mut self, r: &IRow, status: Status, flags: u8) {
        let st = &mut self.stats;
        st.instructions_accepted += 1;
        st.by_status[status as usize] += 1;
        for (i, c) in st.by_flag.iter_mut().enumerate() {
            if flags & (1 << i) != 0 {
                *c += 1;
            }
        }
        let tot = &mut st.totals[usize::from(r.currency)];
        tot.instructed_count += 1;
        tot.instructed_amount += i128::from(r.amount);
        if status == Status::Unpaid {
            tot.unpaid_count += 1;
            tot.unpaid_amount += i128::from(r.amount);
        }
        let g = &mut st.groups[r.group()];
        *g.hist.entry(r.amount).or_default() += 1;
        if flags & flag::AMOUNT_OUTLIER != 0 {
            g.min_outlier = Some(g.min_outlier.map_or(r.amount, |m| m.min(r.amount)));
        } else {
            g.max_ordinary = Some(g.max_ordinary.map_or(r.amount, |m| m.max(r.amount)));
        }
    }

    fn reject(&mut self, side: u8, file: String, row: u64, reason: Reason) {
        self.rejects.push(TruthReject {
            side,
            file,
            row,
            reason,
        });
        self.stats.rejects[usize::from(side)] += 1;
        self.stats.by_reason[usize::from(side)][reason as usize] += 1;
    }

    fn settlement(&mut self, r: &SRow) -> Result<(), RefdataError> {
        let f = usize::from(self.layout.route(r));
        self.open_settlement_file(f)?;
        let out = &mut self.outs[f];
        match &mut out.sink {
            Sink::Table(buf) => {
                render_settlement(r, &mut self.text, true);
                buf.push_row(&self.text);
                out.rows += 1;
                let row = out.rows;
                if buf.is_full() {
                    if let Some((b, raw)) = buf.take()? {
                        self.w.batch(f, b, raw)?;
                    }
                }
                self.place(f, row, r)
            }
            Sink::Doc(doc) => match doc.push(r) {
                Some(chunk) => self.emit_chunk(f, chunk),
                None => Ok(()),
            },
        }
    }

    /// Places a statement's transactions (rows in document order) and hands the
    /// statement to the writer thread.
    fn emit_chunk(&mut self, f: usize, chunk: Chunk) -> Result<(), RefdataError> {
        for e in &chunk.entries {
            match e {
                Entry::Funding | Entry::Charges => {
                    // The bank's own entries: transactions that are no settlement.
                    self.outs[f].rows += 1;
                    self.stats.settlements_in += 1;
                    let (name, row) = (self.layout.files[f].name.clone(), self.outs[f].rows);
                    self.reject(1, name, row, Reason::NotAPayment);
                }
                Entry::Booking(rows) => {
                    for r in rows {
                        self.outs[f].rows += 1;
                        self.place(f, self.outs[f].rows, r)?;
                    }
                }
            }
        }
        self.w.chunk(f, chunk)
    }

    /// Records the truth of settlement `r` at `row` of file `f`.
    fn place(&mut self, f: usize, row: u64, r: &SRow) -> Result<(), RefdataError> {
        self.stats.settlements_in += 1;
        let kind = self.layout.files[f].kind;
        match r.truth {
            STruth::Accepted {
                method,
                matched,
                ambiguous,
            } => {
                self.truth.settlement(TruthS {
                    provider: r.provider,
                    ref_no: r.ref_no,
                    ref_day: r.ref_day,
                    method,
                    matched,
                    ambiguous,
                    file: u16::try_from(f).map_err(|_| RefdataError::internal("file index"))?,
                    row,
                })?;
                self.count_settlement(r, kind, method, ambiguous);
            }
            STruth::Rejected => {
                let reason = r.defect.reason(kind.is_csv()).ok_or_else(|| {
                    RefdataError::internal("rejected settlement without a defect")
                })?;
                let name = self.layout.files[f].name.clone();
                self.reject(1, name, row, reason);
            }
            STruth::Pending => return Err(RefdataError::internal("settlement without truth")),
        }
        Ok(())
    }

    /// An accepted settlement in the counts and totals: a settlement without a currency
    /// is in no currency's totals, and a fee counts only where the file kind has one.
    fn count_settlement(&mut self, r: &SRow, kind: FileKind, method: Method, ambiguous: bool) {
        let st = &mut self.stats;
        st.settlements_accepted += 1;
        st.by_match[method as usize] += 1;
        if ambiguous {
            st.ambiguous += 1;
        }
        if r.no_amount {
            return;
        }
        let tot = &mut st.totals[usize::from(r.currency)];
        if kind.carries_fee() {
            tot.fees += i128::from(r.fee.unwrap_or(0));
        }
        match r.status {
            SStatus::Settled => {
                tot.settled_count += 1;
                tot.settled_amount += i128::from(r.amount);
                if method == Method::None {
                    tot.unexpected_count += 1;
                    tot.unexpected_amount += i128::from(r.amount);
                }
            }
            SStatus::Returned => tot.returned_amount += i128::from(r.amount),
            SStatus::Failed => {}
        }
    }

    fn close_part(&mut self) -> Result<(), RefdataError> {
        let id = self.part_table(self.instr_part);
        if let Some((b, raw)) = self.instr.take()? {
            self.w.batch(id, b, raw)?;
        }
        self.w.close(id)?;
        self.stats.files.push(GeneratedFile {
            side: "instructions",
            path: format!(
                "instructions/{}",
                part_file(self.instr_part, self.format.extension())
            ),
            rows: self.instr_row,
        });
        Ok(())
    }

    /// Writes the held-back rows, the last statements and every buffered batch, and
    /// closes the input files.
    pub(crate) fn finish_inputs(&mut self) -> Result<(), RefdataError> {
        let pending = std::mem::take(&mut self.pending);
        for (_, rows) in pending {
            for h in rows {
                self.held(h)?;
            }
        }
        self.close_part()?;
        let mut files = Vec::new();
        for f in 0..self.outs.len() {
            let chunks = match &mut self.outs[f].sink {
                Sink::Table(buf) => {
                    if let Some((b, raw)) = buf.take()? {
                        self.w.batch(f, b, raw)?;
                    }
                    Vec::new()
                }
                Sink::Doc(doc) => doc.drain(),
            };
            for c in chunks {
                self.emit_chunk(f, c)?;
            }
            if self.outs[f].opened {
                self.w.close(f)?;
                files.push(GeneratedFile {
                    side: "settlements",
                    path: format!("settlements/{}", self.layout.files[f].name),
                    rows: self.outs[f].rows,
                });
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        self.stats.files.extend(files);
        Ok(())
    }
}
