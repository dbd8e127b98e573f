//! Ingest: turns input files (any supported format, compressed or not) into
//! [`TracedSpan`]s and a data-quality summary.
//!
//! Each format is one module implementing [`Reader`]; [`READERS`] lists them
//! in the order they are tried when sniffing. Adding a format means adding a
//! file and one line there.

mod ascii;
mod decompress;
mod head;
mod inputs;
mod jaeger;
mod json_brackets;
mod json_envelope;
mod json_locate;
pub mod json_records;
mod json_scalars;
mod json_scan;
mod json_strict;
pub mod memory;
pub(crate) mod otlp;
mod progress;
mod room;
mod sentry;
mod stream;
#[cfg(test)]
pub(crate) mod test_support;
pub(crate) mod times;
mod xray;
mod zipkin;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use crate::model::spill::Spill;
use crate::model::{
    Interner, Location, Origin, Problem, ProcessServices, Quality, Sym, TraceSet, TracedSpan,
};

use head::Head;
use inputs::Opened;
pub use inputs::{InputSource, expand_inputs};
pub use stream::Framing;

/// A trace format critpath reads.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum, serde::Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// OTLP JSON encoding: `ExportTraceServiceRequest`/`TracesData`, one per
    /// file or one per line.
    OtlpJson,
    /// OTLP binary protobuf: one `ExportTraceServiceRequest`, or the
    /// Collector file exporter's length-prefixed stream of them.
    OtlpProto,
    /// Jaeger JSON as the Jaeger UI and query API export it.
    Jaeger,
    /// Sentry transaction events.
    Sentry,
    /// Zipkin v2 JSON, as Zipkin's API and UI download write it.
    Zipkin,
    /// AWS X-Ray `batch-get-traces` output or segment documents.
    Xray,
}

impl Format {
    /// The name users type and reports show.
    pub fn name(self) -> &'static str {
        match self {
            Format::OtlpJson => "otlp-json",
            Format::OtlpProto => "otlp-proto",
            Format::Jaeger => "jaeger",
            Format::Sentry => "sentry",
            Format::Zipkin => "zipkin",
            Format::Xray => "xray",
        }
    }
}

/// One decompressed input handed to a reader.
pub struct Input<'a> {
    /// What to call the input in messages (a path, or `-`).
    pub name: &'a str,
    /// Its full, decompressed content, or one window of it.
    pub bytes: &'a [u8],
    /// Whether `bytes` is one window of a larger input cut at record
    /// boundaries (see [`Reader::framing`]): never one whole document, and
    /// finding nothing recognisable in it is not yet an error.
    pub window: bool,
    /// The pieces of a window of a [`Framing::Envelope`] input.
    pub pieces: Option<json_envelope::Located<'a>>,
    /// Where each newline of `bytes` is, when the stream found them (see
    /// [`stream::Window::line_ends`]).
    pub line_ends: Option<&'a [usize]>,
}

/// Where a reader puts what it read.
pub struct Sink<'a> {
    /// The spans the reader is reading.
    pub spans: Vec<TracedSpan>,
    /// Spans of earlier windows of the input, each window's in the vector
    /// it was read into: a window is kept by moving its vector, not its
    /// spans (see [`TraceSet::from_batches`]). Readers never see these.
    batches: Vec<Vec<TracedSpan>>,
    /// The shared string table.
    pub strings: &'a Interner,
    /// Problems found while reading (unparsable records).
    pub quality: Quality,
    /// Spans read and already written to a spill instead of `spans`.
    pub spilled: u64,
    /// Services of processes named after their spans (see
    /// [`ProcessServices`]).
    pub processes: ProcessServices,
    name: String,
    /// `name`, interned, for the spans' [`Origin`].
    file: Sym,
}

impl<'a> Sink<'a> {
    /// A sink for one input.
    pub fn new(name: &str, strings: &'a Interner) -> Self {
        Sink {
            spans: Vec::new(),
            batches: Vec::new(),
            strings,
            quality: Quality::default(),
            spilled: 0,
            processes: ProcessServices::default(),
            name: name.to_string(),
            file: strings.intern(name),
        }
    }

    /// Marks `spans[from..]` as read at `location` of this input (their
    /// record's line or offset), so problems found later, when traces are
    /// built, name where each span was.
    pub fn locate(&mut self, from: usize, location: &Location) {
        let origin = Origin::new(self.file, location);
        for read in &mut self.spans[from..] {
            read.span.origin = origin;
        }
    }

    /// Marks every span not yet located as read from this input (where in
    /// it is not known).
    fn locate_rest(&mut self) {
        self.locate_rest_shifted(0, 0);
    }

    /// [`Sink::locate_rest`], then moves every span's place by `lines` and
    /// `bytes`: those of the window it was read from. In parallel: made on
    /// one thread, once for each window, these passes over its spans left
    /// the other core idle.
    fn locate_rest_shifted(&mut self, lines: u64, bytes: u64) {
        let origin = Origin::new(self.file, &Location::Whole);
        self.spans
            .par_iter_mut()
            .with_min_len(4096)
            .for_each(|read| {
                if read.span.origin.file().is_none() {
                    read.span.origin = origin;
                }
                read.span.origin.shift(lines, bytes);
            });
    }

    /// How many spans are held (not counting spilled ones).
    fn len(&self) -> usize {
        self.batches.iter().map(Vec::len).sum::<usize>() + self.spans.len()
    }

    /// Every span held, as the vectors they were read into, in the order
    /// read; the sink is left empty.
    fn take_batches(&mut self) -> Vec<Vec<TracedSpan>> {
        let spans = std::mem::take(&mut self.spans);
        let mut batches = std::mem::take(&mut self.batches);
        if !spans.is_empty() {
            batches.push(spans);
        }
        batches
    }

    /// Appends what `part`, a sink of the same input, read, to `spans`:
    /// readers index their spans there.
    fn append(&mut self, part: Sink<'_>) {
        // Into an empty sink without room (the first part) the vector moves
        // as it is.
        if self.spans.is_empty() && self.spans.capacity() < part.spans.len() {
            self.spans = part.spans;
        } else {
            self.spans.extend(part.spans);
        }
        self.quality.merge(part.quality);
        self.spilled += part.spilled;
        self.processes.merge(part.processes);
    }

    /// Keeps what `part`, a window of the same input, read, as a batch of
    /// its own.
    fn keep(&mut self, mut part: Sink<'_>) {
        self.batches.append(&mut part.take_batches());
        self.quality.merge(part.quality);
        self.spilled += part.spilled;
        self.processes.merge(part.processes);
    }

    /// The input's name, as problems name it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Records one skipped, unparsable record and where it was.
    pub fn skip(&mut self, location: Location, message: impl Into<String>) {
        self.quality.unparsable(Problem {
            file: self.name.clone(),
            location,
            message: message.into(),
        });
    }

    /// Records one span skipped because a time is out of bounds (see
    /// [`times`]), and where it was.
    pub fn invalid_time(&mut self, location: Location, message: impl Into<String>) {
        self.quality.invalid_time(Problem {
            file: self.name.clone(),
            location,
            message: message.into(),
        });
    }
}

/// Reads `chunks` in parallel, each into a sink of its own, and appends the
/// results to `sink` in input order; whether any chunk held something
/// recognisable. Readers split large inputs (JSON lines, protobuf frames,
/// the traces of a Jaeger export) this way so both cores parse one file.
pub(crate) fn read_chunks<T: Sync>(
    chunks: Vec<&[T]>,
    sink: &mut Sink<'_>,
    read: impl Fn(&[T], &mut Sink<'_>) -> bool + Sync,
) -> bool {
    let strings = sink.strings;
    let name = sink.name.as_str();
    let mut parts: Vec<(Sink<'_>, bool)> = chunks
        .into_par_iter()
        .map(|chunk| {
            let mut part = Sink::new(name, strings);
            let recognised = read(chunk, &mut part);
            (part, recognised)
        })
        .collect();
    // Moved one part after another on this thread, the spans took a tenth
    // of a protobuf read's wall time with the other core idle.
    if parts.len() > 1 {
        crate::concat::append_all(
            &mut sink.spans,
            parts.iter_mut().map(|(part, _)| &mut part.spans).collect(),
        );
    }
    let mut recognised = false;
    for (part, any) in parts {
        recognised |= any;
        sink.append(part);
    }
    recognised
}

/// A reader of one trace format.
pub trait Reader: Sync {
    /// The format this reader reads.
    fn format(&self) -> Format;

    /// Whether `head` (the first bytes of a decompressed input) looks like
    /// this format. Only cheap checks: the full read may still fail.
    fn sniff(&self, head: &[u8]) -> bool;

    /// How an input that starts with `head` (a full [`SNIFF_LEN`] bytes of
    /// a larger input) splits into records that can be read a window at a
    /// time; `None` (the default) reads it whole.
    fn framing(&self, head: &[u8]) -> Option<Framing> {
        let _ = head;
        None
    }

    /// Reads every span of `input` into `sink`. Bad records are skipped and
    /// counted with [`Sink::skip`]; an error means nothing usable was found
    /// (for example, the input is not this format at all).
    fn read(&self, input: &Input<'_>, sink: &mut Sink<'_>) -> Result<(), ReadError>;
}

/// Why a whole input could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {location}{sep}{message}", sep = if matches!(location, Location::Whole) { "" } else { ": " })]
pub struct ReadError {
    /// The input.
    pub file: String,
    /// Where reading stopped.
    pub location: Location,
    /// What was expected.
    pub message: String,
}

impl ReadError {
    /// An error about `input` at `location`.
    pub fn new(input: &Input<'_>, location: Location, message: impl Into<String>) -> Self {
        ReadError {
            file: input.name.to_string(),
            location,
            message: message.into(),
        }
    }
}

/// The readers, in the order they are tried when sniffing.
pub static READERS: &[&dyn Reader] = &[
    &otlp::json::OtlpJsonReader,
    &jaeger::JaegerReader,
    &sentry::SentryReader,
    &zipkin::ZipkinReader,
    &xray::XrayReader,
    &otlp::proto::OtlpProtoReader,
];

/// How many leading bytes sniffing looks at.
pub const SNIFF_LEN: usize = 64 * 1024;

/// Picks the reader for `bytes`: the forced format, or the first reader
/// whose sniff accepts the content.
pub fn detect(bytes: &[u8], forced: Option<Format>) -> Option<&'static dyn Reader> {
    if let Some(format) = forced {
        return READERS.iter().copied().find(|r| r.format() == format);
    }
    let head = &bytes[..bytes.len().min(SNIFF_LEN)];
    READERS.iter().copied().find(|r| r.sniff(head))
}

/// Options for reading inputs.
#[derive(Clone, Debug, Default)]
pub struct IngestOptions {
    /// Read every input as this format instead of sniffing.
    pub format: Option<Format>,
    /// Stop at the first unparsable record instead of counting it.
    pub strict: bool,
    /// Advanced by the bytes of input read.
    pub progress: Option<indicatif::ProgressBar>,
    /// Where spans go instead of memory, for inputs larger than memory:
    /// the trace set is then built from what is left (nothing), and the
    /// analysis reads the spill a partition at a time.
    pub spill: Option<Arc<Spill>>,
    /// Read files as streams, never mapped into memory (`--no-mmap`).
    pub no_mmap: bool,
    /// Bytes of input a window of a streamed input aims at (`None`:
    /// [`stream::WINDOW_BYTES`]); a few windows are in memory at once, so
    /// a memory limit makes them smaller.
    pub window_bytes: Option<usize>,
}

/// What was read: the trace set plus per-input facts.
#[derive(Debug)]
pub struct Ingested {
    /// The traces.
    pub set: TraceSet,
    /// Spans read per format.
    pub spans_per_format: BTreeMap<Format, u64>,
    /// Inputs read (files, or stdin).
    pub inputs: usize,
    /// Files found in folders whose content is no trace format, skipped.
    pub skipped: Vec<String>,
    /// The spans spilled to disk (the set then holds none), if any.
    pub spill: Option<Arc<Spill>>,
    /// Services for the spilled spans that wait for a process read after
    /// them: settled as each partition is read back.
    pub processes: ProcessServices,
}

/// Why ingest failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// An input could not be opened or decompressed.
    #[error("{path}: {source}")]
    Io {
        /// The input.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An input's format could not be recognised.
    #[error(
        "{0}: not a recognised trace format (expected OTLP JSON or protobuf, Jaeger JSON, Sentry events, Zipkin v2 JSON or AWS X-Ray); use --input-format to force one"
    )]
    Unrecognised(String),
    /// An input could not be read at all, or (with `--strict`) had a bad record.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// No input was given or found.
    #[error("no input files found in {0}")]
    Empty(String),
}

/// Reads all inputs in parallel and builds the trace set.
pub fn ingest(sources: &[InputSource], options: &IngestOptions) -> Result<Ingested, IngestError> {
    let strings = Interner::new();
    let results: Vec<Result<Option<(Format, Sink<'_>)>, IngestError>> = sources
        .par_iter()
        .map(|source| {
            let progress = progress::InputProgress::new(options.progress.clone());
            let result = read_one(source, &strings, options, &progress);
            progress.finish(|| source.size());
            result
        })
        .collect();
    let mut batches = Vec::new();
    let mut quality = Quality::default();
    let mut spans_per_format = BTreeMap::new();
    let mut skipped = Vec::new();
    let mut processes = ProcessServices::default();
    for (result, source) in results.into_iter().zip(sources) {
        let Some((format, mut sink)) = result? else {
            skipped.push(source.display_name());
            continue;
        };
        *spans_per_format.entry(format).or_insert(0) += sink.len() as u64 + sink.spilled;
        batches.append(&mut sink.take_batches());
        quality.merge(sink.quality);
        processes.merge(sink.processes);
    }
    // Every window is read, so every process table is: spans waiting for
    // one are settled before traces are built (a spilled span is when its
    // partition is read back).
    batches
        .par_iter_mut()
        .for_each(|batch| processes.settle(batch, &strings));
    let mut set = TraceSet::from_batches(batches, strings, quality);
    if options.spill.is_none() {
        set.count_unresolved_links();
    }
    if let Some(spill) = &options.spill {
        spill.finish().map_err(|err| spill_error(spill, err))?;
    }
    Ok(Ingested {
        set,
        spill: options.spill.clone(),
        spans_per_format,
        inputs: sources.len() - skipped.len(),
        skipped,
        processes,
    })
}

fn read_one<'s>(
    source: &InputSource,
    strings: &'s Interner,
    options: &IngestOptions,
    progress: &progress::InputProgress,
) -> Result<Option<(Format, Sink<'s>)>, IngestError> {
    let io_error = |err| IngestError::Io {
        path: source.path(),
        source: err,
    };
    // A plain file is read where it is mapped; anything else (stdin, a
    // compressed file) is read into buffers.
    let (mapped, stream) = match source.open(!options.no_mmap, progress) {
        Ok(Opened::Mapped(map)) => (Some(map), None),
        Ok(Opened::Stream(stream)) => (None, Some(stream)),
        Err(err) => return Err(io_error(err)),
    };
    let mut head = match (stream, &mapped) {
        (Some(stream), _) => Head::read(stream).map_err(io_error)?,
        (None, Some(map)) => Head::mapped(map),
        (None, None) => unreachable!("an input opens as a map or as a stream"),
    };
    let name = source.display_name();
    let Some(reader) = detect(head.bytes(), options.format) else {
        return match source {
            InputSource::Found(_) => Ok(None),
            _ => Err(IngestError::Unrecognised(name)),
        };
    };
    let mut sink = Sink::new(&name, strings);
    let framing = if head.bytes().len() < SNIFF_LEN {
        None // small enough to read whole, exactly as it always was
    } else {
        // A JSON-lines reader decides on the whole first line, which can
        // be longer than the sniffed head (one request of a thousand spans).
        let wanted = options.window_bytes.unwrap_or(stream::WINDOW_BYTES);
        if memchr::memchr(b'\n', head.bytes()).is_none() {
            head.through_newline(wanted).map_err(io_error)?;
        }
        reader.framing(head.bytes())
    };
    let Some(framing) = framing else {
        let bytes = head.whole().map_err(io_error)?;
        let input = Input {
            name: &name,
            bytes: &bytes,
            window: false,
            pieces: None,
            line_ends: None,
        };
        reader.read(&input, &mut sink)?;
        sink.locate_rest();
        strict(&sink, options)?;
        spill(&mut sink, options)?;
        return Ok(Some((reader.format(), sink)));
    };
    // Windows of whole records: the input is recognised if any window is,
    // as it would be if read whole.
    let mut first_error = None;
    let mut recognised = false;
    let window_bytes = options.window_bytes.unwrap_or(stream::WINDOW_BYTES);
    let source = head.windows(Box::new(|window: &[u8]| {
        if let Some(map) = &mapped {
            inputs::release(map, window);
        }
        progress.advance(window.len() as u64);
    }));
    stream::windows(source, framing, window_bytes, io_error, |window| {
        let input = Input {
            name: &name,
            bytes: &window.bytes,
            window: true,
            pieces: window
                .envelope(framing)
                .map(|envelope| json_envelope::Located {
                    envelope,
                    pieces: &window.pieces,
                    newlines: &window.newlines,
                }),
            line_ends: window.line_ends.as_deref(),
        };
        let mut part = Sink::new(&name, strings);
        let result = reader.read(&input, &mut part);
        part.quality.shift(window.lines, window.offset);
        part.locate_rest_shifted(window.lines, window.offset);
        sink.keep(part);
        spill(&mut sink, options)?;
        match result {
            Ok(()) => recognised = true,
            Err(mut err) => {
                err.location.shift(window.lines, window.offset);
                first_error.get_or_insert(err);
            }
        }
        strict(&sink, options)
    })?;
    match (recognised, first_error) {
        (false, Some(err)) => Err(err.into()),
        _ => Ok(Some((reader.format(), sink))),
    }
}

/// Moves the sink's spans to the spill, if there is one.
fn spill(sink: &mut Sink<'_>, options: &IngestOptions) -> Result<(), IngestError> {
    let Some(spill) = &options.spill else {
        return Ok(());
    };
    spill
        .write(sink.batches.iter().flatten().chain(&sink.spans))
        .map_err(|err| spill_error(spill, err))?;
    sink.spilled += sink.len() as u64;
    sink.take_batches();
    Ok(())
}

/// A failure writing the spill, naming its folder.
fn spill_error(spill: &Spill, err: std::io::Error) -> IngestError {
    IngestError::Io {
        path: spill.dir().to_path_buf(),
        source: err,
    }
}

/// With `--strict`, the first unparsable record as an error.
fn strict(sink: &Sink<'_>, options: &IngestOptions) -> Result<(), IngestError> {
    match sink.quality.examples.first() {
        Some(first) if options.strict => Err(IngestError::Read(ReadError {
            file: first.file.clone(),
            location: first.location.clone(),
            message: format!("{} (--strict)", first.message),
        })),
        _ => Ok(()),
    }
}

/// Reads `bytes` with `format`'s reader into a throwaway sink, ignoring the
/// result: the entry point for fuzz targets, which only look for panics.
pub fn fuzz_read(format: Format, bytes: &[u8]) {
    let strings = Interner::new();
    let input = Input {
        name: "fuzz-input",
        bytes,
        window: false,
        pieces: None,
        line_ends: None,
    };
    let mut sink = Sink::new(input.name, &strings);
    if let Some(reader) = detect(bytes, Some(format)) {
        let _ = reader.read(&input, &mut sink);
    }
}

/// Reads one in-memory input named `name` whole (as `format`, or sniffed)
/// and builds the trace set, as [`ingest`] does for a small file: for fuzz
/// targets and tests that run the whole pipeline on bytes.
pub fn ingest_bytes(
    name: &str,
    bytes: &[u8],
    options: &IngestOptions,
) -> Result<Ingested, IngestError> {
    let strings = Interner::new();
    let reader =
        detect(bytes, options.format).ok_or_else(|| IngestError::Unrecognised(name.into()))?;
    let input = Input {
        name,
        bytes,
        window: false,
        pieces: None,
        line_ends: None,
    };
    let mut sink = Sink::new(name, &strings);
    reader.read(&input, &mut sink)?;
    sink.locate_rest();
    strict(&sink, options)?;
    let count = sink.len() as u64;
    let mut batches = sink.take_batches();
    let quality = std::mem::take(&mut sink.quality);
    for batch in &mut batches {
        sink.processes.settle(batch, &strings);
    }
    drop(sink);
    let mut set = TraceSet::from_batches(batches, strings, quality);
    set.count_unresolved_links();
    Ok(Ingested {
        set,
        spans_per_format: BTreeMap::from([(reader.format(), count)]),
        inputs: 1,
        skipped: Vec::new(),
        spill: None,
        processes: ProcessServices::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testutil::{plain_span, traced};

    /// The progress bar ends at the inputs' total size: a mapped file read
    /// in windows, a small one read whole, a compressed one read through
    /// its decompressor, and a file found in a folder that is no trace
    /// format, each counted once.
    #[test]
    fn the_progress_bar_ends_at_the_total_size_of_the_inputs() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let fixture = |name: &str| {
            std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).unwrap()
        };
        let large = fixture("fixtures/jaeger/n_plus_one.json");
        assert!(large.len() > 3 * (64 << 10), "read as several windows");
        let small = fixture("fixtures/otlp-json/near_misses.jsonl");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&large).unwrap();
        let files = [
            ("large.json", large.clone()),
            (
                "small.jsonl",
                small[..small.len().min(SNIFF_LEN / 2)].to_vec(),
            ),
            ("large.json.gz", gz.finish().unwrap()),
            ("notes.txt", b"not a trace".to_vec()),
        ];
        let mut sources = Vec::new();
        for (name, bytes) in &files {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            sources.push(match *name {
                "notes.txt" => InputSource::Found(path),
                _ => InputSource::File(path),
            });
        }
        let total: u64 = files.iter().map(|(_, b)| b.len() as u64).sum();
        let bar = indicatif::ProgressBar::hidden();
        let options = IngestOptions {
            progress: Some(bar.clone()),
            window_bytes: Some(64 << 10),
            ..Default::default()
        };
        let read = ingest(&sources, &options).unwrap();
        assert_eq!(read.skipped.len(), 1);
        assert!(read.set.span_count() > 0);
        assert_eq!(bar.position(), total);
    }

    /// Parts of every size, empty ones among them, join after the spans
    /// already held, in part order, each exactly once; their quality and
    /// answers are kept too.
    #[test]
    fn read_chunks_joins_the_parts_in_order_after_what_was_held() {
        let strings = Interner::new();
        let sizes = [3usize, 0, 1, 700, 0, 42, 5];
        let chunks: Vec<&[usize]> = sizes.iter().map(std::slice::from_ref).collect();
        let mut sink = Sink::new("in", &strings);
        sink.spans
            .push(traced(1, plain_span(&strings, 1, None, "held")));
        let recognised = read_chunks(chunks, &mut sink, |chunk, part| {
            let n = chunk[0];
            for i in 0..n {
                let span = plain_span(&strings, i as u64 + 1, None, "s");
                part.spans.push(traced(n as u128, span));
            }
            part.skip(Location::Line(n as u64), "counted");
            n == 42
        });
        assert!(recognised);
        let got: Vec<(u128, u64)> = sink
            .spans
            .iter()
            .map(|s| (s.trace_id.0, s.span.span_id.0))
            .collect();
        let mut want = vec![(1, 1)];
        for n in sizes {
            want.extend((0..n).map(|i| (n as u128, i as u64 + 1)));
        }
        assert!(
            got == want,
            "{} spans, {} expected, or out of order",
            got.len(),
            want.len()
        );
        assert_eq!(sink.quality.unparsable_records, sizes.len() as u64);
    }
}
