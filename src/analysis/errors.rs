//! The `errors` section: units grouped by where their failure happened
//! (their error locus, see [`super::error_locus`]), most traces first.

use std::collections::BTreeMap;

use super::breakdown::Breakdown;
use super::results::ErrorLocus;
use crate::model::Interner;

/// Groups every failed unit by its locus `service:operation`.
pub fn aggregate(strings: &Interner, bd: &Breakdown) -> Vec<ErrorLocus> {
    // (traces, hung, slowest unit's duration and index) per locus.
    let mut groups: BTreeMap<(&str, &str), (u64, u64, i64, usize)> = BTreeMap::new();
    for (i, unit) in bd.units.iter().enumerate() {
        let Some(l) = unit.error_locus else { continue };
        let key = (strings.resolve(l.service), strings.resolve(l.name));
        let g = groups.entry(key).or_insert((0, 0, i64::MIN, i));
        g.0 += 1;
        g.1 += u64::from(l.hung);
        if unit.duration > g.2 {
            (g.2, g.3) = (unit.duration, i);
        }
    }
    let mut out: Vec<ErrorLocus> = groups
        .into_iter()
        .map(
            |((service, operation), (traces, hung, _, example))| ErrorLocus {
                service: service.to_string(),
                operation: operation.to_string(),
                traces,
                hung,
                example_trace_id: bd.units[example].label(strings),
            },
        )
        .collect();
    out.sort_by(|a, b| {
        b.traces
            .cmp(&a.traces)
            .then_with(|| (&a.service, &a.operation).cmp(&(&b.service, &b.operation)))
    });
    out
}
