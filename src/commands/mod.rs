//! One glue function per subcommand: run the stages, print, return a status.

mod analyze;
mod check;
mod diagnose;
mod diff;
mod flame;
mod stats;
mod threads;
mod timings;
mod trace;

use anyhow::Context;

use crate::analysis::detectors::FindingOptions;
use crate::analysis::select::{Selection, SpanPattern};
use crate::cli::{Cli, Command, FindingArgs, InputArgs, SelectArgs};
use crate::error::ExitStatus;
use crate::ingest::{self, IngestOptions, Ingested};

/// Runs the parsed command.
pub fn dispatch(cli: Cli) -> anyhow::Result<ExitStatus> {
    let threads = match &cli.command {
        Command::Stats(args) => args.input.threads,
        Command::Analyze(args) => args.input.threads,
        Command::Check(args) => args.input.threads,
        Command::Diff(args) => args.threads,
        Command::Trace(args) => args.input.threads,
        Command::Flame(args) => args.input.threads,
        // Printed from clap's model: no pool needed.
        Command::Completions { .. } | Command::Man => return command(cli),
    };
    threads::bound(threads);
    threads::run(move || command(cli))
}

fn command(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Stats(args) => stats::run(&args),
        Command::Analyze(args) => analyze::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Trace(args) => trace::run(&args, cli.color),
        Command::Flame(args) => flame::run(&args),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "critpath", &mut std::io::stdout());
            Ok(ExitStatus::Success)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd).render(&mut std::io::stdout())?;
            Ok(ExitStatus::Success)
        }
    }
}

/// Reads the inputs named on the command line into memory.
pub(crate) fn read_inputs(args: &InputArgs) -> anyhow::Result<Ingested> {
    read_inputs_within(args, None)
}

/// Reads the inputs named on the command line, spilling their spans to
/// disk by trace when `limit` says they may not fit in memory.
pub(crate) fn read_inputs_within(
    args: &InputArgs,
    limit: Option<crate::ingest::memory::MemoryLimit>,
) -> anyhow::Result<Ingested> {
    let sources = ingest::expand_inputs(&args.inputs).context("finding inputs")?;
    if sources.is_empty() {
        let names: Vec<_> = args
            .inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        return Err(ingest::IngestError::Empty(names.join(", ")).into());
    }
    let spill = match limit.and_then(|l| l.partitions(&sources).map(|p| (l, p))) {
        Some((limit, partitions)) => {
            let spill = crate::model::spill::Spill::new(partitions)
                .context("creating the spill folder (set TMPDIR to choose where)")?;
            if !args.quiet {
                eprintln!(
                    "critpath: the input may not fit in {}{}; spilling spans to {} in {partitions} partitions",
                    crate::ingest::memory::human(limit.bytes),
                    if limit.explicit {
                        ""
                    } else {
                        " (80% of available memory)"
                    },
                    spill.dir().display(),
                );
            }
            crate::ingest::memory::bounded();
            Some(std::sync::Arc::new(spill))
        }
        None => None,
    };
    let options = IngestOptions {
        format: args.input_format,
        strict: args.strict,
        progress: progress_bar(args, &sources),
        no_mmap: args.no_mmap,
        window_bytes: spill.as_ref().and(limit).map(|l| l.window_bytes()),
        spill,
    };
    let result = ingest::ingest(&sources, &options);
    if let Some(bar) = &options.progress {
        bar.finish_and_clear();
    }
    let ingested = result?;
    for name in &ingested.skipped {
        eprintln!("critpath: skipped {name}: not a trace format (found in a folder)");
    }
    if ingested.inputs == 0 {
        return Err(ingest::IngestError::Empty(ingested.skipped.join(", ")).into());
    }
    Ok(ingested)
}

/// Turns threshold flags into validated [`FindingOptions`].
pub(crate) fn finding_options(args: &FindingArgs) -> anyhow::Result<FindingOptions> {
    if !(0.0..=1.0).contains(&args.uninstrumented_min_share) {
        anyhow::bail!(
            "--uninstrumented-min-share {}: expected a fraction between 0 and 1",
            args.uninstrumented_min_share
        );
    }
    Ok(FindingOptions {
        n_plus_one_min: args.n_plus_one_min,
        n_plus_one_min_total: args.n_plus_one_min_total.nanos,
        fan_out_min: args.fan_out_min,
        sequential_min_call: args.sequential_min_call.nanos,
        sequential_min_savings: args.sequential_min_savings.nanos,
        uninstrumented_min_share: args.uninstrumented_min_share,
    })
}

/// Turns selection flags into a [`Selection`].
pub(crate) fn selection(args: &SelectArgs) -> Selection {
    Selection {
        root: args.root.as_deref().map(SpanPattern::parse),
        entry: args.entry.as_deref().map(SpanPattern::parse),
        service: args.service.as_deref().map(wildmatch::WildMatch::new),
        since: args.since.as_ref().map(|t| t.nanos),
        until: args.until.as_ref().map(|t| t.nanos),
        min_duration: args.min_duration.as_ref().map(|d| d.nanos),
    }
}

/// Fails (exit 2) when the selection left nothing to analyse, naming the
/// filters, instead of reporting an empty analysis as if all were well.
pub(crate) fn ensure_selected(analysed: u64, read: u64, args: &SelectArgs) -> anyhow::Result<()> {
    if analysed > 0 {
        return Ok(());
    }
    let text = |v: &Option<String>| v.clone();
    let filters: Vec<String> = [
        ("--root", text(&args.root)),
        ("--entry", text(&args.entry)),
        ("--service", text(&args.service)),
        ("--since", args.since.as_ref().map(ToString::to_string)),
        ("--until", args.until.as_ref().map(ToString::to_string)),
        (
            "--min-duration",
            args.min_duration.as_ref().map(ToString::to_string),
        ),
    ]
    .iter()
    .filter_map(|(flag, v)| v.as_ref().map(|v| format!("{flag} {v}")))
    .collect();
    if filters.is_empty() {
        anyhow::bail!("no root spans to analyse in the input ({read} traces read)");
    }
    anyhow::bail!(
        "the selection {} keeps none of the {read} traces read; loosen it (`critpath stats` shows the input's time range and services)",
        filters.join(" ")
    )
}

/// Inputs smaller than this are read too fast for a progress bar to help.
const PROGRESS_MIN_BYTES: u64 = 64 << 20;

/// Inputs with fewer spans than this are analysed too fast for a spinner.
const PROGRESS_MIN_SPANS: u64 = 200_000;

/// A spinner (or, for a spilled input, a bar of partitions) on stderr while
/// `spans` spans are analysed, when there are many, stderr is a terminal
/// and `--quiet` is not given.
pub(crate) fn analysis_progress(args: &InputArgs, spans: u64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if args.quiet || !std::io::stderr().is_terminal() || spans < PROGRESS_MIN_SPANS {
        return None;
    }
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("analysing {spinner} {pos}/{len} parts {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

/// A progress bar on stderr for large inputs, only when stderr is a
/// terminal and `--quiet` is not given; never on stdout.
fn progress_bar(
    args: &InputArgs,
    sources: &[ingest::InputSource],
) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if args.quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let total: u64 = sources.iter().map(|s| s.size()).sum();
    if total < PROGRESS_MIN_BYTES {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "reading {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(bar)
}
