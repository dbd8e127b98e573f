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

use polars::prelude::*;

use super::aggregate::{DenseIds, percentiles, slowest_unit};
use super::breakdown::UnitView;
use super::results::EdgeStats;
use crate::model::{Interner, Nanos, SpanKind, Status, Sym};

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

/// The edges of one unit, in member order.
pub fn observe(view: &UnitView<'_>, out: &mut Vec<EdgeRow>, unit: u32) {
    let spans = &view.trace.spans;
    let mut children: Vec<usize> = Vec::new();
    for &i in view.members {
        let caller = &spans[i];
        children.clear();
        children.extend(view.trace.children(i));
        let mut callees: Vec<Sym> = children
            .iter()
            .map(|&c| spans[c].service)
            .filter(|&s| s != caller.service)
            .collect();
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
        for &callee in &callees {
            let covered = covered_by(view, i, &children, callee);
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

/// The time within span `i` that its children in `callee` cover.
fn covered_by(view: &UnitView<'_>, i: usize, children: &[usize], callee: Sym) -> Nanos {
    let spans = &view.trace.spans;
    let (start, end) = (spans[i].start, spans[i].end.max(spans[i].start));
    let mut intervals: Vec<(Nanos, Nanos)> = children
        .iter()
        .filter(|&&c| spans[c].service == callee)
        .filter_map(|&c| {
            let (s, e) = (spans[c].start.max(start), spans[c].end.min(end));
            (e > s).then_some((s, e))
        })
        .collect();
    intervals.sort_unstable();
    let mut total: Nanos = 0;
    let mut current: Option<(Nanos, Nanos)> = None;
    for (s, e) in intervals {
        current = match current {
            Some((cs, ce)) if s <= ce => Some((cs, ce.max(e))),
            Some((cs, ce)) => {
                total = total.saturating_add(ce.saturating_sub(cs));
                Some((s, e))
            }
            None => Some((s, e)),
        };
    }
    total.saturating_add(current.map_or(0, |(s, e)| e.saturating_sub(s)))
}

/// The peer a leaf client span names: `peer.service`, then `server.address`,
/// then the database system, then the URL's host. Only spans that call out
/// name one: kind client or producer, or, without a kind, a span naming a
/// peer service or database. A server span's `server.address` and URL are
/// its own name, not a peer.
fn peer_of(i: usize, view: &UnitView<'_>) -> Option<Sym> {
    let span = &view.trace.spans[i];
    let attrs = span.attrs();
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
    rows: &[EdgeRow],
    keep: &dyn Fn(u32) -> bool,
    units: u64,
    label: &dyn Fn(u32) -> String,
) -> PolarsResult<Vec<EdgeStats>> {
    let rows: Vec<&EdgeRow> = rows.iter().filter(|r| keep(r.unit)).collect();
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let col_u32 = |f: &dyn Fn(&EdgeRow) -> u32| rows.iter().map(|r| f(r)).collect::<Vec<u32>>();
    let col_i64 = |f: &dyn Fn(&EdgeRow) -> i64| rows.iter().map(|r| f(r)).collect::<Vec<i64>>();
    // Each edge (caller, callee, peer) by a dense id: polars groups by one
    // integer column, where grouping by three row-encoded every call (the
    // largest allocation of the aggregation stage).
    let mut ids = DenseIds::new();
    let edge: Vec<u32> = rows
        .iter()
        .map(|r| ids.id((r.caller, r.callee, r.peer)))
        .collect();
    let frame = df!(
        "edge" => edge,
        "unit" => col_u32(&|r| r.unit),
        "err" => col_u32(&|r| u32::from(r.error)),
        "caller_dur" => col_i64(&|r| r.caller_duration),
        "callee_dur" => col_i64(&|r| r.callee_duration),
        "gap" => col_i64(&|r| r.gap),
        "gap_crit" => col_i64(&|r| r.gap_critical),
    )?;
    let exact = super::aggregate::sums_fit(rows.iter().map(|r| r.gap_critical));
    let mut agg = vec![
        len().alias("calls"),
        col("unit").n_unique().alias("traces"),
        col("gap").cast(DataType::Float64).mean().alias("gap_mean"),
        col("gap").cast(DataType::Float64).var(1).alias("gap_var"),
        col("err").sum().alias("errors"),
        super::aggregate::total_ns("gap_crit", exact, "gap_crit"),
        slowest_unit("caller_dur"),
    ];
    agg.extend(percentiles("caller_dur", "c"));
    agg.extend(percentiles("callee_dur", "e"));
    agg.extend(percentiles("gap", "g"));
    let out = frame.lazy().group_by([col("edge")]).agg(agg).collect()?;
    let u = |c: &str| -> PolarsResult<Vec<u64>> {
        let s = out.column(c)?.cast(&DataType::UInt64)?;
        Ok(s.u64()?.into_no_null_iter().collect())
    };
    let f = |c: &str| -> PolarsResult<Vec<f64>> {
        let s = out.column(c)?.cast(&DataType::Float64)?;
        Ok(s.f64()?.into_no_null_iter().map(|v| v / 1e6).collect())
    };
    // Every id was given by `ids` above.
    let edges: Vec<(Sym, Sym, bool)> = u("edge")?
        .into_iter()
        .map(|id| ids.key(id as u32).copied())
        .collect::<Option<_>>()
        .ok_or_else(|| polars_err!(ComputeError: "an edge id was never given"))?;
    let (calls, traces, errors, example) = (u("calls")?, u("traces")?, u("errors")?, u("example")?);
    let p: Vec<Vec<f64>> = [
        "c50", "c95", "c99", "e50", "e95", "e99", "g50", "g95", "g99",
    ]
    .iter()
    .map(|c| f(c))
    .collect::<PolarsResult<_>>()?;
    let gap_crit = f("gap_crit")?;
    let gap_mean = f("gap_mean")?;
    // Variance is in ns²: scale twice, and a single call has none.
    let gap_var_col = out.column("gap_var")?.cast(&DataType::Float64)?;
    let gap_var: Vec<f64> = gap_var_col
        .f64()?
        .iter()
        .map(|v| v.unwrap_or(0.0) / 1e12)
        .collect();
    let mut table: Vec<EdgeStats> = (0..out.height())
        .map(|i| EdgeStats {
            caller: strings.resolve(edges[i].0).to_string(),
            callee: strings.resolve(edges[i].1).to_string(),
            peer: edges[i].2,
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
        })
        .collect();
    table.sort_by(|a, b| {
        b.gap_critical_ms
            .total_cmp(&a.gap_critical_ms)
            .then_with(|| b.calls.cmp(&a.calls))
            .then_with(|| (&a.caller, &a.callee, a.peer).cmp(&(&b.caller, &b.callee, b.peer)))
    });
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{breakdown, select};
    use crate::model::testutil::TraceBuilder;

    /// Every edge row of every root of the built set.
    fn rows(b: TraceBuilder) -> (Vec<EdgeRow>, crate::model::TraceSet) {
        let set = b.build_set();
        let units = select::select(&set, &select::Selection::default());
        let bd = breakdown::breakdown(&set, &units, &Default::default());
        (bd.edges, set)
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
        let s = |r: &EdgeRow| {
            (
                set.strings.resolve(r.caller).to_string(),
                set.strings.resolve(r.callee).to_string(),
            )
        };
        let mut got: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    s(r),
                    r.client,
                    r.peer,
                    r.caller_duration,
                    r.callee_duration,
                    r.gap,
                )
            })
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
        let client = rows
            .iter()
            .find(|r| r.client && !r.peer)
            .expect("client edge");
        assert_eq!(client.gap_critical, 10);
    }
}
