//! Arrow data across the C data interface: a caller's table (anything with
//! `__arrow_c_stream__`) in as an Arrow IPC file the engine reads and hashes like any input,
//! and the row outputs out as a `pyarrow.RecordBatchReader` over batches decoded here
//! (pyarrow takes their buffers as they are: no copy).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::ffi_stream::RecordBatchStreamReader;
use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchIterator, RecordBatchReader};
use arrow_ipc::writer::FileWriter;
use arrow_pyarrow::{IntoPyArrow, PyArrowType};
use arrow_schema::Schema;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;
use pyo3::prelude::*;
use rayon::prelude::*;
use sverka_engine::{Error, Result};

type Decoded = (Arc<Schema>, Vec<RecordBatch>);

/// Writes the stream `table` to `path` as an Arrow IPC file (created new: an existing file
/// is never overwritten) and returns its row count. The stream is consumed with the GIL
/// released; a producer written in Python takes the GIL itself, as the interface requires.
#[pyfunction]
pub fn write_arrow_file(
    py: Python<'_>,
    table: PyArrowType<RecordBatchStreamReader>,
    path: PathBuf,
) -> PyResult<u64> {
    let reader = table.0;
    crate::run_detached(py, None, move || {
        let err = |e: &dyn std::fmt::Display| Error::Output {
            path: path.clone(),
            message: e.to_string(),
        };
        let file = File::create_new(&path).map_err(|e| err(&e))?;
        let schema = reader.schema();
        let mut w = FileWriter::try_new(BufWriter::with_capacity(1 << 20, file), &schema)
            .map_err(|e| err(&e))?;
        let mut rows = 0u64;
        for batch in reader {
            // The producer's own error (a pandas column that cannot be Arrow, say) is the
            // caller's input, not ours.
            let batch = batch.map_err(|e| Error::Usage(format!("reading the table: {e}")))?;
            rows += batch.num_rows() as u64;
            w.write(&batch).map_err(|e| err(&e))?;
        }
        w.finish().map_err(|e| err(&e))?;
        Ok(rows)
    })
}

/// Parquet outputs read whole (`columns[i]`: only these of `paths[i]`, None: all), each
/// as a reader of one batch per row group. Every column chunk of every file is a task of
/// its own, decoded on the pool with the GIL released: the outputs have few, large row
/// groups, so a task per row group would leave cores idle. `dictionary`: these text
/// columns as `dictionary<int32, string>` (pandas categoricals), which skips expanding
/// each row's text.
#[pyfunction]
#[pyo3(signature = (paths, columns, dictionary))]
pub fn read_parquet<'py>(
    py: Python<'py>,
    paths: Vec<PathBuf>,
    columns: Vec<Option<Vec<String>>>,
    dictionary: Vec<String>,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if paths.len() != columns.len() {
        return Err(crate::InternalError::new_err("one column list per path"));
    }
    let tables = crate::run_detached(py, None, move || {
        let plans = paths
            .iter()
            .zip(&columns)
            .map(|(p, c)| Plan::open(p, c.as_deref(), &dictionary))
            .collect::<sverka_engine::Result<Vec<_>>>()?;
        decode(&plans)
    })?;
    tables
        .into_iter()
        .map(|(schema, batches)| {
            let reader: Box<dyn RecordBatchReader + Send> = Box::new(RecordBatchIterator::new(
                batches.into_iter().map(Ok),
                schema,
            ));
            reader.into_pyarrow(py)
        })
        .collect()
}

/// One file to read: its metadata (with the dictionary columns' type changed) and the
/// leaves to decode.
struct Plan<'a> {
    path: &'a Path,
    meta: ArrowReaderMetadata,
    leaves: Vec<usize>,
}

impl<'a> Plan<'a> {
    fn open(path: &'a Path, columns: Option<&[String]>, dictionary: &[String]) -> Result<Self> {
        let err = |e: &dyn std::fmt::Display| Error::input(path, e.to_string());
        let file = File::open(path).map_err(|e| err(&e))?;
        let dictionary: Vec<&str> = dictionary.iter().map(String::as_str).collect();
        let meta = sverka_audit::read::metadata_with_dictionaries(&file, &dictionary)
            .map_err(|e| err(&e))?;
        // sverka's outputs are flat: column i is leaf i.
        let leaves = match columns {
            None => (0..meta.schema().fields().len()).collect(),
            Some(names) => {
                let mut idx = Vec::with_capacity(names.len());
                for n in names {
                    idx.push(meta.schema().index_of(n).map_err(|_| {
                        Error::Usage(format!("{}: no column {n:?}", path.display()))
                    })?);
                }
                idx.sort_unstable();
                idx.dedup();
                idx
            }
        };
        Ok(Plan { path, meta, leaves })
    }

    fn groups(&self) -> usize {
        self.meta.metadata().num_row_groups()
    }

    /// Column `leaf` of row group `g`.
    fn column(&self, g: usize, leaf: usize) -> Result<ArrayRef> {
        let err = |e: &dyn std::fmt::Display| Error::input(self.path, e.to_string());
        let rows = self.meta.metadata().row_group(g).num_rows().max(1) as usize;
        let file = File::open(self.path).map_err(|e| err(&e))?;
        let descr = self.meta.metadata().file_metadata().schema_descr();
        let batches = ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.meta.clone())
            .with_projection(ProjectionMask::leaves(descr, [leaf]))
            .with_row_groups(vec![g])
            .with_batch_size(rows)
            .build()
            .map_err(|e| err(&e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| err(&e))?;
        match batches.as_slice() {
            [one] => Ok(one.column(0).clone()),
            _ => {
                let parts: Vec<&dyn Array> = batches.iter().map(|b| b.column(0).as_ref()).collect();
                arrow_select::concat::concat(&parts).map_err(|e| err(&e))
            }
        }
    }

    /// The schema of the decoded columns.
    fn schema(&self) -> Result<Arc<Schema>> {
        let s = self.meta.schema().project(&self.leaves);
        Ok(Arc::new(
            s.map_err(|e| Error::input(self.path, e.to_string()))?,
        ))
    }
}

/// Every (file, row group, column) decoded as one task; batches put back together in
/// order, one per row group.
fn decode(plans: &[Plan<'_>]) -> Result<Vec<Decoded>> {
    let tasks: Vec<(usize, usize, usize)> = plans
        .iter()
        .enumerate()
        .flat_map(|(f, p)| {
            (0..p.groups()).flat_map(move |g| (0..p.leaves.len()).map(move |c| (f, g, c)))
        })
        .collect();
    let columns: Vec<ArrayRef> = tasks
        .par_iter()
        .map(|&(f, g, c)| plans[f].column(g, plans[f].leaves[c]))
        .collect::<Result<_>>()?;
    let mut columns = columns.into_iter();
    plans
        .iter()
        .map(|p| {
            let schema = p.schema()?;
            let batches = (0..p.groups())
                .map(|_| {
                    let cols: Vec<ArrayRef> = columns.by_ref().take(p.leaves.len()).collect();
                    RecordBatch::try_new(schema.clone(), cols)
                        .map_err(|e| Error::input(p.path, e.to_string()))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok((schema, batches))
        })
        .collect()
}
