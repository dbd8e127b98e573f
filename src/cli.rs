//! Command-line definitions (clap derive). No logic lives here: commands in
//! [`crate::commands`] turn these into work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::ingest::Format;

/// Reads exported distributed traces and tells you where the time went.
#[derive(Debug, Parser)]
#[command(name = "critpath", version, propagate_version = true)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// critpath's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Summarise what was read: traces, spans, services, time range, formats
    /// and data-quality counts. The first command to run on a new export.
    #[command(
        after_help = "Examples:\n  critpath stats traces.json\n  critpath stats exports/ --format json\n  zcat spans.jsonl.gz | critpath stats -"
    )]
    Stats(StatsArgs),
}

/// Where traces come from and how to read them; shared by every command.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Trace files or folders (read recursively); `-` reads stdin. gzip and
    /// zstd are decompressed transparently.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// Read every input as this format instead of detecting it from content.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<Format>,

    /// Make any unparsable record fatal (exit 2) instead of skipping and
    /// counting it.
    #[arg(long)]
    pub strict: bool,

    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

/// Output formats of `stats`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StatsFormat {
    /// A terminal table.
    Table,
    /// JSON.
    Json,
}

/// Arguments of `critpath stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// The inputs.
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: StatsFormat,
}
