//! What every fuzz target runs: the whole pipeline on one input, as
//! `critpath analyze`, `stats` and `trace` run it, with every output written
//! into memory. Any panic (an overflow included: fuzz builds keep debug
//! assertions) or broken invariant is a finding.

use critpath::analysis::detectors::FindingOptions;
use critpath::analysis::results::Analysis;
use critpath::analysis::select::Selection;
use critpath::analysis::summary::Summary;
use critpath::analysis::{analyze_with_breakdown, flame};
use critpath::ingest::{Format, IngestOptions, ingest_bytes};
use critpath::report::waterfall::{self, WaterfallOptions};
use critpath::report::{self, CsvSection, ReportFormat, ReportOptions};

/// Traces drawn as waterfalls per input (the first ones).
const WATERFALLS: usize = 3;

/// Reads `data` as `format` and, if anything was read, analyses it and
/// writes every report format (each CSV section), the stats, the flame
/// graph and a few waterfalls; checks the invariants the reports promise.
pub fn pipeline(format: Format, data: &[u8]) {
    let options = IngestOptions {
        format: Some(format),
        ..IngestOptions::default()
    };
    let Ok(ingested) = ingest_bytes("fuzz-input", data, &options) else {
        return;
    };
    // Every span that was read has times within the ingest bounds.
    for trace in &ingested.set.traces {
        for span in &trace.spans {
            assert!(critpath::model::check_times(span.start, span.end).is_none());
        }
    }
    let summary = Summary::from_ingested(&ingested);
    let mut out = Vec::new();
    report::stats::write_json(&summary, &mut out).expect("stats json");
    report::stats::write_table(&summary, &mut out).expect("stats table");

    let (analysis, breakdown) =
        analyze_with_breakdown(&ingested, &Selection::default(), &FindingOptions::default())
            .expect("analysis of what was read never fails");
    check(&analysis);
    for unit in &breakdown.units {
        let critical: i64 = unit
            .segments
            .iter()
            .map(|s| s.end - s.start)
            .fold(0, i64::saturating_add);
        assert!(unit.duration >= 0);
        assert!(
            critical <= unit.duration,
            "critical {critical} > root {}",
            unit.duration
        );
    }
    let folded = flame::folded(&ingested.set, &breakdown, None).expect("folded");
    // inferno refuses an empty graph ("No stack counts found"): inputs
    // whose critical paths hold no time have none.
    let svg = report::flame::svg(&folded, "fuzz", &mut out);
    assert!(svg.is_ok() || folded.is_empty(), "flame svg: {svg:?}");
    report::flame::folded_text(&folded, &mut out).expect("folded");

    let report_options = |csv_section| ReportOptions {
        top: 10,
        top_explicit: false,
        csv_section,
        width: Some(100),
    };
    for format in [
        ReportFormat::Table,
        ReportFormat::Json,
        ReportFormat::Markdown,
        ReportFormat::Html,
    ] {
        let reporter = report::reporter(
            format,
            report_options(CsvSection::Operations),
            folded.clone(),
        );
        reporter.write(&analysis, &mut out).expect("report");
    }
    for section in [
        CsvSection::Operations,
        CsvSection::Services,
        CsvSection::HotPaths,
        CsvSection::Edges,
        CsvSection::Errors,
    ] {
        let reporter = report::reporter(ReportFormat::Csv, report_options(section), folded.clone());
        reporter.write(&analysis, &mut out).expect("csv report");
    }
    let waterfall_options = WaterfallOptions {
        depth: None,
        min_duration: i64::MIN,
        color: false,
        bar_width: 40,
    };
    for trace in ingested.set.traces.iter().take(WATERFALLS) {
        waterfall::write(&ingested.set, trace, &waterfall_options, &mut out).expect("waterfall");
    }
}

/// What no report may show: a negative time.
fn check(analysis: &Analysis) {
    for (what, v) in analysis.reported_times() {
        assert!(v >= 0.0, "{what} is {v}");
    }
}

/// An OTLP/JSON request of one trace: a root, two database spans whose
/// statement is `text` (one `mysql`, one `redis`) and an HTTP client span
/// whose URL is `text`, for the normaliser target.
pub fn trace_with_text(text: &str) -> String {
    let text = serde_json::to_string(text).expect("a string serialises");
    let span = |id: u8, parent: &str, start: u64, end: u64, attrs: String| {
        format!(
            r#"{{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"00000000000000{id:02x}","parentSpanId":"{parent}","name":"op{id}","kind":3,"startTimeUnixNano":"{start}","endTimeUnixNano":"{end}","attributes":[{attrs}]}}"#
        )
    };
    let attr =
        |key: &str, value: &str| format!(r#"{{"key":"{key}","value":{{"stringValue":{value}}}}}"#);
    let t0: u64 = 1_700_000_000_000_000_000;
    let root = "0000000000000001";
    let spans = [
        span(1, "", t0, t0 + 10_000_000, String::new()),
        span(
            2,
            root,
            t0 + 1_000_000,
            t0 + 2_000_000,
            format!(
                "{},{}",
                attr("db.system", "\"mysql\""),
                attr("db.statement", &text)
            ),
        ),
        span(
            3,
            root,
            t0 + 2_000_000,
            t0 + 3_000_000,
            format!(
                "{},{}",
                attr("db.system", "\"redis\""),
                attr("db.statement", &text)
            ),
        ),
        span(
            4,
            root,
            t0 + 3_000_000,
            t0 + 9_000_000,
            format!(
                "{},{}",
                attr("http.method", "\"GET\""),
                attr("url.full", &text)
            ),
        ),
    ];
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{}]}},"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
        attr("service.name", "\"api\""),
        spans.join(",")
    )
}
