//! `fan_out`: the same call repeated under one parent, concurrently: no
//! latency is lost to waiting in line, but one batched call would replace
//! many (Sentry's "N+1 API calls", which are concurrent by definition).
//!
//! Rule: among calls (queries, HTTP calls, client/producer spans, spans in
//! another service; not in-process work), at least `fan_out_min` (10) siblings with the same service and shape
//! that do not run mostly one after another. Saving model: the group's wall
//! time (first start to last end) minus its longest call.

use super::siblings::{MOSTLY_SEQUENTIAL, repeated_groups, sequential_fraction};
use super::{Detector, FindingKind, FindingOptions, Occurrence};
use crate::analysis::breakdown::UnitView;
use crate::model::Nanos;

/// See the module docs.
pub struct FanOut;

impl Detector for FanOut {
    fn kind(&self) -> FindingKind {
        FindingKind::FanOut
    }

    fn detect(&self, view: &UnitView<'_>, options: &FindingOptions, out: &mut Vec<Occurrence>) {
        let spans = &view.trace.spans;
        for group in repeated_groups(view, options.fan_out_min) {
            if sequential_fraction(view, &group.spans) >= MOSTLY_SEQUENTIAL {
                continue;
            }
            let total: Nanos = group
                .spans
                .iter()
                .map(|&i| spans[i].duration().max(0))
                .fold(0, Nanos::saturating_add);
            let first = group
                .spans
                .iter()
                .map(|&i| spans[i].start)
                .min()
                .unwrap_or(0);
            let last = group.spans.iter().map(|&i| spans[i].end).max().unwrap_or(0);
            let longest = group
                .spans
                .iter()
                .map(|&i| spans[i].duration().max(0))
                .max()
                .unwrap_or(0);
            out.push(Occurrence {
                kind: self.kind(),
                service: group.service,
                parent_operation: spans[group.parent].name,
                shape: view.strings.resolve(group.shape.text).to_string(),
                count: group.spans.len() as u64,
                total,
                savings: (last - first - longest).max(0),
                spans: group.spans.clone(),
            });
        }
    }
}
