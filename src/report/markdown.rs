//! The Markdown report: the summary and each section as a GitHub table.

use std::io::{self, Write};

use super::sections::sections;
use super::{ReportOptions, Reporter};
use crate::analysis::results::Analysis;

/// Writes Markdown.
pub struct MarkdownReporter(pub ReportOptions);

impl Reporter for MarkdownReporter {
    fn write(&self, analysis: &Analysis, out: &mut dyn Write) -> io::Result<()> {
        let s = &analysis.summary;
        writeln!(out, "## critpath report\n")?;
        if let Some(text) = super::sections::verdict(analysis) {
            writeln!(out, "**{}**\n", text.replace('*', "\\*"))?;
        }
        writeln!(out, "{}\n", s.line())?;
        let suspects = super::sections::suspects(&analysis.suspects, self.0.top);
        for section in std::iter::once(suspects).chain(sections(analysis, self.0.top)) {
            writeln!(out, "### {}\n", section.title)?;
            writeln!(out, "| {} |", section.headers.join(" | "))?;
            let rule: Vec<&str> = section.headers.iter().map(|_| "---").collect();
            writeln!(out, "| {} |", rule.join(" | "))?;
            for row in &section.rows {
                let cells: Vec<String> = row.iter().map(|c| escape(c)).collect();
                writeln!(out, "| {} |", cells.join(" | "))?;
            }
            writeln!(out)?;
        }
        if let Some(t) = &analysis.timeline {
            super::timeline::write_markdown(t, out)?;
        }
        Ok(())
    }
}

/// Escapes what would break a Markdown table cell.
fn escape(cell: &str) -> String {
    cell.replace('|', "\\|").replace('\n', " ")
}
