//! Formats a [`Diff`]: terminal tables, JSON or Markdown.

use std::io::{self, Write};

use super::sections::Section;
use super::table::render;
use super::units::{millis, percent};
use crate::diff::{Change, Diff};

/// Output formats of `diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// Terminal tables.
    Table,
    /// JSON.
    Json,
    /// Markdown.
    Markdown,
}

fn change(c: &Change) -> String {
    match (c.before_ms, c.after_ms) {
        (Some(b), Some(a)) => {
            let rel = c
                .relative
                .map(|r| format!(" ({:+.0}%)", r * 100.0))
                .unwrap_or_default();
            format!("{} → {}{rel}", millis(b), millis(a))
        }
        (None, Some(a)) => format!("new: {}", millis(a)),
        (Some(b), None) => format!("gone (was {})", millis(b)),
        (None, None) => "-".into(),
    }
}

fn signed_ms(ms: f64) -> String {
    if ms >= 0.0 {
        format!("+{}", millis(ms))
    } else {
        format!("-{}", millis(-ms))
    }
}

/// The diff's sections as rows of cells, cut to `top` rows each.
fn sections(d: &Diff, top: usize) -> Vec<Section> {
    let mut out = vec![
        super::sections::suspects(&d.suspects, top),
        Section {
            title: "Operations by impact (change of critical time)",
            headers: vec![
                "service",
                "operation",
                "count",
                "p50",
                "p95",
                "p99",
                "impact",
            ],
            rows: d
                .operations
                .iter()
                .take(top)
                .map(|o| {
                    vec![
                        o.service.clone(),
                        o.operation.clone(),
                        format!("{} → {}", o.count_before, o.count_after),
                        change(&o.p50),
                        change(&o.p95),
                        change(&o.p99),
                        signed_ms(o.impact_ms),
                    ]
                })
                .collect(),
            drop_order: vec![4, 2],
        },
        Section {
            title: "Critical share by service",
            headers: vec!["service", "before", "after", "shift"],
            rows: d
                .services
                .iter()
                .take(top)
                .map(|s| {
                    vec![
                        s.service.clone(),
                        percent(s.critical_share_before),
                        percent(s.critical_share_after),
                        format!("{:+.1} pt", s.shift * 100.0),
                    ]
                })
                .collect(),
            drop_order: vec![],
        },
    ];
    let mut changes = Vec::new();
    for (what, paths) in [
        ("appeared", &d.hot_paths_appeared),
        ("vanished", &d.hot_paths_vanished),
    ] {
        for p in paths.iter().take(top) {
            changes.push(vec![
                format!("hot path {what}"),
                p.path.join(" → "),
                p.traces.to_string(),
            ]);
        }
    }
    for (what, findings) in [
        ("appeared", &d.findings_appeared),
        ("vanished", &d.findings_vanished),
    ] {
        for f in findings.iter().take(top) {
            changes.push(vec![
                format!("{} {what}", f.kind),
                format!("{} under {}: {}", f.service, f.parent_operation, f.shape),
                f.traces.to_string(),
            ]);
        }
    }
    out.push(Section {
        title: "Shapes and findings that appeared or vanished",
        headers: vec!["change", "what", "traces"],
        rows: changes,
        drop_order: vec![],
    });
    out
}

/// Writes the diff in `format`.
pub fn write(
    d: &Diff,
    format: DiffFormat,
    top: usize,
    width: Option<u16>,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        DiffFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, d)?;
            writeln!(out)
        }
        DiffFormat::Table => {
            if let Some(v) = &d.verdict {
                writeln!(out, "{}\n", super::table::wrap(&v.text, width))?;
            }
            for s in sections(d, top) {
                if s.rows.is_empty() {
                    continue;
                }
                writeln!(out, "{}\n{}\n", s.title, render(&s, width))?;
            }
            Ok(())
        }
        DiffFormat::Markdown => {
            writeln!(out, "## critpath diff\n")?;
            if let Some(v) = &d.verdict {
                writeln!(out, "**{}**\n", v.text.replace('*', "\\*"))?;
            }
            for s in sections(d, top) {
                writeln!(out, "### {}\n", s.title)?;
                if s.rows.is_empty() {
                    writeln!(out, "(none)\n")?;
                    continue;
                }
                writeln!(out, "| {} |", s.headers.join(" | "))?;
                writeln!(out, "|{}", " --- |".repeat(s.headers.len()))?;
                for r in &s.rows {
                    let cells: Vec<String> = r.iter().map(|c| c.replace('|', "\\|")).collect();
                    writeln!(out, "| {} |", cells.join(" | "))?;
                }
                writeln!(out)?;
            }
            Ok(())
        }
    }
}
