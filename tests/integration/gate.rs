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
    // The wildcard rule gives one result per matching operation.
    assert!(passed.len() >= 3, "{report:#}");
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
    assert!(xml.contains("measured 90.7%"), "{xml}");
    assert!(xml.contains("limit 25.0%"), "{xml}");
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
fn a_baseline_gates_regressions() {
    // Run where no critpath.toml is, so only the baseline is checked.
    let seq = path("fixtures/otlp-json/sequential.jsonl");
    let seq = seq.to_str().unwrap();
    let mut baseline = json(&["analyze", seq, "--format", "json"]);
    let (dir, same) = temp_file("base.json", baseline.to_string().as_bytes());
    critpath()
        .current_dir(dir.path())
        .args(["check", seq, "--baseline", same.to_str().unwrap()])
        .assert()
        .success();
    // The same traces against a baseline twice as fast: every operation
    // with enough spans regressed by 100%.
    for op in baseline["operations"].as_array_mut().unwrap() {
        for k in ["p50_ms", "p95_ms", "p99_ms"] {
            op[k] = (op[k].as_f64().unwrap() / 2.0).into();
        }
    }
    let (dir, halved) = temp_file("base.json", baseline.to_string().as_bytes());
    let out = critpath()
        .current_dir(dir.path())
        .args(["check", seq, "--baseline", halved.to_str().unwrap()])
        .args(["--max-regression", "20%"])
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.contains("dispatch-api"), "{stdout}");
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

/// Runs `check` on `input` with `budget` as the budget file, from a folder
/// holding only that file.
fn check_with_budget(input: &str, budget: &str) -> assert_cmd::assert::Assert {
    let (dir, file) = temp_file("critpath.toml", budget.as_bytes());
    critpath()
        .current_dir(dir.path())
        .arg("check")
        .arg(path(input))
        .arg("--budget")
        .arg(&file)
        .assert()
}

#[test]
fn issue_15_a_hyphenated_finding_kind_is_checked_not_passed() {
    // The fixtures hold two N+1 findings: the CLI's own spelling must count
    // them, not match nothing and pass.
    let out = check_with_budget(
        "fixtures/otlp-json",
        "[[budget]]\nfinding = \"n-plus-one\"\nmax_count = 0\n",
    )
    .code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.contains("n_plus_one"), "{stdout}");
}

#[test]
fn an_unknown_finding_kind_is_a_usage_error_with_a_suggestion() {
    check_with_budget(
        "fixtures/otlp-json",
        "\n[[budget]]\nfinding = \"n_plus_onee\"\nmax_count = 0\n",
    )
    .code(2)
    .stderr(predicates::str::contains("critpath.toml:2"))
    .stderr(predicates::str::contains(
        "unknown finding kind \"n_plus_onee\"; did you mean \"n_plus_one\"?",
    ));
}

#[test]
fn a_finding_rule_that_matches_nothing_passes_and_says_0() {
    // No N+1 in the cascade: max_count = 0 holds.
    let out = check_with_budget(
        CASCADE,
        "[[budget]]\nfinding = \"n_plus_one\"\nmax_count = 0\n",
    )
    .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.contains("n_plus_one"), "{stdout}");
    assert!(stdout.contains("All 1 checks passed."), "{stdout}");
}

#[test]
fn every_command_with_a_selection_says_when_it_keeps_nothing() {
    for args in [
        vec!["analyze", "fixtures/otlp-json"],
        vec!["flame", "fixtures/otlp-json", "-o", "/dev/null"],
        vec!["diff", "fixtures/otlp-json", "fixtures/otlp-json"],
    ] {
        critpath()
            .args(&args)
            .args(["--root", "no-such-service"])
            .assert()
            .code(2)
            .stderr(predicates::str::contains(
                "--root no-such-service keeps none",
            ));
    }
}

#[test]
fn check_on_an_empty_selection_exits_2_instead_of_passing() {
    critpath()
        .args(["check", "fixtures/otlp-json", "--budget", "critpath.toml"])
        .args(["--root", "no-such-service"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--root no-such-service"));
}

#[test]
fn a_baseline_without_regressions_counts_every_check() {
    let seq = path("fixtures/otlp-json/sequential.jsonl");
    let seq = seq.to_str().unwrap();
    let baseline = json(&["analyze", seq, "--format", "json"]);
    let (dir, same) = temp_file("base.json", baseline.to_string().as_bytes());
    let out = critpath()
        .current_dir(dir.path())
        .args(["check", seq, "--baseline", same.to_str().unwrap()])
        .args(["--max-regression", "20%", "--format", "json"])
        .assert()
        .success();
    let report: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).expect("JSON");
    // Only the summary row is listed; every compared percentile counts.
    assert_eq!(report["results"].as_array().unwrap().len(), 1);
    let summary = &report["results"][0];
    assert_eq!(summary["measured"], 0.0);
    let target = summary["target"].as_str().unwrap();
    let ops: u64 = target.split(' ').next().unwrap().parse().unwrap();
    assert!(ops > 0, "{target}");
    assert!(
        target.contains(&format!("({} percentiles, 0 over the limit)", ops * 3)),
        "{target}"
    );
    assert_eq!(report["checks"], ops * 3 + 1);
    assert_eq!(report["failed"], 0);
}

#[test]
fn a_baseline_of_another_schema_version_is_refused() {
    let seq = path("fixtures/otlp-json/sequential.jsonl");
    let mut baseline = json(&["analyze", seq.to_str().unwrap(), "--format", "json"]);
    baseline["schema_version"] = 99.into();
    let (_dir, old) = temp_file("base.json", baseline.to_string().as_bytes());
    critpath()
        .args([
            "check",
            seq.to_str().unwrap(),
            "--baseline",
            old.to_str().unwrap(),
        ])
        .args(["--max-regression", "20%"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("schema version 99"));
}

#[test]
fn diff_reads_saved_reports_of_thousands_of_traces() {
    // Three Nezha windows: 3,083 traces; an old report put schema_version
    // after sections this large, out of the 4 KiB it was looked for in.
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("big.json");
    critpath()
        .arg("analyze")
        .args(
            [
                "W1_ob_currency_netdelay",
                "W6_ob_cart_cpu",
                "W9_ob_productcatalog_return",
            ]
            .map(|w| path(&format!("tests/oracles/nezha/{w}.otlp.jsonl.gz"))),
        )
        .args(["--format", "json", "-o"])
        .arg(&report)
        .assert()
        .success();
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(saved["summary"]["analysed_traces"], 3083);
    assert!(std::fs::metadata(&report).unwrap().len() > 200 << 10);
    let d = json(&[
        "diff",
        report.to_str().unwrap(),
        report.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(d["verdict"]["confidence"], "none");
    assert!(d["operations"].as_array().unwrap().len() > 10);
}
