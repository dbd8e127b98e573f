//! Trace profiles: per root operation, the distribution over traces of what
//! each service and call edge adds to a trace. A profile is what a
//! diagnosis compares (see [`super::suspects`]); it is small, and saved in
//! the JSON report, so a saved report can serve as a baseline.
//!
//! Per unit, every feature is one number: the critical time of a service's
//! own spans (client spans excepted: theirs is the gap of their edge), the
//! critical time of an edge's gap, the calls on an edge, whether the unit's
//! last call started in a service (where a trace that returns early now
//! stops), whether its failure ends in a service, and its span count. Over a
//! group, each feature keeps its mean and variance over *all* the group's
//! units (a unit without the feature counts as 0), so two groups of
//! different sizes compare per trace, whatever the traffic.

use polars::prelude::*;
use polars::series::IsSorted;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::aggregate::{self, DenseIds, f64_column, resolve, u32_column};
use super::breakdown::{UnitBreakdown, UnitView};
use super::edges::EdgeRow;
use crate::model::{Interner, Nanos, Sym};
use crate::table::{SpanColumn, owned_column};

/// One per-unit feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Feature {
    /// Critical time of a service's own (non-client) spans.
    SelfCritical(Sym),
    /// Critical time of the gaps of an edge `caller → callee`.
    GapCritical(Sym, Sym),
    /// Calls on an edge.
    Calls(Sym, Sym),
    /// Calls on an edge where the caller or callee reported an error.
    ErrorCalls(Sym, Sym),
    /// Critical time of one operation's own (non-client) spans.
    OperationCritical(Sym, Sym),
    /// 1 when the unit's last-starting span runs in the service.
    EndsIn(Sym),
    /// 1 when the unit's failure ends in the service (its error locus).
    FailsIn(Sym),
    /// Spans in the unit.
    Spans,
}

/// What a feature measures, as the JSON report names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    /// Critical time of a service's own spans, ms per trace.
    SelfCritical,
    /// Critical time of an edge's gaps, ms per trace.
    GapCritical,
    /// Calls on an edge per trace.
    Calls,
    /// Failed calls on an edge per trace.
    ErrorCalls,
    /// Critical time of one operation's own spans, ms per trace.
    OperationCritical,
    /// Share of traces whose last call starts in the service.
    EndsIn,
    /// Share of traces whose failure ends in the service.
    FailsIn,
    /// Spans per trace.
    Spans,
}

impl FeatureKind {
    /// Whether values are times (nanoseconds per unit, shown in ms).
    pub fn is_time(self) -> bool {
        matches!(
            self,
            FeatureKind::SelfCritical | FeatureKind::GapCritical | FeatureKind::OperationCritical
        )
    }
}

/// A unit's features, sorted by feature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitFeatures {
    /// The unit's top span's service and operation.
    pub root: (Sym, Sym),
    /// The values, sorted, one per feature.
    pub values: FeatureValues,
}

/// A unit's feature values, in a slice of their length.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FeatureValues(Box<[FeatureValue]>);

/// One feature and its value in 20 bytes, not the 24 of a `(Feature,
/// Nanos)`, whose 8-byte alignment pads the 12-byte feature: features are
/// the largest per-unit result a run holds until the diagnosis (two
/// million on 1.09 M spans).
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(C, packed(4))]
struct FeatureValue {
    feature: Feature,
    value: Nanos,
}

impl FeatureValues {
    /// The features and their values, in order.
    pub fn iter(&self) -> impl Iterator<Item = (Feature, Nanos)> + '_ {
        // Copied out: a packed field cannot be borrowed.
        self.0.iter().map(|v| (v.feature, { v.value }))
    }

    /// The values of the features at `positions`, in order.
    pub fn values(&self, positions: std::ops::Range<usize>) -> impl Iterator<Item = Nanos> + '_ {
        self.0[positions].iter().map(|v| v.value)
    }

    /// How many features.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(Feature, Nanos)> for FeatureValues {
    fn from_iter<I: IntoIterator<Item = (Feature, Nanos)>>(values: I) -> Self {
        FeatureValues(
            values
                .into_iter()
                .map(|(feature, value)| FeatureValue { feature, value })
                .collect(),
        )
    }
}

impl std::fmt::Debug for FeatureValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (self.feature, { self.value }).fmt(f)
    }
}

/// The working vectors of [`observe`], kept by the caller from unit to
/// unit instead of grown and dropped for each (0.4% of a run's
/// instructions).
#[derive(Default)]
pub struct FeatureRoom {
    /// The values pushed, under their feature's [`Feature::key`].
    values: Vec<(u128, Nanos)>,
    /// The spans that are client calls.
    client: Vec<u32>,
}

/// The features of one unit. `locus` is its error locus, if it failed;
/// `room`'s vectors are its working room.
pub fn observe(
    view: &UnitView<'_>,
    edges: &[EdgeRow],
    locus: Option<usize>,
    room: &mut FeatureRoom,
) -> UnitFeatures {
    let FeatureRoom { values, client } = room;
    values.clear();
    client.clear();
    let spans = &view.trace.spans;
    // Pushed, then sorted and summed per feature: a map per unit costs more
    // than the few dozen values a unit has.
    let mut add = |f: Feature, v: Nanos| values.push((f.key(), v));
    for e in edges {
        add(Feature::Calls(e.caller, e.callee), 1);
        if e.error {
            add(Feature::ErrorCalls(e.caller, e.callee), 1);
        }
        if e.client {
            // Listed, not marked in a vector indexed by span: that was as
            // long as the trace, and cleared for every unit, quadratic in
            // a trace of many roots.
            client.push(e.span);
            // A peer has no span of its own: its client span's critical
            // time is the peer's, as a callee's server span would be.
            let f = if e.peer {
                Feature::SelfCritical(e.callee)
            } else {
                Feature::GapCritical(e.caller, e.callee)
            };
            add(f, view.critical[e.span as usize]);
        }
    }
    client.sort_unstable();
    for &i in view.members {
        let is_client = u32::try_from(i).is_ok_and(|i| client.binary_search(&i).is_ok());
        if !is_client && view.critical[i] > 0 {
            add(Feature::SelfCritical(spans[i].service), view.critical[i]);
            add(
                Feature::OperationCritical(spans[i].service, spans[i].name),
                view.critical[i],
            );
        }
    }
    let last = view.members.iter().copied().max_by_key(|&i| {
        (
            spans[i].start,
            std::cmp::Reverse(spans[i].end),
            std::cmp::Reverse(i),
        )
    });
    if let Some(last) = last {
        add(Feature::EndsIn(spans[last].service), 1);
    }
    if let Some(l) = locus {
        add(Feature::FailsIn(spans[l].service), 1);
    }
    add(Feature::Spans, view.members.len() as Nanos);
    let root = &spans[view.root];
    UnitFeatures {
        root: (root.service, root.name),
        values: summed(values),
    }
}

/// One value per feature, sorted: the sums of `values`' repeats, each
/// under its feature's [`Feature::key`].
fn summed(values: &mut Vec<(u128, Nanos)>) -> FeatureValues {
    values.sort_unstable_by_key(|&(key, _)| key);
    // Summed in place: `dedup_by` passes the later repeat first and keeps
    // the earlier one.
    values.dedup_by(|(key, v), (kept, sum)| {
        let repeat = key == kept;
        if repeat {
            *sum = sum.saturating_add(*v);
        }
        repeat
    });
    values
        .iter()
        .map(|&(key, v)| (Feature::from_key(key), v))
        .collect()
}

/// Per root operation, the distribution of every feature over its units.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// One group per root `service:operation`, in name order.
    pub groups: Vec<ProfileGroup>,
}

/// The units of one root operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileGroup {
    /// The root span's service.
    pub root_service: String,
    /// The root span's operation.
    pub root_operation: String,
    /// Units in the group.
    pub traces: u64,
    /// Root duration, ms.
    pub duration: Moments,
    /// Every feature seen in the group.
    pub features: Vec<FeatureMoments>,
}

/// Mean, variance and percentiles of one value over a group's units (ms
/// for times, plain numbers otherwise).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    /// Mean per unit.
    pub mean: f64,
    /// Variance per unit (sample variance, n − 1).
    pub var: f64,
    /// Median per unit.
    pub p50: f64,
    /// 90th percentile per unit.
    pub p90: f64,
    /// 99th percentile per unit.
    pub p99: f64,
    /// The unit with the largest value.
    pub example_trace_id: String,
}

/// One feature's distribution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureMoments {
    /// What is measured.
    pub kind: FeatureKind,
    /// The service (the caller, for edges; empty for `spans`).
    pub service: String,
    /// The callee, for edges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callee: Option<String>,
    /// The operation, for `operation_critical`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The distribution.
    #[serde(flatten)]
    pub moments: Moments,
}

impl Feature {
    /// The feature as one number that orders as features do: its kind, then
    /// its symbols. A unit's values are sorted under it: the enum's derived
    /// order matched on both variants at every comparison (the sort was
    /// 5.7% of the per-trace stage), and a key computed at each comparison
    /// cost more still.
    fn key(self) -> u128 {
        let (kind, a, b) = self.parts();
        u128::from(kind.code()) << 64 | u128::from(a) << 32 | u128::from(b)
    }

    /// The feature [`Feature::key`] gave `key` for.
    fn from_key(key: u128) -> Feature {
        let (a, b) = (
            Sym::from_index((key >> 32) as u32),
            Sym::from_index(key as u32),
        );
        match FeatureKind::from_code((key >> 64) as u32) {
            Some(FeatureKind::SelfCritical) => Feature::SelfCritical(a),
            Some(FeatureKind::GapCritical) => Feature::GapCritical(a, b),
            Some(FeatureKind::Calls) => Feature::Calls(a, b),
            Some(FeatureKind::ErrorCalls) => Feature::ErrorCalls(a, b),
            Some(FeatureKind::OperationCritical) => Feature::OperationCritical(a, b),
            Some(FeatureKind::EndsIn) => Feature::EndsIn(a),
            Some(FeatureKind::FailsIn) => Feature::FailsIn(a),
            // `None` is never met: `key` makes the code of a kind.
            Some(FeatureKind::Spans) | None => Feature::Spans,
        }
    }

    /// The feature as the feature table stores it: its kind and up to two
    /// symbols, [`NO_SYM`] where it has fewer.
    fn parts(self) -> (FeatureKind, u32, u32) {
        let id = |s: Sym| s.into_usize() as u32;
        match self {
            Feature::SelfCritical(a) => (FeatureKind::SelfCritical, id(a), NO_SYM),
            Feature::GapCritical(a, b) => (FeatureKind::GapCritical, id(a), id(b)),
            Feature::Calls(a, b) => (FeatureKind::Calls, id(a), id(b)),
            Feature::ErrorCalls(a, b) => (FeatureKind::ErrorCalls, id(a), id(b)),
            Feature::OperationCritical(a, o) => (FeatureKind::OperationCritical, id(a), id(o)),
            Feature::EndsIn(a) => (FeatureKind::EndsIn, id(a), NO_SYM),
            Feature::FailsIn(a) => (FeatureKind::FailsIn, id(a), NO_SYM),
            Feature::Spans => (FeatureKind::Spans, NO_SYM, NO_SYM),
        }
    }
}

impl FeatureKind {
    /// Every kind, indexed by its code in the feature table.
    const ALL: [FeatureKind; 8] = [
        FeatureKind::SelfCritical,
        FeatureKind::GapCritical,
        FeatureKind::Calls,
        FeatureKind::ErrorCalls,
        FeatureKind::OperationCritical,
        FeatureKind::EndsIn,
        FeatureKind::FailsIn,
        FeatureKind::Spans,
    ];

    /// The kind's code in a frame column.
    pub(super) fn code(self) -> u32 {
        self as u32
    }

    /// The kind of a code [`FeatureKind::code`] gave.
    pub(super) fn from_code(code: u32) -> Option<FeatureKind> {
        FeatureKind::ALL.get(code as usize).copied()
    }
}

/// The symbol column value of a feature without that symbol (no symbol has
/// this index: see [`Sym::try_from_usize`]).
const NO_SYM: u32 = u32::MAX;

/// The columns of the per-unit tables, besides the span table's unit and
/// duration (`SpanColumn::Unit`, `SpanColumn::Duration`, the root's). A
/// key is a feature row's (root group, feature) pair as a dense id (see
/// [`feature_keys`]), or a unit's root group (see [`root_table`]).
const KEY: &str = "key";
const VALUE: &str = "value";
/// Result columns: the units of the root operation, a group's values (in
/// row order; sorted as they are read) and its example unit.
const UNITS: &str = "units";
const VALUES: &str = "values";
const EXAMPLE: &str = "example";
/// The sides of a split profile.
const SIDES: u32 = 2;
/// The side of a unit on no side: one past the sides, so that its rows
/// have a key of their own in [`side_key`].
const NO_SIDE: u32 = SIDES;

/// The percentiles a profile keeps, with their column names.
const QUANTILES: [(f64, &str); 3] = [(0.50, "p50"), (0.90, "p90"), (0.99, "p99")];

/// One row per unit `side_of` puts on a side: its index, its root group's
/// key (see [`RootKey`]) and duration; and the root group each key names.
fn root_table(
    units: &[UnitBreakdown],
    side_of: &SideOf<'_>,
) -> PolarsResult<(DataFrame, DenseIds<RootKey>)> {
    let id = |s: Sym| s.into_usize() as u32;
    // In one pass over the units: a pass a column read each unit five
    // times, on one core (5 ms on 1.09 M spans).
    let (mut unit, mut key, mut duration) = (Vec::new(), Vec::new(), Vec::new());
    let mut keys = DenseIds::new();
    for (i, u) in units.iter().enumerate() {
        if let Some(s) = side_of(i) {
            unit.push(i as u32);
            key.push(keys.id((s, id(u.features.root.0), id(u.features.root.1))));
            duration.push(u.duration);
        }
    }
    let table = DataFrame::new_infer_height(vec![
        owned_column(SpanColumn::Unit.name(), unit),
        owned_column(KEY, key),
        owned_column(SpanColumn::Duration.name(), duration),
    ])?;
    Ok((table, keys))
}

/// A root group's side (0 in a profile of one side, see [`build_split`])
/// and root operation (service and name symbols).
type RootKey = (u32, u32, u32);

/// The side a unit is on (by index), if any.
type SideOf<'a> = dyn Fn(usize) -> Option<u32> + 'a;

/// The (group, feature) key of every feature row of every unit that has a
/// root group, in unit order and each unit's feature order, as a dense id;
/// the pairs the ids name; and the rows each id has.
///
/// Pairs get dense ids, as strings get symbols, so that polars groups the
/// rows by one `u32`: grouping by the group and the feature's three parts
/// row-encoded four columns and hashed the encodings, 44 bytes a row at the
/// profile's peak, and a packed `u64` of the group and a feature id took
/// four bytes a row more than this. The ids follow the pairs' order, and a
/// unit's features are sorted, so each unit's keys ascend: the rows of a
/// range of keys are one run of each unit's rows (see [`feature_tables`]).
///
/// Each chunk of units numbers its own pairs on its own core (one hash
/// probe a row, the step's whole cost), and the numbers are then mapped to
/// the pairs' ranks by a lookup in a vector: numbered on one core, this was
/// a tenth of the aggregation stage with the other core idle.
fn feature_keys(units: &[UnitBreakdown], group_of: &[u32]) -> FeatureKeys {
    let chunks: Vec<ChunkKeys> = unit_chunks(units.len())
        .into_par_iter()
        .map(|range| {
            let mut first_seen = DenseIds::new();
            let mut keys = Vec::new();
            let mut per_unit = vec![0u32; range.len()];
            let start = range.start;
            for (i, u, g) in grouped_in(units, group_of, range) {
                for (f, _) in u.features.values.iter() {
                    keys.push(first_seen.id((g, f)));
                }
                per_unit[i - start] = u.features.values.len() as u32;
            }
            (keys, first_seen.into_keys(), per_unit)
        })
        .collect();
    let mut named: Vec<(u32, Feature)> = chunks.iter().flat_map(|c| c.1.iter().copied()).collect();
    named.sort_unstable();
    named.dedup();
    let per_unit = chunks.iter().flat_map(|c| &c.2).map(|&n| n as usize);
    let total: usize = chunks.iter().map(|c| c.0.len()).sum();
    let mut starts = starts(per_unit);
    starts.push(total);
    let mut keys = vec![0u32; total];
    let mut parts = Vec::with_capacity(chunks.len());
    let mut rest = keys.as_mut_slice();
    for (own, pairs, _) in chunks {
        let (part, after) = rest.split_at_mut(own.len());
        parts.push((part, own, pairs));
        rest = after;
    }
    parts.into_par_iter().for_each(|(part, own, pairs)| {
        // Every pair was collected into `named` above.
        let rank: Vec<u32> = pairs
            .iter()
            .map(|p| named.binary_search(p).unwrap_or_default() as u32)
            .collect();
        for (key, local) in part.iter_mut().zip(own) {
            *key = rank[local as usize];
        }
    });
    let mut rows = vec![0usize; named.len()];
    for &key in &keys {
        rows[key as usize] += 1;
    }
    FeatureKeys {
        keys,
        starts,
        named,
        rows,
    }
}

/// One chunk's rows, each numbered by the pairs it has seen (its own
/// numbering), those pairs by their number, and each of its units' row
/// count.
type ChunkKeys = (Vec<u32>, Vec<(u32, Feature)>, Vec<u32>);

/// What [`feature_keys`] gives.
struct FeatureKeys {
    /// Per feature row, its key's id.
    keys: Vec<u32>,
    /// Per unit, where its rows start, and one past the last unit where
    /// they end: unit `i`'s rows are `starts[i]..starts[i + 1]` (none for
    /// a unit in no group).
    starts: Vec<usize>,
    /// The (group, feature) pair of each id, in order.
    named: Vec<(u32, Feature)>,
    /// Per id, its rows.
    rows: Vec<usize>,
}

/// Units per parallel task of the profile's per-unit steps.
const UNITS_PER_TASK: usize = 4096;

/// The ranges of units the profile's per-unit steps work on, a task each.
fn unit_chunks(units: usize) -> Vec<std::ops::Range<usize>> {
    (0..units)
        .step_by(UNITS_PER_TASK)
        .map(|start| start..units.min(start + UNITS_PER_TASK))
        .collect()
}

/// [`grouped`], of the units in `range` only.
fn grouped_in<'a>(
    units: &'a [UnitBreakdown],
    group_of: &'a [u32],
    range: std::ops::Range<usize>,
) -> impl Iterator<Item = (usize, &'a UnitBreakdown, u32)> + 'a {
    let start = range.start;
    grouped(&units[range.clone()], &group_of[range]).map(move |(i, u, g)| (start + i, u, g))
}

/// The units that have a root group, with their index and group.
fn grouped<'a>(
    units: &'a [UnitBreakdown],
    group_of: &'a [u32],
) -> impl Iterator<Item = (usize, &'a UnitBreakdown, u32)> + 'a {
    units
        .iter()
        .zip(group_of)
        .enumerate()
        .filter(|&(_, (_, &g))| g != NO_GROUP)
        .map(|(i, (u, &g))| (i, u, g))
}

/// The most feature rows [`build`] aggregates at once (a key with more is
/// aggregated alone). The feature table, its grouping and its groups'
/// value lists took about 40 bytes a row while aggregated (measured when
/// polars still hashed the rows and sorted those lists; a pass now deals
/// two tables of 16 bytes a row, then holds them, polars' copy of each
/// into one chunk and a group's value lists): all at once, that was the
/// analysis's peak (50 MiB on 1.09 M spans); a pass at a time, it is a few
/// megabytes, for a few more polars queries.
const FEATURE_ROWS_PER_PASS: usize = 1 << 18;

/// Consecutive ranges of key ids holding at most `most` rows each (or one
/// key that alone has more).
fn key_ranges(rows: &[usize], most: usize) -> Vec<std::ops::Range<u32>> {
    let mut ranges = Vec::new();
    let (mut start, mut held) = (0usize, 0usize);
    for (id, &n) in rows.iter().enumerate() {
        if held > 0 && held + n > most {
            ranges.push(start as u32..id as u32);
            (start, held) = (id, 0);
        }
        held += n;
    }
    if held > 0 {
        ranges.push(start as u32..rows.len() as u32);
    }
    ranges
}

/// The feature rows whose key lies in `ids`, as two tables of unit, key and
/// value: ordered by key, and ordered by key and side (`split`), with the
/// key and side as one key (see [`side_key`]); within a key, rows are in
/// unit order, which [`distribution`]'s example relies on. Each key column
/// carries polars' sorted flag, so polars groups it as runs of rows
/// instead of hashing every row: hashing was a fifth of the aggregation's
/// instructions.
///
/// The rows are dealt to their places in key order (a counting sort: each
/// key's row count is known), each task dealing a range of keys into
/// tables of its own (zeroed on its own core), which become a chunk each
/// of the pass's tables. A task reads the units in order, and of each
/// only the rows in its range: a unit's keys ascend (see
/// [`feature_keys`]), so they are found by bisection, and a unit with
/// none is passed over on its first and last keys alone. Gathering the
/// pass's rows first, in unit order, and dealing them from there wrote
/// and read every row once more (a fifth of the profile's wall time).
fn feature_tables(
    units: &[UnitBreakdown],
    group_of: &[u32],
    keys: &FeatureKeys,
    ids: std::ops::Range<u32>,
    split: Option<&[Option<u32>]>,
) -> PolarsResult<(DataFrame, Option<DataFrame>)> {
    let per_key = &keys.rows[ids.start as usize..ids.end as usize];
    let total: usize = per_key.iter().sum();
    // At most one task a thread, of about equal rows. (One table a column,
    // split between the tasks, spared polars' group-by copying the chunks
    // into one, but raised the run's peak by 5-10 MiB.)
    let tasks = rayon::current_num_threads().max(1);
    let mut jobs = Vec::with_capacity(tasks);
    let (mut first, mut held) = (0, 0);
    for job in 1..=tasks {
        let (mut last, mut rows) = (first, 0);
        // A job ends where the rows dealt so far reach its share.
        while last < per_key.len() && (job == tasks || held + rows < total * job / tasks) {
            rows += per_key[last];
            last += 1;
        }
        if last > first {
            jobs.push((first..last, rows));
        }
        (first, held) = (last, held + rows);
    }
    let parts: Vec<(SortedRows, Option<SortedRows>)> = jobs
        .into_par_iter()
        .map(|(range, rows)| {
            let counts = &per_key[range.clone()];
            let first = ids.start + range.start as u32;
            let found = rows_in(units, group_of, keys, first..first + counts.len() as u32);
            let mut whole = SortedRows::zeroed(rows);
            let dealt = deal(found, first, counts, &mut whole);
            let sided = split.filter(|_| dealt).map(|split| {
                let mut sided = SortedRows::zeroed(rows);
                deal_sides(&whole, first, counts, split, &mut sided);
                sided
            });
            dealt.then_some((whole, sided))
        })
        .collect::<Option<_>>()
        // Every key's rows were counted over the same units
        // (`feature_keys`), so this is never met.
        .ok_or_else(|| {
            polars_err!(ComputeError: "a pass of the profile found other feature rows than it counted")
        })?;
    let mut table = SortedRows::table()?;
    let mut by_side = split.map(|_| SortedRows::table()).transpose()?;
    for (whole, sided) in parts {
        crate::table::stack(&mut table, whole.frame()?);
        if let (Some(by_side), Some(sided)) = (&mut by_side, sided) {
            crate::table::stack(by_side, sided.frame()?);
        }
    }
    let by_side = by_side.map(flag_sorted).transpose()?;
    Ok((flag_sorted(table)?, by_side))
}

/// The feature rows whose key lies in `ids`, as (key, unit, value), in
/// unit order and each unit's key order.
fn rows_in<'a>(
    units: &'a [UnitBreakdown],
    group_of: &'a [u32],
    keys: &'a FeatureKeys,
    ids: std::ops::Range<u32>,
) -> impl Iterator<Item = (u32, u32, Nanos)> + 'a {
    grouped(units, group_of).flat_map(move |(i, u, _)| {
        let own = &keys.keys[keys.starts[i]..keys.starts[i + 1]];
        // Checked on its keys alone, which are read in order: reading the
        // unit is a cache miss.
        let any = matches!(
            (own.first(), own.last()),
            (Some(&low), Some(&high)) if low < ids.end && high >= ids.start
        );
        any.then(|| {
            let run =
                own.partition_point(|&k| k < ids.start)..own.partition_point(|&k| k < ids.end);
            own[run.clone()]
                .iter()
                .zip(u.features.values.values(run))
                .map(move |(&key, value)| (key, i as u32, value))
        })
        .into_iter()
        .flatten()
    })
}

/// `frame` with its key column flagged as sorted, which it is.
fn flag_sorted(mut frame: DataFrame) -> PolarsResult<DataFrame> {
    let mut key = frame.column(KEY)?.as_materialized_series().clone();
    key.set_sorted_flag(IsSorted::Ascending);
    frame.with_column(key.into_column())?;
    Ok(frame)
}

/// A stretch of a feature table's rows, filled in key order.
struct SortedRows {
    unit: Vec<u32>,
    key: Vec<u32>,
    value: Vec<Nanos>,
}

impl SortedRows {
    fn zeroed(rows: usize) -> SortedRows {
        // Written, not allocated zeroed: jemalloc zeroes a block it reuses
        // for `calloc` by handing its pages back to the kernel, and every
        // pass then faulted them in again (16k page faults, 0.1 s of system
        // time on 1.09 M spans).
        fn zeros<T: Default + Clone>(rows: usize) -> Vec<T> {
            let mut v = Vec::with_capacity(rows);
            v.resize(rows, T::default());
            v
        }
        SortedRows {
            unit: zeros(rows),
            key: zeros(rows),
            value: zeros(rows),
        }
    }

    /// A table without rows.
    fn table() -> PolarsResult<DataFrame> {
        SortedRows::zeroed(0).frame()
    }

    fn frame(self) -> PolarsResult<DataFrame> {
        DataFrame::new_infer_height(vec![
            owned_column(SpanColumn::Unit.name(), self.unit),
            owned_column(KEY, self.key),
            owned_column(VALUE, self.value),
        ])
    }

    /// Puts a row's unit and value at `at`, and moves `at` on (keys are
    /// written a run at a time, see [`SortedRows::keys`]).
    fn put(&mut self, at: &mut usize, unit: u32, value: Nanos) {
        self.unit[*at] = unit;
        self.value[*at] = value;
        *at += 1;
    }

    /// Writes `key` as the key of the `rows` rows from `start` on.
    fn keys(&mut self, start: usize, rows: usize, key: u32) {
        self.key[start..start + rows].fill(key);
    }
}

/// Where each run of rows starts, given each run's length.
fn starts(lengths: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut at = 0;
    lengths
        .map(|n| {
            at += n;
            at - n
        })
        .collect()
}

/// A feature row's key and side as one key: side within key, so that
/// ordering the rows by it orders them by key, then side. The whole
/// profile's key ids are dense, so this one is too.
fn side_key(key: u32, side: u32) -> u32 {
    key * (SIDES + 1) + side
}

/// Deals the rows of `found` whose key is among the `counts.len()` keys
/// from `first` on to their places in `whole`, which holds exactly those
/// rows (`counts` of each key), by key and then in the order found.
fn deal(
    found: impl Iterator<Item = (u32, u32, Nanos)>,
    first: u32,
    counts: &[usize],
    whole: &mut SortedRows,
) -> bool {
    let starts = starts(counts.iter().copied());
    for ((key, &start), &n) in (first..).zip(&starts).zip(counts) {
        whole.keys(start, n, key);
    }
    let mut next = starts.clone();
    for (key, unit, value) in found {
        // One comparison for both ends: below `first` wraps around.
        let local = key.wrapping_sub(first) as usize;
        match next.get_mut(local) {
            Some(at) if *at < starts[local] + counts[local] => whole.put(at, unit, value),
            Some(_) => return false,
            None => {}
        }
    }
    next.iter()
        .zip(&starts)
        .zip(counts)
        .all(|((&at, &start), &n)| at == start + n)
}

/// Deals the rows of `whole` (by key from `first` on, `counts` of each) to
/// their places in `sided`, by key and side ([`side_key`]) and then in the
/// order they are in: one key's rows at a time, each side's in the order
/// of the key's.
fn deal_sides(
    whole: &SortedRows,
    first: u32,
    counts: &[usize],
    split: &[Option<u32>],
    sided: &mut SortedRows,
) {
    let side = |unit: u32| {
        split
            .get(unit as usize)
            .copied()
            .flatten()
            .unwrap_or(NO_SIDE)
    };
    const RUNS: usize = (SIDES + 1) as usize;
    let mut start = 0;
    for (key, &n) in (first..).zip(counts) {
        let run = start..start + n;
        let mut per_side = [0usize; RUNS];
        for &unit in &whole.unit[run.clone()] {
            per_side[side(unit) as usize] += 1;
        }
        let mut next = [start; RUNS];
        for s in 1..RUNS {
            next[s] = next[s - 1] + per_side[s - 1];
        }
        for (s, (&at, &rows)) in (0..).zip(next.iter().zip(&per_side)) {
            sided.keys(at, rows, side_key(key, s));
        }
        for i in run {
            let unit = whole.unit[i];
            sided.put(&mut next[side(unit) as usize], unit, whole.value[i]);
        }
        start += n;
    }
}

/// The group of a unit that `keep` left out.
const NO_GROUP: u32 = u32::MAX;

/// The aggregations of one value column over a group: its values (for the
/// moments and percentiles, see [`moments_column`]) and the unit with the
/// largest value (the first, on a tie).
///
/// The values are listed as they are, not sorted here: polars sorts a
/// group by sorting its row indices by value (a stable sort of pairs) and
/// then gathering the values, 16% of the aggregation's instructions; the
/// reader sorts each group's plain numbers instead, and only for the
/// groups it reads. Equal numbers are indistinguishable, so the order,
/// and every sum taken in it, is the same.
fn distribution(value: &str) -> [Expr; 2] {
    [
        col(value).alias(VALUES),
        // The smallest unit among those holding the maximum: a group's
        // rows are in unit order (see `root_table`, `feature_tables`), and
        // `max_by` keeps the first row holding it.
        aggregate::id_of_largest(SpanColumn::Unit.name(), value, EXAMPLE),
    ]
}

/// Per group of units, the 0-based positions of the percentiles among the
/// group's values in ascending order: units are numbered apart, so their
/// numbers give the positions. A feature's group reads its percentiles at
/// these positions with its missing units counted as zeros, which are not
/// stored.
fn ranks() -> [Expr; 3] {
    QUANTILES.map(|(q, name)| aggregate::nearest_rank_position(SpanColumn::Unit.col(), q, name))
}

/// The profile of the units `keep` selects.
pub fn build(
    strings: &Interner,
    units: &[UnitBreakdown],
    keep: &dyn Fn(usize) -> bool,
) -> PolarsResult<Profile> {
    Ok(build_in(strings, units, keep, None, FEATURE_ROWS_PER_PASS)?.0)
}

/// The profile of every unit, and of each side of `sides` (per unit: side
/// 0, side 1 or neither), each as [`build`] gives it for those units alone.
///
/// In one pass: a unit's feature rows are read once and grouped twice, by
/// key and by key and side. Built apart, the two sides took as long again
/// as the whole profile (66 ms on 1.09 M spans), mostly for the reads of
/// every unit and the feature table they fill.
pub fn build_split(
    strings: &Interner,
    units: &[UnitBreakdown],
    sides: &[Option<u32>],
) -> PolarsResult<(Profile, [Profile; 2])> {
    debug_assert!(sides.iter().flatten().all(|&s| s < SIDES));
    let (whole, split) = build_in(
        strings,
        units,
        &|_| true,
        Some(sides),
        FEATURE_ROWS_PER_PASS,
    )?;
    Ok((whole, split.unwrap_or_default()))
}

/// The root groups of one profile: per unit, its group; per group, its
/// side, its unit count and percentile ranks (which its features read
/// their moments at), and the group without features.
struct Roots {
    group_of: Vec<u32>,
    side: Vec<u32>,
    ranks: Vec<GroupRanks>,
    groups: Vec<ProfileGroup>,
}

/// A root group's unit count and the 0-based positions of its percentiles
/// among its units' values (see [`ranks`]).
#[derive(Clone, Copy, Debug)]
struct GroupRanks {
    units: u32,
    at: [Option<f64>; 3],
}

impl GroupRanks {
    /// Each row's, from a frame with [`UNITS`] and the [`QUANTILES`]'
    /// columns.
    fn of_rows(frame: &DataFrame) -> PolarsResult<Vec<GroupRanks>> {
        let units = u32_column(frame, UNITS)?;
        let [p50, p90, p99] = QUANTILES.map(|(_, name)| f64_column(frame, name));
        let (p50, p90, p99) = (p50?, p90?, p99?);
        Ok((0..frame.height())
            .map(|i| GroupRanks {
                units: units[i].unwrap_or(0),
                at: [p50[i], p90[i], p99[i]],
            })
            .collect())
    }
}

/// The root groups of the units `side_of` puts on a side, a group per
/// side and root operation.
fn roots(strings: &Interner, units: &[UnitBreakdown], side_of: &SideOf<'_>) -> PolarsResult<Roots> {
    let (per_unit, keys) = root_table(units, side_of)?;
    let dur = SpanColumn::Duration.name();
    // Grouped by one dense id, not by the side and root operation's three
    // columns: polars row-encoded and hashed those, and a join of one row
    // per unit then found each unit's group (together 9% of the
    // aggregation's instructions). A unit's group is now its key's row.
    let roots = per_unit
        .clone()
        .lazy()
        .group_by([col(KEY)])
        .agg(
            [
                vec![len().alias(UNITS)],
                Vec::from(distribution(dur)),
                Vec::from(ranks()),
            ]
            .concat(),
        )
        .collect()?;
    let root_keys = keys.keys_of(roots.column(KEY)?.u32()?.into_no_null_iter())?;
    let mut group_of_key = vec![NO_GROUP; root_keys.len()];
    for (group, id) in roots.column(KEY)?.u32()?.into_no_null_iter().enumerate() {
        group_of_key[id as usize] = group as u32;
    }
    let mut group_of = vec![NO_GROUP; units.len()];
    let unit = per_unit.column(SpanColumn::Unit.name())?.u32()?;
    let key = per_unit.column(KEY)?.u32()?;
    for (u, k) in unit.into_no_null_iter().zip(key.into_no_null_iter()) {
        group_of[u as usize] = group_of_key[k as usize];
    }
    let side = root_keys.iter().map(|&(side, _, _)| side).collect();
    let ranks = GroupRanks::of_rows(&roots)?;
    let groups = root_groups(strings, units, &roots, &root_keys, &ranks)?;
    Ok(Roots {
        group_of,
        side,
        ranks,
        groups,
    })
}

/// [`build`], and with `split` the profile of each of its sides (see
/// [`build_split`]), aggregating at most `per_pass` feature rows at once.
/// A side's rows are read through the whole profile's groups, so `keep`
/// keeps every unit a side holds.
fn build_in(
    strings: &Interner,
    units: &[UnitBreakdown],
    keep: &dyn Fn(usize) -> bool,
    split: Option<&[Option<u32>]>,
    per_pass: usize,
) -> PolarsResult<(Profile, Option<[Profile; 2]>)> {
    let mut whole = roots(strings, units, &|u| keep(u).then_some(0))?;
    let mut sides = split
        .map(|sides| roots(strings, units, &|u| sides[u]))
        .transpose()?;
    // Per whole-profile group and side, the side's group: a unit is in one
    // of each, of the same root operation.
    let side_group: Vec<u32> = match (&sides, split) {
        (Some(part), Some(split)) => {
            let mut at = vec![NO_GROUP; whole.groups.len() * SIDES as usize];
            for (u, side) in split.iter().enumerate() {
                let (Some(side), g) = (side, whole.group_of[u]) else {
                    continue;
                };
                if g != NO_GROUP {
                    at[(g * SIDES + side) as usize] = part.group_of[u];
                }
            }
            at
        }
        _ => Vec::new(),
    };
    let keys = feature_keys(units, &whole.group_of);
    for ids in key_ranges(&keys.rows, per_pass) {
        let (table, by_side) = feature_tables(units, &whole.group_of, &keys, ids, split)?;
        if let (Some(part), Some(by_side)) = (&mut sides, by_side) {
            // The rows of units on no side are dealt and grouped too, under
            // keys of their own, and dropped here.
            let grouped = distributions(by_side.lazy())?;
            let named = |id: u32| {
                let (g, feature) = *keys.named.get((id / (SIDES + 1)) as usize)?;
                let side = id % (SIDES + 1);
                if side == NO_SIDE {
                    return Some(Named::Dropped);
                }
                let group = *side_group.get((g * SIDES + side) as usize)?;
                Some(if group == NO_GROUP {
                    Named::Dropped
                } else {
                    Named::Row(group, feature)
                })
            };
            for (group, feature) in feature_rows(strings, units, &grouped, &named, &part.ranks)? {
                part.groups[group].features.push(feature);
            }
        }
        let named = |id: u32| {
            let (group, feature) = *keys.named.get(id as usize)?;
            Some(Named::Row(group, feature))
        };
        let grouped = distributions(table.lazy())?;
        for (group, feature) in feature_rows(strings, units, &grouped, &named, &whole.ranks)? {
            whole.groups[group].features.push(feature);
        }
    }
    let split = sides.map(|part| {
        let mut out: [Vec<ProfileGroup>; 2] = Default::default();
        for (group, side) in part.groups.into_iter().zip(part.side) {
            if let Some(side) = out.get_mut(side as usize) {
                side.push(group);
            }
        }
        out.map(in_order)
    });
    Ok((in_order(whole.groups), split))
}

/// A profile of `groups`, each group's features and the groups in name
/// order.
fn in_order(mut groups: Vec<ProfileGroup>) -> Profile {
    for g in &mut groups {
        // By name, not by symbol: symbol numbers depend on the order spans
        // were read in, the report must not.
        g.features.sort_by(|a, b| {
            (a.kind, &a.service, &a.callee, &a.operation).cmp(&(
                b.kind,
                &b.service,
                &b.callee,
                &b.operation,
            ))
        });
    }
    groups.sort_by(|a, b| {
        (&a.root_service, &a.root_operation).cmp(&(&b.root_service, &b.root_operation))
    });
    Profile { groups }
}

/// Per key of `table`, the distribution of its values.
fn distributions(table: LazyFrame) -> PolarsResult<DataFrame> {
    table
        .group_by([col(KEY)])
        .agg(Vec::from(distribution(VALUE)))
        .collect()
}

/// What a key of a grouped feature table names: a feature of a root
/// group, or rows that are in no group of the profile being built (units
/// on neither side of a split).
#[derive(Clone, Copy)]
enum Named {
    Row(u32, Feature),
    Dropped,
}

/// One group per row of the roots frame, in its order, without features.
fn root_groups(
    strings: &Interner,
    units: &[UnitBreakdown],
    roots: &DataFrame,
    keys: &[RootKey],
    ranks: &[GroupRanks],
) -> PolarsResult<Vec<ProfileGroup>> {
    let moments = moments_column(strings, units, roots, &|i| Some((ranks[i], true)))?;
    Ok(moments
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, duration)| ProfileGroup {
            root_service: resolve(strings, keys[i].1).to_string(),
            root_operation: resolve(strings, keys[i].2).to_string(),
            traces: u64::from(ranks[i].units),
            duration,
            features: Vec::new(),
        })
        .collect())
}

/// Each row of the [`distributions`] of a feature table that `named` names
/// a feature of a root group, with that group's index; `ranks` per group.
/// The group's unit count and percentile positions are looked up by its
/// index: joined to the rows as columns, they made polars gather every
/// row's list of values again.
fn feature_rows(
    strings: &Interner,
    units: &[UnitBreakdown],
    grouped: &DataFrame,
    named: &dyn Fn(u32) -> Option<Named>,
    ranks: &[GroupRanks],
) -> PolarsResult<Vec<(usize, FeatureMoments)>> {
    let rows: Vec<Named> = grouped
        .column(KEY)?
        .u32()?
        .into_no_null_iter()
        .map(|id| {
            // Every key was made by feature_keys with an id it gave.
            named(id).ok_or_else(|| polars_err!(ComputeError: "feature id {id} was never given"))
        })
        .collect::<PolarsResult<_>>()?;
    // A row of a group without ranks is skipped, as joining the rows to
    // the groups' ranks dropped it (every group has them).
    let read = |i: usize| match rows[i] {
        Named::Row(group, feature) => {
            let time = FeatureKind::is_time(feature.parts().0);
            ranks.get(group as usize).map(|&r| (r, time))
        }
        Named::Dropped => None,
    };
    let moments = moments_column(strings, units, grouped, &read)?;
    let name = |id: u32| resolve(strings, id).to_string();
    let name_if_any = |id: u32| (id != NO_SYM).then(|| name(id));
    let mut out = Vec::with_capacity(moments.len());
    for (row, moments) in rows.iter().zip(moments) {
        let (Named::Row(group, feature), Some(moments)) = (*row, moments) else {
            continue;
        };
        let (kind, first, second) = feature.parts();
        let (callee, operation) = if kind == FeatureKind::OperationCritical {
            (None, name_if_any(second))
        } else {
            (name_if_any(second), None)
        };
        let feature = FeatureMoments {
            kind,
            service: name(first),
            callee,
            operation,
            moments,
        };
        out.push((group as usize, feature));
    }
    Ok(out)
}

/// The moments of the rows of a frame [`distribution`] aggregated that
/// `read` gives their group's ranks and whether they hold times (`None`
/// for rows to skip). Each row's values are copied from the list column's
/// buffer and sorted, in a vector each task reuses from row to row; rows
/// are read on every core (on one, this was a quarter of the profile's
/// wall time with the other core idle).
fn moments_column(
    strings: &Interner,
    units: &[UnitBreakdown],
    frame: &DataFrame,
    read: &(dyn Fn(usize) -> Option<(GroupRanks, bool)> + Sync),
) -> PolarsResult<Vec<Option<Moments>>> {
    let example = u32_column(frame, EXAMPLE)?;
    let lists = frame.column(VALUES)?.list()?;
    // The inner values have a chunk per chunk of lists.
    let inner = lists.get_inner();
    let mut rows: Vec<&[i64]> = Vec::with_capacity(frame.height());
    for (list, values) in lists.downcast_iter().zip(inner.i64()?.downcast_iter()) {
        let (offsets, values) = (list.offsets(), values.values().as_slice());
        for (start, end) in offsets.iter().zip(offsets.iter().skip(1)) {
            rows.push(&values[*start as usize..*end as usize]);
        }
    }
    Ok(rows
        .par_iter()
        .enumerate()
        .map_init(Vec::new, |sorted, (row, values)| {
            read(row).map(|(ranks, time)| {
                sorted.clear();
                sorted.extend_from_slice(values);
                sorted.sort_unstable();
                let scale = if time { 1e-6 } else { 1.0 };
                Moments::of(strings, units, sorted, ranks, example[row], scale)
            })
        })
        .collect())
}

impl Moments {
    /// The moments of a group of `ranks.units` units, of which `sorted`
    /// (ascending) hold a value and the rest 0, its largest value in unit
    /// `example`, scaled by `scale`.
    fn of(
        strings: &Interner,
        units: &[UnitBreakdown],
        sorted: &[i64],
        ranks: GroupRanks,
        example: Option<u32>,
        scale: f64,
    ) -> Moments {
        let n = ranks.units as usize;
        let (mean, var) = mean_var(sorted, n);
        let zeros = n.saturating_sub(sorted.len());
        let [p50, p90, p99] = ranks
            .at
            .map(|r| r.map_or(0, |r| at(sorted, zeros, r as usize)) as f64);
        Moments {
            mean: mean * scale,
            var: var * scale * scale,
            p50: p50 * scale,
            p90: p90 * scale,
            p99: p99 * scale,
            example_trace_id: example
                .and_then(|u| units.get(u as usize))
                .map(|u| u.label(strings))
                .unwrap_or_default(),
        }
    }
}

/// The value at 0-based position `index` of `sorted` (ascending) with
/// `zeros` zeros in their place: the units a feature is missing from.
fn at(sorted: &[i64], zeros: usize, index: usize) -> i64 {
    let negative = sorted.partition_point(|&v| v < 0);
    if index < negative {
        sorted[index]
    } else if index < negative + zeros {
        0
    } else {
        sorted.get(index - zeros).copied().unwrap_or(0)
    }
}

/// Mean and variance (n − 1) over `n` units, of which `sorted` (ascending)
/// hold a value and the rest 0.
///
/// Summed in plain `f64`, in ascending order, the zeros' share of the
/// variance added last: this is how the report has always computed them.
/// polars' own `mean` and `var` sum with compensation and in chunks, which
/// is more accurate in the last digits but would change them.
fn mean_var(sorted: &[i64], n: usize) -> (f64, f64) {
    // Most features are in few units, so the zeros are counted rather than
    // stored; with a negative value (never from the analyses, but cheap to
    // honour) they are stored, in their place.
    let stored: Vec<i64>;
    let sorted = if sorted.first().is_some_and(|&v| v < 0) {
        let mut all = sorted.to_vec();
        all.resize(n.max(sorted.len()), 0);
        all.sort_unstable();
        stored = all;
        &stored[..]
    } else {
        sorted
    };
    let zeros = n.saturating_sub(sorted.len());
    let mean = sorted.iter().map(|&v| v as f64).sum::<f64>() / n.max(1) as f64;
    let var = if n > 1 {
        let spread: f64 = sorted.iter().map(|&v| (v as f64 - mean).powi(2)).sum();
        (spread + zeros as f64 * mean * mean) / (n - 1) as f64
    } else {
        0.0
    };
    (mean, var)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::analysis::breakdown::one_span_units;
    use crate::model::TraceId;

    /// Nearest rank, written out independently of polars.
    fn nearest_rank(sorted: &[i64], q: f64) -> i64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    /// The moments of `present` over `n` units, the slow way: every unit's
    /// value stored, sorted, nearest-rank.
    fn naive(present: &[(usize, Nanos)], n: usize) -> (f64, f64, [i64; 3]) {
        let mut all: Vec<i64> = present.iter().map(|&(_, v)| v).collect();
        all.resize(n, 0);
        all.sort_unstable();
        let mean = all.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        let var = all.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let q = [0.5, 0.9, 0.99].map(|q| nearest_rank(&all, q));
        (mean, var, q)
    }

    /// Mean and variance as the report computed them before they were
    /// aggregated by polars: the floats `mean_var` must reproduce exactly.
    fn before_polars(present: &[i64], n: usize) -> (f64, f64) {
        let mut sorted = present.to_vec();
        sorted.sort_unstable();
        if sorted.first().is_some_and(|&v| v < 0) {
            sorted.resize(n.max(sorted.len()), 0);
            sorted.sort_unstable();
        }
        let zeros_first = n.saturating_sub(sorted.len());
        let count = n.max(1) as f64;
        let mean = sorted.iter().map(|&v| v as f64).sum::<f64>() / count;
        let var = if n > 1 {
            let spread: f64 = sorted.iter().map(|&v| (v as f64 - mean).powi(2)).sum();
            (spread + zeros_first as f64 * mean * mean) / (n - 1) as f64
        } else {
            0.0
        };
        (mean, var)
    }

    /// The profile of one-span units where unit `i` (trace `i + 1`) has the
    /// one feature `ends_in: db` with value `values[i]`, or no feature.
    fn profile_of(values: &[Option<i64>]) -> Profile {
        let (set, mut bd) = one_span_units(values.len());
        let db = set.strings.intern("db");
        for (unit, v) in bd.units.iter_mut().zip(values) {
            unit.features.values = v.map(|v| (Feature::EndsIn(db), v)).into_iter().collect();
        }
        build(&set.strings, &bd.units, &|_| true).unwrap()
    }

    /// The moments of the one feature of a one-group profile.
    fn ends_in(profile: &Profile) -> &Moments {
        assert_eq!(profile.groups.len(), 1);
        let features = &profile.groups[0].features;
        assert_eq!(features.len(), 1, "{features:?}");
        assert_eq!(features[0].kind, FeatureKind::EndsIn);
        &features[0].moments
    }

    #[test]
    fn counted_zeros_give_the_same_moments_as_stored_ones() {
        let mut seed = 7u64;
        for case in 0..200 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let n = 2 + (seed >> 40) as usize % 60;
            let k = (seed >> 20) as usize % (n + 1);
            if k == 0 {
                // A feature no unit has is not in the profile.
                continue;
            }
            let present: Vec<(usize, Nanos)> = (0..k)
                .map(|i| {
                    let v =
                        ((seed >> (i % 30)) % 1000) as i64 - if case % 7 == 0 { 300 } else { 0 };
                    (i, v)
                })
                .collect();
            let values: Vec<Option<i64>> = (0..n).map(|i| present.get(i).map(|p| p.1)).collect();
            let profile = profile_of(&values);
            let m = ends_in(&profile);
            let (mean, var, q) = naive(&present, n);
            assert!((m.mean - mean).abs() < 1e-9, "{case}: {m:?} vs {mean}");
            assert!(
                (m.var - var).abs() <= 1e-6 * var.max(1.0),
                "{case}: {m:?} vs {var}"
            );
            assert_eq!([m.p50, m.p90, m.p99], q.map(|v| v as f64), "{case}");
        }
    }

    #[test]
    fn a_feature_missing_from_some_units_counts_as_zero() {
        let profile = profile_of(&[Some(10), None, Some(30), None]);
        assert_eq!(profile.groups[0].traces, 4);
        let m = ends_in(&profile);
        // Over 10, 0, 30, 0: mean 10, variance (0 + 100 + 400 + 100) / 3.
        assert_eq!((m.mean, m.var), (10.0, 200.0));
        // Sorted 0, 0, 10, 30: ranks 2, 4 and 4.
        assert_eq!((m.p50, m.p90, m.p99), (0.0, 30.0, 30.0));
    }

    #[test]
    fn the_example_is_the_first_unit_with_the_largest_value() {
        let profile = profile_of(&[Some(5), Some(9), None, Some(9), Some(0)]);
        assert_eq!(ends_in(&profile).example_trace_id, TraceId(2).to_string());
        // A feature that is 0 wherever it is present still names one.
        let profile = profile_of(&[None, Some(0), Some(0)]);
        assert_eq!(ends_in(&profile).example_trace_id, TraceId(2).to_string());
    }

    #[test]
    fn root_durations_and_features_count_each_root_operations_own_units() {
        let (set, mut bd) = one_span_units(4);
        let db = set.strings.intern("db");
        let other = (set.strings.intern("api"), set.strings.intern("GET /b"));
        for (i, unit) in bd.units.iter_mut().enumerate() {
            unit.duration = [40, 10, 30, 20][i];
            unit.features.values = [(Feature::EndsIn(db), [1, 0, 3, 2][i])]
                .into_iter()
                .collect();
        }
        bd.units[3].features.root = other;
        // The second unit is left out.
        let profile = build(&set.strings, &bd.units, &|u| u != 1).unwrap();
        let groups: Vec<_> = profile
            .groups
            .iter()
            .map(|g| (g.root_service.as_str(), g.root_operation.as_str(), g.traces))
            .collect();
        let (service, operation) = (set.strings.resolve(bd.units[0].features.root.0), "root");
        let mut expected = vec![("api", "GET /b", 1), (service, operation, 2)];
        expected.sort();
        assert_eq!(groups, expected);
        let own = profile
            .groups
            .iter()
            .find(|g| g.root_operation == "root")
            .unwrap();
        // Units 0 and 2: durations 40 and 30 ns, features 1 and 3.
        assert_eq!(
            (own.duration.mean, own.duration.p50),
            (35.0 * 1e-6, 30.0 * 1e-6)
        );
        assert_eq!(own.duration.example_trace_id, TraceId(1).to_string());
        assert_eq!(own.features[0].moments.mean, 2.0);
        assert_eq!(
            own.features[0].moments.example_trace_id,
            TraceId(3).to_string()
        );
    }

    #[test]
    fn feature_values_take_twenty_bytes_and_read_back_as_stored() {
        assert_eq!(std::mem::size_of::<FeatureValue>(), 20);
        let strings = Interner::default();
        let (a, b) = (strings.intern("a"), strings.intern("b"));
        let stored = vec![
            (Feature::Calls(a, b), 3),
            (Feature::SelfCritical(b), i64::MIN),
            (Feature::Spans, i64::MAX),
        ];
        let values: FeatureValues = stored.iter().copied().collect();
        assert_eq!(values.len(), 3);
        assert_eq!(values.iter().collect::<Vec<_>>(), stored);
    }

    #[test]
    fn key_ranges_cover_every_key_once_within_the_limit() {
        assert_eq!(key_ranges(&[], 4), Vec::<std::ops::Range<u32>>::new());
        assert_eq!(key_ranges(&[1, 2, 1, 3, 1], 4), [0..3, 3..5]);
        // A key with more rows than the limit is a range of its own.
        assert_eq!(key_ranges(&[2, 9, 1], 4), [0..1, 1..2, 2..3]);
        assert_eq!(key_ranges(&[4, 4], 4), [0..1, 1..2]);
        assert_eq!(
            key_ranges(&[1, 1, 1], 1 << 18),
            vec![std::ops::Range { start: 0, end: 3 }]
        );
    }

    /// `n` one-span units of three root operations (unit `i` of `op{i % 3}`),
    /// with features of several kinds.
    fn varied_units(
        n: usize,
    ) -> (
        crate::model::TraceSet,
        crate::analysis::breakdown::Breakdown,
    ) {
        let (set, mut bd) = one_span_units(n);
        let strings = &set.strings;
        for (i, unit) in (0..).zip(bd.units.iter_mut()) {
            let root = (
                strings.intern("svc"),
                strings.intern(&format!("op{}", i % 3)),
            );
            let callee = strings.intern(&format!("db{}", i % 4));
            let mut values = vec![
                (Feature::Spans, 3 + i64::from(i % 5)),
                (Feature::SelfCritical(root.0), 1_000 * i64::from(i)),
                (Feature::Calls(root.0, callee), 1 + i64::from(i % 2)),
            ];
            if i % 7 == 0 {
                values.push((Feature::FailsIn(callee), 1));
            }
            values.sort_by_key(|&(f, _)| f);
            unit.features = UnitFeatures {
                root,
                values: values.into_iter().collect(),
            };
        }
        (set, bd)
    }

    #[test]
    fn a_profile_aggregated_a_few_keys_at_a_time_is_the_one_aggregated_at_once() {
        let (set, bd) = varied_units(60);
        let strings = &set.strings;
        let at_once = build(strings, &bd.units, &|_| true).unwrap();
        let by_key = build_in(strings, &bd.units, &|_| true, None, 1).unwrap().0;
        assert!(at_once.groups.len() == 3 && !at_once.groups[0].features.is_empty());
        assert_eq!(format!("{at_once:?}"), format!("{by_key:?}"));
    }

    #[test]
    fn each_side_of_a_split_profile_is_the_profile_of_its_units_alone() {
        let (set, bd) = varied_units(90);
        let strings = &set.strings;
        // op2's units all on side 1, so side 0 lacks that root operation;
        // of the others, every fifth on neither side, the rest alternating.
        let sides: Vec<Option<u32>> = (0..90u32)
            .map(|i| match (i % 3, i % 5) {
                (2, _) => Some(1),
                (_, 0) => None,
                (_, k) => Some(k % 2),
            })
            .collect();
        let whole = build(strings, &bd.units, &|_| true).unwrap();
        let alone = [0, 1].map(|s| build(strings, &bd.units, &|u| sides[u] == Some(s)).unwrap());
        assert_eq!((alone[0].groups.len(), alone[1].groups.len()), (2, 3));
        for per_pass in [1, 7, FEATURE_ROWS_PER_PASS] {
            let (together, split) =
                build_in(strings, &bd.units, &|_| true, Some(&sides), per_pass).unwrap();
            assert_eq!(format!("{together:?}"), format!("{whole:?}"), "{per_pass}");
            let split = split.expect("asked for");
            for s in 0..2 {
                assert_eq!(
                    format!("{:?}", split[s]),
                    format!("{:?}", alone[s]),
                    "side {s}, {per_pass} rows a pass"
                );
            }
        }
        assert_eq!(build_split(strings, &bd.units, &sides).unwrap().0, whole);
    }

    #[test]
    fn keys_numbered_by_chunks_on_every_core_are_the_pairs_ranks() {
        // More units than two tasks hold, pairs first seen in different
        // chunks, and units left out of every group.
        let n = 2 * UNITS_PER_TASK + 100;
        let (set, mut bd) = one_span_units(n);
        let strings = &set.strings;
        let services: Vec<Sym> = (0..7).map(|i| strings.intern(&format!("s{i}"))).collect();
        for (i, unit) in bd.units.iter_mut().enumerate() {
            let mut values = vec![(Feature::Spans, 1 + i as i64 % 3)];
            values.push((Feature::SelfCritical(services[(i * 5 / n) % 7]), i as i64));
            if i % 11 == 0 {
                values.push((Feature::Calls(services[i % 7], services[(i + 1) % 7]), 2));
            }
            values.sort_by_key(|&(f, _)| f);
            unit.features.values = values.into_iter().collect();
        }
        let group_of: Vec<u32> = (0..n as u32)
            .map(|i| if i % 13 == 0 { NO_GROUP } else { i % 3 })
            .collect();
        let keys = feature_keys(&bd.units, &group_of);
        // One numbering on one core, in unit order: the pairs sorted, each
        // row the rank of its pair.
        let mut pairs = Vec::new();
        for (_, u, g) in grouped(&bd.units, &group_of) {
            pairs.extend(u.features.values.iter().map(|(f, _)| (g, f)));
        }
        let mut named = pairs.clone();
        named.sort_unstable();
        named.dedup();
        let expected: Vec<u32> = pairs
            .iter()
            .map(|p| named.binary_search(p).unwrap() as u32)
            .collect();
        assert!(keys.keys == expected, "the rows' keys differ");
        assert_eq!(keys.named, named);
        assert_eq!(keys.rows.iter().sum::<usize>(), pairs.len());
        // Each unit's rows start where the rows of the units before it end.
        let mut at = 0;
        for (i, u) in bd.units.iter().enumerate() {
            assert_eq!(keys.starts[i], at, "unit {i}");
            if group_of[i] != NO_GROUP {
                at += u.features.values.len();
            }
        }
        assert_eq!(keys.starts[n], keys.keys.len());
        // The table of a range of keys is every grouped row with a key in
        // it, by key and then in unit order; split, by key, side and unit;
        // however many tasks dealt the rows.
        let sides: Vec<Option<u32>> = (0..n as u32)
            .map(|i| [Some(0), Some(1), None][i as usize % 3])
            .collect();
        let all: Vec<(u32, u32, Nanos)> = grouped(&bd.units, &group_of)
            .flat_map(|(i, u, _)| u.features.values.iter().map(move |(_, v)| (i as u32, v)))
            .zip(keys.keys.iter().copied())
            .map(|((unit, value), key)| (key, unit, value))
            .collect();
        let column_rows = |frame: &DataFrame| -> Vec<(u32, u32, Nanos)> {
            let key = u32_column(frame, KEY).unwrap();
            let unit = u32_column(frame, SpanColumn::Unit.name()).unwrap();
            let value = frame.column(VALUE).unwrap().i64().unwrap().clone();
            key.into_iter()
                .zip(unit)
                .zip(value.iter())
                .map(|((k, u), v)| (k.unwrap(), u.unwrap(), v.unwrap()))
                .collect()
        };
        let middle = named.len() as u32 / 2;
        for ids in [0..named.len() as u32, 0..middle, middle..named.len() as u32] {
            let mut rows: Vec<_> = all.iter().filter(|r| ids.contains(&r.0)).copied().collect();
            let mut sided: Vec<_> = rows
                .iter()
                .map(|&(key, unit, value)| {
                    let side = sides[unit as usize].unwrap_or(NO_SIDE);
                    (side_key(key, side), unit, value)
                })
                .collect();
            rows.sort_by_key(|&(key, unit, _)| (key, unit));
            sided.sort_by_key(|&(key, unit, _)| (key, unit));
            for threads in [1, 3] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let (table, by_side) = pool
                    .install(|| {
                        feature_tables(&bd.units, &group_of, &keys, ids.clone(), Some(&sides))
                    })
                    .unwrap();
                assert!(column_rows(&table) == rows, "{ids:?}, {threads} threads");
                let by_side = by_side.unwrap();
                assert!(column_rows(&by_side) == sided, "{ids:?}, {threads} threads");
                for frame in [&table, &by_side] {
                    let key = frame.column(KEY).unwrap().as_materialized_series();
                    assert_eq!(key.is_sorted_flag(), IsSorted::Ascending);
                }
            }
        }
    }

    #[test]
    fn dealing_says_when_the_rows_found_are_not_the_rows_counted() {
        // Keys 5 and 6 of a pass, as (key, unit, value); key 9 is another
        // task's.
        let found = [(5, 0, 10), (6, 0, 20), (9, 1, 30), (5, 2, 40), (6, 3, 50)];
        let mut whole = SortedRows::zeroed(4);
        assert!(deal(found.into_iter(), 5, &[2, 2], &mut whole));
        assert_eq!(
            (whole.key, whole.unit, whole.value),
            (vec![5, 5, 6, 6], vec![0, 2, 0, 3], vec![10, 40, 20, 50])
        );
        // A key with more rows than counted, and one with fewer.
        assert!(!deal(
            found.into_iter(),
            5,
            &[1, 3],
            &mut SortedRows::zeroed(4)
        ));
        assert!(!deal(
            found.into_iter(),
            5,
            &[3, 2],
            &mut SortedRows::zeroed(5)
        ));
    }

    #[test]
    fn feature_kinds_round_trip_through_their_codes() {
        for kind in FeatureKind::ALL {
            assert_eq!(FeatureKind::from_code(kind.code()), Some(kind));
        }
        assert_eq!(FeatureKind::from_code(FeatureKind::ALL.len() as u32), None);
    }

    /// A feature of kind `kind % 8` with symbols of indices `a` and `b`.
    fn feature_of(kind: u8, a: u32, b: u32) -> Feature {
        let (a, b) = (Sym::from_index(a), Sym::from_index(b));
        match kind % 8 {
            0 => Feature::SelfCritical(a),
            1 => Feature::GapCritical(a, b),
            2 => Feature::Calls(a, b),
            3 => Feature::ErrorCalls(a, b),
            4 => Feature::OperationCritical(a, b),
            5 => Feature::EndsIn(a),
            6 => Feature::FailsIn(a),
            _ => Feature::Spans,
        }
    }

    proptest! {
        /// A feature's key gives the feature back, and keys order as
        /// features do (a unit's values are sorted under them, and its
        /// features must come out in their own order).
        #[test]
        fn feature_keys_round_trip_and_order_as_features(
            x in (any::<u8>(), 0u32..u32::MAX, 0u32..u32::MAX),
            y in (any::<u8>(), 0u32..u32::MAX, 0u32..u32::MAX),
            small in (0u32..3, 0u32..3),
        ) {
            let (f, g) = (feature_of(x.0, x.1, x.2), feature_of(y.0, y.1, y.2));
            // Near symbols of one kind too: random ones are rarely equal.
            let h = feature_of(x.0, small.0, small.1);
            let k = feature_of(x.0, small.1, small.0);
            for (p, q) in [(f, g), (h, k)] {
                prop_assert_eq!(Feature::from_key(p.key()), p);
                prop_assert_eq!(p.key().cmp(&q.key()), p.cmp(&q), "{:?} {:?}", p, q);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Percentiles are nearest-rank over every unit, the missing ones as
        /// zeros, and the moments are the floats the report always had.
        #[test]
        fn percentiles_and_moments_over_units_with_and_without_the_feature(
            values in prop::collection::vec(
                prop::option::of(-1_000i64..1_000_000_000_000),
                1..80,
            )
        ) {
            prop_assume!(values.iter().any(Option::is_some));
            let m = ends_in(&profile_of(&values)).clone();
            let mut all: Vec<i64> = values.iter().map(|v| v.unwrap_or(0)).collect();
            all.sort_unstable();
            let q = [0.5, 0.9, 0.99].map(|q| nearest_rank(&all, q) as f64);
            prop_assert_eq!([m.p50, m.p90, m.p99], q);
            let present: Vec<i64> = values.iter().flatten().copied().collect();
            let (mean, var) = before_polars(&present, values.len());
            prop_assert_eq!((m.mean.to_bits(), m.var.to_bits()), (mean.to_bits(), var.to_bits()));
        }
    }
}
