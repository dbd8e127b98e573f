//! Jaeger JSON, as the Jaeger UI "Download JSON" button and the query API
//! (`/api/traces`) write it.
//!
//! Accepted shapes, each as one document or as JSON lines:
//! - `{"data": [trace, ...], ...}`: the query API envelope; other top-level
//!   members (`total`, `errors`, CRISP's `testing`) are ignored, except that
//!   reported `errors` are counted as unreadable records;
//! - a bare trace `{"traceID", "spans", "processes"}`;
//! - an array of traces.
//!
//! A large envelope (64 KiB or more, starting `{"data": [`), array of
//! traces (starting `[{`) or other object (a bare trace) is read a window
//! at a time ([`super::json_envelope`]), never held whole, and so are JSON
//! lines from a line longer than a window on; a trace larger than 256 KiB
//! is read span by span ([`cut`]). A document that breaks off inside its
//! array keeps the traces (and the spans of the trace it breaks in) before
//! the break, and the rest counts as one unreadable record at its line.
//!
//! Per span: `spanID`, a trace id (the span's `traceID`, else the trace's)
//! and `startTime`/`duration` (microseconds) are required; a span without
//! them is skipped and counted at the line its object opens on, and one
//! whose start or end (`startTime + duration`) lies outside 1970..2200 is
//! counted there as an invalid time (see [`super::times`]). The parent
//! is the first `CHILD_OF` reference into the same trace, else the first
//! `FOLLOWS_FROM` one, else the legacy `parentSpanID`; every other reference
//! becomes a link. The service is the span's own `process.serviceName`, else
//! that of `processes[processID]`, else `unknown`; a missing operation name
//! is also `unknown`. Tags give the kind (`span.kind`), the status (`error`
//! true → error; `otel.status_code` `ERROR`/`OK`) and the attributes
//! [`crate::model::AttrKey::lookup`] knows. Ids that are not hex (Jaeger UI
//! test data uses `span-A`) are hashed, keeping the trace id text as label.
//! Spans sharing an id are all emitted; the model keeps one.

mod cut;
mod fast;
mod typed;

use std::borrow::Cow;

use rustc_hash::FxHashMap;
use serde_json::Value;

use super::json_envelope::{self, Envelope, Located, Piece};
use super::json_locate::{Step, reject_at, skip_at};
use super::json_records::{Record, json_with_key, lines_framing, parse, read_value, records_of};
use super::json_scalars::{scalar_text, str_field};
use super::times::{self, Rejected};
use super::{Format, Framing, Input, ReadError, Reader, Sink};
use crate::model::{
    AttrKey, AttrsBuilder, Interner, Location, Nanos, ProcessServices, ServiceFrom, Span, SpanId,
    SpanKind, SpanLink, Status, Sym, TraceId, TraceIdMemo, TracedSpan,
};

/// Reads Jaeger JSON exports.
pub struct JaegerReader;

impl Reader for JaegerReader {
    fn format(&self) -> Format {
        Format::Jaeger
    }

    fn sniff(&self, head: &[u8]) -> bool {
        (json_with_key(head, b"\"traceID\"") || json_with_key(head, b"\"spanID\""))
            && memchr::memmem::find(head, b"\"resourceSpans\"").is_none()
    }

    fn framing(&self, head: &[u8]) -> Option<Framing> {
        // JSON lines are cut at line ends until one is longer than a
        // window; from there on as envelopes (see `Framing::LinesOr`).
        let lines = lines_framing(head).map(|_| Framing::LinesOr(Envelope::JAEGER_LINES));
        lines.or_else(|| {
            if Envelope::JAEGER.starts(head) {
                Some(Framing::Envelope(Envelope::JAEGER))
            } else if Envelope::array_of(head, b'{') {
                // A bare array of traces, read a trace at a time as well.
                Some(Framing::Envelope(Envelope::JAEGER_ARRAY))
            } else {
                // Any other object, read as a document (a bare trace larger
                // than 256 KiB span by span), or objects one after another.
                let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
                let first = json_envelope::skip_space(head, 0);
                let object = head.get(first) == Some(&b'{');
                object.then_some(Framing::Envelope(Envelope::JAEGER_LINES))
            }
        })
    }

    fn read(&self, input: &Input<'_>, sink: &mut Sink<'_>) -> Result<(), ReadError> {
        if let Some(pieces) = input.pieces {
            return read_pieces(input, pieces, sink);
        }
        let records = records_of(input);
        let single = records.len() == 1 && !input.window;
        if read_whole_records(input, &records, single, sink)? {
            Ok(())
        } else {
            Err(ReadError::new(input, Location::Whole, NOT_JAEGER))
        }
    }
}

/// Reads records each held whole (JSON lines, or one document), of any
/// accepted shape; whether any was one. A record that is not JSON is the
/// input's error if it is the whole input (`single`), else counted.
fn read_whole_records(
    input: &Input<'_>,
    records: &[Record<'_>],
    single: bool,
    sink: &mut Sink<'_>,
) -> Result<bool, ReadError> {
    let mut recognised = false;
    for record in records {
        // An envelope's traces are found without parsing it whole.
        recognised |= read_envelope(record, sink)
            || read_value(input, record, single, sink, NOT_JAEGER, read_record)?;
    }
    Ok(recognised)
}

/// Reads `record` if it is one `{"data": [...]}` envelope or one array of
/// traces; `false` if it is neither (or is malformed around its traces),
/// for the general path to read or report. Its traces are found as a large
/// document's are, a window at a time ([`json_envelope`]), so that both
/// read alike: each trace located at its own line.
fn read_envelope(record: &Record<'_>, sink: &mut Sink<'_>) -> bool {
    for envelope in [Envelope::JAEGER, Envelope::ARRAY] {
        // Members, then the end of the one document, which must parse.
        let Some((pieces, end)) = envelope.whole(record.bytes) else {
            continue;
        };
        // Its end, and any members before the array, must parse too.
        let lead_parses = match pieces.first() {
            Some(Piece::Lead(lead)) => {
                parse::<Value>(&Envelope::lead_as_document(&record.bytes[lead.clone()])).is_ok()
            }
            _ => true,
        };
        if envelope.keyed() && (envelope_end(&record.bytes[end]).is_err() || !lead_parses) {
            return false;
        }
        read_members(envelope, record.bytes, record.line, &pieces, sink);
        return true;
    }
    false
}

/// Reads traces that are each a record of their own (the members of an
/// envelope's `data` array).
fn read_traces(traces: &[Record<'_>], sink: &mut Sink<'_>) {
    for trace in traces {
        let from = sink.spans.len();
        if !read_typed_trace(trace, sink) {
            match serde_json::from_slice::<Value>(trace.bytes) {
                Ok(value) => read_trace(trace, &value, &[], sink),
                Err(err) => sink.skip(trace.error_location(&err), format!("invalid JSON: {err}")),
            }
        }
        sink.locate(from, &Location::Line(trace.line));
    }
}

/// Reads one window of a large envelope (see [`Framing::Envelope`]). An
/// error if the window holds no trace and no envelope's end: where the
/// document breaks, if it does (the input's error if no other window holds
/// anything either).
fn read_pieces(
    input: &Input<'_>,
    pieces: Located<'_>,
    sink: &mut Sink<'_>,
) -> Result<(), ReadError> {
    let records = json_envelope::located_records(input.bytes, 1, pieces);
    // Lines of another shape between envelopes (JSON lines cut as
    // envelopes: see `Envelope::JAEGER_LINES`), each read as a line is.
    let documents = read_whole_records(input, &records.documents, false, sink)?;
    match read_records(records, sink) {
        Members {
            recognised: true, ..
        } => Ok(()),
        _ if documents => Ok(()),
        Members {
            broken: Some((at, message)),
            ..
        } => Err(ReadError::new(input, at, message)),
        Members { broken: None, .. } => Err(ReadError::new(input, Location::Whole, NOT_JAEGER)),
    }
}

/// What [`read_members`] found.
struct Members {
    /// Whether there was a trace or an envelope's end.
    recognised: bool,
    /// Where the input stopped being an envelope, and the message counted.
    broken: Option<(Location, String)>,
}

/// Reads the pieces of an envelope found in `bytes` (whose first line is
/// `first_line`): the errors each envelope reports, then its traces in
/// parallel (so a whole document counts them in that order too).
fn read_members(
    envelope: Envelope,
    bytes: &[u8],
    first_line: u64,
    pieces: &[Piece],
    sink: &mut Sink<'_>,
) -> Members {
    read_records(
        json_envelope::records(envelope, bytes, first_line, pieces),
        sink,
    )
}

/// [`read_members`] of pieces made records.
fn read_records(records: json_envelope::Records<'_>, sink: &mut Sink<'_>) -> Members {
    // A bare array's end is its `]`, with no errors to report.
    if records.envelope.keyed() {
        for lead in records.lead_documents().records() {
            read_envelope_lead(&lead, sink);
        }
        for end in &records.tails {
            read_envelope_end(end, sink);
        }
    }
    super::read_chunks(
        records.members.chunks(TRACES_PER_TASK).collect(),
        sink,
        |chunk, part| {
            read_traces(chunk, part);
            true
        },
    );
    let what = if records.envelope == Envelope::JAEGER_LINES {
        // Objects one after another: bare traces as well as envelopes.
        "a Jaeger export"
    } else if records.envelope.keyed() {
        "a Jaeger export's envelope"
    } else {
        "a Jaeger export's array of traces"
    };
    cut::read(&records.cuts, sink);
    let broken = records.count_broken(what, sink);
    Members {
        // A trace's head alone, cut off before any of its spans, holds
        // nothing to read.
        recognised: !records.members.is_empty()
            || !records.leads.is_empty()
            || !records.tails.is_empty()
            || records
                .cuts
                .iter()
                .any(|c| c.part != json_envelope::Part::Head),
        broken,
    }
}

/// The errors an envelope reports, given its end: `]`, the other members
/// and the closing `}`; an error if that is not JSON.
fn envelope_end(end: &[u8]) -> serde_json::Result<Option<Value>> {
    /// The members after the array; `data` again is an error.
    #[derive(serde::Deserialize)]
    struct Rest {
        #[serde(rename = "data")]
        _data: serde::de::IgnoredAny,
        #[serde(default)]
        errors: Option<Value>,
    }
    // Put back an empty array in place of the one read (no newline added,
    // so errors keep their lines) and parse the document that makes.
    let object = [&b"{\"data\":["[..], end].concat();
    parse::<Rest>(&object).map(|rest| rest.errors)
}

/// Counts the errors an envelope reports before its array, given the
/// members there made a document ([`Envelope::lead_as_document`]).
fn read_envelope_lead(lead: &Record<'_>, sink: &mut Sink<'_>) {
    match parse::<Value>(lead.bytes) {
        Ok(value) => report_export_errors(lead, value.get("errors"), sink),
        Err(err) => sink.skip(
            lead.error_location(&err),
            format!("invalid JSON before a Jaeger export's data array: {err}"),
        ),
    }
}

/// Counts the errors an envelope reports, given its end.
fn read_envelope_end(end: &Record<'_>, sink: &mut Sink<'_>) {
    match envelope_end(end.bytes) {
        Ok(errors) => report_export_errors(end, errors.as_ref(), sink),
        Err(err) => sink.skip(
            end.error_location(&err),
            format!("invalid JSON at the end of a Jaeger export's data array: {err}"),
        ),
    }
}

/// Traces per parallel task: enough to amortise the task, few enough to
/// keep both cores busy on small exports.
const TRACES_PER_TASK: usize = 64;

const NOT_JAEGER: &str = "expected Jaeger JSON: {\"data\": [traces]}, a trace object with \"spans\", or an array of traces";

/// Reads one record; `false` if it has none of the accepted shapes.
fn read_record(record: &Record<'_>, value: &Value, sink: &mut Sink<'_>) -> bool {
    match value {
        Value::Object(object) if object.contains_key("spans") => {
            read_trace(record, value, &[], sink);
        }
        Value::Object(object) if object.contains_key("data") => {
            report_export_errors(record, object.get("errors"), sink);
            match &object["data"] {
                Value::Array(traces) => {
                    for (i, trace) in traces.iter().enumerate() {
                        read_trace(record, trace, &[Step::Key("data"), Step::Index(i)], sink);
                    }
                }
                Value::Null => {}
                _ => skip_at(
                    sink,
                    record,
                    &[],
                    "\"data\" is not an array of traces".into(),
                ),
            }
        }
        Value::Array(traces) => {
            for (i, trace) in traces.iter().enumerate() {
                read_trace(record, trace, &[Step::Index(i)], sink);
            }
        }
        _ => return false,
    }
    true
}

/// The query API reports failures beside (possibly partial) data.
fn report_export_errors(record: &Record<'_>, errors: Option<&Value>, sink: &mut Sink<'_>) {
    let Some(Value::Array(errors)) = errors else {
        return;
    };
    for error in errors {
        let message = error
            .get("msg")
            .and_then(scalar_text)
            .map_or_else(|| error.to_string(), |m| m.into_owned());
        sink.skip(
            Location::Line(record.line),
            format!("the export reports an error: {message}"),
        );
    }
}

/// Reads a trace through the typed, borrowing model (filled by the JSON
/// scanner, [`fast`], or by serde where the scanner gives up); `false`
/// (with nothing read) when it needs the general path.
fn read_typed_trace(record: &Record<'_>, sink: &mut Sink<'_>) -> bool {
    let Ok(typed::Object(trace)) = fast::trace(record.bytes) else {
        return false;
    };
    let mut services = FxHashMap::default();
    for (id, process) in trace.processes.iter().flatten() {
        if let Some(name) = process.as_ref().and_then(|p| text(&p.0.service_name)) {
            services.insert(id.as_ref(), sink.strings.intern(name));
        }
    }
    let context = TraceContext {
        trace_id: text(&trace.trace_id),
        services,
        cut: None,
    };
    let mut trace_ids = TraceIdMemo::default();
    let from = sink.spans.len();
    sink.spans.reserve(trace.spans.len());
    let mut parts = Parts::default();
    for span in &trace.spans {
        // A span that needs the general path, or a bad one (located there,
        // which finds its index): the trace's spans go, to be read again
        // there.
        let converted = typed_parts_into(&span.0, &mut parts).and_then(|()| {
            convert_span(&parts, &context, sink.strings, &mut trace_ids)
                .map_err(Rejected::from)
                .and_then(times::checked)
                .ok()
        });
        match converted {
            Some(span) => sink.spans.push(span),
            None => {
                sink.spans.truncate(from);
                return false;
            }
        }
    }
    true
}

/// What every span of one trace object shares.
struct TraceContext<'v> {
    trace_id: Option<&'v str>,
    services: FxHashMap<&'v str, Sym>,
    /// For a trace read in parts, its input's name and number among those
    /// ([`json_envelope::Piece::Cut`]): its processes may come after the
    /// span, so the span waits for its service ([`ServiceFrom::Process`]).
    cut: Option<(&'v str, u64)>,
}

fn read_trace(record: &Record<'_>, trace: &Value, path: &[Step<'_>], sink: &mut Sink<'_>) {
    let Some(object) = trace.as_object() else {
        skip_at(sink, record, path, "expected a trace object".into());
        return;
    };
    let Some(spans) = object.get("spans").and_then(Value::as_array) else {
        skip_at(sink, record, path, "trace has no \"spans\" array".into());
        return;
    };
    let mut services = FxHashMap::default();
    if let Some(processes) = object.get("processes").and_then(Value::as_object) {
        for (id, process) in processes {
            if let Some(name) = process
                .as_object()
                .and_then(|p| str_field(p, "serviceName"))
            {
                services.insert(id.as_str(), sink.strings.intern(name));
            }
        }
    }
    let context = TraceContext {
        trace_id: str_field(object, "traceID"),
        services,
        cut: None,
    };
    let mut trace_ids = TraceIdMemo::default();
    for (i, span) in spans.iter().enumerate() {
        let converted = value_parts(span)
            .and_then(|parts| convert_span(&parts, &context, sink.strings, &mut trace_ids))
            .map_err(Rejected::from)
            .and_then(times::checked);
        match converted {
            Ok(span) => sink.spans.push(span),
            Err(message) => {
                let mut at = path.to_vec();
                at.extend([Step::Key("spans"), Step::Index(i)]);
                reject_at(sink, record, &at, message);
            }
        }
    }
}

/// What converting a span needs, however the span was parsed.
#[derive(Default)]
struct Parts<'v> {
    span_id: Option<&'v str>,
    trace_id: Option<&'v str>,
    start: Option<Micros<'v>>,
    duration: Option<Micros<'v>>,
    /// `(spanID, traceID, is CHILD_OF)` of each reference.
    references: Vec<(Option<&'v str>, Option<&'v str>, bool)>,
    parent_span_id: Option<&'v str>,
    /// The tags critpath reads, as what it reads each as, with their
    /// values.
    tags: Vec<(TagUse, TagValue<'v>)>,
    operation: Option<&'v str>,
    /// `process.serviceName` of an embedded process.
    own_service: Option<&'v str>,
    process_id: Option<&'v str>,
}

/// What conversion reads a tag with `key` as; `None` for a key it does not
/// read. Decided once, where the tag is read: the key is not looked up
/// again when the span is made.
fn read_tag(key: &str) -> Option<TagUse> {
    Some(match key {
        "span.kind" => TagUse::Kind,
        "error" => TagUse::Error,
        "otel.status_code" => TagUse::StatusCode,
        key => {
            let (attr, preferred) = AttrKey::lookup(key)?;
            TagUse::Attr(attr, preferred)
        }
    })
}

/// What conversion reads a tag as: its role in the span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TagUse {
    /// `span.kind`.
    Kind,
    /// `error`.
    Error,
    /// `otel.status_code`.
    StatusCode,
    /// An attribute, and whether its key is the preferred spelling.
    Attr(AttrKey, bool),
}

/// The parts of a span parsed as a generic value.
fn value_parts(value: &Value) -> Result<Parts<'_>, String> {
    let span = value.as_object().ok_or("expected a span object")?;
    let references = span
        .get("references")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r.get("spanID").and_then(Value::as_str),
                r.get("traceID").and_then(Value::as_str),
                r.get("refType").and_then(Value::as_str) != Some("FOLLOWS_FROM"),
            )
        })
        .collect();
    let tags = span
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|tag| {
            let key = tag.get("key").and_then(Value::as_str)?;
            let value = tag.get("value").unwrap_or(&Value::Null);
            read_tag(key).map(|role| (role, TagValue::Json(Cow::Borrowed(value))))
        })
        .collect();
    Ok(Parts {
        span_id: str_field(span, "spanID"),
        trace_id: str_field(span, "traceID"),
        start: span
            .get("startTime")
            .map(|v| Micros::Json(Cow::Borrowed(v))),
        duration: span.get("duration").map(|v| Micros::Json(Cow::Borrowed(v))),
        references,
        parent_span_id: str_field(span, "parentSpanID"),
        tags,
        operation: str_field(span, "operationName"),
        own_service: span
            .get("process")
            .and_then(Value::as_object)
            .and_then(|p| str_field(p, "serviceName")),
        process_id: str_field(span, "processID"),
    })
}

/// A non-empty string member of a typed span.
fn text<'v>(member: &'v Option<Cow<'_, str>>) -> Option<&'v str> {
    member.as_deref().filter(|s| !s.is_empty())
}

/// The parts of a typed span; `None` if a member needs the general path
/// (a missing time, or a tag value that is not JSON serde can re-read).
fn typed_parts<'v>(span: &'v typed::Span<'_>) -> Option<Parts<'v>> {
    let mut parts = Parts::default();
    typed_parts_into(span, &mut parts)?;
    Some(parts)
}

/// [`typed_parts`], written over `parts`, whose tag and reference vectors
/// are cleared and refilled: a trace's spans reuse one `Parts`, where a
/// vector of them held two vectors a span.
fn typed_parts_into<'v>(span: &'v typed::Span<'_>, parts: &mut Parts<'v>) -> Option<()> {
    let time = |r: Option<typed::Raw<'_>>| micros_of(r?.text);
    let tags = &mut parts.tags;
    tags.clear();
    for tag in span.tags.iter().flat_map(|tags| &tags.0) {
        // `read` is given only with a key.
        match (tag.read, tag.value) {
            (Some(role), value) => {
                let value = match value {
                    Some(v) => match v.plain_string() {
                        Some(text) => TagValue::Text(text),
                        None => TagValue::Json(Cow::Owned(value_of(v.text)?)),
                    },
                    None => TagValue::Json(Cow::Owned(Value::Null)),
                };
                tags.push((role, value));
            }
            (_, Some(v)) if !typed::checked(v) => return None,
            _ => {}
        }
    }
    parts.start = Some(time(span.start)?);
    parts.duration = Some(time(span.duration)?);
    parts.references.clear();
    parts
        .references
        .extend(span.references.iter().flatten().map(|typed::Object(r)| {
            (
                r.span_id.as_deref(),
                r.trace_id.as_deref(),
                r.ref_type.as_deref() != Some("FOLLOWS_FROM"),
            )
        }));
    parts.span_id = text(&span.span_id);
    parts.trace_id = text(&span.trace_id);
    parts.parent_span_id = text(&span.parent_span_id);
    parts.operation = text(&span.operation_name);
    parts.own_service = span.process.as_ref().and_then(|p| text(&p.0.service_name));
    parts.process_id = text(&span.process_id);
    Some(())
}

/// A tag's value: a string's text borrowed from the record (the usual
/// case, which needs no copy), or any JSON value.
enum TagValue<'v> {
    Text(&'v str),
    Json(Cow<'v, Value>),
}

impl<'v> TagValue<'v> {
    /// The value's text, as [`scalar_text`] gives it.
    fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            TagValue::Text(text) => (!text.is_empty()).then_some(Cow::Borrowed(*text)),
            TagValue::Json(value) => scalar_text(value),
        }
    }

    /// Whether the value is true, as an `error` tag says it.
    fn is_true(&self) -> bool {
        match self {
            TagValue::Text(text) => text.eq_ignore_ascii_case("true"),
            TagValue::Json(value) => is_true(value),
        }
    }
}

/// The text of a raw value if it is a string without escapes, as
/// [`typed::Raw::plain_string`] reads a value not known to be plain.
fn unescaped_text(text: &str) -> Option<&str> {
    let unknown = typed::Raw {
        text,
        unescaped: false,
    };
    unknown.plain_string()
}

/// A span's `startTime` or `duration`: nearly always a count written as
/// plain digits, kept as the number rather than made into a `Value` to be
/// matched again (about 16 instructions a time, on every span); anything
/// else as the JSON value it is, judged by [`micros_to_nanos`].
enum Micros<'v> {
    Count(i64),
    Json(Cow<'v, Value>),
}

/// A raw time's `text` as [`Micros`]: plain digits as a count, anything
/// else as [`value_of`] reads it.
fn micros_of<'v>(text: &str) -> Option<Micros<'v>> {
    match plain_count(text) {
        Some(n) => Some(Micros::Count(n)),
        None => value_of(text).map(|v| Micros::Json(Cow::Owned(v))),
    }
}

/// `text` as an integer when it is 1 to 18 digits and nothing else (at
/// most 18 digits always fits an i64; no sign, since `-0` parses to a
/// float). Read as the scanner reads leading digits (checking, then
/// `parse`, took 230 instructions a time, and every span has two).
fn plain_count(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() > 18 {
        return None;
    }
    let (n, len) = super::json_scan::leading_digits(bytes)?;
    (len == bytes.len())
        .then(|| i64::try_from(n).ok())
        .flatten()
}

/// A raw value's `text` as a `Value`. Times and tag values are nearly
/// always a plain integer or a string without escapes, made here without a
/// parser (which took most of the instructions spent re-reading them);
/// anything else is parsed.
fn value_of(text: &str) -> Option<Value> {
    if let Some(n) = plain_count(text) {
        return Some(Value::from(n));
    }
    if let Some(text) = unescaped_text(text) {
        return Some(Value::String(text.to_owned()));
    }
    serde_json::from_str(text).ok()
}

/// `parts` as the span they read as; `trace_ids` reads its trace ids (a
/// trace's spans share a memo).
fn convert_span(
    parts: &Parts<'_>,
    context: &TraceContext<'_>,
    strings: &Interner,
    trace_ids: &mut TraceIdMemo,
) -> Result<TracedSpan, String> {
    let span_id = parts.span_id.ok_or("span has no \"spanID\"")?;
    let span_id = SpanId::parse(span_id).map_err(|e| format!("bad spanID {span_id:?}: {e}"))?;
    let trace_text = parts
        .trace_id
        .or(context.trace_id)
        .ok_or("span has no \"traceID\" (nor does its trace)")?;
    let (trace_id, is_hex) = trace_ids
        .parse(trace_text)
        .map_err(|e| format!("bad traceID {trace_text:?}: {e}"))?;
    let start = micros_to_nanos(parts.start.as_ref(), "startTime")?;
    let duration = micros_to_nanos(parts.duration.as_ref(), "duration")?;
    // Saturates: an end beyond i64 is out of bounds and the span is then
    // counted as an invalid time (see `times::checked`), never wrapped.
    let end = start.saturating_add(duration);
    let (parent_id, links) = references(&parts.references, trace_id, trace_ids);
    let parent_id = parent_id.or_else(|| parts.parent_span_id.and_then(SpanId::parse_parent));

    let mut kind = SpanKind::Unspecified;
    let mut status = Status::Unset;
    let mut attrs = AttrsBuilder::default();
    for (role, value) in &parts.tags {
        match *role {
            TagUse::Kind => kind = value.text().map_or(kind, |k| SpanKind::from_name(&k)),
            TagUse::Error => {
                if value.is_true() {
                    status = Status::Error;
                }
            }
            TagUse::StatusCode => match value.text().as_deref() {
                Some(s) if s.eq_ignore_ascii_case("error") => status = Status::Error,
                Some(s) if s.eq_ignore_ascii_case("ok") && status == Status::Unset => {
                    status = Status::Ok;
                }
                _ => {}
            },
            TagUse::Attr(attr, preferred) => {
                if let Some(text) = value.text() {
                    attrs.set(strings, attr, preferred, text);
                }
            }
        }
    }

    let (service, service_from) = service(parts, context, strings);
    Ok(TracedSpan {
        trace_id,
        span: Span {
            span_id,
            parent_id,
            start,
            end,
            service,
            name: strings.intern(parts.operation.unwrap_or("unknown")),
            kind,
            status,
            id_sharing: crate::model::IdSharing::Own,
            service_from,
            attrs: attrs.finish(strings),
            links,
            trace_label: (!is_hex).then(|| strings.intern(trace_text.trim())),
            origin: crate::model::Origin::UNKNOWN,
        },
    })
}

/// The span's service: its own process's, else its trace's process's (or,
/// in a trace read in parts, that process's key, for it to wait for),
/// else `unknown`.
fn service(
    parts: &Parts<'_>,
    context: &TraceContext<'_>,
    strings: &Interner,
) -> (Sym, ServiceFrom) {
    if let Some(name) = parts.own_service {
        return (strings.intern(name), ServiceFrom::Own);
    }
    let named = match (parts.process_id, context.cut) {
        (Some(id), Some((input, member))) => {
            let key = ProcessServices::key(strings, input, member, id);
            return (key, ServiceFrom::Process);
        }
        (Some(id), None) => context.services.get(id).copied(),
        (None, _) => None,
    };
    let service = named.unwrap_or_else(|| strings.intern("unknown"));
    (service, ServiceFrom::Own)
}

/// The parent and the links from a span's references.
fn references(
    references: &[(Option<&str>, Option<&str>, bool)],
    trace_id: TraceId,
    trace_ids: &mut TraceIdMemo,
) -> (Option<SpanId>, Option<crate::model::Links>) {
    let mut link = |&(span_id, ref_trace, child_of): &(Option<&str>, Option<&str>, bool)| {
        let span_id = span_id.and_then(SpanId::parse_parent)?;
        // A reference without a trace id points into the span's own trace.
        let ref_trace = ref_trace
            .and_then(|t| trace_ids.parse(t).ok())
            .map_or(trace_id, |(id, _)| id);
        Some((
            child_of,
            SpanLink {
                trace_id: ref_trace,
                span_id,
            },
        ))
    };
    // Most spans have one reference: their parent, or a link into another
    // trace. Read without a list, which was an allocation a span.
    if let [only] = references {
        return match link(only) {
            Some((_, to)) if to.trace_id == trace_id => (Some(to.span_id), None),
            Some((_, to)) => (None, Some(Box::new(vec![to]))),
            None => (None, None),
        };
    }
    let refs: Vec<_> = references.iter().filter_map(link).collect();
    let same_trace = |wanted: bool| {
        refs.iter()
            .find(|(child_of, link)| *child_of == wanted && link.trace_id == trace_id)
            .map(|(_, link)| link.span_id)
    };
    let parent = same_trace(true).or_else(|| same_trace(false));
    let mut links: Vec<SpanLink> = Vec::new();
    for (_, link) in refs {
        let is_parent = link.trace_id == trace_id && Some(link.span_id) == parent;
        if !is_parent && !links.contains(&link) {
            links.push(link);
        }
    }
    (parent, (!links.is_empty()).then(|| Box::new(links)))
}

fn is_true(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// A microsecond count (number, or number as text) in nanoseconds.
fn micros_to_nanos(time: Option<&Micros<'_>>, field: &str) -> Result<Nanos, String> {
    let value = match time.ok_or_else(|| format!("span has no \"{field}\""))? {
        // Saturates as below: 18 digits of microseconds can pass i64
        // nanoseconds.
        Micros::Count(micros) => return Ok(micros.saturating_mul(1000)),
        Micros::Json(value) => value,
    };
    let micros = match &**value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.abs() < 9.2e15)
                .map(|f| f.round() as i64)
        }),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    // A count too large for i64 nanoseconds saturates, so the span is
    // counted as an invalid time rather than as unparsable.
    micros
        .map(|m| m.saturating_mul(1000))
        .ok_or_else(|| format!("\"{field}\" is not a microsecond count in range: {value}"))
}

#[cfg(test)]
mod tests;
