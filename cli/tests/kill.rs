//! Output sets are whole under kill -9: a real child process is killed at every fault
//! point of a run (each file written, each entry carried over, the swap, each step of
//! clearing the replaced set and a dead writer's leftovers) and at random moments; after
//! each kill `sverka verify` passes on the output folder, which holds exactly the earlier
//! set or exactly the new one, and the next run leaves nothing of the killed one behind.
//!
//! The fault points exist only in builds with the engine's `fault-injection` feature,
//! which this crate's dev-dependencies turn on for its test builds alone.

mod common;
use common::{bin, copy_dir, kill_at, nothing_beside, points, run_ok, snapshot, verify, Job};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn demo(side: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/demo")
        .join(side)
}

fn reconcile_job(extra: &'static [&'static str]) -> impl Fn(&Path) -> Command {
    move |out: &Path| {
        let mut c = bin();
        c.arg("reconcile")
            .arg("--instructions")
            .arg(demo("instructions"))
            .arg("--settlements")
            .arg(demo("settlements"))
            .arg("--out")
            .arg(out)
            .arg("--quiet")
            .args(extra);
        c
    }
}

/// Kills `job` at every point it passes, over a folder holding `old`; checks the folder
/// after each kill, then that a rerun clears the leftovers and gives the new set.
fn kill_everywhere(job: &Job, old: &Path, extra_env: &[(&str, &str)]) {
    let t = tempfile::tempdir().unwrap();
    let parent = t.path().join("p");
    let out = parent.join("out");
    copy_dir(old, &out);
    let old_set = snapshot(&out);
    let pts = points(job, &out, t.path());
    let new_set = snapshot(&out);
    assert!(old_set != new_set, "the job must change the folder");
    assert!(pts.len() >= 8, "too few fault points: {pts:?}");
    for p in &pts {
        std::fs::remove_dir_all(&parent).unwrap();
        copy_dir(old, &out);
        let mut c = job(&out);
        for (k, v) in extra_env {
            c.env(k, v);
        }
        kill_at(c, p);
        if !out.exists() {
            // Only the fallback swap (two renames) may leave no folder, for the next
            // run to restore; it is never the exchange.
            assert!(
                !extra_env.is_empty(),
                "{p}: no output folder after the kill"
            );
        } else {
            let now = snapshot(&out);
            assert!(
                now == old_set || now == new_set,
                "{p}: the folder is neither the old set nor the new one: {:?}",
                now.iter().map(|x| &x.0).collect::<Vec<_>>()
            );
            verify(&out);
        }
        // The next run clears the killed one's leftovers and writes the new set.
        let c = job(&out);
        run_ok(c);
        assert!(snapshot(&out) == new_set, "{p}: the rerun's set differs");
        nothing_beside(&parent);
    }
}

#[test]
fn reconcile_is_whole_under_kill_at_every_point() {
    let t = tempfile::tempdir().unwrap();
    let old = t.path().join("old");
    // The old set has CSV copies the new one does not: a mix would show them.
    run_ok(reconcile_job(&["--csv", "--late-days", "1"])(&old));
    kill_everywhere(&reconcile_job(&[]), &old, &[]);
}

#[test]
fn reconcile_is_whole_under_kill_with_the_fallback_swap() {
    let t = tempfile::tempdir().unwrap();
    let old = t.path().join("old");
    run_ok(reconcile_job(&["--csv"])(&old));
    kill_everywhere(
        &reconcile_job(&["--no-report"]),
        &old,
        &[("SVERKA_FAULT_ON", "set:no-exchange")],
    );
}

#[test]
fn report_is_whole_under_kill_at_every_point() {
    let t = tempfile::tempdir().unwrap();
    let old = t.path().join("old");
    run_ok(reconcile_job(&["--csv"])(&old));
    // An old report that differs from what `sverka report` writes: as a report
    // damaged after the run would be (verify then fails on the old set alone, so
    // the old set here is the folder without it).
    std::fs::remove_file(old.join("report.html")).unwrap();
    let job = |out: &Path| {
        let mut c = bin();
        c.arg("report").arg(out);
        c
    };
    let t2 = tempfile::tempdir().unwrap();
    let parent = t2.path().join("p");
    let out = parent.join("out");
    copy_dir(&old, &out);
    let old_set = snapshot(&out);
    let pts = points(&job, &out, t2.path());
    let new_set = snapshot(&out);
    assert!(pts.len() >= 8, "{pts:?}");
    for p in &pts {
        std::fs::remove_dir_all(&parent).unwrap();
        copy_dir(&old, &out);
        kill_at(job(&out), p);
        let now = snapshot(&out);
        assert!(now == old_set || now == new_set, "{p}: neither old nor new");
        run_ok(job(&out));
        assert!(snapshot(&out) == new_set, "{p}: the rerun's set differs");
        verify(&out);
        nothing_beside(&parent);
    }
}

#[test]
fn a_kill_while_clearing_leftovers_is_cleared_by_the_next_run() {
    let t = tempfile::tempdir().unwrap();
    let parent = t.path().join("p");
    let out = parent.join("out");
    let job = reconcile_job(&[]);
    run_ok(reconcile_job(&["--csv"])(&out));
    let old_set = snapshot(&out);
    let elsewhere = t.path().join("new");
    copy_dir(&out, &elsewhere);
    run_ok(job(&elsewhere));
    let new_set = snapshot(&elsewhere);
    // Leftovers of a run killed after writing its files, before the swap.
    kill_at(job(&out), "set:before-swap#1");
    // The next runs are killed while they clear them (each leaves leftovers of its own),
    // at each step in turn; the last steps may come after a swap.
    for k in 1..=6 {
        kill_at(job(&out), &format!("set:cleaned#{k}"));
        let now = snapshot(&out);
        assert!(
            now == old_set || now == new_set,
            "cleaned#{k}: neither old nor new"
        );
        verify(&out);
    }
    run_ok(job(&out));
    assert!(snapshot(&out) == new_set);
    nothing_beside(&parent);
}

#[test]
fn random_kills_leave_the_old_or_the_new_set() {
    let t = tempfile::tempdir().unwrap();
    let old = t.path().join("old");
    run_ok(reconcile_job(&["--csv"])(&old));
    let job = reconcile_job(&[]);
    let parent = t.path().join("p");
    let out = parent.join("out");
    copy_dir(&old, &out);
    let old_set = snapshot(&out);
    let started = std::time::Instant::now();
    run_ok(job(&out));
    let took = started.elapsed();
    let new_set = snapshot(&out);
    for i in 0..12u32 {
        std::fs::remove_dir_all(&parent).unwrap();
        copy_dir(&old, &out);
        let mut child = job(&out).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(took * i / 10);
        let _ = child.kill();
        child.wait().unwrap();
        let now = snapshot(&out);
        assert!(
            now == old_set || now == new_set,
            "kill {i}: neither old nor new"
        );
        verify(&out);
        run_ok(job(&out));
        assert!(
            snapshot(&out) == new_set,
            "kill {i}: the rerun's set differs"
        );
        nothing_beside(&parent);
    }
}
