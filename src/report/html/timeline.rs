//! The timeline as inline SVG line charts: root latency (p50 and p99) per
//! bucket, and each queue destination's p99 wait, with a dashed marker at
//! every change point. Points carry their JSON key in `data-k` and value in
//! `data-v`, like the other charts.

use std::fmt::Write as _;

use super::esc;
use crate::analysis::timeline::{SeriesMetric, ShiftedSeries, Timeline};
use crate::report::timeline::describe;
use crate::units::millis;

const WIDTH: f64 = 1100.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 1080.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 190.0;

/// The timeline section's body: the charts, then the change points.
pub fn charts(t: &Timeline) -> String {
    let mut s = String::new();
    let find = |m: SeriesMetric| t.series.iter().filter(move |x| x.metric == m);
    let lines: Vec<_> = find(SeriesMetric::RootP50Ms)
        .chain(find(SeriesMetric::RootP99Ms))
        .collect();
    chart(
        &mut s,
        t,
        "timeline-root",
        "Root duration per bucket: p50 (solid), p99 (dashed)",
        &lines,
        ShiftedSeries::RootLatency,
        "",
    );
    for (k, q) in find(SeriesMetric::QueueWaitP99Ms).enumerate() {
        chart(
            &mut s,
            t,
            // Numbered: two destination names can share a slug.
            &format!("timeline-queue-{k}-{}", slug(&q.name)),
            &format!(
                "Queue {} wait p99 per bucket (by when messages were sent)",
                q.name
            ),
            &[q],
            ShiftedSeries::QueueWait,
            &q.name,
        );
    }
    if t.change_points.is_empty() {
        s.push_str("<p class=\"muted\">No change point: root latency and queue waits held their level.</p>");
    } else {
        s.push_str("<ul id=\"change-points\">");
        for c in &t.change_points {
            let _ = write!(
                s,
                "<li data-k=\"at_unix_nano\" data-v=\"{}\">{}</li>",
                c.at_unix_nano,
                esc(&describe(c))
            );
        }
        s.push_str("</ul>");
    }
    s
}

fn slug(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// One line chart of `series` over the buckets, with the change points of
/// `shifted` (and `name`) marked.
fn chart(
    s: &mut String,
    t: &Timeline,
    id: &str,
    title: &str,
    series: &[&crate::analysis::timeline::Series],
    shifted: ShiftedSeries,
    name: &str,
) {
    let high = series
        .iter()
        .flat_map(|x| x.values.iter().flatten())
        .copied()
        .fold(0.0, f64::max);
    if high <= 0.0 {
        return;
    }
    let n = t.buckets.max(2) as f64;
    let x = |i: f64| LEFT + i / (n - 1.0) * (RIGHT - LEFT);
    let y = |v: f64| BOTTOM - v / high * (BOTTOM - TOP);
    let _ = write!(
        s,
        "<h3>{}</h3><svg id=\"{id}\" class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\">",
        esc(title),
        esc(title)
    );
    for k in 0..=4 {
        let v = high * f64::from(k) / 4.0;
        let _ = write!(
            s,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{RIGHT}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>\
             <text class=\"small\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LEFT - 6.0,
            y(v) + 4.0,
            esc(&millis(v)),
            y = y(v)
        );
    }
    let _ = write!(
        s,
        "<text class=\"small\" x=\"{LEFT}\" y=\"{}\">{}</text><text class=\"small\" x=\"{RIGHT}\" y=\"{}\" text-anchor=\"end\">{} buckets of {}</text>",
        BOTTOM + 18.0,
        esc(t.start.split('.').next().unwrap_or(&t.start)),
        BOTTOM + 18.0,
        t.buckets,
        esc(&millis(t.bucket_ms))
    );
    for (k, line) in series.iter().enumerate() {
        let key = serde_json::to_value(line.metric)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let class = if k == 0 { "line" } else { "line dashed" };
        let mut d = String::new();
        let mut pen = 'M';
        for (i, v) in line.values.iter().enumerate() {
            match v {
                Some(v) => {
                    let _ = write!(d, "{pen}{:.1},{:.1} ", x(i as f64), y(*v));
                    pen = 'L';
                }
                None => pen = 'M',
            }
        }
        let _ = write!(s, "<path class=\"{class}\" d=\"{}\"/>", d.trim_end());
        for (i, v) in line.values.iter().enumerate() {
            if let Some(v) = v {
                let _ = write!(
                    s,
                    "<circle class=\"pt\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"2\" data-k=\"{key}\" data-v=\"{v}\"><title>{}: {}</title></circle>",
                    x(i as f64),
                    y(*v),
                    esc(&line.label),
                    esc(&millis(*v))
                );
            }
        }
    }
    let width_ns = t.bucket_ms * 1e6;
    for c in t
        .change_points
        .iter()
        .filter(|c| c.series == shifted && c.name == name)
    {
        let at = c.at_unix_nano.saturating_sub(t.start_unix_nano) as f64 / width_ns;
        let cx = x(at.clamp(0.0, n - 1.0));
        let _ = write!(
            s,
            "<line class=\"change\" x1=\"{cx:.1}\" x2=\"{cx:.1}\" y1=\"{TOP}\" y2=\"{BOTTOM}\"><title>{}</title></line>",
            esc(&describe(c))
        );
    }
    s.push_str("</svg>");
}
