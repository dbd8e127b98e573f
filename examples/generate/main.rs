//! critpath's trace generator, the command line over the `critpath-gen`
//! library (`gen/`).
//!
//! - `generate fixtures --out DIR` writes the committed fixture tree (see
//!   `fixtures/README.md`), byte for byte the same on every run;
//!   `generate fixtures --check DIR` compares a tree with it (CI does).
//! - `generate --traces N --format otlp-json|otlp-proto|jaeger|sentry
//!   [--seed S] [--out FILE]` streams a large, realistic trace set for
//!   benchmarks (stdout without `--out`).
//!
//! Its tests (`tests.rs`) read the generator's output back through
//! critpath's readers, which the library itself does not depend on.

#[cfg(test)]
mod tests;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use critpath_gen::writers::Format;
use critpath_gen::{fixtures, load};

/// Writes critpath's fixtures, or a large synthetic trace set.
#[derive(Parser)]
#[command(name = "generate", args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// How many traces to generate.
    #[arg(long)]
    traces: Option<u64>,
    /// Output format: otlp-json, otlp-proto, jaeger or sentry.
    #[arg(long, value_parser = parse_format)]
    format: Option<Format>,
    /// Seed; the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output file (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Writes the fixture tree, or checks a committed one.
    Fixtures {
        /// Folder to write it to (`fixtures` to update the committed one).
        #[arg(long, required_unless_present = "check")]
        out: Option<PathBuf>,
        /// Instead of writing, compare this folder with what the generator
        /// makes (compressed files by content); exit 1 on any difference.
        #[arg(long, conflicts_with = "out")]
        check: Option<PathBuf>,
    },
}

fn parse_format(name: &str) -> Result<Format, String> {
    Format::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        format!("expected one of {}", names.join(", "))
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match (&cli.command, cli.traces, cli.format) {
        (Some(Command::Fixtures { out: Some(out), .. }), _, _) => fixtures::write_tree(out),
        (
            Some(Command::Fixtures {
                check: Some(dir), ..
            }),
            _,
            _,
        ) => {
            return match fixtures::check_tree(dir) {
                Ok(differences) if differences.is_empty() => ExitCode::SUCCESS,
                Ok(differences) => {
                    for d in differences {
                        eprintln!("generate: {}/{d}", dir.display());
                    }
                    eprintln!(
                        "generate: regenerate with `cargo run --example generate -- fixtures --out fixtures`"
                    );
                    ExitCode::FAILURE
                }
                Err(e) => {
                    eprintln!("generate: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        (Some(Command::Fixtures { .. }), _, _) => unreachable!("clap requires --out or --check"),
        (None, Some(traces), Some(format)) => load_set(traces, format, cli.seed, &cli.out),
        (None, _, _) => {
            eprintln!(
                "generate: give `fixtures --out DIR`, or `--traces N --format FORMAT` (see --help)"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`generate ... | head`) is the reader's choice.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("generate: {e}");
            ExitCode::FAILURE
        }
    }
}

fn load_set(traces: u64, format: Format, seed: u64, out: &Option<PathBuf>) -> io::Result<()> {
    let mut sink: Box<dyn Write> = match out {
        Some(path) => {
            Box::new(BufWriter::new(File::create(path).map_err(|e| {
                io::Error::new(e.kind(), format!("{}: {e}", path.display()))
            })?))
        }
        None => Box::new(BufWriter::new(io::stdout().lock())),
    };
    load::write(traces, format, seed, &mut sink)?;
    sink.flush()
}
