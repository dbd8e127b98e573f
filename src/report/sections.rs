//! The sections of the `analyze` report as rows of human-readable cells,
//! shared by the terminal table and Markdown writers.

use super::units::{millis, percent};
use crate::analysis::queues::{FlowStep, MessageFlow, QueueStats, StepKind};
use crate::analysis::results::{
    Analysis, Cascade, EdgeStats, ErrorLocus, Finding, HotPath, OperationStats, QueryShape,
    ServiceStats, Suspect,
};
use crate::analysis::suspects::sentence;

/// One section: a title, headers and cells, plus which columns to drop first
/// when the terminal is narrow (widest, least essential first).
pub struct Section {
    /// The section title.
    pub title: &'static str,
    /// Column headers.
    pub headers: Vec<&'static str>,
    /// Rows of cells.
    pub rows: Vec<Vec<String>>,
    /// Column indices in the order they may be hidden.
    pub drop_order: Vec<usize>,
}

/// The report's sections in display order, each cut to `top` rows.
pub fn sections(analysis: &Analysis, top: usize) -> Vec<Section> {
    vec![
        operations(&analysis.operations, top),
        services(&analysis.services, top),
        hot_paths(&analysis.hot_paths, top),
        cascades(&analysis.cascades, top),
        query_shapes(&analysis.query_shapes, top),
        findings(&analysis.findings, top),
        edges(&analysis.edges, top),
        queues(&analysis.queues, top),
        message_flows(&analysis.message_flows, top),
        errors(&analysis.errors, top),
    ]
}

fn queues(queues: &[QueueStats], top: usize) -> Section {
    let three = |a: Option<f64>, b: Option<f64>, c: Option<f64>| match (a, b, c) {
        (Some(a), Some(b), Some(c)) => format!("{} / {} / {}", millis(a), millis(b), millis(c)),
        _ => "–".to_string(),
    };
    Section {
        title: "Queues (wait = consumer start − producer end)",
        headers: vec![
            "destination",
            "system",
            "messages",
            "redelivered",
            "unconsumed",
            "wait p50 / p95 / p99",
            "processing p50 / p95 / p99",
            "waiting",
            "example trace",
        ],
        rows: queues
            .iter()
            .take(top)
            .map(|q| {
                vec![
                    q.destination.clone(),
                    q.system.clone(),
                    q.messages.to_string(),
                    q.redelivered.to_string(),
                    q.unconsumed.to_string(),
                    three(q.wait_p50_ms, q.wait_p95_ms, q.wait_p99_ms),
                    three(
                        q.processing_p50_ms,
                        q.processing_p95_ms,
                        q.processing_p99_ms,
                    ),
                    percent(q.wait_share),
                    q.example_trace_id.clone(),
                ]
            })
            .collect(),
        drop_order: vec![8, 4, 1, 7],
    }
}

/// A flow's steps as one line: `order-api POST /orders 12 ms → queue
/// notifications: 6.26 s → notification-sender process 14.1 s`.
pub fn flow_path(steps: &[FlowStep]) -> String {
    steps
        .iter()
        .map(|s| match s.kind {
            StepKind::Work => format!("{} {}", s.label, millis(s.ms)),
            StepKind::QueueWait => format!("{}: {}", s.label, millis(s.ms)),
        })
        .collect::<Vec<_>>()
        .join(" → ")
}

fn message_flows(flows: &[MessageFlow], top: usize) -> Section {
    Section {
        title: "Message flows (request start → end of the last consumer's work)",
        headers: vec![
            "origin",
            "flows",
            "end to end p50 / p99",
            "waiting",
            "slowest flow",
            "example trace",
        ],
        rows: flows
            .iter()
            .take(top)
            .map(|f| {
                vec![
                    format!("{}:{}", f.service, f.operation),
                    f.flows.to_string(),
                    format!(
                        "{} / {}",
                        millis(f.end_to_end_p50_ms),
                        millis(f.end_to_end_p99_ms)
                    ),
                    percent(f.wait_share),
                    flow_path(&f.example_path),
                    f.example_trace_id.clone(),
                ]
            })
            .collect(),
        drop_order: vec![5, 3],
    }
}

/// The verdict's sentences, if a diagnosis ran.
pub fn verdict(analysis: &Analysis) -> Option<String> {
    analysis.verdict.as_ref().map(|v| v.text.clone())
}

/// The suspects, each with the sentence of its strongest evidence.
pub fn suspects(suspects: &[Suspect], top: usize) -> Section {
    Section {
        title: "Suspects",
        headers: vec![
            "#",
            "service",
            "score",
            "confidence",
            "evidence",
            "example trace",
            "baseline trace",
        ],
        rows: suspects
            .iter()
            .take(top)
            .map(|s| {
                let evidence: Vec<String> = s.evidence.iter().take(3).map(sentence).collect();
                vec![
                    s.rank.to_string(),
                    s.service.clone(),
                    format!("{:.3}", s.score),
                    format!("{:?}", s.confidence).to_lowercase(),
                    evidence.join(" "),
                    s.example_trace_id.clone(),
                    s.baseline_example_trace_id.clone(),
                ]
            })
            .collect(),
        drop_order: vec![6, 5, 2],
    }
}

fn edges(edges: &[EdgeStats], top: usize) -> Section {
    let pair = |a: f64, b: f64| format!("{} / {}", millis(a), millis(b));
    Section {
        title: "Call edges (caller → callee; gap = caller time outside the callee)",
        headers: vec![
            "edge",
            "calls",
            "per trace",
            "caller p50 / p99",
            "callee p50 / p99",
            "gap p50 / p99",
            "errors",
            "gap critical",
            "example trace",
        ],
        rows: edges
            .iter()
            .take(top)
            .map(|e| {
                let callee = if e.peer {
                    format!("{} (peer)", e.callee)
                } else {
                    e.callee.clone()
                };
                vec![
                    format!("{} → {callee}", e.caller),
                    e.calls.to_string(),
                    format!("{:.2}", e.calls_per_trace),
                    pair(e.caller_p50_ms, e.caller_p99_ms),
                    pair(e.callee_p50_ms, e.callee_p99_ms),
                    pair(e.gap_p50_ms, e.gap_p99_ms),
                    percent(e.error_rate),
                    millis(e.gap_critical_ms),
                    e.example_trace_id.clone(),
                ]
            })
            .collect(),
        drop_order: vec![8, 6, 2, 4],
    }
}

fn errors(errors: &[ErrorLocus], top: usize) -> Section {
    Section {
        title: "Where failures happened (deepest span on the failing branch)",
        headers: vec![
            "service",
            "operation",
            "traces",
            "caller gave up",
            "example trace",
        ],
        rows: errors
            .iter()
            .take(top)
            .map(|e| {
                vec![
                    e.service.clone(),
                    e.operation.clone(),
                    e.traces.to_string(),
                    e.hung.to_string(),
                    e.example_trace_id.clone(),
                ]
            })
            .collect(),
        drop_order: vec![4, 3],
    }
}

fn cascades(cascades: &[Cascade], top: usize) -> Section {
    Section {
        title: "Cascades (root service → culprit)",
        headers: vec![
            "chain",
            "culprit",
            "traces",
            "culprit critical",
            "share",
            "levels p50 / p99",
            "example trace",
        ],
        rows: cascades
            .iter()
            .take(top)
            .map(|c| {
                vec![
                    c.chain.join(" → "),
                    c.culprit.clone(),
                    c.traces.to_string(),
                    millis(c.culprit_critical_ms),
                    percent(c.share),
                    c.levels
                        .iter()
                        .map(|l| format!("{} / {}", millis(l.p50_ms), millis(l.p99_ms)))
                        .collect::<Vec<_>>()
                        .join(" → "),
                    c.example_trace_id.clone(),
                ]
            })
            .collect(),
        drop_order: vec![6, 5, 2],
    }
}

fn query_shapes(shapes: &[QueryShape], top: usize) -> Section {
    Section {
        title: "Query shapes by total time",
        headers: vec![
            "service",
            "system",
            "shape",
            "count",
            "avg",
            "p95",
            "total",
            "share",
            "example trace",
        ],
        rows: shapes
            .iter()
            .take(top)
            .map(|q| {
                vec![
                    q.service.clone(),
                    q.system.clone(),
                    q.shape.clone(),
                    q.count.to_string(),
                    millis(q.avg_ms),
                    millis(q.p95_ms),
                    millis(q.total_ms),
                    percent(q.share),
                    q.example_trace_id.clone(),
                ]
            })
            .collect(),
        drop_order: vec![8, 1, 5, 3],
    }
}

fn findings(findings: &[Finding], top: usize) -> Section {
    Section {
        title: "Findings",
        headers: vec![
            "kind",
            "service",
            "under",
            "shape",
            "count",
            "traces",
            "total",
            "est. saving",
            "example trace",
        ],
        rows: findings
            .iter()
            .take(top)
            .map(|f| {
                vec![
                    f.kind.to_string(),
                    f.service.clone(),
                    f.parent_operation.clone(),
                    f.shape.clone(),
                    f.count.to_string(),
                    f.traces.to_string(),
                    millis(f.total_ms),
                    // `uninstrumented` cannot estimate a saving: say so
                    // rather than print a saving of nothing.
                    if f.estimated_savings_ms > 0.0 {
                        millis(f.estimated_savings_ms)
                    } else {
                        "—".to_string()
                    },
                    f.example_trace_id.clone(),
                ]
            })
            .collect(),
        drop_order: vec![8, 2, 5],
    }
}

fn operations(ops: &[OperationStats], top: usize) -> Section {
    Section {
        title: "Operations by critical time",
        headers: vec![
            "service",
            "operation",
            "count",
            "p50",
            "p95",
            "p99",
            "max",
            "self",
            "self %",
            "critical",
            "critical %",
            "example trace",
        ],
        rows: ops
            .iter()
            .take(top)
            .map(|o| {
                vec![
                    o.service.clone(),
                    o.operation.clone(),
                    o.count.to_string(),
                    millis(o.p50_ms),
                    millis(o.p95_ms),
                    millis(o.p99_ms),
                    millis(o.max_ms),
                    millis(o.self_ms),
                    percent(o.self_share),
                    millis(o.critical_ms),
                    percent(o.critical_share),
                    o.example_trace_id.clone(),
                ]
            })
            .collect(),
        drop_order: vec![11, 6, 4, 7, 3, 2],
    }
}

fn services(services: &[ServiceStats], top: usize) -> Section {
    Section {
        title: "Services by critical time",
        headers: vec![
            "service",
            "spans",
            "self",
            "self %",
            "critical",
            "critical %",
        ],
        rows: services
            .iter()
            .take(top)
            .map(|s| {
                vec![
                    s.service.clone(),
                    s.spans.to_string(),
                    millis(s.self_ms),
                    percent(s.self_share),
                    millis(s.critical_ms),
                    percent(s.critical_share),
                ]
            })
            .collect(),
        drop_order: vec![1, 2],
    }
}

fn hot_paths(paths: &[HotPath], top: usize) -> Section {
    Section {
        title: "Hot paths (critical-path shapes)",
        headers: vec!["path", "traces", "share", "p50", "p99", "example trace"],
        rows: paths
            .iter()
            .take(top)
            .map(|p| {
                vec![
                    if p.path.is_empty() {
                        "(none above 5%)".to_string()
                    } else {
                        p.path.join(" → ")
                    },
                    p.traces.to_string(),
                    percent(p.share),
                    millis(p.p50_ms),
                    millis(p.p99_ms),
                    p.example_trace_id.clone(),
                ]
            })
            .collect(),
        drop_order: vec![5, 3],
    }
}
