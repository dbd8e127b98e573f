//! `critpath stats`: what was read.

use std::io::Write;

use crate::analysis::summary::Summary;
use crate::cli::{StatsArgs, StatsFormat};
use crate::error::ExitStatus;
use crate::report::stats;

/// Runs `critpath stats`.
pub fn run(args: &StatsArgs) -> anyhow::Result<ExitStatus> {
    let ingested = super::read_inputs(&args.input)?;
    let summary = Summary::from_ingested(&ingested);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        StatsFormat::Json => stats::write_json(&summary, &mut out)?,
        StatsFormat::Table => stats::write_table(&summary, &mut out)?,
    }
    out.flush()?;
    Ok(ExitStatus::Success)
}
