//! Self time of every span: its duration minus the union of its children's
//! intervals clipped to it, never negative.
//!
//! Every child counts, blocking or not (Jaeger UI's trace statistics do the
//! same): self time answers "what did this span do itself", which a
//! fire-and-forget child also takes away from. A child partly outside its
//! parent only counts for the part inside it. Arithmetic saturates, so
//! times at the `i64` extremes cannot overflow it.

use crate::model::{Nanos, Trace};

/// Self time of every span of `trace`, indexed like [`Trace::spans`].
pub fn self_times(trace: &Trace) -> Vec<Nanos> {
    let mut out = Vec::new();
    self_times_into(trace, &mut Vec::new(), &mut out);
    out
}

/// [`self_times`], written to `out` (cleared first), with `intervals` as
/// working room: the per-trace stage keeps both from trace to trace.
pub fn self_times_into(trace: &Trace, intervals: &mut Vec<(Nanos, Nanos)>, out: &mut Vec<Nanos>) {
    out.clear();
    out.extend((0..trace.spans.len()).map(|i| {
        let span = &trace.spans[i];
        let (start, end) = (span.start, span.end.max(span.start));
        let children = trace.children(i);
        // Most spans are leaves: their self time is their duration.
        if children.len() == 0 {
            return end.saturating_sub(start).max(0);
        }
        intervals.clear();
        intervals.extend(children.filter_map(|c| {
            let child = &trace.spans[c];
            let (s, e) = (child.start.max(start), child.end.min(end));
            (e > s).then_some((s, e))
        }));
        end.saturating_sub(start)
            .saturating_sub(union_length(intervals))
            .max(0)
    }));
}

/// Total length covered by `intervals` (sorted in place).
pub(super) fn union_length(intervals: &mut [(Nanos, Nanos)]) -> Nanos {
    intervals.sort_unstable();
    let mut total = 0;
    let mut current: Option<(Nanos, Nanos)> = None;
    for &(s, e) in intervals.iter() {
        match current {
            Some((cs, ce)) if s <= ce => current = Some((cs, ce.max(e))),
            Some((cs, ce)) => {
                total = ce.saturating_sub(cs).saturating_add(total);
                current = Some((s, e));
            }
            None => current = Some((s, e)),
        }
    }
    current.map_or(total, |(s, e)| e.saturating_sub(s).saturating_add(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testutil::TraceBuilder;

    fn selfs(b: TraceBuilder) -> Vec<(String, Nanos)> {
        let (trace, strings) = b.build_with_strings();
        let times = self_times(&trace);
        trace
            .spans
            .iter()
            .zip(times)
            .map(|(s, t)| (strings.resolve(s.name).to_string(), t))
            .collect()
    }

    fn of(rows: &[(String, Nanos)], name: &str) -> Nanos {
        rows.iter().find(|(n, _)| n == name).unwrap().1
    }

    #[test]
    fn overlapping_children_count_once() {
        let rows = selfs(
            TraceBuilder::new()
                .span("p", None, 0, 100)
                .span("a", Some("p"), 10, 40)
                .span("b", Some("p"), 30, 60)
                .span("c", Some("p"), 80, 90),
        );
        assert_eq!(of(&rows, "p"), 100 - 50 - 10);
        assert_eq!(of(&rows, "a"), 30);
    }

    #[test]
    fn children_are_clipped_to_the_parent_and_self_time_is_never_negative() {
        let rows = selfs(
            TraceBuilder::new()
                .span("p", None, 10, 30)
                .span("enclosing", Some("p"), 0, 50)
                .span("late", Some("p"), 25, 90),
        );
        assert_eq!(of(&rows, "p"), 0);
        let rows = selfs(
            TraceBuilder::new()
                .span("p", None, 0, 100)
                .span("after", Some("p"), 150, 200)
                .span("neg", Some("p"), 50, 40),
        );
        assert_eq!(of(&rows, "p"), 100);
        assert_eq!(of(&rows, "neg"), 0);
    }

    #[test]
    fn reused_vectors_hold_only_the_last_traces_times() {
        // A larger trace, then a smaller one, through the same vectors.
        let large = TraceBuilder::new()
            .span("root", None, 0, 1_000)
            .span("a", Some("root"), 100, 400)
            .span("b", Some("root"), 300, 900)
            .build_with_strings()
            .0;
        let small = TraceBuilder::new()
            .span("root", None, 0, 50)
            .span("a", Some("root"), 10, 20)
            .build_with_strings()
            .0;
        let (mut intervals, mut out) = (Vec::new(), Vec::new());
        self_times_into(&large, &mut intervals, &mut out);
        assert_eq!(out, self_times(&large));
        self_times_into(&small, &mut intervals, &mut out);
        assert_eq!(out, vec![40, 10]);
        assert_eq!(out, self_times(&small));
    }

    #[test]
    fn union_length_merges_touching_and_nested() {
        assert_eq!(union_length(&mut [(0, 10), (10, 20), (2, 5), (30, 31)]), 21);
        assert_eq!(union_length(&mut []), 0);
    }
}
