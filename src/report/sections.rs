//! The sections of the `analyze` report as rows of human-readable cells,
//! shared by the terminal table and Markdown writers.

use super::units::{millis, percent};
use crate::analysis::results::{
    Analysis, Cascade, Finding, HotPath, OperationStats, QueryShape, ServiceStats,
};

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
    ]
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
                    f.kind.clone(),
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
