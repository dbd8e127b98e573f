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

/// The export is written from the span table, not from the traces, so it
/// works on a spilled input (each partition's traces are gone before the
/// export) and writes the very files an in-memory run writes.
#[test]
fn a_spilled_export_writes_the_in_memory_files() {
    let input = path("fixtures");
    let export = |extra: &[&str]| {
        let dir = tempfile::tempdir().unwrap();
        let tmp = tempfile::tempdir().unwrap();
        critpath()
            .arg("analyze")
            .arg(&input)
            .args(["--format", "json", "--export-parquet"])
            .arg(dir.path())
            .args(extra)
            .env("TMPDIR", tmp.path())
            .assert()
            .success();
        let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
        (read("spans.parquet"), read("traces.parquet"))
    };
    let in_memory = export(&[]);
    assert!(in_memory.0.starts_with(b"PAR1") && in_memory.0.len() > 1000);
    for threads in ["1", "3"] {
        let spilled = export(&["--memory-limit", "1MiB", "--threads", threads]);
        assert!(
            spilled.0 == in_memory.0,
            "spans.parquet differs ({threads} threads)"
        );
        assert!(
            spilled.1 == in_memory.1,
            "traces.parquet differs ({threads} threads)"
        );
    }
}

#[test]
fn the_html_report_still_refuses_a_memory_limit() {
    let out = critpath()
        .args([
            "analyze",
            "fixtures/otlp-json",
            "--format",
            "html",
            "--memory-limit",
            "1MiB",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--format html needs every trace in memory"),
        "{stderr}"
    );
}
