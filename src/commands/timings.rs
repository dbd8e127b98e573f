//! `--timings`: wall time, CPU time and peak memory per pipeline stage on
//! stderr, so a slow or large run can be attributed to reading, analysing
//! or writing without a profiler, and a stage that leaves cores idle shows
//! as one whose CPU time is close to its wall time.

use std::time::{Duration, Instant};

/// Records how long each stage took, and prints them when enabled.
pub struct Timings {
    enabled: bool,
    started: Instant,
    last: Instant,
    /// The process's CPU time at `started` and at `last`, so that the
    /// total's CPU time is the sum of the stages'.
    started_cpu: Option<Duration>,
    last_cpu: Option<Duration>,
    stages: Vec<Stage>,
}

/// One stage's record.
struct Stage {
    name: &'static str,
    wall: Duration,
    cpu: Option<Duration>,
    peak: Option<u64>,
}

/// The CPU time (user and system) every thread of the process has used so
/// far, where the system tells.
pub fn cpu_time() -> Option<Duration> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: getrusage writes a whole `rusage` to the pointer it is given
    // and returns 0, or returns -1 and writes nothing (read only on 0).
    let usage = unsafe {
        if libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) != 0 {
            return None;
        }
        usage.assume_init()
    };
    let micros = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    Some(micros(usage.ru_utime) + micros(usage.ru_stime))
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
        let cpu = if enabled { cpu_time() } else { None };
        Timings {
            enabled,
            started: now,
            last: now,
            started_cpu: cpu,
            last_cpu: cpu,
            stages: Vec::new(),
        }
    }

    /// Ends the stage that ran since the previous call (or the start).
    pub fn lap(&mut self, stage: &'static str) {
        if self.enabled {
            let now = Instant::now();
            let cpu = cpu_time();
            self.stages.push(Stage {
                name: stage,
                wall: now - self.last,
                cpu: since(cpu, self.last_cpu),
                peak: peak_rss(),
            });
            (self.last, self.last_cpu) = (now, cpu);
        }
    }

    /// Prints the stages and the total to stderr, with spans per second
    /// of the whole run when `spans` is known.
    pub fn print(&self, spans: u64) {
        if !self.enabled {
            return;
        }
        let total = self.started.elapsed();
        for stage in &self.stages {
            eprintln!(
                "critpath: timings: {:<12} {:>9.3} s{}{}",
                stage.name,
                stage.wall.as_secs_f64(),
                cores(stage.cpu, stage.wall),
                stage.peak.map_or(String::new(), |p| {
                    format!(", peak memory so far {} MiB", p >> 20)
                }),
            );
        }
        let rate = spans as f64 / total.as_secs_f64().max(1e-9);
        eprintln!(
            "critpath: timings: {:<12} {:>9.3} s{} ({spans} spans, {rate:.0} spans/s)",
            "total",
            total.as_secs_f64(),
            cores(since(cpu_time(), self.started_cpu), total),
        );
        if let Some((per_trace, aggregation)) = super::threads::started() {
            eprintln!(
                "critpath: timings: {:<12} {per_trace} per-trace, {aggregation} aggregation",
                "threads"
            );
        }
    }
}

/// The CPU time used between `then` and `now`, where both are known.
fn since(now: Option<Duration>, then: Option<Duration>) -> Option<Duration> {
    now.zip(then).map(|(now, then)| now.saturating_sub(then))
}

/// ", CPU 1.234 s (1.8 cores)" for a stage that used `cpu` in `wall`.
fn cores(cpu: Option<Duration>, wall: Duration) -> String {
    cpu.map_or(String::new(), |cpu| {
        let cores = cpu.as_secs_f64() / wall.as_secs_f64().max(1e-9);
        format!(", CPU {:.3} s ({cores:.1} cores)", cpu.as_secs_f64())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_grows_with_work() {
        let before = cpu_time().expect("getrusage works on the test platforms");
        // Busy work the optimiser cannot drop, until the clock moves.
        let mut x = 0u64;
        while cpu_time().unwrap() <= before {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        assert!(cpu_time().unwrap() > before);
    }

    #[test]
    fn cores_is_cpu_over_wall() {
        let s = cores(Some(Duration::from_millis(1800)), Duration::from_secs(1));
        assert_eq!(s, ", CPU 1.800 s (1.8 cores)");
        assert_eq!(cores(None, Duration::from_secs(1)), "");
    }
}
