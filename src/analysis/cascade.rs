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

use polars::prelude::*;

use super::aggregate::{
    DenseIds, f64_column, percentile, slowest_unit, sums_fit, total_ns, u32_column,
};
use super::breakdown::{Breakdown, UnitView};
use super::results::{Cascade, CascadeLevel, CascadeRule, ms, share};
use crate::model::{Interner, Nanos, Sym};
use crate::table::SpanColumn;

/// What one unit says about its cascades: a [`Chain`] for every service
/// holding critical time in it, most time first. The first is the unit's
/// cascade; the others let it be redrawn towards a suspect.
///
/// The chains share three boxed slices: every unit's are held until
/// aggregation, across every spill partition, and two slices a chain (three
/// and a half chains a unit on the generator's sets) were two fifths of the
/// per-trace stage's allocations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CascadeObs {
    /// Per chain: where its services (and levels) end, and its culprit's
    /// critical-path time.
    ends: Box<[(u32, Nanos)]>,
    /// Every chain's services, one chain after another.
    services: Box<[Sym]>,
    /// Every chain's levels, as `services`.
    levels: Box<[Nanos]>,
}

/// One chain of a [`CascadeObs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chain<'a> {
    /// Services from the root's down to the culprit.
    pub services: &'a [Sym],
    /// The culprit's critical-path time in this unit.
    pub culprit_critical: Nanos,
    /// Per chain level, the duration of that service's topmost span on the
    /// way down (its server-side time).
    pub levels: &'a [Nanos],
}

impl CascadeObs {
    /// The chains, the unit's cascade first.
    pub fn chains(&self) -> impl Iterator<Item = Chain<'_>> {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|&(end, _)| end));
        starts
            .zip(self.ends.iter())
            .map(|(start, &(end, culprit_critical))| {
                let run = start as usize..end as usize;
                Chain {
                    services: &self.services[run.clone()],
                    culprit_critical,
                    levels: &self.levels[run],
                }
            })
    }

    /// The unit's cascade, its first chain.
    pub fn top(&self) -> Chain<'_> {
        self.chains()
            .next()
            .expect("`observe` makes no observation without a chain")
    }
}

/// The working vectors of [`observe`], kept by the caller from unit to
/// unit: made for each, each was an allocation a unit.
#[derive(Default)]
pub struct CascadeRoom {
    /// The chains being made, as [`CascadeObs`] holds them.
    ends: Vec<(u32, Nanos)>,
    services: Vec<Sym>,
    levels: Vec<Nanos>,
    attributed: Vec<(usize, Nanos)>,
    gaps: Vec<(usize, Nanos)>,
    by_service: Vec<(Sym, usize, Nanos)>,
    /// (service, total, anchor, the anchor's time)
    per_service: Vec<(Sym, Nanos, usize, Nanos)>,
    /// (service, total, anchor), most time first.
    all: Vec<(Sym, Nanos, usize)>,
}

/// The cascade of one unit, or `None` when its critical path is empty;
/// `room`'s vectors are its working room.
pub fn observe(view: &UnitView<'_>, room: &mut CascadeRoom) -> Option<CascadeObs> {
    let CascadeRoom {
        ends,
        services,
        levels,
        attributed,
        gaps,
        by_service,
        per_service,
        all,
    } = room;
    let spans = &view.trace.spans;
    // Critical time per span as its service sees it: its own, plus that of
    // a client span in another service whose children all run here (the gap
    // in front of it). Sorted vectors, not maps: a unit's critical path
    // touches few spans, and hashing them was most of this function's time.
    attributed.clear();
    attributed.extend(
        view.segments
            .iter()
            .map(|seg| (seg.span, view.critical[seg.span])),
    );
    attributed.sort_unstable_by_key(|&(i, _)| i);
    attributed.dedup_by_key(|&mut (i, _)| i);
    gaps.clear();
    gaps.extend(
        attributed
            .iter()
            .filter_map(|&(p, t)| gap_callee(view, p).map(|c| (c, t))),
    );
    if !gaps.is_empty() {
        attributed.extend_from_slice(gaps);
        attributed.sort_unstable_by_key(|&(i, _)| i);
        // Sums saturate: times at the i64 extremes must not wrap.
        attributed.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 = kept.1.saturating_add(later.1);
            }
            same
        });
    }
    // Per service: its total, and its span holding the most time (the
    // first such span on a tie), which anchors its chain.
    by_service.clear();
    by_service.extend(attributed.iter().map(|&(i, t)| (spans[i].service, i, t)));
    by_service.sort_unstable_by_key(|&(s, i, _)| (s, i));
    per_service.clear();
    for &(s, i, t) in by_service.iter() {
        match per_service.last_mut() {
            Some((last, total, anchor, best)) if *last == s => {
                *total = total.saturating_add(t);
                if t > *best {
                    (*anchor, *best) = (i, t);
                }
            }
            _ => per_service.push((s, t, i, t)),
        }
    }
    all.clear();
    all.extend(
        per_service
            .iter()
            .filter(|&&(_, t, _, _)| t > 0)
            .map(|&(s, t, anchor, _)| (s, t, anchor)),
    );
    // Most time first; ties go to the service whose name sorts first (not
    // by symbol, whose number depends on the order spans were read in).
    let name = |s: Sym| view.strings.resolve(s);
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| name(a.0).cmp(name(b.0))));
    if all.is_empty() {
        return None;
    }
    ends.clear();
    services.clear();
    levels.clear();
    for &(_, culprit_critical, anchor) in all.iter() {
        chain_to(view, anchor, services, levels);
        let end = u32::try_from(services.len()).expect("fewer than 4 billion levels in a unit");
        ends.push((end, culprit_critical));
    }
    // Copied from the room, so of exactly their lengths.
    Some(CascadeObs {
        ends: ends.as_slice().into(),
        services: services.as_slice().into(),
        levels: levels.as_slice().into(),
    })
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

/// Appends the chain from the unit's top span (or as high as parents go)
/// down to `anchor` to `services` and `levels`: one level per run of spans
/// of one service, whose duration is that of the run's topmost span (its
/// server-side time).
fn chain_to(view: &UnitView<'_>, anchor: usize, services: &mut Vec<Sym>, levels: &mut Vec<Nanos>) {
    let spans = &view.trace.spans;
    let start = services.len();
    let up = std::iter::successors(Some(anchor), |&at| {
        (at != view.root).then(|| view.trace.parent(at)).flatten()
    });
    for i in up {
        let duration = spans[i].duration().max(0);
        if services.len() > start && services.last() == Some(&spans[i].service) {
            // Walking up: a higher span of the same run.
            *levels.last_mut().expect("a level per run") = duration;
        } else {
            services.push(spans[i].service);
            levels.push(duration);
        }
    }
    services[start..].reverse();
    levels[start..].reverse();
}

/// The observation rows of [`aggregate`]: one per unit with a cascade, and
/// one per level of each.
#[derive(Default)]
struct Rows {
    /// Per unit: its chain's number, in first-seen order (two symbols
    /// never resolve to one string, so chains of symbols group as their
    /// names would), and whether the chain ends in the suspect, as one key
    /// (see [`group_key`]).
    group: Vec<u64>,
    /// The culprit's critical-path time.
    culprit: Vec<Nanos>,
    /// The unit's duration, which picks the example.
    dur: Vec<Nanos>,
    /// The unit's index.
    unit: Vec<u32>,
    /// Per unit × level: the unit's group, the group and level as one
    /// key (see [`level_key`]), and the level's duration.
    level_group: Vec<u64>,
    level_key: Vec<u64>,
    level_dur: Vec<Nanos>,
}

/// Aggregates every unit's cascade by chain, largest culprit time first;
/// with a `suspect`, each unit's chain goes to it where it holds time.
pub fn aggregate(
    strings: &Interner,
    bd: &Breakdown,
    total_root: Nanos,
    suspect: Option<&str>,
) -> PolarsResult<Vec<Cascade>> {
    // The suspect as a symbol, compared with each chain's last service
    // (resolving each of those was half of this one-core function's time);
    // a name never interned ends no chain.
    let suspect = suspect.map(|name| strings.get(name));
    let ends_in =
        |c: &Chain<'_>, name: Option<Sym>| name.is_some() && c.services.last() == name.as_ref();
    let mut rows = Rows::default();
    // Chains numbered, rather than keyed by text: a string built and
    // copied per unit and level was most of this function's own time.
    let mut chains: DenseIds<&[Sym]> = DenseIds::new();
    for (ui, unit) in bd.units.iter().enumerate() {
        let Some(obs) = &unit.cascade else { continue };
        let chain = match suspect {
            Some(name) => obs
                .chains()
                .find(|c| ends_in(c, name))
                .unwrap_or_else(|| obs.top()),
            None => obs.top(),
        };
        let top = suspect.is_some_and(|name| ends_in(&chain, name));
        let group = group_key(chains.id(chain.services), top);
        for (level, &d) in chain.levels.iter().enumerate() {
            rows.level_group.push(group);
            rows.level_key.push(level_key(group, level));
            rows.level_dur.push(d);
        }
        rows.group.push(group);
        rows.culprit.push(chain.culprit_critical);
        rows.dur.push(unit.duration);
        rows.unit.push(ui as u32);
    }
    // Culprit times summed exactly in i64 when every sum fits (always, for
    // real data); otherwise in f64, as every other table's sums: not exact,
    // but never wrapped to a negative.
    let exact = sums_fit(rows.culprit.iter().copied());
    // Durations and units named as in the span table, which is what
    // `slowest_unit` reads.
    let (dur, unit) = (SpanColumn::Duration.name(), SpanColumn::Unit.name());
    let units = df!(
        "group" => rows.group,
        "culprit" => rows.culprit,
        dur => rows.dur,
        unit => rows.unit,
    )?;
    let levels = df!(
        "group" => rows.level_group,
        "level" => rows.level_key,
        dur => rows.level_dur,
    )?;
    // Per group and level, the percentiles of the level's durations; then
    // per group, those as lists in level order (a group's level keys
    // ascend with its levels). Grouped by one integer each time: grouping
    // by the chain, rule and level columns row-encoded them, twice a run.
    let by_level = SortMultipleOptions::default();
    let levels = levels
        .lazy()
        .group_by([col("level")])
        .agg([
            col("group").first(),
            percentile(dur, 0.50, "p50"),
            percentile(dur, 0.99, "p99"),
        ])
        .group_by([col("group")])
        .agg([
            col("p50").sort_by([col("level")], by_level.clone()),
            col("p99").sort_by([col("level")], by_level),
        ]);
    let keys = [col("group")];
    let out = units
        .lazy()
        .group_by(keys.clone())
        .agg([
            len().alias("traces"),
            total_ns("culprit", exact, "culprit"),
            slowest_unit(dur),
        ])
        .join(levels, keys.clone(), keys, JoinArgs::new(JoinType::Left))
        .collect()?;
    let groups: Vec<u64> = out.column("group")?.u64()?.into_no_null_iter().collect();
    let traces = out.column("traces")?.cast(&DataType::UInt64)?;
    let traces = traces.u64()?;
    let culprit = f64_column(&out, "culprit")?;
    let example = u32_column(&out, "example")?;
    let (p50, p99) = (out.column("p50")?.list()?, out.column("p99")?.list()?);
    let list = |l: &ListChunked, i: usize| -> PolarsResult<Vec<Option<f64>>> {
        match l.get_as_series(i) {
            Some(s) => Ok(s.cast(&DataType::Float64)?.f64()?.iter().collect()),
            None => Ok(Vec::new()),
        }
    };
    let total = ms(total_root);
    let mut cascades = Vec::with_capacity(out.height());
    for i in 0..out.height() {
        let (chain, top) = of_group(groups[i]);
        let chain: Vec<String> = chains
            .key(chain)
            .copied()
            .unwrap_or_default()
            .iter()
            .map(|&s| strings.resolve(s).to_string())
            .collect();
        let levels = chain
            .iter()
            .zip(list(p50, i)?.into_iter().zip(list(p99, i)?))
            .map(|(service, (p50, p99))| CascadeLevel {
                service: service.clone(),
                p50_ms: p50.unwrap_or(0.0) / 1e6,
                p99_ms: p99.unwrap_or(0.0) / 1e6,
            })
            .collect();
        let culprit_ms = culprit[i].unwrap_or(0.0) / 1e6;
        let unit = example[i].unwrap_or(0) as usize;
        cascades.push(Cascade {
            culprit: chain.last().cloned().unwrap_or_default(),
            chain,
            traces: traces.get(i).unwrap_or(0),
            culprit_critical_ms: culprit_ms,
            share: share(culprit_ms, total),
            levels,
            example_trace_id: bd.units[unit].label(strings),
            rule: if top {
                CascadeRule::TopSuspect
            } else {
                CascadeRule::MostCriticalTime
            },
        });
    }
    cascades.sort_by(|a, b| {
        b.rule
            .cmp(&a.rule)
            .then_with(|| b.culprit_critical_ms.total_cmp(&a.culprit_critical_ms))
            .then_with(|| a.chain.cmp(&b.chain))
    });
    Ok(cascades)
}

/// A chain (by its number) and whether it ends in the suspect, as one key.
fn group_key(chain: u32, top: bool) -> u64 {
    u64::from(chain) << 1 | u64::from(top)
}

/// The chain and suspect flag of a [`group_key`].
fn of_group(key: u64) -> (u32, bool) {
    ((key >> 1) as u32, key & 1 == 1)
}

/// A group and a level of its chain as one key, ordered as the levels
/// within a group: a group key takes 33 bits, a level (under 2^31, as a
/// chain has fewer levels than a trace has spans) the low 31.
fn level_key(group: u64, level: usize) -> u64 {
    debug_assert!(level < 1 << 31);
    group << 31 | (level as u64 & ((1 << 31) - 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{TraceId, TraceSet};

    proptest::proptest! {
        /// A group key gives back its chain and flag; a group's level keys
        /// ascend with its levels and no two (group, level) pairs share one.
        #[test]
        fn group_and_level_keys_are_one_to_one_and_ordered(
            a in (proptest::prelude::any::<u32>(), proptest::prelude::any::<bool>(), 0usize..1 << 31),
            b in (proptest::prelude::any::<u32>(), proptest::prelude::any::<bool>(), 0usize..1 << 31),
        ) {
            let (ga, gb) = (group_key(a.0, a.1), group_key(b.0, b.1));
            proptest::prop_assert_eq!(of_group(ga), (a.0, a.1));
            let (ka, kb) = (level_key(ga, a.2), level_key(gb, b.2));
            proptest::prop_assert_eq!(ka == kb, (a.0, a.1, a.2) == (b.0, b.1, b.2));
            if ga == gb {
                proptest::prop_assert_eq!(ka.cmp(&kb), a.2.cmp(&b.2));
            }
        }
    }

    /// Nearest rank, written out independently of polars: the value at
    /// 1-based rank `ceil(q × n)` of `sorted`.
    fn nearest_rank(sorted: &[i64], q: f64) -> i64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    /// `n` one-span traces broken down, unit `i` being trace `i + 1`; the
    /// tests then give the units hand-made cascades and durations.
    fn units(n: usize) -> (TraceSet, Breakdown) {
        let (set, bd) = crate::analysis::breakdown::one_span_units(n);
        (set, bd)
    }

    /// An observation of `chains`: each its services, culprit time and
    /// levels, the unit's cascade first.
    fn observed(strings: &Interner, chains: &[(&[&str], Nanos, &[Nanos])]) -> CascadeObs {
        let mut ends = Vec::new();
        let (mut services, mut levels) = (Vec::new(), Vec::new());
        for &(chain, culprit, own) in chains {
            services.extend(chain.iter().map(|s| strings.intern(s)));
            levels.extend_from_slice(own);
            ends.push((services.len() as u32, culprit));
        }
        CascadeObs {
            ends: ends.into(),
            services: services.into(),
            levels: levels.into(),
        }
    }

    fn obs(strings: &Interner, chain: &[&str], culprit: Nanos, levels: &[Nanos]) -> CascadeObs {
        observed(strings, &[(chain, culprit, levels)])
    }

    fn label(trace: u128) -> String {
        TraceId(trace).to_string()
    }

    #[test]
    fn no_cascades_give_an_empty_table() {
        let (set, mut bd) = units(3);
        for u in &mut bd.units {
            u.cascade = None;
        }
        assert!(
            aggregate(&set.strings, &bd, 3_000, None)
                .unwrap()
                .is_empty()
        );
        assert!(
            aggregate(&set.strings, &Breakdown::default(), 0, Some("db"))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn level_percentiles_are_nearest_rank_per_chain() {
        let n = 23;
        let (set, mut bd) = units(n);
        // Even units: gw → api → db; odd ones: gw → api. Scrambled level
        // durations, so no group arrives sorted.
        let mut expected: [Vec<Vec<Nanos>>; 2] = [vec![Vec::new(); 3], vec![Vec::new(); 2]];
        let mut culprit = [0; 2];
        for (u, unit) in bd.units.iter_mut().enumerate() {
            let g = u % 2;
            let chain: &[&str] = [&["gw", "api", "db"][..], &["gw", "api"]][g];
            let levels: Vec<Nanos> = (0..chain.len())
                .map(|k| ((u * 7919 + k * 31) % 101) as Nanos * 1_000)
                .collect();
            for (e, &d) in expected[g].iter_mut().zip(&levels) {
                e.push(d);
            }
            culprit[g] += u as Nanos + 1;
            unit.cascade = Some(obs(&set.strings, chain, u as Nanos + 1, &levels));
        }
        let out = aggregate(&set.strings, &bd, 1_000, None).unwrap();
        assert_eq!(out.len(), 2);
        for (g, chain) in [vec!["gw", "api", "db"], vec!["gw", "api"]]
            .into_iter()
            .enumerate()
        {
            let c = out.iter().find(|c| c.chain == chain).unwrap();
            assert_eq!(c.culprit, *chain.last().unwrap());
            assert_eq!(c.traces, [12, 11][g]);
            assert_eq!(c.culprit_critical_ms, ms(culprit[g]));
            assert_eq!(c.levels.len(), chain.len());
            for ((level, service), durations) in c.levels.iter().zip(&chain).zip(&mut expected[g]) {
                durations.sort_unstable();
                assert_eq!(level.service, *service);
                assert_eq!(level.p50_ms, ms(nearest_rank(durations, 0.50)), "{chain:?}");
                assert_eq!(level.p99_ms, ms(nearest_rank(durations, 0.99)), "{chain:?}");
            }
        }
        // Largest culprit time first.
        assert!(out[0].culprit_critical_ms > out[1].culprit_critical_ms);
    }

    #[test]
    fn the_example_is_the_first_of_the_slowest_units() {
        let (set, mut bd) = units(5);
        for (unit, d) in bd.units.iter_mut().zip([5, 9, 3, 9, 1]) {
            unit.duration = d;
            unit.cascade = Some(obs(&set.strings, &["gw", "db"], 1, &[d, 1]));
        }
        let out = aggregate(&set.strings, &bd, 27, None).unwrap();
        assert_eq!(out[0].example_trace_id, label(2));
        // All equal, even at the lowest time there is: the first unit.
        for unit in &mut bd.units {
            unit.duration = Nanos::MIN;
        }
        let out = aggregate(&set.strings, &bd, 0, None).unwrap();
        assert_eq!(out[0].example_trace_id, label(1));
    }

    /// Each chain reads back its own services, levels and culprit time,
    /// the unit's cascade first, whatever the lengths around it.
    #[test]
    fn chains_read_back_as_observed() {
        let strings = Interner::new();
        let chains: [(&[&str], Nanos, &[Nanos]); 3] = [
            (&["gw", "api"], 100, &[10, 8]),
            (&["gw"], 7, &[10]),
            (&["gw", "auth", "db"], 1, &[10, 4, 2]),
        ];
        let o = observed(&strings, &chains);
        let names = |c: Chain<'_>| -> Vec<&str> {
            c.services.iter().map(|&s| strings.resolve(s)).collect()
        };
        let read: Vec<(Vec<&str>, Nanos, Vec<Nanos>)> = o
            .chains()
            .map(|c| (names(c), c.culprit_critical, c.levels.to_vec()))
            .collect();
        let want: Vec<(Vec<&str>, Nanos, Vec<Nanos>)> = chains
            .iter()
            .map(|&(s, t, l)| (s.to_vec(), t, l.to_vec()))
            .collect();
        assert_eq!(read, want);
        assert_eq!(Some(o.top()), o.chains().next());
    }

    #[test]
    fn a_suspect_redraws_chains_and_comes_first() {
        let (set, mut bd) = units(3);
        // Units 1 and 2 hold time in db, unit 3 does not.
        for (u, unit) in bd.units.iter_mut().enumerate() {
            let mut chains: Vec<(&[&str], Nanos, &[Nanos])> = vec![(&["gw", "api"], 100, &[10, 8])];
            if u < 2 {
                chains.push((&["gw", "auth", "db"], 1, &[10, 4, 2]));
            }
            unit.cascade = Some(observed(&set.strings, &chains));
        }
        let out = aggregate(&set.strings, &bd, 30, Some("db")).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].rule, CascadeRule::TopSuspect);
        assert_eq!(out[0].chain, ["gw", "auth", "db"]);
        assert_eq!((out[0].traces, out[0].culprit_critical_ms), (2, ms(2)));
        assert_eq!(out[1].rule, CascadeRule::MostCriticalTime);
        assert_eq!((out[1].traces, out[1].culprit_critical_ms), (1, ms(100)));
        assert_eq!(out[1].example_trace_id, label(3));
        // Without the suspect, every unit keeps its own culprit.
        let out = aggregate(&set.strings, &bd, 30, None).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].traces, out[0].culprit_critical_ms), (3, ms(300)));
    }

    #[test]
    fn culprit_sums_beyond_i64_are_summed_in_f64() {
        // Two units at the largest time each: the sum does not fit in an
        // i64, so it is summed in f64 as every other table's sums are
        // (an approximate sum, not a wrapped or clamped one).
        let (set, mut bd) = units(2);
        for unit in &mut bd.units {
            unit.cascade = Some(obs(&set.strings, &["gw"], Nanos::MAX, &[1]));
        }
        let out = aggregate(&set.strings, &bd, Nanos::MAX, None).unwrap();
        assert_eq!(out[0].culprit_critical_ms, 2.0 * Nanos::MAX as f64 / 1e6);
        assert!(out[0].share > 1.0);
    }
}
