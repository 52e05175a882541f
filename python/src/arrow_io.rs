//! Arrow data across the C data interface: a caller's table (anything with
//! `__arrow_c_stream__`) in as an Arrow IPC file the engine reads and hashes like any input,
//! and the row outputs out as a `pyarrow.RecordBatchReader` over batches decoded here
//! (pyarrow takes their buffers as they are: no copy).

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::ffi_stream::RecordBatchStreamReader;
use arrow_array::{RecordBatch, RecordBatchIterator, RecordBatchReader};
use arrow_ipc::writer::FileWriter;
use arrow_pyarrow::{IntoPyArrow, PyArrowType};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use pyo3::prelude::*;
use rayon::prelude::*;
use sverka_engine::Error;

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
    crate::run_detached(py, Some(1), move || {
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

/// A Parquet output read whole, one batch per row group, row groups decoded on the pool
/// with the GIL released. `columns`: only these (None: all); `dictionary`: these text
/// columns as `dictionary<int32, string>` (pandas categoricals), which skips expanding
/// each row's text.
#[pyfunction]
#[pyo3(signature = (path, columns, dictionary))]
pub fn read_parquet<'py>(
    py: Python<'py>,
    path: PathBuf,
    columns: Option<Vec<String>>,
    dictionary: Vec<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let (schema, batches) = crate::run_detached(py, None, move || {
        decode(&path, columns.as_deref(), &dictionary)
    })?;
    let reader: Box<dyn RecordBatchReader + Send> = Box::new(RecordBatchIterator::new(
        batches.into_iter().map(Ok),
        schema,
    ));
    reader.into_pyarrow(py)
}

type Decoded = (Arc<Schema>, Vec<RecordBatch>);

fn decode(
    path: &std::path::Path,
    columns: Option<&[String]>,
    dictionary: &[String],
) -> sverka_engine::Result<Decoded> {
    let err = |e: &dyn std::fmt::Display| Error::input(path, e.to_string());
    let file = File::open(path).map_err(|e| err(&e))?;
    let plain = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(|e| err(&e))?;
    let fields: Vec<Field> = plain
        .schema()
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8 if dictionary.iter().any(|d| d == f.name()) => Field::new(
                f.name(),
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                f.is_nullable(),
            ),
            _ => f.as_ref().clone(),
        })
        .collect();
    let opts = ArrowReaderOptions::new().with_schema(Arc::new(Schema::new(fields)));
    let meta = ArrowReaderMetadata::load(&file, opts).map_err(|e| err(&e))?;
    let mask =
        match columns {
            None => ProjectionMask::all(),
            Some(names) => {
                let mut idx = Vec::with_capacity(names.len());
                for n in names {
                    idx.push(meta.schema().index_of(n).map_err(|_| {
                        Error::Usage(format!("{}: no column {n:?}", path.display()))
                    })?);
                }
                ProjectionMask::roots(meta.metadata().file_metadata().schema_descr(), idx)
            }
        };
    let groups = meta.metadata().num_row_groups();
    let parts: Vec<Vec<RecordBatch>> = (0..groups)
        .into_par_iter()
        .map(|g| {
            let rows = meta.metadata().row_group(g).num_rows().max(1) as usize;
            let file = File::open(path).map_err(|e| err(&e))?;
            ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta.clone())
                .with_projection(mask.clone())
                .with_row_groups(vec![g])
                .with_batch_size(rows)
                .build()
                .map_err(|e| err(&e))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| err(&e))
        })
        .collect::<sverka_engine::Result<_>>()?;
    let schema = match columns {
        None => meta.schema().clone(),
        Some(names) => {
            let s = meta.schema();
            let mut idx: Vec<usize> = names.iter().filter_map(|n| s.index_of(n).ok()).collect();
            idx.sort_unstable();
            Arc::new(s.project(&idx).map_err(|e| err(&e))?)
        }
    };
    Ok((schema, parts.into_iter().flatten().collect()))
}
