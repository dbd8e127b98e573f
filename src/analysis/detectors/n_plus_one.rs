//! `n_plus_one`: the same call repeated under one parent, one after another,
//! where one batched call would do ("a query per record in a loop").
//!
//! Rule: among calls (queries, HTTP calls, client/producer spans, spans in
//! another service; not in-process work), at least `n_plus_one_min` (5) siblings with the same service and
//! shape (query shape, HTTP method + parameterised URL, or operation name)
//! whose summed duration is at least `n_plus_one_min_total` (50 ms), running
//! mostly one after another (≥ 80% of consecutive pairs do not overlap).
//! Like Sentry's N+1 DB detector, a loop whose input came from a key/value
//! read (the sibling just before the first repeat is a Redis/Memcached
//! command) is a cache fill, not reported; repeated key/value commands are
//! reported as `n_plus_one_cache`, which Sentry does not check at all.
//!
//! Saving model: one batched call costs about as long as the slowest single
//! call, so the saving is the repeats' critical-path time minus the longest
//! repeat (never negative).

use super::siblings::{MOSTLY_SEQUENTIAL, repeated_groups, sequential_fraction};
use super::{Detector, FindingKind, FindingOptions, Occurrence};
use crate::analysis::breakdown::UnitView;
use crate::analysis::shape::ShapeKind;
use crate::model::Nanos;
use crate::normalize::is_key_value_system;

/// See the module docs.
pub struct NPlusOne;

impl Detector for NPlusOne {
    fn kind(&self) -> FindingKind {
        FindingKind::NPlusOne
    }

    fn detect(&self, view: &UnitView<'_>, options: &FindingOptions, out: &mut Vec<Occurrence>) {
        let spans = &view.trace.spans;
        for group in repeated_groups(view, options.n_plus_one_min) {
            let total: Nanos = group
                .spans
                .iter()
                .map(|&i| spans[i].duration().max(0))
                .fold(0, Nanos::saturating_add);
            if total < options.n_plus_one_min_total
                || sequential_fraction(view, &group.spans) < MOSTLY_SEQUENTIAL
            {
                continue;
            }
            let key_value = |i: usize| {
                view.shapes[i].kind == ShapeKind::Query
                    && spans[i]
                        .attrs(view.strings)
                        .db_system
                        .is_some_and(|s| is_key_value_system(view.strings.resolve(s)))
            };
            let kind = if key_value(group.spans[0]) {
                FindingKind::NPlusOneCache
            } else {
                if preceded_by_cache_read(view, &group.spans, &key_value) {
                    continue;
                }
                self.kind()
            };
            let longest = group
                .spans
                .iter()
                .map(|&i| spans[i].duration().max(0))
                .max()
                .unwrap_or(0);
            let critical: Nanos = group
                .spans
                .iter()
                .map(|&i| view.critical[i])
                .fold(0, Nanos::saturating_add);
            out.push(Occurrence {
                kind,
                service: group.service,
                parent_operation: spans[group.parent].name,
                shape: view.strings.resolve(group.shape.text).to_string(),
                count: group.spans.len() as u64,
                total,
                savings: critical.saturating_sub(longest).max(0),
                spans: group.spans.clone(),
            });
        }
    }
}

/// Whether the sibling that ends last before the first repeat starts is a
/// key/value command.
fn preceded_by_cache_read(
    view: &UnitView<'_>,
    repeats: &[usize],
    key_value: &dyn Fn(usize) -> bool,
) -> bool {
    let spans = &view.trace.spans;
    let first = repeats[0];
    let Some(parent) = view.trace.parent(first) else {
        return false;
    };
    view.trace
        .children(parent)
        .filter(|&c| !repeats.contains(&c) && spans[c].end <= spans[first].start)
        .max_by_key(|&c| (spans[c].end, c))
        .is_some_and(key_value)
}
