//! Cross-service cascades: per unit, the chain of services from the root's
//! service down to the culprit, the service holding the most critical-path
//! time; aggregated over units by chain.
//!
//! Critical-path time is by construction time in which a span was doing its
//! own work (or waiting uninstrumented), not waiting for a child, so the
//! service that holds most of it is where the latency originates; every
//! service above it in the chain was waiting on it.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use super::breakdown::{Breakdown, UnitView};
use super::percentile::nearest_rank;
use super::results::{Cascade, CascadeLevel, ms, share};
use crate::model::{Interner, Nanos, Sym};

/// What one unit says about its cascade.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CascadeObs {
    /// Services from the root's down to the culprit.
    pub chain: Vec<Sym>,
    /// The culprit's critical-path time in this unit.
    pub culprit_critical: Nanos,
    /// Per chain level, the duration of that service's topmost span on the
    /// way down (its server-side time).
    pub levels: Vec<Nanos>,
}

/// The cascade of one unit, or `None` when its critical path is empty.
pub fn observe(view: &UnitView<'_>) -> Option<CascadeObs> {
    let spans = &view.trace.spans;
    let mut per_service: FxHashMap<Sym, Nanos> = FxHashMap::default();
    for seg in view.segments {
        *per_service.entry(spans[seg.span].service).or_default() += seg.end - seg.start;
    }
    // Ties go to the service named first in symbol order, for stability.
    let (&culprit, &culprit_critical) = per_service
        .iter()
        .filter(|&(_, &t)| t > 0)
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))?;
    // The culprit's span holding most of its critical time anchors the chain.
    let anchor = view
        .segments
        .iter()
        .filter(|s| spans[s.span].service == culprit)
        .max_by_key(|s| (view.critical[s.span], std::cmp::Reverse(s.span)))?
        .span;
    let mut path = vec![anchor];
    let mut at = anchor;
    while at != view.root {
        match view.trace.parent(at) {
            Some(p) => {
                path.push(p);
                at = p;
            }
            None => break,
        }
    }
    path.reverse();
    let mut chain = Vec::new();
    let mut levels = Vec::new();
    for &i in &path {
        if chain.last() != Some(&spans[i].service) {
            chain.push(spans[i].service);
            levels.push(spans[i].duration().max(0));
        }
    }
    Some(CascadeObs {
        chain,
        culprit_critical,
        levels,
    })
}

/// Aggregates every unit's cascade by chain, largest culprit time first.
pub fn aggregate(strings: &Interner, bd: &Breakdown, total_root: Nanos) -> Vec<Cascade> {
    struct Acc {
        traces: u64,
        culprit: Nanos,
        levels: Vec<Vec<Nanos>>,
        example: (Nanos, usize),
    }
    let mut groups: BTreeMap<Vec<&str>, Acc> = BTreeMap::new();
    for (ui, unit) in bd.units.iter().enumerate() {
        let Some(obs) = &unit.cascade else { continue };
        let key: Vec<&str> = obs.chain.iter().map(|&s| strings.resolve(s)).collect();
        let acc = groups.entry(key).or_insert_with(|| Acc {
            traces: 0,
            culprit: 0,
            levels: vec![Vec::new(); obs.levels.len()],
            example: (Nanos::MIN, ui),
        });
        acc.traces += 1;
        acc.culprit += obs.culprit_critical;
        for (level, &d) in acc.levels.iter_mut().zip(&obs.levels) {
            level.push(d);
        }
        if unit.duration > acc.example.0 {
            acc.example = (unit.duration, ui);
        }
    }
    let total = ms(total_root);
    let mut out: Vec<Cascade> = groups
        .into_iter()
        .map(|(chain, mut acc)| {
            let levels = chain
                .iter()
                .zip(acc.levels.iter_mut())
                .map(|(service, durations)| {
                    durations.sort_unstable();
                    CascadeLevel {
                        service: service.to_string(),
                        p50_ms: ms(nearest_rank(durations, 0.50)),
                        p99_ms: ms(nearest_rank(durations, 0.99)),
                    }
                })
                .collect();
            Cascade {
                culprit: chain.last().map(|s| s.to_string()).unwrap_or_default(),
                chain: chain.iter().map(|s| s.to_string()).collect(),
                traces: acc.traces,
                culprit_critical_ms: ms(acc.culprit),
                share: share(ms(acc.culprit), total),
                levels,
                example_trace_id: bd.units[acc.example.1].label(strings),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.culprit_critical_ms
            .total_cmp(&a.culprit_critical_ms)
            .then_with(|| a.chain.cmp(&b.chain))
    });
    out
}
