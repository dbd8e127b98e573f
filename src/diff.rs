//! `diff`: compares two analyses (never raw files): per-operation percentile
//! changes, critical-share shifts per service, and hot paths and findings
//! that appeared or vanished.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::analysis::results::{Finding, HotPath, OperationStats, SavedAnalysis, Suspect, Verdict};

/// The comparison of a base and a candidate.
#[derive(Clone, Debug, Serialize)]
pub struct Diff {
    /// The top suspect and why, when both sides carry a profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// Services that explain why the candidate is slower than the base.
    pub suspects: Vec<Suspect>,
    /// Per operation, largest impact first.
    pub operations: Vec<OperationDiff>,
    /// Per service, largest shift first.
    pub services: Vec<ServiceShift>,
    /// Critical-path shapes only in the candidate.
    pub hot_paths_appeared: Vec<HotPath>,
    /// Critical-path shapes only in the base.
    pub hot_paths_vanished: Vec<HotPath>,
    /// Findings only in the candidate.
    pub findings_appeared: Vec<Finding>,
    /// Findings only in the base.
    pub findings_vanished: Vec<Finding>,
}

/// One percentile before and after.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Change {
    /// Base value, ms (absent when the operation is new).
    pub before_ms: Option<f64>,
    /// Candidate value, ms (absent when the operation vanished).
    pub after_ms: Option<f64>,
    /// `after − before`, ms.
    pub delta_ms: Option<f64>,
    /// `delta / before` (absent when before is 0 or absent).
    pub relative: Option<f64>,
}

impl Change {
    fn new(before: Option<f64>, after: Option<f64>) -> Change {
        let delta = before.zip(after).map(|(b, a)| a - b);
        Change {
            before_ms: before,
            after_ms: after,
            delta_ms: delta,
            relative: before
                .zip(delta)
                .and_then(|(b, d)| (b > 0.0).then(|| d / b)),
        }
    }
}

/// How one operation changed.
#[derive(Clone, Debug, Serialize)]
pub struct OperationDiff {
    /// The service.
    pub service: String,
    /// The operation.
    pub operation: String,
    /// Spans in the base.
    pub count_before: u64,
    /// Spans in the candidate.
    pub count_after: u64,
    /// Median.
    pub p50: Change,
    /// 95th percentile.
    pub p95: Change,
    /// 99th percentile.
    pub p99: Change,
    /// Change of the operation's total critical-path time, ms: what the
    /// change costs (or saves) end to end. The sort key, by magnitude.
    pub impact_ms: f64,
}

/// How one service's critical share moved.
#[derive(Clone, Debug, Serialize)]
pub struct ServiceShift {
    /// The service.
    pub service: String,
    /// Critical share in the base.
    pub critical_share_before: f64,
    /// Critical share in the candidate.
    pub critical_share_after: f64,
    /// `after − before`.
    pub shift: f64,
}

/// Compares `base` with `candidate`.
pub fn diff(base: &SavedAnalysis, candidate: &SavedAnalysis) -> Diff {
    Diff {
        verdict: None,
        suspects: Vec::new(),
        operations: operations(&base.operations, &candidate.operations),
        services: services(base, candidate),
        hot_paths_appeared: only_in(&candidate.hot_paths, &base.hot_paths, |h| h.path.clone()),
        hot_paths_vanished: only_in(&base.hot_paths, &candidate.hot_paths, |h| h.path.clone()),
        findings_appeared: only_in(&candidate.findings, &base.findings, finding_key),
        findings_vanished: only_in(&base.findings, &candidate.findings, finding_key),
    }
}

fn finding_key(f: &Finding) -> Vec<String> {
    vec![
        f.kind.to_string(),
        f.service.clone(),
        f.parent_operation.clone(),
        f.shape.clone(),
    ]
}

fn only_in<T: Clone>(a: &[T], b: &[T], key: impl Fn(&T) -> Vec<String>) -> Vec<T> {
    let other: BTreeSet<Vec<String>> = b.iter().map(&key).collect();
    a.iter()
        .filter(|x| !other.contains(&key(x)))
        .cloned()
        .collect()
}

/// An operation's statistics before and after, when present on that side.
type Pair<'a> = (Option<&'a OperationStats>, Option<&'a OperationStats>);

fn operations(base: &[OperationStats], cand: &[OperationStats]) -> Vec<OperationDiff> {
    let mut by_key: BTreeMap<(&str, &str), Pair<'_>> = BTreeMap::new();
    for o in base {
        by_key.entry((&o.service, &o.operation)).or_default().0 = Some(o);
    }
    for o in cand {
        by_key.entry((&o.service, &o.operation)).or_default().1 = Some(o);
    }
    let mut out: Vec<OperationDiff> = by_key
        .into_iter()
        .map(|((service, operation), (b, a))| OperationDiff {
            service: service.to_string(),
            operation: operation.to_string(),
            count_before: b.map_or(0, |o| o.count),
            count_after: a.map_or(0, |o| o.count),
            p50: Change::new(b.map(|o| o.p50_ms), a.map(|o| o.p50_ms)),
            p95: Change::new(b.map(|o| o.p95_ms), a.map(|o| o.p95_ms)),
            p99: Change::new(b.map(|o| o.p99_ms), a.map(|o| o.p99_ms)),
            impact_ms: a.map_or(0.0, |o| o.critical_ms) - b.map_or(0.0, |o| o.critical_ms),
        })
        .collect();
    out.sort_by(|x, y| {
        y.impact_ms
            .abs()
            .total_cmp(&x.impact_ms.abs())
            .then_with(|| (&x.service, &x.operation).cmp(&(&y.service, &y.operation)))
    });
    out
}

fn services(base: &SavedAnalysis, cand: &SavedAnalysis) -> Vec<ServiceShift> {
    let mut by: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for s in &base.services {
        by.entry(&s.service).or_default().0 = s.critical_share;
    }
    for s in &cand.services {
        by.entry(&s.service).or_default().1 = s.critical_share;
    }
    let mut out: Vec<ServiceShift> = by
        .into_iter()
        .map(|(service, (b, a))| ServiceShift {
            service: service.to_string(),
            critical_share_before: b,
            critical_share_after: a,
            shift: a - b,
        })
        .collect();
    out.sort_by(|x, y| {
        y.shift
            .abs()
            .total_cmp(&x.shift.abs())
            .then_with(|| x.service.cmp(&y.service))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(service: &str, operation: &str, p50: f64, critical: f64) -> OperationStats {
        OperationStats {
            service: service.into(),
            operation: operation.into(),
            count: 100,
            errors: 0,
            p50_ms: p50,
            p95_ms: p50 * 2.0,
            p99_ms: p50 * 3.0,
            max_ms: p50 * 4.0,
            total_ms: p50 * 100.0,
            self_ms: 0.0,
            self_share: 0.0,
            critical_ms: critical,
            critical_share: 0.0,
            example_trace_id: "t".into(),
        }
    }

    #[test]
    fn operations_sorted_by_impact_with_relative_change() {
        let base = SavedAnalysis {
            operations: vec![
                op("a", "x", 10.0, 1000.0),
                op("b", "y", 5.0, 500.0),
                op("c", "gone", 1.0, 10.0),
            ],
            ..Default::default()
        };
        let cand = SavedAnalysis {
            operations: vec![
                op("a", "x", 11.0, 1100.0),
                op("b", "y", 10.0, 1000.0),
                op("d", "new", 1.0, 50.0),
            ],
            ..Default::default()
        };
        let d = diff(&base, &cand);
        assert_eq!(d.operations[0].operation, "y");
        assert_eq!(d.operations[0].p50.relative, Some(1.0));
        assert_eq!(d.operations[0].impact_ms, 500.0);
        let new = d.operations.iter().find(|o| o.operation == "new").unwrap();
        assert_eq!(new.p50.before_ms, None);
        assert_eq!(new.p50.delta_ms, None);
        assert_eq!(new.count_before, 0);
    }

    #[test]
    fn appeared_and_vanished_hot_paths() {
        let hp = |p: &str| HotPath {
            path: vec![p.into()],
            traces: 1,
            share: 1.0,
            p50_ms: 1.0,
            p99_ms: 1.0,
            example_trace_id: "t".into(),
        };
        let base = SavedAnalysis {
            hot_paths: vec![hp("a:x"), hp("b:y")],
            ..Default::default()
        };
        let cand = SavedAnalysis {
            hot_paths: vec![hp("b:y"), hp("c:z")],
            ..Default::default()
        };
        let d = diff(&base, &cand);
        assert_eq!(d.hot_paths_appeared, vec![hp("c:z")]);
        assert_eq!(d.hot_paths_vanished, vec![hp("a:x")]);
    }
}
