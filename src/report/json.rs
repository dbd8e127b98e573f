//! The JSON report: the analysis results serialised as they are.

use std::io::{self, Write};

use super::{ReportOptions, Reporter};
use crate::analysis::results::Analysis;

/// Writes pretty JSON.
pub struct JsonReporter(pub ReportOptions);

impl Reporter for JsonReporter {
    fn write(&self, analysis: &Analysis, out: &mut dyn Write) -> io::Result<()> {
        let value = if self.0.top_explicit {
            let mut cut = analysis.clone();
            cut.operations.truncate(self.0.top);
            cut.services.truncate(self.0.top);
            cut.hot_paths.truncate(self.0.top);
            serde_json::to_value(&cut)?
        } else {
            serde_json::to_value(analysis)?
        };
        serde_json::to_writer_pretty(&mut *out, &value)?;
        writeln!(out)
    }
}
