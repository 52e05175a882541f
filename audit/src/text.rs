//! Text columns of the row outputs as the audit reads them, whatever the Arrow encoding:
//! `Utf8`, `LargeUtf8`, `Utf8View` (a Parquet read-back may give any of them) or
//! `Dictionary(Int32, Utf8)` (a run's coded columns, and low-cardinality columns the
//! report reads as dictionaries). The audit's own code: `verify` must not read the
//! outputs through the engine's writer.

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{Array, LargeStringArray, RecordBatch, StringArray, StringViewArray};
use arrow_buffer::NullBuffer;
use arrow_schema::DataType;

use crate::read::ReadResult;

/// A text column of a batch; a null row reads as "" through [`Text::value`].
pub enum Text<'a> {
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    Utf8View(&'a StringViewArray),
    Dict {
        /// Per-row index into `values` (a null row's key is arbitrary).
        keys: &'a [i32],
        nulls: Option<&'a NullBuffer>,
        values: &'a StringArray,
    },
}

impl<'a> Text<'a> {
    /// Column `name` of a batch as text; the error says what is wrong.
    pub fn of(b: &'a RecordBatch, name: &str) -> ReadResult<Text<'a>> {
        let i = b
            .schema()
            .index_of(name)
            .map_err(|_| format!("no column {name:?}"))?;
        let a = b.column(i);
        Text::of_array(a.as_ref())
            .ok_or_else(|| format!("column {name}: text expected, found {}", a.data_type()))
    }

    /// An array as text, or None when it is none of the four text encodings.
    pub fn of_array(a: &'a dyn Array) -> Option<Text<'a>> {
        match a.data_type() {
            DataType::Utf8 => Some(Text::Utf8(a.as_string::<i32>())),
            DataType::LargeUtf8 => Some(Text::LargeUtf8(a.as_string::<i64>())),
            DataType::Utf8View => Some(Text::Utf8View(a.as_string_view())),
            DataType::Dictionary(k, v) if **k == DataType::Int32 && **v == DataType::Utf8 => {
                let d = a.as_dictionary::<Int32Type>();
                Some(Text::Dict {
                    keys: d.keys().values(),
                    nulls: d.nulls(),
                    values: d.values().as_string::<i32>(),
                })
            }
            _ => None,
        }
    }

    /// Row `i`, None when null.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Text::Utf8(a) => (!a.is_null(i)).then(|| a.value(i)),
            Text::LargeUtf8(a) => (!a.is_null(i)).then(|| a.value(i)),
            Text::Utf8View(a) => (!a.is_null(i)).then(|| a.value(i)),
            Text::Dict {
                keys,
                nulls,
                values,
            } => {
                if nulls.is_some_and(|n| n.is_null(i)) {
                    return None;
                }
                let k = keys[i] as usize;
                (!values.is_null(k)).then(|| values.value(k))
            }
        }
    }

    /// Row `i` ("" when null).
    #[inline]
    pub fn value(&self, i: usize) -> &'a str {
        self.get(i).unwrap_or("")
    }

    /// Rows of the column.
    pub fn len(&self) -> usize {
        match self {
            Text::Utf8(a) => a.len(),
            Text::LargeUtf8(a) => a.len(),
            Text::Utf8View(a) => a.len(),
            Text::Dict { keys, .. } => keys.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A dictionary column's rows as dense numbers of the values they use, with those
    /// values in order of first use: one lookup per value used, none per row (a dictionary
    /// may hold values no row uses, which must not be named). None for other encodings and
    /// for a dictionary with null rows (their keys point anywhere).
    pub fn used_values(&self) -> Option<(Vec<u32>, Vec<&'a str>)> {
        let Text::Dict {
            keys,
            nulls: None,
            values,
        } = *self
        else {
            return None;
        };
        let mut id_of = vec![u32::MAX; values.len()];
        let mut names = Vec::new();
        let ids = keys
            .iter()
            .map(|&k| {
                let id = &mut id_of[k as usize];
                if *id == u32::MAX {
                    *id = names.len() as u32;
                    let k = k as usize;
                    names.push(if values.is_null(k) {
                        ""
                    } else {
                        values.value(k)
                    });
                }
                *id
            })
            .collect();
        Some((ids, names))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{ArrayRef, DictionaryArray, Int32Array};
    use std::sync::Arc;

    /// `rows` in each of the four encodings, each also sliced (offsets not at 0).
    fn encodings(rows: &[Option<&str>]) -> Vec<(String, ArrayRef)> {
        let utf8: ArrayRef = Arc::new(StringArray::from(rows.to_vec()));
        let large: ArrayRef = Arc::new(LargeStringArray::from(rows.to_vec()));
        let view: ArrayRef = Arc::new(StringViewArray::from(rows.to_vec()));
        let dict: ArrayRef = Arc::new(rows.iter().copied().collect::<DictionaryArray<Int32Type>>());
        vec![
            ("Utf8".into(), utf8),
            ("LargeUtf8".into(), large),
            ("Utf8View".into(), view),
            ("Dictionary".into(), dict),
        ]
    }

    fn check(rows: &[Option<&str>]) {
        for (what, a) in encodings(rows) {
            for (from, a) in [(0, a.clone()), (1, a.slice(1, rows.len() - 1))] {
                let t = Text::of_array(a.as_ref()).unwrap_or_else(|| panic!("{what}"));
                assert_eq!(t.len(), rows.len() - from, "{what}");
                for (i, want) in rows[from..].iter().enumerate() {
                    assert_eq!(t.get(i), *want, "{what} row {i}");
                    assert_eq!(t.value(i), want.unwrap_or(""), "{what} row {i}");
                }
                match t.used_values() {
                    Some((ids, names)) => {
                        assert!(what == "Dictionary" && rows.iter().all(Option::is_some));
                        let distinct: std::collections::BTreeSet<_> = names.iter().collect();
                        assert_eq!(distinct.len(), names.len(), "{what}: a value named twice");
                        for (i, want) in rows[from..].iter().enumerate() {
                            assert_eq!(Some(names[ids[i] as usize]), *want, "{what} row {i}");
                        }
                    }
                    None => assert!(what != "Dictionary" || rows.iter().any(Option::is_none)),
                }
            }
        }
    }

    #[test]
    fn four_encodings_read_alike() {
        let long = "a value longer than twelve bytes (not inlined in a view)";
        check(&[
            Some("SETTLED"),
            Some(""),
            Some(long),
            Some("SETTLED"),
            Some("UZS"),
        ]);
        check(&[
            None,
            Some("SETTLED"),
            None,
            Some(long),
            Some(""),
            None,
            Some("SETTLED"),
        ]);
    }

    #[test]
    fn unused_dictionary_values_are_not_named() {
        let values = StringArray::from(vec!["UZS", "KES", "UGX"]);
        let d = DictionaryArray::new(Int32Array::from(vec![2, 2, 0]), Arc::new(values));
        let (ids, names) = Text::of_array(&d).unwrap().used_values().unwrap();
        assert_eq!((ids, names), (vec![0, 0, 1], vec!["UGX", "UZS"]));
    }

    #[test]
    fn other_types_are_not_text() {
        let b = RecordBatch::try_from_iter([
            ("n", Arc::new(Int32Array::from(vec![1])) as ArrayRef),
            ("s", Arc::new(StringArray::from(vec!["x"])) as ArrayRef),
        ])
        .unwrap();
        assert_eq!(
            Text::of(&b, "n").err().unwrap(),
            "column n: text expected, found Int32"
        );
        assert_eq!(Text::of(&b, "z").err().unwrap(), "no column \"z\"");
        assert_eq!(Text::of(&b, "s").unwrap().value(0), "x");
    }
}
