//! The engine timed through its front door on a synthetic data set (`sverka_benches`),
//! each benchmark checking its answer inside the timed loop (STYLE.md 17): a stage that
//! got faster by doing less fails here instead of looking good.
//!
//! - `parse`: the contract's amount and date grammar (`money`, `date`).
//! - `load`: both sides read, validated and joined through `side::read_paths`, at once
//!   (no de-duplication: that is part of the pipeline's load lap).
//! - `reconcile`: whole runs from Parquet and from CSV, checked against the planted
//!   fates. Criterion measures the whole run; the stages are the run's own laps
//!   (`Outcome.timings`), whose median over the measured runs is printed after each
//!   group ("stage laps"), so the stages add up to the run as the pipeline overlaps them.
//!
//! `cargo bench -p sverka-benches` runs them all; `-- reconcile` only the whole runs.
//! `SVERKA_BENCH_ROWS=6000 cargo bench -p sverka-benches -- --quick` checks that they work.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput};
use sverka_benches::{file_bytes, Dataset, Expected, Files};
use sverka_engine::side::{self, Side};
use sverka_engine::{date, money, ReconcileConfig, Settings, Silent};

/// Everything made once, before any timing.
struct Fixture {
    data: Dataset,
    files: Files,
}

impl Fixture {
    fn new(rows: usize) -> Fixture {
        let data = Dataset::generate(rows);
        let files = Files::write(&data).expect("write the input files");
        eprintln!(
            "data: {rows} instructions + {rows} settlements; parquet {} + {} bytes, csv {} + {} bytes, in {}",
            file_bytes(&files.ins_parquet),
            file_bytes(&files.set_parquet),
            file_bytes(&files.ins_csv),
            file_bytes(&files.set_csv),
            files.dir.path().display(),
        );
        Fixture { data, files }
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
    g.finish();
}

/// Both sides read, validated and joined at once, each checked against the plan.
fn load_both(ins: &PathBuf, set: &PathBuf, e: &Expected) -> [side::Read; 2] {
    let one = |s: Side, i: usize, path: &PathBuf| {
        let read = side::read_paths(s, std::slice::from_ref(path)).expect("read");
        assert_eq!(read.stats[0].rows, e.rows_in[i]);
        assert_eq!(read.rejects.len() as u64, e.field_rejects[i]);
        assert_eq!(read.table.len() as u64, e.rows_in[i] - e.field_rejects[i]);
        read
    };
    let (a, b) = rayon::join(
        || one(Side::Instructions, 0, ins),
        || one(Side::Settlements, 1, set),
    );
    [a, b]
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

/// Each stage's median lap over `runs`, in the pipeline's order.
fn median_laps(runs: &[Vec<(&'static str, Duration)>]) -> Vec<(&'static str, Duration)> {
    let mut order = Vec::new();
    let mut laps: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    for (name, d) in runs.iter().flatten() {
        if !laps.contains_key(name) {
            order.push(*name);
        }
        laps.entry(name).or_default().push(*d);
    }
    order
        .into_iter()
        .map(|name| {
            let v = laps.get_mut(name).expect("seen");
            v.sort_unstable();
            (name, v[v.len() / 2])
        })
        .collect()
}

fn reconcile(c: &mut Criterion, fx: &Fixture) {
    let e = fx.expected();
    let f = &fx.files;
    let mut g = c.benchmark_group("reconcile");
    g.sampling_mode(SamplingMode::Flat);
    // About 0.3 s a run on two cores: 10 samples need more than the default 3 s.
    g.measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(e.total_rows_in()));
    for (name, ins, set) in [
        ("parquet", &f.ins_parquet, &f.set_parquet),
        ("csv", &f.ins_csv, &f.set_csv),
    ] {
        let cfg = ReconcileConfig {
            providers: Default::default(),
            decisions: Vec::new(),
            instructions: vec![ins.clone()],
            settlements: vec![set.clone()],
            out: f.out_dir(name).expect("output directory"),
            csv: false,
            settings: Settings::default(),
        };
        let runs = RefCell::new(Vec::new());
        g.bench_function(name, |b| {
            b.iter(|| {
                let out = sverka_engine::reconcile(&cfg, &Silent).expect("reconcile");
                e.check(&out.summary);
                runs.borrow_mut().push(out.timings.clone());
                out
            })
        });
        let laps: Vec<String> = median_laps(&runs.borrow())
            .iter()
            .map(|(stage, d)| format!("{stage} {d:.1?}"))
            .collect();
        eprintln!("reconcile/{name} stage laps (median): {}", laps.join(", "));
    }
    g.finish();
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let fx = Fixture::new(sverka_benches::rows());
    parse(&mut c, &fx);
    load(&mut c, &fx);
    reconcile(&mut c, &fx);
    c.final_summary();
}
