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
use std::ops::Range;
use std::path::Path;

use anyhow::Context;
use polars::prelude::*;
use polars_io::parquet::write::ParquetWriter;

use crate::analysis::breakdown::Breakdown;
use crate::model::{Interner, SpanId, Sym};
use crate::table::{ExportColumns, SpanColumn, SpanColumns, SpanTable};

/// Writes `spans.parquet` and `traces.parquet` into `dir` (created if need
/// be), from the breakdown's span table and units alone: the traces may be
/// gone (freed after the per-trace stage, or read from a spill). The table
/// must have been built with [`ExportColumns::Keep`].
pub fn export(strings: &Interner, bd: &Breakdown, dir: &Path) -> anyhow::Result<()> {
    let frames = Frames::of(strings, bd)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let per_unit = frames.per_unit()?;
    write(&dir.join("spans.parquet"), bd.spans.len(), &|rows| {
        frames.spans(&per_unit, rows)
    })?;
    let traces = frames.traces(per_unit)?;
    write(&dir.join("traces.parquet"), traces.height(), &|rows| {
        Ok(traces.slice(rows.start as i64, rows.len()))
    })
}

/// The most rows a file's frame is built for at once, and so a row group's
/// size: the text columns of a batch (ids and names as strings, about 300
/// bytes a row in all) are built, written and freed before the next, so
/// the export adds tens of megabytes to a run, not 300 bytes a span.
const BATCH_ROWS: usize = 1 << 17;

/// Writes the `rows` rows `batch` makes, [`BATCH_ROWS`] at a time, to
/// `path` (one row group each).
fn write(
    path: &Path,
    rows: usize,
    batch: &dyn Fn(Range<usize>) -> PolarsResult<DataFrame>,
) -> anyhow::Result<()> {
    write_in(path, rows, BATCH_ROWS, batch)
}

/// [`write()`], `size` rows a batch.
fn write_in(
    path: &Path,
    rows: usize,
    size: usize,
    batch: &dyn Fn(Range<usize>) -> PolarsResult<DataFrame>,
) -> anyhow::Result<()> {
    let written = || -> anyhow::Result<()> {
        let file = File::create(path)?;
        // The first batch, empty if there are no rows, gives the schema.
        let first = batch(0..rows.min(size))?;
        let mut writer = ParquetWriter::new(file).batched(first.schema())?;
        writer.write_batch(&first)?;
        drop(first);
        for start in (size..rows).step_by(size) {
            writer.write_batch(&batch(start..rows.min(start + size))?)?;
        }
        writer.finish()?;
        Ok(())
    };
    written().with_context(|| format!("writing {}", path.display()))
}

/// What both files are made of: the span table, each unit's root row in
/// it, and the strings its symbol columns name.
struct Frames<'a> {
    strings: &'a Interner,
    bd: &'a Breakdown,
    table: DataFrame,
    /// Per row, whether its span is its unit's root.
    is_root: Vec<bool>,
    /// Per unit, the row of its root.
    roots: IdxCa,
    /// Every interned string, at its symbol's index: a symbol column taken
    /// from it is that column's text.
    names: Series,
}

impl<'a> Frames<'a> {
    fn of(strings: &'a Interner, bd: &'a Breakdown) -> anyhow::Result<Frames<'a>> {
        let table = if bd.spans.has(SpanColumn::SpanId) {
            bd.spans.frame().clone()
        } else {
            // A breakdown without spans may hold a default table; one with
            // spans lacks the columns only if its caller did not keep them.
            anyhow::ensure!(
                bd.spans.is_empty(),
                "internal error: the span table was built without the Parquet export's columns"
            );
            SpanTable::from_columns(SpanColumns::new(ExportColumns::Keep))
                .frame()
                .clone()
        };
        let u32s = |c: SpanColumn| -> PolarsResult<UInt32Chunked> {
            Ok(table.column(c.name())?.u32()?.clone())
        };
        let (rows, spans) = (u32s(SpanColumn::Unit)?, u32s(SpanColumn::Span)?);
        let (rows, spans) = (rows.into_no_null_iter(), spans.into_no_null_iter());
        let mut is_root = Vec::with_capacity(table.height());
        let mut root_row = vec![None; bd.units.len()];
        for (row, (unit, span)) in rows.zip(spans).enumerate() {
            let root = bd.units[unit as usize].unit.root == span as usize;
            if root {
                root_row[unit as usize].get_or_insert(row as IdxSize);
            }
            is_root.push(root);
        }
        let root_row: Vec<IdxSize> = root_row
            .into_iter()
            .enumerate()
            .map(|(unit, row)| {
                row.with_context(|| format!("internal error: unit {unit} has no row of its root"))
            })
            .collect::<anyhow::Result<_>>()?;
        let names: Vec<&str> = (0..strings.len())
            .map(|i| Sym::try_from_usize(i).map_or("", |s| strings.resolve(s)))
            .collect();
        Ok(Frames {
            strings,
            bd,
            table,
            is_root,
            roots: IdxCa::from_vec("".into(), root_row),
            names: Series::new("".into(), names),
        })
    }

    /// `rows` of `spans.parquet`: one row per row of the span table.
    fn spans(&self, per_unit: &DataFrame, rows: Range<usize>) -> PolarsResult<DataFrame> {
        let table = self.table.slice(rows.start as i64, rows.len());
        let column = |c: SpanColumn| table.column(c.name()).cloned();
        let unit = column(SpanColumn::Unit)?;
        let unit = unit.u32()?;
        let trace_id = per_unit
            .column("trace_id")?
            .as_materialized_series()
            .take(unit)?;
        let root_id = per_unit
            .column("root_span_id")?
            .as_materialized_series()
            .take(unit)?;
        let times = [
            (SpanColumn::Duration, "duration_ns"),
            (SpanColumn::SelfTime, "self_ns"),
            (SpanColumn::Critical, "critical_ns"),
        ];
        let mut columns = vec![
            trace_id.into_column(),
            root_id.into_column(),
            ids(&column(SpanColumn::SpanId)?, "span_id")?,
            ids(&column(SpanColumn::ParentId)?, "parent_span_id")?,
            self.text(&column(SpanColumn::Service)?, "service")?,
            self.text(&column(SpanColumn::Name)?, "operation")?,
            column(SpanColumn::Start)?.with_name("start_unix_nano".into()),
        ];
        for (c, name) in times {
            columns.push(column(c)?.with_name(name.into()));
        }
        let is_root = &self.is_root[rows];
        columns.push(Column::new("is_root".into(), is_root));
        columns.push(column(SpanColumn::Error)?.with_name("error".into()));
        columns.push(self.text(&column(SpanColumn::Shape)?, "shape")?);
        DataFrame::new_infer_height(columns)
    }

    /// `traces.parquet`: one row per unit, its root's row of the span
    /// table with the unit's hot path.
    fn traces(&self, per_unit: DataFrame) -> PolarsResult<DataFrame> {
        let root = |c: SpanColumn| -> PolarsResult<Series> {
            self.column(c)?.as_materialized_series().take(&self.roots)
        };
        let name = |c: SpanColumn, to: &str| -> PolarsResult<Column> {
            Ok(self
                .names
                .take(root(c)?.u32()?)?
                .with_name(to.into())
                .into_column())
        };
        let hot_path: Vec<String> = self
            .bd
            .units
            .iter()
            .map(|u| {
                let step = |&(s, o): &(Sym, Sym)| {
                    format!("{}:{}", self.strings.resolve(s), self.strings.resolve(o))
                };
                u.hot_path.iter().map(step).collect::<Vec<_>>().join(" > ")
            })
            .collect();
        DataFrame::new_infer_height(vec![
            per_unit.column("trace_id")?.clone(),
            per_unit.column("root_span_id")?.clone(),
            name(SpanColumn::Service, "service")?,
            name(SpanColumn::Name, "operation")?,
            root(SpanColumn::Start)?
                .with_name("start_unix_nano".into())
                .into_column(),
            root(SpanColumn::Duration)?
                .with_name("duration_ns".into())
                .into_column(),
            Column::new("hot_path".into(), hot_path),
        ])
    }

    /// Per unit: its trace's id and its root's span id.
    fn per_unit(&self) -> PolarsResult<DataFrame> {
        let labels: Vec<String> = self
            .bd
            .units
            .iter()
            .map(|u| u.label(self.strings))
            .collect();
        let ids = self
            .column(SpanColumn::SpanId)?
            .as_materialized_series()
            .take(&self.roots)?;
        let ids: Vec<String> = ids
            .u64()?
            .into_no_null_iter()
            .map(|id| SpanId(id).to_string())
            .collect();
        DataFrame::new_infer_height(vec![
            Column::new("trace_id".into(), labels),
            Column::new("root_span_id".into(), ids),
        ])
    }

    fn column(&self, c: SpanColumn) -> PolarsResult<Column> {
        self.table.column(c.name()).cloned()
    }

    /// A symbol column as the strings it names.
    fn text(&self, column: &Column, to: &str) -> PolarsResult<Column> {
        Ok(self
            .names
            .take(column.u32()?)?
            .with_name(to.into())
            .into_column())
    }
}

/// A span id column as 16 hex digits each; 0 (no parent) as null.
fn ids(column: &Column, to: &str) -> PolarsResult<Column> {
    let ids: Vec<Option<String>> = column
        .u64()?
        .into_no_null_iter()
        .map(|id| (id != 0).then(|| SpanId(id).to_string()))
        .collect();
    Ok(Column::new(to.into(), ids))
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars_io::SerReader;
    use polars_io::parquet::read::ParquetReader;

    fn read(path: &Path) -> DataFrame {
        ParquetReader::new(File::open(path).unwrap())
            .finish()
            .unwrap()
    }

    #[test]
    fn batches_are_written_in_order_one_row_group_each() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.parquet");
        let all =
            df!("n" => (0..5i64).collect::<Vec<_>>(), "s" => ["a", "b", "c", "d", "e"]).unwrap();
        let batches = std::cell::Cell::new(0);
        write_in(&path, 5, 2, &|rows| {
            batches.set(batches.get() + 1);
            Ok(all.slice(rows.start as i64, rows.len()))
        })
        .unwrap();
        assert_eq!(batches.get(), 3);
        assert!(read(&path).equals(&all));
        let mut reader = ParquetReader::new(File::open(&path).unwrap());
        assert_eq!(reader.get_metadata().unwrap().row_groups.len(), 3);
    }

    #[test]
    fn no_rows_give_an_empty_file_with_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.parquet");
        let empty = df!("n" => Vec::<i64>::new()).unwrap();
        write_in(&path, 0, 2, &|_| Ok(empty.clone())).unwrap();
        let back = read(&path);
        assert_eq!(back.height(), 0);
        assert_eq!(back.schema(), empty.schema());
    }

    #[test]
    fn a_failing_batch_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.parquet");
        let err =
            write_in(&path, 1, 1, &|_| Err(polars_err!(ComputeError: "no frame"))).unwrap_err();
        assert!(format!("{err:#}").contains("x.parquet"), "{err:#}");
    }
}
