//! The reference the wire walker (`wire`) is tested against: the
//! reader's former decoding, through prost, of the part of
//! `opentelemetry.proto.trace.v1` that critpath reads. Field numbers are
//! those of opentelemetry-proto; fields left out (events, scopes, trace
//! state, dropped counts, array and key/value attribute values) are skipped
//! by prost as unknown fields. Strings are declared `bytes`, which has the
//! same wire encoding, and their UTF-8 is checked only when they are used.

use std::borrow::Cow;

use prost::Message;
use prost::bytes::Bytes;

use crate::ingest::otlp::common::{self, Pick, Scalar};
use crate::model::{AttrsBuilder, Interner, SpanId, SpanKind, SpanLink, Sym, TraceId};

/// `ResourceSpans`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ResourceSpans {
    /// The resource.
    #[prost(message, optional, tag = "1")]
    pub resource: Option<Resource>,
    /// The spans by instrumentation scope.
    #[prost(message, repeated, tag = "2")]
    pub scope_spans: Vec<ScopeSpans>,
    /// `instrumentation_library_spans`, as OTLP before 0.15 numbered it.
    #[prost(message, repeated, tag = "1000")]
    pub library_spans: Vec<ScopeSpans>,
}

/// `Resource`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Resource {
    /// Its attributes.
    #[prost(message, repeated, tag = "1")]
    pub attributes: Vec<KeyValue>,
}

/// `ScopeSpans` (and the legacy `InstrumentationLibrarySpans`, which
/// numbers its spans the same way).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ScopeSpans {
    /// The spans.
    #[prost(message, repeated, tag = "2")]
    pub spans: Vec<Span>,
}

/// `Span`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Span {
    /// 16 bytes.
    #[prost(bytes = "bytes", tag = "1")]
    pub trace_id: Bytes,
    /// 8 bytes.
    #[prost(bytes = "bytes", tag = "2")]
    pub span_id: Bytes,
    /// 8 bytes, or empty for a root.
    #[prost(bytes = "bytes", tag = "4")]
    pub parent_span_id: Bytes,
    /// The name (a string on the wire).
    #[prost(bytes = "bytes", tag = "5")]
    pub name: Bytes,
    /// The `SpanKind` number.
    #[prost(int32, tag = "6")]
    pub kind: i32,
    /// Start, nanoseconds since the epoch.
    #[prost(fixed64, tag = "7")]
    pub start_time_unix_nano: u64,
    /// End, nanoseconds since the epoch.
    #[prost(fixed64, tag = "8")]
    pub end_time_unix_nano: u64,
    /// The attributes.
    #[prost(message, repeated, tag = "9")]
    pub attributes: Vec<KeyValue>,
    /// Links to other spans.
    #[prost(message, repeated, tag = "13")]
    pub links: Vec<Link>,
    /// The status.
    #[prost(message, optional, tag = "15")]
    pub status: Option<Status>,
}

/// `Span.Link`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Link {
    /// 16 bytes.
    #[prost(bytes = "bytes", tag = "1")]
    pub trace_id: Bytes,
    /// 8 bytes.
    #[prost(bytes = "bytes", tag = "2")]
    pub span_id: Bytes,
}

/// `Status`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Status {
    /// The `StatusCode` number.
    #[prost(int32, tag = "3")]
    pub code: i32,
}

/// `KeyValue`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct KeyValue {
    /// The key (a string on the wire).
    #[prost(bytes = "bytes", tag = "1")]
    pub key: Bytes,
    /// The value.
    #[prost(message, optional, tag = "2")]
    pub value: Option<AnyValue>,
}

/// `AnyValue`, scalar kinds only.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AnyValue {
    /// The value.
    #[prost(oneof = "Value", tags = "1, 2, 3, 4")]
    pub value: Option<Value>,
}

/// The scalar cases of `AnyValue.value`.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Value {
    /// `string_value` (a string on the wire).
    #[prost(bytes = "bytes", tag = "1")]
    Str(Bytes),
    /// `bool_value`.
    #[prost(bool, tag = "2")]
    Bool(bool),
    /// `int_value`.
    #[prost(int64, tag = "3")]
    Int(i64),
    /// `double_value`.
    #[prost(double, tag = "4")]
    Double(f64),
}

/// Reads one encoded `ResourceSpans` as the reader did before the wire
/// walker, with the walker's contract: spans appended to `spans`, the
/// reasons for skipped spans returned.
pub fn read_resource_spans(
    bytes: &[u8],
    strings: &Interner,
    spans: &mut Vec<crate::model::TracedSpan>,
) -> Result<Vec<String>, prost::DecodeError> {
    let decoded = ResourceSpans::decode(Bytes::copy_from_slice(bytes))?;
    let service = decoded
        .resource
        .iter()
        .flat_map(|r| &r.attributes)
        .find(|kv| &kv.key[..] == b"service.name")
        .map(|kv| scalar(kv.value.as_ref()));
    let service = common::service(service.as_ref(), strings);
    let mut skipped = Vec::new();
    for (field, scopes) in [
        ("scope_spans", &decoded.scope_spans),
        ("instrumentation_library_spans", &decoded.library_spans),
    ] {
        for (j, scope) in scopes.iter().enumerate() {
            for (k, span) in scope.spans.iter().enumerate() {
                match convert_span(span, service, strings) {
                    Ok(span) => spans.push(span),
                    Err(message) => {
                        skipped.push(format!("ResourceSpans.{field}[{j}].spans[{k}]: {message}"));
                    }
                }
            }
        }
    }
    Ok(skipped)
}

fn scalar(value: Option<&AnyValue>) -> Scalar<'_> {
    match value.and_then(|v| v.value.as_ref()) {
        Some(Value::Str(s)) => Scalar::Str(String::from_utf8_lossy(s)),
        Some(Value::Bool(b)) => Scalar::Bool(*b),
        Some(Value::Int(i)) => Scalar::Int(*i),
        Some(Value::Double(d)) => Scalar::Double(*d),
        None => Scalar::Other,
    }
}

fn convert_span(
    span: &Span,
    service: Sym,
    strings: &Interner,
) -> Result<crate::model::TracedSpan, String> {
    let trace_id =
        TraceId::from_bytes(&span.trace_id).map_err(|e| format!("bad or missing trace_id: {e}"))?;
    let span_id =
        SpanId::from_bytes(&span.span_id).map_err(|e| format!("bad or missing span_id: {e}"))?;
    let start = common::time(span.start_time_unix_nano, "startTimeUnixNano")?;
    let end = common::time(span.end_time_unix_nano, "endTimeUnixNano")?;
    let mut kept = AttrsBuilder::default();
    for kv in &span.attributes {
        let Some(pick) = Pick::of_bytes(&kv.key) else {
            continue;
        };
        common::keep(&mut kept, pick, scalar(kv.value.as_ref()), strings);
    }
    let links: Vec<SpanLink> = span
        .links
        .iter()
        .filter_map(|link| {
            Some(SpanLink {
                trace_id: TraceId::from_bytes(&link.trace_id).ok()?,
                span_id: SpanId::from_bytes(&link.span_id).ok()?,
            })
        })
        .collect();
    let name: Cow<'_, str> = String::from_utf8_lossy(&span.name);
    Ok(crate::model::TracedSpan {
        trace_id,
        span: crate::model::Span {
            span_id,
            parent_id: SpanId::from_bytes(&span.parent_span_id).ok(),
            start,
            end,
            service,
            name: common::name(&name, strings),
            kind: SpanKind::from_otlp(i64::from(span.kind)),
            status: span.status.as_ref().map_or_else(Default::default, |s| {
                common::status_from_code(i64::from(s.code))
            }),
            id_sharing: crate::model::IdSharing::Own,
            service_from: crate::model::ServiceFrom::Own,
            attrs: kept.finish(strings),
            links: (!links.is_empty()).then(|| Box::new(links)),
            trace_label: None,
            origin: crate::model::Origin::UNKNOWN,
        },
    })
}
