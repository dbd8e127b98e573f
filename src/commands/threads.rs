//! `--threads`: the one pool all parallel work runs on, and its size.
//!
//! The pool is polars' own: aggregation runs on it, and polars offers no
//! way to give it another. Reading and the per-trace stage used to run on
//! rayon's global pool beside it, so a run on n cores had 2n workers, and
//! a worker waiting on the other pool sat idle. [`run`] puts the whole
//! command on polars' pool instead (on 2 cores, 1.09 M protobuf spans:
//! the per-trace stage 2% shorter, aggregation 4%, the run 3%).
//!
//! The command then runs on a pool thread, whose stack is rayon's default
//! (2 MiB, where the main thread has 8): polars builds the pool and sets
//! no size. Nothing critpath runs recurses with the input's depth (trees
//! are walked with explicit stacks, and serde_json stops at 128 levels).

use std::sync::Once;

/// The prefix polars names its threads with (unless `POLARS_THREAD_NAME`
/// says otherwise).
const POLARS_NAME: &str = "polars-";

/// Sizes the pool to `n` threads (`None` or 0: polars' default, its
/// `POLARS_MAX_THREADS` if set, else one per core). Only the first call
/// counts, and only before [`run`]: a pool cannot be resized once
/// started.
pub fn bound(n: Option<usize>) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if let Some(n) = n.filter(|&n| n > 0) {
            // polars reads the first when its pool starts, in `run`; it
            // offers no other way to size that pool. The second bounds
            // rayon's global pool, were anything to start it.
            // SAFETY: `dispatch` calls this first thing, before any thread
            // is started, so no other thread exists to read the
            // environment concurrently.
            unsafe {
                std::env::set_var("POLARS_MAX_THREADS", n.to_string());
                std::env::set_var("RAYON_NUM_THREADS", n.to_string());
            }
        }
    });
}

/// Runs `work` on the pool, where any parallel work it starts stays.
pub fn run<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    polars_core::runtime::THREAD_POOL.install(work)
}

/// How many threads the pool has started, from Linux's
/// `/proc/self/task`; `None` elsewhere.
pub fn started() -> Option<usize> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    let mut count = 0;
    for task in tasks.flatten() {
        let Ok(name) = std::fs::read_to_string(task.path().join("comm")) else {
            continue;
        };
        if name.starts_with(POLARS_NAME) {
            count += 1;
        }
    }
    Some(count)
}

#[cfg(test)]
mod tests {
    use rayon::prelude::*;

    use super::*;

    #[test]
    fn parallel_work_started_in_run_stays_on_the_pool() {
        let names: Vec<Option<String>> = run(|| {
            (0..64)
                .into_par_iter()
                .map(|_| std::thread::current().name().map(str::to_owned))
                .collect()
        });
        for name in names {
            assert!(
                name.as_deref().is_some_and(|n| n.starts_with(POLARS_NAME)),
                "{name:?}"
            );
        }
    }
}
