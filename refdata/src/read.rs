//! Reading Parquet tables by column name, for `score`.
//!
//! Text may be Utf8, LargeUtf8, Utf8View or dictionary-encoded text; decimals may be
//! Decimal128 or Decimal256 of any scale, integers, or decimal text. Values are read
//! row by row from one batch at a time, so memory stays bounded by the batch size.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Decimal128Type, Decimal256Type, Int16Type, Int32Type, Int64Type, Int8Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;

use crate::error::RefdataError;

/// Rows per batch read.
const READ_BATCH_ROWS: usize = 64 * 1024;

/// An exact decimal: `v * 10^-scale`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dec {
    pub v: i128,
    pub scale: i32,
}

impl Dec {
    /// Both at the larger scale, or `None` on overflow.
    fn aligned(self, other: Dec) -> Option<(i128, i128)> {
        let s = self.scale.max(other.scale);
        let up = |d: Dec| -> Option<i128> {
            let k = u32::try_from(s - d.scale).ok()?;
            d.v.checked_mul(10i128.checked_pow(k)?)
        };
        Some((up(self)?, up(other)?))
    }

    /// The same value written with `like`'s decimals when that is exact (`0.000` beside
    /// `1687500.00` reads `0.00`), else as it is: examples then compare digit by digit.
    pub(crate) fn scaled_like(self, like: Dec) -> Dec {
        let k = |d: i32| u32::try_from(d).ok().and_then(|k| 10i128.checked_pow(k));
        let v = if self.scale >= like.scale {
            k(self.scale - like.scale)
                .filter(|&p| self.v % p == 0)
                .map(|p| self.v / p)
        } else {
            k(like.scale - self.scale).and_then(|p| self.v.checked_mul(p))
        };
        v.map_or(self, |v| Dec {
            v,
            scale: like.scale,
        })
    }

    pub(crate) fn same_value(self, other: Dec) -> bool {
        self.aligned(other).is_some_and(|(a, b)| a == b)
    }

    /// Parses `-?digits(.digits)?`.
    pub(crate) fn parse(s: &str) -> Option<Dec> {
        let s = s.trim_matches([' ', '\t']);
        let (neg, body) = match s.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, s),
        };
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, ""),
        };
        if int.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        if body.contains('.') && frac.is_empty() {
            return None;
        }
        let mut v: i128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            v = v.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
        }
        Some(Dec {
            v: if neg { -v } else { v },
            scale: i32::try_from(frac.len()).ok()?,
        })
    }
}

impl std::fmt::Display for Dec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.scale <= 0 {
            let k = u32::try_from(-self.scale).unwrap_or(0);
            return match 10i128.checked_pow(k).and_then(|p| self.v.checked_mul(p)) {
                Some(v) => write!(f, "{v}"),
                None => write!(f, "{}e{}", self.v, -self.scale),
            };
        }
        let p = 10u128.pow(self.scale.unsigned_abs().min(38));
        let a = self.v.unsigned_abs();
        let sign = if self.v < 0 { "-" } else { "" };
        write!(
            f,
            "{sign}{}.{:0width$}",
            a / p,
            a % p,
            width = self.scale as usize
        )
    }
}

/// One column of a batch, typed for reading.
pub(crate) struct Col {
    array: ArrayRef,
    /// Keys of a dictionary-encoded column, resolved to value indices.
    keys: Option<Vec<usize>>,
}

impl Col {
    fn new(array: ArrayRef) -> Col {
        let keys = array.as_any_dictionary_opt().map(|d| d.normalized_keys());
        Col { array, keys }
    }

    fn values(&self) -> &dyn Array {
        match self.array.as_any_dictionary_opt() {
            Some(d) => d.values().as_ref(),
            None => self.array.as_ref(),
        }
    }

    fn index(&self, row: usize) -> usize {
        match &self.keys {
            Some(k) => k[row],
            None => row,
        }
    }

    /// Text value; `None` for null. Errors name nothing: the caller adds file and column.
    pub(crate) fn text(&self, row: usize) -> Result<Option<&str>, String> {
        if self.array.is_null(row) {
            return Ok(None);
        }
        let values = self.values();
        let i = self.index(row);
        Ok(Some(match values.data_type() {
            DataType::Utf8 => values.as_string::<i32>().value(i),
            DataType::LargeUtf8 => values.as_string::<i64>().value(i),
            DataType::Utf8View => values.as_string_view().value(i),
            other => return Err(format!("is {other}, expected text")),
        }))
    }

    /// Integer value; `None` for null.
    pub(crate) fn int(&self, row: usize) -> Result<Option<i64>, String> {
        if self.array.is_null(row) {
            return Ok(None);
        }
        let a = self.array.as_ref();
        Ok(Some(match a.data_type() {
            DataType::Int64 => a.as_primitive::<Int64Type>().value(row),
            DataType::Int32 => i64::from(a.as_primitive::<Int32Type>().value(row)),
            DataType::Int16 => i64::from(a.as_primitive::<Int16Type>().value(row)),
            DataType::Int8 => i64::from(a.as_primitive::<Int8Type>().value(row)),
            DataType::UInt64 => i64::try_from(
                a.as_primitive::<arrow_array::types::UInt64Type>()
                    .value(row),
            )
            .map_err(|_| "holds an integer beyond i64".to_string())?,
            DataType::UInt32 => i64::from(
                a.as_primitive::<arrow_array::types::UInt32Type>()
                    .value(row),
            ),
            other => return Err(format!("is {other}, expected an integer")),
        }))
    }

    /// Decimal value (any decimal type, integer, or decimal text); `None` for null.
    pub(crate) fn dec(&self, row: usize) -> Result<Option<Dec>, String> {
        if self.array.is_null(row) {
            return Ok(None);
        }
        let a = self.array.as_ref();
        Ok(Some(match a.data_type() {
            DataType::Decimal128(_, s) => Dec {
                v: a.as_primitive::<Decimal128Type>().value(row),
                scale: i32::from(*s),
            },
            DataType::Decimal256(_, s) => Dec {
                v: a.as_primitive::<Decimal256Type>()
                    .value(row)
                    .to_i128()
                    .ok_or_else(|| "holds a decimal beyond 38 digits".to_string())?,
                scale: i32::from(*s),
            },
            DataType::Int64
            | DataType::Int32
            | DataType::Int16
            | DataType::Int8
            | DataType::UInt32
            | DataType::UInt64 => Dec {
                v: i128::from(self.int(row)?.unwrap_or(0)),
                scale: 0,
            },
            DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Dictionary(_, _) => {
                let t = self.text(row)?.unwrap_or("");
                Dec::parse(t).ok_or_else(|| format!("holds {t:?}, not a decimal"))?
            }
            other => return Err(format!("is {other}, expected a decimal")),
        }))
    }
}

/// A Parquet file read by column name.
pub(crate) struct Table {
    pub path: PathBuf,
    reader: ParquetRecordBatchReader,
    /// Requested names, in request order; `None` where an optional column is absent.
    names: Vec<(&'static str, bool)>,
}

/// The requested columns of one batch, in request order.
pub(crate) struct Batch {
    pub rows: usize,
    cols: Vec<Option<Col>>,
}

impl Batch {
    /// Column `i` of the request (`None` for an absent optional column).
    pub(crate) fn col(&self, i: usize) -> Option<&Col> {
        self.cols[i].as_ref()
    }
}

impl Table {
    /// Opens `path`, requiring the `(name, required)` columns that are required.
    pub(crate) fn open(
        path: &Path,
        columns: &[(&'static str, bool)],
        remedy: &str,
    ) -> Result<Table, RefdataError> {
        let file = File::open(path)
            .map_err(|e| RefdataError::bad_input(path, format!("cannot open ({e})"), remedy))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| {
            RefdataError::bad_input(path, format!("not a readable Parquet file ({e})"), remedy)
        })?;
        let schema = builder.schema().clone();
        let mut roots = Vec::new();
        for &(name, required) in columns {
            match schema.index_of(name) {
                Ok(i) => roots.push(i),
                Err(_) if required => {
                    return Err(RefdataError::bad_input(
                        path,
                        format!("column {name} is missing"),
                        remedy,
                    ));
                }
                Err(_) => {}
            }
        }
        roots.sort_unstable();
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
        let reader = builder
            .with_projection(mask)
            .with_batch_size(READ_BATCH_ROWS)
            .build()
            .map_err(|e| RefdataError::bad_input(path, format!("cannot read ({e})"), remedy))?;
        Ok(Table {
            path: path.to_path_buf(),
            reader,
            names: columns.to_vec(),
        })
    }

    /// The next batch, or `None` at the end.
    pub(crate) fn next_batch(&mut self) -> Result<Option<Batch>, RefdataError> {
        let Some(b) = self.reader.next() else {
            return Ok(None);
        };
        let b: RecordBatch = b.map_err(|e| {
            RefdataError::bad_input(
                &self.path,
                format!("cannot read ({e})"),
                "check that the file is complete",
            )
        })?;
        let cols = self
            .names
            .iter()
            .map(|(name, _)| b.column_by_name(name).map(|a| Col::new(a.clone())))
            .collect();
        Ok(Some(Batch {
            rows: b.num_rows(),
            cols,
        }))
    }

    /// An error naming this file, a row and a column.
    pub(crate) fn value_error(&self, row: u64, column: &str, problem: &str) -> RefdataError {
        RefdataError::bad_input(
            &self.path,
            format!("row {row}, column {column}: {problem}"),
            "results must follow CONTRACT.md section 5",
        )
    }
}

/// Rows of a table turned into `(key, record)` pairs by `extract`.
pub(crate) struct Rows<F> {
    table: Table,
    batch: Option<Batch>,
    row: usize,
    /// 1-based number of the next row in the file.
    pub file_row: u64,
    extract: F,
}

impl<F, K, V> Rows<F>
where
    F: FnMut(&Table, &Batch, usize, u64) -> Result<(K, V), RefdataError>,
{
    pub(crate) fn new(table: Table, extract: F) -> Rows<F> {
        Rows {
            table,
            batch: None,
            row: 0,
            file_row: 1,
            extract,
        }
    }
}

impl<F, K, V> Iterator for Rows<F>
where
    F: FnMut(&Table, &Batch, usize, u64) -> Result<(K, V), RefdataError>,
{
    type Item = Result<(K, V), RefdataError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(b) = &self.batch {
                if self.row < b.rows {
                    let r = (self.extract)(&self.table, b, self.row, self.file_row);
                    self.row += 1;
                    self.file_row += 1;
                    return Some(r);
                }
            }
            match self.table.next_batch() {
                Ok(Some(b)) => {
                    self.batch = Some(b);
                    self.row = 0;
                }
                Ok(None) => return None,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        let a = Dec::parse("450000.00").unwrap();
        let b = Dec {
            v: 450_000_000,
            scale: 3,
        };
        assert!(a.same_value(b));
        assert!(Dec::parse("-0.00")
            .unwrap()
            .same_value(Dec { v: 0, scale: 0 }));
        assert!(Dec::parse("1,5").is_none());
        assert!(Dec::parse("5.").is_none());
        assert_eq!(Dec { v: -150, scale: 2 }.to_string(), "-1.50");
        assert_eq!(Dec { v: 7, scale: -2 }.to_string(), "700");
        let two = Dec::parse("1687500.00").unwrap();
        for (v, like, shown) in [
            ("0.000", two, "0.00"),
            ("12.340", two, "12.34"),
            ("12.345", two, "12.345"),
        ] {
            assert_eq!(Dec::parse(v).unwrap().scaled_like(like).to_string(), shown);
        }
        assert_eq!(
            Dec::parse("7").unwrap().scaled_like(two).to_string(),
            "7.00"
        );
        assert_eq!(
            two.scaled_like(Dec::parse("1").unwrap()).to_string(),
            "1687500"
        );
    }
}
