//! The bundled fixtures (`fixtures/`, made by the generator in `gen/`): each
//! realistic scenario gives the answer its write-up gives, in every format,
//! and the integrity cases are counted, not fatal.

use serde_json::Value;

use crate::util::{SCENARIOS, critpath, json, path};

/// Every format's file of `scenario`.
fn files(scenario: &str) -> Vec<(&'static str, String)> {
    [
        ("otlp-json", "jsonl"),
        ("otlp-proto", "binpb"),
        ("jaeger", "json"),
        ("sentry", "jsonl"),
        ("zipkin", "json"),
        ("xray", "json"),
    ]
    .into_iter()
    .map(|(format, ext)| {
        let p = path(&format!("fixtures/{format}/{scenario}.{ext}"));
        crate::util::require(&p);
        (format, p.to_str().unwrap().to_string())
    })
    .collect()
}

fn analyze(file: &str, extra: &[&str]) -> Value {
    let mut args = vec!["analyze", file, "--format", "json", "--top", "1000"];
    args.extend_from_slice(extra);
    json(&args)
}

fn of_kind<'a>(report: &'a Value, kind: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

/// Per service: (spans, self ms, critical ms), rounded to whole ms (Sentry
/// times are float seconds; the fixtures use whole ms).
fn service_table(report: &Value) -> Vec<(String, u64, i64, i64)> {
    let mut rows: Vec<_> = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["service"].as_str().unwrap().to_string(),
                s["spans"].as_u64().unwrap(),
                s["self_ms"].as_f64().unwrap().round() as i64,
                s["critical_ms"].as_f64().unwrap().round() as i64,
            )
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn every_format_gives_the_same_traces_spans_services_and_times() {
    for scenario in SCENARIOS {
        let mut seen: Option<(String, Value, Value)> = None;
        for (format, file) in files(scenario) {
            let stats = json(&["stats", &file, "--format", "json"]);
            assert_eq!(
                stats["data_quality"]["unparsable_records"], 0,
                "{format}/{scenario}"
            );
            assert_eq!(stats["spans_per_format"][format], stats["spans"]);
            let report = analyze(&file, &[]);
            let facts = serde_json::json!({
                "traces": stats["traces"],
                "spans": stats["spans"],
                "services": stats["services"],
                "total_root_ms": report["summary"]["total_root_ms"].as_f64().unwrap().round(),
            });
            let table = serde_json::to_value(service_table(&report)).unwrap();
            match &seen {
                None => seen = Some((format.to_string(), facts, table)),
                Some((first, f, t)) => {
                    assert_eq!(&facts, f, "{scenario}: {format} vs {first}");
                    assert_eq!(&table, t, "{scenario}: {format} vs {first}");
                }
            }
        }
    }
}

#[test]
fn cascade_culprit_is_the_auth_api() {
    for (format, file) in files("cascade") {
        let report = analyze(&file, &[]);
        let top = &report["cascades"][0];
        assert_eq!(
            top["chain"],
            serde_json::json!(["notification-sender", "intel-requests-api", "aaa-api"]),
            "{format}"
        );
        assert_eq!(top["culprit"], "aaa-api", "{format}");
        let services = report["services"].as_array().unwrap();
        let most_critical = services
            .iter()
            .max_by(|a, b| {
                a["critical_ms"]
                    .as_f64()
                    .unwrap()
                    .total_cmp(&b["critical_ms"].as_f64().unwrap())
            })
            .unwrap();
        assert_eq!(most_critical["service"], "aaa-api", "{format}");
        // "The SQL was a red herring": no query shape owns much of the time.
        for shape in report["query_shapes"].as_array().unwrap() {
            assert!(shape["share"].as_f64().unwrap() < 0.01, "{format}: {shape}");
        }
    }
}

#[test]
fn n_plus_one_fires_on_the_recursive_query_loop() {
    for (format, file) in files("n_plus_one") {
        let report = analyze(&file, &[]);
        let n1 = of_kind(&report, "n_plus_one");
        let recursive = n1
            .iter()
            .find(|f| f["shape"].as_str().unwrap().contains("RECURSIVE"))
            .unwrap_or_else(|| panic!("{format}: {n1:#?}"));
        assert_eq!(recursive["count"], 30, "{format}");
        assert_eq!(recursive["service"], "catalog-api", "{format}");
        assert!(recursive["estimated_savings_ms"].as_f64().unwrap() > 0.0);
        assert_eq!(recursive["example_trace_id"].as_str().unwrap().len(), 32);
    }
}

#[test]
fn seventeen_thousand_deletes_are_one_n_plus_one() {
    let file = path("fixtures/otlp-json/fanout_17k.jsonl.gz");
    crate::util::require(&file);
    let report = analyze(file.to_str().unwrap(), &[]);
    let n1 = of_kind(&report, "n_plus_one");
    assert_eq!(n1.len(), 1, "{n1:#?}");
    assert_eq!(n1[0]["count"], 17_000);
    assert!(
        n1[0]["shape"]
            .as_str()
            .unwrap()
            .starts_with("DELETE FROM alerts")
    );
}

#[test]
fn slow_queries_three_distinct_counts_own_most_of_the_time() {
    for (format, file) in files("slow_queries") {
        let report = analyze(&file, &[]);
        let shapes = report["query_shapes"].as_array().unwrap();
        let top3: Vec<&Value> = shapes.iter().take(3).collect();
        for s in &top3 {
            let shape = s["shape"].as_str().unwrap();
            assert!(shape.contains("COUNT(DISTINCT"), "{format}: {shape}");
            assert!(!shape.chars().any(|c| c.is_ascii_digit()), "{shape}");
        }
        let share: f64 = top3.iter().map(|s| s["share"].as_f64().unwrap()).sum();
        assert!((0.75..0.9).contains(&share), "{format}: {share}");
        let avg: Vec<f64> = top3.iter().map(|s| s["avg_ms"].as_f64().unwrap()).collect();
        assert!(avg[0] > avg[1] && avg[1] > avg[2], "{format}: {avg:?}");
    }
}

#[test]
fn sequential_independent_calls_are_found_with_their_savings() {
    for (format, file) in files("sequential") {
        let report = analyze(&file, &[]);
        let seq = of_kind(&report, "sequential_calls");
        assert_eq!(seq.len(), 1, "{format}: {seq:#?}");
        let f = seq[0];
        assert_eq!(f["service"], "dispatch-api", "{format}");
        assert_eq!(f["count"], 3, "{format}");
        let per_trace = f["estimated_savings_ms"].as_f64().unwrap() / f["traces"].as_f64().unwrap();
        assert!(
            (300.0..=700.0).contains(&per_trace),
            "{format}: {per_trace}"
        );
    }
}

#[test]
fn near_misses_stay_quiet() {
    for (format, file) in files("near_misses") {
        let report = analyze(&file, &[]);
        for kind in ["n_plus_one", "sequential_calls"] {
            let hits = of_kind(&report, kind);
            assert!(hits.is_empty(), "{format}: {kind} fired: {hits:#?}");
        }
        // Concurrent repeats are a fan-out, which is reported as such.
        assert_eq!(of_kind(&report, "fan_out").len(), 1, "{format}");
    }
}

/// Stats JSON of one integrity fixture.
fn quality(file: &str) -> Value {
    let p = path(&format!("fixtures/integrity/{file}"));
    crate::util::require(&p);
    json(&["stats", p.to_str().unwrap(), "--format", "json"])["data_quality"].clone()
}

#[test]
fn integrity_cases_are_counted_not_fatal() {
    let dir = path("fixtures/integrity");
    crate::util::require(&dir);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json") || n.ends_with(".jsonl"))
        .collect();
    names.sort();
    assert!(names.len() >= 8, "{names:?}");
    for name in &names {
        let q = quality(name);
        let counted: u64 = [
            "unparsable_records",
            "missing_parent",
            "duplicate_spans",
            "parent_cycles",
            "multi_root_traces",
            "child_starts_before_parent",
            "child_ends_after_parent",
            "zero_duration",
            "negative_duration",
        ]
        .iter()
        .map(|k| q[k].as_u64().unwrap())
        .sum();
        assert!(counted > 0, "{name}: nothing counted: {q}");
    }
}

#[test]
fn strict_makes_a_malformed_record_fatal() {
    let dir = path("fixtures/integrity");
    let malformed: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("malformed"))
        .collect();
    assert!(!malformed.is_empty());
    for p in malformed {
        let file = p.to_str().unwrap();
        critpath().args(["stats", file]).assert().success();
        let out = critpath()
            .args(["stats", file, "--strict"])
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(
            stderr.contains(p.file_name().unwrap().to_str().unwrap()),
            "{stderr}"
        );
        assert!(stderr.contains("line"), "names the line: {stderr}");
    }
}

#[test]
fn compressed_inputs_and_stdin_read_like_plain_files() {
    let plain = json(&[
        "stats",
        "fixtures/otlp-json/sequential.jsonl",
        "--format",
        "json",
    ]);
    for compressed in std::fs::read_dir(path("fixtures/compressed")).unwrap() {
        let p = compressed.unwrap().path();
        let got = json(&["stats", p.to_str().unwrap(), "--format", "json"]);
        assert_eq!(got["spans"], plain["spans"], "{}", p.display());
        assert_eq!(got["traces"], plain["traces"], "{}", p.display());
    }
    let bytes = std::fs::read(path("fixtures/jaeger/sequential.json")).unwrap();
    let out = critpath()
        .args(["stats", "-", "--format", "json"])
        .write_stdin(bytes)
        .output()
        .unwrap();
    assert!(out.status.success());
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["spans"], plain["spans"]);
}

#[test]
fn a_folder_is_read_recursively_and_formats_mix() {
    let all = json(&["stats", "fixtures", "--format", "json"]);
    let formats = all["spans_per_format"].as_object().unwrap();
    assert_eq!(formats.len(), 6, "{formats:?}");
    assert!(all["inputs"].as_u64().unwrap() >= 20);
}
