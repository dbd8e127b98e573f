//! The report's tables, sortable by a click on a header (see the script).
//! Numeric cells carry their raw JSON value in `data-v`; trace ids get a
//! copy button.

use std::fmt::Write as _;

use super::esc;
use crate::analysis::results::Analysis;
use crate::report::sections::{Section, sections};

/// Every table of [`sections`], each under its title.
pub fn tables(analysis: &Analysis, top: usize) -> String {
    let mut s = String::new();
    for section in sections(analysis, top) {
        table(&mut s, analysis, &section);
    }
    s
}

/// One section as a table, its numeric cells with their raw values.
fn table(s: &mut String, analysis: &Analysis, section: &Section) {
    let _ = write!(s, "<h3>{}</h3>", esc(section.title));
    if section.rows.is_empty() {
        s.push_str("<p class=\"muted\">(none)</p>");
        return;
    }
    let id = section
        .title
        .split_whitespace()
        .next()
        .unwrap_or("t")
        .to_lowercase();
    let raw = |r: usize, col: usize| raw_value(analysis, &id, section.headers[col], r);
    let numeric = |col: usize| (0..section.rows.len()).any(|r| raw(r, col).is_some());
    let _ = write!(
        s,
        "<div class=\"table-wrap\"><table id=\"{id}\" class=\"sortable\"><thead><tr>"
    );
    for (col, h) in section.headers.iter().enumerate() {
        let class = if numeric(col) { " class=\"n\"" } else { "" };
        let _ = write!(s, "<th{class}>{}</th>", esc(h));
    }
    s.push_str("</tr></thead><tbody>\n");
    for (r, row) in section.rows.iter().enumerate() {
        s.push_str("<tr>");
        for (col, cell) in row.iter().enumerate() {
            match raw(r, col) {
                Some(v) => {
                    let _ = write!(s, "<td class=\"n\" data-v=\"{v}\">{}</td>", esc(cell));
                }
                None if section.headers[col].ends_with("trace") && !cell.is_empty() => {
                    let _ = write!(s, "<td class=\"t\">{}</td>", trace_id(cell));
                }
                None => {
                    let _ = write!(s, "<td>{}</td>", esc(cell));
                }
            }
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table></div>");
}

/// A trace id with a button that copies it.
pub fn trace_id(id: &str) -> String {
    let id = esc(id);
    format!(
        "<code class=\"tid\">{id}</code><button type=\"button\" class=\"copy\" data-copy=\"{id}\" \
         title=\"Copy the trace id\">copy</button>"
    )
}

/// The raw JSON value behind the cell of row `r` under `header` in the
/// table `id`, if it is a number. Looked up by name, not position, so the
/// sections may gain or reorder columns.
fn raw_value(a: &Analysis, id: &str, header: &str, r: usize) -> Option<f64> {
    let c = |v: u64| Some(v as f64);
    match id {
        "operations" => {
            let o = a.operations.get(r)?;
            match header {
                "count" => c(o.count),
                "p50" => Some(o.p50_ms),
                "p95" => Some(o.p95_ms),
                "p99" => Some(o.p99_ms),
                "max" => Some(o.max_ms),
                "self" => Some(o.self_ms),
                "self %" => Some(o.self_share),
                "critical" => Some(o.critical_ms),
                "critical %" => Some(o.critical_share),
                _ => None,
            }
        }
        "services" => {
            let s = a.services.get(r)?;
            match header {
                "spans" => c(s.spans),
                "self" => Some(s.self_ms),
                "self %" => Some(s.self_share),
                "critical" => Some(s.critical_ms),
                "critical %" => Some(s.critical_share),
                _ => None,
            }
        }
        "hot" => {
            let p = a.hot_paths.get(r)?;
            match header {
                "traces" => c(p.traces),
                "share" => Some(p.share),
                "p50" => Some(p.p50_ms),
                "p99" => Some(p.p99_ms),
                _ => None,
            }
        }
        "cascades" => {
            let k = a.cascades.get(r)?;
            match header {
                "traces" => c(k.traces),
                "culprit critical" => Some(k.culprit_critical_ms),
                "share" => Some(k.share),
                _ => None,
            }
        }
        "query" => {
            let q = a.query_shapes.get(r)?;
            match header {
                "count" => c(q.count),
                "avg" => Some(q.avg_ms),
                "p95" => Some(q.p95_ms),
                "total" => Some(q.total_ms),
                "share" => Some(q.share),
                _ => None,
            }
        }
        "findings" => {
            let f = a.findings.get(r)?;
            match header {
                "count" => c(f.count),
                "traces" => c(f.traces),
                "total" => Some(f.total_ms),
                "est. saving" => Some(f.estimated_savings_ms),
                _ => None,
            }
        }
        "call" => {
            let e = a.edges.get(r)?;
            match header {
                "calls" => c(e.calls),
                "per trace" => Some(e.calls_per_trace),
                "errors" => Some(e.error_rate),
                "gap critical" => Some(e.gap_critical_ms),
                _ => None,
            }
        }
        "where" => {
            let e = a.errors.get(r)?;
            match header {
                "traces" => c(e.traces),
                "caller gave up" => c(e.hung),
                _ => None,
            }
        }
        _ => None,
    }
}
