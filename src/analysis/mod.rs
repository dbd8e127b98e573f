//! Analyses over a trace set. Each module computes plain result data; the
//! [`crate::report`] stage formats it.

pub mod aggregate;
pub mod breakdown;
pub mod cascade;
pub mod critical_path;
pub mod detectors;
pub mod flame;
pub mod percentile;
pub mod query_shapes;
pub mod results;
pub mod select;
pub mod self_time;
pub mod shape;
pub mod summary;

use crate::ingest::Ingested;
use results::{Analysis, AnalysisSummary, SCHEMA_VERSION, ms};
use select::Selection;

/// Why an analysis failed (only the aggregation engine can fail).
#[derive(Debug, thiserror::Error)]
#[error("aggregation failed: {0}")]
pub struct AnalysisError(#[from] polars::error::PolarsError);

/// Runs every analysis over the selected part of what was read.
pub fn analyze(
    ingested: &Ingested,
    selection: &Selection,
    options: &detectors::FindingOptions,
) -> Result<Analysis, AnalysisError> {
    analyze_with_breakdown(ingested, selection, options).map(|(a, _)| a)
}

/// [`analyze`], also returning the per-unit breakdown (for flame graphs).
pub fn analyze_with_breakdown(
    ingested: &Ingested,
    selection: &Selection,
    options: &detectors::FindingOptions,
) -> Result<(Analysis, breakdown::Breakdown), AnalysisError> {
    let set = &ingested.set;
    let units = select::select(set, selection);
    let bd = breakdown::breakdown(set, &units, options);
    let total_root: i64 = bd.units.iter().map(|u| u.duration).sum();
    let tables = aggregate::aggregate(set, &bd, total_root)?;
    let mut per_unit = vec![0u64; units.len()];
    for row in &bd.rows {
        per_unit[row.unit as usize] += 1;
    }
    let mut traces: Vec<usize> = units.iter().map(|u| u.trace).collect();
    traces.dedup();
    let analysis = Analysis {
        schema_version: SCHEMA_VERSION,
        summary: AnalysisSummary {
            read: summary::Summary::from_ingested(ingested),
            analysed_roots: units.len() as u64,
            analysed_traces: traces.len() as u64,
            total_root_ms: ms(total_root),
            percentile_method: aggregate::PERCENTILE_METHOD,
            max_spans_per_trace: per_unit.into_iter().max().unwrap_or(0),
        },
        operations: tables.operations,
        services: tables.services,
        hot_paths: tables.hot_paths,
        cascades: cascade::aggregate(set, &bd, total_root),
        query_shapes: query_shapes::aggregate(set, &bd, total_root)?,
        findings: detectors::aggregate(set, &bd),
    };
    Ok((analysis, bd))
}
