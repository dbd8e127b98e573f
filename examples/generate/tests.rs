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

use critpath_gen::scenarios::{self, Scenario};
use critpath_gen::trace::{MS, Trace};
use critpath_gen::writers::{Format, write_all};
use critpath_gen::{fixtures, integrity, queues};

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
                pieces: None,
                line_ends: None,
            },
            &mut sink,
        )
        .unwrap();
    // The spans as their traces hold them: Zipkin's shared halves are told
    // apart when a trace is built.
    let quality = sink.quality.clone();
    let set = TraceSet::build(sink.spans, strings, quality);
    let keys = set
        .traces
        .iter()
        .flat_map(|t| t.spans.iter().map(move |s| (t.id, s)))
        .map(|(trace, s)| {
            (
                trace.0,
                s.span_id.0,
                s.parent_id.map(|p| p.0),
                s.start,
                s.end,
                set.strings.resolve(s.service).to_string(),
                s.kind as u8,
            )
        })
        .collect();
    (keys, set)
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
    fixtures::write_tree(a.path()).unwrap();
    fixtures::write_tree(b.path()).unwrap();
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

/// The queue scenario in every format: the spans come back as generated
/// (Zipkin's server halves with derived ids, X-Ray's kinds as X-Ray has
/// them), producers and consumers with their kinds and messaging
/// attributes, each delivery linked to (or, without links, under) the
/// PRODUCER span of its message.
#[test]
fn queues_read_back_with_kinds_messaging_and_links() {
    use critpath::model::Status;

    let q = queues::queues();
    let orders = q.orders.len();
    let deliveries: usize = q.orders.iter().map(|o| o.deliveries.len()).sum();
    let spans = 3 * (orders + deliveries);
    // Producer of each message, by span id; each delivery's consumer.
    let producer_of: std::collections::HashMap<u64, (u128, u64)> = q
        .orders
        .iter()
        .flat_map(|o| {
            o.deliveries
                .iter()
                .map(move |d| (d.consumer, (o.trace, o.producer)))
        })
        .collect();
    let failed: BTreeSet<u64> = q
        .orders
        .iter()
        .flat_map(|o| &o.deliveries)
        .filter(|d| d.failed)
        .map(|d| d.consumer)
        .collect();
    assert_eq!(failed.len(), queues::REDELIVERED.len());

    for format in Format::ALL {
        let name = format.name();
        let traces = q.traces(format);
        let theirs = match format {
            Format::OtlpJson => ingest::Format::OtlpJson,
            Format::OtlpProto => ingest::Format::OtlpProto,
            Format::Jaeger => ingest::Format::Jaeger,
            Format::Sentry => ingest::Format::Sentry,
            Format::Zipkin => ingest::Format::Zipkin,
            Format::Xray => ingest::Format::Xray,
        };
        let (got, set) = read_back(theirs, &bytes(format, traces));
        assert_eq!(got.len(), spans, "{name}");
        // X-Ray knows servers, clients and local work only; Zipkin's
        // server halves read back with derived ids.
        let xray = format == Format::Xray;
        let as_read = |kind: SpanKind| match (xray, kind) {
            (true, SpanKind::Producer) => SpanKind::Client,
            (true, SpanKind::Consumer) => SpanKind::Server,
            (_, kind) => kind,
        };
        let comparable = |keys: BTreeSet<Key>| -> BTreeSet<Key> {
            keys.into_iter()
                .map(|mut k| {
                    let server = k.6 == SpanKind::Server as u8;
                    if format == Format::Zipkin && server && k.5 == "aaa-api" {
                        k.1 = 0;
                    }
                    if xray && k.6 == SpanKind::Producer as u8 {
                        k.6 = SpanKind::Client as u8;
                    } else if xray && k.6 == SpanKind::Consumer as u8 {
                        k.6 = SpanKind::Server as u8;
                    }
                    k
                })
                .collect()
        };
        assert_eq!(comparable(got), comparable(generated(traces)), "{name}");
        assert_eq!(set.traces.len(), traces.len(), "{name}");
        // A consumer under its producer ends after it: how queues work, so
        // not counted, except in X-Ray, whose spans have no kinds to say so.
        let late = if xray { deliveries as u64 } else { 0 };
        let mut quality = set.quality.clone();
        assert_eq!(quality.child_ends_after_parent, late, "{name}");
        quality.child_ends_after_parent = 0;
        quality.span_examples.clear();
        assert_eq!(quality, Quality::default(), "{name}");

        let text = |sym: Option<critpath::model::Sym>| sym.map(|s| set.strings.resolve(s));
        let (mut producers, mut consumers, mut errors) = (0, 0, BTreeSet::new());
        for trace in &set.traces {
            for s in &trace.spans {
                let attrs = s.attrs(&set.strings).clone();
                let service = set.strings.resolve(s.service);
                let producer = service == "order-api" && s.parent_id.is_some() && {
                    let parent = trace.spans.iter().find(|p| Some(p.span_id) == s.parent_id);
                    attrs.db_system.is_none() && parent.is_some_and(|p| p.parent_id.is_none())
                };
                let consumer = producer_of.get(&s.span_id.0);
                if producer {
                    producers += 1;
                    assert_eq!(s.kind, as_read(SpanKind::Producer), "{name}");
                } else if let Some(&(trace_id, producer)) = consumer {
                    consumers += 1;
                    if s.status == Status::Error {
                        errors.insert(s.span_id.0);
                    }
                    assert_eq!(s.kind, as_read(SpanKind::Consumer), "{name}");
                    // An X-Ray segment is named after its service.
                    let want = if xray {
                        service
                    } else {
                        "notifications process"
                    };
                    assert_eq!(set.strings.resolve(s.name), want, "{name}");
                    let links: Vec<(u128, u64)> = s
                        .links
                        .iter()
                        .flat_map(|l| l.iter())
                        .map(|l| (l.trace_id.0, l.span_id.0))
                        .collect();
                    if format.carries_links() {
                        assert_eq!(s.parent_id, None, "{name}: a root of its own trace");
                        assert_eq!(links, [(trace_id, producer)], "{name}");
                    } else {
                        assert!(links.is_empty(), "{name}");
                        assert_eq!(trace.id.0, trace_id, "{name}");
                        assert_eq!(s.parent_id.map(|p| p.0), Some(producer), "{name}");
                    }
                } else {
                    assert!(
                        !matches!(s.kind, SpanKind::Producer | SpanKind::Consumer),
                        "{name}"
                    );
                    continue;
                }
                // X-Ray keeps no messaging attributes (see the README).
                if !xray {
                    let operation = if producer { "publish" } else { "process" };
                    assert_eq!(text(attrs.messaging_system), Some("rabbitmq"), "{name}");
                    assert_eq!(
                        text(attrs.messaging_destination),
                        Some("notifications"),
                        "{name}"
                    );
                    assert_eq!(text(attrs.messaging_operation), Some(operation), "{name}");
                }
            }
        }
        assert_eq!((producers, consumers), (orders, deliveries), "{name}");
        assert_eq!(
            errors, failed,
            "{name}: the first of each redelivery failed"
        );
    }
}

/// The queue scenario's story: ~50 ms between publish and process, seconds
/// while aaa-api is slow, ~50 ms again after; four messages delivered
/// twice, the first time failing; every file small.
#[test]
fn queues_back_up_while_aaa_api_is_slow() {
    let q = queues::queues();
    assert!((40..=50).contains(&q.orders.len()), "{}", q.orders.len());
    let mut waits: Vec<(i64, i64)> = q
        .orders
        .iter()
        .flat_map(|o| {
            o.deliveries
                .iter()
                .map(|d| (d.start, d.start - o.published))
        })
        .collect();
    waits.sort();
    let (slow_from, slow_to) = queues::SLOW;
    for &(start, wait) in &waits {
        if start < slow_from + 20_000 * MS || start > slow_to + 30_000 * MS {
            assert!(wait < 300 * MS, "{wait} ns at {start}");
        }
    }
    let backlog: Vec<i64> = waits
        .iter()
        .filter(|(_, w)| *w > 1_000 * MS)
        .map(|&(s, _)| s)
        .collect();
    assert!(backlog.len() >= 10, "{}", backlog.len());
    let max = waits.iter().map(|&(_, w)| w).max().unwrap();
    assert!((5_000 * MS..10_000 * MS).contains(&max), "{max}");
    assert!(backlog[0] >= slow_from && *backlog.last().unwrap() <= slow_to + 30_000 * MS);
    let twice: Vec<&queues::Order> = q
        .orders
        .iter()
        .filter(|o| o.deliveries.len() == 2)
        .collect();
    assert_eq!(twice.len(), queues::REDELIVERED.len());
    assert!(q.orders.iter().all(|o| o.deliveries.len() <= 2));
    for o in twice {
        assert!(o.deliveries[0].failed && !o.deliveries[1].failed);
        assert!(o.deliveries[0].start < o.deliveries[1].start);
    }
    assert!(
        q.orders
            .iter()
            .flat_map(|o| &o.deliveries)
            .filter(|d| d.failed)
            .count()
            == queues::REDELIVERED.len()
    );
    for format in Format::ALL {
        let size = bytes(format, q.traces(format)).len();
        assert!(size < 310_000, "{}: {size} bytes", format.name());
    }
}
