//! Zipkin v2 JSON as Zipkin's `/api/v2/traces` returns it: a JSON array of
//! traces, each an array of spans (one trace per line here, so the fixtures
//! diff and grep well). Per span `timestamp` and `duration` in
//! microseconds, `kind` in capitals (none for internal spans),
//! `localEndpoint.serviceName`, string `tags` (an `error` tag on failures).
//!
//! RPCs are written as Brave (Zipkin's Java tracer) writes them by default:
//! a client span whose only child is a server span of another service shares
//! its id with it, the server half marked `shared: true`, and the server's
//! children name that id as parent. critpath splits them again, so they read
//! back as the same number of spans with the same times. Zipkin has no
//! links: a scenario with links gives this writer a shape without.

use std::collections::HashMap;
use std::io::{self, Write};

use serde_json::{Map, Value as Json, json};

use super::{TraceWriter, span_hex};
use crate::trace::{Kind, Span, Trace, Value};

/// Writes `/api/v2/traces` output.
#[derive(Default)]
pub struct ZipkinWriter {
    written: usize,
}

impl TraceWriter for ZipkinWriter {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"[")
    }

    fn write_batch(&mut self, traces: &[Trace], out: &mut dyn Write) -> io::Result<()> {
        for trace in traces {
            out.write_all(if self.written == 0 { b"\n" } else { b",\n" })?;
            serde_json::to_writer(&mut *out, &zipkin_trace(trace))?;
            self.written += 1;
        }
        Ok(())
    }

    fn end(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"\n]\n")
    }
}

/// The id each span is written with: a server span that is the only child
/// of a client span of another service takes its client's id (shared).
fn written_ids(trace: &Trace) -> HashMap<u64, u64> {
    let mut children: HashMap<u64, Vec<&Span>> = HashMap::new();
    for span in &trace.spans {
        if let Some(parent) = span.parent {
            children.entry(parent).or_default().push(span);
        }
    }
    let mut ids = HashMap::new();
    for client in trace.spans.iter().filter(|s| s.kind == Kind::Client) {
        if let Some([server]) = children.get(&client.id).map(Vec::as_slice) {
            if server.kind == Kind::Server && server.service != client.service {
                ids.insert(server.id, client.id);
            }
        }
    }
    ids
}

fn zipkin_trace(trace: &Trace) -> Vec<Json> {
    let shared = written_ids(trace);
    let id_of = |id: u64| shared.get(&id).copied().unwrap_or(id);
    let trace_id = super::trace_hex(trace.id);
    trace
        .spans
        .iter()
        .map(|span| {
            let mut out = Map::new();
            out.insert("traceId".into(), json!(trace_id));
            if let Some(parent) = span.parent {
                // A shared server half keeps its client's parent, as Brave
                // writes it; its children name the shared id.
                let parent = match shared.get(&span.id) {
                    Some(_) => trace
                        .spans
                        .iter()
                        .find(|s| s.id == parent)
                        .and_then(|client| client.parent)
                        .map(id_of),
                    None => Some(id_of(parent)),
                };
                if let Some(parent) = parent {
                    out.insert("parentId".into(), json!(span_hex(parent)));
                }
            }
            out.insert("id".into(), json!(span_hex(id_of(span.id))));
            let kind = match span.kind {
                Kind::Internal => None,
                Kind::Server => Some("SERVER"),
                Kind::Client => Some("CLIENT"),
                Kind::Producer => Some("PRODUCER"),
                Kind::Consumer => Some("CONSUMER"),
            };
            if let Some(kind) = kind {
                out.insert("kind".into(), json!(kind));
            }
            out.insert("name".into(), json!(span.name));
            out.insert("timestamp".into(), json!(span.start / 1_000));
            out.insert("duration".into(), json!((span.end - span.start) / 1_000));
            out.insert(
                "localEndpoint".into(),
                json!({ "serviceName": span.service }),
            );
            let mut tags = Map::new();
            for attr in &span.attrs {
                let text = match &attr.value {
                    Value::Str(s) => s.clone(),
                    Value::Int(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    Value::Float(x) => x.to_string(),
                };
                tags.insert(attr.key.to_string(), json!(text));
            }
            if span.error {
                tags.insert("error".into(), json!(""));
            }
            if !tags.is_empty() {
                out.insert("tags".into(), Json::Object(tags));
            }
            if shared.contains_key(&span.id) {
                out.insert("shared".into(), json!(true));
            }
            Json::Object(out)
        })
        .collect()
}
