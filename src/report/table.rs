//! Terminal tables (comfy-table): shared set-up and the `analyze` report.

use std::io::{self, Write};

use comfy_table::{ColumnConstraint, ContentArrangement, Table, presets};

use super::sections::{Section, sections};
use super::units::millis;
use super::{ReportOptions, Reporter};
use crate::analysis::results::{Analysis, Cascade};

/// A table with critpath's look.
pub fn new_table() -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    table
}

/// Writes the analysis as terminal tables.
pub struct TableReporter(pub ReportOptions);

impl Reporter for TableReporter {
    fn write(&self, analysis: &Analysis, out: &mut dyn Write) -> io::Result<()> {
        let s = &analysis.summary;
        if let Some(text) = super::sections::verdict(analysis) {
            writeln!(out, "{text}\n")?;
        }
        writeln!(out, "{}", s.line())?;
        let suspects = super::sections::suspects(&analysis.suspects, self.0.top);
        for section in std::iter::once(suspects).chain(sections(analysis, self.0.top)) {
            if section.rows.is_empty() {
                continue;
            }
            writeln!(out, "\n{}", section.title)?;
            writeln!(out, "{}", render(&section, self.0.width))?;
        }
        if let Some(top) = top_cascade(analysis) {
            writeln!(
                out,
                "\nTop cascade ({} traces; culprit {}{}):",
                top.traces,
                top.culprit,
                match top.rule {
                    crate::analysis::results::CascadeRule::TopSuspect => ", the top suspect",
                    crate::analysis::results::CascadeRule::MostCriticalTime => "",
                }
            )?;
            write_chain(top, out)?;
        }
        let quality = &analysis.summary.read.data_quality;
        let selected = &analysis.summary.selected_data_quality;
        let whole = analysis.summary.analysed_traces == analysis.summary.read.traces;
        let problems: Vec<String> = quality
            .counts_keyed()
            .iter()
            .filter(|(_, _, n)| *n > 0)
            .map(|(name, key, n)| {
                // Counts of the selected traces first, the input's beside
                // them, where the selection kept less than the input.
                match selected.get(*key) {
                    Some(s) if !whole => format!("{name}: {s} ({n} in the input)"),
                    _ => format!("{name}: {n}"),
                }
            })
            .collect();
        if !problems.is_empty() {
            writeln!(
                out,
                "\nData quality: {} (see `critpath stats`)",
                problems.join(", ")
            )?;
        }
        Ok(())
    }
}

/// The cascade to draw: the costliest that crosses services (a chain of
/// one service is the root's own time, not a cascade), else the costliest.
pub fn top_cascade(analysis: &Analysis) -> Option<&Cascade> {
    let cascades = &analysis.cascades;
    cascades
        .iter()
        .find(|c| c.chain.len() > 1)
        .or(cascades.first())
}

/// Renders a section, hiding columns in its drop order until it fits `width`.
pub fn render(section: &Section, width: Option<u16>) -> Table {
    let mut table = new_table();
    table.set_header(section.headers.clone());
    for row in &section.rows {
        table.add_row(row.clone());
    }
    match width {
        Some(w) => {
            table.set_width(w);
            let natural = natural_widths(section);
            let mut total: usize = natural.iter().sum::<usize>() + 1;
            for &col in &section.drop_order {
                if total <= w as usize {
                    break;
                }
                if let Some(c) = table.column_mut(col) {
                    c.set_constraint(ColumnConstraint::Hidden);
                    total -= natural[col];
                }
            }
        }
        None => {
            table.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    table
}

/// Each column's width without wrapping, borders and padding included.
fn natural_widths(section: &Section) -> Vec<usize> {
    section
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let widest = section
                .rows
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
                .max(h.chars().count());
            widest + 3
        })
        .collect()
}

/// Draws a cascade as an indented chain with each level's timings.
pub fn write_chain(
    cascade: &crate::analysis::results::Cascade,
    out: &mut dyn Write,
) -> io::Result<()> {
    for (depth, level) in cascade.levels.iter().enumerate() {
        let arrow = if depth == 0 { "" } else { "└─ " };
        let culprit = if depth + 1 == cascade.levels.len() {
            "   ← culprit"
        } else {
            ""
        };
        writeln!(
            out,
            "  {:indent$}{arrow}{}  p50 {}, p99 {}{culprit}",
            "",
            level.service,
            millis(level.p50_ms),
            millis(level.p99_ms),
            indent = depth * 3
        )?;
    }
    Ok(())
}
