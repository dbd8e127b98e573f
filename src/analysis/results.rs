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
    /// Call edges, largest gap critical time first.
    pub edges: Vec<EdgeStats>,
    /// Where failures happened, most traces first.
    pub errors: Vec<ErrorLocus>,
    /// The top suspect and why, in words; absent when no diagnosis ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// Services that explain why the incident (or slow) traces are slow.
    pub suspects: Vec<Suspect>,
    /// Per root operation, what each service and edge adds per trace: what
    /// a later run compares with when this report is its baseline.
    pub profile: crate::analysis::profile::Profile,
    /// Traffic per time bucket and the moments root latency shifted;
    /// absent when nothing was analysed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<crate::analysis::timeline::Timeline>,
    /// Per queue destination: messages, waits, processing, redeliveries.
    pub queues: Vec<crate::analysis::queues::QueueStats>,
    /// Per originating operation: requests whose work went through a
    /// queue, from their start to the end of the last consumer's work.
    pub message_flows: Vec<crate::analysis::queues::MessageFlow>,
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
    /// Spans in the analysed roots' subtrees (what the selection kept, of
    /// `spans` read).
    #[serde(default)]
    pub analysed_spans: u64,
    /// The data-quality counts of the analysed traces (those a trace's own
    /// build makes; `data_quality` counts the whole input), by name.
    #[serde(default)]
    pub selected_data_quality: std::collections::BTreeMap<String, u64>,
}

impl Analysis {
    /// Every length of time the report shows, named: what the fuzz targets
    /// and the hostile-time tests check is never negative.
    pub fn reported_times(&self) -> Vec<(&'static str, f64)> {
        let mut out = vec![("total root", self.summary.total_root_ms)];
        for op in &self.operations {
            out.extend([
                ("p50", op.p50_ms),
                ("p95", op.p95_ms),
                ("p99", op.p99_ms),
                ("max", op.max_ms),
                ("total", op.total_ms),
                ("self", op.self_ms),
                ("critical", op.critical_ms),
            ]);
        }
        for s in &self.services {
            out.extend([
                ("service self", s.self_ms),
                ("service critical", s.critical_ms),
            ]);
        }
        for shape in &self.query_shapes {
            out.push(("query total", shape.total_ms));
        }
        for e in &self.edges {
            out.push(("edge gap critical", e.gap_critical_ms));
        }
        for f in &self.findings {
            out.push(("finding total", f.total_ms));
        }
        for q in &self.queues {
            let waits = [
                q.wait_p50_ms,
                q.wait_p99_ms,
                q.processing_p50_ms,
                q.processing_p99_ms,
            ];
            out.extend(waits.into_iter().flatten().map(|v| ("queue time", v)));
        }
        for f in &self.message_flows {
            out.extend([
                ("flow end to end p50", f.end_to_end_p50_ms),
                ("flow end to end p99", f.end_to_end_p99_ms),
            ]);
            out.extend(f.example_path.iter().map(|s| ("flow step", s.ms)));
        }
        out
    }
}

impl AnalysisSummary {
    /// The opening line of every report: what was analysed, of what was
    /// read when a selection kept less.
    pub fn line(&self) -> String {
        let r = &self.read;
        let what = if self.analysed_traces == r.traces && self.analysed_spans == r.spans {
            format!("{} traces, {} spans", r.traces, r.spans)
        } else {
            format!(
                "{} of {} traces, {} of {} spans selected",
                self.analysed_traces, r.traces, self.analysed_spans, r.spans
            )
        };
        format!(
            "{what}, {} services; {} roots analysed, {} of root time in all.",
            r.services,
            self.analysed_roots,
            crate::units::millis(self.total_root_ms)
        )
    }
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
    /// How the culprit was chosen.
    #[serde(default)]
    pub rule: CascadeRule,
}

/// How a cascade's culprit was chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CascadeRule {
    /// The service holding the most critical-path time (no suspect stood
    /// out, or the suspect holds no time in these traces).
    #[default]
    MostCriticalTime,
    /// The diagnosis's top suspect.
    TopSuspect,
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
    /// `n_plus_one`, `n_plus_one_cache`, `fan_out`, `sequential_calls` or
    /// `uninstrumented`.
    pub kind: crate::analysis::detectors::FindingKind,
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
    /// The layout version it was written with.
    #[serde(default)]
    pub schema_version: Option<u32>,
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
    /// Call edges.
    #[serde(default)]
    pub edges: Vec<EdgeStats>,
    /// Per-trace profile (reports from before it existed have none).
    #[serde(default)]
    pub profile: crate::analysis::profile::Profile,
}

impl From<&Analysis> for SavedAnalysis {
    fn from(a: &Analysis) -> Self {
        SavedAnalysis {
            schema_version: Some(a.schema_version),
            operations: a.operations.clone(),
            services: a.services.clone(),
            hot_paths: a.hot_paths.clone(),
            findings: a.findings.clone(),
            edges: a.edges.clone(),
            profile: a.profile.clone(),
        }
    }
}

/// One call edge `caller → callee`, aggregated over the analysed units.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EdgeStats {
    /// The calling service.
    pub caller: String,
    /// The called service, or the peer a client span names.
    pub callee: String,
    /// Whether the callee is a named peer (no span of its own).
    pub peer: bool,
    /// Caller-side spans on this edge.
    pub calls: u64,
    /// Units with at least one call on this edge.
    pub traces: u64,
    /// `calls` over every analysed unit.
    pub calls_per_trace: f64,
    /// Median caller-side duration.
    pub caller_p50_ms: f64,
    /// 95th percentile caller-side duration.
    pub caller_p95_ms: f64,
    /// 99th percentile caller-side duration.
    pub caller_p99_ms: f64,
    /// Median time the callee's spans cover.
    pub callee_p50_ms: f64,
    /// 95th percentile of the same.
    pub callee_p95_ms: f64,
    /// 99th percentile of the same.
    pub callee_p99_ms: f64,
    /// Median gap (caller time outside the callee).
    pub gap_p50_ms: f64,
    /// 95th percentile gap.
    pub gap_p95_ms: f64,
    /// 99th percentile gap.
    pub gap_p99_ms: f64,
    /// Mean gap per call.
    #[serde(default)]
    pub gap_mean_ms: f64,
    /// Sample variance of the gap per call, ms².
    #[serde(default)]
    pub gap_var_ms2: f64,
    /// Calls where the caller or callee reported an error, over `calls`.
    pub error_rate: f64,
    /// Summed gap time on the critical path.
    pub gap_critical_ms: f64,
    /// The trace of the slowest call.
    pub example_trace_id: String,
}

/// Where failures happened: traces whose failing branch ends in one
/// `service:operation`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ErrorLocus {
    /// The service of the deepest span on the failing branch.
    pub service: String,
    /// Its operation.
    pub operation: String,
    /// Units whose failure ends there.
    pub traces: u64,
    /// Of those, units where that span is not itself marked as an error
    /// (a caller gave up on it: a timeout masking a hung callee).
    pub hung: u64,
    /// One such trace.
    pub example_trace_id: String,
}

/// How a diagnosis got its "normal" to compare with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosisMode {
    /// A separate baseline: other traces, or a saved report.
    Baseline,
    /// An earlier time range of the same input.
    EarlierRange,
    /// The traces before the first root-latency change point of the same
    /// input, against those after it.
    BeforeChange,
    /// The slow traces of each root operation against the rest.
    SlowVsRest,
}

/// How sure a diagnosis is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// Nothing stands out from the noise.
    None,
    /// The evidence is beyond the noise, but not by far (3 ≤ z < 5).
    Medium,
    /// The evidence is far beyond the noise (z ≥ 5).
    High,
}

/// The opening lines of a report: the top suspect and why.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Verdict {
    /// What was compared with what.
    pub mode: DiagnosisMode,
    /// The "normal" side, in words (a file, a time range, "the fastest 90%").
    pub baseline: String,
    /// Units on the normal side, in root operations both sides share.
    pub baseline_traces: u64,
    /// Units on the incident (or slow) side, in the same root operations.
    pub incident_traces: u64,
    /// Root operations compared.
    pub root_operations: u64,
    /// The top suspect's service, if one stands out.
    pub suspect: Option<String>,
    /// How sure.
    pub confidence: Confidence,
    /// Two or three sentences to paste into an incident channel.
    pub text: String,
}

/// A service that explains why the incident (or slow) traces are slow.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Suspect {
    /// 1 for the top suspect.
    pub rank: u64,
    /// The service (or the peer a client span names).
    pub service: String,
    /// Summed contributions of the evidence (see `evidence[].contribution`).
    pub score: f64,
    /// How the score is computed, in words.
    pub score_method: String,
    /// How sure.
    pub confidence: Confidence,
    /// What makes the case, largest contribution first; then structural
    /// changes (calls that vanished or appeared) that do not score.
    pub evidence: Vec<Evidence>,
    /// A trace from the incident side showing the largest change.
    pub example_trace_id: String,
    /// A trace from the normal side, to compare with.
    pub baseline_example_trace_id: String,
}

/// One piece of evidence: how one feature changed per trace.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Evidence {
    /// What is measured.
    pub kind: crate::analysis::profile::FeatureKind,
    /// The service (the caller, for an edge).
    pub service: String,
    /// The callee, for an edge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callee: Option<String>,
    /// The operation, for `operation_critical`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Mean per trace before (ms for times).
    pub before: f64,
    /// Mean per trace after.
    pub after: f64,
    /// 99th percentile per trace before.
    pub before_p99: f64,
    /// 99th percentile per trace after.
    pub after_p99: f64,
    /// The change of the mean per trace in standard errors (Welch); capped
    /// at 1000.
    pub z: f64,
    /// For an edge's gap: the change of the mean gap per call in standard
    /// errors (Welch), which sees a slower edge that few traces call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_z: Option<f64>,
    /// What it adds to the score: the growth as a share of the normal mean
    /// root duration for times, the growth in share of traces otherwise; 0
    /// for structural evidence that does not score.
    pub contribution: f64,
    /// For an edge: the median caller-side duration per call, before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_p50_before_ms: Option<f64>,
    /// For an edge: the same, after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_p50_after_ms: Option<f64>,
    /// For an edge: the median callee-side duration per call, before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callee_p50_before_ms: Option<f64>,
    /// For an edge: the same, after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callee_p50_after_ms: Option<f64>,
    /// Why this evidence counts against this service.
    pub reason: String,
}
