//! Snapshots of `critpath analyze` on the cascade fixture in every output
//! format, so a change to any report shows up in review.

use crate::util::{critpath, succeed};

const CASCADE: &str = "fixtures/otlp-json/cascade.jsonl";

fn analyze(format: &str) -> String {
    succeed(critpath().args(["analyze", CASCADE, "--top", "8", "--format", format])).0
}

#[test]
fn table_report() {
    let out = analyze("table");
    assert!(out.contains("aaa-api"));
    insta::assert_snapshot!("analyze_cascade_table", out);
}

#[test]
fn json_report() {
    let out = analyze("json");
    let value: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(value["schema_version"], 1);
    insta::assert_snapshot!("analyze_cascade_json", out);
}

#[test]
fn markdown_report() {
    let out = analyze("markdown");
    assert!(out.contains("| "));
    insta::assert_snapshot!("analyze_cascade_markdown", out);
}

#[test]
fn csv_report() {
    let out = analyze("csv");
    let header = out.lines().next().unwrap_or_default();
    assert!(header.contains("service"), "{header}");
    insta::assert_snapshot!("analyze_cascade_csv", out);
}
