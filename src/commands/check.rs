//! `critpath check`: budgets and baselines as a CI gate.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::analysis::results::{Analysis, SCHEMA_VERSION, SavedAnalysis};
use crate::analysis::select::SpanPattern;
use crate::analysis::{self, detectors::FindingOptions, select::Selection};
use crate::check::{self, CheckReport, budget};
use crate::cli::CheckArgs;
use crate::error::ExitStatus;
use crate::ingest::Ingested;
use crate::report::check::{CheckFormat, github_annotations, write};

/// The budget file used when `--budget` is not given.
const DEFAULT_BUDGET: &str = "critpath.toml";

/// Runs `critpath check`.
pub fn run(args: &CheckArgs) -> anyhow::Result<ExitStatus> {
    let budget_path = args.budget.clone().or_else(|| {
        Path::new(DEFAULT_BUDGET)
            .exists()
            .then(|| PathBuf::from(DEFAULT_BUDGET))
    });
    if budget_path.is_none() && args.baseline.is_none() {
        bail!(
            "nothing to check: give --budget FILE (or create ./{DEFAULT_BUDGET}) or --baseline FILE"
        );
    }
    let rules = match &budget_path {
        Some(p) => budget::load(p)?,
        None => Vec::new(),
    };
    let baseline = args.baseline.as_deref().map(load_saved).transpose()?;
    let max_regression = args.max_regression.map(|p| p.0);
    let selection = super::selection(&args.select);
    let options = super::finding_options(&args.findings)?;
    let mut ingested = super::read_inputs(&args.input)?;

    // An empty selection would leave every rule nothing to fail on. When
    // no rule selects roots or entries of its own, this is the only
    // analysis, and its traces can go as it reads them.
    let own_selection = rules
        .iter()
        .any(|r| r.rule.root.is_some() || r.rule.entry.is_some());
    let default = if own_selection {
        analysis::analyze(&ingested, &selection, &options)?
    } else {
        analysis::analyze_releasing(&mut ingested, analysis::Plan::new(&selection, &options))?.0
    };
    super::ensure_selected(
        default.summary.analysed_roots,
        default.summary.read.traces,
        &args.select,
    )?;
    // One analysis per distinct selection: most rules share the default one.
    let mut analyses: HashMap<(Option<String>, Option<String>), Analysis> = HashMap::new();
    analyses.insert((None, None), default);
    let mut results = Vec::new();
    let mut unlisted = 0;
    for rule in &rules {
        let key = (rule.rule.root.clone(), rule.rule.entry.clone());
        if !analyses.contains_key(&key) {
            let sel = rule_selection(&selection, &rule.rule);
            analyses.insert(key.clone(), analysis::analyze(&ingested, &sel, &options)?);
        }
        results.extend(check::evaluate(rule, &analyses[&key], baseline.as_ref()));
    }
    if let (Some(max), Some(base)) = (max_regression, &baseline) {
        let default = default_analysis(&mut analyses, &ingested, &selection, &options)?;
        let regressions = check::global_regressions(default, base, max, args.min_count);
        results.extend(regressions.results);
        unlisted = regressions.unlisted;
    }
    let report = CheckReport::new(results, unlisted);

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        let file = budget_path.as_ref().map(|p| p.display().to_string());
        // Machine formats own stdout; the runner reads commands from stderr too.
        if matches!(args.format, CheckFormat::Json | CheckFormat::Junit) {
            github_annotations(&report, file.as_deref(), &mut std::io::stderr())?;
        } else {
            github_annotations(&report, file.as_deref(), &mut out)?;
        }
    }
    write(&report, args.format, &mut out)?;
    out.flush()?;
    Ok(if report.passed {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

fn default_analysis<'a>(
    analyses: &'a mut HashMap<(Option<String>, Option<String>), Analysis>,
    ingested: &Ingested,
    selection: &Selection,
    options: &FindingOptions,
) -> anyhow::Result<&'a Analysis> {
    let key = (None, None);
    if !analyses.contains_key(&key) {
        analyses.insert(
            key.clone(),
            analysis::analyze(ingested, selection, options)?,
        );
    }
    Ok(&analyses[&key])
}

/// The command's selection with the rule's own `root`/`entry`, if it has any.
fn rule_selection(base: &Selection, rule: &budget::Rule) -> Selection {
    let mut sel = base.clone();
    if let Some(r) = &rule.root {
        sel.root = Some(SpanPattern::parse(r));
    }
    if let Some(e) = &rule.entry {
        sel.entry = Some(SpanPattern::parse(e));
    }
    sel
}

/// Reads a saved `analyze --format json` report.
pub(crate) fn load_saved(path: &Path) -> anyhow::Result<SavedAnalysis> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let saved: SavedAnalysis = serde_json::from_slice(&text).with_context(|| {
        format!(
            "{}: expected a JSON report written by `critpath analyze --format json`",
            path.display()
        )
    })?;
    match saved.schema_version {
        Some(SCHEMA_VERSION) => Ok(saved),
        Some(other) => anyhow::bail!(
            "{}: the report has JSON schema version {other}, this critpath reads version {SCHEMA_VERSION}; run this critpath's `analyze --format json` on the report's traces again",
            path.display()
        ),
        None => anyhow::bail!(
            "{}: no `schema_version`: expected a JSON report written by `critpath analyze --format json`",
            path.display()
        ),
    }
}
