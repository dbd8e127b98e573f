//! Cross-service cascades: per unit, the chain of services from the root's
//! service down to the culprit through call edges; aggregated over units by
//! chain.
//!
//! The culprit is the diagnosis's top suspect when one stands out (see
//! [`super::suspects`]): the service that explains why these traces are
//! slower than normal ones. Otherwise it is the service holding the most
//! critical-path time, which is by construction time in which a span was
//! doing its own work (or waiting uninstrumented), not waiting for a child.
//! A gap that the suspect owns (the caller's client span waiting in front of
//! it) counts as the suspect's, so the chain reaches the suspect even when
//! its own spans are short.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use super::breakdown::{Breakdown, UnitView};
use super::percentile::nearest_rank;
use super::results::{Cascade, CascadeLevel, CascadeRule, ms, share};
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
    /// The same for every other service holding critical time in the unit,
    /// so the cascade can be redrawn towards a suspect.
    pub others: Vec<CascadeObs>,
}

/// The cascade of one unit, or `None` when its critical path is empty.
pub fn observe(view: &UnitView<'_>) -> Option<CascadeObs> {
    let spans = &view.trace.spans;
    // Critical time per span as its service sees it: its own, plus that of
    // a client span in another service whose children all run here (the gap
    // in front of it).
    let mut attributed: FxHashMap<usize, Nanos> = FxHashMap::default();
    // Sums saturate: times at the i64 extremes must not wrap.
    for seg in view.segments {
        let t = attributed.entry(seg.span).or_default();
        *t = t.saturating_add(seg.end.saturating_sub(seg.start));
    }
    let gaps: Vec<(usize, Nanos)> = attributed
        .iter()
        .filter_map(|(&p, &t)| gap_callee(view, p).map(|c| (c, t)))
        .collect();
    for (callee, t) in gaps {
        let total = attributed.entry(callee).or_default();
        *total = total.saturating_add(t);
    }
    let mut per_service: FxHashMap<Sym, (Nanos, usize)> = FxHashMap::default();
    for (&i, &t) in &attributed {
        let e = per_service.entry(spans[i].service).or_insert((0, i));
        e.0 = e.0.saturating_add(t);
        let best = attributed[&e.1];
        if t > best || (t == best && i < e.1) {
            e.1 = i;
        }
    }
    let mut all: Vec<(Sym, Nanos, usize)> = per_service
        .into_iter()
        .filter(|&(_, (t, _))| t > 0)
        .map(|(s, (t, anchor))| (s, t, anchor))
        .collect();
    // Most time first; ties go to the service whose name sorts first (not
    // by symbol, whose number depends on the order spans were read in).
    let name = |s: Sym| view.strings.resolve(s);
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| name(a.0).cmp(name(b.0))));
    let mut obs: Vec<CascadeObs> = all
        .iter()
        .map(|&(culprit, t, anchor)| chain_to(view, culprit, t, anchor))
        .collect();
    if obs.is_empty() {
        return None;
    }
    let mut first = obs.remove(0);
    first.others = obs;
    Some(first)
}

/// The callee span a client span `p` waits on, when all of `p`'s children
/// run in one other service (the longest of them).
fn gap_callee(view: &UnitView<'_>, p: usize) -> Option<usize> {
    let spans = &view.trace.spans;
    let mut best: Option<usize> = None;
    for c in view.trace.children(p) {
        if spans[c].service == spans[p].service {
            return None;
        }
        match best {
            Some(b) if spans[b].service != spans[c].service => return None,
            Some(b) if spans[b].duration() >= spans[c].duration() => {}
            _ => best = Some(c),
        }
    }
    best
}

fn chain_to(
    view: &UnitView<'_>,
    _culprit: Sym,
    culprit_critical: Nanos,
    anchor: usize,
) -> CascadeObs {
    let spans = &view.trace.spans;
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
    CascadeObs {
        chain,
        culprit_critical,
        levels,
        others: Vec::new(),
    }
}

/// Aggregates every unit's cascade by chain, largest culprit time first;
/// with a `suspect`, each unit's chain goes to it where it holds time.
pub fn aggregate(
    strings: &Interner,
    bd: &Breakdown,
    total_root: Nanos,
    suspect: Option<&str>,
) -> Vec<Cascade> {
    struct Acc {
        traces: u64,
        culprit: Nanos,
        levels: Vec<Vec<Nanos>>,
        example: (Nanos, usize),
    }
    let mut groups: BTreeMap<(Vec<&str>, CascadeRule), Acc> = BTreeMap::new();
    for (ui, unit) in bd.units.iter().enumerate() {
        let Some(obs) = &unit.cascade else { continue };
        let obs = match suspect {
            Some(name) => std::iter::once(obs)
                .chain(&obs.others)
                .find(|o| o.chain.last().is_some_and(|&s| strings.resolve(s) == name))
                .unwrap_or(obs),
            None => obs,
        };
        let rule = if suspect.is_some_and(|name| {
            obs.chain
                .last()
                .is_some_and(|&s| strings.resolve(s) == name)
        }) {
            CascadeRule::TopSuspect
        } else {
            CascadeRule::MostCriticalTime
        };
        let key: Vec<&str> = obs.chain.iter().map(|&s| strings.resolve(s)).collect();
        let acc = groups.entry((key, rule)).or_insert_with(|| Acc {
            traces: 0,
            culprit: 0,
            levels: vec![Vec::new(); obs.levels.len()],
            example: (Nanos::MIN, ui),
        });
        acc.traces += 1;
        acc.culprit = acc.culprit.saturating_add(obs.culprit_critical);
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
        .map(|((chain, rule), mut acc)| {
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
                rule,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.rule
            .cmp(&a.rule)
            .then_with(|| b.culprit_critical_ms.total_cmp(&a.culprit_critical_ms))
            .then_with(|| a.chain.cmp(&b.chain))
    });
    out
}
