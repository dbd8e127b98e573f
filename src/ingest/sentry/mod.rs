//! Sentry transaction events, as SDKs send them and Sentry exports them.
//!
//! Accepted: one event per document, JSON lines of events, arrays of events,
//! and events nested a few levels inside other JSON (test fixtures and
//! ad-hoc dumps wrap them, e.g. `{"cases": [{"event": {...}}]}`). Sentry's
//! event-details API shape is read too: spans under `entries[type=spans]`,
//! root times as `startTimestamp`/`endTimestamp`, name from `title`. An
//! array of events of 64 KiB or more is read a window of whole events at
//! a time ([`super::json_envelope`]), never held whole.
//!
//! A record that is one event is parsed into the borrowing types of
//! [`typed`], which keep only what is read (by the JSON scanner,
//! [`fast`], or by serde where the scanner gives up); one that is not (events inside
//! other JSON) or that those types do not describe (a member of an
//! unexpected type, a member given twice) is parsed into a
//! `serde_json::Value` instead. Both fill the same [`EventParts`], so what
//! is read, skipped and counted does not depend on the path.
//!
//! Each event gives:
//! - a root span from `contexts.trace` (`trace_id`, `span_id`,
//!   `parent_span_id`, `op`, `status`), timed by the event's
//!   `start_timestamp`/`timestamp` and named by `transaction`. Events with
//!   no `contexts.trace` have no explicit root: when their spans all hang
//!   off one parent id outside the event, that id becomes the root span,
//!   timed by the event (as Sentry's detectors read such events).
//! - one span per `spans[]` entry (`span_id`, `parent_span_id`,
//!   `start_timestamp`, `timestamp`); one missing an id or a time is skipped
//!   and counted at its line. Spans sharing an id (test data does this) are
//!   all emitted; the model keeps one.
//!
//! An event's spans belong to its transaction, as Sentry reads them: they
//! take the event's trace id (`contexts.trace.trace_id`; a span's own
//! `trace_id` only when the event has none), and a span whose own
//! `trace_id` says otherwise is counted (`sentry_span_trace_mismatch`,
//! located). In an event with a root, a span whose parent is not in the
//! event (or that names none) is put under the root, as Sentry's span tree
//! shows it, and counted (`sentry_orphan_spans`, located).
//!
//! Times are float seconds (or RFC 3339 text); see [`mod@time`]
//! for how they keep microsecond precision. The service of every span of an
//! event is the event's project (`project_name`, `projectSlug`, `project`,
//! `project_id`, `projectID`, first present, string or number), else its
//! `server_name`, else its `sdk.name`, else `unknown`. Kind and name come
//! from `op` and `description` (see [`naming`]). Status `ok`
//! is OK; `cancelled` and `unknown` are unset, as Sentry's failure rate
//! leaves them out; any other (`internal_error`, `deadline_exceeded`, ...)
//! is an error. Attributes come from `data` and `tags` through
//! [`crate::model::AttrKey::lookup`], plus what op and description imply.
//! A distributed trace is the union of the events sharing a trace id.

mod fast;
mod naming;
pub(crate) mod time;
mod typed;

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::json_envelope::Envelope;
use super::json_locate::{Step, line_in, lines_of, location_of, skip_at};
use super::json_records::{Record, first_byte, lines_framing, parse, records_or_members};
use super::json_scalars::{scalar_text, str_field};
use super::json_strict::Object;
use super::{Format, Framing, Input, ReadError, Reader, Sink};
use crate::model::{
    AttrKey, AttrsBuilder, Count, IdError, Interner, Location, Nanos, Span, SpanExample, SpanId,
    SpanKind, SpanLink, Status, Sym, TraceId, TracedSpan, shape_cache,
};
use naming::{describe, kind};
use time::timestamp_nanos;

/// Reads Sentry transaction events.
pub struct SentryReader;

impl Reader for SentryReader {
    fn format(&self) -> Format {
        Format::Sentry
    }

    fn sniff(&self, head: &[u8]) -> bool {
        let has = |needle: &[u8]| memchr::memmem::find(head, needle).is_some();
        matches!(first_byte(head), Some(b'{' | b'['))
            && (has(b"\"start_timestamp\"")
                || has(b"\"type\":\"transaction\"")
                || has(b"\"type\": \"transaction\"")
                || has(b"\"contexts\""))
            && !has(b"\"resourceSpans\"")
            && !has(b"\"traceID\"")
    }

    fn framing(&self, head: &[u8]) -> Option<Framing> {
        // JSON lines are cut at line ends until one is longer than a
        // window; from there on as arrays (see `Framing::LinesOr`).
        let lines = lines_framing(head).map(|_| Framing::LinesOr(Envelope::ARRAY_LINES));
        lines.or_else(|| {
            Envelope::array_of(head, b'{').then_some(Framing::Envelope(Envelope::ARRAY))
        })
    }

    fn read(&self, input: &Input<'_>, sink: &mut Sink<'_>) -> Result<(), ReadError> {
        read_input(input, sink, read_typed)
    }
}

/// Reads an input: each record through `typed` (see [`read_typed`]) and,
/// where that declines, through the general `Value` path. Tests pass a
/// `typed` that always declines, to compare the two paths.
fn read_input(input: &Input<'_>, sink: &mut Sink<'_>, typed: TypedPath) -> Result<(), ReadError> {
    let records = records_or_members(input, "an array of Sentry events", sink);
    if let ([only], false) = (records.as_slice(), input.window) {
        if typed(only, sink) {
            return Ok(());
        }
        let value: Value = serde_json::from_slice(only.bytes).map_err(|err| {
            ReadError::new(
                input,
                only.error_location(&err),
                format!("invalid JSON: {err}"),
            )
        })?;
        let recognised = read_value(only, &value, sink);
        return if recognised {
            Ok(())
        } else {
            Err(ReadError::new(input, Location::Whole, NOT_SENTRY))
        };
    }
    // JSON lines: one event per line, read in parallel chunks and
    // appended in line order.
    let chunks = records.chunks(LINES_PER_TASK).collect();
    let recognised = super::read_chunks(chunks, sink, |chunk, part| {
        let mut recognised = false;
        for record in chunk {
            if typed(record, part) {
                recognised = true;
                continue;
            }
            match parse::<Value>(record.bytes) {
                Ok(value) if read_value(record, &value, part) => recognised = true,
                Ok(_) => part.skip(Location::Line(record.line), NOT_SENTRY),
                Err(err) => part.skip(record.error_location(&err), format!("invalid JSON: {err}")),
            }
        }
        recognised
    });
    if recognised {
        Ok(())
    } else {
        Err(ReadError::new(input, Location::Whole, NOT_SENTRY))
    }
}

/// Reads a record the typed way; `false`, with nothing read, to leave it
/// to the general path.
type TypedPath = fn(&Record<'_>, &mut Sink<'_>) -> bool;

/// JSON lines per parallel task.
const LINES_PER_TASK: usize = 64;

/// Reads every event found in one record's value; whether there was any.
fn read_value(record: &Record<'_>, value: &Value, sink: &mut Sink<'_>) -> bool {
    let mut events = Vec::new();
    find_events(value, &mut Vec::new(), &mut events);
    // Located all at once: one by one, each search parsed the record from
    // its start (quadratic in the events of a large wrapper).
    let paths: Vec<&[Step<'_>]> = events.iter().map(|(path, _)| path.as_slice()).collect();
    let lines = lines_of(record.bytes, &paths);
    for ((path, event), line) in events.iter().zip(lines) {
        let at = || line_in(record, line);
        read_parts(record, path, &value_event(event), &at, sink);
    }
    !events.is_empty()
}

/// Reads `record` through the typed, borrowing model when it is one event;
/// `false`, with nothing read, when it needs the general path: when it is
/// not an event, wraps events, or has something the typed model does not
/// describe (see [`typed`]).
fn read_typed(record: &Record<'_>, sink: &mut Sink<'_>) -> bool {
    let Ok(Object(event)) = fast::event(record.bytes) else {
        return false;
    };
    if !event.is_event() {
        return false;
    }
    read_parts(
        record,
        &[],
        &event.parts(),
        &|| location_of(record, &[]),
        sink,
    );
    true
}

/// Reads one event found at `path` of `record`, however it was parsed;
/// `at` says where the event opens.
fn read_parts(
    record: &Record<'_>,
    path: &[Step<'_>],
    event: &EventParts<'_>,
    at: &dyn Fn() -> Location,
    sink: &mut Sink<'_>,
) {
    let from = sink.spans.len();
    read_event(record, path, event, sink);
    // A span with a time out of bounds is counted at its event's line.
    super::times::check_batch(sink, from, at);
    sink.locate(from, &at());
}

const NOT_SENTRY: &str = "expected a Sentry transaction event (an object with \"spans\" or \"contexts\".\"trace\" and \"event_id\" or \"type\": \"transaction\")";

/// How deep wrappers around events are searched.
const MAX_WRAPPING: usize = 4;

/// An event path and the event object found there.
type Found<'v> = (Vec<Step<'v>>, &'v Map<String, Value>);

/// Collects the events in `value`: the value itself if it is one, else
/// those inside its arrays and objects, a few levels down.
fn find_events<'v>(value: &'v Value, path: &mut Vec<Step<'v>>, out: &mut Vec<Found<'v>>) {
    match value {
        Value::Object(object) if is_event(object) => out.push((path.clone(), object)),
        Value::Object(object) if path.len() < MAX_WRAPPING => {
            for (key, member) in object {
                path.push(Step::Key(key));
                find_events(member, path, out);
                path.pop();
            }
        }
        Value::Array(items) if path.len() < MAX_WRAPPING => {
            for (i, item) in items.iter().enumerate() {
                path.push(Step::Index(i));
                find_events(item, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn is_event(object: &Map<String, Value>) -> bool {
    let has_array = |key: &str| object.get(key).is_some_and(Value::is_array);
    let has_trace = object
        .get("contexts")
        .and_then(|c| c.get("trace"))
        .is_some_and(Value::is_object);
    let marked = ["event_id", "eventID", "start_timestamp", "startTimestamp"]
        .iter()
        .any(|k| object.contains_key(*k));
    object.get("type").and_then(Value::as_str) == Some("transaction")
        || (marked && (has_array("spans") || has_array("entries") || has_trace))
}

/// What reading an event uses, however the event was parsed: the general
/// path fills it from a `Value`, the typed one from [`typed::Event`], and
/// the spans are built from it by one piece of code.
struct EventParts<'v> {
    /// `type`, when it is a string.
    kind: Option<&'v str>,
    /// The service name (see [`service_name`]).
    service: Cow<'v, str>,
    /// `contexts.trace`, when it is an object.
    trace: Option<TraceParts<'v>>,
    transaction: Option<&'v str>,
    title: Option<&'v str>,
    /// The first non-null of `start_timestamp`, `startTimestamp`.
    start: Option<Time<'v>>,
    /// The first non-null of `timestamp`, `endTimestamp`.
    end: Option<Time<'v>>,
    /// The span list (`None` for an entry that is not an object) and its
    /// path in the event (see [`spans_of`]).
    spans: Option<(Vec<Option<SpanParts<'v>>>, Vec<Step<'static>>)>,
}

/// `contexts.trace`.
struct TraceParts<'v> {
    trace_id: Option<&'v str>,
    span_id: Option<&'v str>,
    parent_span_id: Option<&'v str>,
    op: Option<&'v str>,
    status: Option<&'v str>,
    data: Cow<'v, [Member<'v>]>,
    links: Vec<LinkParts<'v>>,
}

/// One `spans[]` object.
struct SpanParts<'v> {
    span_id: Option<&'v str>,
    /// `trace_id` when it is a non-empty string, as it names a trace.
    trace_id: Option<&'v str>,
    /// `trace_id` when it is a string, empty or not, as it is compared
    /// with the event's.
    own_trace_id: Option<&'v str>,
    parent_span_id: Option<&'v str>,
    op: Option<&'v str>,
    description: Option<&'v str>,
    status: Option<&'v str>,
    start: Option<Time<'v>>,
    end: Option<Time<'v>>,
    data: Cow<'v, [Member<'v>]>,
    tags: Cow<'v, [Member<'v>]>,
    links: Vec<LinkParts<'v>>,
}

/// A time's key and its (non-null) value.
type Time<'v> = (&'static str, Stamp<'v>);

/// A time's value: in nanoseconds where the typed path read a number, else
/// as given, converted when its span is made.
#[derive(Clone, Copy)]
enum Stamp<'v> {
    Nanos(Nanos),
    Value(&'v Value),
}

/// `(trace_id, span_id)` of a link object, when non-empty strings.
type LinkParts<'v> = (Option<&'v str>, Option<&'v str>);

/// A member of `data` or `tags` that reading uses (see [`kept`]): its key,
/// what it is kept for, found where it is read (looking the key up again
/// when the span was made was 1% of a Sentry read), and its value.
#[derive(Clone, Debug, PartialEq)]
struct Member<'v> {
    key: Cow<'v, str>,
    kept: Kept,
    value: Scalar<'v>,
}

/// What a kept `data` or `tags` member is read for.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kept {
    /// An attribute, as [`AttrKey::lookup`] gives it.
    Attr(AttrKey, bool),
    /// Only naming reads it (see [`naming::reads`]).
    Naming,
}

/// The value of a `data` or `tags` member: text (borrowed from the input
/// when it can be), or another JSON value. Arrays and objects are kept as
/// null, which says as little as they do: neither is text.
#[derive(Clone, Debug, PartialEq)]
enum Scalar<'v> {
    Text(Cow<'v, str>),
    Other(Value),
}

impl Scalar<'_> {
    fn of(value: &Value) -> Scalar<'_> {
        match value {
            Value::String(text) => Scalar::Text(Cow::Borrowed(text)),
            Value::Array(_) | Value::Object(_) => Scalar::Other(Value::Null),
            other => Scalar::Other(other.clone()),
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Text(text) => Some(text),
            Scalar::Other(_) => None,
        }
    }

    /// As [`scalar_text`] gives it.
    fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            Scalar::Text(text) => (!text.is_empty()).then(|| Cow::Borrowed(text.as_ref())),
            Scalar::Other(value) => scalar_text(value),
        }
    }
}

/// What a `data` or `tags` key is read for: an attribute, or a key naming
/// reads; `None` for the rest, which is never looked at. Bytes, so that
/// the scanner's keys need no UTF-8 check to be dropped (every kept key is
/// ASCII): checking each one was 4% of the Sentry read.
fn kept(key: &[u8]) -> Option<Kept> {
    match AttrKey::lookup_bytes(key) {
        Some((slot, preferred)) => Some(Kept::Attr(slot, preferred)),
        None => naming::reads(key).then_some(Kept::Naming),
    }
}

/// The members of an object that reading uses, in order.
fn members(object: Option<&Map<String, Value>>) -> Cow<'_, [Member<'_>]> {
    object
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| {
            Some(Member {
                key: Cow::Borrowed(key.as_str()),
                kept: kept(key.as_bytes())?,
                value: Scalar::of(value),
            })
        })
        .collect()
}

fn value_event(event: &Map<String, Value>) -> EventParts<'_> {
    let trace = event
        .get("contexts")
        .and_then(|c| c.get("trace"))
        .and_then(Value::as_object);
    EventParts {
        kind: event.get("type").and_then(Value::as_str),
        service: service_name(event),
        trace: trace.map(|trace| TraceParts {
            trace_id: str_field(trace, "trace_id"),
            span_id: str_field(trace, "span_id"),
            parent_span_id: str_field(trace, "parent_span_id"),
            op: str_field(trace, "op"),
            status: str_field(trace, "status"),
            data: members(trace.get("data").and_then(Value::as_object)),
            links: value_links(trace),
        }),
        transaction: str_field(event, "transaction"),
        title: str_field(event, "title"),
        start: first_time(event, &["start_timestamp", "startTimestamp"]),
        end: first_time(event, &["timestamp", "endTimestamp"]),
        spans: spans_of(event).map(|(spans, path)| {
            let spans = spans
                .iter()
                .map(|span| span.as_object().map(value_span))
                .collect();
            (spans, path)
        }),
    }
}

fn value_span(span: &Map<String, Value>) -> SpanParts<'_> {
    SpanParts {
        span_id: str_field(span, "span_id"),
        trace_id: str_field(span, "trace_id"),
        own_trace_id: span.get("trace_id").and_then(Value::as_str),
        parent_span_id: str_field(span, "parent_span_id"),
        op: str_field(span, "op"),
        description: str_field(span, "description"),
        status: str_field(span, "status"),
        start: first_time(span, &["start_timestamp"]),
        end: first_time(span, &["timestamp"]),
        data: members(span.get("data").and_then(Value::as_object)),
        tags: members(span.get("tags").and_then(Value::as_object)),
        links: value_links(span),
    }
}

/// The first of `keys` present with a non-null value.
fn first_time<'v>(object: &'v Map<String, Value>, keys: &[&'static str]) -> Option<Time<'v>> {
    keys.iter()
        .find_map(|k| Some((*k, Stamp::Value(object.get(*k).filter(|v| !v.is_null())?))))
}

/// Span links (newer SDKs): `[{"trace_id", "span_id", ...}]`; what is not
/// an object is no link.
fn value_links(object: &Map<String, Value>) -> Vec<LinkParts<'_>> {
    let links = object.get("links").and_then(Value::as_array);
    links
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(|link| (str_field(link, "trace_id"), str_field(link, "span_id")))
        .collect()
}

/// The event's trace id, parsed once for all of its spans: its text, the
/// id, and whether the text was hex.
type EventTrace<'v> = (&'v str, TraceId, bool);

/// `contexts.trace.trace_id` and what parsing it gave.
type ParsedTrace<'v> = (&'v str, Result<(TraceId, bool), IdError>);

fn read_event(record: &Record<'_>, path: &[Step<'_>], event: &EventParts<'_>, sink: &mut Sink<'_>) {
    if let Some(kind) = event.kind
        && kind != "transaction"
    {
        let message = format!("not a transaction event (type {kind:?})");
        skip_at(sink, record, path, message);
        return;
    }
    let strings = sink.strings;
    let service = strings.intern(&event.service);
    let trace = event.trace.as_ref();
    let parsed = trace
        .and_then(|t| t.trace_id)
        .map(|text| (text, TraceId::parse(text)));
    let mut root = None;
    if let Some(trace) = trace {
        match root_span(event, trace, parsed.clone(), service, strings) {
            Ok(span) => {
                root = Some(span.span.span_id);
                sink.spans.push(span);
            }
            Err(message) => skip_at(sink, record, path, format!("transaction root: {message}")),
        }
    }
    let Some((spans, spans_path)) = &event.spans else {
        return;
    };
    // The event's trace id, when it is one.
    let event_trace: Option<EventTrace<'_>> =
        parsed.and_then(|(text, parsed)| parsed.ok().map(|(id, is_hex)| (text, id, is_hex)));
    let span_at = |i: usize| {
        let mut at = path.to_vec();
        at.extend(spans_path.iter().copied());
        at.push(Step::Index(i));
        at
    };
    let first = sink.spans.len();
    // Room for an implicit root too.
    sink.spans.reserve(spans.len() + 1);
    // The `spans[]` index of each span read.
    let mut read = Vec::with_capacity(spans.len());
    for (i, span) in spans.iter().enumerate() {
        let Some(span) = span else {
            skip_at(sink, record, &span_at(i), "expected a span object".into());
            continue;
        };
        match child_span(span, event_trace, service, strings) {
            Ok(child) => {
                if let Some((event_text, event_id, _)) = event_trace {
                    let own = span.own_trace_id;
                    if let Some(own) = own.filter(|own| !same_trace(own, event_text, event_id)) {
                        let message = format!(
                            "the span's trace_id {own:?} is not its event's ({event_text}); kept in the event's trace"
                        );
                        let what = (Count::SentrySpanTraceMismatch, message);
                        count_span(sink, record, &span_at(i), ids_of(&child), what);
                    }
                }
                sink.spans.push(child);
                read.push(i);
            }
            Err(message) => skip_at(sink, record, &span_at(i), message),
        }
    }
    if let Some(root) = root {
        adopt_orphans(sink, record, first, &read, root, &span_at);
    }
    if trace.is_none()
        && let Some(root) = implicit_root(event, &sink.spans[first..], service, strings)
    {
        sink.spans.push(root);
    }
}

/// Whether a span's own trace id text names the same trace as its event's
/// (whose text parsed as `event_id`); the same text needs no parse.
fn same_trace(own: &str, event_text: &str, event_id: TraceId) -> bool {
    own == event_text || TraceId::parse(own).is_ok_and(|(own, _)| own == event_id)
}

/// Puts the spans read from one event (`sink.spans[first..]`, read from
/// `spans[read[k]]`) whose parent is not in the event, or that name none,
/// under the event's root, as Sentry's span tree does; each is counted.
fn adopt_orphans<'p>(
    sink: &mut Sink<'_>,
    record: &Record<'_>,
    first: usize,
    read: &[usize],
    root: SpanId,
    span_at: &impl Fn(usize) -> Vec<Step<'p>>,
) {
    let own: rustc_hash::FxHashSet<SpanId> = sink.spans[first..]
        .iter()
        .map(|s| s.span.span_id)
        .chain([root])
        .collect();
    for (k, &i) in read.iter().enumerate() {
        let read = &sink.spans[first + k];
        let span = &read.span;
        if span.span_id == root || span.parent_id.is_some_and(|p| own.contains(&p)) {
            continue;
        }
        let message = match span.parent_id {
            Some(parent) => format!(
                "parent {parent} is not in the span's event; put under the event's root {root}"
            ),
            None => format!("names no parent; put under its event's root {root}"),
        };
        let ids = ids_of(read);
        count_span(
            sink,
            record,
            &span_at(i),
            ids,
            (Count::SentryOrphanSpans, message),
        );
        sink.spans[first + k].span.parent_id = Some(root);
    }
}

/// A span's trace id, trace label and span id.
type Ids = (TraceId, Option<Sym>, SpanId);

fn ids_of(read: &TracedSpan) -> Ids {
    (read.trace_id, read.span.trace_label, read.span.span_id)
}

/// Counts a problem of the span with `ids`, read at `path` of `record`,
/// keeping it as a located example while there is room (the line is only
/// looked for then).
fn count_span(
    sink: &mut Sink<'_>,
    record: &Record<'_>,
    path: &[Step<'_>],
    (trace_id, label, span_id): Ids,
    (count, message): (Count, String),
) {
    let location = sink
        .quality
        .wants_example(count)
        .then(|| location_of(record, path));
    let (file, strings) = (&sink.name, sink.strings);
    sink.quality.count(count, || SpanExample {
        file: Some(file.clone()),
        location,
        trace_id: match label {
            Some(label) => strings.resolve(label).to_string(),
            None => trace_id.to_string(),
        },
        span_id: span_id.to_string(),
        message,
    });
}

/// The root of an event without `contexts.trace`: when all of its top-level
/// spans hang off one parent id that is none of its own spans, that id is
/// the transaction's own span (Sentry's detectors treat it so), timed by the
/// event and named by `transaction`. Without this the spans would be
/// orphans with no common parent.
fn implicit_root(
    event: &EventParts<'_>,
    spans: &[TracedSpan],
    service: Sym,
    strings: &Interner,
) -> Option<TracedSpan> {
    let own: rustc_hash::FxHashSet<SpanId> = spans.iter().map(|s| s.span.span_id).collect();
    let mut outside = spans.iter().filter_map(|s| {
        s.span
            .parent_id
            .filter(|p| !own.contains(p))
            .map(|p| (s.trace_id, p))
    });
    let (trace_id, parent) = outside.next()?;
    if outside.any(|other| other != (trace_id, parent)) {
        return None;
    }
    let name = event.transaction.or(event.title).unwrap_or("unknown");
    let template = spans.first()?;
    Some(TracedSpan {
        trace_id,
        span: Span {
            start: time(event.start, "start_timestamp").ok()?,
            end: time(event.end, "timestamp").ok()?,
            kind: SpanKind::Internal,
            trace_label: template.span.trace_label,
            ..Span::new(parent, service, strings.intern(name))
        },
    })
}

/// The event's span list and its path: `spans`, or the API export's
/// `entries[k].data` where `entries[k].type` is `spans`.
fn spans_of(event: &Map<String, Value>) -> Option<(&Vec<Value>, Vec<Step<'static>>)> {
    if let Some(spans) = event.get("spans").and_then(Value::as_array) {
        return Some((spans, vec![Step::Key("spans")]));
    }
    let entries = event.get("entries")?.as_array()?;
    entries.iter().enumerate().find_map(|(k, entry)| {
        let spans = entry.get("data")?.as_array()?;
        (entry.get("type")?.as_str()? == "spans").then(|| (spans, entries_path(k)))
    })
}

/// The path of the span list in the `k`th of an event's `entries`.
fn entries_path(k: usize) -> Vec<Step<'static>> {
    vec![Step::Key("entries"), Step::Index(k), Step::Key("data")]
}

/// The keys naming an event's service, in the order they are tried before
/// `sdk.name` (see module docs).
const SERVICE_KEYS: [&str; 6] = [
    "project_name",
    "projectSlug",
    "project",
    "project_id",
    "projectID",
    "server_name",
];

/// The service: project, then server name, then SDK name (see module docs).
fn service_name(event: &Map<String, Value>) -> Cow<'_, str> {
    SERVICE_KEYS
        .iter()
        .find_map(|key| event.get(*key).and_then(scalar_text))
        .or_else(|| event.get("sdk")?.get("name").and_then(scalar_text))
        .unwrap_or(Cow::Borrowed("unknown"))
}

fn root_span(
    event: &EventParts<'_>,
    trace: &TraceParts<'_>,
    parsed: Option<ParsedTrace<'_>>,
    service: Sym,
    strings: &Interner,
) -> Result<TracedSpan, String> {
    let (trace_text, parsed) = parsed.ok_or("contexts.trace has no trace_id")?;
    let span_text = trace.span_id.ok_or("contexts.trace has no span_id")?;
    let op = trace.op;
    let name = event
        .transaction
        .or(event.title)
        .or(op)
        .unwrap_or("unknown");
    let mut attrs = AttrsBuilder::default();
    add_members(&mut attrs, strings, &trace.data);
    let TracedSpan { trace_id, span } = ids(trace_text, parsed, span_text, service, strings)?;
    let span = Span {
        parent_id: trace.parent_span_id.and_then(SpanId::parse_parent),
        start: time(event.start, "start_timestamp")?,
        end: time(event.end, "timestamp")?,
        service,
        name: strings.intern(name),
        kind: op.map_or(SpanKind::Internal, kind),
        status: status(trace.status),
        attrs: attrs.finish(strings),
        links: links(&trace.links),
        ..span
    };
    Ok(TracedSpan { trace_id, span })
}

/// Keeps the attributes among `members`, as
/// [`AddJson`](super::json_scalars::AddJson) does for a
/// `Value`.
fn add_members<'v>(attrs: &mut AttrsBuilder<'v>, strings: &Interner, members: &'v [Member<'_>]) {
    for member in members {
        if let Kept::Attr(slot, preferred) = member.kept
            && let Some(text) = member.value.text()
        {
            attrs.set(strings, slot, preferred, text);
        }
    }
}

thread_local! {
    /// The buffer a span's name is written into, to be interned: one a
    /// thread, handed back after each span (one not handed back, on an
    /// error, is made again).
    static NAME: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) };
}

fn child_span(
    span: &SpanParts<'_>,
    event_trace: Option<EventTrace<'_>>,
    service: Sym,
    strings: &Interner,
) -> Result<TracedSpan, String> {
    let span_text = span.span_id.ok_or("span has no span_id")?;
    let (trace_text, parsed) = match (event_trace, span.trace_id) {
        (Some((text, id, is_hex)), _) => (text, Ok((id, is_hex))),
        (None, Some(text)) => (text, TraceId::parse(text)),
        (None, None) => return Err("span has no trace_id, nor has its event".into()),
    };
    // From the cache: repeated calls are shaped once (a URL's shape was
    // made afresh for every call, 2.6% of a Sentry read's instructions),
    // and the builder below finds a statement's shape there again.
    let shape = |system: Option<&str>, statement: &str| {
        let system = system.map(|s| strings.intern(s));
        strings.resolve(shape_cache::statement(strings, system, statement))
    };
    let url_shape = |url: &str| strings.resolve(shape_cache::http(strings, None, url));
    let data = |key: &str| {
        let member = span.data.iter().find(|m| m.key == key);
        member.and_then(|m| m.value.as_str())
    };
    let mut name = NAME.take();
    let described = describe(span.op, span.description, data, shape, url_shape, &mut name);
    let mut attrs = AttrsBuilder::default();
    add_members(&mut attrs, strings, &span.data);
    add_members(&mut attrs, strings, &span.tags);
    let implied = [
        (AttrKey::DbSystem, described.db_system),
        (AttrKey::DbStatement, described.db_statement),
        (AttrKey::HttpMethod, described.http_method),
        (AttrKey::UrlFull, described.url),
    ];
    for (slot, text) in implied {
        if let Some(text) = text {
            attrs.imply(strings, slot, text);
        }
    }
    let TracedSpan {
        trace_id,
        span: read,
    } = ids(trace_text, parsed, span_text, service, strings)?;
    let read = Span {
        parent_id: span.parent_span_id.and_then(SpanId::parse_parent),
        start: time(span.start, "start_timestamp")?,
        end: time(span.end, "timestamp")?,
        service,
        name: strings.intern(&name),
        kind: described.kind,
        status: status(span.status),
        attrs: attrs.finish(strings),
        links: links(&span.links),
        ..read
    };
    NAME.set(name);
    Ok(TracedSpan {
        trace_id,
        span: read,
    })
}

/// A span with just its ids (and the trace label for non-hex trace ids)
/// set, for the other fields to be filled in; `parsed` is `trace_text`
/// parsed. `placeholder` fills the service and name, which every caller
/// sets: interning a placeholder here took the same lock for every span
/// on every thread (7% of a Sentry run's time).
fn ids(
    trace_text: &str,
    parsed: Result<(TraceId, bool), IdError>,
    span_text: &str,
    placeholder: Sym,
    strings: &Interner,
) -> Result<TracedSpan, String> {
    let (trace_id, is_hex) = parsed.map_err(|e| format!("bad trace_id {trace_text:?}: {e}"))?;
    let span_id =
        SpanId::parse(span_text).map_err(|e| format!("bad span_id {span_text:?}: {e}"))?;
    Ok(TracedSpan {
        trace_id,
        span: Span {
            trace_label: (!is_hex).then(|| strings.intern(trace_text.trim())),
            ..Span::new(span_id, placeholder, placeholder)
        },
    })
}

/// A time in nanoseconds; `first_key` names the field when none is given.
fn time(found: Option<Time<'_>>, first_key: &str) -> Result<Nanos, String> {
    match found.ok_or_else(|| format!("no \"{first_key}\""))? {
        (_, Stamp::Nanos(nanos)) => Ok(nanos),
        (key, Stamp::Value(value)) => timestamp_nanos(value).map_err(|e| format!("\"{key}\": {e}")),
    }
}

/// Sentry's own failure rate counts every status but `ok`, `cancelled` and
/// `unknown` as a failure; those two say nothing either way.
fn status(status: Option<&str>) -> Status {
    match status {
        Some("ok") => Status::Ok,
        Some("cancelled" | "unknown") | None => Status::Unset,
        Some(_) => Status::Error,
    }
}

/// The links that name a valid trace and span.
fn links(links: &[LinkParts<'_>]) -> Option<crate::model::Links> {
    let links: Vec<SpanLink> = links
        .iter()
        .filter_map(|&(trace_id, span_id)| {
            Some(SpanLink {
                trace_id: TraceId::parse(trace_id?).ok()?.0,
                span_id: SpanId::parse(span_id?).ok()?,
            })
        })
        .collect();
    (!links.is_empty()).then(|| Box::new(links))
}

#[cfg(test)]
mod tests;
