//! `diff`: compares two analyses (never raw files): per-operation percentile
//! changes, critical-share shifts per service, and hot paths and findings
//! that appeared or vanished.

use std::collections::BTreeSet;

use polars::prelude::*;
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
pub fn diff(base: &SavedAnalysis, candidate: &SavedAnalysis) -> PolarsResult<Diff> {
    Ok(Diff {
        verdict: None,
        suspects: Vec::new(),
        operations: operations(&base.operations, &candidate.operations)?,
        services: services(base, candidate)?,
        hot_paths_appeared: only_in(&candidate.hot_paths, &base.hot_paths, |h| h.path.clone()),
        hot_paths_vanished: only_in(&base.hot_paths, &candidate.hot_paths, |h| h.path.clone()),
        findings_appeared: only_in(&candidate.findings, &base.findings, finding_key),
        findings_vanished: only_in(&base.findings, &candidate.findings, finding_key),
    })
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

/// The side of a paired column from the candidate (the base keeps the
/// plain name).
const AFTER: &str = "_after";

/// `frame` with one row per `keys`, the last where a report (edited by
/// hand) repeats one, as reading it into a map would keep.
fn last_per_key(frame: DataFrame, keys: &[&str]) -> LazyFrame {
    let keys = keys.iter().map(|&k| col(k)).collect();
    frame
        .lazy()
        .unique_stable_generic(Some(keys), UniqueKeepStrategy::Last)
}

/// The rows of `base` and `cand` paired on `keys`, each row of either side
/// once, with nulls for the side it is missing from (its keys too: read
/// them with [`key`]).
fn paired(base: DataFrame, cand: DataFrame, keys: &[&str]) -> PolarsResult<DataFrame> {
    let on: Vec<Expr> = keys.iter().map(|&k| col(k)).collect();
    let args = JoinArgs::new(JoinType::Full).with_suffix(Some(AFTER.into()));
    last_per_key(base, keys)
        .join(last_per_key(cand, keys), on.clone(), on, args)
        .collect()
}

/// A key column of a [`paired`] frame, from whichever side has the row.
fn key(frame: &DataFrame, name: &str) -> PolarsResult<Vec<String>> {
    let before = frame.column(name)?.str()?;
    let after = frame.column(&format!("{name}{AFTER}"))?.str()?;
    Ok(before
        .iter()
        .zip(after.iter())
        .map(|(b, a)| b.or(a).unwrap_or("").to_string())
        .collect())
}

/// A float column of a result frame (`None` where that side lacks the row).
fn floats(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<f64>>> {
    Ok(frame.column(name)?.f64()?.iter().collect())
}

fn operations(
    base: &[OperationStats],
    cand: &[OperationStats],
) -> PolarsResult<Vec<OperationDiff>> {
    let frame = |ops: &[OperationStats]| {
        df!(
            "service" => ops.iter().map(|o| o.service.as_str()).collect::<Vec<_>>(),
            "operation" => ops.iter().map(|o| o.operation.as_str()).collect::<Vec<_>>(),
            "count" => ops.iter().map(|o| o.count).collect::<Vec<_>>(),
            "p50" => ops.iter().map(|o| o.p50_ms).collect::<Vec<_>>(),
            "p95" => ops.iter().map(|o| o.p95_ms).collect::<Vec<_>>(),
            "p99" => ops.iter().map(|o| o.p99_ms).collect::<Vec<_>>(),
            "critical" => ops.iter().map(|o| o.critical_ms).collect::<Vec<_>>(),
        )
    };
    let out = paired(frame(base)?, frame(cand)?, &["service", "operation"])?;
    let (service, operation) = (key(&out, "service")?, key(&out, "operation")?);
    let count = |name: &str| -> PolarsResult<Vec<u64>> {
        Ok(out
            .column(name)?
            .u64()?
            .iter()
            .map(|c| c.unwrap_or(0))
            .collect())
    };
    let after = |name: &str| format!("{name}{AFTER}");
    let (count_before, count_after) = (count("count")?, count(&after("count"))?);
    let [p50_b, p95_b, p99_b, crit_b] = ["p50", "p95", "p99", "critical"].map(|c| floats(&out, c));
    let [p50_a, p95_a, p99_a, crit_a] =
        ["p50", "p95", "p99", "critical"].map(|c| floats(&out, &after(c)));
    let (p50_b, p95_b, p99_b, crit_b) = (p50_b?, p95_b?, p99_b?, crit_b?);
    let (p50_a, p95_a, p99_a, crit_a) = (p50_a?, p95_a?, p99_a?, crit_a?);
    let mut rows: Vec<OperationDiff> = (0..out.height())
        .map(|i| OperationDiff {
            service: service[i].clone(),
            operation: operation[i].clone(),
            count_before: count_before[i],
            count_after: count_after[i],
            p50: Change::new(p50_b[i], p50_a[i]),
            p95: Change::new(p95_b[i], p95_a[i]),
            p99: Change::new(p99_b[i], p99_a[i]),
            impact_ms: crit_a[i].unwrap_or(0.0) - crit_b[i].unwrap_or(0.0),
        })
        .collect();
    rows.sort_by(|x, y| {
        y.impact_ms
            .abs()
            .total_cmp(&x.impact_ms.abs())
            .then_with(|| (&x.service, &x.operation).cmp(&(&y.service, &y.operation)))
    });
    Ok(rows)
}

fn services(base: &SavedAnalysis, cand: &SavedAnalysis) -> PolarsResult<Vec<ServiceShift>> {
    let frame = |a: &SavedAnalysis| {
        df!(
            "service" => a.services.iter().map(|s| s.service.as_str()).collect::<Vec<_>>(),
            "share" => a.services.iter().map(|s| s.critical_share).collect::<Vec<_>>(),
        )
    };
    let out = paired(frame(base)?, frame(cand)?, &["service"])?;
    let service = key(&out, "service")?;
    let (before, after) = (
        floats(&out, "share")?,
        floats(&out, &format!("share{AFTER}"))?,
    );
    let mut rows: Vec<ServiceShift> = (0..out.height())
        .map(|i| {
            let (b, a) = (before[i].unwrap_or(0.0), after[i].unwrap_or(0.0));
            ServiceShift {
                service: service[i].clone(),
                critical_share_before: b,
                critical_share_after: a,
                shift: a - b,
            }
        })
        .collect();
    rows.sort_by(|x, y| {
        y.shift
            .abs()
            .total_cmp(&x.shift.abs())
            .then_with(|| x.service.cmp(&y.service))
    });
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::results::ServiceStats;

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
        let d = diff(&base, &cand).unwrap();
        assert_eq!(d.operations[0].operation, "y");
        assert_eq!(d.operations[0].p50.relative, Some(1.0));
        assert_eq!(d.operations[0].impact_ms, 500.0);
        let new = d.operations.iter().find(|o| o.operation == "new").unwrap();
        assert_eq!(new.p50.before_ms, None);
        assert_eq!(new.p50.delta_ms, None);
        assert_eq!(new.count_before, 0);
    }

    #[test]
    fn services_pair_by_name_missing_sides_count_zero_and_a_repeat_keeps_the_last() {
        let svc = |service: &str, share: f64| ServiceStats {
            service: service.into(),
            spans: 1,
            errors: 0,
            self_ms: 0.0,
            self_share: 0.0,
            critical_ms: 0.0,
            critical_share: share,
        };
        let base = SavedAnalysis {
            services: vec![svc("a", 0.5), svc("gone", 0.25), svc("a", 0.75)],
            ..Default::default()
        };
        let cand = SavedAnalysis {
            services: vec![svc("new", 0.125), svc("a", 0.5)],
            ..Default::default()
        };
        let shifts: Vec<_> = diff(&base, &cand)
            .unwrap()
            .services
            .into_iter()
            .map(|s| (s.service, s.critical_share_before, s.critical_share_after))
            .collect();
        // Largest shift first.
        assert_eq!(
            shifts,
            [
                ("a".to_string(), 0.75, 0.5),
                ("gone".to_string(), 0.25, 0.0),
                ("new".to_string(), 0.0, 0.125),
            ]
        );
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
        let d = diff(&base, &cand).unwrap();
        assert_eq!(d.hot_paths_appeared, vec![hp("c:z")]);
        assert_eq!(d.hot_paths_vanished, vec![hp("a:x")]);
    }
}
