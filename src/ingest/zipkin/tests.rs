//! Zipkin reader tests against Zipkin's own test data and hand-made edge
//! cases.

use super::*;
use crate::ingest::test_support::{
    assert_counted_alike, ingested_broken_before, oracle, per_trace, read_both_ways, read_with,
};
use crate::model::{Quality, Shape, ShapeKind, TraceSet, server_half_id, split_shared};

/// The spans of `bytes` with their shared halves told apart, as building
/// their traces does.
fn read(strings: &Interner, bytes: &[u8]) -> Result<(Vec<TracedSpan>, Quality), ReadError> {
    let (mut spans, quality) = read_with(&ZipkinReader, strings, bytes)?;
    per_trace(&mut spans, split_shared);
    Ok((spans, quality))
}

fn id(text: &str) -> SpanId {
    SpanId::parse(text).unwrap()
}

fn one(spans: &[TracedSpan], span_id: SpanId) -> &TracedSpan {
    let found: Vec<&TracedSpan> = spans.iter().filter(|s| s.span.span_id == span_id).collect();
    assert_eq!(found.len(), 1, "{span_id}");
    found[0]
}

#[test]
fn skew_splits_the_shared_span_into_client_parent_and_server_child() {
    let strings = Interner::new();
    let (spans, quality) = read(&strings, &oracle("zipkin/skew.json")).unwrap();
    assert_eq!(spans.len(), 4);
    assert_eq!(quality.unparsable_records, 0);
    let shared = id("74280ae0c10d8062");
    let client = one(&spans, shared);
    assert_eq!(client.span.kind, SpanKind::Client);
    assert_eq!(strings.resolve(client.span.service), "servicea");
    assert_eq!(client.span.parent_id, Some(id("bf396325699c84bf")));
    assert_eq!(client.span.start, 1_470_150_004_074_202_000);
    assert_eq!(client.span.duration(), 94_539_000);
    let server = one(&spans, server_half_id(shared));
    assert_eq!(server.span.kind, SpanKind::Server);
    assert_eq!(strings.resolve(server.span.service), "serviceb");
    assert_eq!(
        server.span.parent_id,
        Some(shared),
        "the server half is the client's child"
    );
    assert_eq!(server.span.start, 1_470_150_004_008_761_000);
    let local = one(&spans, id("43210ae0c10d1234"));
    assert_eq!(local.span.kind, SpanKind::Internal, "no kind: a local span");
    assert_eq!(
        local.span.parent_id,
        Some(server.span.span_id),
        "serviceb's own work hangs under the server half"
    );
    let set = TraceSet::build(spans, strings, quality);
    assert_eq!(set.traces.len(), 1);
    assert_eq!(set.traces[0].spans.len(), 4);
    assert_eq!(set.quality.duplicate_spans, 0);
    assert_eq!(set.quality.missing_parent, 0);
    assert_eq!(
        set.quality.child_starts_before_parent, 1,
        "the server half starts 65 ms before its client: clock skew"
    );
}

#[test]
fn a_lone_shared_server_span_keeps_its_id_and_root() {
    let strings = Interner::new();
    let (spans, _) = read(&strings, &oracle("zipkin/envoy.json")).unwrap();
    assert_eq!(spans.len(), 1);
    let span = &spans[0];
    assert_eq!(span.span.span_id, id("978883983d506fa5"));
    assert_eq!(span.span.parent_id, None);
    assert_eq!(
        strings.resolve(span.span.service),
        "unknown",
        "no serviceName"
    );
    assert_eq!(strings.resolve(span.span.name), "localhost:10000");
    assert_eq!(span.span.duration(), 127_115_000);
    let attrs = span.span.attrs(&strings);
    assert_eq!(
        attrs.shape.map(|s| strings.resolve(s.text)),
        Some("GET http://www.google.com/")
    );
    assert_eq!(
        attrs.url_host.map(|s| strings.resolve(s)),
        Some("www.google.com")
    );
}

#[test]
fn messaging_kinds_peers_and_statements() {
    let strings = Interner::new();
    let (spans, _) = read(&strings, &oracle("zipkin/messaging.json")).unwrap();
    let publish = one(&spans, id("05e3ac9a4f6e3b90"));
    assert_eq!(publish.span.kind, SpanKind::Producer);
    let attrs = publish.span.attrs(&strings);
    assert_eq!(
        attrs.peer_service.map(|s| strings.resolve(s)),
        Some("rabbitmq")
    );
    assert_eq!(
        attrs.messaging_system.map(|s| strings.resolve(s)),
        Some("rabbitmq")
    );
    assert_eq!(
        one(&spans, id("e457b5a2e4d86bd1")).span.kind,
        SpanKind::Consumer
    );
    assert_eq!(
        one(&spans, id("b33447baae403ed6")).span.kind,
        SpanKind::Server
    );

    let (spans, _) = read(&strings, &oracle("zipkin/simple-db-p6.json")).unwrap();
    let queries: Vec<Shape> = spans
        .iter()
        .filter_map(|s| {
            s.span
                .attrs(&strings)
                .shape
                .filter(|q| q.kind == ShapeKind::Query)
        })
        .collect();
    assert_eq!(queries.len(), 4, "sql.query is the statement");
    assert!(spans.iter().any(|s| {
        s.span
            .attrs(&strings)
            .peer_service
            .map(|p| strings.resolve(p))
            == Some("app_db")
    }));
}

#[test]
fn error_tags_make_errors() {
    let strings = Interner::new();
    let (spans, _) = read(&strings, &oracle("zipkin/messaging-kafka.json")).unwrap();
    assert_eq!(spans.len(), 28);
    assert_eq!(
        spans
            .iter()
            .filter(|s| s.span.status == Status::Error)
            .count(),
        3
    );
}

#[test]
fn incomplete_and_bad_spans_are_kept_or_counted_with_their_line() {
    let strings = Interner::new();
    let doc = br#"[
  {"traceId": "a", "id": "1", "timestamp": 1000, "name": "incomplete"},
  {"traceId": "a", "id": "2", "duration": 5},
  {"traceId": "a", "id": "3", "timestamp": 9999999999999999, "duration": 5},
  "not a span",
  {"traceId": "a", "id": "4", "parentId": "1", "timestamp": "2000", "duration": 1.4,
   "tags": {"error": "", "db.statement": "SELECT 1", "sql.query": "ignored"}}
]"#;
    let (spans, quality) = read(&strings, doc).unwrap();
    assert_eq!(spans.len(), 2);
    assert_eq!(spans[0].span.duration(), 0, "no duration: kept, zero long");
    assert_eq!(spans[0].span.start, 1_000_000);
    let four = &spans[1];
    assert_eq!((four.span.start, four.span.end), (2_000_000, 2_001_000));
    assert_eq!(four.span.status, Status::Error, "an error tag, even empty");
    assert_eq!(
        four.span
            .attrs(&strings)
            .shape
            .map(|s| strings.resolve(s.text)),
        Some("SELECT %s"),
        "the standard key (SELECT 1) wins over sql.query"
    );
    assert_eq!(quality.unparsable_records, 2);
    assert_eq!(quality.invalid_time, 1);
    let at: Vec<(Location, &str)> = quality
        .examples
        .iter()
        .map(|p| (p.location.clone(), p.message.as_str()))
        .collect();
    assert_eq!(at[0].0, Location::Line(3));
    assert!(at[0].1.contains("timestamp"), "{}", at[0].1);
    assert_eq!(at[1].0, Location::Line(4));
    assert!(at[1].1.contains("after 2200"), "{}", at[1].1);
    assert!(at[2].1.contains("expected a Zipkin span object"));
}

#[test]
fn json_lines_and_lists_of_traces() {
    let strings = Interner::new();
    let lines = b"{\"traceId\":\"a\",\"id\":\"1\",\"kind\":\"CLIENT\",\"timestamp\":10,\"duration\":8,\"localEndpoint\":{\"serviceName\":\"front\"}}\n\
{\"traceId\":\"a\",\"id\":\"1\",\"kind\":\"SERVER\",\"shared\":true,\"timestamp\":12,\"duration\":4,\"localEndpoint\":{\"serviceName\":\"back\"}}\n\
{\"traceId\":\"a\",\"id\":\"2\",\"parentId\":\"1\",\"timestamp\":13,\"duration\":1,\"localEndpoint\":{\"serviceName\":\"back\"}}\n";
    let (spans, quality) = read(&strings, lines).unwrap();
    assert_eq!(quality.unparsable_records, 0);
    assert_eq!(spans.len(), 3);
    assert_eq!(
        spans[1].span.span_id,
        server_half_id(id("1")),
        "halves on separate lines"
    );
    assert_eq!(spans[2].span.parent_id, Some(spans[1].span.span_id));

    let traces = br#"[[{"traceId":"a","id":"1","timestamp":1,"duration":1}],
                       [{"traceId":"b","id":"1","timestamp":1,"duration":1}]]"#;
    let (spans, _) = read(&strings, traces).unwrap();
    assert_eq!(spans.len(), 2);
    assert_ne!(spans[0].trace_id, spans[1].trace_id);
}

#[test]
fn unshared_server_with_a_client_of_the_same_id_is_split_too() {
    let strings = Interner::new();
    let doc = br#"[
{"traceId":"a","id":"1","kind":"CLIENT","timestamp":10,"duration":8,"localEndpoint":{"serviceName":"front"}},
{"traceId":"a","id":"1","kind":"SERVER","timestamp":12,"duration":4,"localEndpoint":{"serviceName":"back"}},
{"traceId":"a","id":"3","parentId":"1","timestamp":11,"duration":1,"localEndpoint":{"serviceName":"front"}}]"#;
    let (spans, _) = read(&strings, doc).unwrap();
    assert_eq!(spans[0].span.span_id, id("1"));
    assert_eq!(spans[1].span.span_id, server_half_id(id("1")));
    assert_eq!(
        spans[2].span.parent_id,
        Some(id("1")),
        "the client's service stays under the client"
    );
}

#[test]
fn not_zipkin_is_an_error() {
    let strings = Interner::new();
    assert!(read(&strings, b"{\"a\": 1}").is_err());
    assert!(read(&strings, b"[1, 2").is_err());
}

#[test]
fn sniffing_accepts_zipkin_only() {
    for file in [
        "skew.json",
        "envoy.json",
        "yelp.json",
        "messaging-kafka.json",
    ] {
        assert!(sniff(&oracle(&format!("zipkin/{file}"))), "{file}");
    }
    assert!(!sniff(&oracle("jaeger/ui_01.json")));
    assert!(!sniff(&oracle("otlp/spec-example.json")));
    assert!(!sniff(
        b"[{\"traceId\":\"a\",\"id\":\"1\",\"binaryAnnotations\":[]}]"
    ));
}

#[test]
fn odd_values_never_panic() {
    let template: Value = serde_json::from_slice(&oracle("zipkin/skew.json")).unwrap();
    for mutated in super::super::json_scalars::mutations(&template) {
        let strings = Interner::new();
        let bytes = serde_json::to_vec(&mutated).unwrap();
        let _ = read(&strings, &bytes);
    }
}

/// An array of `traces` traces (`/api/v2/traces`), one span a line, several
/// test windows long: each a client call whose server half shares its id,
/// and the server's own work under it. The client span of trace `bad` has
/// a timestamp that is not a number.
fn large_array(traces: usize, bad: usize) -> String {
    let mut doc = String::from("[\n");
    for i in 1..=traces {
        let start = if i == bad {
            "\"x\"".to_string()
        } else {
            (1_700_000_000_000_000u64 + i as u64).to_string()
        };
        let span = |id: &str, extra: &str, service: &str| {
            let start = if service == "front" {
                &start
            } else {
                "1700000000000000"
            };
            format!(
                "  {{\"traceId\": \"{i:x}\", \"id\": \"{id}\", \"name\": \"get /a\", \"timestamp\": {start}, \"duration\": 20, \"localEndpoint\": {{\"serviceName\": \"{service}\"}}{extra}}}"
            )
        };
        doc.push_str(&format!(
            " [\n{},\n{},\n{}\n ]{}\n",
            span(&format!("{i:x}1"), ", \"kind\": \"CLIENT\"", "front"),
            span(
                &format!("{i:x}1"),
                ", \"kind\": \"SERVER\", \"shared\": true",
                "back"
            ),
            span(
                &format!("{i:x}2"),
                &format!(", \"parentId\": \"{i:x}1\""),
                "back"
            ),
            if i < traces { "," } else { "" }
        ));
    }
    doc.push_str("]\n");
    doc
}

/// (span id, parent id, kind) of every span, sorted.
fn shapes<'s>(spans: impl Iterator<Item = &'s Span>) -> Vec<(u64, Option<u64>, SpanKind)> {
    let mut out: Vec<_> = spans
        .map(|s| (s.span_id.0, s.parent_id.map(|p| p.0), s.kind))
        .collect();
    out.sort_unstable_by_key(|s| (s.0, s.1));
    out
}

#[test]
fn a_large_array_of_traces_is_read_a_window_at_a_time_as_it_is_whole() {
    let doc = large_array(3000, 2500);
    let framing = Framing::Envelope(Envelope::ARRAY);
    let (streamed, mut whole, quality, _) = read_both_ways(&ZipkinReader, &doc, framing);
    per_trace(&mut whole, split_shared);
    assert_eq!(whole.len(), 3 * 3000 - 1);
    let spans = streamed.set.traces.iter().flat_map(|t| &t.spans);
    assert_eq!(shapes(spans), shapes(whole.iter().map(|s| &s.span)));
    // Each shared span was split when its trace was built: a client, a
    // server half under it, and the server's work under that.
    assert_eq!(streamed.set.traces[0].spans.len(), 3);
    assert_eq!(streamed.set.quality.missing_parent, 0);
    assert_counted_alike(&streamed.set.quality, &quality, 1, 1 + 5 * 2499 + 2);
}

#[test]
fn a_large_array_of_traces_that_breaks_off_keeps_what_came_before() {
    let doc = large_array(3000, 0);
    let (spans, problem) = ingested_broken_before(&doc, "\"traceId\": \"7d1\"", "],");
    assert_eq!(spans, 3 * 2000);
    assert_eq!(problem.location, Location::Line(1 + 5 * 2000 + 1));
    assert!(
        problem.message.contains("in an array of Zipkin traces"),
        "{problem:?}"
    );
}

/// Spans of `traces` traces, one a line, each trace's client half among
/// the first lines and its server half and the server's work among the
/// last, so that the halves are several test windows apart.
fn far_apart(traces: usize) -> Vec<String> {
    let span = |i: usize, id: &str, extra: &str, service: &str| {
        format!(
            "{{\"traceId\": \"{i:x}\", \"id\": \"{id}\", \"name\": \"get /a\", \"timestamp\": 1700000000000000, \"duration\": 20, \"localEndpoint\": {{\"serviceName\": \"{service}\"}}{extra}}}"
        )
    };
    let clients =
        (1..=traces).map(|i| span(i, &format!("{i:x}1"), ", \"kind\": \"CLIENT\"", "front"));
    let servers = (1..=traces).flat_map(|i| {
        [
            span(
                i,
                &format!("{i:x}1"),
                ", \"kind\": \"SERVER\", \"shared\": true",
                "back",
            ),
            span(
                i,
                &format!("{i:x}2"),
                &format!(", \"parentId\": \"{i:x}1\""),
                "back",
            ),
        ]
    });
    clients.chain(servers).collect()
}

/// Asserts that every trace of `far_apart(traces)`, read as `doc`, was
/// split as a whole read splits it: client, server half, server's work.
fn assert_split_across_windows(doc: &str, framing: Framing, traces: usize) {
    let (streamed, mut whole, _, _) = read_both_ways(&ZipkinReader, doc, framing);
    per_trace(&mut whole, split_shared);
    assert_eq!(whole.len(), 3 * traces);
    let spans = streamed.set.traces.iter().flat_map(|t| &t.spans);
    assert_eq!(shapes(spans), shapes(whole.iter().map(|s| &s.span)));
    assert_eq!(streamed.set.traces.len(), traces);
    assert_eq!(streamed.set.quality.duplicate_spans, 0);
    assert_eq!(streamed.set.quality.missing_parent, 0);
    let last = &streamed.set.traces[traces - 1];
    let client = id(&format!("{traces:x}1"));
    let half = last
        .spans
        .iter()
        .find(|s| s.span_id == server_half_id(client))
        .expect("the server half, paired with its client windows away");
    assert_eq!(half.parent_id, Some(client));
}

#[test]
fn a_large_array_of_spans_is_read_a_window_at_a_time_and_halves_meet_in_their_trace() {
    let traces = 3000;
    let doc = format!("[\n{}\n]\n", far_apart(traces).join(",\n"));
    assert_split_across_windows(&doc, Framing::Envelope(Envelope::ARRAY), traces);
}

#[test]
fn json_lines_with_an_array_longer_than_a_window_read_as_whole() {
    // The second line, one array of spans longer than three windows, is
    // cut by span; the span after it, an object on its own line, is read
    // as a line is.
    let traces = 3000;
    let spans = far_apart(traces);
    let (first, rest) = spans.split_first().unwrap();
    let (last, middle) = rest.split_last().unwrap();
    let doc = format!("[{first}]\n[{}]\n{last}\n", middle.join(", "));
    assert_split_across_windows(&doc, Framing::LinesOr(Envelope::ARRAY_LINES), traces);
}

#[test]
fn shared_halves_on_lines_windows_apart_are_paired() {
    let traces = 3000;
    let doc = far_apart(traces).join("\n") + "\n";
    assert_split_across_windows(&doc, Framing::LinesOr(Envelope::ARRAY_LINES), traces);
}
