//! De-duplication (CONTRACT.md section 2): a field-valid instruction whose id an earlier
//! field-valid instruction has, and a field-valid settlement whose (provider, provider_ref)
//! an earlier one has, are rejected. "Earlier" is input order.

use crate::group::{self, Index};
use crate::schema::{ins, set, Reason, Reject, Side};
use crate::table::Table;
use crate::validate::origin_parts;

/// Removes duplicates from `t`, returning their rejects and an index of the kept rows by
/// key (positions in the table after removal).
type KeyEq<'a> = Box<dyn Fn(u32, u32) -> bool + Sync + 'a>;

pub fn dedupe(t: &mut Table) -> (Vec<Reject>, Index) {
    let (hashes, eq): (Vec<u64>, KeyEq) = match t.side {
        Side::Instructions => {
            let ids = &t.text[ins::ID];
            (
                group::hashes(t.len(), &|i| group::hash(ids.value(i))),
                Box::new(move |a, b| ids.value(a as usize) == ids.value(b as usize)),
            )
        }
        Side::Settlements => {
            let (p, r) = (&t.text[set::PROVIDER], &t.text[set::REF]);
            (
                group::hashes(t.len(), &|i| group::hash((p.value(i), r.value(i)))),
                Box::new(move |a, b| {
                    let (a, b) = (a as usize, b as usize);
                    r.value(a) == r.value(b) && p.value(a) == p.value(b)
                }),
            )
        }
    };
    let (rep, mut index) = group::group_first(&hashes, &*eq);
    drop(eq);
    let dup_count = rep
        .iter()
        .enumerate()
        .filter(|(k, &r)| r as usize != *k)
        .count();
    if dup_count == 0 {
        return (Vec::new(), index);
    }
    let (column, reason, col) = match t.side {
        Side::Instructions => ("instruction_id", Reason::DuplicateInstructionId, ins::ID),
        Side::Settlements => ("provider_ref", Reason::DuplicateProviderRef, set::REF),
    };
    let mut rejects = Vec::with_capacity(dup_count);
    let mut keep = Vec::with_capacity(t.len());
    let mut new_pos = vec![u32::MAX; t.len()];
    let mut next = 0u32;
    for (k, &r) in rep.iter().enumerate() {
        let first = r as usize == k;
        keep.push(first);
        if first {
            new_pos[k] = next;
            next += 1;
        } else {
            let (file, row) = origin_parts(t.origin[k]);
            rejects.push(Reject {
                side: t.side,
                file,
                row,
                column: Some(column),
                reason,
                value: Some(crate::schema::cut_value(t.str(col, k))),
            });
        }
    }
    t.retain(&keep);
    index.remap(&new_pos);
    (rejects, index)
}
