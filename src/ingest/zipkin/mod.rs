//! Zipkin v2 JSON, as Zipkin's API (`/api/v2/trace/{id}`, `/api/v2/traces`)
//! and its UI's JSON download write it, and as many gateways and meshes
//! export it.
//!
//! Accepted shapes, each as one document or as JSON lines: an array of spans
//! (one trace), an array of such arrays (`/api/v2/traces`), or one span
//! object per line. An array of arrays of 64 KiB or more is read a window
//! of whole traces at a time ([`super::json_envelope`]); an array of spans
//! is read whole, since the halves of a shared span may be anywhere in it.
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
//! the same span id, the server half marked `shared: true` (a `SERVER` span
//! whose id a `CLIENT` span of the same trace also carries is taken as one
//! even without the flag). When both halves are in the input, they become
//! two spans so that the call edge and the network gap around the server's
//! work are kept: the client half keeps the id, and each server half gets a
//! derived id ([`server_half_id`], the same in every run) with the client
//! half as its parent. A span whose parent is that id moves under the server
//! half when it was recorded by the server's service (the server's own work
//! and outgoing calls), as Zipkin's UI attaches it. A server half whose
//! client half is not in the input keeps its id and parent. Several server
//! halves of one id (a message delivered several times) share the derived id
//! and are counted as duplicates.

use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

use super::json_envelope::Envelope;
use super::json_locate::{Step, reject_at};
use super::json_records::{Record, first_byte, lines_framing, records_or_members, value_or_skip};
use super::json_scalars::{AddJson, scalar_text, str_field};
use super::times::{self, Rejected};
use super::{Format, Framing, Input, ReadError, Reader, Sink};
use crate::model::{
    AttrKey, AttrsBuilder, Interner, Location, Nanos, Span, SpanId, SpanKind, Status, TraceId,
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
        // An array of traces is read a trace at a time; an array of spans
        // is not: the halves of a shared span may be far apart in it.
        lines_framing(head).or_else(|| {
            Envelope::array_of(head, b'[').then_some(Framing::Envelope(Envelope::ARRAY))
        })
    }

    fn read(&self, input: &Input<'_>, sink: &mut Sink<'_>) -> Result<(), ReadError> {
        let records = records_or_members(input, "an array of Zipkin traces", sink);
        let single = records.len() == 1 && !input.window;
        let from = sink.spans.len();
        let mut halves = Vec::new();
        let mut recognised = false;
        for record in &records {
            let Some(value) = value_or_skip(input, record, single, sink)? else {
                continue;
            };
            let first = sink.spans.len();
            if read_record(record, &value, sink, &mut halves) {
                sink.locate(first, &Location::Line(record.line));
                recognised = true;
            } else if !single {
                sink.skip(Location::Line(record.line), NOT_ZIPKIN);
            }
        }
        if !recognised {
            return Err(ReadError::new(input, Location::Whole, NOT_ZIPKIN));
        }
        split_shared(&mut sink.spans[from..], &halves);
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

/// What the shared-span pass needs to know of one span read.
#[derive(Clone, Copy)]
struct Half {
    /// Whether it is marked `shared: true`.
    shared: bool,
    kind: SpanKind,
}

/// Reads one record; `false` if it has none of the accepted shapes.
fn read_record(
    record: &Record<'_>,
    value: &Value,
    sink: &mut Sink<'_>,
    halves: &mut Vec<Half>,
) -> bool {
    match value {
        Value::Object(object) if object.contains_key("traceId") || object.contains_key("id") => {
            read_span(record, value, &[], sink, halves);
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::Array(trace) => {
                        for (j, span) in trace.iter().enumerate() {
                            read_span(
                                record,
                                span,
                                &[Step::Index(i), Step::Index(j)],
                                sink,
                                halves,
                            );
                        }
                    }
                    _ => read_span(record, item, &[Step::Index(i)], sink, halves),
                }
            }
        }
        _ => return false,
    }
    true
}

fn read_span(
    record: &Record<'_>,
    value: &Value,
    path: &[Step<'_>],
    sink: &mut Sink<'_>,
    halves: &mut Vec<Half>,
) {
    let converted = convert_span(value, sink.strings)
        .map_err(Rejected::from)
        .and_then(|(span, half)| times::checked(span).map(|span| (span, half)));
    match converted {
        Ok((span, half)) => {
            sink.spans.push(span);
            halves.push(half);
        }
        Err(rejected) => reject_at(sink, record, path, rejected),
    }
}

fn convert_span(value: &Value, strings: &Interner) -> Result<(Span, Half), String> {
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
    Ok((
        Span {
            trace_id,
            span_id,
            parent_id,
            start,
            end,
            service: strings.intern(service),
            name: strings.intern(str_field(span, "name").unwrap_or("unknown")),
            kind,
            status,
            attrs: attrs.finish(strings),
            links: None,
            trace_label: (!is_hex).then(|| strings.intern(trace_text.trim())),
            origin: crate::model::Origin::UNKNOWN,
        },
        Half { shared, kind },
    ))
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

/// The id a server half of a shared span gets: a fixed mix of the shared
/// id (SplitMix64's finaliser), so every run and every file gives the same
/// one, never zero and never the shared id itself.
pub fn server_half_id(shared: SpanId) -> SpanId {
    let mut z = shared.0 ^ 0x5a49_504b_494e_2d53; // "ZIPKIN-S"
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    if z == 0 || z == shared.0 {
        z = !shared.0;
    }
    SpanId(z)
}

/// Splits shared spans (see the module docs): `spans` and `halves` are the
/// spans read from one input, in the same order.
fn split_shared(spans: &mut [Span], halves: &[Half]) {
    debug_assert_eq!(spans.len(), halves.len());
    /// What the spans of one (trace, id) are.
    #[derive(Default)]
    struct Group {
        count: usize,
        marked: bool,
        client: bool,
    }
    let mut groups: FxHashMap<(TraceId, SpanId), Group> = FxHashMap::default();
    for (span, half) in spans.iter().zip(halves) {
        let group = groups.entry((span.trace_id, span.span_id)).or_default();
        group.count += 1;
        group.marked |= half.shared;
        group.client |= half.kind == SpanKind::Client;
    }
    if groups.values().all(|g| g.count == 1) {
        return;
    }
    // Which spans are server halves: those marked shared, or (when none of
    // their id is marked) the SERVER spans sharing an id with a CLIENT one.
    let is_half: Vec<bool> = spans
        .iter()
        .zip(halves)
        .map(|(span, half)| {
            let group = &groups[&(span.trace_id, span.span_id)];
            group.count > 1
                && if group.marked {
                    half.shared
                } else {
                    group.client && half.kind == SpanKind::Server
                }
        })
        .collect();
    // A group is split only when it also holds a span that is no server
    // half: the client half.
    let mut has_client: FxHashMap<(TraceId, SpanId), bool> = FxHashMap::default();
    for (span, &half) in spans.iter().zip(&is_half) {
        *has_client.entry((span.trace_id, span.span_id)).or_default() |= !half;
    }
    // (trace, shared id) → the server's service, for each split group.
    let mut moved = FxHashMap::default();
    let mut split = vec![false; spans.len()];
    for (i, span) in spans.iter_mut().enumerate() {
        let key = (span.trace_id, span.span_id);
        if is_half[i] && has_client[&key] {
            moved.entry(key).or_insert(span.service);
            span.parent_id = Some(span.span_id);
            span.span_id = server_half_id(span.span_id);
            split[i] = true;
        }
    }
    for (span, split) in spans.iter_mut().zip(split) {
        let Some(parent) = span.parent_id else {
            continue;
        };
        if !split && moved.get(&(span.trace_id, parent)) == Some(&span.service) {
            span.parent_id = Some(server_half_id(parent));
        }
    }
}

#[cfg(test)]
mod tests;
