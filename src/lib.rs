//! critpath reads exported distributed traces and tells you where the time
//! went.
//!
//! The pipeline reads top-down, and no stage reaches back up:
//!
//! 1. [`ingest`]: files, folders or stdin (gzip/zstd or plain) → format
//!    sniffing → one reader per format → [`model::Span`]s.
//! 2. [`model`]: spans grouped by trace id into [`model::Trace`] graphs,
//!    integrity problems repaired minimally and counted.
//! 3. [`analysis`]: critical paths, self time and findings, computed per
//!    trace in parallel into the columnar span table ([`table`]), then
//!    aggregated by polars queries into plain result data.
//! 4. [`report`]: result data formatted as tables, JSON, CSV or Markdown.
//!
//! [`commands`] glues the stages together per subcommand; [`cli`] only
//! parses arguments.
#![deny(missing_docs)]
// The library is the binary's internals, read with `cargo doc
// --document-private-items`: its public items' docs may name private ones.
#![allow(rustdoc::private_intra_doc_links)]

pub mod analysis;
pub mod check;
pub mod cli;
pub mod commands;
pub mod concat;
pub mod diff;
pub mod error;
pub mod ingest;
pub mod model;
pub mod normalize;
pub mod report;
pub mod table;
pub mod units;

pub use error::ExitStatus;

/// Parses the command line and runs the chosen command.
pub fn run() -> anyhow::Result<ExitStatus> {
    use clap::Parser;
    let cli = cli::Cli::parse();
    commands::dispatch(cli)
}
