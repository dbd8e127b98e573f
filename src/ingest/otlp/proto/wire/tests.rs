//! The wire walker against its reference, prost decoding through the lean
//! schema of `model`: on the fixtures and oracles, on random requests
//! built with opentelemetry-proto and then reshuffled on the wire, and on
//! damaged or arbitrary bytes, both must read the same spans, skip the same
//! spans for the same reasons, and reject the same messages.

use std::path::Path;

use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1 as otlp;
use proptest::collection::vec;
use proptest::prelude::*;
use prost::Message;
use prost::encoding::{decode_varint, encode_varint};

use super::super::{Frame, Payload, Unit, model, split_frames};
use super::*;
use crate::model::TracedSpan;

type Read = Result<(Vec<TracedSpan>, Vec<String>), String>;

fn walked(strings: &Interner, bytes: &[u8]) -> Read {
    let mut spans = Vec::new();
    match read_resource_spans(bytes, strings, &mut spans) {
        Ok(skipped) => Ok((spans, skipped)),
        Err(err) => {
            assert!(spans.is_empty(), "spans left behind by: {err}");
            Err(err.to_string())
        }
    }
}

fn decoded(strings: &Interner, bytes: &[u8]) -> Read {
    let mut spans = Vec::new();
    model::read_resource_spans(bytes, strings, &mut spans)
        .map(|skipped| (spans, skipped))
        .map_err(|err| err.to_string())
}

/// Whether the walker reads `bytes` as prost does: the same spans and
/// skipped spans, or an error from both. Symbols compare equal because
/// both intern into one table.
fn disagreement(bytes: &[u8]) -> Option<String> {
    let strings = Interner::new();
    let (walked, decoded) = (walked(&strings, bytes), decoded(&strings, bytes));
    match (&walked, &decoded) {
        (Ok(a), Ok(b)) if a == b => None,
        (Err(_), Err(_)) => None,
        _ => Some(format!(
            "bytes {bytes:02x?}\nwalker: {walked:?}\nprost:  {decoded:?}"
        )),
    }
}

#[track_caller]
fn assert_agree(bytes: &[u8]) {
    if let Some(why) = disagreement(bytes) {
        panic!("{why}");
    }
}

/// The `ResourceSpans` entries of an input file, split as the reader does.
fn entries(file: &[u8]) -> Vec<Vec<u8>> {
    let (frames, cut) = split_frames(file);
    let framed = match &cut {
        None => !frames.is_empty(),
        Some(_) => file[0] == 0,
    };
    let payloads: Vec<Payload<'_>> = if framed {
        frames.iter().map(Frame::payload).collect()
    } else {
        vec![Payload::Plain {
            offset: 0,
            bytes: file,
            framed: false,
        }]
    };
    let mut units = Vec::new();
    for payload in &payloads {
        payload.units(&mut units);
    }
    units
        .iter()
        .filter_map(|unit| match unit {
            Unit::Proto { bytes, .. } => Some(bytes.to_vec()),
            _ => None,
        })
        .collect()
}

fn binpb_files(dir: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "binpb"))
        .map(|path| (path.display().to_string(), std::fs::read(&path).unwrap()))
        .collect();
    files.sort();
    files
}

#[test]
fn fixtures_and_oracles_read_as_prost_reads_them() {
    let files = [
        binpb_files("fixtures/otlp-proto"),
        binpb_files("tests/oracles/otlp"),
    ]
    .concat();
    assert!(files.len() >= 7, "{files:?}");
    for (name, file) in &files {
        let entries = entries(file);
        assert!(!entries.is_empty(), "{name}");
        let strings = Interner::new();
        let mut spans = 0;
        for entry in &entries {
            let read = walked(&strings, entry);
            assert_eq!(read, decoded(&strings, entry), "{name}");
            spans += read.unwrap().0.len();
        }
        assert!(spans > 0, "{name}");
    }
}

#[test]
fn damaged_oracle_entries_fail_or_read_as_with_prost() {
    for (_, file) in binpb_files("tests/oracles/otlp") {
        for entry in entries(&file) {
            for end in 0..entry.len() {
                assert_agree(&entry[..end]);
            }
            for at in 0..entry.len() {
                for mask in [0x01, 0x07, 0x80, 0xa5, 0xff] {
                    let mut damaged = entry.clone();
                    damaged[at] ^= mask;
                    assert_agree(&damaged);
                }
            }
        }
    }
}

fn field_key(field: u32, wire: u8) -> Vec<u8> {
    let mut out = Vec::new();
    encode_varint((u64::from(field) << 3) | u64::from(wire), &mut out);
    out
}

/// Field `field` holding `content`, length-delimited.
fn len_field(field: u32, content: &[u8]) -> Vec<u8> {
    let mut out = field_key(field, LEN);
    encode_varint(content.len() as u64, &mut out);
    out.extend_from_slice(content);
    out
}

/// A group of field `field` nesting `depth` groups in all, innermost
/// holding one varint.
fn groups(field: u32, depth: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..depth {
        out.extend(field_key(field, START_GROUP));
    }
    out.extend([0x08, 0x01]);
    for _ in 0..depth {
        out.extend(field_key(field, END_GROUP));
    }
    out
}

fn one_span() -> otlp::Span {
    otlp::Span {
        trace_id: 7u128.to_be_bytes().to_vec(),
        span_id: 9u64.to_be_bytes().to_vec(),
        name: "op".into(),
        start_time_unix_nano: 10,
        end_time_unix_nano: 20,
        attributes: vec![KeyValue {
            key: "db.system".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue("pg".into())),
            }),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn service_resource(service: &str) -> Vec<u8> {
    Resource {
        attributes: vec![KeyValue {
            key: "service.name".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(service.into())),
            }),
            ..Default::default()
        }],
        ..Default::default()
    }
    .encode_to_vec()
}

fn scope_of(spans: Vec<otlp::Span>) -> Vec<u8> {
    otlp::ScopeSpans {
        spans,
        ..Default::default()
    }
    .encode_to_vec()
}

#[test]
fn varints_decode_as_prost_decodes_them() {
    let cases: &[&[u8]] = &[
        &[],
        &[0],
        &[0x7f],
        &[0x80],
        &[0x80, 0x00],
        &[0xff, 0x01],
        &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        &[
            0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
        ],
        &[0xff, 0xff, 0xff],
    ];
    for &case in cases {
        check_varint(case);
    }
}

fn check_varint(bytes: &[u8]) {
    let (mut ours, mut theirs) = (bytes, bytes);
    let a = varint(&mut ours).ok();
    let b = decode_varint(&mut theirs).ok();
    assert_eq!(a, b, "{bytes:02x?}");
    if a.is_some() {
        assert_eq!(ours.len(), theirs.len(), "{bytes:02x?}");
    }
}

#[test]
fn the_resource_may_follow_the_spans_and_merges_when_repeated() {
    let strings = Interner::new();
    let scope = len_field(2, &scope_of(vec![one_span()]));
    let service = |read: Read| strings.resolve(read.unwrap().0[0].span.service).to_string();

    let after = [scope.clone(), len_field(1, &service_resource("late"))].concat();
    assert_eq!(service(walked(&strings, &after)), "late");
    assert_agree(&after);

    // Repeated resources merge their attributes: the first service.name
    // wins, even when it is in a later occurrence.
    let nameless = Resource::default().encode_to_vec();
    let twice = [
        len_field(1, &nameless),
        scope.clone(),
        len_field(1, &service_resource("second")),
        len_field(1, &service_resource("third")),
    ]
    .concat();
    assert_eq!(service(walked(&strings, &twice)), "second");
    assert_agree(&twice);
}

#[test]
fn scope_spans_come_before_legacy_spans_wherever_they_are() {
    let strings = Interner::new();
    let mut legacy = one_span();
    legacy.span_id = 1u64.to_be_bytes().to_vec();
    let message = [
        len_field(LIBRARY_SPANS, &scope_of(vec![legacy])),
        len_field(SCOPE_SPANS, &scope_of(vec![one_span()])),
    ]
    .concat();
    let (spans, _) = walked(&strings, &message).unwrap();
    let ids: Vec<u64> = spans.iter().map(|s| s.span.span_id.0).collect();
    assert_eq!(ids, [9, 1]);
    assert_agree(&message);
}

#[test]
fn later_scalars_win_and_statuses_merge() {
    let strings = Interner::new();
    let span = [
        one_span().encode_to_vec(),
        len_field(5, b"renamed"),
        len_field(15, &[0x18, 0x02]),
        // A second status without a code keeps the first one's.
        len_field(15, &[0x12, 0x01, b'x']),
        vec![0x30, 0x02],
    ]
    .concat();
    let message = len_field(2, &len_field(2, &span));
    let (spans, _) = walked(&strings, &message).unwrap();
    assert_eq!(strings.resolve(spans[0].span.name), "renamed");
    assert_eq!(spans[0].span.status, crate::model::Status::Error);
    assert_eq!(spans[0].span.kind, SpanKind::Server);
    assert_agree(&message);
}

#[test]
fn unknown_fields_of_every_wire_type_are_skipped() {
    let unknown = [
        vec![0xa8, 0x01, 0x96, 0x01],             // field 21, varint
        vec![0xa9, 0x01, 1, 2, 3, 4, 5, 6, 7, 8], // field 21, fixed64
        len_field(21, b"anything"),
        vec![0xad, 0x01, 1, 2, 3, 4], // field 21, fixed32
        groups(21, 3),
    ]
    .concat();
    let span = [unknown.clone(), one_span().encode_to_vec(), unknown.clone()].concat();
    let scope = [unknown.clone(), len_field(2, &span)].concat();
    let message = [unknown.clone(), len_field(2, &scope), unknown].concat();
    let strings = Interner::new();
    let (spans, skipped) = walked(&strings, &message).unwrap();
    assert_eq!((spans.len(), skipped.len()), (1, 0));
    assert_agree(&message);
}

#[test]
fn groups_nest_as_deep_as_prost_allows() {
    let span = one_span().encode_to_vec();
    for depth in [1, 50, 93, 94, 95, 96, 97, 98, 99, 100, 101, 150] {
        let top = [len_field(2, &len_field(2, &span)), groups(30, depth)].concat();
        let in_span = len_field(
            2,
            &len_field(2, &[span.clone(), groups(30, depth)].concat()),
        );
        let kv = [len_field(1, b"db.system"), len_field(2, &groups(30, depth))].concat();
        let in_value = len_field(
            2,
            &len_field(2, &[span.clone(), len_field(9, &kv)].concat()),
        );
        for message in [top, in_span, in_value] {
            assert_agree(&message);
        }
    }
    // The walker's limit is prost's, counted from the ResourceSpans down.
    assert!(walked(&Interner::new(), &groups(30, 99)).is_ok());
    assert!(walked(&Interner::new(), &groups(30, 100)).is_err());
}

#[test]
fn malformed_messages_are_errors_that_say_where() {
    let strings = Interner::new();
    let span = one_span().encode_to_vec();
    let cases: [(Vec<u8>, &str); 7] = [
        // Span.kind as a length-delimited field.
        (
            len_field(
                2,
                &len_field(2, &[span.clone(), len_field(6, b"x")].concat()),
            ),
            "field 6 has wire type 2, expected 0 in ResourceSpans.scope_spans[0].spans[0]",
        ),
        // An attribute running past its span.
        (
            len_field(
                2,
                &len_field(2, &[span.clone(), vec![0x4a, 0x05, 0x0a]].concat()),
            ),
            "field 9 needs 5 bytes, 1 remain in ResourceSpans.scope_spans[0].spans[0]",
        ),
        // A string value given as a varint.
        (
            len_field(
                1,
                &len_field(
                    1,
                    &[len_field(1, b"service.name"), len_field(2, &[0x08, 0x01])].concat(),
                ),
            ),
            "field 1 has wire type 0, expected 2 in ResourceSpans.resource.attributes[0].value",
        ),
        (vec![0x0f], "field 1 has the invalid wire type 7"),
        (vec![0x00], "field number 0"),
        (vec![0x0c], "field 1 ends a group that was not started"),
        (vec![0x12, 0x80], "a varint runs past the end"),
    ];
    for (message, expected) in cases {
        let err = walked(&strings, &message).unwrap_err();
        assert_eq!(err, expected);
        assert!(decoded(&strings, &message).is_err(), "{expected}");
    }
}

#[test]
fn a_failed_message_leaves_earlier_spans_alone() {
    let strings = Interner::new();
    let good = len_field(2, &scope_of(vec![one_span()]));
    let mut spans = Vec::new();
    read_resource_spans(&good, &strings, &mut spans).unwrap();
    // The second scope_spans entry is cut short, after the first's span.
    let bad = [good.clone(), len_field(2, &[0x12, 0x05])].concat();
    assert!(read_resource_spans(&bad, &strings, &mut spans).is_err());
    assert_eq!(spans.len(), 1);
}

// Random requests, built as an exporter would, then reshuffled on the wire.

const KEYS: &[&str] = &[
    "service.name",
    "db.system",
    "db.system.name",
    "db.statement",
    "db.query.text",
    "http.method",
    "http.request.method",
    "http.route",
    "url.full",
    "http.url",
    "server.address",
    "net.peer.name",
    "peer.service",
    "messaging.system",
    "messaging.destination",
    "messaging.destination.name",
    "messaging.operation",
    "messaging.operation.type",
    "",
    "temperature",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z./ ]{1,12}",
        "\\PC{0,6}",
        Just("naïve ✓ 😀".to_string()),
    ]
}

fn value() -> impl Strategy<Value = Option<AnyValue>> {
    use any_value::Value as V;
    let scalar = prop_oneof![
        text().prop_map(V::StringValue),
        any::<bool>().prop_map(V::BoolValue),
        prop_oneof![any::<i64>(), 0..200i64, 0..20_000i64].prop_map(V::IntValue),
        prop_oneof![any::<f64>(), Just(f64::NAN), Just(-0.0), Just(72.5)].prop_map(V::DoubleValue),
        vec(any::<u8>(), 0..4).prop_map(V::BytesValue),
        any::<i32>().prop_map(V::StringValueStrindex),
    ];
    let nested = scalar.clone().prop_map(|v| AnyValue { value: Some(v) });
    let value = prop_oneof![
        6 => scalar,
        1 => vec(nested.clone(), 0..3).prop_map(|values| V::ArrayValue(ArrayValue { values })),
        1 => vec(nested, 0..2).prop_map(|values| V::KvlistValue(KeyValueList {
            values: values
                .into_iter()
                .map(|v| KeyValue { key: "k".into(), value: Some(v), ..Default::default() })
                .collect(),
        })),
    ];
    prop_oneof![
        8 => value.prop_map(|v| Some(AnyValue { value: Some(v) })),
        1 => Just(Some(AnyValue { value: None })),
        1 => Just(None),
    ]
}

fn attribute() -> impl Strategy<Value = KeyValue> {
    let key = prop_oneof![4 => prop::sample::select(KEYS).prop_map(String::from), 1 => text()];
    (key, value(), 0..3i32).prop_map(|(key, value, key_strindex)| KeyValue {
        key,
        value,
        key_strindex,
    })
}

fn id(len: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => vec(any::<u8>(), len),
        1 => Just(vec![0; len]),
        1 => Just(Vec::new()),
        1 => vec(any::<u8>(), 0..20),
    ]
}

fn nanos() -> impl Strategy<Value = u64> {
    prop_oneof![
        8 => 1u64..=(1 << 62),
        1 => Just(0),
        1 => Just(u64::MAX),
        1 => any::<u64>(),
    ]
}

fn span() -> impl Strategy<Value = otlp::Span> {
    let ids = (id(16), id(8), prop_oneof![Just(Vec::new()), id(8)]);
    let times = (nanos(), nanos());
    let event = (nanos(), text(), vec(attribute(), 0..2)).prop_map(|(time, name, attributes)| {
        otlp::span::Event {
            time_unix_nano: time,
            name,
            attributes,
            dropped_attributes_count: 1,
        }
    });
    let link = (id(16), id(8), text(), vec(attribute(), 0..2)).prop_map(
        |(trace_id, span_id, trace_state, attributes)| otlp::span::Link {
            trace_id,
            span_id,
            trace_state,
            attributes,
            ..Default::default()
        },
    );
    let status = prop::option::of((text(), prop_oneof![0..3i32, any::<i32>()]))
        .prop_map(|s| s.map(|(message, code)| otlp::Status { message, code }));
    let kind = prop_oneof![0..6i32, any::<i32>()];
    let extras = (vec(event, 0..2), text(), any::<u32>(), any::<u32>());
    (
        ids,
        times,
        text(),
        kind,
        vec(attribute(), 0..6),
        vec(link, 0..3),
        status,
        extras,
    )
        .prop_map(
            |(
                (trace_id, span_id, parent_span_id),
                (start, end),
                name,
                kind,
                attributes,
                links,
                status,
                (events, trace_state, flags, dropped),
            )| otlp::Span {
                trace_id,
                span_id,
                trace_state,
                parent_span_id,
                flags,
                name,
                kind,
                start_time_unix_nano: start,
                end_time_unix_nano: end,
                attributes,
                dropped_attributes_count: dropped,
                events,
                dropped_events_count: dropped,
                links,
                dropped_links_count: 0,
                status,
            },
        )
}

fn resource_spans() -> impl Strategy<Value = otlp::ResourceSpans> {
    // Often more than one service.name, to see which one wins.
    let service = value().prop_map(|value| KeyValue {
        key: "service.name".into(),
        value,
        ..Default::default()
    });
    let attribute = prop_oneof![attribute(), service];
    let resource = prop::option::of(vec(attribute, 0..4).prop_map(|attributes| Resource {
        attributes,
        dropped_attributes_count: 2,
        ..Default::default()
    }));
    let scope =
        (vec(span(), 0..4), prop::option::of(text())).prop_map(|(spans, scope)| otlp::ScopeSpans {
            scope: scope.map(|name| InstrumentationScope {
                name,
                version: "1.0".into(),
                ..Default::default()
            }),
            spans,
            schema_url: "https://opentelemetry.io/schemas/1.21.0".into(),
        });
    (resource, vec(scope, 0..3), text()).prop_map(|(resource, scope_spans, schema_url)| {
        otlp::ResourceSpans {
            resource,
            scope_spans,
            schema_url,
        }
    })
}

/// A small deterministic generator, so one seed reshuffles a message the
/// same way every time (and proptest can shrink the seed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn one_in(&mut self, n: u64) -> bool {
        self.next().is_multiple_of(n)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The messages of the schema, to know which fields to recurse into.
#[derive(Clone, Copy, PartialEq)]
enum Schema {
    ResourceSpans,
    Resource,
    Scope,
    Span,
    KeyValue,
    AnyValue,
    Link,
    Status,
    Opaque,
}

impl Schema {
    fn child(self, field: u32) -> Schema {
        match (self, field) {
            (Schema::ResourceSpans, 1) => Schema::Resource,
            (Schema::ResourceSpans, 2 | 1000) => Schema::Scope,
            (Schema::Resource, 1) | (Schema::Span, 9) => Schema::KeyValue,
            (Schema::Scope, 2) => Schema::Span,
            (Schema::Span, 13) => Schema::Link,
            (Schema::Span, 15) => Schema::Status,
            (Schema::KeyValue, 2) => Schema::AnyValue,
            _ => Schema::Opaque,
        }
    }

    /// Whether field `field` is text the walker decodes.
    fn is_text(self, field: u32) -> bool {
        matches!(
            (self, field),
            (Schema::Span, 5) | (Schema::KeyValue, 1) | (Schema::AnyValue, 1)
        )
    }
}

/// One field as split off a message by prost's own decoding functions.
struct RawField {
    field: u32,
    wire: u8,
    /// The value as encoded after the key (for wire type 2, the content).
    value: Vec<u8>,
}

impl RawField {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend(field_key(self.field, self.wire));
        if self.wire == LEN {
            encode_varint(self.value.len() as u64, out);
        }
        out.extend_from_slice(&self.value);
    }
}

fn split(mut bytes: &[u8]) -> Vec<RawField> {
    let mut fields = Vec::new();
    while !bytes.is_empty() {
        let (field, wire) = prost::encoding::decode_key(&mut bytes).unwrap();
        let value = match wire as u8 {
            VARINT => {
                let before = bytes;
                decode_varint(&mut bytes).unwrap();
                before[..before.len() - bytes.len()].to_vec()
            }
            FIXED64 => take_front(&mut bytes, 8),
            FIXED32 => take_front(&mut bytes, 4),
            LEN => {
                let len = decode_varint(&mut bytes).unwrap() as usize;
                take_front(&mut bytes, len)
            }
            other => panic!("prost encoded wire type {other}"),
        };
        fields.push(RawField {
            field,
            wire: wire as u8,
            value,
        });
    }
    fields
}

fn take_front(bytes: &mut &[u8], len: usize) -> Vec<u8> {
    let (front, rest) = bytes.split_at(len);
    *bytes = rest;
    front.to_vec()
}

/// Re-encodes `bytes`, a message of `schema`, as another encoder might
/// have: fields reordered, repeated (earlier with other values), padded
/// with unknown fields, varints overlong, strings not UTF-8, legacy
/// `instrumentation_library_spans`.
/// With `retype`, also gives some fields another wire type (which prost
/// refuses where the field is known, and skips where not).
fn reshuffle(bytes: &[u8], schema: Schema, rng: &mut Rng, retype: bool) -> Vec<u8> {
    let mut fields = Vec::new();
    for mut field in split(bytes) {
        let child = schema.child(field.field);
        if field.wire == LEN && child != Schema::Opaque {
            field.value = reshuffle(&field.value, child, rng, retype);
        } else if field.wire == LEN && schema.is_text(field.field) && rng.one_in(8) {
            field.value.extend_from_slice(&[0xff, b'x', 0xc3]);
        } else if field.wire == VARINT && rng.one_in(6) && field.value.len() < 10 {
            // An overlong encoding of the same number.
            *field.value.last_mut().unwrap() |= 0x80;
            field.value.push(0);
        }
        if retype && rng.one_in(12) {
            let wire = [VARINT, FIXED64, LEN, FIXED32][rng.below(4)];
            field.value = match wire {
                VARINT => {
                    let mut v = Vec::new();
                    encode_varint(field.value.len() as u64, &mut v);
                    v
                }
                FIXED64 => field.value.iter().copied().chain([0; 8]).take(8).collect(),
                FIXED32 => field.value.iter().copied().chain([0; 4]).take(4).collect(),
                _ => field.value,
            };
            field.wire = wire;
        }
        if schema == Schema::ResourceSpans && field.field == 2 && rng.one_in(4) {
            field.field = 1000;
        }
        if rng.one_in(8) {
            // An earlier occurrence: merged or overwritten.
            let value = if child != Schema::Opaque {
                field.value.clone()
            } else {
                match field.wire {
                    VARINT => {
                        let mut v = Vec::new();
                        encode_varint(rng.next() >> rng.below(64), &mut v);
                        v
                    }
                    FIXED64 => rng.next().to_le_bytes().to_vec(),
                    FIXED32 => rng.next().to_le_bytes()[..4].to_vec(),
                    _ => rng.next().to_le_bytes()[..rng.below(9)].to_vec(),
                }
            };
            fields.push(RawField {
                field: field.field,
                wire: field.wire,
                value,
            });
        }
        fields.push(field);
    }
    for _ in 0..rng.below(3) {
        // Numbers no message of the schema knows.
        let field = [10, 11, 14, 16, 999, 1001, (1 << 29) - 1][rng.below(7)];
        let at = rng.below(fields.len() + 1);
        let unknown = match rng.below(5) {
            0 => RawField {
                field,
                wire: VARINT,
                value: vec![0x96, 0x01],
            },
            1 => RawField {
                field,
                wire: FIXED64,
                value: vec![0xab; 8],
            },
            2 => RawField {
                field,
                wire: FIXED32,
                value: vec![0xcd; 4],
            },
            3 => RawField {
                field,
                wire: LEN,
                value: b"unknown".to_vec(),
            },
            _ => {
                // A group: its start key here, content and end key as
                // the value.
                let mut value = vec![0x08, 0x01];
                value.extend(field_key(field, END_GROUP));
                RawField {
                    field,
                    wire: START_GROUP,
                    value,
                }
            }
        };
        fields.insert(at, unknown);
    }
    if rng.one_in(2) {
        for i in (1..fields.len()).rev() {
            fields.swap(i, rng.below(i + 1));
        }
    }
    let mut out = Vec::new();
    for field in &fields {
        field.encode(&mut out);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_requests_read_as_with_prost(message in resource_spans(), seed in any::<u64>()) {
        let encoded = message.encode_to_vec();
        let strings = Interner::new();
        let read = walked(&strings, &encoded);
        prop_assert!(read.is_ok(), "{:?}", read);
        prop_assert_eq!(&read, &decoded(&strings, &encoded));

        let reshuffled = reshuffle(&encoded, Schema::ResourceSpans, &mut Rng(seed), false);
        let read = walked(&strings, &reshuffled);
        prop_assert!(read.is_ok(), "{:?}", read);
        prop_assert_eq!(&read, &decoded(&strings, &reshuffled));

        // One damaged byte: both fail, or both read the same.
        if !reshuffled.is_empty() {
            let mut rng = Rng(seed ^ 0x5555);
            let mut damaged = reshuffled.clone();
            let at = rng.below(damaged.len());
            damaged[at] ^= (rng.next() as u8) | 1;
            let why = disagreement(&damaged);
            prop_assert!(why.is_none(), "{}", why.unwrap_or_default());
        }

        let retyped = reshuffle(&encoded, Schema::ResourceSpans, &mut Rng(seed), true);
        let why = disagreement(&retyped);
        prop_assert!(why.is_none(), "{}", why.unwrap_or_default());
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_read_as_with_prost(bytes in vec(any::<u8>(), 0..300)) {
        let why = disagreement(&bytes);
        prop_assert!(why.is_none(), "{}", why.unwrap_or_default());
    }

    #[test]
    fn arbitrary_varints_decode_as_with_prost(bytes in vec(any::<u8>(), 0..12)) {
        check_varint(&bytes);
    }

    #[test]
    fn random_field_soup_reads_as_with_prost(message in soup()) {
        let why = disagreement(&message);
        prop_assert!(why.is_none(), "{}", why.unwrap_or_default());
    }
}

/// Well-formed protobuf of no particular schema: fields with the numbers
/// the schema uses, any wire type, and nested messages, so that the
/// walker meets known fields with wrong types deep inside.
fn soup() -> impl Strategy<Value = Vec<u8>> {
    let number = prop_oneof![1..=16u32, Just(1000), Just(21)];
    let leaf =
        (number.clone(), 0..6u8, vec(any::<u8>(), 0..10)).prop_map(|(field, wire, bytes)| {
            let mut out = Vec::new();
            match wire {
                0 => {
                    out.extend(field_key(field, VARINT));
                    encode_varint(
                        bytes.iter().fold(0, |v, b| v << 7 | u64::from(*b)),
                        &mut out,
                    );
                }
                1 => {
                    out.extend(field_key(field, FIXED64));
                    out.extend(bytes.iter().copied().chain([0; 8]).take(8));
                }
                5 => {
                    out.extend(field_key(field, FIXED32));
                    out.extend(bytes.iter().copied().chain([0; 4]).take(4));
                }
                3 => out.extend(groups(field, bytes.len() % 3 + 1)),
                _ => out.extend(len_field(field, &bytes)),
            }
            out
        });
    let message = leaf.prop_recursive(5, 64, 6, move |inner| {
        (number.clone(), vec(inner, 0..6))
            .prop_map(|(field, fields)| len_field(field, &fields.concat()))
    });
    vec(message, 0..6).prop_map(|fields| fields.concat())
}

/// Every field of `bytes` as `Fields::field` alone reads it (the general
/// reader, which the iterator's short cuts must agree with), errors by
/// their kind.
fn fields_read_the_long_way(bytes: &[u8]) -> Vec<Result<(u32, Value<'_>), String>> {
    let mut fields = Fields::new(bytes, 100);
    let mut out = Vec::new();
    while !fields.rest.is_empty() {
        match fields.field() {
            Ok(field) => out.push(Ok(field)),
            Err(kind) => {
                out.push(Err(format!("{kind:?}")));
                break;
            }
        }
    }
    out
}

proptest! {
    /// The iterator's short cuts for one-byte keys read what the general
    /// reader reads, and fail where it fails: bytes made mostly of keys
    /// and lengths around the short cuts' limits.
    #[test]
    fn short_fields_read_as_the_general_reader_reads_them(
        bytes in vec(prop_oneof![
            3 => 0x00u8..0x90,
            1 => 0x7Eu8..=0x82,
            1 => any::<u8>(),
        ], 0..48),
    ) {
        let short: Vec<_> = Fields::new(&bytes, 100)
            .map(|field| field.map_err(|err| format!("{:?}", err.0.kind)))
            .collect();
        prop_assert_eq!(short, fields_read_the_long_way(&bytes));
    }

    /// The short cuts for two-byte lengths and keys, around their limits:
    /// a field whose length or key takes two bytes (or, overlong, ends in
    /// a zero byte), followed by more or fewer bytes than it says.
    #[test]
    fn two_byte_fields_read_as_the_general_reader_reads_them(
        key in prop_oneof![
            (1u32..40).prop_map(|field| field << 3 | u32::from(LEN)),
            (1u32..300).prop_map(|field| field << 3 | u32::from(FIXED32)),
            (1u32..300).prop_map(|field| field << 3 | u32::from(FIXED64)),
        ],
        len in prop_oneof![0usize..8, 120usize..140, 16_370usize..16_400],
        overlong in any::<bool>(),
        more in prop_oneof![0usize..6, 120usize..300],
        fewer in 0usize..3,
    ) {
        let mut bytes = Vec::new();
        let varint = |out: &mut Vec<u8>, v: u64| {
            encode_varint(v, out);
            if overlong {
                *out.last_mut().expect("a byte") |= 0x80;
                out.push(0);
            }
        };
        varint(&mut bytes, u64::from(key));
        let payload = match (key & 7) as u8 {
            LEN => {
                varint(&mut bytes, len as u64);
                len
            }
            FIXED32 => 4,
            _ => 8,
        };
        bytes.extend((0..(payload + more).saturating_sub(fewer)).map(|i| i as u8));
        let short: Vec<_> = Fields::new(&bytes, 100)
            .map(|field| field.map_err(|err| format!("{:?}", err.0.kind)))
            .collect();
        prop_assert_eq!(short, fields_read_the_long_way(&bytes));
    }
}

proptest! {
    /// ASCII is taken without a UTF-8 walk; every input still reads as
    /// `from_utf8_lossy` reads it, borrowed whenever it is valid.
    #[test]
    fn text_reads_as_lossy_utf8_reads(bytes in prop_oneof![
        vec(0u8..0x80, 0..40),
        vec(any::<u8>(), 0..40),
        "[a-zé€😀 ]{0,12}".prop_map(String::into_bytes),
    ]) {
        let read = super::text(&bytes);
        prop_assert_eq!(&read, &String::from_utf8_lossy(&bytes));
        prop_assert_eq!(
            matches!(read, Cow::Borrowed(_)),
            std::str::from_utf8(&bytes).is_ok()
        );
    }
}

proptest! {
    /// The whole-message match of a plain `KeyValue` reads what the field
    /// walk reads, and takes the encodings SDKs write: a key and a string,
    /// or a key and an integer below 2^14.
    #[test]
    fn plain_key_values_read_as_the_field_walk_reads(attribute in attribute()) {
        let bytes = attribute.encode_to_vec();
        let walked = super::key_value_fields(&bytes, 10);
        if let Some(plain) = super::plain_key_value(&bytes) {
            prop_assert_eq!(walked.ok(), Some(plain));
        }
        let plain_value = match attribute.value.as_ref().and_then(|v| v.value.as_ref()) {
            Some(any_value::Value::StringValue(s)) => s.len() < 126,
            Some(any_value::Value::IntValue(i)) => (0..1 << 14).contains(i),
            _ => false,
        };
        // (prost leaves an empty key out.)
        let plain_key = (1..128).contains(&attribute.key.len()) && attribute.key_strindex == 0;
        if plain_value && plain_key {
            prop_assert!(super::plain_key_value(&bytes).is_some(), "{:?}", bytes);
        }
    }
}

/// Encodings prost never writes but reads: an overlong integer of two
/// bytes, the second zero. The whole-message match reads them as the
/// walk does.
#[test]
fn plain_key_values_read_overlong_integers_as_the_walk_reads_them() {
    for value in [[0x80u8, 0x00], [0xFF, 0x00], [0x81, 0x01], [0xFF, 0x7F]] {
        let bytes = [0x0a, 1, b'k', 0x12, 3, 0x18, value[0], value[1]];
        let plain = super::plain_key_value(&bytes);
        assert!(plain.is_some(), "{bytes:?}");
        assert_eq!(super::key_value_fields(&bytes, 10).ok(), plain, "{bytes:?}");
    }
}
