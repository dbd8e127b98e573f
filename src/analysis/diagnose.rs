//! The three ways a diagnosis finds its "normal" traces, each ending in
//! [`suspects::diagnose`]:
//!
//! - a baseline: other traces, or a saved report (its `profile` and
//!   `edges` sections);
//! - an earlier time range of the same input;
//! - without either, the slow traces of each root operation against the
//!   rest of the same set (Honeycomb's BubbleUp, CRISP's percentile ranges).

use super::breakdown::Breakdown;
use super::edges;
use super::profile::{self, Profile};
use super::results::{DiagnosisMode, EdgeStats};
use super::suspects::{self, Diagnosis, DiagnosisError, Side};
use crate::model::Interner;

/// Root operations with fewer units than this are left out of a
/// slow-against-rest comparison: a "slowest 10%" of a handful of traces is
/// one trace, and says nothing.
pub const MIN_SLOW_GROUP: usize = 20;

/// What a diagnosis compares: a profile and the edges table of each side.
pub struct Compared {
    /// The profile.
    pub profile: Profile,
    /// The edges table.
    pub edges: Vec<EdgeStats>,
}

/// Compares the slowest `1 − quantile` of every root operation's units with
/// the rest. `None` when no root operation has [`MIN_SLOW_GROUP`] units.
pub fn slow_vs_rest(
    strings: &Interner,
    bd: &Breakdown,
    quantile: f64,
) -> Result<Option<Diagnosis>, polars::error::PolarsError> {
    let slow = slow_units(bd, quantile);
    let grouped: Vec<bool> = slow.iter().map(Option::is_some).collect();
    if !grouped.iter().any(|&g| g) {
        return Ok(None);
    }
    let side = |want: bool| -> Result<Compared, polars::error::PolarsError> {
        let keep = |u: usize| slow[u] == Some(want);
        let n = slow.iter().filter(|s| **s == Some(want)).count() as u64;
        let label = |u: u32| bd.units[u as usize].label(strings);
        Ok(Compared {
            profile: profile::build(strings, &bd.units, &keep),
            edges: edges::aggregate(strings, &bd.edges, &|u| keep(u as usize), n, &label)?,
        })
    };
    let (rest, slowest) = (side(false)?, side(true)?);
    let name = format!(
        "the fastest {:.0}% of each root operation",
        quantile * 100.0
    );
    Ok(compare(&rest, &slowest, DiagnosisMode::SlowVsRest, &name).ok())
}

/// Per unit: `Some(true)` when it is among the slowest of its root
/// operation, `Some(false)` among the rest, `None` when its root operation
/// is too small to split.
fn slow_units(bd: &Breakdown, quantile: f64) -> Vec<Option<bool>> {
    let mut groups: std::collections::BTreeMap<_, Vec<usize>> = Default::default();
    for (i, u) in bd.units.iter().enumerate() {
        groups.entry(u.features.root).or_default().push(i);
    }
    let mut slow = vec![None; bd.units.len()];
    for (_, mut members) in groups {
        if members.len() < MIN_SLOW_GROUP {
            continue;
        }
        // Slowest first; ties keep unit order, so the split is stable.
        members.sort_by_key(|&i| (std::cmp::Reverse(bd.units[i].duration), i));
        let n_slow = ((1.0 - quantile) * members.len() as f64).ceil().max(1.0) as usize;
        for (rank, &i) in members.iter().enumerate() {
            slow[i] = Some(rank < n_slow);
        }
    }
    slow
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
