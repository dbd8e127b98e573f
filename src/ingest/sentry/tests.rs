//! Sentry reader tests against the oracle events and hand-made edge cases.

use super::*;
use crate::ingest::test_support::{self, read_with};
use crate::model::Quality;
use std::path::Path;

fn read(strings: &Interner, bytes: &[u8]) -> Result<(Vec<TracedSpan>, Quality), ReadError> {
    read_with(&SentryReader, strings, bytes)
}

fn oracle(name: &str) -> Vec<u8> {
    test_support::oracle(&format!("sentry/{name}"))
}

fn by_id<'s>(spans: &'s [TracedSpan], id: &str) -> &'s TracedSpan {
    let id = SpanId::parse(id).unwrap();
    spans.iter().find(|s| s.span.span_id == id).unwrap()
}

#[test]
fn every_oracle_event_reads_cleanly() {
    // (file, spans[] entries, roots added: from contexts.trace, or implicit
    // when an event without it has one outside parent)
    let expected = [
        ("consecutive-http-basic.json", 24, 1),
        ("m-n-plus-one-graphql.json", 31, 1),
        ("n-plus-one-api-calls-in-issue-stream.json", 57, 1),
        ("n-plus-one-api-calls-in-weather-app.json", 15, 1),
        ("n-plus-one-in-django-index-view-activerecord.json", 23, 1),
        (
            "n-plus-one-in-django-index-view-repeating-redis.json",
            23,
            1,
        ),
        ("n-plus-one-in-django-index-view-source-redis.json", 23, 1),
        (
            "n-plus-one-in-django-index-view-unparameterized.json",
            23,
            1,
        ),
        ("n-plus-one-in-django-index-view.json", 23, 1),
        ("n-plus-one-in-django-with-odd-db-sources.json", 35, 1),
        ("not-n-plus-one-api-calls.json", 81, 1),
        ("query-waterfall-in-django-random-view.json", 15, 1),
        ("solved-n-plus-one-in-django-index-view.json", 13, 1),
        ("synthetic-detector-cases.json", 154, 5),
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracles/sentry");
    assert_eq!(
        std::fs::read_dir(dir).unwrap().count(),
        expected.len(),
        "a file is untested"
    );
    for (name, spans, roots) in expected {
        let bytes = oracle(name);
        assert!(
            SentryReader.sniff(&bytes[..bytes.len().min(crate::ingest::SNIFF_LEN)]),
            "{name}"
        );
        let strings = Interner::new();
        let (read, quality) = read(&strings, &bytes).unwrap();
        assert_eq!(read.len(), spans + roots, "{name}");
        assert_eq!(
            quality.unparsable_records, 0,
            "{name}: {:?}",
            quality.examples
        );
    }
}

#[test]
fn django_n_plus_one_root_orphans_and_late_child() {
    let strings = Interner::new();
    let (spans, _) = read(&strings, &oracle("n-plus-one-in-django-index-view.json")).unwrap();
    let root = by_id(&spans, "1756e116945a4360");
    assert_eq!(strings.resolve(root.span.name), "/books/");
    assert_eq!(root.span.kind, SpanKind::Server);
    assert_eq!(root.span.status, Status::Ok);
    assert_eq!(root.span.parent_id, SpanId::parse("d71f841b69164c33").ok());
    assert_eq!(
        (root.span.start, root.span.end),
        (1_661_957_869_624_976_000, 1_661_957_873_995_835_000)
    );
    assert_eq!(
        strings.resolve(root.span.service),
        "unknown",
        "no project, server or sdk"
    );
    // The middleware chain hangs off a span that is not in the file; it is
    // put under the transaction, as Sentry's span tree shows it.
    let first = by_id(&spans, "97b250f72d59f230");
    assert_eq!(first.span.parent_id, Some(root.span.span_id));
    // This child really ends 2,000 s after its parent; keep its times.
    let late = by_id(&spans, "b33db57efd994615");
    assert_eq!(late.span.parent_id, SpanId::parse("82428e8ef4c5a539").ok());
    assert_eq!(
        (late.span.start, late.span.end),
        (1_661_957_871_249_481_000, 1_661_959_871_418_989_000)
    );
    assert_eq!(
        by_id(&spans, "82428e8ef4c5a539").span.end,
        1_661_957_871_585_034_000
    );
    assert_eq!(late.span.kind, SpanKind::Client);
    let statement = late
        .span
        .attrs(&strings)
        .shape
        .map(|s| strings.resolve(s.text));
    assert!(
        statement.is_some_and(|s| s.starts_with("SELECT VERSION()")),
        "{statement:?}"
    );
    let offender = by_id(&spans, "b8be6138369491dd");
    assert!(strings.resolve(offender.span.name).starts_with("db SELECT"));
}

#[test]
fn django_spans_stay_in_their_events_trace() {
    // Every span of these events names trace 3c08…, its event 10d0…: the
    // spans are the transaction's, so they take the event's trace, and each
    // disagreement is counted and located. The chain hanging off a span
    // outside the event goes under the event's root.
    for name in [
        "n-plus-one-in-django-index-view.json",
        "n-plus-one-in-django-index-view-activerecord.json",
        "n-plus-one-in-django-index-view-repeating-redis.json",
        "n-plus-one-in-django-index-view-source-redis.json",
        "n-plus-one-in-django-index-view-unparameterized.json",
    ] {
        let strings = Interner::new();
        let (spans, quality) = read(&strings, &oracle(name)).unwrap();
        let event = TraceId::parse("10d0b72df0fe4392a6788bce71ec2028")
            .unwrap()
            .0;
        assert!(spans.iter().all(|s| s.trace_id == event), "{name}");
        assert_eq!(quality.sentry_span_trace_mismatch, 23, "{name}");
        assert_eq!(quality.sentry_orphan_spans, 1, "{name}");
        let mismatches = &quality.span_examples[&Count::SentrySpanTraceMismatch];
        assert_eq!(mismatches.len(), crate::model::EXAMPLES_PER_COUNT);
        let first = &mismatches[0];
        assert_eq!(first.file.as_deref(), Some("test-input"), "{name}");
        assert_eq!(first.trace_id, "10d0b72df0fe4392a6788bce71ec2028");
        assert!(first.message.contains("3c080d683c904cb68a18361a093aa6ce"));
        // The first span of `spans[]` opens on this line of the file.
        let text = String::from_utf8(oracle(name)).unwrap();
        let line = text
            .lines()
            .position(|l| l.contains(&format!("\"{}\"", first.span_id)))
            .unwrap() as u64;
        let Some(Location::Line(at)) = first.location else {
            panic!("{first:?}")
        };
        assert!(
            at <= line + 1 && line + 1 - at < 20,
            "{at} vs {line}: {first:?}"
        );
        let orphan = &quality.span_examples[&Count::SentryOrphanSpans][0];
        assert_eq!(orphan.span_id, "97b250f72d59f230");
        assert!(orphan.message.contains("adecc71b05091633"), "{orphan:?}");

        let set = crate::model::TraceSet::build(spans, strings, quality);
        assert_eq!(set.traces.len(), 1, "{name}");
        assert_eq!(set.traces[0].roots.len(), 1, "{name}");
        assert_eq!(set.quality.multi_root_traces, 0, "{name}");
    }
}

#[test]
fn a_span_agreeing_with_its_event_is_not_counted() {
    let doc = br#"{"event_id": "e", "start_timestamp": 1, "timestamp": 3,
  "contexts": {"trace": {"trace_id": "ABCDEF0123456789ABCDEF0123456789", "span_id": "aa"}},
  "spans": [
    {"span_id": "bb", "parent_span_id": "aa", "trace_id": "abcdef0123456789abcdef0123456789",
     "start_timestamp": 1, "timestamp": 2},
    {"span_id": "cc", "parent_span_id": "bb", "start_timestamp": 1, "timestamp": 2},
    {"span_id": "dd", "parent_span_id": "aa", "trace_id": "not hex",
     "start_timestamp": 1, "timestamp": 2}
  ]}"#;
    let strings = Interner::new();
    let (spans, quality) = read(&strings, doc).unwrap();
    assert_eq!(spans.len(), 4);
    assert!(spans.iter().all(|s| s.trace_id == spans[0].trace_id));
    assert_eq!(quality.sentry_span_trace_mismatch, 1, "only dd disagrees");
    let example = &quality.span_examples[&Count::SentrySpanTraceMismatch][0];
    assert_eq!(example.span_id, "00000000000000dd");
    assert_eq!(example.location, Some(Location::Line(7)));
    assert_eq!(quality.sentry_orphan_spans, 0);
}

#[test]
fn synthetic_cases_emit_every_duplicate() {
    let strings = Interner::new();
    let (spans, _) = read(&strings, &oracle("synthetic-detector-cases.json")).unwrap();
    let shared = SpanId::parse("bbbbbbbbbbbbbbbb").unwrap();
    assert_eq!(
        spans.iter().filter(|s| s.span.span_id == shared).count(),
        154
    );
    // create_event sets project_id 1; it wins over sdk.name.
    assert!(spans.iter().all(|s| strings.resolve(s.span.service) == "1"));
    // Every span hangs off `aaaa…`, which becomes the implicit root of the
    // events that have times of their own.
    let root = SpanId::parse("aaaaaaaaaaaaaaaa").ok();
    let (roots, children): (Vec<&TracedSpan>, Vec<&TracedSpan>) =
        spans.iter().partition(|s| s.span.span_id == root.unwrap());
    assert_eq!(roots.len(), 5);
    assert!(roots.iter().all(|s| s.span.parent_id.is_none()));
    assert!(children.iter().all(|s| s.span.parent_id == root));
    assert_eq!(
        (spans[1].span.start, spans[1].span.end),
        (1_000_000_000, 2_000_000_000)
    );
}

#[test]
fn http_calls_are_named_by_shape() {
    let strings = Interner::new();
    let (spans, _) = read(&strings, &oracle("consecutive-http-basic.json")).unwrap();
    let calls: Vec<&TracedSpan> = spans
        .iter()
        .filter(|s| strings.resolve(s.span.name) == "http.client GET https://my-api.io/api/users?*")
        .collect();
    assert_eq!(calls.len(), 6);
    let call = by_id(&spans, "96e0ae187b5481a1");
    assert_eq!(call.span.kind, SpanKind::Client);
    // The method GET and a URL https://my-api.io/api/users?page=...
    assert_eq!(
        call.span
            .attrs(&strings)
            .shape
            .map(|s| strings.resolve(s.text)),
        Some("GET https://my-api.io/api/users?*")
    );
    let host = call
        .span
        .attrs(&strings)
        .url_host
        .map(|s| strings.resolve(s));
    assert_eq!(host, Some("my-api.io"));
    assert_eq!(strings.resolve(call.span.service), "4504758516121600");
    let root = by_id(&spans, "90747d4310a2a358");
    assert_eq!(strings.resolve(root.span.name), "/");
    assert_eq!(root.span.kind, SpanKind::Internal, "op pageload");
    assert_eq!(
        root.span.status,
        Status::Unset,
        "status unknown is not a failure"
    );
}

#[test]
fn service_fallback_order() {
    let service = |event: &str| {
        let strings = Interner::new();
        let doc = format!(
            r#"{{"event_id":"e","spans":[{{"span_id":"1","trace_id":"2","start_timestamp":1,"timestamp":2}}],{event}}}"#
        );
        let (spans, _) = read(&strings, doc.as_bytes()).unwrap();
        strings.resolve(spans[0].span.service).to_string()
    };
    let all =
        r#""project":7,"project_name":"shop","server_name":"web-1","sdk":{"name":"sentry.python"}"#;
    assert_eq!(service(all), "shop");
    assert_eq!(service(r#""project":7,"server_name":"web-1""#), "7");
    assert_eq!(
        service(r#""project":null,"server_name":"web-1","sdk":{"name":"s"}"#),
        "web-1"
    );
    assert_eq!(
        service(r#""sdk":{"name":"sentry.python"}"#),
        "sentry.python"
    );
    assert_eq!(service(r#""platform":"python""#), "unknown");
}

#[test]
fn api_export_with_entries_and_text_times() {
    let doc = br#"{
  "eventID": "abc", "projectSlug": "backend", "type": "transaction", "title": "GET /x",
  "startTimestamp": 1.5, "endTimestamp": "1970-01-01T00:00:03Z",
  "contexts": {"trace": {"trace_id": "t-1", "span_id": "aa", "op": "http.server", "status": "internal_error"}},
  "entries": [
{"type": "request", "data": {"method": "GET"}},
{"type": "spans", "data": [
  {"span_id": "bb", "parent_span_id": "aa", "start_timestamp": 2, "timestamp": 2.5,
   "op": "queue.publish", "status": "ok"},
  {"span_id": "cc", "parent_span_id": "aa", "timestamp": 2.5},
  {"span_id": "dd", "start_timestamp": 2, "timestamp": 2.5, "status": "cancelled"},
  {"span_id": "ee", "start_timestamp": 2, "timestamp": 2.5, "status": "deadline_exceeded"}
]}
  ]
}"#;
    let strings = Interner::new();
    let (spans, quality) = read(&strings, doc).unwrap();
    assert_eq!(spans.len(), 4);
    assert_eq!(
        (spans[2].span.status, spans[3].span.status),
        (Status::Unset, Status::Error)
    );
    // dd and ee name no parent: they go under the transaction, counted.
    assert_eq!(quality.sentry_orphan_spans, 2);
    assert!(
        spans[2..]
            .iter()
            .all(|s| s.span.parent_id == Some(spans[0].span.span_id))
    );
    let orphan = &quality.span_examples[&Count::SentryOrphanSpans][0];
    assert_eq!(orphan.location, Some(Location::Line(11)));
    assert_eq!(orphan.trace_id, "t-1", "the trace's own text");
    let root = &spans[0];
    assert_eq!(strings.resolve(root.span.name), "GET /x");
    assert_eq!(strings.resolve(root.span.service), "backend");
    assert_eq!(
        (root.span.start, root.span.end),
        (1_500_000_000, 3_000_000_000)
    );
    assert_eq!(root.span.status, Status::Error);
    assert_eq!(
        root.span.trace_label.map(|l| strings.resolve(l)),
        Some("t-1")
    );
    assert_eq!(
        spans[1].trace_id, root.trace_id,
        "spans inherit the event's trace"
    );
    assert_eq!(
        (spans[1].span.kind, spans[1].span.status),
        (SpanKind::Producer, Status::Ok)
    );
    assert_eq!(quality.unparsable_records, 1);
    assert_eq!(quality.examples[0].location, Location::Line(10));
    assert!(quality.examples[0].message.contains("start_timestamp"));
}

#[test]
fn lines_arrays_and_non_transactions() {
    let lines = concat!(
        r#"[{"type":"transaction","spans":[{"span_id":"1","trace_id":"2","start_timestamp":1,"timestamp":2}]}]"#,
        "\n",
        r#"{"type":"error","event_id":"x","contexts":{"trace":{"trace_id":"2","span_id":"9"}}}"#,
        "\n",
        "{oops\n",
        r#"{"type":"transaction","contexts":{"trace":{"trace_id":"2","span_id":"3","parent_span_id":"0000000000000000"}},"start_timestamp":1,"timestamp":4,"transaction":"t"}"#,
        "\n",
        r#"{"hello":"world"}"#,
        "\n",
    );
    let strings = Interner::new();
    let (spans, quality) = read(&strings, lines.as_bytes()).unwrap();
    assert_eq!(spans.len(), 2);
    assert_eq!(
        spans[1].span.parent_id, None,
        "an all-zero parent id means none"
    );
    let located: Vec<_> = quality
        .examples
        .iter()
        .map(|p| p.location.clone())
        .collect();
    assert_eq!(
        located,
        [Location::Line(2), Location::Line(3), Location::Line(5)]
    );
    assert!(quality.examples[0].message.contains("error"));
}

#[test]
fn odd_field_values_never_panic() {
    let template = serde_json::json!({"wrapped": [{"event_id": "e", "type": "transaction",
        "project": 1, "project_name": "p", "server_name": "s", "sdk": {"name": "n"},
        "transaction": "t", "title": "t", "start_timestamp": 1.5, "timestamp": "2.5",
        "startTimestamp": 1, "endTimestamp": 2,
        "contexts": {"trace": {"trace_id": "1", "span_id": "2", "parent_span_id": "3",
            "op": "http.server", "status": "ok", "data": {"http.route": "/r"},
            "links": [{"trace_id": "4", "span_id": "5"}]}},
        "spans": [{"span_id": "6", "parent_span_id": "2", "trace_id": "1", "start_timestamp": 1.6,
            "timestamp": "1970-01-01T00:00:02.5+01:00", "op": "http.client",
            "description": "GET https://h/1/x?q", "status": "internal_error",
            "data": {"method": "GET", "url": "https://h/2", "db.system": "pg"},
            "tags": {"peer.service": "x"}, "links": []}],
        "entries": [{"type": "spans", "data": [{"span_id": "7", "op": "db.redis",
            "description": "GET k", "start_timestamp": 1, "timestamp": 2}]}]}]});
    let strings = Interner::new();
    for mutated in crate::ingest::json_scalars::mutations(&template) {
        let bytes = serde_json::to_vec_pretty(&mutated).unwrap();
        let _ = read(&strings, &bytes);
    }
}

#[test]
fn other_formats_are_refused() {
    let strings = Interner::new();
    assert!(read(&strings, br#"{"resourceSpans": []}"#).is_err());
    assert!(read(&strings, b"[1, 2]").is_err());
    assert!(SentryReader.sniff(br#"{"type": "transaction"}"#));
    assert!(SentryReader.sniff(br#"[{"contexts": {}}]"#));
    assert!(!SentryReader.sniff(br#"{"traceID": "1", "start_timestamp": 1}"#));
    assert!(!SentryReader.sniff(br#"{"resourceSpans": [], "contexts": 1}"#));
    assert!(!SentryReader.sniff(b"start_timestamp"));
}

/// An array of `events` transaction events, pretty-printed (a root and
/// two spans each, three lines an event), several test windows long; the
/// second span of event `bad` has a start that is not a time.
fn large_array(events: usize, bad: usize) -> String {
    let mut doc = String::from("[\n");
    for i in 1..=events {
        let start = if i == bad { "\"x\"" } else { "1700000000.5" };
        doc.push_str(&format!(
            concat!(
                "  {{\"type\": \"transaction\", \"transaction\": \"GET /a\", \"project\": \"p{}\", \"start_timestamp\": 1700000000, \"timestamp\": 1700000001,\n",
                "   \"contexts\": {{\"trace\": {{\"trace_id\": \"{:x}\", \"span_id\": \"{:x}0\", \"op\": \"http.server\"}}}},\n",
                "   \"spans\": [{{\"span_id\": \"{:x}1\", \"parent_span_id\": \"{:x}0\", \"op\": \"db\", \"description\": \"SELECT 1\", \"start_timestamp\": 1700000000.1, \"timestamp\": 1700000000.2}}, {{\"span_id\": \"{:x}2\", \"parent_span_id\": \"{:x}0\", \"op\": \"db\", \"start_timestamp\": {}, \"timestamp\": 1700000000.6}}]}}{}\n"
            ),
            i % 3,
            i, i, i, i, i, i, start,
            if i < events { "," } else { "" }
        ));
    }
    doc.push_str("]\n");
    doc
}

#[test]
fn a_large_array_of_events_is_read_a_window_at_a_time_as_it_is_whole() {
    let doc = large_array(2000, 1500);
    let framing = Framing::Envelope(crate::ingest::json_envelope::Envelope::ARRAY);
    let (streamed, whole, quality, _) = test_support::read_both_ways(&SentryReader, &doc, framing);
    assert_eq!(whole.len(), 3 * 2000 - 1);
    let spans = streamed.set.traces.iter().flat_map(|t| &t.spans);
    assert_eq!(
        test_support::located(spans),
        test_support::located(whole.iter().map(|s| &s.span))
    );
    test_support::assert_counted_alike(&streamed.set.quality, &quality, 1, 1 + 3 * 1499 + 3);
}

#[test]
fn json_lines_with_an_array_longer_than_a_window_read_as_whole() {
    // The second line, an array of events longer than three windows, is
    // cut by event; the events after it are read as lines are.
    let array = large_array(2000, 1500).replace('\n', " ");
    let event = |id: &str| {
        format!(
            "{{\"type\": \"transaction\", \"transaction\": \"GET /b\", \"project\": \"q\", \"start_timestamp\": 1700000000, \"timestamp\": 1700000001, \"contexts\": {{\"trace\": {{\"trace_id\": \"{id}\", \"span_id\": \"{id}0\", \"op\": \"http.server\"}}}}, \"spans\": []}}"
        )
    };
    let doc = format!("{}\n{array}\n{}\n", event("fa1"), event("fa2"));
    let framing = Framing::LinesOr(crate::ingest::json_envelope::Envelope::ARRAY_LINES);
    let (streamed, whole, quality, _) = test_support::read_both_ways(&SentryReader, &doc, framing);
    assert_eq!(whole.len(), 3 * 2000 - 1 + 2);
    let spans = streamed.set.traces.iter().flat_map(|t| &t.spans);
    assert_eq!(
        test_support::located(spans),
        test_support::located(whole.iter().map(|s| &s.span))
    );
    test_support::assert_counted_alike(&streamed.set.quality, &quality, 1, 2);
}

#[test]
fn a_large_array_of_events_that_breaks_off_keeps_what_came_before() {
    let doc = large_array(2000, 0);
    let (spans, problem) =
        test_support::ingested_broken_before(&doc, "\"trace_id\": \"4b1\"", "]},");
    assert_eq!(spans, 3 * 1200);
    assert_eq!(problem.location, Location::Line(1 + 3 * 1200 + 1));
    assert!(
        problem.message.contains("in an array of Sentry events"),
        "{problem:?}"
    );
}
