//! Detectors: patterns worth fixing, found per unit and aggregated over
//! traces. Each detector is one file implementing [`Detector`]; adding one
//! means adding a file and a line in [`DETECTORS`].

mod fan_out;
mod kind;
mod n_plus_one;
mod sequential;
mod siblings;
#[cfg(test)]
mod tests;
mod uninstrumented;

use polars::prelude::*;

pub use kind::FindingKind;
pub use siblings::SiblingGroups;

use super::aggregate::{f64_column, id_of_largest, resolve, sums_fit, total_ns, u32_column};
use super::breakdown::{Breakdown, UnitView};
use super::results::Finding;
use crate::model::{Interner, Nanos, SpanId, Sym, Trace};

/// Thresholds of every detector; each is a command-line flag.
#[derive(Clone, Debug)]
pub struct FindingOptions {
    /// Least repeats under one parent for `n_plus_one`.
    pub n_plus_one_min: usize,
    /// Least summed duration of the repeats for `n_plus_one`.
    pub n_plus_one_min_total: Nanos,
    /// Least concurrent repeats for `fan_out`.
    pub fan_out_min: usize,
    /// Least duration of each call in a `sequential_calls` run.
    pub sequential_min_call: Nanos,
    /// Least saving (sum − max) for a `sequential_calls` run.
    pub sequential_min_savings: Nanos,
    /// Least share of the unit's duration that a parent span's own critical
    /// time must hold for `uninstrumented`.
    pub uninstrumented_min_share: f64,
}

impl Default for FindingOptions {
    fn default() -> Self {
        FindingOptions {
            n_plus_one_min: 5,
            n_plus_one_min_total: 50_000_000,
            fan_out_min: 10,
            sequential_min_call: 30_000_000,
            sequential_min_savings: 100_000_000,
            uninstrumented_min_share: 0.25,
        }
    }
}

/// One finding in one unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    /// The finding kind.
    pub kind: FindingKind,
    /// The service where it happens.
    pub service: Sym,
    /// The parent span's operation.
    pub parent_operation: Sym,
    /// The repeated shape, or the shapes of a run joined with ` | `.
    pub shape: String,
    /// Calls involved.
    pub count: u64,
    /// Summed duration of the calls.
    pub total: Nanos,
    /// Estimated latency saving.
    pub savings: Nanos,
    /// The spans involved (indices into the trace), for drill-down.
    pub spans: Vec<usize>,
}

/// The span ids a finding names: its spans, and the span they share as
/// parent (for `uninstrumented`, the span itself).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FindingIds {
    /// The spans involved.
    pub spans: Vec<SpanId>,
    /// Their parent.
    pub parent: Option<SpanId>,
}

/// The span ids `occurrence` names in `trace`.
pub fn finding_ids(trace: &Trace, occurrence: &Occurrence) -> FindingIds {
    // Uninstrumented findings name the span itself; the others' spans share
    // one parent.
    let parent = occurrence.spans.first().map(|&i| {
        if occurrence.kind == FindingKind::Uninstrumented {
            i
        } else {
            trace.parent(i).unwrap_or(i)
        }
    });
    FindingIds {
        spans: occurrence
            .spans
            .iter()
            .map(|&i| trace.spans[i].span_id)
            .collect(),
        parent: parent.map(|p| trace.spans[p].span_id),
    }
}

/// A pattern detector.
pub trait Detector: Sync {
    /// The `kind` its findings carry.
    fn kind(&self) -> FindingKind;
    /// Adds what it finds in one unit to `out`.
    fn detect(&self, view: &UnitView<'_>, options: &FindingOptions, out: &mut Vec<Occurrence>);
}

/// Every detector, in report order.
pub static DETECTORS: &[&dyn Detector] = &[
    &n_plus_one::NPlusOne,
    &fan_out::FanOut,
    &sequential::SequentialCalls,
    &uninstrumented::Uninstrumented,
];

/// Runs every detector on one unit.
pub fn detect_all(view: &UnitView<'_>, options: &FindingOptions) -> Vec<Occurrence> {
    let mut out = Vec::new();
    for detector in DETECTORS {
        detector.detect(view, options, &mut out);
    }
    out
}

/// `kind`'s index in [`FindingKind::ALL`].
fn kind_index(kind: FindingKind) -> u32 {
    FindingKind::ALL
        .iter()
        .position(|&k| k == kind)
        .expect("ALL holds every kind") as u32
}

/// Aggregates occurrences over units by kind, service, parent operation and
/// shape; largest estimated saving first.
pub fn aggregate(strings: &Interner, bd: &Breakdown) -> PolarsResult<Vec<Finding>> {
    // One row per occurrence, in unit order then the unit's own order (the
    // example is the first of the slowest units' occurrences). Symbol ids
    // and the kind's index as keys: two symbols never resolve to one string,
    // so this groups as the names would.
    let found = || {
        bd.units.iter().enumerate().flat_map(|(u, unit)| {
            unit.findings
                .iter()
                .enumerate()
                .map(move |(f, o)| (u as u32, f as u32, unit.duration, o))
        })
    };
    let sym = |f: fn(&Occurrence) -> Sym| {
        found()
            .map(|(.., o)| f(o).into_usize() as u32)
            .collect::<Vec<_>>()
    };
    let (exact_total, exact_savings) = (
        sums_fit(found().map(|(.., o)| o.total)),
        sums_fit(found().map(|(.., o)| o.savings)),
    );
    let frame = df!(
        "kind" => found().map(|(.., o)| kind_index(o.kind)).collect::<Vec<_>>(),
        "service" => sym(|o| o.service),
        "parent" => sym(|o| o.parent_operation),
        "shape" => found().map(|(.., o)| o.shape.as_str()).collect::<Vec<_>>(),
        "count" => found().map(|(.., o)| o.count).collect::<Vec<_>>(),
        "total" => found().map(|(.., o)| o.total).collect::<Vec<_>>(),
        "savings" => found().map(|(.., o)| o.savings).collect::<Vec<_>>(),
        "dur" => found().map(|(_, _, d, _)| d).collect::<Vec<_>>(),
        "unit" => found().map(|(u, ..)| u).collect::<Vec<_>>(),
        "finding" => found().map(|(_, f, ..)| f).collect::<Vec<_>>(),
    )?;
    let out = frame
        .lazy()
        .group_by([col("kind"), col("service"), col("parent"), col("shape")])
        .agg([
            col("count").max().alias("count"),
            col("unit").n_unique().alias("traces"),
            total_ns("total", exact_total, "total"),
            total_ns("savings", exact_savings, "savings"),
            // Both the first row holding the largest duration, so the same row.
            id_of_largest("unit", "dur", "example"),
            id_of_largest("finding", "dur", "example_finding"),
        ])
        .collect()?;
    let resolve = |id: Option<u32>| id.map_or("", |id| resolve(strings, id)).to_string();
    let kind = u32_column(&out, "kind")?;
    let (service, parent) = (u32_column(&out, "service")?, u32_column(&out, "parent")?);
    let shape = out.column("shape")?.str()?;
    let count = out.column("count")?.cast(&DataType::UInt64)?;
    let traces = out.column("traces")?.cast(&DataType::UInt64)?;
    let (count, traces) = (count.u64()?, traces.u64()?);
    let (total, savings) = (f64_column(&out, "total")?, f64_column(&out, "savings")?);
    let (example, finding) = (
        u32_column(&out, "example")?,
        u32_column(&out, "example_finding")?,
    );
    let mut findings = Vec::with_capacity(out.height());
    for i in 0..out.height() {
        let unit = &bd.units[example[i].unwrap_or(0) as usize];
        let ids = &unit.finding_ids[finding[i].unwrap_or(0) as usize];
        let kind = kind[i].and_then(|k| FindingKind::ALL.get(k as usize));
        findings.push(Finding {
            kind: *kind.expect("keyed by an index into FindingKind::ALL"),
            service: resolve(service[i]),
            parent_operation: resolve(parent[i]),
            shape: shape.get(i).unwrap_or("").to_string(),
            count: count.get(i).unwrap_or(0),
            traces: traces.get(i).unwrap_or(0),
            total_ms: total[i].unwrap_or(0.0) / 1e6,
            estimated_savings_ms: savings[i].unwrap_or(0.0) / 1e6,
            example_trace_id: unit.label(strings),
            example_span_ids: ids.spans.iter().map(|id| id.to_string()).collect(),
            example_parent_span_id: ids.parent.map(|p| p.to_string()).unwrap_or_default(),
        });
    }
    findings.sort_by(|a, b| {
        b.estimated_savings_ms
            .total_cmp(&a.estimated_savings_ms)
            .then_with(|| b.total_ms.total_cmp(&a.total_ms))
            .then_with(|| {
                (a.kind.as_str(), &a.service, &a.shape).cmp(&(
                    b.kind.as_str(),
                    &b.service,
                    &b.shape,
                ))
            })
            // The parent operation last: the order the groups had before
            // this sort when they were kept in a map keyed by (kind,
            // service, parent, shape).
            .then_with(|| a.parent_operation.cmp(&b.parent_operation))
    });
    Ok(findings)
}

#[cfg(test)]
mod aggregate_tests {
    use super::*;
    use crate::analysis::results::ms;
    use crate::model::{TraceId, TraceSet};

    /// `n` one-span traces broken down with no findings, unit `i` being
    /// trace `i + 1`; the tests then give them hand-made findings.
    fn units(n: usize) -> (TraceSet, Breakdown) {
        let (set, mut bd) = crate::analysis::breakdown::one_span_units(n);
        for u in &mut bd.units {
            (u.findings, u.finding_ids) = Default::default();
        }
        (set, bd)
    }

    /// Adds an occurrence to `unit`, naming span id `id`.
    fn add(
        unit: &mut crate::analysis::breakdown::UnitBreakdown,
        strings: &Interner,
        (kind, parent, shape): (FindingKind, &str, &str),
        (count, total, savings): (u64, Nanos, Nanos),
        id: u64,
    ) {
        let mut findings = std::mem::take(&mut unit.findings).into_vec();
        let mut ids = std::mem::take(&mut unit.finding_ids).into_vec();
        findings.push(Occurrence {
            kind,
            service: strings.intern("api"),
            parent_operation: strings.intern(parent),
            shape: shape.to_string(),
            count,
            total,
            savings,
            spans: Vec::new(),
        });
        ids.push(FindingIds {
            spans: vec![SpanId(id)],
            parent: Some(SpanId(id + 1000)),
        });
        (unit.findings, unit.finding_ids) = (findings.into(), ids.into());
    }

    #[test]
    fn no_findings_give_an_empty_table() {
        let (set, bd) = units(2);
        assert!(aggregate(&set.strings, &bd).unwrap().is_empty());
        assert!(
            aggregate(&set.strings, &Breakdown::default())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn groups_count_units_once_and_take_the_first_slowest_example() {
        let (set, mut bd) = units(3);
        let loop_ = (FindingKind::NPlusOne, "GET /a", "SELECT ?");
        let s = &set.strings;
        for (unit, d) in bd.units.iter_mut().zip([5, 9, 9]) {
            unit.duration = d;
        }
        add(&mut bd.units[0], s, loop_, (7, 70, 60), 1);
        // Twice in unit 2, which ties with unit 3 as the slowest.
        add(&mut bd.units[1], s, loop_, (5, 50, 40), 2);
        add(&mut bd.units[1], s, loop_, (6, 60, 50), 3);
        add(&mut bd.units[2], s, loop_, (5, 50, 40), 4);
        let out = aggregate(s, &bd).unwrap();
        assert_eq!(out.len(), 1);
        let f = &out[0];
        assert_eq!((f.count, f.traces), (7, 3));
        assert_eq!((f.total_ms, f.estimated_savings_ms), (ms(230), ms(190)));
        assert_eq!(f.example_trace_id, TraceId(2).to_string());
        assert_eq!(f.example_span_ids, [SpanId(2).to_string()]);
        assert_eq!(f.example_parent_span_id, SpanId(1002).to_string());
    }

    #[test]
    fn ties_in_saving_total_kind_service_and_shape_go_by_parent() {
        let (set, mut bd) = units(1);
        let s = &set.strings;
        for parent in ["GET /c", "GET /a", "GET /b"] {
            add(
                &mut bd.units[0],
                s,
                (FindingKind::FanOut, parent, "GET"),
                (10, 100, 90),
                1,
            );
        }
        add(
            &mut bd.units[0],
            s,
            (FindingKind::FanOut, "GET /z", "GET"),
            (10, 100, 95),
            1,
        );
        let out = aggregate(s, &bd).unwrap();
        let parents: Vec<&str> = out.iter().map(|f| f.parent_operation.as_str()).collect();
        assert_eq!(parents, ["GET /z", "GET /a", "GET /b", "GET /c"]);
    }

    #[test]
    fn sums_beyond_i64_are_summed_in_f64() {
        // As in every other table: approximate, never wrapped or clamped.
        let (set, mut bd) = units(2);
        for unit in &mut bd.units {
            let key = (FindingKind::SequentialCalls, "GET /a", "a | b");
            add(unit, &set.strings, key, (2, Nanos::MAX, 1), 1);
        }
        let out = aggregate(&set.strings, &bd).unwrap();
        assert_eq!(out[0].total_ms, 2.0 * Nanos::MAX as f64 / 1e6);
        assert_eq!(out[0].estimated_savings_ms, ms(2));
    }
}
