//! The three ways a diagnosis finds its "normal" traces, each ending in
//! [`suspects::diagnose`]:
//!
//! - a baseline: other traces, or a saved report (its `profile` and
//!   `edges` sections);
//! - an earlier time range of the same input, or the same traces' own
//!   stretch before a change point ([`split_at`]);
//! - without either, the slow traces of each root operation against the
//!   rest of the same set (Honeycomb's BubbleUp, CRISP's percentile ranges).

use polars::prelude::*;
use rayon::prelude::*;

use super::breakdown::Breakdown;
use super::edges::{self, EdgeMoments};
use super::profile::{self, Profile};
use super::results::{DiagnosisMode, EdgeStats};
use super::suspects::{self, Diagnosis, DiagnosisError, Side};
use crate::model::{Interner, Nanos};
use crate::table::SpanColumn;

/// Root operations with fewer units than this are left out of a
/// slow-against-rest comparison: a "slowest 10%" of a handful of traces is
/// one trace, and says nothing.
pub const MIN_SLOW_GROUP: usize = 20;

/// What a diagnosis compares: a profile and the edges table of each side.
pub struct Compared {
    /// The profile.
    pub profile: Profile,
    /// What the comparison reads of the edges table.
    pub edges: Vec<EdgeMoments>,
}

impl Compared {
    /// A side of a full analysis's (or a saved report's) profile and edges.
    pub fn new(profile: Profile, edges: &[EdgeStats]) -> Compared {
        Compared {
            profile,
            edges: edges.iter().map(EdgeMoments::from).collect(),
        }
    }
}

/// Compares the slowest `1 − quantile` of every root operation's units with
/// the rest. `None` when no root operation has [`MIN_SLOW_GROUP`] units.
/// `ready` is the split [`profile_with_split`] made with the same
/// `quantile`, if it was made.
pub fn slow_vs_rest(
    strings: &Interner,
    bd: &Breakdown,
    quantile: f64,
    ready: Option<SlowSplit>,
) -> Result<Option<Diagnosis>, polars::error::PolarsError> {
    let (slow, profiles) = match ready {
        Some(SlowSplit { slow, profiles }) => (slow, Some(profiles)),
        None => (slow_units(bd, quantile)?, None),
    };
    let grouped: Vec<bool> = slow.iter().map(Option::is_some).collect();
    if !grouped.iter().any(|&g| g) {
        return Ok(None);
    }
    let [rest, slowest] = sides_of(strings, bd, &|u| slow[u].map(usize::from), profiles)?;
    let name = format!(
        "the fastest {:.0}% of each root operation",
        quantile * 100.0
    );
    match compare(&rest, &slowest, DiagnosisMode::SlowVsRest, &name) {
        Ok(found) => Ok(Some(found)),
        Err(DiagnosisError::NoCommonRoot { .. }) => Ok(None),
        Err(DiagnosisError::Aggregation(e)) => Err(e),
    }
}

/// The slowest units of each root operation and the rest, with the
/// profile of each side (rest first), made with the whole profile (see
/// [`profile::build_split`]) for [`slow_vs_rest`].
pub struct SlowSplit {
    slow: Vec<Option<bool>>,
    profiles: [Profile; 2],
}

/// The profile of every unit of `bd`, and the slow-against-rest split at
/// `quantile` (see [`slow_vs_rest`]) with its sides' profiles, unless no
/// root operation is large enough to split.
pub fn profile_with_split(
    strings: &Interner,
    bd: &Breakdown,
    quantile: f64,
) -> PolarsResult<(Profile, Option<SlowSplit>)> {
    let slow = slow_units(bd, quantile)?;
    if !slow.iter().any(Option::is_some) {
        return Ok((profile::build(strings, &bd.units, &|_| true)?, None));
    }
    let sides: Vec<Option<u32>> = slow.iter().map(|s| s.map(u32::from)).collect();
    let (whole, profiles) = profile::build_split(strings, &bd.units, &sides)?;
    Ok((whole, Some(SlowSplit { slow, profiles })))
}

/// Splits `bd`'s units at the time `at`: those placed before it are the
/// baseline, those from `at` up to `until` (when given; else to the end)
/// the incident; units past `until` are in neither. `starts` holds, per
/// unit, the time it is placed by: its trace's start, which is what
/// `--since`/`--until` select by, so each side is what selecting that
/// range would analyse (a trace's units all land on one side).
pub fn split_at(
    strings: &Interner,
    bd: &Breakdown,
    starts: &[Nanos],
    at: Nanos,
    until: Option<Nanos>,
) -> Result<(Compared, Compared), polars::error::PolarsError> {
    debug_assert_eq!(starts.len(), bd.units.len());
    let side = |u: usize| {
        if starts[u] < at {
            Some(0)
        } else {
            until.is_none_or(|t| starts[u] < t).then_some(1)
        }
    };
    let [base, incident] = sides_of(strings, bd, &side, None)?;
    Ok((base, incident))
}

/// The profile and edges table of each side's units of `bd` (`side` puts
/// a unit, by index, on side 0, side 1 or neither), as an analysis of
/// those units alone gives them; the profiles are `profiles` when those
/// were made already. Both sides' edges are grouped in one pass (see
/// [`edges::moments_sides`]).
fn sides_of(
    strings: &Interner,
    bd: &Breakdown,
    side: &(dyn Fn(usize) -> Option<usize> + Sync),
    profiles: Option<[Profile; 2]>,
) -> Result<[Compared; 2], polars::error::PolarsError> {
    // Freed pages are kept for reuse here, not handed back (see
    // `crate::ingest::memory::released`): handing them back before and
    // after the edges' grouping kept this stage's peak 0-8 MiB lower, still
    // below the run's (1.09 M spans), and each time made the next step
    // fault its pages in again.
    let [first, second] = edges::moments_sides(strings, &bd.edges, &|u| side(u as usize))?;
    let [zero, one] = match profiles {
        Some(made) => made,
        None => {
            let profile = |s: usize| profile::build(strings, &bd.units, &|u| side(u) == Some(s));
            [profile(0)?, profile(1)?]
        }
    };
    Ok([
        Compared {
            profile: zero,
            edges: first,
        },
        Compared {
            profile: one,
            edges: second,
        },
    ])
}

/// Per unit: `Some(true)` when it is among the slowest of its root
/// operation, `Some(false)` among the rest, `None` when its root operation
/// is too small to split.
fn slow_units(bd: &Breakdown, quantile: f64) -> PolarsResult<Vec<Option<bool>>> {
    let (unit, dur) = (SpanColumn::Unit.name(), SpanColumn::Duration.name());
    let id = |s: crate::model::Sym| s.into_usize() as u32;
    let units = df!(
        unit => (0..bd.units.len() as u32).collect::<Vec<_>>(),
        // Gathered on every core, as the timeline's columns are.
        SpanColumn::Service.name() => bd.units.par_iter().map(|u| id(u.features.root.0)).collect::<Vec<_>>(),
        SpanColumn::Name.name() => bd.units.par_iter().map(|u| id(u.features.root.1)).collect::<Vec<_>>(),
        dur => bd.units.par_iter().map(|u| u.duration).collect::<Vec<_>>(),
    )?;
    // Slowest first; ties keep unit order, so the split is stable.
    let slowest_first = SortMultipleOptions::default().with_order_descending_multi([true, false]);
    let groups = units
        .lazy()
        .group_by([SpanColumn::Service.col(), SpanColumn::Name.col()])
        .agg([col(unit).sort_by([col(dur), col(unit)], slowest_first)])
        .filter(col(unit).list().len().gt_eq(lit(MIN_SLOW_GROUP as u32)))
        .collect()?;
    let members = groups.column(unit)?.list()?;
    let mut slow = vec![None; bd.units.len()];
    for g in 0..groups.height() {
        let Some(members) = members.get_as_series(g) else {
            continue;
        };
        let members = members.u32()?;
        let n_slow = ((1.0 - quantile) * members.len() as f64).ceil().max(1.0) as usize;
        for (rank, i) in members.into_no_null_iter().enumerate() {
            if let Some(s) = slow.get_mut(i as usize) {
                *s = Some(rank < n_slow);
            }
        }
    }
    Ok(slow)
}

/// Compares two sides.
pub fn compare(
    base: &Compared,
    incident: &Compared,
    mode: DiagnosisMode,
    baseline_name: &str,
) -> Result<Diagnosis, DiagnosisError> {
    suspects::diagnose(
        &Side {
            profile: &base.profile,
            edges: &base.edges,
        },
        &Side {
            profile: &incident.profile,
            edges: &incident.edges,
        },
        mode,
        baseline_name,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::breakdown::breakdown;
    use crate::analysis::select::{Selection, select};
    use crate::model::TraceSet;
    use crate::model::testutil::TraceBuilder;

    /// Traces 1–6 start at 0, 100, …, 500, each an `api:root` calling
    /// `db`; trace 7 has two roots, `api:root` at 250 and `api:late` at 320.
    fn set() -> TraceSet {
        let mut b = TraceBuilder::new();
        for t in 0..6i64 {
            let (start, dur) = (t * 100, if t < 3 { 50 } else { 90 });
            b = b
                .trace(t as u128 + 1)
                .span_in("api", "root", None, start, start + dur)
                .span_in("db", "q", Some("root"), start + 10, start + dur - 10);
        }
        b.trace(7)
            .span_in("api", "root", None, 250, 290)
            .span_in("api", "late", None, 320, 330)
            .build_set()
    }

    /// Units per root operation of a side.
    fn traces(side: &Compared) -> Vec<(String, u64)> {
        let groups = side.profile.groups.iter();
        groups
            .map(|g| (g.root_operation.clone(), g.traces))
            .collect()
    }

    fn calls(side: &Compared) -> u64 {
        side.edges.iter().map(|e| e.calls).sum()
    }

    #[test]
    fn the_slowest_of_each_large_enough_root_operation_are_split_off() {
        let n = MIN_SLOW_GROUP + 2;
        let (set, mut bd) = crate::analysis::breakdown::one_span_units(n + 3);
        let other = (set.strings.intern("api"), set.strings.intern("GET /x"));
        for (i, u) in bd.units.iter_mut().enumerate() {
            // Units 3 and 7 tie for the slowest; 5 is next.
            u.duration = match i {
                3 | 7 => 900,
                5 => 800,
                _ => 100 + i as i64,
            };
            if i >= n {
                // Three units of another root operation: too few to split.
                u.features.root = other;
            }
        }
        // The slowest 10% of 22 units: ceil(2.2) = 3.
        let slow = slow_units(&bd, 0.9).unwrap();
        let split: Vec<usize> = (0..n).filter(|&i| slow[i] == Some(true)).collect();
        assert_eq!(split, [3, 5, 7]);
        assert!((0..n).all(|i| slow[i].is_some()));
        assert_eq!(&slow[n..], [None, None, None]);
        // Ties keep unit order: at one unit, the first of the two.
        let slowest = slow_units(&bd, 0.999).unwrap();
        let split: Vec<usize> = (0..n).filter(|&i| slowest[i] == Some(true)).collect();
        assert_eq!(split, [3]);
        assert!(slow_units(&Breakdown::default(), 0.9).unwrap().is_empty());
    }

    #[test]
    fn a_split_at_a_time_is_the_selection_of_each_side() {
        let set = set();
        let units = select(&set, &Selection::default());
        let bd = breakdown(&set, &units, &Default::default());
        let starts: Vec<Nanos> = bd
            .units
            .iter()
            .map(|u| set.traces[u.unit.trace].start())
            .collect();
        let s = |n: &str, k: u64| (n.to_string(), k);

        // Before 300: traces 1–3 and both roots of trace 7, which started
        // at 250 (its second root, at 320, goes with its trace). From 300
        // (trace 4, on the boundary) up to 500 (trace 6, left out): 4 and 5.
        let (base, incident) = split_at(&set.strings, &bd, &starts, 300, Some(500)).unwrap();
        assert_eq!(traces(&base), [s("late", 1), s("root", 4)]);
        assert_eq!(traces(&incident), [s("root", 2)]);
        assert_eq!((calls(&base), calls(&incident)), (3, 2));
        // With no end, the incident runs to the last trace.
        let (_, open) = split_at(&set.strings, &bd, &starts, 300, None).unwrap();
        assert_eq!(traces(&open), [s("root", 3)]);
        assert_eq!(calls(&open), 3);

        // Each side is what selecting its range and analysing gives.
        let selected = |since, until| {
            let units = select(
                &set,
                &Selection {
                    since,
                    until,
                    ..Default::default()
                },
            );
            let bd = breakdown(&set, &units, &Default::default());
            let [all, none] = sides_of(&set.strings, &bd, &|_| Some(0), None).unwrap();
            assert!(none.profile.groups.is_empty() && none.edges.is_empty());
            all
        };
        for (side, since, until) in [
            (&base, None, Some(300)),
            (&incident, Some(300), Some(500)),
            (&open, Some(300), None),
        ] {
            let want = selected(since, until);
            assert_eq!(side.profile, want.profile, "{since:?}..{until:?}");
            assert_eq!(side.edges, want.edges, "{since:?}..{until:?}");
        }

        // A side with no unit has nothing to compare, as an empty
        // selection has not.
        let (none, _) = split_at(&set.strings, &bd, &starts, 0, None).unwrap();
        assert!(none.profile.groups.is_empty() && none.edges.is_empty());
        assert!(compare(&none, &open, DiagnosisMode::BeforeChange, "x").is_err());
    }
}
