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
