//! Command-line definitions (clap derive). No logic lives here: commands in
//! [`crate::commands`] turn these into work.

pub mod values;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::ingest::Format;
use crate::report::check::CheckFormat;
use crate::report::diff::DiffFormat;
use crate::report::{CsvSection, ReportFormat};
use values::{DurationArg, PercentArg, SizeArg, TimeArg};

/// Reads exported distributed traces and tells you where the time went.
#[derive(Debug, Parser)]
#[command(name = "critpath", version, propagate_version = true)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,

    /// When to colour output on a terminal (NO_COLOR turns `auto` off).
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub color: ColorChoice,
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
    /// Where did the time go: critical paths, self time, per-operation
    /// percentiles, per-service shares and hot paths over all traces.
    #[command(
        after_help = "Examples:\n  critpath analyze fixtures/otlp-json/\n  critpath analyze traces.jsonl.gz --top 10\n  critpath analyze exports/ --root 'checkout:POST /orders' --format json > report.json\n  critpath analyze exports/ --entry 'aaa-api:*' --min-duration 2s\n  critpath analyze exports/ --format csv --section services > services.csv\n  critpath analyze exports/ --format html -o report.html\n  critpath analyze shard-3/ --export-parquet results/shard-3/"
    )]
    Analyze(AnalyzeArgs),
    /// Gate CI: check traces against a budget file and/or a baseline report;
    /// exit 1 when any check fails.
    #[command(
        after_help = "Examples:\n  critpath check traces/ --budget critpath.toml\n  critpath analyze base/ --format json > baseline.json\n  critpath check traces/ --baseline baseline.json --max-regression 20%\n  critpath check traces/ --format junit > critpath-junit.xml\n\nExit status: 0 all checks passed, 1 a check failed, 2 usage or input error."
    )]
    Check(CheckArgs),
    /// Compare two trace sets (or saved JSON reports): percentile changes per
    /// operation, critical-share shifts, appeared and vanished shapes.
    #[command(
        after_help = "Examples:\n  critpath diff before/ after/\n  critpath diff baseline.json traces/ --format markdown"
    )]
    Diff(DiffArgs),
    /// Draw one trace as a waterfall with its critical path highlighted.
    #[command(
        after_help = "Examples:\n  critpath trace 4bf92f3577b34da6 traces/\n  critpath trace 4bf92f traces/ --depth 3 --min-duration 5ms\n\nA unique prefix of the trace id is enough."
    )]
    Trace(TraceArgs),
    /// Flame graph of critical-path time over all selected traces (SVG via
    /// inferno, or folded stacks for other tools).
    #[command(
        after_help = "Examples:\n  critpath flame traces/ -o critical.svg\n  critpath flame traces/ --folded > critical.folded\n  critpath flame traces/ --percentile 95 --root 'api:GET /home' -o p95.svg\n  critpath flame after/ --diff before/ -o change.svg"
    )]
    Flame(FlameArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(
        after_help = "Examples:\n  critpath completions bash > ~/.local/share/bash-completion/completions/critpath\n  critpath completions zsh > ~/.zfunc/_critpath\n  critpath completions fish > ~/.config/fish/completions/critpath.fish"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), generated from these definitions.
    #[command(after_help = "Example:\n  critpath man > critpath.1 && man ./critpath.1")]
    Man,
}

/// Where traces come from and how to read them; shared by every command.
#[derive(Debug, Clone, Args)]
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

    /// Threads of the one pool every stage runs on: reading, the per-trace
    /// stage and aggregation (default, or 0: polars' `POLARS_MAX_THREADS`
    /// if set, else one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// No progress bar (it only ever shows on a terminal, on stderr, for
    /// large inputs).
    #[arg(long, short)]
    pub quiet: bool,

    /// Read files into buffers instead of mapping them into memory: for a
    /// file that may be truncated while it is read (a log rotated with
    /// copytruncate) or that lives on a file system that can fail a read
    /// (a network share), where a mapped file ends the run with SIGBUS.
    #[arg(long)]
    pub no_mmap: bool,
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

/// Which traces and subtrees to analyse; shared by commands that analyse.
// The fields' comments are `--help` text, where `SERVICE[:OPERATION]`
// reads as typed; rustdoc would take `[:OPERATION]` for a link.
#[allow(rustdoc::broken_intra_doc_links)]
#[derive(Debug, Args)]
pub struct SelectArgs {
    /// Keep only roots matching SERVICE[:OPERATION] (`*` and `?` wildcards).
    #[arg(long, value_name = "SERVICE[:OPERATION]")]
    pub root: Option<String>,

    /// Analyse the subtree under every span matching SERVICE[:OPERATION],
    /// wherever it sits in the trace (the breakdown of one endpoint).
    #[arg(long, value_name = "SERVICE[:OPERATION]")]
    pub entry: Option<String>,

    /// Keep only traces in which this service (pattern) appears.
    #[arg(long, value_name = "SERVICE")]
    pub service: Option<String>,

    /// Keep only traces starting at or after this time (RFC 3339, e.g.
    /// 2024-05-01T12:00:00Z).
    #[arg(long, value_name = "TIME", value_parser = values::time)]
    pub since: Option<TimeArg>,

    /// Keep only traces starting before this time (RFC 3339).
    #[arg(long, value_name = "TIME", value_parser = values::time)]
    pub until: Option<TimeArg>,

    /// Keep only roots (or entries) at least this long, e.g. 250ms, 2s.
    #[arg(long, value_name = "DURATION", value_parser = values::duration)]
    pub min_duration: Option<DurationArg>,
}

/// Arguments of `critpath analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// The inputs.
    #[command(flatten)]
    pub input: InputArgs,

    /// The selection.
    #[command(flatten)]
    pub select: SelectArgs,

    /// Detector thresholds.
    #[command(flatten)]
    pub findings: FindingArgs,

    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,

    /// Rows per section (tables and Markdown default to 20; JSON and CSV hold
    /// every row unless this is given).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,

    /// The section a CSV report holds.
    #[arg(long, value_enum, default_value = "operations")]
    pub section: CsvSection,

    /// Write the report to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also write per-span and per-trace results as Parquet files
    /// (`spans.parquet`, `traces.parquet`) into this folder, for DuckDB,
    /// Spark or Trino.
    #[arg(long, value_name = "DIR")]
    pub export_parquet: Option<PathBuf>,

    /// Spill spans to temporary files (in TMPDIR) by trace id when the
    /// input may not fit in SIZE (e.g. 4GiB, 500MB), and analyse them one
    /// partition at a time, with the same report; the per-span results
    /// exact percentiles need still stay in memory. Without it, critpath
    /// spills only when the input looks larger than 80% of available
    /// memory. Not with `--format html`, whose flame graph needs every
    /// trace.
    #[arg(long, value_name = "SIZE", value_parser = values::size)]
    pub memory_limit: Option<SizeArg>,

    /// Print the wall time and peak memory of each stage (read, analyse,
    /// write) and the spans per second of the whole run to stderr.
    #[arg(long)]
    pub timings: bool,

    /// The width of a timeline bucket (`10s`, `1m`); by default a round
    /// width that gives about 40 buckets.
    #[arg(long, value_name = "DURATION", value_parser = values::duration)]
    pub bucket: Option<DurationArg>,

    /// What to compare with when naming the cause.
    #[command(flatten)]
    pub diagnose: DiagnoseArgs,
}

/// What a diagnosis compares the analysed traces with (see the README's
/// "Finding the cause"). Without any of these, the slow traces of each root
/// operation are compared with the rest.
#[derive(Debug, Clone, clap::Args)]
pub struct DiagnoseArgs {
    /// Normal traffic to compare with: trace files or folders, a saved
    /// `analyze --format json` report, or `before-change`: the traces of the
    /// same input from before root latency's first change point (see the
    /// timeline). Repeat for several files. Without any baseline, a change
    /// point is used when there is one, else the slow traces are compared
    /// with the rest.
    #[arg(long, value_name = "BASELINE", conflicts_with_all = ["baseline_since", "baseline_until"])]
    pub baseline: Vec<PathBuf>,

    /// Take the baseline from the same input: traces starting at or after
    /// this time (RFC 3339). Combine with --since for the incident.
    #[arg(long, value_name = "TIME", value_parser = values::time)]
    pub baseline_since: Option<TimeArg>,

    /// Take the baseline from the same input: traces starting before this
    /// time (RFC 3339).
    #[arg(long, value_name = "TIME", value_parser = values::time)]
    pub baseline_until: Option<TimeArg>,

    /// Without a baseline, the traces above this latency percentile of their
    /// root operation are the slow ones compared with the rest (p90, p95,
    /// 99%, ...).
    #[arg(long, value_name = "PERCENTILE", default_value = "p90", value_parser = values::percentile)]
    pub slow: f64,
}

impl DiagnoseArgs {
    /// Whether the baseline is another time range of the same input
    /// (`--baseline-since`, `--baseline-until`).
    pub fn baseline_range(&self) -> bool {
        self.baseline_since.is_some() || self.baseline_until.is_some()
    }

    /// Whether any baseline is asked for (`--baseline`, a time range):
    /// without one, the diagnosis finds its own.
    pub fn has_baseline(&self) -> bool {
        !self.baseline.is_empty() || self.baseline_range()
    }

    /// Whether `--baseline before-change` asks for the change point (a file
    /// of that name is still a file).
    pub fn before_change(&self) -> bool {
        matches!(&self.baseline[..], [one] if one.as_os_str() == "before-change" && !one.exists())
    }
}

/// Thresholds of the detectors (see the README's "Findings" section).
#[derive(Debug, Args)]
#[command(next_help_heading = "Finding thresholds")]
pub struct FindingArgs {
    /// Least same-shaped sequential siblings for an N+1 finding.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub n_plus_one_min: usize,

    /// Least summed duration of the repeats for an N+1 finding.
    #[arg(long, default_value = "50ms", value_name = "DURATION", value_parser = values::duration)]
    pub n_plus_one_min_total: DurationArg,

    /// Least same-shaped concurrent siblings for a fan-out finding.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub fan_out_min: usize,

    /// Least duration of each call in a sequential-calls run.
    #[arg(long, default_value = "30ms", value_name = "DURATION", value_parser = values::duration)]
    pub sequential_min_call: DurationArg,

    /// Least saving (sum minus longest) for a sequential-calls finding.
    #[arg(long, default_value = "100ms", value_name = "DURATION", value_parser = values::duration)]
    pub sequential_min_savings: DurationArg,

    /// Least share of a root's duration that a parent span's own critical
    /// time must hold for an uninstrumented finding.
    #[arg(long, default_value_t = 0.25, value_name = "FRACTION")]
    pub uninstrumented_min_share: f64,
}

/// Arguments of `critpath check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The inputs.
    #[command(flatten)]
    pub input: InputArgs,

    /// The selection (a rule's own `root`/`entry` replaces these for it).
    #[command(flatten)]
    pub select: SelectArgs,

    /// Detector thresholds.
    #[command(flatten)]
    pub findings: FindingArgs,

    /// Budget file (TOML); default: ./critpath.toml if it exists.
    #[arg(long, value_name = "FILE")]
    pub budget: Option<PathBuf>,

    /// A saved JSON report (`critpath analyze --format json`) to compare with.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Fail when any operation's p50/p95/p99 grew by more than this against
    /// the baseline, e.g. 20%.
    #[arg(long, value_name = "PERCENT", requires = "baseline", value_parser = values::percent)]
    pub max_regression: Option<PercentArg>,

    /// Least spans an operation needs on both sides before a regression is
    /// judged.
    #[arg(long, default_value_t = crate::check::DEFAULT_MIN_COUNT, value_name = "N")]
    pub min_count: u64,

    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: CheckFormat,
}

/// Arguments of `critpath diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The base: a trace file or folder, or a saved JSON report.
    #[arg(value_name = "BASE")]
    pub base: PathBuf,

    /// The candidate: a trace file or folder, or a saved JSON report.
    #[arg(value_name = "CANDIDATE")]
    pub candidate: PathBuf,

    /// Read trace inputs as this format instead of detecting it.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<Format>,

    /// Make any unparsable record fatal (exit 2) instead of skipping and
    /// counting it.
    #[arg(long)]
    pub strict: bool,

    /// Threads of the one pool every stage runs on: reading, the per-trace
    /// stage and aggregation (default, or 0: polars' `POLARS_MAX_THREADS`
    /// if set, else one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Read files into buffers instead of mapping them into memory (see
    /// `analyze --help`).
    #[arg(long)]
    pub no_mmap: bool,

    /// The selection, applied to both sides that are trace sets.
    #[command(flatten)]
    pub select: SelectArgs,

    /// Detector thresholds.
    #[command(flatten)]
    pub findings: FindingArgs,

    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: DiffFormat,

    /// Rows per section.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top: usize,
}

/// When to colour output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Arguments of `critpath trace`.
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// The trace id, or a unique prefix of it.
    #[arg(value_name = "TRACE_ID")]
    pub trace_id: String,

    /// The inputs.
    #[command(flatten)]
    pub input: InputArgs,

    /// Deepest level to show (0 = the roots only).
    #[arg(long, value_name = "N")]
    pub depth: Option<usize>,

    /// Hide spans shorter than this (with their subtrees), e.g. 1ms.
    #[arg(long, value_name = "DURATION", value_parser = values::duration)]
    pub min_duration: Option<DurationArg>,

    /// Width of the timeline column.
    #[arg(long, default_value_t = 40, value_name = "CHARS")]
    pub bar_width: usize,
}

/// Arguments of `critpath flame`.
#[derive(Debug, Args)]
pub struct FlameArgs {
    /// The inputs.
    #[command(flatten)]
    pub input: InputArgs,

    /// The selection.
    #[command(flatten)]
    pub select: SelectArgs,

    /// Write the SVG here (default: stdout).
    #[arg(short, long, value_name = "FILE.svg")]
    pub output: Option<PathBuf>,

    /// Write folded stacks (`frame;frame count`, counts in µs) instead of SVG.
    #[arg(long)]
    pub folded: bool,

    /// Only traces at or under this duration percentile, as CRISP does (e.g. 95).
    #[arg(long, value_name = "P")]
    pub percentile: Option<f64>,

    /// A base trace set (files or folder): draw a differential flame graph
    /// sized by the inputs and coloured by the change from the base.
    #[arg(long, value_name = "BASE")]
    pub diff: Option<PathBuf>,

    /// The graph's title.
    #[arg(long, default_value = "critical path", value_name = "TEXT")]
    pub title: String,
}
