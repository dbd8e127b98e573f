//! The scale-out path: `analyze --export-parquet` files, aggregated by the
//! README's SQL in DuckDB, give critpath's own operations table.

use std::process::Command;

use serde_json::Value;

use crate::util::{critpath, json, path};

/// Whether DuckDB's Python package is importable; CI installs it
/// (`tests/duckdb/requirements.txt`), so there its absence is a failure.
fn duckdb_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import duckdb"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok && std::env::var_os("CI").is_some() {
        panic!(
            "DuckDB's Python package is missing: .ci/run installs tests/duckdb/requirements.txt"
        );
    }
    ok
}

#[test]
fn duckdb_reproduces_the_operations_table_from_the_parquet_export() {
    let input = "fixtures/otlp-json/slow_queries.jsonl";
    crate::util::require(&path(input));
    let dir = tempfile::tempdir().unwrap();
    critpath()
        .args(["analyze", input, "--format", "json", "--export-parquet"])
        .arg(dir.path())
        .assert()
        .success();
    assert!(dir.path().join("spans.parquet").is_file());
    assert!(dir.path().join("traces.parquet").is_file());
    if !duckdb_available() {
        eprintln!("skipped: python3 -c 'import duckdb' failed (not in CI)");
        return;
    }
    let out = Command::new("python3")
        .arg(path("tests/duckdb/operations.py"))
        .arg(dir.path())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let duck: Vec<Value> = serde_json::from_slice(&out.stdout).expect("JSON rows");
    let report = json(&["analyze", input, "--format", "json"]);
    let ours = report["operations"].as_array().unwrap();
    assert_eq!(duck.len(), ours.len());
    let close = |a: &Value, b: &Value| (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-6;
    for op in ours {
        let row = duck
            .iter()
            .find(|r| r["service"] == op["service"] && r["operation"] == op["operation"])
            .unwrap_or_else(|| panic!("DuckDB lacks {op}"));
        assert_eq!(row["count"], op["count"]);
        assert_eq!(row["errors"], op["errors"]);
        for k in [
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "max_ms",
            "total_ms",
            "self_ms",
            "self_share",
            "critical_ms",
            "critical_share",
        ] {
            assert!(
                close(&row[k], &op[k]),
                "{k}: duckdb {} vs critpath {}",
                row[k],
                op[k]
            );
        }
    }
}
