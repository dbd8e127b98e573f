//! The report does not depend on how many threads ran nor on the order the
//! spans arrive in, within a file or across files.

use serde_json::Value;

use crate::util::{critpath, path, succeed};

fn analyze(inputs: &[&std::path::Path], threads: &str) -> String {
    let (out, _) = succeed(critpath().arg("analyze").args(inputs).args([
        "--format",
        "json",
        "--threads",
        threads,
    ]));
    out
}

#[test]
fn the_same_report_with_one_thread_and_four() {
    let input = path("fixtures/otlp-json");
    assert_eq!(analyze(&[&input], "1"), analyze(&[&input], "4"));
}

/// A small deterministic shuffle (a linear congruential generator), so the
/// test needs no extra dependency and always sees the same order.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        items.swap(i, (seed >> 33) as usize % (i + 1));
    }
}

#[test]
fn the_same_report_whatever_order_the_spans_arrive_in() {
    let original = path("fixtures/otlp-json/cascade.jsonl");
    // Every span on its own, with its resource and scope, in shuffled order
    // over three files.
    let mut units: Vec<Value> = Vec::new();
    for line in std::fs::read_to_string(&original).unwrap().lines() {
        let request: Value = serde_json::from_str(line).unwrap();
        for rs in request["resourceSpans"].as_array().unwrap() {
            for ss in rs["scopeSpans"].as_array().unwrap() {
                for span in ss["spans"].as_array().unwrap() {
                    units.push(serde_json::json!({"resourceSpans": [{
                        "resource": rs["resource"],
                        "scopeSpans": [{"scope": ss["scope"], "spans": [span]}],
                    }]}));
                }
            }
        }
    }
    assert_eq!(units.len(), 280);
    shuffle(&mut units, 15);
    let dir = tempfile::tempdir().unwrap();
    for (i, chunk) in units.chunks(100).enumerate() {
        let text: Vec<String> = chunk.iter().map(Value::to_string).collect();
        std::fs::write(dir.path().join(format!("part{i}.jsonl")), text.join("\n")).unwrap();
    }
    let whole: Value = serde_json::from_str(&analyze(&[&original], "4")).unwrap();
    let shuffled: Value = serde_json::from_str(&analyze(&[dir.path()], "4")).unwrap();
    // Everything but which files were read is the same.
    for key in [
        "operations",
        "services",
        "hot_paths",
        "cascades",
        "query_shapes",
        "findings",
        "edges",
        "errors",
        "verdict",
        "suspects",
        "profile",
    ] {
        assert_eq!(whole[key], shuffled[key], "{key}");
    }
    for key in ["traces", "spans", "analysed_roots", "total_root_ms"] {
        assert_eq!(whole["summary"][key], shuffled["summary"][key], "{key}");
    }
}
