//! Spilling spans to temporary files partitioned by trace id, for inputs
//! larger than memory: every span of a trace lands in the same partition,
//! so each partition can be built and analysed on its own and dropped.
//!
//! Strings stay in the shared [`Interner`](super::Interner); a partition
//! file holds spans as fixed-width records of ids, times and symbols. The
//! folder is removed when the [`Spill`] is dropped (success or error) and,
//! through [`remove_on_interrupt`], on Ctrl-C.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::ids::{SpanId, TraceId};
use super::intern::{AttrsId, Sym};
use super::span::{IdSharing, Origin, ServiceFrom, Span, SpanKind, SpanLink, Status, TracedSpan};

/// Spans written so far, by partition, in temporary files.
pub struct Spill {
    dir: tempfile::TempDir,
    files: Mutex<Vec<BufWriter<File>>>,
    partitions: usize,
}

impl Spill {
    /// A spill of `partitions` files in a new folder under the system's
    /// temporary directory (`TMPDIR`).
    pub fn new(partitions: usize) -> io::Result<Spill> {
        let partitions = partitions.max(1);
        let dir = tempfile::Builder::new()
            .prefix("critpath-spill-")
            .tempdir()?;
        let files = (0..partitions)
            .map(|p| File::create(partition_path(dir.path(), p)).map(BufWriter::new))
            .collect::<io::Result<_>>()?;
        remove_on_interrupt(dir.path());
        Ok(Spill {
            dir,
            files: Mutex::new(files),
            partitions,
        })
    }

    /// How many partitions there are.
    pub fn partitions(&self) -> usize {
        self.partitions
    }

    /// The folder holding the partition files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The partition a trace belongs to.
    pub fn partition_of(&self, trace: TraceId) -> usize {
        // Mix both halves: generated and hashed ids differ in either.
        let mixed = (trace.0 as u64 ^ (trace.0 >> 64) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        ((mixed >> 32) % self.partitions as u64) as usize
    }

    /// Appends spans to their partitions. Encoding happens before the lock
    /// is taken, so readers on several threads mostly write in parallel.
    pub fn write<'s>(&self, spans: impl IntoIterator<Item = &'s TracedSpan>) -> io::Result<()> {
        let mut spans = spans.into_iter().peekable();
        if spans.peek().is_none() {
            return Ok(());
        }
        let mut buffers: Vec<Vec<u8>> = vec![Vec::new(); self.partitions];
        for span in spans {
            encode(span, &mut buffers[self.partition_of(span.trace_id)]);
        }
        let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        for (file, buffer) in files.iter_mut().zip(&buffers) {
            if !buffer.is_empty() {
                file.write_all(buffer)?;
            }
        }
        Ok(())
    }

    /// Flushes every partition file; call once all spans are written.
    pub fn finish(&self) -> io::Result<()> {
        let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        files.iter_mut().try_for_each(Write::flush)
    }

    /// The spans of one partition, in the order they were written. A
    /// partition can be read again (a diagnosis against an earlier time
    /// range analyses the input a second time); the files go with the
    /// folder when the spill is dropped.
    pub fn read(&self, partition: usize) -> io::Result<Vec<TracedSpan>> {
        let path = partition_path(self.dir(), partition);
        let bytes = std::fs::read(&path)
            .map_err(|err| io::Error::new(err.kind(), format!("{}: {err}", path.display())))?;
        let mut spans = Vec::with_capacity(bytes.len() / FIXED_LEN);
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let span = decode(&mut rest).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: damaged spill file", path.display()),
                )
            })?;
            spans.push(span);
        }
        Ok(spans)
    }
}

impl std::fmt::Debug for Spill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spill")
            .field("dir", &self.dir.path())
            .field("partitions", &self.partitions)
            .finish()
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        forget_on_interrupt(self.dir.path());
    }
}

fn partition_path(dir: &Path, partition: usize) -> PathBuf {
    dir.join(format!("part-{partition:04}.spans"))
}

/// Folders to remove if the process is interrupted.
static INTERRUPT_CLEANUP: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes `dir` if the user presses Ctrl-C (or the process gets SIGTERM)
/// before it is dropped, then exits with 130 as a shell would.
fn remove_on_interrupt(dir: &Path) {
    static HANDLER: std::sync::Once = std::sync::Once::new();
    INTERRUPT_CLEANUP
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(dir.to_path_buf());
    HANDLER.call_once(|| {
        // If a handler cannot be set, temporary files may outlive an
        // interrupt; that is no reason to refuse the run.
        let _ = ctrlc::set_handler(|| {
            let dirs = INTERRUPT_CLEANUP.lock().unwrap_or_else(|p| p.into_inner());
            for dir in dirs.iter() {
                let _ = std::fs::remove_dir_all(dir);
            }
            std::process::exit(130);
        });
    });
}

fn forget_on_interrupt(dir: &Path) {
    INTERRUPT_CLEANUP
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|d| d != dir);
}

/// Bytes of a record before its optional parts.
const FIXED_LEN: usize = 16 + 8 + 8 + 8 + 8 + 4 + 4 + 4 + 1 + 1 + 1;

const HAS_PARENT: u8 = 1;
const HAS_ATTRS: u8 = 2;
const HAS_LINKS: u8 = 4;
/// A Zipkin span not marked `shared` ([`IdSharing::Unmarked`]).
const UNMARKED: u8 = 8;
/// A Zipkin span marked `shared` ([`IdSharing::Marked`]).
const MARKED: u8 = 16;
/// A span whose service is its parent's ([`ServiceFrom::Parent`]).
const SERVICE_FROM_PARENT: u8 = 32;
/// A span whose service is a process named later ([`ServiceFrom::Process`]).
const SERVICE_FROM_PROCESS: u8 = 64;

/// A symbol as 4 bytes, 0 for none.
fn sym_code(sym: Option<Sym>) -> u32 {
    sym.map_or(0, |s| s.into_usize() as u32 + 1)
}

fn sym_of(code: u32) -> Option<Sym> {
    code.checked_sub(1)
        .and_then(|i| Sym::try_from_usize(i as usize))
}

fn encode(traced: &TracedSpan, out: &mut Vec<u8>) {
    let span = &traced.span;
    let mut flags = 0;
    if span.parent_id.is_some() {
        flags |= HAS_PARENT;
    }
    if span.attrs.is_some() {
        flags |= HAS_ATTRS;
    }
    if span.links.is_some() {
        flags |= HAS_LINKS;
    }
    flags |= match span.id_sharing {
        IdSharing::Own => 0,
        IdSharing::Unmarked => UNMARKED,
        IdSharing::Marked => MARKED,
    };
    flags |= match span.service_from {
        ServiceFrom::Own => 0,
        ServiceFrom::Parent => SERVICE_FROM_PARENT,
        ServiceFrom::Process => SERVICE_FROM_PROCESS,
    };
    out.extend_from_slice(&traced.trace_id.0.to_le_bytes());
    out.extend_from_slice(&span.span_id.0.to_le_bytes());
    out.extend_from_slice(&span.parent_id.map_or(0, |p| p.0).to_le_bytes());
    out.extend_from_slice(&span.start.to_le_bytes());
    out.extend_from_slice(&span.end.to_le_bytes());
    out.extend_from_slice(&sym_code(Some(span.service)).to_le_bytes());
    out.extend_from_slice(&sym_code(Some(span.name)).to_le_bytes());
    out.extend_from_slice(&sym_code(span.trace_label).to_le_bytes());
    let (file, at) = span.origin.raw();
    out.extend_from_slice(&sym_code(file).to_le_bytes());
    out.extend_from_slice(&at.to_le_bytes());
    out.push(span.kind as u8);
    out.push(span.status as u8);
    out.push(flags);
    if let Some(attrs) = span.attrs {
        // The block's interned id, as symbols are stored: a spill is read
        // back by the run that wrote it, with the same interner.
        out.extend_from_slice(&attrs.code().to_le_bytes());
    }
    if let Some(links) = &span.links {
        out.extend_from_slice(&(links.len() as u32).to_le_bytes());
        for link in links.iter() {
            out.extend_from_slice(&link.trace_id.0.to_le_bytes());
            out.extend_from_slice(&link.span_id.0.to_le_bytes());
        }
    }
}

fn take<const N: usize>(rest: &mut &[u8]) -> Option<[u8; N]> {
    let (head, tail) = rest.split_first_chunk::<N>()?;
    *rest = tail;
    Some(*head)
}

fn kind_of(code: u8) -> SpanKind {
    [
        SpanKind::Unspecified,
        SpanKind::Internal,
        SpanKind::Server,
        SpanKind::Client,
        SpanKind::Producer,
        SpanKind::Consumer,
    ]
    .into_iter()
    .find(|k| *k as u8 == code)
    .unwrap_or_default()
}

fn status_of(code: u8) -> Status {
    [Status::Unset, Status::Ok, Status::Error]
        .into_iter()
        .find(|s| *s as u8 == code)
        .unwrap_or_default()
}

fn decode(rest: &mut &[u8]) -> Option<TracedSpan> {
    let u32_of = |rest: &mut &[u8]| take::<4>(rest).map(u32::from_le_bytes);
    let trace_id = TraceId(u128::from_le_bytes(take(rest)?));
    let span_id = SpanId(u64::from_le_bytes(take(rest)?));
    let parent = SpanId(u64::from_le_bytes(take(rest)?));
    let start = i64::from_le_bytes(take(rest)?);
    let end = i64::from_le_bytes(take(rest)?);
    let service = sym_of(u32_of(rest)?)?;
    let name = sym_of(u32_of(rest)?)?;
    let trace_label = sym_of(u32_of(rest)?);
    let origin = Origin::from_raw(sym_of(u32_of(rest)?), u32_of(rest)?);
    let [kind, status, flags] = take::<3>(rest)?;
    let attrs = if flags & HAS_ATTRS != 0 {
        Some(AttrsId::from_code(u32_of(rest)?)?)
    } else {
        None
    };
    let links = if flags & HAS_LINKS != 0 {
        let count = u32_of(rest)? as usize;
        let mut links = Vec::with_capacity(count.min(rest.len() / 24));
        for _ in 0..count {
            links.push(SpanLink {
                trace_id: TraceId(u128::from_le_bytes(take(rest)?)),
                span_id: SpanId(u64::from_le_bytes(take(rest)?)),
            });
        }
        Some(Box::new(links))
    } else {
        None
    };
    let span = Span {
        span_id,
        parent_id: (flags & HAS_PARENT != 0).then_some(parent),
        start,
        end,
        service,
        name,
        kind: kind_of(kind),
        status: status_of(status),
        id_sharing: if flags & MARKED != 0 {
            IdSharing::Marked
        } else if flags & UNMARKED != 0 {
            IdSharing::Unmarked
        } else {
            IdSharing::Own
        },
        service_from: if flags & SERVICE_FROM_PARENT != 0 {
            ServiceFrom::Parent
        } else if flags & SERVICE_FROM_PROCESS != 0 {
            ServiceFrom::Process
        } else {
            ServiceFrom::Own
        },
        attrs,
        links,
        trace_label,
        origin,
    };
    Some(TracedSpan { trace_id, span })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attrs, Interner, Shape, ShapeKind};

    fn sample(strings: &Interner) -> Vec<TracedSpan> {
        let plain = Span {
            span_id: SpanId(1),
            parent_id: None,
            start: -5,
            end: i64::MAX,
            service: strings.intern("svc"),
            name: strings.intern("op"),
            kind: SpanKind::Consumer,
            status: Status::Error,
            id_sharing: IdSharing::Own,
            service_from: ServiceFrom::Own,
            attrs: None,
            links: None,
            trace_label: None,
            origin: crate::model::Origin::UNKNOWN,
        };
        let rich = Span {
            span_id: SpanId(u64::MAX),
            parent_id: Some(SpanId(1)),
            kind: SpanKind::Client,
            status: Status::Ok,
            id_sharing: IdSharing::Marked,
            service_from: ServiceFrom::Parent,
            attrs: Some(strings.intern_attrs(Attrs {
                db_system: Some(strings.intern("postgresql")),
                shape: Some(Shape {
                    kind: ShapeKind::Query,
                    text: strings.intern("SELECT %s"),
                }),
                url_host: Some(strings.intern("db.internal")),
                messaging_operation: Some(strings.intern("publish")),
                ..Attrs::default()
            })),
            links: Some(Box::new(vec![SpanLink {
                trace_id: TraceId(9),
                span_id: SpanId(3),
            }])),
            trace_label: Some(strings.intern("trace-A")),
            origin: Origin::new(strings.intern("in.pb"), &crate::model::Location::Byte(77)),
            ..plain.clone()
        };
        let deferred = Span {
            span_id: SpanId(2),
            service_from: ServiceFrom::Process,
            ..plain.clone()
        };
        [plain, rich, deferred]
            .into_iter()
            .map(|span| TracedSpan {
                trace_id: TraceId(0xabc << 70 | 7),
                span,
            })
            .collect()
    }

    #[test]
    fn spans_round_trip_through_their_partition() {
        let strings = Interner::new();
        let spans = sample(&strings);
        let spill = Spill::new(4).unwrap();
        spill.write(&spans).unwrap();
        spill.write(&spans[..1]).unwrap();
        spill.finish().unwrap();
        let p = spill.partition_of(spans[0].trace_id);
        let back = spill.read(p).unwrap();
        assert_eq!(
            back,
            vec![
                spans[0].clone(),
                spans[1].clone(),
                spans[2].clone(),
                spans[0].clone()
            ]
        );
        for other in (0..4).filter(|&q| q != p) {
            assert!(spill.read(other).unwrap().is_empty());
        }
    }

    #[test]
    fn a_partition_reads_the_same_twice() {
        let strings = Interner::new();
        let spans = sample(&strings);
        let spill = Spill::new(2).unwrap();
        spill.write(&spans).unwrap();
        spill.finish().unwrap();
        let p = spill.partition_of(spans[0].trace_id);
        let first = spill.read(p).unwrap();
        assert!(!first.is_empty());
        assert_eq!(spill.read(p).unwrap(), first);
    }

    #[test]
    fn the_folder_is_removed_when_dropped() {
        let spill = Spill::new(2).unwrap();
        let dir = spill.dir().to_path_buf();
        assert!(dir.exists());
        drop(spill);
        assert!(!dir.exists());
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_panic() {
        let strings = Interner::new();
        let spill = Spill::new(1).unwrap();
        spill.write(&sample(&strings)).unwrap();
        spill.finish().unwrap();
        let path = partition_path(spill.dir(), 0);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(spill.read(0).is_err());
    }

    #[test]
    fn traces_spread_over_partitions() {
        let spill = Spill::new(8).unwrap();
        let used: std::collections::BTreeSet<usize> = (1..200u128)
            .map(|i| spill.partition_of(TraceId(i * 0x1234_5678_9abc)))
            .collect();
        assert_eq!(used.len(), 8);
    }
}
