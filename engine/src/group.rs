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
    parts: Vec<HashTable<Entry>>,
}

/// A stored position with 32 more bits of its key's hash than hashbrown's 7-bit tag, so
/// that a probe compares keys (random reads of the key columns) only for a position whose
/// hash agrees in 39 bits: at 10M keys hashbrown's tags alone sent about one probe in ten
/// to a key comparison that failed.
#[derive(Clone, Copy)]
pub struct Entry {
    pos: u32,
    check: u32,
}

/// Hash bits independent of a partition's bits, hashbrown's tag and (in tables of fewer
/// than 2^16 buckets) its bucket positions.
#[inline]
fn check(h: u64) -> u32 {
    (h >> 8) as u32 ^ (h >> 48) as u32
}

/// A hash's partition among `parts` (a power of two): bits that hashbrown uses neither
/// for bucket positions (the low bits) nor for tags (the top seven).
#[inline]
pub fn partition(h: u64, parts: usize) -> usize {
    ((h >> 40) as usize) & (parts - 1)
}

/// Number of partitions for work spread over rayon's threads: a few per thread so that
/// skewed keys still spread (a power of two).
pub fn partitions() -> usize {
    (rayon::current_num_threads() * 2)
        .max(1)
        .next_power_of_two()
}

/// Keys per partition of a radix-partitioned table: its hash table (about 5 bytes a key)
/// and its keys' hashes stay in the core's cache while it is built or probed.
const KEYS_PER_PARTITION: usize = 16 * 1024;

/// Partitions for `n` keys: about [`KEYS_PER_PARTITION`] each, at least [`partitions`].
fn partitions_for(n: usize) -> usize {
    (n / KEYS_PER_PARTITION)
        .max(partitions())
        .next_power_of_two()
        .min(MAX_PARTITIONS)
}

const MAX_PARTITIONS: usize = 1 << 15;
/// The partition id of a row without a key.
const NO_PART: u16 = u16::MAX;

/// Rows bucketed by partition (radix partitioning), input order kept within each bucket:
/// bucket `p` is `order[offsets(p)..offsets(p + 1)]`, with each row's hash beside it.
/// Rows are cut into blocks that are bucketed in parallel; within a bucket the blocks'
/// segments follow each other in block order, so input order is kept.
struct Buckets {
    /// Start of segment (partition p, block b) in `order`, at `p * blocks + b`; one more
    /// entry holds the total.
    seg: Vec<usize>,
    blocks: usize,
    block_rows: usize,
    order: Vec<u32>,
    hashes: Vec<u64>,
}

/// Rows per block of [`Buckets`].
const BLOCK_ROWS: usize = 1 << 20;

impl Buckets {
    /// `pids[k]` is row k's partition (`NO_PART`: not bucketed), `hash(k)` its hash.
    fn new(
        parts: usize,
        block_rows: usize,
        pids: &[u16],
        hash: &(dyn Fn(usize) -> u64 + Sync),
    ) -> Buckets {
        let blocks = pids.len().div_ceil(block_rows).max(1);
        let counts: Vec<Vec<usize>> = pids
            .par_chunks(block_rows)
            .map(|block| {
                let mut c = vec![0usize; parts];
                for &p in block {
                    if p != NO_PART {
                        c[p as usize] += 1;
                    }
                }
                c
            })
            .collect();
        let mut seg = Vec::with_capacity(parts * blocks + 1);
        let mut total = 0;
        for p in 0..parts {
            for b in 0..blocks {
                seg.push(total);
                total += counts.get(b).map_or(0, |c| c[p]);
            }
        }
        seg.push(total);
        let mut order = vec![0u32; total];
        let mut hashes = vec![0u64; total];
        // Each block's segments, one per partition, as disjoint mutable slices.
        let mut per_block: Vec<Vec<(&mut [u32], &mut [u64])>> =
            (0..blocks).map(|_| Vec::with_capacity(parts)).collect();
        let (mut o_rest, mut h_rest) = (order.as_mut_slice(), hashes.as_mut_slice());
        for p in 0..parts {
            for (b, slices) in per_block.iter_mut().enumerate() {
                let len = seg[p * blocks + b + 1] - seg[p * blocks + b];
                let (o, ot) = std::mem::take(&mut o_rest).split_at_mut(len);
                let (h, ht) = std::mem::take(&mut h_rest).split_at_mut(len);
                slices.push((o, h));
                (o_rest, h_rest) = (ot, ht);
            }
        }
        per_block
            .into_par_iter()
            .zip(pids.par_chunks(block_rows))
            .enumerate()
            .for_each(|(b, (mut slices, block))| {
                let mut cursor = vec![0usize; parts];
                let base = b * block_rows;
                for (j, &p) in block.iter().enumerate() {
                    if p != NO_PART {
                        let (p, k) = (p as usize, base + j);
                        let c = cursor[p];
                        slices[p].0[c] = k as u32;
                        slices[p].1[c] = hash(k);
                        cursor[p] = c + 1;
                    }
                }
            });
        Buckets {
            seg,
            blocks,
            block_rows,
            order,
            hashes,
        }
    }

    /// Start of bucket `p` in `order`.
    fn offset(&self, p: usize) -> usize {
        self.seg[p * self.blocks]
    }

    /// Runs `work(p, rows, hashes, out)` for every bucket in parallel, `out` being the
    /// bucket's slots of one value per bucketed row, and returns the values in row order
    /// (`none` for rows not bucketed) with what each bucket's work returned.
    fn map<R: Send>(
        self,
        pids: &[u16],
        none: u32,
        work: impl Fn(usize, &[u32], &[u64], &mut [u32]) -> R + Sync,
    ) -> (Vec<u32>, Vec<R>) {
        let parts = (self.seg.len() - 1) / self.blocks;
        let mut flat = vec![0u32; self.order.len()];
        let mut slices = Vec::with_capacity(parts);
        let mut rest = flat.as_mut_slice();
        for p in 0..parts {
            let (head, tail) = rest.split_at_mut(self.offset(p + 1) - self.offset(p));
            slices.push(head);
            rest = tail;
        }
        let results: Vec<R> = slices
            .into_par_iter()
            .enumerate()
            .map(|(p, out)| {
                let r = self.offset(p)..self.offset(p + 1);
                work(p, &self.order[r.clone()], &self.hashes[r], out)
            })
            .collect();
        let Buckets {
            seg,
            blocks,
            block_rows,
            ..
        } = self;
        let mut values = vec![none; pids.len()];
        values
            .par_chunks_mut(block_rows)
            .zip(pids.par_chunks(block_rows))
            .enumerate()
            .for_each(|(b, (vs, block))| {
                let mut cursor: Vec<usize> = (0..parts).map(|p| seg[p * blocks + b]).collect();
                for (v, &p) in vs.iter_mut().zip(block) {
                    if p != NO_PART {
                        let c = &mut cursor[p as usize];
                        *v = flat[*c];
                        *c += 1;
                    }
                }
            });
        (values, results)
    }
}

fn partition_ids(parts: usize, hashes: &[u64]) -> Vec<u16> {
    hashes
        .par_iter()
        .map(|&h| partition(h, parts) as u16)
        .collect()
}

impl Index {
    /// The stored position whose key equals the probe's, if any.
    pub fn find(&self, h: u64, eq: impl Fn(u32) -> bool) -> Option<u32> {
        let parts = self.parts.len();
        if parts == 0 {
            return None;
        }
        let c = check(h);
        self.parts[partition(h, parts)]
            .find(h, |e| e.check == c && eq(e.pos))
            .map(|e| e.pos)
    }

    /// Probes `0..n` at once: for each probe with a key (`hash(i)` is `Some`), the stored
    /// position `k` with `eq(i, k)`, else `u32::MAX`. The probes are bucketed by partition
    /// first, so that each partition's table is probed while it is in cache.
    pub fn find_all(
        &self,
        n: usize,
        hash: &(dyn Fn(usize) -> Option<u64> + Sync),
        eq: &(dyn Fn(usize, u32) -> bool + Sync),
    ) -> Vec<u32> {
        self.find_all_in(n, hash, eq, BLOCK_ROWS)
    }

    fn find_all_in(
        &self,
        n: usize,
        hash: &(dyn Fn(usize) -> Option<u64> + Sync),
        eq: &(dyn Fn(usize, u32) -> bool + Sync),
        block_rows: usize,
    ) -> Vec<u32> {
        let parts = self.parts.len();
        if parts == 0 {
            return vec![u32::MAX; n];
        }
        let mut hashes = vec![0u64; n];
        let mut pids = vec![NO_PART; n];
        hashes
            .par_chunks_mut(64 * 1024)
            .zip(pids.par_chunks_mut(64 * 1024))
            .enumerate()
            .for_each(|(c, (hs, ps))| {
                for (j, (h, p)) in hs.iter_mut().zip(ps).enumerate() {
                    if let Some(x) = hash(c * 64 * 1024 + j) {
                        *h = x;
                        *p = partition(x, parts) as u16;
                    }
                }
            });
        let buckets = Buckets::new(parts, block_rows, &pids, &|i| hashes[i]);
        drop(hashes);
        // First the candidates by hash alone, partition by partition (each table in
        // cache); then, in probe order, the key comparisons, in a loop of their own whose
        // independent reads the core overlaps. Probe order keeps what locality the inputs
        // have (settlement files usually follow the payroll's order). A candidate whose
        // key differs (two keys agreeing in 39 hash bits) is looked up again by key.
        let (mut found, _) = buckets.map(&pids, u32::MAX, |p, _, hs, out| {
            let table = &self.parts[p];
            for (o, &h) in out.iter_mut().zip(hs) {
                let c = check(h);
                *o = table.find(h, |e| e.check == c).map_or(u32::MAX, |e| e.pos);
            }
        });
        found
            .par_chunks_mut(64 * 1024)
            .enumerate()
            .for_each(|(c, chunk)| {
                for (j, o) in chunk.iter_mut().enumerate() {
                    let i = c * 64 * 1024 + j;
                    if *o != u32::MAX && !eq(i, *o) {
                        let h = hash(i).expect("a candidate was found by the probe's hash");
                        *o = self.find(h, |k| eq(i, k)).unwrap_or(u32::MAX);
                    }
                }
            });
        found
    }

    /// Rewrites stored positions after the rows at `removed` (ascending, none of them
    /// stored) were taken out of the table: each moves down by the removed positions
    /// before it. The count is found from a prefix count per block of 4,096 positions
    /// and a search among the few removed positions of its block, all in cache (a table
    /// of new positions read at the stored positions, in hash order, missed the cache on
    /// nearly every entry).
    pub fn remove_positions(&mut self, removed: &[u32]) {
        let Some(&last) = removed.last() else {
            return;
        };
        const SHIFT: u32 = 12;
        let blocks = (last >> SHIFT) as usize + 1;
        // before[b]: removed positions below block b's first position.
        let mut before = Vec::with_capacity(blocks + 1);
        let mut i = 0;
        for b in 0..=blocks as u64 {
            while i < removed.len() && (removed[i] as u64) < b << SHIFT {
                i += 1;
            }
            before.push(i);
        }
        self.parts.par_iter_mut().for_each(|t| {
            t.iter_mut().for_each(|e| {
                let b = (e.pos >> SHIFT) as usize;
                let shift = if b >= blocks {
                    removed.len()
                } else {
                    let (lo, hi) = (before[b], before[b + 1]);
                    lo + removed[lo..hi].partition_point(|&r| r < e.pos)
                };
                e.pos -= shift as u32;
            })
        });
    }
}

/// Groups positions `0..hashes.len()` by key. Returns, for each position, the first
/// position with an equal key (its group's name), and the index of first positions.
/// `eq(a, b)` compares the keys at two positions; `hashes[k]` is the hash of key k.
///
/// The positions are radix-partitioned by hash first ([`Buckets`]), so that each
/// partition's table is built in cache; every partition keeps input order, so the first
/// position of a key is found first whatever the partition count.
pub fn group_first(hashes: &[u64], eq: &(dyn Fn(u32, u32) -> bool + Sync)) -> (Vec<u32>, Index) {
    group_first_in(hashes, eq, partitions_for(hashes.len()), BLOCK_ROWS)
}

fn group_first_in(
    hashes: &[u64],
    eq: &(dyn Fn(u32, u32) -> bool + Sync),
    parts: usize,
    block_rows: usize,
) -> (Vec<u32>, Index) {
    let pids = partition_ids(parts, hashes);
    let buckets = Buckets::new(parts, block_rows, &pids, &|k| hashes[k]);
    let (rep, tables) = buckets.map(&pids, u32::MAX, |_, rows, hs, out| {
        let (mut table, firsts) = number_groups(rows, hs, eq, out);
        for g in out.iter_mut() {
            *g = firsts[*g as usize];
        }
        for e in table.iter_mut() {
            e.pos = firsts[e.pos as usize];
        }
        table
    });
    (rep, Index { parts: tables })
}

/// Runs `work(rows, hashes, out)` once per radix partition of positions
/// `0..hashes.len()`, in parallel: all positions whose keys hash alike are in one
/// partition, in input order, `out` holding one value per row of the partition. Returns
/// the values in position order. With [`number_groups`], grouping work whose tables stay
/// in cache and are dropped partition by partition.
pub fn per_partition(hashes: &[u64], work: impl Fn(&[u32], &[u64], &mut [u32]) + Sync) -> Vec<u32> {
    let parts = partitions_for(hashes.len());
    let pids = partition_ids(parts, hashes);
    let buckets = Buckets::new(parts, BLOCK_ROWS, &pids, &|k| hashes[k]);
    buckets
        .map(&pids, u32::MAX, |_, rows, hs, out| work(rows, hs, out))
        .0
}

/// Numbers the distinct keys among one partition's `rows` (with their `hashes`) in order
/// of first appearance: `out[j]` is the number of `rows[j]`'s key. Returns the table of
/// group numbers and the first row of each group; `eq(a, b)` compares the keys of rows.
pub fn number_groups(
    rows: &[u32],
    hashes: &[u64],
    eq: &(dyn Fn(u32, u32) -> bool + Sync),
    out: &mut [u32],
) -> (HashTable<Entry>, Vec<u32>) {
    let mut table: HashTable<Entry> = HashTable::with_capacity(rows.len());
    let mut firsts: Vec<u32> = Vec::new();
    let mut first_hash: Vec<u64> = Vec::new();
    for ((o, &k), &h) in out.iter_mut().zip(rows).zip(hashes) {
        let c = check(h);
        // One probe sequence finds the key or the slot for it (`find`, then
        // `insert_unique`, walked it twice for every new key).
        let entry = table.entry(
            h,
            |e| e.check == c && eq(firsts[e.pos as usize], k),
            |e| first_hash[e.pos as usize],
        );
        *o = match entry {
            hashbrown::hash_table::Entry::Occupied(e) => e.get().pos,
            hashbrown::hash_table::Entry::Vacant(v) => {
                let g = firsts.len() as u32;
                v.insert(Entry { pos: g, check: c });
                firsts.push(k);
                first_hash.push(h);
                g
            }
        };
    }
    (table, firsts)
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

    /// The first position of each key and the index's answers, the slow way.
    fn naive(keys: &[u32]) -> Vec<u32> {
        let mut first = std::collections::HashMap::new();
        (0..keys.len() as u32)
            .map(|k| *first.entry(keys[k as usize]).or_insert(k))
            .collect()
    }

    #[test]
    fn removing_positions_renumbers_the_stored_ones() {
        // 20,000 rows, 3,000 keys: the repeats are removed, spread over many blocks,
        // with runs of removed rows and blocks without any.
        let keys: Vec<u32> = (0..20_000u64)
            .map(|i| {
                if (9_000..9_100).contains(&i) {
                    5
                } else {
                    (i.wrapping_mul(2654435761) % 3000) as u32
                }
            })
            .collect();
        let h: Vec<u64> = keys.iter().map(hash).collect();
        let eq = |a: u32, b: u32| keys[a as usize] == keys[b as usize];
        let (rep, mut index) = group_first(&h, &eq);
        let removed: Vec<u32> = (0..keys.len() as u32)
            .filter(|&k| rep[k as usize] != k)
            .collect();
        let kept: Vec<u32> = (0..keys.len() as u32)
            .filter(|&k| rep[k as usize] == k)
            .collect();
        index.remove_positions(&removed);
        for (new, &old) in kept.iter().enumerate() {
            let k = keys[old as usize];
            let found = index.find(hash(k), |p| keys[kept[p as usize] as usize] == k);
            assert_eq!(found, Some(new as u32), "key {k} first at {old}");
        }
        // Nothing removed: positions unchanged.
        let (_, mut index) = group_first(&h, &eq);
        index.remove_positions(&[]);
        assert_eq!(
            index.find(hash(keys[7]), |p| keys[p as usize] == keys[7]),
            Some(rep[7])
        );
    }

    #[test]
    fn partitions_and_blocks_never_change_the_groups() {
        // 5,000 rows over 700 keys; hashes either real, or so few that distinct keys
        // share whole hashes (the key comparison must decide, never the hash).
        let keys: Vec<u32> = (0..5000u64)
            .map(|i| (i.wrapping_mul(2654435761) % 700) as u32)
            .collect();
        let expected = naive(&keys);
        for hash_of in [|k: u32| hash(k), |k: u32| hash(k % 7)] {
            let h: Vec<u64> = keys.iter().map(|&k| hash_of(k)).collect();
            let eq = |a: u32, b: u32| keys[a as usize] == keys[b as usize];
            for (parts, block_rows) in [(1, 5000), (2, 1), (8, 333), (64, 1024), (1 << 15, 7)] {
                let (rep, index) = group_first_in(&h, &eq, parts, block_rows);
                assert_eq!(rep, expected, "{parts} partitions, blocks of {block_rows}");
                // Probes: every key, a key no row has, and probes without a key.
                let probes: Vec<Option<u32>> = (0..1500u32)
                    .map(|i| match i % 3 {
                        0 => Some(keys[i as usize]),
                        1 => Some(10_000 + i),
                        _ => None,
                    })
                    .collect();
                let found = index.find_all_in(
                    probes.len(),
                    &|i| probes[i].map(hash_of),
                    &|i, k| probes[i] == Some(keys[k as usize]),
                    block_rows,
                );
                for (i, p) in probes.iter().enumerate() {
                    let want = match p {
                        Some(k) if *k < 700 => expected[keys.iter().position(|x| x == k).unwrap()],
                        _ => u32::MAX,
                    };
                    assert_eq!(found[i], want, "probe {i} ({parts}, {block_rows})");
                    if let Some(k) = p {
                        let one = index.find(hash_of(*k), |j| keys[j as usize] == *k);
                        assert_eq!(one.unwrap_or(u32::MAX), want);
                    }
                }
            }
        }
    }
}
