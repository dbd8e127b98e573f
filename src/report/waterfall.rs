//! One trace as a terminal waterfall: the span tree, one row per span, a bar
//! on a shared time axis with the critical path highlighted (in colour on a
//! terminal, `█` against `░` otherwise), and the critical path by service.

use std::collections::BTreeMap;
use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::units::{duration, percent};
use crate::analysis::critical_path::{Segment, critical_path};
use crate::analysis::self_time::self_times;
use crate::model::{Nanos, Trace, TraceSet};

/// How to draw.
#[derive(Clone, Debug)]
pub struct WaterfallOptions {
    /// Deepest level shown (0 = roots only).
    pub depth: Option<usize>,
    /// Spans shorter than this are hidden with their subtrees.
    pub min_duration: Nanos,
    /// Whether to use ANSI colours.
    pub color: bool,
    /// Width of the bar column in characters.
    pub bar_width: usize,
}

/// Fewest identical leaf siblings in a row that are drawn as one row.
const COLLAPSE_MIN: usize = 3;
/// Widest the name column gets; longer names are cut with `…`.
const NAME_WIDTH: usize = 56;

struct Row {
    depth: usize,
    label: String,
    service: String,
    start: Nanos,
    end: Nanos,
    duration: Nanos,
    self_time: Nanos,
    spans: Vec<usize>,
}

/// Writes the waterfall of `trace`.
pub fn write(
    set: &TraceSet,
    trace: &Trace,
    opts: &WaterfallOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let selfs = self_times(trace);
    let mut segments: Vec<Segment> = Vec::new();
    for &r in &trace.roots {
        segments.extend(critical_path(trace, r));
    }
    let mut on_path: Vec<Vec<(Nanos, Nanos)>> = vec![Vec::new(); trace.spans.len()];
    for s in &segments {
        on_path[s.span].push((s.start, s.end));
    }
    let rows = rows(set, trace, &selfs, opts);
    let (t0, t1) = (trace.start(), trace.end());
    let name_w = rows
        .iter()
        .map(|r| r.depth * 2 + r.label.chars().count())
        .max()
        .unwrap_or(0)
        .min(NAME_WIDTH);
    let service_w = rows
        .iter()
        .map(|r| r.service.chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    writeln!(
        out,
        "trace {}  {} spans  {}  ({} on the critical path: {})",
        set.trace_label(trace),
        trace.spans.len(),
        duration(t1 - t0),
        if opts.color { "red" } else { "█" },
        if opts.color {
            "others dim"
        } else {
            "others ░"
        }
    )?;
    writeln!(
        out,
        "{:name_w$}  {:service_w$}  {:>9}  {:>9}  {:>9}  timeline",
        "span", "service", "start", "duration", "self"
    )?;
    for row in &rows {
        let mut name = format!("{}{}", "  ".repeat(row.depth), row.label);
        if name.chars().count() > name_w {
            name = name
                .chars()
                .take(name_w.saturating_sub(1))
                .collect::<String>()
                + "…";
        }
        let bar = bar(row, &on_path, t0, t1, opts);
        writeln!(
            out,
            "{name:name_w$}  {:service_w$}  {:>9}  {:>9}  {:>9}  {bar}",
            row.service,
            duration(row.start - t0),
            duration(row.duration),
            duration(row.self_time),
        )?;
    }
    footer(set, trace, &segments, out)
}

/// What is left to draw: one span (and its subtree), or a run of identical
/// leaf siblings drawn as one row.
enum Item {
    Span(usize, usize),
    Run(Vec<usize>, usize),
}

/// The rows in tree order, pruned and with identical leaf runs collapsed.
fn rows(set: &TraceSet, trace: &Trace, selfs: &[Nanos], opts: &WaterfallOptions) -> Vec<Row> {
    let spans = &trace.spans;
    let name = |i: usize| set.strings.resolve(spans[i].name);
    let service = |i: usize| set.strings.resolve(spans[i].service).to_string();
    let is_leaf = |i: usize| trace.children(i).next().is_none();
    let mut out = Vec::new();
    let mut stack: Vec<Item> = trace
        .roots
        .iter()
        .rev()
        .map(|&r| Item::Span(r, 0))
        .collect();
    while let Some(item) = stack.pop() {
        let (i, depth) = match item {
            Item::Run(group, depth) => {
                out.push(Row {
                    depth,
                    label: format!("{} ×{}", name(group[0]), group.len()),
                    service: service(group[0]),
                    start: group.iter().map(|&i| spans[i].start).min().unwrap_or(0),
                    end: group.iter().map(|&i| spans[i].end).max().unwrap_or(0),
                    duration: group.iter().map(|&i| spans[i].duration()).sum(),
                    self_time: group.iter().map(|&i| selfs[i]).sum(),
                    spans: group,
                });
                continue;
            }
            Item::Span(i, depth) => (i, depth),
        };
        out.push(Row {
            depth,
            label: name(i).to_string(),
            service: service(i),
            start: spans[i].start,
            end: spans[i].end,
            duration: spans[i].duration(),
            self_time: selfs[i],
            spans: vec![i],
        });
        if opts.depth.is_some_and(|d| depth >= d) {
            continue;
        }
        let mut kids: Vec<usize> = trace
            .children(i)
            .filter(|&c| spans[c].duration() >= opts.min_duration)
            .collect();
        kids.sort_unstable_by_key(|&c| (spans[c].start, c));
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for c in kids {
            match groups.last_mut() {
                Some(g)
                    if is_leaf(c)
                        && is_leaf(g[0])
                        && spans[g[0]].service == spans[c].service
                        && spans[g[0]].name == spans[c].name =>
                {
                    g.push(c)
                }
                _ => groups.push(vec![c]),
            }
        }
        // Pushed in reverse so they pop in start order.
        for g in groups.into_iter().rev() {
            if g.len() >= COLLAPSE_MIN {
                stack.push(Item::Run(g, depth + 1));
            } else {
                stack.extend(g.into_iter().rev().map(|c| Item::Span(c, depth + 1)));
            }
        }
    }
    out
}

fn bar(
    row: &Row,
    on_path: &[Vec<(Nanos, Nanos)>],
    t0: Nanos,
    t1: Nanos,
    opts: &WaterfallOptions,
) -> String {
    let width = opts.bar_width.max(1);
    let span = (t1 - t0).max(1) as f64;
    let at = |c: usize| t0 + (span * c as f64 / width as f64) as Nanos;
    let critical = Style::new().fg_color(Some(AnsiColor::Red.into())).bold();
    let dim = Style::new().dimmed();
    let mut s = String::new();
    for c in 0..width {
        let (a, b) = (at(c), at(c + 1).max(at(c) + 1));
        let inside = row.start < b && row.end > a
            || (row.start == row.end && row.start >= a && row.start < b);
        if !inside {
            s.push(' ');
            continue;
        }
        let hot = row
            .spans
            .iter()
            .any(|&i| on_path[i].iter().any(|&(x, y)| x < b && y > a));
        match (hot, opts.color) {
            (true, true) => s.push_str(&format!("{critical}█{critical:#}")),
            (false, true) => s.push_str(&format!("{dim}█{dim:#}")),
            (true, false) => s.push('█'),
            (false, false) => s.push('░'),
        }
    }
    s
}

fn footer(
    set: &TraceSet,
    trace: &Trace,
    segments: &[Segment],
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut by_service: BTreeMap<&str, Nanos> = BTreeMap::new();
    for s in segments {
        *by_service
            .entry(set.strings.resolve(trace.spans[s.span].service))
            .or_default() += s.end - s.start;
    }
    let total: Nanos = by_service.values().sum();
    let mut rows: Vec<_> = by_service.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    writeln!(out, "\ncritical path by service:")?;
    for (service, t) in rows {
        let share = if total > 0 {
            t as f64 / total as f64
        } else {
            0.0
        };
        writeln!(
            out,
            "  {service:<24} {:>9}  {:>6}",
            duration(t),
            percent(share)
        )?;
    }
    Ok(())
}
