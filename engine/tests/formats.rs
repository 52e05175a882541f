//! CSV, Parquet (text and typed columns) and Arrow IPC inputs give identical results;
//! damaged and hostile files stop with exit 2, never a panic.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use sverka_engine::side::{self, Format, Side};
use sverka_engine::{ReconcileConfig, Settings, Silent};

fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/cases")
        .join(name)
}

fn run(ins: &Path, set: &Path, out: &Path) -> sverka_engine::Result<sverka_engine::Outcome> {
    sverka_engine::reconcile(
        &ReconcileConfig {
            providers: Default::default(),
            decisions: Vec::new(),
            instructions: vec![ins.to_path_buf()],
            settlements: vec![set.to_path_buf()],
            out: out.to_path_buf(),
            csv: true,
            settings: Settings::default(),
        },
        &Silent,
    )
}

fn read_parquet(p: &Path) -> Vec<RecordBatch> {
    let r = ParquetRecordBatchReaderBuilder::try_new(File::open(p).unwrap())
        .unwrap()
        .build()
        .unwrap();
    r.map(|b| b.unwrap()).collect()
}

fn write_parquet(p: &Path, batches: &[RecordBatch]) {
    let mut w = ArrowWriter::try_new(File::create(p).unwrap(), batches[0].schema(), None).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.close().unwrap();
}

fn write_ipc(p: &Path, batches: &[RecordBatch]) {
    let mut w =
        arrow_ipc::writer::FileWriter::try_new(File::create(p).unwrap(), &batches[0].schema())
            .unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.finish().unwrap();
}

/// Every column of a batch as text, as a text-typed Parquet file would hold it.
fn as_text(b: &RecordBatch, csv: &Path) -> RecordBatch {
    // Re-read the CSV copy: it holds the same rows as canonical text.
    let t = text_batch(csv, false).unwrap();
    assert_eq!(t.num_rows(), b.num_rows());
    t
}

/// A CSV file's rows as an all-text batch; `empty_as_null` makes empty cells nulls. None
/// when the CSV is not a clean table (malformed rows are the CSV reader's business).
fn text_batch(csv_path: &Path, empty_as_null: bool) -> Option<RecordBatch> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(csv_path)
        .ok()?;
    let headers: Vec<String> = r.headers().ok()?.iter().map(String::from).collect();
    let rows: Vec<csv::StringRecord> = r.records().collect::<Result<_, _>>().ok()?;
    let fields: Vec<Field> = headers
        .iter()
        .map(|h| Field::new(h, DataType::Utf8, true))
        .collect();
    let cols: Vec<ArrayRef> = (0..headers.len())
        .map(|k| {
            Arc::new(StringArray::from_iter(rows.iter().map(|r| {
                let v = &r[k];
                (!(empty_as_null && v.is_empty())).then(|| v.to_string())
            }))) as ArrayRef
        })
        .collect();
    Some(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap())
}

/// The row outputs as CSV text without the lineage columns `file` and `format`, which
/// name the input file and its format and so differ between formats of the same rows.
fn results(out: &Path) -> (String, String) {
    let read = |name: &str| {
        let mut r = csv::Reader::from_path(out.join(name)).unwrap();
        let headers = r.headers().unwrap().clone();
        let keep: Vec<usize> = (0..headers.len())
            .filter(|&k| !matches!(&headers[k], "file" | "format"))
            .collect();
        let line = |rec: &csv::StringRecord| {
            keep.iter()
                .map(|&k| rec[k].to_string())
                .collect::<Vec<_>>()
                .join(",")
                + "\n"
        };
        let mut text = line(&headers);
        for rec in r.records() {
            text.push_str(&line(&rec.unwrap()));
        }
        text
    };
    (read("instructions.csv"), read("settlements.csv"))
}

/// Runs case 059 (every status, several flags) from CSV into `dir/first`; its outputs
/// serve as Parquet inputs and its CSV results as the expected ones.
fn reference_run(dir: &Path) -> PathBuf {
    let c = case("059-flags-combined-alphabetical");
    let first = dir.join("first");
    run(
        &c.join("instructions.csv"),
        &c.join("settlements.csv"),
        &first,
    )
    .unwrap();
    first
}

#[test]
fn csv_parquet_typed_parquet_text_and_arrow_agree() {
    let dir = tempfile::tempdir().unwrap();
    let first = reference_run(dir.path());
    let expected = results(&first);

    // The engine's own outputs are valid inputs with typed columns (Decimal128, Date32):
    // extra columns are ignored.
    let typed = dir.path().join("typed");
    run(
        &first.join("instructions.parquet"),
        &first.join("settlements.parquet"),
        &typed,
    )
    .unwrap();
    assert_eq!(results(&typed), expected, "typed Parquet");

    let ins_b = read_parquet(&first.join("instructions.parquet"));
    let set_b = read_parquet(&first.join("settlements.parquet"));
    let (ti, ts) = (dir.path().join("i.arrow"), dir.path().join("s.arrow"));
    write_ipc(&ti, &ins_b);
    write_ipc(&ts, &set_b);
    let arrow = dir.path().join("arrow");
    run(&ti, &ts, &arrow).unwrap();
    assert_eq!(results(&arrow), expected, "Arrow IPC");

    let (pi, ps) = (dir.path().join("i.parquet"), dir.path().join("s.parquet"));
    write_parquet(&pi, &[as_text(&ins_b[0], &first.join("instructions.csv"))]);
    write_parquet(&ps, &[as_text(&set_b[0], &first.join("settlements.csv"))]);
    let text = dir.path().join("text");
    run(&pi, &ps, &text).unwrap();
    assert_eq!(results(&text), expected, "text Parquet");
}

fn expect_exit2(ins: &Path, set: &Path, needles: &[&str]) {
    let out = tempfile::tempdir().unwrap();
    let err = run(ins, set, out.path()).expect_err("must fail");
    assert_eq!(err.exit_code(), 2, "{err}");
    let msg = err.to_string();
    for n in needles {
        assert!(msg.contains(n), "{msg:?} lacks {n:?}");
    }
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        0,
        "a failed run writes nothing"
    );
}

#[test]
fn damaged_parquet_is_exit_2_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let c = case("059-flags-combined-alphabetical");
    let first = dir.path().join("first");
    run(
        &c.join("instructions.csv"),
        &c.join("settlements.csv"),
        &first,
    )
    .unwrap();
    let good = std::fs::read(first.join("instructions.parquet")).unwrap();
    let set = first.join("settlements.parquet");

    let truncated = dir.path().join("truncated.parquet");
    std::fs::write(&truncated, &good[..good.len() / 2]).unwrap();
    expect_exit2(
        &truncated,
        &set,
        &["truncated.parquet", "not a complete Parquet file"],
    );

    // Footer length pointing before the start of the file (arrow-rs#10920 pattern).
    let mut lying = good.clone();
    let n = lying.len();
    lying[n - 8..n - 4].copy_from_slice(&u32::MAX.to_le_bytes());
    let p = dir.path().join("lying.parquet");
    std::fs::write(&p, &lying).unwrap();
    expect_exit2(&p, &set, &["lying.parquet"]);

    // Bytes scrambled in the middle: pages and metadata garbage.
    for (k, stride) in [(1usize, 7usize), (2, 13), (3, 31)] {
        let mut bad = good.clone();
        for i in (4..bad.len() - 8).step_by(stride) {
            bad[i] ^= 0x5a;
        }
        let p = dir.path().join(format!("scrambled{k}.parquet"));
        std::fs::write(&p, &bad).unwrap();
        let out = tempfile::tempdir().unwrap();
        if let Err(e) = run(&p, &set, out.path()) {
            assert_eq!(e.exit_code(), 2, "{e}");
        }
    }

    let not_arrow = dir.path().join("x.arrow");
    std::fs::write(&not_arrow, b"ARROW1 but not really").unwrap();
    expect_exit2(&not_arrow, &set, &["x.arrow"]);
}

#[test]
fn float_amount_column_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "instruction_id",
        "beneficiary_id",
        "program",
        "cycle",
        "provider",
        "account",
        "currency",
        "due_date",
    ];
    let mut fields: Vec<Field> = names
        .iter()
        .map(|n| Field::new(*n, DataType::Utf8, false))
        .collect();
    let mut cols: Vec<ArrayRef> = names
        .iter()
        .map(|_| Arc::new(StringArray::from(vec!["x"])) as ArrayRef)
        .collect();
    fields.push(Field::new("amount", DataType::Float64, false));
    cols.push(Arc::new(Float64Array::from(vec![1.5])));
    let b = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap();
    let p = dir.path().join("float.parquet");
    write_parquet(&p, &[b]);
    let c = case("059-flags-combined-alphabetical");
    expect_exit2(
        &p,
        &c.join("settlements.csv"),
        &["float.parquet", "amount", "floating point"],
    );
}

#[test]
fn hostile_csv_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let c = case("059-flags-combined-alphabetical");
    let set = c.join("settlements.csv");
    let header =
        "instruction_id,beneficiary_id,program,cycle,provider,account,amount,currency,due_date\n";
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    // A record far over the size cap (one line, no newline).
    let mut huge = header.as_bytes().to_vec();
    huge.extend(std::iter::repeat_n(b'a', 2 << 20));
    expect_exit2(
        &write("huge.csv", &huge),
        &set,
        &["huge.csv", "larger than"],
    );
    // NUL padding after a transfer was cut.
    let mut padded = format!("{header}I1,B1,P,2026-11,P1,A1,10.00,UZS,2026-11-05\n").into_bytes();
    padded.extend([0u8; 64]);
    expect_exit2(&write("padded.csv", &padded), &set, &["padded.csv", "NUL"]);
    // Not a regular file.
    expect_exit2(Path::new("/dev/null/x.csv"), &set, &["x.csv"]);
    // The file is read in 1 MiB blocks: a character cut by a block boundary is whole
    // again, and a bad byte far into the file is found there, with its line and byte.
    let row = |i: usize, pad: &str| {
        format!("I{i:07},B{i}{pad},P,2026-11,P1,Счёт-{i:07},10.00,UZS,2026-11-05\n")
    };
    let mut rows = String::new();
    let mut i = 1;
    while rows.len() < 3 << 20 {
        rows.push_str(&row(i, ""));
        i += 1;
    }
    // The first row padded so that the first block boundary cuts a character in two.
    let big = (0..64)
        .map(|p| format!("{header}{}{rows}", row(0, &"x".repeat(p))))
        .find(|b| !b.is_char_boundary(1 << 20))
        .expect("some padding puts the boundary inside a character");
    let out = dir.path().join("big-out");
    let o = run(&write("big.csv", big.as_bytes()), &set, &out).unwrap();
    assert_eq!(o.summary.counts.instructions_in, i as u64);
    assert!(std::fs::read_to_string(out.join("instructions.csv"))
        .unwrap()
        .contains(&format!("Счёт-{:07}", i - 1)));
    let mut bad = big.into_bytes();
    let at = (5 << 19) + 7;
    bad[at] = 0xFF;
    let line = bad[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    expect_exit2(
        &write("bad.csv", &bad),
        &set,
        &["bad.csv", &format!("not UTF-8 (line {line}, byte {at})")],
    );
    // A file cut inside its last character.
    let mut cut = format!("{header}I1,B1,P,2026-11,P1,Ж").into_bytes();
    cut.pop();
    expect_exit2(&write("cut.csv", &cut), &set, &["cut.csv", "not UTF-8"]);
}

/// Regression: row groups are decoded in parallel; tasks once shared one cloned file
/// handle (one offset) and read each other's bytes. Many small row groups make that
/// race near certain.
#[test]
fn regression_parallel_row_groups_read_their_own_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let n = 60_000;
    let names = [
        "instruction_id",
        "beneficiary_id",
        "program",
        "cycle",
        "provider",
        "account",
        "amount",
        "currency",
        "due_date",
    ];
    let col = |f: &dyn Fn(usize) -> String| -> ArrayRef {
        Arc::new(StringArray::from_iter_values((0..n).map(f)))
    };
    let cols: Vec<ArrayRef> = vec![
        col(&|i| format!("INS-{i:08}")),
        col(&|i| format!("B{i}")),
        col(&|i| ["CB", "PEN"][i % 2].to_string()),
        col(&|_| "2026-11".to_string()),
        col(&|i| ["P1", "P2", "P3"][i % 3].to_string()),
        col(&|i| format!("ACC{i:010}")),
        col(&|i| format!("{}.00", 100 + i % 7)),
        col(&|_| "UZS".to_string()),
        col(&|i| format!("2026-11-{:02}", 1 + i % 28)),
    ];
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(*n, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
    let p = dir.path().join("many-groups.parquet");
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(1000))
        .build();
    let mut w = ArrowWriter::try_new(File::create(&p).unwrap(), schema, Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let set = dir.path().join("s.csv");
    std::fs::write(
        &set,
        "provider,provider_ref,account,amount,currency,status,value_date\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .unwrap();
    let o = pool.install(|| run(&p, &set, &out)).unwrap();
    assert_eq!(o.summary.counts.instructions_accepted, n as u64);
    let back = read_parquet(&out.join("instructions.parquet"));
    let ids: Vec<String> = back
        .iter()
        .flat_map(|b| {
            let a = b.column(0).as_any().downcast_ref::<StringArray>().unwrap();
            (0..a.len())
                .map(|i| a.value(i).to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(ids.len(), n);
    assert!(ids
        .iter()
        .enumerate()
        .all(|(i, id)| *id == format!("INS-{i:08}")));
}

/// A CSV file of several 64K-row batches (validated on the pool while the parse goes on)
/// gives the results, rejects and row numbers of the same rows read as text Parquet,
/// whose reader cuts batches its own way; in a pool of 1, 2 and 4 threads.
#[test]
fn csv_batches_keep_their_order_and_row_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let n = 150_000;
    let mut ins = String::from(
        "instruction_id,beneficiary_id,program,cycle,provider,account,amount,currency,due_date\n",
    );
    for i in 0..n {
        // Rejects in every batch: bad amounts, unknown currencies, a blank id, and ids
        // sent again in a later batch (the first row wins).
        let id = match i {
            140_000 => "INS-00000007".to_string(),
            100_001 => " ".to_string(),
            _ => format!("INS-{i:08}"),
        };
        let amount = if i % 9_973 == 5 {
            "\"12,50\""
        } else {
            "1500.00"
        };
        let ccy = if i % 31_337 == 30_000 { "XYZ" } else { "UZS" };
        ins.push_str(&format!(
            "{id},B{},P{},2026-11,HUMO,8600{i:012},{amount},{ccy},2026-11-05\n",
            i % 120_000,
            i % 3
        ));
    }
    let mut set = String::from(
        "provider,provider_ref,instruction_id,account,amount,currency,status,value_date\n",
    );
    for i in (0..n).step_by(2) {
        let status = if i % 20_000 == 0 { "PAID" } else { "SETTLED" };
        set.push_str(&format!(
            "HUMO,R{i},INS-{i:08},8600{i:012},1500.00,UZS,{status},2026-11-06\n"
        ));
    }
    let (ic, sc) = (dir.path().join("i.csv"), dir.path().join("s.csv"));
    std::fs::write(&ic, ins).unwrap();
    std::fs::write(&sc, set).unwrap();
    let (ip, sp) = (dir.path().join("i.parquet"), dir.path().join("s.parquet"));
    write_parquet(&ip, &[text_batch(&ic, false).unwrap()]);
    write_parquet(&sp, &[text_batch(&sc, false).unwrap()]);
    let parquet_out = dir.path().join("parquet");
    run(&ip, &sp, &parquet_out).unwrap();
    let rejects = rejects_without_file(&parquet_out);
    // Rejects come from every batch of both sides, the duplicate among them.
    assert_eq!(rejects.len(), 30, "{rejects:?}");
    assert!(rejects
        .iter()
        .any(|r| r[1] == "140001" && r[3] == "duplicate_instruction_id"));
    assert!(rejects
        .iter()
        .any(|r| r[0] == "settlements" && r[1].parse::<u64>().unwrap() > 65_536));
    for threads in [1, 2, 4] {
        let out = dir.path().join(format!("csv-{threads}"));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| run(&ic, &sc, &out)).unwrap();
        assert_eq!(results(&out), results(&parquet_out), "{threads} threads");
        assert_eq!(rejects_without_file(&out), rejects, "{threads} threads");
    }
}

/// The rows of rejects.csv without the file column (the inputs' names differ).
fn rejects_without_file(out: &Path) -> Vec<Vec<String>> {
    csv::Reader::from_path(out.join("rejects.csv"))
        .unwrap()
        .records()
        .map(|r| {
            let r = r.unwrap();
            r.iter()
                .enumerate()
                .filter(|(k, _)| *k != 1)
                .map(|(_, v)| v.to_string())
                .collect()
        })
        .collect()
}

/// A CSV file as an all-text Parquet file written with the writer's defaults, which
/// dictionary-encode every column. None when the CSV is not a clean, non-empty table.
fn csv_as_dictionary_parquet(csv_path: &Path, out: &Path, empty_as_null: bool) -> Option<()> {
    let b = text_batch(csv_path, empty_as_null).filter(|b| b.num_rows() > 0)?;
    write_parquet(out, &[b]);
    Some(())
}

#[test]
fn every_case_agrees_as_dictionary_encoded_parquet() {
    // Dictionary-encoded text columns are validated once per distinct value: every golden
    // case's inputs (blank, untrimmed, invalid and valid values alike) must give the same
    // rows and rejects as the CSV they came from.
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    let mut cases: Vec<PathBuf> = std::fs::read_dir(case(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    for c in cases {
        let (ic, sc) = (c.join("instructions.csv"), c.join("settlements.csv"));
        let name = c.file_name().unwrap().to_string_lossy().to_string();
        let csv_out = dir.path().join(format!("{name}-csv"));
        if !ic.is_file() || !sc.is_file() || run(&ic, &sc, &csv_out).is_err() {
            continue;
        }
        for empty_as_null in [false, true] {
            let (pi, ps) = (
                dir.path().join(format!("{name}-{empty_as_null}-i.parquet")),
                dir.path().join(format!("{name}-{empty_as_null}-s.parquet")),
            );
            if csv_as_dictionary_parquet(&ic, &pi, empty_as_null).is_none()
                || csv_as_dictionary_parquet(&sc, &ps, empty_as_null).is_none()
            {
                continue;
            }
            let meta = ParquetRecordBatchReaderBuilder::try_new(File::open(&pi).unwrap())
                .unwrap()
                .metadata()
                .clone();
            let currency = meta
                .row_group(0)
                .columns()
                .iter()
                .find(|m| m.column_descr().name() == "currency");
            assert!(
                currency.unwrap().dictionary_page_offset().is_some(),
                "{name}: the writer no longer dictionary-encodes; this test would not test"
            );
            let out = dir.path().join(format!("{name}-{empty_as_null}-pq"));
            run(&pi, &ps, &out).unwrap();
            assert_eq!(
                results(&out),
                results(&csv_out),
                "{name} (empty as null: {empty_as_null})"
            );
            if !empty_as_null {
                assert_eq!(
                    rejects_without_file(&out),
                    rejects_without_file(&csv_out),
                    "{name}: rejects"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 100, "only {checked} runs compared");
}

/// A file is read as its content says (CONTRACT.md 7.1): a Parquet file named `.csv`, an
/// Arrow file named `.parquet`; where the content says nothing (empty, a few bytes, text)
/// the name decides, with the name's messages.
#[test]
fn files_are_recognised_by_content() {
    let dir = tempfile::tempdir().unwrap();
    let first = reference_run(dir.path());
    let expected = results(&first);
    let copy = |from: &Path, name: &str| {
        let p = dir.path().join(name);
        std::fs::copy(from, &p).unwrap();
        p
    };

    let (pi, ps) = (
        copy(&first.join("instructions.parquet"), "parquet-i.csv"),
        copy(&first.join("settlements.parquet"), "parquet-s.csv"),
    );
    let out = dir.path().join("parquet-as-csv");
    run(&pi, &ps, &out).unwrap();
    assert_eq!(results(&out), expected, "Parquet named .csv");
    let read = side::read_paths(Side::Instructions, std::slice::from_ref(&pi)).unwrap();
    assert_eq!(read.stats[0].format, Format::Parquet);

    let (ai, as_) = (
        dir.path().join("arrow-i.parquet"),
        dir.path().join("arrow-s.parquet"),
    );
    write_ipc(&ai, &read_parquet(&first.join("instructions.parquet")));
    write_ipc(&as_, &read_parquet(&first.join("settlements.parquet")));
    let out = dir.path().join("arrow-as-parquet");
    run(&ai, &as_, &out).unwrap();
    assert_eq!(results(&out), expected, "Arrow named .parquet");

    // A Parquet file cut short, named .csv: binary after the magic, still Parquet.
    let good = std::fs::read(first.join("instructions.parquet")).unwrap();
    let set = first.join("settlements.parquet");
    let cut = dir.path().join("cut.csv");
    std::fs::write(&cut, &good[..good.len() / 2]).unwrap();
    expect_exit2(&cut, &set, &["cut.csv", "not a complete Parquet file"]);

    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    for (bytes, name, needle) in [
        (&b""[..], "empty.csv", "file is empty"),
        (b"", "empty.parquet", "not a complete Parquet file"),
        (b"", "empty.arrow", "not an Arrow IPC file"),
        (b"PAR", "three.csv", "missing required column"),
        (b"PAR", "three.parquet", "not a complete Parquet file"),
        (b"abc", "three.arrow", "not an Arrow IPC file"),
    ] {
        expect_exit2(&write(name, bytes), &set, &[name, needle]);
    }
}
