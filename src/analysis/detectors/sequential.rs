//! `sequential_calls`: calls to different services or of different shapes
//! made one after another under one parent, which could run concurrently
//! ("reverse geocoding, bulk intel requests and assets are fetched one after
//! another but are independent").
//!
//! Rule: under one parent, a run of at least two calls, each lasting at least
//! `sequential_min_call` (30 ms), each starting no earlier than the previous
//! one ends, with at least two distinct service/shape pairs, whose saving is
//! at least `sequential_min_savings` (100 ms). Calls are HTTP calls, client
//! or producer spans, spans in another service than their parent, and
//! `SELECT` queries. Like Sentry's consecutive-DB rule, other statements
//! (writes, `connect`, `SET`) are not calls here: their order usually
//! matters. Unlike Sentry's consecutive-HTTP rule (six sequential pages of
//! one endpoint), repeats of one shape are left to `n_plus_one`.
//! Independence cannot be seen in a trace; the finding says the calls *could*
//! overlap if they do not depend on each other.
//!
//! Saving model: run concurrently, the run takes as long as its longest call:
//! saving = sum − max.

use super::{Detector, FindingOptions, Occurrence};
use crate::analysis::breakdown::UnitView;
use crate::analysis::shape::ShapeKind;
use crate::model::{Nanos, SpanKind};

/// See the module docs.
pub struct SequentialCalls;

impl Detector for SequentialCalls {
    fn kind(&self) -> &'static str {
        "sequential_calls"
    }

    fn detect(&self, view: &UnitView<'_>, options: &FindingOptions, out: &mut Vec<Occurrence>) {
        let spans = &view.trace.spans;
        for &parent in view.members {
            let mut calls: Vec<usize> = view
                .trace
                .children(parent)
                .filter(|&c| {
                    spans[c].duration() >= options.sequential_min_call && is_call(view, parent, c)
                })
                .collect();
            if calls.len() < 2 {
                continue;
            }
            calls.sort_unstable_by_key(|&i| (spans[i].start, i));
            let mut run: Vec<usize> = Vec::new();
            for c in calls {
                if let Some(&last) = run.last() {
                    if spans[c].start < spans[last].end {
                        self.report(view, parent, &run, options, out);
                        run.clear();
                    }
                }
                run.push(c);
            }
            self.report(view, parent, &run, options, out);
        }
    }
}

impl SequentialCalls {
    fn report(
        &self,
        view: &UnitView<'_>,
        parent: usize,
        run: &[usize],
        options: &FindingOptions,
        out: &mut Vec<Occurrence>,
    ) {
        if run.len() < 2 {
            return;
        }
        let spans = &view.trace.spans;
        let mut keys: Vec<_> = run
            .iter()
            .map(|&i| (spans[i].service, view.shapes[i]))
            .collect();
        keys.sort_unstable_by_key(|&(s, shape)| (s, shape.text, shape.kind));
        keys.dedup();
        if keys.len() < 2 {
            return;
        }
        let total: Nanos = run.iter().map(|&i| spans[i].duration()).sum();
        let longest = run.iter().map(|&i| spans[i].duration()).max().unwrap_or(0);
        let savings = total - longest;
        if savings < options.sequential_min_savings {
            return;
        }
        let shape = run
            .iter()
            .map(|&i| view.strings.resolve(view.shapes[i].text))
            .collect::<Vec<_>>()
            .join(" | ");
        out.push(Occurrence {
            kind: self.kind(),
            service: spans[parent].service,
            parent_operation: spans[parent].name,
            shape,
            count: run.len() as u64,
            total,
            savings,
            spans: run.to_vec(),
        });
    }
}

/// Whether a child span is a call that could, in principle, overlap others.
fn is_call(view: &UnitView<'_>, parent: usize, child: usize) -> bool {
    let spans = &view.trace.spans;
    let shape = view.shapes[child];
    match shape.kind {
        ShapeKind::Http => true,
        ShapeKind::Query => {
            let text = view.strings.resolve(shape.text).trim_start();
            text.get(..6)
                .is_some_and(|w| w.eq_ignore_ascii_case("select"))
        }
        ShapeKind::Operation => {
            matches!(spans[child].kind, SpanKind::Client | SpanKind::Producer)
                || spans[child].service != spans[parent].service
        }
    }
}
