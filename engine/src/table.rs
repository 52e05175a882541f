//! A side's accepted rows as one columnar table, in input order.

use arrow_array::{Array, StringArray};
use arrow_buffer::{BooleanBufferBuilder, Buffer, OffsetBuffer, ScalarBuffer};

use crate::currency::Ccy;
use crate::error::{Error, Result};
use crate::schema::{Reject, Side};
use crate::validate::Chunk;

#[derive(Debug)]
pub struct Table {
    pub side: Side,
    pub text: Vec<StringArray>,
    pub amounts: Vec<Vec<i128>>,
    pub currency: Vec<Ccy>,
    pub date: Vec<i32>,
    pub status: Vec<u8>,
    pub origin: Vec<u64>,
}

impl Table {
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

    /// Joins the chunks of a side, keeping the rows where `keep` (indexed over all the
    /// chunks' rows) is true; returns the table, the field-level rejects and the number of
    /// input rows the chunks account for. Each column is copied once, into a buffer of its
    /// exact size, and the chunks' copy of it is released as soon as it is joined.
    pub fn from_chunks(
        side: Side,
        mut chunks: Vec<Chunk>,
        keep: Option<&[bool]>,
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
        let mut starts = Vec::with_capacity(chunks.len());
        let mut total = 0usize;
        for c in &chunks {
            starts.push(total);
            total += c.origin.len();
        }
        let kept = |ci: usize, j: usize| keep.is_none_or(|k| k[starts[ci] + j]);
        let n_kept = keep.map_or(total, |k| k.iter().filter(|&&b| b).count());
        let mut text = Vec::with_capacity(n_text);
        for c in 0..n_text {
            let parts: Vec<StringArray> = chunks
                .iter_mut()
                .map(|ch| std::mem::replace(&mut ch.text[c], StringArray::new_null(0)))
                .collect();
            text.push(join_text(side, &parts, n_kept, &kept)?);
        }
        fn gather<T: Copy>(
            chunks: &[Chunk],
            n: usize,
            get: impl Fn(&Chunk) -> &[T],
            kept: &dyn Fn(usize, usize) -> bool,
        ) -> Vec<T> {
            let mut v = Vec::with_capacity(n);
            for (ci, c) in chunks.iter().enumerate() {
                v.extend(
                    get(c)
                        .iter()
                        .enumerate()
                        .filter(|(j, _)| kept(ci, *j))
                        .map(|(_, x)| *x),
                );
            }
            v
        }
        let amounts = (0..n_amount)
            .map(|a| gather(&chunks, n_kept, |c| &c.amounts[a], &kept))
            .collect();
        let currency = gather(&chunks, n_kept, |c| &c.currency, &kept);
        let date = gather(&chunks, n_kept, |c| &c.date, &kept);
        let status = gather(
            &chunks,
            if side == Side::Settlements { n_kept } else { 0 },
            |c| &c.status,
            &kept,
        );
        let origin = gather(&chunks, n_kept, |c| &c.origin, &kept);
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

/// Concatenates text parts, keeping the rows `kept(part, row)` says, into one array whose
/// buffers are allocated at their exact size.
fn join_text(
    side: Side,
    parts: &[StringArray],
    n: usize,
    kept: &dyn Fn(usize, usize) -> bool,
) -> Result<StringArray> {
    let mut bytes = 0usize;
    for (pi, p) in parts.iter().enumerate() {
        for j in 0..p.len() {
            if kept(pi, j) {
                bytes += p.value_length(j) as usize;
            }
        }
    }
    if bytes > i32::MAX as usize {
        return Err(Error::Usage(format!(
            "the {} input holds more than 2 GiB of text in one column; split it by programme or provider",
            side.as_str()
        )));
    }
    let any_null = parts.iter().any(|p| p.null_count() > 0);
    let mut values: Vec<u8> = Vec::with_capacity(bytes);
    let mut offsets: Vec<i32> = Vec::with_capacity(n + 1);
    offsets.push(0);
    let mut nulls = any_null.then(|| BooleanBufferBuilder::new(n));
    for (pi, p) in parts.iter().enumerate() {
        let all = (0..p.len()).all(|j| kept(pi, j));
        if all && p.null_count() == 0 {
            // Whole part: one copy of its value bytes, offsets shifted.
            let o = p.value_offsets();
            let (first, last) = (o[0] as usize, o[p.len()] as usize);
            let base = values.len() as i32 - first as i32;
            values.extend_from_slice(&p.value_data()[first..last]);
            offsets.extend(o[1..].iter().map(|x| x + base));
            if let Some(nb) = nulls.as_mut() {
                nb.append_n(p.len(), true);
            }
            continue;
        }
        for j in 0..p.len() {
            if !kept(pi, j) {
                continue;
            }
            let valid = !p.is_null(j);
            if valid {
                values.extend_from_slice(p.value(j).as_bytes());
            }
            offsets.push(values.len() as i32);
            if let Some(nb) = nulls.as_mut() {
                nb.append(valid);
            }
        }
    }
    let nulls = nulls.map(|mut b| arrow_buffer::NullBuffer::new(b.finish()));
    StringArray::try_new(
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        Buffer::from_vec(values),
        nulls,
    )
    .map_err(|e| Error::Internal(format!("joining text: {e}")))
}
