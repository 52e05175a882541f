//! The commit order of docs/AUDIT.md: an old manifest.json goes before the first rename,
//! the new one is renamed last, so an interrupted commit leaves no manifest, never a stale one.

use sverka_engine::write::{commit, write_bytes, MANIFEST};

#[test]
fn an_interrupted_commit_leaves_no_stale_manifest() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join(MANIFEST), "old").unwrap();
    std::fs::write(d.path().join("a.parquet"), "old a").unwrap();
    // The manifest is listed first: the commit must still rename it last.
    let m = write_bytes(d.path(), MANIFEST, b"new manifest").unwrap();
    let a = write_bytes(d.path(), "a.parquet", b"new a").unwrap();
    // Simulate a crash before the manifest's rename: its temporary file vanished.
    std::fs::remove_file(&m.tmp).unwrap();
    assert!(commit(&[m, a]).is_err());
    assert_eq!(std::fs::read(d.path().join("a.parquet")).unwrap(), b"new a");
    assert!(
        !d.path().join(MANIFEST).exists(),
        "the old manifest must be gone"
    );
}

#[test]
fn a_whole_commit_replaces_everything() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join(MANIFEST), "old").unwrap();
    let m = write_bytes(d.path(), MANIFEST, b"new manifest").unwrap();
    let a = write_bytes(d.path(), "a.parquet", b"new a").unwrap();
    assert_eq!(a.digest.as_ref().unwrap().size, 5);
    assert_eq!(a.digest.as_ref().unwrap().sha256, sha("new a"));
    commit(&[m, a]).unwrap();
    assert_eq!(
        std::fs::read(d.path().join(MANIFEST)).unwrap(),
        b"new manifest"
    );
    let left: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

fn sha(s: &str) -> String {
    use std::io::Write;
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(s.as_bytes()).unwrap();
    let o = std::process::Command::new("sha256sum")
        .arg(f.path())
        .output()
        .unwrap();
    String::from_utf8(o.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}
