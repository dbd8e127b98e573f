//! `--timings`: wall time and peak memory per pipeline stage on stderr, so a
//! slow or large run can be attributed to reading, analysing or writing
//! without a profiler.

use std::time::{Duration, Instant};

/// Records how long each stage took, and prints them when enabled.
pub struct Timings {
    enabled: bool,
    started: Instant,
    last: Instant,
    stages: Vec<(&'static str, Duration, Option<u64>)>,
}

/// The process's peak resident memory so far, in bytes, where the system
/// tells (Linux's `/proc/self/status`).
pub fn peak_rss() -> Option<u64> {
    crate::ingest::memory::proc_bytes("/proc/self/status", "VmHWM:")
}

impl Timings {
    /// A stopwatch that records only when `enabled`.
    pub fn new(enabled: bool) -> Self {
        let now = Instant::now();
        Timings {
            enabled,
            started: now,
            last: now,
            stages: Vec::new(),
        }
    }

    /// Ends the stage that ran since the previous call (or the start).
    pub fn lap(&mut self, stage: &'static str) {
        if self.enabled {
            let now = Instant::now();
            self.stages.push((stage, now - self.last, peak_rss()));
            self.last = now;
        }
    }

    /// Prints the stages and the total to stderr, with spans per second
    /// of the whole run when `spans` is known.
    pub fn print(&self, spans: u64) {
        if !self.enabled {
            return;
        }
        let total = self.started.elapsed();
        for (stage, took, peak) in &self.stages {
            let peak = peak.map_or(String::new(), |p| {
                format!(", peak memory so far {} MiB", p >> 20)
            });
            eprintln!(
                "critpath: timings: {stage:<12} {:>9.3} s{peak}",
                took.as_secs_f64()
            );
        }
        let rate = spans as f64 / total.as_secs_f64().max(1e-9);
        eprintln!(
            "critpath: timings: {:<12} {:>9.3} s ({spans} spans, {rate:.0} spans/s)",
            "total",
            total.as_secs_f64()
        );
        if let Some((per_trace, aggregation)) = super::threads::started() {
            eprintln!(
                "critpath: timings: {:<12} {per_trace} per-trace, {aggregation} aggregation",
                "threads"
            );
        }
    }
}
