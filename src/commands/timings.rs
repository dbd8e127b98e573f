//! `--timings`: wall time, CPU time and peak memory per pipeline stage on
//! stderr, so a slow or large run can be attributed to reading, analysing
//! or writing without a profiler, and a stage that leaves cores idle shows
//! as one whose CPU time is close to its wall time. Each stage's own peak
//! memory is shown beside the run's peak so far, so the stage that sets
//! the run's peak is named, not only the first one to reach it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    /// Samples resident memory while enabled, for each stage's own peak.
    sampler: Option<Sampler>,
}

/// One stage's record.
struct Stage {
    name: &'static str,
    wall: Duration,
    cpu: Option<Duration>,
    /// The largest resident memory sampled during this stage.
    own_peak: Option<u64>,
    /// The process's peak resident memory from its start to the stage's end.
    peak: Option<u64>,
}

/// How often [`Sampler`] reads the resident memory. A stage's own peak can
/// miss a spike shorter than this; the run's peak so far (the kernel's
/// count) misses nothing.
const SAMPLE_EVERY: Duration = Duration::from_millis(2);

/// A thread (named apart from the pools, which `--timings` counts) that
/// reads the process's resident memory every
/// [`SAMPLE_EVERY`] and keeps the largest since the last [`Sampler::take`].
///
/// Sampled rather than asked of the kernel: Linux can reset its peak
/// (`/proc/self/clear_refs`), but that also resets the peak `getrusage`
/// and so `time` report for the whole run, which measurements rely on.
struct Sampler {
    largest: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    /// A running sampler, or `None` where resident memory cannot be read.
    fn start() -> Option<Sampler> {
        let first = resident()?;
        let largest = Arc::new(AtomicU64::new(first));
        let stop = Arc::new(AtomicBool::new(false));
        let (l, s) = (Arc::clone(&largest), Arc::clone(&stop));
        let thread = std::thread::Builder::new()
            .name("timings-sampler".into())
            .spawn(move || {
                while !s.load(Ordering::Relaxed) {
                    if let Some(now) = resident() {
                        l.fetch_max(now, Ordering::Relaxed);
                    }
                    std::thread::sleep(SAMPLE_EVERY);
                }
            })
            .ok()?;
        Some(Sampler {
            largest,
            stop,
            thread: Some(thread),
        })
    }

    /// The largest resident memory since the last call (or the start),
    /// and starts again from what is resident now.
    fn take(&self) -> u64 {
        let now = resident().unwrap_or(0);
        self.largest.swap(now, Ordering::Relaxed).max(now)
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The process's resident memory now, in bytes (Linux's `/proc/self/statm`,
/// which is cheaper to read than `status`).
fn resident() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions; it returns -1 for an unknown name.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(page).ok().map(|page| pages * page)
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
            sampler: if enabled { Sampler::start() } else { None },
        }
    }

    /// Ends the stage that ran since the previous call (or the start).
    pub fn lap(&mut self, stage: &'static str) {
        if self.enabled {
            let now = Instant::now();
            let cpu = cpu_time();
            let peak = peak_rss();
            self.stages.push(Stage {
                name: stage,
                wall: now - self.last,
                cpu: since(cpu, self.last_cpu),
                // Never above the kernel's exact peak, which a sample taken
                // just now may pass by a page or two.
                own_peak: self.sampler.as_ref().map(|s| {
                    let own = s.take();
                    peak.map_or(own, |p| own.min(p))
                }),
                peak,
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
                memory(stage.own_peak, stage.peak),
            );
        }
        let rate = spans as f64 / total.as_secs_f64().max(1e-9);
        eprintln!(
            "critpath: timings: {:<12} {:>9.3} s{}{} ({spans} spans, {rate:.0} spans/s)",
            "total",
            total.as_secs_f64(),
            cores(since(cpu_time(), self.started_cpu), total),
            peak_rss().map_or(String::new(), |p| format!(", peak memory {} MiB", p >> 20)),
        );
        if let Some(threads) = super::threads::started() {
            eprintln!(
                "critpath: timings: {:<12} {threads} (one pool for every stage)",
                "threads"
            );
        }
    }
}

/// The CPU time used between `then` and `now`, where both are known.
fn since(now: Option<Duration>, then: Option<Duration>) -> Option<Duration> {
    now.zip(then).map(|(now, then)| now.saturating_sub(then))
}

/// ", peak memory 120 MiB (so far 250 MiB)" for a stage whose own peak
/// and the run's peak so far are known; only the run's when the stage's own
/// is not (where resident memory cannot be read).
fn memory(own: Option<u64>, so_far: Option<u64>) -> String {
    match (own, so_far) {
        (Some(own), Some(so_far)) => format!(
            ", peak memory {} MiB (so far {} MiB)",
            own >> 20,
            so_far >> 20
        ),
        (None, Some(so_far)) => format!(", peak memory so far {} MiB", so_far >> 20),
        _ => String::new(),
    }
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
    fn memory_names_the_stage_peak_beside_the_run_peak() {
        let mib = |n: u64| Some(n << 20);
        assert_eq!(
            memory(mib(120), mib(250)),
            ", peak memory 120 MiB (so far 250 MiB)"
        );
        assert_eq!(memory(None, mib(250)), ", peak memory so far 250 MiB");
        assert_eq!(memory(None, None), "");
    }

    #[test]
    fn the_sampler_sees_memory_held_between_takes() {
        // Where resident memory cannot be read there is nothing to sample.
        let Some(sampler) = Sampler::start() else {
            return;
        };
        let before = sampler.take();
        let held: Vec<u8> = vec![1; 64 << 20];
        std::hint::black_box(&held);
        // Until a sample has been taken while the memory was held.
        let deadline = Instant::now() + Duration::from_secs(10);
        while sampler.largest.load(Ordering::Relaxed) < before + (48 << 20) {
            assert!(Instant::now() < deadline, "no sample saw 64 MiB more");
            std::thread::sleep(SAMPLE_EVERY);
        }
        drop(held);
        assert!(sampler.take() >= before + (48 << 20));
    }

    #[test]
    fn cores_is_cpu_over_wall() {
        let s = cores(Some(Duration::from_millis(1800)), Duration::from_secs(1));
        assert_eq!(s, ", CPU 1.800 s (1.8 cores)");
        assert_eq!(cores(None, Duration::from_secs(1)), "");
    }
}
