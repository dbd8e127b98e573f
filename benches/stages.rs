//! Criterion benches of the stages on realistic generated input (the same
//! load model as `cargo run --example generate -- --traces N`): parsing per
//! input format (beside `json_floor`, serde_json merely skipping the same
//! JSON bytes, the least any serde-based reader can take), shaping database
//! statements, and the critical path of every trace. The other stages
//! (graph build, breakdown, aggregation) are in `benches/pipeline.rs`.
//!
//! Whole-process throughput and peak memory: `benches/throughput.sh`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use critpath::analysis::critical_path::critical_path;
use critpath::ingest::{Input, Sink, detect};
use critpath::model::{Interner, Quality, TraceSet};
use critpath::normalize::statement_shape;
use critpath_gen::{load, writers};

/// Traces per input: ~10 spans each, enough to be past start-up effects.
const TRACES: u64 = 5_000;

fn generated(format: writers::Format) -> Vec<u8> {
    let mut bytes = Vec::new();
    load::write(TRACES, format, 7, &mut bytes).expect("generates");
    bytes
}

fn parse<'s>(bytes: &[u8], strings: &'s Interner) -> Sink<'s> {
    let input = Input {
        name: "bench",
        bytes,
        window: false,
        pieces: None,
        line_ends: None,
    };
    let mut sink = Sink::new(input.name, strings);
    let reader = detect(bytes, None).expect("recognised");
    reader.read(&input, &mut sink).expect("reads");
    sink
}

fn parsing(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    group.sample_size(10);
    for format in writers::Format::ALL {
        let bytes = generated(format);
        let spans = parse(&bytes, &Interner::new()).spans.len() as u64;
        group.throughput(Throughput::Elements(spans));
        group.bench_with_input(
            BenchmarkId::from_parameter(format.name()),
            &bytes,
            |b, bytes| b.iter(|| parse(bytes, &Interner::new()).spans.len()),
        );
    }
    group.finish();
}

/// serde_json's parse of `bytes` into nothing (`IgnoredAny`): the whole
/// document, or each line of JSON lines.
fn skip_json(bytes: &[u8]) -> usize {
    use serde::de::IgnoredAny;
    if serde_json::from_slice::<IgnoredAny>(bytes).is_ok() {
        return 1;
    }
    bytes
        .split(|&b| b == b'\n')
        .filter(|line| serde_json::from_slice::<IgnoredAny>(line).is_ok())
        .count()
}

/// The JSON formats' bytes skipped by serde_json, in spans per second like
/// `parse`: how far a reader is from the parser's own floor.
fn json_floor(c: &mut Criterion) {
    let mut group = c.benchmark_group("json_floor");
    group.sample_size(10);
    for format in writers::Format::ALL {
        if format == writers::Format::OtlpProto {
            continue;
        }
        let bytes = generated(format);
        let spans = parse(&bytes, &Interner::new()).spans.len() as u64;
        assert!(skip_json(&bytes) > 0, "{} is JSON", format.name());
        group.throughput(Throughput::Elements(spans));
        group.bench_with_input(
            BenchmarkId::from_parameter(format.name()),
            &bytes,
            |b, bytes| b.iter(|| skip_json(bytes)),
        );
    }
    group.finish();
}

fn critical_paths(c: &mut Criterion) {
    let bytes = generated(writers::Format::OtlpJson);
    let strings = Interner::new();
    let read = parse(&bytes, &strings).spans;
    let spans = read.len() as u64;
    let set = TraceSet::build(read, strings, Quality::default());
    let mut group = c.benchmark_group("critical_path");
    group.sample_size(10);
    group.throughput(Throughput::Elements(spans));
    group.bench_function("every_root", |b| {
        b.iter(|| {
            set.traces
                .iter()
                .flat_map(|t| t.roots.iter().map(move |&r| critical_path(t, r).len()))
                .sum::<usize>()
        })
    });
    group.finish();
}

/// Statements as the generator writes them: every one distinct, as
/// statements with inlined literals are, so no cache helps.
fn statements() -> Vec<String> {
    (0..2_000u64)
        .map(|i| match i % 4 {
            0 => format!(
                "SELECT s.user_id, s.scopes, s.expires_at FROM sessions s WHERE s.token_hash = '{:016x}' AND s.revoked_at IS NULL",
                i.wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ),
            1 => format!(
                "SELECT p.id, p.sku, p.name, p.description, p.price_cents, p.currency, p.brand_id FROM products p WHERE p.id = {i}"
            ),
            2 => format!(
                "UPDATE notifications SET status = 'sent', sent_at = now() WHERE id = {}",
                i * 7919
            ),
            _ => format!(
                "INSERT INTO order_items (order_id, product_id, quantity, price_cents) VALUES ({i}, {}, 2, 1999), ({i}, {}, 1, 250)",
                i + 1,
                i + 2
            ),
        })
        .collect()
}

fn statement_shapes(c: &mut Criterion) {
    let statements = statements();
    let mut group = c.benchmark_group("shape");
    group.throughput(Throughput::Elements(statements.len() as u64));
    group.bench_function("sql", |b| {
        b.iter(|| {
            statements
                .iter()
                .map(|s| statement_shape(Some("postgresql"), s).len())
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    parsing,
    json_floor,
    statement_shapes,
    critical_paths
);
criterion_main!(benches);
