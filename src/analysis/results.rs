//! The analysis results: plain, serialisable data. The JSON report is these
//! types serialised, so they are a public interface: fields are only added,
//! never renamed or removed (see `schema_version`).
//!
//! Times are milliseconds as floats; shares are fractions in [0, 1] of the
//! summed durations of the analysed roots.

use serde::{Deserialize, Serialize};

use super::summary::Summary;

/// Version of the JSON layout; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything `critpath analyze` reports.
#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    /// See [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// What was read, and what was selected.
    pub summary: AnalysisSummary,
    /// Per `service:operation`, by critical time, descending.
    pub operations: Vec<OperationStats>,
    /// Per service, by critical time, descending.
    pub services: Vec<ServiceStats>,
    /// Traces grouped by critical-path shape, most common first.
    pub hot_paths: Vec<HotPath>,
    /// Cross-service cascades, largest culprit time first.
    pub cascades: Vec<Cascade>,
    /// Database time per query shape, largest first.
    pub query_shapes: Vec<QueryShape>,
    /// Findings, largest estimated saving first.
    pub findings: Vec<Finding>,
}

/// The summary section of `analyze`.
#[derive(Clone, Debug, Serialize)]
pub struct AnalysisSummary {
    /// What was read (the same as `critpath stats`).
    #[serde(flatten)]
    pub read: Summary,
    /// Units analysed: roots, or `--entry` subtrees, after selection.
    pub analysed_roots: u64,
    /// Traces with at least one analysed root.
    pub analysed_traces: u64,
    /// Sum of the analysed roots' durations: the denominator of every share.
    pub total_root_ms: f64,
    /// Percentiles are nearest-rank (see README).
    pub percentile_method: &'static str,
    /// The most spans in one analysed root's subtree.
    pub max_spans_per_trace: u64,
}

/// Statistics of one `service:operation`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OperationStats {
    /// The service.
    pub service: String,
    /// The operation name.
    pub operation: String,
    /// Spans.
    pub count: u64,
    /// Spans with an error status.
    #[serde(default)]
    pub errors: u64,
    /// Median duration.
    pub p50_ms: f64,
    /// 95th percentile duration.
    pub p95_ms: f64,
    /// 99th percentile duration.
    pub p99_ms: f64,
    /// Longest duration.
    pub max_ms: f64,
    /// Summed duration.
    pub total_ms: f64,
    /// Summed self time.
    pub self_ms: f64,
    /// `self_ms` over the summed root durations.
    pub self_share: f64,
    /// Summed time on the critical path.
    pub critical_ms: f64,
    /// `critical_ms` over the summed root durations.
    pub critical_share: f64,
    /// The trace of the slowest span.
    pub example_trace_id: String,
}

/// Statistics of one service.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ServiceStats {
    /// The service.
    pub service: String,
    /// Spans.
    pub spans: u64,
    /// Spans with an error status.
    #[serde(default)]
    pub errors: u64,
    /// Summed self time.
    pub self_ms: f64,
    /// `self_ms` over the summed root durations.
    pub self_share: f64,
    /// Summed time on the critical path.
    pub critical_ms: f64,
    /// `critical_ms` over the summed root durations.
    pub critical_share: f64,
}

/// A critical-path shape shared by several traces.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct HotPath {
    /// The `service:operation`s holding at least 5% of the path, in the order
    /// they first appear on it.
    pub path: Vec<String>,
    /// Units (roots) with this shape.
    pub traces: u64,
    /// `traces` over all analysed units.
    pub share: f64,
    /// Median root duration of these units.
    pub p50_ms: f64,
    /// 99th percentile root duration of these units.
    pub p99_ms: f64,
    /// The slowest of these traces.
    pub example_trace_id: String,
}

/// Nanoseconds to milliseconds.
pub fn ms(ns: i64) -> f64 {
    ns as f64 / 1e6
}

/// A share that is 0 when the denominator is.
pub fn share(part: f64, whole: f64) -> f64 {
    if whole > 0.0 { part / whole } else { 0.0 }
}

/// A cross-service cascade shared by several units.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Cascade {
    /// Services from the root's down to the culprit.
    pub chain: Vec<String>,
    /// The service holding the most critical-path time.
    pub culprit: String,
    /// Units with this chain.
    pub traces: u64,
    /// The culprit's summed critical-path time.
    pub culprit_critical_ms: f64,
    /// `culprit_critical_ms` over the summed root durations.
    pub share: f64,
    /// Per chain level, that service's server-side duration percentiles.
    pub levels: Vec<CascadeLevel>,
    /// The slowest of these traces.
    pub example_trace_id: String,
}

/// One level of a cascade chain.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CascadeLevel {
    /// The service.
    pub service: String,
    /// Median duration of its topmost span on the chain.
    pub p50_ms: f64,
    /// 99th percentile of the same.
    pub p99_ms: f64,
}

/// Time spent in one query shape.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct QueryShape {
    /// The calling service.
    pub service: String,
    /// The database system (`postgresql`, `redis`, ...), or empty.
    pub system: String,
    /// The normalised statement.
    pub shape: String,
    /// Spans.
    pub count: u64,
    /// Mean duration.
    pub avg_ms: f64,
    /// 95th percentile duration.
    pub p95_ms: f64,
    /// Summed duration.
    pub total_ms: f64,
    /// `total_ms` over the summed root durations.
    pub share: f64,
    /// The trace of the slowest span.
    pub example_trace_id: String,
}

/// A finding: a pattern worth fixing, aggregated over traces.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Finding {
    /// `n_plus_one`, `fan_out`, `sequential_calls` or `uninstrumented`.
    pub kind: String,
    /// The service where it happens.
    pub service: String,
    /// The operation of the parent span under which it happens.
    pub parent_operation: String,
    /// The repeated shape (or the shapes, joined with ` | `).
    pub shape: String,
    /// The largest number of calls involved in one trace.
    pub count: u64,
    /// Traces (units) where it was found.
    pub traces: u64,
    /// Summed duration of the spans involved.
    pub total_ms: f64,
    /// Summed estimated latency saving (see the README for each kind's model).
    pub estimated_savings_ms: f64,
    /// The slowest affected trace.
    pub example_trace_id: String,
    /// The spans involved in that trace (the offenders), for drill-down.
    pub example_span_ids: Vec<String>,
    /// Their parent span in that trace.
    pub example_parent_span_id: String,
}

/// A JSON report read back (a baseline, or one side of a diff). Only the
/// sections comparisons use; absent sections read as empty, so reports from
/// older versions still load.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct SavedAnalysis {
    /// Per operation.
    #[serde(default)]
    pub operations: Vec<OperationStats>,
    /// Per service.
    #[serde(default)]
    pub services: Vec<ServiceStats>,
    /// Hot paths.
    #[serde(default)]
    pub hot_paths: Vec<HotPath>,
    /// Findings.
    #[serde(default)]
    pub findings: Vec<Finding>,
}

impl From<&Analysis> for SavedAnalysis {
    fn from(a: &Analysis) -> Self {
        SavedAnalysis {
            operations: a.operations.clone(),
            services: a.services.clone(),
            hot_paths: a.hot_paths.clone(),
            findings: a.findings.clone(),
        }
    }
}
