//! Selection: which subtrees of which traces an analysis looks at.
//!
//! The unit of analysis is a subtree: by default every root of every trace
//! (one per root, so a trace with several roots contributes several); with
//! `--entry` the subtree under every span that matches, wherever it sits.

use rayon::prelude::*;
use wildmatch::WildMatch;

use crate::model::{Nanos, Trace, TraceSet};

/// A `SERVICE[:OPERATION]` pattern; each part may use `*` and `?`.
#[derive(Clone, Debug)]
pub struct SpanPattern {
    service: WildMatch,
    operation: Option<WildMatch>,
    text: String,
}

impl SpanPattern {
    /// Parses `SERVICE` or `SERVICE:OPERATION` (split at the first `:`, since
    /// operation names such as `GET /a:b` may contain more).
    pub fn parse(text: &str) -> SpanPattern {
        let (service, operation) = match text.split_once(':') {
            Some((s, o)) => (s, Some(o)),
            None => (text, None),
        };
        SpanPattern {
            service: WildMatch::new(service),
            operation: operation.map(WildMatch::new),
            text: text.to_string(),
        }
    }

    /// Whether a span of `service` named `operation` matches.
    pub fn matches(&self, service: &str, operation: &str) -> bool {
        self.service.matches(service)
            && self.operation.as_ref().is_none_or(|o| o.matches(operation))
    }

    /// The pattern as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// What to select; every field is optional and they combine with "and".
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Keep roots matching this.
    pub root: Option<SpanPattern>,
    /// Analyse the subtree under each (outermost) span matching this.
    pub entry: Option<SpanPattern>,
    /// Keep traces in which this service (pattern) appears anywhere.
    pub service: Option<WildMatch>,
    /// Keep traces that start at or after this time.
    pub since: Option<Nanos>,
    /// Keep traces that start before this time.
    pub until: Option<Nanos>,
    /// Keep units at least this long.
    pub min_duration: Option<Nanos>,
}

/// One subtree to analyse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unit {
    /// Index into [`TraceSet::traces`].
    pub trace: usize,
    /// Index of the subtree's top span in that trace.
    pub root: usize,
}

/// The units selected from `set`, in trace order then start order.
pub fn select(set: &TraceSet, selection: &Selection) -> Vec<Unit> {
    // Trace by trace on the pool (each trace is a few cache misses away,
    // and a set holds 10^5 of them); rayon's collect keeps trace order.
    set.traces
        .par_iter()
        .enumerate()
        .flat_map_iter(|(ti, trace)| {
            let mut units = Vec::new();
            if trace_matches(set, trace, selection) {
                let roots = trace.roots.iter().copied().filter(|&r| {
                    selection
                        .root
                        .as_ref()
                        .is_none_or(|p| span_matches(set, trace, r, p))
                });
                for root in roots {
                    match &selection.entry {
                        None => units.push(Unit { trace: ti, root }),
                        Some(p) => outermost_matches(set, trace, root, p, ti, &mut units),
                    }
                }
                if let Some(min) = selection.min_duration {
                    units.retain(|u| trace.spans[u.root].duration() >= min);
                }
            }
            units
        })
        .collect()
}

fn trace_matches(set: &TraceSet, trace: &Trace, selection: &Selection) -> bool {
    let start = trace.start();
    if selection.since.is_some_and(|t| start < t) || selection.until.is_some_and(|t| start >= t) {
        return false;
    }
    match &selection.service {
        None => true,
        Some(w) => trace
            .spans
            .iter()
            .any(|s| w.matches(set.strings.resolve(s.service))),
    }
}

fn span_matches(set: &TraceSet, trace: &Trace, i: usize, pattern: &SpanPattern) -> bool {
    let s = &trace.spans[i];
    pattern.matches(set.strings.resolve(s.service), set.strings.resolve(s.name))
}

/// Adds the outermost spans under `root` (itself included) that match; a
/// match inside a match is part of the outer one's subtree and would count
/// its time twice.
fn outermost_matches(
    set: &TraceSet,
    trace: &Trace,
    root: usize,
    pattern: &SpanPattern,
    ti: usize,
    units: &mut Vec<Unit>,
) {
    let mut found = Vec::new();
    let mut stack = vec![root];
    while let Some(i) = stack.pop() {
        if span_matches(set, trace, i, pattern) {
            found.push(i);
        } else {
            stack.extend(trace.children(i));
        }
    }
    found.sort_unstable();
    units.extend(found.into_iter().map(|root| Unit { trace: ti, root }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_split_at_first_colon_and_take_wildcards() {
        let p = SpanPattern::parse("api:GET /a:b");
        assert!(p.matches("api", "GET /a:b"));
        assert!(!p.matches("api", "GET /a"));
        let w = SpanPattern::parse("*-api");
        assert!(w.matches("aaa-api", "anything"));
        assert!(!w.matches("aaa-worker", "anything"));
        let o = SpanPattern::parse("api:GET *");
        assert!(o.matches("api", "GET /users"));
        assert!(!o.matches("api", "POST /users"));
    }
}
