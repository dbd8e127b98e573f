//! `check`: evaluates budget rules and baseline regressions against an
//! analysis. Produces results; `report::check` formats them.

pub mod budget;
pub mod metric;

use serde::Serialize;
use wildmatch::WildMatch;

use crate::analysis::results::{Analysis, OperationStats, SavedAnalysis};
use crate::analysis::select::SpanPattern;
use budget::{LocatedRule, Rule, Target};
pub use metric::{Metric, Unit};

/// Default least span count on both sides before a regression is judged.
pub const DEFAULT_MIN_COUNT: u64 = 20;

/// One evaluated limit.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CheckResult {
    /// The rule's label.
    pub rule: String,
    /// The budget file line of the rule, if it came from one.
    pub line: Option<usize>,
    /// What was measured (`service:operation`, a service, a finding kind).
    pub target: String,
    /// The metric (`p99_ms`, `critical_share`, ...).
    pub metric: Metric,
    /// The measured value (absent when nothing matched).
    pub measured: Option<f64>,
    /// The limit.
    pub limit: f64,
    /// Whether it passed.
    pub passed: bool,
}

/// Every result, plus the verdict.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    /// True when every result passed.
    pub passed: bool,
    /// Every check evaluated, the passing baseline rows that are not listed
    /// in `results` included.
    pub checks: u64,
    /// Checks that failed.
    pub failed: u64,
    /// The results, in rule order (of the baseline comparison, only the
    /// summary and the failing rows).
    pub results: Vec<CheckResult>,
}

impl CheckReport {
    /// Builds the report and its verdict; `unlisted` passing checks were
    /// evaluated but not kept in `results`.
    pub fn new(results: Vec<CheckResult>, unlisted: u64) -> Self {
        let failed = results.iter().filter(|r| !r.passed).count() as u64;
        CheckReport {
            passed: failed == 0,
            checks: results.len() as u64 + unlisted,
            failed,
            results,
        }
    }
}

/// The baseline comparison: its listed rows and how many passing rows were
/// evaluated but left out.
pub struct Regressions {
    /// The summary row, then every failing row.
    pub results: Vec<CheckResult>,
    /// Passing percentile rows not listed.
    pub unlisted: u64,
}

fn result(
    rule: &LocatedRule,
    target: String,
    metric: Metric,
    measured: f64,
    limit: f64,
) -> CheckResult {
    CheckResult {
        rule: rule.rule.label(),
        line: Some(rule.line),
        target,
        metric,
        measured: Some(measured),
        // A tiny tolerance: shares and ms are floats computed from integers.
        passed: measured <= limit + 1e-9,
        limit,
    }
}

/// Evaluates one rule against the analysis of its selection.
pub fn evaluate(
    rule: &LocatedRule,
    analysis: &Analysis,
    baseline: Option<&SavedAnalysis>,
) -> Vec<CheckResult> {
    let r = &rule.rule;
    let mut out = Vec::new();
    match r.target() {
        Target::Operation => {
            let pattern = SpanPattern::parse(r.operation.as_deref().unwrap_or("*"));
            for op in analysis
                .operations
                .iter()
                .filter(|o| pattern.matches(&o.service, &o.operation))
            {
                let target = format!("{}:{}", op.service, op.operation);
                let limits = [
                    (Metric::P50Ms, r.p50_ms, op.p50_ms),
                    (Metric::P95Ms, r.p95_ms, op.p95_ms),
                    (Metric::P99Ms, r.p99_ms, op.p99_ms),
                    (Metric::MaxMs, r.max_ms, op.max_ms),
                    (
                        Metric::CriticalShare,
                        r.max_critical_share,
                        op.critical_share,
                    ),
                    (Metric::SelfShare, r.max_self_share, op.self_share),
                    (
                        Metric::ErrorRate,
                        r.max_error_rate,
                        rate(op.errors, op.count),
                    ),
                ];
                for (metric, limit, measured) in limits {
                    if let Some(limit) = limit {
                        out.push(result(rule, target.clone(), metric, measured, limit));
                    }
                }
                if let (Some(max), Some(base)) = (r.max_regression, baseline) {
                    let min_count = r.min_count.unwrap_or(DEFAULT_MIN_COUNT);
                    out.extend(regression(op, base, max.0, min_count, rule));
                }
            }
        }
        Target::Service => {
            let pattern = WildMatch::new(r.service.as_deref().unwrap_or("*"));
            for s in analysis
                .services
                .iter()
                .filter(|s| pattern.matches(&s.service))
            {
                let limits = [
                    (
                        Metric::CriticalShare,
                        r.max_critical_share,
                        s.critical_share,
                    ),
                    (Metric::SelfShare, r.max_self_share, s.self_share),
                    (Metric::ErrorRate, r.max_error_rate, rate(s.errors, s.spans)),
                ];
                for (metric, limit, measured) in limits {
                    if let Some(limit) = limit {
                        out.push(result(rule, s.service.clone(), metric, measured, limit));
                    }
                }
            }
        }
        Target::Finding => {
            let kind = WildMatch::new(r.finding.as_deref().unwrap_or("*"));
            let service = r.service.as_deref().map(WildMatch::new);
            let count = analysis
                .findings
                .iter()
                .filter(|f| {
                    kind.matches(f.kind.as_str())
                        && service.as_ref().is_none_or(|s| s.matches(&f.service))
                })
                .count();
            if let Some(limit) = r.max_count {
                let target = r.finding.clone().unwrap_or_default();
                out.push(result(
                    rule,
                    target,
                    Metric::Count,
                    count as f64,
                    limit as f64,
                ));
            }
            // A finding rule measures a count, which is meaningful at zero.
            return out;
        }
        Target::Trace => {
            if let Some(limit) = r.max_spans_per_trace
                && analysis.summary.analysed_roots > 0
            {
                let measured = analysis.summary.max_spans_per_trace as f64;
                out.push(result(
                    rule,
                    "traces".into(),
                    Metric::SpansPerTrace,
                    measured,
                    limit as f64,
                ));
            }
        }
    }
    if out.is_empty() {
        out.push(unmatched(r, rule.line));
    }
    out
}

/// The result of a rule that matched nothing: a failure unless optional, so
/// that a renamed operation cannot pass silently.
fn unmatched(r: &Rule, line: usize) -> CheckResult {
    CheckResult {
        rule: r.label(),
        line: Some(line),
        target: "(nothing matched)".into(),
        metric: Metric::Matches,
        measured: None,
        limit: 1.0,
        passed: r.optional,
    }
}

fn rate(errors: u64, count: u64) -> f64 {
    if count == 0 {
        0.0
    } else {
        errors as f64 / count as f64
    }
}

/// Compares one operation's percentiles with the baseline's; nothing when
/// either side has fewer than `min_count` spans or the baseline lacks it.
fn regression(
    op: &OperationStats,
    base: &SavedAnalysis,
    max: f64,
    min_count: u64,
    rule: &LocatedRule,
) -> Vec<CheckResult> {
    let Some(before) = base
        .operations
        .iter()
        .find(|b| b.service == op.service && b.operation == op.operation)
    else {
        return Vec::new();
    };
    if before.count < min_count || op.count < min_count {
        return Vec::new();
    }
    let target = format!("{}:{}", op.service, op.operation);
    [
        (Metric::P50VsBaseline, before.p50_ms, op.p50_ms),
        (Metric::P95VsBaseline, before.p95_ms, op.p95_ms),
        (Metric::P99VsBaseline, before.p99_ms, op.p99_ms),
    ]
    .into_iter()
    .map(|(metric, was, now)| {
        let limit = was * (1.0 + max);
        let mut r = result(rule, target.clone(), metric, now, limit);
        r.rule = format!("{} (max +{:.0}%)", r.rule, max * 100.0);
        r
    })
    .collect()
}

/// The global `--max-regression` check over every operation present in both
/// the analysis and the baseline; only failures are listed, plus one summary
/// row that counts operations (not percentile rows).
pub fn global_regressions(
    analysis: &Analysis,
    base: &SavedAnalysis,
    max: f64,
    min_count: u64,
) -> Regressions {
    let rule = LocatedRule {
        rule: Rule {
            name: Some("baseline".into()),
            ..Rule::default()
        },
        line: 0,
    };
    let (mut compared, mut regressed, mut rows) = (0u64, 0u64, 0u64);
    let mut failures = Vec::new();
    for op in &analysis.operations {
        let results = regression(op, base, max, min_count, &rule);
        if results.is_empty() {
            continue;
        }
        compared += 1;
        rows += results.len() as u64;
        let before = failures.len();
        failures.extend(results.into_iter().filter(|r| !r.passed).map(|mut r| {
            r.line = None;
            r
        }));
        regressed += u64::from(failures.len() > before);
    }
    let summary = CheckResult {
        rule: format!("baseline (max +{:.0}%, min {min_count} spans)", max * 100.0),
        line: None,
        target: format!(
            "{compared} operations compared ({rows} percentiles, {} over the limit)",
            failures.len()
        ),
        metric: Metric::RegressedOperations,
        measured: Some(regressed as f64),
        limit: 0.0,
        passed: failures.is_empty(),
    };
    let unlisted = rows - failures.len() as u64;
    let mut results = vec![summary];
    results.extend(failures);
    Regressions { results, unlisted }
}
