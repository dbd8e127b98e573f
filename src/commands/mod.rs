//! One glue function per subcommand: run the stages, print, return a status.

mod stats;

use anyhow::Context;

use crate::cli::{Cli, Command, InputArgs};
use crate::error::ExitStatus;
use crate::ingest::{self, IngestOptions, Ingested};

/// Runs the parsed command.
pub fn dispatch(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Stats(args) => stats::run(&args),
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
