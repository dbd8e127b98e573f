//! Suspects: which service explains why the incident traces are slower (or
//! shorter, or failing) than normal ones, compared per trace of the same
//! root operation so traffic volume does not count.
//!
//! The method, in order:
//!
//! 1. For every feature of a [`Profile`] (a service's own critical time, an
//!    edge's gap critical time, calls, where traces stop, where they fail),
//!    the change of its mean per trace in each root operation both sides
//!    share, weighted by the incident's traces per root operation, with a
//!    Welch standard error. A change counts when it grew by at least
//!    [`Z_MIN`] standard errors: a fault-free minute against another
//!    differs by less.
//! 2. An edge's gap belongs to its callee (a callee slow to accept work
//!    stretches the gaps into it), unless the caller looks starved: gaps grew
//!    on its edges to two or more callees, no callee among them has grown
//!    gaps from two or more callers, and its own critical time grew by at
//!    least a tenth as much as those gaps did.
//! 3. A service's score is the sum of what it owns that grew: times as a
//!    share of the normal mean root duration, shares of traces stopping or
//!    failing in it as they are. A score under [`MIN_SCORE`] explains
//!    nothing and is dropped. Calls that vanish or appear are shown as
//!    evidence, not scored: the service where traces now stop carries that.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::aggregate::u32_column;
use super::edges::EdgeMoments;
use super::profile::{FeatureKind, FeatureMoments, Moments, Profile, ProfileGroup};
use super::results::{Confidence, DiagnosisMode, Evidence, Suspect, Verdict};
use crate::units::millis;

/// Least growth, in standard errors, for a change to count.
pub const Z_MIN: f64 = 3.0;
/// The least score a suspect needs: what explains less than a hundredth of
/// a normal trace's duration (or of the traces) explains nothing, however
/// certain the change is.
pub const MIN_SCORE: f64 = 0.01;
/// Growth, in standard errors, from which a suspect is called certain.
pub const Z_HIGH: f64 = 5.0;
/// How much a starved caller's own time must grow against its gaps.
const STARVED_SELF_SHARE: f64 = 0.1;
/// The reported cap of `z` when the normal side has no variance.
const Z_CAP: f64 = 1000.0;

/// One side of a comparison.
pub struct Side<'a> {
    /// Its profile.
    pub profile: &'a Profile,
    /// What the comparison reads of its edges table.
    pub edges: &'a [EdgeMoments],
}

/// The result: the verdict and the ranked suspects.
#[derive(Clone, Debug)]
pub struct Diagnosis {
    /// The opening lines.
    pub verdict: Verdict,
    /// Suspects, most likely first.
    pub suspects: Vec<Suspect>,
}

/// Why a diagnosis could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DiagnosisError {
    /// The sides share no root operation.
    #[error(
        "the baseline has no traces of the incident's root operations (incident: {incident}; baseline: {baseline}); give a baseline of the same system and endpoints"
    )]
    NoCommonRoot {
        /// The incident's root operations.
        incident: String,
        /// The baseline's.
        baseline: String,
    },
    /// The aggregation engine failed.
    #[error("aggregation failed")]
    Aggregation(#[from] PolarsError),
}

type Key = (FeatureKind, String, Option<String>);

/// A feature's change, combined over root operations.
#[derive(Clone, Debug, Default)]
struct Change {
    before: f64,
    after: f64,
    before_p99: f64,
    after_p99: f64,
    delta: f64,
    se2: f64,
    example: (f64, String),
    baseline_example: (f64, String),
    /// For an edge's gap, the per-call change in standard errors.
    call_z: Option<f64>,
}

impl Change {
    fn z(&self) -> f64 {
        if self.se2 > 0.0 {
            (self.delta / self.se2.sqrt()).clamp(-Z_CAP, Z_CAP)
        } else if self.delta > 0.0 {
            Z_CAP
        } else if self.delta < 0.0 {
            -Z_CAP
        } else {
            0.0
        }
    }

    fn grew(&self) -> bool {
        self.delta > 0.0 && self.z().max(self.call_z.unwrap_or(0.0)) >= Z_MIN
    }
}

/// Compares `incident` with `base`.
pub fn diagnose(
    base: &Side<'_>,
    incident: &Side<'_>,
    mode: DiagnosisMode,
    baseline_name: &str,
) -> Result<Diagnosis, DiagnosisError> {
    let pairs = pair_groups(base.profile, incident.profile)?;
    let total: f64 = pairs.iter().map(|(_, i)| i.traces as f64).sum();
    let weight = |i: &ProfileGroup| i.traces as f64 / total;
    let mut root = Change::default();
    for (b, i) in &pairs {
        add(
            &mut root,
            weight(i),
            Some(&b.duration),
            Some(&i.duration),
            (b.traces, i.traces),
            false,
        );
    }
    let mut changes: BTreeMap<Key, Change> = BTreeMap::new();
    for (key, rows) in paired_features(&pairs)? {
        let proportion = matches!(key.0, FeatureKind::EndsIn | FeatureKind::FailsIn);
        let ch = changes.entry(key).or_default();
        for (pair, mb, mi) in rows {
            let (b, i) = pairs[pair];
            add(ch, weight(i), mb, mi, (b.traces, i.traces), proportion);
        }
    }
    for ((kind, a, b), ch) in changes.iter_mut() {
        if let (FeatureKind::GapCritical, Some(b)) = (kind, b) {
            ch.call_z = per_call_z(base.edges, incident.edges, a, b);
        }
    }
    let suspects = rank(&changes, root.before, base, incident)?;
    let verdict = verdict(&suspects, &root, &changes, mode, baseline_name, &pairs);
    Ok(Diagnosis { verdict, suspects })
}

/// Columns of the frames that pair two profiles: a group's root operation,
/// its index in its profile and its units; a feature's pair of groups, kind,
/// service and callee (or operation), and its index in its group.
const ROOT_SERVICE: &str = "root_service";
const ROOT_OPERATION: &str = "root_operation";
const GROUP: &str = "group";
const TRACES: &str = "traces";
const PAIR: &str = "pair";
const KIND: &str = "kind";
const SERVICE: &str = "service";
const OTHER: &str = "other";
const FEATURE: &str = "feature";
/// The suffix of the baseline's columns in a paired frame.
const BASE: &str = "_base";

/// `frame` with one row per `keys`, the last where a saved report (edited
/// by hand) repeats one, as reading it into a map would keep.
fn last_per_key(frame: DataFrame, keys: &[&str]) -> LazyFrame {
    let keys = keys.iter().map(|&k| col(k)).collect();
    frame
        .lazy()
        .unique_stable_generic(Some(keys), UniqueKeepStrategy::Last)
}

/// The root operations both sides have units of, as (baseline, incident)
/// groups in the incident's order: an inner join on the root operation.
fn pair_groups<'a>(
    base: &'a Profile,
    incident: &'a Profile,
) -> Result<Vec<(&'a ProfileGroup, &'a ProfileGroup)>, DiagnosisError> {
    let frame = |p: &Profile| {
        df!(
            ROOT_SERVICE => p.groups.iter().map(|g| g.root_service.as_str()).collect::<Vec<_>>(),
            ROOT_OPERATION => p.groups.iter().map(|g| g.root_operation.as_str()).collect::<Vec<_>>(),
            GROUP => (0..p.groups.len() as u32).collect::<Vec<_>>(),
            TRACES => p.groups.iter().map(|g| g.traces).collect::<Vec<_>>(),
        )
    };
    let on = [col(ROOT_SERVICE), col(ROOT_OPERATION)];
    let base_traces = format!("{TRACES}{BASE}");
    let joined = frame(incident)?
        .lazy()
        .join(
            last_per_key(frame(base)?, &[ROOT_SERVICE, ROOT_OPERATION]),
            on.clone(),
            on,
            JoinArgs::new(JoinType::Inner).with_suffix(Some(BASE.into())),
        )
        .filter(col(TRACES).gt(lit(0)).and(col(&base_traces).gt(lit(0))))
        .sort([GROUP], SortMultipleOptions::default())
        .collect()?;
    let (inc, b) = (
        u32_column(&joined, GROUP)?,
        u32_column(&joined, &format!("{GROUP}{BASE}"))?,
    );
    let group = |p: &'a Profile, i: Option<u32>| i.and_then(|i| p.groups.get(i as usize));
    let pairs: Vec<_> = b
        .into_iter()
        .zip(inc)
        .filter_map(|(b, i)| Some((group(base, b)?, group(incident, i)?)))
        .collect();
    if pairs.is_empty() {
        let names = |p: &Profile| {
            let v: Vec<String> = p
                .groups
                .iter()
                .take(5)
                .map(|g| format!("{}:{}", g.root_service, g.root_operation))
                .collect();
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        return Err(DiagnosisError::NoCommonRoot {
            incident: names(incident),
            baseline: names(base),
        });
    }
    Ok(pairs)
}

/// A feature's moments in each paired root operation: the pair's index,
/// then the baseline's and the incident's moments (`None` on the side
/// that lacks the feature).
type PairedRows<'a> = Vec<(usize, Option<&'a Moments>, Option<&'a Moments>)>;

/// Every feature of either side of every pair, with its moments on each
/// side: a full join per pair on the feature, grouped by feature, each
/// group's rows in pairs order (the order its change is summed in, as it
/// always was).
fn paired_features<'a>(
    pairs: &[(&'a ProfileGroup, &'a ProfileGroup)],
) -> PolarsResult<Vec<(Key, PairedRows<'a>)>> {
    fn key(f: &FeatureMoments) -> Option<&str> {
        f.callee.as_deref().or(f.operation.as_deref())
    }
    let frame = |side: &dyn Fn(usize) -> &'a ProfileGroup| {
        let rows = || {
            (0..pairs.len()).flat_map(move |p| {
                let features = &side(p).features;
                features.iter().enumerate().map(move |(i, f)| (p, i, f))
            })
        };
        let frame = df!(
            PAIR => rows().map(|(p, _, _)| p as u32).collect::<Vec<_>>(),
            KIND => rows().map(|(_, _, f)| f.kind.code()).collect::<Vec<_>>(),
            SERVICE => rows().map(|(_, _, f)| f.service.as_str()).collect::<Vec<_>>(),
            OTHER => rows().map(|(_, _, f)| key(f)).collect::<Vec<_>>(),
            FEATURE => rows().map(|(_, i, _)| i as u32).collect::<Vec<_>>(),
        )?;
        Ok::<_, PolarsError>(last_per_key(frame, &[PAIR, KIND, SERVICE, OTHER]))
    };
    let on = [col(PAIR), col(KIND), col(SERVICE), col(OTHER)];
    let mut args = JoinArgs::new(JoinType::Full).with_suffix(Some(BASE.into()));
    // An edge's callee and an operation are null elsewhere, and a null
    // matches a null.
    args.nulls_equal = true;
    // A feature only the baseline has is keyed by the baseline's columns.
    let keys =
        [PAIR, KIND, SERVICE, OTHER].map(|k| col(k).fill_null(col(format!("{k}{BASE}"))).alias(k));
    let by_pair = |c: &str| col(c).sort_by([col(PAIR)], SortMultipleOptions::default());
    let base_feature = format!("{FEATURE}{BASE}");
    let joined = frame(&|p| pairs[p].1)?
        .join(frame(&|p| pairs[p].0)?, on.clone(), on, args)
        .with_columns(keys)
        .group_by([col(KIND), col(SERVICE), col(OTHER)])
        .agg([by_pair(PAIR), by_pair(FEATURE), by_pair(&base_feature)])
        .collect()?;
    let kind = u32_column(&joined, KIND)?;
    let service = joined.column(SERVICE)?.str()?;
    let other = joined.column(OTHER)?.str()?;
    let list = |c: &str, i: usize| -> PolarsResult<Vec<Option<u32>>> {
        Ok(match joined.column(c)?.list()?.get_as_series(i) {
            Some(s) => s.cast(&DataType::UInt32)?.u32()?.iter().collect(),
            None => Vec::new(),
        })
    };
    let mut out = Vec::with_capacity(joined.height());
    for (i, kind) in kind.into_iter().enumerate() {
        let Some(k) = kind.and_then(FeatureKind::from_code) else {
            continue;
        };
        let (pair, inc, b) = (list(PAIR, i)?, list(FEATURE, i)?, list(&base_feature, i)?);
        let moments = |g: &'a ProfileGroup, f: Option<u32>| {
            f.and_then(|f| g.features.get(f as usize))
                .map(|f| &f.moments)
        };
        let rows = pair
            .into_iter()
            .zip(inc.into_iter().zip(b))
            .filter_map(|(p, (inc, b))| {
                let (bg, ig) = *pairs.get(p? as usize)?;
                Some((p? as usize, moments(bg, b), moments(ig, inc)))
            })
            .collect();
        let key = (
            k,
            service.get(i).unwrap_or("").to_string(),
            other.get(i).map(str::to_string),
        );
        out.push((key, rows));
    }
    Ok(out)
}

/// Welch's z of the mean gap per call on `a → b`, when both sides have
/// calls on it.
fn per_call_z(base: &[EdgeMoments], incident: &[EdgeMoments], a: &str, b: &str) -> Option<f64> {
    let find = |t: &[EdgeMoments]| {
        t.iter()
            .find(|e| e.caller == a && e.callee == b && !e.peer)
            .cloned()
    };
    let (eb, ei) = (find(base)?, find(incident)?);
    let se2 = eb.gap_var_ms2 / eb.calls.max(1) as f64 + ei.gap_var_ms2 / ei.calls.max(1) as f64;
    let d = ei.gap_mean_ms - eb.gap_mean_ms;
    Some(if se2 > 0.0 {
        (d / se2.sqrt()).clamp(-Z_CAP, Z_CAP)
    } else {
        0.0
    })
}

/// Adds one root operation's change, weighted by `w`. A `proportion` (a
/// share of traces) takes the pooled two-proportion standard error: with a
/// share of 0 on one side, that side's own variance is 0 and Welch's would
/// overstate the noise.
fn add(
    c: &mut Change,
    w: f64,
    b: Option<&Moments>,
    i: Option<&Moments>,
    n: (u64, u64),
    proportion: bool,
) {
    let (nb, ni) = (n.0.max(1) as f64, n.1.max(1) as f64);
    let (mb, mut vb, pb) = b.map_or((0.0, 0.0, 0.0), |m| (m.mean, m.var, m.p99));
    let (mi, mut vi, pi) = i.map_or((0.0, 0.0, 0.0), |m| (m.mean, m.var, m.p99));
    if proportion {
        let pooled = (mb * nb + mi * ni) / (nb + ni);
        vb = pooled * (1.0 - pooled);
        vi = vb;
    }
    c.before += w * mb;
    c.after += w * mi;
    c.before_p99 += w * pb;
    c.after_p99 += w * pi;
    c.delta += w * (mi - mb);
    c.se2 += w * w * (vb / nb + vi / ni);
    // The example comes from the root operation weighing most in the change.
    if let Some(m) = i {
        let weight = w * (mi - mb);
        if weight > c.example.0 || c.example.1.is_empty() {
            c.example = (weight, m.example_trace_id.clone());
        }
    }
    if let Some(m) = b
        && (w > c.baseline_example.0 || c.baseline_example.1.is_empty())
    {
        c.baseline_example = (w, m.example_trace_id.clone());
    }
}

/// Who owns each grown gap: the callee, or a starved caller.
///
/// A caller is starved when gaps grew on its calls to two or more callees
/// that no other caller's gaps grew on, and its own critical time grew by
/// a tenth of those gaps or more: then the time is lost in the caller
/// before the calls leave, not in any one callee.
fn gap_owners(
    changes: &BTreeMap<Key, Change>,
) -> PolarsResult<BTreeMap<(String, String), (String, String)>> {
    let grown: Vec<(&str, &str, f64)> = changes
        .iter()
        .filter(|((k, _, c), ch)| *k == FeatureKind::GapCritical && c.is_some() && ch.grew())
        .filter_map(|((_, a, b), ch)| Some((a.as_str(), b.as_deref()?, ch.delta)))
        .collect();
    if grown.is_empty() {
        return Ok(BTreeMap::new());
    }
    const CALLER: &str = "caller";
    const CALLEE: &str = "callee";
    const DELTA: &str = "delta";
    const CALLERS: &str = "callers";
    const CALLEES: &str = "callees";
    const GAPS: &str = "gaps";
    const MOST_CALLERS: &str = "most_callers";
    // Each (caller, callee) pair is one row (the changes are keyed by it),
    // so counting rows counts distinct callers or callees.
    let counted = df!(
        CALLER => grown.iter().map(|g| g.0).collect::<Vec<_>>(),
        CALLEE => grown.iter().map(|g| g.1).collect::<Vec<_>>(),
        DELTA => grown.iter().map(|g| g.2).collect::<Vec<_>>(),
    )?
    .lazy()
    .with_columns([
        len().over([col(CALLEE)])?.alias(CALLERS),
        len().over([col(CALLER)])?.alias(CALLEES),
        col(DELTA).sum().over([col(CALLER)])?.alias(GAPS),
    ])
    .with_columns([col(CALLERS).max().over([col(CALLER)])?.alias(MOST_CALLERS)])
    .collect()?;
    let callers = u32_column(&counted, CALLERS)?;
    let callees = u32_column(&counted, CALLEES)?;
    let most_callers = u32_column(&counted, MOST_CALLERS)?;
    let gaps = counted.column(GAPS)?.f64()?;
    let mut owners = BTreeMap::new();
    for (i, &(a, b, _)) in grown.iter().enumerate() {
        let (callers, callees) = (callers[i].unwrap_or(0), callees[i].unwrap_or(0));
        let gaps = gaps.get(i).unwrap_or(0.0);
        let own = changes.get(&(FeatureKind::SelfCritical, a.to_string(), None));
        let starved = callees >= 2
            && most_callers[i].unwrap_or(0) < 2
            && own.is_some_and(|o| o.grew() && o.delta >= STARVED_SELF_SHARE * gaps);
        let owner = if starved {
            (
                a.to_string(),
                format!(
                    "{a} itself is starved, since gaps grew on its calls to {callees} callees and its own time grew too"
                ),
            )
        } else {
            let why = if callers >= 2 {
                format!(
                    "gaps grew on calls into {b} from {callers} callers, so {b} is slow to accept work"
                )
            } else {
                format!("network, queueing or a full pool in front of {b}")
            };
            (b.to_string(), why)
        };
        owners.insert((a.to_string(), b.to_string()), owner);
    }
    Ok(owners)
}

fn rank(
    changes: &BTreeMap<Key, Change>,
    root_mean: f64,
    base: &Side<'_>,
    incident: &Side<'_>,
) -> PolarsResult<Vec<Suspect>> {
    let owners = gap_owners(changes)?;
    // Each grown change's evidence, with the service it is laid to and
    // the change's example traces.
    let mut found: Vec<(String, Evidence, &Change)> = Vec::new();
    for ((kind, service, callee), ch) in changes {
        if !ch.grew()
            || matches!(
                kind,
                FeatureKind::Calls
                    | FeatureKind::ErrorCalls
                    | FeatureKind::Spans
                    | FeatureKind::OperationCritical
            )
        {
            continue;
        }
        let (owner, reason) = match (kind, callee) {
            (FeatureKind::GapCritical, Some(c)) => owners[&(service.clone(), c.clone())].clone(),
            (FeatureKind::SelfCritical, _) => (
                service.clone(),
                format!("{service}'s own time on the critical path grew"),
            ),
            (FeatureKind::EndsIn, _) => (
                service.clone(),
                format!(
                    "more traces now stop in {service}: it returns early or fails before its callers finish"
                ),
            ),
            _ => (service.clone(), format!("more failures end in {service}")),
        };
        let contribution = if kind.is_time() {
            share(ch.delta, root_mean)
        } else {
            ch.delta
        };
        let ev = evidence(
            *kind,
            service,
            callee.as_deref(),
            ch,
            contribution,
            reason,
            base,
            incident,
        );
        found.push((owner, ev, ch));
    }
    let mut suspects = Vec::new();
    for (service, members) in evidence_by_service(&found)? {
        // Largest contribution first, ties in the order of the changes; the
        // score is summed in that order.
        let mut evidence: Vec<Evidence> = members.iter().map(|&e| found[e].1.clone()).collect();
        let score = evidence.iter().map(|e| e.contribution).sum();
        let z = evidence
            .iter()
            .map(|e| e.z.max(e.call_z.unwrap_or(0.0)))
            .fold(0.0, f64::max);
        structural(changes, &service, &mut evidence);
        // The examples of the first change that contributes most, if any
        // contributes.
        let (example, baseline_example) = members
            .first()
            .map(|&e| &found[e])
            .filter(|(_, ev, _)| ev.contribution > 0.0)
            .map(|(_, _, ch)| (ch.example.1.clone(), ch.baseline_example.1.clone()))
            .unwrap_or_default();
        suspects.push(Suspect {
            rank: 0,
            service,
            score,
            score_method: "sum of grown per-trace times as a share of the normal mean root duration, plus grown shares of traces stopping or failing here".into(),
            confidence: if z >= Z_HIGH { Confidence::High } else { Confidence::Medium },
            evidence,
            example_trace_id: example,
            baseline_example_trace_id: baseline_example,
        });
    }
    suspects.retain(|s| s.score >= MIN_SCORE);
    suspects.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.service.cmp(&b.service))
    });
    for (i, s) in suspects.iter_mut().enumerate() {
        s.rank = i as u64 + 1;
    }
    Ok(suspects)
}

/// Column of the evidence frame: a piece's index among all pieces.
const EVIDENCE: &str = "evidence";
/// Column of the evidence frame: a piece's contribution to its score.
const CONTRIBUTION: &str = "contribution";

/// Per service, the indices of the `found` evidence laid to it, largest
/// contribution first and, on a tie, in `found`'s order.
fn evidence_by_service(
    found: &[(String, Evidence, &Change)],
) -> PolarsResult<Vec<(String, Vec<usize>)>> {
    let frame = df!(
        SERVICE => found.iter().map(|(s, _, _)| s.as_str()).collect::<Vec<_>>(),
        EVIDENCE => (0..found.len() as u32).collect::<Vec<_>>(),
        CONTRIBUTION => found.iter().map(|(_, e, _)| e.contribution).collect::<Vec<_>>(),
    )?;
    let out = frame
        .lazy()
        .group_by([col(SERVICE)])
        .agg([col(EVIDENCE).sort_by(
            [col(CONTRIBUTION)],
            SortMultipleOptions::default()
                .with_order_descending(true)
                .with_maintain_order(true),
        )])
        .collect()?;
    let service = out.column(SERVICE)?.str()?;
    let members = out.column(EVIDENCE)?.list()?;
    let mut groups = Vec::with_capacity(out.height());
    for i in 0..out.height() {
        let members: Vec<usize> = match members.get_as_series(i) {
            Some(s) => s.u32()?.into_no_null_iter().map(|e| e as usize).collect(),
            None => Vec::new(),
        };
        groups.push((service.get(i).unwrap_or("").to_string(), members));
    }
    Ok(groups)
}

fn share(part: f64, whole: f64) -> f64 {
    if whole > 0.0 { part / whole } else { 0.0 }
}

#[allow(clippy::too_many_arguments)]
fn evidence(
    kind: FeatureKind,
    service: &str,
    callee: Option<&str>,
    ch: &Change,
    contribution: f64,
    reason: String,
    base: &Side<'_>,
    incident: &Side<'_>,
) -> Evidence {
    let edge = |side: &Side<'_>| {
        callee.and_then(|c| {
            side.edges
                .iter()
                .find(|e| e.caller == service && e.callee == c)
                .map(|e| (e.caller_p50_ms, e.callee_p50_ms))
        })
    };
    let (b, i) = if kind == FeatureKind::GapCritical || kind == FeatureKind::Calls {
        (edge(base), edge(incident))
    } else {
        (None, None)
    };
    Evidence {
        callee: callee.map(str::to_string),
        call_z: ch.call_z,
        contribution,
        call_p50_before_ms: b.map(|x| x.0),
        call_p50_after_ms: i.map(|x| x.0),
        callee_p50_before_ms: b.map(|x| x.1),
        callee_p50_after_ms: i.map(|x| x.1),
        ..change_evidence(kind, service, ch, reason)
    }
}

/// Evidence of a change of `kind` in `service`: its numbers, and nothing
/// about an edge or a score.
fn change_evidence(kind: FeatureKind, service: &str, ch: &Change, reason: String) -> Evidence {
    Evidence {
        kind,
        service: service.to_string(),
        callee: None,
        operation: None,
        before: ch.before,
        after: ch.after,
        before_p99: ch.before_p99,
        after_p99: ch.after_p99,
        z: ch.z(),
        call_z: None,
        contribution: 0.0,
        call_p50_before_ms: None,
        call_p50_after_ms: None,
        callee_p50_before_ms: None,
        callee_p50_after_ms: None,
        reason,
    }
}

/// Calls on edges into or out of `service` that changed beyond the noise
/// and by at least half: vanished or new calls show a fault that throws or
/// returns early.
fn structural(changes: &BTreeMap<Key, Change>, service: &str, out: &mut Vec<Evidence>) {
    for ((kind, a, b), ch) in changes {
        let Some(b) = b else { continue };
        if *kind == FeatureKind::OperationCritical && a == service && ch.grew() {
            let reason = format!("{a}'s operation {b} holds more critical time per trace");
            out.push(Evidence {
                operation: Some(b.clone()),
                ..change_evidence(*kind, a, ch, reason)
            });
            continue;
        }
        let calls = matches!(kind, FeatureKind::Calls | FeatureKind::ErrorCalls);
        if !calls || (a != service && b != service) {
            continue;
        }
        let relative =
            (ch.after - ch.before).abs() / ch.before.max(ch.after).max(f64::MIN_POSITIVE);
        if ch.z().abs() >= Z_MIN && relative >= 0.5 {
            let what = if ch.after < ch.before {
                "fewer"
            } else {
                "more"
            };
            let reason = format!("{what} calls {a} → {b} per trace");
            out.push(Evidence {
                callee: Some(b.clone()),
                ..change_evidence(*kind, a, ch, reason)
            });
        }
    }
}

fn verdict(
    suspects: &[Suspect],
    root: &Change,
    changes: &BTreeMap<Key, Change>,
    mode: DiagnosisMode,
    baseline_name: &str,
    pairs: &[(&ProfileGroup, &ProfileGroup)],
) -> Verdict {
    let base_n: u64 = pairs.iter().map(|(b, _)| b.traces).sum();
    let inc_n: u64 = pairs.iter().map(|(_, i)| i.traces).sum();
    let sides = match mode {
        DiagnosisMode::SlowVsRest => "slow traces",
        _ => "incident traces",
    };
    let context = format!(
        "Mean root duration {} → {} ({inc_n} {sides} against {base_n} in {baseline_name}).",
        millis(root.before),
        millis(root.after)
    );
    let spans = changes.get(&(FeatureKind::Spans, String::new(), None));
    let shrink = spans
        .filter(|s| s.z() <= -Z_MIN && s.after < 0.75 * s.before)
        .map(|s| {
            format!(
                " Traces shrank from {:.1} to {:.1} spans on average.",
                s.before, s.after
            )
        })
        .unwrap_or_default();
    let Some(top) = suspects.first() else {
        return Verdict {
            mode,
            baseline: baseline_name.to_string(),
            baseline_traces: base_n,
            incident_traces: inc_n,
            root_operations: pairs.len() as u64,
            suspect: None,
            confidence: Confidence::None,
            text: format!(
                "Nothing stands out: no service's time per trace, and no place where traces stop or fail, changed beyond the noise. {context}{shrink}"
            ),
        };
    };
    let lead = top.evidence.first().map(sentence).unwrap_or_default();
    let sure = match top.confidence {
        Confidence::High => "",
        _ => " (medium confidence: the change is beyond the noise, but not by far)",
    };
    Verdict {
        mode,
        baseline: baseline_name.to_string(),
        baseline_traces: base_n,
        incident_traces: inc_n,
        root_operations: pairs.len() as u64,
        suspect: Some(top.service.clone()),
        confidence: top.confidence,
        text: format!(
            "Top suspect: {}{sure}. {lead} {context}{shrink}",
            top.service
        ),
    }
}

/// One piece of evidence as a sentence.
pub fn sentence(e: &Evidence) -> String {
    let callee = e.callee.as_deref().unwrap_or("");
    match e.kind {
        FeatureKind::GapCritical => {
            let calls = match (e.call_p50_before_ms, e.call_p50_after_ms) {
                (Some(b), Some(a)) => format!(
                    "Calls from {} into {callee} went from {} to {} at p50",
                    e.service,
                    millis(b),
                    millis(a)
                ),
                _ => format!("Calls from {} into {callee} got slower", e.service),
            };
            format!(
                "{calls}; the time is spent between caller and callee ({} → {} per trace on the critical path): {}.",
                millis(e.before),
                millis(e.after),
                e.reason
            )
        }
        FeatureKind::SelfCritical => format!(
            "{}'s own time on the critical path went from {} to {} per trace (p99 {} → {}).",
            e.service,
            millis(e.before),
            millis(e.after),
            millis(e.before_p99),
            millis(e.after_p99)
        ),
        FeatureKind::EndsIn => format!(
            "{:.0}% of traces now stop in {} ({:.0}% before): it returns early or fails before its callers finish.",
            e.after * 100.0,
            e.service,
            e.before * 100.0
        ),
        FeatureKind::FailsIn => format!(
            "{:.0}% of traces now fail in {} ({:.0}% before).",
            e.after * 100.0,
            e.service,
            e.before * 100.0
        ),
        FeatureKind::Calls => format!(
            "Calls {} → {callee} per trace: {:.2} → {:.2}.",
            e.service, e.before, e.after
        ),
        FeatureKind::ErrorCalls => format!(
            "Failed calls {} → {callee} per trace: {:.2} → {:.2}.",
            e.service, e.before, e.after
        ),
        FeatureKind::Spans => format!("Spans per trace: {:.1} → {:.1}.", e.before, e.after),
        FeatureKind::OperationCritical => format!(
            "{} {}: {} → {} per trace on the critical path.",
            e.service,
            e.operation.as_deref().unwrap_or(""),
            millis(e.before),
            millis(e.after)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A feature row: kind, service, callee, mean, variance (ms, ms²).
    type Row<'a> = (FeatureKind, &'a str, Option<&'a str>, f64, f64);

    fn moments(mean: f64, var: f64) -> Moments {
        Moments {
            mean,
            var,
            p50: mean,
            p90: mean,
            p99: mean,
            example_trace_id: "t".into(),
        }
    }

    fn profile(traces: u64, root_mean: f64, rows: &[Row<'_>]) -> Profile {
        Profile {
            groups: vec![ProfileGroup {
                root_service: "web".into(),
                root_operation: "GET /".into(),
                traces,
                duration: moments(root_mean, 100.0),
                features: rows
                    .iter()
                    .map(|&(kind, s, c, mean, var)| FeatureMoments {
                        kind,
                        service: s.into(),
                        callee: c.map(str::to_string),
                        operation: None,
                        moments: moments(mean, var),
                    })
                    .collect(),
            }],
        }
    }

    fn run(base: &Profile, incident: &Profile) -> Diagnosis {
        let b = Side {
            profile: base,
            edges: &[],
        };
        let i = Side {
            profile: incident,
            edges: &[],
        };
        diagnose(&b, &i, DiagnosisMode::Baseline, "base").expect("common root")
    }

    use FeatureKind::{EndsIn, GapCritical as Gap, SelfCritical as Own};

    #[test]
    fn a_gap_that_grows_from_one_caller_belongs_to_the_callee() {
        // 100 traces each side; the web → db gap grows from 10 to 60 ms per
        // trace with a standard error of sqrt(25/100 + 25/100) ≈ 0.7 ms.
        let base = profile(
            100,
            100.0,
            &[
                (Gap, "web", Some("db"), 10.0, 25.0),
                (Own, "web", None, 50.0, 25.0),
            ],
        );
        let inc = profile(
            100,
            150.0,
            &[
                (Gap, "web", Some("db"), 60.0, 25.0),
                (Own, "web", None, 50.0, 25.0),
            ],
        );
        let d = run(&base, &inc);
        assert_eq!(d.verdict.suspect.as_deref(), Some("db"));
        assert_eq!(d.suspects.len(), 1);
        // 50 ms grown over a normal 100 ms root.
        assert!((d.suspects[0].score - 0.5).abs() < 1e-9);
        assert_eq!(d.suspects[0].confidence, Confidence::High);
    }

    #[test]
    fn a_starved_caller_owns_the_gaps_to_all_its_callees() {
        // web's gaps to two callees grew by 20 ms each and its own time by
        // 30 ms (over a tenth of 40): web is starved, not db or cache.
        let base = profile(
            100,
            100.0,
            &[
                (Gap, "web", Some("db"), 10.0, 25.0),
                (Gap, "web", Some("cache"), 10.0, 25.0),
                (Own, "web", None, 20.0, 25.0),
            ],
        );
        let inc = profile(
            100,
            170.0,
            &[
                (Gap, "web", Some("db"), 30.0, 25.0),
                (Gap, "web", Some("cache"), 30.0, 25.0),
                (Own, "web", None, 50.0, 25.0),
            ],
        );
        let d = run(&base, &inc);
        assert_eq!(d.suspects.len(), 1, "{:?}", d.suspects);
        assert_eq!(d.suspects[0].service, "web");
        assert!((d.suspects[0].score - 0.7).abs() < 1e-9);
    }

    #[test]
    fn gaps_grown_from_two_callers_blame_the_callee_even_if_a_caller_is_busy() {
        let base = profile(
            100,
            100.0,
            &[
                (Gap, "web", Some("db"), 10.0, 25.0),
                (Gap, "web", Some("cache"), 10.0, 25.0),
                (Gap, "api", Some("db"), 10.0, 25.0),
                (Own, "web", None, 20.0, 25.0),
            ],
        );
        let inc = profile(
            100,
            200.0,
            &[
                (Gap, "web", Some("db"), 40.0, 25.0),
                (Gap, "web", Some("cache"), 30.0, 25.0),
                (Gap, "api", Some("db"), 40.0, 25.0),
                (Own, "web", None, 50.0, 25.0),
            ],
        );
        let d = run(&base, &inc);
        assert_eq!(d.suspects[0].service, "db");
        assert!(
            d.suspects
                .iter()
                .all(|s| s.service != "web" || s.score < d.suspects[0].score)
        );
    }

    #[test]
    fn twice_the_traffic_with_the_same_traces_is_not_suspicious() {
        let rows = [
            (Gap, "web", Some("db"), 10.0, 25.0),
            (Own, "web", None, 50.0, 25.0),
        ];
        let d = run(&profile(100, 60.0, &rows), &profile(200, 60.0, &rows));
        assert!(d.suspects.is_empty());
        assert_eq!(d.verdict.confidence, Confidence::None);
        assert!(
            d.verdict.text.starts_with("Nothing stands out"),
            "{}",
            d.verdict.text
        );
    }

    #[test]
    fn noise_within_three_standard_errors_is_not_a_suspect() {
        // +1 ms with a standard error of sqrt(100/50 + 100/50) = 2 ms: z 0.5.
        let base = profile(50, 100.0, &[(Own, "db", None, 30.0, 100.0)]);
        let inc = profile(50, 101.0, &[(Own, "db", None, 31.0, 100.0)]);
        assert!(run(&base, &inc).suspects.is_empty());
    }

    #[test]
    fn traces_that_now_stop_in_a_service_point_at_it() {
        // 0 of 500 traces stopped in checkout before, 4 of 161 after: the
        // pooled two-proportion z is 0.0248 / sqrt(p(1 − p)(1/500 + 1/161))
        // with p = 4/661, about 3.5 (Welch's would be 2.0, since the
        // baseline's own variance is 0).
        let base = profile(500, 200.0, &[(EndsIn, "frontend", None, 1.0, 0.0)]);
        let inc = profile(
            161,
            160.0,
            &[
                (EndsIn, "frontend", None, 157.0 / 161.0, 0.024),
                (EndsIn, "checkout", None, 4.0 / 161.0, 0.024),
            ],
        );
        let d = run(&base, &inc);
        assert_eq!(d.verdict.suspect.as_deref(), Some("checkout"));
        assert_eq!(d.suspects[0].confidence, Confidence::Medium);
        let z = d.suspects[0].evidence[0].z;
        assert!((3.4..3.6).contains(&z), "{z}");
    }

    #[test]
    fn a_certain_but_negligible_change_is_not_a_suspect() {
        // +0.5 ms of 100 ms with no noise at all: z is capped, but it
        // explains half a percent of a trace, under MIN_SCORE.
        let base = profile(50, 100.0, &[(Own, "db", None, 30.0, 0.0)]);
        let inc = profile(50, 100.5, &[(Own, "db", None, 30.5, 0.0)]);
        assert!(run(&base, &inc).suspects.is_empty());
    }

    /// A group of root operation `web:{operation}` with `traces` units and
    /// one `self_critical` feature per service in `own`.
    fn group(operation: &str, traces: u64, own: &[(&str, f64)]) -> ProfileGroup {
        let mut g = profile(traces, 100.0, &[]).groups.remove(0);
        g.root_operation = operation.into();
        g.features = own
            .iter()
            .map(|&(s, mean)| FeatureMoments {
                kind: Own,
                service: s.into(),
                callee: None,
                operation: None,
                moments: moments(mean, 1.0),
            })
            .collect();
        g
    }

    #[test]
    fn root_operations_pair_in_the_incidents_order_and_only_with_units_on_both_sides() {
        let base = Profile {
            groups: vec![
                group("/a", 10, &[]),
                group("/only-base", 10, &[]),
                group("/b", 0, &[]),
                group("/c", 10, &[]),
                // A hand-edited report repeating a root operation: the last
                // counts, as reading it into a map kept.
                group("/a", 7, &[]),
            ],
        };
        let incident = Profile {
            groups: vec![
                group("/c", 5, &[]),
                group("/only-incident", 5, &[]),
                group("/b", 5, &[]),
                group("/a", 5, &[]),
            ],
        };
        let pairs = pair_groups(&base, &incident).unwrap();
        let got: Vec<_> = pairs
            .iter()
            .map(|(b, i)| {
                (
                    b.root_operation.as_str(),
                    b.traces,
                    i.root_operation.as_str(),
                )
            })
            .collect();
        assert_eq!(got, [("/c", 10, "/c"), ("/a", 7, "/a")]);
        let none = Profile::default();
        assert!(pair_groups(&none, &incident).is_err());
        assert!(pair_groups(&base, &none).is_err());
    }

    #[test]
    fn features_pair_across_sides_and_keep_the_pairs_order() {
        let base = Profile {
            groups: vec![
                group("/a", 10, &[("db", 1.0), ("gone", 2.0)]),
                group("/b", 10, &[("db", 3.0)]),
            ],
        };
        let incident = Profile {
            groups: vec![
                group("/b", 10, &[("db", 4.0), ("new", 5.0)]),
                group("/a", 10, &[("db", 6.0)]),
            ],
        };
        let pairs = pair_groups(&base, &incident).unwrap();
        let mean = |m: Option<&Moments>| m.map(|m| m.mean);
        let got: Vec<_> = paired_features(&pairs)
            .unwrap()
            .into_iter()
            .map(|((kind, service, other), rows)| {
                assert_eq!((kind, &other), (Own, &None));
                let rows: Vec<_> = rows
                    .into_iter()
                    .map(|(p, b, i)| (p, mean(b), mean(i)))
                    .collect();
                (service, rows)
            })
            .collect::<BTreeMap<_, _>>()
            .into_iter()
            .collect();
        let s = |v: &str| v.to_string();
        assert_eq!(
            got,
            [
                // Pair 0 is /b, the incident's first.
                (
                    s("db"),
                    vec![(0, Some(3.0), Some(4.0)), (1, Some(1.0), Some(6.0))]
                ),
                (s("gone"), vec![(1, Some(2.0), None)]),
                (s("new"), vec![(0, None, Some(5.0))]),
            ]
        );
    }

    #[test]
    fn evidence_groups_by_service_largest_first_and_ties_in_order() {
        let ch = Change::default();
        let piece = |contribution| Evidence {
            contribution,
            ..change_evidence(Own, "x", &ch, String::new())
        };
        let found: Vec<(String, Evidence, &Change)> = [
            ("db", 0.1),
            ("web", 0.5),
            ("db", 0.3),
            ("db", 0.1),
            ("db", 0.3),
        ]
        .into_iter()
        .map(|(s, c)| (s.to_string(), piece(c), &ch))
        .collect();
        let mut groups = evidence_by_service(&found).unwrap();
        groups.sort();
        assert_eq!(
            groups,
            [
                (String::from("db"), vec![2, 4, 0, 3]),
                (String::from("web"), vec![1])
            ]
        );
        assert!(evidence_by_service(&[]).unwrap().is_empty());
    }

    #[test]
    fn no_shared_root_operation_is_an_error() {
        let base = profile(10, 100.0, &[]);
        let mut inc = profile(10, 100.0, &[]);
        inc.groups[0].root_operation = "POST /other".into();
        let err = diagnose(
            &Side {
                profile: &base,
                edges: &[],
            },
            &Side {
                profile: &inc,
                edges: &[],
            },
            DiagnosisMode::Baseline,
            "b",
        )
        .unwrap_err();
        assert!(err.to_string().contains("web:POST /other"), "{err}");
    }
}
