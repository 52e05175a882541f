//! Allocator policy for large runs.
//!
//! glibc's malloc raises its mmap threshold each time a large block is freed (up to
//! 32 MiB), so after the first side of a large run is decoded and joined, later buffers
//! come from the heap arenas and the freed decode buffers stay resident: at 10 million
//! rows about 0.6 GB of the peak (BENCHMARKS.md). Fixing the threshold at 1 MiB makes
//! every large buffer its own mapping, returned to the system when freed. It costs page
//! faults (more system time), so the CLI sets it only for large inputs
//! (`sverka_engine::pipeline::is_large`).

/// Makes large allocations (>= 1 MiB) separate mappings, returned to the system when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn return_freed_memory_promptly() {
    // SAFETY: mallopt takes no pointers and only changes allocator parameters; glibc
    // serialises it against concurrent allocations.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn return_freed_memory_promptly() {}
