//! `--memory-limit`: whether an input must be spilled to disk to fit, and
//! into how many partitions.

use std::io::Read;

use crate::ingest::InputSource;

/// How much memory a run may count on: `--memory-limit`, else most of what
/// the machine has available.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryLimit {
    /// The limit in bytes.
    pub bytes: u64,
    /// Whether the user gave it (spill whenever it may not suffice), or it
    /// is the machine's (spill only when it surely does not).
    pub explicit: bool,
}

/// Peak memory per byte of plain input, measured on the generator's sets
/// (OTLP/protobuf, the densest format, holds about twice its size).
const HELD_PER_PLAIN_BYTE: u64 = 2;
/// The same per byte of gzip or zstd input (about ten to one).
const HELD_PER_COMPRESSED_BYTE: u64 = 20;
/// The share of the machine's available memory a run aims to stay under.
const MACHINE_SHARE: f64 = 0.8;
/// Bounds on the partition count: at least two (else spilling gains
/// nothing), at most what stays well under the usual open-file limit.
const PARTITIONS: (u64, u64) = (2, 256);

/// The share of the limit one window of streamed input may take: a few
/// windows are in flight (one read, one parsed, one queued), and a window's
/// spans stay in memory until they are written to the spill.
const WINDOW_SHARE: u64 = 16;
/// The smallest window: below this, per-window work costs more than the
/// memory it saves.
pub(super) const MIN_WINDOW: u64 = 256 << 10;

// A member larger than `CUT_BYTES` is cut wherever it lies only if no
// window is smaller (see `json_envelope::CUT_BYTES`).
const _: () = assert!(super::json_envelope::CUT_BYTES as u64 <= MIN_WINDOW);
const _: () = assert!(super::json_envelope::CUT_BYTES <= super::stream::WINDOW_BYTES);

/// A function the binary registers for the library to call at a point of
/// a run: what the program's allocator does then. The binary owns the
/// allocator; the library does not know which one it runs on. Only the
/// first registration counts.
struct Hook(std::sync::OnceLock<fn()>);

impl Hook {
    const fn new() -> Self {
        Hook(std::sync::OnceLock::new())
    }

    fn set(&self, hook: fn()) {
        let _ = self.0.set(hook);
    }

    fn run(&self) {
        if let Some(hook) = self.0.get() {
            hook();
        }
    }
}

static ON_BOUNDED: Hook = Hook::new();
static ON_RELEASED: Hook = Hook::new();

/// Registers what to do when a run spills: typically, have the allocator
/// return freed memory to the system at once instead of keeping it for
/// reuse.
pub fn on_bounded(hook: fn()) {
    ON_BOUNDED.set(hook);
}

/// Runs the hook [`on_bounded`] registered, if any: the run has started to
/// spill, so memory kept for reuse counts against the limit.
pub fn bounded() {
    ON_BOUNDED.run();
}

/// Registers what to do when a run has freed a large share of what it
/// held: typically, have the allocator return the freed pages to the
/// system now.
pub fn on_released(hook: fn()) {
    ON_RELEASED.set(hook);
}

/// Runs the hook [`on_released`] registered, if any, as a task of the
/// current thread pool, not on the caller's thread: handing pages back
/// takes milliseconds in the kernel (30 ms in all on 1.09 M spans), and the
/// callers are serial steps between parallel ones, with the pool's other
/// threads idle, so one of those takes it.
pub fn released() {
    if let Some(&hook) = ON_RELEASED.0.get() {
        rayon::spawn(hook);
    }
}

/// A byte count for people: `512 B`, `10 KiB`, `4.0 GiB`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// Memory the kernel says is available, in bytes (Linux), if known.
pub fn available() -> Option<u64> {
    proc_bytes("/proc/meminfo", "MemAvailable:")
}

/// The `key  N kB` line of a Linux `/proc` status file, in bytes.
pub fn proc_bytes(file: &str, key: &str) -> Option<u64> {
    let info = std::fs::read_to_string(file).ok()?;
    let line = info.lines().find(|l| l.starts_with(key))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

impl MemoryLimit {
    /// The limit a run works under: the user's, else the machine's.
    pub fn new(flag: Option<u64>) -> Option<MemoryLimit> {
        match flag {
            Some(bytes) => Some(MemoryLimit {
                bytes,
                explicit: true,
            }),
            None => available().map(|bytes| MemoryLimit {
                bytes: (bytes as f64 * MACHINE_SHARE) as u64,
                explicit: false,
            }),
        }
    }

    /// Bytes of input a streamed window may hold under this limit: a
    /// sixteenth of it, between 256 KiB and the usual window size.
    pub fn window_bytes(&self) -> usize {
        let most = crate::ingest::stream::WINDOW_BYTES as u64;
        (self.bytes / WINDOW_SHARE).clamp(MIN_WINDOW.min(most), most) as usize
    }

    /// How many partitions to spill `sources` into, or `None` to read them
    /// into memory.
    pub fn partitions(&self, sources: &[InputSource]) -> Option<usize> {
        let mut estimate = 0u64;
        for source in sources {
            // Only a plain file is looked into: opening a named pipe to
            // read its first bytes would take them from the reader (and
            // its writer would then see the pipe broken).
            let plain = match source {
                InputSource::File(path) | InputSource::Found(path) => std::fs::metadata(path)
                    .ok()
                    .filter(|m| m.is_file())
                    .map(|m| (path, m.len())),
                InputSource::Stdin => None,
            };
            estimate = estimate.saturating_add(match plain {
                // Its size is unknown: only a user's limit spills it.
                None if self.explicit => self.bytes.saturating_add(1),
                None => 0,
                Some((path, size)) => {
                    let mut magic = [0u8; 4];
                    let compressed = std::fs::File::open(path)
                        .and_then(|mut f| f.read_exact(&mut magic))
                        .is_ok()
                        && super::decompress::compressed(&magic);
                    let per_byte = if compressed {
                        HELD_PER_COMPRESSED_BYTE
                    } else {
                        HELD_PER_PLAIN_BYTE
                    };
                    size.saturating_mul(per_byte)
                }
            });
        }
        if estimate <= self.bytes {
            return None;
        }
        // Aim for partitions of half the limit: the merged results and
        // the next partition share the rest.
        let per_partition = (self.bytes / 2).max(1);
        let wanted = estimate.div_ceil(per_partition);
        Some(wanted.clamp(PARTITIONS.0, PARTITIONS.1) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bounded_hook_runs_when_a_run_spills() {
        static RAN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        on_bounded(|| RAN.store(true, std::sync::atomic::Ordering::Relaxed));
        bounded();
        assert!(RAN.load(std::sync::atomic::Ordering::Relaxed));
    }

    #[test]
    fn sizes_for_people() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(10 << 10), "10 KiB");
        assert_eq!(human(1536 << 20), "1.5 GiB");
        assert_eq!(human(200 << 20), "200 MiB");
    }

    #[test]
    fn small_inputs_stay_in_memory_and_large_ones_spill() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, vec![b'{'; 10_000]).unwrap();
        let sources = [InputSource::File(path)];
        let roomy = MemoryLimit {
            bytes: 1 << 30,
            explicit: true,
        };
        assert_eq!(roomy.partitions(&sources), None);
        let tight = MemoryLimit {
            bytes: 10_000,
            explicit: true,
        };
        // 20 kB held in partitions of 5 kB.
        assert_eq!(tight.partitions(&sources), Some(4));
        let tiny = MemoryLimit {
            bytes: 1,
            explicit: true,
        };
        assert_eq!(tiny.partitions(&sources), Some(256));
    }

    #[test]
    fn windows_shrink_with_the_limit() {
        let limit = |bytes| MemoryLimit {
            bytes,
            explicit: true,
        };
        let most = crate::ingest::stream::WINDOW_BYTES;
        assert_eq!(limit(64 << 20).window_bytes(), (4 << 20).min(most));
        assert_eq!(limit(64 << 30).window_bytes(), most);
        assert_eq!(limit(1024).window_bytes(), (256 << 10).min(most));
    }

    #[test]
    fn stdin_spills_only_under_a_users_limit() {
        let user = MemoryLimit {
            bytes: 1 << 30,
            explicit: true,
        };
        assert!(user.partitions(&[InputSource::Stdin]).is_some());
        let machine = MemoryLimit {
            explicit: false,
            ..user
        };
        assert_eq!(machine.partitions(&[InputSource::Stdin]), None);
    }
}
