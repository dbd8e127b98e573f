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
            CsvSection::Queues => {
                for row in analysis.queues.iter().take(limit) {
                    w.serialize(row)?;
                }
            }
            CsvSection::Flows => {
                w.write_record([
                    "service",
                    "operation",
                    "flows",
                    "end_to_end_p50_ms",
                    "end_to_end_p99_ms",
                    "wait_share",
                    "example_trace_id",
                    "example_path",
                ])?;
                for f in analysis.message_flows.iter().take(limit) {
                    w.write_record([
                        f.service.clone(),
                        f.operation.clone(),
                        f.flows.to_string(),
                        f.end_to_end_p50_ms.to_string(),
                        f.end_to_end_p99_ms.to_string(),
                        f.wait_share.to_string(),
                        f.example_trace_id.clone(),
                        super::sections::flow_path(&f.example_path),
                    ])?;
                }
            }
            CsvSection::Timeline => {
                w.write_record([
                    "bucket_start",
                    "bucket_start_unix_nano",
                    "metric",
                    "name",
                    "value",
                ])?;
                if let Some(t) = &analysis.timeline {
                    let width = (t.bucket_ms * 1e6).round() as i64;
                    for s in &t.series {
                        for (i, v) in s.values.iter().enumerate() {
                            let Some(v) = v else { continue };
                            let at = t
                                .start_unix_nano
                                .saturating_add(width.saturating_mul(i as i64));
                            w.write_record([
                                crate::analysis::summary::rfc3339(at),
                                at.to_string(),
                                serde_json::to_value(s.metric)
                                    .ok()
                                    .and_then(|m| m.as_str().map(str::to_string))
                                    .unwrap_or_default(),
                                s.name.clone(),
                                v.to_string(),
                            ])?;
                        }
                    }
                }
            }
        }
        w.flush()
    }
}
