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
    let selection = super::selection(&args.select);
    let options = super::finding_options(&args.findings)?;
    let mut timings = super::timings::Timings::new(args.timings);
    // The HTML report's flame graph walks every trace after the analysis,
    // so it needs the input in memory.
    let needs_traces = args.format == ReportFormat::Html;
    if needs_traces && args.memory_limit.is_some() {
        anyhow::bail!(
            "--memory-limit: --format html needs every trace in memory; drop --memory-limit, or shard the input by trace id"
        );
    }
    let limit = if needs_traces {
        None
    } else {
        crate::ingest::memory::MemoryLimit::new(args.memory_limit.map(|s| s.0))
    };
    let mut ingested = super::read_inputs_within(&args.input, limit)?;
    timings.lap("read");
    let read_spans = ingested.spans_per_format.values().sum();
    let progress = super::analysis_progress(&args.input, read_spans);
    // Only the HTML report draws a flame graph from the critical paths, and
    // only the Parquet export reads the span table's export columns.
    let keep = analysis::breakdown::Keep {
        segments: if args.format == ReportFormat::Html {
            analysis::breakdown::Segments::Keep
        } else {
            analysis::breakdown::Segments::Drop
        },
        export: if args.export_parquet.is_some() {
            analysis::breakdown::ExportColumns::Keep
        } else {
            analysis::breakdown::ExportColumns::Drop
        },
    };
    // Only the flame graph and a baseline taken from another time range of
    // this input read the traces after the analysis; otherwise each is
    // freed once broken down.
    let keep_traces = needs_traces || args.diagnose.baseline_range();
    let plan = analysis::Plan {
        keep,
        progress: progress.as_ref(),
        ..analysis::Plan::new(&selection, &options)
    };
    // The diagnosis compares slow traces with the rest unless a baseline is
    // asked for or the timeline has a change point (which `--bucket`, by
    // rebuilding it, may move): the split is then made with the profile.
    let slow =
        (!args.diagnose.has_baseline() && args.bucket.is_none()).then_some(args.diagnose.slow);
    let stage = if keep_traces {
        analysis::per_trace_stage(&ingested, plan)
    } else {
        analysis::per_trace_stage_releasing(&mut ingested, plan)
    };
    let result = stage.and_then(|(breakdown, read)| {
        timings.lap("per-trace");
        let (analysis, split) =
            analysis::finish_splitting(&ingested.set.strings, &breakdown, read, slow)?;
        Ok((analysis, split, breakdown))
    });
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let (mut analysis, split, breakdown) = result?;
    super::ensure_selected(
        analysis.summary.analysed_roots,
        analysis.summary.read.traces,
        &args.select,
    )?;
    let cx = super::diagnose::Inputs {
        args: &args.diagnose,
        ingested: &ingested,
        selection: &selection,
        options: &options,
        input: &args.input,
    };
    if let Some(bucket) = &args.bucket {
        analysis.timeline = analysis::timeline::build(
            &ingested.set.strings,
            &breakdown,
            Some(bucket.nanos.max(1)),
        )?;
        if let Some(t) = &analysis.timeline
            && t.bucket_ms * 1e6 > bucket.nanos as f64
        {
            eprintln!(
                "note: --bucket widened to {} ms: the timeline has at most {} buckets",
                t.bucket_ms,
                analysis::timeline::MAX_BUCKETS
            );
        }
    }
    timings.lap("aggregate");
    super::diagnose::run(&cx, &mut analysis, &breakdown, split)?;
    timings.lap("diagnose");
    if let Some(dir) = &args.export_parquet {
        report::parquet::export(&ingested.set.strings, &breakdown, dir)?;
        timings.lap("parquet");
    }
    let folded = if args.format == ReportFormat::Html {
        analysis::flame::folded(&ingested.set, &breakdown, None)?
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
    timings.lap("write");
    timings.print(analysis.summary.read.spans);
    // The process ends next: letting the OS reclaim the heap at once is
    // faster than freeing millions of spans one by one (0.3 s per million).
    // The spill's folder, though, must go.
    drop(ingested.spill.take());
    std::mem::forget((ingested, breakdown, analysis));
    Ok(ExitStatus::Success)
}
