//! The summary of a trace set: counts, time range, formats, data quality.
//! Both `stats` and the `summary` section of `analyze` show it.

use std::collections::BTreeMap;

use rayon::prelude::*;
use rustc_hash::FxHashSet;
use serde::Serialize;

use crate::ingest::Ingested;
use crate::model::{Nanos, Quality, Sym, TraceSet};

/// What was read.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Traces read.
    pub traces: u64,
    /// Spans read (after dropping duplicates).
    pub spans: u64,
    /// Distinct services.
    pub services: u64,
    /// Inputs read.
    pub inputs: u64,
    /// Files found in folders and skipped: their content is no trace format.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_inputs: Vec<String>,
    /// Earliest span start and latest span end.
    pub time_range: Option<TimeRange>,
    /// Spans read per input format.
    pub spans_per_format: BTreeMap<String, u64>,
    /// Data-quality counts and examples.
    pub data_quality: Quality,
}

/// A span of wall-clock time.
#[derive(Clone, Debug, Serialize)]
pub struct TimeRange {
    /// The start, RFC 3339 (UTC).
    pub start: String,
    /// The end, RFC 3339 (UTC).
    pub end: String,
    /// The start in nanoseconds since the Unix epoch.
    pub start_unix_nano: Nanos,
    /// The end in nanoseconds since the Unix epoch.
    pub end_unix_nano: Nanos,
}

/// What a trace set (or several parts of one) holds, summed part by part.
#[derive(Clone, Debug, Default)]
pub struct SetFacts {
    traces: u64,
    spans: u64,
    services: FxHashSet<Sym>,
    range: Option<(Nanos, Nanos)>,
    quality: Quality,
}

impl SetFacts {
    /// Adds one set (or one part of a spilled input).
    pub fn add(&mut self, set: &TraceSet) {
        // A walk of every span: on the pool, since on one core it was a
        // stretch where the other stood idle.
        let (services, range) = set
            .traces
            .par_iter()
            .fold(
                || (FxHashSet::default(), None),
                |(mut services, mut range), trace| {
                    for span in &trace.spans {
                        services.insert(span.service);
                        range = widen(range, (span.start, span.end));
                    }
                    (services, range)
                },
            )
            .reduce(
                || (FxHashSet::default(), None),
                |(mut a, ra), (b, rb)| {
                    a.extend(b);
                    (a, rb.map_or(ra, |r| widen(ra, r)))
                },
            );
        self.services.extend(services);
        if let Some(r) = range {
            self.range = widen(self.range, r);
        }
        self.traces += set.traces.len() as u64;
        self.spans += set.span_count() as u64;
        self.quality.merge(set.quality.clone());
    }
}

/// `range` widened to cover `by`.
fn widen(range: Option<(Nanos, Nanos)>, by: (Nanos, Nanos)) -> Option<(Nanos, Nanos)> {
    Some(match range {
        None => by,
        Some((s, e)) => (s.min(by.0), e.max(by.1)),
    })
}

impl Summary {
    /// Summarises what ingest produced.
    pub fn from_ingested(ingested: &Ingested) -> Summary {
        let mut facts = SetFacts::default();
        facts.add(&ingested.set);
        Summary::from_facts(ingested, facts)
    }

    /// Summarises what ingest produced, with the facts of its trace set
    /// gathered part by part (`ingested.set` itself is not looked at).
    pub fn from_facts(ingested: &Ingested, facts: SetFacts) -> Summary {
        Summary {
            traces: facts.traces,
            spans: facts.spans,
            services: facts.services.len() as u64,
            inputs: ingested.inputs as u64,
            skipped_inputs: ingested.skipped.clone(),
            time_range: facts.range.map(|(s, e)| TimeRange {
                start: rfc3339(s),
                end: rfc3339(e),
                start_unix_nano: s,
                end_unix_nano: e,
            }),
            spans_per_format: ingested
                .spans_per_format
                .iter()
                .map(|(f, n)| (f.name().to_string(), *n))
                .collect(),
            data_quality: facts.quality,
        }
    }
}

/// Formats nanoseconds since the epoch as RFC 3339; times before the epoch
/// (broken clocks) are shown as raw numbers.
pub fn rfc3339(ns: Nanos) -> String {
    match u64::try_from(ns) {
        Ok(n) => {
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(n);
            humantime::format_rfc3339_nanos(t).to_string()
        }
        Err(_) => format!("{ns} ns"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times() {
        assert_eq!(rfc3339(1_000_000_000), "1970-01-01T00:00:01.000000000Z");
        assert_eq!(rfc3339(-5), "-5 ns");
    }
}
