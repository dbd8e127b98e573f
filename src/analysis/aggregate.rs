//! Aggregation over all units with polars: per-operation percentiles and
//! totals, per-service totals, and hot paths.
//!
//! Percentiles are exact nearest-rank: the value at 1-based rank
//! `ceil(q × n)` of the sorted durations (polars' `Equiprobable` method).

use polars::prelude::*;
use polars_plan::plans::AExprSorted;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::breakdown::Breakdown;
use super::results::{HotPath, OperationStats, ServiceStats, ms, share};
use crate::model::{Interner, Nanos, Sym};
use crate::table::SpanColumn;

/// The quantile method, named in reports.
pub const PERCENTILE_METHOD: &str = "nearest-rank";

const METHOD: QuantileMethod = QuantileMethod::Equiprobable;

/// The column of a [`pair_key`] a query groups by.
const KEY: &str = "key";

/// Aggregated tables.
#[derive(Clone, Debug, Default)]
pub struct Tables {
    /// Per operation.
    pub operations: Vec<OperationStats>,
    /// Per service.
    pub services: Vec<ServiceStats>,
    /// Hot paths.
    pub hot_paths: Vec<HotPath>,
}

/// Aggregates a breakdown into tables; `total_root` is the share denominator
/// in nanoseconds.
pub fn aggregate(strings: &Interner, bd: &Breakdown, total_root: i64) -> PolarsResult<Tables> {
    let spans = span_frame(bd)?;
    let label = |unit: u32| bd.units[unit as usize].label(strings);
    let total = ms(total_root);
    // The hot paths are keyed on one core (a pass over the units, hashing
    // each one's path: 20 ms on 1.09 M spans), beside polars' grouping of
    // the span table: after it, the other core stood idle.
    let (by_span, hot_paths) = rayon::join(
        || -> PolarsResult<_> {
            Ok((
                operations(&spans, total, &label, strings)?,
                services(&spans, total, strings)?,
            ))
        },
        || hot_paths(strings, bd, &label),
    );
    let ((operations, services), hot_paths) = (by_span?, hot_paths?);
    Ok(Tables {
        operations,
        services,
        hot_paths,
    })
}

/// One `u64` group key from two `u32` halves: polars groups by one integer
/// column without row-encoding and hashing the parts of every row, as it
/// does for a group_by over several columns.
pub(super) fn pair_key(high: u32, low: u32) -> u64 {
    u64::from(high) << 32 | u64::from(low)
}

/// [`pair_key`] as an expression over two `u32` columns.
pub(super) fn pair_key_of(high: Expr, low: Expr) -> Expr {
    high.cast(DataType::UInt64) * lit(1u64 << 32) + low.cast(DataType::UInt64)
}

/// The halves [`pair_key`] packed, high first.
pub(super) fn key_pair(key: u64) -> (u32, u32) {
    ((key >> 32) as u32, key as u32)
}

/// Dense ids for distinct keys, numbered in order of first appearance (as
/// strings get symbols), so that a key too wide for a group column can be
/// grouped by its id.
pub(super) struct DenseIds<K> {
    ids: FxHashMap<K, u32>,
    keys: Vec<K>,
}

impl<K: Clone + Eq + std::hash::Hash> DenseIds<K> {
    pub(super) fn new() -> Self {
        DenseIds {
            ids: FxHashMap::default(),
            keys: Vec::new(),
        }
    }

    /// The id of `key`, given it if it is new.
    pub(super) fn id(&mut self, key: K) -> u32 {
        let keys = &mut self.keys;
        *self.ids.entry(key).or_insert_with_key(|key| {
            keys.push(key.clone());
            (keys.len() - 1) as u32
        })
    }

    /// The key an id was given for.
    pub(super) fn key(&self, id: u32) -> Option<&K> {
        self.keys.get(id as usize)
    }

    /// The key of each of `ids`, read back from a grouped frame's id
    /// column: every id there was given here, so one that was not is an
    /// error in the caller, not in the input.
    pub(super) fn keys_of(&self, ids: impl IntoIterator<Item = u32>) -> PolarsResult<Vec<K>> {
        ids.into_iter()
            .map(|id| {
                self.key(id)
                    .cloned()
                    .ok_or_else(|| polars_err!(ComputeError: "group id {id} was never given"))
            })
            .collect()
    }

    /// Every key, by its id.
    pub(super) fn into_keys(self) -> Vec<K> {
        self.keys
    }
}

/// Rows per parallel task of [`DenseIds::of_rows`].
const ROWS_PER_TASK: usize = 1 << 16;

impl<K: Clone + Eq + std::hash::Hash + Send + Sync> DenseIds<K> {
    /// The id of each of `rows` rows' keys, numbered exactly as giving
    /// each row's key to [`DenseIds::id`] in row order numbers them, and
    /// the numbering (each id's key). `keys_in` gives the keys of a range
    /// of rows.
    ///
    /// Each range of rows numbers its own keys on a core of its own (one
    /// hash probe a row, the step's whole cost); the ranges' keys are then
    /// numbered in row order (a probe per distinct key of a range) and each
    /// range's rows renumbered by a lookup in a vector. Numbered on one
    /// core, the call edges' million rows left the other core idle for
    /// 60 ms, in aggregation and again in diagnosis.
    pub(super) fn of_rows<I: Iterator<Item = K>>(
        rows: usize,
        keys_in: impl Fn(std::ops::Range<usize>) -> I + Sync,
    ) -> (Vec<u32>, Self) {
        let mut ids = vec![0u32; rows];
        // Each range's ids are written where they end up, numbered its own
        // way first: no vector per range to join.
        let local: Vec<Vec<K>> = ids
            .par_chunks_mut(ROWS_PER_TASK)
            .enumerate()
            .map(|(task, slot)| {
                let start = task * ROWS_PER_TASK;
                let keys = keys_in(start..start + slot.len());
                let mut own = DenseIds::new();
                for (id, key) in slot.iter_mut().zip(keys) {
                    *id = own.id(key);
                }
                own.into_keys()
            })
            .collect();
        let mut all = DenseIds::new();
        let renumbered: Vec<Vec<u32>> = local
            .into_iter()
            .map(|keys| keys.into_iter().map(|key| all.id(key)).collect())
            .collect();
        ids.par_chunks_mut(ROWS_PER_TASK)
            .zip(renumbered)
            .for_each(|(slot, global)| {
                for id in slot {
                    *id = global[*id as usize];
                }
            });
        (ids, all)
    }
}

/// The string behind a symbol id stored in a frame column.
pub(super) fn resolve(strings: &Interner, id: u32) -> &str {
    Sym::try_from_usize(id as usize).map_or("", |s| strings.resolve(s))
}

fn span_frame(bd: &Breakdown) -> PolarsResult<DataFrame> {
    // A clone of a frame shares its columns; the error flag is counted as
    // a number.
    let mut frame = bd.spans.frame().clone();
    let err = SpanColumn::Error.name();
    let errors = frame.column(err)?.cast(&DataType::UInt32)?;
    frame.replace(err, errors)?;
    Ok(frame)
}

/// The nearest-rank `q` quantile of `column`, named `alias`.
pub(super) fn percentile(column: &str, q: f64, alias: &str) -> Expr {
    quantile(col(column), q, alias)
}

/// The nearest-rank `q` quantile of `values`, named `alias`.
pub(super) fn quantile(values: Expr, q: f64, alias: &str) -> Expr {
    values.quantile(lit(q), METHOD).alias(alias)
}

/// The 0-based position, among the values of `distinct` in ascending
/// order, of their nearest-rank `q` quantile, named `alias`: how many of
/// them lie below it (0 when there are none).
///
/// polars returns quantiles as floats, which round nanoseconds past 2^53.
/// So where a quantile must be exact, polars picks the rank among numbers
/// that are all distinct and small (positions, unit numbers) and the value
/// is read at that position of the sorted values. Every such read goes
/// through here, so there is one definition of the rank.
pub(super) fn nearest_rank_position(distinct: Expr, q: f64, alias: &str) -> Expr {
    let at_rank = quantile(distinct.clone(), q, alias);
    distinct.lt(at_rank).sum().alias(alias)
}

/// The nearest-rank `q` quantile of `values`, exactly (`None` when there
/// are none): read at [`nearest_rank_position`] among the positions of the
/// sorted values.
pub(super) fn quantile_of(mut values: Vec<i64>, q: f64) -> PolarsResult<Option<i64>> {
    if values.is_empty() {
        return Ok(None);
    }
    values.sort_unstable();
    let positions = df!("position" => (0..values.len() as u64).collect::<Vec<_>>())?;
    let rank = positions
        .lazy()
        .select([nearest_rank_position(col("position"), q, "rank")])
        .collect()?;
    let rank = u32_column(&rank, "rank")?.first().copied().flatten();
    Ok(rank.and_then(|r| values.get(r as usize).copied()))
}

/// Whether every group sum of `values` (nanoseconds) fits in an `i64`:
/// true when the sum of their magnitudes does, which holds for any real
/// input (it takes 292 years of summed time to fail).
pub(super) fn sums_fit(values: impl IntoIterator<Item = Nanos>) -> bool {
    let total: u128 = values
        .into_iter()
        .map(|v| u128::from(v.unsigned_abs()))
        .sum();
    total <= i64::MAX as u128
}

/// The per-group sum of the nanoseconds in `column`, named `alias`: exact,
/// in `i64`, when `exact` (see [`sums_fit`]); otherwise in `f64`, which is
/// approximate but, unlike polars' `i64` sum, cannot wrap around to a
/// negative. Read it back cast to `f64`.
pub(super) fn total_ns(column: &str, exact: bool, alias: &str) -> Expr {
    let values = if exact {
        col(column)
    } else {
        col(column).cast(DataType::Float64)
    };
    values.sum().alias(alias)
}

/// The unit of the longest value of `by` in each group, from a column
/// named as the span table's unit column.
pub(super) fn slowest_unit(by: &str) -> Expr {
    id_of_largest(SpanColumn::Unit.name(), by, "example")
}

/// The `id` of the row with the largest `by` in each group (nulls last,
/// ties to the first row), named `alias`: the example of a group.
pub(super) fn id_of_largest(id: &str, by: &str, alias: &str) -> Expr {
    // polars' `max_by` keeps the first row holding the maximum: a group's
    // rows are in frame order, so that is the first row, as a stable sort
    // would give, in one pass. Comparing every row with the maximum
    // instead built a boolean list per group (11% of a run's instructions
    // with the profile's use). But for a column it knows is sorted, polars
    // takes the last row of each group (the largest, when ascending, but
    // the last of a tie): the flag is cleared first, so ties go to the
    // first row whatever polars knows about `by`. A group whose `by` is all
    // null has no maximum: its first row is its example.
    let unsorted = AExprSorted {
        descending: None,
        nulls_last: None,
    };
    col(id)
        .max_by(col(by).set_sorted_flag(unsorted))
        .fill_null(col(id).first())
        .alias(alias)
}

/// The p50, p95 and p99 of `column`, named `{prefix}50`, `{prefix}95` and
/// `{prefix}99`.
pub(super) fn percentiles(column: &str, prefix: &str) -> [Expr; 3] {
    [0.50, 0.95, 0.99].map(|q| percentile(column, q, &format!("{prefix}{:.0}", q * 100.0)))
}

/// A column of a result frame as optional floats (nulls where a group had
/// nothing to measure).
pub(super) fn f64_column(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<f64>>> {
    let s = frame.column(name)?.cast(&DataType::Float64)?;
    Ok(s.f64()?.iter().collect())
}

/// A column of a result frame as optional `u32`s (symbol ids, counts).
pub(super) fn u32_column(frame: &DataFrame, name: &str) -> PolarsResult<Vec<Option<u32>>> {
    let s = frame.column(name)?.cast(&DataType::UInt32)?;
    Ok(s.u32()?.iter().collect())
}

fn operations(
    spans: &DataFrame,
    total: f64,
    label: &(dyn Fn(u32) -> String + Sync),
    strings: &Interner,
) -> PolarsResult<Vec<OperationStats>> {
    let sym = |id| resolve(strings, id);
    let exact = |c: &str| -> PolarsResult<bool> {
        Ok(sums_fit(spans.column(c)?.i64()?.into_no_null_iter()))
    };
    let [dur, slf, crit, err] = [
        SpanColumn::Duration,
        SpanColumn::SelfTime,
        SpanColumn::Critical,
        SpanColumn::Error,
    ]
    .map(SpanColumn::name);
    let (exact_dur, exact_self, exact_crit) = (exact(dur)?, exact(slf)?, exact(crit)?);
    // One packed key, not two columns: grouping by two row-encoded the
    // pair for every span, the largest allocation of the aggregation.
    let out = spans
        .clone()
        .lazy()
        .group_by([pair_key_of(SpanColumn::Service.col(), SpanColumn::Name.col()).alias(KEY)])
        .agg([
            len().alias("count"),
            percentile(dur, 0.50, "p50"),
            percentile(dur, 0.95, "p95"),
            percentile(dur, 0.99, "p99"),
            col(dur).max().alias("max"),
            total_ns(dur, exact_dur, "total"),
            total_ns(slf, exact_self, "self"),
            total_ns(crit, exact_crit, "crit"),
            col(err).sum().alias("errors"),
            slowest_unit(dur),
        ])
        .collect()?;
    let (service, name): (Vec<u32>, Vec<u32>) = out
        .column(KEY)?
        .u64()?
        .into_no_null_iter()
        .map(key_pair)
        .unzip();
    let count = out.column("count")?.cast(&DataType::UInt64)?;
    let count = count.u64()?;
    let f = |c: &str| -> PolarsResult<Vec<f64>> {
        let s = out.column(c)?.cast(&DataType::Float64)?;
        Ok(s.f64()?.into_no_null_iter().collect())
    };
    let (p50, p95, p99, max, tot, slf, crit) = (
        f("p50")?,
        f("p95")?,
        f("p99")?,
        f("max")?,
        f("total")?,
        f("self")?,
        f("crit")?,
    );
    let example = out.column("example")?.u32()?;
    let errors = out.column("errors")?.cast(&DataType::UInt64)?;
    let errors = errors.u64()?;
    let mut rows = Vec::with_capacity(out.height());
    for i in 0..out.height() {
        let to_ms = |v: f64| v / 1e6;
        rows.push(OperationStats {
            service: sym(service[i]).to_string(),
            operation: sym(name[i]).to_string(),
            count: count.get(i).unwrap_or(0),
            errors: errors.get(i).unwrap_or(0),
            p50_ms: to_ms(p50[i]),
            p95_ms: to_ms(p95[i]),
            p99_ms: to_ms(p99[i]),
            max_ms: to_ms(max[i]),
            total_ms: to_ms(tot[i]),
            self_ms: to_ms(slf[i]),
            self_share: share(to_ms(slf[i]), total),
            critical_ms: to_ms(crit[i]),
            critical_share: share(to_ms(crit[i]), total),
            example_trace_id: label(example.get(i).unwrap_or(0)),
        });
    }
    rows.sort_by(|a, b| {
        b.critical_ms
            .total_cmp(&a.critical_ms)
            .then_with(|| b.self_ms.total_cmp(&a.self_ms))
            .then_with(|| (&a.service, &a.operation).cmp(&(&b.service, &b.operation)))
    });
    Ok(rows)
}

fn services(spans: &DataFrame, total: f64, strings: &Interner) -> PolarsResult<Vec<ServiceStats>> {
    let sym = |id| resolve(strings, id);
    let exact = |c: &str| -> PolarsResult<bool> {
        Ok(sums_fit(spans.column(c)?.i64()?.into_no_null_iter()))
    };
    let [slf, crit] = [SpanColumn::SelfTime, SpanColumn::Critical].map(SpanColumn::name);
    let (exact_self, exact_crit) = (exact(slf)?, exact(crit)?);
    let out = spans
        .clone()
        .lazy()
        .group_by([SpanColumn::Service.col()])
        .agg([
            len().alias("spans"),
            total_ns(slf, exact_self, "self"),
            total_ns(crit, exact_crit, "crit"),
            SpanColumn::Error.col().sum().alias("errors"),
        ])
        .collect()?;
    let service = out.column(SpanColumn::Service.name())?.u32()?;
    let spans_col = out.column("spans")?.cast(&DataType::UInt64)?;
    let spans_n = spans_col.u64()?;
    let slf = out.column("self")?.cast(&DataType::Float64)?;
    let crit = out.column("crit")?.cast(&DataType::Float64)?;
    let (slf, crit) = (slf.f64()?, crit.f64()?);
    let errors = out.column("errors")?.cast(&DataType::UInt64)?;
    let errors = errors.u64()?;
    let mut rows: Vec<ServiceStats> = (0..out.height())
        .map(|i| {
            let self_ms = slf.get(i).unwrap_or(0.0) / 1e6;
            let critical_ms = crit.get(i).unwrap_or(0.0) / 1e6;
            ServiceStats {
                service: sym(service.get(i).unwrap_or(0)).to_string(),
                spans: spans_n.get(i).unwrap_or(0),
                errors: errors.get(i).unwrap_or(0),
                self_ms,
                self_share: share(self_ms, total),
                critical_ms,
                critical_share: share(critical_ms, total),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.critical_ms
            .total_cmp(&a.critical_ms)
            .then_with(|| a.service.cmp(&b.service))
    });
    Ok(rows)
}

fn hot_paths(
    strings: &Interner,
    bd: &Breakdown,
    label: &(dyn Fn(u32) -> String + Sync),
) -> PolarsResult<Vec<HotPath>> {
    // One key per unit: the id of its path's text (`service:operation`s
    // joined by a separator that cannot occur in a name). The text is made
    // once per distinct path of symbols, not once per unit (formatting it
    // per unit was 3.5% of a run's instructions), and paths are grouped by
    // text, so two whose names read the same stay one row.
    let mut by_symbols: FxHashMap<&[(Sym, Sym)], u32> = FxHashMap::default();
    let mut texts: DenseIds<String> = DenseIds::new();
    let keys: Vec<u32> = bd
        .units
        .iter()
        .map(|u| {
            *by_symbols.entry(&u.hot_path[..]).or_insert_with(|| {
                texts.id(u
                    .hot_path
                    .iter()
                    .map(|&(s, n)| format!("{}:{}", strings.resolve(s), strings.resolve(n)))
                    .collect::<Vec<_>>()
                    .join("\u{1f}"))
            })
        })
        .collect();
    let (dur, unit) = (SpanColumn::Duration.name(), SpanColumn::Unit.name());
    let frame = df!(
        "path" => keys,
        dur => bd.units.iter().map(|u| u.duration).collect::<Vec<_>>(),
        unit => (0..bd.units.len() as u32).collect::<Vec<_>>(),
    )?;
    let out = frame
        .lazy()
        .group_by([col("path")])
        .agg([
            len().alias("traces"),
            percentile(dur, 0.50, "p50"),
            percentile(dur, 0.99, "p99"),
            slowest_unit(dur),
        ])
        .collect()?;
    let path = out.column("path")?.u32()?;
    let traces = out.column("traces")?.cast(&DataType::UInt64)?;
    let traces = traces.u64()?;
    let p50 = out.column("p50")?.cast(&DataType::Float64)?;
    let p99 = out.column("p99")?.cast(&DataType::Float64)?;
    let (p50, p99) = (p50.f64()?, p99.f64()?);
    let example = out.column("example")?.u32()?;
    let n_units = bd.units.len() as f64;
    let mut rows: Vec<HotPath> = (0..out.height())
        .map(|i| {
            let key = path
                .get(i)
                .and_then(|id| texts.key(id))
                .map_or("", String::as_str);
            let n = traces.get(i).unwrap_or(0);
            HotPath {
                path: if key.is_empty() {
                    Vec::new()
                } else {
                    key.split('\u{1f}').map(str::to_string).collect()
                },
                traces: n,
                share: share(n as f64, n_units),
                p50_ms: p50.get(i).unwrap_or(0.0) / 1e6,
                p99_ms: p99.get(i).unwrap_or(0.0) / 1e6,
                example_trace_id: label(example.get(i).unwrap_or(0)),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.traces
            .cmp(&a.traces)
            .then_with(|| b.p99_ms.total_cmp(&a.p99_ms))
            .then_with(|| a.path.cmp(&b.path))
    });
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::breakdown::breakdown;
    use crate::analysis::select::{Selection, select};
    use crate::model::testutil::TraceBuilder;

    /// Rows over several tasks, keys recurring across their borders and
    /// new ones appearing late: the ids and keys are those of numbering
    /// every row on one core, in row order.
    #[test]
    fn rows_numbered_in_parallel_are_numbered_as_in_row_order() {
        let rows = 3 * ROWS_PER_TASK + 17;
        let key = |row: usize| (row * 7919 % 1000 + row / ROWS_PER_TASK * 300) as u64;
        let mut serial = DenseIds::new();
        let want: Vec<u32> = (0..rows).map(|row| serial.id(key(row))).collect();
        let (ids, numbered) = DenseIds::of_rows(rows, |range| range.map(key));
        assert!(ids == want, "the rows' ids differ from one core's");
        assert_eq!(numbered.into_keys(), serial.into_keys());
        let (none, empty) = DenseIds::<u64>::of_rows(0, |range| range.map(key));
        assert!(none.is_empty() && empty.into_keys().is_empty());
    }

    #[test]
    fn the_id_of_the_largest_is_the_first_row_holding_the_maximum() {
        let frame = df!(
            "group" => [1u32, 1, 1, 1, 2, 2, 3, 3],
            "id" => [10u32, 11, 12, 13, 20, 21, 30, 31],
            "by" => [Some(5i64), None, Some(9), Some(9), None, None, Some(-4), None],
        )
        .unwrap();
        // Ties go to the first row; a group of nulls gives its first row;
        // nulls never win over a value.
        assert_eq!(examples(frame), [Some(12), Some(20), Some(30)]);
    }

    /// Each group's [`id_of_largest`] of `by`, in group order.
    fn examples(frame: DataFrame) -> Vec<Option<u32>> {
        let got = frame
            .lazy()
            .group_by([col("group")])
            .agg([id_of_largest("id", "by", "example")])
            .sort(["group"], Default::default())
            .collect()
            .unwrap();
        u32_column(&got, "example").unwrap()
    }

    #[test]
    fn the_id_of_the_largest_is_the_first_row_also_when_by_is_known_sorted() {
        // polars takes a shortcut for a column it knows is sorted (the last
        // row of each group, for ascending): ties must still go to the
        // first row whatever polars knows about `by`.
        for descending in [false, true] {
            // Sorted by polars, so that it sets the flag.
            let by = Series::new("by".into(), [3i64, 1, 2, 1, 3, 2])
                .sort(SortOptions::default().with_order_descending(descending))
                .unwrap();
            assert!(
                !matches!(by.is_sorted_flag(), polars::series::IsSorted::Not),
                "polars knows it is sorted"
            );
            let mut frame = df!(
                "group" => [1u32, 1, 1, 1, 2, 2],
                "id" => [10u32, 11, 12, 13, 20, 21],
            )
            .unwrap();
            frame.with_column(by.into_column()).unwrap();
            // Ascending: groups hold 1, 1, 2, 2 and 3, 3; descending:
            // 3, 3, 2, 2 and 1, 1. Either way the first row of the largest.
            let want = if descending {
                [Some(10), Some(20)]
            } else {
                [Some(12), Some(20)]
            };
            assert_eq!(examples(frame), want, "descending: {descending}");
        }
    }

    /// The tables of every root of `set`, shares of their summed durations.
    fn tables_of(set: &crate::model::TraceSet) -> Tables {
        let units = select(set, &Selection::default());
        let bd = breakdown(set, &units, &Default::default());
        let total: i64 = bd.units.iter().map(|u| u.duration).sum();
        aggregate(&set.strings, &bd, total).unwrap()
    }

    /// Nearest rank, written out independently of polars.
    fn nearest_rank(sorted: &[i64], q: f64) -> i64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    #[test]
    fn percentiles_are_nearest_rank_for_many_sizes() {
        for n in [1usize, 2, 3, 7, 19, 20, 21, 99, 100, 101, 1000] {
            let mut b = TraceBuilder::new();
            let mut durs = Vec::new();
            for t in 0..n {
                // Scrambled durations so the input is not already sorted.
                let d = ((t * 7919) % 1009 + 1) as i64 * 1000;
                durs.push(d);
                b = b.trace(t as u128 + 1).span("root", None, 0, d);
            }
            let set = b.build_set();
            let tables = tables_of(&set);
            durs.sort();
            let op = &tables.operations[0];
            assert_eq!(op.count, n as u64);
            assert_eq!(
                op.p50_ms,
                nearest_rank(&durs, 0.50) as f64 / 1e6,
                "p50, n={n}"
            );
            assert_eq!(
                op.p95_ms,
                nearest_rank(&durs, 0.95) as f64 / 1e6,
                "p95, n={n}"
            );
            assert_eq!(
                op.p99_ms,
                nearest_rank(&durs, 0.99) as f64 / 1e6,
                "p99, n={n}"
            );
            assert_eq!(op.max_ms, *durs.last().unwrap() as f64 / 1e6);
        }
    }

    #[test]
    fn hot_paths_are_grouped_by_the_names_they_read() {
        // Traces 1 and 2 differ in symbols but read "a:b:c" alike, as the
        // report shows them; 3 and 4 share their symbols.
        let set = TraceBuilder::new()
            .trace(1)
            .span_in("a:b", "c", None, 0, 10)
            .trace(2)
            .span_in("a", "b:c", None, 0, 30)
            .trace(3)
            .span_in("x", "y", None, 0, 20)
            .trace(4)
            .span_in("x", "y", None, 0, 20)
            .trace(5)
            .span_in("z", "w", None, 0, 5)
            .build_set();
        let tables = tables_of(&set);
        let paths: Vec<(Vec<String>, u64)> = tables
            .hot_paths
            .iter()
            .map(|h| (h.path.clone(), h.traces))
            .collect();
        let path = |p: &str| vec![p.to_string()];
        assert_eq!(
            paths,
            [(path("a:b:c"), 2), (path("x:y"), 2), (path("z:w"), 1)]
        );
        // Its percentiles are over both traces: p99 is trace 2's duration.
        assert_eq!(tables.hot_paths[0].p99_ms, 30.0 / 1e6);
    }

    #[test]
    fn quantile_of_is_the_nearest_rank_value_exactly() {
        assert_eq!(quantile_of(Vec::new(), 0.5).unwrap(), None);
        // Past 2^53, where neighbouring values round to one float; repeats
        // take a rank each.
        let base = 1i64 << 60;
        for n in [1usize, 2, 3, 7, 20, 101] {
            let values: Vec<i64> = (0..n).map(|i| base + ((i * 7919) % 13) as i64).collect();
            let mut sorted = values.clone();
            sorted.sort_unstable();
            for q in [0.01, 0.5, 0.9, 0.95, 0.99, 1.0] {
                let got = quantile_of(values.clone(), q).unwrap();
                assert_eq!(got, Some(nearest_rank(&sorted, q)), "n={n} q={q}");
            }
        }
    }

    #[test]
    fn the_nearest_rank_position_counts_the_values_below_the_quantile() -> PolarsResult<()> {
        // Distinct numbers, not positions: the position is still the rank's.
        let frame = df!("unit" => [40u32, 10, 30, 20, 50])?;
        let out = frame
            .lazy()
            .select([
                nearest_rank_position(col("unit"), 0.5, "p50"),
                nearest_rank_position(col("unit"), 0.99, "p99"),
                nearest_rank_position(col("unit"), 0.2, "p20"),
            ])
            .collect()?;
        // Ranks ceil(q × 5): 3, 5 and 1.
        for (name, position) in [("p50", 2), ("p99", 4), ("p20", 0)] {
            assert_eq!(u32_column(&out, name)?, [Some(position)], "{name}");
        }
        // No values: position 0, which no value is read at.
        let empty = df!("unit" => Vec::<u32>::new())?
            .lazy()
            .select([nearest_rank_position(col("unit"), 0.5, "p50")])
            .collect()?;
        assert_eq!(u32_column(&empty, "p50")?, [Some(0)]);
        Ok(())
    }

    #[test]
    fn shares_and_examples() {
        // Two traces: root 0..100 with child 10..60 in "db"; root 0..300 alone.
        let set = TraceBuilder::new()
            .trace(1)
            .span_in("api", "root", None, 0, 100)
            .span_in("db", "q", Some("root"), 10, 60)
            .trace(2)
            .span_in("api", "root", None, 0, 300)
            .build_set();
        let t = tables_of(&set);
        let api = t.services.iter().find(|s| s.service == "api").unwrap();
        let db = t.services.iter().find(|s| s.service == "db").unwrap();
        assert_eq!(db.critical_ms, 50.0 / 1e6);
        assert!((db.critical_share - 50.0 / 400.0).abs() < 1e-12);
        assert!((api.self_share - 350.0 / 400.0).abs() < 1e-12);
        assert_eq!(t.services[0].service, "api");
        let root_op = t.operations.iter().find(|o| o.operation == "root").unwrap();
        assert_eq!(root_op.example_trace_id, TraceIdFmt(2).to_string());
        // Two shapes: api:root alone holds all of trace 2's path, while trace 1's
        // path is api:root then db:q.
        assert_eq!(t.hot_paths.len(), 2);
        assert!(
            t.hot_paths
                .iter()
                .any(|h| h.path == vec!["api:root", "db:q"])
        );
    }

    struct TraceIdFmt(u128);
    impl std::fmt::Display for TraceIdFmt {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{}", crate::model::TraceId(self.0))
        }
    }
}
