//! `uninstrumented`: a span with children whose own time on the critical
//! path is a large part of the unit: time that no child span explains, so
//! it is invisible to every other table (a missing database or pool span,
//! "no Postgres span instrumentation").
//!
//! Rule: a span with at least one child whose critical-path time (time on
//! the path not covered by a child) is at least `uninstrumented_min_share`
//! (25%) of the unit's duration. `total_ms` is that invisible time; no
//! saving is estimated (`estimated_savings_ms` is 0): first instrument it.

use super::{Detector, FindingKind, FindingOptions, Occurrence};
use crate::analysis::breakdown::UnitView;

/// See the module docs.
pub struct Uninstrumented;

impl Detector for Uninstrumented {
    fn kind(&self) -> FindingKind {
        FindingKind::Uninstrumented
    }

    fn detect(&self, view: &UnitView<'_>, options: &FindingOptions, out: &mut Vec<Occurrence>) {
        let spans = &view.trace.spans;
        let min = (view.duration as f64 * options.uninstrumented_min_share).ceil() as i64;
        for &i in view.members {
            let critical = view.critical[i];
            if critical <= 0 || critical < min || view.trace.children(i).next().is_none() {
                continue;
            }
            out.push(Occurrence {
                kind: self.kind(),
                service: spans[i].service,
                parent_operation: spans[i].name,
                shape: view.strings.resolve(spans[i].name).to_string(),
                count: 1,
                total: critical,
                savings: 0,
                spans: vec![i],
            });
        }
    }
}
