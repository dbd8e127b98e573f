//! `critpath diff`: analyse (or load) both sides, compare, report.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Context as _;

use crate::analysis::diagnose::{Compared, compare};
use crate::analysis::results::DiagnosisMode;
use crate::analysis::{self, results::SavedAnalysis};
use crate::cli::{DiffArgs, InputArgs};
use crate::diff::diff;
use crate::error::ExitStatus;
use crate::report::diff::{DiffFormat, write};

/// Runs `critpath diff`.
pub fn run(args: &DiffArgs) -> anyhow::Result<ExitStatus> {
    let base = side(&args.base, args)?;
    let candidate = side(&args.candidate, args)?;
    let mut d = diff(&base, &candidate)?;
    if !base.profile.groups.is_empty() && !candidate.profile.groups.is_empty() {
        let side = |a: &SavedAnalysis| Compared::new(a.profile.clone(), &a.edges);
        let name = args.base.file_name().map_or_else(
            || args.base.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        // The diff stands on its own when the two sides serve different
        // endpoints; only the diagnosis needs shared root operations.
        match compare(
            &side(&base),
            &side(&candidate),
            DiagnosisMode::Baseline,
            &name,
        ) {
            Ok(found) => {
                d.verdict = Some(found.verdict);
                d.suspects = found.suspects;
            }
            Err(e) => eprintln!("critpath: no diagnosis: {e}"),
        }
    } else {
        eprintln!(
            "critpath: no diagnosis: a saved report without a `profile` section (written by an older critpath) cannot name suspects; analyse its traces again"
        );
    }
    let stdout = std::io::stdout();
    let width = if stdout.is_terminal() && args.format == DiffFormat::Table {
        comfy_table::Table::new().width()
    } else {
        None
    };
    let mut out = stdout.lock();
    write(&d, args.format, args.top, width, &mut out)?;
    out.flush()?;
    Ok(ExitStatus::Success)
}

/// A saved report when the path is one, else the analysis of its traces.
fn side(path: &Path, args: &DiffArgs) -> anyhow::Result<SavedAnalysis> {
    if is_saved_report(path) {
        return super::check::load_saved(path);
    }
    let input = InputArgs {
        inputs: vec![path.to_path_buf()],
        input_format: args.input_format,
        strict: args.strict,
        threads: args.threads,
        quiet: false,
        no_mmap: args.no_mmap,
    };
    let mut ingested = super::read_inputs(&input)?;
    let selection = super::selection(&args.select);
    let options = super::finding_options(&args.findings)?;
    // One analysis per side: its traces can go as it reads them.
    let (analysis, _) =
        analysis::analyze_releasing(&mut ingested, analysis::Plan::new(&selection, &options))?;
    super::ensure_selected(
        analysis.summary.analysed_roots,
        analysis.summary.read.traces,
        &args.select,
    )
    .with_context(|| path.display().to_string())?;
    Ok(SavedAnalysis::from(&analysis))
}

/// Whether a file is a critpath JSON report (it carries `schema_version`
/// and `operations` near its start).
pub(crate) fn is_saved_report(path: &Path) -> bool {
    if !path.is_file() {
        return false;
    }
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    // critpath writes `schema_version` first; look past leading whitespace
    // and the opening brace rather than at a fixed window, so a report of
    // any size (or pretty-printed differently) is still recognised.
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace() && *b != b'{')
        .unwrap_or(bytes.len());
    bytes[start..].starts_with(b"\"schema_version\"")
        || (memchr::memmem::find(&bytes[..bytes.len().min(4096)], b"\"schema_version\"").is_some()
            && memchr::memmem::find(&bytes, b"\"operations\"").is_some())
}
