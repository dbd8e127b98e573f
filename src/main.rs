//! The `critpath` binary: parse, run, map the outcome to an exit code.

use std::process::ExitCode;

// Two threads make millions of small allocations while reading, and polars
// frees large buffers from its own pool: glibc's per-thread arenas kept
// ~15% more resident memory than jemalloc on the benchmark set.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's start-up options (`malloc_conf`, under the crate's symbol
/// prefix): one arena. With one per thread (jemalloc's default, four per
/// core), memory the per-trace stage frees on rayon's threads stays in
/// their arenas while polars' threads, aggregating next, take fresh pages
/// for theirs. Measured on 1.09M spans, 2 cores: peak RSS 583-625 -> 488-499
/// MB, wall time within run-to-run noise (each thread still caches small
/// blocks of its own). Since every stage runs on one pool (see
/// `commands/threads.rs`) the same threads free and reuse, and eight
/// arenas peaked the same (253 against 251-256 MiB on the protobuf set);
/// one arena stays, as the bound that does not rest on that.
#[cfg(feature = "jemalloc")]
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: &[u8; 10] = b"narenas:1\0";

/// Under `--memory-limit` (or when spilling on its own), jemalloc returns
/// freed pages to the system at once: by default it keeps them ten seconds
/// for reuse, and they count against the limit. Measured on 1.09M spans at
/// a 64 MiB limit: peak RSS 488-500 -> 329-330 MB, for about 1.8 s more
/// system time (the run took 40% longer); an unbounded run keeps the
/// faster default.
#[cfg(feature = "jemalloc")]
fn return_freed_memory_at_once() {
    use std::ffi::{CStr, CString, c_void};
    // SAFETY: each name takes the C type of the pointer passed with it,
    // with its size.
    let set = |name: &CStr, mut decay: isize| unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            (&raw mut decay).cast::<c_void>(),
            std::mem::size_of::<isize>(),
        )
    };
    // Arenas made from now on, then each one made so far (one not yet
    // made, or one jemalloc keeps to itself, refuses: it is skipped).
    set(c"arenas.dirty_decay_ms", 0);
    let Some(arenas) = read_u32(c"arenas.narenas") else {
        return; // memory, not correctness: the run goes on
    };
    for arena in 0..arenas {
        if let Ok(name) = CString::new(format!("arena.{arena}.dirty_decay_ms")) {
            set(&name, 0);
        }
    }
}

/// Hands the pages freed so far back to the system (jemalloc keeps them
/// ten seconds for reuse by default).
#[cfg(feature = "jemalloc")]
fn purge_freed_pages() {
    // SAFETY: `arena.<i>.purge` takes and returns nothing; 4096 is
    // MALLCTL_ARENAS_ALL, every arena.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            c"arena.4096.purge".as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        );
    }
}

/// An unsigned-int value jemalloc reports under `name`, if it does.
#[cfg(feature = "jemalloc")]
fn read_u32(name: &std::ffi::CStr) -> Option<u32> {
    let (mut value, mut size) = (0u32, std::mem::size_of::<u32>());
    // SAFETY: callers pass names whose value is an unsigned int; it is
    // read into one of its size.
    let status = unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr(),
            (&raw mut value).cast::<std::ffi::c_void>(),
            &raw mut size,
            std::ptr::null_mut(),
            0,
        )
    };
    (status == 0).then_some(value)
}

fn main() -> ExitCode {
    // Every end-to-end test runs a debug build: this checks the option
    // reached jemalloc.
    #[cfg(feature = "jemalloc")]
    debug_assert!(
        // 1 when MALLOC_CONF was read (under another symbol prefix it
        // would be ignored, silently).
        std::env::var_os("_RJEM_MALLOC_CONF").is_some() || read_u32(c"opt.narenas") == Some(1),
        "jemalloc did not read MALLOC_CONF"
    );
    #[cfg(feature = "jemalloc")]
    critpath::ingest::memory::on_bounded(return_freed_memory_at_once);
    #[cfg(feature = "jemalloc")]
    critpath::ingest::memory::on_released(purge_freed_pages);
    match critpath::run() {
        Ok(status) => status.into(),
        Err(err) => {
            // A closed pipe (`critpath ... | head`) is not a failure.
            if let Some(io) = err.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::BrokenPipe
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("critpath: error: {err:#}");
            critpath::ExitStatus::Error.into()
        }
    }
}
