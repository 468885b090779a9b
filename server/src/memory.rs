//! Memory accounting for INFO `used_memory` and maxmemory eviction.
//!
//! A thin global allocator over mimalloc that counts the bytes handed out. Each thread keeps
//! its own running delta and folds it into one shared counter only when it has drifted by
//! `FLUSH_BYTES`, so the hot path is a thread-local add, not a contended atomic. A thread
//! sees its own frees at once ([`used_here`], [`thread_balance`]): eviction measures what it
//! freed that way.

use mimalloc::MiMalloc;
use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

const FLUSH_BYTES: i64 = 256 * 1024;

static USED: AtomicI64 = AtomicI64::new(0);
static PEAK: AtomicU64 = AtomicU64::new(0);
static STARTUP: AtomicU64 = AtomicU64::new(0);

thread_local! {
    // Const-initialised and without destructor: safe to touch from inside the allocator.
    static DELTA: Cell<i64> = const { Cell::new(0) };
    // What this thread has folded into USED so far.
    static FLUSHED: Cell<i64> = const { Cell::new(0) };
}

pub struct CountingAlloc;

#[inline]
fn account(bytes: i64) {
    let _ = DELTA.try_with(|d| {
        let v = d.get() + bytes;
        if v.abs() >= FLUSH_BYTES {
            let now = USED.fetch_add(v, Ordering::Relaxed) + v;
            PEAK.fetch_max(now.max(0) as u64, Ordering::Relaxed);
            d.set(0);
            let _ = FLUSHED.try_with(|f| f.set(f.get() + v));
        } else {
            d.set(v);
        }
    });
}

// SAFETY: every method forwards to MiMalloc with the caller's arguments unchanged, so the
// GlobalAlloc contract (layout validity, pointer provenance, pairing of alloc and dealloc)
// is exactly MiMalloc's; the bookkeeping only adds to a thread-local counter and never
// allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        account(layout.size() as i64);
        MiMalloc.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        account(layout.size() as i64);
        MiMalloc.alloc_zeroed(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        account(-(layout.size() as i64));
        MiMalloc.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        account(new_size as i64 - layout.size() as i64);
        MiMalloc.realloc(ptr, layout, new_size)
    }
}

/// Bytes allocated through the allocator (within a few hundred KiB per thread).
pub fn used() -> u64 {
    USED.load(Ordering::Relaxed).max(0) as u64
}

/// [`used`] as this thread sees it: with its own allocations and frees not folded in yet.
pub fn used_here() -> u64 {
    let own = DELTA.try_with(|d| d.get()).unwrap_or(0);
    (USED.load(Ordering::Relaxed) + own).max(0) as u64
}

/// Bytes this thread has allocated minus bytes it has freed, ever (frees of memory other
/// threads allocated included): the difference of two readings is what this thread
/// allocated or freed in between, exactly.
pub fn thread_balance() -> i64 {
    DELTA.try_with(|d| d.get()).unwrap_or(0) + FLUSHED.try_with(|f| f.get()).unwrap_or(0)
}

pub fn peak() -> u64 {
    PEAK.load(Ordering::Relaxed).max(used())
}

/// Remembers [`used`] now as what the server needs before it holds any data.
pub fn mark_startup() {
    STARTUP.store(used(), Ordering::Relaxed);
}

/// [`used`] when the server had started, before loading data (MEMORY STATS, INFO).
pub fn startup() -> u64 {
    STARTUP.load(Ordering::Relaxed)
}

/// Bytes mimalloc has committed from the OS for its heaps (what jemalloc calls active and
/// resident, which mimalloc does not tell apart).
pub fn committed() -> u64 {
    let (mut elapsed, mut user, mut system, mut rss, mut peak_rss) = (0, 0, 0, 0, 0);
    let (mut commit, mut peak_commit, mut faults) = (0, 0, 0);
    // SAFETY: mi_process_info writes one usize through each pointer; all eight point to
    // distinct, live, aligned locals of this frame, and it keeps none of them.
    unsafe {
        libmimalloc_sys::mi_process_info(
            &mut elapsed,
            &mut user,
            &mut system,
            &mut rss,
            &mut peak_rss,
            &mut commit,
            &mut peak_commit,
            &mut faults,
        )
    };
    commit as u64
}

/// mimalloc's statistics report (MEMORY MALLOC-STATS), as its `mi_stats_print` writes it.
pub fn allocator_report() -> String {
    unsafe extern "C" fn append(msg: *const std::ffi::c_char, arg: *mut std::ffi::c_void) {
        // SAFETY: `arg` is the `&mut String` passed below, alive and not otherwise borrowed
        // while mi_stats_print_out runs (it calls back synchronously, on this thread);
        // `msg` is a NUL-terminated string mimalloc owns for the duration of the call.
        let out = unsafe { &mut *(arg as *mut String) };
        out.push_str(&unsafe { std::ffi::CStr::from_ptr(msg) }.to_string_lossy());
    }
    let mut out = String::new();
    // SAFETY: `append` matches mi_output_fun and only touches `out` through `arg` (see
    // above); `out` outlives the call. mimalloc serialises its own statistics reads.
    unsafe { libmimalloc_sys::mi_stats_print_out(Some(append), &mut out as *mut String as *mut _) };
    out
}

/// Resident set size of the process, from /proc.
pub fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no memory-safety preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * page.max(4096) as u64
}

/// Physical memory of the machine.
pub fn total_system() -> u64 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let (pages, page) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    (pages.max(0) as u64) * (page.max(0) as u64)
}

/// `1.50M`-style sizes as Redis' bytesToHuman writes them.
pub fn human(n: u64) -> String {
    let n = n as f64;
    const UNITS: [(f64, &str); 5] = [
        (1024f64 * 1024.0 * 1024.0 * 1024.0 * 1024.0, "P"),
        (1024f64 * 1024.0 * 1024.0 * 1024.0, "T"),
        (1024f64 * 1024.0 * 1024.0, "G"),
        (1024f64 * 1024.0, "M"),
        (1024f64, "K"),
    ];
    for (size, unit) in UNITS {
        if n >= size {
            return format!("{:.2}{}", n / size, unit);
        }
    }
    format!("{}B", n as u64)
}

/// Hands the pages this thread's allocator heap has freed back to the OS now, without
/// waiting for their purge delay. mimalloc purges a freed span only when a later free in
/// the same segment finds its delay expired, so a shard that went quiet after a burst (a
/// bulk load, a big DEL) kept those pages resident: 1M string keys loaded at once held
/// ~20% more RSS than they needed. The forced collection walks every page of the heap
/// (0.5 ms for 1M keys, ~100 MB), so the shard's cron calls it once per quiet spell, not
/// on every tick.
pub fn release_free_pages() {
    // SAFETY: mi_collect takes a plain bool and works on the calling thread's own heap
    // (and the process' arenas) under mimalloc's internal synchronisation; it neither
    // takes nor returns pointers, so no Rust invariant is involved.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn human_sizes() {
        assert_eq!(super::human(512), "512B");
        assert_eq!(super::human(1536), "1.50K");
        assert_eq!(super::human(3 * 1024 * 1024), "3.00M");
    }
}
