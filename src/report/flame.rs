//! Flame graph SVGs (inferno) from folded critical-path stacks, plain or
//! differential.

use std::io::{self, Write};

use inferno::flamegraph::{self, Options};

use crate::analysis::flame::{Folded, to_lines};

fn options(title: &str) -> Options<'static> {
    let mut opts = Options::default();
    opts.title = title.to_string();
    opts.count_name = "µs of critical path".to_string();
    opts.min_width = 0.05;
    opts
}

/// Writes a flame graph of `folded` as SVG.
pub fn svg(folded: &Folded, title: &str, out: &mut dyn Write) -> io::Result<()> {
    let lines = to_lines(folded);
    let mut opts = options(title);
    flamegraph::from_lines(&mut opts, lines.iter().map(String::as_str), out)
        .map_err(io::Error::other)
}

/// Writes a differential flame graph: frames are sized by `after` and
/// coloured by the change from `before` (red grew, blue shrank).
pub fn diff_svg(
    before: &Folded,
    after: &Folded,
    title: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    let keys: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let lines: Vec<String> = keys
        .into_iter()
        .map(|k| {
            format!(
                "{k} {} {}",
                before.get(k).unwrap_or(&0),
                after.get(k).unwrap_or(&0)
            )
        })
        .collect();
    let mut opts = options(title);
    flamegraph::from_lines(&mut opts, lines.iter().map(String::as_str), out)
        .map_err(io::Error::other)
}

/// Writes the folded text, for other flame graph tools.
pub fn folded_text(folded: &Folded, out: &mut dyn Write) -> io::Result<()> {
    for line in to_lines(folded) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}
