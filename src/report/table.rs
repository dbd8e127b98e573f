//! Terminal tables (comfy-table): shared set-up and the `analyze` report.

use std::io::{self, Write};

use comfy_table::{ContentArrangement, Table, presets};

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
            writeln!(out, "{}\n", wrap(&text, self.0.width))?;
        }
        writeln!(out, "{}", wrap(&s.line(), self.0.width))?;
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
        if let Some(t) = &analysis.timeline {
            super::timeline::write_terminal(t, out)?;
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
            let line = format!(
                "Data quality: {} (see `critpath stats`)",
                problems.join(", ")
            );
            writeln!(out, "\n{}", wrap(&line, self.0.width))?;
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

/// Renders a section to fit `width` without wrapping a row: columns are
/// hidden in the section's drop order, then the widest remaining cells are
/// cut (with `…`) until the rows fit.
pub fn render(section: &Section, width: Option<u16>) -> Table {
    let mut table = new_table();
    table.set_content_arrangement(ContentArrangement::Disabled);
    let Some(w) = width else {
        table.set_header(section.headers.clone());
        for row in &section.rows {
            table.add_row(row.clone());
        }
        return table;
    };
    let natural = natural_widths(section);
    let mut shown: Vec<usize> = (0..natural.len()).collect();
    let mut total: usize = natural.iter().sum::<usize>() + 1;
    for &col in &section.drop_order {
        if total <= w as usize || shown.len() <= 1 {
            break;
        }
        if let Some(at) = shown.iter().position(|&c| c == col) {
            shown.remove(at);
            total -= natural[col];
        }
    }
    let limits = fitted_widths(
        &shown.iter().map(|&c| natural[c]).collect::<Vec<_>>(),
        w as usize,
    );
    let cut = |text: &str, limit: usize| -> String {
        // Three of a column's width are its border and padding.
        let room = limit.saturating_sub(3).max(1);
        if text.chars().count() <= room {
            text.to_string()
        } else {
            let kept: String = text.chars().take(room.saturating_sub(1)).collect();
            format!("{kept}…")
        }
    };
    table.set_header(
        shown
            .iter()
            .zip(&limits)
            .map(|(&c, &l)| cut(section.headers[c], l))
            .collect::<Vec<_>>(),
    );
    for row in &section.rows {
        table.add_row(
            shown
                .iter()
                .zip(&limits)
                .map(|(&c, &l)| cut(&row[c], l))
                .collect::<Vec<_>>(),
        );
    }
    table
}

/// Prose folded at word boundaries to a terminal's width (unchanged when
/// the output is no terminal).
pub fn wrap(text: &str, width: Option<u16>) -> String {
    let Some(width) = width.map(usize::from) else {
        return text.to_string();
    };
    let mut out = String::new();
    let mut line = 0;
    for word in text.split(' ') {
        let n = word.chars().count();
        if line > 0 && line + 1 + n > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += n;
    }
    out
}

/// Column widths (borders and padding included) that sum, with the closing
/// border, to at most `width`: the widest is narrowed first, down to the
/// next widest, and none below 6.
fn fitted_widths(natural: &[usize], width: usize) -> Vec<usize> {
    let mut widths = natural.to_vec();
    loop {
        let over = (widths.iter().sum::<usize>() + 1).saturating_sub(width);
        let widest = (0..widths.len()).max_by_key(|&i| (widths[i], std::cmp::Reverse(i)));
        let Some(widest) = widest.filter(|&i| over > 0 && widths[i] > 6) else {
            return widths;
        };
        let next = (0..widths.len())
            .filter(|&i| i != widest)
            .map(|i| widths[i])
            .max()
            .unwrap_or(0)
            .max(6);
        let step = over.min(widths[widest] - next).max(1);
        widths[widest] -= step;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_fits_80_columns() {
        let long = "Calls from frontend into currencyservice went from 8.76 ms to 598 ms at p50; the time is spent between caller and callee".to_string();
        let section = Section {
            title: "Suspects",
            headers: vec![
                "#",
                "service",
                "score",
                "evidence",
                "example trace",
                "baseline trace",
            ],
            rows: vec![vec![
                "1".into(),
                "currencyservice".into(),
                "7.170".into(),
                long,
                "321e937e3b05c314ce0b1c2084b02b21".into(),
                "e959ccb669f650dff8d13a20cc571060".into(),
            ]],
            drop_order: vec![5, 4],
        };
        let text = render(&section, Some(80)).to_string();
        for line in text.lines() {
            assert!(
                line.chars().count() <= 80,
                "{} > 80: {line}",
                line.chars().count()
            );
        }
        // The dropped columns are gone, the evidence is cut, not wrapped:
        // top border, header, separator, one row, bottom border.
        assert!(!text.contains("baseline trace"), "{text}");
        assert_eq!(text.lines().count(), 5, "{text}");
        assert!(text.contains("Calls from frontend"), "{text}");
        assert!(text.contains('…'), "{text}");
    }

    #[test]
    fn prose_wraps_at_words() {
        let text = "Top suspect: currencyservice. Calls from frontend into currencyservice went from 8.76 ms to 598 ms at p50.";
        let wrapped = wrap(text, Some(40));
        assert!(
            wrapped.lines().all(|l| l.chars().count() <= 40),
            "{wrapped}"
        );
        assert_eq!(wrapped.replace('\n', " "), text);
        assert_eq!(wrap(text, None), text);
    }

    #[test]
    fn fitted_widths_sum_within_the_width() {
        let w = fitted_widths(&[10, 120, 40, 8], 80);
        assert!(w.iter().sum::<usize>() < 80, "{w:?}");
        assert_eq!((w[0], w[3]), (10, 8));
        // Nothing to do when it fits already.
        assert_eq!(fitted_widths(&[10, 20], 80), vec![10, 20]);
    }
}
