//! X-Ray reader tests against the AWS CLI's documented output and
//! hand-made documents.

use super::*;
use crate::ingest::test_support::{oracle, per_trace, read_with};
use crate::model::{Quality, ShapeKind, TraceSet, adopt_parent_services};

/// The spans of `bytes` with the services their subsegment documents take
/// from their parents, as building their traces gives them.
fn read(strings: &Interner, bytes: &[u8]) -> Result<(Vec<TracedSpan>, Quality), ReadError> {
    let (mut spans, quality) = read_with(&XrayReader, strings, bytes)?;
    per_trace(&mut spans, |spans| adopt_parent_services(spans, strings));
    Ok((spans, quality))
}

fn id(text: &str) -> SpanId {
    SpanId::parse(text).unwrap()
}

#[test]
fn cli_example_gives_segment_aws_call_and_inferred_segment() {
    let strings = Interner::new();
    let (spans, quality) = read(&strings, &oracle("xray/batch-traces-get.output.json")).unwrap();
    assert_eq!(quality.unparsable_records, 0);
    assert_eq!(spans.len(), 3);
    let (trace, hex) = TraceId::parse("5d82881a0a9126e92a73e971eed891b9").unwrap();
    assert!(hex);
    assert!(
        spans
            .iter()
            .all(|s| s.trace_id == trace && s.span.trace_label.is_none())
    );

    let root = &spans[0];
    assert_eq!(root.span.span_id, id("54aff5735b12dd28"));
    assert_eq!(root.span.parent_id, None);
    assert_eq!(root.span.kind, SpanKind::Server);
    assert_eq!(strings.resolve(root.span.service), "Scorekeep");
    assert_eq!(strings.resolve(root.span.name), "POST /api/user");
    assert_eq!(root.span.start, 1_568_835_610_432_000_000);
    assert_eq!(root.span.duration(), 232_000_000);
    assert_eq!(
        root.span
            .attrs(&strings)
            .shape
            .map(|s| strings.resolve(s.text)),
        Some("POST http://scorekeep-env-1.m4fg2pfzpv.us-east-2.elasticbeanstalk.com/api/user")
    );
    assert_eq!(
        root.span
            .attrs(&strings)
            .url_host
            .map(|s| strings.resolve(s)),
        Some("scorekeep-env-1.m4fg2pfzpv.us-east-2.elasticbeanstalk.com")
    );

    let call = &spans[1];
    assert_eq!(call.span.span_id, id("2d6900034ccfe558"));
    assert_eq!(call.span.parent_id, Some(root.span.span_id));
    assert_eq!(call.span.kind, SpanKind::Client, "namespace aws");
    assert_eq!(strings.resolve(call.span.service), "Scorekeep");
    assert_eq!(strings.resolve(call.span.name), "DynamoDB UpdateItem");
    assert_eq!(
        call.span
            .attrs(&strings)
            .peer_service
            .map(|s| strings.resolve(s)),
        Some("DynamoDB")
    );
    assert_eq!(call.span.duration(), 6_000_000);

    let inferred = &spans[2];
    assert_eq!(inferred.span.parent_id, Some(call.span.span_id));
    assert_eq!(strings.resolve(inferred.span.service), "DynamoDB");
    assert_eq!(inferred.span.kind, SpanKind::Server);

    let set = TraceSet::build(spans, strings, quality);
    assert_eq!(set.traces.len(), 1);
    assert_eq!(set.quality.missing_parent, 0);
    assert_eq!(set.quality.child_starts_before_parent, 0);
}

#[test]
fn trace_ids_read_as_the_hex_they_spell() {
    let (a, hex) = trace_id("1-5d82881a-0a9126e92a73e971eed891b9").unwrap();
    assert!(hex);
    assert_eq!(a.to_string(), "5d82881a0a9126e92a73e971eed891b9");
    let (b, hex) = trace_id("trace-one").unwrap();
    assert!(!hex);
    assert_eq!(b, TraceId::parse("trace-one").unwrap().0);
    assert!(trace_id(" ").is_err());
}

const SEGMENT: &str = r#"{"trace_id":"1-5d82881a-0a9126e92a73e971eed891b9","id":"aaaaaaaaaaaaaaaa","name":"api","start_time":100.0,"end_time":100.5,"fault":true,
 "subsegments":[{"id":"bbbbbbbbbbbbbbbb","name":"db.example.com","namespace":"remote","start_time":100.1,"end_time":100.2,
   "sql":{"sanitized_query":"SELECT * FROM t WHERE id = ?","database_type":"PostgreSQL"},
   "subsegments":[{"id":"cccccccccccccccc","name":"inner","start_time":100.1,"in_progress":true}]},
  {"id":"dddddddddddddddd","name":"render","start_time":100.2,"end_time":100.3,"error":false}]}"#;

#[test]
fn bare_documents_nest_subsegments() {
    let strings = Interner::new();
    let (spans, quality) = read(&strings, SEGMENT.as_bytes()).unwrap();
    assert_eq!(quality.unparsable_records, 0);
    assert_eq!(spans.len(), 4);
    assert_eq!(spans[0].span.status, Status::Error, "fault");
    assert_eq!(strings.resolve(spans[0].span.name), "api");
    let db = &spans[1];
    assert_eq!(db.span.kind, SpanKind::Client);
    assert_eq!(strings.resolve(db.span.service), "api");
    let attrs = db.span.attrs(&strings);
    assert_eq!(
        attrs.db_system.map(|s| strings.resolve(s)),
        Some("postgresql")
    );
    assert_eq!(
        attrs.shape.map(|s| (s.kind, strings.resolve(s.text))),
        Some((ShapeKind::Query, "SELECT * FROM t WHERE id = %s"))
    );
    assert_eq!(spans[2].span.parent_id, Some(db.span.span_id));
    assert_eq!(spans[2].span.duration(), 0, "in progress: zero long");
    assert_eq!(spans[3].span.kind, SpanKind::Internal);
    assert_eq!(spans[3].span.status, Status::Unset);
    assert_eq!(spans[3].span.parent_id, Some(id("aaaaaaaaaaaaaaaa")));

    // A list of documents, and JSON lines of them, read the same.
    let list = format!("[{SEGMENT}]");
    assert_eq!(read(&strings, list.as_bytes()).unwrap().0, spans);
    let one_line = SEGMENT.replace('\n', "");
    let lines = format!("{one_line}\n{one_line}\n");
    assert_eq!(read(&strings, lines.as_bytes()).unwrap().0.len(), 8);
}

#[test]
fn separate_subsegment_documents_take_their_parents_service() {
    let strings = Interner::new();
    let doc = r#"[{"type":"subsegment","trace_id":"1-5d82881a-0a9126e92a73e971eed891b9","id":"eeeeeeeeeeeeeeee","parent_id":"bbbbbbbbbbbbbbbb","name":"late","start_time":100.15,"end_time":100.16},
{"type":"subsegment","trace_id":"1-5d82881a-0a9126e92a73e971eed891b9","id":"ffffffffffffffff","parent_id":"0123456789abcdef","name":"lost","start_time":100.15,"end_time":100.16},
SEGMENT]"#
        .replace("SEGMENT", SEGMENT);
    let (spans, _) = read(&strings, doc.as_bytes()).unwrap();
    assert_eq!(spans.len(), 6);
    assert_eq!(strings.resolve(spans[0].span.service), "api");
    assert_eq!(spans[0].span.kind, SpanKind::Internal);
    assert_eq!(strings.resolve(spans[1].span.service), "unknown");
}

#[test]
fn bad_segments_and_unprocessed_ids_are_counted() {
    let strings = Interner::new();
    let doc = r#"{
  "Traces": [
    {
      "Id": "1-5d82881a-0a9126e92a73e971eed891b9",
      "Segments": [
        {"Id": "1", "Document": "{\"id\":\"1111111111111111\",\"name\":\"a\",\"start_time\":10,\"end_time\":11}"},
        {"Id": "2", "Document": "{not json"},
        {"Id": "3", "Document": "{\"id\":\"3333333333333333\",\"name\":\"a\"}"},
        {"Id": "4", "Document": "{\"id\":\"4444444444444444\",\"name\":\"a\",\"start_time\":1e10,\"end_time\":1e10}"},
        {"Id": "5"}
      ]
    }
  ],
  "UnprocessedTraceIds": ["1-00000000-000000000000000000000001"]
}"#;
    let (spans, quality) = read(&strings, doc.as_bytes()).unwrap();
    assert_eq!(
        spans.len(),
        1,
        "the trace's Id stands in for a missing trace_id"
    );
    assert_eq!(quality.unparsable_records, 4);
    assert_eq!(quality.invalid_time, 1);
    let lines: Vec<&Location> = quality.examples.iter().map(|p| &p.location).collect();
    assert_eq!(
        lines[0],
        &Location::Line(1),
        "the unprocessed id: the record"
    );
    assert!(quality.examples[0].message.contains("UnprocessedTraceIds"));
    assert_eq!(
        lines[1..],
        [
            &Location::Line(7),
            &Location::Line(8),
            &Location::Line(9),
            &Location::Line(10)
        ]
    );
}

#[test]
fn not_xray_is_an_error() {
    let strings = Interner::new();
    assert!(read(&strings, b"{\"a\": 1}").is_err());
    assert!(read(&strings, b"{\"Traces\": ").is_err());
}

#[test]
fn sniffing_accepts_xray_only() {
    assert!(sniff(&oracle("xray/batch-traces-get.output.json")));
    assert!(sniff(SEGMENT.as_bytes()));
    assert!(!sniff(&oracle("sentry/consecutive-http-basic.json")));
    assert!(!sniff(&oracle("zipkin/skew.json")));
    assert!(!sniff(&oracle("jaeger/ui_01.json")));
}

#[test]
fn odd_values_never_panic() {
    let template: Value = serde_json::from_str(SEGMENT).unwrap();
    let mut templates = vec![template.clone()];
    templates.push(serde_json::from_slice(&oracle("xray/batch-traces-get.output.json")).unwrap());
    for template in &templates {
        for mutated in super::super::json_scalars::mutations(template) {
            let strings = Interner::new();
            let bytes = serde_json::to_vec(&mutated).unwrap();
            let _ = read(&strings, &bytes);
        }
    }
}

/// A `BatchGetTraces` output of `traces` traces, several test windows
/// long, seven lines a trace: a segment of service `svc-N`, and a
/// subsegment sent as its own document, listed first, which takes that
/// service. The segment of trace `bad` has no `start_time`; two trace ids
/// were not returned.
fn large_output(traces: usize, bad: usize) -> String {
    let mut doc = String::from("{\n  \"Traces\": [\n");
    for i in 1..=traces {
        let trace = format!("1-5d82881a-{i:024x}");
        let start = if i == bad {
            String::new()
        } else {
            format!(",\\\"start_time\\\":{}.5", 1_600_000_000 + i)
        };
        doc.push_str(&format!(
            concat!(
                "    {{\n",
                "      \"Id\": \"{trace}\",\n",
                "      \"Segments\": [\n",
                "        {{\"Id\": \"b\", \"Document\": \"{{\\\"type\\\":\\\"subsegment\\\",\\\"trace_id\\\":\\\"{trace}\\\",\\\"id\\\":\\\"{i:x}b\\\",\\\"parent_id\\\":\\\"{i:x}a\\\",\\\"name\\\":\\\"late\\\",\\\"start_time\\\":1600000000.6,\\\"end_time\\\":1600000000.7}}\"}},\n",
                "        {{\"Id\": \"a\", \"Document\": \"{{\\\"id\\\":\\\"{i:x}a\\\",\\\"name\\\":\\\"svc-{svc}\\\",\\\"trace_id\\\":\\\"{trace}\\\"{start},\\\"end_time\\\":1600000001}}\"}}\n",
                "      ]\n",
                "    }}{comma}\n"
            ),
            trace = trace,
            i = i,
            svc = i % 4,
            start = start,
            comma = if i < traces { "," } else { "" }
        ));
    }
    doc.push_str("  ],\n  \"UnprocessedTraceIds\": [\"1-00000000-000000000000000000000001\", \"1-00000000-000000000000000000000002\"]\n}\n");
    doc
}

#[test]
fn json_lines_with_an_output_longer_than_a_window_read_as_whole() {
    // The second line, one output longer than three windows, is cut by
    // trace; the lines after it are read as lines are: a segment document,
    // and one that is no X-Ray.
    let segment = |id: &str, service: &str| {
        format!(
            "{{\"id\":\"{id}\",\"name\":\"{service}\",\"trace_id\":\"1-5d82881a-00000000000000000000ff{id}\",\"start_time\":1600000000.5,\"end_time\":1600000001}}"
        )
    };
    let long = large_output(3000, 2500).replace('\n', " ");
    let doc = format!(
        "{}\n{long}\n{}\n{{\"other\": 1}}\n",
        segment("f1", "first"),
        segment("f2", "after")
    );
    let framing = Framing::LinesOr(Envelope::XRAY_LINES);
    let (streamed, mut whole, quality, strings) =
        crate::ingest::test_support::read_both_ways(&XrayReader, &doc, framing);
    per_trace(&mut whole, |spans| adopt_parent_services(spans, &strings));
    assert_eq!(whole.len(), 2 * 3000 - 1 + 2);
    let spans: Vec<&Span> = streamed.set.traces.iter().flat_map(|t| &t.spans).collect();
    assert_eq!(
        shapes(&streamed.set.strings, spans.iter().copied()),
        shapes(&strings, whole.iter().map(|s| &s.span))
    );
    assert_eq!(
        crate::ingest::test_support::located(spans.iter().copied()),
        crate::ingest::test_support::located(whole.iter().map(|s| &s.span))
    );
    let got = &streamed.set.quality;
    assert_eq!(got.unparsable_records, quality.unparsable_records);
    // The segment without a start, the unprocessed ids and the line that
    // is no X-Ray.
    assert_eq!(got.unparsable_records, 4);
    let counted = |q: &Quality| {
        let mut m: Vec<(Location, String)> = q
            .examples
            .iter()
            .map(|p| (p.location.clone(), p.message.clone()))
            .collect();
        m.sort_by_key(|(l, m)| (format!("{l:?}"), m.clone()));
        m
    };
    assert_eq!(counted(got), counted(&quality));
}

/// (span id, parent id, service) of every span, sorted.
fn shapes<'s>(
    strings: &Interner,
    spans: impl Iterator<Item = &'s Span>,
) -> Vec<(u64, Option<u64>, String)> {
    let mut out: Vec<_> = spans
        .map(|s| {
            let service = strings.resolve(s.service).to_string();
            (s.span_id.0, s.parent_id.map(|p| p.0), service)
        })
        .collect();
    out.sort_unstable();
    out
}

#[test]
fn a_large_output_with_members_before_its_traces_is_read_a_window_at_a_time() {
    // With its keys sorted, as a tool that rewrites JSON writes it:
    // `NextToken` and `UnprocessedTraceIds` before `Traces`.
    let doc = large_output(3000, 2500);
    let traces = doc.find("  \"Traces\"").unwrap();
    let end = doc.rfind("  ],\n").unwrap();
    let unprocessed = doc[end + 4..doc.rfind('}').unwrap()].trim();
    let sorted = format!(
        "{{\n  \"NextToken\": \"abc\",\n  {unprocessed},\n{}  ]\n}}\n",
        &doc[traces..end]
    );
    let framing = Framing::Envelope(Envelope::XRAY);
    let (streamed, mut whole, quality, strings) =
        crate::ingest::test_support::read_both_ways(&XrayReader, &sorted, framing);
    per_trace(&mut whole, |spans| adopt_parent_services(spans, &strings));
    assert_eq!(whole.len(), 2 * 3000 - 1);
    let spans = streamed.set.traces.iter().flat_map(|t| &t.spans);
    assert!(
        shapes(&streamed.set.strings, spans) == shapes(&strings, whole.iter().map(|s| &s.span)),
        "spans differ"
    );
    // The segment without a start and the two unprocessed ids, as whole.
    let got = &streamed.set.quality;
    assert_eq!(got.unparsable_records, 3);
    assert_eq!(got.unparsable_records, quality.unparsable_records);
    let messages = |q: &Quality| {
        let mut m: Vec<String> = q.examples.iter().map(|p| p.message.clone()).collect();
        m.sort();
        m
    };
    assert_eq!(messages(got), messages(&quality));
}

#[test]
fn a_large_output_is_read_a_window_at_a_time_as_it_is_whole() {
    let doc = large_output(3000, 2500);
    let framing = Framing::Envelope(Envelope::XRAY);
    let (streamed, mut whole, quality, strings) =
        crate::ingest::test_support::read_both_ways(&XrayReader, &doc, framing);
    per_trace(&mut whole, |spans| adopt_parent_services(spans, &strings));
    assert_eq!(whole.len(), 2 * 3000 - 1);
    let spans = streamed.set.traces.iter().flat_map(|t| &t.spans);
    assert_eq!(
        shapes(&streamed.set.strings, spans),
        shapes(&strings, whole.iter().map(|s| &s.span))
    );
    // Every subsegment document found its segment.
    assert_eq!(
        whole
            .iter()
            .filter(|s| strings.resolve(s.span.service) == "unknown")
            .count(),
        1,
        "only the subsegment of the segment that was skipped"
    );
    // The unprocessed ids are counted at the document's end, not at its
    // first line: compared by message.
    let got = &streamed.set.quality;
    assert_eq!(got.unparsable_records, quality.unparsable_records);
    assert_eq!(got.unparsable_records, 3);
    let messages = |q: &Quality| {
        let mut m: Vec<String> = q.examples.iter().map(|p| p.message.clone()).collect();
        m.sort();
        m
    };
    assert_eq!(messages(got), messages(&quality));
    let bad = got
        .examples
        .iter()
        .find(|p| !p.message.contains("UnprocessedTraceIds"))
        .unwrap();
    assert_eq!(bad.location, Location::Line(2 + 7 * 2499 + 5));
}

#[test]
fn a_large_output_that_breaks_off_keeps_what_came_before() {
    let doc = large_output(3000, 0);
    let marker = "\"Id\": \"1-5d82881a-0000000000000000000007d1\"";
    let (spans, problem) = crate::ingest::test_support::ingested_broken_before(&doc, marker, "},");
    assert_eq!(spans, 2 * 2000);
    assert_eq!(problem.location, Location::Line(2 + 7 * 2000 + 1));
    assert!(
        problem
            .message
            .contains("after a member of the Traces array in X-Ray batch-get-traces output"),
        "{problem:?}"
    );
}

#[test]
fn segments_are_named_by_the_shape_of_their_path() {
    let strings = Interner::new();
    let doc = |id: &str, url: &str| {
        format!(
            r#"{{"trace_id":"1-5d82881a-0a9126e92a73e971eed891b9","id":"{id}","name":"api","start_time":100.1,"end_time":100.2,"http":{{"request":{{"method":"GET","url":"{url}"}}}}}}"#
        )
    };
    let lines = [
        doc(
            "1111111111111111",
            "https://api.example.com/orders/1234?expand=1",
        ),
        doc("2222222222222222", "https://api.example.com/orders/98765"),
        doc(
            "3333333333333333",
            "/users/5f0c6d4e-8b1a-4c2e-9f3a-1b2c3d4e5f60/cart",
        ),
    ]
    .join("\n");
    let (spans, _) = read(&strings, lines.as_bytes()).unwrap();
    let names: Vec<&str> = spans.iter().map(|s| strings.resolve(s.span.name)).collect();
    assert_eq!(
        names,
        ["GET /orders/*", "GET /orders/*", "GET /users/*/cart"]
    );
}

#[test]
fn subsegment_documents_windows_after_their_segments_take_their_services() {
    // JSON lines: every segment first, then every subsegment sent as its
    // own document, several test windows later.
    let traces = 3000;
    let trace = |i: usize| format!("1-5d82881a-{i:024x}");
    let segments = (1..=traces).map(|i| {
        format!(
            "{{\"id\":\"{i:x}a\",\"name\":\"svc-{}\",\"trace_id\":\"{}\",\"start_time\":1600000000.5,\"end_time\":1600000001}}",
            i % 4,
            trace(i)
        )
    });
    let subsegments = (1..=traces).map(|i| {
        format!(
            "{{\"type\":\"subsegment\",\"trace_id\":\"{}\",\"id\":\"{i:x}b\",\"parent_id\":\"{i:x}a\",\"name\":\"late\",\"start_time\":1600000000.6,\"end_time\":1600000000.7}}",
            trace(i)
        )
    });
    let lines: Vec<String> = segments.chain(subsegments).collect();
    for (doc, framing) in [
        (
            lines.join("\n") + "\n",
            Framing::LinesOr(Envelope::XRAY_LINES),
        ),
        // The same documents as one large array, read a window at a time.
        (
            format!("[\n{}\n]\n", lines.join(",\n")),
            Framing::Envelope(Envelope::ARRAY),
        ),
    ] {
        assert_services_adopted(&doc, framing, traces);
    }
}

/// Asserts that `doc`, read as `framing`, gives every trace's `late`
/// subsegment its segment's service, as a whole read does.
fn assert_services_adopted(doc: &str, framing: Framing, traces: usize) {
    let (streamed, mut whole, _, strings) =
        crate::ingest::test_support::read_both_ways(&XrayReader, doc, framing);
    per_trace(&mut whole, |spans| adopt_parent_services(spans, &strings));
    let spans = streamed.set.traces.iter().flat_map(|t| &t.spans);
    assert_eq!(
        shapes(&streamed.set.strings, spans),
        shapes(&strings, whole.iter().map(|s| &s.span))
    );
    let strings = &streamed.set.strings;
    assert_eq!(streamed.set.traces.len(), traces);
    for (i, t) in (1..=traces).zip(&streamed.set.traces) {
        let late = t
            .spans
            .iter()
            .find(|s| strings.resolve(s.name) == "late")
            .expect("the subsegment");
        assert_eq!(strings.resolve(late.service), format!("svc-{}", i % 4));
    }
}
