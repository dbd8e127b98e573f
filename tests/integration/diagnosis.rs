//! Naming the cause: suspects, verdicts, call edges and error loci, checked
//! against real fault-injection traces (Nezha, `tests/oracles/nezha/`:
//! the injected service is known) and hand-made traces whose answers are
//! worked out beside each test.

use serde_json::Value;

use crate::util::{critpath, path, succeed};

const NEZHA: &str = "tests/oracles/nezha";

fn nezha(file: &str) -> String {
    path(&format!("{NEZHA}/{file}")).display().to_string()
}

fn faults() -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(path(&format!("{NEZHA}/faults.json"))).expect("faults.json");
    serde_json::from_str(&text).expect("faults.json is JSON")
}

/// `analyze --format json` with `args`, parsed.
fn analyze(args: &[&str]) -> Value {
    let (out, _) = succeed(
        critpath()
            .arg("analyze")
            .args(args)
            .args(["--format", "json"]),
    );
    serde_json::from_str(&out).expect("JSON report")
}

fn suspects(report: &Value) -> Vec<String> {
    report["suspects"]
        .as_array()
        .expect("suspects")
        .iter()
        .map(|s| s["service"].as_str().expect("service").to_string())
        .collect()
}

#[test]
fn every_nezha_window_names_the_injected_service_first_against_its_baseline() {
    for (name, fault) in faults() {
        let Some(service) = fault["service"].as_str() else {
            continue;
        };
        let report = analyze(&[
            &nezha(fault["file"].as_str().expect("file")),
            "--since",
            fault["injected_at"].as_str().expect("time"),
            "--baseline",
            &nezha(fault["baseline"].as_str().expect("baseline")),
        ]);
        let found = suspects(&report);
        assert_eq!(
            found.first().map(String::as_str),
            Some(service),
            "{name}: {found:?}"
        );
        assert_eq!(report["verdict"]["suspect"], service, "{name}");
        assert_ne!(report["verdict"]["confidence"], "none", "{name}");
        let text = report["verdict"]["text"].as_str().expect("text");
        assert!(
            text.starts_with(&format!("Top suspect: {service}")),
            "{name}: {text}"
        );
    }
}

#[test]
fn a_fault_free_minute_against_another_has_no_suspect() {
    let report = analyze(&[
        &nezha("ob-quiet-12_53.otlp.jsonl.gz"),
        "--baseline",
        &nezha("ob-baseline.otlp.jsonl.gz"),
    ]);
    assert_eq!(report["verdict"]["confidence"], "none");
    assert!(report["verdict"]["suspect"].is_null());
    assert_eq!(suspects(&report), Vec::<String>::new());
    let text = report["verdict"]["text"].as_str().expect("text");
    assert!(text.starts_with("Nothing stands out"), "{text}");
}

#[test]
fn the_network_delay_evidence_is_the_edge_into_the_injected_service() {
    // W1: a delay injected into currencyservice shows up in frontend's
    // client spans, outside currencyservice's own server spans.
    let report = analyze(&[
        &nezha("W1_ob_currency_netdelay.otlp.jsonl.gz"),
        "--since",
        "2022-08-22T05:27:06Z",
        "--baseline",
        &nezha("ob-baseline.otlp.jsonl.gz"),
    ]);
    let top = &report["suspects"][0];
    let evidence = &top["evidence"][0];
    assert_eq!(evidence["kind"], "gap_critical");
    assert_eq!(evidence["service"], "frontend");
    assert_eq!(evidence["callee"], "currencyservice");
    let (before, after) = (
        evidence["call_p50_before_ms"].as_f64().expect("before"),
        evidence["call_p50_after_ms"].as_f64().expect("after"),
    );
    // The issue measured 9 ms → 600 ms at p50 from the same data.
    assert!((5.0..15.0).contains(&before), "{before}");
    assert!((500.0..700.0).contains(&after), "{after}");
    let edge = report["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .find(|e| e["caller"] == "frontend" && e["callee"] == "currencyservice")
        .expect("the edge");
    // The callee's own spans stay short: the time is in the gap.
    assert!(edge["callee_p50_ms"].as_f64().expect("callee") < 5.0);
    assert!(edge["gap_p50_ms"].as_f64().expect("gap") > 500.0);
    // The cascade now ends at the suspect.
    let cascade = &report["cascades"][0];
    assert_eq!(cascade["rule"], "top_suspect");
    assert_eq!(cascade["culprit"], "currencyservice");
}

#[test]
fn one_export_spanning_before_and_during_takes_its_baseline_by_time() {
    // tt-baseline ends 11:39:51, W4's injection is at 11:51:46: read as one
    // export, the earlier range is the normal traffic.
    let report = analyze(&[
        &nezha("tt-baseline.otlp.jsonl.gz"),
        &nezha("W4_tt_contacts_netdelay.otlp.jsonl.gz"),
        "--baseline-until",
        "2023-01-30T11:45:00Z",
        "--since",
        "2023-01-30T11:51:46Z",
    ]);
    assert_eq!(report["verdict"]["mode"], "earlier_range");
    assert_eq!(report["verdict"]["baseline_traces"], 62);
    assert_eq!(
        suspects(&report).first().map(String::as_str),
        Some("ts-contacts-service")
    );
}

/// The windows whose fault moves root latency and that hold traffic from
/// before the injection: W1 (network delay, roots ×6.9), W6 (CPU, ×2.0) and
/// W9 (early return, roots ×0.12). Read with no baseline and no times,
/// root latency's change point falls within seconds after the injection
/// time Nezha recorded, and the traces before it are the baseline.
#[test]
fn one_export_across_an_incident_needs_no_baseline_and_no_times() {
    let faults = faults();
    for name in [
        "W1_ob_currency_netdelay",
        "W6_ob_cart_cpu",
        "W9_ob_productcatalog_return",
    ] {
        let fault = &faults[name];
        let report = analyze(&[&nezha(fault["file"].as_str().unwrap())]);
        let injected = critpath::cli::values::time(fault["injected_at"].as_str().unwrap())
            .unwrap()
            .nanos;
        let cp = &report["timeline"]["change_points"][0];
        assert_eq!(cp["series"], "root_latency", "{name}: {cp}");
        let at = cp["at_unix_nano"].as_i64().unwrap();
        // The first trace to feel the fault starts after it is injected;
        // the split lands on the first run of them that is clear.
        assert!(
            (injected..injected + 15_000_000_000).contains(&at),
            "{name}: change at {} vs injection {}",
            cp["at"],
            fault["injected_at"]
        );
        assert_eq!(report["verdict"]["mode"], "before_change", "{name}");
        assert_eq!(
            suspects(&report).first().map(String::as_str),
            fault["service"].as_str(),
            "{name}"
        );
    }
}

/// A spilled input splits at its change point as one read into memory
/// does: the sides are split off the analysed traces, whose spans are no
/// longer on disk (each spill file is removed once read back).
#[test]
fn a_spilled_export_across_an_incident_splits_as_in_memory() {
    let w1 = nezha("W1_ob_currency_netdelay.otlp.jsonl.gz");
    let tmp = tempfile::tempdir().unwrap();
    for extra in [&[][..], &["--baseline", "before-change"]] {
        let report = |limit: &[&str]| {
            succeed(
                critpath()
                    .args(["analyze", &w1, "--format", "json"])
                    .args(extra)
                    .args(limit)
                    .env("TMPDIR", tmp.path()),
            )
        };
        let (in_memory, _) = report(&[]);
        let (spilled, said) = report(&["--memory-limit", "1KiB"]);
        assert!(said.contains("spilling spans to"), "{said}");
        assert!(
            in_memory.contains(r#""mode": "before_change""#),
            "{extra:?}"
        );
        assert_eq!(in_memory, spilled, "{extra:?}");
    }
}

#[test]
fn a_fault_free_minute_has_no_change_point_and_before_change_says_so() {
    let quiet = nezha("ob-quiet-12_53.otlp.jsonl.gz");
    let report = analyze(&[&quiet]);
    assert_eq!(report["timeline"]["change_points"], serde_json::json!([]));
    assert_eq!(report["verdict"]["mode"], "slow_vs_rest");
    let out = critpath()
        .args(["analyze", &quiet, "--baseline", "before-change"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("neither root latency nor"), "{stderr}");
}

#[test]
fn without_a_baseline_or_a_change_the_slow_traces_are_compared_with_the_rest() {
    let report = analyze(&[&nezha("W4_tt_contacts_netdelay.otlp.jsonl.gz")]);
    assert_eq!(report["timeline"]["change_points"], serde_json::json!([]));
    assert_eq!(report["verdict"]["mode"], "slow_vs_rest");
    assert_eq!(
        suspects(&report).first().map(String::as_str),
        Some("ts-contacts-service")
    );
    // The bundled cascade: the SQL is a red herring, aaa-api's own wait is
    // the cause, and the cascade still ends there.
    let report = analyze(&["fixtures/otlp-json/cascade.jsonl"]);
    assert_eq!(
        suspects(&report).first().map(String::as_str),
        Some("aaa-api")
    );
    assert_eq!(report["cascades"][0]["culprit"], "aaa-api");
    assert_eq!(
        report["cascades"][0]["chain"],
        serde_json::json!(["notification-sender", "intel-requests-api", "aaa-api"])
    );
}

#[test]
fn diff_names_the_suspect_from_traces_and_from_saved_reports() {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = dir.path().join("base.json");
    let incident = dir.path().join("incident.json");
    let save = |args: &[&str], to: &std::path::Path| {
        succeed(
            critpath()
                .arg("analyze")
                .args(args)
                .args(["--format", "json", "-o"])
                .arg(to),
        );
    };
    save(&[&nezha("ob-baseline.otlp.jsonl.gz")], &base);
    save(
        &[
            &nezha("W6_ob_cart_cpu.otlp.jsonl.gz"),
            "--since",
            "2022-08-23T12:45:08Z",
        ],
        &incident,
    );
    let (out, _) = succeed(
        critpath()
            .arg("diff")
            .arg(&base)
            .arg(&incident)
            .args(["--format", "json"]),
    );
    let d: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(d["verdict"]["suspect"], "cartservice");
    // A saved report also serves as analyze's baseline.
    let report = analyze(&[
        &nezha("W6_ob_cart_cpu.otlp.jsonl.gz"),
        "--since",
        "2022-08-23T12:45:08Z",
        "--baseline",
        base.to_str().expect("path"),
    ]);
    assert_eq!(
        suspects(&report).first().map(String::as_str),
        Some("cartservice")
    );
    // The table opens with the verdict.
    let (table, _) = succeed(critpath().arg("diff").arg(&base).arg(&incident));
    assert!(table.starts_with("Top suspect: cartservice"), "{table}");
}

#[test]
fn a_baseline_of_other_root_operations_is_refused() {
    let out = critpath()
        .arg("analyze")
        .arg(nezha("W1_ob_currency_netdelay.otlp.jsonl.gz"))
        .arg("--baseline")
        .arg(nezha("tt-baseline.otlp.jsonl.gz"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no traces of the incident's root operations"),
        "{err}"
    );
    assert!(err.contains("frontend:hipstershop.Frontend/Recv."), "{err}");
}

#[test]
fn a_selection_that_keeps_nothing_says_so_and_exits_2() {
    let out = critpath()
        .args([
            "analyze",
            "fixtures/otlp-json/cascade.jsonl",
            "--since",
            "2100-01-01T00:00:00Z",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--since 2100-01-01T00:00:00Z"), "{err}");
    assert!(err.contains("keeps none of the 20 traces"), "{err}");
}

#[test]
fn call_edges_of_the_cascade_fixture() {
    let report = analyze(&["fixtures/otlp-json/cascade.jsonl"]);
    let edges = report["edges"].as_array().expect("edges");
    let find = |caller: &str, callee: &str| {
        edges
            .iter()
            .find(|e| e["caller"] == caller && e["callee"] == callee)
            .unwrap_or_else(|| panic!("{caller} → {callee} in {edges:?}"))
    };
    // Every trace: intel-requests-api's GET client span waits 2 ms outside
    // aaa-api's server span (checked in `critpath trace`), once per trace.
    let e = find("intel-requests-api", "aaa-api");
    assert_eq!(e["calls"], 20);
    assert_eq!(e["calls_per_trace"], 1.0);
    assert_eq!(e["gap_p50_ms"], 2.0);
    assert_eq!(e["peer"], false);
    // Three queries per trace to a database no span represents: an edge to
    // the peer the client spans name.
    let db = find("aaa-api", "aaa-db.internal");
    assert_eq!(db["calls"], 60);
    assert_eq!(db["peer"], true);
    // A server span's own server.address is not a peer.
    assert!(edges.iter().all(|e| e["callee"] != "aaa-api.internal"));
}

/// A gateway whose proxy times out after 15 s while the backend it waits
/// for runs on, unmarked, until 20 s; a second trace fails in its database.
const FAILURES: &str = r#"{"resourceSpans":[
{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"gateway"}}]},
 "scopeSpans":[{"spans":[
  {"traceId":"00000000000000000000000000000001","spanId":"0000000000000001","name":"GET /a","kind":2,
   "startTimeUnixNano":"1000000000","endTimeUnixNano":"16000000000","status":{"code":2}},
  {"traceId":"00000000000000000000000000000001","spanId":"0000000000000002","parentSpanId":"0000000000000001","name":"proxy","kind":3,
   "startTimeUnixNano":"1000000000","endTimeUnixNano":"16000000000","status":{"code":2}},
  {"traceId":"00000000000000000000000000000002","spanId":"0000000000000011","name":"GET /b","kind":2,
   "startTimeUnixNano":"1000000000","endTimeUnixNano":"2000000000","status":{"code":2}},
  {"traceId":"00000000000000000000000000000002","spanId":"0000000000000012","parentSpanId":"0000000000000011","name":"call","kind":3,
   "startTimeUnixNano":"1100000000","endTimeUnixNano":"1900000000","status":{"code":2}}]}]},
{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"backend"}}]},
 "scopeSpans":[{"spans":[
  {"traceId":"00000000000000000000000000000001","spanId":"0000000000000003","parentSpanId":"0000000000000002","name":"GET /a","kind":2,
   "startTimeUnixNano":"1100000000","endTimeUnixNano":"21000000000"},
  {"traceId":"00000000000000000000000000000002","spanId":"0000000000000013","parentSpanId":"0000000000000012","name":"GET /b","kind":2,
   "startTimeUnixNano":"1200000000","endTimeUnixNano":"1800000000","status":{"code":2}},
  {"traceId":"00000000000000000000000000000002","spanId":"0000000000000014","parentSpanId":"0000000000000013","name":"SELECT","kind":3,
   "startTimeUnixNano":"1300000000","endTimeUnixNano":"1700000000","status":{"code":2},
   "attributes":[{"key":"db.system","value":{"stringValue":"postgresql"}}]}]}]}]}"#;

#[test]
fn the_error_locus_is_the_hung_backend_not_the_proxy_that_gave_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("failures.json");
    std::fs::write(&file, FAILURES).expect("write");
    let report = analyze(&[file.to_str().expect("path")]);
    let errors = report["errors"].as_array().expect("errors");
    // Trace 1: gateway GET /a (error) → proxy (error, gave up at 16 s) →
    // backend GET /a (no status, runs to 21 s): the backend.
    // Trace 2: every layer is an error down to backend's SELECT.
    let find = |service: &str, op: &str| {
        errors
            .iter()
            .find(|e| e["service"] == service && e["operation"] == op)
            .unwrap_or_else(|| panic!("{service} {op} in {errors:?}"))
    };
    let hung = find("backend", "GET /a");
    assert_eq!(hung["traces"], 1);
    assert_eq!(hung["hung"], 1);
    let db = find("backend", "SELECT");
    assert_eq!(db["traces"], 1);
    assert_eq!(db["hung"], 0);
    assert_eq!(errors.len(), 2);
    // `trace` names the locus too.
    let (out, _) = succeed(critpath().args(["trace", "1"]).arg(&file));
    assert!(
        out.contains("failure: the failing branch ends in backend GET /a"),
        "{out}"
    );
    assert!(out.contains("its caller gave up waiting"), "{out}");
}

#[test]
fn csv_has_the_edges_table() {
    let (out, _) = succeed(critpath().args([
        "analyze",
        "fixtures/otlp-json/cascade.jsonl",
        "--format",
        "csv",
        "--section",
        "edges",
    ]));
    let mut lines = out.lines();
    let header = lines.next().expect("header");
    assert!(
        header.starts_with("caller,callee,peer,calls,traces,calls_per_trace,"),
        "{header}"
    );
    // Five edges: two between services, three to databases (see
    // call_edges_of_the_cascade_fixture); the largest gap critical first.
    assert_eq!(lines.clone().count(), 5, "{out}");
    assert!(
        lines
            .next()
            .expect("row")
            .starts_with("notification-sender,intel-requests-api,false,20,20,1.0,")
    );
}
