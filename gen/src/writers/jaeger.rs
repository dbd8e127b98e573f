//! Jaeger JSON as the query API (`GET /api/traces`) and the UI's "Download
//! JSON" return it: `{"data": [trace, ...], "total", "limit", "offset",
//! "errors"}`; per trace its spans and a `processes` map (`p1`, `p2`, ... in
//! order of first appearance) holding each service's name and resource tags;
//! per span `startTime` and `duration` in microseconds, the parent as a
//! `CHILD_OF` reference and links (to other traces) as `FOLLOWS_FROM` ones,
//! attributes as typed `tags`, plus the tags Jaeger's OTLP translation adds
//! (`span.kind`, `otel.scope.name`, `otel.scope.version`, and
//! `error`/`otel.status_code` on failures).
//!
//! One trace per line inside the envelope: still one JSON document (which
//! is all Jaeger promises), but the fixtures diff and grep well.

use std::io::{self, Write};

use serde::Serialize;

use super::{TraceWriter, span_hex, trace_hex};
use crate::services::{resource_attributes, scope};
use crate::trace::{Attr, Trace, Value};

/// Writes the query API envelope, streaming traces into its `data` array.
#[derive(Default)]
pub struct JaegerWriter {
    written: usize,
}

impl TraceWriter for JaegerWriter {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"{\"data\":[")
    }

    fn write_batch(&mut self, traces: &[Trace], out: &mut dyn Write) -> io::Result<()> {
        for trace in traces {
            out.write_all(if self.written == 0 { b"\n" } else { b",\n" })?;
            serde_json::to_writer(&mut *out, &JaegerTrace::from(trace))?;
            self.written += 1;
        }
        Ok(())
    }

    fn end(&mut self, out: &mut dyn Write) -> io::Result<()> {
        // The query API reports 0 for these on trace searches.
        out.write_all(b"\n],\"total\":0,\"limit\":0,\"offset\":0,\"errors\":null}\n")
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JaegerTrace<'a> {
    #[serde(rename = "traceID")]
    trace_id: String,
    spans: Vec<JaegerSpan<'a>>,
    processes: Processes<'a>,
    warnings: Option<()>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JaegerSpan<'a> {
    #[serde(rename = "traceID")]
    trace_id: String,
    #[serde(rename = "spanID")]
    span_id: String,
    operation_name: &'a str,
    references: Vec<Reference>,
    flags: u32,
    start_time: i64,
    duration: i64,
    tags: Vec<Tag<'a>>,
    logs: [(); 0],
    #[serde(rename = "processID")]
    process_id: String,
    warnings: Option<()>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Reference {
    ref_type: &'static str,
    #[serde(rename = "traceID")]
    trace_id: String,
    #[serde(rename = "spanID")]
    span_id: String,
}

#[derive(Serialize)]
struct Process<'a> {
    #[serde(rename = "serviceName")]
    service_name: &'a str,
    tags: Vec<Tag<'a>>,
}

/// The `processes` object, keys in `p1`, `p2`, ... order (a map type would
/// sort `p10` before `p2`).
struct Processes<'a>(Vec<(String, Process<'a>)>);

impl Serialize for Processes<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

#[derive(Serialize)]
struct Tag<'a> {
    key: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    value: TagValue<'a>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum TagValue<'a> {
    Str(&'a str),
    Owned(String),
    Int(i64),
    Bool(bool),
    Float(f64),
}

fn tag(attr: &Attr) -> Tag<'_> {
    let (kind, value) = match &attr.value {
        Value::Str(s) => ("string", TagValue::Str(s)),
        Value::Int(n) => ("int64", TagValue::Int(*n)),
        Value::Bool(b) => ("bool", TagValue::Bool(*b)),
        Value::Float(x) => ("float64", TagValue::Float(*x)),
    };
    Tag {
        key: attr.key,
        kind,
        value,
    }
}

/// A tag from an attribute built on the fly (resource attributes).
fn owned_tag(attr: Attr) -> Tag<'static> {
    let (kind, value) = match attr.value {
        Value::Str(s) => ("string", TagValue::Owned(s)),
        Value::Int(n) => ("int64", TagValue::Int(n)),
        Value::Bool(b) => ("bool", TagValue::Bool(b)),
        Value::Float(x) => ("float64", TagValue::Float(x)),
    };
    Tag {
        key: attr.key,
        kind,
        value,
    }
}

fn string_tag<'a>(key: &'a str, value: &'a str) -> Tag<'a> {
    Tag {
        key,
        kind: "string",
        value: TagValue::Str(value),
    }
}

impl<'a> From<&'a Trace> for JaegerTrace<'a> {
    fn from(trace: &'a Trace) -> Self {
        let mut services: Vec<&'static str> = Vec::new();
        for span in &trace.spans {
            if !services.contains(&span.service) {
                services.push(span.service);
            }
        }
        let process_id = |service: &str| {
            let i = services.iter().position(|s| *s == service).unwrap_or(0);
            format!("p{}", i + 1)
        };
        let spans = trace
            .spans
            .iter()
            .map(|span| {
                let (scope_name, scope_version) = scope(span);
                let mut tags: Vec<Tag<'a>> = Vec::with_capacity(span.attrs.len() + 5);
                tags.push(string_tag("otel.scope.name", scope_name));
                tags.push(string_tag("otel.scope.version", scope_version));
                tags.extend(span.attrs.iter().map(tag));
                tags.push(string_tag("span.kind", span.kind.jaeger_name()));
                if span.error {
                    tags.push(string_tag("otel.status_code", "ERROR"));
                    tags.push(Tag {
                        key: "error",
                        kind: "bool",
                        value: TagValue::Bool(true),
                    });
                }
                JaegerSpan {
                    trace_id: trace_hex(trace.id),
                    span_id: span_hex(span.id),
                    operation_name: &span.name,
                    // Jaeger's OTLP translation writes each link as a
                    // `FOLLOWS_FROM` reference after the parent's `CHILD_OF`.
                    references: span
                        .parent
                        .map(|p| Reference {
                            ref_type: "CHILD_OF",
                            trace_id: trace_hex(trace.id),
                            span_id: span_hex(p),
                        })
                        .into_iter()
                        .chain(span.links.iter().map(|link| Reference {
                            ref_type: "FOLLOWS_FROM",
                            trace_id: trace_hex(link.trace),
                            span_id: span_hex(link.span),
                        }))
                        .collect(),
                    flags: 1,
                    // Jaeger keeps microseconds; the generator's times are
                    // whole microseconds, so nothing is lost.
                    start_time: span.start / 1000,
                    duration: (span.end - span.start) / 1000,
                    tags,
                    logs: [],
                    process_id: process_id(span.service),
                    warnings: None,
                }
            })
            .collect();
        let processes = services
            .iter()
            .map(|&service| {
                let tags = resource_attributes(service)
                    .into_iter()
                    .filter(|a| a.key != "service.name")
                    .map(owned_tag)
                    .collect();
                (
                    process_id(service),
                    Process {
                        service_name: service,
                        tags,
                    },
                )
            })
            .collect();
        JaegerTrace {
            trace_id: trace_hex(trace.id),
            spans,
            processes: Processes(processes),
            warnings: None,
        }
    }
}
