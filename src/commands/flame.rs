//! `critpath flame`: critical-path flame graphs.

use std::io::Write;

use anyhow::{Context, bail};

use crate::analysis::breakdown::breakdown;
use crate::analysis::detectors::FindingOptions;
use crate::analysis::flame::{Folded, duration_percentile, folded};
use crate::analysis::select::{Selection, select};
use crate::cli::{FlameArgs, InputArgs, SelectArgs};
use crate::error::ExitStatus;
use crate::report::flame;

/// Runs `critpath flame`.
pub fn run(args: &FlameArgs) -> anyhow::Result<ExitStatus> {
    if let Some(p) = args.percentile
        && (!(0.0..=100.0).contains(&p) || p == 0.0)
    {
        bail!("--percentile {p}: expected a number in (0, 100], e.g. 95");
    }
    let selection = super::selection(&args.select);
    let after = stacks(&args.input, &selection, &args.select, args.percentile)?;
    let mut buf: Vec<u8> = Vec::new();
    match &args.diff {
        Some(base) => {
            let input = InputArgs {
                inputs: vec![base.clone()],
                threads: None,
                ..args.input.clone()
            };
            let before = stacks(&input, &selection, &args.select, args.percentile)?;
            flame::diff_svg(&before, &after, &args.title, &mut buf)?;
        }
        None if args.folded => flame::folded_text(&after, &mut buf)?,
        None => {
            // inferno's own message for this ("No stack counts found") does
            // not say why there is nothing to draw.
            if after.values().all(|&us| us == 0) {
                bail!(
                    "the selected traces have no critical-path time to draw \
                     (every span on their critical paths lasts under a microsecond); \
                     `critpath stats` shows their durations, `--folded` writes the empty stacks"
                );
            }
            flame::svg(&after, &args.title, &mut buf)?
        }
    }
    match &args.output {
        Some(path) => {
            std::fs::write(path, &buf).with_context(|| format!("writing {}", path.display()))?
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&buf)?;
            out.flush()?;
        }
    }
    Ok(ExitStatus::Success)
}

fn stacks(
    input: &InputArgs,
    selection: &Selection,
    flags: &SelectArgs,
    percentile: Option<f64>,
) -> anyhow::Result<Folded> {
    let ingested = super::read_inputs(input)?;
    let set = &ingested.set;
    let units = select(set, selection);
    super::ensure_selected(units.len() as u64, set.traces.len() as u64, flags)?;
    let bd = breakdown(set, &units, &FindingOptions::default());
    let cutoff = match percentile {
        Some(p) => duration_percentile(&bd, p)?,
        None => None,
    };
    Ok(folded(set, &bd, cutoff)?)
}
