//! OTLP/protobuf reader tests: the oracle requests (which must read exactly
//! as their JSON twins), the file exporter's framing, and damaged input.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1 as otlp;
use prost::Message;

use super::*;
use crate::ingest::otlp::json::OtlpJsonReader;
use crate::ingest::test_support::{self, read_with};
use crate::model::{Interner, Quality, SpanId, SpanKind, Status, TracedSpan};

fn read(strings: &Interner, bytes: &[u8]) -> Result<(Vec<TracedSpan>, Quality), ReadError> {
    read_with(&OtlpProtoReader, strings, bytes)
}

fn oracle(relative: &str) -> Vec<u8> {
    test_support::oracle(&format!("otlp/{relative}"))
}

/// `messages` in the file exporter's framing.
fn framed(messages: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for message in messages {
        out.extend_from_slice(&(message.len() as u32).to_be_bytes());
        out.extend_from_slice(message);
    }
    out
}

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn otlp_span(span_id: u64, parent: Option<u64>) -> otlp::Span {
    otlp::Span {
        trace_id: 0x5b8e_u128.to_be_bytes().to_vec(),
        span_id: span_id.to_be_bytes().to_vec(),
        parent_span_id: parent.map_or_else(Vec::new, |p| p.to_be_bytes().to_vec()),
        name: format!("op-{span_id}"),
        kind: otlp::span::SpanKind::Client as i32,
        start_time_unix_nano: 1_000 * span_id,
        end_time_unix_nano: 1_000 * span_id + 500,
        attributes: vec![
            kv(
                "db.system",
                any_value::Value::StringValue("postgresql".into()),
            ),
            kv("ignored", any_value::Value::IntValue(7)),
        ],
        events: vec![otlp::span::Event {
            time_unix_nano: 5,
            name: "event".into(),
            ..Default::default()
        }],
        status: Some(otlp::Status {
            message: "boom".into(),
            code: otlp::status::StatusCode::Error as i32,
        }),
        ..Default::default()
    }
}

fn request(service: &str, spans: Vec<otlp::Span>) -> Vec<u8> {
    ExportTraceServiceRequest {
        resource_spans: vec![otlp::ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv(
                    "service.name",
                    any_value::Value::StringValue(service.into()),
                )],
                ..Default::default()
            }),
            scope_spans: vec![otlp::ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

#[test]
fn binary_oracles_read_exactly_as_their_json_twins() {
    for name in ["spec-example", "jaeger-memory-otel_traces_01"] {
        let strings = Interner::new();
        let binary = oracle(&format!("{name}.binpb"));
        assert!(OtlpProtoReader.sniff(&binary), "{name}");
        let (from_proto, quality) = read(&strings, &binary).unwrap();
        assert_eq!(quality.unparsable_records, 0, "{name}");
        let (from_json, _) =
            read_with(&OtlpJsonReader, &strings, &oracle(&format!("{name}.json"))).unwrap();
        assert!(!from_proto.is_empty());
        // The same content; where each was read (byte vs line) differs.
        let content = |mut spans: Vec<TracedSpan>| {
            for read in &mut spans {
                read.span.origin = crate::model::Origin::UNKNOWN;
            }
            spans
        };
        assert_eq!(content(from_proto), content(from_json), "{name}");
    }
}

#[test]
fn spec_example_binary_values() {
    let strings = Interner::new();
    let (spans, _) = read(&strings, &oracle("spec-example.binpb")).unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].span.span_id.to_string(), "eee19b7ec3c1b174");
    assert_eq!(spans[0].span.start, 1_544_712_660_000_000_000);
    assert_eq!(strings.resolve(spans[0].span.service), "my.service");
}

#[test]
fn a_framed_file_of_three_messages_reads_in_order() {
    let strings = Interner::new();
    let messages = [
        request("a", vec![otlp_span(1, None)]),
        request("b", vec![otlp_span(2, Some(1)), otlp_span(3, Some(1))]),
        request("c", vec![otlp_span(4, Some(3))]),
    ];
    let file = framed(&[&messages[0], &messages[1], &messages[2]]);
    assert!(OtlpProtoReader.sniff(&file));
    assert!(!OtlpJsonReader.sniff(&file));
    let (spans, quality) = read(&strings, &file).unwrap();
    assert_eq!(quality.unparsable_records, 0);
    let ids: Vec<u64> = spans.iter().map(|s| s.span.span_id.0).collect();
    assert_eq!(ids, [1, 2, 3, 4]);
    let services: Vec<&str> = spans
        .iter()
        .map(|s| strings.resolve(s.span.service))
        .collect();
    assert_eq!(services, ["a", "b", "b", "c"]);
    let s = &spans[1];
    assert_eq!(s.span.parent_id, Some(SpanId(1)));
    assert_eq!((s.span.start, s.span.end), (2_000, 2_500));
    assert_eq!(s.span.kind, SpanKind::Client);
    assert_eq!(s.span.status, Status::Error);
    assert_eq!(strings.resolve(s.span.name), "op-2");
    assert_eq!(
        s.span.attrs(&strings).db_system.map(|d| strings.resolve(d)),
        Some("postgresql")
    );
    assert_eq!(spans[0].span.parent_id, None);
}

#[test]
fn a_truncated_frame_is_counted_at_its_offset() {
    let strings = Interner::new();
    let one = request("a", vec![otlp_span(1, None)]);
    let two = request("b", vec![otlp_span(2, None)]);
    let mut file = framed(&[&one, &two]);
    let third_at = file.len() as u64;
    file.extend_from_slice(&framed(&[&one])[..10]);
    let (spans, quality) = read(&strings, &file).unwrap();
    assert_eq!(spans.len(), 2);
    assert_eq!(quality.unparsable_records, 1);
    assert_eq!(quality.examples[0].location, Location::Byte(third_at));
    assert!(quality.examples[0].message.contains("truncated frame"));

    // A header cut short is counted the same way.
    let mut file = framed(&[&one]);
    file.extend_from_slice(&[0, 0]);
    let (spans, quality) = read(&strings, &file).unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(
        quality.examples[0].location,
        Location::Byte(4 + one.len() as u64)
    );
}

#[test]
fn a_damaged_resource_spans_entry_loses_only_itself() {
    let strings = Interner::new();
    let good = request("a", vec![otlp_span(1, None)]);
    // Entry 2: a resource_spans field whose content is not a ResourceSpans
    // (a field with the invalid wire type 7).
    let mut message = good.clone();
    let bad_at = message.len() as u64;
    message.extend_from_slice(&[0x0a, 0x02, 0x0f, 0x01]);
    message.extend_from_slice(&good);
    let file = framed(&[&message]);
    let (spans, quality) = read(&strings, &file).unwrap();
    assert_eq!(spans.len(), 2);
    assert_eq!(quality.unparsable_records, 1);
    assert_eq!(quality.examples[0].location, Location::Byte(4 + bad_at));
    assert!(quality.examples[0].message.contains("ResourceSpans"));
}

#[test]
fn spans_without_ids_or_times_are_skipped_and_counted() {
    let strings = Interner::new();
    let mut no_trace = otlp_span(2, None);
    no_trace.trace_id.clear();
    let mut short_id = otlp_span(3, None);
    short_id.span_id.truncate(4);
    let mut no_end = otlp_span(4, None);
    no_end.end_time_unix_nano = 0;
    let message = request("a", vec![otlp_span(1, None), no_trace, short_id, no_end]);
    let (spans, quality) = read(&strings, &message).unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(quality.unparsable_records, 3);
    assert!(
        quality
            .examples
            .iter()
            .all(|p| p.location == Location::Byte(0))
    );
    assert!(quality.examples[0].message.contains("spans[1]"));
    assert!(quality.examples[0].message.contains("trace_id"));
    assert!(quality.examples[1].message.contains("span_id"));
    assert!(quality.examples[2].message.contains("endTimeUnixNano"));
}

#[test]
fn legacy_instrumentation_library_spans_are_read() {
    let strings = Interner::new();
    let scope = otlp::ScopeSpans {
        spans: vec![otlp_span(9, None)],
        ..Default::default()
    }
    .encode_to_vec();
    // ResourceSpans { instrumentation_library_spans (field 1000) = scope }.
    let mut resource_spans = vec![0xc2, 0x3e];
    prost::encode_length_delimiter(scope.len(), &mut resource_spans).unwrap();
    resource_spans.extend_from_slice(&scope);
    let mut message = vec![RESOURCE_SPANS_KEY];
    prost::encode_length_delimiter(resource_spans.len(), &mut message).unwrap();
    message.extend_from_slice(&resource_spans);
    assert!(OtlpProtoReader.sniff(&message));
    let (spans, _) = read(&strings, &message).unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].span.span_id, SpanId(9));
    assert_eq!(strings.resolve(spans[0].span.service), common::UNKNOWN);
}

#[test]
fn zstd_compressed_frames_of_proto_or_json_are_read() {
    let strings = Interner::new();
    let proto = zstd::stream::encode_all(&request("a", vec![otlp_span(1, None)])[..], 1).unwrap();
    let json = zstd::stream::encode_all(&oracle("spec-example.json")[..], 1).unwrap();
    let broken = &proto[..proto.len() - 3];
    let file = framed(&[&proto, &json, broken]);
    assert!(OtlpProtoReader.sniff(&file));
    let (spans, quality) = read(&strings, &file).unwrap();
    assert_eq!(spans.len(), 2);
    assert_eq!(strings.resolve(spans[1].span.service), "my.service");
    assert_eq!(quality.unparsable_records, 1);
    let broken_at = (8 + proto.len() + json.len()) as u64;
    assert_eq!(quality.examples[0].location, Location::Byte(broken_at));
}

#[test]
fn invalid_utf8_names_are_replaced_not_fatal() {
    let strings = Interner::new();
    let message = request("a", vec![otlp_span(1, None)]);
    let at = memchr::memmem::find(&message, b"op-1").unwrap();
    let mut damaged = message.clone();
    damaged[at] = 0xff;
    let (spans, _) = read(&strings, &damaged).unwrap();
    assert_eq!(strings.resolve(spans[0].span.name), "\u{fffd}p-1");
}

#[test]
fn sniff_is_conservative() {
    let message = request("a", vec![otlp_span(1, None)]);
    assert!(OtlpProtoReader.sniff(&message));
    assert!(OtlpProtoReader.sniff(&framed(&[&message])));
    for other in [
        &b""[..],
        b"{\"resourceSpans\":[]}",
        b"hello world, this is text",
        b"\x0a\x05\x0a",
        b"\x0a\x02\x99\x99",
        b"\n\n\n\n\n\n\nthree blank lines and text",
        b"\x0a\x04\x12\x09\x0a\x00",
        b"\x00\x00\x00\x09\x0a\x02",
        b"\x1f\x8b\x08\x00",
        &oracle("spec-example.json"),
    ] {
        assert!(!OtlpProtoReader.sniff(other), "{other:?}");
    }
}

#[test]
fn damaged_input_is_an_error_or_a_count_never_a_panic() {
    let strings = Interner::new();
    let binary = oracle("jaeger-memory-otel_traces_01.binpb");
    let file = framed(&[&binary, &binary]);
    for input in [&binary, &file] {
        for end in 0..input.len() {
            let _ = read(&strings, &input[..end]);
        }
        for at in 0..input.len() {
            let mut flipped = input.clone();
            flipped[at] ^= 0xa5;
            let _ = read(&strings, &flipped);
        }
    }
    let err = read(&strings, b"not protobuf at all").unwrap_err();
    assert!(err.message.contains("ExportTraceServiceRequest"));
    assert!(read(&strings, b"").is_err());
    assert!(read(&strings, &binary[..binary.len() / 2]).is_err());
}

#[test]
fn an_empty_frame_is_an_empty_request() {
    let strings = Interner::new();
    let (spans, quality) = read(&strings, &[0, 0, 0, 0]).unwrap();
    assert!(spans.is_empty());
    assert_eq!(quality.unparsable_records, 0);
}
