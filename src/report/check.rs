//! Formats `check` results: a terminal table, JSON, JUnit XML (one test case
//! per result) and Markdown (a PR comment); plus GitHub Actions annotations.

use std::io::{self, Write};

use super::units::{millis, percent};
use crate::check::{CheckReport, CheckResult, Metric, Unit};

/// Output formats of `check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// A terminal table.
    Table,
    /// JSON.
    Json,
    /// JUnit XML, for CI test reports.
    Junit,
    /// Markdown, for a pull-request comment.
    Markdown,
}

/// A value in the metric's unit.
fn value(metric: Metric, v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if metric.unit() == Unit::Millis => millis(v),
        Some(v) if metric.unit() == Unit::Share => percent(v),
        Some(v) => format!("{v}"),
    }
}

fn status(r: &CheckResult) -> &'static str {
    if r.passed { "pass" } else { "FAIL" }
}

/// Writes the report in `format`.
pub fn write(report: &CheckReport, format: CheckFormat, out: &mut dyn Write) -> io::Result<()> {
    match format {
        CheckFormat::Table => table(report, out),
        CheckFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)
        }
        CheckFormat::Junit => junit(report, out),
        CheckFormat::Markdown => markdown(report, out),
    }
}

fn table(report: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
    let mut t = super::table::new_table();
    t.set_header(vec![
        "rule", "target", "metric", "measured", "limit", "result",
    ]);
    for r in &report.results {
        t.add_row(vec![
            r.rule.clone(),
            r.target.clone(),
            r.metric.to_string(),
            value(r.metric, r.measured),
            value(r.metric, Some(r.limit)),
            status(r).to_string(),
        ]);
    }
    writeln!(out, "{t}")?;
    if report.failed == 0 {
        writeln!(out, "All {} checks passed.", report.checks)
    } else {
        writeln!(out, "{} of {} checks failed.", report.failed, report.checks)
    }
}

fn markdown(report: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
    let verdict = if report.failed == 0 {
        format!("✅ all {} checks passed", report.checks)
    } else {
        format!("❌ {} of {} checks failed", report.failed, report.checks)
    };
    writeln!(out, "### critpath check: {verdict}\n")?;
    writeln!(
        out,
        "| result | rule | target | metric | measured | limit |"
    )?;
    writeln!(out, "| --- | --- | --- | --- | --- | --- |")?;
    for r in &report.results {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            if r.passed { "pass" } else { "**FAIL**" },
            r.rule.replace('|', "\\|"),
            r.target.replace('|', "\\|"),
            r.metric,
            value(r.metric, r.measured),
            value(r.metric, Some(r.limit))
        )?;
    }
    Ok(())
}

fn junit(report: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
    let failures = report.results.iter().filter(|r| !r.passed).count();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="critpath" tests="{n}" failures="{failures}">"#,
        n = report.results.len()
    )?;
    writeln!(
        out,
        r#"  <testsuite name="critpath check" tests="{n}" failures="{failures}">"#,
        n = report.results.len()
    )?;
    for r in &report.results {
        let name = xml(&format!("{}: {} {}", r.rule, r.target, r.metric));
        if r.passed {
            writeln!(out, r#"    <testcase classname="critpath" name="{name}"/>"#)?;
        } else {
            let message = xml(&failure_message(r));
            writeln!(out, r#"    <testcase classname="critpath" name="{name}">"#)?;
            writeln!(
                out,
                r#"      <failure message="{message}">{message}</failure>"#
            )?;
            writeln!(out, "    </testcase>")?;
        }
    }
    writeln!(out, "  </testsuite>\n</testsuites>")
}

/// "measured 12.6 s > limit 10.0 s", or what did not match.
pub fn failure_message(r: &CheckResult) -> String {
    match r.measured {
        None => format!(
            "{}: no span matched (add optional = true if that is expected)",
            r.rule
        ),
        Some(_) => format!(
            "{} {} {}: measured {} > limit {}",
            r.rule,
            r.target,
            r.metric,
            value(r.metric, r.measured),
            value(r.metric, Some(r.limit))
        ),
    }
}

/// GitHub Actions workflow commands, one `::error` per failed result.
pub fn github_annotations(
    report: &CheckReport,
    budget_file: Option<&str>,
    out: &mut dyn Write,
) -> io::Result<()> {
    for r in report.results.iter().filter(|r| !r.passed) {
        let location = match (budget_file, r.line) {
            (Some(f), Some(l)) => format!(" file={f},line={l},"),
            _ => " ".to_string(),
        };
        // Workflow commands end at the newline; escape as GitHub documents.
        let msg = failure_message(r)
            .replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A");
        writeln!(out, "::error{location}title=critpath budget::{msg}")?;
    }
    Ok(())
}

/// Escapes text for an XML attribute or element.
fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> CheckReport {
        CheckReport::new(
            vec![
                CheckResult {
                    rule: "operation a:b".into(),
                    line: Some(2),
                    target: "a:b".into(),
                    metric: Metric::P99Ms,
                    measured: Some(12_600.0),
                    limit: 10_000.0,
                    passed: false,
                },
                CheckResult {
                    rule: "service <x>".into(),
                    line: Some(7),
                    target: "x".into(),
                    metric: Metric::CriticalShare,
                    measured: Some(0.1),
                    limit: 0.25,
                    passed: true,
                },
            ],
            3,
        )
    }

    #[test]
    fn the_summary_counts_unlisted_passing_checks() {
        let mut out = Vec::new();
        write(&report(), CheckFormat::Table, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with("1 of 5 checks failed.\n"), "{text}");
    }

    #[test]
    fn junit_has_one_case_per_result_and_escapes() {
        let mut out = Vec::new();
        write(&report(), CheckFormat::Junit, &mut out).unwrap();
        let xml = String::from_utf8(out).unwrap();
        assert_eq!(xml.matches("<testcase").count(), 2);
        assert_eq!(xml.matches("<failure").count(), 1);
        assert!(xml.contains("measured 12.6 s &gt; limit 10.0 s"), "{xml}");
        assert!(xml.contains("service &lt;x&gt;"));
    }

    #[test]
    fn annotations_point_at_the_rule_line() {
        let mut out = Vec::new();
        github_annotations(&report(), Some("critpath.toml"), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(
            text.starts_with("::error file=critpath.toml,line=2,title=critpath budget::"),
            "{text}"
        );
    }
}
