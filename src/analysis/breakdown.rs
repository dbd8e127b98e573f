//! Per-unit breakdown: for each selected subtree, its critical path, and for
//! each span in it, its duration, self time and critical time.
//!
//! This is the per-trace stage that runs in parallel (rayon); the
//! aggregation stage sums it over traces.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::critical_path::{Segment, critical_path};
use super::select::Unit;
use super::self_time::self_times;
use crate::model::{Nanos, Sym, Trace, TraceSet};

/// The smallest share of a unit's duration that a `service:operation` must
/// hold on the critical path to appear in its hot path.
pub const HOT_PATH_MIN_SHARE: f64 = 0.05;

/// One span of one unit, with its times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpanRow {
    /// Index into the breakdown's units.
    pub unit: u32,
    /// Index of the span in its trace.
    pub span: u32,
    /// The span's service.
    pub service: Sym,
    /// The span's operation name.
    pub name: Sym,
    /// Its duration.
    pub duration: Nanos,
    /// Its self time.
    pub self_time: Nanos,
    /// Its time on the unit's critical path.
    pub critical: Nanos,
}

/// The result for one unit.
#[derive(Clone, Debug)]
pub struct UnitBreakdown {
    /// Which subtree.
    pub unit: Unit,
    /// The subtree root's duration.
    pub duration: Nanos,
    /// The critical path, in time order.
    pub segments: Vec<Segment>,
    /// The `service:operation`s holding at least [`HOT_PATH_MIN_SHARE`] of
    /// the critical path, in the order they first appear on it.
    pub hot_path: Vec<(Sym, Sym)>,
}

/// Every unit's result and every span row.
#[derive(Clone, Debug, Default)]
pub struct Breakdown {
    /// One entry per unit, in the order given.
    pub units: Vec<UnitBreakdown>,
    /// One row per span of every unit.
    pub rows: Vec<SpanRow>,
}

/// Computes the breakdown of every unit, in parallel over traces.
pub fn breakdown(set: &TraceSet, units: &[Unit]) -> Breakdown {
    // Units arrive in trace order; process each trace's units together so
    // self times are computed once per trace.
    let mut by_trace: Vec<(usize, Vec<(u32, Unit)>)> = Vec::new();
    for (i, &unit) in units.iter().enumerate() {
        match by_trace.last_mut() {
            Some((t, list)) if *t == unit.trace => list.push((i as u32, unit)),
            _ => by_trace.push((unit.trace, vec![(i as u32, unit)])),
        }
    }
    let parts: Vec<(Vec<UnitBreakdown>, Vec<SpanRow>)> = by_trace
        .par_iter()
        .map(|(t, list)| trace_breakdown(&set.traces[*t], list))
        .collect();
    let mut out = Breakdown::default();
    for (u, rows) in parts {
        out.units.extend(u);
        out.rows.extend(rows);
    }
    out
}

fn trace_breakdown(trace: &Trace, units: &[(u32, Unit)]) -> (Vec<UnitBreakdown>, Vec<SpanRow>) {
    let selfs = self_times(trace);
    let mut critical = vec![0 as Nanos; trace.spans.len()];
    let mut results = Vec::with_capacity(units.len());
    let mut rows = Vec::new();
    for &(index, unit) in units {
        let segments = critical_path(trace, unit.root);
        for seg in &segments {
            critical[seg.span] += seg.end - seg.start;
        }
        let duration = trace.spans[unit.root].duration().max(0);
        let mut stack = vec![unit.root];
        while let Some(i) = stack.pop() {
            let s = &trace.spans[i];
            rows.push(SpanRow {
                unit: index,
                span: i as u32,
                service: s.service,
                name: s.name,
                duration: s.duration(),
                self_time: selfs[i],
                critical: critical[i],
            });
            stack.extend(trace.children(i));
        }
        let hot_path = hot_path(trace, &segments, duration);
        for seg in &segments {
            critical[seg.span] = 0;
        }
        results.push(UnitBreakdown {
            unit,
            duration,
            segments,
            hot_path,
        });
    }
    (results, rows)
}

/// The `service:operation`s that hold at least [`HOT_PATH_MIN_SHARE`] of the
/// path, in first-appearance order.
fn hot_path(trace: &Trace, segments: &[Segment], duration: Nanos) -> Vec<(Sym, Sym)> {
    let mut totals: Vec<((Sym, Sym), Nanos)> = Vec::new();
    let mut index: FxHashMap<(Sym, Sym), usize> = FxHashMap::default();
    for seg in segments {
        let s = &trace.spans[seg.span];
        let key = (s.service, s.name);
        let slot = *index.entry(key).or_insert_with(|| {
            totals.push((key, 0));
            totals.len() - 1
        });
        totals[slot].1 += seg.end - seg.start;
    }
    let min = (duration as f64 * HOT_PATH_MIN_SHARE).ceil() as Nanos;
    totals
        .into_iter()
        .filter(|&(_, t)| t > 0 && t >= min)
        .map(|(k, _)| k)
        .collect()
}
