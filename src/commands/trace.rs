//! `critpath trace`: one trace's waterfall.

use std::io::{IsTerminal, Write};

use anyhow::bail;

use crate::cli::{ColorChoice, TraceArgs};
use crate::error::ExitStatus;
use crate::model::{Trace, TraceSet};
use crate::report::waterfall::{WaterfallOptions, write};

/// Runs `critpath trace`.
pub fn run(args: &TraceArgs, color: ColorChoice) -> anyhow::Result<ExitStatus> {
    let min_duration = args.min_duration.as_ref().map_or(i64::MIN, |d| d.nanos);
    let ingested = super::read_inputs(&args.input)?;
    let set = &ingested.set;
    let trace = find(set, &args.trace_id)?;
    let stdout = std::io::stdout();
    let color = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let opts = WaterfallOptions {
        depth: args.depth,
        min_duration,
        color,
        bar_width: args.bar_width,
    };
    let mut out = stdout.lock();
    write(set, trace, &opts, &mut out)?;
    let locus = trace
        .main_root()
        .and_then(|root| crate::analysis::error_locus::locus(trace, root));
    if let Some(l) = locus {
        let span = &trace.spans[l];
        let gave_up = if span.status == crate::model::Status::Error {
            ""
        } else {
            " (not marked as an error: its caller gave up waiting for it)"
        };
        writeln!(
            out,
            "\nfailure: the failing branch ends in {} {} (span {}){gave_up}",
            set.strings.resolve(span.service),
            set.strings.resolve(span.name),
            span.span_id
        )?;
    }
    out.flush()?;
    Ok(ExitStatus::Success)
}

/// The trace whose id is `wanted` or starts with it (case-insensitive).
fn find<'a>(set: &'a TraceSet, wanted: &str) -> anyhow::Result<&'a Trace> {
    let wanted = wanted.trim().to_ascii_lowercase();
    if wanted.is_empty() {
        bail!("the trace id is empty");
    }
    let mut matches = set.traces.iter().filter(|t| {
        let label = set.trace_label(t).to_ascii_lowercase();
        // Hex ids may be written without leading zeros (64-bit Jaeger ids).
        let short = wanted.trim_start_matches('0');
        label.starts_with(&wanted)
            || (!short.is_empty() && label.trim_start_matches('0').starts_with(short))
    });
    let first = matches.next();
    let second = matches.next();
    match (first, second) {
        (Some(t), None) => Ok(t),
        (None, _) => bail!(
            "no trace with id {wanted} in the input ({} traces read; `critpath stats` lists them)",
            set.traces.len()
        ),
        (Some(a), Some(b)) => bail!(
            "trace id prefix {wanted} is ambiguous: it matches {} and {} at least; give more digits",
            set.trace_label(a),
            set.trace_label(b)
        ),
    }
}
