//! The columnar span table: one row per span of every analysed unit, with
//! the times the per-trace stage computed for it.
//!
//! It is the interface between per-trace work and aggregation. The
//! per-trace stage (rayon) appends rows to a [`SpanColumns`] per task; each
//! task's vectors are handed to polars as they are (no copy), and the tasks'
//! frames are stacked chunk by chunk (again no copy). Every span-level table
//! is then a polars query over [`SpanTable::frame`].

use polars::prelude::*;

mod chunked;
pub use chunked::{Chunked, RowBuffer};

use crate::model::{Nanos, SpanId, Sym};

/// `values` as a column named `name`, without a copy.
///
/// polars' `Column::new(name, vec)` reads the vector as a slice and copies
/// it; `Series::from_vec` (polars' `NamedFromOwned`) takes the allocation
/// as it is, and keeps it as long as the column lives: spare capacity (a
/// pushed vector holds up to twice its rows) is given back first, which
/// costs nothing for a vector sized exactly.
pub fn owned_column<T>(name: &str, mut values: Vec<T>) -> Column
where
    Series: NamedFromOwned<Vec<T>>,
{
    values.shrink_to_fit();
    Series::from_vec(name.into(), values).into_column()
}

/// The columns of the span table, named as the aggregation queries use them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanColumn {
    /// Index of the span's unit in the breakdown (`u32`).
    Unit,
    /// The span's service, a symbol id (`u32`).
    Service,
    /// The span's operation name, a symbol id (`u32`).
    Name,
    /// Its duration in nanoseconds, 0 when its end precedes its start (`i64`).
    Duration,
    /// Its self time in nanoseconds (`i64`).
    SelfTime,
    /// Its time on its unit's critical path in nanoseconds (`i64`).
    Critical,
    /// Whether it reported an error (`bool`).
    Error,
    /// Index of the span in its trace (`u32`): an [`ExportColumns`]
    /// column (the export tells a unit's root by it; no aggregation reads
    /// it).
    Span,
    /// Its span id (`u64`): an [`ExportColumns`] column.
    SpanId,
    /// The span id its producer named as its parent, 0 when none (`u64`;
    /// OTLP reads an all-zero id as no parent, and no reader keeps a zero
    /// id): an [`ExportColumns`] column.
    ParentId,
    /// Its start, Unix nanoseconds (`i64`): an [`ExportColumns`] column.
    Start,
    /// Its statement shape, or its operation name when it has none, a
    /// symbol id (`u32`): an [`ExportColumns`] column.
    Shape,
}

impl SpanColumn {
    /// Every column, in frame order.
    pub const ALL: [SpanColumn; 7] = [
        SpanColumn::Unit,
        SpanColumn::Service,
        SpanColumn::Name,
        SpanColumn::Duration,
        SpanColumn::SelfTime,
        SpanColumn::Critical,
        SpanColumn::Error,
    ];

    /// The columns a table with [`ExportColumns::Keep`] holds after
    /// [`SpanColumn::ALL`], in frame order.
    pub const EXPORT: [SpanColumn; 5] = [
        SpanColumn::Span,
        SpanColumn::SpanId,
        SpanColumn::ParentId,
        SpanColumn::Start,
        SpanColumn::Shape,
    ];

    /// The column's name in the frame.
    pub const fn name(self) -> &'static str {
        match self {
            SpanColumn::Unit => "unit",
            SpanColumn::Span => "span",
            SpanColumn::Service => "service",
            SpanColumn::Name => "name",
            SpanColumn::Duration => "dur",
            SpanColumn::SelfTime => "self",
            SpanColumn::Critical => "crit",
            SpanColumn::Error => "err",
            SpanColumn::SpanId => "span_id",
            SpanColumn::ParentId => "parent_id",
            SpanColumn::Start => "start",
            SpanColumn::Shape => "shape",
        }
    }

    /// The column's type.
    pub fn dtype(self) -> DataType {
        match self {
            SpanColumn::Unit
            | SpanColumn::Span
            | SpanColumn::Service
            | SpanColumn::Name
            | SpanColumn::Shape => DataType::UInt32,
            SpanColumn::Duration
            | SpanColumn::SelfTime
            | SpanColumn::Critical
            | SpanColumn::Start => DataType::Int64,
            SpanColumn::Error => DataType::Boolean,
            SpanColumn::SpanId | SpanColumn::ParentId => DataType::UInt64,
        }
    }

    /// The column as a polars expression.
    pub fn col(self) -> Expr {
        col(self.name())
    }
}

/// One row, as the per-trace stage produces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpanRow {
    /// Index into the breakdown's units.
    pub unit: u32,
    /// Index of the span in its trace.
    pub span: u32,
    /// The span's service.
    pub service: Sym,
    /// The span's operation name.
    pub name: Sym,
    /// Its duration; 0 when its end precedes its start.
    pub duration: Nanos,
    /// Its self time.
    pub self_time: Nanos,
    /// Its time on the unit's critical path.
    pub critical: Nanos,
    /// Whether the span reported an error.
    pub error: bool,
    /// Its span id.
    pub id: SpanId,
    /// The parent its producer named, if any.
    pub parent: Option<SpanId>,
    /// Its start.
    pub start: Nanos,
    /// Its statement shape, or its operation name.
    pub shape: Sym,
}

/// Whether a span table also holds the columns only the Parquet export
/// reads ([`SpanColumn::EXPORT`]): 28 bytes a span that every other run
/// does without.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ExportColumns {
    /// Hold them.
    Keep,
    /// Leave them out.
    #[default]
    Drop,
}

/// The buffers of the [`SpanColumn::EXPORT`] columns.
#[derive(Clone, Debug, Default)]
struct ExportBuffers {
    span: Vec<u32>,
    id: Vec<u64>,
    parent: Vec<u64>,
    start: Vec<i64>,
    shape: Vec<u32>,
}

/// Column buffers one rayon task appends rows to.
#[derive(Clone, Debug, Default)]
pub struct SpanColumns {
    unit: Vec<u32>,
    service: Vec<u32>,
    name: Vec<u32>,
    duration: Vec<i64>,
    self_time: Vec<i64>,
    critical: Vec<i64>,
    error: Vec<bool>,
    export: Option<ExportBuffers>,
}

impl SpanColumns {
    /// Empty buffers, with the export columns if `export` keeps them.
    pub fn new(export: ExportColumns) -> Self {
        SpanColumns {
            export: (export == ExportColumns::Keep).then(ExportBuffers::default),
            ..SpanColumns::default()
        }
    }

    /// Appends one row.
    pub fn push(&mut self, row: SpanRow) {
        self.unit.push(row.unit);
        self.service.push(row.service.into_usize() as u32);
        self.name.push(row.name.into_usize() as u32);
        self.duration.push(row.duration);
        self.self_time.push(row.self_time);
        self.critical.push(row.critical);
        self.error.push(row.error);
        if let Some(export) = &mut self.export {
            export.span.push(row.span);
            export.id.push(row.id.0);
            export.parent.push(row.parent.map_or(0, |p| p.0));
            export.start.push(row.start);
            export.shape.push(row.shape.into_usize() as u32);
        }
    }

    /// The buffers as a frame; the numeric vectors move into polars as
    /// they are (see [`owned_column`]).
    fn into_frame(self) -> DataFrame {
        let height = self.unit.len();
        debug_assert!(
            [self.service.len(), self.name.len()]
                .into_iter()
                .chain([self.duration.len(), self.self_time.len()])
                .chain([self.critical.len(), self.error.len()])
                .all(|n| n == height)
        );
        let mut columns = vec![
            owned_column(SpanColumn::Unit.name(), self.unit),
            owned_column(SpanColumn::Service.name(), self.service),
            owned_column(SpanColumn::Name.name(), self.name),
            owned_column(SpanColumn::Duration.name(), self.duration),
            owned_column(SpanColumn::SelfTime.name(), self.self_time),
            owned_column(SpanColumn::Critical.name(), self.critical),
            // A boolean column is a bitmap: built from the slice.
            Column::new(SpanColumn::Error.name().into(), self.error),
        ];
        if let Some(export) = self.export {
            debug_assert!(
                [export.span.len(), export.id.len(), export.parent.len()]
                    .into_iter()
                    .chain([export.start.len(), export.shape.len()])
                    .all(|n| n == height)
            );
            columns.extend([
                owned_column(SpanColumn::Span.name(), export.span),
                owned_column(SpanColumn::SpanId.name(), export.id),
                owned_column(SpanColumn::ParentId.name(), export.parent),
                owned_column(SpanColumn::Start.name(), export.start),
                owned_column(SpanColumn::Shape.name(), export.shape),
            ]);
        }
        // SAFETY: `push` is the only way rows get in and it appends to
        // every vector, so all columns have `height` rows; the names are
        // `SpanColumn`'s, which are distinct.
        unsafe { DataFrame::new_unchecked(height, columns) }
    }
}

impl RowBuffer for SpanColumns {
    type Table = SpanTable;

    fn with_room(&self, rows: usize) -> Self {
        SpanColumns {
            unit: Vec::with_capacity(rows),
            service: Vec::with_capacity(rows),
            name: Vec::with_capacity(rows),
            duration: Vec::with_capacity(rows),
            self_time: Vec::with_capacity(rows),
            critical: Vec::with_capacity(rows),
            error: Vec::with_capacity(rows),
            export: self.export.as_ref().map(|_| ExportBuffers {
                span: Vec::with_capacity(rows),
                id: Vec::with_capacity(rows),
                parent: Vec::with_capacity(rows),
                start: Vec::with_capacity(rows),
                shape: Vec::with_capacity(rows),
            }),
        }
    }

    fn len(&self) -> usize {
        self.unit.len()
    }

    fn room(&self) -> usize {
        // Every column was made with the same room and grows together.
        self.unit.capacity() - self.unit.len()
    }

    fn shrink_to_fit(&mut self) {
        self.unit.shrink_to_fit();
        self.service.shrink_to_fit();
        self.name.shrink_to_fit();
        self.duration.shrink_to_fit();
        self.self_time.shrink_to_fit();
        self.critical.shrink_to_fit();
        self.error.shrink_to_fit();
        if let Some(export) = &mut self.export {
            export.span.shrink_to_fit();
            export.id.shrink_to_fit();
            export.parent.shrink_to_fit();
            export.start.shrink_to_fit();
            export.shape.shrink_to_fit();
        }
    }

    fn into_table(self) -> SpanTable {
        SpanTable::from_columns(self)
    }

    fn append(table: &mut SpanTable, other: SpanTable) {
        table.append(other);
    }
}

/// The span table: every analysed span, one polars frame.
#[derive(Clone, Debug)]
pub struct SpanTable {
    frame: DataFrame,
}

impl Default for SpanTable {
    fn default() -> Self {
        SpanTable::from_columns(SpanColumns::default())
    }
}

impl SpanTable {
    /// The table of one task's buffers.
    pub fn from_columns(columns: SpanColumns) -> SpanTable {
        SpanTable {
            frame: columns.into_frame(),
        }
    }

    /// Appends `other`'s rows after this table's, sharing its column chunks
    /// rather than copying them.
    pub fn append(&mut self, other: SpanTable) {
        // Every span table's frame comes from `SpanColumns::into_frame`
        // (or is a query result with its columns), so the schemas match.
        stack(&mut self.frame, other.frame);
    }

    /// Makes every column one contiguous chunk, a column per thread
    /// (before aggregation; a spill's merge makes them contiguous itself).
    ///
    /// The per-trace stage leaves a chunk per rayon task. polars makes a
    /// contiguous copy of a column for each query that groups or sorts it,
    /// and the aggregation stage runs a dozen such queries: done once here,
    /// the copy is made once, and only a column per thread is ever held
    /// twice (a query's copies were up to five columns, 40 bytes a span, at
    /// the peak). One column at a time left a core idle for 40 ms on 1.09 M
    /// spans, while the second column's copy costs 8 bytes a span.
    pub fn rechunk(&mut self) {
        self.frame.rechunk_mut_par();
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.frame.height()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.frame.height() == 0
    }

    /// The frame, to query.
    pub fn frame(&self) -> &DataFrame {
        &self.frame
    }

    /// A `u32` column (unit, span, service, name, shape).
    pub fn u32s(&self, column: SpanColumn) -> PolarsResult<impl Iterator<Item = u32> + '_> {
        let values = self.frame.column(column.name())?.as_materialized_series();
        Ok(values.u32()?.into_no_null_iter())
    }

    /// Whether the table holds `column` (the [`SpanColumn::EXPORT`] ones
    /// only with [`ExportColumns::Keep`]).
    pub fn has(&self, column: SpanColumn) -> bool {
        self.frame.column(column.name()).is_ok()
    }

    /// A `u64` column (span id, parent id).
    pub fn u64s(&self, column: SpanColumn) -> PolarsResult<impl Iterator<Item = u64> + '_> {
        let values = self.frame.column(column.name())?.as_materialized_series();
        Ok(values.u64()?.into_no_null_iter())
    }

    /// An `i64` column (duration, self, critical, start).
    pub fn i64s(&self, column: SpanColumn) -> PolarsResult<impl Iterator<Item = i64> + '_> {
        let values = self.frame.column(column.name())?.as_materialized_series();
        Ok(values.i64()?.into_no_null_iter())
    }

    /// The rows of `parts` in a new order: each [`Run`] copies a part's
    /// consecutive rows, in order, giving them one unit number.
    ///
    /// Column by column, each part's column freed once it is gathered: the
    /// merge of a spill holds the parts and one merged column at a time, not
    /// the parts, a renumbered copy and a sorted copy.
    pub fn gathered(parts: Vec<SpanTable>, runs: &[Run]) -> PolarsResult<SpanTable> {
        let frames = parts.into_iter().map(|t| t.frame).collect();
        Ok(SpanTable {
            frame: gathered(frames, runs, SpanColumn::Unit.name())?,
        })
    }
}

/// Appends `other`'s rows after `frame`'s, sharing its column chunks rather
/// than copying them. The two have one schema (each table's frames come
/// from its one builder), unless either has no rows.
pub fn stack(frame: &mut DataFrame, other: DataFrame) {
    if other.height() == 0 {
        return;
    }
    if frame.height() == 0 {
        *frame = other;
        return;
    }
    frame.vstack_mut_owned_unchecked(other);
}

/// The rows of `parts` (frames of one schema, whose `unit` column numbers
/// their rows' units) in a new order: each [`Run`] copies a part's
/// consecutive rows, in order, giving them one unit number. The columns
/// are those of the part with the most (a part without rows may lack some:
/// a default table), in its order; `u32`, `u64`, `i64` or boolean.
///
/// Column by column, each part's column freed once it is gathered: a
/// spill's merge holds the parts and one merged column at a time, not the
/// parts, a renumbered copy and a sorted copy.
pub fn gathered(mut parts: Vec<DataFrame>, runs: &[Run], unit: &str) -> PolarsResult<DataFrame> {
    let total: usize = runs.iter().map(|r| r.rows).sum();
    let schema = parts
        .iter()
        .max_by_key(|f| f.width())
        .map(|f| f.schema().clone())
        .unwrap_or_default();
    let mut columns = Vec::with_capacity(schema.len());
    for (name, dtype) in schema.iter() {
        let taken = parts
            .iter_mut()
            .map(|f| {
                // A part without rows may lack the column: it is empty.
                if f.height() == 0 && f.column(name).is_err() {
                    return Ok(Series::new_empty(name.clone(), dtype));
                }
                Ok(f.drop_in_place(name)?.as_materialized_series().rechunk())
            })
            .collect::<PolarsResult<Vec<Series>>>()?;
        let merged = match dtype {
            _ if name.as_str() == unit => {
                let mut units = Vec::with_capacity(total);
                for r in runs {
                    units.extend(std::iter::repeat_n(r.unit, r.rows));
                }
                owned_column(name.as_str(), units)
            }
            DataType::UInt32 => owned_column(
                name.as_str(),
                gather_numeric::<UInt32Type>(&taken, runs, total)?,
            ),
            DataType::UInt64 => owned_column(
                name.as_str(),
                gather_numeric::<UInt64Type>(&taken, runs, total)?,
            ),
            DataType::Int64 => owned_column(
                name.as_str(),
                gather_numeric::<Int64Type>(&taken, runs, total)?,
            ),
            DataType::Boolean => {
                let flags = taken
                    .iter()
                    .map(|s| {
                        // The tables build their flags from Vec<bool>: no nulls.
                        Ok(s.bool()?
                            .iter()
                            .map(|b| b.unwrap_or(false))
                            .collect::<Vec<_>>())
                    })
                    .collect::<PolarsResult<Vec<_>>>()?;
                let slices: Vec<&[bool]> = flags.iter().map(Vec::as_slice).collect();
                Column::new(name.clone(), gather(&slices, runs, total))
            }
            other => polars_bail!(ComputeError: "cannot gather column {name} of type {other}"),
        };
        columns.push(merged);
    }
    DataFrame::new_infer_height(columns)
}

/// Consecutive rows of one part that [`SpanTable::gathered`] copies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// The part.
    pub part: usize,
    /// Its first row.
    pub first: usize,
    /// How many rows.
    pub rows: usize,
    /// The unit number they get.
    pub unit: u32,
}

/// The runs' rows of `parts`, in run order.
/// [`gather()`] over the parts' columns of one numeric type (each one chunk,
/// with no nulls, as the table builds them).
fn gather_numeric<T: PolarsNumericType>(
    parts: &[Series],
    runs: &[Run],
    total: usize,
) -> PolarsResult<Vec<T::Native>> {
    let slices = parts
        .iter()
        .map(|s| s.unpack::<T>()?.cont_slice())
        .collect::<PolarsResult<Vec<_>>>()?;
    Ok(gather(&slices, runs, total))
}

fn gather<T: Copy>(parts: &[&[T]], runs: &[Run], total: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(total);
    for r in runs {
        out.extend_from_slice(&parts[r.part][r.first..r.first + r.rows]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Interner;

    /// Rows with the export columns, which hold the span index the tests
    /// follow rows by.
    fn columns(rows: &[(u32, u32, i64)], strings: &Interner) -> SpanColumns {
        columns_with(rows, strings, ExportColumns::Keep)
    }

    /// Rows whose span `s` has id `100 + s`, parent `99 + s` (none for
    /// span 0), start `10 * duration` and shape `shape-{s}`.
    fn columns_with(
        rows: &[(u32, u32, i64)],
        strings: &Interner,
        export: ExportColumns,
    ) -> SpanColumns {
        let (service, name) = (strings.intern("svc"), strings.intern("op"));
        let mut c = SpanColumns::new(export);
        for &(unit, span, duration) in rows {
            c.push(SpanRow {
                unit,
                span,
                service,
                name,
                duration,
                self_time: duration / 2,
                critical: duration / 3,
                error: span % 2 == 1,
                id: SpanId(100 + u64::from(span)),
                parent: (span > 0).then(|| SpanId(99 + u64::from(span))),
                start: 10 * duration,
                shape: strings.intern(&format!("shape-{span}")),
            });
        }
        c
    }

    fn units_and_spans(t: &SpanTable) -> Vec<(u32, u32)> {
        let units = t.u32s(SpanColumn::Unit).unwrap();
        units.zip(t.u32s(SpanColumn::Span).unwrap()).collect()
    }

    #[test]
    fn an_owned_column_keeps_the_vectors_allocation() {
        let values: Vec<i64> = vec![3, 1, 2];
        let at = values.as_ptr();
        let column = owned_column("x", values);
        let values = column.as_materialized_series().i64().unwrap();
        let chunk = values.downcast_iter().next().unwrap();
        assert_eq!(chunk.values().as_ptr(), at);
        assert_eq!(values.into_no_null_iter().collect::<Vec<_>>(), [3, 1, 2]);
    }

    #[test]
    fn every_column_is_in_the_frame_with_its_type() {
        let strings = Interner::default();
        let rows = [(0, 0, 90), (0, 1, 30)];
        let t = SpanTable::from_columns(columns_with(&rows, &strings, ExportColumns::Drop));
        assert_eq!(t.len(), 2);
        let names: Vec<&str> = t
            .frame()
            .get_column_names()
            .iter()
            .map(|n| n.as_str())
            .collect();
        let expected: Vec<_> = SpanColumn::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names, expected);
        assert_eq!(
            t.i64s(SpanColumn::SelfTime).unwrap().collect::<Vec<_>>(),
            [45, 15]
        );
        assert_eq!(
            t.i64s(SpanColumn::Critical).unwrap().collect::<Vec<_>>(),
            [30, 10]
        );
        let errors = t.frame().column("err").unwrap().bool().unwrap();
        assert_eq!(errors.iter().collect::<Vec<_>>(), [Some(false), Some(true)]);
    }

    #[test]
    fn appending_keeps_both_tables_rows_in_order() {
        let strings = Interner::default();
        let mut t = SpanTable::default();
        t.append(SpanTable::from_columns(columns(
            &[(0, 0, 1), (0, 1, 2)],
            &strings,
        )));
        t.append(SpanTable::default());
        t.append(SpanTable::from_columns(columns(&[(1, 0, 3)], &strings)));
        assert_eq!(units_and_spans(&t), [(0, 0), (0, 1), (1, 0)]);
        // Appending shares chunks instead of copying them.
        assert_eq!(t.frame().first_col_n_chunks(), 2);
    }

    #[test]
    fn gathering_interleaves_parts_and_keeps_each_runs_rows_in_order() {
        let strings = Interner::default();
        // Two parts of two units each; merged order: a0, b0, a1, b1.
        let a = SpanTable::from_columns(columns(&[(0, 5, 1), (0, 4, 2), (1, 9, 3)], &strings));
        let b = SpanTable::from_columns(columns(&[(0, 7, 4), (1, 3, 5), (1, 2, 6)], &strings));
        let run = |part, first, rows, unit| Run {
            part,
            first,
            rows,
            unit,
        };
        let runs = [
            run(0, 0, 2, 0),
            run(1, 0, 1, 1),
            run(0, 2, 1, 2),
            run(1, 1, 2, 3),
        ];
        let t = SpanTable::gathered(vec![a, b], &runs).unwrap();
        assert_eq!(
            units_and_spans(&t),
            [(0, 5), (0, 4), (1, 7), (2, 9), (3, 3), (3, 2)]
        );
        // Every column follows its row.
        let durations: Vec<i64> = t.i64s(SpanColumn::Duration).unwrap().collect();
        assert_eq!(durations, [1, 2, 4, 3, 5, 6]);
        let critical: Vec<i64> = t.i64s(SpanColumn::Critical).unwrap().collect();
        assert_eq!(
            critical,
            durations.iter().map(|d| d / 3).collect::<Vec<_>>()
        );
        let errors = t.frame().column("err").unwrap().bool().unwrap();
        let spans: Vec<u32> = t.u32s(SpanColumn::Span).unwrap().collect();
        let odd: Vec<Option<bool>> = spans.iter().map(|s| Some(s % 2 == 1)).collect();
        assert_eq!(errors.iter().collect::<Vec<_>>(), odd);
        let names: Vec<&str> = t
            .frame()
            .get_column_names()
            .iter()
            .map(|n| n.as_str())
            .collect();
        let every: Vec<&str> = SpanColumn::ALL
            .iter()
            .chain(&SpanColumn::EXPORT)
            .map(|c| c.name())
            .collect();
        assert_eq!(names, every);
    }

    #[test]
    fn export_columns_are_held_only_when_kept_and_follow_their_rows() {
        let strings = Interner::default();
        let rows = [(0, 0, 1), (0, 1, 2)];
        let dropped = SpanTable::from_columns(columns_with(&rows, &strings, ExportColumns::Drop));
        assert!(SpanColumn::EXPORT.iter().all(|&c| !dropped.has(c)));
        let kept = SpanTable::from_columns(columns_with(&rows, &strings, ExportColumns::Keep));
        let names: Vec<&str> = kept
            .frame()
            .get_column_names()
            .iter()
            .map(|n| n.as_str())
            .collect();
        let expected: Vec<&str> = SpanColumn::ALL
            .iter()
            .chain(&SpanColumn::EXPORT)
            .map(|c| c.name())
            .collect();
        assert_eq!(names, expected);
        for c in SpanColumn::ALL.iter().chain(&SpanColumn::EXPORT) {
            assert_eq!(kept.frame().column(c.name()).unwrap().dtype(), &c.dtype());
        }
        // A merge with a part that read no spans (a default table) keeps
        // the other parts' export columns, row for row.
        let b = SpanTable::from_columns(columns_with(&[(0, 3, 5)], &strings, ExportColumns::Keep));
        let run = |part, first, rows, unit| Run {
            part,
            first,
            rows,
            unit,
        };
        let runs = [run(2, 0, 1, 0), run(0, 0, 2, 1), run(1, 0, 0, 2)];
        let t = SpanTable::gathered(vec![kept, SpanTable::default(), b], &runs).unwrap();
        assert_eq!(
            t.u64s(SpanColumn::SpanId).unwrap().collect::<Vec<_>>(),
            [103, 100, 101]
        );
        assert_eq!(
            t.u64s(SpanColumn::ParentId).unwrap().collect::<Vec<_>>(),
            [102, 0, 100]
        );
        assert_eq!(
            t.i64s(SpanColumn::Start).unwrap().collect::<Vec<_>>(),
            [50, 10, 20]
        );
        let shapes: Vec<&str> = t
            .u32s(SpanColumn::Shape)
            .unwrap()
            .map(|s| strings.resolve(crate::model::Sym::try_from_usize(s as usize).unwrap()))
            .collect();
        assert_eq!(shapes, ["shape-3", "shape-0", "shape-1"]);
    }

    #[test]
    fn gathering_a_multi_chunk_part_reads_across_its_chunks() {
        let strings = Interner::default();
        let mut a = SpanTable::from_columns(columns(&[(0, 1, 10)], &strings));
        a.append(SpanTable::from_columns(columns(
            &[(0, 2, 20), (1, 3, 30)],
            &strings,
        )));
        let runs = [Run {
            part: 0,
            first: 1,
            rows: 2,
            unit: 7,
        }];
        let t = SpanTable::gathered(vec![a], &runs).unwrap();
        assert_eq!(units_and_spans(&t), [(7, 2), (7, 3)]);
    }
}
