//! Analyses over a trace set. Each module computes plain result data; the
//! [`crate::report`] stage formats it.

pub mod aggregate;
pub mod breakdown;
pub mod cascade;
pub mod change_point;
pub mod critical_path;
pub mod detectors;
pub mod diagnose;
pub mod edges;
pub mod error_locus;
pub mod errors;
pub mod flame;
pub mod profile;
pub mod query_shapes;
pub mod queues;
pub mod results;
pub mod select;
pub mod self_time;
pub mod shape;
pub mod summary;
pub mod suspects;
pub mod timeline;

use crate::ingest::Ingested;
use std::sync::Arc;

use crate::model::spill::Spill;
use crate::model::{Interner, Quality, TraceSet};
use results::{Analysis, AnalysisSummary, SCHEMA_VERSION, ms};
use select::Selection;

/// Why an analysis failed: the aggregation engine, or reading back spans
/// spilled to disk.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// The aggregation engine failed.
    #[error("aggregation failed")]
    Aggregation(#[from] polars::error::PolarsError),
    /// A spill file could not be read back.
    #[error("reading spilled spans back")]
    Spill(#[from] std::io::Error),
}

/// What an analysis selects, and how it runs.
#[derive(Clone, Copy)]
pub struct Plan<'a> {
    /// Which units to analyse.
    pub selection: &'a Selection,
    /// The detectors' options.
    pub options: &'a detectors::FindingOptions,
    /// What the breakdown keeps beyond what aggregation reads.
    pub keep: breakdown::Keep,
    /// Advanced by partitions while a spilled input is broken down.
    pub progress: Option<&'a indicatif::ProgressBar>,
}

impl<'a> Plan<'a> {
    /// `selection` with `options`, no critical paths kept, no progress.
    pub fn new(selection: &'a Selection, options: &'a detectors::FindingOptions) -> Self {
        Plan {
            selection,
            options,
            keep: breakdown::Keep::default(),
            progress: None,
        }
    }
}

/// Runs every analysis over the selected part of what was read.
pub fn analyze(
    ingested: &Ingested,
    selection: &Selection,
    options: &detectors::FindingOptions,
) -> Result<Analysis, AnalysisError> {
    analyze_with_progress(ingested, Plan::new(selection, options)).map(|(a, _)| a)
}

/// [`analyze`], also returning the per-unit breakdown with its critical
/// paths (for flame graphs).
pub fn analyze_with_breakdown(
    ingested: &Ingested,
    selection: &Selection,
    options: &detectors::FindingOptions,
) -> Result<(Analysis, breakdown::Breakdown), AnalysisError> {
    let plan = Plan {
        keep: breakdown::Keep::SEGMENTS,
        ..Plan::new(selection, options)
    };
    analyze_with_progress(ingested, plan)
}

/// Runs every analysis as `plan` says, returning the per-unit breakdown
/// too.
pub fn analyze_with_progress(
    ingested: &Ingested,
    plan: Plan<'_>,
) -> Result<(Analysis, breakdown::Breakdown), AnalysisError> {
    let (bd, read) = per_trace_stage(ingested, plan)?;
    let analysis = finish(&ingested.set.strings, &bd, read)?;
    Ok((analysis, bd))
}

/// [`analyze_with_progress`] for a caller that needs the traces no longer
/// (see [`per_trace_stage_releasing`]).
pub fn analyze_releasing(
    ingested: &mut Ingested,
    plan: Plan<'_>,
) -> Result<(Analysis, breakdown::Breakdown), AnalysisError> {
    let (bd, read) = per_trace_stage_releasing(ingested, plan)?;
    let analysis = finish(&ingested.set.strings, &bd, read)?;
    Ok((analysis, bd))
}

/// The per-trace stage of [`analyze_with_progress`]: the breakdown of the
/// selected units, ready for [`finish`] to aggregate, and the summary of
/// what was read.
pub fn per_trace_stage(
    ingested: &Ingested,
    plan: Plan<'_>,
) -> Result<(breakdown::Breakdown, summary::Summary), AnalysisError> {
    if let Some(spill) = &ingested.spill {
        return per_trace_spilled(ingested, spill, plan);
    }
    let mut bd = breakdown_of(&ingested.set, plan.selection, plan.options, plan.keep);
    contiguous(&mut bd);
    Ok((bd, summary::Summary::from_ingested(ingested)))
}

/// [`per_trace_stage`] for a caller that needs the traces no longer: each
/// is dropped once the stage is done with it, so aggregation does not run
/// beside every span read. `ingested` keeps its strings and counts; its set
/// holds no traces afterwards.
pub fn per_trace_stage_releasing(
    ingested: &mut Ingested,
    plan: Plan<'_>,
) -> Result<(breakdown::Breakdown, summary::Summary), AnalysisError> {
    if let Some(spill) = &ingested.spill {
        // The set holds no spans: partitions are released one by one.
        return per_trace_spilled(ingested, spill, plan);
    }
    // Counted before the traces go.
    let read = summary::Summary::from_ingested(ingested);
    let units = select::select(&ingested.set, plan.selection);
    let mut bd = breakdown::breakdown_releasing(&mut ingested.set, &units, plan.options, plan.keep);
    contiguous(&mut bd);
    Ok((bd, read))
}

/// Makes the span and edge tables one chunk a column, as the per-trace
/// stage leaves them in a chunk per task. Each rechunk copies each column
/// and frees its chunks: pages the allocator would keep resident beside
/// the next copy and the aggregation's allocations (40 MiB on 1.09 M
/// spans, which raised the run's peak by as much), so they are handed back
/// after each.
fn contiguous(bd: &mut breakdown::Breakdown) {
    bd.spans.rechunk();
    crate::ingest::memory::released();
    bd.edges.rechunk();
    crate::ingest::memory::released();
}

/// The per-trace stage of a spilled input, a partition at a time: each is
/// read back, built, broken down and dropped before the next, and the
/// breakdowns are merged into exactly what the whole input in memory gives.
fn per_trace_spilled(
    ingested: &Ingested,
    spill: &Spill,
    plan: Plan<'_>,
) -> Result<(breakdown::Breakdown, summary::Summary), AnalysisError> {
    let mut facts = summary::SetFacts::default();
    facts.add(&ingested.set);
    if let Some(bar) = plan.progress {
        bar.set_length(spill.partitions() as u64);
    }
    let mut parts = Vec::with_capacity(spill.partitions());
    for partition in 0..spill.partitions() {
        let mut spans = spill.read(partition)?;
        ingested.processes.settle(&mut spans, &ingested.set.strings);
        let mut set = TraceSet::build(spans, Arc::clone(&ingested.set.strings), Quality::default());
        facts.add(&set);
        let units = select::select(&set, plan.selection);
        parts.push(breakdown::breakdown_releasing(
            &mut set,
            &units,
            plan.options,
            plan.keep,
        ));
        if let Some(bar) = plan.progress {
            bar.inc(1);
        }
    }
    let bd = breakdown::Breakdown::merge(parts)?;
    Ok((bd, summary::Summary::from_facts(ingested, facts)))
}

/// The per-unit stage: selection, critical paths, self times, findings.
/// Its results hold no reference into `set`, so a set read part by part
/// can be dropped part by part (see [`breakdown::Breakdown::merge`]).
pub fn breakdown_of(
    set: &TraceSet,
    selection: &Selection,
    options: &detectors::FindingOptions,
    keep: breakdown::Keep,
) -> breakdown::Breakdown {
    let units = select::select(set, selection);
    breakdown::breakdown_keeping(set, &units, options, keep)
}

/// The trace-level data-quality counts of the analysed traces, each trace
/// counted once however many of its roots were analysed.
fn selected_quality(bd: &breakdown::Breakdown) -> std::collections::BTreeMap<String, u64> {
    let mut sums = [0u64; crate::model::TraceIssues::COUNTS.len()];
    let mut last = None;
    for unit in &bd.units {
        // A trace's units are adjacent (units come in trace order).
        if last == Some(unit.trace_id) {
            continue;
        }
        last = Some(unit.trace_id);
        for (sum, n) in sums.iter_mut().zip(unit.trace_issues.0) {
            *sum += u64::from(n);
        }
    }
    crate::model::TraceIssues::COUNTS
        .iter()
        .zip(sums)
        .map(|(count, n)| (count.key().to_string(), n))
        .collect()
}

/// The aggregation stage: every table and finding from a breakdown, with
/// `read` as the summary of what was read.
pub fn finish(
    strings: &Interner,
    bd: &breakdown::Breakdown,
    read: summary::Summary,
) -> Result<Analysis, AnalysisError> {
    Ok(finish_splitting(strings, bd, read, None)?.0)
}

/// [`finish`], and with `slow` (a quantile) the slow-against-rest split a
/// diagnosis without a baseline makes, with its sides' profiles made in
/// the whole profile's pass (see [`diagnose::profile_with_split`]). Not
/// when the timeline has a change point: the diagnosis splits there first.
pub fn finish_splitting(
    strings: &Interner,
    bd: &breakdown::Breakdown,
    read: summary::Summary,
    slow: Option<f64>,
) -> Result<(Analysis, Option<diagnose::SlowSplit>), AnalysisError> {
    let total_root = bd.total_root();
    // The span table's grouping (1.3 cores alone) runs beside the
    // per-unit tables (1.1-1.3 cores) and the timeline (1.4-1.6), which
    // read the breakdown only: the timeline, run alone after them, left a
    // core idle for a third of its time. Beside them, the stage's cores
    // rose 1.81 -> 1.88 (OTLP/JSON) and 1.76 -> 1.86 (Jaeger), medians of
    // five and six runs, for a peak 4-8 MiB higher on OTLP/JSON (255-260
    // MiB). The call edges here too raised the peak for no gain (they
    // run beside the profile, below).
    let (tables, per_unit) = rayon::join(
        || aggregate::aggregate(strings, bd, total_root),
        || -> polars::prelude::PolarsResult<_> {
            Ok((
                cascade::aggregate(strings, bd, total_root, None)?,
                query_shapes::aggregate(strings, bd, total_root)?,
                detectors::aggregate(strings, bd)?,
                errors::aggregate(strings, bd)?,
                timeline::build(strings, bd, None)?,
            ))
        },
    );
    let (tables, (cascades, query_shapes, findings, errors, timeline)) = (tables?, per_unit?);
    // The joined tables' working memory is handed back (see `released`):
    // kept for reuse, it stayed resident beside the steps below. Theirs is
    // not: it is small beside the run's peak (no change in peak on 1.09 M
    // spans), and handing it back after each step made the next fault its
    // pages in again (21,000 page faults, 20-30 ms of the stage).
    crate::ingest::memory::released();
    // Each unit counted its rows as it was broken down: a group-by of the
    // whole span table by unit (20 ms on 1.09 M spans) is not needed.
    let per_unit = bd
        .units
        .iter()
        .map(|u| u64::from(u.spans))
        .max()
        .unwrap_or(0);
    let mut traces: Vec<_> = bd.units.iter().map(|u| u.trace_id).collect();
    traces.dedup();
    let label = |u: u32| bd.units[u as usize].label(strings);
    let shifted = timeline
        .as_ref()
        .is_some_and(|t| t.incident_start().is_some());
    // The profile is a chain of short parallel steps joined by serial ones
    // (1.5-1.7 cores alone, perf); the call edges beside it fill the
    // other core's gaps: the stage's cores 1.76 -> 1.79-1.80 on the
    // OTLP/JSON and Jaeger sets (six runs each), its peak 3-4 MiB higher.
    let (edges, profiled) = rayon::join(
        || edges::aggregate(strings, &bd.edges, &|_| true, bd.units.len() as u64, &label),
        || match slow {
            Some(quantile) if !shifted => diagnose::profile_with_split(strings, bd, quantile),
            _ => Ok((profile::build(strings, &bd.units, &|_| true)?, None)),
        },
    );
    let (edges, (profile, split)) = (edges?, profiled?);
    let analysis = Analysis {
        schema_version: SCHEMA_VERSION,
        summary: AnalysisSummary {
            read,
            analysed_roots: bd.units.len() as u64,
            analysed_traces: traces.len() as u64,
            total_root_ms: ms(total_root),
            percentile_method: aggregate::PERCENTILE_METHOD,
            max_spans_per_trace: per_unit,
            analysed_spans: bd.spans.len() as u64,
            selected_data_quality: selected_quality(bd),
        },
        operations: tables.operations,
        services: tables.services,
        hot_paths: tables.hot_paths,
        cascades,
        query_shapes,
        findings,
        edges,
        errors,
        profile,
        timeline,
        queues: queues::destinations(strings, &bd.queues)?,
        message_flows: queues::message_flows(strings, &bd.queues)?,
        verdict: None,
        suspects: Vec::new(),
    };
    Ok((analysis, split))
}
