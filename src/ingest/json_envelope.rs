//! Cutting a large `{"KEY": [member, ...], ...}` document, or a large
//! `[member, ...]` one, into windows of whole members, so that it is read a
//! window at a time like JSON lines instead of held whole: the Jaeger query
//! API's `{"data": [traces]}`, an OTLP/JSON request's
//! `{"resourceSpans": [...]}`, X-Ray's `{"Traces": [...]}`, and a bare
//! array of Jaeger traces, Zipkin traces or Sentry events (see
//! [`Envelope`]).
//!
//! The scan only follows structure (strings, brackets, commas); it does not
//! validate. Each member is parsed, and so checked, by its reader; a window
//! never needs to be valid JSON on its own. Every cut but the last is made
//! just after a member, where only `,` (another member) or `]` (the end of
//! the array) can follow; the scan carries from one window to the next only
//! how deep that array is ([`Resume`]). A Jaeger trace larger than
//! [`CUT_BYTES`] is cut further, between its spans ([`Piece::Cut`]), and a
//! cut may then fall just after a span. Several envelopes in a row (JSON lines of envelopes, or
//! concatenated documents) are read the same way; for an envelope that
//! allows it ([`Envelope::OTLP`]), an object of another shape between them
//! is a [`Piece::Document`] of its own. Where the input stops having this
//! shape, the rest of it is one bad piece and is not read.

use std::ops::Range;

use super::Sink;
use super::json_brackets::{close, string_end};
use super::json_records::Record;
use crate::model::Location;

/// The array whose members an envelope's records are: a document that
/// starts `{"KEY": [`, or one that is the array itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// The array's member name; empty for a document that is the array.
    key: &'static str,
    /// The same, quoted as JSON, and the other names it may have.
    quoted: &'static [&'static [u8]],
    /// Whether an object of another shape may come between two documents
    /// (as a [`Piece::Document`]) rather than end the shape.
    documents: bool,
    /// Quoted names of an object the document may be wrapped in, one
    /// level deep: `{"WRAPPER": {"KEY": [`.
    wrappers: &'static [&'static [u8]],
    /// The quoted name of an array inside each member, by whose members a
    /// member too large for a window is cut (see [`Piece::Cut`]): the
    /// spans of a Jaeger trace.
    parts: Option<&'static [u8]>,
}

impl Envelope {
    /// The Jaeger query API's answer (and the Jaeger UI's download):
    /// `{"data": [trace, ...], "errors": ...}`.
    pub const JAEGER: Envelope = Envelope {
        key: "data",
        quoted: &[b"\"data\""],
        documents: false,
        wrappers: &[],
        parts: Some(b"\"spans\""),
    };
    /// Jaeger exports one after another: JSON lines of them once a line is
    /// longer than a window (see [`super::Framing::LinesOr`]), or a large
    /// document that is no `{"data": [...]}` (a bare trace).
    /// [`Envelope::JAEGER`], with each object of another shape a
    /// [`Piece::Document`] (a bare trace larger than [`CUT_BYTES`] cut
    /// into parts as a member is).
    pub const JAEGER_LINES: Envelope = Envelope {
        documents: true,
        ..Envelope::JAEGER
    };
    /// An OTLP/JSON request whose first member is its resource spans:
    /// `{"resourceSpans": [ResourceSpans, ...]}`, also under the protobuf
    /// name `resource_spans` or Grafana Tempo's `batches` (its
    /// `/api/traces/{id}` answer, one trace, can be large). The request
    /// may be wrapped as Tempo's `/api/v2/traces/{id}` answers,
    /// `{"trace": {...}, "status": ...}`, or as each result of Jaeger's
    /// `/api/v3` is, `{"result": {...}}`. Other requests may come between
    /// such ones (JSON lines of requests, some written with other member
    /// names or another member first), each a [`Piece::Document`].
    pub const OTLP: Envelope = Envelope {
        key: "resourceSpans",
        quoted: &[b"\"resourceSpans\"", b"\"resource_spans\"", b"\"batches\""],
        documents: true,
        wrappers: &[b"\"trace\"", b"\"result\""],
        parts: None,
    };
    /// AWS X-Ray's `BatchGetTraces` output: `{"Traces": [trace, ...],
    /// "UnprocessedTraceIds": [...]}`.
    pub const XRAY: Envelope = Envelope {
        key: "Traces",
        quoted: &[b"\"Traces\""],
        documents: false,
        wrappers: &[],
        parts: None,
    };
    /// JSON lines of `BatchGetTraces` outputs once a line is longer than
    /// a window (see [`super::Framing::LinesOr`]): [`Envelope::XRAY`],
    /// with each later line of another shape (a segment document) a
    /// [`Piece::Document`].
    pub const XRAY_LINES: Envelope = Envelope {
        documents: true,
        ..Envelope::XRAY
    };
    /// A document that is one array, `[member, ...]`: a bare array of
    /// Jaeger traces, of Zipkin traces (`/api/v2/traces`) or of Sentry
    /// events. Its end is its `]` alone, a [`Piece::Tail`] with nothing
    /// for a reader to check.
    pub const ARRAY: Envelope = Envelope {
        key: "",
        quoted: &[],
        documents: false,
        wrappers: &[],
        parts: None,
    };
    /// JSON lines of Zipkin or Sentry records once a line is longer than
    /// a window (see [`super::Framing::LinesOr`]): [`Envelope::ARRAY`]
    /// (a line `[span, ...]`, `[[span, ...], ...]` or `[event, ...]`),
    /// with each later line that is an object (a span, an event) a
    /// [`Piece::Document`].
    pub const ARRAY_LINES: Envelope = Envelope {
        documents: true,
        ..Envelope::ARRAY
    };
    /// A bare array of Jaeger traces, `[trace, ...]`: an
    /// [`Envelope::ARRAY`] whose members too large for a window are cut by
    /// their spans, as [`Envelope::JAEGER`]'s are.
    pub const JAEGER_ARRAY: Envelope = Envelope {
        parts: Some(b"\"spans\""),
        ..Envelope::ARRAY
    };

    /// The array's member name; empty for [`Envelope::ARRAY`].
    pub fn key(self) -> &'static str {
        self.key
    }

    /// Whether the array is a member of an object (whose other members
    /// are in its [`Piece::Tail`]), not the whole document.
    pub fn keyed(self) -> bool {
        !self.key.is_empty()
    }

    /// Whether `head` is an [`Envelope::ARRAY`] whose first member starts
    /// with `open` (`b'{'` for objects, `b'['` for arrays).
    pub fn array_of(head: &[u8], open: u8) -> bool {
        let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
        let at = skip_space(head, 0);
        head.get(at) == Some(&b'[') && head.get(skip_space(head, at + 1)) == Some(&open)
    }

    /// Whether `head` starts with `{"KEY": [` (after a byte-order mark and
    /// white space), the shape [`Envelope::scan`] cuts.
    pub fn starts(self, head: &[u8]) -> bool {
        let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
        let at = skip_space(head, 0);
        matches!(self.head(head, at), Head::Found { .. })
    }

    /// The pieces of `bytes` when it is one whole document of this shape:
    /// its lead if it has one, its members, then its end (`], ...}`, whose
    /// range is returned too, for the reader to check); `None` otherwise.
    pub fn whole(self, bytes: &[u8]) -> Option<(Vec<Piece>, Range<usize>)> {
        if !self.starts(bytes) {
            return None;
        }
        // A document read whole is in memory already: its members are
        // read whole too.
        let whole = Envelope {
            parts: None,
            ..self
        };
        let pieces = whole.scan(bytes, true, true).pieces;
        let Some((Piece::Tail(end), members)) = pieces.split_last() else {
            return None;
        };
        let end = end.clone();
        let members = match members.split_first() {
            Some((Piece::Lead(_), members)) => members,
            _ => members,
        };
        members
            .iter()
            .all(|p| matches!(p, Piece::Member(_)))
            .then_some((pieces, end))
    }
}

/// A member larger than this is cut into parts ([`Piece::Cut`]) where its
/// envelope says how: one read a window at a time, wherever it lies, so
/// that the spans read, and where each is said to be, are the same in
/// windows of any size (they are never smaller: see
/// [`super::memory::MIN_WINDOW`]).
pub const CUT_BYTES: usize = 256 << 10;

/// One piece of a window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// A document's head, from its `{` to its array's `[`, when members
    /// come before the array (`{"total": 1, "data": [`, `{"status": "ok",
    /// "trace": {"resourceSpans": [`): for its reader to read those
    /// members, as [`Envelope::lead_as_document`] makes them a document.
    Lead(Range<usize>),
    /// One member of the array.
    Member(Range<usize>),
    /// From the array's closing `]` to its document's closing `}`: the
    /// document's other members (`], "errors": [...]}`, and a wrapper's
    /// after its `}`: see [`Envelope::tail_as_document`]); the `]` alone for an
    /// [`Envelope::ARRAY`].
    Tail(Range<usize>),
    /// A whole object of another shape between two documents, for its
    /// reader to read as a record of its own (only where the envelope
    /// allows it: see [`Envelope::OTLP`]).
    Document(Range<usize>),
    /// A part of a member larger than [`CUT_BYTES`], cut by the members
    /// of its own array (where the envelope names one: see
    /// [`Envelope::JAEGER`]), so that it is read a window at a time even
    /// when larger than a window.
    Cut {
        /// The bytes of the part.
        range: Range<usize>,
        /// Which part.
        part: Part,
        /// Which member of the input cut into parts this is (0 for the
        /// first), so that its parts in different windows are told to be
        /// one member's.
        member: u64,
    },
    /// Where the input stops having this shape; the rest of the window
    /// (which then runs to the end of the input) is not read.
    Bad {
        /// Offset in the window.
        at: usize,
        /// What was expected there.
        expected: Expected,
    },
}

/// A part of a member cut into parts ([`Piece::Cut`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// From the member's `{` to its array's `[`, with the members before
    /// the array (a Jaeger trace's `{"traceID": "...", "spans": [`).
    Head,
    /// One member of the array (a span).
    Inner,
    /// From the array's `]` to the member's `}`, with the members after
    /// the array (`], "processes": {...}, "warnings": null}`).
    Tail,
}

/// What a scan expected where the input stopped having an envelope's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    /// `{"KEY": [`, the start of a document.
    Head,
    /// Another document, or the end of the input.
    HeadOrEnd,
    /// `,` or `]` after a member.
    CommaOrClose,
    /// A member.
    Value,
    /// The rest of a value the input ends inside.
    CompleteValue,
}

impl Expected {
    /// For a message: "expected {this}".
    pub fn describe(self, envelope: Envelope) -> String {
        let key = envelope.key;
        let head = if envelope.keyed() {
            format!("`{{\"{key}\": [`")
        } else {
            "`[`".to_string()
        };
        let array = if envelope.keyed() {
            format!("the {key} array")
        } else {
            "the array".to_string()
        };
        match self {
            Expected::Head => head,
            Expected::HeadOrEnd => format!("{head} or the end of the input"),
            Expected::CommaOrClose => format!("`,` or `]` after a member of {array}"),
            Expected::Value => "a JSON value".to_string(),
            Expected::CompleteValue => "a complete JSON value".to_string(),
        }
    }
}

/// The whole pieces at the start of a buffer.
#[derive(Debug, Default)]
pub struct Scan {
    /// Their length: the buffer is cut here.
    pub len: usize,
    /// The pieces, in order.
    pub pieces: Vec<Piece>,
    /// Where the rest of the buffer starts in the document, for the scan
    /// of the next window.
    pub next: Resume,
}

/// Where a buffer starts in the input, for [`Envelope::scan_from`]. Each
/// but the first carries how many members were cut into parts so far
/// ([`Piece::Cut`]), so that every such member has a number of its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Resume {
    /// At the start of the input.
    #[default]
    Start,
    /// Just after a member of an array whose `]` leaves `depth` objects
    /// open (2 in a wrapper).
    AfterMember { depth: u64, cut: u64 },
    /// Just after an inner member of the last member cut into parts, in
    /// such an array (`depth` 0: a document cut into parts, in none).
    InMember { depth: u64, cut: u64 },
    /// Between two documents: after one's end, where another document or
    /// the end of the input may come.
    Between { cut: u64 },
}

impl Envelope {
    /// A [`Piece::Tail`] made a document of its own, for its reader to
    /// check and read: its `]` becomes `{"": 0`, a member no reader looks
    /// at (so what may follow it is exactly what may follow the array, and
    /// a missing or trailing comma is refused as it would be whole), and a
    /// wrapper it closes gets its `{"WRAPPER":` back, so that what the
    /// request holds after its array is read inside it, as whole. The first
    /// wrapper's name stands for each: readers read inside every wrapper
    /// alike. No newline is added, so lines stay.
    pub fn tail_as_document(self, tail: &[u8]) -> Vec<u8> {
        // The objects the tail closes that it did not open.
        let (_, closes) = balance(tail.get(1..).unwrap_or_default());
        let mut out = Vec::with_capacity(tail.len() + 16);
        if let Some(wrapper) = self.wrappers.first() {
            for _ in 1..closes {
                out.extend_from_slice(&[&b"{"[..], wrapper, b":"].concat());
            }
        }
        out.extend_from_slice(b"{\"\": 0");
        out.extend_from_slice(tail.get(1..).unwrap_or_default());
        out
    }
}

impl Envelope {
    /// A [`Piece::Lead`] made a document of its own, for its reader to read
    /// as a whole document of its format: the head with its array empty and
    /// the objects it opens closed, `{"total": 1, "data": []}`. No newline
    /// is added, so lines stay.
    pub fn lead_as_document(lead: &[u8]) -> Vec<u8> {
        // The objects it opens, past its array's `[`.
        let opens = balance(lead).0.saturating_sub(1);
        let mut out = Vec::with_capacity(lead.len() + 1 + opens);
        out.extend_from_slice(lead);
        out.push(b']');
        out.extend(std::iter::repeat_n(b'}', opens));
        out
    }
}

/// The brackets `bytes` opens and leaves open, and those it closes that it
/// did not open, strings aside.
fn balance(bytes: &[u8]) -> (usize, usize) {
    let (mut open, mut closes, mut at) = (0usize, 0usize, 0);
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                at = string_end(bytes, at + 1).unwrap_or(bytes.len());
                continue;
            }
            b'{' | b'[' => open += 1,
            b'}' | b']' if open > 0 => open -= 1,
            b'}' | b']' => closes += 1,
            _ => {}
        }
        at += 1;
    }
    (open, closes)
}

/// The documents [`Envelope::lead_as_document`] makes of a window's leads,
/// each with its line.
pub struct LeadDocuments(Vec<(u64, Vec<u8>)>);

impl LeadDocuments {
    /// The documents as records.
    pub fn records(&self) -> Vec<Record<'_>> {
        self.0
            .iter()
            .map(|(line, bytes)| Record { line: *line, bytes })
            .collect()
    }
}

/// The pieces of a window as records, each with its line.
#[derive(Debug)]
pub struct Records<'a> {
    /// The shape they were cut from.
    pub envelope: Envelope,
    /// The array's members.
    pub members: Vec<Record<'a>>,
    /// The documents' heads that hold members before the array
    /// ([`Piece::Lead`]).
    pub leads: Vec<Record<'a>>,
    /// The documents' ends (`], ...}`).
    pub tails: Vec<Record<'a>>,
    /// Whole documents of another shape ([`Piece::Document`]).
    pub documents: Vec<Record<'a>>,
    /// The parts of members cut into parts ([`Piece::Cut`]), in order.
    pub cuts: Vec<Cut<'a>>,
    /// Where the input stopped having the shape (its line), and what was
    /// expected there.
    pub bad: Option<(u64, Expected)>,
}

/// A part of a member cut into parts, as a record.
#[derive(Debug)]
pub struct Cut<'a> {
    /// Which part.
    pub part: Part,
    /// Which member of the input (see [`Piece::Cut`]).
    pub member: u64,
    /// Its bytes and line.
    pub record: Record<'a>,
}

impl Records<'_> {
    /// The leads, each made a document of its own.
    pub fn lead_documents(&self) -> LeadDocuments {
        let document = |lead: &Record<'_>| (lead.line, Envelope::lead_as_document(lead.bytes));
        LeadDocuments(self.leads.iter().map(document).collect())
    }

    /// Counts where the input stopped having the envelope's shape, if it
    /// did, as one unreadable record in `sink` (whose message names `what`
    /// the reader expected, as "an OTLP/JSON request"); that location and
    /// message.
    pub fn count_broken(&self, what: &str, sink: &mut Sink<'_>) -> Option<(Location, String)> {
        let (line, expected) = self.bad?;
        let message = format!(
            "expected {} in {what}; the rest of the input is not read",
            expected.describe(self.envelope)
        );
        sink.skip(Location::Line(line), message.clone());
        Some((Location::Line(line), message))
    }
}

/// The pieces of a window, with the newlines before each: the stream
/// counts them while cutting the window (it counts the window's newlines
/// anyway), so that the parsing thread does not count them again.
#[derive(Clone, Copy, Debug)]
pub struct Located<'a> {
    /// The shape they were cut from.
    pub envelope: Envelope,
    /// The pieces, in order.
    pub pieces: &'a [Piece],
    /// Per piece, the newlines in the window before its start.
    pub newlines: &'a [u64],
}

impl Piece {
    /// Where the piece starts in its window.
    fn start(&self) -> usize {
        match self {
            Piece::Member(range)
            | Piece::Lead(range)
            | Piece::Tail(range)
            | Piece::Document(range)
            | Piece::Cut { range, .. } => range.start,
            Piece::Bad { at, .. } => *at,
        }
    }
}

/// Per piece of `bytes`, the newlines before its start; and the newlines
/// in all of `bytes`.
pub fn newlines(bytes: &[u8], pieces: &[Piece]) -> (Vec<u64>, u64) {
    let (mut before, mut counted) = (0u64, 0usize);
    let mut count = |to: usize| {
        before += memchr::memchr_iter(b'\n', &bytes[counted..to]).count() as u64;
        counted = to;
        before
    };
    let each = pieces.iter().map(|p| count(p.start())).collect();
    (each, count(bytes.len()))
}

/// The `pieces` of `bytes`, cut as `envelope`, whose first line is
/// `first_line`, as records.
pub fn records<'a>(
    envelope: Envelope,
    bytes: &'a [u8],
    first_line: u64,
    pieces: &[Piece],
) -> Records<'a> {
    let (newlines, _) = newlines(bytes, pieces);
    located_records(
        bytes,
        first_line,
        Located {
            envelope,
            pieces,
            newlines: &newlines,
        },
    )
}

/// [`records`] of pieces whose newlines are counted already.
pub fn located_records<'a>(bytes: &'a [u8], first_line: u64, located: Located<'_>) -> Records<'a> {
    let mut out = Records {
        envelope: located.envelope,
        members: Vec::new(),
        leads: Vec::new(),
        tails: Vec::new(),
        documents: Vec::new(),
        cuts: Vec::new(),
        bad: None,
    };
    for (piece, &before) in located.pieces.iter().zip(located.newlines) {
        let line = first_line + before;
        match piece {
            Piece::Member(range) => out.members.push(Record {
                line,
                bytes: &bytes[range.clone()],
            }),
            Piece::Lead(range) => out.leads.push(Record {
                line,
                bytes: &bytes[range.clone()],
            }),
            Piece::Tail(range) => out.tails.push(Record {
                line,
                bytes: &bytes[range.clone()],
            }),
            Piece::Document(range) => out.documents.push(Record {
                line,
                bytes: &bytes[range.clone()],
            }),
            Piece::Cut {
                range,
                part,
                member,
            } => out.cuts.push(Cut {
                part: *part,
                member: *member,
                record: Record {
                    line,
                    bytes: &bytes[range.clone()],
                },
            }),
            Piece::Bad { expected, .. } => out.bad = Some((line, *expected)),
        }
    }
    out
}

/// Where a scan is in the document.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before a document (the input's start, or after a document's `}`):
    /// only `{"data": [` (`[` for an [`Envelope::ARRAY`]) or the end of the
    /// input may come.
    Outside,
    /// Just after `{"data": [`: a member (with no comma before it) or `]`.
    Opened,
    /// Just after a member: `,` and another member, or `]`.
    AfterMember,
    /// Just after the `[` of the array inside a member cut into parts.
    PartsOpened,
    /// Just after a member of that array.
    AfterPart,
}

impl Envelope {
    /// Scans `buf` for whole pieces; `at_start` when `buf` starts at the
    /// start of the input, else it starts just after a member of an array
    /// in no wrapper (every cut but the last is made after a member, so
    /// every later window starts there; [`Envelope::scan_from`] says in
    /// what).
    ///
    /// At the end of the input (`eof`) every byte is consumed: what does not
    /// have the expected shape is one [`Piece::Bad`] running to the end. Before
    /// the end, a piece that is certainly malformed is a [`Piece::Bad`] that
    /// takes the rest of the buffer (and the stream stops reading: the rest of
    /// the input is not this shape); one that is only incomplete ends the scan
    /// at the last member, so that the window grows until it completes.
    pub fn scan(self, buf: &[u8], eof: bool, at_start: bool) -> Scan {
        let from = if at_start {
            Resume::Start
        } else {
            Resume::AfterMember { depth: 1, cut: 0 }
        };
        self.scan_from(buf, eof, from)
    }

    /// [`Envelope::scan`] of a buffer that starts `from` there: the start
    /// of the input, or the cut a previous scan made ([`Scan::next`]).
    pub fn scan_from(self, buf: &[u8], eof: bool, from: Resume) -> Scan {
        let mut out = Scan {
            next: from,
            ..Scan::default()
        };
        // `depth`: how many objects the array's `]` leaves open: 1, or 2 in
        // a wrapper (0 while a document is cut into parts, in no array).
        // `cut`: the members cut into parts so far.
        let (mut at, mut state, mut depth, mut cut) = match from {
            Resume::Start => {
                let bom = if buf.starts_with(b"\xEF\xBB\xBF") {
                    3
                } else {
                    0
                };
                (bom, State::Outside, 1, 0)
            }
            Resume::AfterMember { depth, cut } => (0, State::AfterMember, depth, cut),
            Resume::InMember { depth, cut } => (0, State::AfterPart, depth, cut),
            Resume::Between { cut } => (0, State::Outside, 1, cut),
        };
        // The pieces up to the last point the buffer may be cut at.
        let mut committed = 0;
        let bad = |out: &mut Scan, at: usize, expected: Expected| {
            out.pieces.push(Piece::Bad { at, expected });
            out.len = buf.len();
        };
        loop {
            let p = skip_space(buf, at);
            if p == buf.len() {
                if eof && state != State::Outside {
                    // The input ends inside the array: a truncated
                    // document, whose members so far are read.
                    bad(&mut out, p, Expected::CommaOrClose);
                } else if eof {
                    out.len = buf.len();
                } else {
                    out.pieces.truncate(committed);
                }
                return out;
            }
            let member_at = match (state, buf[p]) {
                (State::PartsOpened | State::AfterPart, b']') => match close(buf, p + 1, 1) {
                    Some(end) => {
                        out.pieces.push(Piece::Cut {
                            range: p..end,
                            part: Part::Tail,
                            member: cut - 1,
                        });
                        // A document cut into parts (depth 0: in no array)
                        // ends here; a member is followed by `,` or `]`.
                        let next;
                        (at, state, next) = if depth == 0 {
                            (end, State::Outside, Resume::Between { cut })
                        } else {
                            (end, State::AfterMember, Resume::AfterMember { depth, cut })
                        };
                        committed = out.commit(end, next);
                        continue;
                    }
                    None => None,
                },
                (State::AfterPart, b',') => Some(skip_space(buf, p + 1)),
                (State::PartsOpened, _) => Some(p),
                (State::AfterPart, _) => {
                    bad(&mut out, p, Expected::CommaOrClose);
                    return out;
                }
                (State::Opened | State::AfterMember, b']') => match self.tail_end(buf, p, depth) {
                    Some(end) => {
                        out.pieces.push(Piece::Tail(p..end));
                        (at, state) = (end, State::Outside);
                        committed = out.commit(end, Resume::Between { cut });
                        continue;
                    }
                    None => None,
                },
                (State::AfterMember, b',') => Some(skip_space(buf, p + 1)),
                (State::Opened, _) => Some(p),
                // An object of another shape may be a document (of an
                // array's, any object).
                (State::Outside, c) if c == self.open() || (self.documents && c == b'{') => {
                    let head = if c == self.open() {
                        self.head(buf, p)
                    } else {
                        Head::Not
                    };
                    match head {
                        Head::Found {
                            after,
                            depth: d,
                            lead,
                        } => {
                            if lead {
                                out.pieces.push(Piece::Lead(p..after));
                            }
                            (at, state, depth) = (after, State::Opened, d);
                            continue;
                        }
                        Head::Unknown => None,
                        Head::Not if self.documents => {
                            let end = value_end(buf, p, eof);
                            if let Some(after) = self.parts_at(buf, p, &end, eof, committed) {
                                out.pieces.push(Piece::Cut {
                                    range: p..after,
                                    part: Part::Head,
                                    member: cut,
                                });
                                cut += 1;
                                // In no array: its tail ends a document.
                                (at, state, depth) = (after, State::PartsOpened, 0);
                                continue;
                            }
                            let Some(end) = whole(buf, end, p, eof, committed, &mut out) else {
                                return out;
                            };
                            out.pieces.push(Piece::Document(p..end));
                            at = end;
                            committed = out.commit(end, Resume::Between { cut });
                            continue;
                        }
                        Head::Not => {
                            bad(&mut out, p, Expected::Head);
                            return out;
                        }
                    }
                }
                (State::Outside, _) => {
                    bad(&mut out, p, Expected::HeadOrEnd);
                    return out;
                }
                (State::AfterMember, _) => {
                    bad(&mut out, p, Expected::CommaOrClose);
                    return out;
                }
            };
            let Some(q) = member_at else {
                // An incomplete `]...}` or `{"data": [`.
                if eof {
                    bad(&mut out, p, Expected::CompleteValue);
                } else {
                    out.pieces.truncate(committed);
                }
                return out;
            };
            let inner = matches!(state, State::PartsOpened | State::AfterPart);
            let end = value_end(buf, q, eof);
            // A member is cut into parts (never a part): one without the
            // shape is held whole (the window grows to hold it).
            let parts = (!inner).then(|| self.parts_at(buf, q, &end, eof, committed));
            if let Some(Some(after)) = parts {
                out.pieces.push(Piece::Cut {
                    range: q..after,
                    part: Part::Head,
                    member: cut,
                });
                cut += 1;
                (at, state) = (after, State::PartsOpened);
                continue;
            }
            let Some(end) = whole(buf, end, q, eof, committed, &mut out) else {
                return out;
            };
            let next;
            (state, next) = if inner {
                out.pieces.push(Piece::Cut {
                    range: q..end,
                    part: Part::Inner,
                    member: cut - 1,
                });
                (State::AfterPart, Resume::InMember { depth, cut })
            } else {
                out.pieces.push(Piece::Member(q..end));
                (State::AfterMember, Resume::AfterMember { depth, cut })
            };
            at = end;
            committed = out.commit(end, next);
        }
    }
}

impl Scan {
    /// Ends the whole pieces at `end`, where the buffer may be cut and the
    /// next scan starts `next`; the number of those pieces.
    fn commit(&mut self, end: usize, next: Resume) -> usize {
        self.len = end;
        self.next = next;
        self.pieces.len()
    }
}

impl Envelope {
    /// Where the array of parts inside the value at `at`, which ends at
    /// `end`, opens, if the value is to be cut into parts: it is large
    /// (see [`large`]) and has the shape (see [`parts_head`]).
    fn parts_at(
        self,
        buf: &[u8],
        at: usize,
        end: &End,
        eof: bool,
        committed: usize,
    ) -> Option<usize> {
        let key = self.parts?;
        large(end, at, eof, committed).then(|| parts_head(buf, at, key))?
    }
}

/// Whether the value at `at`, which ends at `end`, is to be cut into
/// parts: if it is larger than [`CUT_BYTES`] (as it is if it is the first
/// in the window, no piece `committed`, and does not end in it, since
/// windows are never smaller), so whether it is cut does not depend on the
/// windows; or if the input ends inside it, so that its parts before the
/// break are read (a truncated download of one large trace).
fn large(end: &End, at: usize, eof: bool, committed: usize) -> bool {
    match *end {
        End::At(end) => end - at > CUT_BYTES,
        End::More => eof || committed == 0,
        End::Bad => false,
    }
}

/// The end of the value at `at`, which ends at `end` (see [`value_end`]),
/// in a scan whose pieces up to `committed` are whole; else `None`, and
/// `out` ends there: at its last member when more input may complete the
/// value, on a bad piece when none can.
fn whole(
    buf: &[u8],
    end: End,
    at: usize,
    eof: bool,
    committed: usize,
    out: &mut Scan,
) -> Option<usize> {
    match end {
        End::At(end) => return Some(end),
        End::More if !eof => out.pieces.truncate(committed),
        End::More | End::Bad => {
            out.pieces.push(Piece::Bad {
                at,
                expected: Expected::Value,
            });
            out.len = buf.len();
        }
    }
    None
}

enum Head {
    /// The offset just after `[`, the objects open there, and whether
    /// other members come before the array.
    Found {
        after: usize,
        depth: u64,
        lead: bool,
    },
    /// `buf` ends before it can tell.
    Unknown,
    Not,
}

impl Envelope {
    /// Where the document whose array closes at `close_at` ends: after the
    /// `}` that closes its object, or right after the `]` of an
    /// [`Envelope::ARRAY`]; `None` if `buf` ends before that.
    fn tail_end(self, buf: &[u8], close_at: usize, depth: u64) -> Option<usize> {
        if self.keyed() {
            close(buf, close_at + 1, depth)
        } else {
            Some(close_at + 1)
        }
    }

    /// The byte a document opens with.
    fn open(self) -> u8 {
        if self.keyed() { b'{' } else { b'[' }
    }

    /// Matches `{ "KEY" : [` (or the `[` of an [`Envelope::ARRAY`]) at `at`,
    /// with any of the key's names, in any of its wrappers or none, and
    /// other members before the key in either object (see [`lead_member`]).
    fn head(self, buf: &[u8], at: usize) -> Head {
        let mut p = skip_space(buf, at);
        match buf.get(p) {
            None => return Head::Unknown,
            Some(&c) if c == self.open() => p += 1,
            Some(_) => return Head::Not,
        }
        let (mut depth, mut lead) = (1, false);
        if !self.keyed() {
            return Head::Found {
                after: p,
                depth,
                lead,
            };
        }
        loop {
            p = skip_space(buf, p);
            match buf.get(p) {
                None => return Head::Unknown,
                Some(b'"') => {}
                Some(_) => return Head::Not,
            }
            let Some(name_end) = string_end(buf, p + 1) else {
                // A name is no larger than a member before the array.
                return if buf.len() - p > LEAD_BYTES {
                    Head::Not
                } else {
                    Head::Unknown
                };
            };
            let name = &buf[p..name_end];
            p = skip_space(buf, name_end);
            match buf.get(p) {
                None => return Head::Unknown,
                Some(b':') => p = skip_space(buf, p + 1),
                Some(_) => return Head::Not,
            }
            let opens = buf.get(p).copied();
            if self.quoted.contains(&name) {
                return match opens {
                    None => Head::Unknown,
                    Some(b'[') => Head::Found {
                        after: p + 1,
                        depth,
                        lead,
                    },
                    Some(_) => Head::Not,
                };
            }
            if depth == 1 && self.wrappers.contains(&name) && opens == Some(b'{') {
                (depth, p) = (2, p + 1);
                continue;
            }
            match lead_member(buf, p, name, self.parts) {
                Head::Found { after, .. } => (p, lead) = (after, true),
                other => return other,
            }
        }
    }
}

/// The largest value of a member before an envelope's array: the members
/// an export writes there are a count, a status, a token, errors. A larger
/// one (a trace's `spans`) says the object is no envelope, and whether it
/// is one does not depend on the windows (none is smaller).
const LEAD_BYTES: usize = CUT_BYTES;

/// Skips a member before an envelope's array, named `name`, whose value
/// starts at `at`: found (just after its `,`) if the value is no larger
/// than [`LEAD_BYTES`] and is not `parts` (an object holding a trace's
/// `spans` is a trace, not an envelope: it is known without reading on).
fn lead_member(buf: &[u8], at: usize, name: &[u8], parts: Option<&[u8]>) -> Head {
    if parts == Some(name) {
        return Head::Not;
    }
    let end = match value_end(buf, at, false) {
        End::At(end) if end - at <= LEAD_BYTES => end,
        End::More if buf.len() - at <= LEAD_BYTES => return Head::Unknown,
        End::At(_) | End::More | End::Bad => return Head::Not,
    };
    let p = skip_space(buf, end);
    match buf.get(p) {
        None => Head::Unknown,
        Some(b',') => Head::Found {
            after: p + 1,
            depth: 0,
            lead: true,
        },
        Some(_) => Head::Not,
    }
}

/// Where the array named `key` opens inside the object at `at`: just after
/// its `[`, if the object's members before it are whole in `buf` (a Jaeger
/// trace's `{"traceID": "...", "spans": [`); `None` if the object does not
/// have that shape, or `buf` ends first.
fn parts_head(buf: &[u8], at: usize, key: &[u8]) -> Option<usize> {
    if buf.get(at) != Some(&b'{') {
        return None;
    }
    let mut p = skip_space(buf, at + 1);
    loop {
        if buf.get(p) != Some(&b'"') {
            return None;
        }
        let name_end = string_end(buf, p + 1)?;
        let name = &buf[p..name_end];
        p = skip_space(buf, name_end);
        if buf.get(p) != Some(&b':') {
            return None;
        }
        p = skip_space(buf, p + 1);
        if name == key {
            return (buf.get(p) == Some(&b'[')).then_some(p + 1);
        }
        let End::At(end) = value_end(buf, p, false) else {
            return None;
        };
        p = skip_space(buf, end);
        if buf.get(p) != Some(&b',') {
            return None;
        }
        p = skip_space(buf, p + 1);
    }
}

/// The offset of the first byte at or after `at` that is not JSON white
/// space.
pub(super) fn skip_space(buf: &[u8], mut at: usize) -> usize {
    while at < buf.len() && matches!(buf[at], b' ' | b'\t' | b'\n' | b'\r') {
        at += 1;
    }
    at
}

/// Where the JSON value that starts at `at` ends.
pub(super) enum End {
    /// Just before this offset.
    At(usize),
    /// Past the end of `buf`: more input may complete it.
    More,
    /// Nowhere: no value starts here.
    Bad,
}

/// The end of the JSON value that starts at `at`.
pub(super) fn value_end(buf: &[u8], at: usize, eof: bool) -> End {
    let found = |end: Option<usize>| end.map_or(End::More, End::At);
    match buf.get(at) {
        None => End::More,
        Some(b'{' | b'[') => found(close(buf, at + 1, 1)),
        Some(b'"') => found(string_end(buf, at + 1)),
        Some(b',' | b']' | b'}' | b':') => End::Bad,
        // A scalar ends where a delimiter starts; one that runs to the end
        // of the buffer may go on in the next read.
        Some(_) => {
            let end = buf[at..]
                .iter()
                .position(|b| matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r'))
                .map(|n| at + n);
            match end {
                Some(end) => End::At(end),
                None if eof => End::At(buf.len()),
                None => End::More,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn scan(buf: &[u8], eof: bool, at_start: bool) -> Scan {
        Envelope::JAEGER.scan(buf, eof, at_start)
    }

    fn starts_envelope(head: &[u8]) -> bool {
        Envelope::JAEGER.starts(head)
    }

    #[test]
    fn whole_is_one_document_of_members_then_its_end() {
        let doc = b"{\"data\": [1, {\"a\": 2}], \"errors\": null}";
        let (pieces, end) = Envelope::JAEGER.whole(doc).unwrap();
        assert_eq!(pieces.len(), 3);
        assert_eq!(&doc[end], b"], \"errors\": null}");
        for not in [
            &b"{\"data\": [1, 2"[..],
            b"{\"data\": [1]}{\"data\": [2]}",
            b"{\"data\": [1 2]}",
            b"{\"other\": [1]}",
        ] {
            assert!(Envelope::JAEGER.whole(not).is_none(), "{not:?}");
        }
    }

    #[test]
    fn the_key_names_the_array_and_the_messages() {
        let doc = b"{\"resourceSpans\": [{\"a\": 1},\n{\"b\": 2}\n]}";
        assert!(Envelope::OTLP.starts(doc));
        assert!(!Envelope::JAEGER.starts(doc));
        assert!(!Envelope::OTLP.starts(b"{\"data\": []}"));
        // The protobuf name and Tempo's; one still being read may be any.
        for other in [&b"{\"resource_spans\": ["[..], b"{ \"batches\" : [{"] {
            assert!(Envelope::OTLP.starts(other));
        }
        assert!(matches!(
            Envelope::OTLP.head(b"{\"resource", 0),
            Head::Unknown
        ));
        // A name that is not the key's may be a member before the array.
        assert!(matches!(
            Envelope::OTLP.head(b"{\"resourceX", 0),
            Head::Unknown
        ));
        assert!(matches!(
            Envelope::OTLP.head(b"{\"resourceX\": 1}", 0),
            Head::Not
        ));
        let got = Envelope::OTLP.scan(doc, true, true);
        let found = records(Envelope::OTLP, doc, 3, &got.pieces);
        let lines: Vec<_> = found.members.iter().map(|r| (r.line, r.bytes)).collect();
        assert_eq!(lines, [(3, &b"{\"a\": 1}"[..]), (4, b"{\"b\": 2}")]);
        assert_eq!(found.tails.len(), 1);
        assert_eq!((found.tails[0].line, found.bad), (5, None));
        let bad = Envelope::OTLP.scan(b"{\"resourceSpans\": [1 2]}", true, true);
        let found = records(
            Envelope::OTLP,
            b"{\"resourceSpans\": [1 2]}",
            1,
            &bad.pieces,
        );
        assert_eq!(found.bad, Some((1, Expected::CommaOrClose)));
        assert_eq!(
            Expected::CommaOrClose.describe(Envelope::OTLP),
            "`,` or `]` after a member of the resourceSpans array"
        );
        assert_eq!(Expected::Head.describe(Envelope::JAEGER), "`{\"data\": [`");
    }

    fn texts(buf: &str, scan: &Scan) -> Vec<String> {
        scan.pieces
            .iter()
            .map(|p| match p {
                Piece::Member(r) => format!("member {}", &buf[r.clone()]),
                Piece::Lead(r) => format!("lead {}", &buf[r.clone()]),
                Piece::Tail(r) => format!("tail {}", &buf[r.clone()]),
                Piece::Document(r) => format!("document {}", &buf[r.clone()]),
                Piece::Cut {
                    range,
                    part,
                    member,
                } => format!("{part:?} of {member} {}", &buf[range.clone()]),
                Piece::Bad { at, .. } => format!("bad {}", &buf[*at..]),
            })
            .collect()
    }

    #[test]
    fn an_otlp_request_of_another_shape_between_two_is_a_document() {
        let doc = "{\"resourceSpans\": [1]}\n{\"schemaUrl\": \"s\", \"resourceSpans\": null}\n{\"batches\": [3]}\n";
        let got = Envelope::OTLP.scan(doc.as_bytes(), true, true);
        assert_eq!(got.len, doc.len());
        assert_eq!(
            texts(doc, &got),
            [
                "member 1",
                "tail ]}",
                "document {\"schemaUrl\": \"s\", \"resourceSpans\": null}",
                "member 3",
                "tail ]}"
            ]
        );
        let found = records(Envelope::OTLP, doc.as_bytes(), 1, &got.pieces);
        assert_eq!(found.documents.len(), 1);
        assert_eq!(found.documents[0].line, 2);
        // A cut may follow a document (the next window starts between
        // documents), so that lines of other shapes after a long one are
        // cut as lines are, not held in one growing window.
        let cut = &doc[..doc.find("\n{\"batches\": [3").unwrap()];
        let got = Envelope::OTLP.scan(cut.as_bytes(), false, true);
        assert_eq!(
            texts(cut, &got),
            [
                "member 1",
                "tail ]}",
                "document {\"schemaUrl\": \"s\", \"resourceSpans\": null}"
            ]
        );
        assert_eq!((got.len, got.next), (cut.len(), Resume::Between { cut: 0 }));
        let rest = "\n{\"batches\": [3]}\n{\"x\": 4}\n";
        let next = Envelope::OTLP.scan_from(rest.as_bytes(), true, got.next);
        assert_eq!(
            texts(rest, &next),
            ["member 3", "tail ]}", "document {\"x\": 4}"]
        );
        // What is not an object still ends the shape.
        let not = "{\"resourceSpans\": [1]}\n[2]\n";
        let got = Envelope::OTLP.scan(not.as_bytes(), true, true);
        assert_eq!(texts(not, &got), ["member 1", "tail ]}", "bad [2]\n"]);
        let cut_short = "{\"resourceSpans\": [1]}\n{\"other\": [2";
        let got = Envelope::OTLP.scan(cut_short.as_bytes(), true, true);
        assert_eq!(
            texts(cut_short, &got),
            ["member 1", "tail ]}", "bad {\"other\": [2"]
        );
        // Other envelopes keep no documents.
        let jaeger = "{\"data\": [1]}\n{\"other\": 2}\n";
        let got = Envelope::JAEGER.scan(jaeger.as_bytes(), true, true);
        assert_eq!(
            texts(jaeger, &got),
            ["member 1", "tail ]}", "bad {\"other\": 2}\n"]
        );
    }

    #[test]
    fn a_wrapped_request_is_cut_by_member_and_its_tail_closes_the_wrapper() {
        let doc = "{\"trace\": {\"resourceSpans\": [{\"a\": 1}, {\"b\": 2}]}, \"status\": \"}\"}\n\
                   {\"result\": {\"resourceSpans\": [3]}}";
        let got = Envelope::OTLP.scan(doc.as_bytes(), true, true);
        assert_eq!(
            texts(doc, &got),
            [
                "member {\"a\": 1}",
                "member {\"b\": 2}",
                "tail ]}, \"status\": \"}\"}",
                "member 3",
                "tail ]}}",
            ]
        );
        // A later window starts after a member still inside the wrapper.
        let cut = doc.find("{\"b\"").unwrap();
        let first = Envelope::OTLP.scan(&doc.as_bytes()[..cut + 3], false, true);
        assert_eq!(first.next, Resume::AfterMember { depth: 2, cut: 0 });
        let rest = &doc.as_bytes()[first.len..];
        let second = Envelope::OTLP.scan_from(rest, true, first.next);
        assert_eq!(texts(&doc[first.len..], &second).len(), 4);
        // Without the wrapper's depth the `]}` would end the document, and
        // what follows would not be another.
        let lost = Envelope::OTLP.scan_from(rest, true, Resume::AfterMember { depth: 1, cut: 0 });
        assert!(matches!(lost.pieces.last(), Some(Piece::Bad { .. })));
        // Its tail, made a document, is JSON whatever the wrapper holds.
        for (tail, document) in [
            ("]}", "{\"\": 0}"),
            ("], \"x\": [1]}", "{\"\": 0, \"x\": [1]}"),
            (
                "], \"batches\": []}, \"status\": \"}\"}",
                "{\"trace\":{\"\": 0, \"batches\": []}, \"status\": \"}\"}",
            ),
        ] {
            assert_eq!(
                Envelope::OTLP.tail_as_document(tail.as_bytes()),
                document.as_bytes()
            );
        }
        // Only the wrappers OTLP names, one level deep.
        assert!(!Envelope::OTLP.starts(b"{\"other\": {\"resourceSpans\": ["));
        assert!(!Envelope::OTLP.starts(b"{\"trace\": {\"trace\": {\"resourceSpans\": ["));
        assert!(!Envelope::JAEGER.starts(b"{\"result\": {\"data\": ["));
    }

    #[test]
    fn an_envelope_is_members_then_its_tail() {
        let doc = "{\"data\": [\n{\"a\": \"x]}\\\"\"}, [1, {}] ,\"s\", 12\n], \"errors\": [{\"msg\": \"}\"}]}\n";
        let got = scan(doc.as_bytes(), true, true);
        assert_eq!(got.len, doc.len());
        assert_eq!(
            texts(doc, &got),
            [
                "member {\"a\": \"x]}\\\"\"}",
                "member [1, {}]",
                "member \"s\"",
                "member 12",
                "tail ], \"errors\": [{\"msg\": \"}\"}]}",
            ]
        );
    }

    #[test]
    fn before_the_end_the_scan_stops_at_the_last_member() {
        let doc = "{\"data\":[{\"a\":1},{\"b\":[2,";
        let got = scan(doc.as_bytes(), false, true);
        assert_eq!(texts(doc, &got), ["member {\"a\":1}"]);
        assert_eq!(&doc[got.len..], ",{\"b\":[2,");
        // A number at the end of the buffer may have more digits to come.
        let got = scan(b"{\"data\":[1,23", false, true);
        assert_eq!(got.pieces, [Piece::Member(9..10)]);
        assert_eq!(scan(b"{\"da", false, true).len, 0);
        // A cut may follow a tail: the next window starts between
        // documents.
        let doc = "{\"data\":[1]}\n{\"data\":[2";
        let got = scan(doc.as_bytes(), false, true);
        assert_eq!(texts(doc, &got), ["member 1", "tail ]}"]);
        assert_eq!(&doc[got.len..], "\n{\"data\":[2");
        assert_eq!(got.next, Resume::Between { cut: 0 });
    }

    #[test]
    fn a_later_window_starts_after_a_member() {
        let doc = " ,{\"c\":3}\n]}\n{\"data\": []}";
        let got = scan(doc.as_bytes(), true, false);
        assert_eq!(texts(doc, &got), ["member {\"c\":3}", "tail ]}", "tail ]}"]);
        // A byte-order mark is only skipped at the start of the input.
        assert_eq!(
            scan(b"\xEF\xBB\xBF{\"data\":[]}", true, true).pieces,
            [Piece::Tail(12..14)]
        );
        assert!(matches!(
            scan(b"\xEF\xBB\xBF,1]}", true, false).pieces[..],
            [Piece::Bad { at: 0, .. }]
        ));
    }

    #[test]
    fn what_is_not_an_envelope_is_one_bad_piece_at_the_end() {
        // (document, the bad piece, whether it is bad before the end of the
        // input too: only what more input could complete is not).
        for (doc, bad, certain) in [
            ("{\"data\":[{}] {\"x\": 1}", "] {\"x\": 1}", false),
            ("{\"data\":[{} {}]}", "{}]}", true),
            (
                "{\"data\":[{\"a\": \"unterminated]}",
                "{\"a\": \"unterminated]}",
                false,
            ),
            ("[1, 2]", "[1, 2]", true),
            ("{\"data\":[1]},2", ",2", true),
            ("{\"data\":[1]}]}", "]}", true),
            ("{\"data\":[,1]}", ",1]}", true),
            ("{\"data\":[1,]}", "]}", true),
            ("{\"data\":null}", "{\"data\":null}", true),
            ("{\"data\":[1, 2", "", false),
            ("{\"data\":[", "", false),
        ] {
            let before_the_end = scan(doc.as_bytes(), false, true);
            let bad_before = before_the_end
                .pieces
                .iter()
                .any(|p| matches!(p, Piece::Bad { .. }));
            assert_eq!(bad_before, certain, "{doc}");
            if certain {
                assert_eq!(before_the_end.len, doc.len(), "{doc}");
            }
            let got = scan(doc.as_bytes(), true, true);
            assert_eq!(got.len, doc.len(), "{doc}");
            assert_eq!(
                texts(doc, &got).last().unwrap(),
                &format!("bad {bad}"),
                "{doc}"
            );
        }
    }

    #[test]
    fn only_a_data_array_starts_an_envelope() {
        assert!(starts_envelope(
            b"\xEF\xBB\xBF \n{ \"data\" :\n[{\"traceID\""
        ));
        // Other members may come first; an object with none is no envelope.
        assert!(starts_envelope(b"{\"total\": 1, \"data\": []}"));
        assert!(!starts_envelope(b"{\"total\": 1}"));
        assert!(!starts_envelope(b"{\"data\": null}"));
        assert!(!starts_envelope(b"[{\"data\": []}]"));
    }

    #[test]
    fn members_before_the_array_are_a_lead_read_as_a_document() {
        let doc =
            "{\"total\": 2, \"errors\": [{\"msg\": \"]\"}],\n\"data\": [1, 2], \"limit\": 0}\n";
        let got = Envelope::JAEGER.scan(doc.as_bytes(), true, true);
        assert_eq!(
            texts(doc, &got),
            [
                "lead {\"total\": 2, \"errors\": [{\"msg\": \"]\"}],\n\"data\": [",
                "member 1",
                "member 2",
                "tail ], \"limit\": 0}"
            ]
        );
        // Read whole, it is the same pieces.
        let (pieces, _) = Envelope::JAEGER.whole(doc.as_bytes()).unwrap();
        assert_eq!(pieces, got.pieces);
        let found = records(Envelope::JAEGER, doc.as_bytes(), 1, &got.pieces);
        assert_eq!(found.leads[0].line, 1);
        let lead = found.lead_documents();
        assert_eq!(
            String::from_utf8_lossy(lead.records()[0].bytes),
            "{\"total\": 2, \"errors\": [{\"msg\": \"]\"}],\n\"data\": []}"
        );
        // In a wrapper or around it, as Tempo's answer with its keys sorted.
        let tempo = "{\"status\": \"ok\", \"trace\": {\"x\": {}, \"resourceSpans\": [1]}}";
        let got = Envelope::OTLP.scan(tempo.as_bytes(), true, true);
        assert_eq!(
            texts(tempo, &got),
            [
                "lead {\"status\": \"ok\", \"trace\": {\"x\": {}, \"resourceSpans\": [",
                "member 1",
                "tail ]}}"
            ]
        );
        let lead = Envelope::lead_as_document(&tempo.as_bytes()[..tempo.find('1').unwrap()]);
        assert_eq!(
            String::from_utf8_lossy(&lead),
            "{\"status\": \"ok\", \"trace\": {\"x\": {}, \"resourceSpans\": []}}"
        );
        // Only the wrapper before the array: no lead.
        let wrapped = "{\"trace\": {\"resourceSpans\": [1]}}";
        let got = Envelope::OTLP.scan(wrapped.as_bytes(), true, true);
        assert_eq!(texts(wrapped, &got), ["member 1", "tail ]}}"]);
    }

    #[test]
    fn a_large_member_before_the_array_or_a_traces_spans_is_no_lead() {
        // A trace's `spans`, however short: a bare trace, not an envelope.
        assert!(matches!(
            Envelope::JAEGER.head(b"{\"traceID\": \"a\", \"spans\": [], \"data\": [", 0),
            Head::Not
        ));
        // A member larger than a lead may be: no envelope, and no need to
        // read to its end to know it.
        let big = format!(
            "{{\"other\": \"{}\", \"data\": [1]}}",
            "x".repeat(LEAD_BYTES)
        );
        assert!(matches!(
            Envelope::JAEGER.head(big.as_bytes(), 0),
            Head::Not
        ));
        let open = &big[..LEAD_BYTES + 12];
        assert!(matches!(
            Envelope::JAEGER.head(open.as_bytes(), 0),
            Head::Not
        ));
        let name = format!("{{\"{}", "n".repeat(LEAD_BYTES));
        assert!(matches!(
            Envelope::JAEGER.head(name.as_bytes(), 0),
            Head::Not
        ));
        let short = &big[..LEAD_BYTES - 12];
        assert!(matches!(
            Envelope::JAEGER.head(short.as_bytes(), 0),
            Head::Unknown
        ));
        let fits = format!(
            "{{\"other\": \"{}\", \"data\": [1]}}",
            "x".repeat(LEAD_BYTES - 2)
        );
        assert!(matches!(
            Envelope::JAEGER.head(fits.as_bytes(), 0),
            Head::Found { lead: true, .. }
        ));
    }

    #[test]
    fn an_array_is_its_members_each_ended_by_its_bracket() {
        let doc = "[1, [2, \"]\"],\n {\"a\": \"]\"}]\n[3] []";
        let got = Envelope::ARRAY.scan(doc.as_bytes(), true, true);
        assert_eq!(
            texts(doc, &got),
            [
                "member 1",
                "member [2, \"]\"]",
                "member {\"a\": \"]\"}",
                "tail ]",
                "member 3",
                "tail ]",
                "tail ]"
            ]
        );
        let bad = Envelope::ARRAY.scan(b"[1 2]", true, true);
        assert_eq!(texts("[1 2]", &bad), ["member 1", "bad 2]"]);
        assert_eq!(
            Expected::CommaOrClose.describe(Envelope::ARRAY),
            "`,` or `]` after a member of the array"
        );
        assert_eq!(
            Expected::HeadOrEnd.describe(Envelope::ARRAY),
            "`[` or the end of the input"
        );
        let not = Envelope::ARRAY.scan(b"{\"data\": []}", true, true);
        assert_eq!(texts("{\"data\": []}", &not), ["bad {\"data\": []}"]);
    }

    #[test]
    fn an_array_of_objects_or_of_arrays_is_told_by_its_first_member() {
        assert!(Envelope::array_of(
            b"\xEF\xBB\xBF\n [\n  {\"traceID\"",
            b'{'
        ));
        assert!(Envelope::array_of(b"[[{\"traceId\"", b'['));
        assert!(!Envelope::array_of(b"[[{\"traceId\"", b'{'));
        assert!(!Envelope::array_of(b"[{\"traceId\"", b'['));
        assert!(!Envelope::array_of(b"{\"data\": [{", b'{'));
        assert!(!Envelope::array_of(b"[", b'{'));
    }

    /// Cuts `doc` at the sizes of `cuts` in turn, scanning each window as
    /// the stream does; the pieces found, in the coordinates of `doc`, and
    /// how far the windows reached.
    fn scan_in_windows(envelope: Envelope, doc: &str, cuts: &[usize]) -> (Vec<Piece>, usize) {
        let mut found = Vec::new();
        let (mut start, mut end) = (0, 0);
        let mut sizes = cuts.iter().cycle();
        let mut from = Resume::Start;
        loop {
            let eof = end == doc.len();
            let got = envelope.scan_from(&doc.as_bytes()[start..end], eof, from);
            if got.len > 0 {
                from = got.next;
            }
            found.extend(got.pieces.iter().map(|p| match p {
                Piece::Member(r) => Piece::Member(r.start + start..r.end + start),
                Piece::Lead(r) => Piece::Lead(r.start + start..r.end + start),
                Piece::Tail(r) => Piece::Tail(r.start + start..r.end + start),
                Piece::Document(r) => Piece::Document(r.start + start..r.end + start),
                Piece::Cut {
                    range,
                    part,
                    member,
                } => Piece::Cut {
                    range: range.start + start..range.end + start,
                    part: *part,
                    member: *member,
                },
                Piece::Bad { at, expected } => Piece::Bad {
                    at: at + start,
                    expected: *expected,
                },
            }));
            start += got.len;
            if eof {
                return (found, start);
            }
            end = (end + sizes.next().unwrap()).min(doc.len());
        }
    }

    /// `pieces` with each member cut into parts joined back into the one
    /// member a scan of the whole finds, checking on the way that its
    /// parts come in order (head, spans, tail), tile it, and are each JSON
    /// once closed or opened as [`Part`] says a reader does; and that the
    /// members cut are numbered 0, 1, ... in turn.
    fn joined(doc: &str, pieces: Vec<Piece>) -> Vec<Piece> {
        let json = |text: String| {
            serde_json::from_str::<serde_json::Value>(&text)
                .unwrap_or_else(|err| panic!("{err}: {text}"));
        };
        let mut out = Vec::new();
        let (mut open, mut next) = (None::<(usize, usize, u64)>, 0);
        for piece in pieces {
            let Piece::Cut {
                range,
                part,
                member,
            } = piece
            else {
                assert!(open.is_none(), "a member's parts are interrupted");
                out.push(piece);
                continue;
            };
            let text = &doc[range.clone()];
            match (part, open) {
                (Part::Head, None) => {
                    assert_eq!(member, next, "members are numbered in turn");
                    next += 1;
                    json(format!("{text}]}}"));
                    open = Some((range.start, range.end, member));
                }
                (Part::Inner, Some((start, end, m))) if m == member => {
                    assert!(
                        doc[end..range.start]
                            .trim_start()
                            .trim_start_matches(',')
                            .trim()
                            .is_empty()
                    );
                    json(text.to_string());
                    open = Some((start, range.end, m));
                }
                (Part::Tail, Some((start, end, m))) if m == member => {
                    assert!(doc[end..range.start].trim().is_empty());
                    json(format!("{{\"spans\": [{text}"));
                    out.push(Piece::Member(start..range.end));
                    open = None;
                }
                other => panic!("{part:?} of {member} after {other:?}"),
            }
        }
        assert!(open.is_none(), "a member's parts end before its tail");
        out
    }

    #[test]
    fn a_trace_larger_than_a_window_is_cut_by_its_spans() {
        let big = "{\"traceID\": \"t\", \"spans\": [{\"s\": 1}, {\"s\": [2]}, {\"s\": \"]\"}], \"processes\": {\"p1\": {}}}";
        let doc = format!("{{\"data\": [{{\"spans\": []}}, {big}, {big}], \"errors\": null}}");
        // Windows of 30 bytes: each trace is larger, so each is cut, and
        // its parts are numbered as the input's first and second.
        let (pieces, reached) = scan_in_windows(Envelope::JAEGER, &doc, &[30]);
        assert_eq!(reached, doc.len());
        let shown: Vec<String> = pieces
            .iter()
            .map(|p| {
                texts(
                    &doc,
                    &Scan {
                        pieces: vec![p.clone()],
                        ..Scan::default()
                    },
                )
                .remove(0)
            })
            .collect();
        assert_eq!(
            shown[..6],
            [
                "member {\"spans\": []}",
                "Head of 0 {\"traceID\": \"t\", \"spans\": [",
                "Inner of 0 {\"s\": 1}",
                "Inner of 0 {\"s\": [2]}",
                "Inner of 0 {\"s\": \"]\"}",
                "Tail of 0 ], \"processes\": {\"p1\": {}}}",
            ]
        );
        assert!(shown[6].starts_with("Head of 1 "), "{shown:?}");
        let whole = Envelope::JAEGER.scan(doc.as_bytes(), true, true);
        assert_eq!(joined(&doc, pieces), whole.pieces);
        // A bare array of traces alike; an array of other things is not cut.
        let array = format!("[{big},\n{big}]");
        let (pieces, _) = scan_in_windows(Envelope::JAEGER_ARRAY, &array, &[30]);
        assert!(pieces.iter().any(|p| matches!(p, Piece::Cut { .. })));
        assert_eq!(
            joined(&array, pieces),
            Envelope::JAEGER_ARRAY
                .scan(array.as_bytes(), true, true)
                .pieces
        );
        let (pieces, _) = scan_in_windows(Envelope::ARRAY, &array, &[30]);
        assert!(!pieces.iter().any(|p| matches!(p, Piece::Cut { .. })));
    }

    #[test]
    fn a_document_larger_than_a_window_is_cut_by_its_spans_too() {
        // Jaeger JSON lines, or objects one after another: a bare trace is
        // a document, cut as a member is, after which documents go on.
        let big = "{\"traceID\": \"t\", \"spans\": [{\"s\": 1}, {\"s\": [2]}], \"processes\": {}}";
        let doc = format!("{big}\n{{\"data\": [{big}]}}\n{big}\n{{\"x\": 1}}\n");
        let (pieces, reached) = scan_in_windows(Envelope::JAEGER_LINES, &doc, &[30]);
        assert_eq!(reached, doc.len());
        let heads: Vec<u64> = pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Cut {
                    part: Part::Head,
                    member,
                    ..
                } => Some(*member),
                _ => None,
            })
            .collect();
        assert_eq!(heads, [0, 1, 2]);
        let range = |p: &Piece| match p {
            Piece::Member(r) | Piece::Document(r) | Piece::Tail(r) => r.clone(),
            other => panic!("{other:?}"),
        };
        let whole = Envelope::JAEGER_LINES
            .scan(doc.as_bytes(), true, true)
            .pieces;
        let joined: Vec<_> = joined(&doc, pieces).iter().map(range).collect();
        assert_eq!(joined, whole.iter().map(range).collect::<Vec<_>>());
        assert!(matches!(whole[0], Piece::Document(_)) && matches!(whole[3], Piece::Document(_)));
    }

    #[test]
    fn a_large_member_of_another_shape_is_held_whole() {
        // No spans array, spans not an array, or not an object: the
        // window grows until the member ends.
        for member in [
            "{\"traceID\": \"t\", \"other\": [1, 2, 3, 4, 5, 6, 7, 8, 9]}",
            "{\"traceID\": \"t\", \"spans\": {\"a\": [1, 2, 3, 4, 5, 6, 7]}}",
            "[{\"spans\": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]}]",
        ] {
            let doc = format!("{{\"data\": [{member}]}}");
            let (pieces, _) = scan_in_windows(Envelope::JAEGER, &doc, &[12]);
            assert!(
                !pieces.iter().any(|p| matches!(p, Piece::Cut { .. })),
                "{member}"
            );
            assert_eq!(
                pieces,
                Envelope::JAEGER.scan(doc.as_bytes(), true, true).pieces
            );
        }
    }

    /// `members` as one document, with the envelope that cuts it: a bare
    /// array (cut as `array`), else Jaeger's `{"data": [...]}`.
    fn in_document(members: &[String], bare: bool, array: Envelope) -> (Envelope, String) {
        if bare {
            (array, format!("[\n{}\n]\n", members.join(",\n")))
        } else {
            let data = members.join(",\n");
            (
                Envelope::JAEGER,
                format!("{{\"data\": [\n{data}\n], \"errors\": null}}\n"),
            )
        }
    }

    proptest! {
        /// Cutting anywhere and scanning each window in turn finds the
        /// pieces one scan of the whole finds.
        #[test]
        fn windows_find_what_the_whole_finds(
            members in proptest::collection::vec("[a-z\\\\\"\\]\\[{},\n ]{0,12}", 0..12),
            cuts in proptest::collection::vec(1usize..40, 1..30),
            bare in any::<bool>(),
        ) {
            let body: Vec<String> = members
                .iter()
                .map(|m| serde_json::json!({"m": m, "n": [1, {"k": m}]}).to_string())
                .collect();
            let (envelope, doc) = in_document(&body, bare, Envelope::ARRAY);
            let whole = envelope.scan(doc.as_bytes(), true, true);
            let (found, reached) = scan_in_windows(envelope, &doc, &cuts);
            prop_assert_eq!(reached, doc.len());
            prop_assert_eq!(found, whole.pieces.clone());
            prop_assert_eq!(whole.pieces.len(), members.len() + 1);
        }

        /// Jaeger traces larger than the windows are cut into parts that,
        /// joined, are the members a scan of the whole finds (see
        /// [`joined`], which checks each part).
        #[test]
        fn traces_cut_into_parts_join_into_what_the_whole_finds(
            traces in proptest::collection::vec(
                proptest::collection::vec("[a-z\\\\\"\\]\\[{},\n ]{0,12}", 0..6),
                0..6,
            ),
            cuts in proptest::collection::vec(1usize..60, 1..30),
            bare in any::<bool>(),
        ) {
            let body: Vec<String> = traces
                .iter()
                .map(|spans| {
                    let spans: Vec<String> = spans
                        .iter()
                        .map(|s| serde_json::json!({"spanID": s, "tags": [{"key": s}]}).to_string())
                        .collect();
                    format!(
                        "{{\"traceID\": \"abc\",\n \"spans\" : [ {} ], \"processes\": {{\"p1\": {{\"serviceName\": \"]}}\"}}}}}}",
                        spans.join(" ,\n")
                    )
                })
                .collect();
            let (envelope, doc) = in_document(&body, bare, Envelope::JAEGER_ARRAY);
            let whole = envelope.scan(doc.as_bytes(), true, true);
            let (found, reached) = scan_in_windows(envelope, &doc, &cuts);
            prop_assert_eq!(reached, doc.len());
            prop_assert_eq!(joined(&doc, found), whole.pieces.clone());
            prop_assert_eq!(whole.pieces.len(), traces.len() + 1);
        }

        /// The same for JSON lines of OTLP requests, some of another shape
        /// (documents), some wrapped as Tempo's and Jaeger's APIs answer:
        /// the first is a request, as the framing requires. Every tail,
        /// made a document, is JSON.
        #[test]
        fn requests_and_documents_in_windows_are_what_the_whole_finds(
            lines in proptest::collection::vec(
                (0u8..6, proptest::collection::vec("[a-z\\\\\"\\]\\[{},\n ]{0,12}", 0..4)),
                1..6,
            ),
            cuts in proptest::collection::vec(1usize..40, 1..30),
        ) {
            let doc: String = lines
                .iter()
                .enumerate()
                .map(|(i, (shape, members))| {
                    let body: Vec<String> =
                        members.iter().map(|m| serde_json::json!({"m": m}).to_string()).collect();
                    let array = format!("[{}]", body.join(",\n"));
                    match if i == 0 { 0 } else { *shape } {
                        0 => format!("{{\"resourceSpans\": {array}}}\n"),
                        1 => format!("{{\"other\": {array}}}\n"),
                        2 => format!(
                            "{{\"trace\": {{\"resourceSpans\": {array}, \"x\": [\"}}\"]}},\n\"status\": \"complete\"}}\n"
                        ),
                        3 => format!("{{ \"result\" : {{\"batches\": {array}}} }}\n"),
                        // Members before the array: a lead.
                        4 => format!(
                            "{{\"status\": \"]}}\", \"trace\": {{\"x\": {},\n\"resourceSpans\": {array}}}}}\n",
                            serde_json::json!(members)
                        ),
                        _ => format!("{{\"schemaUrl\": [\"{{\"],\n \"resourceSpans\": {array}}}\n"),
                    }
                })
                .collect();
            let whole = Envelope::OTLP.scan(doc.as_bytes(), true, true);
            let (found, reached) = scan_in_windows(Envelope::OTLP, &doc, &cuts);
            prop_assert_eq!(reached, doc.len());
            prop_assert_eq!(&found, &whole.pieces);
            let documents = lines.iter().skip(1).filter(|(shape, _)| *shape == 1).count();
            prop_assert_eq!(
                whole.pieces.iter().filter(|p| matches!(p, Piece::Document(_))).count(),
                documents
            );
            let members: usize = lines
                .iter()
                .enumerate()
                .filter(|(i, (shape, _))| *i == 0 || *shape != 1)
                .map(|(_, (_, members))| members.len())
                .sum();
            prop_assert_eq!(
                whole.pieces.iter().filter(|p| matches!(p, Piece::Member(_))).count(),
                members
            );
            let leads = lines.iter().skip(1).filter(|(shape, _)| *shape >= 4).count();
            prop_assert_eq!(
                whole.pieces.iter().filter(|p| matches!(p, Piece::Lead(_))).count(),
                leads
            );
            for piece in &whole.pieces {
                match piece {
                    Piece::Bad { .. } => prop_assert!(false, "{:?}", whole.pieces),
                    Piece::Lead(range) => {
                        let lead = Envelope::lead_as_document(&doc.as_bytes()[range.clone()]);
                        let parsed = serde_json::from_slice::<serde_json::Value>(&lead);
                        prop_assert!(parsed.is_ok(), "{}", String::from_utf8_lossy(&lead));
                    }
                    Piece::Tail(range) => {
                        let tail = Envelope::OTLP.tail_as_document(&doc.as_bytes()[range.clone()]);
                        let parsed = serde_json::from_slice::<serde_json::Value>(&tail);
                        prop_assert!(parsed.is_ok(), "{}", String::from_utf8_lossy(&tail));
                    }
                    _ => {}
                }
            }
        }
    }
}
