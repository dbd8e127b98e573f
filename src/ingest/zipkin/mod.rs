//! Zipkin v2 JSON, as Zipkin's API (`/api/v2/trace/{id}`, `/api/v2/traces`)
//! and its UI's JSON download write it, and as many gateways and meshes
//! export it.
//!
//! Accepted shapes, each as one document or as JSON lines: an array of spans
//! (one trace, or any spans), an array of such arrays (`/api/v2/traces`), or
//! one span object per line. An array of 64 KiB or more is read a window of
//! whole members at a time ([`super::json_envelope`]).
//!
//! Per span: `traceId`, `id` and `timestamp` are required; a span without
//! them is skipped and counted at the line its object opens on, and one whose
//! start or end lies outside 1970..2200 is counted there as an invalid time
//! (see [`super::times`]). `timestamp` and `duration` are microseconds; a
//! span without `duration` (Zipkin's "incomplete" span) is kept with zero
//! duration, which the trace checks count. The service is
//! `localEndpoint.serviceName` (else `unknown`), the operation `name` (else
//! `unknown`), the kind `kind` (`CLIENT`, `SERVER`, `PRODUCER`, `CONSUMER`;
//! absent is a local span, [`SpanKind::Internal`]). `remoteEndpoint.serviceName`
//! becomes `peer.service` (and, on a `PRODUCER`/`CONSUMER` span, the
//! messaging system). Tags: an `error` tag (any value) makes the span an
//! error, `otel.status_code` `ERROR`/`OK` too; the keys
//! [`crate::model::AttrKey::lookup`] knows are kept, plus Brave's
//! `sql.query` (the statement), `kafka.topic` and `rabbit.queue` (the
//! destination), which never override the standard keys.
//!
//! Shared spans: Zipkin lets the client and server halves of one RPC carry
//! the same span id, the server half marked `shared: true`. Each span read
//! says whether it was marked ([`IdSharing`]); the halves are told apart
//! when their trace is built ([`crate::model::split_shared`]), since they
//! may be read in different windows of a large input or from different
//! files.

use serde_json::{Map, Value};

use super::json_envelope::Envelope;
use super::json_locate::{Step, reject_at};
use super::json_records::{Record, first_byte, lines_framing, read_values, records_or_members};
use super::json_scalars::{AddJson, scalar_text, str_field};
use super::times::{self, Rejected};
use super::{Format, Framing, Input, ReadError, Reader, Sink};
use crate::model::{
    AttrKey, AttrsBuilder, IdSharing, Interner, Location, Nanos, Span, SpanId, SpanKind, Status,
    TraceId, TracedSpan,
};

/// Reads Zipkin v2 JSON.
pub struct ZipkinReader;

impl Reader for ZipkinReader {
    fn format(&self) -> Format {
        Format::Zipkin
    }

    fn sniff(&self, head: &[u8]) -> bool {
        sniff(head)
    }

    fn framing(&self, head: &[u8]) -> Option<Framing> {
        // An array of traces is read a trace at a time, an array of spans
        // a run of spans at a time: shared halves are paired when their
        // trace is built, wherever they were read.
        // JSON lines are cut at line ends until one is longer than a
        // window; from there on as arrays (see `Framing::LinesOr`).
        let lines = lines_framing(head).map(|_| Framing::LinesOr(Envelope::ARRAY_LINES));
        lines.or_else(|| {
            (Envelope::array_of(head, b'[') || Envelope::array_of(head, b'{'))
                .then_some(Framing::Envelope(Envelope::ARRAY))
        })
    }

    fn read(&self, input: &Input<'_>, sink: &mut Sink<'_>) -> Result<(), ReadError> {
        let records = records_or_members(input, "an array of Zipkin traces", sink);
        let single = records.len() == 1 && !input.window;
        if !read_values(input, &records, single, sink, NOT_ZIPKIN, read_record)? {
            return Err(ReadError::new(input, Location::Whole, NOT_ZIPKIN));
        }
        Ok(())
    }
}

/// Whether `head` looks like Zipkin v2 JSON: JSON with Zipkin's `traceId`
/// and `id` keys, and none of the keys that mark OTLP (`spanId`,
/// `resourceSpans`), Jaeger (`traceID`) or Zipkin v1 (`binaryAnnotations`).
pub(crate) fn sniff(head: &[u8]) -> bool {
    let has = |needle: &[u8]| memchr::memmem::find(head, needle).is_some();
    matches!(first_byte(head), Some(b'{' | b'['))
        && has(b"\"traceId\"")
        && has(b"\"id\"")
        && (has(b"\"timestamp\"") || has(b"\"localEndpoint\""))
        && !has(b"\"spanId\"")
        && !has(b"\"resourceSpans\"")
        && !has(b"\"traceID\"")
        && !has(b"\"binaryAnnotations\"")
}

const NOT_ZIPKIN: &str = "expected Zipkin v2 JSON: an array of spans, an array of such arrays, or a span object with \"traceId\" and \"id\"";

/// Reads one record; `false` if it has none of the accepted shapes.
fn read_record(record: &Record<'_>, value: &Value, sink: &mut Sink<'_>) -> bool {
    match value {
        Value::Object(object) if object.contains_key("traceId") || object.contains_key("id") => {
            read_span(record, value, &[], sink);
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::Array(trace) => {
                        for (j, span) in trace.iter().enumerate() {
                            read_span(record, span, &[Step::Index(i), Step::Index(j)], sink);
                        }
                    }
                    _ => read_span(record, item, &[Step::Index(i)], sink),
                }
            }
        }
        _ => return false,
    }
    true
}

fn read_span(record: &Record<'_>, value: &Value, path: &[Step<'_>], sink: &mut Sink<'_>) {
    let converted = convert_span(value, sink.strings)
        .map_err(Rejected::from)
        .and_then(times::checked);
    match converted {
        Ok(span) => sink.spans.push(span),
        Err(rejected) => reject_at(sink, record, path, rejected),
    }
}

fn convert_span(value: &Value, strings: &Interner) -> Result<TracedSpan, String> {
    let span = value.as_object().ok_or("expected a Zipkin span object")?;
    let trace_text = str_field(span, "traceId").ok_or("span has no \"traceId\"")?;
    let (trace_id, is_hex) =
        TraceId::parse(trace_text).map_err(|e| format!("bad traceId {trace_text:?}: {e}"))?;
    let id = str_field(span, "id").ok_or("span has no \"id\"")?;
    let span_id = SpanId::parse(id).map_err(|e| format!("bad id {id:?}: {e}"))?;
    let parent_id = str_field(span, "parentId").and_then(SpanId::parse_parent);
    let start = micros(span.get("timestamp"), "timestamp")?;
    // No duration: Zipkin's incomplete span, kept with zero duration.
    let duration = match span.get("duration") {
        None | Some(Value::Null) => 0,
        duration => micros(duration, "duration")?,
    };
    // Saturates: an end beyond i64 is then counted as an invalid time.
    let end = start.saturating_add(duration);
    let kind = match str_field(span, "kind") {
        Some(kind) => SpanKind::from_name(kind),
        None => SpanKind::Internal,
    };
    let service = endpoint_service(span, "localEndpoint").unwrap_or("unknown");
    let mut status = Status::Unset;
    let mut attrs = AttrsBuilder::default();
    if let Some(Value::Object(tags)) = span.get("tags") {
        status = tag_status(tags);
        for (key, value) in tags {
            attrs.add(strings, key, value);
        }
        for (key, slot) in [
            ("sql.query", AttrKey::DbStatement),
            ("kafka.topic", AttrKey::MessagingDestination),
            // Brave's RabbitMQ tags: a consumer names its queue.
            ("rabbit.queue", AttrKey::MessagingDestination),
        ] {
            if let Some(text) = tags.get(key).and_then(scalar_text) {
                attrs.imply(strings, slot, text);
            }
        }
    }
    if let Some(peer) = endpoint_service(span, "remoteEndpoint") {
        attrs.imply(strings, AttrKey::PeerService, peer);
        if matches!(kind, SpanKind::Producer | SpanKind::Consumer) {
            attrs.imply(strings, AttrKey::MessagingSystem, peer);
        }
    }
    let shared = matches!(span.get("shared"), Some(Value::Bool(true)));
    Ok(TracedSpan {
        trace_id,
        span: Span {
            span_id,
            parent_id,
            start,
            end,
            service: strings.intern(service),
            name: strings.intern(str_field(span, "name").unwrap_or("unknown")),
            kind,
            status,
            id_sharing: if shared {
                IdSharing::Marked
            } else {
                IdSharing::Unmarked
            },
            service_from: crate::model::ServiceFrom::Own,
            attrs: attrs.finish(strings),
            links: None,
            trace_label: (!is_hex).then(|| strings.intern(trace_text.trim())),
            origin: crate::model::Origin::UNKNOWN,
        },
    })
}

/// The `serviceName` of an endpoint member, if it names one.
fn endpoint_service<'v>(span: &'v Map<String, Value>, key: &str) -> Option<&'v str> {
    span.get(key)
        .and_then(Value::as_object)
        .and_then(|e| str_field(e, "serviceName"))
}

/// The status the tags give: any `error` tag is an error (Zipkin's rule),
/// as is `otel.status_code` `ERROR`; `OK` is OK.
fn tag_status(tags: &Map<String, Value>) -> Status {
    if tags.contains_key("error") {
        return Status::Error;
    }
    match tags
        .get("otel.status_code")
        .and_then(scalar_text)
        .as_deref()
    {
        Some(s) if s.eq_ignore_ascii_case("error") => Status::Error,
        Some(s) if s.eq_ignore_ascii_case("ok") => Status::Ok,
        _ => Status::Unset,
    }
}

/// A microsecond count (an integer, a float or a number as text) in
/// nanoseconds; a count too large for `i64` nanoseconds saturates, so the
/// span is counted as an invalid time rather than as unparsable.
fn micros(value: Option<&Value>, field: &str) -> Result<Nanos, String> {
    let value = value.ok_or_else(|| format!("span has no \"{field}\""))?;
    let micros = match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| !f.is_nan())
                .map(|f| f.clamp(-9.2e15, 9.2e15).round() as i64)
        }),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    micros
        .map(|m| m.saturating_mul(1000))
        .ok_or_else(|| format!("\"{field}\" is not a microsecond count: {value}"))
}

#[cfg(test)]
mod tests;
