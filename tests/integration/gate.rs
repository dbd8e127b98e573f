//! `critpath check` and `critpath diff` on the fixtures: the repository's
//! own budget passes, a budget the cascade breaks exits 1, and CI outputs
//! carry measured vs limit.

use crate::util::{critpath, json, path, temp_file};

const CASCADE: &str = "fixtures/otlp-json/cascade.jsonl";

#[test]
fn the_repository_budget_passes_on_its_fixtures() {
    crate::util::require(&path("critpath.toml"));
    critpath()
        .args(["check", "fixtures/otlp-json", "--budget", "critpath.toml"])
        .assert()
        .success();
}

#[test]
fn a_budget_the_cascade_breaks_exits_1_and_says_why() {
    let budget = br#"
[[budget]]
service = "aaa-api"
max_critical_share = 0.25

[[budget]]
operation = "notification-sender:*"
p50_ms = 60000
"#;
    let (_dir, file) = temp_file("critpath.toml", budget);
    let out = critpath()
        .args(["check", CASCADE, "--budget", file.to_str().unwrap()])
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.contains("aaa-api"), "{stdout}");
    assert!(stdout.contains("FAIL"), "{stdout}");
    // Only the share rule failed; the p50 rule passed. (`json` would
    // insist on exit 0, so read the output directly.)
    let out = critpath()
        .args(["check", CASCADE, "--budget", file.to_str().unwrap()])
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let passed: Vec<(String, bool)> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["metric"].as_str().unwrap().to_string(),
                r["passed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(passed.len(), 2, "{report:#}");
    for (metric, ok) in passed {
        assert_eq!(ok, metric.contains("p50"), "{metric}: {report:#}");
    }
    assert_eq!(report["passed"], false);
}

#[test]
fn junit_has_one_testcase_per_rule_and_a_failure_with_measured_and_limit() {
    let budget = b"[[budget]]\nservice = \"aaa-api\"\nmax_critical_share = 0.25\n\n[[budget]]\nfinding = \"n_plus_one\"\nmax_count = 0\n";
    let (_dir, file) = temp_file("b.toml", budget);
    let out = critpath()
        .args(["check", CASCADE, "--budget", file.to_str().unwrap()])
        .args(["--format", "junit"])
        .assert()
        .code(1);
    let xml = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert_eq!(xml.matches("<testcase").count(), 2, "{xml}");
    assert_eq!(xml.matches("<failure").count(), 1, "{xml}");
    assert!(xml.contains("0.25"), "{xml}");
}

#[test]
fn github_annotations_only_under_github_actions() {
    let budget = b"[[budget]]\nservice = \"aaa-api\"\nmax_critical_share = 0.25\n";
    let (_dir, file) = temp_file("b.toml", budget);
    let out = critpath()
        .env("GITHUB_ACTIONS", "true")
        .args(["check", CASCADE, "--budget", file.to_str().unwrap()])
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.contains("::error"), "{stdout}");
}

#[test]
fn a_baseline_from_another_scenario_regresses() {
    // The same service names with slower traces: the sequential scenario's
    // report as baseline for itself passes, and a doctored baseline fails.
    let seq = "fixtures/otlp-json/sequential.jsonl";
    let mut baseline = json(&["analyze", seq, "--format", "json"]);
    let (_d1, same) = temp_file("base.json", baseline.to_string().as_bytes());
    critpath()
        .args(["check", seq, "--baseline", same.to_str().unwrap()])
        .assert()
        .success();
    for op in baseline["operations"].as_array_mut().unwrap() {
        for k in ["p50_ms", "p95_ms", "p99_ms"] {
            op[k] = (op[k].as_f64().unwrap() / 2.0).into();
        }
    }
    let (_d2, halved) = temp_file("base.json", baseline.to_string().as_bytes());
    critpath()
        .args(["check", seq, "--baseline", halved.to_str().unwrap()])
        .args(["--max-regression", "20%"])
        .assert()
        .code(1);
}

#[test]
fn diff_of_two_scenarios_lists_appeared_findings() {
    let report = json(&[
        "diff",
        "fixtures/otlp-json/near_misses.jsonl",
        "fixtures/otlp-json/n_plus_one.jsonl",
        "--format",
        "json",
    ]);
    let appeared = report["findings_appeared"].as_array().unwrap();
    assert!(
        appeared.iter().any(|f| f["kind"] == "n_plus_one"),
        "{report:#}"
    );
}
