//! The CSV report: one section, raw numbers (ms, fractions), one row each.

use std::io::{self, Write};

use super::{CsvSection, ReportOptions, Reporter};
use crate::analysis::results::Analysis;

/// Writes one section as CSV.
pub struct CsvReporter(pub ReportOptions);

impl Reporter for CsvReporter {
    fn write(&self, analysis: &Analysis, out: &mut dyn Write) -> io::Result<()> {
        let limit = if self.0.top_explicit {
            self.0.top
        } else {
            usize::MAX
        };
        let mut w = ::csv::Writer::from_writer(out);
        match self.0.csv_section {
            CsvSection::Operations => {
                for row in analysis.operations.iter().take(limit) {
                    w.serialize(row)?;
                }
            }
            CsvSection::Services => {
                for row in analysis.services.iter().take(limit) {
                    w.serialize(row)?;
                }
            }
            CsvSection::HotPaths => {
                w.write_record([
                    "path",
                    "traces",
                    "share",
                    "p50_ms",
                    "p99_ms",
                    "example_trace_id",
                ])?;
                for p in analysis.hot_paths.iter().take(limit) {
                    w.write_record([
                        p.path.join(" > "),
                        p.traces.to_string(),
                        p.share.to_string(),
                        p.p50_ms.to_string(),
                        p.p99_ms.to_string(),
                        p.example_trace_id.clone(),
                    ])?;
                }
            }
            CsvSection::Edges => {
                for row in analysis.edges.iter().take(limit) {
                    w.serialize(row)?;
                }
            }
            CsvSection::Errors => {
                for row in analysis.errors.iter().take(limit) {
                    w.serialize(row)?;
                }
            }
        }
        w.flush()
    }
}
