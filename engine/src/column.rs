//! Text columns as validated chunks and tables hold them, and which of a side's text
//! fields are kept as dictionaries (known to ingestion too, which keeps such input
//! encoded): below `ingest`, `validate` and `table`, which all use them.

use arrow_array::{Array, StringArray};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};

use crate::schema::Side;

/// A text column of a table.
#[derive(Debug)]
pub enum TextCol {
    Plain(StringArray),
    /// A low-cardinality required column (programme, cycle, provider): one code per row
    /// into `values`, so that grouping and comparing are integer operations and each
    /// distinct text is stored once. In a [`Table`] codes are numbered in order of first
    /// appearance in input order and values are distinct; in a validated chunk they are
    /// the input dictionary's keys and values.
    Dict {
        codes: Vec<u32>,
        values: StringArray,
    },
}

impl TextCol {
    /// A column of no rows.
    pub fn empty() -> TextCol {
        TextCol::Plain(StringArray::new_null(0))
    }

    /// Rows of the column.
    pub fn len(&self) -> usize {
        match self {
            TextCol::Plain(a) => a.len(),
            TextCol::Dict { codes, .. } => codes.len(),
        }
    }

    /// The column as a plain text array (a dictionary column is expanded).
    pub fn into_plain(self) -> StringArray {
        match self {
            TextCol::Plain(a) => a,
            d => d.slice_plain(0, d.len()),
        }
    }

    #[inline]
    pub fn value(&self, i: usize) -> &str {
        match self {
            TextCol::Plain(a) => a.value(i),
            TextCol::Dict { codes, values } => values.value(codes[i] as usize),
        }
    }

    #[inline]
    pub fn is_null(&self, i: usize) -> bool {
        match self {
            TextCol::Plain(a) => a.is_null(i),
            TextCol::Dict { .. } => false,
        }
    }

    /// The codes of a dictionary column (an engine invariant: see [`dict_columns`]).
    pub fn codes(&self) -> &[u32] {
        match self {
            TextCol::Dict { codes, .. } => codes,
            TextCol::Plain(_) => unreachable!("not a dictionary column"),
        }
    }

    /// The distinct values of a dictionary column, indexed by code.
    pub fn dict_values(&self) -> &StringArray {
        match self {
            TextCol::Dict { values, .. } => values,
            TextCol::Plain(_) => unreachable!("not a dictionary column"),
        }
    }

    /// The values of a plain column.
    pub fn plain(&self) -> &StringArray {
        match self {
            TextCol::Plain(a) => a,
            TextCol::Dict { .. } => unreachable!("not a plain column"),
        }
    }

    /// Rows `r` as a plain text array (dictionary columns are expanded).
    pub fn slice_plain(&self, start: usize, len: usize) -> StringArray {
        match self {
            TextCol::Plain(a) => a.slice(start, len),
            TextCol::Dict { codes, values } => {
                let codes = &codes[start..start + len];
                let bytes: usize = codes
                    .iter()
                    .map(|&c| values.value_length(c as usize) as usize)
                    .sum();
                let mut data = Vec::with_capacity(bytes);
                let mut offsets = Vec::with_capacity(len + 1);
                offsets.push(0i32);
                for &c in codes {
                    data.extend_from_slice(values.value(c as usize).as_bytes());
                    offsets.push(data.len() as i32);
                }
                // Offsets are monotone and each value is a whole UTF-8 string of `values`;
                // the total is below 2 GiB because output slices are 1M rows.
                StringArray::try_new(
                    OffsetBuffer::new(ScalarBuffer::from(offsets)),
                    Buffer::from_vec(data),
                    None,
                )
                .expect("concatenated UTF-8 values")
            }
        }
    }
}

/// The text columns (positions among a side's text fields) kept as dictionaries. All are
/// required fields, so a dictionary column has no nulls.
pub fn dict_columns(side: Side) -> &'static [usize] {
    use crate::schema::{ins, set};
    match side {
        Side::Instructions => &[ins::PROGRAM, ins::CYCLE, ins::PROVIDER],
        Side::Settlements => &[set::PROVIDER],
        Side::Custom(_) => &[],
    }
}

/// Whether field `fi` of `side` is validated once per distinct value when its input is
/// dictionary-encoded: every typed field (amounts, currency, dates, status), and the text
/// fields the table keeps as dictionaries. Other text stays plain: ids are unique.
pub fn per_value_field(side: Side, fi: usize) -> bool {
    let fields = side.fields();
    if fields[fi].kind != crate::schema::Kind::Text {
        return true;
    }
    let text_pos = fields[..fi]
        .iter()
        .filter(|f| f.kind == crate::schema::Kind::Text)
        .count();
    dict_columns(side).contains(&text_pos)
}
