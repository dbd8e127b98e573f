//! Where in a trace a failure actually happened.
//!
//! Errors propagate upward: a failing database call fails its handler, which
//! fails the root, so "the spans with an error" names every layer of one
//! failure rather than its origin. The deepest error span anywhere is no
//! better: it may sit on a branch that was retried or handled and had nothing
//! to do with why the request failed. So the locus is the deepest span on the
//! *failing branch*: the walk starts at the topmost error and only goes down
//! through spans the failure passed through.
//!
//! A parent can also fail because it gave up waiting: a proxy or route
//! timeout records the error on the proxy while the backend it waited for,
//! still running, reports nothing wrong. A child that outlived its failing
//! parent is therefore followed too, or every timeout would be blamed on the
//! proxy instead of the hung backend.

use std::cmp::Reverse;

use crate::model::{Status, Trace};

/// Where the failure under `root` happened: the index of the span (into
/// `trace.spans`) at the bottom of the failing branch, or `None` when no span
/// in the subtree under `root` has [`Status::Error`] (or `root` is not a span
/// of `trace`).
///
/// The walk starts at the error span nearest `root` (ties: earliest start,
/// then lowest index) and moves down while it can: to the error child that
/// ended last, or, with no error child, to the child still running when the
/// current span ended (`child.end >= end`; the latest-ending one). Ties go
/// to the lowest index.
pub fn locus(trace: &Trace, root: usize) -> Option<usize> {
    let mut at = topmost_error(trace, root)?;
    // The builder breaks cycles, but bounding the walk by the span count
    // keeps a malformed graph from hanging the whole analysis.
    for _ in 0..trace.spans.len() {
        match next_step(trace, at) {
            Some(next) => at = next,
            None => break,
        }
    }
    Some(at)
}

/// [`locus`], for a caller that holds `members`, the spans under `root`:
/// with no error among them there is no locus (most units), and the walk
/// down the subtree level by level is skipped.
pub fn locus_among(trace: &Trace, root: usize, members: &[usize]) -> Option<usize> {
    if !members.iter().any(|&i| is_error(trace, i)) {
        return None;
    }
    locus(trace, root)
}

/// The error span with the smallest depth under `root` (ties: earliest
/// start, then lowest index).
fn topmost_error(trace: &Trace, root: usize) -> Option<usize> {
    if root >= trace.spans.len() {
        return None;
    }
    // Each span has one parent and the builder breaks cycles, so the walk
    // meets each span of the subtree once; counting the spans met bounds it
    // anyway, as `locus` bounds its steps. A mark per span of the trace did
    // the same but cost the whole trace for each root: quadratic in a trace
    // of many roots (fragments whose parents were never received).
    let mut left = trace.spans.len();
    let mut level = vec![root];
    while !level.is_empty() && left > 0 {
        left = left.saturating_sub(level.len());
        let errors = level.iter().copied().filter(|&i| is_error(trace, i));
        if let Some(found) = errors.min_by_key(|&i| (trace.spans[i].start, i)) {
            return Some(found);
        }
        level = level.iter().flat_map(|&i| trace.children(i)).collect();
    }
    None
}

/// The child of `s` the failure continues into, if any.
fn next_step(trace: &Trace, s: usize) -> Option<usize> {
    let end = trace.spans[s].end;
    latest(trace, trace.children(s).filter(|&c| is_error(trace, c))).or_else(|| {
        // No child failed, so a child still running when `s` ended is what
        // `s` gave up waiting for.
        latest(
            trace,
            trace.children(s).filter(|&c| trace.spans[c].end >= end),
        )
    })
}

/// The candidate that ended last (ties: lowest index).
fn latest(trace: &Trace, candidates: impl Iterator<Item = usize>) -> Option<usize> {
    // A child that failed (or hung) last is the one whose failure the parent
    // reported; lowest index keeps equal ends deterministic.
    candidates.max_by_key(|&c| (trace.spans[c].end, Reverse(c)))
}

fn is_error(trace: &Trace, i: usize) -> bool {
    trace.spans[i].status == Status::Error
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Interner;
    use crate::model::testutil::TraceBuilder;

    /// The index of the span named `name` (span names are unique in tests).
    fn idx(trace: &Trace, strings: &Interner, name: &str) -> usize {
        trace
            .spans
            .iter()
            .position(|s| strings.resolve(s.name) == name)
            .expect("span exists")
    }

    #[test]
    fn no_error_gives_none() {
        // Nothing failed (Unset and Ok only), so there is no locus.
        let (t, _) = TraceBuilder::new()
            .span("root", None, 0, 1_000)
            .status(Status::Ok)
            .span("child", Some("root"), 10, 2_000)
            .build_with_strings();
        assert_eq!(locus(&t, 0), None);
    }

    #[test]
    fn locus_among_a_units_spans_is_the_locus() {
        // Two roots: one whose subtree failed, one whose did not. Given
        // each root's own spans, the shortcut answers as the walk does.
        let (t, _) = TraceBuilder::new()
            .span("ok-root", None, 0, 1_000)
            .span("ok-child", Some("ok-root"), 10, 500)
            .status(Status::Ok)
            .span("bad-root", None, 0, 1_000)
            .span("bad-child", Some("bad-root"), 10, 900)
            .status(Status::Error)
            .span("bad-leaf", Some("bad-child"), 20, 900)
            .build_with_strings();
        for &root in &t.roots {
            let mut members = vec![root];
            let mut at = 0;
            while at < members.len() {
                members.extend(t.children(members[at]));
                at += 1;
            }
            assert_eq!(locus_among(&t, root, &members), locus(&t, root));
        }
        assert!(t.roots.iter().any(|&r| locus(&t, r).is_some()));
        assert!(t.roots.iter().any(|&r| locus(&t, r).is_none()));
    }

    #[test]
    fn error_chain_ends_at_the_failing_leaf() {
        // root(E) -> handler(E) -> db(E); the cache call finished OK.
        // Walk: root -> handler (only error child) -> db (only error child)
        // -> db has no children: db.
        let (t, s) = TraceBuilder::new()
            .span("root", None, 0, 1_000)
            .status(Status::Error)
            .span("handler", Some("root"), 10, 900)
            .status(Status::Error)
            .span("cache", Some("handler"), 20, 100)
            .status(Status::Ok)
            .span("db", Some("handler"), 110, 500)
            .db("postgresql", "SELECT 1")
            .status(Status::Error)
            .build_with_strings();
        assert_eq!(locus(&t, idx(&t, &s, "root")), Some(idx(&t, &s, "db")));
    }

    #[test]
    fn proxy_timeout_points_at_the_hung_backend() {
        // proxy(E, 0..15_000) -> backend(Unset, 100..20_000): no error child,
        // but backend was still running when proxy gave up (20_000 >=
        // 15_000), so the walk enters it. Inside, query ended at 5_000, well
        // before backend's 20_000, so the walk stops: backend, not proxy.
        let (t, s) = TraceBuilder::new()
            .span_in("proxy", "proxy", None, 0, 15_000)
            .status(Status::Error)
            .span_in("backend", "backend", Some("proxy"), 100, 20_000)
            .span_in("backend", "query", Some("backend"), 200, 5_000)
            .status(Status::Ok)
            .build_with_strings();
        let found = locus(&t, idx(&t, &s, "proxy")).expect("proxy failed");
        assert_eq!(found, idx(&t, &s, "backend"));
        assert_eq!(s.resolve(t.spans[found].service), "backend");
    }

    #[test]
    fn child_ending_with_its_failing_parent_counts_as_still_running() {
        // gw(E, 0..1_000) -> upstream(Ok, 50..1_000): 1_000 >= 1_000, so the
        // gateway stopped waiting exactly when upstream was cut: upstream.
        let (t, s) = TraceBuilder::new()
            .span("gw", None, 0, 1_000)
            .status(Status::Error)
            .span("upstream", Some("gw"), 50, 1_000)
            .status(Status::Ok)
            .build_with_strings();
        assert_eq!(locus(&t, 0), Some(idx(&t, &s, "upstream")));
    }

    #[test]
    fn walk_follows_the_failing_branch_not_the_deepest_error() {
        // root(Unset) -> a(E, depth 1) -> a1(E, depth 2)
        //             -> b(Ok) -> b1(Ok) -> b2(E, depth 3, handled below b)
        // Topmost error: a (depth 1). a's only error child is a1, which has
        // no children: a1. b2 is deeper but not on the failing branch.
        let (t, s) = TraceBuilder::new()
            .span("root", None, 0, 1_000)
            .span("a", Some("root"), 10, 900)
            .status(Status::Error)
            .span("a1", Some("a"), 20, 800)
            .status(Status::Error)
            .span("b", Some("root"), 30, 400)
            .status(Status::Ok)
            .span("b1", Some("b"), 40, 390)
            .status(Status::Ok)
            .span("b2", Some("b1"), 50, 380)
            .status(Status::Error)
            .build_with_strings();
        assert_eq!(locus(&t, 0), Some(idx(&t, &s, "a1")));
    }

    #[test]
    fn among_error_children_the_latest_ending_wins() {
        // p(E) -> e1(E, ends 100), e2(E, ends 200): e2 ended last.
        let (t, s) = TraceBuilder::new()
            .span("p", None, 0, 1_000)
            .status(Status::Error)
            .span("e1", Some("p"), 10, 100)
            .status(Status::Error)
            .span("e2", Some("p"), 20, 200)
            .status(Status::Error)
            .build_with_strings();
        assert_eq!(locus(&t, 0), Some(idx(&t, &s, "e2")));
    }

    #[test]
    fn topmost_error_ties_go_to_the_earliest_start() {
        // root(Unset) -> x(E, starts 300), y(E, starts 100), both depth 1
        // and childless: y starts first.
        let (t, s) = TraceBuilder::new()
            .span("root", None, 0, 1_000)
            .span("x", Some("root"), 300, 400)
            .status(Status::Error)
            .span("y", Some("root"), 100, 200)
            .status(Status::Error)
            .build_with_strings();
        assert_eq!(locus(&t, 0), Some(idx(&t, &s, "y")));
    }

    #[test]
    fn error_whose_children_finished_ok_is_itself() {
        // svc(E, 0..1_000) -> c1(Ok, ends 200), c2(Ok, ends 600): no error
        // child and none running at 1_000, so the failure is svc's own.
        let (t, s) = TraceBuilder::new()
            .span("svc", None, 0, 1_000)
            .status(Status::Error)
            .span("c1", Some("svc"), 10, 200)
            .status(Status::Ok)
            .span("c2", Some("svc"), 300, 600)
            .status(Status::Ok)
            .build_with_strings();
        assert_eq!(locus(&t, 0), Some(idx(&t, &s, "svc")));
    }

    #[test]
    fn only_the_subtree_under_root_is_considered() {
        // root(E) -> left(Unset) -> left_db(E)
        //         -> right(Unset) -> right_db(E)
        //         -> cache(Ok)
        // Under right: the only error is right_db. Under cache: root's error
        // is outside the subtree, so None. Under root: the topmost error is
        // root itself, with no error child and no child running at 1_000,
        // so root.
        let (t, s) = TraceBuilder::new()
            .span("root", None, 0, 1_000)
            .status(Status::Error)
            .span("left", Some("root"), 10, 400)
            .span("left_db", Some("left"), 20, 300)
            .status(Status::Error)
            .span("right", Some("root"), 500, 900)
            .span("right_db", Some("right"), 510, 800)
            .status(Status::Error)
            .span("cache", Some("root"), 910, 950)
            .status(Status::Ok)
            .build_with_strings();
        let at = |name| idx(&t, &s, name);
        assert_eq!(locus(&t, at("right")), Some(at("right_db")));
        assert_eq!(locus(&t, at("cache")), None);
        assert_eq!(locus(&t, at("root")), Some(at("root")));
    }

    #[test]
    fn root_outside_the_trace_gives_none() {
        let (t, _) = TraceBuilder::new()
            .span("root", None, 0, 10)
            .status(Status::Error)
            .build_with_strings();
        assert_eq!(locus(&t, 5), None);
    }
}
