//! OTLP/JSON: the JSON encoding of `ExportTraceServiceRequest`/`TracesData`
//! that the OTLP specification defines, as OTLP/HTTP carries it and the
//! Collector's file exporter writes it (one request per line).
//!
//! Accepted shapes, each as one document or as JSON lines:
//! - `{"resourceSpans": [{"resource", "scopeSpans": [{"spans": [...]}]}]}`,
//!   also with the pre-0.15 `instrumentationLibrarySpans` and with the
//!   protobuf field names (`resource_spans`, `trace_id`, ...);
//! - an array of those (not in the specification);
//! - the same wrapped in `{"result": ...}` (Jaeger's `/api/v3`) or
//!   `{"trace": ...}` (Tempo's v2 API), or with the resource spans named
//!   `batches` (Tempo's `/api/traces/{id}`).
//!
//! Per span: hex `traceId` and `spanId` (any case; text that is not hex is
//! hashed, keeping the trace id as label) and non-zero
//! `startTimeUnixNano`/`endTimeUnixNano` are required; a span without them
//! is skipped and counted at the line its object opens on. A span with a
//! time after 2200-01-01 is skipped and counted there as an invalid time
//! (see [`crate::ingest::times`]). An empty or
//! absent `parentSpanId` makes a root. 64-bit integers may be strings or
//! numbers; `kind` and `status.code` numbers, numeric strings or names
//! (`SPAN_KIND_SERVER`); status code 2 is an error. The service is the
//! resource's `service.name`, else `unknown`; an empty name is `unknown`.
//! Of the attributes only those [`crate::model::AttrKey::lookup`] knows are
//! kept, and only their scalar values; `links` become span links; events,
//! scopes and unknown members are skipped without being parsed. `null`
//! stands for an absent member anywhere.
//!
//! Each record is first decoded straight into the typed, borrowing model
//! of [`model`]: by the JSON scanner ([`fast`]), or by serde where the
//! scanner gives up; only a record that fails that too (a member of the
//! wrong type) is parsed again as a generic value so that the bad span
//! alone is skipped. JSON lines are read in parallel, in chunks of lines. A request
//! of 64 KiB or more that starts with its array (under any of its three
//! names) is read a `ResourceSpans` at a time, a window at a time
//! ([`request`]), with or without line breaks.

use crate::ingest::otlp::common;
mod fast;
mod model;
mod request;

use serde::Deserialize;
use serde_json::Value;

use self::common::UNKNOWN;
use self::model::{Document, Resource, ResourceSpans, SpanAttributes, SpanJson};
use crate::ingest::json_envelope::Envelope;
use crate::ingest::json_locate::{Step, reject_at, skip_at};
use crate::ingest::json_records::{Record, json_with_key, lines_framing, records_of};
use crate::ingest::times::{self, Rejected};
use crate::ingest::{Format, Framing, Input, ReadError, Reader, Sink};
use crate::model::{Interner, Location, Span, SpanId, SpanLink, Sym, TraceId, TracedSpan};

/// Reads OTLP/JSON exports.
pub struct OtlpJsonReader;

impl Reader for OtlpJsonReader {
    fn format(&self) -> Format {
        Format::OtlpJson
    }

    fn sniff(&self, head: &[u8]) -> bool {
        let has = |needle: &[u8]| memchr::memmem::find(head, needle).is_some();
        json_with_key(head, b"\"resourceSpans\"")
            || json_with_key(head, b"\"resource_spans\"")
            || (json_with_key(head, b"\"batches\"")
                && (has(b"\"scopeSpans\"") || has(b"\"instrumentationLibrarySpans\"")))
    }

    fn framing(&self, head: &[u8]) -> Option<Framing> {
        // JSON lines are cut as lines until one is longer than a window
        // (see `Framing::LinesOr`). A head with no line break at all (the
        // ingest reads up to a window's worth looking for one) is one
        // request on a line longer than a window, or JSON lines whose first
        // line is: cut as an envelope either way, a later line of another
        // shape being a document of its own (see `Envelope::OTLP`).
        match lines_framing(head) {
            Some(_) => Some(Framing::LinesOr(Envelope::OTLP)),
            None => Envelope::OTLP
                .starts(head)
                .then_some(Framing::Envelope(Envelope::OTLP)),
        }
    }

    fn read(&self, input: &Input<'_>, sink: &mut Sink<'_>) -> Result<(), ReadError> {
        // Before the byte-order mark goes: the pieces' offsets count it.
        if let Some(pieces) = input.pieces {
            return request::read_pieces(input, pieces, sink);
        }
        // A byte-order mark is not JSON; it sits on line 1, so lines stay
        // (but not the stream's newline offsets, found with it there).
        let stripped;
        let input = match input.bytes.strip_prefix(b"\xEF\xBB\xBF") {
            Some(bytes) => {
                stripped = Input {
                    bytes,
                    line_ends: None,
                    ..*input
                };
                &stripped
            }
            None => input,
        };
        let records = records_of(input);
        if let ([record], false) = (records.as_slice(), input.window) {
            if request::read_request(record, sink) {
                return Ok(());
            }
            let outcome = read_record(record, sink);
            sink.locate(0, &Location::Line(record.line));
            return match outcome {
                Outcome::Read => Ok(()),
                Outcome::Invalid(err) => Err(ReadError::new(
                    input,
                    record.error_location(&err),
                    format!("invalid JSON: {err}"),
                )),
                Outcome::NotOtlp => Err(ReadError::new(input, Location::Whole, NOT_OTLP)),
            };
        }
        let chunks = common::chunks(&records, |r| r.bytes.len());
        let recognised = crate::ingest::read_chunks(chunks, sink, read_records);
        if recognised {
            Ok(())
        } else {
            Err(ReadError::new(input, Location::Whole, NOT_OTLP))
        }
    }
}

const NOT_OTLP: &str = "expected OTLP JSON: an object with \"resourceSpans\" (ExportTraceServiceRequest or TracesData)";

/// Reads JSON-lines records, counting the bad ones; whether any was OTLP.
fn read_records(records: &[Record<'_>], sink: &mut Sink<'_>) -> bool {
    let mut recognised = false;
    for record in records {
        let from = sink.spans.len();
        let outcome = read_record(record, sink);
        sink.locate(from, &Location::Line(record.line));
        match outcome {
            Outcome::Read => recognised = true,
            Outcome::Invalid(err) => {
                sink.skip(record.error_location(&err), format!("invalid JSON: {err}"));
            }
            Outcome::NotOtlp => sink.skip(Location::Line(record.line), NOT_OTLP),
        }
    }
    recognised
}

/// What became of one record.
enum Outcome {
    /// It was OTLP; its spans (and skipped spans) are in the sink.
    Read,
    /// It is not JSON.
    Invalid(serde_json::Error),
    /// It is JSON but not an OTLP request.
    NotOtlp,
}

fn read_record(record: &Record<'_>, sink: &mut Sink<'_>) -> Outcome {
    // Not in the specification, but cheap to accept: an array of requests.
    let array = record.bytes.trim_ascii_start().starts_with(b"[");
    let typed = if array {
        fast::documents(record.bytes, sink.strings)
    } else {
        fast::document(record.bytes, sink.strings).map(|d| vec![d])
    };
    match typed {
        Ok(mut documents) if documents.iter().any(Document::recognised) => {
            for (i, document) in documents.iter_mut().enumerate() {
                let mut path = if array {
                    vec![Step::Index(i)]
                } else {
                    Vec::new()
                };
                read_document(document, record, &mut path, sink);
            }
            Outcome::Read
        }
        Ok(_) => Outcome::NotOtlp,
        // A member of an unexpected type somewhere: fall back to reading
        // span by span so that only the bad spans are lost.
        Err(err) if err.is_data() => match serde_json::from_slice::<Value>(record.bytes) {
            Ok(Value::Array(documents)) => {
                let mut recognised = false;
                for (i, document) in documents.iter().enumerate() {
                    recognised |= read_value(document, record, &mut vec![Step::Index(i)], sink);
                }
                if recognised {
                    Outcome::Read
                } else {
                    Outcome::NotOtlp
                }
            }
            Ok(value) if read_value(&value, record, &mut Vec::new(), sink) => Outcome::Read,
            Ok(_) => Outcome::NotOtlp,
            Err(err) => Outcome::Invalid(err),
        },
        Err(err) => Outcome::Invalid(err),
    }
}

/// Reads the OTLP/JSON request held in one frame of a binary stream (the
/// Collector file exporter frames JSON when it compresses it); whether it
/// was one. Problems are located at the frame, with their line inside it
/// in the message.
pub(super) fn read_framed_json(bytes: &[u8], at: &Location, sink: &mut Sink<'_>) -> bool {
    let record = Record { line: 1, bytes };
    let mut part = Sink::new(&sink.name, sink.strings);
    let outcome = read_record(&record, &mut part);
    let from = sink.spans.len();
    sink.spans.append(&mut part.spans);
    sink.locate(from, at);
    for problem in &mut part.quality.examples {
        if let Location::Line(line) = problem.location {
            problem.message = format!("{} (line {line} of the frame's JSON)", problem.message);
        }
        problem.location = at.clone();
    }
    sink.quality.merge(part.quality);
    match outcome {
        Outcome::Read => true,
        Outcome::Invalid(err) => {
            sink.skip(at.clone(), format!("frame holds invalid JSON: {err}"));
            false
        }
        Outcome::NotOtlp => {
            sink.skip(
                at.clone(),
                format!("frame holds JSON that is not OTLP: {NOT_OTLP}"),
            );
            false
        }
    }
}

/// Reads a typed document; `path` leads to it inside the record.
fn read_document(
    document: &mut Document<'_>,
    record: &Record<'_>,
    path: &mut Vec<Step<'static>>,
    sink: &mut Sink<'_>,
) {
    for (key, list) in [
        ("resourceSpans", &mut document.resource_spans),
        ("batches", &mut document.batches),
    ] {
        for (i, resource_spans) in list.items.iter_mut().enumerate() {
            path.extend([Step::Key(key), Step::Index(i)]);
            read_resource_spans(resource_spans, record, path, sink);
            path.truncate(path.len() - 2);
        }
    }
    for (key, inner) in [
        ("result", &mut document.result),
        ("trace", &mut document.trace),
    ] {
        if let Some(inner) = inner {
            path.push(Step::Key(key));
            read_document(inner, record, path, sink);
            path.pop();
        }
    }
}

fn read_resource_spans(
    resource_spans: &mut ResourceSpans<'_>,
    record: &Record<'_>,
    path: &[Step<'static>],
    sink: &mut Sink<'_>,
) {
    let service = service(resource_spans.resource.as_ref(), sink.strings);
    // Room for the resource's spans at once, not a doubling at a time.
    let scopes = resource_spans.scope_spans.items.iter();
    let spans = scopes.chain(&resource_spans.library_spans.items);
    sink.spans
        .reserve(spans.map(|scope| scope.spans.items.len()).sum());
    for (key, scopes) in [
        ("scopeSpans", &mut resource_spans.scope_spans),
        (
            "instrumentationLibrarySpans",
            &mut resource_spans.library_spans,
        ),
    ] {
        for (j, scope) in scopes.items.iter_mut().enumerate() {
            for (k, span) in scope.spans.items.iter_mut().enumerate() {
                match convert_span(span, service, sink.strings)
                    .map_err(Rejected::from)
                    .and_then(times::checked)
                {
                    Ok(span) => sink.spans.push(span),
                    Err(message) => {
                        let mut at = path.to_vec();
                        at.extend([
                            Step::Key(key),
                            Step::Index(j),
                            Step::Key("spans"),
                            Step::Index(k),
                        ]);
                        reject_at(sink, record, &at, message);
                    }
                }
            }
        }
    }
}

fn service(resource: Option<&Resource<'_>>, strings: &Interner) -> Sym {
    common::service(resource.and_then(Resource::service), strings)
}

/// Reads a generic value span by span; whether it had an OTLP content key.
fn read_value<'v>(
    value: &'v Value,
    record: &Record<'_>,
    path: &mut Vec<Step<'v>>,
    sink: &mut Sink<'_>,
) -> bool {
    let Some(object) = value.as_object() else {
        return false;
    };
    let mut recognised = false;
    for (key, member) in object {
        match key.as_str() {
            "resourceSpans" | "resource_spans" | "batches" => {
                recognised = true;
                path.push(Step::Key(key));
                match member {
                    Value::Array(list) => {
                        for (i, resource_spans) in list.iter().enumerate() {
                            path.push(Step::Index(i));
                            read_resource_spans_value(resource_spans, record, path, sink);
                            path.pop();
                        }
                    }
                    Value::Null => {}
                    _ => skip_at(sink, record, path, format!("\"{key}\" is not an array")),
                }
                path.pop();
            }
            "result" | "trace" => {
                path.push(Step::Key(key));
                recognised |= read_value(member, record, path, sink);
                path.pop();
            }
            _ => {}
        }
    }
    recognised
}

fn read_resource_spans_value<'v>(
    value: &'v Value,
    record: &Record<'_>,
    path: &mut Vec<Step<'v>>,
    sink: &mut Sink<'_>,
) {
    let Some(object) = value.as_object() else {
        if !value.is_null() {
            skip_at(sink, record, path, "expected a ResourceSpans object".into());
        }
        return;
    };
    let resource = match object.get("resource") {
        Some(resource) => match Option::<Resource<'_>>::deserialize(resource) {
            Ok(resource) => resource,
            Err(err) => {
                path.push(Step::Key("resource"));
                skip_at(
                    sink,
                    record,
                    path,
                    format!("unreadable resource (its spans get service {UNKNOWN:?}): {err}"),
                );
                path.pop();
                None
            }
        },
        None => None,
    };
    let service = service(resource.as_ref(), sink.strings);
    for (key, scopes) in object {
        if !matches!(
            key.as_str(),
            "scopeSpans"
                | "scope_spans"
                | "instrumentationLibrarySpans"
                | "instrumentation_library_spans"
        ) {
            continue;
        }
        path.push(Step::Key(key));
        match scopes {
            Value::Array(scopes) => {
                for (j, scope) in scopes.iter().enumerate() {
                    path.push(Step::Index(j));
                    read_scope_value(scope, service, record, path, sink);
                    path.pop();
                }
            }
            Value::Null => {}
            _ => skip_at(sink, record, path, format!("\"{key}\" is not an array")),
        }
        path.pop();
    }
}

fn read_scope_value<'v>(
    scope: &'v Value,
    service: Sym,
    record: &Record<'_>,
    path: &mut Vec<Step<'v>>,
    sink: &mut Sink<'_>,
) {
    let spans = match scope {
        Value::Object(object) => object.get("spans").unwrap_or(&Value::Null),
        Value::Null => &Value::Null,
        _ => {
            skip_at(sink, record, path, "expected a ScopeSpans object".into());
            return;
        }
    };
    path.push(Step::Key("spans"));
    match spans {
        Value::Array(spans) => {
            for (k, span) in spans.iter().enumerate() {
                let converted = SpanJson::deserialize(span)
                    .map_err(|err| format!("unreadable span: {err}"))
                    .and_then(|mut span| convert_span(&mut span, service, sink.strings))
                    .map_err(Rejected::from)
                    .and_then(times::checked);
                match converted {
                    Ok(span) => sink.spans.push(span),
                    Err(message) => {
                        path.push(Step::Index(k));
                        reject_at(sink, record, path, message);
                        path.pop();
                    }
                }
            }
        }
        Value::Null => {}
        _ => skip_at(sink, record, path, "\"spans\" is not an array".into()),
    }
    path.pop();
}

/// A required id member's text.
fn required<'s>(member: &'s Option<model::Str<'_>>, name: &str) -> Result<&'s str, String> {
    member
        .as_ref()
        .map(|s| s.0.as_ref())
        // Not all whitespace. An id nearly always starts with a visible
        // ASCII byte, which settles it: `trim` alone searched both ends for
        // Unicode whitespace (11 M instructions of a 10,000-trace read).
        .filter(|s| s.as_bytes().first().is_some_and(u8::is_ascii_graphic) || !s.trim().is_empty())
        .ok_or_else(|| format!("span has no \"{name}\""))
}

/// `span` as the span it reads as; its attribute block, if the scanner
/// made it, is taken.
fn convert_span(
    span: &mut SpanJson<'_>,
    service: Sym,
    strings: &Interner,
) -> Result<TracedSpan, String> {
    let trace_text = required(&span.trace_id, "traceId")?;
    let (trace_id, is_hex) =
        TraceId::parse(trace_text).map_err(|e| format!("bad traceId {trace_text:?}: {e}"))?;
    let span_text = required(&span.span_id, "spanId")?;
    let span_id = SpanId::parse(span_text).map_err(|e| format!("bad spanId {span_text:?}: {e}"))?;
    let start = common::time(span.start.as_ref().map_or(0, |t| t.0), "startTimeUnixNano")?;
    let end = common::time(span.end.as_ref().map_or(0, |t| t.0), "endTimeUnixNano")?;
    let links: Vec<SpanLink> = span
        .links
        .items
        .iter()
        .filter_map(|link| {
            let trace = TraceId::parse(&link.trace_id.as_ref()?.0).ok()?.0;
            let span = SpanId::parse(&link.span_id.as_ref()?.0).ok()?;
            Some(SpanLink {
                trace_id: trace,
                span_id: span,
            })
        })
        .collect();
    let read = Span {
        span_id,
        parent_id: span
            .parent_span_id
            .as_ref()
            .and_then(|p| SpanId::parse_parent(&p.0)),
        start,
        end,
        service,
        name: common::name(span.name.as_ref().map_or("", |n| &n.0), strings),
        kind: span.kind.0,
        status: span
            .status
            .as_ref()
            .map_or_else(Default::default, |s| s.code.0),
        attrs: match &mut span.attributes {
            SpanAttributes::Kept(kept) => kept.take(),
            SpanAttributes::Picked(picks) => picks.kept(strings),
        },
        id_sharing: crate::model::IdSharing::Own,
        service_from: crate::model::ServiceFrom::Own,
        links: (!links.is_empty()).then(|| Box::new(links)),
        trace_label: (!is_hex).then(|| strings.intern(trace_text.trim())),
        origin: crate::model::Origin::UNKNOWN,
    };
    Ok(TracedSpan {
        trace_id,
        span: read,
    })
}

#[cfg(test)]
mod tests;
