//! Hostile times (issue 15, item 4): times at and beyond the `i64` extremes,
//! before 1970 or after 2200, ends before starts, a child a century after
//! its parent. Readers count spans with times out of bounds as invalid
//! times (located, kept as examples, fatal with `--strict`); the analysis
//! never panics, never wraps, and no report shows a negative time or more
//! critical time than a root lasted.

use std::sync::Arc;

use critpath::analysis::analyze_with_breakdown;
use critpath::analysis::detectors::FindingOptions;
use critpath::analysis::results::Analysis;
use critpath::analysis::select::Selection;
use critpath::ingest::{Format, IngestOptions, Ingested, ingest_bytes};
use critpath::model::{
    Interner, LATEST, Nanos, Quality, Span, SpanId, SpanKind, Status, TraceId, TraceSet, TracedSpan,
};
use critpath::report::{self, CsvSection, ReportFormat, ReportOptions};
use critpath::table::SpanColumn;
use proptest::prelude::*;

use crate::util::{critpath, succeed};

/// 2023-11-14T22:13:20Z.
const T0: Nanos = 1_700_000_000_000_000_000;
/// A century, in nanoseconds.
const CENTURY: Nanos = 100 * 365 * 86_400 * 1_000_000_000;

/// Times that break naive arithmetic.
const EXTREMES: [Nanos; 9] = [
    0,
    -1,
    1,
    i64::MIN,
    i64::MAX,
    i64::MIN + 1,
    i64::MAX - 1,
    LATEST,
    T0,
];

/// One span row: id, parent (an index into earlier rows), start, end, kind.
type Row = (u64, Option<usize>, Nanos, Nanos, SpanKind);

/// A trace set built straight from `rows` (bypassing the readers and their
/// bounds, so the analysis itself meets the extremes).
fn set_of(rows: &[Row]) -> TraceSet {
    let strings = Interner::new();
    let services = ["api", "db", "cache"];
    let spans: Vec<TracedSpan> = rows
        .iter()
        .enumerate()
        .map(|(i, &(id, parent, start, end, kind))| TracedSpan {
            trace_id: TraceId(1 + (i as u128 % 2)),
            span: Span {
                parent_id: parent.map(|p| SpanId(rows[p].0)),
                start,
                end,
                kind,
                status: if i % 3 == 0 {
                    Status::Error
                } else {
                    Status::Ok
                },
                ..Span::new(
                    SpanId(id),
                    strings.intern(services[i % services.len()]),
                    strings.intern(if i % 2 == 0 { "GET /x" } else { "SELECT 1" }),
                )
            },
        })
        .collect();
    TraceSet::build(spans, Arc::new(strings), Quality::default())
}

fn ingested(set: TraceSet) -> Ingested {
    Ingested {
        set,
        spans_per_format: Default::default(),
        inputs: 1,
        skipped: Vec::new(),
        spill: None,
        processes: Default::default(),
    }
}

/// Runs the analysis and every report; checks what the reports promise.
fn analyse_and_report(ingested: &Ingested) -> Analysis {
    let (analysis, breakdown) =
        analyze_with_breakdown(ingested, &Selection::default(), &FindingOptions::default())
            .expect("analysis");
    for unit in &breakdown.units {
        assert!(unit.duration >= 0, "root duration {}", unit.duration);
        let critical = unit
            .segments
            .iter()
            .map(|s| {
                assert!(s.end >= s.start, "segment {s:?}");
                s.end.saturating_sub(s.start)
            })
            .fold(0, Nanos::saturating_add);
        assert!(
            critical <= unit.duration,
            "critical {critical} exceeds the root's {}",
            unit.duration
        );
    }
    for column in [
        SpanColumn::Duration,
        SpanColumn::SelfTime,
        SpanColumn::Critical,
    ] {
        let values: Vec<i64> = breakdown.spans.i64s(column).unwrap().collect();
        assert_eq!(values.len(), breakdown.spans.len());
        for (row, v) in values.into_iter().enumerate() {
            assert!(v >= 0, "span row {row}: {column:?} {v}");
        }
    }
    for (what, v) in analysis.reported_times() {
        assert!(v >= 0.0, "{what}: {v}");
    }
    let folded =
        critpath::analysis::flame::folded(&ingested.set, &breakdown, None).expect("folded");
    let options = |csv_section| ReportOptions {
        top: 10,
        top_explicit: false,
        csv_section,
        width: Some(120),
    };
    let mut out = Vec::new();
    for format in [
        ReportFormat::Table,
        ReportFormat::Json,
        ReportFormat::Markdown,
        ReportFormat::Html,
        ReportFormat::Csv,
    ] {
        report::reporter(format, options(CsvSection::Operations), folded.clone())
            .write(&analysis, &mut out)
            .expect("report");
    }
    for section in [CsvSection::Services, CsvSection::Edges, CsvSection::Errors] {
        report::reporter(ReportFormat::Csv, options(section), folded.clone())
            .write(&analysis, &mut out)
            .expect("csv");
    }
    analysis
}

#[test]
fn extreme_times_in_the_model_neither_panic_nor_go_negative() {
    use SpanKind::*;
    let rows: Vec<Row> = vec![
        // Trace 1 (even rows): a root spanning all of i64, a child a
        // century after its parent, a child ending before it starts.
        (1, None, i64::MIN, i64::MAX, Server),
        (2, None, 0, 0, Server),
        (3, Some(0), i64::MAX - 1, i64::MIN + 1, Client),
        (4, Some(1), T0, T0 + CENTURY, Client),
        (5, Some(0), T0 + CENTURY, T0 + 2 * CENTURY, Client),
        (6, Some(1), -5, i64::MAX, Internal),
        (7, Some(0), i64::MIN, i64::MIN, Producer),
        (8, Some(6), 0, i64::MAX, Consumer),
        (9, Some(4), i64::MIN, 0, Client),
        (10, Some(9), i64::MAX, i64::MAX, Client),
    ];
    analyse_and_report(&ingested(set_of(&rows)));
}

fn kind() -> impl Strategy<Value = SpanKind> {
    prop_oneof![
        Just(SpanKind::Server),
        Just(SpanKind::Client),
        Just(SpanKind::Internal),
        Just(SpanKind::Producer),
        Just(SpanKind::Consumer),
    ]
}

/// A time: an extreme, a time near now, or a century away from it.
fn time() -> impl Strategy<Value = Nanos> {
    prop_oneof![
        prop::sample::select(EXTREMES.to_vec()),
        (0..1_000_000_000i64).prop_map(|d| T0 + d),
        (-2..=2i64, 0..1_000i64).prop_map(|(c, d)| T0 + c * CENTURY + d),
        any::<i64>(),
    ]
}

/// Up to 12 spans, each child of an earlier one (or a root, or of a span
/// that is not there).
fn rows() -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec((time(), time(), kind(), any::<u8>()), 1..12).prop_map(|spans| {
        spans
            .into_iter()
            .enumerate()
            .map(|(i, (start, end, kind, parent))| {
                let parent = match parent % 4 {
                    0 => None,
                    _ if i == 0 => None,
                    _ => Some(parent as usize % i),
                };
                (i as u64 + 1, parent, start, end, kind)
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary and extreme times straight into the model: the analysis
    /// saturates, never panics, and nothing reported is negative or longer
    /// than its root.
    #[test]
    fn adversarial_times_in_the_model(rows in rows()) {
        analyse_and_report(&ingested(set_of(&rows)));
    }

    /// The same times through each reader: a span with a time out of bounds
    /// is counted as an invalid time (never dropped silently, never
    /// wrapped), the others are analysed.
    #[test]
    fn adversarial_times_through_the_readers(rows in rows()) {
        for (format, bytes) in [
            (Format::OtlpJson, otlp_json(&rows)),
            (Format::Jaeger, jaeger(&rows)),
            (Format::Sentry, sentry(&rows)),
        ] {
            let options = IngestOptions { format: Some(format), ..IngestOptions::default() };
            let read = ingest_bytes("in.json", bytes.as_bytes(), &options).expect("read");
            let q = &read.set.quality;
            let kept: usize = read.set.traces.iter().map(|t| t.spans.len()).sum();
            prop_assert!(kept as u64 + q.invalid_time + q.unparsable_records + q.duplicate_spans
                >= 1, "{format:?}: nothing read and nothing counted");
            for trace in &read.set.traces {
                for span in &trace.spans {
                    prop_assert!(critpath::model::check_times(span.start, span.end).is_none());
                }
            }
            let examples = q.examples.iter().filter(|p| p.message.contains("1970-01-01..2200-01-01")).count();
            prop_assert_eq!(examples as u64, q.invalid_time.min(critpath::model::MAX_EXAMPLES as u64));
            analyse_and_report(&read);
            let strict = IngestOptions { strict: true, ..options };
            let result = ingest_bytes("in.json", bytes.as_bytes(), &strict);
            prop_assert_eq!(result.is_err(), q.invalid_time + q.unparsable_records > 0);
        }
    }
}

/// Unsigned OTLP nanoseconds: negative times cannot be written, so they
/// become 1 (the earliest non-zero time).
fn otlp_json(rows: &[Row]) -> String {
    let spans: Vec<String> = rows
        .iter()
        .map(|&(id, parent, start, end, kind)| {
            let parent = parent.map_or(String::new(), |p| format!("{:016x}", rows[p].0));
            format!(
                r#"{{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"{id:016x}","parentSpanId":"{parent}","name":"op","kind":{},"startTimeUnixNano":"{}","endTimeUnixNano":"{}"}}"#,
                kind as u8,
                start.max(1),
                end.max(1)
            )
        })
        .collect();
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"api"}}}}]}},"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
        spans.join(",")
    )
}

/// Jaeger: microseconds, and an end given as a duration.
fn jaeger(rows: &[Row]) -> String {
    let spans: Vec<String> = rows
        .iter()
        .map(|&(id, parent, start, end, _)| {
            let refs = parent.map_or(String::new(), |p| {
                format!(
                    r#"{{"refType":"CHILD_OF","traceID":"0af7651916cd43dd","spanID":"{:016x}"}}"#,
                    rows[p].0
                )
            });
            let (start, end) = (start / 1000, end / 1000);
            format!(
                r#"{{"traceID":"0af7651916cd43dd","spanID":"{id:016x}","operationName":"op","references":[{refs}],"startTime":{start},"duration":{},"processID":"p1"}}"#,
                end.saturating_sub(start)
            )
        })
        .collect();
    format!(
        r#"{{"data":[{{"traceID":"0af7651916cd43dd","spans":[{}],"processes":{{"p1":{{"serviceName":"api"}}}}}}]}}"#,
        spans.join(",")
    )
}

/// Sentry: one event per root row, float seconds (as SDKs write them) for
/// even rows and decimal text for odd ones.
fn sentry(rows: &[Row]) -> String {
    let secs = |i: usize, t: Nanos| {
        if i.is_multiple_of(2) {
            format!("{:e}", t as f64 / 1e9)
        } else {
            let sign = if t < 0 { "-" } else { "" };
            let t = t.unsigned_abs();
            format!("\"{sign}{}.{:09}\"", t / 1_000_000_000, t % 1_000_000_000)
        }
    };
    let root = &rows[0];
    let spans: Vec<String> = rows
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, &(id, parent, start, end, _))| {
            let parent = parent.map_or(root.0, |p| rows[p].0);
            format!(
                r#"{{"span_id":"{id:016x}","parent_span_id":"{parent:016x}","op":"db","description":"SELECT 1","start_timestamp":{},"timestamp":{}}}"#,
                secs(i, start),
                secs(i, end)
            )
        })
        .collect();
    format!(
        r#"{{"event_id":"e1","type":"transaction","transaction":"GET /x","start_timestamp":{},"timestamp":{},"contexts":{{"trace":{{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"{:016x}","op":"http.server"}}}},"spans":[{}]}}"#,
        secs(0, root.2),
        secs(0, root.3),
        root.0,
        spans.join(",")
    )
}

/// Sentry times that used to be read independently and overflow `end -
/// start`: each span with one is counted as an invalid time at its event's
/// line, the others are analysed, `--strict` fails naming the place.
#[test]
fn sentry_times_beyond_the_bounds_are_counted_with_their_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("events.jsonl");
    let event = |id: u8, start: &str, end: &str, child: (&str, &str)| {
        format!(
            r#"{{"event_id":"e{id}","type":"transaction","transaction":"GET /x","start_timestamp":{start},"timestamp":{end},"contexts":{{"trace":{{"trace_id":"0af7651916cd43dd8448eb211c80319{id}","span_id":"00000000000000a{id}","op":"http.server"}}}},"spans":[{{"span_id":"00000000000000b{id}","parent_span_id":"00000000000000a{id}","op":"db","description":"SELECT 1","start_timestamp":{},"timestamp":{}}}]}}"#,
            child.0, child.1
        )
    };
    let lines = [
        event(
            1,
            "1700000000.0",
            "1700000001.0",
            ("1700000000.1", "1700000000.2"),
        ),
        // The child ends ~9.2e18 ns after the epoch's other end.
        event(2, "1700000000.0", "1700000001.0", ("-9.2e18", "9.2e18")),
        // The root itself: after 2262, and before 1970.
        event(3, "1e300", "1700000001.0", ("1700000000.1", "1700000000.2")),
        event(4, "-1.5", "1700000001.0", ("1700000000.1", "1700000000.2")),
        // End before start, both in bounds: read, counted as negative.
        event(
            5,
            "1700000001.0",
            "1700000000.0",
            ("1700000000.1", "1700000000.2"),
        ),
    ];
    std::fs::write(&path, lines.join("\n")).expect("write");
    let (json, _) = succeed(critpath().args(["stats", "--format", "json"]).arg(&path));
    let stats: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let quality = &stats["data_quality"];
    assert_eq!(quality["invalid_time"], 3, "{quality:#}");
    assert_eq!(quality["negative_duration"], 1, "{quality:#}");
    let examples = quality["examples"].as_array().expect("examples");
    let lines_of: Vec<u64> = examples
        .iter()
        .filter(|e| e["message"].as_str().unwrap_or("").contains("2200-01-01"))
        .map(|e| e["location"]["line"].as_u64().expect("a line"))
        .collect();
    assert_eq!(lines_of, [2, 3, 4], "{examples:#?}");
    assert!(
        examples.iter().any(|e| e["message"]
            .as_str()
            .unwrap_or("")
            .contains("start time -1500000000 ns since the epoch is before 1970-01-01")),
        "{examples:#?}"
    );

    let (report, _) = succeed(critpath().args(["analyze", "--format", "json"]).arg(&path));
    let report: serde_json::Value = serde_json::from_str(&report).expect("JSON");
    let operations = report["operations"].as_array().expect("operations");
    assert!(!operations.is_empty());
    for op in operations {
        for key in ["p50_ms", "total_ms", "self_ms", "critical_ms"] {
            assert!(op[key].as_f64().expect(key) >= 0.0, "{op:#}");
        }
    }

    let out = critpath()
        .args(["stats", "--strict"])
        .arg(&path)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 2") && stderr.contains("1970-01-01..2200-01-01"),
        "{stderr}"
    );
}

/// OTLP (JSON and protobuf) and Jaeger: a time after 2200 is counted and
/// located; `u64` nanoseconds beyond `i64` are not wrapped to negatives.
#[test]
fn otlp_and_jaeger_times_beyond_the_bounds_are_counted() {
    let rows: Vec<Row> = vec![
        (1, None, T0, T0 + 1_000_000, SpanKind::Server),
        (2, Some(0), T0, LATEST + 1_000, SpanKind::Client),
        (3, Some(0), T0, i64::MAX, SpanKind::Client),
    ];
    for (format, bytes) in [
        (Format::OtlpJson, otlp_json(&rows)),
        (Format::Jaeger, jaeger(&rows)),
    ] {
        let options = IngestOptions {
            format: Some(format),
            ..IngestOptions::default()
        };
        let read = ingest_bytes("in.json", bytes.as_bytes(), &options).expect("read");
        assert_eq!(read.set.quality.invalid_time, 2, "{format:?}");
        assert_eq!(read.set.span_count(), 1, "{format:?}");
        assert!(
            read.set.quality.examples[0]
                .message
                .contains("after 2200-01-01")
        );
    }
    // u64::MAX nanoseconds in OTLP/JSON: saturated, then out of bounds.
    let huge = otlp_json(&rows[..1]).replace(
        &format!("\"{}\"", T0 + 1_000_000),
        "\"18446744073709551615\"",
    );
    let options = IngestOptions {
        format: Some(Format::OtlpJson),
        ..IngestOptions::default()
    };
    let read = ingest_bytes("in.json", huge.as_bytes(), &options).expect("read");
    assert_eq!(
        (read.set.span_count(), read.set.quality.invalid_time),
        (0, 1)
    );
}

/// Found by the `jaeger` fuzz target: a root service whose name starts with
/// "# " made every folded line look like a comment to inferno, and
/// `critpath flame` failed with "No stack counts found" (the HTML report's
/// flame graph lost those stacks).
#[test]
fn fuzz_find_a_service_named_like_a_comment_still_has_a_flame_graph() {
    let trace = r##"{"data":[{"traceID":"dbeffbaa1e409851b702cf41796b22e4","spans":[
{"traceID":"dbeffbaa1e409851b702cf41796b22e4","spanID":"fb25b5001364fa09","operationName":"build_report","references":[],"startTime":1710241351958000,"duration":27742000,"processID":"p1"},
{"traceID":"dbeffbaa1e409851b702cf41796b22e4","spanID":"2720f21a56428177","operationName":"SELECT report_definitions","references":[{"refType":"CHILD_OF","traceID":"dbeffbaa1e409851b702cf41796b22e4","spanID":"fb25b5001364fa09"}],"startTime":1710241351960000,"duration":2000,"processID":"p1"}],
"processes":{"p1":{"serviceName":"# reports-worker"}}}]}"##;
    let (_dir, path) = crate::util::temp_file("trace.json", trace.as_bytes());
    let (svg, _) = succeed(critpath().arg("flame").arg(&path));
    assert!(svg.contains("reports-worker:build_report"), "{svg}");
    let (folded, _) = succeed(critpath().args(["flame", "--folded"]).arg(&path));
    assert_eq!(folded.lines().count(), 2, "{folded}");
}

/// Spans that all last 0 µs leave no critical-path time: `flame` says so
/// (exit 2) instead of passing on inferno's "No stack counts found".
#[test]
fn flame_of_zero_length_traces_says_why_it_draws_nothing() {
    let trace = r#"{"data":[{"traceID":"dbeffbaa1e409851b702cf41796b22e4","spans":[
{"traceID":"dbeffbaa1e409851b702cf41796b22e4","spanID":"fb25b5001364fa09","operationName":"ping","references":[],"startTime":1710241351958000,"duration":0,"processID":"p1"}],
"processes":{"p1":{"serviceName":"api"}}}]}"#;
    let (_dir, path) = crate::util::temp_file("trace.json", trace.as_bytes());
    let out = critpath().arg("flame").arg(&path).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no critical-path time"), "{stderr}");
    assert!(!stderr.contains("No stack counts"), "{stderr}");
}
