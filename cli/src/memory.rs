//! Allocator policy.
//!
//! Why hand-written: in place of it, mimalloc and jemalloc (tikv-jemallocator) raised a
//! 10M-row run's peak by 20-24 % (alternating A/B, BENCHMARKS.md "Allocator"), beyond the
//! 10 % a crate may cost here; glibc's allocator alone, by 31 %.
//!
//! Fresh pages are dear on this kind of VM (BENCHMARKS.md, "The machine"), so two policies
//! cut the pages a large run touches without raising its peak:
//!
//! - **Large blocks are kept and reused** ([`Reuse`], the binary's global allocator). A
//!   block of [`LARGE`] bytes or more is its own mapping, as glibc would make it, but on
//!   free it is kept (up to [`KEPT_MAX`] bytes in all) and the next large allocation
//!   takes the smallest kept block that holds it (the rest stays kept as a block of its
//!   own), or else the largest kept block, grown with `mremap`. The engine's large blocks
//!   are per-column vectors that one stage frees and the next allocates, so most are
//!   served from pages already resident.
//! - **Arenas are trimmed only where it lowers the peak.** The engine reports each column
//!   of the *last* side as soon as its chunk copies are dropped
//!   (`Progress::release_memory`), and for large inputs (`sverka_engine::is_large`) the
//!   CLI then returns the arenas' free pages to the system, so that join's peak holds the
//!   tables plus about a column per thread. The first side's freed batches stay in the
//!   arenas, where the next side's decoding reuses them.

/// Allocations of at least this many bytes are large: their own mapping, kept on free.
/// Below it, glibc's arenas serve and reuse blocks well (64K-row batches are ~1-2 MB).
pub const LARGE: usize = 4 << 20;

/// Freed large blocks kept for reuse, in bytes at most; beyond it they are unmapped.
pub const KEPT_MAX: usize = 256 << 20;

/// Returns the free memory of malloc's arenas to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn trim() {
    // SAFETY: malloc_trim takes no pointers and only releases free pages; glibc locks each
    // arena while trimming it, so concurrent allocations are safe.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn trim() {}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub use reuse::Reuse;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
mod reuse {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::Mutex;

    use super::{KEPT_MAX, LARGE};

    const PAGE: usize = 4096;

    /// Kept blocks at most: their list is reserved once and never grows (the allocator
    /// must not allocate a large block for itself while holding the lock).
    const KEPT_BLOCKS: usize = 1024;

    /// Freed large blocks: (address, length), the length a whole number of pages.
    struct Kept {
        blocks: Vec<(usize, usize)>,
        bytes: usize,
    }

    static KEPT: Mutex<Kept> = Mutex::new(Kept {
        blocks: Vec::new(),
        bytes: 0,
    });

    /// The system allocator, with large blocks kept after free and reused (module docs).
    /// Every large block is a mapped range (a whole mapping, or part of one once a kept
    /// block is split) of exactly its layout's size rounded up to whole pages, so that
    /// size is all `dealloc` and `realloc` need to know; `munmap` and `mremap` work on
    /// any such range.
    pub struct Reuse;

    fn is_large(l: &Layout) -> bool {
        l.size() >= LARGE && l.align() <= PAGE
    }

    fn pages(n: usize) -> usize {
        n.div_ceil(PAGE) * PAGE
    }

    /// A fresh mapping of `len` bytes (zeroed), or null.
    unsafe fn map(len: usize) -> *mut u8 {
        // SAFETY: an anonymous private mapping at an address of the kernel's choosing.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            std::ptr::null_mut()
        } else {
            p.cast()
        }
    }

    /// A kept block made `len` bytes long: the smallest that holds `len`, its rest kept
    /// as a block of its own when that is large, else unmapped; or else the largest kept
    /// block, grown (its pages stay, the rest is new).
    unsafe fn take(len: usize) -> Option<*mut u8> {
        let mut kept = KEPT.lock().ok()?;
        let fits = kept
            .blocks
            .iter()
            .enumerate()
            .filter(|(_, &(_, have))| have >= len)
            .min_by_key(|(_, &(_, have))| have)
            .map(|(i, _)| i);
        if let Some(i) = fits {
            let (addr, have) = kept.blocks[i];
            if have - len >= LARGE {
                // The rest stays kept: one mapping's pages serve two blocks.
                kept.blocks[i] = (addr + len, have - len);
                kept.bytes -= len;
                return Some(addr as *mut u8);
            }
            kept.blocks.swap_remove(i);
            kept.bytes -= have;
            drop(kept);
            if have > len {
                // A rest too small for a large block would only take up the keep.
                // SAFETY: the tail of a kept block nobody else holds.
                unsafe { libc::munmap((addr + len) as *mut libc::c_void, have - len) };
            }
            return Some(addr as *mut u8);
        }
        let (i, _) = kept
            .blocks
            .iter()
            .enumerate()
            .max_by_key(|(_, &(_, have))| have)?;
        let (addr, have) = kept.blocks.swap_remove(i);
        kept.bytes -= have;
        drop(kept);
        // SAFETY: a kept block nobody else holds, moved or grown by the kernel.
        let q = unsafe { libc::mremap(addr as *mut libc::c_void, have, len, libc::MREMAP_MAYMOVE) };
        if q == libc::MAP_FAILED {
            // SAFETY: as above; the block is given back to the system instead.
            unsafe { libc::munmap(addr as *mut libc::c_void, have) };
            return None;
        }
        Some(q.cast())
    }

    /// Keeps a freed block of `len` bytes, or unmaps it when the keep is full.
    unsafe fn keep(p: *mut u8, len: usize) {
        if let Ok(mut kept) = KEPT.lock() {
            if kept.blocks.capacity() == 0 {
                // Below LARGE, so served by `System` without coming back here.
                kept.blocks.reserve_exact(KEPT_BLOCKS);
            }
            if kept.bytes + len <= KEPT_MAX && kept.blocks.len() < kept.blocks.capacity() {
                kept.blocks.push((p as usize, len));
                kept.bytes += len;
                return;
            }
        }
        // SAFETY: `p` is a large block of `len` bytes, freed by its owner.
        unsafe { libc::munmap(p.cast(), len) };
    }

    // SAFETY: large blocks are page-aligned mappings of at least the layout's size (the
    // layout's alignment is at most a page); other layouts go to `System` both ways, as
    // `is_large` depends only on the layout, which the caller passes back unchanged.
    unsafe impl GlobalAlloc for Reuse {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            if !is_large(&l) {
                // SAFETY: forwarded as received.
                return unsafe { System.alloc(l) };
            }
            let len = pages(l.size());
            // SAFETY: see the functions.
            unsafe { take(len).unwrap_or_else(|| map(len)) }
        }

        unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
            if !is_large(&l) {
                // SAFETY: forwarded as received.
                return unsafe { System.alloc_zeroed(l) };
            }
            let len = pages(l.size());
            // SAFETY: a kept block is ours, `len` bytes long; a fresh mapping is zeroed.
            unsafe {
                match take(len) {
                    Some(p) => {
                        std::ptr::write_bytes(p, 0, len);
                        p
                    }
                    None => map(len),
                }
            }
        }

        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            if is_large(&l) {
                // SAFETY: a large block, mapped at `pages(l.size())` bytes.
                unsafe { keep(p, pages(l.size())) }
            } else {
                // SAFETY: forwarded as received.
                unsafe { System.dealloc(p, l) }
            }
        }

        unsafe fn realloc(&self, p: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: the caller's contract: `new_size` with `l`'s alignment is a layout.
            let new = unsafe { Layout::from_size_align_unchecked(new_size, l.align()) };
            match (is_large(&l), is_large(&new)) {
                // SAFETY: forwarded as received.
                (false, false) => unsafe { System.realloc(p, l, new_size) },
                (true, true) => {
                    // SAFETY: a large block's mapping, moved or resized by the kernel
                    // (contents kept, no copy).
                    let q = unsafe {
                        libc::mremap(
                            p.cast(),
                            pages(l.size()),
                            pages(new_size),
                            libc::MREMAP_MAYMOVE,
                        )
                    };
                    if q == libc::MAP_FAILED {
                        std::ptr::null_mut()
                    } else {
                        q.cast()
                    }
                }
                // Crossing the threshold: a new block of the other kind, then a copy.
                _ => {
                    // SAFETY: both blocks are live and at least `min` bytes long.
                    unsafe {
                        let q = self.alloc(new);
                        if !q.is_null() {
                            std::ptr::copy_nonoverlapping(p, q, l.size().min(new_size));
                            self.dealloc(p, l);
                        }
                        q
                    }
                }
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn fill(p: *mut u8, len: usize, seed: u8) {
            for i in (0..len).step_by(PAGE / 2) {
                // SAFETY: inside a block of `len` bytes.
                unsafe { *p.add(i) = seed.wrapping_add((i / PAGE) as u8) };
            }
        }

        fn holds(p: *const u8, len: usize, seed: u8) -> bool {
            // SAFETY: inside a block of at least `len` bytes.
            (0..len)
                .step_by(PAGE / 2)
                .all(|i| unsafe { *p.add(i) } == seed.wrapping_add((i / PAGE) as u8))
        }

        #[test]
        fn large_blocks_keep_their_contents_through_reuse_and_realloc() {
            let a = Reuse;
            for (round, &size) in [LARGE, 3 * LARGE + 17, LARGE + 1, 9 * LARGE]
                .iter()
                .enumerate()
            {
                let l = Layout::from_size_align(size, 64).unwrap();
                let seed = round as u8 * 31;
                // SAFETY: each block is used within its size and freed with its layout.
                unsafe {
                    let p = a.alloc(l);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % PAGE, 0);
                    fill(p, size, seed);
                    assert!(holds(p, size, seed));
                    // Grow and shrink in place or moved: the contents stay.
                    let q = a.realloc(p, l, size * 2);
                    assert!(holds(q, size, seed));
                    let l2 = Layout::from_size_align(size * 2, 64).unwrap();
                    let r = a.realloc(q, l2, size / 2);
                    assert!(holds(r, size / 2, seed));
                    let l3 = Layout::from_size_align(size / 2, 64).unwrap();
                    a.dealloc(r, l3);
                    // A zeroed block is zero even when it is a kept one.
                    let z = a.alloc_zeroed(l);
                    assert!((0..size).step_by(997).all(|i| *z.add(i) == 0));
                    assert_eq!(*z.add(size - 1), 0);
                    a.dealloc(z, l);
                }
            }
        }

        #[test]
        fn kept_blocks_are_split_and_grown_without_losing_contents() {
            let a = Reuse;
            let l = |n: usize| Layout::from_size_align(n, 8).unwrap();
            // SAFETY: each block is used within its size and freed with its layout.
            unsafe {
                let big = a.alloc(l(6 * LARGE));
                fill(big, 6 * LARGE, 1);
                a.dealloc(big, l(6 * LARGE));
                // Served from the kept block, whose rest stays kept for the next one.
                let x = a.alloc(l(2 * LARGE));
                let y = a.alloc(l(3 * LARGE));
                fill(x, 2 * LARGE, 2);
                fill(y, 3 * LARGE, 3);
                assert!(holds(x, 2 * LARGE, 2) && holds(y, 3 * LARGE, 3));
                a.dealloc(x, l(2 * LARGE));
                a.dealloc(y, l(3 * LARGE));
                // Larger than any kept block: one is grown, and reads as fresh memory
                // where it was written.
                let z = a.alloc(l(40 * LARGE));
                fill(z, 40 * LARGE, 4);
                assert!(holds(z, 40 * LARGE, 4));
                a.dealloc(z, l(40 * LARGE));
                let w = a.alloc_zeroed(l(7 * LARGE));
                assert!((0..7 * LARGE).step_by(4093).all(|i| *w.add(i) == 0));
                a.dealloc(w, l(7 * LARGE));
            }
        }

        #[test]
        fn blocks_cross_the_threshold_both_ways() {
            let a = Reuse;
            let small = Layout::from_size_align(1000, 8).unwrap();
            // SAFETY: each block is used within its size and freed with its layout.
            unsafe {
                let p = a.alloc(small);
                std::ptr::write_bytes(p, 7, 1000);
                let q = a.realloc(p, small, 2 * LARGE);
                assert!((0..1000).all(|i| *q.add(i) == 7));
                let big = Layout::from_size_align(2 * LARGE, 8).unwrap();
                let r = a.realloc(q, big, 500);
                assert!((0..500).all(|i| *r.add(i) == 7));
                a.dealloc(r, Layout::from_size_align(500, 8).unwrap());
                // Alignment above a page is left to the system allocator.
                let odd = Layout::from_size_align(LARGE, 2 * PAGE).unwrap();
                let s = a.alloc(odd);
                assert_eq!(s as usize % (2 * PAGE), 0);
                a.dealloc(s, odd);
            }
        }

        #[test]
        fn threads_share_the_kept_blocks_safely() {
            std::thread::scope(|s| {
                for t in 0..4u8 {
                    s.spawn(move || {
                        for k in 0..20usize {
                            let size = LARGE + (k * 12_345 + t as usize * 777) % (2 * LARGE);
                            let l = Layout::from_size_align(size, 16).unwrap();
                            // SAFETY: used within its size, freed with its layout.
                            unsafe {
                                let p = Reuse.alloc(l);
                                fill(p, size, t ^ k as u8);
                                std::thread::yield_now();
                                assert!(holds(p, size, t ^ k as u8));
                                Reuse.dealloc(p, l);
                            }
                        }
                    });
                }
            });
        }
    }
}
