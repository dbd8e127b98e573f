//! Time per query shape: database spans grouped by calling service, system
//! and normalised statement ("83% of the task is three DISTINCT COUNT
//! queries").

use polars::prelude::*;

use super::aggregate::DenseIds;
use super::breakdown::Breakdown;
use super::results::{QueryShape, ms, share};
use crate::model::{Interner, Sym};

/// Aggregates every database span by shape, largest total first.
pub fn aggregate(
    strings: &Interner,
    bd: &Breakdown,
    total_root: i64,
) -> PolarsResult<Vec<QueryShape>> {
    let q = &bd.queries;
    if q.is_empty() {
        return Ok(Vec::new());
    }
    // Each (service, system, shape) by a dense id: polars groups by one
    // integer column, where grouping by the three row-encoded every query
    // (on 450,000 queries it held 40 MiB, 24 MiB by id, and took 17-68 ms,
    // 11 ms by id).
    let (group, keys) = DenseIds::of_rows(q.len(), |rows| {
        q[rows].iter().map(|r| (r.service, r.system, r.shape))
    });
    let frame = df!(
        "group" => group,
        "dur" => q.iter().map(|r| r.duration).collect::<Vec<_>>(),
        "unit" => q.iter().map(|r| r.unit).collect::<Vec<_>>(),
    )?;
    let exact = super::aggregate::sums_fit(q.iter().map(|r| r.duration));
    let out = frame
        .lazy()
        .group_by([col("group")])
        .agg([
            len().alias("count"),
            col("dur").mean().alias("avg"),
            super::aggregate::percentile("dur", 0.95, "p95"),
            super::aggregate::total_ns("dur", exact, "total"),
            super::aggregate::slowest_unit("dur"),
        ])
        .collect()?;
    let name = |sym: Sym| strings.resolve(sym).to_string();
    let groups = keys.keys_of(out.column("group")?.u32()?.into_no_null_iter())?;
    let count = out.column("count")?.cast(&DataType::UInt64)?;
    let count = count.u64()?;
    let avg = out.column("avg")?.cast(&DataType::Float64)?;
    let p95 = out.column("p95")?.cast(&DataType::Float64)?;
    let (avg, p95) = (avg.f64()?, p95.f64()?);
    let total = out.column("total")?.cast(&DataType::Float64)?;
    let total = total.f64()?;
    let example = out.column("example")?.u32()?;
    let whole = ms(total_root);
    let mut rows: Vec<QueryShape> = (0..out.height())
        .map(|i| {
            let total_ms = total.get(i).unwrap_or(0.0) / 1e6;
            let unit = example.get(i).unwrap_or(0) as usize;
            let (service, system, shape) = groups[i];
            QueryShape {
                service: name(service),
                system: system.map_or_else(String::new, name),
                shape: name(shape),
                count: count.get(i).unwrap_or(0),
                avg_ms: avg.get(i).unwrap_or(0.0) / 1e6,
                p95_ms: p95.get(i).unwrap_or(0.0) / 1e6,
                total_ms,
                share: share(total_ms, whole),
                example_trace_id: bd.units[unit].label(strings),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.total_ms
            .total_cmp(&a.total_ms)
            .then_with(|| (&a.service, &a.shape, &a.system).cmp(&(&b.service, &b.shape, &b.system)))
    });
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{breakdown, select};
    use crate::model::testutil::TraceBuilder;

    #[test]
    fn one_row_per_service_system_and_shape() {
        // The same statement shape from one service on two systems, with
        // equal totals (so only the system orders them), and another shape.
        let set = TraceBuilder::new()
            .trace(1)
            .span("handler", None, 0, 1_000)
            .span("q1", Some("handler"), 0, 100)
            .db("postgresql", "SELECT * FROM t WHERE id = 1")
            .span("q2", Some("handler"), 100, 200)
            .db("postgresql", "SELECT * FROM t WHERE id = 2")
            .span("q3", Some("handler"), 200, 400)
            .db("mysql", "SELECT * FROM t WHERE id = 3")
            .span("q4", Some("handler"), 400, 900)
            .db("mysql", "DELETE FROM t WHERE id = 4")
            .build_set();
        let units = select::select(&set, &select::Selection::default());
        let bd = breakdown::breakdown(&set, &units, &Default::default());
        let rows = aggregate(&set.strings, &bd, bd.total_root()).unwrap();
        let got: Vec<(&str, &str, u64, f64)> = rows
            .iter()
            .map(|r| (r.system.as_str(), r.shape.as_str(), r.count, r.total_ms))
            .collect();
        let select = "SELECT * FROM t WHERE id = %s";
        assert_eq!(
            got,
            [
                ("mysql", "DELETE FROM t WHERE id = %s", 1, 500e-6),
                ("mysql", select, 1, 200e-6),
                ("postgresql", select, 2, 200e-6),
            ]
        );
    }
}
