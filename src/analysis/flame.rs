//! Critical-path flame graph data: folded stacks of critical-path time.
//!
//! Each critical-path segment contributes its length to the stack of
//! `service:operation` frames from its unit's root down to the segment's
//! span, so the widest frames are where the latency is, not merely where
//! spans were open (CRISP's critical-path flame graphs).

use std::collections::BTreeMap;

use polars::prelude::*;

use super::aggregate::quantile_of;
use super::breakdown::Breakdown;
use crate::model::{Nanos, TraceSet};

/// Folded stacks: `frame;frame;frame` → critical time in microseconds.
pub type Folded = BTreeMap<String, u64>;

/// The `percentile`-th percentile (nearest rank) of the units' durations,
/// a `cutoff` for [`folded`]; `None` without units.
pub fn duration_percentile(bd: &Breakdown, percentile: f64) -> PolarsResult<Option<Nanos>> {
    let durations = bd.units.iter().map(|u| u.duration).collect();
    quantile_of(durations, (percentile / 100.0).clamp(0.0, 1.0))
}

/// Columns of the segment table: a segment's stack, and the high and low
/// 32 bits of its length.
const STACK: &str = "stack";
const HIGH: &str = "high";
const LOW: &str = "low";

/// Folds the critical paths of every unit that lasts at most `cutoff` (all
/// units when `None`).
pub fn folded(set: &TraceSet, bd: &Breakdown, cutoff: Option<Nanos>) -> PolarsResult<Folded> {
    // One row per critical-path segment. A segment's length is stored in
    // two halves, each summed exactly by polars (whose `i64` sum wraps) and
    // joined after: a stack's total may pass `i64::MAX` with spans built
    // by hand at the extremes of time, and is then capped, as it always was.
    let (mut stacks, mut high, mut low) = (Vec::new(), Vec::new(), Vec::new());
    for unit in &bd.units {
        if cutoff.is_some_and(|c| unit.duration > c) {
            continue;
        }
        let trace = &set.traces[unit.unit.trace];
        let mut cache: Vec<Option<String>> = vec![None; trace.spans.len()];
        for seg in &unit.segments {
            let stack = cache[seg.span].get_or_insert_with(|| {
                let mut frames = Vec::new();
                let mut at = Some(seg.span);
                while let Some(i) = at {
                    let s = &trace.spans[i];
                    frames.push(frame(
                        set.strings.resolve(s.service),
                        set.strings.resolve(s.name),
                    ));
                    at = if i == unit.unit.root {
                        None
                    } else {
                        trace.parent(i)
                    };
                }
                frames.reverse();
                let stack = frames.join(";");
                // inferno skips a line that starts with "# " (after
                // trimming) as a comment, so a root service named "# ..."
                // lost its stacks, or the whole graph (found by fuzzing):
                // a no-break space after the "#" looks the same.
                match stack.trim_start().strip_prefix("# ") {
                    Some(rest) => format!("#\u{a0}{rest}"),
                    None => stack,
                }
            });
            // A segment is never empty (see `critical_path`), so its length
            // is positive.
            let ns = seg.end.saturating_sub(seg.start).max(0);
            stacks.push(stack.clone());
            high.push(ns >> 32);
            low.push(ns & 0xffff_ffff);
        }
    }
    let out = df!(STACK => stacks, HIGH => high, LOW => low)?
        .lazy()
        .group_by([col(STACK)])
        .agg([col(HIGH).sum(), col(LOW).sum()])
        .collect()?;
    let stack = out.column(STACK)?.str()?;
    let high = out.column(HIGH)?.i64()?;
    let low = out.column(LOW)?.i64()?;
    let mut folded = Folded::new();
    for ((stack, high), low) in stack.iter().zip(high.iter()).zip(low.iter()) {
        let total = (i128::from(high.unwrap_or(0)) << 32) + i128::from(low.unwrap_or(0));
        let ns = u64::try_from(total.min(i128::from(i64::MAX))).unwrap_or(0);
        let us = ns.div_ceil(1000);
        if us > 0 {
            folded.insert(stack.unwrap_or("").to_string(), us);
        }
    }
    Ok(folded)
}

/// One frame; `;` separates frames in the folded format, so it is replaced.
fn frame(service: &str, operation: &str) -> String {
    format!("{service}:{operation}")
        .replace(';', ",")
        .replace('\n', " ")
}

/// The folded text: one `stack count` line per stack.
pub fn to_lines(folded: &Folded) -> Vec<String> {
    folded.iter().map(|(k, v)| format!("{k} {v}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::breakdown::breakdown;
    use crate::analysis::detectors::FindingOptions;
    use crate::analysis::select::{Selection, select};
    use crate::model::testutil::TraceBuilder;

    #[test]
    fn the_cutoff_is_the_nearest_rank_duration_exactly() {
        // Past 2^53 ns, where these durations would all round to one float.
        let base = 1i64 << 60;
        let (_, mut bd) = crate::analysis::breakdown::one_span_units(7);
        for (unit, d) in bd.units.iter_mut().zip([5, 1, 4, 7, 2, 6, 3]) {
            unit.duration = base + d;
        }
        // Ranks ceil(q × 7): 4, 7, 1 and 7.
        for (p, rank) in [(50.0, 4), (90.0, 7), (14.0, 1), (100.0, 7)] {
            let cutoff = duration_percentile(&bd, p).unwrap();
            assert_eq!(cutoff, Some(base + rank), "p{p}");
        }
        let none = duration_percentile(&Breakdown::default(), 50.0).unwrap();
        assert_eq!(none, None);
    }

    #[test]
    fn a_stack_sums_over_units_and_is_capped_past_the_largest_time() {
        use crate::analysis::critical_path::Segment;
        let (set, mut bd) = crate::analysis::breakdown::one_span_units(3);
        let one = |start, end| {
            vec![Segment {
                span: 0,
                start,
                end,
            }]
        };
        // 1.5 µs in all rounds up to 2.
        bd.units[0].segments = one(0, 700).into();
        bd.units[1].segments = one(100, 900).into();
        bd.units[2].segments = Box::default();
        let stacks = folded(&set, &bd, None).unwrap();
        assert_eq!(
            stacks.into_iter().collect::<Vec<_>>(),
            [("svc:root".to_string(), 2)]
        );
        // The cutoff leaves out the units that last longer.
        bd.units[1].duration = 2_000;
        assert_eq!(folded(&set, &bd, Some(1_000)).unwrap()["svc:root"], 1);
        // Two halves of the largest time and then some: past i64::MAX in
        // all, so capped there, where each alone is exact.
        bd.units[0].segments = one(0, i64::MAX).into();
        bd.units[1].segments = one(-1, i64::MAX - 1).into();
        let capped = folded(&set, &bd, None).unwrap();
        assert_eq!(capped["svc:root"], (i64::MAX as u64).div_ceil(1000));
        bd.units[1].segments = Box::default();
        bd.units[0].segments = one(0, (1 << 40) + 1_001).into();
        let exact = folded(&set, &bd, None).unwrap();
        assert_eq!(exact["svc:root"], ((1u64 << 40) + 1_001).div_ceil(1000));
        // No units, no stacks.
        assert!(
            folded(&set, &Breakdown::default(), None)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_service_named_like_a_comment_keeps_its_stacks() {
        let set = TraceBuilder::new()
            .span_in("# reports-worker", "root", None, 0, 10_000)
            .span_in("# reports-worker", "child", Some("root"), 1_000, 4_000)
            .build_set();
        let units = select(&set, &Selection::default());
        let bd = breakdown(&set, &units, &FindingOptions::default());
        let folded = folded(&set, &bd, None).unwrap();
        assert_eq!(folded.values().sum::<u64>(), 10);
        let mut svg = Vec::new();
        crate::report::flame::svg(&folded, "t", &mut svg).expect("an SVG, not an empty graph");
        let svg = String::from_utf8(svg).unwrap();
        assert!(svg.contains("#\u{a0}reports-worker:root (10 µs"), "{svg}");
        assert!(svg.contains("# reports-worker:child (3 µs"), "{svg}");
    }
}
