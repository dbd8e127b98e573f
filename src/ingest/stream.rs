//! Reading an input as a stream of windows: a bounded buffer of whole
//! records (JSON lines, or length-prefixed protobuf frames) is parsed on
//! every core while the next one is read and decompressed on another
//! thread, so that memory holds a few windows of input, never the whole
//! file, and reading overlaps parsing. A file mapped into memory is cut
//! into windows in place, without being copied.

use std::borrow::Cow;
use std::io::{self, Read};
use std::sync::mpsc;

use super::json_envelope::{Envelope, Piece, Resume};

/// How an input splits into records that can be read independently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// One JSON value per line.
    Lines,
    /// Each record preceded by its length as a 4-byte big-endian integer
    /// (the Collector file exporter's protobuf output).
    LengthPrefixed,
    /// The members of the array of a `{"KEY": [...]}` document (the Jaeger
    /// query API's `data`, an OTLP/JSON request's `resourceSpans`), cut as
    /// [`super::json_envelope`] says.
    Envelope(Envelope),
    /// JSON lines, until a line is longer than a window: when it is the
    /// envelope's document (a Jaeger `/api/v3` result holding one large
    /// trace, say), it is cut by member as [`Framing::Envelope`] cuts, and
    /// so is the rest of the input (each later line a document of its
    /// own), instead of the line being held whole.
    LinesOr(Envelope),
}

/// Bytes of input a window aims at. Large enough that its parallel chunks
/// keep both cores busy, small enough to be a constant next to the spans.
#[cfg(not(test))]
pub const WINDOW_BYTES: usize = 16 << 20;
/// Small in tests, so that modest inputs span several windows.
#[cfg(test)]
pub const WINDOW_BYTES: usize = 256 << 10;

impl Framing {
    /// The length of the longest prefix of `buf` made of whole records; at
    /// the end of the input (`eof`) everything left is one last piece. An
    /// envelope's pieces are found on the way, and kept for its reader.
    /// `from` says where `buf` starts (an envelope's scan needs to know);
    /// the same is returned for the rest of `buf`.
    fn cut(self, buf: &[u8], eof: bool, from: Resume) -> (usize, Vec<Piece>, Resume) {
        match self {
            Framing::Envelope(envelope) => {
                let scan = envelope.scan_from(buf, eof, from);
                (scan.len, scan.pieces, scan.next)
            }
            Framing::LinesOr(envelope) => match from {
                Resume::Start => match Framing::Lines.cut(buf, eof, from) {
                    // No line ends in the buffer: a line longer than it.
                    (0, _, _) if !eof => Framing::Envelope(envelope).cut(buf, eof, from),
                    lines => lines,
                },
                // Cut as an envelope once: the scan's place carries on.
                _ => Framing::Envelope(envelope).cut(buf, eof, from),
            },
            _ if eof => (buf.len(), Vec::new(), from),
            Framing::Lines => (
                memchr::memrchr(b'\n', buf).map_or(0, |nl| nl + 1),
                Vec::new(),
                from,
            ),
            Framing::LengthPrefixed => {
                let mut at = 0;
                while let Some(header) = buf.get(at..at + 4) {
                    let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
                    let end = at + 4 + length as usize;
                    if end > buf.len() {
                        break;
                    }
                    at = end;
                }
                (at, Vec::new(), from)
            }
        }
    }
}

/// One window: its bytes, and how many bytes and lines of the input
/// precede it (to locate problems in the whole input).
pub struct Window<'m> {
    /// Whole records: read into a buffer, or a part of a mapped file.
    pub bytes: Cow<'m, [u8]>,
    /// Input bytes before this window.
    pub offset: u64,
    /// Newlines before this window (0 for [`Framing::LengthPrefixed`],
    /// whose records are located by byte offset).
    pub lines: u64,
    /// Its pieces, where it was cut as an envelope (see
    /// [`Window::envelope`]); empty otherwise.
    pub pieces: Vec<Piece>,
    /// Per piece, the newlines in the window before its start.
    pub newlines: Vec<u64>,
    /// Where each of its newlines is, in a window without pieces of a
    /// stream of lines: found here, on the thread that reads ahead, which
    /// counts them anyway; the reader splits the window at them instead of
    /// searching it again on the thread that waits for it.
    pub line_ends: Option<Vec<usize>>,
}

impl Window<'_> {
    /// The envelope this window was cut as, if it was: always for
    /// [`Framing::Envelope`], and for [`Framing::LinesOr`] once a line was
    /// longer than a window (a window of lines has no pieces).
    pub fn envelope(&self, framing: Framing) -> Option<Envelope> {
        match framing {
            Framing::Envelope(envelope) => Some(envelope),
            Framing::LinesOr(envelope) if !self.pieces.is_empty() => Some(envelope),
            _ => None,
        }
    }
}

/// What a mapped source is given each window's bytes with, once they are
/// parsed (see [`Source::Mapped`]). Called on any thread of the pool: a
/// window is released while the next one is parsed.
pub type Release<'m> = Box<dyn Fn(&[u8]) + Send + Sync + 'm>;

/// Where a stream of windows takes its bytes from.
pub enum Source<'m> {
    /// `first` (bytes already read from `rest` for sniffing) followed by
    /// the rest of `rest`, read into buffers.
    Read {
        first: Vec<u8>,
        rest: Box<dyn Read + Send + 'm>,
    },
    /// The whole input, already in memory (a mapped file): each window is
    /// a part of it. Sniffing looked at its first `sniffed` bytes, which
    /// the first window takes in, as it would have read them. `release`
    /// is given each window's bytes once they are parsed, to hand their
    /// pages back.
    Mapped {
        bytes: &'m [u8],
        sniffed: usize,
        release: Release<'m>,
    },
}

/// Reads `source` as windows of about `window_bytes` (more when one
/// record is longer) cut by `framing`, on a thread of its own, handing
/// each to `each` in order. Stops at the first error of either side;
/// `io_error` turns a read error into the caller's.
pub fn windows<'m, E>(
    source: Source<'m>,
    framing: Framing,
    window_bytes: usize,
    io_error: impl Fn(io::Error) -> E,
    mut each: impl FnMut(&Window<'m>) -> Result<(), E>,
) -> Result<(), E> {
    // Two windows in flight: one being parsed, one being read. Parsed
    // windows' buffers come back to be refilled: a fresh 16 MiB buffer per
    // window would cost the kernel zeroing every page of the input again.
    let (send, receive) = mpsc::sync_channel::<io::Result<Window<'m>>>(1);
    let (recycle, recycled) = mpsc::channel::<Vec<u8>>();
    let (mut feed, release) = match source {
        Source::Read { first, rest } => (
            Feed::Read {
                rest,
                buf: first,
                recycled,
            },
            None,
        ),
        Source::Mapped {
            bytes,
            sniffed,
            release,
        } => (
            Feed::Mapped {
                all: bytes,
                start: 0,
                held: sniffed.min(bytes.len()),
            },
            Some(release),
        ),
    };
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let (mut offset, mut lines) = (0u64, 0u64);
            let window_bytes = window_bytes.max(1);
            let (mut ended, mut target) = (false, window_bytes);
            let mut from = Resume::Start;
            loop {
                if !ended {
                    match feed.fill(target) {
                        Ok(eof) => ended = eof,
                        Err(err) => {
                            let _ = send.send(Err(err));
                            return;
                        }
                    }
                }
                let (cut, pieces, next) = framing.cut(feed.held(), ended, from);
                // Past a bad piece the input is not read (its reader says so).
                let broken = matches!(pieces.last(), Some(Piece::Bad { .. }));
                if cut == 0 {
                    if ended {
                        return;
                    }
                    // One record longer than a window: read on until it ends.
                    target = feed.held().len() * 2;
                    continue;
                }
                target = window_bytes;
                from = next;
                let mut window = Window {
                    offset,
                    lines,
                    bytes: feed.take(cut),
                    pieces,
                    newlines: Vec::new(),
                    line_ends: None,
                };
                offset += window.bytes.len() as u64;
                // Binary frames are located by byte offset alone: a count of
                // the newline bytes in them (1% of a protobuf run) would
                // never be read. An envelope's are counted up to each piece
                // on the way, for its reader (see `json_envelope::Located`).
                match framing {
                    Framing::LengthPrefixed => {}
                    Framing::Lines | Framing::LinesOr(_) if window.pieces.is_empty() => {
                        let ends: Vec<usize> = memchr::memchr_iter(b'\n', &window.bytes).collect();
                        lines += ends.len() as u64;
                        window.line_ends = Some(ends);
                    }
                    Framing::Lines | Framing::Envelope(_) | Framing::LinesOr(_) => {
                        let (each, all) =
                            super::json_envelope::newlines(&window.bytes, &window.pieces);
                        window.newlines = each;
                        lines += all;
                    }
                }
                if send.send(Ok(window)).is_err() || broken {
                    return; // the parser stopped early, or the input broke off
                }
                if ended && feed.held().is_empty() {
                    return;
                }
            }
        });
        // A parsed window's pages are handed back while the next window
        // is parsed: handed back between the two (1.1 ms a 16 MiB window,
        // in the kernel), they left the other core idle, 60 ms a core on
        // the 700 MB OTLP/JSON set.
        let mut parsed: Option<&'m [u8]> = None;
        for window in receive {
            let window = window.map_err(&io_error)?;
            rayon::in_place_scope(|scope| {
                if let (Some(bytes), Some(release)) = (parsed.take(), &release) {
                    scope.spawn(move |_| release(bytes));
                }
                each(&window)
            })?;
            match window.bytes {
                Cow::Owned(buf) => {
                    let _ = recycle.send(buf);
                }
                Cow::Borrowed(bytes) => parsed = Some(bytes),
            }
        }
        if let (Some(bytes), Some(release)) = (parsed, &release) {
            release(bytes);
        }
        Ok(())
    })
}

/// The bytes read ahead of the windows cut so far.
enum Feed<'m> {
    /// In a buffer filled from `rest`; `recycled` holds the buffers of
    /// parsed windows, to be filled again.
    Read {
        rest: Box<dyn Read + Send + 'm>,
        buf: Vec<u8>,
        recycled: mpsc::Receiver<Vec<u8>>,
    },
    /// The `held` bytes of `all` from `start`: as much as a reader would
    /// have read by then, so that windows are cut where they would be.
    Mapped {
        all: &'m [u8],
        start: usize,
        held: usize,
    },
}

impl<'m> Feed<'m> {
    /// The bytes not yet in a window.
    fn held(&self) -> &[u8] {
        match self {
            Feed::Read { buf, .. } => buf,
            Feed::Mapped { all, start, held } => &all[*start..*start + *held],
        }
    }

    /// Holds `target` bytes, or as many as are left; whether the input
    /// ended.
    fn fill(&mut self, target: usize) -> io::Result<bool> {
        match self {
            Feed::Read { rest, buf, .. } => fill(rest, buf, target),
            Feed::Mapped { all, start, held } => {
                if *held >= target {
                    return Ok(false);
                }
                let left = all.len() - *start;
                *held = target.min(left);
                Ok(left < target)
            }
        }
    }

    /// The first `cut` bytes held, as a window's; the rest stay held.
    fn take(&mut self, cut: usize) -> Cow<'m, [u8]> {
        match self {
            Feed::Read { buf, recycled, .. } => {
                let mut tail = recycled.try_recv().unwrap_or_default();
                tail.clear();
                tail.extend_from_slice(&buf[cut..]);
                buf.truncate(cut);
                Cow::Owned(std::mem::replace(buf, tail))
            }
            Feed::Mapped { all, start, held } => {
                let window = &all[*start..*start + cut];
                *start += cut;
                *held -= cut;
                Cow::Borrowed(window)
            }
        }
    }
}

/// Reads from `source` until `buf` holds `target` bytes or the source
/// ends; whether it ended.
fn fill(source: &mut dyn Read, buf: &mut Vec<u8>, target: usize) -> io::Result<bool> {
    if buf.len() >= target {
        return Ok(false);
    }
    buf.reserve(target - buf.len());
    let mut limited = source.take((target - buf.len()) as u64);
    let before = buf.len();
    limited.read_to_end(buf)?;
    Ok(buf.len() - before < target - before)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8], framing: Framing) -> Vec<(u64, u64, Vec<u8>)> {
        collect_in(input, framing, WINDOW_BYTES)
    }

    fn collect_in(input: &[u8], framing: Framing, window: usize) -> Vec<(u64, u64, Vec<u8>)> {
        everything(read_source(input, 3), framing, window)
            .into_iter()
            .map(|(offset, lines, bytes, ..)| (offset, lines, bytes))
            .collect()
    }

    /// `input` as a reader's source, of which sniffing read the first
    /// `sniffed` bytes (all of them, when fewer).
    fn read_source(input: &[u8], sniffed: usize) -> Source<'static> {
        let (first, rest) = input.split_at(input.len().min(sniffed));
        Source::Read {
            first: first.to_vec(),
            rest: Box::new(std::io::Cursor::new(rest.to_vec())),
        }
    }

    /// What a window holds: its offset, lines before it, bytes, pieces,
    /// newlines before each piece, and line ends.
    type Seen = (u64, u64, Vec<u8>, Vec<Piece>, Vec<u64>, Option<Vec<usize>>);

    /// Everything `windows` hands over from `source`, in order.
    fn everything(source: Source<'_>, framing: Framing, window: usize) -> Vec<Seen> {
        let mut out = Vec::new();
        windows::<io::Error>(
            source,
            framing,
            window,
            |e| e,
            |w| {
                out.push((
                    w.offset,
                    w.lines,
                    w.bytes.to_vec(),
                    w.pieces.clone(),
                    w.newlines.clone(),
                    w.line_ends.clone(),
                ));
                Ok(())
            },
        )
        .unwrap();
        out
    }

    /// An input of each framing, from `seed`: JSON lines (some longer
    /// than small windows), a Jaeger document whose strings hold brackets
    /// and newlines, or length-prefixed frames.
    fn input_of(framing: Framing, seed: u64, records: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let text = |i: usize| "x]}\\n{\"".repeat((seed as usize + i) % 40);
        match framing {
            Framing::Lines | Framing::LinesOr(_) => {
                for i in 0..records {
                    out.extend_from_slice(format!("{{\"a\":\"{}\"}}\n", text(i)).as_bytes());
                }
            }
            Framing::Envelope(_) => {
                out.extend_from_slice(b"{\"data\": [\n");
                for i in 0..records {
                    if i > 0 {
                        out.extend_from_slice(b",\n");
                    }
                    out.extend_from_slice(
                        format!("{{\"traceID\": \"{i}\", \"spans\": [\"{}\"]}}", text(i))
                            .as_bytes(),
                    );
                }
                out.extend_from_slice(b"\n]}\n");
            }
            Framing::LengthPrefixed => {
                for i in 0..records {
                    let frame = text(i).into_bytes();
                    out.extend_from_slice(&(frame.len() as u32).to_be_bytes());
                    out.extend_from_slice(&frame);
                }
            }
        }
        out
    }

    /// The windows of `input` read, and mapped (with the ranges released).
    fn both_ways(
        input: &[u8],
        framing: Framing,
        window: usize,
        sniffed: usize,
    ) -> (Vec<Seen>, Vec<Seen>, Vec<std::ops::Range<usize>>) {
        let sniffed = sniffed.min(input.len());
        let read = everything(read_source(input, sniffed), framing, window);
        let released = std::sync::Mutex::new(Vec::new());
        let mapped = everything(
            Source::Mapped {
                bytes: input,
                sniffed,
                release: Box::new(|bytes: &[u8]| {
                    let at = bytes.as_ptr() as usize - input.as_ptr() as usize;
                    released.lock().unwrap().push(at..at + bytes.len());
                }),
            },
            framing,
            window,
        );
        (mapped, read, released.into_inner().unwrap())
    }

    const FRAMINGS: [Framing; 4] = [
        Framing::Lines,
        Framing::LinesOr(Envelope::OTLP),
        Framing::Envelope(Envelope::JAEGER),
        Framing::LengthPrefixed,
    ];

    #[test]
    fn at_every_window_size_a_mapped_input_is_cut_as_a_read_one() {
        // Every size, so that windows end exactly at the input's end too,
        // where a reader learns of the end only on its next read; and
        // inputs cut short, whose last record is left unfinished.
        for framing in FRAMINGS {
            let whole = input_of(framing, 3, 6);
            for input in [&whole[..], &whole[..whole.len() - 2]] {
                for window in 1..=input.len() + 1 {
                    for sniffed in [0, 3, input.len() / 2] {
                        let (mapped, read, _) = both_ways(input, framing, window, sniffed);
                        assert_eq!(mapped, read, "{framing:?} {window} {sniffed}");
                    }
                }
            }
        }
    }

    proptest::proptest! {
        /// A mapped input is cut into exactly the windows (bytes, places,
        /// pieces, newlines) a reader of the same bytes is cut into, and
        /// each window is released once, in order, after it is parsed.
        #[test]
        fn a_mapped_input_is_cut_as_a_read_one_is(
            which in 0..4usize,
            seed in 0..1_000u64,
            records in 0..60usize,
            window in 1..600usize,
            sniffed in 0..2_000usize,
        ) {
            let framing = FRAMINGS[which];
            let input = input_of(framing, seed, records);
            let (mapped, read, released) = both_ways(&input, framing, window, sniffed);
            proptest::prop_assert_eq!(&mapped, &read);
            let windows: Vec<_> = mapped
                .iter()
                .map(|w| w.0 as usize..w.0 as usize + w.2.len())
                .collect();
            proptest::prop_assert_eq!(released, windows);
        }
    }

    /// An OTLP/JSON request of one span per line, `lines` lines, with a
    /// malformed line at `bad`.
    fn json_lines(lines: usize, bad: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for line in 1..=lines {
            if line == bad {
                out.extend_from_slice(b"{\"resourceSpans\": [oops\n");
                continue;
            }
            out.extend_from_slice(format!(
                r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"svc-{}"}}}}]}},"scopeSpans":[{{"spans":[{{"traceId":"{:032x}","spanId":"{:016x}","name":"op","startTimeUnixNano":"1000","endTimeUnixNano":"2000"}}]}}]}}]}}"#,
                line % 7,
                line / 3 + 1,
                line
            ).as_bytes());
            out.push(b'\n');
        }
        out
    }

    #[test]
    fn a_stream_of_windows_reads_as_the_whole_input_does() {
        use crate::ingest::{IngestOptions, InputSource, ingest};
        let bytes = json_lines(4000, 3500);
        assert!(bytes.len() > 3 * WINDOW_BYTES, "spans several windows");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("big.jsonl");
        std::fs::write(&file, &bytes).unwrap();
        let streamed = ingest(&[InputSource::File(file)], &IngestOptions::default()).unwrap();

        let strings = crate::model::Interner::new();
        let (whole, quality) = crate::ingest::test_support::read_with(
            &crate::ingest::otlp::json::OtlpJsonReader,
            &strings,
            &bytes,
        )
        .unwrap();
        assert_eq!(streamed.set.span_count(), whole.len());
        assert_eq!(streamed.set.span_count(), 3999);
        let located: Vec<_> = streamed
            .set
            .quality
            .examples
            .iter()
            .map(|p| p.location.clone())
            .collect();
        assert_eq!(located, [crate::model::Location::Line(3500)]);
        assert_eq!(quality.examples[0].location, located[0]);
        // Every span knows the line it was read on (its id is its line
        // number), across windows, for examples made when traces are built.
        for span in streamed.set.traces.iter().flat_map(|t| &t.spans) {
            assert_eq!(
                span.origin.location(),
                Some(crate::model::Location::Line(span.span_id.0)),
                "{span:?}"
            );
            let file = span.origin.file().map(|f| streamed.set.strings.resolve(f));
            assert!(file.is_some_and(|f| f.ends_with("big.jsonl")), "{file:?}");
        }
    }

    #[test]
    fn an_envelope_is_not_read_past_where_it_breaks() {
        // A source that fails if asked for more than its first 4 KiB: the
        // stream must stop at the bad piece, not read (and hold) the rest.
        struct Fused {
            data: Vec<u8>,
            at: usize,
        }
        impl Read for Fused {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.at >= 4096 {
                    return Err(io::Error::other("read past the break"));
                }
                let n = buf.len().min(self.data.len() - self.at).min(4096 - self.at);
                buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
                self.at += n;
                Ok(n)
            }
        }
        let mut data = b"{\"data\": [1, 2 3, 4]}".to_vec();
        data.resize(1 << 20, b' ');
        let mut pieces = Vec::new();
        windows::<io::Error>(
            Source::Read {
                first: Vec::new(),
                rest: Box::new(Fused { data, at: 0 }),
            },
            Framing::Envelope(Envelope::JAEGER),
            64,
            |e| e,
            |w| {
                pieces.extend(w.pieces.iter().cloned());
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(pieces.len(), 3, "{pieces:?}");
        assert!(matches!(pieces[2], Piece::Bad { at: 15, .. }), "{pieces:?}");
    }

    #[test]
    fn lines_are_cut_after_the_last_newline() {
        assert_eq!(Framing::Lines.cut(b"{}\n{\"a\"", false, Resume::Start).0, 3);
        assert_eq!(Framing::Lines.cut(b"{\"a\"", false, Resume::Start).0, 0);
        assert_eq!(Framing::Lines.cut(b"{\"a\"", true, Resume::Start).0, 4);
    }

    #[test]
    fn lines_are_cut_as_lines_until_one_is_longer_than_the_buffer() {
        let otlp = Framing::LinesOr(Envelope::OTLP);
        // A line ends in the buffer: lines.
        let (cut, pieces, next) = otlp.cut(b"{}\n{\"resourceSpans\": [1, 2", false, Resume::Start);
        assert_eq!((cut, pieces.len(), next), (3, 0, Resume::Start));
        // None does: the request is cut after its last whole member...
        let long = b"{\"result\": {\"resourceSpans\": [1, 2, 3";
        let (cut, pieces, next) = otlp.cut(long, false, Resume::Start);
        assert_eq!((cut, pieces.len()), (long.len() - 3, 2));
        assert_eq!(next, Resume::AfterMember { depth: 2, cut: 0 });
        // ...and from there the input is cut as an envelope, each later line
        // a request or a document of its own.
        let rest = b", 3]}}\n{\"other\": 1}\n{\"resourceSpans\": [4]}\n";
        let (cut, pieces, _) = otlp.cut(rest, true, next);
        assert_eq!(cut, rest.len());
        let kinds: Vec<_> = pieces
            .iter()
            .map(|p| match p {
                Piece::Member(_) => "member",
                Piece::Lead(_) => "lead",
                Piece::Tail(_) => "tail",
                Piece::Document(_) => "document",
                Piece::Cut { .. } => "cut",
                Piece::Bad { .. } => "bad",
            })
            .collect();
        assert_eq!(kinds, ["member", "tail", "document", "member", "tail"]);
        // At the end of the input the rest is lines, however long.
        assert_eq!(
            otlp.cut(long, true, Resume::Start),
            (long.len(), vec![], Resume::Start)
        );
    }

    #[test]
    fn frames_are_cut_after_the_last_whole_frame() {
        let buf = [0, 0, 0, 2, 7, 7, 0, 0, 0, 5, 1];
        assert_eq!(Framing::LengthPrefixed.cut(&buf, false, Resume::Start).0, 6);
        assert_eq!(
            Framing::LengthPrefixed
                .cut(&buf[..3], false, Resume::Start)
                .0,
            0
        );
        assert_eq!(
            Framing::LengthPrefixed.cut(&buf, true, Resume::Start).0,
            buf.len()
        );
    }

    #[test]
    fn windows_cover_the_input_in_order_with_their_positions() {
        let input = b"{\"a\":1}\n{\"b\":2}\n{\"c\":3}".to_vec();
        let got = collect(&input, Framing::Lines);
        let joined: Vec<u8> = got.iter().flat_map(|(_, _, b)| b.clone()).collect();
        assert_eq!(joined, input);
        assert_eq!(got[0].0, 0);
        assert_eq!(got[0].1, 0);
    }

    #[test]
    fn small_windows_hold_whole_records_of_about_their_size() {
        let input: Vec<u8> = (0..200)
            .flat_map(|i| format!("{{\"n\":{i}}}\n").into_bytes())
            .collect();
        let got = collect_in(&input, Framing::Lines, 64);
        assert!(got.len() > 20, "{} windows", got.len());
        for (_, _, bytes) in &got {
            assert!(bytes.len() <= 64, "{}", bytes.len());
            assert_eq!(bytes.last(), Some(&b'\n'));
        }
        let joined: Vec<u8> = got.iter().flat_map(|(_, _, b)| b.clone()).collect();
        assert_eq!(joined, input);
    }

    #[test]
    fn a_record_longer_than_a_window_is_kept_whole() {
        let mut input = vec![b'x'; WINDOW_BYTES + 10];
        input.extend_from_slice(b"\n{}\n");
        let got = collect(&input, Framing::Lines);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].2, input);
    }

    #[test]
    fn each_window_of_lines_knows_where_its_newlines_are() {
        let input: Vec<u8> = (0..200)
            .flat_map(|i| format!("{{\"n\":{i}}}\n").into_bytes())
            .collect();
        for framing in [Framing::Lines, Framing::LinesOr(Envelope::OTLP)] {
            let mut seen = 0;
            windows::<io::Error>(
                read_source(&input, 3),
                framing,
                64,
                |e| e,
                |w| {
                    let ends: Vec<usize> = memchr::memchr_iter(b'\n', &w.bytes).collect();
                    assert_eq!(w.line_ends.as_ref(), Some(&ends), "{framing:?}");
                    seen += 1;
                    Ok(())
                },
            )
            .unwrap();
            assert!(seen > 20, "{seen} windows");
        }
    }

    #[test]
    fn later_windows_know_the_lines_and_bytes_before_them() {
        let line = vec![b'y'; 1 << 20];
        let mut input = Vec::new();
        for _ in 0..40 {
            input.extend_from_slice(&line);
            input.push(b'\n');
        }
        let got = collect(&input, Framing::Lines);
        assert!(got.len() >= 2);
        let (offset, lines, _) = &got[1];
        assert_eq!(*offset as usize, got[0].2.len());
        assert_eq!(
            *lines as usize,
            got[0].2.iter().filter(|&&b| b == b'\n').count()
        );
    }
}
