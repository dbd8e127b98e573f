//! AWS X-Ray as `aws xray batch-get-traces` prints it:
//! `{"Traces": [{"Id", "Duration", "Segments": [{"Id", "Document"}]}],
//! "UnprocessedTraceIds": []}`, each `Document` a segment serialised as a
//! JSON string (one trace per line here). A span whose parent is absent or
//! of another service opens a segment named after its service (`parent_id`
//! the calling subsegment); the spans below it in the same service are its
//! subsegments, nested as the spans are; a client call is a `remote`
//! subsegment, named after its `peer.service` when it has one. Times are
//! float seconds; the trace id is X-Ray's `1-{8 hex}-{24 hex}` spelling of
//! the 128-bit id. X-Ray has no links: a scenario with links gives this
//! writer a shape without.

use std::io::{self, Write};

use serde_json::{Map, Value as Json, json};

use super::{TraceWriter, span_hex, trace_hex};
use crate::trace::{Kind, Span, Trace};

/// Writes `batch-get-traces` output.
#[derive(Default)]
pub struct XrayWriter {
    written: usize,
}

impl TraceWriter for XrayWriter {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"{\"Traces\":[")
    }

    fn write_batch(&mut self, traces: &[Trace], out: &mut dyn Write) -> io::Result<()> {
        for trace in traces {
            out.write_all(if self.written == 0 { b"\n" } else { b",\n" })?;
            serde_json::to_writer(&mut *out, &xray_trace(trace))?;
            self.written += 1;
        }
        Ok(())
    }

    fn end(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"\n],\"UnprocessedTraceIds\":[]}\n")
    }
}

/// X-Ray's spelling of a trace id.
fn xray_id(id: u128) -> String {
    let hex = trace_hex(id);
    format!("1-{}-{}", &hex[..8], &hex[8..])
}

fn seconds(nanos: i64) -> f64 {
    // Whole microseconds: exact to the microsecond as float seconds.
    (nanos / 1_000) as f64 / 1e6
}

fn xray_trace(trace: &Trace) -> Json {
    let service_of = |id: u64| trace.spans.iter().find(|s| s.id == id).map(|s| s.service);
    let opens_segment = |span: &Span| span.parent.and_then(service_of) != Some(span.service);
    let trace_id = xray_id(trace.id);
    let segments: Vec<Json> = trace
        .spans
        .iter()
        .filter(|s| opens_segment(s))
        .map(|segment| {
            let mut doc = document(trace, segment, true);
            doc.insert("trace_id".into(), json!(trace_id));
            if let Some(parent) = segment.parent {
                doc.insert("parent_id".into(), json!(span_hex(parent)));
            }
            let text = serde_json::to_string(&Json::Object(doc)).expect("JSON");
            json!({ "Id": span_hex(segment.id), "Document": text })
        })
        .collect();
    let start = trace.spans.iter().map(|s| s.start).min().unwrap_or(0);
    let end = trace.spans.iter().map(|s| s.end).max().unwrap_or(0);
    json!({
        "Id": trace_id,
        "Duration": seconds(end - start),
        "Segments": segments,
    })
}

/// `span` as a (sub)segment, with the spans of its service below it.
fn document(trace: &Trace, span: &Span, segment: bool) -> Map<String, Json> {
    let mut doc = Map::new();
    doc.insert("id".into(), json!(span_hex(span.id)));
    // A call's subsegment is named after what it calls when the span says
    // (`peer.service`), as the Collector's X-Ray exporter names it.
    let name = if segment {
        span.service
    } else if matches!(span.kind, Kind::Client | Kind::Producer) {
        span.str_attr(&["peer.service"]).unwrap_or(&span.name)
    } else {
        span.name.as_str()
    };
    doc.insert("name".into(), json!(name));
    doc.insert("start_time".into(), json!(seconds(span.start)));
    doc.insert("end_time".into(), json!(seconds(span.end)));
    if !segment && matches!(span.kind, Kind::Client | Kind::Producer) {
        doc.insert("namespace".into(), json!("remote"));
    }
    if let (Some(method), Some(url)) = (
        span.str_attr(&["http.request.method", "http.method"]),
        span.str_attr(&["url.full", "http.url"]),
    ) {
        doc.insert(
            "http".into(),
            json!({ "request": { "method": method, "url": url } }),
        );
    }
    if let Some(statement) = span.db_statement() {
        let mut sql = Map::new();
        sql.insert("sanitized_query".into(), json!(statement));
        if let Some(system) = span.db_system() {
            sql.insert("database_type".into(), json!(system));
        }
        doc.insert("sql".into(), Json::Object(sql));
    }
    if span.error {
        doc.insert("fault".into(), json!(true));
    }
    let subsegments: Vec<Json> = trace
        .spans
        .iter()
        .filter(|s| s.parent == Some(span.id) && s.service == span.service)
        .map(|s| Json::Object(document(trace, s, false)))
        .collect();
    if !subsegments.is_empty() {
        doc.insert("subsegments".into(), Json::Array(subsegments));
    }
    doc
}
