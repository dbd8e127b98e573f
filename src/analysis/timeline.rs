//! How the analysed traffic changed over time: per time bucket, traces,
//! root latency, errors and the critical time of the busiest services, and
//! the moments root latency shifted (change points), which the diagnosis
//! can take as the line between "before" and "during" an incident.
//!
//! Every per-bucket number is a polars aggregation over the units (one
//! row per analysed root) and their span rows, bucketed by the root's
//! start.

use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use super::aggregate::{key_pair, pair_key, percentile};
use super::breakdown::{Breakdown, UnitBreakdown};
use super::change_point;
use super::queues::HopRow;
use super::summary::rfc3339;
use crate::model::{Interner, Nanos, Sym};
use crate::table::{SpanColumn, owned_column};

/// How many services get a critical-time series.
pub const TOP_SERVICES: usize = 5;

/// The most buckets a timeline has: a narrower `--bucket` is widened.
pub const MAX_BUCKETS: usize = 10_000;

/// How many change points are looked for.
pub const MAX_CHANGE_POINTS: usize = 3;

/// Roughly how many buckets an automatic width aims at.
const TARGET_BUCKETS: i64 = 40;

/// What a series measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesMetric {
    /// Analysed roots starting in the bucket.
    Traces,
    /// Median root duration, ms.
    RootP50Ms,
    /// 99th percentile root duration, ms.
    RootP99Ms,
    /// Share of roots that failed (0..1).
    ErrorRate,
    /// A service's critical time per trace, ms.
    ServiceCriticalMs,
    /// A queue destination's 99th percentile wait, ms.
    QueueWaitP99Ms,
}

/// One series: a value per bucket (`None` where the bucket holds nothing
/// to measure).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Series {
    /// What it measures.
    pub metric: SeriesMetric,
    /// The service or destination it is about; empty for whole-traffic
    /// series.
    pub name: String,
    /// How reports title it.
    pub label: String,
    /// One value per bucket.
    pub values: Vec<Option<f64>>,
}

/// What shifted at a change point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShiftedSeries {
    /// Root latency, relative to each root operation's median.
    RootLatency,
    /// A queue destination's wait.
    QueueWait,
}

/// A moment a series shifted level.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChangePoint {
    /// When: the start of the first trace (or message) after the shift.
    pub at: String,
    /// The same, as Unix nanoseconds.
    pub at_unix_nano: i64,
    /// What shifted.
    pub series: ShiftedSeries,
    /// The destination, for a queue wait; empty otherwise.
    pub name: String,
    /// How many times larger the typical value became (geometric mean
    /// after / before; under 1 when it fell).
    pub ratio: f64,
    /// Welch's t of the shift (see [`change_point`]).
    pub z: f64,
    /// Roots (or messages) before and after, within the stretch the shift
    /// was found in.
    pub before: u64,
    /// See `before`.
    pub after: u64,
}

/// The timeline of an analysis.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Timeline {
    /// The width of a bucket.
    pub bucket_ms: f64,
    /// The start of the first bucket (RFC 3339).
    pub start: String,
    /// The same, as Unix nanoseconds.
    pub start_unix_nano: i64,
    /// How many buckets each series has.
    pub buckets: usize,
    /// The series, whole-traffic ones first.
    pub series: Vec<Series>,
    /// Root-latency (and queue-wait) shifts, in time order.
    pub change_points: Vec<ChangePoint>,
}

impl Timeline {
    /// The start of the next change point of the same series after `cp`,
    /// where the stretch `cp` began ends.
    pub fn next_shift_after(&self, cp: &ChangePoint) -> Option<Nanos> {
        self.change_points
            .iter()
            .filter(|c| c.series == cp.series && c.name == cp.name)
            .map(|c| c.at_unix_nano)
            .find(|&t| t > cp.at_unix_nano)
    }

    /// Where an incident starts: the earliest root-latency change point,
    /// else (work behind a queue, whose requests stay fast) the earliest
    /// queue-wait change point.
    pub fn incident_start(&self) -> Option<&ChangePoint> {
        let first = |series| self.change_points.iter().find(|c| c.series == series);
        first(ShiftedSeries::RootLatency).or_else(|| first(ShiftedSeries::QueueWait))
    }
}

/// A width for about 40 buckets over `range`: the smallest
/// round width (1, 2, 5 × a power of ten in ms up to a second, then the
/// usual clock steps) at least `range / TARGET_BUCKETS`.
pub fn auto_bucket(range: Nanos) -> Nanos {
    const MS: Nanos = 1_000_000;
    const S: Nanos = 1_000 * MS;
    const STEPS: [Nanos; 22] = [
        MS,
        2 * MS,
        5 * MS,
        10 * MS,
        20 * MS,
        50 * MS,
        100 * MS,
        200 * MS,
        500 * MS,
        S,
        2 * S,
        5 * S,
        10 * S,
        15 * S,
        30 * S,
        60 * S,
        120 * S,
        300 * S,
        600 * S,
        900 * S,
        1800 * S,
        3600 * S,
    ];
    let wanted = range.max(0) / TARGET_BUCKETS;
    STEPS
        .iter()
        .copied()
        .find(|&w| w >= wanted)
        // Past an hour a bucket, whole hours.
        .unwrap_or_else(|| (wanted / (3600 * S) + 1) * 3600 * S)
}

/// The timeline of `bd`'s units in buckets of `bucket` (automatic when
/// `None`); `None` when no unit was analysed.
pub fn build(
    strings: &Interner,
    bd: &Breakdown,
    bucket: Option<Nanos>,
) -> PolarsResult<Option<Timeline>> {
    let units = &bd.units;
    let hops = &bd.queues.hops;
    // A message is placed at when it was sent: a backlog starts when the
    // messages that will wait are published.
    let times = || {
        units
            .iter()
            .map(|u| u.start)
            .chain(hops.iter().map(|h| h.sent))
    };
    let (Some(first), Some(last)) = (times().min(), times().max()) else {
        return Ok(None);
    };
    if units.is_empty() {
        return Ok(None);
    }
    let range = last.saturating_sub(first);
    let width = bucket
        .filter(|&b| b > 0)
        .unwrap_or_else(|| auto_bucket(range))
        .max(range / MAX_BUCKETS as i64 + 1);
    // Buckets aligned to whole multiples of the width, as dashboards do.
    let origin = first.div_euclid(width).saturating_mul(width);
    let count = usize::try_from(last.saturating_sub(origin) / width + 1).unwrap_or(usize::MAX);
    let bucket_of = |t: Nanos| t.saturating_sub(origin) / width;
    let sym = |s: Sym| s.into_usize() as u32;

    // Each column gathered on every core: a unit is a few hundred bytes,
    // and eight passes over them on one core left the other idle for
    // 40 ms on 1.09 M spans.
    let floats = |f: &(dyn Fn(&UnitBreakdown) -> f64 + Sync)| -> Vec<f64> {
        units.par_iter().map(f).collect()
    };
    let frame = df!(
        "unit" => (0..units.len() as u32).collect::<Vec<_>>(),
        "start" => units.par_iter().map(|u| u.start).collect::<Vec<_>>(),
        "bucket" => units.par_iter().map(|u| bucket_of(u.start)).collect::<Vec<_>>(),
        "dur" => units.par_iter().map(|u| u.duration).collect::<Vec<_>>(),
        // Latency changes are relative: a root twice as slow is the same
        // shift at 10 ms and at 10 s.
        "log" => floats(&|u| (u.duration.max(1) as f64).ln()),
        "err" => floats(&|u| f64::from(u8::from(u.error_locus.is_some()))),
        "rsvc" => units.par_iter().map(|u| sym(u.features.root.0)).collect::<Vec<_>>(),
        "rop" => units.par_iter().map(|u| sym(u.features.root.1)).collect::<Vec<_>>(),
    )?;
    let per_bucket = frame
        .clone()
        .lazy()
        .group_by([col("bucket")])
        .agg([
            len().alias("traces"),
            percentile("dur", 0.50, "p50"),
            percentile("dur", 0.99, "p99"),
            col("err").mean().alias("errors"),
        ])
        .collect()?;
    let mut series = Vec::new();
    let column = |name: &str| -> PolarsResult<Vec<Option<f64>>> {
        let buckets = per_bucket.column("bucket")?.i64()?;
        let values = per_bucket.column(name)?.cast(&DataType::Float64)?;
        let values = values.f64()?;
        let mut out = vec![None; count];
        for (b, v) in buckets.into_no_null_iter().zip(values.iter()) {
            if let Some(slot) = usize::try_from(b).ok().and_then(|b| out.get_mut(b)) {
                *slot = v;
            }
        }
        Ok(out)
    };
    let to_ms = |v: Vec<Option<f64>>| v.into_iter().map(|x| x.map(|ns| ns / 1e6)).collect();
    for (metric, label, name, ms) in [
        (SeriesMetric::Traces, "traces", "traces", false),
        (SeriesMetric::RootP50Ms, "root p50", "p50", true),
        (SeriesMetric::RootP99Ms, "root p99", "p99", true),
        (SeriesMetric::ErrorRate, "errors", "errors", false),
    ] {
        let mut values = column(name)?;
        if metric == SeriesMetric::Traces {
            // A bucket nobody started a trace in had none, not "no data".
            values.iter_mut().for_each(|v| *v = Some(v.unwrap_or(0.0)));
        }
        series.push(Series {
            metric,
            name: String::new(),
            label: label.to_string(),
            values: if ms { to_ms(values) } else { values },
        });
    }
    series.extend(service_series(strings, bd, &frame, count)?);
    let (queue_series, queue_shifts) = queue_series(strings, hops, &bucket_of, count)?;
    series.extend(queue_series);

    let mut change_points = latency_shifts(&frame)?;
    change_points.extend(queue_shifts);
    change_points.sort_by(|a, b| (a.at_unix_nano, &a.name).cmp(&(b.at_unix_nano, &b.name)));
    Ok(Some(Timeline {
        bucket_ms: width as f64 / 1e6,
        start: rfc3339(origin),
        start_unix_nano: origin,
        buckets: count,
        series,
        change_points,
    }))
}

/// The `n` symbols of column `id` with the largest `value`, ties broken by
/// name (symbol numbers depend on the order threads met the strings).
fn largest(
    strings: &Interner,
    frame: &DataFrame,
    id: &str,
    value: &str,
    n: usize,
) -> PolarsResult<Vec<u32>> {
    let ids = frame.column(id)?.u32()?;
    let values = frame.column(value)?.f64()?;
    let name = |s: u32| Sym::try_from_usize(s as usize).map_or("", |s| strings.resolve(s));
    let mut all: Vec<(u32, f64)> = ids
        .into_no_null_iter()
        .zip(values.into_no_null_iter())
        .collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| name(a.0).cmp(name(b.0))));
    Ok(all.into_iter().take(n).map(|(s, _)| s).collect())
}

/// Critical time per trace of the [`TOP_SERVICES`] services with the most
/// critical time overall.
fn service_series(
    strings: &Interner,
    bd: &Breakdown,
    units: &DataFrame,
    count: usize,
) -> PolarsResult<Vec<Series>> {
    // A span's bucket is its unit's, and (bucket, service) is packed into
    // one u64 key: one single-key group_by over the span rows, where
    // joining the rows to the units and to the top services held two index
    // pairs and a gathered copy per span (the analysis's peak on the
    // benchmark set). Buckets are below MAX_BUCKETS + 1, so both halves fit.
    let unit_bucket = units.column("bucket")?.i64()?;
    let unit_bucket: Vec<u32> = unit_bucket.into_no_null_iter().map(|b| b as u32).collect();
    let keys: Vec<u64> = bd
        .spans
        .u32s(SpanColumn::Unit)?
        .zip(bd.spans.u32s(SpanColumn::Service)?)
        .map(|(unit, service)| pair_key(unit_bucket[unit as usize], service))
        .collect();
    let mut rows = bd.spans.frame().select([SpanColumn::Critical.name()])?;
    rows.with_column(owned_column("key", keys))?;
    let per_key = rows
        .lazy()
        .group_by([col("key")])
        .agg([SpanColumn::Critical.col().cast(DataType::Float64).sum()])
        .collect()?;
    let key_of = per_key.column("key")?.u64()?;
    let sums = df!(
        "bucket" => key_of.into_no_null_iter().map(|k| i64::from(key_pair(k).0)).collect::<Vec<_>>(),
        "service" => key_of.into_no_null_iter().map(|k| key_pair(k).1).collect::<Vec<_>>(),
        "crit" => per_key.column(SpanColumn::Critical.name())?.clone().take_materialized_series(),
    )?;
    let totals = sums
        .clone()
        .lazy()
        .group_by([col("service")])
        .agg([col("crit").sum()])
        .filter(col("crit").gt(lit(0.0)))
        .collect()?;
    let top = largest(strings, &totals, "service", "crit", TOP_SERVICES)?;
    let traces = units
        .clone()
        .lazy()
        .group_by([col("bucket")])
        .agg([len().cast(DataType::Float64).alias("traces")]);
    let top_frame = df!("service" => top.clone())?;
    let sums = sums
        .lazy()
        .join(
            top_frame.lazy(),
            [col("service")],
            [col("service")],
            JoinArgs::new(JoinType::Inner),
        )
        .join(
            traces,
            [col("bucket")],
            [col("bucket")],
            JoinArgs::new(JoinType::Inner),
        )
        .select([
            col("bucket"),
            col("service"),
            (col("crit") / col("traces") / lit(1e6)).alias("ms"),
        ])
        .collect()?;
    let buckets = sums.column("bucket")?.i64()?;
    let services = sums.column("service")?.u32()?;
    let values = sums.column("ms")?.f64()?;
    let mut out: Vec<Series> = top
        .iter()
        .map(|&s| {
            let name = Sym::try_from_usize(s as usize).map_or("", |s| strings.resolve(s));
            Series {
                metric: SeriesMetric::ServiceCriticalMs,
                name: name.to_string(),
                label: format!("{name} critical/trace"),
                values: vec![None; count],
            }
        })
        .collect();
    for ((b, s), v) in buckets
        .into_no_null_iter()
        .zip(services.into_no_null_iter())
        .zip(values.into_no_null_iter())
    {
        let (Some(i), Ok(b)) = (top.iter().position(|&t| t == s), usize::try_from(b)) else {
            continue;
        };
        if let Some(slot) = out[i].values.get_mut(b) {
            *slot = Some(v);
        }
    }
    Ok(out)
}

/// How many queue destinations get a wait series.
const TOP_DESTINATIONS: usize = 5;

/// The 99th percentile queue wait per bucket of the destinations with the
/// most deliveries, and where each one's wait shifted.
fn queue_series(
    strings: &Interner,
    hops: &[HopRow],
    bucket_of: &dyn Fn(Nanos) -> i64,
    count: usize,
) -> PolarsResult<(Vec<Series>, Vec<ChangePoint>)> {
    if hops.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let sent: Vec<Nanos> = hops.iter().map(|h| h.sent).collect();
    let frame = df!(
        "dest" => hops.iter().map(|h| h.destination.into_usize() as u32).collect::<Vec<_>>(),
        "sent" => sent.clone(),
        "bucket" => sent.iter().map(|&t| bucket_of(t)).collect::<Vec<_>>(),
        "wait" => hops.iter().map(|h| h.wait).collect::<Vec<_>>(),
        "row" => (0..hops.len() as u32).collect::<Vec<_>>(),
    )?;
    let counts = frame
        .clone()
        .lazy()
        .group_by([col("dest")])
        .agg([len().cast(DataType::Float64).alias("n")])
        .collect()?;
    let top = largest(strings, &counts, "dest", "n", TOP_DESTINATIONS)?;
    let per_bucket = frame
        .clone()
        .lazy()
        .group_by([col("dest"), col("bucket")])
        .agg([percentile("wait", 0.99, "p99")])
        .collect()?;
    let name = |d: u32| Sym::try_from_usize(d as usize).map_or("", |s| strings.resolve(s));
    let mut series: Vec<Series> = top
        .iter()
        .map(|&d| Series {
            metric: SeriesMetric::QueueWaitP99Ms,
            name: name(d).to_string(),
            label: format!("queue {} wait p99", name(d)),
            values: vec![None; count],
        })
        .collect();
    let dests = per_bucket.column("dest")?.u32()?;
    let buckets = per_bucket.column("bucket")?.i64()?;
    let p99 = per_bucket.column("p99")?.cast(&DataType::Float64)?;
    for ((d, b), v) in dests
        .into_no_null_iter()
        .zip(buckets.into_no_null_iter())
        .zip(p99.f64()?.iter())
    {
        let (Some(i), Ok(b)) = (top.iter().position(|&t| t == d), usize::try_from(b)) else {
            continue;
        };
        if let Some(slot) = series[i].values.get_mut(b) {
            *slot = v.map(|ns| ns / 1e6);
        }
    }
    // Change points of each destination's log wait in order of sending; a
    // wait under a microsecond counts as one (no wait at all).
    let mut shifts = Vec::new();
    for &d in &top {
        let ordered = frame
            .clone()
            .lazy()
            .filter(col("dest").eq(lit(d)))
            .sort_by_exprs(
                [col("sent"), col("row")],
                SortMultipleOptions::default().with_maintain_order(true),
            )
            .select([col("sent"), col("wait")])
            .collect()?;
        let at: Vec<Nanos> = ordered.column("sent")?.i64()?.into_no_null_iter().collect();
        let log: Vec<f64> = ordered
            .column("wait")?
            .i64()?
            .into_no_null_iter()
            .map(|w| (w.max(1_000) as f64).ln())
            .collect();
        shifts.extend(change_points(
            &at,
            &log,
            ShiftedSeries::QueueWait,
            name(d).to_string(),
        ));
    }
    Ok((series, shifts))
}

/// Where root latency shifted: change points of each root's log duration
/// less its root operation's mean, in start order, so a change in the
/// mix of operations is not taken for a change in latency.
fn latency_shifts(units: &DataFrame) -> PolarsResult<Vec<ChangePoint>> {
    let ordered = units
        .clone()
        .lazy()
        .with_column(
            // Less the mean, not the median: then each operation's values
            // average zero, and a change in the mix cannot move the level.
            (col("log") - col("log").mean().over([col("rsvc"), col("rop")])?).alias("rel"),
        )
        .sort_by_exprs(
            [col("start"), col("unit")],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .select([col("start"), col("rel")])
        .collect()?;
    let starts: Vec<i64> = ordered
        .column("start")?
        .i64()?
        .into_no_null_iter()
        .collect();
    let rel: Vec<f64> = ordered.column("rel")?.f64()?.into_no_null_iter().collect();
    Ok(change_points(
        &starts,
        &rel,
        ShiftedSeries::RootLatency,
        String::new(),
    ))
}

/// The change points of `values` (log scale, ordered by `starts`).
pub(crate) fn change_points(
    starts: &[Nanos],
    values: &[f64],
    series: ShiftedSeries,
    name: String,
) -> Vec<ChangePoint> {
    // A split between two equal times would put one moment on both sides.
    let cut = |k: usize| starts[k - 1] != starts[k];
    let found = change_point::shifts(values, MAX_CHANGE_POINTS, &cut);
    found
        .iter()
        .map(|s| ChangePoint {
            at: rfc3339(starts[s.index]),
            at_unix_nano: starts[s.index],
            series,
            name: name.clone(),
            ratio: (s.after - s.before).exp(),
            z: s.z,
            before: (s.index - s.from) as u64,
            after: (s.to - s.index) as u64,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_buckets_are_round_and_about_forty() {
        const S: Nanos = 1_000_000_000;
        assert_eq!(auto_bucket(0), 1_000_000);
        assert_eq!(auto_bucket(180 * S), 5 * S);
        assert_eq!(auto_bucket(3600 * S), 120 * S);
        assert_eq!(auto_bucket(10 * 86_400 * S), 7 * 3600 * S);
    }
}
