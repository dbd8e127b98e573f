//! The `critpath` binary: parse, run, map the outcome to an exit code.

use std::process::ExitCode;

// Two threads make millions of small allocations while reading, and polars
// frees large buffers from its own pool: glibc's per-thread arenas kept
// ~15% more resident memory than jemalloc on the benchmark set.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    match critpath::run() {
        Ok(status) => status.into(),
        Err(err) => {
            // A closed pipe (`critpath ... | head`) is not a failure.
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::BrokenPipe {
                    return ExitCode::SUCCESS;
                }
            }
            eprintln!("critpath: error: {err:#}");
            critpath::ExitStatus::Error.into()
        }
    }
}
