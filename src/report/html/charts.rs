//! Inline SVG charts: critical share by service (bars) and the latency
//! percentiles of the top operations (one box plot per operation on a shared
//! log axis). Every mark carries its JSON key in `data-k` and the raw JSON
//! value in `data-v`, so the page can be checked against the JSON report.

use std::fmt::Write as _;

use super::esc;
use crate::analysis::results::{OperationStats, ServiceStats};
use crate::units::{millis, percent};

/// The bar chart's drawing width (the SVGs scale down with the page).
const BARS_WIDTH: f64 = 1100.0;
/// The box plots' drawing width.
const BOXES_WIDTH: f64 = 1300.0;
/// Rows in the latency chart at most: more would be a table.
pub const MAX_BOXES: usize = 15;

/// Horizontal bars of each service's share of the critical path, the
/// suspected service (the verdict's) in red.
pub fn service_bars(services: &[ServiceStats], top: usize, suspect: Option<&str>) -> String {
    let rows: Vec<&ServiceStats> = services.iter().take(top).collect();
    if rows.is_empty() {
        return "<p class=\"muted\">(no services)</p>".to_string();
    }
    const LABEL_RIGHT: f64 = 250.0;
    const LEFT: f64 = 260.0;
    const RIGHT: f64 = 900.0;
    const ROW: f64 = 24.0;
    const TOP: f64 = 26.0;
    let max = rows.iter().map(|s| s.critical_share).fold(0.0, f64::max);
    let (axis, step) = share_axis(max);
    let height = TOP + ROW * rows.len() as f64 + 6.0;
    let x = |share: f64| LEFT + (share.clamp(0.0, axis) / axis) * (RIGHT - LEFT);
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg id=\"service-bars\" class=\"chart\" viewBox=\"0 0 {BARS_WIDTH} {height}\" \
         role=\"img\" aria-label=\"Critical share by service\">"
    );
    let ticks = (axis / step).round() as usize;
    for i in 0..=ticks {
        let t = step * i as f64;
        let tx = x(t);
        let _ = write!(
            s,
            "<line class=\"grid\" x1=\"{tx:.1}\" x2=\"{tx:.1}\" y1=\"{}\" y2=\"{height}\"/>\
             <text class=\"small\" x=\"{tx:.1}\" y=\"14\" text-anchor=\"middle\">{:.0}%</text>",
            TOP - 6.0,
            t * 100.0
        );
    }
    for (i, svc) in rows.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let class = if suspect == Some(svc.service.as_str()) {
            "bar suspected"
        } else {
            "bar"
        };
        let w = x(svc.critical_share) - LEFT;
        let _ = write!(
            s,
            "<g class=\"{class}\" data-service=\"{name}\"><title>{name}: {} of the critical path ({}; {} spans)</title>\
             <text x=\"{LABEL_RIGHT}\" y=\"{:.1}\" text-anchor=\"end\">{short}</text>\
             <rect x=\"{LEFT}\" y=\"{:.1}\" width=\"{w:.2}\" height=\"16\" data-k=\"critical_share\" data-v=\"{}\"/>\
             <text class=\"small\" x=\"{:.1}\" y=\"{:.1}\" data-k=\"critical_ms\" data-v=\"{}\">{} · {}</text></g>",
            percent(svc.critical_share),
            millis(svc.critical_ms),
            svc.spans,
            y + 13.0,
            y + 1.0,
            svc.critical_share,
            LEFT + w + 6.0,
            y + 13.0,
            svc.critical_ms,
            percent(svc.critical_share),
            millis(svc.critical_ms),
            name = esc(&svc.service),
            short = esc(&shorten(&svc.service, 38)),
        );
    }
    s.push_str("</svg>");
    s
}

/// The axis end and tick step for shares up to `max`.
fn share_axis(max: f64) -> (f64, f64) {
    if max > 0.5 {
        (((max * 5.0).ceil() / 5.0).min(1.0), 0.2)
    } else if max > 0.2 {
        ((max * 10.0).ceil() / 10.0, 0.1)
    } else {
        let axis = ((max * 20.0).ceil() / 20.0).max(0.05);
        (axis, axis / 5.0)
    }
}

/// One box plot per operation: the box runs from p50 (thick line) to p95, a
/// whisker to p99 (tick), a dashed tail to the maximum (dot), on a shared
/// log axis; the values are printed beside each row.
pub fn latency_boxes(ops: &[OperationStats], top: usize) -> String {
    let rows: Vec<&OperationStats> = ops.iter().take(top.min(MAX_BOXES)).collect();
    let values = rows
        .iter()
        .flat_map(|o| [o.p50_ms, o.p95_ms, o.p99_ms, o.max_ms])
        .filter(|v| *v > 0.0 && v.is_finite());
    let (lo, hi) = values.fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if rows.is_empty() || hi <= 0.0 {
        return "<p class=\"muted\">(no durations)</p>".to_string();
    }
    let lo_exp = lo.log10().floor() as i32;
    let mut hi_exp = hi.log10().ceil() as i32;
    if hi_exp <= lo_exp {
        hi_exp = lo_exp + 1;
    }
    const LABEL_RIGHT: f64 = 400.0;
    const LEFT: f64 = 420.0;
    const RIGHT: f64 = 960.0;
    const VALUES: f64 = 1000.0;
    const ROW: f64 = 28.0;
    const TOP: f64 = 26.0;
    let decades = f64::from(hi_exp - lo_exp);
    let x = |v: f64| {
        let v = v.max(10f64.powi(lo_exp));
        LEFT + (v.log10() - f64::from(lo_exp)) / decades * (RIGHT - LEFT)
    };
    let height = TOP + ROW * rows.len() as f64 + 6.0;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg id=\"latency-boxes\" class=\"chart\" viewBox=\"0 0 {BOXES_WIDTH} {height}\" \
         role=\"img\" aria-label=\"Latency percentiles of the top operations\">"
    );
    for e in lo_exp..=hi_exp {
        for m in [1.0, 2.0, 5.0] {
            if m > 1.0 && (e == hi_exp || decades > 3.0) {
                continue;
            }
            let v = m * 10f64.powi(e);
            let tx = x(v);
            let _ = write!(
                s,
                "<line class=\"grid\" x1=\"{tx:.1}\" x2=\"{tx:.1}\" y1=\"{}\" y2=\"{height}\"/>",
                TOP - 6.0
            );
            if m == 1.0 || decades <= 2.0 {
                let _ = write!(
                    s,
                    "<text class=\"small\" x=\"{tx:.1}\" y=\"14\" text-anchor=\"middle\">{}</text>",
                    tick_label(v)
                );
            }
        }
    }
    let _ = write!(
        s,
        "<text class=\"small\" x=\"{VALUES}\" y=\"14\">count · p50 · p95 · p99 · max</text>"
    );
    for (i, o) in rows.iter().enumerate() {
        let cy = TOP + ROW * i as f64 + 11.0;
        let name = format!("{}: {}", o.service, o.operation);
        let (p50, p95, p99, max) = (x(o.p50_ms), x(o.p95_ms), x(o.p99_ms), x(o.max_ms));
        let _ = write!(
            s,
            "<g class=\"op box\" data-op=\"{full}\"><title>{full}\n{} spans; p50 {}, p95 {}, p99 {}, max {}</title>\
             <text x=\"{LABEL_RIGHT}\" y=\"{:.1}\" text-anchor=\"end\">{short}</text>\
             <line class=\"tail\" x1=\"{p99:.2}\" x2=\"{max:.2}\" y1=\"{cy:.1}\" y2=\"{cy:.1}\"/>\
             <line class=\"whisker\" x1=\"{p95:.2}\" x2=\"{p99:.2}\" y1=\"{cy:.1}\" y2=\"{cy:.1}\"/>\
             <rect x=\"{p50:.2}\" y=\"{:.1}\" width=\"{:.2}\" height=\"14\" data-k=\"p95_ms\" data-v=\"{}\"/>\
             <line class=\"p50\" x1=\"{p50:.2}\" x2=\"{p50:.2}\" y1=\"{:.1}\" y2=\"{:.1}\" data-k=\"p50_ms\" data-v=\"{}\"/>\
             <line class=\"p99\" x1=\"{p99:.2}\" x2=\"{p99:.2}\" y1=\"{:.1}\" y2=\"{:.1}\" data-k=\"p99_ms\" data-v=\"{}\"/>\
             <circle class=\"max\" cx=\"{max:.2}\" cy=\"{cy:.1}\" r=\"3.5\" data-k=\"max_ms\" data-v=\"{}\"/>\
             <text class=\"small\" x=\"{VALUES}\" y=\"{:.1}\">{} · {} · {} · {} · {}</text></g>",
            o.count,
            millis(o.p50_ms),
            millis(o.p95_ms),
            millis(o.p99_ms),
            millis(o.max_ms),
            cy + 4.0,
            cy - 7.0,
            (p95 - p50).max(0.0),
            o.p95_ms,
            cy - 9.0,
            cy + 9.0,
            o.p50_ms,
            cy - 5.0,
            cy + 5.0,
            o.p99_ms,
            o.max_ms,
            cy + 4.0,
            o.count,
            millis(o.p50_ms),
            millis(o.p95_ms),
            millis(o.p99_ms),
            millis(o.max_ms),
            full = esc(&name),
            short = esc(&shorten(&name, 54)),
        );
    }
    s.push_str("</svg>");
    s
}

/// A round tick value in milliseconds in the unit that makes it a whole
/// number: `100 µs`, `2 ms`, `10 s`.
fn tick_label(ms: f64) -> String {
    // Powers of ten are computed, so the bounds allow for rounding.
    let (v, unit) = if ms < 0.999e-3 {
        (ms * 1e6, "ns")
    } else if ms < 0.999 {
        (ms * 1e3, "µs")
    } else if ms < 999.0 {
        (ms, "ms")
    } else {
        (ms / 1e3, "s")
    };
    format!("{v:.0} {unit}")
}

/// `text` cut to `max` characters by dropping its middle (operation names
/// differ at both ends).
fn shorten(text: &str, max: usize) -> String {
    let n = text.chars().count();
    if n <= max {
        return text.to_string();
    }
    let head = (max - 1) / 2;
    let tail = max - 1 - head;
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_axes_end_on_round_numbers() {
        assert_eq!(share_axis(0.65), (0.8, 0.2));
        assert_eq!(share_axis(1.0), (1.0, 0.2));
        assert_eq!(share_axis(0.31), (0.4, 0.1));
        assert_eq!(share_axis(0.0).0, 0.05);
    }

    #[test]
    fn ticks_are_whole_numbers_of_a_unit() {
        let labels: Vec<String> = [1e-4, 0.5, 1.0, 20.0, 1e3, 5e4, 10f64.powi(-3)]
            .into_iter()
            .map(tick_label)
            .collect();
        assert_eq!(
            labels,
            ["100 ns", "500 µs", "1 ms", "20 ms", "1 s", "50 s", "1 µs"]
        );
    }

    #[test]
    fn long_names_lose_their_middle() {
        assert_eq!(shorten("abcdefghij", 10), "abcdefghij");
        assert_eq!(shorten("abcdefghijk", 7), "abc…ijk");
    }
}
