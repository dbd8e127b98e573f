//! What a check measures: one spelling each (as the JSON and JUnit outputs
//! write it), and the unit its values are shown in.

use serde::Serialize;

/// A checked metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Metric {
    /// Median duration, ms.
    #[serde(rename = "p50_ms")]
    P50Ms,
    /// 95th percentile duration, ms.
    #[serde(rename = "p95_ms")]
    P95Ms,
    /// 99th percentile duration, ms.
    #[serde(rename = "p99_ms")]
    P99Ms,
    /// Longest duration, ms.
    #[serde(rename = "max_ms")]
    MaxMs,
    /// Share of the summed root durations on the critical path.
    #[serde(rename = "critical_share")]
    CriticalShare,
    /// Share of the summed root durations as self time.
    #[serde(rename = "self_share")]
    SelfShare,
    /// Share of spans with an error status.
    #[serde(rename = "error_rate")]
    ErrorRate,
    /// Spans in the largest analysed subtree.
    #[serde(rename = "spans_per_trace")]
    SpansPerTrace,
    /// Findings of a kind.
    #[serde(rename = "count")]
    Count,
    /// Whether a rule matched anything.
    #[serde(rename = "matches")]
    Matches,
    /// Median against the baseline's, ms.
    #[serde(rename = "p50_ms vs baseline")]
    P50VsBaseline,
    /// 95th percentile against the baseline's, ms.
    #[serde(rename = "p95_ms vs baseline")]
    P95VsBaseline,
    /// 99th percentile against the baseline's, ms.
    #[serde(rename = "p99_ms vs baseline")]
    P99VsBaseline,
    /// Operations with a percentile over the allowed regression.
    #[serde(rename = "regressed operations")]
    RegressedOperations,
}

/// How a metric's values read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Milliseconds.
    Millis,
    /// A fraction shown as a percentage.
    Share,
    /// A plain count.
    Count,
}

impl Metric {
    /// The metric's one spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::P50Ms => "p50_ms",
            Metric::P95Ms => "p95_ms",
            Metric::P99Ms => "p99_ms",
            Metric::MaxMs => "max_ms",
            Metric::CriticalShare => "critical_share",
            Metric::SelfShare => "self_share",
            Metric::ErrorRate => "error_rate",
            Metric::SpansPerTrace => "spans_per_trace",
            Metric::Count => "count",
            Metric::Matches => "matches",
            Metric::P50VsBaseline => "p50_ms vs baseline",
            Metric::P95VsBaseline => "p95_ms vs baseline",
            Metric::P99VsBaseline => "p99_ms vs baseline",
            Metric::RegressedOperations => "regressed operations",
        }
    }

    /// The unit of its values.
    pub fn unit(self) -> Unit {
        match self {
            Metric::P50Ms
            | Metric::P95Ms
            | Metric::P99Ms
            | Metric::MaxMs
            | Metric::P50VsBaseline
            | Metric::P95VsBaseline
            | Metric::P99VsBaseline => Unit::Millis,
            Metric::CriticalShare | Metric::SelfShare | Metric::ErrorRate => Unit::Share,
            Metric::SpansPerTrace
            | Metric::Count
            | Metric::Matches
            | Metric::RegressedOperations => Unit::Count,
        }
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_spelling_is_the_display_spelling() {
        for m in [
            Metric::P99Ms,
            Metric::CriticalShare,
            Metric::P50VsBaseline,
            Metric::RegressedOperations,
        ] {
            assert_eq!(serde_json::to_string(&m).unwrap(), format!("\"{m}\""));
        }
        assert_eq!(Metric::P95VsBaseline.unit(), Unit::Millis);
        assert_eq!(Metric::ErrorRate.unit(), Unit::Share);
    }
}
