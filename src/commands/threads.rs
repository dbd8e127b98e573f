//! `--threads`: one bound for both pools the work runs on, rayon's global
//! pool (the per-trace stage) and polars' own (aggregation). Without it
//! polars started one thread per core whatever `--threads` said.

use std::sync::Once;

/// The prefix of the names of the per-trace stage's threads.
const WORKER_NAME: &str = "critpath-";
/// The prefix polars names its threads with (unless `POLARS_THREAD_NAME`
/// says otherwise).
const POLARS_NAME: &str = "polars-";

/// Starts the per-trace stage's pool with `n` threads (`None` or 0: one
/// per core) and bounds polars' pool to as many. Only the first call
/// counts: neither pool can be resized once started.
pub fn bound(n: Option<usize>) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if let Some(n) = n {
            // polars reads this when its pool is first used, at
            // aggregation, long after this runs; it offers no other way
            // to size that pool.
            // SAFETY: commands call this first thing when they read their
            // inputs, before any thread is started, so no other thread
            // exists to read the environment concurrently.
            unsafe { std::env::set_var("POLARS_MAX_THREADS", n.to_string()) };
        }
        // Fails only if the global pool already exists.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.unwrap_or(0))
            .thread_name(|i| format!("{WORKER_NAME}{i}"))
            .build_global();
    });
}

/// How many threads of each pool the process has started: (per-trace
/// stage, aggregation), from Linux's `/proc/self/task`; `None` elsewhere.
/// The per-trace count is known only when [`bound`] named the threads.
pub fn started() -> Option<(usize, usize)> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    let mut counts = (0, 0);
    for task in tasks.flatten() {
        let Ok(name) = std::fs::read_to_string(task.path().join("comm")) else {
            continue;
        };
        if name.starts_with(WORKER_NAME) {
            counts.0 += 1;
        } else if name.starts_with(POLARS_NAME) {
            counts.1 += 1;
        }
    }
    Some(counts)
}
