//! Sentry transaction events, one JSON object per line, as an SDK sends
//! them and Sentry's event export returns them.
//!
//! Sentry has no span kinds and no cross-service spans: each service entry
//! (a span with no parent, or whose parent is in another service) is a new
//! transaction event. Its root span lives in `contexts.trace` (with the
//! calling span, in the caller's event, as `parent_span_id`), is named by
//! `transaction` and timed by `start_timestamp`/`timestamp`; every span the
//! service made under it, directly or not, goes into its `spans[]`. The
//! service is the event's `project` (critpath reads `project`, then
//! `server_name`, then the SDK name). Times are float seconds: the
//! generator's times are whole microseconds, which survive the float (see
//! critpath's `ingest::sentry::time`).
//!
//! Ops and descriptions follow Sentry's span conventions, which critpath
//! maps back to kinds and shapes: `db` with the SQL as description,
//! `db.redis` with the command, `http.client` with `METHOD url`,
//! `http.server` and `queue.process` roots (SERVER, CONSUMER),
//! `queue.publish` (PRODUCER), `function` for in-process work. Links (a
//! consumer's to the producer of its message) are `links` of
//! `contexts.trace` or of the child span.

use std::io::{self, Write};

use serde::Serialize;

use super::{TraceWriter, parent_services, span_hex, trace_hex};
use crate::rng::mix;
use crate::services::info;
use crate::trace::{Attr, Kind, Span, Trace, Value};

/// Writes one transaction event per service entry, one per line.
pub struct SentryWriter;

impl TraceWriter for SentryWriter {
    fn write_batch(&mut self, traces: &[Trace], out: &mut dyn Write) -> io::Result<()> {
        for trace in traces {
            for event in events(trace) {
                serde_json::to_writer(&mut *out, &event)?;
                out.write_all(b"\n")?;
            }
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct Event<'a> {
    event_id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    transaction: &'a str,
    transaction_info: TransactionInfo,
    platform: &'static str,
    sdk: Sdk,
    project: &'a str,
    server_name: String,
    release: String,
    environment: &'static str,
    start_timestamp: f64,
    timestamp: f64,
    contexts: Contexts<'a>,
    spans: Vec<SentrySpan<'a>>,
}

#[derive(Serialize)]
struct TransactionInfo {
    source: &'static str,
}

#[derive(Serialize)]
struct Sdk {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Contexts<'a> {
    trace: TraceContext<'a>,
}

#[derive(Serialize)]
struct TraceContext<'a> {
    trace_id: String,
    span_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_span_id: Option<String>,
    op: &'static str,
    status: &'static str,
    data: Data<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    links: Vec<SentryLink>,
}

/// A span link as newer Sentry SDKs send it (sentry-javascript's
/// `span.addLink`): on the transaction's `contexts.trace` and on its child
/// spans, as critpath's reader takes them.
#[derive(Serialize)]
struct SentryLink {
    trace_id: String,
    span_id: String,
    sampled: bool,
}

fn links(span: &Span) -> Vec<SentryLink> {
    span.links
        .iter()
        .map(|link| SentryLink {
            trace_id: trace_hex(link.trace),
            span_id: span_hex(link.span),
            sampled: true,
        })
        .collect()
}

#[derive(Serialize)]
struct SentrySpan<'a> {
    span_id: String,
    parent_span_id: String,
    trace_id: String,
    op: &'static str,
    description: String,
    start_timestamp: f64,
    timestamp: f64,
    status: &'static str,
    data: Data<'a>,
    same_process_as_parent: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    links: Vec<SentryLink>,
}

/// Span `data`: the span's attributes, in the order they were set.
struct Data<'a>(&'a [Attr]);

impl Serialize for Data<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|a| (a.key, DataValue(&a.value))))
    }
}

struct DataValue<'a>(&'a Value);

impl Serialize for DataValue<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Str(v) => s.serialize_str(v),
            Value::Int(v) => s.serialize_i64(*v),
            Value::Bool(v) => s.serialize_bool(*v),
            Value::Float(v) => s.serialize_f64(*v),
        }
    }
}

/// The trace's transaction events, in order of their root spans.
fn events(trace: &Trace) -> Vec<Event<'_>> {
    let parents = parent_services(trace);
    let is_entry: Vec<bool> = trace
        .spans
        .iter()
        .zip(&parents)
        .map(|(s, p)| *p != Some(s.service))
        .collect();
    // Each span belongs to the transaction of its nearest entry ancestor.
    let index: std::collections::HashMap<u64, usize> = trace
        .spans
        .iter()
        .enumerate()
        .rev()
        .map(|(i, s)| (s.id, i))
        .collect();
    let owner = |mut i: usize| {
        // Bounded: a parent cycle inside one service must not hang us.
        for _ in 0..trace.spans.len() {
            if is_entry[i] {
                return i;
            }
            match trace.spans[i].parent.and_then(|p| index.get(&p)) {
                Some(&p) => i = p,
                None => return i,
            }
        }
        i
    };
    let mut events: Vec<(usize, Event<'_>)> = trace
        .spans
        .iter()
        .enumerate()
        .filter(|&(i, _)| is_entry[i])
        .map(|(i, span)| (i, event(trace, span)))
        .collect();
    for (i, span) in trace.spans.iter().enumerate() {
        if is_entry[i] {
            continue;
        }
        let root = owner(i);
        if let Some((_, event)) = events.iter_mut().find(|(r, _)| *r == root) {
            event.spans.push(child(trace, span));
        }
    }
    events.into_iter().map(|(_, e)| e).collect()
}

fn event<'a>(trace: &'a Trace, span: &'a Span) -> Event<'a> {
    let service = info(span.service);
    let (sdk_name, sdk_version) = service.lang.sentry_sdk();
    let (op, _) = op_and_description(span);
    Event {
        // Derived, not drawn: writers must not disturb the scenario's stream.
        event_id: format!(
            "{:016x}{:016x}",
            mix(span.id ^ trace.id as u64),
            mix(span.id.rotate_left(17) ^ (trace.id >> 64) as u64)
        ),
        kind: "transaction",
        transaction: &span.name,
        transaction_info: TransactionInfo {
            source: match span.kind {
                Kind::Server => "route",
                Kind::Consumer => "task",
                _ => "custom",
            },
        },
        platform: service.lang.sentry_platform(),
        sdk: Sdk {
            name: sdk_name,
            version: sdk_version,
        },
        project: span.service,
        release: format!("{}@{}", span.service, service.version),
        server_name: service.host,
        environment: "production",
        start_timestamp: seconds(span.start),
        timestamp: seconds(span.end),
        contexts: Contexts {
            trace: TraceContext {
                trace_id: trace_hex(trace.id),
                span_id: span_hex(span.id),
                parent_span_id: span.parent.map(span_hex),
                op,
                status: status(span),
                data: Data(&span.attrs),
                links: links(span),
            },
        },
        spans: Vec::new(),
    }
}

fn child<'a>(trace: &Trace, span: &'a Span) -> SentrySpan<'a> {
    let (op, description) = op_and_description(span);
    SentrySpan {
        span_id: span_hex(span.id),
        parent_span_id: span.parent.map(span_hex).unwrap_or_default(),
        trace_id: trace_hex(trace.id),
        op,
        description,
        start_timestamp: seconds(span.start),
        timestamp: seconds(span.end),
        status: status(span),
        data: Data(&span.attrs),
        same_process_as_parent: true,
        links: links(span),
    }
}

/// Sentry's op and description for a span (see the module docs).
fn op_and_description(span: &Span) -> (&'static str, String) {
    if let Some(system) = span.db_system() {
        let op = if matches!(system, "redis") {
            "db.redis"
        } else {
            "db"
        };
        return (op, span.db_statement().unwrap_or(&span.name).to_string());
    }
    let method = span.str_attr(&["http.request.method"]);
    match span.kind {
        Kind::Server => ("http.server", span.name.clone()),
        Kind::Client if method.is_some() => {
            let url = span.str_attr(&["url.full"]).unwrap_or("");
            ("http.client", format!("{} {url}", method.unwrap_or("GET")))
        }
        Kind::Client => ("rpc", span.name.clone()),
        Kind::Producer => (
            "queue.publish",
            span.str_attr(&["messaging.destination.name"])
                .unwrap_or(&span.name)
                .to_string(),
        ),
        Kind::Consumer => ("queue.process", span.name.clone()),
        Kind::Internal => ("function", span.name.clone()),
    }
}

fn status(span: &Span) -> &'static str {
    if span.error { "internal_error" } else { "ok" }
}

/// Float seconds. Whole microseconds are exact in an `f64` up to 2^53 µs
/// (year 2255), and dividing by 10^6 gives the double nearest the decimal,
/// which serde_json prints back as that same decimal.
fn seconds(nanos: i64) -> f64 {
    (nanos / 1000) as f64 / 1e6
}
