//! Call edges: every span whose children run in another service is the
//! caller's side of a call `caller → callee`, whatever its `span.kind` says
//! (many exports carry no kind at all). A client span with no traced callee
//! (a database, an external API, an untraced service) is an edge to the peer
//! it names.
//!
//! The *gap* of an edge is the caller span's time not covered by its
//! children: network, queueing in front of the callee, connection pools,
//! retries. It is only defined for a span whose children all run in the one
//! callee (a client span); a span that calls several services, or also has
//! children of its own service, is a handler whose uncovered time is its own
//! work, so its edges carry calls and callee time but no gap. Self time and
//! per-span critical time are unchanged by all of this: the gap *is* the
//! client span's self time, seen from the edge.
//!
//! For an edge to a peer there is no callee span: the callee side is the
//! whole client span and the gap is zero.

use std::sync::OnceLock;

use polars::prelude::*;
use rayon::prelude::*;

use super::aggregate::{DenseIds, percentile, percentiles, resolve, slowest_unit};
use super::breakdown::UnitView;
use super::results::EdgeStats;
use super::self_time::union_length;
use crate::model::{Interner, Nanos, SpanKind, Status, Sym};
use crate::table::{RowBuffer, Run, SpanColumn, owned_column};

/// One call on one edge in one unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EdgeRow {
    /// Index into the breakdown's units.
    pub unit: u32,
    /// The caller span's index in its trace.
    pub span: u32,
    /// The calling service.
    pub caller: Sym,
    /// The called service, or the peer the caller names.
    pub callee: Sym,
    /// Whether the callee is a named peer with no span of its own.
    pub peer: bool,
    /// Whether the caller span's uncovered time is this edge's gap (its
    /// children all run in the callee, or it is a peer call).
    pub client: bool,
    /// The caller span's duration.
    pub caller_duration: Nanos,
    /// The time the callee's spans under the caller cover.
    pub callee_duration: Nanos,
    /// Caller time not covered by the callee (0 unless `client`).
    pub gap: Nanos,
    /// The gap's time on the unit's critical path.
    pub gap_critical: Nanos,
    /// Whether the caller or a callee span reported an error.
    pub error: bool,
}

/// The columns of the edge table, as the aggregation names them.
const UNIT: &str = SpanColumn::Unit.name();
const CALLER: &str = "caller";
const CALLEE: &str = "callee";
const PEER: &str = "peer";
const CLIENT: &str = "client";
const ERROR: &str = "err";
const CALLER_DURATION: &str = "caller_dur";
const CALLEE_DURATION: &str = "callee_dur";
const GAP: &str = "gap";
const GAP_CRITICAL: &str = "gap_crit";

/// Edge-row buffers one rayon task appends to, as [`crate::table::SpanColumns`]
/// are for span rows. A row's caller span index is not kept: only the
/// per-unit features read it, from the unit's rows before they are pushed.
#[derive(Clone, Debug, Default)]
pub struct EdgeColumns {
    unit: Vec<u32>,
    caller: Vec<u32>,
    callee: Vec<u32>,
    peer: Vec<bool>,
    client: Vec<bool>,
    error: Vec<bool>,
    caller_duration: Vec<i64>,
    callee_duration: Vec<i64>,
    gap: Vec<i64>,
    gap_critical: Vec<i64>,
}

impl EdgeColumns {
    /// Appends one row.
    pub fn push(&mut self, row: &EdgeRow) {
        self.unit.push(row.unit);
        self.caller.push(row.caller.into_usize() as u32);
        self.callee.push(row.callee.into_usize() as u32);
        self.peer.push(row.peer);
        self.client.push(row.client);
        self.error.push(row.error);
        self.caller_duration.push(row.caller_duration);
        self.callee_duration.push(row.callee_duration);
        self.gap.push(row.gap);
        self.gap_critical.push(row.gap_critical);
    }

    /// The buffers as a frame; the numeric vectors move into polars as
    /// they are (see [`owned_column`]).
    fn into_frame(self) -> DataFrame {
        let height = self.unit.len();
        // Boolean columns are bitmaps: built from the slices.
        let flag = |name: &str, values: Vec<bool>| Column::new(name.into(), values);
        let columns = vec![
            owned_column(UNIT, self.unit),
            owned_column(CALLER, self.caller),
            owned_column(CALLEE, self.callee),
            flag(PEER, self.peer),
            flag(CLIENT, self.client),
            flag(ERROR, self.error),
            owned_column(CALLER_DURATION, self.caller_duration),
            owned_column(CALLEE_DURATION, self.callee_duration),
            owned_column(GAP, self.gap),
            owned_column(GAP_CRITICAL, self.gap_critical),
        ];
        debug_assert!(columns.iter().all(|c| c.len() == height));
        // SAFETY: `push` appends to every vector, so all columns have
        // `height` rows; the names above are distinct.
        unsafe { DataFrame::new_unchecked(height, columns) }
    }
}

impl RowBuffer for EdgeColumns {
    type Table = EdgeTable;

    fn with_room(&self, rows: usize) -> Self {
        EdgeColumns {
            unit: Vec::with_capacity(rows),
            caller: Vec::with_capacity(rows),
            callee: Vec::with_capacity(rows),
            peer: Vec::with_capacity(rows),
            client: Vec::with_capacity(rows),
            error: Vec::with_capacity(rows),
            caller_duration: Vec::with_capacity(rows),
            callee_duration: Vec::with_capacity(rows),
            gap: Vec::with_capacity(rows),
            gap_critical: Vec::with_capacity(rows),
        }
    }

    fn len(&self) -> usize {
        self.unit.len()
    }

    fn room(&self) -> usize {
        // Every column was made with the same room and grows together.
        self.unit.capacity() - self.unit.len()
    }

    fn shrink_to_fit(&mut self) {
        self.unit.shrink_to_fit();
        self.caller.shrink_to_fit();
        self.callee.shrink_to_fit();
        self.peer.shrink_to_fit();
        self.client.shrink_to_fit();
        self.error.shrink_to_fit();
        self.caller_duration.shrink_to_fit();
        self.callee_duration.shrink_to_fit();
        self.gap.shrink_to_fit();
        self.gap_critical.shrink_to_fit();
    }

    fn into_table(self) -> EdgeTable {
        EdgeTable::from_columns(self)
    }

    fn append(table: &mut EdgeTable, other: EdgeTable) {
        table.append(other);
    }
}

/// A row of the edge table read back: caller, callee, client, peer, caller
/// duration, callee duration, gap, gap critical time.
#[cfg(test)]
type RowParts = (Sym, Sym, bool, bool, Nanos, Nanos, Nanos, Nanos);

/// Every unit's edge rows as one polars frame, in unit order: what the
/// edges table and the diagnosis's call counts aggregate.
#[derive(Clone, Debug)]
pub struct EdgeTable {
    frame: DataFrame,
    /// Numbered on the first grouping (see [`EdgeTable::ids`]).
    ids: OnceLock<EdgeIds>,
}

/// Each row's edge (caller, callee, peer) as a dense id, and the edges by
/// id.
#[derive(Clone, Debug)]
struct EdgeIds {
    of_row: Vec<u32>,
    edges: Vec<(u32, u32, bool)>,
}

impl Default for EdgeTable {
    fn default() -> Self {
        EdgeTable::from_columns(EdgeColumns::default())
    }
}

impl PartialEq for EdgeTable {
    fn eq(&self, other: &Self) -> bool {
        self.frame.equals(&other.frame)
    }
}

impl EdgeTable {
    /// The table of one task's buffers.
    pub fn from_columns(columns: EdgeColumns) -> EdgeTable {
        EdgeTable {
            frame: columns.into_frame(),
            ids: OnceLock::new(),
        }
    }

    /// The table of `rows`.
    pub fn from_rows(rows: &[EdgeRow]) -> EdgeTable {
        let mut columns = EdgeColumns::default();
        for row in rows {
            columns.push(row);
        }
        EdgeTable::from_columns(columns)
    }

    /// Appends `other`'s rows after this table's, sharing its chunks (both
    /// frames come from `EdgeColumns::into_frame`: one schema), and drops
    /// the edges' numbering, which covers the old rows only; see
    /// [`EdgeTable::rechunk`].
    pub fn append(&mut self, other: EdgeTable) {
        crate::table::stack(&mut self.frame, other.frame);
        self.ids = OnceLock::new();
    }

    /// Makes each column one contiguous chunk, a column per thread.
    ///
    /// The per-trace stage leaves a chunk per rayon task, and polars makes
    /// a contiguous copy of the frame's columns for each group-by: the
    /// aggregation's and the diagnosis's groupings of the edges each held
    /// one (about 30 MiB on 1.09 M spans) at the run's peak. Copied once
    /// here, with the span table's freed chunks handed back first (kept,
    /// they raised the aggregation's starting RSS by 31 MiB), the peak of
    /// either grouping is lower by about that much.
    pub fn rechunk(&mut self) {
        self.frame.rechunk_mut_par();
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.frame.height()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.frame.height() == 0
    }

    /// Each row's unit.
    pub fn units(&self) -> PolarsResult<impl Iterator<Item = u32> + '_> {
        Ok(self.frame.column(UNIT)?.u32()?.into_no_null_iter())
    }

    /// The rows of `parts` in a new order (see [`crate::table::gathered`]).
    pub fn gathered(parts: Vec<EdgeTable>, runs: &[Run]) -> PolarsResult<EdgeTable> {
        let frames = parts.into_iter().map(|t| t.frame).collect();
        Ok(EdgeTable {
            frame: crate::table::gathered(frames, runs, UNIT)?,
            ids: OnceLock::new(),
        })
    }

    /// Each row's edge as a dense id, numbered on the first call: the
    /// report's table and the diagnosis's sides group the same rows by
    /// edge, and numbering them (a hash probe a row) was a quarter of
    /// each grouping's instructions.
    fn ids(&self) -> PolarsResult<&EdgeIds> {
        if let Some(ids) = self.ids.get() {
            return Ok(ids);
        }
        let frame = &self.frame;
        let caller = frame.column(CALLER)?.u32()?;
        let callee = frame.column(CALLEE)?.u32()?;
        let peer = frame.column(PEER)?.bool()?;
        let (of_row, numbering) = DenseIds::of_rows(frame.height(), |rows| {
            let (at, len) = (rows.start as i64, rows.len());
            // The slices' iterators borrow them: the range's keys are
            // collected before they go.
            let keys: Vec<_> = caller
                .slice(at, len)
                .into_no_null_iter()
                .zip(callee.slice(at, len).into_no_null_iter())
                .zip(peer.slice(at, len).iter().map(|p| p.unwrap_or(false)))
                .map(|((a, b), p)| (a, b, p))
                .collect();
            keys.into_iter()
        });
        let edges = numbering.into_keys();
        Ok(self.ids.get_or_init(|| EdgeIds { of_row, edges }))
    }

    /// The rows, for tests.
    #[cfg(test)]
    fn rows(&self) -> Vec<RowParts> {
        let f = &self.frame;
        let sym = |c: &str| -> Vec<Sym> {
            f.column(c)
                .unwrap()
                .u32()
                .unwrap()
                .into_no_null_iter()
                .map(|id| Sym::try_from_usize(id as usize).unwrap())
                .collect()
        };
        let flag = |c: &str| -> Vec<bool> {
            f.column(c)
                .unwrap()
                .bool()
                .unwrap()
                .iter()
                .map(|b| b.unwrap())
                .collect()
        };
        let time = |c: &str| -> Vec<Nanos> {
            f.column(c)
                .unwrap()
                .i64()
                .unwrap()
                .into_no_null_iter()
                .collect()
        };
        let (caller, callee) = (sym(CALLER), sym(CALLEE));
        let (client, peer) = (flag(CLIENT), flag(PEER));
        let (cd, ed, gap, crit) = (
            time(CALLER_DURATION),
            time(CALLEE_DURATION),
            time(GAP),
            time(GAP_CRITICAL),
        );
        (0..f.height())
            .map(|i| {
                (
                    caller[i], callee[i], client[i], peer[i], cd[i], ed[i], gap[i], crit[i],
                )
            })
            .collect()
    }
}

/// The working vectors of [`observe`], kept by the caller from unit to
/// unit: made for each span that calls out, they were one to three
/// allocations a span.
#[derive(Default)]
pub struct EdgeRoom {
    /// A span's children, its callee services and their intervals.
    children: Vec<usize>,
    callees: Vec<Sym>,
    intervals: Vec<(Nanos, Nanos)>,
}

/// The edges of one unit, in member order; `room`'s vectors are its
/// working room.
pub fn observe(view: &UnitView<'_>, out: &mut Vec<EdgeRow>, unit: u32, room: &mut EdgeRoom) {
    let EdgeRoom {
        children,
        callees,
        intervals,
    } = room;
    let spans = &view.trace.spans;
    for &i in view.members {
        let caller = &spans[i];
        children.clear();
        children.extend(view.trace.children(i));
        callees.clear();
        callees.extend(
            children
                .iter()
                .map(|&c| spans[c].service)
                .filter(|&s| s != caller.service),
        );
        callees.sort_unstable();
        callees.dedup();
        let duration = caller.duration().max(0);
        if callees.is_empty() {
            if let Some(peer) = peer_of(i, view) {
                out.push(EdgeRow {
                    unit,
                    span: i as u32,
                    caller: caller.service,
                    callee: peer,
                    peer: true,
                    client: true,
                    caller_duration: duration,
                    callee_duration: duration,
                    gap: 0,
                    gap_critical: 0,
                    error: caller.status == Status::Error,
                });
            }
            continue;
        }
        let client =
            callees.len() == 1 && children.iter().all(|&c| spans[c].service != caller.service);
        for &callee in callees.iter() {
            let covered = covered_by(view, i, children, callee, intervals);
            let error = caller.status == Status::Error
                || children
                    .iter()
                    .any(|&c| spans[c].service == callee && spans[c].status == Status::Error);
            out.push(EdgeRow {
                unit,
                span: i as u32,
                caller: caller.service,
                callee,
                peer: false,
                client,
                caller_duration: duration,
                callee_duration: covered,
                gap: if client { view.self_time[i] } else { 0 },
                gap_critical: if client { view.critical[i] } else { 0 },
                error,
            });
        }
    }
}

/// The time within span `i` that its children in `callee` cover, with
/// `intervals` as working room.
fn covered_by(
    view: &UnitView<'_>,
    i: usize,
    children: &[usize],
    callee: Sym,
    intervals: &mut Vec<(Nanos, Nanos)>,
) -> Nanos {
    let spans = &view.trace.spans;
    let (start, end) = (spans[i].start, spans[i].end.max(spans[i].start));
    intervals.clear();
    intervals.extend(
        children
            .iter()
            .filter(|&&c| spans[c].service == callee)
            .filter_map(|&c| {
                let (s, e) = (spans[c].start.max(start), spans[c].end.min(end));
                (e > s).then_some((s, e))
            }),
    );
    union_length(intervals)
}

/// The peer a leaf client span names: `peer.service`, then `server.address`,
/// then the database system, then the URL's host. Only spans that call out
/// name one: kind client or producer, or, without a kind, a span naming a
/// peer service or database. A server span's `server.address` and URL are
/// its own name, not a peer.
fn peer_of(i: usize, view: &UnitView<'_>) -> Option<Sym> {
    let span = &view.trace.spans[i];
    let attrs = span.attrs(view.strings);
    match span.kind {
        SpanKind::Client | SpanKind::Producer => {}
        SpanKind::Unspecified => return attrs.peer_service.or(attrs.db_system),
        _ => return None,
    }
    attrs
        .peer_service
        .or(attrs.server_address)
        .or(attrs.db_system)
        .or(attrs.url_host)
}

/// Aggregates the edge rows of the units `keep` selects, over `units` of
/// them, into the edges table, largest gap critical time first.
pub fn aggregate(
    strings: &Interner,
    table: &EdgeTable,
    keep: &(dyn Fn(u32) -> bool + Sync),
    units: u64,
    label: &dyn Fn(u32) -> String,
) -> PolarsResult<Vec<EdgeStats>> {
    let Some(grouped) = grouped::<1>(table, &|u| keep(u).then_some(0), report_aggs(table)?)? else {
        return Ok(Vec::new());
    };
    let out = &grouped.frame;
    let u = |c: &str| -> PolarsResult<Vec<u64>> {
        let s = out.column(c)?.cast(&DataType::UInt64)?;
        Ok(s.u64()?.into_no_null_iter().collect())
    };
    let f = |c: &str| millis_column(out, c);
    let (calls, traces, errors, example) = (u("calls")?, u("traces")?, u("errors")?, u("example")?);
    let p: Vec<Vec<f64>> = [
        "c50", "c95", "c99", "e50", "e95", "e99", "g50", "g95", "g99",
    ]
    .iter()
    .map(|c| f(c))
    .collect::<PolarsResult<_>>()?;
    let gap_crit = f(GAP_CRITICAL)?;
    let (gap_mean, gap_var) = gap_moments(out)?;
    let mut rows = Vec::with_capacity(out.height());
    for (i, &(caller, callee, peer, side)) in grouped.edges.iter().enumerate() {
        if side != 0 {
            continue; // rows of units not kept
        }
        rows.push(EdgeStats {
            caller: resolve(strings, caller).to_string(),
            callee: resolve(strings, callee).to_string(),
            peer,
            calls: calls[i],
            traces: traces[i],
            calls_per_trace: if units > 0 {
                calls[i] as f64 / units as f64
            } else {
                0.0
            },
            caller_p50_ms: p[0][i],
            caller_p95_ms: p[1][i],
            caller_p99_ms: p[2][i],
            callee_p50_ms: p[3][i],
            callee_p95_ms: p[4][i],
            callee_p99_ms: p[5][i],
            gap_p50_ms: p[6][i],
            gap_p95_ms: p[7][i],
            gap_p99_ms: p[8][i],
            gap_mean_ms: gap_mean[i],
            gap_var_ms2: gap_var[i],
            error_rate: if calls[i] > 0 {
                errors[i] as f64 / calls[i] as f64
            } else {
                0.0
            },
            gap_critical_ms: gap_crit[i],
            example_trace_id: label(example[i] as u32),
        });
    }
    rows.sort_by(|a, b| {
        in_table_order(
            (a.gap_critical_ms, a.calls, &a.caller, &a.callee, a.peer),
            (b.gap_critical_ms, b.calls, &b.caller, &b.callee, b.peer),
        )
    });
    Ok(rows)
}

/// What a comparison of two sides reads of an edge (see
/// [`super::suspects`]): its calls, the mean and variance of its gap per
/// call and the medians of the caller's and the callee's durations, with
/// its gap critical time, which orders an edges table.
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeMoments {
    /// The calling service.
    pub caller: String,
    /// The called service, or the peer a client span names.
    pub callee: String,
    /// Whether the callee is a named peer (no span of its own).
    pub peer: bool,
    /// Caller-side spans on this edge.
    pub calls: u64,
    /// Median caller-side duration.
    pub caller_p50_ms: f64,
    /// Median time the callee's spans cover.
    pub callee_p50_ms: f64,
    /// Mean gap per call.
    pub gap_mean_ms: f64,
    /// Sample variance of the gap per call, ms².
    pub gap_var_ms2: f64,
    /// Summed gap time on the critical path.
    pub gap_critical_ms: f64,
}

impl From<&EdgeStats> for EdgeMoments {
    fn from(e: &EdgeStats) -> Self {
        EdgeMoments {
            caller: e.caller.clone(),
            callee: e.callee.clone(),
            peer: e.peer,
            calls: e.calls,
            caller_p50_ms: e.caller_p50_ms,
            callee_p50_ms: e.callee_p50_ms,
            gap_mean_ms: e.gap_mean_ms,
            gap_var_ms2: e.gap_var_ms2,
            gap_critical_ms: e.gap_critical_ms,
        }
    }
}

/// [`EdgeMoments`] of the edges of each of `N` sides at once, in the order
/// of [`aggregate`]'s table for each side's units alone: `side` puts each
/// unit's rows on a side (or on none).
///
/// One grouping of the whole table by (edge, side), not a filtered copy of
/// it per side: a diagnosis's larger side held most of the table again
/// (30 MiB on 1.09 M spans, the run's peak). Rows on no side form groups
/// of their own, aggregated and dropped; callers leave few units out.
/// Only what a comparison reads is aggregated: the report's other seven
/// percentiles, trace counts, errors and examples were most of the
/// diagnosis stage's instructions.
pub fn moments_sides<const N: usize>(
    strings: &Interner,
    table: &EdgeTable,
    side: &(dyn Fn(u32) -> Option<usize> + Sync),
) -> PolarsResult<[Vec<EdgeMoments>; N]> {
    let mut out: [Vec<EdgeMoments>; N] = std::array::from_fn(|_| Vec::new());
    let aggs = vec![
        len().alias("calls"),
        col(GAP).mean().alias("gap_mean"),
        col(GAP).var(1).alias("gap_var"),
        gap_critical_total(table)?,
        percentile(CALLER_DURATION, 0.50, "c50"),
        percentile(CALLEE_DURATION, 0.50, "e50"),
    ];
    let Some(grouped) = grouped::<N>(table, side, aggs)? else {
        return Ok(out);
    };
    let frame = &grouped.frame;
    let calls = frame.column("calls")?.cast(&DataType::UInt64)?;
    let calls: Vec<u64> = calls.u64()?.into_no_null_iter().collect();
    let ms = |c: &str| millis_column(frame, c);
    let (c50, e50, gap_crit) = (ms("c50")?, ms("e50")?, ms(GAP_CRITICAL)?);
    let (gap_mean, gap_var) = gap_moments(frame)?;
    for (i, &(caller, callee, peer, side)) in grouped.edges.iter().enumerate() {
        let Some(out) = out.get_mut(side) else {
            continue; // rows on no side
        };
        out.push(EdgeMoments {
            caller: resolve(strings, caller).to_string(),
            callee: resolve(strings, callee).to_string(),
            peer,
            calls: calls[i],
            caller_p50_ms: c50[i],
            callee_p50_ms: e50[i],
            gap_mean_ms: gap_mean[i],
            gap_var_ms2: gap_var[i],
            gap_critical_ms: gap_crit[i],
        });
    }
    for table in &mut out {
        table.sort_by(|a, b| {
            in_table_order(
                (a.gap_critical_ms, a.calls, &a.caller, &a.callee, a.peer),
                (b.gap_critical_ms, b.calls, &b.caller, &b.callee, b.peer),
            )
        });
    }
    Ok(out)
}

/// The order of an edges table: largest gap critical time first, then
/// most calls, then by name.
fn in_table_order(
    a: (f64, u64, &String, &String, bool),
    b: (f64, u64, &String, &String, bool),
) -> std::cmp::Ordering {
    b.0.total_cmp(&a.0)
        .then_with(|| b.1.cmp(&a.1))
        .then_with(|| (a.2, a.3, a.4).cmp(&(b.2, b.3, b.4)))
}

/// The report's aggregations of an edge's rows.
fn report_aggs(table: &EdgeTable) -> PolarsResult<Vec<Expr>> {
    let mut aggs = vec![
        len().alias("calls"),
        col(UNIT).n_unique().alias("traces"),
        // polars takes an integer column's mean and variance in floats
        // itself: a cast first copied the whole column (6 MiB each on
        // 730,000 rows) under the peak.
        col(GAP).mean().alias("gap_mean"),
        col(GAP).var(1).alias("gap_var"),
        col(ERROR).cast(DataType::UInt32).sum().alias("errors"),
        gap_critical_total(table)?,
        slowest_unit(CALLER_DURATION),
    ];
    aggs.extend(percentiles(CALLER_DURATION, "c"));
    aggs.extend(percentiles(CALLEE_DURATION, "e"));
    aggs.extend(percentiles(GAP, "g"));
    Ok(aggs)
}

/// The sum of an edge's gap critical time, exact where the table's sums
/// fit (see [`super::aggregate::total_ns`]), named as its column.
fn gap_critical_total(table: &EdgeTable) -> PolarsResult<Expr> {
    let gap_critical = table.frame.column(GAP_CRITICAL)?.i64()?;
    let exact = super::aggregate::sums_fit(gap_critical.into_no_null_iter());
    Ok(super::aggregate::total_ns(
        GAP_CRITICAL,
        exact,
        GAP_CRITICAL,
    ))
}

/// A grouped frame's column of nanoseconds, in milliseconds.
fn millis_column(frame: &DataFrame, name: &str) -> PolarsResult<Vec<f64>> {
    let s = frame.column(name)?.cast(&DataType::Float64)?;
    Ok(s.f64()?.into_no_null_iter().map(|v| v / 1e6).collect())
}

/// The gap's mean (ms) and sample variance (ms²) columns of a grouped
/// frame; a single call has no variance.
fn gap_moments(frame: &DataFrame) -> PolarsResult<(Vec<f64>, Vec<f64>)> {
    let mean = millis_column(frame, "gap_mean")?;
    // Variance is in ns²: scale twice.
    let var = frame.column("gap_var")?.cast(&DataType::Float64)?;
    let var = var.f64()?.iter().map(|v| v.unwrap_or(0.0) / 1e12).collect();
    Ok((mean, var))
}

/// The edge table's rows grouped by edge and side, and each group's edge
/// (caller, callee, peer) and side; `N` for rows on no side.
struct Grouped {
    frame: DataFrame,
    edges: Vec<(u32, u32, bool, usize)>,
}

/// `table`'s rows grouped by edge and by the side `side` puts each row's
/// unit on (any side `N` or past counting as none), with `aggs`; `None`
/// for a table with no rows.
fn grouped<const N: usize>(
    table: &EdgeTable,
    side: &(dyn Fn(u32) -> Option<usize> + Sync),
    aggs: Vec<Expr>,
) -> PolarsResult<Option<Grouped>> {
    let mut frame = table.frame.clone();
    if frame.height() == 0 {
        return Ok(None);
    }
    // Each (edge, side) as one integer: polars groups by one integer
    // column, where grouping by several row-encoded every call (the
    // largest allocation of the aggregation stage). Side N is "none".
    let ids = table.ids()?;
    let sides = N as u32 + 1;
    // A u32 key, as the numbering's (4 bytes a row fewer than a u64 at
    // the aggregation's peak): it holds every (edge, side) up to 2^32.
    if (ids.edges.len() as u64) * u64::from(sides) > u64::from(u32::MAX) {
        polars_bail!(ComputeError: "{} distinct call edges are more than can be grouped", ids.edges.len());
    }
    let unit = frame.column(UNIT)?.u32()?.rechunk();
    let key: Vec<u32> = unit
        .cont_slice()?
        .par_iter()
        .zip(&ids.of_row[..])
        .map(|(&u, &edge)| edge * sides + side(u).filter(|&s| s < N).unwrap_or(N) as u32)
        .collect();
    frame.with_column(owned_column("edge", key))?;
    let frame = frame.lazy().group_by([col("edge")]).agg(aggs).collect()?;
    let edges = frame
        .column("edge")?
        .u32()?
        .into_no_null_iter()
        .map(|key| {
            let (a, b, p) = *ids.edges.get((key / sides) as usize).ok_or_else(
                || polars_err!(ComputeError: "edge {} was never numbered", key / sides),
            )?;
            Ok((a, b, p, (key % sides) as usize))
        })
        .collect::<PolarsResult<_>>()?;
    Ok(Some(Grouped { frame, edges }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{breakdown, select};
    use crate::model::testutil::TraceBuilder;

    /// Every edge row of every root of the built set.
    fn rows(b: TraceBuilder) -> (Vec<RowParts>, crate::model::TraceSet) {
        let set = b.build_set();
        let units = select::select(&set, &select::Selection::default());
        let bd = breakdown::breakdown(&set, &units, &Default::default());
        (bd.edges.rows(), set)
    }

    #[test]
    fn appended_tables_rechunk_into_one_chunk_with_their_rows_in_order() {
        let b = TraceBuilder::new()
            .span_in("web", "handler", None, 0, 100)
            .span_in("api", "serve", Some("handler"), 10, 60)
            .trace(2)
            .span_in("web", "handler", None, 0, 50)
            .span_in("db", "query", Some("handler"), 5, 45);
        let set = b.build_set();
        let units = select::select(&set, &select::Selection::default());
        let whole = breakdown::breakdown(&set, &units, &Default::default()).edges;
        let mut table = EdgeTable::default();
        for row in whole.rows() {
            let (caller, callee, client, peer, caller_duration, callee_duration, gap, gap_critical) =
                row;
            table.append(EdgeTable::from_rows(&[EdgeRow {
                unit: 0,
                span: 0,
                caller,
                callee,
                peer,
                client,
                caller_duration,
                callee_duration,
                gap,
                gap_critical,
                error: false,
            }]));
        }
        let before = table.rows();
        // An edge per trace, each appended as a chunk of its own.
        assert_eq!(before.len(), 2);
        assert_eq!(table.frame.first_col_n_chunks(), 2);
        table.rechunk();
        assert!(table.frame.columns().iter().all(|c| c.n_chunks() == 1));
        assert_eq!(table.rows(), before);
        assert_eq!(before, whole.rows());
    }

    #[test]
    fn a_client_span_gap_a_handler_and_a_peer() {
        // web:handler 0..100 calls api through a client span 10..60 whose
        // api server span runs 15..55 (gap 10), and then api directly from
        // the handler 60..90 (the handler also has its own client child, so
        // it is a handler: no gap). api queries postgres 20..50.
        let b = TraceBuilder::new()
            .span_in("web", "handler", None, 0, 100)
            .span_in("web", "client", Some("handler"), 10, 60)
            .kind(SpanKind::Client)
            .span_in("api", "serve", Some("client"), 15, 55)
            .span_in("api", "serve2", Some("handler"), 60, 90)
            .span_in("api", "query", Some("serve"), 20, 50)
            .db("postgresql", "SELECT 1");
        let (rows, set) = rows(b);
        let s = |caller: Sym, callee: Sym| {
            (
                set.strings.resolve(caller).to_string(),
                set.strings.resolve(callee).to_string(),
            )
        };
        let mut got: Vec<_> = rows
            .iter()
            .map(
                |&(caller, callee, client, peer, caller_duration, callee_duration, gap, _)| {
                    (
                        s(caller, callee),
                        client,
                        peer,
                        caller_duration,
                        callee_duration,
                        gap,
                    )
                },
            )
            .collect();
        got.sort();
        let e = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            got,
            vec![
                (e("api", "postgresql"), true, true, 30, 30, 0),
                (e("web", "api"), false, false, 100, 30, 0),
                (e("web", "api"), true, false, 50, 40, 10),
            ]
        );
        // The client span is on the critical path for its whole gap.
        let client = rows.iter().find(|r| r.2 && !r.3).expect("client edge");
        assert_eq!(client.7, 10);
    }

    #[test]
    fn a_merge_renumbers_units_and_moves_every_column_with_its_row() {
        let strings = Interner::default();
        let (a, b) = (strings.intern("a"), strings.intern("b"));
        let row = |unit, caller, gap| EdgeRow {
            unit,
            span: 0,
            caller,
            callee: b,
            peer: gap == 0,
            client: true,
            caller_duration: 10 * gap,
            callee_duration: 5 * gap,
            gap,
            gap_critical: gap / 2,
            error: gap == 4,
        };
        let first = EdgeTable::from_rows(&[row(0, a, 2), row(1, b, 4)]);
        let second = EdgeTable::from_rows(&[row(0, a, 0)]);
        let run = |part, first, rows, unit| Run {
            part,
            first,
            rows,
            unit,
        };
        let runs = [run(0, 1, 1, 0), run(1, 0, 1, 1), run(0, 0, 1, 2)];
        let merged = EdgeTable::gathered(vec![first, second], &runs).unwrap();
        assert_eq!(merged.units().unwrap().collect::<Vec<_>>(), [0, 1, 2]);
        let got: Vec<(Sym, bool, Nanos, Nanos)> =
            merged.rows().iter().map(|r| (r.0, r.3, r.4, r.6)).collect();
        assert_eq!(got, [(b, false, 40, 4), (a, true, 0, 0), (a, false, 20, 2)]);
        let errors = merged.frame.column(ERROR).unwrap().bool().unwrap();
        assert_eq!(
            errors.iter().collect::<Vec<_>>(),
            [Some(true), Some(false), Some(false)]
        );
    }

    #[test]
    fn rows_appended_after_a_grouping_are_numbered_again() {
        // Two halves of one set (one interner): web calls api in the
        // first three traces, api calls db in the last three.
        let mut b = TraceBuilder::new();
        for t in 0..6i64 {
            let (caller, callee) = if t < 3 { ("web", "api") } else { ("api", "db") };
            b = b
                .trace(t as u128 + 1)
                .span_in(caller, "handler", None, 0, 100 + t)
                .span_in(callee, "serve", Some("handler"), 10, 60 + t);
        }
        let set = b.build_set();
        let units = select::select(&set, &select::Selection::default());
        let half = |range: std::ops::Range<usize>| {
            breakdown::breakdown(&set, &units[range], &Default::default()).edges
        };
        let label = |u: u32| format!("unit {u}");
        let all = |table: &EdgeTable| aggregate(&set.strings, table, &|_| true, 6, &label).unwrap();
        let mut grouped_first = half(0..3);
        assert_eq!(all(&grouped_first).len(), 1);
        grouped_first.append(half(3..6));
        let mut fresh = half(0..3);
        fresh.append(half(3..6));
        let got = all(&grouped_first);
        assert_eq!(got.len(), 2);
        assert_eq!(format!("{got:?}"), format!("{:?}", all(&fresh)));
    }

    #[test]
    fn both_sides_at_once_are_each_side_alone() {
        // Six traces of one call shape with different gaps; units go to
        // side 0, side 1 or neither.
        let mut b = TraceBuilder::new();
        for t in 0..6i64 {
            b = b
                .trace(t as u128 + 1)
                .span_in("web", "handler", None, 0, 100 + t)
                .span_in("web", "client", Some("handler"), 10, 60 + t)
                .kind(SpanKind::Client)
                .span_in("api", "serve", Some("client"), 15 + t, 55);
        }
        let set = b.build_set();
        let units = select::select(&set, &select::Selection::default());
        let bd = breakdown::breakdown(&set, &units, &Default::default());
        let side = |u: u32| [Some(0), Some(1), None, Some(1), Some(0), Some(1)][u as usize];
        let label = |u: u32| format!("unit {u}");
        let both = moments_sides::<2>(&set.strings, &bd.edges, &side).unwrap();
        for (s, n) in [(0, 2), (1, 3)] {
            let alone = aggregate(&set.strings, &bd.edges, &|u| side(u) == Some(s), n, &label);
            let alone = alone.unwrap();
            assert!(!alone.is_empty());
            let alone: Vec<EdgeMoments> = alone.iter().map(EdgeMoments::from).collect();
            assert_eq!(both[s], alone, "side {s}");
        }
        assert_ne!(both[0], both[1]);
        // One web -> api call a unit: each side counts its own units' calls.
        let calls = |side: &[EdgeMoments]| side.iter().map(|e| e.calls).collect::<Vec<_>>();
        assert_eq!((calls(&both[0]), calls(&both[1])), (vec![2], vec![3]));
    }
}
