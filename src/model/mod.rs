//! The model: spans normalised from every format, grouped into traces.
//!
//! Readers in [`crate::ingest`] produce [`TracedSpan`]s (a [`Span`] and its
//! trace's id); [`TraceSet::build`] groups them by trace id across all
//! inputs and builds one [`Trace`] each, a [`Tree`] of spans that keeps the
//! id once.

mod attrs;
mod group;
mod ids;
mod intern;
mod parent_service;
mod process_service;
mod quality;
pub mod shape_cache;
mod shared;
mod span;
pub mod spill;
#[cfg(test)]
pub mod testutil;
mod trace;
mod trace_spans;
mod tree;

pub use attrs::{AttrKey, Attrs, AttrsBuilder, Shape, ShapeKind};
pub use ids::{IdError, SpanId, TraceId, TraceIdMemo};
pub use intern::{AttrsId, Interner, Sym};
pub use parent_service::adopt_parent_services;
pub use process_service::ProcessServices;
pub use quality::{
    Count, EXAMPLES_PER_COUNT, Location, MAX_EXAMPLES, Problem, Quality, SpanExample, TraceIssues,
};
pub use shared::{server_half_id, split_shared};
pub use span::{
    EARLIEST, IdSharing, LATEST, Links, Nanos, Origin, ServiceFrom, Span, SpanKind, SpanLink,
    Status, TracedSpan, check_times,
};
pub use trace::Trace;
pub use trace_spans::TraceSpans;
pub use tree::Tree;

use std::sync::Arc;

/// Every trace read, with the strings they refer to and the data-quality
/// summary of both reading and building.
#[derive(Debug)]
pub struct TraceSet {
    /// The traces, ordered by trace id.
    pub traces: Vec<Trace>,
    /// The interned strings the spans refer to (shared with the other
    /// parts of a spilled input).
    pub strings: Arc<Interner>,
    /// Integrity problems found while reading and building.
    pub quality: Quality,
}

impl TraceSet {
    /// Groups spans by trace id and builds each trace graph, in parallel.
    pub fn build(
        spans: Vec<TracedSpan>,
        strings: impl Into<Arc<Interner>>,
        quality: Quality,
    ) -> TraceSet {
        TraceSet::from_batches(vec![spans], strings, quality)
    }

    /// [`TraceSet::build`] over spans read as several vectors (an input's
    /// windows, or several inputs), which are never joined into one (see
    /// [`group`]).
    pub fn from_batches(
        batches: Vec<Vec<TracedSpan>>,
        strings: impl Into<Arc<Interner>>,
        quality: Quality,
    ) -> TraceSet {
        let strings: Arc<Interner> = strings.into();
        // Reading is done: every block the spans name is interned.
        strings.freeze_attrs();
        let (traces, built) = group::traces(batches, &strings, group::SPANS_PER_BUCKET);
        let mut all = quality;
        all.merge(built);
        TraceSet {
            traces,
            strings,
            quality: all,
        }
    }

    /// Counts every span link whose target span is not in the set, with
    /// examples at the linking span. Only for a set holding the whole input:
    /// a part of a spilled input would count links into other parts.
    pub fn count_unresolved_links(&mut self) {
        use rayon::prelude::*;
        // Nearly no span has links, but finding the few that do visits
        // every span: that walk runs on the pool (on one core it was a
        // stretch where the other stood idle), and only the links it
        // finds are looked up, in the order of the spans, as before.
        let links: Vec<(usize, usize, SpanLink)> = self
            .traces
            .par_iter()
            .enumerate()
            .flat_map_iter(|(t, trace)| {
                trace.spans.iter().enumerate().flat_map(move |(i, span)| {
                    span.links
                        .iter()
                        .flat_map(|l| l.iter())
                        .map(move |&link| (t, i, link))
                })
            })
            .collect();
        let mut span_ids: rustc_hash::FxHashMap<usize, Vec<SpanId>> = Default::default();
        for (t, i, link) in links {
            let (trace, span) = (&self.traces[t], &self.traces[t].spans[i]);
            let found = self
                .traces
                .binary_search_by_key(&link.trace_id, |t| t.id)
                .is_ok_and(|t| {
                    let ids = span_ids.entry(t).or_insert_with(|| {
                        let mut ids: Vec<SpanId> =
                            self.traces[t].spans.iter().map(|s| s.span_id).collect();
                        ids.sort_unstable();
                        ids
                    });
                    ids.binary_search(&link.span_id).is_ok()
                });
            if !found {
                self.quality.count(Count::UnresolvedLinks, || SpanExample {
                    file: span
                        .origin
                        .file()
                        .map(|f| self.strings.resolve(f).to_string()),
                    location: span.origin.location(),
                    trace_id: trace.id.to_string(),
                    span_id: span.span_id.to_string(),
                    message: format!(
                        "links to span {} of trace {}, which is not in the input",
                        link.span_id, link.trace_id
                    ),
                });
            }
        }
    }

    /// The number of spans held.
    pub fn span_count(&self) -> usize {
        self.traces.iter().map(|t| t.spans.len()).sum()
    }

    /// How a trace is shown to users: its original id text, or hex.
    pub fn trace_label(&self, trace: &Trace) -> String {
        match trace.label {
            Some(sym) => self.strings.resolve(sym).to_string(),
            None => trace.id.to_string(),
        }
    }
}
