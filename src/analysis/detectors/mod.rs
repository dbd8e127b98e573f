//! Detectors: patterns worth fixing, found per unit and aggregated over
//! traces. Each detector is one file implementing [`Detector`]; adding one
//! means adding a file and a line in [`DETECTORS`].

mod fan_out;
mod kind;
mod n_plus_one;
mod sequential;
mod siblings;
#[cfg(test)]
mod tests;
mod uninstrumented;

use std::collections::BTreeMap;

pub use kind::FindingKind;

use super::breakdown::{Breakdown, UnitView};
use super::results::{Finding, ms};
use crate::model::{Interner, Nanos, SpanId, Sym, Trace};

/// Thresholds of every detector; each is a command-line flag.
#[derive(Clone, Debug)]
pub struct FindingOptions {
    /// Least repeats under one parent for `n_plus_one`.
    pub n_plus_one_min: usize,
    /// Least summed duration of the repeats for `n_plus_one`.
    pub n_plus_one_min_total: Nanos,
    /// Least concurrent repeats for `fan_out`.
    pub fan_out_min: usize,
    /// Least duration of each call in a `sequential_calls` run.
    pub sequential_min_call: Nanos,
    /// Least saving (sum − max) for a `sequential_calls` run.
    pub sequential_min_savings: Nanos,
    /// Least share of the unit's duration that a parent span's own critical
    /// time must hold for `uninstrumented`.
    pub uninstrumented_min_share: f64,
}

impl Default for FindingOptions {
    fn default() -> Self {
        FindingOptions {
            n_plus_one_min: 5,
            n_plus_one_min_total: 50_000_000,
            fan_out_min: 10,
            sequential_min_call: 30_000_000,
            sequential_min_savings: 100_000_000,
            uninstrumented_min_share: 0.25,
        }
    }
}

/// One finding in one unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    /// The finding kind.
    pub kind: FindingKind,
    /// The service where it happens.
    pub service: Sym,
    /// The parent span's operation.
    pub parent_operation: Sym,
    /// The repeated shape, or the shapes of a run joined with ` | `.
    pub shape: String,
    /// Calls involved.
    pub count: u64,
    /// Summed duration of the calls.
    pub total: Nanos,
    /// Estimated latency saving.
    pub savings: Nanos,
    /// The spans involved (indices into the trace), for drill-down.
    pub spans: Vec<usize>,
}

/// The span ids a finding names: its spans, and the span they share as
/// parent (for `uninstrumented`, the span itself).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FindingIds {
    /// The spans involved.
    pub spans: Vec<SpanId>,
    /// Their parent.
    pub parent: Option<SpanId>,
}

/// The span ids `occurrence` names in `trace`.
pub fn finding_ids(trace: &Trace, occurrence: &Occurrence) -> FindingIds {
    // Uninstrumented findings name the span itself; the others' spans share
    // one parent.
    let parent = occurrence.spans.first().map(|&i| {
        if occurrence.kind == FindingKind::Uninstrumented {
            i
        } else {
            trace.parent(i).unwrap_or(i)
        }
    });
    FindingIds {
        spans: occurrence
            .spans
            .iter()
            .map(|&i| trace.spans[i].span_id)
            .collect(),
        parent: parent.map(|p| trace.spans[p].span_id),
    }
}

/// A pattern detector.
pub trait Detector: Sync {
    /// The `kind` its findings carry.
    fn kind(&self) -> FindingKind;
    /// Adds what it finds in one unit to `out`.
    fn detect(&self, view: &UnitView<'_>, options: &FindingOptions, out: &mut Vec<Occurrence>);
}

/// Every detector, in report order.
pub static DETECTORS: &[&dyn Detector] = &[
    &n_plus_one::NPlusOne,
    &fan_out::FanOut,
    &sequential::SequentialCalls,
    &uninstrumented::Uninstrumented,
];

/// Runs every detector on one unit.
pub fn detect_all(view: &UnitView<'_>, options: &FindingOptions) -> Vec<Occurrence> {
    let mut out = Vec::new();
    for detector in DETECTORS {
        detector.detect(view, options, &mut out);
    }
    out
}

/// Aggregates occurrences over units by kind, service, parent operation and
/// shape; largest estimated saving first.
pub fn aggregate(strings: &Interner, bd: &Breakdown) -> Vec<Finding> {
    struct Acc {
        count: u64,
        traces: u64,
        total: Nanos,
        savings: Nanos,
        example: (Nanos, usize, usize),
    }
    let mut groups: BTreeMap<(&str, &str, &str, &str), Acc> = BTreeMap::new();
    for (ui, unit) in bd.units.iter().enumerate() {
        let mut seen = Vec::new();
        for (oi, o) in unit.findings.iter().enumerate() {
            let key = (
                o.kind.as_str(),
                strings.resolve(o.service),
                strings.resolve(o.parent_operation),
                o.shape.as_str(),
            );
            let acc = groups.entry(key).or_insert(Acc {
                count: 0,
                traces: 0,
                total: 0,
                savings: 0,
                example: (Nanos::MIN, ui, oi),
            });
            acc.count = acc.count.max(o.count);
            if !seen.contains(&key) {
                seen.push(key);
                acc.traces += 1;
            }
            acc.total = acc.total.saturating_add(o.total);
            acc.savings = acc.savings.saturating_add(o.savings);
            if unit.duration > acc.example.0 {
                acc.example = (unit.duration, ui, oi);
            }
        }
    }
    let mut out: Vec<Finding> = groups
        .into_iter()
        .map(|((kind, service, parent, shape), acc)| {
            let unit = &bd.units[acc.example.1];
            let ids = &unit.finding_ids[acc.example.2];
            Finding {
                kind: FindingKind::parse(kind).expect("keyed by a kind's spelling"),
                service: service.to_string(),
                parent_operation: parent.to_string(),
                shape: shape.to_string(),
                count: acc.count,
                traces: acc.traces,
                total_ms: ms(acc.total),
                estimated_savings_ms: ms(acc.savings),
                example_trace_id: unit.label(strings),
                example_span_ids: ids.spans.iter().map(|id| id.to_string()).collect(),
                example_parent_span_id: ids.parent.map(|p| p.to_string()).unwrap_or_default(),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.estimated_savings_ms
            .total_cmp(&a.estimated_savings_ms)
            .then_with(|| b.total_ms.total_cmp(&a.total_ms))
            .then_with(|| {
                (a.kind.as_str(), &a.service, &a.shape).cmp(&(
                    b.kind.as_str(),
                    &b.service,
                    &b.shape,
                ))
            })
    });
    out
}
