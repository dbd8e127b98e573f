//! Detector tests on hand-made traces: each detector fires on the pattern it
//! is named after and stays quiet on the near misses.

use crate::analysis::breakdown::breakdown;
use crate::analysis::detectors::{FindingKind, FindingOptions, aggregate};
use crate::analysis::results::Finding;
use crate::analysis::select::{Selection, select};
use crate::model::testutil::TraceBuilder;

const MS: i64 = 1_000_000;

fn findings(b: TraceBuilder) -> Vec<Finding> {
    findings_with(b, &FindingOptions::default())
}

fn findings_with(b: TraceBuilder, options: &FindingOptions) -> Vec<Finding> {
    let set = b.build_set();
    let units = select(&set, &Selection::default());
    let bd = breakdown(&set, &units, options);
    aggregate(&set.strings, &bd).unwrap()
}

fn kinds(f: &[Finding]) -> Vec<&str> {
    f.iter().map(|f| f.kind.as_str()).collect()
}

/// A handler running `n` queries of one shape, each `d` ms, `gap` ms apart
/// (negative gap: overlapping).
fn loop_of(n: usize, d: i64, step: i64) -> TraceBuilder {
    let mut b = TraceBuilder::new().span_in("api", "GET /records", None, 0, 10_000 * MS);
    for i in 0..n as i64 {
        let start = MS + i * step * MS;
        b = b
            .span_in(
                "api",
                &format!("q{i}"),
                Some("GET /records"),
                start,
                start + d * MS,
            )
            .db(
                "postgresql",
                &format!("SELECT * FROM nodes WHERE id = {}", 17 + i),
            );
    }
    b
}

#[test]
fn n_plus_one_fires_on_a_loop_of_30_queries() {
    let f = findings(loop_of(30, 10, 11));
    let n1: Vec<_> = f
        .iter()
        .filter(|f| f.kind == FindingKind::NPlusOne)
        .collect();
    assert_eq!(n1.len(), 1, "{f:?}");
    assert_eq!(n1[0].count, 30);
    assert_eq!(n1[0].parent_operation, "GET /records");
    assert_eq!(n1[0].traces, 1);
    // 30 × 10 ms on the path, batched ≈ one 10 ms call.
    assert!(
        (n1[0].estimated_savings_ms - 290.0).abs() < 1e-9,
        "{}",
        n1[0].estimated_savings_ms
    );
}

#[test]
fn n_plus_one_quiet_on_four_repeats() {
    let f = findings(loop_of(4, 50, 51));
    assert!(!kinds(&f).contains(&"n_plus_one"), "{f:?}");
}

#[test]
fn concurrent_repeats_are_a_fan_out_not_n_plus_one() {
    // 12 queries of 100 ms starting 1 ms apart: they overlap.
    let f = findings(loop_of(12, 100, 1));
    assert!(!kinds(&f).contains(&"n_plus_one"), "{f:?}");
    assert!(kinds(&f).contains(&"fan_out"), "{f:?}");
}

/// One handler with a loop of 6 sequential queries and, beside it, a burst
/// of 8 concurrent ones: both detectors read the same groups of siblings,
/// each at its own minimum size.
#[test]
fn each_repeat_detector_applies_its_own_minimum_to_the_shared_groups() {
    let mut b = loop_of(6, 20, 21);
    for i in 0..8i64 {
        let start = 500 * MS + i * MS;
        b = b
            .span_in(
                "api",
                &format!("burst{i}"),
                Some("GET /records"),
                start,
                start + 100 * MS,
            )
            .db("postgresql", &format!("SELECT * FROM tags WHERE id = {i}"));
    }
    let set = b.build_set();
    let units = select(&set, &Selection::default());
    let found = |options: FindingOptions| {
        let bd = breakdown(&set, &units, &options);
        let f = aggregate(&set.strings, &bd).unwrap();
        let mut k: Vec<(String, u64)> = f
            .iter()
            .filter(|f| matches!(f.kind, FindingKind::NPlusOne | FindingKind::FanOut))
            .map(|f| (f.kind.as_str().to_string(), f.count))
            .collect();
        k.sort();
        k
    };
    let pair = |kind: &str, n: u64| (kind.to_string(), n);
    assert_eq!(found(FindingOptions::default()), [pair("n_plus_one", 6)]);
    let wider = FindingOptions {
        fan_out_min: 8,
        ..FindingOptions::default()
    };
    assert_eq!(found(wider), [pair("fan_out", 8), pair("n_plus_one", 6)]);
    let stricter = FindingOptions {
        fan_out_min: 8,
        n_plus_one_min: 7,
        ..FindingOptions::default()
    };
    assert_eq!(found(stricter), [pair("fan_out", 8)]);
}

#[test]
fn a_minimum_below_two_still_groups_two_or_more() {
    // A loop of two queries and, beside it, one lone 60 ms query: with
    // minimums of 1, the loop is reported and the lone query is not (a
    // group is two siblings or more, whatever the minimum).
    let b = loop_of(2, 30, 31)
        .span_in("api", "lone", Some("GET /records"), 200 * MS, 260 * MS)
        .db("postgresql", "SELECT * FROM users");
    let options = FindingOptions {
        n_plus_one_min: 1,
        fan_out_min: 1,
        ..FindingOptions::default()
    };
    let f = findings_with(b, &options);
    let repeats: Vec<(&str, u64)> = f
        .iter()
        .filter(|f| matches!(f.kind, FindingKind::NPlusOne | FindingKind::FanOut))
        .map(|f| (f.kind.as_str(), f.count))
        .collect();
    assert_eq!(repeats, [("n_plus_one", 2)], "{f:?}");
}

/// A `GET /v1/home` of `root_ms` ms in bff that calls, for each of
/// `calls` (its start and end in ms), the next of geo-api,
/// intel-requests-api and assets-api.
fn home(root_ms: i64, calls: &[(i64, i64)]) -> TraceBuilder {
    let apis = [
        ("geo", "GET", "http://geo-api/reverse/1"),
        ("intel", "POST", "http://intel-requests-api/v1/bulk"),
        ("assets", "GET", "http://assets-api/assets"),
    ];
    let mut b = TraceBuilder::new().span_in("bff", "GET /v1/home", None, 0, root_ms * MS);
    for (&(name, method, url), &(start, end)) in apis.iter().zip(calls) {
        b = b
            .span_in("bff", name, Some("GET /v1/home"), start * MS, end * MS)
            .http(method, url);
    }
    b
}

/// Asserts that `b` has one `sequential_calls` finding, of `count` calls
/// saving `savings_ms`.
fn assert_one_sequential_run(b: TraceBuilder, count: u64, savings_ms: f64) {
    let f = findings(b);
    let seq: Vec<_> = f
        .iter()
        .filter(|f| f.kind == FindingKind::SequentialCalls)
        .collect();
    assert_eq!(seq.len(), 1, "{f:?}");
    assert_eq!(seq[0].count, count);
    assert!((seq[0].estimated_savings_ms - savings_ms).abs() < 1e-9);
}

#[test]
fn sequential_calls_fire_on_three_independent_calls() {
    let b = home(700, &[(10, 210), (210, 460), (460, 610)]);
    assert_one_sequential_run(b, 3, 350.0);
}

#[test]
fn sequential_calls_fire_on_two_long_calls_below_a_short_root() {
    // Exactly two spans reach `sequential_min_call` (30 ms), both below
    // the root: the fewest a run needs. The root is shorter (its calls
    // outlast it), so a bound that counted it would need a third.
    let b = home(20, &[(1, 151), (151, 301)]);
    assert_one_sequential_run(b, 2, 150.0);
}

#[test]
fn sequential_calls_quiet_when_calls_are_short() {
    let b = home(20, &[(1, 4), (4, 7), (7, 10)]);
    assert!(!kinds(&findings(b)).contains(&"sequential_calls"));
}

#[test]
fn uninstrumented_time_is_named() {
    // aaa-api waits 900 ms on a pool nobody instrumented; its query is tiny.
    let b = TraceBuilder::new()
        .span_in("aaa-api", "POST /authorize", None, 0, 1000 * MS)
        .span_in("aaa-api", "q", Some("POST /authorize"), 990 * MS, 991 * MS)
        .db("postgresql", "SELECT 1");
    let f = findings(b);
    let u: Vec<_> = f
        .iter()
        .filter(|f| f.kind == FindingKind::Uninstrumented)
        .collect();
    assert_eq!(u.len(), 1, "{f:?}");
    assert_eq!(u[0].service, "aaa-api");
    assert!(u[0].total_ms > 900.0);
}
