//! Jaeger JSON, as the Jaeger UI "Download JSON" button and the query API
//! (`/api/traces`) write it.
//!
//! Accepted shapes, each as one document or as JSON lines:
//! - `{"data": [trace, ...], ...}`: the query API envelope; other top-level
//!   members (`total`, `errors`, CRISP's `testing`) are ignored, except that
//!   reported `errors` are counted as unreadable records;
//! - a bare trace `{"traceID", "spans", "processes"}`;
//! - an array of traces.
//!
//! Per span: `spanID`, a trace id (the span's `traceID`, else the trace's)
//! and `startTime`/`duration` (microseconds) are required; a span without
//! them is skipped and counted at the line its object opens on. The parent
//! is the first `CHILD_OF` reference into the same trace, else the first
//! `FOLLOWS_FROM` one, else the legacy `parentSpanID`; every other reference
//! becomes a link. The service is the span's own `process.serviceName`, else
//! that of `processes[processID]`, else `unknown`; a missing operation name
//! is also `unknown`. Tags give the kind (`span.kind`), the status (`error`
//! true → error; `otel.status_code` `ERROR`/`OK`) and the attributes
//! [`crate::model::AttrKey::lookup`] knows. Ids that are not hex (Jaeger UI
//! test data uses `span-A`) are hashed, keeping the trace id text as label.
//! Spans sharing an id are all emitted; the model keeps one.

use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

use super::json_locate::{Step, skip_at};
use super::json_util::{Record, json_with_key, records};
use super::json_value::{AttrsBuilder, scalar_text, str_field};
use super::{Format, Input, ReadError, Reader, Sink};
use crate::model::{
    Interner, Location, Nanos, Span, SpanId, SpanKind, SpanLink, Status, Sym, TraceId,
};

/// Reads Jaeger JSON exports.
pub struct JaegerReader;

impl Reader for JaegerReader {
    fn format(&self) -> Format {
        Format::Jaeger
    }

    fn sniff(&self, head: &[u8]) -> bool {
        (json_with_key(head, b"\"traceID\"") || json_with_key(head, b"\"spanID\""))
            && memchr::memmem::find(head, b"\"resourceSpans\"").is_none()
    }

    fn read(&self, input: &Input<'_>, sink: &mut Sink<'_>) -> Result<(), ReadError> {
        let records = records(input.bytes);
        let single = records.len() == 1;
        let mut recognised = false;
        for record in &records {
            let value: Value = match serde_json::from_slice(record.bytes) {
                Ok(value) => value,
                Err(err) if single => {
                    return Err(ReadError::new(
                        input,
                        record.error_location(&err),
                        format!("invalid JSON: {err}"),
                    ));
                }
                Err(err) => {
                    sink.skip(record.error_location(&err), format!("invalid JSON: {err}"));
                    continue;
                }
            };
            if read_record(record, &value, sink) {
                recognised = true;
            } else if !single {
                sink.skip(Location::Line(record.line), NOT_JAEGER);
            }
        }
        if recognised {
            Ok(())
        } else {
            Err(ReadError::new(input, Location::Whole, NOT_JAEGER))
        }
    }
}

const NOT_JAEGER: &str = "expected Jaeger JSON: {\"data\": [traces]}, a trace object with \"spans\", or an array of traces";

/// Reads one record; `false` if it has none of the accepted shapes.
fn read_record(record: &Record<'_>, value: &Value, sink: &mut Sink<'_>) -> bool {
    match value {
        Value::Object(object) if object.contains_key("spans") => {
            read_trace(record, value, &[], sink);
        }
        Value::Object(object) if object.contains_key("data") => {
            report_export_errors(record, object.get("errors"), sink);
            match &object["data"] {
                Value::Array(traces) => {
                    for (i, trace) in traces.iter().enumerate() {
                        read_trace(record, trace, &[Step::Key("data"), Step::Index(i)], sink);
                    }
                }
                Value::Null => {}
                _ => skip_at(
                    sink,
                    record,
                    &[],
                    "\"data\" is not an array of traces".into(),
                ),
            }
        }
        Value::Array(traces) => {
            for (i, trace) in traces.iter().enumerate() {
                read_trace(record, trace, &[Step::Index(i)], sink);
            }
        }
        _ => return false,
    }
    true
}

/// The query API reports failures beside (possibly partial) data.
fn report_export_errors(record: &Record<'_>, errors: Option<&Value>, sink: &mut Sink<'_>) {
    let Some(Value::Array(errors)) = errors else {
        return;
    };
    for error in errors {
        let message = error
            .get("msg")
            .and_then(scalar_text)
            .map_or_else(|| error.to_string(), |m| m.into_owned());
        sink.skip(
            Location::Line(record.line),
            format!("the export reports an error: {message}"),
        );
    }
}

/// What every span of one trace object shares.
struct TraceContext<'v> {
    trace_id: Option<&'v str>,
    services: FxHashMap<&'v str, Sym>,
}

fn read_trace(record: &Record<'_>, trace: &Value, path: &[Step<'_>], sink: &mut Sink<'_>) {
    let Some(object) = trace.as_object() else {
        skip_at(sink, record, path, "expected a trace object".into());
        return;
    };
    let Some(spans) = object.get("spans").and_then(Value::as_array) else {
        skip_at(sink, record, path, "trace has no \"spans\" array".into());
        return;
    };
    let mut services = FxHashMap::default();
    if let Some(processes) = object.get("processes").and_then(Value::as_object) {
        for (id, process) in processes {
            if let Some(name) = process
                .as_object()
                .and_then(|p| str_field(p, "serviceName"))
            {
                services.insert(id.as_str(), sink.strings.intern(name));
            }
        }
    }
    let context = TraceContext {
        trace_id: str_field(object, "traceID"),
        services,
    };
    for (i, span) in spans.iter().enumerate() {
        match convert_span(span, &context, sink.strings) {
            Ok(span) => sink.spans.push(span),
            Err(message) => {
                let mut at = path.to_vec();
                at.extend([Step::Key("spans"), Step::Index(i)]);
                skip_at(sink, record, &at, message);
            }
        }
    }
}

fn convert_span(
    value: &Value,
    context: &TraceContext<'_>,
    strings: &Interner,
) -> Result<Span, String> {
    let span = value.as_object().ok_or("expected a span object")?;
    let span_id = str_field(span, "spanID").ok_or("span has no \"spanID\"")?;
    let span_id = SpanId::parse(span_id).map_err(|e| format!("bad spanID {span_id:?}: {e}"))?;
    let trace_text = str_field(span, "traceID")
        .or(context.trace_id)
        .ok_or("span has no \"traceID\" (nor does its trace)")?;
    let (trace_id, is_hex) =
        TraceId::parse(trace_text).map_err(|e| format!("bad traceID {trace_text:?}: {e}"))?;
    let start = micros_to_nanos(span.get("startTime"), "startTime")?;
    let duration = micros_to_nanos(span.get("duration"), "duration")?;
    let end = start
        .checked_add(duration)
        .ok_or("startTime + duration overflows")?;
    let (parent_id, links) = references(span, trace_id);
    let parent_id =
        parent_id.or_else(|| str_field(span, "parentSpanID").and_then(SpanId::parse_parent));

    let mut kind = SpanKind::Unspecified;
    let mut status = Status::Unset;
    let mut attrs = AttrsBuilder::default();
    for tag in span
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(key) = tag.get("key").and_then(Value::as_str) else {
            continue;
        };
        let value = tag.get("value").unwrap_or(&Value::Null);
        match key {
            "span.kind" => kind = scalar_text(value).map_or(kind, |k| SpanKind::from_name(&k)),
            "error" if is_true(value) => status = Status::Error,
            "otel.status_code" => match scalar_text(value).as_deref() {
                Some(s) if s.eq_ignore_ascii_case("error") => status = Status::Error,
                Some(s) if s.eq_ignore_ascii_case("ok") && status == Status::Unset => {
                    status = Status::Ok;
                }
                _ => {}
            },
            _ => attrs.add(strings, key, value),
        }
    }

    Ok(Span {
        trace_id,
        span_id,
        parent_id,
        start,
        end,
        service: service(span, context, strings),
        name: strings.intern(str_field(span, "operationName").unwrap_or("unknown")),
        kind,
        status,
        attrs: attrs.finish(),
        links,
        trace_label: (!is_hex).then(|| strings.intern(trace_text.trim())),
    })
}

fn service(span: &Map<String, Value>, context: &TraceContext<'_>, strings: &Interner) -> Sym {
    let own = span
        .get("process")
        .and_then(Value::as_object)
        .and_then(|p| str_field(p, "serviceName"));
    if let Some(name) = own {
        return strings.intern(name);
    }
    str_field(span, "processID")
        .and_then(|id| context.services.get(id).copied())
        .unwrap_or_else(|| strings.intern("unknown"))
}

/// The parent and the links from a span's `references`.
fn references(
    span: &Map<String, Value>,
    trace_id: TraceId,
) -> (Option<SpanId>, Option<Box<[SpanLink]>>) {
    let mut refs = Vec::new();
    for reference in span
        .get("references")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(span_id) = reference
            .get("spanID")
            .and_then(Value::as_str)
            .and_then(SpanId::parse_parent)
        else {
            continue;
        };
        // A reference without a trace id points into the span's own trace.
        let ref_trace = reference
            .get("traceID")
            .and_then(Value::as_str)
            .and_then(|t| TraceId::parse(t).ok())
            .map_or(trace_id, |(id, _)| id);
        let child_of = reference.get("refType").and_then(Value::as_str) != Some("FOLLOWS_FROM");
        refs.push((
            child_of,
            SpanLink {
                trace_id: ref_trace,
                span_id,
            },
        ));
    }
    let same_trace = |wanted: bool| {
        refs.iter()
            .find(|(child_of, link)| *child_of == wanted && link.trace_id == trace_id)
            .map(|(_, link)| link.span_id)
    };
    let parent = same_trace(true).or_else(|| same_trace(false));
    let mut links: Vec<SpanLink> = Vec::new();
    for (_, link) in refs {
        let is_parent = link.trace_id == trace_id && Some(link.span_id) == parent;
        if !is_parent && !links.contains(&link) {
            links.push(link);
        }
    }
    (
        parent,
        (!links.is_empty()).then(|| links.into_boxed_slice()),
    )
}

fn is_true(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// A microsecond count (number, or number as text) in nanoseconds.
fn micros_to_nanos(value: Option<&Value>, field: &str) -> Result<Nanos, String> {
    let value = value.ok_or_else(|| format!("span has no \"{field}\""))?;
    let micros = match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.abs() < 9.2e15)
                .map(|f| f.round() as i64)
        }),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    micros
        .and_then(|m| m.checked_mul(1000))
        .ok_or_else(|| format!("\"{field}\" is not a microsecond count in range: {value}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Quality, TraceSet};
    use std::path::Path;

    fn read(strings: &Interner, bytes: &[u8]) -> Result<(Vec<Span>, Quality), ReadError> {
        let input = Input {
            name: "test.json",
            bytes,
        };
        let mut sink = Sink::new("test.json", strings);
        JaegerReader.read(&input, &mut sink)?;
        Ok((sink.spans, sink.quality))
    }

    fn oracle(relative: &str) -> Vec<u8> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/oracles")
            .join(relative);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn by_id<'s>(spans: &'s [Span], id: &str) -> Vec<&'s Span> {
        let id = SpanId::parse(id).unwrap();
        spans.iter().filter(|s| s.span_id == id).collect()
    }

    #[test]
    fn ui_export_keeps_duplicates_parents_links_and_tags() {
        let strings = Interner::new();
        let (spans, quality) = read(&strings, &oracle("jaeger/ui_01.json")).unwrap();
        assert_eq!(spans.len(), 5);
        assert_eq!(quality.unparsable_records, 0);
        let twos = by_id(&spans, "0000000000000002");
        assert_eq!(twos.len(), 2, "both spans sharing an id are emitted");
        assert!(twos.iter().all(|s| s.parent_id.is_none()));
        assert_eq!(twos[0].start, 1_485_467_191_639_875_000);
        assert_eq!(twos[0].duration(), 5_000);
        assert_eq!(strings.resolve(twos[0].service), "service-x");
        assert_eq!(twos[1].status, Status::Error);
        let peer = twos[1].attrs().peer_service.map(|s| strings.resolve(s));
        assert_eq!(peer, Some("service-y"));

        let four = by_id(&spans, "0000000000000004")[0];
        assert_eq!(
            four.parent_id,
            SpanId::parse("2").ok(),
            "CHILD_OF in this trace wins"
        );
        let ff = SpanLink {
            trace_id: TraceId::parse("ff").unwrap().0,
            span_id: SpanId::parse("ff").unwrap(),
        };
        assert_eq!(
            four.links.as_deref(),
            Some(&[ff][..]),
            "the other trace's ref is a link"
        );
        assert_eq!(strings.resolve(four.service), "service-y");
        assert_eq!(by_id(&spans, "5")[0].parent_id, SpanId::parse("4").ok());
        assert_eq!(by_id(&spans, "5")[0].duration(), 4_000);
        assert!(spans.iter().all(|s| s.trace_label.is_none()));

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
                    strings.resolve(s.service),
                    strings.resolve(s.name),
                    s.start,
                    s.end,
                )
            })
            .collect();
        assert!(names.contains(&("S1", "O1", 0, 100_000)), "{names:?}");
        assert!(names.contains(&("S2", "O2", 10_000, 60_000)), "{names:?}");
        let child = spans
            .iter()
            .find(|s| strings.resolve(s.name) == "O2")
            .unwrap();
        assert_eq!(child.parent_id, Some(spans[0].span_id));

        let (spans, _) = read(&strings, &oracle("crisp/err_pattern1/err1.json")).unwrap();
        assert!(spans.iter().all(|s| s.status == Status::Error));
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
        assert_eq!(root.parent_id, None);
        assert_eq!(strings.resolve(root.service), "api-gateway");
        assert_eq!(root.duration(), 4_902_000);
        let query = by_id(&spans, "622a5079b565623e")[0];
        assert_eq!(query.parent_id, SpanId::parse("e821b549888cbc3b").ok());
        assert_eq!(strings.resolve(query.service), "customers-service");
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
            let label = spans[0].trace_label.map(|l| strings.resolve(l));
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
        assert_eq!((c.start, c.end, c.parent_id), (1_000, 101_000, None));
        assert_eq!(by_id(&spans, "span-E")[0].parent_id, Some(c.span_id));
        assert_eq!(by_id(&spans, "span-D")[0].parent_id, Some(c.span_id));
        assert_eq!(strings.resolve(c.service), "customers-service");

        let bytes = serde_json::to_vec(&cases["test5"]["trace"]).unwrap();
        let (spans, _) = read(&strings, &bytes).unwrap();
        let b = by_id(&spans, "span-B")[0];
        assert_eq!(
            b.parent_id,
            SpanId::parse("span-A").ok(),
            "FOLLOWS_FROM is a parent"
        );
        assert_eq!(b.kind, SpanKind::Consumer);
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
        assert_eq!((spans[1].start, spans[1].end), (7_000, 9_000));
        assert_eq!(strings.resolve(spans[1].service), "own");
        assert_eq!(strings.resolve(spans[1].name), "unknown");
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
        assert_eq!(strings.resolve(spans[0].service), "unknown");
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
        assert_eq!(spans[0].kind, SpanKind::Client);
        assert_eq!(spans[0].status, Status::Error);
        assert_eq!(
            spans[0].attrs().db_system.map(|s| strings.resolve(s)),
            Some("postgresql")
        );
        assert_eq!(spans[1].status, Status::Ok);
        assert!(spans[1].attrs.is_none());
        assert_eq!(spans[2].status, Status::Error);
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
}
