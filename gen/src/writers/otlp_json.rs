//! OTLP/JSON lines, as the OpenTelemetry Collector's file exporter writes
//! them (`format: json`): one `ExportTraceServiceRequest` per line, encoded
//! by the OTLP JSON rules: lowerCamelCase field names, trace and span ids as
//! lowercase hex (not base64), 64-bit integers (times, `intValue`) as
//! decimal strings, enums (`kind`, `status.code`) as integers, and fields at
//! their default value omitted (so a root span has no `parentSpanId`), with
//! the exporter's habit of always writing `"status":{}`.

use std::io::{self, Write};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1 as pb;
use serde::Serialize;

use super::{TraceWriter, otlp};
use crate::trace::Trace;

/// Writes one OTLP/JSON request per line.
pub struct OtlpJsonWriter;

impl TraceWriter for OtlpJsonWriter {
    fn write_batch(&mut self, traces: &[Trace], out: &mut dyn Write) -> io::Result<()> {
        let request = otlp::request(traces);
        serde_json::to_writer(&mut *out, &Request::from(&request))?;
        out.write_all(b"\n")
    }
}

/// Writes `traces` as one pretty-printed OTLP/JSON document, trimmed to
/// what a person writes by hand to reproduce a bug (the integrity
/// fixtures): only `service.name` on resources, no schema URLs or flags.
pub fn write_pretty(traces: &[Trace], out: &mut dyn Write) -> io::Result<()> {
    let mut request = otlp::request(traces);
    for resource in &mut request.resource_spans {
        resource.schema_url.clear();
        if let Some(r) = resource.resource.as_mut() {
            r.attributes.retain(|kv| kv.key == "service.name");
        }
        for scope in &mut resource.scope_spans {
            scope.spans.iter_mut().for_each(|s| s.flags = 0);
        }
    }
    serde_json::to_writer_pretty(&mut *out, &Request::from(&request))?;
    out.write_all(b"\n")
}

// The JSON mirror of the protobuf messages, borrowing from them. Field order
// follows the .proto field numbers, as protobuf JSON encoders emit them.

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Request<'a> {
    resource_spans: Vec<ResourceSpans<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResourceSpans<'a> {
    resource: Resource<'a>,
    scope_spans: Vec<ScopeSpans<'a>>,
    #[serde(skip_serializing_if = "str::is_empty")]
    schema_url: &'a str,
}

#[derive(Serialize)]
struct Resource<'a> {
    attributes: Vec<Attribute<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScopeSpans<'a> {
    scope: Scope<'a>,
    spans: Vec<Span<'a>>,
    #[serde(skip_serializing_if = "str::is_empty")]
    schema_url: &'a str,
}

#[derive(Serialize)]
struct Scope<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    version: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Span<'a> {
    trace_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    span_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    parent_span_id: String,
    #[serde(skip_serializing_if = "is_zero")]
    flags: u32,
    name: &'a str,
    kind: i32,
    start_time_unix_nano: String,
    end_time_unix_nano: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attributes: Vec<Attribute<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    links: Vec<Link>,
    status: Status<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Link {
    trace_id: String,
    span_id: String,
    #[serde(skip_serializing_if = "is_zero")]
    flags: u32,
}

#[derive(Serialize)]
struct Status<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    message: &'a str,
    #[serde(skip_serializing_if = "is_zero_i32")]
    code: i32,
}

#[derive(Serialize)]
struct Attribute<'a> {
    key: &'a str,
    value: AnyValue<'a>,
}

/// Serialises as `{"stringValue": ...}` and friends.
#[derive(Serialize)]
enum AnyValue<'a> {
    #[serde(rename = "stringValue")]
    String(&'a str),
    #[serde(rename = "boolValue")]
    Bool(bool),
    #[serde(rename = "intValue")]
    Int(String),
    #[serde(rename = "doubleValue")]
    Double(f64),
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_zero_i32(n: &i32) -> bool {
    *n == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl<'a> From<&'a ExportTraceServiceRequest> for Request<'a> {
    fn from(r: &'a ExportTraceServiceRequest) -> Self {
        Request {
            resource_spans: r.resource_spans.iter().map(resource_spans).collect(),
        }
    }
}

fn resource_spans(r: &pb::ResourceSpans) -> ResourceSpans<'_> {
    ResourceSpans {
        resource: Resource {
            attributes: r
                .resource
                .iter()
                .flat_map(|res| res.attributes.iter().filter_map(attribute))
                .collect(),
        },
        scope_spans: r
            .scope_spans
            .iter()
            .map(|s| ScopeSpans {
                scope: Scope {
                    name: s.scope.as_ref().map_or("", |sc| sc.name.as_str()),
                    version: s.scope.as_ref().map_or("", |sc| sc.version.as_str()),
                },
                spans: s.spans.iter().map(span).collect(),
                schema_url: &s.schema_url,
            })
            .collect(),
        schema_url: &r.schema_url,
    }
}

fn span(s: &pb::Span) -> Span<'_> {
    let status = s.status.as_ref();
    Span {
        trace_id: hex(&s.trace_id),
        span_id: hex(&s.span_id),
        parent_span_id: hex(&s.parent_span_id),
        flags: s.flags,
        name: &s.name,
        kind: s.kind,
        start_time_unix_nano: s.start_time_unix_nano.to_string(),
        end_time_unix_nano: s.end_time_unix_nano.to_string(),
        attributes: s.attributes.iter().filter_map(attribute).collect(),
        links: s
            .links
            .iter()
            .map(|l| Link {
                trace_id: hex(&l.trace_id),
                span_id: hex(&l.span_id),
                flags: l.flags,
            })
            .collect(),
        status: Status {
            message: status.map_or("", |st| st.message.as_str()),
            code: status.map_or(0, |st| st.code),
        },
    }
}

fn attribute(kv: &KeyValue) -> Option<Attribute<'_>> {
    let value = match kv.value.as_ref()?.value.as_ref()? {
        any_value::Value::StringValue(s) => AnyValue::String(s),
        any_value::Value::BoolValue(b) => AnyValue::Bool(*b),
        any_value::Value::IntValue(n) => AnyValue::Int(n.to_string()),
        any_value::Value::DoubleValue(x) => AnyValue::Double(*x),
        // The generator makes none of the others.
        _ => return None,
    };
    Some(Attribute {
        key: &kv.key,
        value,
    })
}
