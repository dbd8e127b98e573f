//! OTLP/JSON reader tests: the oracle exports, every encoding variant the
//! protobuf JSON mapping allows, and bad records.

use std::path::Path;

use super::*;
use crate::ingest::test_support::{self, ingested, located, read_with};
use crate::model::{Quality, ShapeKind, SpanKind, Status};

fn read(strings: &Interner, bytes: &[u8]) -> Result<(Vec<TracedSpan>, Quality), ReadError> {
    read_with(&OtlpJsonReader, strings, bytes)
}

fn read_ok(strings: &Interner, text: &str) -> (Vec<TracedSpan>, Quality) {
    read(strings, text.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

fn oracle(relative: &str) -> Vec<u8> {
    test_support::oracle(&format!("otlp/{relative}"))
}

/// One request holding `spans` (JSON span objects) for service `svc`.
fn request(spans: &str) -> String {
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"svc"}}}}]}},"scopeSpans":[{{"scope":{{"name":"lib"}},"spans":[{spans}]}}]}}]}}"#
    )
}

/// A valid span with `extra` members added (later members win in serde
/// only when they are not duplicates, so tests replace by omission).
fn span(id: &str, extra: &str) -> String {
    let sep = if extra.is_empty() { "" } else { "," };
    format!(
        r#"{{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"{id}","name":"op","startTimeUnixNano":"1000","endTimeUnixNano":"3000"{sep}{extra}}}"#
    )
}

fn text(strings: &Interner, sym: Option<Sym>) -> Option<&str> {
    sym.map(|s| strings.resolve(s))
}

#[test]
fn spec_example_reads_with_uppercase_ids_and_string_times() {
    let strings = Interner::new();
    let (spans, quality) = read(&strings, &oracle("spec-example.json")).unwrap();
    assert_eq!(quality.unparsable_records, 0);
    assert_eq!(spans.len(), 1);
    let s = &spans[0];
    assert_eq!(s.trace_id.to_string(), "5b8efff798038103d269b633813fc60c");
    assert_eq!(s.span.span_id.to_string(), "eee19b7ec3c1b174");
    assert_eq!(s.span.parent_id, SpanId::parse("eee19b7ec3c1b173").ok());
    assert_eq!(s.span.start, 1_544_712_660_000_000_000);
    assert_eq!(s.span.duration(), 1_000_000_000);
    assert_eq!(s.span.kind, SpanKind::Server);
    assert_eq!(s.span.status, Status::Unset);
    assert_eq!(strings.resolve(s.span.service), "my.service");
    assert_eq!(strings.resolve(s.span.name), "I'm a server span");
    assert!(
        s.span.attrs.is_none(),
        "my.span.attr is not an attribute critpath keeps"
    );
    assert!(s.span.trace_label.is_none());
}

#[test]
fn jaeger_memory_fixture_keeps_status_kinds_links_and_known_attributes() {
    let strings = Interner::new();
    let (spans, quality) = read(&strings, &oracle("jaeger-memory-otel_traces_01.json")).unwrap();
    assert_eq!(quality.unparsable_records, 0);
    let ids: Vec<String> = spans.iter().map(|s| s.span.span_id.to_string()).collect();
    assert_eq!(
        ids,
        [
            "0000000000000002",
            "0000000000000003",
            "0000000000000004",
            "0000000000000005"
        ]
    );
    let kinds: Vec<SpanKind> = spans.iter().map(|s| s.span.kind).collect();
    assert_eq!(
        kinds,
        [
            SpanKind::Server,
            SpanKind::Client,
            SpanKind::Producer,
            SpanKind::Consumer
        ]
    );
    assert!(spans.iter().all(|s| s.span.status == Status::Error));
    assert_eq!(spans[0].span.parent_id, SpanId::parse("3").ok());
    assert_eq!(strings.resolve(spans[0].span.service), "service-x");
    assert_eq!(
        text(&strings, spans[0].span.attrs(&strings).peer_service),
        Some("service-y")
    );
    assert_eq!(spans[0].span.links.as_deref().map(Vec::len), Some(2));
    assert_eq!(
        spans[0].span.links.as_deref().unwrap()[0],
        SpanLink {
            trace_id: TraceId::parse("00000000000000010000000000000000")
                .unwrap()
                .0,
            span_id: SpanId::parse("4").unwrap(),
        }
    );
}

/// The spans of an OTLP/JSON file, listed by walking it generically: an
/// oracle independent of the reader.
fn listed_span_ids(bytes: &[u8]) -> Vec<String> {
    let doc: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    let mut ids = Vec::new();
    for rs in doc["resourceSpans"].as_array().unwrap() {
        for ss in rs["scopeSpans"].as_array().unwrap() {
            for span in ss["spans"].as_array().unwrap() {
                ids.push(span["spanId"].as_str().unwrap().to_ascii_lowercase());
            }
        }
    }
    ids
}

#[test]
fn every_jaeger_integration_fixture_reads_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracles/otlp/jaeger-integration");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let strings = Interner::new();
        assert!(OtlpJsonReader.sniff(&bytes), "{}", path.display());
        let (spans, quality) = read(&strings, &bytes).unwrap();
        assert_eq!(quality.unparsable_records, 0, "{}", path.display());
        let ids: Vec<String> = spans.iter().map(|s| s.span.span_id.to_string()).collect();
        assert_eq!(ids, listed_span_ids(&bytes), "{}", path.display());
        assert!(
            spans
                .iter()
                .all(|s| s.span.end >= s.span.start && s.span.start > 0)
        );
        assert!(
            spans
                .iter()
                .all(|s| strings.resolve(s.span.service) != UNKNOWN)
        );
        files += 1;
    }
    assert_eq!(files, 32);
}

#[test]
fn example_trace_has_five_spans_over_several_services() {
    let strings = Interner::new();
    let (spans, _) = read(&strings, &oracle("jaeger-integration/example_trace.json")).unwrap();
    assert_eq!(spans.len(), 5);
    assert_eq!(strings.resolve(spans[0].span.service), "example-service-2");
    assert_eq!(strings.resolve(spans[1].span.service), "example-service-3");
    assert_eq!(spans[0].span.duration(), 100_000);
}

#[test]
fn links_to_other_traces_and_duplicates_are_kept() {
    let strings = Interner::new();
    let (spans, _) = read(
        &strings,
        &oracle("jaeger-integration/link_attributes_trace.json"),
    )
    .unwrap();
    let links = spans[0].span.links.as_deref().unwrap();
    assert_eq!(links.len(), 3);
    assert_eq!(links[0].trace_id, TraceId(0xff));
    assert_eq!(links[1], links[2]);
}

#[test]
fn json_lines_are_read_in_order_and_bad_lines_counted_by_line() {
    let strings = Interner::new();
    let lines = [
        request(&span("0000000000000001", "")),
        "{not json".to_string(),
        String::new(),
        r#"{"something":"else"}"#.to_string(),
        request(&format!(
            "{},{}",
            span("0000000000000002", ""),
            r#"{"spanId":"0000000000000003","startTimeUnixNano":"1","endTimeUnixNano":"2"}"#
        )),
    ];
    let (spans, quality) = read_ok(&strings, &lines.join("\n"));
    let ids: Vec<u64> = spans.iter().map(|s| s.span.span_id.0).collect();
    assert_eq!(ids, [1, 2]);
    assert_eq!(quality.unparsable_records, 3);
    let at: Vec<&Location> = quality.examples.iter().map(|p| &p.location).collect();
    assert_eq!(
        at,
        [&Location::Line(2), &Location::Line(4), &Location::Line(5)]
    );
    assert!(quality.examples[2].message.contains("traceId"));
}

#[test]
fn many_lines_are_read_in_parallel_in_line_order() {
    let strings = Interner::new();
    let n = 3000;
    let mut text = String::new();
    for i in 1..=n {
        let id = format!("{i:016x}");
        let bad = if i % 1000 == 0 {
            ""
        } else {
            "\"traceId\":\"1\","
        };
        text.push_str(&request(&format!(
            r#"{{{bad}"spanId":"{id}","startTimeUnixNano":"5","endTimeUnixNano":"6","attributes":[{{"key":"peer.service","value":{{"stringValue":"/r/{{id}}"}}}},{{"key":"pad","value":{{"stringValue":"{}"}}}}]}}"#,
            "x".repeat(200)
        )));
        text.push('\n');
    }
    assert!(
        text.len() > 2 * common::CHUNK_BYTES,
        "the test must span several chunks"
    );
    let (spans, quality) = read_ok(&strings, &text);
    assert_eq!(spans.len(), n - 3);
    assert!(
        spans
            .windows(2)
            .all(|w| w[0].span.span_id < w[1].span.span_id)
    );
    assert_eq!(quality.unparsable_records, 3);
    let lines: Vec<&Location> = quality.examples.iter().map(|p| &p.location).collect();
    assert_eq!(
        lines,
        [
            &Location::Line(1000),
            &Location::Line(2000),
            &Location::Line(3000)
        ]
    );
    assert_eq!(text_of(&strings, &spans[0].span), Some("/r/{id}"));
}

fn text_of<'s>(strings: &'s Interner, span: &Span) -> Option<&'s str> {
    span.attrs(strings).peer_service.map(|s| strings.resolve(s))
}

#[test]
fn null_is_accepted_for_repeated_bytes_and_fixed64_fields() {
    let strings = Interner::new();
    let doc = format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":null}},"scopeSpans":[{{"spans":[{}]}},{{"spans":null}}],"instrumentationLibrarySpans":null}},{{"scopeSpans":null}}]}}"#,
        [
            span(
                "0000000000000001",
                r#""parentSpanId":null,"links":null,"attributes":null,"events":[{"timeUnixNano":null,"attributes":null}],"status":null,"kind":null"#
            ),
            // A null time is an absent time: this span alone is skipped.
            r#"{"traceId":"01","spanId":"02","startTimeUnixNano":"1","endTimeUnixNano":null}"#
                .to_string(),
        ]
        .join(",")
    );
    let (spans, quality) = read_ok(&strings, &doc);
    assert_eq!(spans.len(), 1);
    let s = &spans[0];
    assert_eq!(s.span.parent_id, None);
    assert!(s.span.links.is_none() && s.span.attrs.is_none());
    assert_eq!(strings.resolve(s.span.service), UNKNOWN);
    assert_eq!(quality.unparsable_records, 1);
    assert!(quality.examples[0].message.contains("endTimeUnixNano"));
}

#[test]
fn int32_fields_given_as_strings_are_accepted() {
    let strings = Interner::new();
    let doc = request(&span(
        "0000000000000001",
        r#""kind":"3","droppedAttributesCount":"3","droppedEventsCount":"0","flags":"1","status":{"code":"2","message":"boom"}"#,
    ));
    let (spans, quality) = read_ok(&strings, &doc);
    assert_eq!(quality.unparsable_records, 0);
    assert_eq!(spans[0].span.kind, SpanKind::Client);
    assert_eq!(spans[0].span.status, Status::Error);
}

#[test]
fn enum_names_and_numeric_times_are_accepted() {
    let strings = Interner::new();
    let doc = request(&format!(
        "{},{}",
        r#"{"traceId":"AB","spanId":"CD","kind":"SPAN_KIND_PRODUCER","status":{"code":"STATUS_CODE_OK"},"startTimeUnixNano":1544712660000000000,"endTimeUnixNano":1544712661000000000}"#,
        r#"{"traceId":"ab","spanId":"ce","kind":4,"status":{"code":1},"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000"}"#
    ));
    let (spans, _) = read_ok(&strings, &doc);
    assert_eq!(spans.len(), 2);
    for s in &spans {
        assert_eq!(s.span.kind, SpanKind::Producer);
        assert_eq!(s.span.status, Status::Ok);
        assert_eq!(s.span.start, 1_544_712_660_000_000_000);
        assert_eq!(s.span.duration(), 1_000_000_000);
    }
    assert_eq!(spans[0].trace_id, spans[1].trace_id);
}

#[test]
fn every_any_value_kind_is_accepted() {
    let strings = Interner::new();
    let attributes = r#""attributes":[
        {"key":"http.route","value":{"doubleValue":"NaN"}},
        {"key":"db.system","value":{"doubleValue":"Infinity"}},
        {"key":"http.method","value":{"intValue":"42"}},
        {"key":"peer.service","value":{"boolValue":true}},
        {"key":"db.statement","value":{"arrayValue":{}}},
        {"key":"url.full","value":{"kvlistValue":{"values":[{"key":"a","value":{"intValue":7}}]}}},
        {"key":"server.address","value":{"bytesValue":"AAAwOQ=="}},
        {"key":"messaging.system","value":{"stringValue":"kafka"}},
        {"key":"messaging.destination","value":{"doubleValue":-1.5}},
        {"key":"messaging.operation","value":{"intValue":-7}},
        {"key":"ignored","value":{"arrayValue":{"values":[{"doubleValue":"-Infinity"},{}]}}},
        {"value":{"stringValue":"no key"}},
        {"key":"net.peer.name"},
        {"value":{"stringValue":"http://x/y"},"key":"http.url"}
    ]"#;
    let (spans, quality) = read_ok(&strings, &request(&span("01", attributes)));
    assert_eq!(quality.unparsable_records, 0);
    let a = spans[0].span.attrs(&strings);
    let shape = a.shape.unwrap();
    // The route NaN with the method 42; no statement, so no query shape.
    assert_eq!(strings.resolve(shape.text), "42 NaN");
    assert_eq!(text(&strings, a.db_system), Some("inf"));
    assert_eq!(text(&strings, a.peer_service), Some("true"));
    assert_eq!(shape.kind, ShapeKind::Http, "arrays are not scalars");
    assert_eq!(a.server_address, None, "bytes are not kept");
    assert_eq!(text(&strings, a.messaging_system), Some("kafka"));
    assert_eq!(text(&strings, a.messaging_destination), Some("-1.5"));
    assert_eq!(text(&strings, a.messaging_operation), Some("-7"));
    assert_eq!(text(&strings, a.url_host), Some("x"), "value before key");
}

#[test]
fn legacy_library_spans_snake_case_and_wrappers_are_read() {
    let strings = Interner::new();
    let legacy = r#"{"resourceSpans":[{"instrumentationLibrarySpans":[{"instrumentationLibrary":{"name":"x"},"spans":[{"traceId":"01","spanId":"01","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}"#;
    let snake = r#"{"resource_spans":[{"resource":{"attributes":[{"key":"service.name","value":{"string_value":"snake"}}]},"scope_spans":[{"spans":[{"trace_id":"01","span_id":"02","parent_span_id":"01","start_time_unix_nano":"1","end_time_unix_nano":"2"}]}]}]}"#;
    let jaeger_v3 = format!(r#"{{"result":{}}}"#, request(&span("03", "")));
    let tempo = format!(
        r#"{{"batches":[{{"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
        span("04", "")
    );
    let tempo_v2 = format!(r#"{{"trace":{}}}"#, request(&span("05", "")));
    let text = [legacy, snake, &jaeger_v3, &tempo, &tempo_v2].join("\n");
    let (spans, quality) = read_ok(&strings, &text);
    assert_eq!(quality.unparsable_records, 0);
    let ids: Vec<u64> = spans.iter().map(|s| s.span.span_id.0).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    assert_eq!(strings.resolve(spans[1].span.service), "snake");
    assert_eq!(spans[1].span.parent_id, Some(SpanId(1)));
    for doc in [legacy, snake, &jaeger_v3, &tempo, &tempo_v2] {
        assert!(OtlpJsonReader.sniff(doc.as_bytes()), "{doc}");
    }
}

#[test]
fn a_member_of_the_wrong_type_loses_only_its_span_located_by_line() {
    let strings = Interner::new();
    let doc = format!(
        "{{\n\"resourceSpans\": [{{\"resource\": {{\"attributes\": [{{\"key\": \"service.name\", \"value\": {{\"stringValue\": \"svc\"}}}}]}},\n\"scopeSpans\": [{{\"spans\": [\n{},\n{},\n{}\n]}}]}}]}}",
        span("01", ""),
        span("02", r#""name": 5"#),
        span(
            "03",
            r#""attributes":[{"key":"http.route","value":{"intValue":"x"}}]"#
        ),
    );
    let (spans, quality) = read_ok(&strings, &doc);
    assert_eq!(spans.len(), 1);
    assert_eq!(strings.resolve(spans[0].span.service), "svc");
    assert_eq!(quality.unparsable_records, 2);
    assert_eq!(quality.examples[0].location, Location::Line(5));
    assert_eq!(quality.examples[1].location, Location::Line(6));
    assert!(quality.examples[0].message.contains("unreadable span"));
}

#[test]
fn non_hex_trace_ids_are_hashed_and_labelled() {
    let strings = Interner::new();
    let doc = request(
        r#"{"traceId":"my-trace","spanId":"a-span","startTimeUnixNano":"1","endTimeUnixNano":"2","name":""}"#,
    );
    let (spans, _) = read_ok(&strings, &doc);
    assert_eq!(text(&strings, spans[0].span.trace_label), Some("my-trace"));
    assert_eq!(strings.resolve(spans[0].span.name), UNKNOWN);
}

#[test]
fn invalid_or_foreign_documents_are_errors_naming_the_place() {
    let strings = Interner::new();
    let err = read(&strings, b"{\n\"resourceSpans\": [\n}").unwrap_err();
    assert_eq!(err.location, Location::Line(3));
    assert!(err.message.starts_with("invalid JSON"));
    let err = read(&strings, br#"{"data": []}"#).unwrap_err();
    assert_eq!(err.location, Location::Whole);
    let err = read(&strings, b"{\"a\":1}\n{\"b\":2}\n").unwrap_err();
    assert!(err.message.contains("resourceSpans"));
    assert!(read(&strings, b"").is_err());
}

#[test]
fn an_empty_request_is_read_with_no_spans() {
    let strings = Interner::new();
    let (spans, quality) = read_ok(&strings, r#"{"resourceSpans":[]}"#);
    assert!(spans.is_empty());
    assert_eq!(quality.unparsable_records, 0);
}

#[test]
fn sniff_accepts_otlp_json_only() {
    assert!(OtlpJsonReader.sniff(&oracle("spec-example.json")));
    assert!(!OtlpJsonReader.sniff(br#"{"data":[{"traceID":"1","spans":[]}]}"#));
    assert!(!OtlpJsonReader.sniff(&oracle("spec-example.binpb")));
    assert!(!OtlpJsonReader.sniff(br#"{"batches":[]}"#));
}

#[test]
fn mutated_requests_never_panic() {
    let template: serde_json::Value =
        serde_json::from_slice(&oracle("jaeger-memory-otel_traces_01.json")).unwrap();
    for mutated in crate::ingest::json_scalars::mutations(&template) {
        let strings = Interner::new();
        let _ = read(&strings, mutated.to_string().as_bytes());
    }
}

/// The variants must be accepted by the typed decode itself, not only by
/// the slower span-by-span fallback.
#[test]
fn typed_decode_accepts_every_variant_without_falling_back() {
    let docs = [
        String::from_utf8(oracle("spec-example.json")).unwrap(),
        String::from_utf8(oracle("jaeger-memory-otel_traces_01.json")).unwrap(),
        request(&span(
            "01",
            r#""parentSpanId":null,"links":null,"attributes":null,"kind":"2","droppedAttributesCount":"3","status":{"code":"2"}"#,
        )),
        request(&span(
            "01",
            r#""attributes":[{"key":"http.route","value":{"doubleValue":"NaN"}},{"key":"db.system","value":{"doubleValue":"Infinity"}},{"key":"x","value":{"arrayValue":{}}},{"key":"db.statement","value":{"arrayValue":{}}}]"#,
        )),
        r#"{"resourceSpans":[{"resource":null,"scopeSpans":[{"spans":null}]}]}"#.to_string(),
    ];
    for doc in &docs {
        let parsed = serde_json::from_str::<Document<'_>>(doc);
        assert!(parsed.is_ok_and(|d| d.recognised()), "{doc}");
    }
    let wrong = request(&span("01", r#""name":5"#));
    assert!(serde_json::from_str::<Document<'_>>(&wrong).is_err());
}

#[test]
fn a_byte_order_mark_an_array_of_requests_and_empty_parent_ids_are_accepted() {
    let strings = Interner::new();
    let doc = format!(
        "{}[{},{}]",
        '\u{feff}',
        request(&span("01", r#""parentSpanId":"""#)),
        request(&span("02", r#""parentSpanId":"01""#))
    );
    assert!(OtlpJsonReader.sniff(doc.as_bytes()));
    let (spans, quality) = read_ok(&strings, &doc);
    assert_eq!(quality.unparsable_records, 0);
    assert_eq!(spans.len(), 2);
    assert_eq!(spans[0].span.parent_id, None);
    assert_eq!(spans[1].span.parent_id, Some(SpanId(1)));

    // The span-by-span fallback handles arrays too, locating bad spans.
    let doc = format!(
        "[\n{},\n{}\n]",
        request(&span("01", "")),
        request(&span("02", r#""kind":{}"#))
    );
    let (spans, quality) = read_ok(&strings, &doc);
    assert_eq!(spans.len(), 1);
    assert_eq!(quality.examples[0].location, Location::Line(3));
}

/// A pretty-printed request of `members` ResourceSpans of two spans each,
/// eight lines a member from line 3; member `bad_span` (if below
/// `members`) has a second span without an id, member `not_json` (likewise)
/// has a member without its colon (on its fourth line, where the error
/// is found); after the array, a `batches` member holds two more spans.
fn large_request(members: usize, bad_span: usize, not_json: usize) -> String {
    let span = |id: usize, trace: usize, parent: Option<usize>| {
        let parent = parent.map_or(String::new(), |p| {
            format!(r#""parentSpanId": "{p:016x}", "#)
        });
        let id = if id == 0 {
            String::new()
        } else {
            format!(r#""spanId": "{id:016x}", "#)
        };
        format!(
            r#"{{"traceId": "{trace:032x}", {id}{parent}"name": "op", "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000000001000"}}"#
        )
    };
    let member = |i: usize, last: bool| {
        let second = if i == bad_span { 0 } else { 2 * i + 2 };
        let mut text = format!(
            "    {{\n      \"resource\": {{\"attributes\": [{{\"key\": \"service.name\", \"value\": {{\"stringValue\": \"svc{}\"}}}}]}},\n      \"scopeSpans\": [{{\n        \"spans\": [\n          {},\n          {}\n        ]}}]\n    }}{}\n",
            i % 7,
            span(2 * i + 1, i + 1, None),
            span(second, i + 1, Some(2 * i + 1)),
            if last { "" } else { "," }
        );
        if i == not_json {
            text = text.replacen("\"scopeSpans\": [{", "\"scopeSpans\": [{ \"x\" ", 1);
        }
        text
    };
    let mut doc = String::from("{\n  \"resourceSpans\": [\n");
    for i in 0..members {
        doc.push_str(&member(i, i + 1 == members));
    }
    doc.push_str("  ],\n  \"batches\": [\n");
    doc.push_str(&member(members, true));
    doc.push_str("  ]\n}\n");
    doc
}

#[test]
fn a_large_request_is_read_a_window_at_a_time_as_it_is_whole() {
    let doc = large_request(2000, 1500, usize::MAX);
    let windows = crate::ingest::stream::WINDOW_BYTES;
    assert!(doc.len() > 3 * windows, "{} bytes", doc.len());
    let head = &doc.as_bytes()[..crate::ingest::SNIFF_LEN];
    assert_eq!(
        OtlpJsonReader.framing(head),
        Some(Framing::Envelope(Envelope::OTLP))
    );
    let streamed = ingested(&doc);
    let strings = Interner::new();
    let (whole, quality) = read(&strings, doc.as_bytes()).unwrap();
    // Two spans a member and two after the array, less the one without id.
    assert_eq!(whole.len(), 2 * 2001 - 1);
    assert_eq!(streamed.set.span_count(), whole.len());
    let spans = streamed.set.traces.iter().flat_map(|t| &t.spans);
    assert_eq!(located(spans), located(whole.iter().map(|s| &s.span)));
    // Each span is located at its member's first line.
    let member_line = |i: usize| 3 + 8 * i as u64;
    assert!(whole.iter().any(|s| s.span.span_id.0 == 2 * 1999 + 2
        && s.span.origin.location() == Some(Location::Line(member_line(1999)))));
    // The span without an id, at its line, in both reads.
    let got = &streamed.set.quality;
    assert_eq!(got.unparsable_records, 1);
    assert_eq!(quality.unparsable_records, 1);
    let bad_line = member_line(1500) + 5;
    assert_eq!(got.examples[0].location, Location::Line(bad_line));
    assert_eq!(quality.examples[0].location, Location::Line(bad_line));
    // The member after the array (`batches`) is read too.
    assert!(whole.iter().any(|s| s.span.span_id.0 == 2 * 2000 + 2));
}

#[test]
fn a_member_that_is_not_json_loses_only_its_own_spans() {
    let doc = large_request(2000, usize::MAX, 700);
    let streamed = ingested(&doc);
    assert_eq!(streamed.set.span_count(), 2 * 2000);
    let got = &streamed.set.quality;
    assert_eq!(got.unparsable_records, 1);
    let problem = &got.examples[0];
    assert_eq!(problem.location, Location::Line(3 + 8 * 700 + 3));
    assert!(problem.message.starts_with("invalid JSON"), "{problem:?}");
    // Read whole, the same request reads the same (a small one included).
    let small = large_request(3, usize::MAX, 1);
    let strings = Interner::new();
    let (spans, quality) = read(&strings, small.as_bytes()).unwrap();
    assert_eq!((spans.len(), quality.unparsable_records), (6, 1));
    assert_eq!(quality.examples[0].location, Location::Line(3 + 8 + 3));
}

#[test]
fn a_large_request_that_breaks_off_keeps_what_came_before() {
    // A missing comma after member 1200: the members before it are read,
    // and the rest is one unreadable record at the line where it breaks.
    let doc = large_request(2000, usize::MAX, usize::MAX);
    let at = doc
        .find(&format!("\"traceId\": \"{:032x}\"", 1202))
        .unwrap();
    let comma = doc[..at].rfind("    },").unwrap() + 5;
    let broken = format!("{} {}", &doc[..comma], &doc[comma + 1..]);
    let got = ingested(&broken);
    assert_eq!(got.set.span_count(), 2 * 1201);
    assert_eq!(got.set.quality.unparsable_records, 1);
    let problem = &got.set.quality.examples[0];
    assert_eq!(problem.location, Location::Line(3 + 8 * 1201));
    assert!(problem.message.contains("rest of the input"), "{problem:?}");
    assert!(
        problem.message.contains("resourceSpans array"),
        "{problem:?}"
    );
}

#[test]
fn a_request_is_cut_by_member_with_or_without_lines() {
    let doc = large_request(40, usize::MAX, usize::MAX);
    let envelope = Some(Framing::Envelope(Envelope::OTLP));
    assert_eq!(OtlpJsonReader.framing(doc.as_bytes()), envelope);
    // No line break in what the ingest looked at: one long request, or JSON
    // lines with a long first line (a later line of another shape is a
    // document of its own: see the next test).
    let one_line = doc.replace('\n', " ");
    assert_eq!(OtlpJsonReader.framing(one_line.as_bytes()), envelope);
    // JSON lines stay JSON lines, unless one is longer than a window (see
    // `a_json_line_longer_than_a_window_is_cut_by_member`).
    let lines = format!(
        "{}\n{}\n",
        request(&span("01", "")),
        request(&span("02", ""))
    );
    assert_eq!(
        OtlpJsonReader.framing(lines.as_bytes()),
        Some(Framing::LinesOr(Envelope::OTLP))
    );
}

#[test]
fn a_json_line_longer_than_a_window_is_cut_by_member() {
    // JSON lines of requests (as Jaeger's `/api/v3` answers, each in
    // `result`) whose second line is three windows long: it is cut by
    // member, not held whole, and the lines after it read as lines do.
    let long = large_request(2000, 1500, usize::MAX).replace('\n', " ");
    // Ids the large request's spans do not have.
    let first = request(&span("f00a", ""));
    let last = request(&span("f00b", ""));
    let doc = format!("{first}\n{{\"result\": {long}}}\n{{\"other\": 1}}\n{last}\n");
    let framing = Framing::LinesOr(Envelope::OTLP);
    let (streamed, whole, quality, _) =
        test_support::read_both_ways(&OtlpJsonReader, &doc, framing);
    // One span a short request; two a member, less the one without id.
    assert_eq!(whole.len(), 1 + 2 * 2001 - 1 + 1);
    let spans = streamed.set.traces.iter().flat_map(|t| &t.spans);
    assert_eq!(located(spans), located(whole.iter().map(|s| &s.span)));
    for (id, line) in [(0xf00a, 1), (0xf00b, 4)] {
        let at = Some(Location::Line(line));
        assert!(
            whole
                .iter()
                .any(|s| s.span.span_id.0 == id && s.span.origin.location() == at)
        );
    }
    // The span without an id and the line that is no request, alike.
    assert_two_counted_alike(&streamed.set.quality, &quality, 2, 3);
}

#[test]
fn json_lines_whose_first_request_is_longer_than_a_window_read_as_whole() {
    // The first line, one request longer than three windows, is cut by
    // member; the requests after it are read as JSON lines are, also one
    // whose first member is another and one that is no request.
    let first = large_request(2000, 1500, usize::MAX).replace('\n', " ");
    let batches = request(&span("0a", "")).replacen("{", "{\"schemaUrl\": \"s\", ", 1);
    let last = request(&span("0b", ""));
    let doc = format!("{first}\n{batches}\n{{\"other\": 1}}\n{last}\n");
    let (streamed, whole, quality, _) =
        test_support::read_both_ways(&OtlpJsonReader, &doc, Framing::Envelope(Envelope::OTLP));
    // Two spans a member and two in `batches` after the array, less the
    // one without id; one from each later request.
    assert_eq!(whole.len(), 2 * 2001 - 1 + 2);
    let spans = streamed.set.traces.iter().flat_map(|t| &t.spans);
    assert_eq!(located(spans), located(whole.iter().map(|s| &s.span)));
    assert!(
        whole.iter().any(
            |s| s.span.span_id.0 == 0x0b && s.span.origin.location() == Some(Location::Line(4))
        )
    );
    // The span without an id and the line that is no request, alike.
    assert_two_counted_alike(&streamed.set.quality, &quality, 1, 3);
}

/// Asserts that a read a window at a time (`streamed`) counted the two
/// unreadable records the whole read counted, the first at line `first`
/// and the second at line `second`, with the same messages.
fn assert_two_counted_alike(streamed: &Quality, whole: &Quality, first: u64, second: u64) {
    test_support::assert_counted_alike(streamed, whole, 2, first);
    assert_eq!(streamed.examples[1].location, Location::Line(second));
    assert_eq!(streamed.examples[1].message, whole.examples[1].message);
}

#[test]
fn a_large_request_under_the_protobuf_name_or_tempos_is_read_as_whole() {
    // Tempo's `/api/traces/{id}` answer names the array `batches`; a
    // request may use the protobuf names. Both are cut by member.
    let doc = large_request(2000, 1500, usize::MAX);
    let protobuf = doc.replacen("\"resourceSpans\"", "\"resource_spans\"", 1);
    // Tempo's array first, and the other after it, read with the tail.
    let tempo = doc
        .replacen("\"resourceSpans\"", "\"swap\"", 1)
        .replacen("\"batches\"", "\"resourceSpans\"", 1)
        .replacen("\"swap\"", "\"batches\"", 1);
    for renamed in [protobuf, tempo] {
        let (streamed, whole, quality, _) = test_support::read_both_ways(
            &OtlpJsonReader,
            &renamed,
            Framing::Envelope(Envelope::OTLP),
        );
        assert_eq!(whole.len(), 2 * 2001 - 1);
        let spans = streamed.set.traces.iter().flat_map(|t| &t.spans);
        assert_eq!(located(spans), located(whole.iter().map(|s| &s.span)));
        test_support::assert_counted_alike(&streamed.set.quality, &quality, 1, 3 + 8 * 1500 + 5);
    }
}

#[test]
fn a_large_request_wrapped_as_tempos_and_jaegers_apis_answer_is_read_as_the_plain_one() {
    // Tempo's `/api/v2/traces/{id}` wraps the request in `trace`, with a
    // status after it. The wrapper opens on the request's first line and
    // closes on its last, so every span keeps its line; a window that
    // starts inside the wrapper must still find where its document ends,
    // and the `batches` after the array are read inside it.
    let doc = large_request(2000, 1500, usize::MAX);
    let framing = Framing::Envelope(Envelope::OTLP);
    let (_, plain, plain_quality, _) = test_support::read_both_ways(&OtlpJsonReader, &doc, framing);
    let tempo = format!(
        "{{\"trace\": {}, \"status\": \"complete\"}}\n",
        doc.trim_end()
    );
    let (streamed, whole, quality, _) =
        test_support::read_both_ways(&OtlpJsonReader, &tempo, framing);
    assert_eq!(
        located(whole.iter().map(|s| &s.span)),
        located(plain.iter().map(|s| &s.span))
    );
    let spans = streamed.set.traces.iter().flat_map(|t| &t.spans);
    assert_eq!(located(spans), located(whole.iter().map(|s| &s.span)));
    test_support::assert_counted_alike(&streamed.set.quality, &quality, 1, 3 + 8 * 1500 + 5);
    assert_eq!(
        quality.examples[0].message,
        plain_quality.examples[0].message
    );

    // Jaeger's `/api/v3` answers JSON lines, each result wrapped in
    // `result`: here one longer than three windows, then a one-span one.
    let line = doc.replace('\n', " ");
    let one = request(&span("0c", ""));
    let jaeger = format!("{{\"result\": {line}}}\n{{\"result\": {one}}}\n");
    let (streamed, whole, quality, _) =
        test_support::read_both_ways(&OtlpJsonReader, &jaeger, framing);
    assert_eq!(whole.len(), plain.len() + 1);
    let ids = |spans: &[TracedSpan]| spans.iter().map(|s| s.span.span_id.0).collect::<Vec<_>>();
    assert_eq!(ids(&whole[..plain.len()]), ids(&plain));
    assert!(
        whole.iter().any(
            |s| s.span.span_id.0 == 0x0c && s.span.origin.location() == Some(Location::Line(2))
        )
    );
    let spans = streamed.set.traces.iter().flat_map(|t| &t.spans);
    assert_eq!(located(spans), located(whole.iter().map(|s| &s.span)));
    test_support::assert_counted_alike(&streamed.set.quality, &quality, 1, 1);
}

#[test]
fn a_large_request_with_members_before_its_array_is_read_as_the_plain_one() {
    // Tempo's answer with its keys sorted, `status` before `trace`, as a
    // tool that rewrites JSON writes it: cut by member, as the plain one.
    let doc = large_request(2000, 1500, usize::MAX);
    let framing = Framing::Envelope(Envelope::OTLP);
    let (_, plain, _, _) = test_support::read_both_ways(&OtlpJsonReader, &doc, framing);
    let sorted = format!(
        "{{\"status\": \"complete\", \"trace\": {}}}\n",
        doc.trim_end()
    );
    let (streamed, whole, quality, _) =
        test_support::read_both_ways(&OtlpJsonReader, &sorted, framing);
    assert!(
        located(whole.iter().map(|s| &s.span)) == located(plain.iter().map(|s| &s.span)),
        "whole differs"
    );
    let spans = streamed.set.traces.iter().flat_map(|t| &t.spans);
    assert!(
        located(spans) == located(whole.iter().map(|s| &s.span)),
        "streamed differs"
    );
    test_support::assert_counted_alike(&streamed.set.quality, &quality, 1, 3 + 8 * 1500 + 5);
}

#[test]
fn a_request_whose_end_or_only_member_is_not_json_is_an_error_as_before() {
    let strings = Interner::new();
    let member = r#"{"scopeSpans": []}"#;
    for doc in [
        format!("{{\"resourceSpans\": [{member}] \"x\": 1}}"),
        format!("{{\"resourceSpans\": [{member}],}}"),
        format!("{{\"resourceSpans\": [{member}]"),
        "{\"resourceSpans\": [\n{\"scopeSpans\" []}\n]}".to_string(),
    ] {
        let err = read(&strings, doc.as_bytes()).unwrap_err();
        assert!(err.message.starts_with("invalid JSON"), "{doc}: {err}");
    }
    // A trailing member after the array is read; `null` and `{}` are fine.
    let doc = format!("{{\"resourceSpans\": [{member}, null], \"other\": {{}}}}");
    assert!(read(&strings, doc.as_bytes()).is_ok());
}

#[test]
fn a_large_request_after_a_byte_order_mark_reads_as_without() {
    let doc = large_request(2000, 1500, usize::MAX);
    let plain = ingested(&doc);
    let marked = ingested(&format!("\u{feff}{doc}"));
    let spans = |i: &crate::ingest::Ingested| {
        located(
            i.set
                .traces
                .iter()
                .flat_map(|t| t.spans.iter())
                .collect::<Vec<_>>()
                .into_iter(),
        )
    };
    assert_eq!(spans(&marked), spans(&plain));
    assert_eq!(marked.set.quality.unparsable_records, 1);
}

#[test]
fn a_large_request_none_of_whose_members_is_json_counts_each() {
    // Read whole, such a request is an error (above); read a window at a
    // time, the windows before its end cannot know that no other window
    // holds a good member: each bad member is counted at its line, and a
    // truncated request of nothing else is the first member's error.
    let broken = "{\"scopeSpans\" []}";
    let members = vec![broken; 40_000].join(",\n");
    let doc = format!("{{\"resourceSpans\": [\n{members}\n]}}\n");
    assert!(doc.len() > 2 * crate::ingest::stream::WINDOW_BYTES);
    let got = ingested(&doc);
    assert_eq!(got.set.span_count(), 0);
    assert_eq!(got.set.quality.unparsable_records, 40_000);
    assert_eq!(got.set.quality.examples[0].location, Location::Line(2));
    let truncated = format!("{{\"resourceSpans\": [\n{members}");
    use crate::ingest::{IngestError, IngestOptions, InputSource, ingest};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("truncated.json");
    std::fs::write(&file, truncated).unwrap();
    let Err(IngestError::Read(err)) = ingest(&[InputSource::File(file)], &IngestOptions::default())
    else {
        panic!("a request of no JSON member and no end is an error");
    };
    assert_eq!(err.location, Location::Line(2));
    assert!(err.message.starts_with("invalid JSON"), "{err}");
}

proptest::proptest! {
    /// An id is missing exactly when its text is all whitespace (Unicode's
    /// too), as trimming it would find it empty.
    #[test]
    fn an_id_of_whitespace_alone_is_missing(text in "[ \t\n\u{3000}\u{a0}a-f0-9]{0,6}") {
        let member = Some(model::Str(std::borrow::Cow::Borrowed(text.as_str())));
        proptest::prop_assert_eq!(required(&member, "spanId").is_ok(), !text.trim().is_empty());
        proptest::prop_assert!(required(&None, "spanId").is_err());
    }
}
