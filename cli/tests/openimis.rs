//! End-to-end tests of `sverka openimis fill` (issue 24): testdata/openimis's instructions
//! and settlements reconciled, then each golden download filled and compared byte for byte
//! with its hand-written upload.csv and not-paid.csv; each bad download refused with its
//! whole message and nothing written; the README's example of examples/openimis run as
//! written, against its expected files.

mod common;
use common::{bin, reconcile, root, text};
use std::path::{Path, PathBuf};
use std::process::Output;

fn fill(dir: &Path, download: &Path, results: &Path, out: &Path, extra: &[&str]) -> Output {
    bin()
        .current_dir(dir)
        .args(["openimis", "fill", "--download"])
        .arg(download)
        .arg("--results")
        .arg(results)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

/// testdata/openimis reconciled into a temporary folder.
fn results() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let data = root().join("testdata/openimis");
    let res = t.path().join("results");
    let o = reconcile(
        &data.join("instructions.csv"),
        &data.join("settlements.csv"),
        &res,
        &["--quiet"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    (t, res)
}

/// Fills `case`'s download.csv into a folder of its own under `t`, where an earlier
/// upload.csv waits to be replaced (or kept, when the fill fails).
fn fill_case(t: &Path, case: &Path, res: &Path) -> (PathBuf, Output) {
    let out = t.join(case.file_name().unwrap());
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("upload.csv"), "earlier").unwrap();
    let o = fill(
        case,
        Path::new("download.csv"),
        res,
        &out.join("upload.csv"),
        &[],
    );
    (out, o)
}

fn cases(prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("testdata/openimis"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no case {prefix}*");
    v
}

fn same_bytes(got: &Path, want: &Path) {
    let (g, w) = (std::fs::read(got).unwrap(), std::fs::read(want).unwrap());
    assert!(
        g == w,
        "{} differs from {}:\n--- got\n{}\n--- want\n{}",
        got.display(),
        want.display(),
        text(&g),
        text(&w)
    );
}

#[test]
fn golden_downloads_are_filled_byte_for_byte() {
    let (t, res) = results();
    for case in cases("0") {
        let (out, o) = fill_case(t.path(), &case, &res);
        assert!(
            o.status.success(),
            "{}: {}",
            case.display(),
            text(&o.stderr)
        );
        same_bytes(&out.join("upload.csv"), &case.join("expected/upload.csv"));
        same_bytes(
            &out.join("not-paid.csv"),
            &case.join("expected/not-paid.csv"),
        );
        // The earlier upload replaced; every row accounted for on the closing screen.
        let err = text(&o.stderr);
        let rows = std::fs::read_to_string(case.join("expected/not-paid.csv"))
            .unwrap()
            .lines()
            .count()
            - 1;
        assert!(
            err.contains(&format!(", {rows} left as they were")),
            "{err}"
        );
        // Filling the filled file again changes nothing: its filled rows are filled.
        let again = out.join("again.csv");
        let o = fill(
            &out,
            Path::new("upload.csv"),
            &res,
            &again,
            &["--not-paid", "again-not-paid.csv", "-q"],
        );
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert!(o.stderr.is_empty(), "{}", text(&o.stderr));
        same_bytes(&again, &out.join("upload.csv"));
    }
}

#[test]
fn the_closing_screen_counts_every_row() {
    let (t, res) = results();
    let case = root().join("testdata/openimis/01-plain");
    let o = fill(
        &case,
        Path::new("download.csv"),
        &res,
        &t.path().join("u.csv"),
        &[],
    );
    assert!(o.status.success());
    let u = t.path().join("u.csv");
    let n = t.path().join("not-paid.csv");
    assert_eq!(
        text(&o.stderr),
        format!(
            "sverka openimis fill: 18 rows: 6 marked paid (Paid = Yes) in {}, 12 left as they \
             were (listed in {})\n  \
             not_in_results             2\n  \
             openimis_status            2\n  \
             already_filled             1\n  \
             not_paid                   5\n  \
             account_mismatch           1\n  \
             amount_differs             1\n\
             sverka openimis fill: warning: the Amount of 1 row is not the instructed amount\n\
             sverka openimis fill: warning: 1 receipt filled look like numbers or missing values \
             to openIMIS's reader (first: row 17, \"0004711\"), which may store them changed \
             (leading zeros lost, \".0\" added); see docs/OPENIMIS.md\n\
             sverka openimis fill: note: 3 instructions of the reconciliation (2 PAID) not in \
             the download (another payroll's?)\n",
            u.display(),
            n.display()
        )
    );
}

#[test]
fn bad_downloads_are_refused_with_their_message_and_nothing_written() {
    let (t, res) = results();
    for case in cases("bad-") {
        // An earlier upload stays as it was.
        let (out, o) = fill_case(t.path(), &case, &res);
        let want = std::fs::read_to_string(case.join("expected/stderr.txt")).unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", case.display());
        assert_eq!(text(&o.stderr), want, "{}", case.display());
        let left: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["upload.csv"], "{}", case.display());
        assert_eq!(
            std::fs::read_to_string(out.join("upload.csv")).unwrap(),
            "earlier"
        );
    }
}

#[test]
fn unusable_arguments_are_exit_2() {
    let (t, res) = results();
    let case = root().join("testdata/openimis/01-plain");
    let run = |download: &Path, results: &Path, out: &Path, extra: &[&str]| {
        let o = fill(&case, download, results, out, extra);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
        text(&o.stderr)
    };
    let d = Path::new("download.csv");
    let out = t.path().join("u.csv");
    // A folder that is not a reconcile folder.
    let empty = t.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(run(d, &empty, &out, &[]).contains("give the output folder of `sverka reconcile`"));
    // A reconcile folder without its settlements.
    let partial = t.path().join("partial");
    std::fs::create_dir(&partial).unwrap();
    for f in ["summary.json", "instructions.parquet", "rejects.parquet"] {
        std::fs::copy(res.join(f), partial.join(f)).unwrap();
    }
    let e = run(d, &partial, &out, &[]);
    assert!(e.contains("settlements.parquet: missing"), "{e}");
    // The download is never replaced; the two outputs are two files.
    let e = run(d, &res, &case.join("download.csv"), &[]);
    assert!(e.contains("the download would be replaced"), "{e}");
    let e = run(d, &res, &out, &["--not-paid", out.to_str().unwrap()]);
    assert!(e.contains("give two files"), "{e}");
    let e = run(Path::new("missing.csv"), &res, &out, &[]);
    assert!(e.starts_with("sverka: missing.csv: No such file"), "{e}");
    let e = run(d, &res, &t.path().join("no/such/u.csv"), &[]);
    assert!(e.contains("no such folder"), "{e}");
    assert!(!out.exists());
}

/// examples/openimis/README.md's commands, run as written from the repository's root.
#[test]
fn the_example_runs_as_its_readme_says() {
    let readme = std::fs::read_to_string(root().join("examples/openimis/README.md")).unwrap();
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let mut ran = 0;
    for line in readme.lines() {
        let Some(args) = line.strip_prefix("cargo run --release -p sverka -- ") else {
            if let Some(dir) = line.strip_prefix("mkdir -p ") {
                std::fs::create_dir_all(t.path().join(dir)).unwrap();
            }
            continue;
        };
        let args: Vec<String> = args
            .split_whitespace()
            .map(|a| match a.strip_prefix("out/") {
                Some(rest) => out.join(rest).to_str().unwrap().to_string(),
                None => a.to_string(),
            })
            .collect();
        let o = bin().current_dir(root()).args(&args).output().unwrap();
        assert!(o.status.success(), "{line}: {}", text(&o.stderr));
        ran += 1;
    }
    assert_eq!(ran, 2, "the README runs reconcile, then fill");
    let ex = root().join("examples/openimis/expected");
    same_bytes(
        &out.join("openimis-upload/upload.csv"),
        &ex.join("upload.csv"),
    );
    same_bytes(
        &out.join("openimis-upload/not-paid.csv"),
        &ex.join("not-paid.csv"),
    );
}
