//! De-duplication (CONTRACT.md section 2): a field-valid instruction whose id an earlier
//! field-valid instruction has, and a field-valid settlement whose (provider, provider_ref)
//! an earlier one has, are rejected. "Earlier" is input order.
//!
//! It runs on the validated chunks, before they are joined into a table, so that the
//! join copies only the rows that stay.

use rayon::prelude::*;

use crate::group::{self, Index};
use crate::schema::{ins, set, Reason, Reject, Side};
use crate::validate::Chunk;

/// Random access to the rows of a side's chunks, numbered across all of them.
struct View<'a> {
    chunks: &'a [Chunk],
    starts: Vec<usize>,
}

impl<'a> View<'a> {
    fn new(chunks: &'a [Chunk]) -> View<'a> {
        let mut starts = Vec::with_capacity(chunks.len());
        let mut n = 0;
        for c in chunks {
            starts.push(n);
            n += c.origin.len();
        }
        View { chunks, starts }
    }

    #[inline]
    fn locate(&self, g: usize) -> (usize, usize) {
        let c = self.starts.partition_point(|&s| s <= g) - 1;
        (c, g - self.starts[c])
    }

    #[inline]
    fn str(&self, col: usize, g: u32) -> &'a str {
        let (c, j) = self.locate(g as usize);
        self.chunks[c].text[col].value(j)
    }
}

/// What de-duplication decided for one side.
pub struct Dedupe {
    /// Which rows stay (over all the chunks' rows), or None when all do.
    pub keep: Option<Vec<bool>>,
    pub rejects: Vec<Reject>,
    /// The kept rows by key, positions numbered after removal.
    pub index: Index,
}

pub fn dedupe(side: Side, chunks: &[Chunk]) -> Dedupe {
    let view = View::new(chunks);
    let key_cols: &[usize] = match side {
        Side::Instructions => &[ins::ID],
        Side::Settlements => &[set::PROVIDER, set::REF],
        // A custom side (disburse's payroll) has no ids to de-duplicate: `sverka
        // disburse` holds repeated rows itself, and `side::read` never calls this.
        Side::Custom(_) => unreachable!("dedupe is not defined for a custom side"),
    };
    // Each chunk hashes its rows into its own slice of one exactly sized vector.
    let mut hashes = vec![0u64; chunks.iter().map(|c| c.origin.len()).sum()];
    let mut slices = Vec::with_capacity(chunks.len());
    let mut rest = hashes.as_mut_slice();
    for c in chunks {
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(c.origin.len());
        slices.push(head);
        rest = tail;
    }
    chunks.par_iter().zip(slices).for_each(|(c, out)| {
        for (j, h) in out.iter_mut().enumerate() {
            *h = match side {
                Side::Instructions => group::hash(c.text[ins::ID].value(j)),
                Side::Settlements => {
                    group::hash((c.text[set::PROVIDER].value(j), c.text[set::REF].value(j)))
                }
                Side::Custom(_) => unreachable!("checked above"),
            };
        }
    });
    let eq = |a: u32, b: u32| {
        key_cols
            .iter()
            .rev()
            .all(|&k| view.str(k, a) == view.str(k, b))
    };
    let (rep, mut index) = group::group_first(&hashes, &eq);
    let dup_count = rep
        .iter()
        .enumerate()
        .filter(|(k, &r)| r as usize != *k)
        .count();
    if dup_count == 0 {
        return Dedupe {
            keep: None,
            rejects: Vec::new(),
            index,
        };
    }
    let (column, reason, col) = match side {
        Side::Instructions => ("instruction_id", Reason::DuplicateInstructionId, ins::ID),
        Side::Settlements => ("provider_ref", Reason::DuplicateProviderRef, set::REF),
        Side::Custom(_) => unreachable!("checked above"),
    };
    let mut rejects = Vec::with_capacity(dup_count);
    let mut keep = Vec::with_capacity(rep.len());
    let mut removed = Vec::with_capacity(dup_count);
    for (k, &r) in rep.iter().enumerate() {
        let first = r as usize == k;
        keep.push(first);
        if !first {
            removed.push(k as u32);
            let (c, j) = view.locate(k);
            let (file, row) = crate::validate::origin_parts(chunks[c].origin[j]);
            rejects.push(Reject {
                side,
                file,
                row,
                column: Some(column),
                reason,
                value: Some(crate::schema::cut_value(view.str(col, k as u32))),
            });
        }
    }
    index.remove_positions(&removed);
    Dedupe {
        keep: Some(keep),
        rejects,
        index,
    }
}
