//! The `errors` section: units grouped by where their failure happened
//! (their error locus, see [`super::error_locus`]), most traces first.

use polars::prelude::*;

use super::aggregate::{resolve, slowest_unit, u32_column};
use super::breakdown::Breakdown;
use super::results::ErrorLocus;
use crate::model::Interner;
use crate::table::SpanColumn;

/// Groups every failed unit by its locus `service:operation`.
pub fn aggregate(strings: &Interner, bd: &Breakdown) -> PolarsResult<Vec<ErrorLocus>> {
    // One row per failed unit; symbol ids as keys (two symbols never
    // resolve to one string, so this groups as the names would).
    let failed = || {
        bd.units
            .iter()
            .enumerate()
            .filter_map(|(i, u)| u.error_locus.map(|l| (i as u32, u.duration, l)))
    };
    // Columns named as in the span table: the locus span's service and
    // operation, the unit's duration and index (which `slowest_unit` reads).
    let [service, name, dur, unit] = [
        SpanColumn::Service,
        SpanColumn::Name,
        SpanColumn::Duration,
        SpanColumn::Unit,
    ]
    .map(SpanColumn::name);
    let frame = df!(
        service => failed().map(|(_, _, l)| l.service.into_usize() as u32).collect::<Vec<_>>(),
        name => failed().map(|(_, _, l)| l.name.into_usize() as u32).collect::<Vec<_>>(),
        "hung" => failed().map(|(_, _, l)| u32::from(l.hung)).collect::<Vec<_>>(),
        dur => failed().map(|(_, d, _)| d).collect::<Vec<_>>(),
        unit => failed().map(|(i, _, _)| i).collect::<Vec<_>>(),
    )?;
    let out = frame
        .lazy()
        .group_by([col(service), col(name)])
        .agg([
            len().alias("traces"),
            col("hung").sum().alias("hung"),
            slowest_unit(dur),
        ])
        .collect()?;
    let resolve = |id: Option<u32>| id.map_or("", |id| resolve(strings, id)).to_string();
    let (service, name) = (u32_column(&out, service)?, u32_column(&out, name)?);
    let traces = out.column("traces")?.cast(&DataType::UInt64)?;
    let hung = out.column("hung")?.cast(&DataType::UInt64)?;
    let (traces, hung) = (traces.u64()?, hung.u64()?);
    let example = u32_column(&out, "example")?;
    let mut loci: Vec<ErrorLocus> = (0..out.height())
        .map(|i| ErrorLocus {
            service: resolve(service[i]),
            operation: resolve(name[i]),
            traces: traces.get(i).unwrap_or(0),
            hung: hung.get(i).unwrap_or(0),
            example_trace_id: bd.units[example[i].unwrap_or(0) as usize].label(strings),
        })
        .collect();
    loci.sort_by(|a, b| {
        b.traces
            .cmp(&a.traces)
            .then_with(|| (&a.service, &a.operation).cmp(&(&b.service, &b.operation)))
    });
    Ok(loci)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::breakdown::LocusObs;
    use crate::model::{TraceId, TraceSet};

    /// `n` one-span traces broken down, unit `i` being trace `i + 1`.
    fn units(n: usize) -> (TraceSet, Breakdown) {
        let (set, bd) = crate::analysis::breakdown::one_span_units(n);
        (set, bd)
    }

    #[test]
    fn no_failures_give_an_empty_table() {
        let (set, mut bd) = units(2);
        for u in &mut bd.units {
            u.error_locus = None;
        }
        assert!(aggregate(&set.strings, &bd).unwrap().is_empty());
        assert!(
            aggregate(&set.strings, &Breakdown::default())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn loci_count_traces_and_hangs_with_the_first_slowest_example() {
        let (set, mut bd) = units(6);
        let locus = |service: &str, name: &str, hung: bool| LocusObs {
            service: set.strings.intern(service),
            name: set.strings.intern(name),
            hung,
        };
        let loci = [
            Some(locus("db", "query", false)),
            Some(locus("api", "GET", true)),
            None,
            Some(locus("api", "GET", false)),
            Some(locus("api", "GET", true)),
            Some(locus("api", "POST", false)),
        ];
        for ((unit, l), d) in bd.units.iter_mut().zip(loci).zip([1, 4, 9, 7, 7, 2]) {
            unit.error_locus = l;
            unit.duration = d;
        }
        let out = aggregate(&set.strings, &bd).unwrap();
        let summary: Vec<_> = out
            .iter()
            .map(|l| (l.service.as_str(), l.operation.as_str(), l.traces, l.hung))
            .collect();
        // Most traces first, then by name.
        assert_eq!(
            summary,
            [
                ("api", "GET", 3, 2),
                ("api", "POST", 1, 0),
                ("db", "query", 1, 0)
            ]
        );
        // Units 4 and 5 tie at 7: the first of them.
        assert_eq!(out[0].example_trace_id, TraceId(4).to_string());
        assert_eq!(out[2].example_trace_id, TraceId(1).to_string());
    }
}
