//! Jaeger reader tests against the oracle exports and hand-made edge cases.

use super::*;
use crate::ingest::test_support::{
    assert_counted_alike, ingested, ingested_broken_before, located, oracle, read_both_ways,
    read_with,
};
use crate::model::{Quality, TraceSet};

fn read(strings: &Interner, bytes: &[u8]) -> Result<(Vec<TracedSpan>, Quality), ReadError> {
    read_with(&JaegerReader, strings, bytes)
}

/// Every span of `set`, with its trace's id.
fn with_trace_ids(set: &TraceSet) -> Vec<(TraceId, &Span)> {
    set.traces
        .iter()
        .flat_map(|t| t.spans.iter().map(move |s| (t.id, s)))
        .collect()
}

fn by_id<'s>(spans: &'s [TracedSpan], id: &str) -> Vec<&'s TracedSpan> {
    let id = SpanId::parse(id).unwrap();
    spans.iter().filter(|s| s.span.span_id == id).collect()
}

#[test]
fn ui_export_keeps_duplicates_parents_links_and_tags() {
    let strings = Interner::new();
    let (spans, quality) = read(&strings, &oracle("jaeger/ui_01.json")).unwrap();
    assert_eq!(spans.len(), 5);
    assert_eq!(quality.unparsable_records, 0);
    let twos = by_id(&spans, "0000000000000002");
    assert_eq!(twos.len(), 2, "both spans sharing an id are emitted");
    assert!(twos.iter().all(|s| s.span.parent_id.is_none()));
    assert_eq!(twos[0].span.start, 1_485_467_191_639_875_000);
    assert_eq!(twos[0].span.duration(), 5_000);
    assert_eq!(strings.resolve(twos[0].span.service), "service-x");
    assert_eq!(twos[1].span.status, Status::Error);
    let peer = twos[1]
        .span
        .attrs(&strings)
        .peer_service
        .map(|s| strings.resolve(s));
    assert_eq!(peer, Some("service-y"));

    let four = by_id(&spans, "0000000000000004")[0];
    assert_eq!(
        four.span.parent_id,
        SpanId::parse("2").ok(),
        "CHILD_OF in this trace wins"
    );
    let ff = SpanLink {
        trace_id: TraceId::parse("ff").unwrap().0,
        span_id: SpanId::parse("ff").unwrap(),
    };
    assert_eq!(
        four.span.links.as_deref().map(Vec::as_slice),
        Some(&[ff][..]),
        "the other trace's ref is a link"
    );
    assert_eq!(strings.resolve(four.span.service), "service-y");
    assert_eq!(
        by_id(&spans, "5")[0].span.parent_id,
        SpanId::parse("4").ok()
    );
    assert_eq!(by_id(&spans, "5")[0].span.duration(), 4_000);
    assert!(spans.iter().all(|s| s.span.trace_label.is_none()));

    let set = TraceSet::build(spans, strings, quality);
    assert_eq!(set.traces.len(), 1);
    assert_eq!(set.traces[0].spans.len(), 4);
    assert_eq!(set.quality.duplicate_spans, 1);
}

#[test]
fn crisp_traces_read_with_their_extra_keys() {
    let expected: &[(&str, usize)] = &[
        ("1", 1),
        ("2", 2),
        ("3", 2),
        ("4", 3),
        ("5", 4),
        ("6", 4),
        ("7", 3),
        ("8", 3),
        ("9", 4),
        ("10", 4),
        ("11", 2),
        ("12", 4),
        ("13", 4),
        ("14", 4),
        ("15", 7),
        ("16", 7),
        ("17", 4),
        ("18", 9),
        ("19", 4),
        ("20", 4),
        ("21", 4),
        ("22", 4),
        ("23", 9),
        ("24", 9),
        ("25", 9),
        ("err_pattern1/err1", 2),
        ("err_pattern1/err2", 2),
        ("err_pattern2/err1", 2),
        ("err_pattern2/err2", 2),
        ("err_pattern3/err1", 3),
        ("err_pattern3/err2", 3),
        ("err_pattern4/err1", 3),
        ("err_pattern4/err2", 3),
    ];
    for (name, count) in expected {
        let strings = Interner::new();
        let (spans, quality) = read(&strings, &oracle(&format!("crisp/{name}.json"))).unwrap();
        assert_eq!(spans.len(), *count, "crisp/{name}");
        assert_eq!(quality.unparsable_records, 0, "crisp/{name}");
    }

    let strings = Interner::new();
    let (spans, _) = read(&strings, &oracle("crisp/2.json")).unwrap();
    let names: Vec<_> = spans
        .iter()
        .map(|s| {
            (
                strings.resolve(s.span.service),
                strings.resolve(s.span.name),
                s.span.start,
                s.span.end,
            )
        })
        .collect();
    assert!(names.contains(&("S1", "O1", 0, 100_000)), "{names:?}");
    assert!(names.contains(&("S2", "O2", 10_000, 60_000)), "{names:?}");
    let child = spans
        .iter()
        .find(|s| strings.resolve(s.span.name) == "O2")
        .unwrap();
    assert_eq!(child.span.parent_id, Some(spans[0].span.span_id));

    let (spans, _) = read(&strings, &oracle("crisp/err_pattern1/err1.json")).unwrap();
    assert!(spans.iter().all(|s| s.span.status == Status::Error));
}

#[test]
fn jaeger_ui_self_time_traces_read() {
    let expected: &[(&str, usize)] = &[
        ("spanAmongEachOtherGroupedAndSpans", 17),
        ("spanLongerAsParent", 8),
        ("spansAmongEachOther", 12),
        ("spansAmongEachOtherGrouped", 15),
        ("testTrace", 11),
        ("testTraceNormal", 5),
        ("traceWithMultipleSpansWithTheSameValueInDifferentTags", 4),
        ("traceWithOverlappingChildren", 3),
        ("traceWithOverlappingChildrenLongerThanParent", 4),
        (
            "traceWithSingleChildLongerThanParentAndStartsAfterParent",
            2,
        ),
        ("traceWithThreeShortChildren", 4),
        ("traceWithThreeShortOverlappingChildren", 4),
        ("traceWithTwoChildrenStartedAtTraceStart", 3),
        ("traceWithTwoNonOverlappingChildren", 3),
    ];
    for (name, count) in expected {
        let strings = Interner::new();
        let bytes = oracle(&format!("jaeger-ui/self-time/{name}.json"));
        assert!(JaegerReader.sniff(&bytes), "{name}");
        let (spans, quality) = read(&strings, &bytes).unwrap();
        assert_eq!(spans.len(), *count, "{name}");
        assert_eq!(quality.unparsable_records, 0, "{name}");
    }
    let strings = Interner::new();
    let (spans, _) = read(
        &strings,
        &oracle("jaeger-ui/self-time/testTraceNormal.json"),
    )
    .unwrap();
    let root = by_id(&spans, "150c193cf155b46b")[0];
    assert_eq!(root.span.parent_id, None);
    assert_eq!(strings.resolve(root.span.service), "api-gateway");
    assert_eq!(root.span.duration(), 4_902_000);
    let query = by_id(&spans, "622a5079b565623e")[0];
    assert_eq!(query.span.parent_id, SpanId::parse("e821b549888cbc3b").ok());
    assert_eq!(strings.resolve(query.span.service), "customers-service");
}

#[test]
fn critical_path_cases_with_text_ids_read() {
    let cases: Value = serde_json::from_slice(&oracle(
        "jaeger-ui/critical-path/criticalpath_testcases.json",
    ))
    .unwrap();
    let mut read_cases = 0;
    for (name, case) in cases.as_object().unwrap() {
        // test3 points at a self-time file instead of carrying a trace.
        if case["trace"].is_null() {
            continue;
        }
        let strings = Interner::new();
        let bytes = serde_json::to_vec(&case["trace"]).unwrap();
        let (spans, quality) = read(&strings, &bytes).unwrap();
        assert_eq!(quality.unparsable_records, 0, "{name}");
        assert!(spans.len() >= 2, "{name}");
        let label = spans[0].span.trace_label.map(|l| strings.resolve(l));
        assert_eq!(
            label,
            case["trace"]["data"][0]["traceID"].as_str(),
            "{name}"
        );
        read_cases += 1;
    }
    assert_eq!(read_cases, 8);

    let strings = Interner::new();
    let bytes = serde_json::to_vec(&cases["test1"]["trace"]).unwrap();
    let (spans, _) = read(&strings, &bytes).unwrap();
    let c = by_id(&spans, "span-C")[0];
    assert_eq!(
        (c.span.start, c.span.end, c.span.parent_id),
        (1_000, 101_000, None)
    );
    assert_eq!(
        by_id(&spans, "span-E")[0].span.parent_id,
        Some(c.span.span_id)
    );
    assert_eq!(
        by_id(&spans, "span-D")[0].span.parent_id,
        Some(c.span.span_id)
    );
    assert_eq!(strings.resolve(c.span.service), "customers-service");

    let bytes = serde_json::to_vec(&cases["test5"]["trace"]).unwrap();
    let (spans, _) = read(&strings, &bytes).unwrap();
    let b = by_id(&spans, "span-B")[0];
    assert_eq!(
        b.span.parent_id,
        SpanId::parse("span-A").ok(),
        "FOLLOWS_FROM is a parent"
    );
    assert_eq!(b.span.kind, SpanKind::Consumer);
}

#[test]
fn bad_spans_are_skipped_at_their_line() {
    let doc = br#"{"data": [{
  "traceID": "abc",
  "processes": {"p": {"serviceName": "svc"}},
  "spans": [
{"spanID": "1", "operationName": "ok", "startTime": 5, "duration": 1, "processID": "p"},
{
  "spanID": "2",
  "duration": 1
},
{"spanID": "3", "startTime": "7", "duration": 2.0, "process": {"serviceName": "own"}}
  ]
}]}"#;
    let strings = Interner::new();
    let (spans, quality) = read(&strings, doc).unwrap();
    assert_eq!(spans.len(), 2);
    assert_eq!(quality.unparsable_records, 1);
    assert_eq!(quality.examples[0].location, Location::Line(6));
    assert!(quality.examples[0].message.contains("startTime"));
    assert_eq!((spans[1].span.start, spans[1].span.end), (7_000, 9_000));
    assert_eq!(strings.resolve(spans[1].span.service), "own");
    assert_eq!(strings.resolve(spans[1].span.name), "unknown");
}

#[test]
fn json_lines_of_traces_and_envelopes() {
    let lines = concat!(
        r#"{"traceID":"1","spans":[{"spanID":"a","startTime":1,"duration":1}]}"#,
        "\n",
        "not json\n",
        r#"{"data":[{"traceID":"2","spans":[{"spanID":"b","startTime":1,"duration":1}]}],"errors":[{"code":500,"msg":"partial"}]}"#,
        "\n",
        r#"{"something":"else"}"#,
        "\n",
    );
    let strings = Interner::new();
    let (spans, quality) = read(&strings, lines.as_bytes()).unwrap();
    assert_eq!(spans.len(), 2);
    assert_eq!(spans[0].trace_id, TraceId(1));
    assert_eq!(strings.resolve(spans[0].span.service), "unknown");
    let located: Vec<_> = quality
        .examples
        .iter()
        .map(|p| p.location.clone())
        .collect();
    assert_eq!(
        located,
        [Location::Line(2), Location::Line(3), Location::Line(4)]
    );
    assert!(quality.examples[1].message.contains("partial"));
}

#[test]
fn tags_set_kind_status_and_attributes() {
    let doc = br#"{"traceID":"1","spans":[
      {"spanID":"a","startTime":1,"duration":1,"tags":[
        {"key":"span.kind","type":"string","value":"client"},
        {"key":"error","type":"string","value":"true"},
        {"key":"http.status_code","type":"int64","value":500},
        {"key":"db.system","type":"string","value":"postgresql"}]},
      {"spanID":"b","startTime":1,"duration":1,"tags":[
        {"key":"otel.status_code","value":"OK"},{"key":"error","value":false}]},
      {"spanID":"c","startTime":1,"duration":1,"tags":[{"key":"otel.status_code","value":"ERROR"}]}
    ]}"#;
    let strings = Interner::new();
    let (spans, _) = read(&strings, doc).unwrap();
    assert_eq!(spans[0].span.kind, SpanKind::Client);
    assert_eq!(spans[0].span.status, Status::Error);
    assert_eq!(
        spans[0]
            .span
            .attrs(&strings)
            .db_system
            .map(|s| strings.resolve(s)),
        Some("postgresql")
    );
    assert_eq!(spans[1].span.status, Status::Ok);
    assert!(spans[1].span.attrs.is_none());
    assert_eq!(spans[2].span.status, Status::Error);
}

#[test]
fn odd_field_values_never_panic() {
    let template = serde_json::json!({"data": [{"traceID": "1", "processes": {"p": {"serviceName": "s"}},
        "spans": [{"traceID": "1", "spanID": "2", "operationName": "o", "startTime": 1, "duration": 2,
            "processID": "p", "process": {"serviceName": "own"}, "parentSpanID": "3",
            "references": [{"refType": "CHILD_OF", "traceID": "1", "spanID": "3"}],
            "tags": [{"key": "span.kind", "type": "string", "value": "client"},
                     {"key": "error", "value": true}, {"key": "otel.status_code", "value": "OK"},
                     {"key": "db.system", "value": "x"}]}]}],
        "errors": [{"msg": "m"}]});
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
    assert!(read(&strings, b"{").is_err());
    assert!(read(&strings, br#"{"data": []}"#).unwrap().0.is_empty());
    assert!(JaegerReader.sniff(br#"{"data":[{"traceID":"1"}]}"#));
    assert!(!JaegerReader.sniff(br#"{"resourceSpans":[{"traceID":"1"}]}"#));
    assert!(!JaegerReader.sniff(br#"{"spans":[{"trace_id":"1"}]}"#));
}

#[test]
fn envelope_traces_are_read_in_order_and_located_by_line() {
    // 200 traces, one per line, read in parallel chunks; a bad span in the
    // 150th is located on its own line of the file.
    let mut doc = String::from("{\"data\": [\n");
    for i in 1..=200 {
        let start = if i == 150 {
            "\"x\"".to_string()
        } else {
            i.to_string()
        };
        doc.push_str(&format!(
            "{{\"traceID\": \"{i:x}\", \"spans\": [{{\"spanID\": \"{i:x}\", \"startTime\": {start}, \"duration\": 1}}]}}{}\n",
            if i < 200 { "," } else { "" }
        ));
    }
    doc.push_str("]}\n");
    let strings = Interner::new();
    let (spans, quality) = read(&strings, doc.as_bytes()).unwrap();
    assert_eq!(spans.len(), 199);
    let ids: Vec<u128> = spans.iter().map(|s| s.trace_id.0).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "input order kept");
    assert_eq!(quality.unparsable_records, 1);
    assert_eq!(quality.examples[0].location, Location::Line(151));
}

/// Every trace of `bytes` (an envelope or array of traces) read through the
/// typed model and through the generic `Value` path.
fn both_paths(bytes: &[u8]) -> Vec<(Vec<TracedSpan>, Vec<TracedSpan>)> {
    let value: Value = serde_json::from_slice(bytes).unwrap();
    let traces = match &value {
        Value::Object(o) if o.contains_key("spans") => vec![value.clone()],
        Value::Object(o) => o["data"].as_array().unwrap().clone(),
        Value::Array(a) => a.clone(),
        _ => panic!("not a trace list"),
    };
    traces
        .iter()
        .map(|trace| {
            let raw = serde_json::to_vec(trace).unwrap();
            let record = Record {
                line: 1,
                bytes: &raw,
            };
            let strings = Interner::new();
            let mut typed = Sink::new("t", &strings);
            assert!(read_typed_trace(&record, &mut typed), "typed path refused");
            let mut general = Sink::new("t", &strings);
            read_trace(&record, trace, &[], &mut general);
            (typed.spans, general.spans)
        })
        .collect()
}

#[test]
fn the_typed_path_reads_as_the_general_one() {
    let mut inputs = vec![oracle("jaeger/ui_01.json")];
    for n in 1..=10 {
        inputs.push(oracle(&format!("crisp/{n}.json")));
    }
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/jaeger")).unwrap()
    {
        inputs.push(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let mut traces = 0;
    for bytes in &inputs {
        for (typed, general) in both_paths(bytes) {
            assert_eq!(typed, general);
            traces += 1;
        }
    }
    assert!(traces > 50, "{traces}");
}

/// A kept tag value with an escape is unescaped on the typed path too:
/// its text is never taken as it stands. (`both_paths` writes each trace
/// again with serde, which keeps the escaped quote.)
#[test]
fn an_escaped_tag_value_reads_unescaped_on_both_paths() {
    let doc = br#"{"traceID":"1","spans":[{"spanID":"a","startTime":1,"duration":1,"tags":[
        {"key":"db.system","type":"string","value":"post\"gres"},
        {"key":"http.route","value":"/a\\b"}]}]}"#;
    let read = both_paths(doc);
    assert_eq!(read.len(), 1);
    for (typed, general) in read {
        assert_eq!(typed, general);
    }
}

#[test]
fn a_trace_the_typed_model_cannot_hold_goes_the_general_way() {
    // A number where the span id should be a string: the general path
    // skips that span alone, and locates it.
    let doc = br#"{"data":[{"traceID":"ab","spans":[
        {"spanID":"01","operationName":"a","startTime":1,"duration":2,"processID":"p1"},
        {"spanID":2,"operationName":"b","startTime":1,"duration":2}
    ],"processes":{"p1":{"serviceName":"svc"}}}]}"#;
    let strings = Interner::new();
    let (spans, quality) = read(&strings, doc).unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(strings.resolve(spans[0].span.service), "svc");
    assert_eq!(quality.unparsable_records, 1);
    assert_eq!(quality.examples[0].location, Location::Line(3));
}

/// A pretty-printed envelope of `traces` traces, two spans each, several
/// test windows long; the span `bad` has a start that is not a number.
fn large_envelope(traces: usize, bad: usize) -> String {
    let mut doc = String::from("{\n  \"data\": [\n");
    for i in 1..=traces {
        let start = if i == bad {
            "\"x\"".to_string()
        } else {
            (1_700_000_000_000_000u64 + i as u64).to_string()
        };
        doc.push_str(&format!(
            "    {{\n      \"traceID\": \"{i:x}\",\n      \"spans\": [\n        {{\"spanID\": \"{i:x}1\", \"operationName\": \"GET /a\", \"startTime\": {start}, \"duration\": 20, \"processID\": \"p1\"}},\n        {{\"spanID\": \"{i:x}2\", \"operationName\": \"SELECT \\\"t]}}\\\"\", \"references\": [{{\"refType\": \"CHILD_OF\", \"traceID\": \"{i:x}\", \"spanID\": \"{i:x}1\"}}], \"startTime\": 1700000000000001, \"duration\": 5, \"processID\": \"p1\"}}\n      ],\n      \"processes\": {{\"p1\": {{\"serviceName\": \"svc-{}\"}}}}\n    }}{}\n",
            i % 5,
            if i < traces { "," } else { "" }
        ));
    }
    doc.push_str(
        "  ],\n  \"total\": 0,\n  \"errors\": [{\"code\": 500, \"msg\": \"storage timeout\"}]\n}\n",
    );
    doc
}

#[test]
fn a_large_envelope_is_read_a_window_at_a_time_as_it_is_whole() {
    let doc = large_envelope(3000, 2500);
    let windows = crate::ingest::stream::WINDOW_BYTES;
    assert!(doc.len() > 3 * windows, "{} bytes", doc.len());
    assert_eq!(
        JaegerReader.framing(&doc.as_bytes()[..crate::ingest::SNIFF_LEN]),
        Some(Framing::Envelope(
            crate::ingest::json_envelope::Envelope::JAEGER
        ))
    );
    let streamed = ingested(&doc);
    let strings = Interner::new();
    let (whole, quality) = read(&strings, doc.as_bytes()).unwrap();
    assert_eq!(whole.len(), 5999);
    let spans = streamed.set.traces.iter().flat_map(|t| &t.spans);
    assert_eq!(located(spans), located(whole.iter().map(|s| &s.span)));
    // The bad span and the reported error, each at its line.
    let got = &streamed.set.quality;
    assert_eq!(got.unparsable_records, quality.unparsable_records);
    assert_eq!(got.unparsable_records, 2);
    let mut lines: Vec<_> = got.examples.iter().map(|p| p.location.clone()).collect();
    lines.sort_by_key(|l| format!("{l:?}"));
    let bad_line = 2 + 8 * 2499 + 4;
    let end_line = 2 + 8 * 3000 + 1;
    assert_eq!(
        lines,
        [Location::Line(bad_line), Location::Line(end_line)],
        "{:?}",
        got.examples
    );
    assert!(
        got.examples
            .iter()
            .any(|p| p.message.contains("storage timeout"))
    );
}

#[test]
fn members_before_the_data_array_are_read_and_the_traces_a_window_at_a_time() {
    // The envelope with its keys sorted (`errors` before `data`), as a
    // tool that rewrites JSON may write it: cut by trace all the same, and
    // the reported error counted at the document's first line, as whole.
    let doc = large_envelope(3000, 2500);
    let data = doc.find("  \"data\": [").unwrap();
    let tail = doc.rfind("  ],\n").unwrap();
    let sorted = format!(
        "{{\n  \"errors\": [{{\"code\": 500, \"msg\": \"storage timeout\"}}], \"total\": 0,\n{}  ]\n}}\n",
        &doc[data..tail]
    );
    let framing = Framing::Envelope(crate::ingest::json_envelope::Envelope::JAEGER);
    let (streamed, whole, quality, _) = read_both_ways(&JaegerReader, &sorted, framing);
    assert_eq!(whole.len(), 5999);
    let spans = streamed.set.traces.iter().flat_map(|t| &t.spans);
    assert!(
        located(spans) == located(whole.iter().map(|s| &s.span)),
        "spans differ"
    );
    let got = &streamed.set.quality;
    assert_eq!(got.unparsable_records, 2);
    let counted = |q: &Quality| {
        let mut m: Vec<_> = q
            .examples
            .iter()
            .map(|p| (format!("{:?}", p.location), p.message.clone()))
            .collect();
        m.sort();
        m
    };
    assert_eq!(counted(got), counted(&quality));
    assert!(
        got.examples
            .iter()
            .any(|p| p.message.contains("storage timeout") && p.location == Location::Line(1)),
        "{:?}",
        got.examples
    );
}

#[test]
fn a_large_envelope_that_breaks_off_keeps_what_came_before() {
    // A missing comma after trace 2000: the traces before it are read, and
    // the rest is one unreadable record at the line where it breaks.
    let doc = large_envelope(3000, 0);
    let broken_at = doc.find("\"traceID\": \"7d1\"").unwrap();
    let comma = doc[..broken_at].rfind("},").unwrap() + 1;
    let broken = format!("{} {}", &doc[..comma], &doc[comma + 1..]);
    let got = ingested(&broken);
    assert_eq!(got.set.span_count(), 2 * 2000);
    assert_eq!(got.set.quality.unparsable_records, 1);
    let problem = &got.set.quality.examples[0];
    assert_eq!(problem.location, Location::Line(2 + 8 * 2000 + 1));
    assert!(problem.message.contains("rest of the input"), "{problem:?}");
}

#[test]
fn the_typed_path_refuses_what_the_general_path_refuses() {
    // Each trace is valid to serde's derived structs but not to a `Value`
    // parse, or holds an array where the general path wants an object.
    let span = r#"{"spanID": "01", "operationName": "a", "startTime": 1, "duration": 2, "processID": "p1"EXTRA}"#;
    let trace = |extra_span: &str, processes: &str| {
        format!(
            r#"{{"traceID": "ab", "spans": [{}], "processes": {processes}}}"#,
            span.replace("EXTRA", extra_span)
        )
    };
    let ok_processes = r#"{"p1": {"serviceName": "svc"}}"#;
    let refused = [
        trace(r#", "flags": 1e400"#, ok_processes),
        trace(
            r#", "logs": [{"fields": [{"value": "\ud800"}]}]"#,
            ok_processes,
        ),
        trace(
            r#", "tags": [{"key": "not.read", "value": 1e400}]"#,
            ok_processes,
        ),
        trace(
            r#", "tags": [{"value": [1e400], "key": "not.read"}]"#,
            ok_processes,
        ),
        trace(
            r#", "tags": [{"key": "a", "key": "b", "value": 1}]"#,
            ok_processes,
        ),
        trace("", r#"{"p1": ["svc"]}"#),
        r#"{"traceID": "ab", "spans": [["01", "a", 1, 2]]}"#.to_string(),
        r#"["ab", []]"#.to_string(),
    ];
    for text in &refused {
        let record = Record {
            line: 1,
            bytes: text.as_bytes(),
        };
        let strings = Interner::new();
        let mut sink = Sink::new("t", &strings);
        assert!(!read_typed_trace(&record, &mut sink), "{text}");
        assert!(sink.spans.is_empty());
    }
    // The same trace without the bad member is read.
    let fine = trace(
        r#", "flags": 1, "tags": [{"key": "not.read", "value": 1e300}]"#,
        ok_processes,
    );
    let strings = Interner::new();
    let mut sink = Sink::new("t", &strings);
    let record = Record {
        line: 1,
        bytes: fine.as_bytes(),
    };
    assert!(read_typed_trace(&record, &mut sink), "{fine}");
    assert_eq!(strings.resolve(sink.spans[0].span.service), "svc");
    // A tag read by critpath is read whichever member comes first.
    let server = trace(
        r#", "tags": [{"value": "server", "key": "span.kind"}, {"value": {"x": 1}, "key": "n"}]"#,
        ok_processes,
    );
    let mut sink = Sink::new("t", &strings);
    let record = Record {
        line: 1,
        bytes: server.as_bytes(),
    };
    assert!(read_typed_trace(&record, &mut sink), "{server}");
    assert_eq!(sink.spans[0].span.kind, SpanKind::Server);
}

#[test]
fn a_large_envelope_that_breaks_before_its_first_trace_ends_is_an_error_at_its_line() {
    use crate::ingest::{IngestOptions, InputSource, ingest};
    let doc = format!(
        "{{\"data\": [\n{{\"traceID\": \"1\", \"spans\": [{{\"operationName\": \"{}",
        "x".repeat(100_000)
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cut.json");
    std::fs::write(&file, doc).unwrap();
    let Err(err) = ingest(&[InputSource::File(file)], &IngestOptions::default()) else {
        panic!("read although nothing in it is readable");
    };
    let message = err.to_string();
    assert!(
        message.contains("cut.json: line 2: expected a JSON value"),
        "{message}"
    );
}

#[test]
fn invalid_json_inside_one_trace_skips_that_trace_only() {
    let doc = br#"{"data": [
{"traceID": "1", "spans": [{"spanID": "1", "startTime": 1, "duration": 1}]},
{"traceID": "2", "spans": [{"spanID": "2", "startTime": 1,, "duration": 1}]},
{"traceID": "3", "spans": [{"spanID": "3", "startTime": 1, "duration": 1}]}
], "errors": null}"#;
    let strings = Interner::new();
    let (spans, quality) = read(&strings, doc).unwrap();
    let ids: Vec<u128> = spans.iter().map(|s| s.trace_id.0).collect();
    assert_eq!(ids, [1, 3]);
    assert_eq!(quality.unparsable_records, 1);
    assert_eq!(quality.examples[0].location, Location::Line(3));
    assert!(quality.examples[0].message.starts_with("invalid JSON"));
}

/// [`large_envelope`]'s traces as a bare array, `[trace, ...]`: one line
/// of head instead of two, and no `errors` member.
fn large_array(traces: usize, bad: usize) -> String {
    let doc = large_envelope(traces, bad);
    let from = doc.find("\"data\": [\n").unwrap() + "\"data\": [\n".len();
    let to = doc.rfind("  ],\n  \"total\"").unwrap();
    format!("[\n{}]\n", &doc[from..to])
}

#[test]
fn a_large_array_of_traces_is_read_a_window_at_a_time_as_it_is_whole() {
    let doc = large_array(3000, 2500);
    let framing = Framing::Envelope(crate::ingest::json_envelope::Envelope::JAEGER_ARRAY);
    let (streamed, whole, quality, _) = read_both_ways(&JaegerReader, &doc, framing);
    assert_eq!(whole.len(), 5999);
    let spans = streamed.set.traces.iter().flat_map(|t| &t.spans);
    assert_eq!(located(spans), located(whole.iter().map(|s| &s.span)));
    assert_counted_alike(&streamed.set.quality, &quality, 1, 1 + 8 * 2499 + 4);
}

/// One trace of `spans` spans, one a line, in an envelope, then a small
/// trace: its processes come after its spans, and name `p0` `api` and
/// `p1` `db`; span 100 names its own process, span 200 a process the trace
/// does not name, and span 300 has no start.
fn large_trace(spans: usize) -> String {
    let mut doc = String::from("{\"data\": [{\n  \"traceID\": \"abc\",\n  \"spans\": [\n");
    for i in 1..=spans {
        let start = if i == 300 {
            "\"x\"".to_string()
        } else {
            (1_700_000_000_000_000u64 + i as u64).to_string()
        };
        let process = match i {
            100 => "\"process\": {\"serviceName\": \"own\"}".to_string(),
            200 => "\"processID\": \"p9\"".to_string(),
            _ => format!("\"processID\": \"p{}\"", i % 2),
        };
        let parent = if i > 1 {
            format!(
                ", \"references\": [{{\"refType\": \"CHILD_OF\", \"spanID\": \"{:x}\"}}]",
                i / 2
            )
        } else {
            String::new()
        };
        doc.push_str(&format!(
            "    {{\"traceID\": \"abc\", \"spanID\": \"{i:x}\", \"operationName\": \"GET /{}\", \"startTime\": {start}, \"duration\": 20, {process}{parent}}}{}\n",
            i % 7,
            if i < spans { "," } else { "" }
        ));
    }
    doc.push_str("  ],\n  \"processes\": {\"p0\": {\"serviceName\": \"api\"}, \"p1\": {\"serviceName\": \"db\"}},\n  \"warnings\": null\n},\n");
    doc.push_str("{\"traceID\": \"def\", \"spans\": [{\"spanID\": \"1\", \"startTime\": 1700000000000000, \"duration\": 1, \"processID\": \"p1\"}], \"processes\": {\"p1\": {\"serviceName\": \"web\"}}}\n");
    doc.push_str("], \"errors\": null}\n");
    doc
}

#[test]
fn a_trace_larger_than_a_window_is_read_by_its_spans_as_it_is_whole() {
    let doc = large_trace(9000);
    let framing = Framing::Envelope(crate::ingest::json_envelope::Envelope::JAEGER);
    let (streamed, whole, quality, strings) = read_both_ways(&JaegerReader, &doc, framing);
    // Its spans waited for the processes after them: it was cut.
    assert!(streamed.processes.any_waiting());
    assert_eq!(whole.len(), 9000);
    let spans = with_trace_ids(&streamed.set);
    let named = |spans: &mut dyn Iterator<Item = (TraceId, u64, String)>| {
        let mut all: Vec<(TraceId, u64, String)> = spans.collect();
        all.sort();
        all
    };
    let got = named(&mut spans.iter().map(|&(trace, s)| {
        let service = streamed.set.strings.resolve(s.service).to_string();
        (trace, s.span_id.0, service)
    }));
    let want = named(&mut whole.iter().map(|s| {
        let service = strings.resolve(s.span.service).to_string();
        (s.trace_id, s.span.span_id.0, service)
    }));
    assert!(got == want, "the spans or their services differ");
    let service_of = |id: u64| {
        let at = got
            .iter()
            .position(|(t, i, _)| *i == id && t.0 != 0xdef)
            .unwrap();
        got[at].2.as_str()
    };
    assert_eq!(
        [
            service_of(100),
            service_of(200),
            service_of(2),
            service_of(3)
        ],
        ["own", "unknown", "api", "db"]
    );
    // Each span of the cut trace is where it is (a trace read whole is
    // where the trace is); the bad one is counted at its line either way.
    let abc = TraceId::parse("abc").unwrap().0;
    let misplaced = spans
        .iter()
        .filter(|&&(trace, s)| {
            trace == abc && s.origin.location() != Some(Location::Line(3 + s.span_id.0))
        })
        .count();
    assert_eq!(misplaced, 0);
    assert!(
        spans
            .iter()
            .all(|(_, s)| s.service_from == crate::model::ServiceFrom::Own)
    );
    assert_counted_alike(&streamed.set.quality, &quality, 1, 303);
}

#[test]
fn a_bare_trace_larger_than_a_window_is_read_by_its_spans_as_it_is_whole() {
    // The large trace of `large_trace` on its own, pretty-printed: not in
    // an envelope, so it is read as a document, and cut into its spans.
    let doc = large_trace(9000);
    let start = doc.find("{\n  \"traceID\"").unwrap();
    let end = doc.find(",\n{\"traceID\": \"def\"").unwrap();
    let bare = format!("{}\n", &doc[start..end]);
    let framing = Framing::Envelope(crate::ingest::json_envelope::Envelope::JAEGER_LINES);
    let (streamed, whole, quality, strings) = read_both_ways(&JaegerReader, &bare, framing);
    assert!(streamed.processes.any_waiting());
    assert_eq!(whole.len(), 8999);
    let named = |spans: &mut dyn Iterator<Item = (u64, String)>| {
        let mut all: Vec<(u64, String)> = spans.collect();
        all.sort();
        all
    };
    let spans = streamed.set.traces.iter().flat_map(|t| &t.spans);
    let got = named(&mut spans.map(|s| {
        (
            s.span_id.0,
            streamed.set.strings.resolve(s.service).to_string(),
        )
    }));
    let want = named(&mut whole.iter().map(|s| {
        (
            s.span.span_id.0,
            strings.resolve(s.span.service).to_string(),
        )
    }));
    assert!(got == want, "the spans or their services differ");
    assert_counted_alike(&streamed.set.quality, &quality, 1, 303);
}

#[test]
fn a_bare_trace_cut_off_keeps_the_spans_before_the_break() {
    // A download of one large trace that stops inside span 5000: the
    // spans before it are read, and the break counts once, at its line.
    let doc = large_trace(9000);
    let start = doc.find("{\n  \"traceID\"").unwrap();
    let line = |i: usize| format!("\"spanID\": \"{i:x}\"");
    let cut = doc.find(&line(5000)).unwrap();
    let got = ingested(&doc[start..cut]);
    let quality = &got.set.quality;
    // Span 300 has no start; the break.
    assert_eq!(quality.unparsable_records, 2, "{:?}", quality.examples);
    assert_eq!(got.set.span_count(), 4999 - 1);
    let broken = &quality.examples[1];
    assert_eq!(broken.location, Location::Line(3 + 5000));
    assert!(
        broken.message.contains("the rest of the input is not read"),
        "{broken:?}"
    );
}

#[test]
fn json_lines_with_an_envelope_longer_than_a_window_read_as_whole() {
    // The second line, an envelope longer than three windows, is cut by
    // trace (and its first trace, larger than 256 KiB, by span); the
    // lines after it are read as lines are, also one that is no export.
    let trace = |id: &str, service: &str| {
        format!(
            "{{\"traceID\": \"{id}\", \"spans\": [{{\"spanID\": \"1\", \"startTime\": 1700000000000000, \"duration\": 1, \"processID\": \"p1\"}}], \"processes\": {{\"p1\": {{\"serviceName\": \"{service}\"}}}}}}"
        )
    };
    let long = large_trace(9000).replace('\n', " ");
    let doc = format!(
        "{}\n{long}\n{}\n{{\"other\": 1}}\n",
        trace("f1", "first"),
        trace("f2", "after")
    );
    let framing = Framing::LinesOr(crate::ingest::json_envelope::Envelope::JAEGER_LINES);
    let (streamed, whole, quality, strings) = read_both_ways(&JaegerReader, &doc, framing);
    // Spans waited for their processes: the long line was cut.
    assert!(streamed.processes.any_waiting());
    // Less the span without a start, plus the envelope's second trace.
    assert_eq!(whole.len(), 8999 + 1 + 2);
    let spans = with_trace_ids(&streamed.set);
    let named = |all: Vec<(TraceId, u64, String, Option<Location>)>| {
        let mut all = all;
        all.sort_by_key(|(t, i, ..)| (*t, *i));
        all
    };
    let got = named(
        spans
            .iter()
            .map(|&(trace, s)| {
                let service = streamed.set.strings.resolve(s.service).to_string();
                (trace, s.span_id.0, service, s.origin.location())
            })
            .collect(),
    );
    let want = named(
        whole
            .iter()
            .map(|s| {
                let service = strings.resolve(s.span.service).to_string();
                (
                    s.trace_id,
                    s.span.span_id.0,
                    service,
                    s.span.origin.location(),
                )
            })
            .collect(),
    );
    assert!(got == want, "the spans, their services or lines differ");
    for (service, line) in [("first", 1), ("after", 3), ("api", 2)] {
        assert!(
            got.iter()
                .any(|(_, _, s, at)| s == service && *at == Some(Location::Line(line))),
            "{service}"
        );
    }
    // The span without a start and the line that is no export, alike.
    test_support_two_counted_alike(&streamed.set.quality, &quality, 2, 4);
}

/// Asserts that a read a window at a time (`streamed`) counted the two
/// unreadable records the whole read counted, at lines `first` and
/// `second`, with the same messages.
fn test_support_two_counted_alike(streamed: &Quality, whole: &Quality, first: u64, second: u64) {
    assert_counted_alike(streamed, whole, 2, first);
    assert_eq!(streamed.examples[1].location, Location::Line(second));
    assert_eq!(streamed.examples[1].message, whole.examples[1].message);
}

#[test]
fn a_large_array_of_traces_that_breaks_off_keeps_what_came_before() {
    let doc = large_array(3000, 0);
    let (spans, problem) = ingested_broken_before(&doc, "\"traceID\": \"7d1\"", "},");
    assert_eq!(spans, 2 * 2000);
    assert_eq!(problem.location, Location::Line(1 + 8 * 2000 + 1));
    assert!(
        problem.message.contains(
            "`,` or `]` after a member of the array in a Jaeger export's array of traces"
        ),
        "{problem:?}"
    );
}

mod raw_values {
    use proptest::prelude::*;

    use super::super::{Micros, TagValue, micros_of, micros_to_nanos, unescaped_text, value_of};
    use serde_json::Value;

    fn same_as_parsed(text: &str) {
        let parsed: Option<Value> = serde_json::from_str(text).ok();
        assert_eq!(value_of(text), parsed, "{text}");
        time_reads_as_parsed(text);
    }

    /// A time read as a plain count gives the nanoseconds (or the error)
    /// its parsed value gives; only digits are read as a count.
    fn time_reads_as_parsed(text: &str) {
        let Some(parsed) = serde_json::from_str::<Value>(text).ok() else {
            assert!(micros_of(text).is_none(), "{text}");
            return;
        };
        let read = micros_of(text).expect("valid JSON reads");
        if let Micros::Count(_) = read {
            assert!(text.bytes().all(|b| b.is_ascii_digit()), "{text}");
        }
        let parsed = Micros::Json(std::borrow::Cow::Owned(parsed));
        assert_eq!(
            micros_to_nanos(Some(&read), "startTime"),
            micros_to_nanos(Some(&parsed), "startTime"),
            "{text}"
        );
    }

    #[test]
    fn edge_texts_read_as_parsed() {
        for text in [
            "0",
            "-0",
            "7",
            "123456789012345678",
            "1234567890123456789",
            "99999999999999999999",
            "-5",
            "1.5",
            "1e3",
            "\"\"",
            "\"a\"",
            "\"a\\\"b\"",
            "\"\\u00e9\"",
            "\"é\"",
            "\"1700000000000000\"",
            "1700000000000000.4",
            "9223372036854775807",
            "true",
            "null",
            "[1]",
        ] {
            same_as_parsed(text);
        }
    }

    /// A tag value's text and truth are the same whether the value was
    /// borrowed as text or parsed.
    fn tag_reads_as_parsed(text: &str) {
        let parsed = TagValue::Json(std::borrow::Cow::Owned(serde_json::from_str(text).unwrap()));
        if let Some(borrowed) = unescaped_text(text) {
            let borrowed = TagValue::Text(borrowed);
            assert_eq!(borrowed.text(), parsed.text(), "{text}");
            assert_eq!(borrowed.is_true(), parsed.is_true(), "{text}");
        } else {
            // Only strings with escapes, and values that are not strings,
            // are parsed.
            let value: Value = serde_json::from_str(text).unwrap();
            assert!(!value.is_string() || text.contains('\\'), "{text}");
        }
    }

    #[test]
    fn edge_tags_read_as_parsed() {
        for text in [
            "\"\"",
            "\"TRUE\"",
            "\"true\"",
            "true",
            "\"a\\\"b\"",
            "\"\\u00e9\"",
            "7",
            "null",
            "[1]",
        ] {
            tag_reads_as_parsed(text);
        }
    }

    proptest! {
        #[test]
        fn integers_and_strings_read_as_parsed(n in any::<i64>(), u in any::<u64>(), s in ".*") {
            same_as_parsed(&n.to_string());
            same_as_parsed(&u.to_string());
            same_as_parsed(&serde_json::to_string(&s).unwrap());
            tag_reads_as_parsed(&serde_json::to_string(&s).unwrap());
        }
    }
}

#[test]
fn a_typed_span_keeps_only_the_tags_it_reads_or_must_still_check() {
    // Read tags keep their values raw; a tag whose value comes before its
    // key, or whose key is null, keeps it to be checked; the rest were
    // checked while parsed and are dropped.
    let span = r#"{"spanID": "01", "tags": [
        {"key": "http.route", "type": "string", "value": "/a"},
        {"key": "x.unread", "type": "string", "value": "b"},
        {"value": "c", "key": "y.unread"},
        {"key": null, "value": "d"},
        {"key": "span.kind", "value": "server"}
    ]}"#;
    let typed::Object(span) = serde_json::from_str::<typed::Object<typed::Span<'_>>>(span).unwrap();
    let kept: Vec<(Option<&str>, Option<TagUse>, Option<&str>)> = span
        .tags
        .iter()
        .flat_map(|t| &t.0)
        .map(|t| (t.key.as_deref(), t.read, t.value.map(|v| v.text)))
        .collect();
    assert_eq!(
        kept,
        [
            (
                Some("http.route"),
                Some(TagUse::Attr(AttrKey::HttpRoute, true)),
                Some("\"/a\"")
            ),
            (Some("y.unread"), None, Some("\"c\"")),
            (None, None, Some("\"d\"")),
            (Some("span.kind"), Some(TagUse::Kind), Some("\"server\"")),
        ]
    );
    // A dropped tag is still checked: a number beyond `f64` refuses the span.
    let bad = r#"{"spanID": "01", "tags": [{"key": "x.unread", "value": 1e400}]}"#;
    assert!(serde_json::from_str::<typed::Object<typed::Span<'_>>>(bad).is_err());
}

/// A span's references, one at a time and together: one into its own
/// trace is its parent, whatever its type and whether it names the trace;
/// one into another trace is a link; one without a span id (none, or all
/// zeros) is neither.
#[test]
fn references_one_at_a_time_and_together() {
    let own = TraceId::parse("1").unwrap().0;
    let other = TraceId::parse("ff").unwrap().0;
    let id = |s: &str| SpanId::parse(s).unwrap();
    let link = |t, s: &str| SpanLink {
        trace_id: t,
        span_id: id(s),
    };
    let of = |refs: &[(Option<&str>, Option<&str>, bool)]| {
        let (parent, links) = references(refs, own, &mut TraceIdMemo::default());
        (parent, links.map(|l| *l))
    };
    assert_eq!(of(&[]), (None, None));
    assert_eq!(of(&[(Some("2"), Some("1"), true)]), (Some(id("2")), None));
    assert_eq!(of(&[(Some("2"), None, false)]), (Some(id("2")), None));
    assert_eq!(
        of(&[(Some("3"), Some("ff"), true)]),
        (None, Some(vec![link(other, "3")]))
    );
    assert_eq!(
        of(&[(Some("0000000000000000"), Some("1"), true)]),
        (None, None)
    );
    assert_eq!(of(&[(None, Some("1"), true)]), (None, None));
    // Together: CHILD_OF in the trace wins over FOLLOWS_FROM; the rest are
    // links, each once.
    assert_eq!(
        of(&[
            (Some("5"), Some("1"), false),
            (Some("3"), Some("ff"), true),
            (Some("2"), Some("1"), true),
            (Some("3"), Some("ff"), true),
        ]),
        (Some(id("2")), Some(vec![link(own, "5"), link(other, "3")]))
    );
}
