//! Benchmarks of the stages after ingest: grouping spans into trace graphs,
//! the per-trace breakdown (critical path, self time, detectors) and the
//! polars aggregation. Inputs are synthetic traces built in memory so that
//! each stage is measured alone; parsing is benchmarked in `ingest.rs`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

use critpath::analysis::breakdown::breakdown;
use critpath::analysis::detectors::FindingOptions;
use critpath::analysis::select::{Selection, select};
use critpath::model::{Interner, Quality, Span, SpanId, SpanKind, TraceId, TraceSet, TracedSpan};

/// `traces` traces of a fixed realistic shape: a root, 4 service calls,
/// each with 5 queries (26 spans a trace).
fn synthetic(traces: u64) -> (Vec<TracedSpan>, Interner) {
    let strings = Interner::new();
    let services: Vec<_> = ["gateway", "orders", "users", "payments", "stock"]
        .iter()
        .map(|s| strings.intern(s))
        .collect();
    let ops: Vec<_> = ["GET /orders/{id}", "load", "SELECT orders", "call"]
        .iter()
        .map(|s| strings.intern(s))
        .collect();
    let mut spans = Vec::with_capacity(traces as usize * 26);
    let mut next_id = 1u64;
    for t in 0..traces {
        let trace_id = TraceId(u128::from(t) + 1);
        let base = 1_700_000_000_000_000_000i64 + t as i64 * 1_000_000;
        let mut span = |parent: Option<u64>, svc: usize, op: usize, start: i64, end: i64| {
            let id = next_id;
            next_id += 1;
            spans.push(TracedSpan {
                trace_id,
                span: Span {
                    parent_id: parent.map(SpanId),
                    start: base + start,
                    end: base + end,
                    kind: SpanKind::Internal,
                    ..Span::new(SpanId(id), services[svc], ops[op])
                },
            });
            id
        };
        let root = span(None, 0, 0, 0, 100_000_000);
        for c in 0..4i64 {
            let cs = 1_000_000 + c * 24_000_000;
            let call = span(Some(root), 1 + c as usize, 1, cs, cs + 23_000_000);
            for q in 0..5i64 {
                let qs = cs + 500_000 + q * 4_000_000;
                span(Some(call), 1 + c as usize, 2, qs, qs + 3_500_000);
            }
        }
    }
    (spans, strings)
}

fn stages(c: &mut Criterion) {
    let mut group = c.benchmark_group("stages");
    group.sample_size(10);
    {
        let (spans, strings) = synthetic(10_000);
        let n = spans.len() as u64;
        group.throughput(Throughput::Elements(n));
        group.bench_with_input(BenchmarkId::new("build_graphs", n), &spans, |b, spans| {
            b.iter(|| TraceSet::build(spans.clone(), Interner::new(), Quality::default()))
        });
        let set = TraceSet::build(spans, strings, Quality::default());
        let units = select(&set, &Selection::default());
        let options = FindingOptions::default();
        group.bench_function(BenchmarkId::new("breakdown", n), |b| {
            b.iter(|| breakdown(&set, &units, &options))
        });
        let bd = breakdown(&set, &units, &options);
        let total: i64 = bd.units.iter().map(|u| u.duration).sum();
        group.bench_function(BenchmarkId::new("aggregate", n), |b| {
            b.iter(|| {
                critpath::analysis::aggregate::aggregate(&set.strings, &bd, total)
                    .expect("aggregates")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
