//! Arrow IPC files: the schema read first, the side's columns projected, large batches
//! re-sliced to [`BATCH_ROWS`] rows so that validation stays parallel and bounded.

use rayon::prelude::*;

use super::columns::{batch_cols, check_schema_types, resolve_columns};
use super::{Decoded, Opened, RawBatch, Reader, Sink, BATCH_ROWS};
use crate::error::{Error, Result};

pub(super) struct IpcReader;

impl Reader for IpcReader {
    fn read<T: Send>(input: Opened<'_>, f: Sink<'_, T>) -> Result<Decoded<T>> {
        let Opened {
            index,
            file,
            handle,
            ..
        } = input;
        let path = &file.path;
        let damaged =
            |e: arrow_schema::ArrowError| {
                Error::input(
            path,
            format!("file is damaged or not an Arrow IPC file: {e}; ask the sender for a new copy"),
        )
            };
        let probe = arrow_ipc::reader::FileReader::try_new_buffered(
            handle
                .try_clone()
                .map_err(|e| Error::input(path, e.to_string()))?,
            None,
        )
        .map_err(damaged)?;
        let schema = probe.schema();
        drop(probe);
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let cols = resolve_columns(path, file, &names)?;
        check_schema_types(path, file.side, &cols, &schema)?;
        let mut projection: Vec<usize> = cols.iter().flatten().copied().collect();
        projection.sort_unstable();
        let proj_cols: Vec<Option<usize>> = cols
            .iter()
            .map(|c| c.map(|c| projection.iter().position(|&x| x == c).expect("projected")))
            .collect();
        let reader = arrow_ipc::reader::FileReader::try_new_buffered(handle, Some(projection))
            .map_err(damaged)?;
        let mut raws = Vec::new();
        let mut row: u64 = 0;
        for batch in reader {
            let batch = batch.map_err(damaged)?;
            // Re-slice big IPC batches so that validation stays parallel and bounded.
            let mut off = 0;
            while off < batch.num_rows() {
                let len = BATCH_ROWS.min(batch.num_rows() - off);
                let part = batch.slice(off, len);
                raws.push(RawBatch {
                    file: index,
                    first_row: row + 1,
                    len,
                    cols: batch_cols(path, file.side, &proj_cols, &part)?,
                    pre_rejects: Vec::new(),
                    originals: Vec::new(),
                });
                row += len as u64;
                off += len;
            }
        }
        let results = raws.into_par_iter().map(f).collect();
        Ok((results, row))
    }
}
