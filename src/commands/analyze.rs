//! `critpath analyze`: read, select, analyse, report.

use std::io::{IsTerminal, Write};

use crate::analysis;
use crate::cli::AnalyzeArgs;
use crate::error::ExitStatus;
use crate::report::{self, ReportFormat, ReportOptions};

/// Rows per table section when `--top` is not given.
const DEFAULT_TOP: usize = 20;

/// Runs `critpath analyze`.
pub fn run(args: &AnalyzeArgs) -> anyhow::Result<ExitStatus> {
    let selection = super::selection(&args.select)?;
    let options = super::finding_options(&args.findings)?;
    let ingested = super::read_inputs(&args.input)?;
    let analysis = analysis::analyze(&ingested, &selection, &options)?;
    let stdout = std::io::stdout();
    let width = if stdout.is_terminal() && args.format == ReportFormat::Table {
        comfy_table::Table::new().width()
    } else {
        None
    };
    let report_options = ReportOptions {
        top: args.top.unwrap_or(DEFAULT_TOP),
        top_explicit: args.top.is_some(),
        csv_section: args.section,
        width,
    };
    let mut out = stdout.lock();
    report::reporter(args.format, report_options).write(&analysis, &mut out)?;
    out.flush()?;
    Ok(ExitStatus::Success)
}
