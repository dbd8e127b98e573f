//! Pictures of traces: the waterfall of one trace and critical-path flame
//! graphs, as snapshots on the cascade fixture (colour off).

use crate::util::{critpath, json};

const CASCADE: &str = "fixtures/otlp-json/cascade.jsonl";

fn stdout(args: &[&str]) -> String {
    let out = critpath().args(args).output().expect("runs");
    assert!(
        out.status.success(),
        "critpath {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The slowest trace of the top cascade.
fn cascade_example() -> String {
    let report = json(&["analyze", CASCADE, "--format", "json"]);
    report["cascades"][0]["example_trace_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn waterfall_of_the_slowest_cascade_trace() {
    let id = cascade_example();
    let out = stdout(&["trace", &id, CASCADE, "--color", "never"]);
    assert!(out.contains("aaa-api"), "{out}");
    insta::assert_snapshot!("waterfall_cascade", out);
}

#[test]
fn a_unique_prefix_finds_the_trace_and_an_unknown_id_exits_2() {
    let id = cascade_example();
    let full = stdout(&["trace", &id, CASCADE, "--color", "never"]);
    let prefix = stdout(&["trace", &id[..12], CASCADE, "--color", "never"]);
    assert_eq!(full, prefix);
    let out = critpath()
        .args(["trace", "ffffffffffffffffffffffffffffffff", CASCADE])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("ffffffffffffffffffffffffffffffff"),
        "{stderr}"
    );
}

#[test]
fn seventeen_thousand_siblings_collapse_into_one_row() {
    let file = "fixtures/otlp-json/fanout_17k.jsonl.gz";
    let report = json(&["analyze", file, "--format", "json"]);
    let id = report["operations"][0]["example_trace_id"]
        .as_str()
        .unwrap();
    let out = stdout(&["trace", id, file, "--color", "never"]);
    assert!(out.lines().count() < 60, "{} lines", out.lines().count());
    assert!(out.contains("17000") || out.contains("17,000"), "{out}");
}

#[test]
fn folded_stacks_of_the_cascade() {
    let out = stdout(&["flame", CASCADE, "--folded"]);
    insta::assert_snapshot!("folded_cascade", out);
}

#[test]
fn flame_graph_svg_parses_and_names_the_culprit() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("flame.svg");
    critpath()
        .args(["flame", CASCADE, "-o", svg.to_str().unwrap()])
        .assert()
        .success();
    let text = std::fs::read_to_string(&svg).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("SVG is well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let titles: Vec<&str> = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "title")
        .filter_map(|n| n.text())
        .collect();
    assert!(titles.iter().any(|t| t.contains("aaa-api")), "{titles:?}");
}

#[test]
fn differential_flame_graph_between_two_sets() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("diff.svg");
    critpath()
        .args(["flame", "fixtures/otlp-json/sequential.jsonl", "--diff"])
        .args([
            "fixtures/otlp-json/near_misses.jsonl",
            "-o",
            svg.to_str().unwrap(),
        ])
        .assert()
        .success();
    let text = std::fs::read_to_string(&svg).unwrap();
    roxmltree::Document::parse(&text).expect("SVG is well-formed XML");
}
