//! The auditor's view timed on the benches' synthetic data set: the report built from a
//! results folder (the step every `reconcile` run adds), `sverka verify`, and a whole
//! run with report and manifest against one without. Each checks its answer in the loop.
//!
//! `cargo bench -p sverka-benches --bench audit`.

use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput};
use sverka_audit::AuditFinish;
use sverka_benches::{Dataset, Files};
use sverka_engine::{ReconcileConfig, Settings, Silent};

fn main() {
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    let n = sverka_benches::rows();
    let data = Dataset::generate(n);
    let files = Files::write(&data).expect("write the input files");
    let out = files.out_dir("audit").expect("output directory");
    let cfg = |out: std::path::PathBuf| ReconcileConfig {
        providers: Default::default(),
        decisions: Vec::new(),
        instructions: vec![files.ins_parquet.clone()],
        settlements: vec![files.set_parquet.clone()],
        out,
        csv: false,
        settings: Settings::default(),
    };
    let run = sverka_engine::reconcile_with(&cfg(out.clone()), &Silent, &AuditFinish::new(true))
        .expect("reconcile");
    let rows = data.expected.total_rows_in();
    let instructed: Vec<String> = run
        .summary
        .totals
        .values()
        .map(|t| t.instructed_amount.clone())
        .collect();
    eprintln!(
        "data: {n} instructions + {n} settlements; report.html {} bytes",
        std::fs::metadata(out.join("report.html")).map_or(0, |m| m.len())
    );

    let mut g = c.benchmark_group("audit");
    g.sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Elements(rows));
    g.bench_function("report", |b| {
        b.iter(|| {
            let html = sverka_audit::report::render_folder(&out).expect("report");
            for figure in &instructed {
                assert!(html.contains(figure.as_str()));
            }
            html
        })
    });
    g.bench_function("verify", |b| {
        b.iter(|| {
            let r = sverka_audit::verify::verify(&out, &[]).expect("verify");
            assert!(r.discrepancies.is_empty(), "{}", r.text());
            r
        })
    });
    for (name, report) in [
        ("reconcile/with-report", true),
        ("reconcile/no-report", false),
    ] {
        let dir = files
            .out_dir(name.replace('/', "-").as_str())
            .expect("output directory");
        let cfg = cfg(dir);
        g.bench_function(name, |b| {
            b.iter(|| {
                let o = sverka_engine::reconcile_with(&cfg, &Silent, &AuditFinish::new(report))
                    .expect("reconcile");
                assert_eq!(o.summary.counts, run.summary.counts);
                o
            })
        });
    }
    g.finish();
}
