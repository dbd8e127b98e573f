//! Trace profiles: per root operation, the distribution over traces of what
//! each service and call edge adds to a trace. A profile is what a
//! diagnosis compares (see [`super::suspects`]); it is small, and saved in
//! the JSON report, so a saved report can serve as a baseline.
//!
//! Per unit, every feature is one number: the critical time of a service's
//! own spans (client spans excepted: theirs is the gap of their edge), the
//! critical time of an edge's gap, the calls on an edge, whether the unit's
//! last call started in a service (where a trace that returns early now
//! stops), whether its failure ends in a service, and its span count. Over a
//! group, each feature keeps its mean and variance over *all* the group's
//! units (a unit without the feature counts as 0), so two groups of
//! different sizes compare per trace, whatever the traffic.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::breakdown::{UnitBreakdown, UnitView};
use super::edges::EdgeRow;
use crate::model::{Interner, Nanos, Sym};

/// One per-unit feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Feature {
    /// Critical time of a service's own (non-client) spans.
    SelfCritical(Sym),
    /// Critical time of the gaps of an edge `caller → callee`.
    GapCritical(Sym, Sym),
    /// Calls on an edge.
    Calls(Sym, Sym),
    /// Calls on an edge where the caller or callee reported an error.
    ErrorCalls(Sym, Sym),
    /// Critical time of one operation's own (non-client) spans.
    OperationCritical(Sym, Sym),
    /// 1 when the unit's last-starting span runs in the service.
    EndsIn(Sym),
    /// 1 when the unit's failure ends in the service (its error locus).
    FailsIn(Sym),
    /// Spans in the unit.
    Spans,
}

/// What a feature measures, as the JSON report names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    /// Critical time of a service's own spans, ms per trace.
    SelfCritical,
    /// Critical time of an edge's gaps, ms per trace.
    GapCritical,
    /// Calls on an edge per trace.
    Calls,
    /// Failed calls on an edge per trace.
    ErrorCalls,
    /// Critical time of one operation's own spans, ms per trace.
    OperationCritical,
    /// Share of traces whose last call starts in the service.
    EndsIn,
    /// Share of traces whose failure ends in the service.
    FailsIn,
    /// Spans per trace.
    Spans,
}

impl FeatureKind {
    /// Whether values are times (nanoseconds per unit, shown in ms).
    pub fn is_time(self) -> bool {
        matches!(
            self,
            FeatureKind::SelfCritical | FeatureKind::GapCritical | FeatureKind::OperationCritical
        )
    }
}

/// A unit's features, sorted by feature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitFeatures {
    /// The unit's top span's service and operation.
    pub root: (Sym, Sym),
    /// The values, sorted, one per feature.
    pub values: Vec<(Feature, Nanos)>,
}

/// The features of one unit. `locus` is its error locus, if it failed.
pub fn observe(view: &UnitView<'_>, edges: &[EdgeRow], locus: Option<usize>) -> UnitFeatures {
    let spans = &view.trace.spans;
    // Pushed, then sorted and summed per feature: a map per unit costs more
    // than the few dozen values a unit has.
    let mut values: Vec<(Feature, Nanos)> = Vec::new();
    let mut add = |f: Feature, v: Nanos| values.push((f, v));
    let mut client = vec![false; 0];
    client.resize(
        edges.iter().map(|e| e.span as usize + 1).max().unwrap_or(0),
        false,
    );
    for e in edges {
        add(Feature::Calls(e.caller, e.callee), 1);
        if e.error {
            add(Feature::ErrorCalls(e.caller, e.callee), 1);
        }
        if e.client {
            client[e.span as usize] = true;
            // A peer has no span of its own: its client span's critical
            // time is the peer's, as a callee's server span would be.
            let f = if e.peer {
                Feature::SelfCritical(e.callee)
            } else {
                Feature::GapCritical(e.caller, e.callee)
            };
            add(f, view.critical[e.span as usize]);
        }
    }
    for &i in view.members {
        if !client.get(i).copied().unwrap_or(false) && view.critical[i] > 0 {
            add(Feature::SelfCritical(spans[i].service), view.critical[i]);
            add(
                Feature::OperationCritical(spans[i].service, spans[i].name),
                view.critical[i],
            );
        }
    }
    let last = view.members.iter().copied().max_by_key(|&i| {
        (
            spans[i].start,
            std::cmp::Reverse(spans[i].end),
            std::cmp::Reverse(i),
        )
    });
    if let Some(last) = last {
        add(Feature::EndsIn(spans[last].service), 1);
    }
    if let Some(l) = locus {
        add(Feature::FailsIn(spans[l].service), 1);
    }
    add(Feature::Spans, view.members.len() as Nanos);
    let root = &spans[view.root];
    UnitFeatures {
        root: (root.service, root.name),
        values: summed(values),
    }
}

/// One value per feature, sorted: the sums of `values`' repeats.
fn summed(mut values: Vec<(Feature, Nanos)>) -> Vec<(Feature, Nanos)> {
    values.sort_unstable_by_key(|&(f, _)| f);
    let mut out: Vec<(Feature, Nanos)> = Vec::with_capacity(values.len());
    for (f, v) in values {
        match out.last_mut() {
            Some((last, sum)) if *last == f => *sum = sum.saturating_add(v),
            _ => out.push((f, v)),
        }
    }
    out
}

/// Per root operation, the distribution of every feature over its units.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// One group per root `service:operation`, in name order.
    pub groups: Vec<ProfileGroup>,
}

/// The units of one root operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileGroup {
    /// The root span's service.
    pub root_service: String,
    /// The root span's operation.
    pub root_operation: String,
    /// Units in the group.
    pub traces: u64,
    /// Root duration, ms.
    pub duration: Moments,
    /// Every feature seen in the group.
    pub features: Vec<FeatureMoments>,
}

/// Mean, variance and percentiles of one value over a group's units (ms
/// for times, plain numbers otherwise).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    /// Mean per unit.
    pub mean: f64,
    /// Variance per unit (sample variance, n − 1).
    pub var: f64,
    /// Median per unit.
    pub p50: f64,
    /// 90th percentile per unit.
    pub p90: f64,
    /// 99th percentile per unit.
    pub p99: f64,
    /// The unit with the largest value.
    pub example_trace_id: String,
}

/// One feature's distribution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureMoments {
    /// What is measured.
    pub kind: FeatureKind,
    /// The service (the caller, for edges; empty for `spans`).
    pub service: String,
    /// The callee, for edges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callee: Option<String>,
    /// The operation, for `operation_critical`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The distribution.
    #[serde(flatten)]
    pub moments: Moments,
}

/// The profile of the units `keep` selects.
pub fn build(strings: &Interner, units: &[UnitBreakdown], keep: &dyn Fn(usize) -> bool) -> Profile {
    let mut groups: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (i, u) in units.iter().enumerate().filter(|&(i, _)| keep(i)) {
        let (s, o) = u.features.root;
        groups
            .entry((strings.resolve(s), strings.resolve(o)))
            .or_default()
            .push(i);
    }
    let groups = groups
        .into_iter()
        .map(|((service, operation), members)| group(strings, units, service, operation, &members))
        .collect();
    Profile { groups }
}

fn group(
    strings: &Interner,
    units: &[UnitBreakdown],
    service: &str,
    operation: &str,
    members: &[usize],
) -> ProfileGroup {
    let n = members.len();
    let mut by_feature: BTreeMap<Feature, Vec<(usize, Nanos)>> = BTreeMap::new();
    for &m in members {
        for &(f, v) in &units[m].features.values {
            by_feature.entry(f).or_default().push((m, v));
        }
    }
    let durations: Vec<(usize, Nanos)> = members.iter().map(|&m| (m, units[m].duration)).collect();
    let label = |m: usize| units[m].label(strings);
    let mut features: Vec<FeatureMoments> = by_feature
        .into_par_iter()
        .map(|(f, present)| {
            let (kind, service, other) = describe(strings, f);
            let (callee, operation) = if kind == FeatureKind::OperationCritical {
                (None, other)
            } else {
                (other, None)
            };
            FeatureMoments {
                kind,
                service,
                callee,
                operation,
                moments: moments(&present, n, kind.is_time(), &label),
            }
        })
        .collect();
    // By name, not by symbol: symbol numbers depend on the order spans were
    // read in, the report must not.
    features.sort_by(|a, b| {
        (a.kind, &a.service, &a.callee, &a.operation).cmp(&(
            b.kind,
            &b.service,
            &b.callee,
            &b.operation,
        ))
    });
    ProfileGroup {
        root_service: service.to_string(),
        root_operation: operation.to_string(),
        traces: n as u64,
        duration: moments(&durations, n, true, &label),
        features,
    }
}

/// A feature's kind, service, and callee or operation.
fn describe(strings: &Interner, f: Feature) -> (FeatureKind, String, Option<String>) {
    let s = |sym: Sym| strings.resolve(sym).to_string();
    match f {
        Feature::OperationCritical(a, o) => (FeatureKind::OperationCritical, s(a), Some(s(o))),
        Feature::SelfCritical(a) => (FeatureKind::SelfCritical, s(a), None),
        Feature::GapCritical(a, b) => (FeatureKind::GapCritical, s(a), Some(s(b))),
        Feature::Calls(a, b) => (FeatureKind::Calls, s(a), Some(s(b))),
        Feature::ErrorCalls(a, b) => (FeatureKind::ErrorCalls, s(a), Some(s(b))),
        Feature::EndsIn(a) => (FeatureKind::EndsIn, s(a), None),
        Feature::FailsIn(a) => (FeatureKind::FailsIn, s(a), None),
        Feature::Spans => (FeatureKind::Spans, String::new(), None),
    }
}

/// Moments over `n` units, of which `present` hold a value and the rest 0.
fn moments(
    present: &[(usize, Nanos)],
    n: usize,
    time: bool,
    label: &dyn Fn(usize) -> String,
) -> Moments {
    let scale = if time { 1e-6 } else { 1.0 };
    let mut sorted: Vec<i64> = present.iter().map(|&(_, v)| v).collect();
    sorted.sort_unstable();
    // The units without the feature count as zeros. Most features are in
    // few units, so the zeros are counted rather than stored and sorted;
    // with a negative value (never from the analyses, but cheap to honour)
    // they are stored.
    if sorted.first().is_some_and(|&v| v < 0) {
        sorted.resize(n.max(sorted.len()), 0);
        sorted.sort_unstable();
    }
    let zeros_first = n.saturating_sub(sorted.len());
    let rank = |q: f64| -> i64 {
        let total = sorted.len() + zeros_first;
        if total == 0 {
            return 0;
        }
        let r = ((q * total as f64).ceil() as usize).clamp(1, total);
        if r <= zeros_first {
            0
        } else {
            sorted[r - zeros_first - 1]
        }
    };
    let count = n.max(1) as f64;
    let mean = sorted.iter().map(|&v| v as f64).sum::<f64>() / count;
    let var = if n > 1 {
        let spread: f64 = sorted.iter().map(|&v| (v as f64 - mean).powi(2)).sum();
        (spread + zeros_first as f64 * mean * mean) / (n - 1) as f64
    } else {
        0.0
    };
    let example = present
        .iter()
        .max_by_key(|&&(m, v)| (v, std::cmp::Reverse(m)))
        .map(|&(m, _)| label(m))
        .unwrap_or_default();
    Moments {
        mean: mean * scale,
        var: var * scale * scale,
        p50: rank(0.50) as f64 * scale,
        p90: rank(0.90) as f64 * scale,
        p99: rank(0.99) as f64 * scale,
        example_trace_id: example,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::percentile::nearest_rank;

    /// The moments of `present` over `n` units, the slow way: every unit's
    /// value stored, sorted, nearest-rank.
    fn naive(present: &[(usize, Nanos)], n: usize) -> (f64, f64, [i64; 3]) {
        let mut all: Vec<i64> = present.iter().map(|&(_, v)| v).collect();
        all.resize(n, 0);
        all.sort_unstable();
        let mean = all.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        let var = all.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let q = [0.5, 0.9, 0.99].map(|q| nearest_rank(&all, q));
        (mean, var, q)
    }

    #[test]
    fn counted_zeros_give_the_same_moments_as_stored_ones() {
        let mut seed = 7u64;
        for case in 0..200 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let n = 2 + (seed >> 40) as usize % 60;
            let k = (seed >> 20) as usize % (n + 1);
            let present: Vec<(usize, Nanos)> = (0..k)
                .map(|i| {
                    let v =
                        ((seed >> (i % 30)) % 1000) as i64 - if case % 7 == 0 { 300 } else { 0 };
                    (i, v)
                })
                .collect();
            let m = moments(&present, n, false, &|_| String::new());
            let (mean, var, q) = naive(&present, n);
            assert!((m.mean - mean).abs() < 1e-9, "{case}: {m:?} vs {mean}");
            assert!(
                (m.var - var).abs() <= 1e-6 * var.max(1.0),
                "{case}: {m:?} vs {var}"
            );
            assert_eq!([m.p50, m.p90, m.p99], q.map(|v| v as f64), "{case}");
        }
    }
}
