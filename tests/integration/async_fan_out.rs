//! Async fan-out end to end (issue 14, item 5): the critical path that
//! `critpath analyze` reports for the `asyncio.gather` trace of
//! jaeger-ui#2371 and for a fire-and-forget child that outlives its parent,
//! read from Jaeger JSON. The same shapes, with the derivations, are unit
//! tests in `src/analysis/critical_path/tests.rs`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::util::{json, temp_file};

/// Two traces; times in µs from 2024-03-12T11:02:31Z.
///
/// Trace a1 (service `gather-demo`), jaeger-ui#2371 with event-loop jitter:
///
/// ```text
/// µs         0        100_120   200_180 200_350            500_400 500_600
/// main       [==============================================================]
/// get /foo1  [=========]
/// get /foo2  [===========================]
/// get /foo3                      [===================================]
/// ```
///
/// From 500_600: get /foo3 is followed (main keeps 500_400-500_600); get
/// /foo2 overlaps it by 170 µs, within 1% of main (5_006 µs), so it is
/// followed too, cut at 200_180; get /foo1 ends too late to be followed.
/// Path: get /foo2 0-200_180, get /foo3 200_180-500_400, main
/// 500_400-500_600.
///
/// Trace b1 (service `fire-demo`), a fire-and-forget `audit` among awaited
/// calls:
///
/// ```text
/// µs        0    100_000  300_000 400_000 700_000  1_000_000 ... 2_500_000
/// handler   [============================================]
/// auth           [=======]
/// audit                   [================================ ... =====]
/// query                           [=======]
/// ```
///
/// audit is clipped to end at 1_000_000 and followed back to 300_000; query
/// ends after that, so it is not followed; auth is, back to 100_000.
/// Path: handler 0-100_000, auth 100_000-300_000, audit 300_000-1_000_000.
const TRACES: &str = r#"{"data":[
{"traceID":"000000000000000000000000000000a1","spans":[
{"traceID":"000000000000000000000000000000a1","spanID":"00000000000000a1","operationName":"main","references":[],"startTime":1710241351000000,"duration":500600,"processID":"p1"},
{"traceID":"000000000000000000000000000000a1","spanID":"00000000000000a2","operationName":"get /foo1","references":[{"refType":"CHILD_OF","traceID":"000000000000000000000000000000a1","spanID":"00000000000000a1"}],"startTime":1710241351000000,"duration":100120,"processID":"p1"},
{"traceID":"000000000000000000000000000000a1","spanID":"00000000000000a3","operationName":"get /foo2","references":[{"refType":"CHILD_OF","traceID":"000000000000000000000000000000a1","spanID":"00000000000000a1"}],"startTime":1710241351000000,"duration":200350,"processID":"p1"},
{"traceID":"000000000000000000000000000000a1","spanID":"00000000000000a4","operationName":"get /foo3","references":[{"refType":"CHILD_OF","traceID":"000000000000000000000000000000a1","spanID":"00000000000000a1"}],"startTime":1710241351200180,"duration":300220,"processID":"p1"}],
"processes":{"p1":{"serviceName":"gather-demo"}}},
{"traceID":"000000000000000000000000000000b1","spans":[
{"traceID":"000000000000000000000000000000b1","spanID":"00000000000000b1","operationName":"handler","references":[],"startTime":1710241351000000,"duration":1000000,"processID":"p1"},
{"traceID":"000000000000000000000000000000b1","spanID":"00000000000000b2","operationName":"auth","references":[{"refType":"CHILD_OF","traceID":"000000000000000000000000000000b1","spanID":"00000000000000b1"}],"startTime":1710241351100000,"duration":200000,"processID":"p1"},
{"traceID":"000000000000000000000000000000b1","spanID":"00000000000000b3","operationName":"audit","references":[{"refType":"CHILD_OF","traceID":"000000000000000000000000000000b1","spanID":"00000000000000b1"}],"startTime":1710241351300000,"duration":2200000,"processID":"p1"},
{"traceID":"000000000000000000000000000000b1","spanID":"00000000000000b4","operationName":"query","references":[{"refType":"CHILD_OF","traceID":"000000000000000000000000000000b1","spanID":"00000000000000b1"}],"startTime":1710241351400000,"duration":300000,"processID":"p1"}],
"processes":{"p1":{"serviceName":"fire-demo"}}}]}"#;

/// Critical time per `service operation`, in µs, from `analyze --format json`.
fn critical_us(report: &Value) -> BTreeMap<String, i64> {
    report["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .map(|o| {
            let key = format!(
                "{} {}",
                o["service"].as_str().expect("service"),
                o["operation"].as_str().expect("operation")
            );
            let us = (o["critical_ms"].as_f64().expect("critical_ms") * 1000.0).round() as i64;
            (key, us)
        })
        .collect()
}

#[test]
fn gather_and_fire_and_forget_critical_times_end_to_end() {
    let (_dir, file) = temp_file("fan_out.json", TRACES.as_bytes());
    let report = json(&[
        "analyze",
        file.to_str().expect("UTF-8 path"),
        "--format",
        "json",
    ]);
    let got = critical_us(&report);
    let want: BTreeMap<String, i64> = [
        ("gather-demo main", 200),
        ("gather-demo get /foo1", 0),
        ("gather-demo get /foo2", 200_180),
        ("gather-demo get /foo3", 300_220),
        ("fire-demo handler", 100_000),
        ("fire-demo auth", 200_000),
        ("fire-demo audit", 700_000),
        ("fire-demo query", 0),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(got, want, "{report:#}");
    // The paths tile both roots: 500_600 + 1_000_000 µs.
    assert_eq!(got.values().sum::<i64>(), 1_500_600);
}
