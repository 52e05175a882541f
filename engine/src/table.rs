//! A side's accepted rows as one columnar table, in input order.

use arrow_array::{Array, ArrayRef, BooleanArray, StringArray};
use rayon::prelude::*;

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

    /// Joins the chunks of a side; returns the table, the field-level rejects and the
    /// number of input rows the chunks account for.
    pub fn from_chunks(side: Side, mut chunks: Vec<Chunk>) -> Result<(Table, Vec<Reject>, u64)> {
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
        // One column at a time, releasing the chunks' copy of it as soon as it is joined,
        // so that the peak is the table plus one column, not twice the text.
        let text: Vec<StringArray> = (0..n_text)
            .map(|c| {
                let owned: Vec<StringArray> = chunks
                    .iter_mut()
                    .map(|ch| std::mem::replace(&mut ch.text[c], StringArray::new_null(0)))
                    .collect();
                let parts: Vec<&dyn Array> = owned.iter().map(|a| a as &dyn Array).collect();
                if parts.is_empty() {
                    return Ok(StringArray::from(Vec::<&str>::new()));
                }
                let joined: ArrayRef = arrow_select::concat::concat(&parts).map_err(|e| {
                    Error::Usage(format!(
                        "the {} input is too large for one run ({e}); split it by programme or provider",
                        side.as_str()
                    ))
                })?;
                Ok(joined.as_any().downcast_ref::<StringArray>().expect("utf8").clone())
            })
            .collect::<Result<_>>()?;
        let cat = |f: &(dyn Fn(&Chunk) -> &[i128] + Sync)| -> Vec<i128> {
            let mut v = Vec::with_capacity(chunks.iter().map(|c| c.origin.len()).sum());
            for c in &chunks {
                v.extend_from_slice(f(c));
            }
            v
        };
        let amounts = (0..n_amount)
            .map(|a| cat(&|c: &Chunk| &c.amounts[a]))
            .collect();
        let mut currency = Vec::new();
        let mut date = Vec::new();
        let mut status = Vec::new();
        let mut origin = Vec::new();
        let mut rejects = Vec::new();
        for c in chunks {
            currency.extend_from_slice(&c.currency);
            date.extend_from_slice(&c.date);
            status.extend_from_slice(&c.status);
            origin.extend_from_slice(&c.origin);
            rejects.extend(c.rejects);
        }
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

    /// Keeps the rows where `keep` is true.
    pub fn retain(&mut self, keep: &[bool]) {
        let mask = BooleanArray::from(keep.to_vec());
        self.text = self
            .text
            .par_iter()
            .map(|a| {
                let f = arrow_select::filter::filter(a, &mask).expect("same length");
                f.as_any()
                    .downcast_ref::<StringArray>()
                    .expect("utf8")
                    .clone()
            })
            .collect();
        fn keep_vec<T: Copy>(v: &mut Vec<T>, keep: &[bool]) {
            if v.is_empty() {
                return;
            }
            let mut i = 0;
            v.retain(|_| {
                i += 1;
                keep[i - 1]
            });
        }
        for a in &mut self.amounts {
            keep_vec(a, keep);
        }
        keep_vec(&mut self.currency, keep);
        keep_vec(&mut self.date, keep);
        keep_vec(&mut self.status, keep);
        keep_vec(&mut self.origin, keep);
    }
}
