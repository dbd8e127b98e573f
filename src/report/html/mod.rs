//! A self-contained HTML report (no network: inline CSS, SVG and script) for
//! attaching to an incident ticket, laid out for a reader: the verdict and
//! the suspects with their evidence, a full-width critical-path flame graph
//! (inferno's, with its click-to-zoom and search), the critical share of
//! each service, the latency percentiles of the top operations, then every
//! table, sortable, with copyable trace ids.
//!
//! Every number drawn or tabulated carries its raw JSON value in a `data-v`
//! attribute, so the page can be checked against the JSON report.

mod charts;
mod script;
mod tables;
mod timeline;

use std::fmt::Write as _;
use std::io::{self, Write};

use super::flame::svg;
use super::{ReportOptions, Reporter};
use crate::analysis::flame::Folded;
use crate::analysis::results::{Analysis, Cascade, Suspect};
use crate::analysis::suspects::sentence;
use crate::units::millis;

/// Writes the HTML report.
pub struct HtmlReporter {
    /// Shared options.
    pub options: ReportOptions,
    /// Folded critical-path stacks for the flame graph.
    pub folded: Folded,
}

impl Reporter for HtmlReporter {
    fn write(&self, analysis: &Analysis, out: &mut dyn Write) -> io::Result<()> {
        let top = self.options.top;
        let mut p = String::new();
        let _ = writeln!(
            p,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>critpath report</title><style>{}</style><script>{}</script></head>\n<body>",
            script::STYLE,
            script::ERROR_TRAP
        );
        let _ = writeln!(
            p,
            "<header><h1>critpath report</h1><p id=\"summary\">{}</p><nav>\
             <a href=\"#diagnosis\">Verdict</a><a href=\"#flame-section\">Flame graph</a>\
             <a href=\"#services-chart\">Services</a><a href=\"#latency\">Latency</a>\
             <a href=\"#timeline\">Timeline</a><a href=\"#tables\">Tables</a></nav></header>",
            esc(&analysis.summary.line())
        );
        diagnosis(&mut p, analysis, top);
        flame(&mut p, &self.folded)?;
        let suspect = analysis.verdict.as_ref().and_then(|v| v.suspect.as_deref());
        let _ = writeln!(
            p,
            "<section id=\"services-chart\"><h2>Critical share by service</h2>\
             <p class=\"hint\">Each service's time on the critical path, as a share of the summed root durations{}.</p>{}</section>",
            if suspect.is_some() {
                "; the top suspect in red"
            } else {
                ""
            },
            charts::service_bars(&analysis.services, top, suspect)
        );
        let _ = writeln!(
            p,
            "<section id=\"latency\"><h2>Latency of the top operations</h2>\
             <p class=\"hint\">The {} operations with the most critical time, by span duration on a log scale: \
             the box runs from p50 (thick line) to p95, the whisker to p99 (tick), the dashed tail to the maximum (dot).</p>{}</section>",
            analysis.operations.len().min(top).min(charts::MAX_BOXES),
            charts::latency_boxes(&analysis.operations, top)
        );
        if let Some(c) = super::table::top_cascade(analysis) {
            cascade(&mut p, c);
        }
        if let Some(t) = &analysis.timeline {
            let _ = writeln!(
                p,
                "<section id=\"timeline\"><h2>Timeline</h2>\
                 <p class=\"hint\">Per {} bucket; a dashed red line marks where the level shifted.</p>{}</section>",
                crate::units::millis(t.bucket_ms),
                timeline::charts(t)
            );
        }
        let _ = writeln!(
            p,
            "<section id=\"tables\"><h2>Tables</h2>\
             <p class=\"hint\">Click a header to sort; the top {top} rows of each.</p>{}</section>",
            tables::tables(analysis, top)
        );
        let problems: Vec<String> = analysis
            .summary
            .read
            .data_quality
            .counts()
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(name, n)| format!("{name}: {n}"))
            .collect();
        if !problems.is_empty() {
            let _ = writeln!(
                p,
                "<p id=\"quality\" class=\"muted\">Data quality: {} (see <code>critpath stats</code>).</p>",
                esc(&problems.join(", "))
            );
        }
        let _ = writeln!(p, "<script>{}</script>\n</body></html>", script::SCRIPT);
        out.write_all(p.as_bytes())
    }
}

/// The verdict, then each suspect with every sentence of its evidence.
fn diagnosis(p: &mut String, analysis: &Analysis, top: usize) {
    p.push_str("<section id=\"diagnosis\"><h2>Verdict</h2>");
    match super::sections::verdict(analysis) {
        Some(text) => {
            let _ = write!(p, "<p id=\"verdict\"><strong>{}</strong></p>", esc(&text));
        }
        None => p.push_str(
            "<p class=\"muted\">No diagnosis ran: compare with normal traffic \
             (<code>--baseline</code>) to name suspects.</p>",
        ),
    }
    if !analysis.suspects.is_empty() {
        p.push_str("<h2>Suspects</h2><ol id=\"suspect-list\">");
        for s in analysis.suspects.iter().take(top) {
            suspect(p, s);
        }
        p.push_str("</ol>");
    }
    p.push_str("</section>\n");
}

fn suspect(p: &mut String, s: &Suspect) {
    let confidence = format!("{:?}", s.confidence).to_lowercase();
    let _ = write!(
        p,
        "<li class=\"suspect\" data-service=\"{svc}\"><div class=\"who\"><span class=\"rank\">{}</span>\
         <strong>{svc}</strong><span class=\"badge {confidence}\">{confidence} confidence</span>\
         <span class=\"badge\" title=\"{}\">score <span data-k=\"score\" data-v=\"{}\">{:.3}</span></span></div>\
         <ul class=\"evidence\">",
        s.rank,
        esc(&s.score_method),
        s.score,
        s.score,
        svc = esc(&s.service),
    );
    for e in &s.evidence {
        let _ = write!(p, "<li>{}</li>", esc(&sentence(e)));
    }
    p.push_str("</ul><p class=\"traces\">");
    if !s.example_trace_id.is_empty() {
        let _ = write!(p, "Example trace {}", tables::trace_id(&s.example_trace_id));
    }
    if !s.baseline_example_trace_id.is_empty() {
        let _ = write!(
            p,
            " &nbsp; baseline trace {}",
            tables::trace_id(&s.baseline_example_trace_id)
        );
    }
    p.push_str("</p></li>");
}

/// inferno's flame graph, inlined at the page's full width. Its script
/// makes it fluid (it drops the fixed width on load) and takes the first
/// `<svg>` of the document as its own, so it is the page's first SVG and
/// the lookup is pinned to its id.
fn flame(p: &mut String, folded: &Folded) -> io::Result<()> {
    p.push_str(
        "<section id=\"flame-section\"><h2>Critical-path flame graph</h2>\
         <p class=\"hint\">Width is time on the critical path, summed over the analysed traces; \
         each frame is a <code>service:operation</code> under its callers. Click a frame to zoom in, \
         “Reset Zoom” to zoom out; “Search” (top right, or Ctrl+F) highlights frames matching a pattern.</p>",
    );
    if folded.is_empty() {
        p.push_str("<p class=\"muted\">(no critical-path time)</p></section>\n");
        return Ok(());
    }
    let mut graph = Vec::new();
    svg(folded, "Critical path", &mut graph)?;
    let text = String::from_utf8_lossy(&graph);
    // Inline the SVG element itself (drop its XML prolog and doctype).
    let start = text.find("<svg").unwrap_or(0);
    let inline = text[start..]
        .replacen("<svg ", "<svg id=\"flamegraph\" ", 1)
        .replacen(
            "document.getElementsByTagName(\"svg\")[0]",
            "document.getElementById(\"flamegraph\")",
            1,
        );
    let _ = writeln!(p, "<div id=\"flame\">{inline}</div></section>");
    Ok(())
}

/// The top cascade as a chain of services with their timings.
fn cascade(p: &mut String, c: &Cascade) {
    let _ = write!(
        p,
        "<section id=\"cascade\"><h2>Top cascade</h2><p class=\"hint\">{} traces; the culprit, {}, holds {} of critical time. Example trace {}</p><ol class=\"chain\">",
        c.traces,
        esc(&c.culprit),
        esc(&millis(c.culprit_critical_ms)),
        tables::trace_id(&c.example_trace_id)
    );
    for (depth, level) in c.levels.iter().enumerate() {
        let last = depth + 1 == c.levels.len();
        let _ = write!(
            p,
            "<li style=\"padding-left:{}em\"{}>{}{} &nbsp; p50 <span data-v=\"{}\">{}</span>, p99 <span data-v=\"{}\">{}</span>{}</li>",
            depth * 2,
            if last { " class=\"culprit\"" } else { "" },
            if depth == 0 { "" } else { "└─ " },
            esc(&level.service),
            level.p50_ms,
            esc(&millis(level.p50_ms)),
            level.p99_ms,
            esc(&millis(level.p99_ms)),
            if last { " &nbsp;← culprit" } else { "" }
        );
    }
    p.push_str("</ol></section>\n");
}

/// Escapes text for HTML text and double-quoted attributes.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
