//! `critpath diff`: analyse (or load) both sides, compare, report.

use std::io::{IsTerminal, Write};
use std::path::Path;

use crate::analysis::{self, results::SavedAnalysis};
use crate::cli::{DiffArgs, InputArgs};
use crate::diff::diff;
use crate::error::ExitStatus;
use crate::report::diff::{DiffFormat, write};

/// Runs `critpath diff`.
pub fn run(args: &DiffArgs) -> anyhow::Result<ExitStatus> {
    let base = side(&args.base, args)?;
    let candidate = side(&args.candidate, args)?;
    let d = diff(&base, &candidate);
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
        strict: false,
        threads: None,
        quiet: false,
    };
    let ingested = super::read_inputs(&input)?;
    let selection = super::selection(&args.select)?;
    let options = super::finding_options(&args.findings)?;
    let analysis = analysis::analyze(&ingested, &selection, &options)?;
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
