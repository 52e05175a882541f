//! The engine's stages timed one by one on a synthetic data set (`sverka_benches`), each
//! checking its answer inside the timed loop (STYLE.md 17): a stage that got faster by
//! doing less fails here instead of looking good.
//!
//! `cargo bench -p sverka-benches` runs them all (a few minutes on two cores);
//! `cargo bench -p sverka-benches -- match` runs the ones whose name contains `match`.
//! Each stage runs with the parallelism `pipeline::reconcile` gives it (both sides
//! loaded at once, as for any input under `CONCURRENT_LOAD_MAX_BYTES`; the two sides
//! de-duplicated at once; the three outputs written at once). Stages the pipeline
//! overlaps (matching beside the group flags, totals beside writing) are timed apart
//! here, so the stage figures add up to somewhat more than `reconcile/parquet`.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{BatchSize, Criterion, SamplingMode, Throughput};
use rayon::prelude::*;
use sverka_benches::{
    chunks, file_bytes, method_counts, unpaid_count, Dataset, Expected, Files, Staged, ROWS,
};
use sverka_engine::dedupe::dedupe;
use sverka_engine::outset::OutputSet;
use sverka_engine::pipeline::{Silent, CONCURRENT_LOAD_MAX_BYTES};
use sverka_engine::schema::Side;
use sverka_engine::table::Table;
use sverka_engine::verify::Rederived;
use sverka_engine::{
    classify, date, load, matching, money, totals, validate, write, ReconcileConfig,
};

/// Everything made once, before any timing.
struct Fixture {
    data: Dataset,
    files: Files,
    staged: Staged,
}

impl Fixture {
    fn new(rows: usize) -> Fixture {
        let data = Dataset::generate(rows);
        let files = Files::write(&data).expect("write the input files");
        let staged = Staged::run(&data);
        eprintln!(
            "data: {rows} instructions + {rows} settlements; parquet {} + {} bytes, csv {} + {} bytes, in {}",
            file_bytes(&files.ins_parquet),
            file_bytes(&files.set_parquet),
            file_bytes(&files.ins_csv),
            file_bytes(&files.set_csv),
            files.dir.path().display(),
        );
        Fixture {
            data,
            files,
            staged,
        }
    }

    fn expected(&self) -> &Expected {
        &self.data.expected
    }
}

fn parse(c: &mut Criterion, fx: &Fixture) {
    let e = fx.expected();
    let amounts = fx.data.amount_texts();
    let dates = fx.data.date_texts();
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(amounts.len() as u64));
    g.bench_function("amount", |b| {
        b.iter(|| {
            let ok = amounts
                .iter()
                .filter(|s| money::parse_amount(black_box(s)).is_some())
                .count() as u64;
            assert_eq!(ok, e.amounts_parsed);
        })
    });
    g.throughput(Throughput::Elements(dates.len() as u64));
    g.bench_function("date", |b| {
        b.iter(|| {
            let ok = dates
                .iter()
                .filter(|s| date::parse_date(black_box(s)).is_some())
                .count() as u64;
            assert_eq!(ok, e.dates_parsed);
        })
    });
    // Text batches of both sides, validated in parallel as `load` does.
    g.throughput(Throughput::Elements(e.total_rows_in()));
    g.bench_function("validate", |b| {
        b.iter_batched(
            || {
                let mut v: Vec<_> = fx
                    .data
                    .instructions
                    .raw_batches()
                    .into_iter()
                    .map(|r| (Side::Instructions, r))
                    .collect();
                v.extend(
                    fx.data
                        .settlements
                        .raw_batches()
                        .into_iter()
                        .map(|r| (Side::Settlements, r)),
                );
                v
            },
            |batches| {
                let chunks: Vec<validate::Chunk> = batches
                    .into_par_iter()
                    .map(|(side, r)| validate::validate(side, r))
                    .collect();
                let rows_in: usize = chunks.iter().map(|c| c.rows_in).sum();
                let kept: usize = chunks.iter().map(|c| c.origin.len()).sum();
                assert_eq!(rows_in as u64, e.total_rows_in());
                assert_eq!(
                    kept as u64,
                    e.total_rows_in() - e.field_rejects[0] - e.field_rejects[1]
                );
                chunks
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

/// discover + read + validate of both sides, at once or one after the other by input
/// size, as `pipeline::reconcile` does.
fn load_both(ins: &PathBuf, set: &PathBuf, e: &Expected) -> [Vec<validate::Chunk>; 2] {
    let side = |side: Side, path: &PathBuf| {
        let files = load::discover(side, std::slice::from_ref(path)).expect("discover");
        let (chunks, stats) =
            load::read_side(&files, &|r| validate::validate(side, r)).expect("read");
        let i = side as usize;
        assert_eq!(stats[0].rows, e.rows_in[i]);
        let rows_in: usize = chunks.iter().map(|c| c.rows_in).sum();
        let kept: usize = chunks.iter().map(|c| c.origin.len()).sum();
        assert_eq!(rows_in as u64, e.rows_in[i]);
        assert_eq!(kept as u64, e.rows_in[i] - e.field_rejects[i]);
        chunks
    };
    if file_bytes(ins) + file_bytes(set) <= CONCURRENT_LOAD_MAX_BYTES {
        let (a, b) = rayon::join(
            || side(Side::Instructions, ins),
            || side(Side::Settlements, set),
        );
        [a, b]
    } else {
        [side(Side::Instructions, ins), side(Side::Settlements, set)]
    }
}

fn load(c: &mut Criterion, fx: &Fixture) {
    let e = fx.expected();
    let f = &fx.files;
    let mut g = c.benchmark_group("load");
    g.sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Elements(e.total_rows_in()));
    g.bench_function("parquet", |b| {
        b.iter(|| load_both(&f.ins_parquet, &f.set_parquet, e))
    });
    g.bench_function("csv", |b| b.iter(|| load_both(&f.ins_csv, &f.set_csv, e)));
    g.finish();
}

fn match_(c: &mut Criterion, fx: &Fixture) {
    let e = fx.expected();
    let st = &fx.staged;
    let days = st.settings.fallback_days;
    let mut g = c.benchmark_group("match");
    g.sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Elements(st.validated[0] + st.validated[1]));
    g.bench_function("dedupe+join+match_all", |b| {
        b.iter_batched(
            || (chunks(&fx.data.instructions), chunks(&fx.data.settlements)),
            |(ic, sc)| {
                let (di, ds) = rayon::join(
                    || dedupe(Side::Instructions, &ic),
                    || dedupe(Side::Settlements, &sc),
                );
                assert_eq!(
                    [di.rejects.len() as u64, ds.rejects.len() as u64],
                    e.duplicates
                );
                let (ins, _, _) =
                    Table::from_chunks(Side::Instructions, ic, di.keep.as_deref()).unwrap();
                let (set, _, _) =
                    Table::from_chunks(Side::Settlements, sc, ds.keep.as_deref()).unwrap();
                let m = matching::match_all(&ins, &di.index, &set, days);
                assert_eq!(
                    method_counts(&m),
                    [e.by_reference, e.by_fallback, e.by_none]
                );
                (ins, set, m)
            },
            BatchSize::LargeInput,
        )
    });
    g.throughput(Throughput::Elements(e.total_accepted()));
    g.bench_function("match_all", |b| {
        b.iter(|| {
            let m = matching::match_all(&st.ins, &st.ins_index, &st.set, days);
            assert_eq!(
                method_counts(&m),
                [e.by_reference, e.by_fallback, e.by_none]
            );
            m
        })
    });
    g.finish();
}

fn classify_totals(c: &mut Criterion, fx: &Fixture) {
    let e = fx.expected();
    let st = &fx.staged;
    let mut g = c.benchmark_group("classify");
    g.sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Elements(e.total_accepted()));
    g.bench_function("classify+totals", |b| {
        b.iter(|| {
            let cl = classify::classify(
                &st.ins,
                &st.set,
                &st.matches,
                &st.settings,
                classify::group_flags(&st.ins, &st.settings),
            );
            assert_eq!(cl.status.len() as u64, e.accepted[0]);
            assert_eq!(unpaid_count(&cl), e.unpaid);
            let t = totals::compute(&st.ins, &st.set, &st.matches, &cl).expect("totals");
            assert_eq!(t.by_currency.len(), 3);
            let (mut ins_n, mut set_n) = (0, 0);
            for v in t.by_currency.values() {
                ins_n += v.instructed_count;
                set_n += v.settled_count + v.returned_count + v.failed_count;
            }
            assert_eq!([ins_n, set_n], e.accepted);
            (cl, t)
        })
    });
    g.finish();
}

/// Builds and writes the three Parquet outputs concurrently, verifying what is written,
/// as `pipeline::reconcile` does; returns the files still in the set's staging folder
/// (dropping the set removes them).
fn write_outputs(fx: &Fixture, out: &std::path::Path) -> (OutputSet, Vec<write::Pending>) {
    let set = OutputSet::begin(out).expect("output set");
    let (e, st) = (fx.expected(), &fx.staged);
    let ctx = write::Ctx::new(
        &st.ins,
        &st.set,
        &st.matches,
        &st.classes,
        &st.rejects,
        &st.files,
    );
    let results: Vec<(Vec<write::Pending>, Rederived)> = write::Output::ALL
        .par_iter()
        .map(|&o| {
            let mut r = Rederived::default();
            let p = write::write_output(&set, &ctx, o, false, &mut |_, b| r.add(o, b))
                .expect("write output");
            (p, r)
        })
        .collect();
    let mut pending = Vec::new();
    let mut again = Rederived::default();
    for (p, r) in results {
        pending.extend(p);
        again.merge(r).expect("merge");
    }
    assert_eq!(again.rows, e.accepted);
    assert_eq!(again.rejected, e.rejects());
    again
        .check(st.rows_in, &st.totals.by_currency)
        .expect("conservation and totals");
    (set, pending)
}

fn write_(c: &mut Criterion, fx: &Fixture) {
    let e = fx.expected();
    let out = fx.files.out_dir("write").expect("output directory");
    let (set, pending) = write_outputs(fx, &out);
    let sizes: Vec<String> = pending
        .iter()
        .map(|p| format!("{} {} bytes", p.dest.display(), file_bytes(&p.tmp)))
        .collect();
    eprintln!("write outputs: {}", sizes.join(", "));
    drop(set);
    let mut g = c.benchmark_group("write");
    g.sampling_mode(SamplingMode::Flat);
    // Output rows: every input row is in exactly one of the three outputs.
    g.throughput(Throughput::Elements(e.total_rows_in()));
    g.bench_function("parquet", |b| b.iter(|| drop(write_outputs(fx, &out))));
    g.finish();
}

fn reconcile(c: &mut Criterion, fx: &Fixture) {
    let e = fx.expected();
    let cfg = ReconcileConfig {
        instructions: vec![fx.files.ins_parquet.clone()],
        settlements: vec![fx.files.set_parquet.clone()],
        out: fx.files.out_dir("reconcile").expect("output directory"),
        csv: false,
        settings: fx.staged.settings.clone(),
    };
    let mut g = c.benchmark_group("reconcile");
    g.sampling_mode(SamplingMode::Flat);
    // About 0.3 s a run on two cores: 10 samples need more than the default 3 s.
    g.measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(e.total_rows_in()));
    g.bench_function("parquet", |b| {
        b.iter(|| {
            let out = sverka_engine::reconcile(&cfg, &Silent).expect("reconcile");
            let n = &out.summary.counts;
            assert_eq!(n.instructions_accepted, e.accepted[0]);
            assert_eq!(n.settlements_accepted, e.accepted[1]);
            assert_eq!(n.by_match.get("REFERENCE"), e.by_reference);
            assert_eq!(n.by_match.get("FALLBACK"), e.by_fallback);
            assert_eq!(out.count_of("UNPAID"), e.unpaid);
            assert_eq!(out.count_of("rejects"), e.rejects()[0] + e.rejects()[1]);
            out
        })
    });
    g.finish();
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let fx = Fixture::new(ROWS);
    parse(&mut c, &fx);
    load(&mut c, &fx);
    match_(&mut c, &fx);
    classify_totals(&mut c, &fx);
    write_(&mut c, &fx);
    reconcile(&mut c, &fx);
    c.final_summary();
}
