//! `critpath analyze`: read, select, analyse, report.

use std::io::{IsTerminal, Write};

use anyhow::Context;

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
    let (analysis, breakdown) = analysis::analyze_with_breakdown(&ingested, &selection, &options)?;
    if let Some(dir) = &args.export_parquet {
        report::parquet::export(&ingested.set, &breakdown, dir)?;
    }
    let folded = if args.format == ReportFormat::Html {
        analysis::flame::folded(&ingested.set, &breakdown, None)
    } else {
        Default::default()
    };
    let stdout = std::io::stdout();
    let width =
        if stdout.is_terminal() && args.format == ReportFormat::Table && args.output.is_none() {
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
    let reporter = report::reporter(args.format, report_options, folded);
    match &args.output {
        Some(path) => {
            let mut buf = Vec::new();
            reporter.write(&analysis, &mut buf)?;
            std::fs::write(path, buf).with_context(|| format!("writing {}", path.display()))?;
        }
        None => {
            let mut out = stdout.lock();
            reporter.write(&analysis, &mut out)?;
            out.flush()?;
        }
    }
    Ok(ExitStatus::Success)
}
