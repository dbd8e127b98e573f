//! The JSON report: the analysis results serialised as they are.

use std::io::{self, Write};

use super::{ReportOptions, Reporter};
use crate::analysis::results::Analysis;

/// Writes pretty JSON.
pub struct JsonReporter(pub ReportOptions);

impl Reporter for JsonReporter {
    fn write(&self, analysis: &Analysis, out: &mut dyn Write) -> io::Result<()> {
        // Serialised straight from the types (not through a Value, whose
        // map sorts keys), so `schema_version` comes first and a saved
        // report is recognised from its first bytes.
        if self.0.top_explicit {
            let mut cut = analysis.clone();
            cut.operations.truncate(self.0.top);
            cut.services.truncate(self.0.top);
            cut.hot_paths.truncate(self.0.top);
            serde_json::to_writer_pretty(&mut *out, &cut)?;
        } else {
            serde_json::to_writer_pretty(&mut *out, analysis)?;
        }
        writeln!(out)
    }
}
