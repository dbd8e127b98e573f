//! Reports: result data formatted for people (tables, Markdown) and for
//! programs (JSON, CSV). Formatters only format; they compute nothing.
//!
//! Each `analyze` output format is one file implementing [`Reporter`].

pub mod check;
mod csv;
pub mod diff;
pub mod flame;
pub mod html;
mod json;
mod markdown;
pub mod parquet;
pub mod sections;
pub mod stats;
pub mod table;
pub mod timeline;
pub use crate::units;
pub mod waterfall;

use std::io::{self, Write};

use crate::analysis::results::Analysis;

/// Output formats of `analyze`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Terminal tables.
    Table,
    /// JSON (a stable interface; see the README).
    Json,
    /// CSV of one section (`--section`).
    Csv,
    /// Markdown tables, e.g. for a ticket or a PR comment.
    Markdown,
    /// A self-contained HTML page with the tables and a flame graph.
    Html,
}

/// Which table a CSV report holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CsvSection {
    /// Per operation.
    #[default]
    Operations,
    /// Per service.
    Services,
    /// Hot paths.
    HotPaths,
    /// Call edges.
    Edges,
    /// Where failures happened.
    Errors,
    /// Queue destinations.
    Queues,
    /// Message flows per originating operation.
    Flows,
    /// The timeline: one row per bucket and series.
    Timeline,
}

/// Options shared by the reporters.
#[derive(Clone, Debug)]
pub struct ReportOptions {
    /// Rows per section in tables and Markdown; JSON and CSV hold all rows
    /// unless this was given explicitly.
    pub top: usize,
    /// Whether `top` was given explicitly.
    pub top_explicit: bool,
    /// The CSV section.
    pub csv_section: CsvSection,
    /// The terminal width to fit tables into, if output is a terminal.
    pub width: Option<u16>,
}

/// Writes an analysis in one format.
pub trait Reporter {
    /// Writes `analysis` to `out`.
    fn write(&self, analysis: &Analysis, out: &mut dyn Write) -> io::Result<()>;
}

/// The reporter for a format; `folded` feeds the HTML report's flame graph.
pub fn reporter(
    format: ReportFormat,
    options: ReportOptions,
    folded: crate::analysis::flame::Folded,
) -> Box<dyn Reporter> {
    match format {
        ReportFormat::Html => Box::new(html::HtmlReporter { options, folded }),
        ReportFormat::Table => Box::new(table::TableReporter(options)),
        ReportFormat::Json => Box::new(json::JsonReporter(options)),
        ReportFormat::Csv => Box::new(csv::CsvReporter(options)),
        ReportFormat::Markdown => Box::new(markdown::MarkdownReporter(options)),
    }
}
