//! Columns for the readers: a file's header mapped to the side's fields (every format),
//! and decoded Arrow columns turned into raw columns of the field's type (Parquet, IPC).

use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch};
use arrow_schema::{DataType, Schema};

use super::{InputFile, RawCol, MAX_COLUMNS};
use crate::column::per_value_field;
use crate::error::{Error, Result};
use crate::schema::{Field, Kind, Side};

/// Maps the side's fields to column positions, or explains what is wrong with the header.
pub(super) fn resolve_columns(
    path: &Path,
    file: &InputFile,
    names: &[&str],
) -> Result<Vec<Option<usize>>> {
    let side = file.side;
    if names.len() > MAX_COLUMNS {
        return Err(Error::input(
            path,
            format!(
                "has {} columns; at most {MAX_COLUMNS} are read",
                names.len()
            ),
        ));
    }
    for (i, n) in names.iter().enumerate() {
        if n.is_empty() {
            return Err(Error::input(
                path,
                format!(
                    "column {} of the header has an empty name (a trailing comma?); name every column or remove the empty one",
                    i + 1
                ),
            ));
        }
        if let Some(j) = names[..i].iter().position(|m| m == n) {
            return Err(Error::input(
                path,
                format!(
                    "column {n} appears twice (positions {} and {}); keep one, sverka will not guess which holds the right values",
                    j + 1,
                    i + 1
                ),
            ));
        }
    }
    let mut idx = Vec::with_capacity(side.fields().len());
    for field in side.fields() {
        let pos = names.iter().position(|n| *n == field.name);
        // A provider given as CODE=PATH replaces the column, which need not be there.
        let given = file.provider.is_some() && field.name == "provider";
        if pos.is_none() && field.column && !given {
            let mut msg = format!(
                "missing required column {} for {}",
                field.name,
                side.as_str()
            );
            if let Some(near) = names.iter().find(|n| {
                n.trim().eq_ignore_ascii_case(field.name)
                    || n.trim_start_matches('\u{feff}') == field.name
            }) {
                msg.push_str(&format!(
                    " (found {near:?}: column names must match exactly)"
                ));
            } else if names.len() == 1 && names[0].contains(';') {
                msg.push_str(" (the header contains ';': the file looks semicolon-separated; export it comma-separated)");
            }
            msg.push_str(&format!("; the header has: {}", names.join(", ")));
            return Err(Error::input(path, msg));
        }
        idx.push(pos);
    }
    Ok(idx)
}

/// Turns a decoded column into a raw column, or says why its type cannot hold `field`.
/// Dictionary-encoded text stays encoded when `keep_dict` (the field is validated per
/// distinct value) and its keys are `Int32`; any other text becomes plain `Utf8`.
fn typed_col(path: &Path, field: &Field, a: &ArrayRef, keep_dict: bool) -> Result<RawCol> {
    let dt = a.data_type();
    if keep_dict && dt == &dict_type() {
        let d = a.as_dictionary::<Int32Type>();
        if let Some(values) = d.values().as_string_opt::<i32>() {
            let n = values.len() as i64;
            let keys = d.keys();
            // Readers check keys against the dictionary, but an index out of range must
            // never reach validation, whoever built the array.
            if keys.iter().flatten().any(|k| !(0..n).contains(&(k as i64))) {
                return Err(Error::input(
                    path,
                    format!(
                        "column {}: a dictionary key is out of range; the file is damaged, ask the sender for a new copy",
                        field.name
                    ),
                ));
            }
            return Ok(RawCol::Dict(keys.clone(), values.clone()));
        }
    }
    let bad = |why: &str| {
        Err(Error::input(
            path,
            format!("column {} has type {dt}, which {why}", field.name),
        ))
    };
    let is_text = matches!(
        dt,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    ) || matches!(dt, DataType::Dictionary(_, v) if matches!(**v, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View));
    if is_text {
        let cast = arrow_cast::cast(a, &DataType::Utf8)
            .map_err(|e| Error::input(path, format!("column {}: {e}", field.name)))?;
        return Ok(RawCol::Text(cast.as_string::<i32>().clone()));
    }
    if dt.is_nested() {
        return bad("is nested; sverka reads flat columns only");
    }
    let int = || -> Option<RawCol> {
        Some(match dt {
            DataType::Int8 => RawCol::Int(widen(a.as_primitive::<Int8Type>())),
            DataType::Int16 => RawCol::Int(widen(a.as_primitive::<Int16Type>())),
            DataType::Int32 => RawCol::Int(widen(a.as_primitive::<Int32Type>())),
            DataType::Int64 => RawCol::Int(a.as_primitive::<Int64Type>().clone()),
            DataType::UInt8 => RawCol::Int(widen(a.as_primitive::<UInt8Type>())),
            DataType::UInt16 => RawCol::Int(widen(a.as_primitive::<UInt16Type>())),
            DataType::UInt32 => RawCol::Int(widen(a.as_primitive::<UInt32Type>())),
            DataType::UInt64 => RawCol::UInt(a.as_primitive::<UInt64Type>().clone()),
            _ => return None,
        })
    };
    match field.kind {
        Kind::Text => int().map_or_else(|| bad("cannot hold text; use a string column"), Ok),
        Kind::Amount => match dt {
            DataType::Decimal128(_, s) => Ok(RawCol::Dec128(a.as_primitive().clone(), *s)),
            DataType::Decimal256(_, s) => Ok(RawCol::Dec256(a.as_primitive().clone(), *s)),
            DataType::Float16 | DataType::Float32 | DataType::Float64 => bad(
                "is floating point: floats are not exact (CONTRACT.md section 1); write amounts as text or Decimal128",
            ),
            _ => int().map_or_else(|| bad("cannot hold an amount; use text, Decimal128/Decimal256 or an integer of whole units"), Ok),
        },
        Kind::Date => match dt {
            DataType::Date32 => Ok(RawCol::Date32(a.as_primitive().clone())),
            DataType::Date64 => Ok(RawCol::Date64(a.as_primitive().clone())),
            _ => bad("cannot hold a date; use text YYYY-MM-DD, Date32 or Date64"),
        },
        Kind::Currency | Kind::Status => bad("is not text; use a string column"),
    }
}

fn widen<T: arrow_array::ArrowPrimitiveType>(a: &arrow_array::PrimitiveArray<T>) -> Int64Array
where
    T::Native: Into<i64>,
{
    a.unary(|v| v.into())
}

/// The dictionary type kept encoded: `Int32` keys into `Utf8` values.
pub(super) fn dict_type() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

pub(super) fn batch_cols(
    path: &Path,
    side: Side,
    cols: &[Option<usize>],
    batch: &RecordBatch,
) -> Result<Vec<Option<RawCol>>> {
    side.fields()
        .iter()
        .zip(cols)
        .enumerate()
        .map(|(fi, (field, c))| {
            c.map(|c| typed_col(path, field, batch.column(c), per_value_field(side, fi)))
                .transpose()
        })
        .collect()
}

pub(super) fn check_schema_types(
    path: &Path,
    side: Side,
    cols: &[Option<usize>],
    schema: &Schema,
) -> Result<()> {
    for (field, c) in side.fields().iter().zip(cols) {
        if let Some(c) = c {
            let empty = arrow_array::new_empty_array(schema.field(*c).data_type());
            typed_col(path, field, &empty, false)?;
        }
    }
    Ok(())
}
