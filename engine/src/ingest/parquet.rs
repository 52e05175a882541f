//! Parquet: the footer checked before the decoder allocates from it (arrow-rs#10920),
//! the side's columns projected, row groups decoded in parallel (each task its own file
//! handle and its own `catch_unwind`), dictionary pages kept encoded where validation
//! decides per distinct value.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use arrow_schema::{DataType, Schema};
use rayon::prelude::*;

use super::columns::{batch_cols, check_schema_types, dict_type, resolve_columns};
use super::{panic_message, Decoded, Opened, RawBatch, Reader, Sink, BATCH_ROWS};
use crate::column::per_value_field;
use crate::error::{Error, Result};
use crate::schema::Side;

pub(super) struct ParquetReader;

impl Reader for ParquetReader {
    // Over 70 lines: the row groups' parallel decode shares the footer's metadata,
    // projection and row numbering set up before it.
    fn read<T: Send>(input: Opened<'_>, f: Sink<'_, T>) -> Result<Decoded<T>> {
        use ::parquet::arrow::arrow_reader::{
            ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
        };
        use ::parquet::arrow::ProjectionMask;
        let Opened {
            index,
            file,
            mut handle,
            size,
        } = input;
        let path = &file.path;
        // The footer is checked before the decoder allocates anything from it (arrow-rs#10920).
        let mut tail = [0u8; 8];
        let footer_ok = size >= 12
            && handle.seek(SeekFrom::End(-8)).is_ok()
            && handle.read_exact(&mut tail).is_ok()
            && &tail[4..] == b"PAR1"
            && (u32::from_le_bytes(tail[..4].try_into().expect("4 bytes")) as u64) <= size - 12;
        if !footer_ok {
            return Err(Error::input(
            path,
            "is not a complete Parquet file (missing or damaged footer; truncated in transfer?); ask the sender for a new copy",
        ));
        }
        let damaged = |e: ::parquet::errors::ParquetError| {
            Error::input(
                path,
                format!("file is damaged or not Parquet: {e}; ask the sender for a new copy"),
            )
        };
        let meta =
            ArrowReaderMetadata::load(&handle, ArrowReaderOptions::new()).map_err(damaged)?;
        let schema = meta.schema().clone();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let cols = resolve_columns(path, file, &names)?;
        check_schema_types(path, file.side, &cols, &schema)?;
        // Text columns written with dictionary pages only are decoded as dictionaries when
        // validation can use them: each distinct value is checked once, not once per row.
        let meta = match dictionary_hint(file.side, &cols, &meta) {
            Some(hinted) => ArrowReaderMetadata::try_new(
                meta.metadata().clone(),
                ArrowReaderOptions::new().with_schema(hinted),
            )
            .map_err(damaged)?,
            None => meta,
        };
        let roots: Vec<usize> = cols.iter().flatten().copied().collect();
        let mask = ProjectionMask::roots(
            meta.metadata().file_metadata().schema_descr(),
            roots.iter().copied(),
        );
        // Columns in the projected batches come in file order; map fields to their position there.
        let mut sorted = roots.clone();
        sorted.sort_unstable();
        let proj_cols: Vec<Option<usize>> = cols
            .iter()
            .map(|c| c.map(|c| sorted.iter().position(|&x| x == c).expect("projected")))
            .collect();
        let groups = meta.metadata().row_groups();
        let mut starts = Vec::with_capacity(groups.len());
        let mut total: u64 = 0;
        for g in groups {
            starts.push(total);
            total += g.num_rows().max(0) as u64;
        }
        let per_group: Vec<Result<Vec<T>>> = (0..groups.len())
        .into_par_iter()
        .map(|g| {
            catch_unwind(AssertUnwindSafe(|| -> Result<Vec<T>> {
                // A file of its own per task: cloned handles share one file offset, and
                // the reader seeks then reads, so tasks sharing it would read each
                // other's bytes.
                let h = File::open(path).map_err(|e| Error::input(path, format!("cannot read: {e}")))?;
                let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(h, meta.clone())
                    .with_row_groups(vec![g])
                    .with_projection(mask.clone())
                    .with_batch_size(BATCH_ROWS)
                    .build()
                    .map_err(damaged)?;
                let mut row = starts[g];
                let mut out = Vec::new();
                for batch in reader {
                    let batch = batch.map_err(|e| Error::input(path, format!("file is damaged: {e}; ask the sender for a new copy")))?;
                    let len = batch.num_rows();
                    let raw = RawBatch {
                        file: index,
                        first_row: row + 1,
                        len,
                        cols: batch_cols(path, file.side, &proj_cols, &batch)?,
                        pre_rejects: Vec::new(),
                        originals: Vec::new(),
                    };
                    row += len as u64;
                    out.push(f(raw));
                }
                if row != starts[g] + groups[g].num_rows() as u64 {
                    return Err(Error::input(path, "file is damaged: a row group holds fewer rows than its metadata says"));
                }
                Ok(out)
            }))
            .unwrap_or_else(|p| {
                Err(Error::input(
                    path,
                    format!("file is damaged: the parquet decoder failed ({}); ask the sender for a new copy", panic_message(&p)),
                ))
            })
        })
        .collect();
        let mut out = Vec::new();
        for r in per_group {
            out.extend(r?);
        }
        Ok((out, total))
    }
}

/// The file's schema with the columns worth decoding as dictionaries
/// ([`per_value_field`], `Utf8`, every data page dictionary-encoded in every
/// row group) changed to `Dictionary(Int32, Utf8)`; None when there are none.
fn dictionary_hint(
    side: Side,
    cols: &[Option<usize>],
    meta: &::parquet::arrow::arrow_reader::ArrowReaderMetadata,
) -> Option<Arc<Schema>> {
    use ::parquet::basic::Encoding;
    let schema = meta.schema();
    let descr = meta.metadata().file_metadata().schema_descr();
    // Flat schemas only (checked before): arrow field c is Parquet leaf c.
    if descr.num_columns() != schema.fields().len() {
        return None;
    }
    let mut fields: Vec<arrow_schema::FieldRef> = schema.fields().iter().cloned().collect();
    let mut any = false;
    for (fi, c) in cols.iter().enumerate() {
        let Some(c) = *c else { continue };
        if !per_value_field(side, fi) || schema.field(c).data_type() != &DataType::Utf8 {
            continue;
        }
        let all_dict = meta.metadata().row_groups().iter().all(|g| {
            let m = g.column(c);
            m.dictionary_page_offset().is_some()
                && m.page_encoding_stats_mask().is_some_and(|mask| {
                    mask.is_only(Encoding::RLE_DICTIONARY)
                        || mask.is_only(Encoding::PLAIN_DICTIONARY)
                })
        });
        if all_dict {
            fields[c] = Arc::new(schema.field(c).clone().with_data_type(dict_type()));
            any = true;
        }
    }
    any.then(|| Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())))
}
