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
//! matters; and a query with a `WHERE` clause or a parameter may use an
//! earlier result, so it is counted as waiting in line. Unlike Sentry's consecutive-HTTP rule (six sequential pages of
//! one endpoint), repeats of one shape are left to `n_plus_one`.
//! Independence cannot be seen in a trace; the finding says the calls *could*
//! overlap if they do not depend on each other.
//!
//! Saving model (Sentry's): independent calls run concurrently while the
//! dependent ones stay in line, so the run would take the longer of the
//! longest independent call and the dependent calls' sum: saving = sum −
//! max(longest independent, sum of dependent). With only HTTP or RPC calls
//! that is sum − max.

use super::{Detector, FindingKind, FindingOptions, Occurrence};
use crate::analysis::breakdown::UnitView;
use crate::analysis::shape::ShapeKind;
use crate::model::Nanos;

use super::siblings::is_call;

/// See the module docs.
pub struct SequentialCalls;

impl Detector for SequentialCalls {
    fn kind(&self) -> FindingKind {
        FindingKind::SequentialCalls
    }

    fn detect(&self, view: &UnitView<'_>, options: &FindingOptions, out: &mut Vec<Occurrence>) {
        let spans = &view.trace.spans;
        // A run needs two calls of `sequential_min_call` under one parent,
        // and every child of a member is a member: a unit with fewer such
        // spans below its root has none. Many units of the benchmark set
        // have fewer, and walking every parent's children to find that out
        // cost 1.5% of its per-trace stage.
        let long = view
            .members
            .iter()
            .filter(|&&i| i != view.root && spans[i].duration() >= options.sequential_min_call)
            .take(2)
            .count();
        if long < 2 {
            return;
        }
        for &parent in view.members {
            // A leaf or a parent of one: no run, and no list to make.
            if view.trace.children(parent).len() < 2 {
                continue;
            }
            let mut calls: Vec<usize> = view
                .trace
                .children(parent)
                .filter(|&c| {
                    spans[c].duration() >= options.sequential_min_call
                        && is_call(view, parent, c, true)
                })
                .collect();
            if calls.len() < 2 {
                continue;
            }
            calls.sort_unstable_by_key(|&i| (spans[i].start, i));
            let mut run: Vec<usize> = Vec::new();
            for c in calls {
                if let Some(&last) = run.last()
                    && spans[c].start < spans[last].end
                {
                    self.report(view, parent, &run, options, out);
                    run.clear();
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
        // As Sentry's consecutive-DB rule: a query that filters or takes
        // parameters may use an earlier call's result, so it stays in line.
        let (independent, dependent): (Vec<usize>, Vec<usize>) =
            run.iter().partition(|&&i| !may_depend(view, i));
        if independent.is_empty() {
            return;
        }
        let total: Nanos = run
            .iter()
            .map(|&i| spans[i].duration())
            .fold(0, Nanos::saturating_add);
        let longest = independent
            .iter()
            .map(|&i| spans[i].duration())
            .max()
            .unwrap_or(0);
        let in_line: Nanos = dependent
            .iter()
            .map(|&i| spans[i].duration())
            .fold(0, Nanos::saturating_add);
        let savings = total.saturating_sub(longest.max(in_line));
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

/// Whether a call may depend on an earlier call's result: a query whose
/// shape has a `WHERE` clause or a placeholder (a literal or parameter).
fn may_depend(view: &UnitView<'_>, i: usize) -> bool {
    let shape = view.shapes[i];
    if shape.kind != ShapeKind::Query {
        return false;
    }
    let text = view.strings.resolve(shape.text);
    text.contains("%s")
        || text.contains('?')
        || text.contains('\'')
        || text.contains("$1")
        || has_number(text)
        || text.to_ascii_uppercase().contains("WHERE")
}

/// Whether `text` has a number standing on its own (not inside a name such
/// as `t1`), as a literal left in a statement would.
fn has_number(text: &str) -> bool {
    let b = text.as_bytes();
    (0..b.len()).any(|i| {
        b[i].is_ascii_digit()
            && (i == 0
                || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b'"'))
    })
}
