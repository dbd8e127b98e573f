//! A self-contained HTML report (no network): the summary, every table, the
//! top cascade and the critical-path flame graph, for attaching to an
//! incident ticket. Each numeric cell carries its raw JSON value in a
//! `data-v` attribute, so the page can be checked against the JSON report.

use std::io::{self, Write};

use super::flame::svg;
use super::sections::sections;
use super::units::millis;
use super::{ReportOptions, Reporter};
use crate::analysis::flame::Folded;
use crate::analysis::results::Analysis;

/// Writes the HTML report.
pub struct HtmlReporter {
    /// Shared options.
    pub options: ReportOptions,
    /// Folded critical-path stacks for the flame graph.
    pub folded: Folded,
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:0 0 2em}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}\
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}\
pre{background:#f7f7f7;padding:1em}h2{margin-top:1.5em}";

impl Reporter for HtmlReporter {
    fn write(&self, analysis: &Analysis, out: &mut dyn Write) -> io::Result<()> {
        let s = &analysis.summary;
        writeln!(
            out,
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        )?;
        writeln!(
            out,
            "<title>critpath report</title><style>{STYLE}</style></head><body>"
        )?;
        writeln!(out, "<h1>critpath report</h1>")?;
        if let Some(text) = super::sections::verdict(analysis) {
            writeln!(out, "<p id=\"verdict\"><strong>{}</strong></p>", esc(&text))?;
        }
        writeln!(
            out,
            "<p id=\"summary\">{} traces, {} spans, {} services; {} roots analysed, {} of root time.</p>",
            s.read.traces,
            s.read.spans,
            s.read.services,
            s.analysed_roots,
            esc(&millis(s.total_root_ms))
        )?;
        let mut raw = raw_values(analysis);
        // Sections without raw values (the suspects, edges, errors) show
        // their cells as text.
        raw.insert(0, Vec::new());
        let suspects = super::sections::suspects(&analysis.suspects, self.options.top);
        let all: Vec<_> = std::iter::once(suspects)
            .chain(sections(analysis, self.options.top))
            .collect();
        for (i, section) in all.iter().enumerate() {
            let raw = raw.get(i).cloned().unwrap_or_default();
            writeln!(out, "<h2>{}</h2>", esc(section.title))?;
            if section.rows.is_empty() {
                writeln!(out, "<p>(none)</p>")?;
                continue;
            }
            let id = section
                .title
                .split_whitespace()
                .next()
                .unwrap_or("t")
                .to_lowercase();
            writeln!(out, "<table id=\"{id}\"><thead><tr>")?;
            for h in &section.headers {
                write!(out, "<th>{}</th>", esc(h))?;
            }
            writeln!(out, "</tr></thead><tbody>")?;
            for (row, raw_row) in section.rows.iter().zip(raw.iter()) {
                write!(out, "<tr>")?;
                for (col, cell) in row.iter().enumerate() {
                    match raw_row.get(col).copied().flatten() {
                        Some(v) => {
                            write!(out, "<td class=\"n\" data-v=\"{v}\">{}</td>", esc(cell))?
                        }
                        None => write!(out, "<td>{}</td>", esc(cell))?,
                    }
                }
                writeln!(out, "</tr>")?;
            }
            writeln!(out, "</tbody></table>")?;
        }
        if let Some(top) = super::table::top_cascade(analysis) {
            writeln!(out, "<h2>Top cascade</h2><pre>")?;
            let mut chain = Vec::new();
            super::table::write_chain(top, &mut chain)?;
            writeln!(out, "{}</pre>", esc(&String::from_utf8_lossy(&chain)))?;
        }
        writeln!(out, "<h2>Critical-path flame graph</h2>")?;
        if self.folded.is_empty() {
            writeln!(out, "<p>(no critical-path time)</p>")?;
        } else {
            let mut graph = Vec::new();
            svg(&self.folded, "critical path", &mut graph)?;
            // Inline the SVG element itself (drop its XML prolog and doctype).
            let text = String::from_utf8_lossy(&graph);
            let start = text.find("<svg").unwrap_or(0);
            writeln!(out, "<div id=\"flame\">{}</div>", &text[start..])?;
        }
        writeln!(out, "</body></html>")
    }
}

/// The raw values behind each numeric cell, section by section, in the
/// order of [`sections`]: `None` for text cells.
fn raw_values(a: &Analysis) -> Vec<Vec<Vec<Option<f64>>>> {
    let ops = a
        .operations
        .iter()
        .map(|o| {
            let n = |v: f64| Some(v);
            vec![
                None,
                None,
                n(o.count as f64),
                n(o.p50_ms),
                n(o.p95_ms),
                n(o.p99_ms),
                n(o.max_ms),
                n(o.self_ms),
                n(o.self_share),
                n(o.critical_ms),
                n(o.critical_share),
                None,
            ]
        })
        .collect();
    let services = a
        .services
        .iter()
        .map(|s| {
            vec![
                None,
                Some(s.spans as f64),
                Some(s.self_ms),
                Some(s.self_share),
                Some(s.critical_ms),
                Some(s.critical_share),
            ]
        })
        .collect();
    let paths = a
        .hot_paths
        .iter()
        .map(|p| {
            vec![
                None,
                Some(p.traces as f64),
                Some(p.share),
                Some(p.p50_ms),
                Some(p.p99_ms),
                None,
            ]
        })
        .collect();
    let cascades = a
        .cascades
        .iter()
        .map(|c| {
            vec![
                None,
                None,
                Some(c.traces as f64),
                Some(c.culprit_critical_ms),
                Some(c.share),
                None,
                None,
            ]
        })
        .collect();
    let shapes = a
        .query_shapes
        .iter()
        .map(|q| {
            vec![
                None,
                None,
                None,
                Some(q.count as f64),
                Some(q.avg_ms),
                Some(q.p95_ms),
                Some(q.total_ms),
                Some(q.share),
                None,
            ]
        })
        .collect();
    let findings = a
        .findings
        .iter()
        .map(|f| {
            vec![
                None,
                None,
                None,
                None,
                Some(f.count as f64),
                Some(f.traces as f64),
                Some(f.total_ms),
                Some(f.estimated_savings_ms),
                None,
            ]
        })
        .collect();
    vec![ops, services, paths, cascades, shapes, findings]
}

/// Escapes text for HTML.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
