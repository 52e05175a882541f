//! Hash grouping, partitioned by key hash so every core works (STYLE.md 7). A group is
//! named by its first row in input order, so results never depend on the number of
//! partitions, the hash seed or thread timing; map iteration order never reaches outputs.

use std::sync::OnceLock;

use hashbrown::HashTable;
use rayon::prelude::*;

/// The process's keyed hasher (random seed: resists crafted collisions, PITFALLS.md H14).
pub fn hasher() -> &'static ahash::RandomState {
    static H: OnceLock<ahash::RandomState> = OnceLock::new();
    H.get_or_init(ahash::RandomState::new)
}

pub fn hash<T: std::hash::Hash>(v: T) -> u64 {
    hasher().hash_one(v)
}

/// Built hash tables over positions `0..n` of a key column, one per partition.
#[derive(Default)]
pub struct Index {
    parts: Vec<HashTable<u32>>,
}

fn partition(h: u64, parts: usize) -> usize {
    ((h >> 40) as usize) % parts
}

/// Number of partitions: a few per thread so that skewed keys still spread.
pub fn partitions() -> usize {
    (rayon::current_num_threads() * 2).max(1)
}

impl Index {
    /// The stored position whose key equals the probe's, if any.
    pub fn find(&self, h: u64, eq: impl Fn(u32) -> bool) -> Option<u32> {
        let parts = self.parts.len();
        if parts == 0 {
            return None;
        }
        self.parts[partition(h, parts)].find(h, |&k| eq(k)).copied()
    }

    /// Rewrites stored positions (after rows were removed from the table).
    pub fn remap(&mut self, new_pos: &[u32]) {
        self.parts
            .par_iter_mut()
            .for_each(|t| t.iter_mut().for_each(|k| *k = new_pos[*k as usize]));
    }
}

/// Groups positions `0..hashes.len()` by key. Returns, for each position, the first
/// position with an equal key (its group's name), and the index of first positions.
/// `eq(a, b)` compares the keys at two positions; `hashes[k]` is the hash of key k.
pub fn group_first(hashes: &[u64], eq: &(dyn Fn(u32, u32) -> bool + Sync)) -> (Vec<u32>, Index) {
    let n = hashes.len();
    let parts = partitions();
    let built: Vec<(HashTable<u32>, Vec<u32>)> = (0..parts)
        .into_par_iter()
        .map(|p| {
            let mut table: HashTable<u32> =
                HashTable::with_capacity(n / parts + n / (parts * 8) + 16);
            let mut reps = Vec::with_capacity(n / parts + 16);
            for (k, &h) in hashes.iter().enumerate() {
                if partition(h, parts) != p {
                    continue;
                }
                let k = k as u32;
                let rep = match table.find(h, |&j| eq(j, k)) {
                    Some(&j) => j,
                    None => {
                        table.insert_unique(h, k, |&j| hashes[j as usize]);
                        k
                    }
                };
                reps.push(rep);
            }
            (table, reps)
        })
        .collect();
    let mut cursors = vec![0usize; parts];
    let mut rep = Vec::with_capacity(n);
    for &h in hashes {
        let p = partition(h, parts);
        rep.push(built[p].1[cursors[p]]);
        cursors[p] += 1;
    }
    let parts = built.into_iter().map(|(t, _)| t).collect();
    (rep, Index { parts })
}

/// Hashes `n` keys in parallel.
pub fn hashes(n: usize, key_hash: &(dyn Fn(usize) -> u64 + Sync)) -> Vec<u64> {
    let mut out = vec![0u64; n];
    out.par_chunks_mut(64 * 1024)
        .enumerate()
        .for_each(|(c, chunk)| {
            let base = c * 64 * 1024;
            for (i, h) in chunk.iter_mut().enumerate() {
                *h = key_hash(base + i);
            }
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_occurrence_names_the_group() {
        let keys = ["a", "b", "a", "c", "b", "a"];
        let h: Vec<u64> = keys.iter().map(hash).collect();
        let (rep, index) = group_first(&h, &|a, b| keys[a as usize] == keys[b as usize]);
        assert_eq!(rep, vec![0, 1, 0, 3, 1, 0]);
        assert_eq!(index.find(hash("c"), |k| keys[k as usize] == "c"), Some(3));
        assert_eq!(index.find(hash("z"), |k| keys[k as usize] == "z"), None);
    }
}
