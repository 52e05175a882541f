//! The one place that owns the control flow of a reconciliation (STYLE.md 4):
//! discover → load+validate → de-duplicate → match → classify → totals → build outputs →
//! verify → write to temporary names → commit.

use std::path::PathBuf;

use arrow_array::RecordBatch;

use crate::classify::{self, flag, Classes, Status};
use crate::config::ReconcileConfig;
use crate::currency;
use crate::decisions;
use crate::dedupe::dedupe;
use crate::error::{Error, Result};
use crate::ingest::{self, FileStats, InputFile};
use crate::matching::{self, Matches};
use crate::outset::{Old, OutputSet};
use crate::schema::{Reject, Side};
use crate::summary::{self, Summary};
use crate::table::Table;
use crate::totals::{self, AllTotals};
use crate::validate::{self, Chunk};
use crate::write;
use crate::{verify, VERSION};

/// Progress reports for a terminal; every method has a silent default.
pub trait Progress: Sync {
    /// A new stage starts; `rows` is the expected row count when known.
    fn stage(&self, _name: &'static str) {}
    /// Input rows validated so far in the loading stage.
    fn rows(&self, _n: u64) {}
    /// Decode buffers were freed (a column of a side's chunks once joined into the
    /// table): the host may return free memory to the system before the next allocation.
    /// Called from worker threads, about a dozen times per side, for the side loaded last
    /// (or both, loaded at once): the buffers of a side loaded first are left to the
    /// allocator for the next side's decoding to reuse.
    fn release_memory(&self) {}
}

/// Input size (bytes on disk, both sides) up to which the sides are loaded concurrently.
pub const CONCURRENT_LOAD_MAX_BYTES: u64 = 256 << 20;

/// Reports nothing.
pub struct Silent;
impl Progress for Silent {}

/// Whole rows of a written output by index (in the order given), built by the code that
/// built the written batches: see [`write::Ctx::take`].
pub type Rows<'a> = dyn Fn(write::Output, &[usize]) -> Result<RecordBatch> + 'a;

/// Outputs made from the written ones before anything is committed (the audit report
/// and manifest.json, crate `sverka-audit`): they join the run's all-or-nothing commit.
pub trait Finish: Sync {
    /// Names of the files `finish` adds (listed in `summary.json` "outputs").
    fn names(&self) -> Vec<String>;
    /// Sees every batch of a row output as it is written; `first_row` is the output row
    /// index of the batch's first row. The three outputs are written concurrently, each
    /// one batch after the other, so calls for different outputs may overlap.
    fn observe(
        &self,
        _output: write::Output,
        _first_row: usize,
        _batch: &RecordBatch,
    ) -> Result<()> {
        Ok(())
    }
    /// Sees `decisions.parquet`'s one batch (a run with decisions) as it is written.
    fn observe_decisions(&self, _batch: &RecordBatch) -> Result<()> {
        Ok(())
    }
    /// Writes the extra files into `set`. `staged` holds every output written so far
    /// (with digest and rows); `rows` fetches whole written rows by index.
    fn finish(
        &self,
        set: &OutputSet,
        staged: &[write::Pending],
        summary: &Summary,
        rows: &Rows,
    ) -> Result<Vec<write::Pending>>;
}

/// Adds nothing.
pub struct NoFinish;
impl Finish for NoFinish {
    fn names(&self) -> Vec<String> {
        Vec::new()
    }
    fn finish(
        &self,
        _: &OutputSet,
        _: &[write::Pending],
        _: &Summary,
        _: &Rows,
    ) -> Result<Vec<write::Pending>> {
        Ok(Vec::new())
    }
}

/// What a run produced, for the CLI's closing screen and `--fail-on`.
#[derive(Debug)]
pub struct Outcome {
    pub summary: Summary,
    pub out_dir: PathBuf,
    pub written: Vec<String>,
    pub warnings: Vec<String>,
    /// Wall time per stage, for `--timings` and BENCHMARKS.md (never written to files:
    /// outputs stay byte-identical).
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

impl Outcome {
    /// How many instructions have `status`, instructions carry `flag` (or settlements
    /// carry AMBIGUOUS), or rows were rejected (`rejects`).
    pub fn count_of(&self, name: &str) -> u64 {
        self.summary.count_of(name)
    }
}

/// Every file a reconciliation can write: the earlier run's files of these names are
/// replaced or dropped at commit, whatever this run writes.
pub const OUTPUT_NAMES: [&str; 11] = [
    "instructions.parquet",
    "settlements.parquet",
    "rejects.parquet",
    "decisions.parquet",
    "instructions.csv",
    "settlements.csv",
    "rejects.csv",
    "decisions.csv",
    "summary.json",
    "report.html",
    "manifest.json",
];

/// Names accepted by `--fail-on`.
pub fn fail_on_names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    v.extend(flag::NAMES);
    v.push("AMBIGUOUS");
    v.push("rejects");
    v
}

struct Side_ {
    files: Vec<InputFile>,
    stats: Vec<FileStats>,
    table: Table,
    rows_in: u64,
    /// Kept rows by key (instruction ids; (provider, provider_ref)).
    index: crate::group::Index,
}

/// Whether the run's inputs exceed [`CONCURRENT_LOAD_MAX_BYTES`]: the sides are then
/// loaded one after the other, and a caller may return freed memory to the system at
/// [`Progress::release_memory`] (the CLI trims malloc's arenas). Inputs that cannot be found
/// count as small; the run itself reports them.
pub fn is_large(cfg: &ReconcileConfig) -> bool {
    let files = |side, paths| ingest::discover(side, paths).unwrap_or_default();
    input_bytes(
        &files(Side::Instructions, &cfg.instructions),
        &files(Side::Settlements, &cfg.settlements),
    ) > CONCURRENT_LOAD_MAX_BYTES
}

/// The inputs' size on disk as it bears on memory: a file not in a table format (a
/// bank's XML or MT940 statement, by its name) counts for an eighth of its bytes, as its
/// text is many times the size of the rows it holds (about 600 bytes of camt.053 per
/// transaction against some 50 of Parquet). An XLSX workbook is compressed: it counts whole.
fn input_bytes(a: &[InputFile], b: &[InputFile]) -> u64 {
    a.iter()
        .chain(b)
        .map(|f| {
            let bytes = std::fs::metadata(&f.path).map_or(0, |m| m.len());
            let xlsx = f
                .path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
            match f.format {
                ingest::Format::Unrecognised | ingest::Format::Provider(_) if !xlsx => bytes / 8,
                _ => bytes,
            }
        })
        .sum()
}

/// With `SVERKA_TRACE_MEMORY` set, prints the resident and peak memory at a stage
/// and the seconds since the first trace (Linux; BENCHMARKS.md uses it to find where
/// memory and time go).
pub fn trace_rss(what: &str) {
    if std::env::var_os("SVERKA_TRACE_MEMORY").is_some() {
        let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let f = |k: &str| {
            s.lines()
                .find(|l| l.starts_with(k))
                .unwrap_or("")
                .to_string()
        };
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        let t = START.get_or_init(std::time::Instant::now).elapsed();
        // Minor page faults so far: field 10 of /proc/self/stat, after the ")" of the name.
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let field = |i: usize| fields.get(i).copied().unwrap_or("?");
        // utime and stime (fields 14 and 15), in clock ticks (1/100 s on Linux).
        let cpu = |i: usize| {
            field(i)
                .parse::<u64>()
                .map_or("?".to_string(), |t| format!("{}.{:02}", t / 100, t % 100))
        };
        eprintln!(
            "memory at {what} ({:.3} s, {} faults, cpu {}+{} s): {} {}",
            t.as_secs_f64(),
            field(7),
            cpu(11),
            cpu(12),
            f("VmRSS"),
            f("VmHWM")
        );
    }
}

/// Loads one side; `release`: report freed decode buffers ([`Progress::release_memory`]).
fn load_side(
    side: Side,
    files: Vec<InputFile>,
    opts: &ingest::ProviderOptions,
    progress: &dyn Progress,
    release: bool,
    keep_index: bool,
) -> Result<(Side_, Vec<Reject>)> {
    let release_memory = || {
        if release {
            progress.release_memory()
        }
    };
    let validate = |b: ingest::RawBatch| -> Chunk {
        let c = validate::validate(side, b);
        progress.rows(c.rows_in as u64);
        c
    };
    trace_rss("load start");
    let (chunks, stats) = ingest::read_side(&files, opts, &validate)?;
    trace_rss("read+validate");
    let d = dedupe(side, &chunks);
    trace_rss("dedupe");
    let (table, mut rejects, rows_in) =
        Table::from_chunks_releasing(side, chunks, d.keep.as_deref(), &release_memory)?;
    release_memory();
    trace_rss("table");
    rejects.extend(d.rejects);
    let counted: u64 = stats.iter().map(|s| s.rows).sum();
    if counted != rows_in {
        return Err(Error::Internal(format!(
            "{}: {counted} rows read but {rows_in} validated",
            side.as_str()
        )));
    }
    Ok((
        Side_ {
            files,
            stats,
            table,
            rows_in,
            // Matching probes the instruction ids; the settlements' index is needed after
            // de-duplication only to find the settlements decisions name.
            index: if matches!(side, Side::Instructions) || keep_index {
                d.index
            } else {
                crate::group::Index::default()
            },
        },
        rejects,
    ))
}

/// Runs a whole reconciliation. On any error nothing in `cfg.out` is changed.
pub fn reconcile(cfg: &ReconcileConfig, progress: &dyn Progress) -> Result<Outcome> {
    reconcile_with(cfg, progress, &NoFinish)
}

/// [`reconcile`], with `finish` adding outputs made from the written ones.
pub fn reconcile_with(
    cfg: &ReconcileConfig,
    progress: &dyn Progress,
    finish: &dyn Finish,
) -> Result<Outcome> {
    let ins_files = ingest::discover(Side::Instructions, &cfg.instructions)?;
    let set_files = ingest::discover(Side::Settlements, &cfg.settlements)?;
    // Every file goes into the set's staging folder; dropped on an error, it leaves
    // `cfg.out` as it was.
    let outputs = OutputSet::begin(&cfg.out)?;

    let mut clock = Clock::default();
    clock.lap("start");
    progress.stage("loading");
    let with_decisions = !cfg.decisions.is_empty();
    // The decision files are read beside the sides (the loading has serial phases).
    let (sides, decision_files) = rayon::join(
        || {
            load_sides(
                ins_files,
                set_files,
                &cfg.providers,
                progress,
                with_decisions,
            )
        },
        || decisions::read(&cfg.decisions),
    );
    let decision_files = decision_files?;
    let (ins, mut set, rejects) = sides?;
    // Needed only to find the settlements decisions name: dropped once they are found,
    // so that later stages reuse its pages.
    let set_index = std::mem::take(&mut set.index);
    clock.lap("load+dedupe");
    trace_tables(&ins.table, &set.table);
    let (resolved, m, cl, decided) = match_and_classify(
        cfg,
        &ins,
        (&set, set_index),
        &decision_files,
        &mut clock,
        progress,
    )?;

    progress.stage("writing");
    let files = [display_paths(&ins.files), display_paths(&set.files)];
    let set_formats: Vec<&str> = set.stats.iter().map(|st| st.format_name.as_str()).collect();
    let ctx = write::Ctx::new(
        &ins.table,
        &set.table,
        &m,
        &cl,
        &rejects,
        &files,
        &set_formats,
    );
    let ctx = match &decided {
        Some((_, ids)) => ctx.with_decisions(ids),
        None => ctx,
    };
    clock.lap("prepare outputs");
    let warnings = warnings(&ins, &set);
    let written = output_names(cfg.csv, with_decisions, finish);
    // The row outputs are written to temporary names; each writer re-derives figures from
    // the batches it writes, and only when they prove conservation and the totals is
    // anything renamed into place. Totals, the summary and decisions.parquet are made
    // beside them. Each thread takes the next job as it frees up: decisions.parquet
    // first (mostly serial, it runs beside the instructions' writer), the settlements'
    // writer after the figures (the two writers' peaks do not coincide), and a writer
    // that ends first helps the other with its row groups' columns.
    let rows: [Slot<RowsWritten>; 3] = Default::default();
    let figures = Slot::default();
    let decisions_written = Slot::default();
    let row_job = |k: usize| {
        let (o, slot, outputs, ctx) = (write::Output::ALL[k], &rows[k], &outputs, &ctx);
        move || slot.put(write_rows(outputs, ctx, o, cfg.csv, finish))
    };
    let figures_job = || {
        figures.put((|| {
            let (totals, delays) = rayon::join(
                || totals::compute(&ins.table, &set.table, &m, &cl),
                || summary::settlement_delays(&ins.table, &set.table, &m),
            );
            let t = totals?;
            let mut summary = summary(
                cfg, &ins, &set, &rejects, &m, &cl, &t, &written, &warnings, ctx.scale,
            );
            summary.settlement_delay_by_provider = delays;
            if with_decisions {
                add_decisions(&mut summary, &decision_files, &resolved);
            }
            // Written beside the row outputs (a provider file's control checks can make
            // it large); like them, it is committed only once the figures are checked.
            let file = outputs.write_bytes("summary.json", summary.to_text().as_bytes())?;
            Ok((t, summary, file))
        })())
    };
    let decisions_job = || {
        if let Some((moved, _)) = &decided {
            let read = (&decision_files, &resolved, moved.as_slice());
            decisions_written.put(decisions_file(
                &outputs, read, &ins.table, &ctx, cfg.csv, finish,
            ));
        }
    };
    let (ins_job, set_job, rejects_job) = (row_job(0), row_job(1), row_job(2));
    in_order(&[
        &decisions_job,
        &ins_job,
        &figures_job,
        &set_job,
        &rejects_job,
    ]);
    let (totals, summary, summary_file) = figures.take()?;
    let mut pending = Vec::new();
    let mut again = verify::Rederived::default();
    for slot in rows {
        let (p, d) = slot.take()?;
        pending.extend(p);
        again.merge(d)?;
    }
    let mut summary_files = vec![summary_file];
    if decided.is_some() {
        summary_files.extend(decisions_written.take()?);
    }
    clock.lap("write");
    trace_rss("write");
    again.check([ins.rows_in, set.rows_in], &totals.by_currency)?;
    pending.extend(summary_files);
    clock.lap("verify+summary");
    pending.extend(finish.finish(&outputs, &pending, &summary, &|o, rows| ctx.take(o, rows))?);
    clock.lap("report+manifest");
    trace_rss("report+manifest");
    let notes = outputs.commit(Old::Replace {
        known: &OUTPUT_NAMES,
    })?;
    clock.lap("commit");
    let mut warnings = warnings;
    warnings.extend(notes);
    Ok(Outcome {
        summary,
        out_dir: cfg.out.clone(),
        written,
        warnings,
        timings: clock.laps,
    })
}

/// A row output and the figures re-derived from the batches written.
type RowsWritten = (Vec<write::Pending>, verify::Rederived);

/// One row output, written to a temporary name, with the figures re-derived from the
/// batches it writes.
fn write_rows(
    outputs: &OutputSet,
    ctx: &write::Ctx,
    o: write::Output,
    csv: bool,
    finish: &dyn Finish,
) -> Result<RowsWritten> {
    let mut r = verify::Rederived::default();
    let pending = write::write_output(outputs, ctx, o, csv, &mut |first, b| {
        r.add(o, b)?;
        finish.observe(o, first, b)
    })?;
    Ok((pending, r))
}

/// Runs `jobs` on the pool's threads, each thread taking the next job in order as it
/// frees up (a job's own parallel work is shared as usual).
fn in_order(jobs: &[&(dyn Fn() + Sync)]) {
    use rayon::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    (0..rayon::current_num_threads().min(jobs.len()))
        .into_par_iter()
        .with_max_len(1)
        .for_each(|_| {
            while let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                job();
            }
        });
}

/// A job's result, set once by the job that makes it.
struct Slot<T>(std::sync::Mutex<Option<Result<T>>>);

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot(std::sync::Mutex::new(None))
    }
}

impl<T> Slot<T> {
    fn put(&self, r: Result<T>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
    }

    fn take(self) -> Result<T> {
        self.0
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .unwrap_or_else(|| Err(Error::Internal("a write job did not run".into())))
    }
}

/// `decisions.parquet` (and `.csv`): one row per decision, from the decisions `read`,
/// judged and what each moved; the report sees its batch as it is written.
fn decisions_file(
    outputs: &OutputSet,
    (read, resolved, moved): (
        &decisions::Read,
        &decisions::Resolved,
        &[Option<decisions::Moved>],
    ),
    ins_t: &Table,
    ctx: &write::Ctx,
    csv: bool,
    finish: &dyn Finish,
) -> Result<Vec<write::Pending>> {
    let b = decisions::batch(read, resolved, moved, ins_t, ctx.scale, &|x, c| {
        ctx.scaled(x, c)
    })?;
    let (written, observed) = rayon::join(
        || write::write_small(outputs, "decisions", decisions::schema(ctx.scale), &b, csv),
        || finish.observe_decisions(&b),
    );
    observed?;
    written
}

/// The decisions judged, matching, statuses and flags, and what the applied decisions
/// changed (with `--decisions`).
fn match_and_classify(
    cfg: &ReconcileConfig,
    ins: &Side_,
    (set, set_index): (&Side_, crate::group::Index),
    decision_files: &decisions::Read,
    clock: &mut Clock,
    progress: &dyn Progress,
) -> Result<(decisions::Resolved, Matches, Classes, Option<Decided>)> {
    progress.stage("matching");
    // Judging the decisions, then matching, beside the group flags (which need neither).
    let ((resolved, (m, trace)), group) = rayon::join(
        || {
            let resolved = decisions::resolve(
                decision_files,
                &ins.table,
                &ins.index,
                &set.table,
                &set_index,
            );
            drop(set_index);
            let matched = matching::match_all(
                &ins.table,
                &ins.index,
                &set.table,
                cfg.settings.fallback_days,
                &resolved.forced,
            );
            (resolved, matched)
        },
        || classify::group_flags(&ins.table, &cfg.settings),
    );
    clock.lap("match");
    trace_rss("match");
    // The run without its decisions needs no statuses of this one: it is worked out
    // beside them.
    let (mut cl, without) = rayon::join(
        || classify::classify(&ins.table, &set.table, &m, &cfg.settings, group),
        || trace.map(|t| without_decisions(&resolved, ins, set, &m, &t, cfg)),
    );
    for &i in &resolved.accepted {
        cl.flags[i as usize] |= flag::ACCEPTED;
    }
    clock.lap("classify");
    trace_rss("classify");
    let decided = (!cfg.decisions.is_empty())
        .then(|| decide(decision_files, &resolved, &m, without.as_ref(), &cl))
        .transpose()?;
    if decided.is_some() {
        clock.lap("decisions");
    }
    Ok((resolved, m, cl, decided))
}

/// Per decision what it moved, and each row's `decision_ids`.
type Decided = (Vec<Option<decisions::Moved>>, decisions::DecisionIds);

/// The matches without the decisions (computed again only where a decision could change
/// them), and the statuses under them of the instructions a decision moved.
fn without_decisions(
    resolved: &decisions::Resolved,
    ins: &Side_,
    set: &Side_,
    m: &Matches,
    trace: &matching::Trace,
    cfg: &ReconcileConfig,
) -> (Matches, Vec<(u32, u8)>) {
    let b = matching::without_decisions(
        &ins.table,
        &set.table,
        cfg.settings.fallback_days,
        m,
        &resolved.forced,
        trace,
    );
    // Only an instruction whose settlements differ without the decisions can have another
    // status without them; every other keeps the run's (`Baseline::status`).
    let changed = changed_instructions(ins.table.len(), m, &b);
    let mut rows = decisions::moved_instructions(resolved, &b.instruction);
    rows.retain(|&i| changed.value(i as usize));
    let status = classify::statuses_of(&ins.table, &set.table, &b, &cfg.settings, &rows);
    (b, status)
}

/// The instructions (a bit each) with a settlement that `b` matches otherwise than `m`
/// (to another instruction, or by another method), whichever of the two it is under.
fn changed_instructions(n: usize, m: &Matches, b: &Matches) -> arrow_buffer::BooleanBuffer {
    use rayon::prelude::*;
    const CH: usize = 64 * 1024;
    let differ: Vec<u32> = m
        .instruction
        .par_chunks(CH)
        .zip(b.instruction.par_chunks(CH))
        .zip(m.method.par_chunks(CH).zip(b.method.par_chunks(CH)))
        .flat_map_iter(|((mi, bi), (mm, bm))| {
            (0..mi.len())
                .filter(move |&j| mi[j] != bi[j] || mm[j] != bm[j])
                .flat_map(move |j| [mi[j], bi[j]])
        })
        .filter(|&i| i != matching::NO_MATCH)
        .collect();
    classify::bits(n, differ)
}

/// What the applied decisions changed, against the run `without` them, and each row's
/// `decision_ids`. Without an applied MATCH or UNMATCH (no `without`) the matches and
/// statuses without them are this run's: an ACCEPT changes only flags.
fn decide(
    read: &decisions::Read,
    resolved: &decisions::Resolved,
    m: &Matches,
    without: Option<&(Matches, Vec<(u32, u8)>)>,
    cl: &Classes,
) -> Result<Decided> {
    let base = match without {
        Some((b, moved_status)) => decisions::Baseline {
            instruction: &b.instruction,
            method: &b.method,
            moved_status,
        },
        None => decisions::Baseline {
            instruction: &m.instruction,
            method: &m.method,
            moved_status: &[],
        },
    };
    decisions::effects(read, resolved, &base, &m.method, &m.instruction, &cl.status)
}

/// The decision files among `summary.json`'s inputs, and its `decisions` counts.
fn add_decisions(s: &mut Summary, read: &decisions::Read, resolved: &decisions::Resolved) {
    s.inputs.extend(
        read.files
            .iter()
            .zip(&read.stats)
            .map(|(f, st)| summary::input_of(f, st)),
    );
    s.decisions = Some(decision_counts(resolved));
}

/// `summary.json`'s `decisions`.
fn decision_counts(r: &decisions::Resolved) -> summary::DecisionCounts {
    let mut by_reason = [0u64; decisions::Reason::ALL.len()];
    for j in &r.judged {
        if let Some(x) = j.reason {
            by_reason[x as usize] += 1;
        }
    }
    summary::DecisionCounts {
        applied: r.count(decisions::Outcome::Applied),
        pending: r.count(decisions::Outcome::Pending),
        refused: r.count(decisions::Outcome::Refused),
        by_reason: summary::Tally::nonzero(
            decisions::Reason::ALL.map(|x| (x.as_str(), by_reason[x as usize])),
        ),
    }
}

/// Loads both sides: at once when the inputs are small (each side has serial phases the
/// other's work fills); else one after the other, so that the peak holds one side's
/// decoded batches, not both. Rejects come back in input order, instructions first.
fn load_sides(
    ins_files: Vec<InputFile>,
    set_files: Vec<InputFile>,
    opts: &ingest::ProviderOptions,
    progress: &dyn Progress,
    keep_set_index: bool,
) -> Result<(Side_, Side_, Vec<Reject>)> {
    let (a, b) = if input_bytes(&ins_files, &set_files) <= CONCURRENT_LOAD_MAX_BYTES {
        rayon::join(
            || load_side(Side::Instructions, ins_files, opts, progress, true, false),
            || {
                load_side(
                    Side::Settlements,
                    set_files,
                    opts,
                    progress,
                    true,
                    keep_set_index,
                )
            },
        )
    } else {
        // The instructions' freed decode buffers are not released: the settlements'
        // decoding reuses them (fewer page faults, same peak, which is the settlements'
        // join when the sides are of like size).
        let a = load_side(Side::Instructions, ins_files, opts, progress, false, false);
        let b = match &a {
            Ok(_) => load_side(
                Side::Settlements,
                set_files,
                opts,
                progress,
                true,
                keep_set_index,
            ),
            Err(_) => Err(Error::Internal("not loaded".into())),
        };
        (a, b)
    };
    let (ins, mut rejects) = a?;
    let (set, set_rejects) = b?;
    rejects.extend(set_rejects);
    rejects.sort_unstable_by_key(|r| (r.side, r.file, r.row));
    Ok((ins, set, rejects))
}

/// With `SVERKA_TRACE_MEMORY` set, prints each table's heap bytes per column.
fn trace_tables(ins: &Table, set: &Table) {
    if std::env::var_os("SVERKA_TRACE_MEMORY").is_some() {
        for t in [ins, set] {
            let v = t.heap_bytes();
            let total: usize = v.iter().map(|x| x.1).sum();
            let cols: Vec<String> = v.iter().map(|(n, b)| format!("{n}={}M", b >> 20)).collect();
            eprintln!(
                "memory {} table: {} MB {cols:?}",
                t.side.as_str(),
                total >> 20
            );
        }
    }
}

/// The files a run writes, in `summary.json`'s `outputs` order.
fn output_names(csv: bool, decisions: bool, finish: &dyn Finish) -> Vec<String> {
    let mut written: Vec<String> = [
        "instructions.parquet",
        "settlements.parquet",
        "rejects.parquet",
    ]
    .map(String::from)
    .to_vec();
    if csv {
        written.extend(["instructions.csv", "settlements.csv", "rejects.csv"].map(String::from));
    }
    if decisions {
        written.push("decisions.parquet".into());
        if csv {
            written.push("decisions.csv".into());
        }
    }
    written.push("summary.json".into());
    written.extend(finish.names());
    written
}

#[derive(Default)]
struct Clock {
    last: Option<std::time::Instant>,
    laps: Vec<(&'static str, std::time::Duration)>,
}

impl Clock {
    fn lap(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        let start = *self.last.get_or_insert(now);
        self.laps.push((name, now - start));
        self.last = Some(now);
    }
}

fn display_paths(files: &[InputFile]) -> Vec<String> {
    files.iter().map(|f| f.path.display().to_string()).collect()
}

fn warnings(ins: &Side_, set: &Side_) -> Vec<String> {
    let mut w = Vec::new();
    for side in [ins, set] {
        for (i, st) in side.stats.iter().enumerate() {
            let path = side.files[i].path.display();
            if st.rows == 0 && st.provider.is_none() {
                w.push(format!("{path} has a header but no data rows"));
            } else if st.rows == 0 {
                w.push(format!("{path} holds no transactions"));
            }
            // Reached only with --control-totals warn: otherwise a failed check stops.
            for c in st.provider.iter().flat_map(summary::control) {
                if c.outcome != "ok" {
                    w.push(format!(
                        "{path}: statement {:?}: control check {} failed (declared {}, found {}); recorded because of --control-totals warn",
                        c.statement, c.check, c.declared, c.found
                    ));
                }
            }
            if let Some(j) = side.stats[..i].iter().position(|o| o.sha256 == st.sha256) {
                w.push(format!(
                    "{path} is byte-identical to {} (sent twice?): its rows are rejected as duplicates",
                    side.files[j].path.display()
                ));
            }
        }
    }
    w
}

#[allow(clippy::too_many_arguments)]
fn summary(
    cfg: &ReconcileConfig,
    ins: &Side_,
    set: &Side_,
    rejects: &[Reject],
    m: &Matches,
    cl: &Classes,
    totals: &AllTotals,
    written: &[String],
    warnings: &[String],
    scale: i8,
) -> Summary {
    let rows = |s: &Side_| summary::SideRows {
        rows_in: s.rows_in,
        accepted: s.table.len() as u64,
    };
    let inputs = [ins, set]
        .iter()
        .flat_map(|side| side.files.iter().zip(&side.stats))
        .map(|(f, st)| summary::input_of(f, st))
        .collect();
    let s = &cfg.settings;
    Summary {
        counts: summary::counts(rows(ins), rows(set), rejects, m, cl),
        totals: summary::by_currency(&totals.by_currency),
        totals_by_provider: summary::by_group(&totals.by_provider),
        totals_by_program: summary::by_group(&totals.by_program),
        inputs,
        outputs: written.to_vec(),
        warnings: warnings.to_vec(),
        engine: summary::Engine {
            name: "sverka".into(),
            version: VERSION.into(),
            contract: 2,
        },
        settings: summary::SettingsEcho {
            late_days: s.late_days,
            fallback_days: s.fallback_days,
            shared_account_min: s.shared_account_min,
            outlier_factor: s.outlier_factor.to_string(),
            currency_table: currency::table().version.clone(),
            amount_scale: scale,
        },
        // Filled in beside the totals.
        settlement_delay_by_provider: Default::default(),
        decisions: None,
    }
}
