//! One glue function per subcommand: run the stages, print, return a status.

mod analyze;
mod stats;

use anyhow::Context;

use crate::analysis::select::{Selection, SpanPattern};
use crate::cli::{Cli, Command, InputArgs, SelectArgs};
use crate::error::ExitStatus;
use crate::ingest::{self, IngestOptions, Ingested};

/// Runs the parsed command.
pub fn dispatch(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Stats(args) => stats::run(&args),
        Command::Analyze(args) => analyze::run(&args),
    }
}

/// Reads the inputs named on the command line.
pub(crate) fn read_inputs(args: &InputArgs) -> anyhow::Result<Ingested> {
    if let Some(n) = args.threads {
        // Only fails if a pool exists already, which is harmless.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global();
    }
    let sources = ingest::expand_inputs(&args.inputs).context("finding inputs")?;
    if sources.is_empty() {
        let names: Vec<_> = args
            .inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        return Err(ingest::IngestError::Empty(names.join(", ")).into());
    }
    let options = IngestOptions {
        format: args.input_format,
        strict: args.strict,
    };
    Ok(ingest::ingest(&sources, &options)?)
}

/// Turns selection flags into a validated [`Selection`].
pub(crate) fn selection(args: &SelectArgs) -> anyhow::Result<Selection> {
    let time = |flag: &str, text: &Option<String>| -> anyhow::Result<Option<i64>> {
        text.as_deref()
            .map(|t| {
                let at = humantime::parse_rfc3339_weak(t)
                    .with_context(|| format!("--{flag} {t}: expected an RFC 3339 time such as 2024-05-01T12:00:00Z"))?;
                let since_epoch = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
                Ok(i64::try_from(since_epoch.as_nanos()).unwrap_or(i64::MAX))
            })
            .transpose()
    };
    let min_duration = args
        .min_duration
        .as_deref()
        .map(|t| {
            humantime::parse_duration(t)
                .with_context(|| format!("--min-duration {t}: expected a duration such as 250ms or 2s"))
                .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        })
        .transpose()?;
    Ok(Selection {
        root: args.root.as_deref().map(SpanPattern::parse),
        entry: args.entry.as_deref().map(SpanPattern::parse),
        service: args.service.as_deref().map(wildmatch::WildMatch::new),
        since: time("since", &args.since)?,
        until: time("until", &args.until)?,
        min_duration,
    })
}
