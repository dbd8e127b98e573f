//! The HTML report renders in headless Chromium and its tables hold the same
//! numbers as the JSON report.

use std::process::Command;

use crate::util::{critpath, json, path};

fn chromium() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(str::to_string)
}

/// The `data-v` numbers of each row of the table with this id.
fn table_values(dom: &str, id: &str) -> Vec<Vec<f64>> {
    let start = dom
        .find(&format!("<table id=\"{id}\""))
        .expect("table present");
    let end = start + dom[start..].find("</table>").expect("table closed");
    dom[start..end]
        .split("<tr>")
        .skip(2)
        .map(|row| {
            row.split("data-v=\"")
                .skip(1)
                .map(|v| v[..v.find('"').unwrap()].parse::<f64>().expect("number"))
                .collect()
        })
        .collect()
}

#[test]
fn html_report_renders_and_matches_json() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is required in CI (.ci/run installs Debian's chromium package)"
        );
        eprintln!(
            "SKIPPED html_report_renders_and_matches_json: no chromium on this machine (apt-get install chromium)"
        );
        return;
    };
    let input = path("tests/oracles/sentry/n-plus-one-in-django-index-view.json");
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    critpath()
        .arg("analyze")
        .arg(&input)
        .args(["--format", "html", "-o"])
        .arg(&html)
        .assert()
        .success();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg("--dump-dom")
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("critpath report"),
        "chromium rendered nothing: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dom.contains("<svg"), "the flame graph is inline");
    assert!(
        !dom.contains("http://") || !dom.contains("<script src"),
        "no network resources"
    );

    let report = json(&[
        "analyze",
        input.to_str().unwrap(),
        "--format",
        "json",
        "--top",
        "20",
    ]);
    let rows = table_values(&dom, "operations");
    let ops = report["operations"].as_array().unwrap();
    assert_eq!(rows.len(), ops.len().min(20));
    for (row, op) in rows.iter().zip(ops) {
        let want: Vec<f64> = [
            "count",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "max_ms",
            "self_ms",
            "self_share",
            "critical_ms",
            "critical_share",
        ]
        .iter()
        .map(|k| op[k].as_f64().unwrap())
        .collect();
        assert_eq!(row, &want, "operation {}", op["operation"]);
    }
}
