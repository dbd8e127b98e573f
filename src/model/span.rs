//! The span: one timed operation of one service, normalised from any input
//! format. Plain data; every reader produces it, every analysis consumes it.

use super::attrs::{Attrs, Shape, ShapeKind};
use super::ids::{SpanId, TraceId};
use super::intern::{AttrsId, Interner, Sym};
use super::quality::Location;

/// Nanoseconds since the Unix epoch (a time) or a length of time.
///
/// Signed so that a span whose end precedes its start keeps its negative
/// duration and can be reported instead of wrapping around.
pub type Nanos = i64;

/// The earliest time a span may start or end: 1970-01-01T00:00:00Z, as
/// Unix nanoseconds. Readers count a span with an earlier time as an invalid
/// time (see [`check_times`]) instead of reading it.
pub const EARLIEST: Nanos = 0;

/// The latest time a span may start or end: 2200-01-01T00:00:00Z, as Unix
/// nanoseconds (7,258,118,400 s). Far beyond any real trace, and far enough
/// below `i64::MAX` (year 2262) that the difference of two valid times
/// always fits: a valid span's duration never overflows.
pub const LATEST: Nanos = 7_258_118_400 * 1_000_000_000;

/// Why a span's times cannot be read: a start or end before [`EARLIEST`] or
/// after [`LATEST`]. `None` for a span whose times are within them (its end
/// may still precede its start; that is counted later as a negative
/// duration).
pub fn check_times(start: Nanos, end: Nanos) -> Option<String> {
    let out = |what: &str, t: Nanos| {
        let side = if t < EARLIEST {
            "before 1970-01-01"
        } else {
            "after 2200-01-01"
        };
        format!(
            "{what} time {t} ns since the epoch is {side} (times must lie within 1970-01-01..2200-01-01)"
        )
    };
    if !(EARLIEST..=LATEST).contains(&start) {
        Some(out("start", start))
    } else if !(EARLIEST..=LATEST).contains(&end) {
        Some(out("end", end))
    } else {
        None
    }
}

/// What role a span plays in a call (OTLP `SpanKind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanKind {
    /// Not given by the producer.
    #[default]
    Unspecified,
    /// An operation inside one service.
    Internal,
    /// The receiving side of a synchronous call.
    Server,
    /// The calling side of a synchronous call.
    Client,
    /// The sender of an asynchronous message.
    Producer,
    /// The receiver of an asynchronous message.
    Consumer,
}

impl SpanKind {
    /// Maps the OTLP enum number (also used by readers that see the names).
    pub fn from_otlp(value: i64) -> Self {
        match value {
            1 => Self::Internal,
            2 => Self::Server,
            3 => Self::Client,
            4 => Self::Producer,
            5 => Self::Consumer,
            _ => Self::Unspecified,
        }
    }

    /// Maps a kind name as OTLP/JSON, Jaeger (`span.kind` tag) or Sentry
    /// write it: `SPAN_KIND_SERVER`, `server`, `Server`.
    pub fn from_name(name: &str) -> Self {
        let name = name.strip_prefix("SPAN_KIND_").unwrap_or(name);
        // Compared in place: a lower-cased copy was an allocation a span
        // (190 instructions a Jaeger span, whose kind is a tag).
        [
            ("internal", Self::Internal),
            ("server", Self::Server),
            ("client", Self::Client),
            ("producer", Self::Producer),
            ("consumer", Self::Consumer),
        ]
        .into_iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name))
        .map_or(Self::Unspecified, |(_, kind)| kind)
    }
}

/// Whether the span reported an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// No status given.
    #[default]
    Unset,
    /// Explicitly successful.
    Ok,
    /// The operation failed.
    Error,
}

/// A link from a span to another span, possibly in another trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpanLink {
    /// The linked span's trace.
    pub trace_id: TraceId,
    /// The linked span.
    pub span_id: SpanId,
}

/// A span's links, boxed twice so a span without links (nearly all) pays
/// one pointer for them, not the two of a boxed slice.
#[allow(clippy::box_collection)]
pub type Links = Box<Vec<SpanLink>>;

/// Whether a span's id may also be another span's: Zipkin lets the client
/// and server halves of one call carry the same id (see
/// [`super::shared`]). The halves can be read far apart (in different
/// windows of a large input, or in different files), so they are told
/// apart when the trace is built, where all its spans meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IdSharing {
    /// The id is the span's own (every format but Zipkin).
    #[default]
    Own,
    /// A Zipkin span not marked `shared`: as a `SERVER` span, it is the
    /// server half when a `CLIENT` span of its trace has its id and no span
    /// of that id is marked.
    Unmarked,
    /// A Zipkin span marked `shared: true`: the server half of its id.
    Marked,
}

/// Where a span's service comes from when its record does not name it.
/// Both other sources are settled when the span's trace is built, since
/// what names the service may be read after the span: in another window of
/// a large input, or in another file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ServiceFrom {
    /// The record names it (or it is `unknown`).
    #[default]
    Own,
    /// Its parent's: an X-Ray subsegment sent as a document of its own
    /// names no service (see [`super::parent_service`]).
    Parent,
    /// A process its trace names after its spans: a span of a Jaeger trace
    /// too large for one window, whose `processes` come after its `spans`.
    /// Until then [`Span::service`] is the process's key (see
    /// [`super::ProcessServices`]).
    Process,
}

/// A span as a reader produces it: the span and the id of its trace. Spans
/// are grouped into traces by that id, and a built [`super::Trace`] keeps
/// it once for all its spans instead of 16 bytes in each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TracedSpan {
    /// The trace the span belongs to.
    pub trace_id: TraceId,
    /// The span.
    pub span: Span,
}

/// One span of a trace, normalised from any input format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// This span's id, unique within its trace (duplicates are counted).
    pub span_id: SpanId,
    /// The parent span, if the producer named one.
    pub parent_id: Option<SpanId>,
    /// Start time.
    pub start: Nanos,
    /// End time (may precede `start` in broken data; see the integrity checks).
    pub end: Nanos,
    /// The service that recorded the span.
    pub service: Sym,
    /// The operation name.
    pub name: Sym,
    /// The span kind.
    pub kind: SpanKind,
    /// The span status.
    pub status: Status,
    /// Whether its id may be shared with its caller's span.
    pub id_sharing: IdSharing,
    /// Where its service comes from, if not from its own record.
    pub service_from: ServiceFrom,
    /// The attributes analyses use, interned (see [`Span::attrs`]); `None`
    /// when the span carries none of them.
    pub attrs: Option<AttrsId>,
    /// Links to other spans; `None` when there are none.
    pub links: Option<Links>,
    /// The original text of its trace's id when that was not hex (see
    /// [`super::ids`]). Kept with the span, where it costs nothing (it fills
    /// the span's padding); a built trace also keeps it once
    /// ([`super::Trace::label`]), and the analyses read that one.
    pub trace_label: Option<Sym>,
    /// Where the span was read, for data-quality examples made after
    /// reading (when traces are built).
    pub origin: Origin,
}

/// Where a span was read: its input and its record's line (text formats)
/// or byte offset (protobuf), in 8 bytes. A line or offset past 2^31 is
/// not kept (the example then names only the file).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    file: Option<Sym>,
    /// A line, or with [`Origin::BYTE`] set a byte offset, or
    /// [`Origin::NOWHERE`].
    at: u32,
}

impl Default for Origin {
    fn default() -> Self {
        Origin::UNKNOWN
    }
}

impl Origin {
    const BYTE: u32 = 1 << 31;
    const NOWHERE: u32 = u32::MAX;

    /// Not known (spans made by hand, or by tests).
    pub const UNKNOWN: Origin = Origin {
        file: None,
        at: Origin::NOWHERE,
    };

    /// A span of input `file` (its interned name) at `location`.
    pub fn new(file: Sym, location: &Location) -> Origin {
        let small = |n: u64| u32::try_from(n).ok().filter(|&n| n < Origin::BYTE);
        let at = match *location {
            Location::Line(n) => small(n),
            // Below BYTE - 1, so an offset never encodes as NOWHERE.
            Location::Byte(n) => small(n)
                .filter(|&n| n < Origin::BYTE - 1)
                .map(|n| n | Origin::BYTE),
            Location::Whole => None,
        };
        Origin {
            file: Some(file),
            at: at.unwrap_or(Origin::NOWHERE),
        }
    }

    /// The parts, for the spill's encoding.
    pub(crate) fn raw(self) -> (Option<Sym>, u32) {
        (self.file, self.at)
    }

    /// An origin from [`Origin::raw`]'s parts.
    pub(crate) fn from_raw(file: Option<Sym>, at: u32) -> Origin {
        Origin { file, at }
    }

    /// The input's interned name, when known.
    pub fn file(&self) -> Option<Sym> {
        self.file
    }

    /// The line or byte offset, when known.
    pub fn location(&self) -> Option<Location> {
        match self.at {
            Origin::NOWHERE => None,
            at if at & Origin::BYTE != 0 => Some(Location::Byte(u64::from(at & !Origin::BYTE))),
            at => Some(Location::Line(u64::from(at))),
        }
    }

    /// Moves the location by the lines and bytes of input that preceded
    /// the window it was read in.
    pub fn shift(&mut self, lines: u64, bytes: u64) {
        if let (Some(file), Some(mut at)) = (self.file, self.location()) {
            at.shift(lines, bytes);
            *self = Origin::new(file, &at);
        }
    }
}

impl Span {
    /// Span `span_id` of `service`, named `name`, and nothing else: times
    /// 0, no parent, no kind or status, no attributes, links or label, its
    /// id its own and its service its record's, read nowhere known. Callers
    /// set the rest with struct update syntax, so that a field added to
    /// the span gets its default here once.
    pub fn new(span_id: SpanId, service: Sym, name: Sym) -> Span {
        Span {
            span_id,
            parent_id: None,
            start: 0,
            end: 0,
            service,
            name,
            kind: SpanKind::Unspecified,
            status: Status::Unset,
            id_sharing: IdSharing::Own,
            service_from: ServiceFrom::Own,
            attrs: None,
            links: None,
            trace_label: None,
            origin: Origin::UNKNOWN,
        }
    }

    /// `end - start`, which can be zero or negative in broken data. Spans
    /// read from inputs have times within [`EARLIEST`]..=[`LATEST`], so this
    /// is exact for them; for others it saturates at the `i64` bounds
    /// instead of wrapping around.
    pub fn duration(&self) -> Nanos {
        self.end.saturating_sub(self.start)
    }

    /// The attribute block, from the interner its span was read with, or
    /// an empty one.
    pub fn attrs<'s>(&self, strings: &'s Interner) -> &'s Attrs {
        self.attrs.map_or(&Attrs::EMPTY, |id| strings.attrs(id))
    }

    /// What makes this span "the same call" as another: its statement's or
    /// HTTP call's shape, as read (see [`Attrs::shape`]), else its name.
    pub fn shape(&self, strings: &Interner) -> Shape {
        self.attrs(strings).shape.unwrap_or(Shape {
            kind: ShapeKind::Operation,
            text: self.name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_keeps_lines_and_offsets_and_forgets_what_does_not_fit() {
        let strings = super::super::Interner::new();
        let file = strings.intern("in.json");
        let line = Origin::new(file, &Location::Line(7));
        assert_eq!(line.location(), Some(Location::Line(7)));
        assert_eq!(line.file(), Some(file));
        let mut byte = Origin::new(file, &Location::Byte(1 << 30));
        assert_eq!(byte.location(), Some(Location::Byte(1 << 30)));
        byte.shift(5, 10);
        assert_eq!(byte.location(), Some(Location::Byte((1 << 30) + 10)));
        let far = Origin::new(file, &Location::Byte(1 << 31));
        assert_eq!((far.file(), far.location()), (Some(file), None));
        assert_eq!(Origin::UNKNOWN.location(), None);
    }

    #[test]
    fn span_stays_small() {
        // Memory per span is a product target (issue: under 250 B a span).
        // A read span carries its trace's id, a built trace's span does not.
        assert!(
            std::mem::size_of::<TracedSpan>() <= 96,
            "{}",
            std::mem::size_of::<TracedSpan>()
        );
        assert!(
            std::mem::size_of::<Span>() <= 80,
            "{}",
            std::mem::size_of::<Span>()
        );
    }

    #[test]
    fn times_are_bounded_and_durations_never_wrap() {
        assert_eq!(LATEST, 7_258_118_400_000_000_000);
        assert_eq!(check_times(0, 0), None);
        assert_eq!(check_times(LATEST, 0), None);
        assert_eq!(check_times(1_700_000_000_000_000_000, 1), None);
        let before = check_times(-1, 5).unwrap();
        assert!(before.starts_with("start time -1 ns") && before.contains("before 1970"));
        let after = check_times(5, LATEST + 1).unwrap();
        assert!(after.starts_with("end time") && after.contains("after 2200"));
        assert!(check_times(i64::MIN, i64::MAX).is_some());
        let strings = crate::model::Interner::new();
        let sym = strings.intern("x");
        let span = |start, end| Span {
            start,
            end,
            name: sym,
            kind: SpanKind::Unspecified,
            ..crate::model::testutil::plain_span(&strings, 1, None, "x")
        };
        assert_eq!(span(i64::MIN, i64::MAX).duration(), i64::MAX);
        assert_eq!(span(i64::MAX, i64::MIN).duration(), i64::MIN);
        assert_eq!(span(LATEST, EARLIEST).duration(), -LATEST);
        assert_eq!(span(10, 25).duration(), 15);
    }

    #[test]
    fn kinds_from_numbers_and_names() {
        assert_eq!(SpanKind::from_otlp(2), SpanKind::Server);
        assert_eq!(SpanKind::from_name("SPAN_KIND_CLIENT"), SpanKind::Client);
        assert_eq!(SpanKind::from_name("producer"), SpanKind::Producer);
        assert_eq!(SpanKind::from_name("weird"), SpanKind::Unspecified);
        // Any case; only whole names, and only ASCII letters fold.
        assert_eq!(SpanKind::from_name("Server"), SpanKind::Server);
        assert_eq!(SpanKind::from_name("CONSUMER"), SpanKind::Consumer);
        assert_eq!(
            SpanKind::from_name("span_kind_internal"),
            SpanKind::Unspecified
        );
        assert_eq!(
            SpanKind::from_name("SPAN_KIND_Internal"),
            SpanKind::Internal
        );
        for other in ["", "SPAN_KIND_", "servers", "clien", "\u{17f}erver"] {
            assert_eq!(
                SpanKind::from_name(other),
                SpanKind::Unspecified,
                "{other:?}"
            );
        }
    }
}
