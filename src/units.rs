//! Human-readable durations and numbers, for reports and for the verdict
//! sentences the analysis writes.

use crate::model::Nanos;

/// Formats a duration with three significant figures and a unit:
/// `850 ns`, `12.6 µs`, `3.40 ms`, `12.6 s`, `4.2 min`.
pub fn duration(ns: Nanos) -> String {
    let sign = if ns < 0 { "-" } else { "" };
    let v = ns.unsigned_abs() as f64;
    let (value, unit) = if v < 1e3 {
        return format!("{sign}{} ns", ns.unsigned_abs());
    } else if v < 1e6 {
        (v / 1e3, "µs")
    } else if v < 1e9 {
        (v / 1e6, "ms")
    } else if v < 60e9 {
        (v / 1e9, "s")
    } else if v < 3600e9 {
        (v / 60e9, "min")
    } else {
        (v / 3600e9, "h")
    };
    format!("{sign}{} {unit}", three_figures(value))
}

/// Formats milliseconds (as in the JSON report) the same way as [`duration`].
pub fn millis(ms: f64) -> String {
    duration((ms * 1e6).round() as Nanos)
}

/// A fraction in [0, 1] as a percentage with one decimal.
pub fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

fn three_figures(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humanises() {
        assert_eq!(duration(850), "850 ns");
        assert_eq!(duration(850_000), "850 µs");
        assert_eq!(duration(12_600_000_000), "12.6 s");
        assert_eq!(duration(3_400_000), "3.40 ms");
        assert_eq!(duration(-2_000), "-2.00 µs");
        assert_eq!(duration(252_000_000_000), "4.20 min");
        assert_eq!(millis(0.5), "500 µs");
        assert_eq!(percent(0.8312), "83.1%");
    }
}
