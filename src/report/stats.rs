//! The `stats` report: the summary as a table or JSON.

use std::io::{self, Write};

use comfy_table::Table;

use super::units;
use crate::analysis::summary::Summary;

/// Writes the summary as pretty JSON.
pub fn write_json(summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, summary)?;
    writeln!(out)
}

/// Writes the summary as terminal tables, then any located problems.
pub fn write_table(summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
    let mut table = super::table::new_table();
    table.set_header(vec!["what", "value"]);
    table.add_row(vec!["traces".to_string(), summary.traces.to_string()]);
    table.add_row(vec!["spans".to_string(), summary.spans.to_string()]);
    table.add_row(vec!["services".to_string(), summary.services.to_string()]);
    table.add_row(vec!["inputs".to_string(), summary.inputs.to_string()]);
    if let Some(range) = &summary.time_range {
        table.add_row(vec!["first start".to_string(), range.start.clone()]);
        table.add_row(vec!["last end".to_string(), range.end.clone()]);
        table.add_row(vec![
            "time covered".to_string(),
            units::duration(range.end_unix_nano - range.start_unix_nano),
        ]);
    }
    for (format, spans) in &summary.spans_per_format {
        table.add_row(vec![format!("spans ({format})"), spans.to_string()]);
    }
    writeln!(out, "{table}")?;
    write_quality(summary, out)
}

/// Writes the data-quality counts (only the non-zero ones) and examples.
pub fn write_quality(summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
    let quality = &summary.data_quality;
    let mut table: Table = super::table::new_table();
    table.set_header(vec!["data quality", "count"]);
    let mut any = false;
    for (name, count) in quality.counts() {
        if count > 0 {
            any = true;
            table.add_row(vec![name.to_string(), count.to_string()]);
        }
    }
    if !any {
        return writeln!(out, "data quality: no problems found");
    }
    writeln!(out, "{table}")?;
    for problem in &quality.examples {
        writeln!(out, "  skipped: {problem}")?;
    }
    // Unparsable records and spans with invalid times share the examples.
    let skipped = quality.unparsable_records + quality.invalid_time;
    if skipped > quality.examples.len() as u64 {
        writeln!(
            out,
            "  ... and {} more skipped records",
            skipped - quality.examples.len() as u64
        )?;
    }
    for (count, examples) in &quality.span_examples {
        for example in examples {
            writeln!(out, "  {}: {example}", count.label())?;
        }
    }
    Ok(())
}
