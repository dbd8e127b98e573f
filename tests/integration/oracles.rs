//! Conformance with answers other projects' tests assert, on their own data
//! (`tests/oracles/`, see its README): Jaeger UI's critical paths and self
//! times, CRISP's critical-path times, Sentry's detector outcomes. Run end
//! to end through the real readers.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use crate::util::{json, path};

fn oracle(rel: &str) -> PathBuf {
    let p = path(&format!("tests/oracles/{rel}"));
    crate::util::require(&p);
    p
}

fn analyze(rel: &str, extra: &[&str]) -> Value {
    let file = oracle(rel);
    let mut args = vec![
        "analyze",
        file.to_str().expect("utf-8 path"),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    json(&args)
}

/// Critical-path time per `[service] operation`, in µs, from the report.
fn critical_us(report: &Value) -> BTreeMap<String, i64> {
    report["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .map(|o| {
            let key = format!(
                "[{}] {}",
                o["service"].as_str().unwrap(),
                o["operation"].as_str().unwrap()
            );
            (
                key,
                (o["critical_ms"].as_f64().unwrap() * 1000.0).round() as i64,
            )
        })
        .collect()
}

// CRISP files 1–10: critical-path exclusive time per operation, µs.
#[test]
fn crisp_critical_path_times() {
    for n in 1..=10 {
        let file = format!("crisp/{n}.json");
        let raw: Value = serde_json::from_slice(&std::fs::read(oracle(&file)).unwrap()).unwrap();
        let expected: BTreeMap<String, i64> = raw["testing"][0]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_i64().unwrap()))
            .collect();
        let got = critical_us(&analyze(&file, &[]));
        for (op, want) in &expected {
            let have = got.get(op).copied().unwrap_or(0);
            assert_eq!(
                have, *want,
                "crisp/{n}.json {op}: got {got:?}, want {expected:?}"
            );
        }
    }
}

/// Self time per service, ms, as Jaeger UI's trace statistics show it.
fn self_ms_by_service(file: &str) -> BTreeMap<String, f64> {
    analyze(&format!("jaeger-ui/self-time/{file}"), &[])["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["service"].as_str().unwrap().to_string(),
                s["self_ms"].as_f64().unwrap(),
            )
        })
        .collect()
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

#[test]
fn jaeger_ui_self_time_normal_trace() {
    let by = self_ms_by_service("testTraceNormal.json");
    let mut selfs: Vec<f64> = by.values().map(|&v| round2(v)).collect();
    selfs.sort_by(f64::total_cmp);
    assert_eq!(selfs, vec![1.74, 3.16], "{by:?}");
}
