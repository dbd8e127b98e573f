//! Glue for naming the cause: finds the baseline the flags ask for (other
//! traces, a saved report, an earlier time range, or none), and runs the
//! diagnosis against the analysed traces.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::analysis::breakdown::Breakdown;
use crate::analysis::detectors::FindingOptions;
use crate::analysis::diagnose::{self, Compared};
use crate::analysis::results::{Analysis, Confidence, DiagnosisMode, Verdict};
use crate::analysis::select::Selection;
use crate::analysis::timeline::{ChangePoint, ShiftedSeries};
use crate::analysis::{self};
use crate::cli::{DiagnoseArgs, InputArgs};
use crate::ingest::Ingested;
use crate::model::Nanos;

/// Everything the diagnosis of one analysis may need.
pub(crate) struct Inputs<'a> {
    /// The diagnosis flags.
    pub args: &'a DiagnoseArgs,
    /// The incident's input, already read.
    pub ingested: &'a Ingested,
    /// The incident's selection.
    pub selection: &'a Selection,
    /// Detector options.
    pub options: &'a FindingOptions,
    /// How the incident's input was read (format, strictness), for a
    /// baseline given as traces.
    pub input: &'a InputArgs,
}

/// Fills `analysis.verdict` and `analysis.suspects`.
/// `split` is the slow-against-rest split the analysis made, if it did.
pub(crate) fn run(
    cx: &Inputs<'_>,
    analysis: &mut Analysis,
    bd: &Breakdown,
    split: Option<diagnose::SlowSplit>,
) -> anyhow::Result<()> {
    let strings = &cx.ingested.set.strings;
    let incident = Compared::new(analysis.profile.clone(), &analysis.edges);
    let shift = analysis.timeline.as_ref().and_then(|t| {
        t.incident_start()
            .map(|c| (c.clone(), t.next_shift_after(c)))
    });
    let found = if cx.args.before_change() {
        let Some((at, until)) = shift else {
            anyhow::bail!(
                "--baseline before-change: neither root latency nor a queue's wait has a change point in the selected traces (see the timeline); give a baseline file or --baseline-until TIME"
            );
        };
        Some(before_change(cx, bd, &at, until)?)
    } else if !cx.args.baseline.is_empty() {
        let base = baseline_from_paths(cx, &cx.args.baseline)?;
        let name = names(&cx.args.baseline);
        Some(diagnose::compare(
            &base,
            &incident,
            DiagnosisMode::Baseline,
            &name,
        )?)
    } else if cx.args.baseline_range() {
        let (base, name) = baseline_from_range(cx)?;
        Some(diagnose::compare(
            &base,
            &incident,
            DiagnosisMode::EarlierRange,
            &name,
        )?)
    } else if let Some(d) = shift.and_then(|(at, until)| {
        // One export across an incident: its own "before" is the baseline,
        // when the two sides share a root operation to compare.
        before_change(cx, bd, &at, until).ok()
    }) {
        Some(d)
    } else {
        diagnose::slow_vs_rest(strings, bd, cx.args.slow, split)?
    };
    match found {
        Some(d) => {
            // Cascades go to the top suspect when one stands out.
            if let Some(top) = d.verdict.suspect.as_deref() {
                analysis.cascades =
                    crate::analysis::cascade::aggregate(strings, bd, bd.total_root(), Some(top))?;
            }
            analysis.verdict = Some(d.verdict);
            analysis.suspects = d.suspects;
        }
        None => analysis.verdict = Some(too_few(analysis)),
    }
    Ok(())
}

fn too_few(analysis: &Analysis) -> Verdict {
    Verdict {
        mode: DiagnosisMode::SlowVsRest,
        baseline: String::new(),
        baseline_traces: 0,
        incident_traces: analysis.summary.analysed_roots,
        root_operations: 0,
        suspect: None,
        confidence: Confidence::None,
        text: format!(
            "No diagnosis: no root operation has {} traces to compare its slow ones with the rest; give --baseline.",
            diagnose::MIN_SLOW_GROUP
        ),
    }
}

fn names(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| {
            p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A baseline from saved reports or trace inputs (not both).
fn baseline_from_paths(cx: &Inputs<'_>, paths: &[PathBuf]) -> anyhow::Result<Compared> {
    if let [one] = paths
        && super::diff::is_saved_report(one)
    {
        return from_report(one);
    }
    let input = InputArgs {
        inputs: paths.to_vec(),
        ..cx.input.clone()
    };
    let ingested = super::read_inputs(&input).context("reading --baseline")?;
    // The baseline is other traffic: the incident's time window does not
    // apply to it, everything else does.
    let selection = Selection {
        since: None,
        until: None,
        ..cx.selection.clone()
    };
    let analysis = analysis::analyze(&ingested, &selection, cx.options)?;
    if analysis.summary.analysed_roots == 0 {
        anyhow::bail!(
            "--baseline {}: no traces to compare with after the selection",
            names(paths)
        );
    }
    Ok(Compared::new(analysis.profile, &analysis.edges))
}

fn from_report(path: &Path) -> anyhow::Result<Compared> {
    let saved = super::check::load_saved(path)?;
    if saved.profile.groups.is_empty() {
        anyhow::bail!(
            "--baseline {}: the report has no `profile` section (written by an older critpath, or of no traces); run `critpath analyze --format json` on its traces again",
            path.display()
        );
    }
    Ok(Compared::new(saved.profile, &saved.edges))
}

/// The traces before the change point `at` against those from `at` to the
/// next change point (`until`), if any: the stretch the shift held. Both
/// sides are split off the analysed units `bd` (already within the
/// incident's `--since`/`--until`), not analysed again.
fn before_change(
    cx: &Inputs<'_>,
    bd: &Breakdown,
    at: &ChangePoint,
    until: Option<i64>,
) -> anyhow::Result<crate::analysis::suspects::Diagnosis> {
    // Split by trace start, as selecting each side's range would.
    let starts: Vec<Nanos> = bd.units.iter().map(|u| u.trace_start).collect();
    let strings = &cx.ingested.set.strings;
    let (base, incident) = diagnose::split_at(strings, bd, &starts, at.at_unix_nano, until)?;
    let what = match at.series {
        ShiftedSeries::RootLatency => "root latency".to_string(),
        ShiftedSeries::QueueWait => format!("queue {} wait", at.name),
    };
    let name = format!("traces before {what} changed ×{:.2} at {}", at.ratio, at.at);
    Ok(diagnose::compare(
        &base,
        &incident,
        DiagnosisMode::BeforeChange,
        &name,
    )?)
}

/// A baseline from a time range of the incident's own input.
fn baseline_from_range(cx: &Inputs<'_>) -> anyhow::Result<(Compared, String)> {
    let (since, until) = (&cx.args.baseline_since, &cx.args.baseline_until);
    let selection = Selection {
        since: since.as_ref().map(|t| t.nanos),
        until: until.as_ref().map(|t| t.nanos),
        ..cx.selection.clone()
    };
    let analysis = analysis::analyze(cx.ingested, &selection, cx.options)?;
    let name = format!(
        "traces starting {}{}",
        since
            .as_ref()
            .map(|t| format!("from {t} "))
            .unwrap_or_default(),
        until
            .as_ref()
            .map(|t| format!("before {t}"))
            .unwrap_or_default()
    )
    .trim_end()
    .to_string();
    if analysis.summary.analysed_roots == 0 {
        anyhow::bail!(
            "--baseline-since/--baseline-until: no traces in the input start in that range ({name})"
        );
    }
    Ok((Compared::new(analysis.profile, &analysis.edges), name))
}
