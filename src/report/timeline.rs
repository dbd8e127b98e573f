//! The timeline for people: a sparkline row per series in the terminal, a
//! Mermaid chart in Markdown (GitHub draws it), and the change points in
//! words. The HTML chart is in [`super::html`].

use std::io::{self, Write};

use super::units::millis;
use crate::analysis::timeline::{ChangePoint, SeriesMetric, ShiftedSeries, Timeline};

/// The widest sparkline: wider timelines show each character as the
/// highest value of the buckets it covers.
pub const MAX_SPARK: usize = 60;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Values squeezed to at most `width` cells (the highest of each group).
fn squeeze(values: &[Option<f64>], width: usize) -> Vec<Option<f64>> {
    if values.len() <= width || width == 0 {
        return values.to_vec();
    }
    let per = values.len().div_ceil(width);
    values
        .chunks(per)
        .map(|c| c.iter().flatten().copied().reduce(f64::max))
        .collect()
}

/// A row of bars scaled from 0 to the row's highest value; a blank where a
/// bucket holds nothing.
pub fn sparkline(values: &[Option<f64>], width: usize) -> String {
    let values = squeeze(values, width);
    let max = values.iter().flatten().copied().fold(0.0, f64::max);
    values
        .iter()
        .map(|v| match v {
            None => ' ',
            Some(_) if max <= 0.0 => BARS[0],
            Some(v) => {
                let level = (v / max * (BARS.len() - 1) as f64).round() as usize;
                BARS[level.min(BARS.len() - 1)]
            }
        })
        .collect()
}

/// How a value of `metric` reads.
pub fn value(metric: SeriesMetric, v: f64) -> String {
    match metric {
        SeriesMetric::Traces => format!("{v:.0}"),
        SeriesMetric::ErrorRate => super::units::percent(v),
        _ => millis(v),
    }
}

/// A change point in words: `root latency ×6.90 from 2022-08-22T05:27:09Z`.
pub fn describe(c: &ChangePoint) -> String {
    let what = match c.series {
        ShiftedSeries::RootLatency => "root latency".to_string(),
        ShiftedSeries::QueueWait => format!("queue {} wait", c.name),
    };
    let at =
        c.at.split('.')
            .next()
            .unwrap_or(&c.at)
            .trim_end_matches('Z');
    format!(
        "{what} ×{:.2} from {at}Z (t = {:.1}; {} before, {} after)",
        c.ratio, c.z, c.before, c.after
    )
}

/// The column (of a sparkline `width` wide) a time falls in.
fn column(t: &Timeline, at: i64, width: usize) -> usize {
    let bucket =
        (at.saturating_sub(t.start_unix_nano) as f64 / (t.bucket_ms * 1e6)).floor() as usize;
    let per = if t.buckets <= width {
        1
    } else {
        t.buckets.div_ceil(width)
    };
    bucket / per
}

/// The terminal timeline: title, one sparkline row per series with its
/// range, a marker row under each change point, and the change points.
pub fn write_terminal(t: &Timeline, out: &mut dyn Write) -> io::Result<()> {
    let start = t.start.split('.').next().unwrap_or(&t.start);
    writeln!(
        out,
        "\nTimeline ({} buckets of {} from {start}; each row from 0 to its highest value)",
        t.buckets,
        millis(t.bucket_ms)
    )?;
    let label_width = t
        .series
        .iter()
        .map(|s| s.label.chars().count())
        .max()
        .unwrap_or(0)
        .min(36);
    let mut spark_width = 0;
    for s in &t.series {
        let line = sparkline(&s.values, MAX_SPARK);
        spark_width = spark_width.max(line.chars().count());
        let high = s.values.iter().flatten().copied().fold(0.0, f64::max);
        let label: String = s.label.chars().take(label_width).collect();
        writeln!(
            out,
            "  {label:<label_width$}  {line}  max {}",
            value(s.metric, high)
        )?;
    }
    if !t.change_points.is_empty() {
        let mut marks = vec![' '; spark_width];
        for c in &t.change_points {
            if let Some(m) = marks.get_mut(column(t, c.at_unix_nano, MAX_SPARK)) {
                *m = '▲';
            }
        }
        let marks: String = marks.into_iter().collect();
        writeln!(out, "  {:<label_width$}  {marks}", "change")?;
        for c in &t.change_points {
            writeln!(out, "  ▲ {}", describe(c))?;
        }
    }
    Ok(())
}

/// A Mermaid `xychart-beta` of root p50 and p99 per bucket, and the change
/// points as a list.
pub fn write_markdown(t: &Timeline, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "### Timeline\n")?;
    let series = |m: SeriesMetric| t.series.iter().find(|s| s.metric == m);
    let (Some(p50), Some(p99)) = (
        series(SeriesMetric::RootP50Ms),
        series(SeriesMetric::RootP99Ms),
    ) else {
        return Ok(());
    };
    // Mermaid has no gaps in a line: empty buckets are left out, and the
    // x axis names each bucket's start (UTC).
    let kept: Vec<usize> = (0..t.buckets)
        .filter(|&i| p50.values.get(i).is_some_and(Option::is_some))
        .collect();
    let numbers = |values: &[Option<f64>]| {
        kept.iter()
            .map(|&i| format!("{:.1}", values[i].unwrap_or(0.0)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let width = (t.bucket_ms * 1e6).round() as i64;
    let clock = |i: usize| {
        let at = t
            .start_unix_nano
            .saturating_add(width.saturating_mul(i as i64));
        let text = crate::analysis::summary::rfc3339(at);
        // 2024-03-12T09:00:30.000000000Z → 09:00:30
        text.get(11..19).unwrap_or(&text).to_string()
    };
    let labels: Vec<String> = kept.iter().map(|&i| format!("\"{}\"", clock(i))).collect();
    let high = p99.values.iter().flatten().copied().fold(0.0, f64::max);
    writeln!(out, "```mermaid\nxychart-beta")?;
    writeln!(
        out,
        "    title \"Root latency per {} bucket (ms; p50 below, p99 above)\"",
        millis(t.bucket_ms)
    )?;
    writeln!(out, "    x-axis [{}]", labels.join(", "))?;
    writeln!(out, "    y-axis \"ms\" 0 --> {:.0}", high.ceil().max(1.0))?;
    writeln!(out, "    line [{}]", numbers(&p50.values))?;
    writeln!(out, "    line [{}]", numbers(&p99.values))?;
    writeln!(out, "```\n")?;
    if t.change_points.is_empty() {
        writeln!(out, "No change point: root latency held its level.\n")?;
    }
    for c in &t.change_points {
        writeln!(out, "- Change point: {}", describe(c))?;
    }
    if !t.change_points.is_empty() {
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_scale_to_the_row_and_leave_empty_buckets_blank() {
        let values = [Some(0.0), Some(1.0), None, Some(7.0), Some(3.5)];
        assert_eq!(sparkline(&values, 60), "▁▂ █▅");
        assert_eq!(sparkline(&[Some(0.0), Some(0.0)], 60), "▁▁");
        // Squeezed: the highest of each pair.
        let long: Vec<Option<f64>> = (0..8).map(|i| Some(f64::from(i))).collect();
        assert_eq!(sparkline(&long, 4), "▂▄▆█");
    }
}
