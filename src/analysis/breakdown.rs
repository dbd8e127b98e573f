//! Per-unit breakdown: for each selected subtree, its critical path; for
//! each span in it, its duration, self time and critical time; and what the
//! per-unit analyses (cascade, query rows, detectors) observe in it.
//!
//! This is the per-trace stage that runs in parallel (rayon); the
//! aggregation stages sum it over traces.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::cascade::{self, CascadeObs, CascadeRoom};
use super::critical_path::{Segment, Walk, critical_path_into};
use super::detectors::{self, FindingIds, FindingOptions, Occurrence};
use super::edges::{self, EdgeColumns, EdgeRoom, EdgeRow, EdgeTable};
use super::error_locus;
use super::profile::{self, FeatureRoom, UnitFeatures};
use super::select::Unit;
use super::self_time::self_times_into;
use super::shape::{Shape, ShapeKind};
use crate::concat::Blocks;
use crate::model::{Interner, Nanos, Status, Sym, Trace, TraceId, TraceSet};
pub use crate::table::ExportColumns;
pub use crate::table::SpanRow;
use crate::table::{Chunked, Run, SpanColumn, SpanColumns, SpanTable};

/// The smallest share of a unit's duration that a `service:operation` must
/// hold on the critical path to appear in its hot path.
pub const HOT_PATH_MIN_SHARE: f64 = 0.05;

/// One database span, for the query-shape table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueryRow {
    /// Index into the breakdown's units.
    pub unit: u32,
    /// The calling service.
    pub service: Sym,
    /// The database system, if named.
    pub system: Option<Sym>,
    /// The statement's shape.
    pub shape: Sym,
    /// The span's duration; 0 when its end precedes its start.
    pub duration: Nanos,
}

/// The result for one unit.
#[derive(Clone, Debug)]
pub struct UnitBreakdown {
    /// Which subtree.
    pub unit: Unit,
    /// Its trace's id.
    pub trace_id: TraceId,
    /// Its trace's original id text, when that was not hex.
    pub trace_label: Option<Sym>,
    /// The subtree root's start.
    pub start: Nanos,
    /// Its trace's start (its earliest span's), which `--since`/`--until`
    /// compare: later than `start` for a second root or an `--entry` span.
    pub trace_start: Nanos,
    /// The subtree root's duration.
    pub duration: Nanos,
    /// How many spans the subtree holds: its rows in the span table.
    pub spans: u32,
    /// The critical path, in time order; empty unless the breakdown was
    /// asked to keep it ([`Segments::Keep`]).
    pub segments: Box<[Segment]>,
    /// The `service:operation`s holding at least [`HOT_PATH_MIN_SHARE`] of
    /// the critical path, in the order they first appear on it.
    pub hot_path: Box<[(Sym, Sym)]>,
    /// The unit's cascade, if it has a critical path.
    pub cascade: Option<CascadeObs>,
    /// What the detectors found.
    pub findings: Box<[Occurrence]>,
    /// The span ids each finding names, in `findings` order, so reports
    /// need not go back to the trace.
    pub finding_ids: Box<[FindingIds]>,
    /// What the unit adds to a profile (see [`profile`]).
    pub features: UnitFeatures,
    /// Where its failure happened, if it failed.
    pub error_locus: Option<LocusObs>,
    /// Its trace's data-quality counts.
    pub trace_issues: crate::model::TraceIssues,
}

/// The error locus of one unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocusObs {
    /// The locus span's service.
    pub service: Sym,
    /// Its operation.
    pub name: Sym,
    /// Whether the locus span itself is not marked as an error (a caller
    /// gave up on it).
    pub hung: bool,
}

impl UnitBreakdown {
    /// The id to show for this unit's trace: its original text, or hex.
    pub fn label(&self, strings: &Interner) -> String {
        match self.trace_label {
            Some(sym) => strings.resolve(sym).to_string(),
            None => self.trace_id.to_string(),
        }
    }
}

/// Whether a breakdown keeps each unit's critical path once the unit is
/// done with it. Only the flame graph reads it afterwards, and kept it is
/// about a sixth of what a spilled analysis holds per unit (5.6 of 36 MB
/// on 110k spans), so the reports that draw none drop it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Segments {
    /// Keep them in [`UnitBreakdown::segments`].
    Keep,
    /// Leave [`UnitBreakdown::segments`] empty.
    #[default]
    Drop,
}

/// What a breakdown keeps beyond what aggregation reads; by default
/// nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Keep {
    /// Each unit's critical path (the flame graph draws it).
    pub segments: Segments,
    /// The span table's export columns (the Parquet export writes them).
    pub export: ExportColumns,
}

impl Keep {
    /// Each unit's critical path, and nothing else.
    pub const SEGMENTS: Keep = Keep {
        segments: Segments::Keep,
        export: ExportColumns::Drop,
    };
}

/// Every unit's result and every span row.
#[derive(Clone, Debug, Default)]
pub struct Breakdown {
    /// One entry per unit, in the order given.
    pub units: Vec<UnitBreakdown>,
    /// One row per span of every unit, grouped by unit in unit order.
    pub spans: SpanTable,
    /// One row per database span of every unit.
    pub queries: Vec<QueryRow>,
    /// One row per call edge of every unit, grouped by unit in unit order.
    pub edges: EdgeTable,
    /// Message hops and flows of the units' traces.
    pub queues: super::queues::QueueRows,
}

impl Breakdown {
    /// The summed duration of every unit's root: the denominator of every
    /// share. Saturating: root durations are at most 230 years each (the
    /// ingest bounds), but there can be many.
    pub fn total_root(&self) -> Nanos {
        self.units
            .iter()
            .fold(0, |sum: Nanos, u| sum.saturating_add(u.duration))
    }

    /// Joins the breakdowns of parts of one input that hold disjoint sets
    /// of traces (the partitions of a spill) into the breakdown the whole
    /// input gives: units in trace-id order, as a trace set orders its
    /// traces, each unit's rows and queries following it, renumbered.
    ///
    /// Rows are moved, not copied beside the parts: span rows column by
    /// column ([`SpanTable::gathered`]); units, queries and edges are
    /// concatenated part by part (each part freed as it goes) and then put
    /// in merged order in place.
    pub fn merge(parts: Vec<Breakdown>) -> polars::prelude::PolarsResult<Breakdown> {
        let mut order: Vec<(TraceId, u32, u32)> = parts
            .iter()
            .enumerate()
            .flat_map(|(p, part)| {
                part.units
                    .iter()
                    .enumerate()
                    .map(move |(u, unit)| (unit.trace_id, p as u32, u as u32))
            })
            .collect();
        // A trace lies in one part, so its units keep their relative order.
        order.sort_unstable();
        // Each part's unit `u` becomes unit `renumber[p][u]`.
        let mut renumber: Vec<Vec<u32>> = parts.iter().map(|p| vec![0; p.units.len()]).collect();
        for (index, &(_, p, u)) in order.iter().enumerate() {
            renumber[p as usize][u as usize] = index as u32;
        }
        // Each part's span rows, queries and edges are grouped by unit, in
        // unit order: where each unit's rows start.
        let starts = |units: usize, of: &mut dyn Iterator<Item = u32>| {
            let mut starts = vec![0usize; units + 1];
            for unit in of {
                starts[unit as usize + 1] += 1;
            }
            for u in 0..units {
                starts[u + 1] += starts[u];
            }
            starts
        };
        let span_starts: Vec<Vec<usize>> = parts
            .iter()
            .map(|p| Ok(starts(p.units.len(), &mut p.spans.u32s(SpanColumn::Unit)?)))
            .collect::<polars::prelude::PolarsResult<_>>()?;
        let query_starts: Vec<Vec<usize>> = parts
            .iter()
            .map(|p| starts(p.units.len(), &mut p.queries.iter().map(|q| q.unit)))
            .collect();
        let edge_starts: Vec<Vec<usize>> = parts
            .iter()
            .map(|p| Ok(starts(p.units.len(), &mut p.edges.units()?)))
            .collect::<polars::prelude::PolarsResult<_>>()?;
        let runs_of = |starts: &[Vec<usize>]| -> Vec<Run> {
            order
                .iter()
                .enumerate()
                .map(|(index, &(_, p, u))| {
                    let (p, u) = (p as usize, u as usize);
                    Run {
                        part: p,
                        first: starts[p][u],
                        rows: starts[p][u + 1] - starts[p][u],
                        unit: index as u32,
                    }
                })
                .collect()
        };
        let total = |f: &dyn Fn(&Breakdown) -> usize| parts.iter().map(f).sum::<usize>();
        let mut out = Breakdown {
            units: Vec::with_capacity(order.len()),
            spans: SpanTable::default(),
            queries: Vec::with_capacity(total(&|p| p.queries.len())),
            edges: EdgeTable::default(),
            queues: Default::default(),
        };
        // Where each part's rows land: per unit of the merged order, its
        // rows' first position.
        let destinations = |starts: &[Vec<usize>]| {
            let mut at = 0usize;
            let mut first: Vec<Vec<usize>> = starts.iter().map(|s| vec![0; s.len() - 1]).collect();
            for &(_, p, u) in &order {
                let (p, u) = (p as usize, u as usize);
                first[p][u] = at;
                at += starts[p][u + 1] - starts[p][u];
            }
            // Row by row, in concatenated (part, then row) order.
            let mut dest = Vec::with_capacity(at);
            for (p, s) in starts.iter().enumerate() {
                for u in 0..s.len() - 1 {
                    dest.extend((0..s[u + 1] - s[u]).map(|k| (first[p][u] + k) as u32));
                }
            }
            dest
        };
        let query_dest = destinations(&query_starts);
        let unit_dest: Vec<u32> = renumber.iter().flatten().copied().collect();
        let mut spans = Vec::with_capacity(parts.len());
        let mut edges = Vec::with_capacity(parts.len());
        let mut queues = Vec::with_capacity(parts.len());
        for (part, map) in parts.into_iter().zip(&renumber) {
            spans.push(part.spans);
            edges.push(part.edges);
            queues.push(part.queues);
            out.units.extend(part.units);
            out.queries
                .extend(part.queries.into_iter().map(|q| QueryRow {
                    unit: map[q.unit as usize],
                    ..q
                }));
        }
        permute(&mut out.units, unit_dest);
        permute(&mut out.queries, query_dest);
        out.queues = super::queues::QueueRows::merge(queues);
        out.spans = SpanTable::gathered(spans, &runs_of(&span_starts))?;
        out.edges = EdgeTable::gathered(edges, &runs_of(&edge_starts))?;
        Ok(out)
    }
}

/// Moves each `rows[i]` to position `dest[i]`, in place: `dest` is a
/// permutation of the positions (checked in debug builds).
fn permute<T>(rows: &mut [T], mut dest: Vec<u32>) {
    debug_assert_eq!(rows.len(), dest.len());
    for i in 0..rows.len() {
        // Each swap puts one row where it belongs, so there are fewer
        // than `rows.len()` in all.
        while dest[i] as usize != i {
            let j = dest[i] as usize;
            rows.swap(i, j);
            dest.swap(i, j);
        }
    }
}

/// Everything a per-unit analysis may look at.
pub struct UnitView<'a> {
    /// The strings spans refer to.
    pub strings: &'a Interner,
    /// The trace.
    pub trace: &'a Trace,
    /// The unit's top span.
    pub root: usize,
    /// The top span's duration (never negative).
    pub duration: Nanos,
    /// The unit's spans (indices into the trace), the top span first.
    pub members: &'a [usize],
    /// Self time of every span of the trace.
    pub self_time: &'a [Nanos],
    /// Critical time of every span of the trace within this unit.
    pub critical: &'a [Nanos],
    /// Shape of every span of the trace.
    pub shapes: &'a [Shape],
    /// The critical path.
    pub segments: &'a [Segment],
    /// Groups of same-shaped siblings, found when a detector first asks.
    pub sibling_groups: detectors::SiblingGroups,
}

/// Computes the breakdown of every unit, in parallel over traces, keeping
/// their critical paths.
pub fn breakdown(set: &TraceSet, units: &[Unit], options: &FindingOptions) -> Breakdown {
    breakdown_keeping(set, units, options, Keep::SEGMENTS)
}

/// [`breakdown`], keeping the critical paths and the export columns only
/// if `keep` says so.
pub fn breakdown_keeping(
    set: &TraceSet,
    units: &[Unit],
    options: &FindingOptions,
    keep: Keep,
) -> Breakdown {
    let ranges = unit_ranges(set.traces.len(), units);
    let traces = set.traces.par_iter();
    let mut out = per_unit(&set.strings, traces, &ranges, units, options, keep);
    // Message hops cross traces, so they are found over the whole set.
    out.queues = super::queues::observe(set, units);
    out
}

/// [`breakdown_keeping`], taking the traces out of `set` and dropping each
/// once its units are broken down, for callers that need them no longer.
///
/// The breakdown holds no reference into the traces, so what they held
/// (the span, its attributes and the trace's graph) is freed while the
/// breakdown grows and before aggregation begins, instead of staying
/// beside both until the process ends: a trace's graph and attributes as
/// it is dropped, its spans with the last trace of its bucket (see
/// [`crate::model::TraceSpans`]).
pub fn breakdown_releasing(
    set: &mut TraceSet,
    units: &[Unit],
    options: &FindingOptions,
    keep: Keep,
) -> Breakdown {
    // Message hops cross traces: found while every trace is still there.
    let queues = super::queues::observe(set, units);
    let ranges = unit_ranges(set.traces.len(), units);
    let traces = std::mem::take(&mut set.traces).into_par_iter();
    let out = per_unit(&set.strings, traces, &ranges, units, options, keep);
    // The traces' pages are handed back once, at the end: results are
    // allocated in other sizes than the traces were, so pages kept for
    // reuse would stay resident beside the aggregation. Handed back every
    // 256k spans freed as well, as they once were, they were faulted in
    // again by the stage's own results: 11,000-12,000 more page faults and
    // 30-40 ms more wall time on every benchmark set, for a peak no lower
    // (the run's is in the aggregation).
    crate::ingest::memory::released();
    Breakdown { queues, ..out }
}

/// For each trace of a set of `traces`, the range of `units` (which come
/// in trace order) that lie in it.
fn unit_ranges(traces: usize, units: &[Unit]) -> Vec<std::ops::Range<usize>> {
    debug_assert!(
        units.windows(2).all(|w| w[0].trace <= w[1].trace),
        "units come in trace order"
    );
    let mut ranges = vec![0..0; traces];
    let mut first = 0;
    for group in units.chunk_by(|a, b| a.trace == b.trace) {
        ranges[group[0].trace] = first..first + group.len();
        first += group.len();
    }
    ranges
}

/// The per-unit part of [`breakdown`], in parallel over `traces` (every
/// trace of the set, in order, borrowed or owned), with `ranges` saying
/// which of `units` lie in each.
fn per_unit<T: std::borrow::Borrow<Trace> + Send>(
    strings: &Interner,
    traces: impl IndexedParallelIterator<Item = T>,
    ranges: &[std::ops::Range<usize>],
    units: &[Unit],
    options: &FindingOptions,
    keep: Keep,
) -> Breakdown {
    // Each rayon task appends its traces' results to units, queries and
    // table buffers of its own, and the tasks' are joined in order below:
    // a breakdown per trace would leave a hundred thousand small vectors
    // to copy and a fragmented heap.
    // A trace's self times and shapes are computed once for all its units.
    let mut parts = traces
        .zip(ranges.par_iter())
        .fold(
            // Boxed: a fold moves its accumulator in and out of the closure
            // for every trace, and the two structs' hundreds of bytes were
            // copied each time (2.5% of the stage's instructions).
            || Box::new((TaskOut::default(), TaskBuffers::new(keep))),
            |mut task, (trace, range)| {
                let (out, buffers) = &mut *task;
                if !range.is_empty() {
                    let spans = trace.borrow().spans.len();
                    // Most traces have a unit, whose rows are its spans.
                    buffers.spans.room_for(spans);
                    buffers.edges.room_for(spans);
                    let first = range.start as u32;
                    let list = &units[range.clone()];
                    trace_breakdown(
                        strings,
                        trace.borrow(),
                        first,
                        list,
                        options,
                        keep,
                        out,
                        buffers,
                    );
                }
                drop(trace);
                task
            },
        )
        // Each task's buffers became chunks of its tables as they filled
        // (see `table::Chunked`); the last ones become the last chunks.
        .map(|task| {
            let (out, buffers) = *task;
            (out, buffers.spans.finish(), buffers.edges.finish())
        })
        .collect::<Vec<_>>();
    // Joined once, in task order, into vectors of their final size, each
    // task's freed as it is moved: joining neighbours pairwise grew the
    // left one's vectors, holding old and new copies of up to every unit
    // at once (the per-trace stage's peak). Moved on one thread, the units
    // and queries left the other core idle for 40 ms on 1.09 M spans.
    let mut out = Breakdown::default();
    crate::concat::append_all(
        &mut out.units,
        parts
            .iter_mut()
            .flat_map(|(p, _, _)| p.units.blocks_mut())
            .collect(),
    );
    crate::concat::append_all(
        &mut out.queries,
        parts.iter_mut().map(|(p, _, _)| &mut p.queries).collect(),
    );
    for (_, spans, edges) in parts {
        out.spans.append(spans);
        out.edges.append(edges);
    }
    out
}

/// What one rayon task of [`per_unit`] gives besides its table chunks.
struct TaskOut {
    units: Blocks<UnitBreakdown>,
    queries: Vec<QueryRow>,
}

/// Units per block of a task's [`TaskOut::units`]: a block of a few hundred
/// kilobytes.
const UNITS_PER_BLOCK: usize = 1024;

impl Default for TaskOut {
    fn default() -> Self {
        TaskOut {
            units: Blocks::new(UNITS_PER_BLOCK),
            queries: Vec::new(),
        }
    }
}

/// The column buffers one rayon task appends its units' rows to.
struct TaskBuffers {
    spans: Chunked<SpanColumns>,
    edges: Chunked<EdgeColumns>,
    /// A trace's per-span times and shapes, a unit's members, critical
    /// path and hot path, and the room their computations and the unit's
    /// call edges, features and cascade work in, kept from trace to trace:
    /// vectors grown anew per unit were several allocations per unit.
    scratch: Scratch,
}

/// The largest trace, in spans, whose [`Scratch`] a task keeps for the
/// next trace.
const SCRATCH_SPANS: usize = 1 << 16;

/// The per-trace and per-unit vectors of [`TaskBuffers`].
#[derive(Default)]
struct Scratch {
    selfs: Vec<Nanos>,
    intervals: Vec<(Nanos, Nanos)>,
    /// The spans of the unit being broken down (see [`subtree_into`]), and
    /// the walk that finds them.
    members: Vec<usize>,
    walk: Vec<usize>,
    /// The edge rows of the unit being broken down, which its features
    /// read before they are pushed.
    unit_edges: Vec<EdgeRow>,
    shapes: Vec<Shape>,
    critical: Vec<Nanos>,
    segments: Vec<Segment>,
    path_walk: Walk,
    hot: HotPath,
    edges: EdgeRoom,
    features: FeatureRoom,
    cascade: CascadeRoom,
}

impl TaskBuffers {
    fn new(keep: Keep) -> Self {
        TaskBuffers {
            spans: Chunked::new(SpanColumns::new(keep.export)),
            edges: Chunked::new(EdgeColumns::default()),
            scratch: Scratch::default(),
        }
    }
}

/// Breaks down `units`, all in `trace`, the first being unit number
/// `first`.
#[allow(clippy::too_many_arguments)]
fn trace_breakdown(
    strings: &Interner,
    trace: &Trace,
    first: u32,
    units: &[Unit],
    options: &FindingOptions,
    keep: Keep,
    out: &mut TaskOut,
    buffers: &mut TaskBuffers,
) {
    let mut scratch = std::mem::take(&mut buffers.scratch);
    let Scratch {
        selfs,
        intervals,
        members,
        walk,
        unit_edges,
        shapes,
        critical,
        segments,
        path_walk,
        hot,
        edges: edge_room,
        features: feature_room,
        cascade: cascade_room,
    } = &mut scratch;
    self_times_into(trace, intervals, selfs);
    shapes.clear();
    shapes.extend(trace.spans.iter().map(|s| s.shape(strings)));
    critical.clear();
    critical.resize(trace.spans.len(), 0);
    let trace_start = trace.start();
    for (index, &unit) in (first..).zip(units) {
        critical_path_into(trace, unit.root, path_walk, segments);
        for seg in segments.iter() {
            critical[seg.span] =
                critical[seg.span].saturating_add(seg.end.saturating_sub(seg.start));
        }
        subtree_into(trace, unit.root, members, walk);
        for &i in members.iter() {
            let s = &trace.spans[i];
            buffers.spans.rows().push(SpanRow {
                unit: index,
                span: i as u32,
                service: s.service,
                name: s.name,
                // A negative duration (end before start) counts as 0.
                duration: s.duration().max(0),
                self_time: selfs[i],
                critical: critical[i],
                error: s.status == Status::Error,
                id: s.span_id,
                parent: s.parent_id,
                start: s.start,
                shape: shapes[i].text,
            });
            if shapes[i].kind == ShapeKind::Query {
                out.queries.push(QueryRow {
                    unit: index,
                    service: s.service,
                    system: s.attrs(strings).db_system,
                    shape: shapes[i].text,
                    duration: s.duration().max(0),
                });
            }
        }
        let view = UnitView {
            strings,
            trace,
            root: unit.root,
            duration: trace.spans[unit.root].duration().max(0),
            members,
            self_time: selfs,
            critical,
            shapes,
            segments,
            sibling_groups: detectors::SiblingGroups::for_options(options),
        };
        let findings = exact(detectors::detect_all(&view, options));
        unit_edges.clear();
        edges::observe(&view, unit_edges, index, edge_room);
        for row in unit_edges.iter() {
            buffers.edges.rows().push(row);
        }
        let locus = error_locus::locus_among(trace, unit.root, members);
        let features = profile::observe(&view, unit_edges, locus, feature_room);
        let result = UnitBreakdown {
            unit,
            trace_id: trace.id,
            trace_label: trace.label,
            start: trace.spans[unit.root].start,
            trace_start,
            duration: view.duration,
            spans: members.len() as u32,
            hot_path: hot.of(&view).into(),
            cascade: cascade::observe(&view, cascade_room),
            finding_ids: findings
                .iter()
                .map(|o| detectors::finding_ids(trace, o))
                .collect(),
            findings: findings.into(),
            segments: Box::default(),
            features,
            trace_issues: trace.issues,
            error_locus: locus.map(|l| LocusObs {
                service: trace.spans[l].service,
                name: trace.spans[l].name,
                hung: trace.spans[l].status != Status::Error,
            }),
        };
        for seg in segments.iter() {
            critical[seg.span] = 0;
        }
        let segments = match keep.segments {
            Segments::Keep => Box::from(segments.as_slice()),
            Segments::Drop => Box::default(),
        };
        out.units.push(UnitBreakdown { segments, ..result });
    }
    // A trace larger than that leaves no room behind: its vectors (over
    // 100 bytes a span) would otherwise stay held by the task, beside
    // every later trace's results, until the task ends.
    if trace.spans.len() <= SCRATCH_SPANS {
        buffers.scratch = scratch;
    }
}

/// `n` one-span traces broken down, unit `i` being trace `i + 1`: for tests
/// that then give the units hand-made observations.
#[cfg(test)]
pub(crate) fn one_span_units(n: usize) -> (TraceSet, Breakdown) {
    let mut b = crate::model::testutil::TraceBuilder::new();
    for t in 0..n {
        b = b.trace(t as u128 + 1).span("root", None, 0, 1_000);
    }
    let set = b.build_set();
    let units = super::select::select(&set, &super::select::Selection::default());
    let bd = breakdown(&set, &units, &Default::default());
    (set, bd)
}

/// The spans under `root` (itself first), depth first, into `members`;
/// `stack` is room for the walk. Both are cleared first.
fn subtree_into(trace: &Trace, root: usize, members: &mut Vec<usize>, stack: &mut Vec<usize>) {
    members.clear();
    stack.clear();
    stack.push(root);
    while let Some(i) = stack.pop() {
        members.push(i);
        stack.extend(trace.children(i));
    }
}

/// The working room of a unit's hot path, kept from unit to unit: a map
/// and a vector made anew for each were most of the hot path's cost.
#[derive(Default)]
struct HotPath {
    totals: Vec<((Sym, Sym), Nanos)>,
    index: FxHashMap<(Sym, Sym), usize>,
}

impl HotPath {
    /// The `service:operation`s that hold at least [`HOT_PATH_MIN_SHARE`]
    /// of the path, in first-appearance order.
    fn of(&mut self, view: &UnitView<'_>) -> Vec<(Sym, Sym)> {
        let HotPath { totals, index } = self;
        totals.clear();
        index.clear();
        for seg in view.segments {
            let s = &view.trace.spans[seg.span];
            let key = (s.service, s.name);
            let slot = *index.entry(key).or_insert_with(|| {
                totals.push((key, 0));
                totals.len() - 1
            });
            totals[slot].1 = totals[slot]
                .1
                .saturating_add(seg.end.saturating_sub(seg.start));
        }
        let min = (view.duration as f64 * HOT_PATH_MIN_SHARE).ceil() as Nanos;
        let hot = |&&(_, t): &&(_, Nanos)| t > 0 && t >= min;
        // Sized first: what a unit keeps lives until aggregation (see
        // [`exact`]).
        let mut out = Vec::with_capacity(totals.iter().filter(hot).count());
        out.extend(totals.iter().filter(hot).map(|&(k, _)| k));
        out
    }
}

/// `v` moved into an allocation of exactly its length. What a unit keeps
/// lives until aggregation, across every spill partition, and a vector
/// grown by pushes has up to half its room spare. A new allocation, not
/// `shrink_to_fit`: an allocator may serve a shrinking `realloc` by keeping
/// the whole block (valgrind's does, so massif saw nothing saved).
pub(crate) fn exact<T>(mut v: Vec<T>) -> Vec<T> {
    if v.len() == v.capacity() {
        return v;
    }
    let mut out = Vec::with_capacity(v.len());
    out.append(&mut v);
    out
}

#[cfg(test)]
mod release_tests {
    use super::*;
    use crate::analysis::select::{Selection, select};
    use crate::model::testutil::TraceBuilder;

    /// Traces with two roots, none selected, a query, and plain calls.
    fn set() -> TraceSet {
        TraceBuilder::new()
            .trace(1)
            .span("a", None, 0, 100)
            .span("b", Some("a"), 10, 60)
            .span("c", None, 200, 260)
            .trace(2)
            .span("short", None, 0, 5)
            .trace(3)
            .span("r", None, 0, 1_000)
            .span("q", Some("r"), 100, 900)
            .db("postgresql", "SELECT * FROM t WHERE id = 7")
            .trace(4)
            .span("x", None, 0, 500)
            .span("y", Some("x"), 0, 200)
            .span("z", Some("x"), 250, 450)
            .build_set()
    }

    #[test]
    fn releasing_the_traces_gives_the_breakdown_keeping_them_gives() {
        let selection = Selection {
            min_duration: Some(10),
            ..Default::default()
        };
        let kept_set = set();
        let units = select(&kept_set, &selection);
        assert!(units.iter().all(|u| u.trace != 1), "trace 2 is left out");
        assert_eq!(units.iter().filter(|u| u.trace == 0).count(), 2);
        let options = FindingOptions::default();
        let kept = breakdown_keeping(&kept_set, &units, &options, Keep::SEGMENTS);
        let mut released_set = set();
        let released = breakdown_releasing(&mut released_set, &units, &options, Keep::SEGMENTS);
        assert!(released_set.traces.is_empty());
        assert_eq!(kept.units.len(), 4);
        assert_eq!(format!("{:?}", kept.units), format!("{:?}", released.units));
        assert!(kept.spans.frame().equals(released.spans.frame()));
        assert_eq!(kept.spans.len(), 8);
        assert_eq!(kept.queries, released.queries);
        assert_eq!(kept.queries.len(), 1);
        assert_eq!(kept.edges, released.edges);
        assert_eq!(
            format!("{:?}", kept.queues),
            format!("{:?}", released.queues)
        );
    }

    #[test]
    fn releasing_many_traces_keeps_units_and_rows_in_trace_order() {
        // Enough traces for rayon to split them over tasks: the joined
        // results must still come in trace order.
        let build = || {
            let mut b = TraceBuilder::new();
            for t in 0..600u128 {
                b = b.trace(t + 1).span("a", None, 0, 100 + t as i64);
                if t % 3 == 0 {
                    b = b.span("b", Some("a"), 10, 60).span("c", None, 200, 260);
                }
            }
            b.build_set()
        };
        let (mut set, kept_set) = (build(), build());
        let units = select(&kept_set, &Selection::default());
        assert_eq!(units.len(), 800);
        let options = FindingOptions::default();
        let kept = breakdown_keeping(&kept_set, &units, &options, Keep::default());
        let released = breakdown_releasing(&mut set, &units, &options, Keep::default());
        let order: Vec<u32> = released.spans.u32s(SpanColumn::Unit).unwrap().collect();
        assert!(order.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(order.first().copied(), Some(0));
        assert_eq!(order.last().copied(), Some(799));
        let ids = |bd: &Breakdown| {
            bd.units
                .iter()
                .map(|u| (u.trace_id, u.unit))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&released), ids(&kept));
        assert!(
            released
                .units
                .windows(2)
                .all(|w| w[0].trace_id <= w[1].trace_id)
        );
        assert!(kept.spans.frame().equals(released.spans.frame()));
        assert_eq!(kept.edges, released.edges);
    }

    #[test]
    fn each_unit_counts_its_rows_of_the_span_table() {
        let set = set();
        let units = select(&set, &Selection::default());
        let bd = breakdown_keeping(&set, &units, &FindingOptions::default(), Keep::default());
        let mut rows = vec![0u32; bd.units.len()];
        for unit in bd.spans.u32s(SpanColumn::Unit).unwrap() {
            rows[unit as usize] += 1;
        }
        let counted: Vec<u32> = bd.units.iter().map(|u| u.spans).collect();
        // Trace 1's roots a (with b) and c, then short, r (with q), and x
        // (with y and z).
        assert_eq!(counted, [2, 1, 1, 2, 3]);
        assert_eq!(counted, rows);
    }

    #[test]
    fn unit_ranges_name_each_traces_units() {
        let unit = |trace, root| Unit { trace, root };
        let units = [unit(0, 0), unit(0, 2), unit(2, 0), unit(3, 1)];
        assert_eq!(unit_ranges(5, &units), vec![0..2, 0..0, 2..3, 3..4, 0..0]);
        assert_eq!(unit_ranges(2, &[]), vec![0..0, 0..0]);
    }
}

#[cfg(test)]
mod merge_tests {
    use super::permute;
    use proptest::prelude::*;

    #[test]
    fn permute_moves_each_row_to_its_destination() {
        let mut rows = vec!['a', 'b', 'c', 'd', 'e'];
        permute(&mut rows, vec![2, 0, 4, 1, 3]);
        assert_eq!(rows, ['b', 'd', 'a', 'e', 'c']);
    }

    proptest! {
        #[test]
        fn permute_agrees_with_placing_rows_in_a_new_vector(
            dest in (0usize..200).prop_flat_map(|n| Just((0..n as u32).collect::<Vec<_>>()).prop_shuffle())
        ) {
            let rows: Vec<u32> = (0..dest.len() as u32).map(|i| i * 7).collect();
            let mut placed = vec![0; rows.len()];
            for (i, &d) in dest.iter().enumerate() {
                placed[d as usize] = rows[i];
            }
            let mut moved = rows;
            permute(&mut moved, dest);
            prop_assert_eq!(moved, placed);
        }
    }
}
