//! `analyze --export-parquet DIR`: the per-span and per-trace results as
//! Parquet files, the hand-over to a query engine when one machine is not
//! enough (shard inputs by trace id, run critpath per shard, then aggregate
//! the files in DuckDB, Spark or Trino; the README gives the SQL).
//!
//! Two files:
//! - `spans.parquet`: one row per span of every analysed root (or entry):
//!   `trace_id`, `root_span_id`, `span_id`, `parent_span_id`, `service`,
//!   `operation`, `start_unix_nano`, `duration_ns`, `self_ns`,
//!   `critical_ns`, `is_root`, `error`, `shape`;
//! - `traces.parquet`: one row per analysed root: `trace_id`,
//!   `root_span_id`, `service`, `operation`, `start_unix_nano`,
//!   `duration_ns`, `hot_path` (`service:operation` joined by ` > `).
//!
//! Durations are integer nanoseconds so that sums in another engine are
//! exact; a span that appears under two `--entry` roots appears twice, once
//! per root, as it does in critpath's own tables.

use std::fs::File;
use std::path::Path;

use anyhow::Context;
use polars::prelude::*;
use polars_io::parquet::write::ParquetWriter;

use crate::analysis::breakdown::Breakdown;
use crate::model::TraceSet;
use crate::table::SpanColumn;

/// Writes `spans.parquet` and `traces.parquet` into `dir` (created if need be).
pub fn export(set: &TraceSet, bd: &Breakdown, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut spans = span_frame(set, bd)?;
    write(&mut spans, &dir.join("spans.parquet"))?;
    let mut traces = trace_frame(set, bd)?;
    write(&mut traces, &dir.join("traces.parquet"))
}

fn write(frame: &mut DataFrame, path: &Path) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let written = ParquetWriter::new(file).finish(frame);
    anyhow::Context::with_context(written, || format!("writing {}", path.display()))?;
    Ok(())
}

fn span_frame(set: &TraceSet, bd: &Breakdown) -> PolarsResult<DataFrame> {
    let strings = &set.strings;
    let labels: Vec<String> = bd
        .units
        .iter()
        .map(|u| set.trace_label(&set.traces[u.unit.trace]))
        .collect();
    let n = bd.spans.len();
    let (mut trace_id, mut root_id, mut span_id, mut parent_id) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut service, mut operation, mut shape) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut start, mut is_root) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let rows = bd
        .spans
        .u32s(SpanColumn::Unit)?
        .zip(bd.spans.u32s(SpanColumn::Span)?);
    for (row_unit, row_span) in rows {
        let unit = bd.units[row_unit as usize].unit;
        let trace = &set.traces[unit.trace];
        let span = &trace.spans[row_span as usize];
        trace_id.push(labels[row_unit as usize].as_str());
        root_id.push(trace.spans[unit.root].span_id.to_string());
        span_id.push(span.span_id.to_string());
        parent_id.push(span.parent_id.map(|p| p.to_string()));
        service.push(strings.resolve(span.service));
        operation.push(strings.resolve(span.name));
        shape.push(strings.resolve(span.shape().text));
        start.push(span.start);
        is_root.push(row_span as usize == unit.root);
    }
    let column = |c: SpanColumn| bd.spans.frame().column(c.name()).cloned();
    let mut frame = df!(
        "trace_id" => trace_id,
        "root_span_id" => root_id,
        "span_id" => span_id,
        "parent_span_id" => parent_id,
        "service" => service,
        "operation" => operation,
        "start_unix_nano" => start,
    )?;
    // The times and the error flag are the span table's own columns.
    for (c, name) in [
        (SpanColumn::Duration, "duration_ns"),
        (SpanColumn::SelfTime, "self_ns"),
        (SpanColumn::Critical, "critical_ns"),
    ] {
        frame.with_column(column(c)?.with_name(name.into()))?;
    }
    frame.with_column(Column::new("is_root".into(), is_root))?;
    frame.with_column(column(SpanColumn::Error)?.with_name("error".into()))?;
    frame.with_column(Column::new("shape".into(), shape))?;
    Ok(frame)
}

fn trace_frame(set: &TraceSet, bd: &Breakdown) -> PolarsResult<DataFrame> {
    let strings = &set.strings;
    let mut cols: (Vec<String>, Vec<String>, Vec<&str>, Vec<&str>) = Default::default();
    let (mut start, mut duration, mut hot) = (Vec::new(), Vec::new(), Vec::new());
    for u in &bd.units {
        let trace = &set.traces[u.unit.trace];
        let root = &trace.spans[u.unit.root];
        cols.0.push(set.trace_label(trace));
        cols.1.push(root.span_id.to_string());
        cols.2.push(strings.resolve(root.service));
        cols.3.push(strings.resolve(root.name));
        start.push(root.start);
        duration.push(u.duration);
        let path: Vec<String> = u
            .hot_path
            .iter()
            .map(|&(s, o)| format!("{}:{}", strings.resolve(s), strings.resolve(o)))
            .collect();
        hot.push(path.join(" > "));
    }
    df!(
        "trace_id" => cols.0,
        "root_span_id" => cols.1,
        "service" => cols.2,
        "operation" => cols.3,
        "start_unix_nano" => start,
        "duration_ns" => duration,
        "hot_path" => hot,
    )
}
