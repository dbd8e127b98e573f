//! Every writer's output read back: Jaeger and Sentry through critpath's
//! own readers (spans must come back exactly as generated), OTLP protobuf
//! through prost, OTLP/JSON checked against the encoding rules. And the
//! whole fixture tree is byte-identical run to run.

use std::collections::BTreeSet;

use critpath::ingest::{self, Input, Sink};
use critpath::model::{Interner, Quality, SpanKind, TraceSet};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use serde_json::Value;

use super::{Format, write_all};
use crate::integrity;
use crate::scenarios::{self, Scenario};
use crate::trace::Trace;

/// What must survive a round trip: ids, parent, times, service, kind.
type Key = (u128, u64, Option<u64>, i64, i64, String, u8);

fn generated(traces: &[Trace]) -> BTreeSet<Key> {
    traces
        .iter()
        .flat_map(|t| {
            t.spans.iter().map(move |s| {
                (
                    t.id,
                    s.id,
                    s.parent,
                    s.start,
                    s.end,
                    s.service.to_string(),
                    SpanKind::from_otlp(s.kind as i64) as u8,
                )
            })
        })
        .collect()
}

/// Reads `bytes` with the reader critpath's sniffing picks, which must be
/// `format`'s.
fn read_back(format: ingest::Format, bytes: &[u8]) -> (BTreeSet<Key>, TraceSet) {
    let reader = ingest::detect(bytes, None).expect("sniffed");
    assert_eq!(reader.format(), format);
    let strings = Interner::new();
    let mut sink = Sink::new("generated", &strings);
    reader
        .read(
            &Input {
                name: "generated",
                bytes,
                window: false,
            },
            &mut sink,
        )
        .unwrap();
    let keys = sink
        .spans
        .iter()
        .map(|s| {
            (
                s.trace_id.0,
                s.span_id.0,
                s.parent_id.map(|p| p.0),
                s.start,
                s.end,
                strings.resolve(s.service).to_string(),
                s.kind as u8,
            )
        })
        .collect();
    let quality = sink.quality.clone();
    (keys, TraceSet::build(sink.spans, strings, quality))
}

fn bytes(format: Format, traces: &[Trace]) -> Vec<u8> {
    let mut out = Vec::new();
    write_all(format, traces, 5, &mut out).unwrap();
    out
}

#[test]
fn jaeger_and_sentry_read_back_exactly() {
    for Scenario { name, traces } in scenarios::all() {
        let want = generated(&traces);
        for (format, theirs) in [
            (Format::Jaeger, ingest::Format::Jaeger),
            (Format::Sentry, ingest::Format::Sentry),
        ] {
            let (got, set) = read_back(theirs, &bytes(format, &traces));
            assert_eq!(got, want, "{name} as {}", format.name());
            assert_eq!(set.traces.len(), traces.len(), "{name}");
            assert_eq!(
                set.quality,
                Quality::default(),
                "{name} as {}",
                format.name()
            );
        }
    }
}

#[test]
fn otlp_proto_is_length_prefixed_requests_of_the_same_spans() {
    let traces = &scenarios::all()[0].traces;
    let out = bytes(Format::OtlpProto, traces);
    let mut rest = &out[..];
    let (mut requests, mut spans) = (0, BTreeSet::new());
    while !rest.is_empty() {
        let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        let request = ExportTraceServiceRequest::decode(&rest[4..4 + len]).unwrap();
        for r in &request.resource_spans {
            let attrs = &r.resource.as_ref().unwrap().attributes;
            assert_eq!(attrs[0].key, "service.name");
            for s in r.scope_spans.iter().flat_map(|s| &s.spans) {
                let id = u64::from_be_bytes(s.span_id[..].try_into().unwrap());
                spans.insert((s.trace_id.clone(), id, s.start_time_unix_nano));
            }
        }
        rest = &rest[4 + len..];
        requests += 1;
    }
    assert_eq!(requests, traces.len().div_ceil(5));
    let want: BTreeSet<_> = traces
        .iter()
        .flat_map(|t| {
            t.spans
                .iter()
                .map(|s| (t.id.to_be_bytes().to_vec(), s.id, s.start as u64))
        })
        .collect();
    assert_eq!(spans, want);
}

#[test]
fn otlp_json_follows_the_encoding_rules() {
    let traces = &scenarios::all()[0].traces;
    let out = bytes(Format::OtlpJson, traces);
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), traces.len().div_ceil(5));
    let mut count = 0;
    for line in lines {
        let request: Value = serde_json::from_str(line).unwrap();
        for r in request["resourceSpans"].as_array().unwrap() {
            assert_eq!(r["resource"]["attributes"][0]["key"], "service.name");
            assert!(r["resource"]["attributes"][0]["value"]["stringValue"].is_string());
            let scopes = r["scopeSpans"].as_array().unwrap();
            for s in scopes.iter().flat_map(|sc| sc["spans"].as_array().unwrap()) {
                let id = s["traceId"].as_str().unwrap();
                assert_eq!(id.len(), 32);
                assert!(
                    id.bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                );
                assert_eq!(s["spanId"].as_str().unwrap().len(), 16);
                assert!(s["startTimeUnixNano"].is_string() && s["endTimeUnixNano"].is_string());
                assert!((1..=5).contains(&s["kind"].as_i64().unwrap()));
                assert!(s["status"].is_object());
                count += 1;
            }
        }
    }
    assert_eq!(count, generated(traces).len());
    let roots = text.matches("\"kind\":5").count();
    assert_eq!(roots, traces.len(), "one CONSUMER root per trace");
    assert_eq!(
        text.matches("\"parentSpanId\"").count(),
        generated(traces).len() - traces.len()
    );
}

#[test]
fn sentry_has_one_transaction_per_service_entry() {
    let traces = &scenarios::all()[0].traces; // cascade
    let text = String::from_utf8(bytes(Format::Sentry, &traces[..1])).unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let projects: Vec<&str> = events
        .iter()
        .map(|e| e["project"].as_str().unwrap())
        .collect();
    assert_eq!(
        projects,
        ["notification-sender", "intel-requests-api", "aaa-api"]
    );
    // Each hop's transaction hangs off the calling span in the caller's event.
    for pair in events.windows(2) {
        let parent = pair[1]["contexts"]["trace"]["parent_span_id"]
            .as_str()
            .unwrap();
        let caller = pair[0]["spans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["span_id"] == parent)
            .expect("the calling span is in the caller's event");
        assert_eq!(caller["op"], "http.client");
        assert!(caller["description"].as_str().unwrap().contains("https://"));
    }
    assert!(
        events[0]["contexts"]["trace"]
            .get("parent_span_id")
            .is_none()
    );
    let db = events[2]["spans"][0].clone();
    assert_eq!(db["op"], "db");
    assert!(db["description"].as_str().unwrap().starts_with("SELECT"));
}

#[test]
fn integrity_cases_count_what_they_break() {
    // Read through critpath's Jaeger reader (the OTLP one is separate
    // work). Counts: unparsable, missing parent, duplicate, cycle, several
    // roots, starts before parent, ends after parent, zero, negative.
    let expect: &[(&str, [u64; 9])] = &[
        ("missing_parent.json", [0, 1, 0, 0, 0, 0, 0, 0, 0]),
        ("duplicate_span_id.json", [0, 0, 1, 0, 0, 0, 0, 0, 0]),
        // Breaking the cycle makes the earlier query a second root, which
        // the later one (its child now) outlives.
        ("parent_cycle.json", [0, 0, 0, 1, 1, 0, 1, 0, 0]),
        ("several_roots.json", [0, 0, 0, 0, 1, 0, 0, 0, 0]),
        (
            "child_starts_before_parent.json",
            [0, 0, 0, 0, 0, 1, 0, 0, 0],
        ),
        ("child_ends_after_parent.json", [0, 0, 0, 0, 0, 0, 1, 0, 0]),
        ("zero_duration.json", [0, 0, 0, 0, 0, 0, 0, 1, 0]),
        ("negative_duration.json", [0, 0, 0, 0, 0, 0, 0, 0, 1]),
        ("malformed_span.json", [1, 0, 0, 0, 0, 0, 0, 0, 0]),
    ];
    let cases = integrity::traces();
    assert_eq!(cases.len(), expect.len());
    for ((file, trace), (want_file, want)) in cases.iter().zip(expect) {
        assert_eq!(file, want_file);
        let (_, set) = read_back(
            ingest::Format::Jaeger,
            &bytes(Format::Jaeger, std::slice::from_ref(trace)),
        );
        let q = &set.quality;
        let got = [
            q.unparsable_records,
            q.missing_parent,
            q.duplicate_spans,
            q.parent_cycles,
            q.multi_root_traces,
            q.child_starts_before_parent,
            q.child_ends_after_parent,
            q.zero_duration,
            q.negative_duration,
        ];
        assert_eq!(&got, want, "{file}");
    }
}

#[test]
fn the_fixture_tree_is_the_same_every_run() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    crate::fixtures::write_tree(a.path()).unwrap();
    crate::fixtures::write_tree(b.path()).unwrap();
    let files = |root: &std::path::Path| {
        let mut out = Vec::new();
        for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
            let entry = entry.unwrap();
            if entry.file_type().is_file() {
                let rel = entry.path().strip_prefix(root).unwrap().to_path_buf();
                out.push((rel, std::fs::read(entry.path()).unwrap()));
            }
        }
        out
    };
    let (fa, fb) = (files(a.path()), files(b.path()));
    assert!(fa.len() >= 30, "{}", fa.len());
    assert!(fa == fb, "two runs differ");
}
