//! A side's accepted rows as one columnar table, in input order.

use arrow_array::builder::StringBuilder;
use arrow_array::{Array, StringArray};
use hashbrown::HashMap;
use rayon::prelude::*;

use crate::column::dict_columns;
pub use crate::column::TextCol;
use crate::currency::Ccy;
use crate::error::{Error, Result};
use crate::schema::{Reject, Side};
use crate::validate::Chunk;

/// For each code of `from`'s dictionary, the code of the same text in `to`'s dictionary
/// (`u32::MAX` when `to` lacks it): compares a column across two tables by code.
pub fn translate_codes(from: &TextCol, to: &TextCol) -> Vec<u32> {
    let to_values = to.dict_values();
    let map: HashMap<&str, u32> = (0..to_values.len())
        .map(|c| (to_values.value(c), c as u32))
        .collect();
    let from_values = from.dict_values();
    (0..from_values.len())
        .map(|c| map.get(from_values.value(c)).copied().unwrap_or(u32::MAX))
        .collect()
}

/// Read-only outside the engine: the accessors below.
#[derive(Debug)]
pub struct Table {
    pub(crate) side: Side,
    pub(crate) text: Vec<TextCol>,
    /// Minor units, as in [`crate::validate::Chunk::amounts`].
    pub(crate) amounts: Vec<Vec<u64>>,
    pub(crate) currency: Vec<Ccy>,
    pub(crate) date: Vec<i32>,
    pub(crate) status: Vec<u8>,
    pub(crate) origin: Vec<u64>,
}

impl Table {
    pub fn side(&self) -> Side {
        self.side
    }

    /// Amount column `col` (in the side's amount fields' order) of row `i`, in minor
    /// units of the row's currency.
    #[inline]
    pub fn amount(&self, col: usize, i: usize) -> u64 {
        self.amounts[col][i]
    }

    #[inline]
    pub fn currency(&self, i: usize) -> Ccy {
        self.currency[i]
    }

    /// Every row's date (the side's date field), as days since 1970-01-01.
    pub fn dates(&self) -> &[i32] {
        &self.date
    }

    /// Where row `i` came from: its file's index among the side's files, and its 1-based
    /// data row in that file.
    #[inline]
    pub fn origin(&self, i: usize) -> (u32, u64) {
        crate::validate::origin_parts(self.origin[i])
    }

    pub fn len(&self) -> usize {
        self.currency.len()
    }

    pub fn is_empty(&self) -> bool {
        self.currency.is_empty()
    }

    /// A required text value.
    #[inline]
    pub fn str(&self, col: usize, i: usize) -> &str {
        self.text[col].value(i)
    }

    /// An optional text value.
    #[inline]
    pub fn opt_str(&self, col: usize, i: usize) -> Option<&str> {
        let a = &self.text[col];
        (!a.is_null(i)).then(|| a.value(i))
    }

    /// Bytes held by the table's buffers (capacity), for memory accounting.
    pub(crate) fn heap_bytes(&self) -> Vec<(String, usize)> {
        let mut v: Vec<(String, usize)> = self
            .text
            .iter()
            .enumerate()
            .map(|(c, t)| {
                let b = match t {
                    TextCol::Plain(a) => a.get_buffer_memory_size(),
                    TextCol::Dict { codes, values } => {
                        codes.capacity() * 4 + values.get_buffer_memory_size()
                    }
                };
                (format!("text{c}"), b)
            })
            .collect();
        for (a, x) in self.amounts.iter().enumerate() {
            v.push((
                format!("amount{a}"),
                x.capacity() * std::mem::size_of::<u64>(),
            ));
        }
        v.push((
            "currency".into(),
            self.currency.capacity() * std::mem::size_of::<Ccy>(),
        ));
        v.push(("date".into(), self.date.capacity() * 4));
        v.push(("status".into(), self.status.capacity()));
        v.push(("origin".into(), self.origin.capacity() * 8));
        v
    }

    /// The codes of a dictionary text column.
    #[inline]
    pub(crate) fn codes(&self, col: usize) -> &[u32] {
        self.text[col].codes()
    }

    /// Joins the chunks of a side, keeping the rows where `keep` (indexed over all the
    /// chunks' rows) is true; returns the table, the field-level rejects and the number of
    /// input rows the chunks account for. Each column is copied once, into a buffer of its
    /// exact size, and the chunks' copy of it is released as soon as it is joined.
    pub(crate) fn from_chunks(
        side: Side,
        chunks: Vec<Chunk>,
        keep: Option<&[bool]>,
    ) -> Result<(Table, Vec<Reject>, u64)> {
        Table::from_chunks_releasing(side, chunks, keep, &|| {})
    }

    /// [`Table::from_chunks`], calling `release` each time a large column's chunk copies
    /// are dropped, so that the host can return their memory to the system before the
    /// next column is joined (the join's peak is then the tables plus about one column
    /// per thread, not the tables plus the whole of the chunks).
    pub fn from_chunks_releasing(
        side: Side,
        mut chunks: Vec<Chunk>,
        keep: Option<&[bool]>,
        release: &(dyn Fn() + Sync),
    ) -> Result<(Table, Vec<Reject>, u64)> {
        let n_text = side
            .fields()
            .iter()
            .filter(|f| f.kind == crate::schema::Kind::Text)
            .count();
        let n_amount = side
            .fields()
            .iter()
            .filter(|f| f.kind == crate::schema::Kind::Amount)
            .count();
        let rows_in = chunks.iter().map(|c| c.rows_in as u64).sum();
        let lens: Vec<usize> = chunks.iter().map(|c| c.origin.len()).collect();
        let kept = &Kept::new(keep, &lens);
        let n_kept = keep.map_or(lens.iter().sum(), |k| k.iter().filter(|&&b| b).count());
        // Every column is taken out of the chunks, joined as its own task, and its chunk
        // copies dropped as soon as it is joined.
        let texts: Vec<Vec<TextCol>> = (0..n_text)
            .map(|c| {
                chunks
                    .iter_mut()
                    .map(|ch| std::mem::replace(&mut ch.text[c], TextCol::empty()))
                    .collect()
            })
            .collect();
        let amount_parts: Vec<Vec<Vec<u64>>> = (0..n_amount)
            .map(|a| {
                chunks
                    .iter_mut()
                    .map(|ch| std::mem::take(&mut ch.amounts[a]))
                    .collect()
            })
            .collect();
        fn take<T>(chunks: &mut [Chunk], f: impl Fn(&mut Chunk) -> &mut Vec<T>) -> Vec<Vec<T>> {
            chunks.iter_mut().map(|c| std::mem::take(f(c))).collect()
        }
        let currency_parts = take(&mut chunks, |c| &mut c.currency);
        let date_parts = take(&mut chunks, |c| &mut c.date);
        let status_parts = take(&mut chunks, |c| &mut c.status);
        let origin_parts = take(&mut chunks, |c| &mut c.origin);
        fn gather<T: Copy + Send>(parts: Vec<Vec<T>>, n: usize, kept: &Kept) -> Vec<T> {
            let mut v = Vec::with_capacity(n);
            for (ci, c) in parts.into_iter().enumerate() {
                if c.is_empty() {
                    // A column the side does not have (instructions' status).
                    continue;
                }
                for (start, len) in kept.runs(ci, c.len()) {
                    v.extend_from_slice(&c[start..start + len]);
                }
            }
            v
        }
        let n_status = if matches!(side, Side::Settlements) {
            n_kept
        } else {
            0
        };
        let (text, ((amounts, currency), (date, (status, origin)))) = rayon::join(
            || {
                texts
                    .into_par_iter()
                    .enumerate()
                    .map(|(c, parts)| {
                        if dict_columns(side).contains(&c) {
                            Ok(join_dict(&parts, n_kept, kept))
                        } else {
                            let parts: Vec<StringArray> =
                                parts.into_iter().map(TextCol::into_plain).collect();
                            let col = join_text(side, &parts, n_kept, kept).map(TextCol::Plain);
                            drop(parts);
                            release();
                            col
                        }
                    })
                    .collect::<Result<Vec<TextCol>>>()
            },
            || {
                rayon::join(
                    || {
                        rayon::join(
                            || {
                                amount_parts
                                    .into_par_iter()
                                    .map(|parts| {
                                        let col = gather(parts, n_kept, kept);
                                        release();
                                        col
                                    })
                                    .collect::<Vec<_>>()
                            },
                            || gather(currency_parts, n_kept, kept),
                        )
                    },
                    || {
                        rayon::join(
                            || gather(date_parts, n_kept, kept),
                            || {
                                rayon::join(
                                    || gather(status_parts, n_status, kept),
                                    || gather(origin_parts, n_kept, kept),
                                )
                            },
                        )
                    },
                )
            },
        );
        let text = text?;
        let rejects = chunks.into_iter().flat_map(|c| c.rejects).collect();
        Ok((
            Table {
                side,
                text,
                amounts,
                currency,
                date,
                status,
                origin,
            },
            rejects,
            rows_in,
        ))
    }
}

/// Which rows of each chunk (part) a join keeps: `None` for a part whose rows all stay
/// (a part is then copied whole), else the part's slice of the keep mask.
struct Kept<'a>(Vec<Option<&'a [bool]>>);

impl<'a> Kept<'a> {
    /// `keep` over all the parts' rows (None: every row stays); `lens` the parts' rows.
    fn new(keep: Option<&'a [bool]>, lens: &[usize]) -> Kept<'a> {
        let mut start = 0;
        Kept(
            lens.iter()
                .map(|&len| {
                    let m = keep.map(|k| &k[start..start + len]);
                    start += len;
                    m.filter(|m| !m.iter().all(|&b| b))
                })
                .collect(),
        )
    }

    #[inline]
    fn get(&self, part: usize, row: usize) -> bool {
        self.0[part].is_none_or(|m| m[row])
    }

    /// The runs of consecutive kept rows of a part of `len` rows: (first row, rows).
    fn runs(&self, part: usize, len: usize) -> Vec<(usize, usize)> {
        let Some(m) = self.0[part] else {
            return if len == 0 { Vec::new() } else { vec![(0, len)] };
        };
        debug_assert_eq!(m.len(), len, "a part's mask covers its rows");
        let mut runs = Vec::new();
        let mut start = None;
        for (j, &k) in m.iter().enumerate() {
            match (k, start) {
                (true, None) => start = Some(j),
                (false, Some(s)) => {
                    runs.push((s, j - s));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            runs.push((s, m.len() - s));
        }
        runs
    }
}

/// Dictionary-codes a required text column over its parts, keeping the rows
/// `kept` keeps. Each part is coded on its own (in parallel: a plain part by
/// hashing its values, a dictionary part through its keys, each distinct value looked at
/// once), then the parts' small dictionaries are merged in part order, so codes follow
/// first appearance in input order whatever the thread count and the input's encoding.
fn join_dict(parts: &[TextCol], n: usize, kept: &Kept) -> TextCol {
    // Per part: (codes of the kept rows, the value of each local code).
    let local: Vec<(Vec<u32>, Vec<&str>)> = parts
        .par_iter()
        .enumerate()
        .map(|(pi, p)| {
            let mut firsts: Vec<&str> = Vec::new();
            let mut codes = Vec::with_capacity(p.len());
            match p {
                TextCol::Plain(a) => {
                    let mut map: HashMap<&str, u32> = HashMap::new();
                    for j in (0..a.len()).filter(|&j| kept.get(pi, j)) {
                        let v = a.value(j);
                        let next = firsts.len() as u32;
                        codes.push(*map.entry(v).or_insert_with(|| {
                            firsts.push(v);
                            next
                        }));
                    }
                }
                TextCol::Dict {
                    codes: keys,
                    values,
                } => {
                    let mut local_of = vec![u32::MAX; values.len()];
                    for (j, &k) in keys.iter().enumerate() {
                        if !kept.get(pi, j) {
                            continue;
                        }
                        let l = &mut local_of[k as usize];
                        if *l == u32::MAX {
                            *l = firsts.len() as u32;
                            firsts.push(values.value(k as usize));
                        }
                        codes.push(*l);
                    }
                }
            }
            (codes, firsts)
        })
        .collect();
    let mut global: HashMap<&str, u32> = HashMap::new();
    let mut values: Vec<&str> = Vec::new();
    let mut codes = Vec::with_capacity(n);
    for (local_codes, firsts) in &local {
        let remap: Vec<u32> = firsts
            .iter()
            .map(|&v| {
                *global.entry(v).or_insert_with(|| {
                    values.push(v);
                    values.len() as u32 - 1
                })
            })
            .collect();
        codes.extend(local_codes.iter().map(|&c| remap[c as usize]));
    }
    TextCol::Dict {
        codes,
        values: StringArray::from(values),
    }
}

/// Concatenates text parts, keeping the rows `kept` keeps, into one array whose
/// buffers are allocated at their exact size. Each run of consecutive kept rows is
/// appended whole (its value bytes in one copy, its offsets shifted), and the parts'
/// text is not validated as UTF-8 again.
fn join_text(side: Side, parts: &[StringArray], n: usize, kept: &Kept) -> Result<StringArray> {
    let runs: Vec<Vec<(usize, usize)>> = parts
        .iter()
        .enumerate()
        .map(|(pi, p)| kept.runs(pi, p.len()))
        .collect();
    let mut bytes = 0usize;
    for (p, runs) in parts.iter().zip(&runs) {
        let o = p.value_offsets();
        bytes += runs
            .iter()
            .map(|&(start, len)| (o[start + len] - o[start]) as usize)
            .sum::<usize>();
    }
    if bytes > i32::MAX as usize {
        return Err(Error::Usage(format!(
            "the {} input holds more than 2 GiB of text in one column; split it by programme or provider",
            side.as_str()
        )));
    }
    let mut b = StringBuilder::with_capacity(n, bytes);
    for (p, runs) in parts.iter().zip(&runs) {
        for &(start, len) in runs {
            b.append_array(&p.slice(start, len))
                .map_err(|e| Error::Internal(format!("joining text: {e}")))?;
        }
    }
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionary_codes_follow_first_kept_appearance_across_parts() {
        let parts = [
            TextCol::Plain(StringArray::from(vec!["B", "DROPPED", "A"])),
            TextCol::Plain(StringArray::from(vec!["A", "C", "B"])),
        ];
        let keep = [true, false, true, true, true, true];
        let col = join_dict(&parts, 5, &Kept::new(Some(&keep), &[3, 3]));
        assert_eq!(col.codes(), &[0, 1, 1, 2, 0]);
        let values = col.dict_values();
        let names: Vec<&str> = (0..values.len()).map(|c| values.value(c)).collect();
        assert_eq!(
            names,
            ["B", "A", "C"],
            "a value only in dropped rows gets no code"
        );
        let expanded = col.slice_plain(1, 3);
        assert_eq!(
            expanded.iter().flatten().collect::<Vec<_>>(),
            ["A", "A", "C"]
        );
    }

    #[test]
    fn dictionary_parts_code_like_plain_parts() {
        // The same rows, once plain and once as an input dictionary whose order differs
        // from first appearance and which holds a value no kept row uses.
        let plain = TextCol::Plain(StringArray::from(vec!["B", "A", "B", "C"]));
        let dict = TextCol::Dict {
            codes: vec![2, 0, 2, 3],
            values: StringArray::from(vec!["A", "UNUSED", "B", "C"]),
        };
        let keep = [true, true, false, true];
        let from_plain = join_dict(&[plain], 3, &Kept::new(Some(&keep), &[4]));
        let from_dict = join_dict(&[dict], 3, &Kept::new(Some(&keep), &[4]));
        for col in [&from_plain, &from_dict] {
            assert_eq!(col.codes(), &[0, 1, 2]);
            let v = col.dict_values();
            assert_eq!(
                (0..v.len()).map(|c| v.value(c)).collect::<Vec<_>>(),
                ["B", "A", "C"]
            );
        }
        // Mixed parts share one dictionary.
        let mixed = join_dict(
            &[
                TextCol::Plain(StringArray::from(vec!["C"])),
                TextCol::Dict {
                    codes: vec![1, 0],
                    values: StringArray::from(vec!["C", "A"]),
                },
            ],
            3,
            &Kept::new(None, &[1, 2]),
        );
        assert_eq!(mixed.codes(), &[0, 1, 0]);
    }

    proptest::proptest! {
        /// The text join equals keeping the rows one by one: parts with nulls, sliced
        /// parts, empty parts, and masks that keep all, none or scattered rows.
        #[test]
        fn text_join_keeps_exactly_the_kept_rows(
            parts in proptest::collection::vec(
                (
                    proptest::collection::vec(
                        proptest::option::weighted(0.9, "[a-z\u{e9}]{0,5}"),
                        0..30,
                    ),
                    0usize..3,
                ),
                0..6,
            ),
            keep in proptest::collection::vec(proptest::bool::weighted(0.8), 200),
            masked in proptest::bool::ANY,
        ) {
            let arrays: Vec<StringArray> = parts
                .iter()
                .map(|(values, offset)| {
                    let offset = (*offset).min(values.len());
                    StringArray::from(values.clone()).slice(offset, values.len() - offset)
                })
                .collect();
            let lens: Vec<usize> = arrays.iter().map(|a| a.len()).collect();
            let total: usize = lens.iter().sum();
            let keep = &keep[..total];
            let mask = masked.then_some(keep);
            let kept = Kept::new(mask, &lens);
            let want: Vec<Option<&str>> = arrays
                .iter()
                .flat_map(|a| a.iter())
                .zip(0..)
                .filter(|&(_, i)| mask.is_none_or(|m| m[i]))
                .map(|(v, _)| v)
                .collect();
            let got = join_text(Side::Instructions, &arrays, want.len(), &kept).unwrap();
            proptest::prop_assert_eq!(got.iter().collect::<Vec<_>>(), want.clone());
            proptest::prop_assert_eq!(got.value_data().len(), want.iter().flatten().map(|v| v.len()).sum::<usize>());
        }
    }

    #[test]
    fn codes_translate_between_dictionaries() {
        let plain = |v: Vec<&str>| TextCol::Plain(StringArray::from(v));
        let a = join_dict(&[plain(vec!["X", "Y", "Z"])], 3, &Kept::new(None, &[3]));
        let b = join_dict(&[plain(vec!["Z", "X"])], 2, &Kept::new(None, &[2]));
        assert_eq!(translate_codes(&a, &b), [1, u32::MAX, 0]);
    }
}
