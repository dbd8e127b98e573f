//! A batch of traces as one OTLP `ExportTraceServiceRequest`, grouped the
//! way an SDK and the Collector group them: one `ResourceSpans` per service
//! (resource), inside it one `ScopeSpans` per instrumentation library. Both
//! OTLP writers start from this message, so the JSON and protobuf fixtures
//! hold exactly the same data.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::Link;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

use super::parent_services;
use crate::services::{resource_attributes, scope};
use crate::trace::{Attr, Trace, Value};

/// The semantic-conventions schema the resources claim.
const SCHEMA_URL: &str = "https://opentelemetry.io/schemas/1.24.0";

/// `SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK`: current SDKs say whether they
/// know if the parent was remote...
const HAS_IS_REMOTE: u32 = 0x100;
/// ...and `SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK`: it was (another process).
const IS_REMOTE: u32 = 0x200;

/// The W3C trace flags' `sampled` bit, as a link's flags carry it.
const SAMPLED: u32 = 0x01;

/// `STATUS_CODE_ERROR`.
const STATUS_ERROR: i32 = 2;

/// The export request for one batch.
pub fn request(traces: &[Trace]) -> ExportTraceServiceRequest {
    let mut resources: Vec<(&'static str, ResourceSpans)> = Vec::new();
    for trace in traces {
        let parents = parent_services(trace);
        for (span, parent_service) in trace.spans.iter().zip(parents) {
            let r = match resources.iter().position(|(s, _)| *s == span.service) {
                Some(r) => r,
                None => {
                    resources.push((span.service, resource(span.service)));
                    resources.len() - 1
                }
            };
            let scopes = &mut resources[r].1.scope_spans;
            let (name, version) = scope(span);
            let s = match scopes
                .iter()
                .position(|s| s.scope.as_ref().is_some_and(|sc| sc.name == name))
            {
                Some(s) => s,
                None => {
                    scopes.push(ScopeSpans {
                        scope: Some(InstrumentationScope {
                            name: name.to_string(),
                            version: version.to_string(),
                            ..Default::default()
                        }),
                        spans: Vec::new(),
                        schema_url: String::new(),
                    });
                    scopes.len() - 1
                }
            };
            // A parent absent from the batch (a trace split over several
            // requests, or lost) is not known to be remote.
            let remote = parent_service.is_some_and(|p| p != span.service);
            scopes[s].spans.push(proto_span(trace, span, remote));
        }
    }
    ExportTraceServiceRequest {
        resource_spans: resources.into_iter().map(|(_, r)| r).collect(),
    }
}

fn resource(service: &'static str) -> ResourceSpans {
    ResourceSpans {
        resource: Some(Resource {
            attributes: resource_attributes(service).iter().map(key_value).collect(),
            ..Default::default()
        }),
        scope_spans: Vec::new(),
        schema_url: SCHEMA_URL.to_string(),
    }
}

fn proto_span(trace: &Trace, span: &crate::trace::Span, remote: bool) -> Span {
    // An all-zero id is OTLP's "invalid"; encoding it as empty bytes makes
    // the JSON omit the field, which is how the integrity fixtures model a
    // span that lost its id.
    let id_bytes = |id: u64| {
        if id == 0 {
            Vec::new()
        } else {
            id.to_be_bytes().to_vec()
        }
    };
    Span {
        trace_id: trace.id.to_be_bytes().to_vec(),
        span_id: id_bytes(span.id),
        parent_span_id: span.parent.map(id_bytes).unwrap_or_default(),
        flags: if remote {
            HAS_IS_REMOTE | IS_REMOTE
        } else {
            HAS_IS_REMOTE
        },
        name: span.name.clone(),
        kind: span.kind as i32,
        // Times before 1970 do not occur; a negative one would be a bug here.
        start_time_unix_nano: u64::try_from(span.start).unwrap_or(0),
        end_time_unix_nano: u64::try_from(span.end).unwrap_or(0),
        attributes: span.attrs.iter().map(key_value).collect(),
        // A link names a span of another trace, written by another process
        // (the producer of a consumed message): remote, as the SDK knows
        // from the propagated context it extracted. Sampled, as W3C says.
        links: span
            .links
            .iter()
            .map(|link| Link {
                trace_id: link.trace.to_be_bytes().to_vec(),
                span_id: link.span.to_be_bytes().to_vec(),
                flags: HAS_IS_REMOTE | IS_REMOTE | SAMPLED,
                ..Default::default()
            })
            .collect(),
        status: Some(if span.error {
            Status {
                message: String::new(),
                code: STATUS_ERROR,
            }
        } else {
            Status::default()
        }),
        ..Default::default()
    }
}

fn key_value(attr: &Attr) -> KeyValue {
    let value = match &attr.value {
        Value::Str(s) => any_value::Value::StringValue(s.clone()),
        Value::Int(n) => any_value::Value::IntValue(*n),
        Value::Bool(b) => any_value::Value::BoolValue(*b),
        Value::Float(x) => any_value::Value::DoubleValue(*x),
    };
    KeyValue {
        key: attr.key.to_string(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}
