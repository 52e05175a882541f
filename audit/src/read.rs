//! Reading the Parquet outputs back with the parquet/arrow crates: a projection of named
//! columns, row groups in parallel, low-cardinality text as dictionaries (one lookup per
//! distinct value, not per row), and chosen rows only for the report's tables.

use std::fs::File;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Decimal128Type, Int64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder, RowSelection,
};
use parquet::arrow::ProjectionMask;
use rayon::prelude::*;

pub type ReadResult<T> = std::result::Result<T, String>;

/// An opened Parquet file: its path and metadata, with `dict` columns read as dictionaries.
pub struct Pq {
    path: String,
    file_path: std::path::PathBuf,
    meta: ArrowReaderMetadata,
}

/// A Parquet file's reader metadata, with the `dict` text columns read as
/// `Dictionary(Int32, Utf8)`: one value per distinct text instead of one per row.
pub fn metadata_with_dictionaries(
    file: &File,
    dict: &[&str],
) -> parquet::errors::Result<ArrowReaderMetadata> {
    let plain = ArrowReaderMetadata::load(file, ArrowReaderOptions::new())?;
    let fields: Vec<Field> = plain
        .schema()
        .fields()
        .iter()
        .map(|f| {
            if dict.contains(&f.name().as_str()) && f.data_type() == &DataType::Utf8 {
                Field::new(
                    f.name(),
                    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                    f.is_nullable(),
                )
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    let opts = ArrowReaderOptions::new().with_schema(Arc::new(Schema::new(fields)));
    ArrowReaderMetadata::load(file, opts)
}

impl Pq {
    pub fn open(path: &Path, dict: &[&str]) -> ReadResult<Pq> {
        let name = path.display().to_string();
        let err = |e: &dyn std::fmt::Display| format!("{name}: {e}");
        let file = File::open(path).map_err(|e| err(&e))?;
        let meta = metadata_with_dictionaries(&file, dict).map_err(|e| err(&e))?;
        Ok(Pq {
            path: name,
            file_path: path.to_path_buf(),
            meta,
        })
    }

    pub fn rows(&self) -> u64 {
        self.meta.metadata().file_metadata().num_rows().max(0) as u64
    }

    pub fn has_column(&self, name: &str) -> bool {
        self.meta.schema().index_of(name).is_ok()
    }

    fn mask(&self, columns: &[&str]) -> ReadResult<ProjectionMask> {
        let schema = self.meta.schema();
        let mut idx = Vec::new();
        for c in columns {
            idx.push(
                schema
                    .index_of(c)
                    .map_err(|_| format!("{}: no column {c:?}", self.path))?,
            );
        }
        Ok(ProjectionMask::roots(
            self.meta.metadata().file_metadata().schema_descr(),
            idx,
        ))
    }

    /// A reader on a handle of its own: cloned handles share one file offset, and the
    /// Parquet reader seeks then reads, so parallel row groups on clones read garbage.
    fn builder(&self) -> ReadResult<ParquetRecordBatchReaderBuilder<File>> {
        let f = File::open(&self.file_path).map_err(|e| format!("{}: {e}", self.path))?;
        Ok(ParquetRecordBatchReaderBuilder::new_with_metadata(
            f,
            self.meta.clone(),
        ))
    }

    /// Folds every batch of `columns` (row groups in parallel) into one `T`: `fold` gets
    /// the batch and the file row number of its first row; `merge` joins row groups in
    /// file order.
    pub fn scan<T: Send>(
        &self,
        columns: &[&str],
        init: impl Fn() -> T + Sync,
        fold: impl Fn(&mut T, &RecordBatch, usize) -> ReadResult<()> + Sync,
        merge: impl Fn(T, T) -> ReadResult<T> + Sync,
    ) -> ReadResult<T> {
        let mask = self.mask(columns)?;
        let md = self.meta.metadata();
        let mut starts = Vec::with_capacity(md.num_row_groups());
        let mut at = 0usize;
        for rg in md.row_groups() {
            starts.push(at);
            at += rg.num_rows().max(0) as usize;
        }
        let parts: Vec<ReadResult<T>> = (0..md.num_row_groups())
            .into_par_iter()
            .map(|g| {
                let reader = self
                    .builder()?
                    .with_row_groups(vec![g])
                    .with_projection(mask.clone())
                    .with_batch_size(64 * 1024)
                    .build()
                    .map_err(|e| format!("{}: {e}", self.path))?;
                let mut acc = init();
                let mut row = starts[g];
                for b in reader {
                    let b = b.map_err(|e| format!("{}: {e}", self.path))?;
                    fold(&mut acc, &b, row)?;
                    row += b.num_rows();
                }
                Ok(acc)
            })
            .collect();
        let mut out = init();
        for p in parts {
            out = merge(out, p?)?;
        }
        Ok(out)
    }

    /// Calls `f` on every batch of `columns` in file order, with the file row number of
    /// its first row. Row groups are decoded in parallel, one window of as many groups as
    /// threads at a time: memory holds a few row groups whatever the file's size, and `f`
    /// sees the rows in order (checks that depend on what came before stay deterministic).
    pub fn for_each(
        &self,
        columns: &[&str],
        mut f: impl FnMut(&RecordBatch, usize) -> ReadResult<()>,
    ) -> ReadResult<()> {
        let mask = self.mask(columns)?;
        let groups = self.meta.metadata().num_row_groups();
        let window = rayon::current_num_threads().max(1);
        let mut row = 0usize;
        let mut from = 0usize;
        while from < groups {
            let to = (from + window).min(groups);
            let decoded: Vec<ReadResult<Vec<RecordBatch>>> = (from..to)
                .into_par_iter()
                .map(|g| {
                    self.builder()?
                        .with_row_groups(vec![g])
                        .with_projection(mask.clone())
                        .with_batch_size(64 * 1024)
                        .build()
                        .map_err(|e| format!("{}: {e}", self.path))?
                        .map(|b| b.map_err(|e| format!("{}: {e}", self.path)))
                        .collect()
                })
                .collect();
            for part in decoded {
                for b in part? {
                    f(&b, row)?;
                    row += b.num_rows();
                }
            }
            from = to;
        }
        Ok(())
    }

    /// The given rows (ascending, distinct) of `columns`, in that order.
    pub fn take(&self, columns: &[&str], rows: &[usize]) -> ReadResult<Option<RecordBatch>> {
        if rows.is_empty() {
            return Ok(None);
        }
        let total = self.rows() as usize;
        let ranges: Vec<Range<usize>> = rows.iter().map(|&r| r..r + 1).collect();
        let sel = RowSelection::from_consecutive_ranges(ranges.into_iter(), total);
        let reader = self
            .builder()?
            .with_projection(self.mask(columns)?)
            .with_row_selection(sel)
            .build()
            .map_err(|e| format!("{}: {e}", self.path))?;
        let batches = reader
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| format!("{}: {e}", self.path))?;
        let schema = batches
            .first()
            .map(|b| b.schema())
            .ok_or_else(|| format!("{}: rows missing", self.path))?;
        let b =
            arrow_select_concat(&schema, &batches).map_err(|e| format!("{}: {e}", self.path))?;
        if b.num_rows() != rows.len() {
            return Err(format!("{}: rows missing", self.path));
        }
        Ok(Some(b))
    }
}

/// The row outputs a reconcile folder must hold, beside `summary.json`.
pub const RECONCILE_OUTPUTS: [&str; 3] = [
    "instructions.parquet",
    "settlements.parquet",
    "rejects.parquet",
];

/// The `summary.json` of an output folder of `sverka reconcile`, after checking that the
/// folder holds the row outputs; anything else (no folder, a disburse folder, a summary
/// of another shape) is exit 2 saying which folder to give.
pub fn reconcile_folder(dir: &Path) -> sverka_engine::Result<sverka_engine::Summary> {
    use sverka_engine::Error;
    if !dir.is_dir() {
        return Err(Error::input(
            dir,
            "not a folder; give the output folder of `sverka reconcile`",
        ));
    }
    let path = dir.join("summary.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::input(
            &path,
            format!("{e}; give the output folder of `sverka reconcile`"),
        )
    })?;
    let summary = serde_json::from_str(&text)
        .map_err(|e| Error::input(&path, format!("not a sverka summary: {e}")))?;
    for name in RECONCILE_OUTPUTS {
        if !dir.join(name).is_file() {
            return Err(Error::input(
                dir.join(name),
                "missing; give the output folder of `sverka reconcile`",
            ));
        }
    }
    Ok(summary)
}

/// A row output of a reconcile folder (`name`), opened with `dict` columns read as
/// dictionaries, after checking it has every one of `columns`: an older or foreign file is
/// exit 2 saying what to do.
pub fn reconcile_output(
    dir: &Path,
    name: &str,
    columns: &[&str],
    dict: &[&str],
) -> sverka_engine::Result<Pq> {
    use sverka_engine::Error;
    let path = dir.join(name);
    let pq = Pq::open(&path, dict)
        .map_err(|e| Error::Usage(format!("{e}; give the output folder of `sverka reconcile`")))?;
    match columns.iter().find(|c| !pq.has_column(c)) {
        Some(c) => Err(Error::input(
            &path,
            format!(
                "no column {c:?}: not an output of `sverka reconcile` (contract version 2); \
                 reconcile the inputs again with this sverka"
            ),
        )),
        None => Ok(pq),
    }
}

fn arrow_select_concat(
    schema: &Arc<Schema>,
    batches: &[RecordBatch],
) -> std::result::Result<RecordBatch, arrow_schema::ArrowError> {
    arrow_select::concat::concat_batches(schema, batches)
}

pub fn column<'a>(b: &'a RecordBatch, name: &str) -> ReadResult<&'a ArrayRef> {
    let i = b
        .schema()
        .index_of(name)
        .map_err(|_| format!("no column {name:?}"))?;
    Ok(b.column(i))
}

/// A Decimal128 column: values and scale.
pub fn decimal<'a>(b: &'a RecordBatch, name: &str) -> ReadResult<(&'a [i128], i8)> {
    let a = column(b, name)?;
    match a.data_type() {
        DataType::Decimal128(_, s) => Ok((a.as_primitive::<Decimal128Type>().values(), *s)),
        other => Err(format!("column {name}: Decimal128 expected, found {other}")),
    }
}

/// The null rows of a column (`None`: it has none).
pub fn nulls<'a>(b: &'a RecordBatch, name: &str) -> ReadResult<Option<&'a NullBuffer>> {
    Ok(column(b, name)?.nulls())
}

pub fn int64<'a>(b: &'a RecordBatch, name: &str) -> ReadResult<&'a [i64]> {
    let a = column(b, name)?;
    match a.data_type() {
        DataType::Int64 => Ok(a.as_primitive::<Int64Type>().values()),
        other => Err(format!("column {name}: Int64 expected, found {other}")),
    }
}

pub fn date32<'a>(b: &'a RecordBatch, name: &str) -> ReadResult<&'a [i32]> {
    let a = column(b, name)?;
    match a.data_type() {
        DataType::Date32 => Ok(a.as_primitive::<Date32Type>().values()),
        other => Err(format!("column {name}: Date32 expected, found {other}")),
    }
}

/// Days since 1970-01-01 as `YYYY-MM-DD` (proleptic Gregorian; civil-from-days).
pub fn date_text(days: i32) -> String {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Int64Array;

    /// Regression: row groups scanned in parallel on cloned handles (one shared offset)
    /// read "Invalid page header" at 10M rows. Many small row groups make the race likely.
    #[test]
    fn row_groups_scan_in_parallel_on_their_own_handles() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("x.parquet");
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
        let props = parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(20_000))
            .build();
        let mut w = parquet::arrow::ArrowWriter::try_new(
            File::create(&path).unwrap(),
            schema.clone(),
            Some(props),
        )
        .unwrap();
        let n = 800_000i64;
        let b = RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from_iter_values(0..n))])
            .unwrap();
        w.write(&b).unwrap();
        w.close().unwrap();
        let pq = Pq::open(&path, &[]).unwrap();
        for _ in 0..5 {
            let (sum, rows) = pq
                .scan(
                    &["v"],
                    || (0i64, 0usize),
                    |acc, b, first| {
                        let v = int64(b, "v")?;
                        // Values equal row numbers: checks order and offsets too.
                        assert_eq!(v[0], first as i64);
                        acc.0 += v.iter().sum::<i64>();
                        acc.1 += v.len();
                        Ok(())
                    },
                    |a, b| Ok((a.0 + b.0, a.1 + b.1)),
                )
                .unwrap();
            assert_eq!((sum, rows), (n * (n - 1) / 2, n as usize));
        }
        let t = pq.take(&["v"], &[5, 1999, 799_999]).unwrap().unwrap();
        assert_eq!(int64(&t, "v").unwrap(), &[5, 1999, 799_999]);
    }

    #[test]
    fn dates() {
        assert_eq!(super::date_text(0), "1970-01-01");
        assert_eq!(super::date_text(20_407), "2025-11-15");
        assert_eq!(super::date_text(-719_162), "0001-01-01");
    }
}
