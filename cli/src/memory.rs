//! Allocator policy for large runs.
//!
//! Each side of a large run is decoded in 64K-row batches whose buffers are freed once the
//! side's table is joined; glibc's malloc keeps such freed blocks in its arenas, which at
//! 10 million rows held about 1.5 GB beyond the tables (`SVERKA_TRACE_MEMORY=1`,
//! BENCHMARKS.md). The engine reports each column of a side as soon as its chunk copies
//! are dropped (`Progress::release_memory`), and for large inputs
//! (`sverka_engine::pipeline::is_large`) the CLI then returns the arenas' free pages to the
//! system, so the join's peak holds the tables plus about a column per thread (at 10M:
//! 2.89 GB instead of 3.63 GB, no slower). Reusing freed blocks while decoding and trimming
//! after the join measured less system time (fewer page faults) than making every large
//! block its own mapping (`M_MMAP_THRESHOLD` at 1 MiB, the earlier policy).

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
