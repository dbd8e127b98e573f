//! Cases ported from Jaeger UI's `TracePage/CriticalPath/testCases` (test1
//! to test9; inputs and expected sections in µs, here in time order), the
//! deliberate differences from it, and property tests of the invariants.

use proptest::prelude::*;

use super::*;
use crate::model::testutil::TraceBuilder;

/// The critical path of the main root as `(span name, start, end)`.
fn path(builder: TraceBuilder) -> Vec<(String, Nanos, Nanos)> {
    let (trace, strings) = builder.build_with_strings();
    let root = trace.main_root().expect("non-empty trace");
    critical_path(&trace, root)
        .into_iter()
        .map(|s| {
            let name = strings.resolve(trace.spans[s.span].name).to_string();
            (name, s.start, s.end)
        })
        .collect()
}

fn expect(rows: &[(&str, Nanos, Nanos)]) -> Vec<(String, Nanos, Nanos)> {
    rows.iter()
        .map(|&(n, s, e)| (n.to_string(), s, e))
        .collect()
}

#[test]
fn jaeger_ui_test1_children_in_sequence_with_a_gap() {
    let b = TraceBuilder::new()
        .span("e", Some("c"), 50, 60)
        .span("c", None, 1, 101)
        .span("d", Some("c"), 20, 40);
    let want = [
        ("c", 1, 20),
        ("d", 20, 40),
        ("c", 40, 50),
        ("e", 50, 60),
        ("c", 60, 101),
    ];
    assert_eq!(path(b), expect(&want));
}

#[test]
fn jaeger_ui_test2_overlapping_children_follow_the_last_finishing() {
    let b = TraceBuilder::new()
        .span("x", None, 1, 101)
        .span("a", Some("x"), 10, 50)
        .span("c", Some("x"), 20, 60);
    assert_eq!(
        path(b),
        expect(&[("x", 1, 20), ("c", 20, 60), ("x", 60, 101)])
    );
}

#[test]
fn jaeger_ui_test3_child_after_the_parent_is_dropped() {
    let b = TraceBuilder::new()
        .span("a", None, 100, 140)
        .kind(SpanKind::Producer)
        .span("b", Some("a"), 200, 500)
        .kind(SpanKind::Client);
    assert_eq!(path(b), expect(&[("a", 100, 140)]));
}

#[test]
fn jaeger_ui_test4_descendants_after_the_parent_are_dropped() {
    let b = TraceBuilder::new()
        .span("a", None, 1, 31)
        .span("b", Some("a"), 40, 80)
        .span("c", Some("b"), 50, 60);
    assert_eq!(path(b), expect(&[("a", 1, 31)]));
}

#[test]
fn jaeger_ui_test5_consumer_of_a_producer_does_not_block() {
    let b = TraceBuilder::new()
        .span("a", None, 1, 31)
        .kind(SpanKind::Producer)
        .span("b", Some("a"), 10, 20)
        .kind(SpanKind::Consumer)
        .span("c", Some("b"), 12, 14);
    assert_eq!(path(b), expect(&[("a", 1, 31)]));
}

#[test]
fn jaeger_ui_test6_grandchild_clipped_to_the_clipped_child() {
    let b = TraceBuilder::new()
        .span("a", None, 1, 30)
        .span("b", Some("a"), 15, 35)
        .span("c", Some("b"), 10, 25);
    assert_eq!(
        path(b),
        expect(&[("a", 1, 15), ("c", 15, 25), ("b", 25, 30)])
    );
}

#[test]
fn jaeger_ui_test7_overflowing_chain_clipped_at_the_root_end() {
    let b = TraceBuilder::new()
        .span("a", None, 1, 30)
        .span("b", Some("a"), 15, 35)
        .span("c", Some("b"), 20, 40);
    assert_eq!(
        path(b),
        expect(&[("a", 1, 15), ("b", 15, 20), ("c", 20, 30)])
    );
}

/// Jaeger UI's rule; CRISP would give these 20 µs to the parent.
#[test]
fn jaeger_ui_test8_child_enclosing_its_parent_holds_the_time() {
    let b = TraceBuilder::new()
        .span("a", None, 10, 30)
        .span("b", Some("a"), 5, 35);
    assert_eq!(path(b), expect(&[("b", 10, 30)]));
}

#[test]
fn jaeger_ui_test9_child_before_the_parent_is_dropped() {
    let b = TraceBuilder::new()
        .span("a", None, 10, 30)
        .span("b", Some("a"), 1, 5);
    assert_eq!(path(b), expect(&[("a", 10, 30)]));
}

/// jaegertracing/jaeger#9148: Jaeger UI loses `b` because it only takes
/// children ending strictly before the followed one starts.
#[test]
fn touching_siblings_are_both_on_the_path() {
    let b = TraceBuilder::new()
        .span("root", None, 0, 100)
        .span("b", Some("root"), 10, 50)
        .span("c", Some("root"), 50, 90);
    let want = [
        ("root", 0, 10),
        ("b", 10, 50),
        ("c", 50, 90),
        ("root", 90, 100),
    ];
    assert_eq!(path(b), expect(&want));
}

/// CRISP's 10.json: siblings skewed into each other by 1 µs stay on the
/// path, each cut where the next one starts.
#[test]
fn siblings_overlapping_by_less_than_the_tolerance_stay_on_the_path() {
    let b = TraceBuilder::new()
        .span("a", None, 0, 1000)
        .span("b", Some("a"), 10, 210)
        .span("c", Some("a"), 209, 309)
        .span("d", Some("a"), 308, 608);
    let want = [
        ("a", 0, 10),
        ("b", 10, 209),
        ("c", 209, 308),
        ("d", 308, 608),
        ("a", 608, 1000),
    ];
    assert_eq!(path(b), expect(&want));
    // An overlap beyond 1% of the parent is real concurrency: `c` is not
    // followed.
    let b = TraceBuilder::new()
        .span("a", None, 0, 1000)
        .span("c", Some("a"), 200, 330)
        .span("d", Some("a"), 308, 608);
    assert_eq!(
        path(b),
        expect(&[("a", 0, 308), ("d", 308, 608), ("a", 608, 1000)])
    );
}

/// Jaeger UI treats a returning start time of 0 as absent.
#[test]
fn a_timestamp_of_zero_is_a_timestamp() {
    let b = TraceBuilder::new()
        .span("root", None, 0, 30)
        .span("a", Some("root"), 0, 10)
        .span("b", Some("root"), 10, 30);
    assert_eq!(path(b), expect(&[("a", 0, 10), ("b", 10, 30)]));
}

#[test]
fn negative_times_and_negative_durations_do_not_break_tiling() {
    let b = TraceBuilder::new()
        .span("root", None, -50, 50)
        .span("neg", Some("root"), 20, 10)
        .span("a", Some("root"), -40, 0);
    let want = [("root", -50, -40), ("a", -40, 0), ("root", 0, 50)];
    assert_eq!(path(b), expect(&want));
}

#[test]
fn deep_chain_does_not_overflow_the_stack() {
    let mut b = TraceBuilder::new().span("s0", None, 0, 200_000);
    for i in 1..50_000i64 {
        b = b.span(
            &format!("s{i}"),
            Some(&format!("s{}", i - 1)),
            i,
            200_000 - i,
        );
    }
    let (trace, _) = b.build_with_strings();
    let segments = critical_path(&trace, trace.main_root().unwrap());
    assert_eq!(segments.len(), 2 * 50_000 - 1);
}

#[test]
fn critical_times_cover_every_root() {
    let (trace, _) = TraceBuilder::new()
        .span("r1", None, 0, 10)
        .span("r2", None, 5, 25)
        .span("c", Some("r2"), 10, 20)
        .build_with_strings();
    let times = critical_times(&trace);
    assert_eq!(times.iter().sum::<Nanos>(), 10 + 20);
}

/// A random span tree: `(parent index, start, length)` per span, the parent
/// always an earlier span, so index 0 is the root.
fn tree() -> impl Strategy<Value = Vec<(usize, Nanos, Nanos)>> {
    prop::collection::vec(
        (any::<prop::sample::Index>(), -50i64..1_000, 0i64..600),
        1..40,
    )
    .prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (p, s, l))| (if i == 0 { 0 } else { p.index(i) }, s, l))
            .collect()
    })
}

fn build(rows: &[(usize, Nanos, Nanos)]) -> Trace {
    let mut b = TraceBuilder::new();
    for (i, &(p, s, l)) in rows.iter().enumerate() {
        let parent = (i > 0).then(|| format!("s{p}"));
        b = b.span(&format!("s{i}"), parent.as_deref(), s, s + l);
    }
    b.build_with_strings().0
}

/// Clipped windows of every span, as the walk sees them (None: dropped).
fn windows(trace: &Trace, root: usize) -> Vec<Option<(Nanos, Nanos)>> {
    let mut out = vec![None; trace.spans.len()];
    let r = &trace.spans[root];
    out[root] = Some((r.start, r.end.max(r.start)));
    let mut stack = vec![root];
    while let Some(p) = stack.pop() {
        let (ps, pe) = out[p].unwrap();
        for c in trace.children(p) {
            let s = &trace.spans[c];
            let end = s.end.max(s.start);
            if s.start <= pe && end >= ps {
                out[c] = Some((s.start.max(ps), end.min(pe)));
                stack.push(c);
            }
        }
    }
    out
}

proptest! {
    #[test]
    fn segments_tile_the_root_and_stay_inside_their_windows(rows in tree()) {
        let trace = build(&rows);
        for &root in &trace.roots {
            let segments = critical_path(&trace, root);
            let r = &trace.spans[root];
            let mut at = r.start;
            for s in &segments {
                prop_assert_eq!(s.start, at, "gap or overlap at {}", at);
                prop_assert!(s.end > s.start);
                at = s.end;
            }
            prop_assert_eq!(at, r.end.max(r.start));
            let win = windows(&trace, root);
            for s in &segments {
                let (ws, we) = win[s.span].expect("segment of a dropped span");
                prop_assert!(ws <= s.start && s.end <= we);
            }
        }
    }

    /// Without overlapping siblings or overflowing children, every span's
    /// critical time is its self time and self times sum to the root's.
    #[test]
    fn sequential_trees_critical_time_equals_self_time(
        lengths in prop::collection::vec((1i64..100, 0i64..20, 0usize..4), 1..30)
    ) {
        // Lay out a tree by nesting: each span becomes a child of the most
        // recent span that still has room, so nothing overlaps or overflows.
        let mut b = TraceBuilder::new().span("s0", None, 0, 100_000);
        let mut cursor = vec![(0usize, 0i64, 100_000i64)];
        for (i, &(len, gap, depth)) in lengths.iter().enumerate() {
            cursor.truncate((depth % cursor.len()) + 1);
            let (p, at, end) = *cursor.last().unwrap();
            let start = at + gap;
            if start + len > end {
                continue;
            }
            let name = format!("s{}", i + 1);
            b = b.span(&name, Some(&format!("s{p}")), start, start + len);
            cursor.last_mut().unwrap().1 = start + len;
            cursor.push((i + 1, start, start + len));
        }
        let (trace, strings) = b.build_with_strings();
        let crit = critical_times(&trace);
        let selfs = crate::analysis::self_time::self_times(&trace);
        for i in 0..trace.spans.len() {
            prop_assert_eq!(crit[i], selfs[i], "span {}", strings.resolve(trace.spans[i].name));
        }
        prop_assert_eq!(selfs.iter().sum::<Nanos>(), 100_000);
    }
}
