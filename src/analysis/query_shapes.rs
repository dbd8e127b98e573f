//! Time per query shape: database spans grouped by calling service, system
//! and normalised statement ("83% of the task is three DISTINCT COUNT
//! queries").

use polars::prelude::*;

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
    // Symbol ids as keys; u32::MAX stands for "no system".
    let frame = df!(
        "service" => q.iter().map(|r| r.service.into_usize() as u32).collect::<Vec<_>>(),
        "system" => q.iter().map(|r| r.system.map_or(u32::MAX, |s| s.into_usize() as u32)).collect::<Vec<_>>(),
        "shape" => q.iter().map(|r| r.shape.into_usize() as u32).collect::<Vec<_>>(),
        "dur" => q.iter().map(|r| r.duration).collect::<Vec<_>>(),
        "unit" => q.iter().map(|r| r.unit).collect::<Vec<_>>(),
    )?;
    let exact = super::aggregate::sums_fit(q.iter().map(|r| r.duration));
    let out = frame
        .lazy()
        .group_by([col("service"), col("system"), col("shape")])
        .agg([
            len().alias("count"),
            col("dur").mean().alias("avg"),
            super::aggregate::percentile("dur", 0.95, "p95"),
            super::aggregate::total_ns("dur", exact, "total"),
            super::aggregate::slowest_unit("dur"),
        ])
        .collect()?;
    let resolve = |id: Option<u32>| match id.and_then(|i| Sym::try_from_usize(i as usize)) {
        Some(sym) if id != Some(u32::MAX) => strings.resolve(sym).to_string(),
        _ => String::new(),
    };
    let (service, system, shape) = (
        out.column("service")?.u32()?,
        out.column("system")?.u32()?,
        out.column("shape")?.u32()?,
    );
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
            QueryShape {
                service: resolve(service.get(i)),
                system: resolve(system.get(i)),
                shape: resolve(shape.get(i)),
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
            .then_with(|| (&a.service, &a.shape).cmp(&(&b.service, &b.shape)))
    });
    Ok(rows)
}
