//! The allocator the server runs with, shared with the benchmarks so they
//! measure what the server does.
//!
//! A GraphQL response is thousands of small, short-lived allocations spread
//! over worker threads; mimalloc serves them faster than glibc and returns
//! memory instead of fragmenting it across per-thread arenas. A binary opts
//! in with `#[global_allocator] static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;`
//! and calls [`return_freed_memory_promptly`] first thing.

/// mimalloc keeps freed pages for a while before handing them back to the
/// system; a big response frees megabytes at once, and under load those
/// pages pile up as resident memory. Handing them back at once keeps the
/// resident set close to what is live; the few big vectors of rows worth
/// keeping between requests are kept by [`crate::graphql::spare`].
///
/// An operator who prefers throughput to a small resident set sets
/// `MIMALLOC_PURGE_DELAY` (milliseconds; mimalloc reads it at start), which
/// this then leaves alone.
pub fn return_freed_memory_promptly() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // `mi_option_purge_delay` in mimalloc v3's `mimalloc.h` (the bindings
    // name only some options); its default is 10 ms.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: `mi_option_set` only stores an option value (an atomic write in
    // mimalloc), valid at any time from any thread.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
}
