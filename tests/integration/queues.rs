//! Work behind a queue (issue 14): message hops, per-destination waits,
//! message flows across traces, links to spans not in the input, the
//! timeline and its queue-wait change points. Checked on the generated
//! queue scenario (`fixtures/queues/`, whose numbers the generator's own
//! tests pin), on Zipkin's real messaging samples (waits worked out by hand
//! from their timestamps beside each test) and on hand-made traces.

use serde_json::{Value, json};

use crate::util::{critpath, json, path, succeed, temp_file};

/// `analyze --format json` of `args`.
fn analyze(args: &[&str]) -> Value {
    let mut all = vec!["analyze", "--format", "json", "--quiet"];
    all.extend_from_slice(args);
    json(&all)
}

fn destination<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["queues"]
        .as_array()
        .expect("queues")
        .iter()
        .find(|q| q["destination"] == name)
        .unwrap_or_else(|| panic!("no destination {name}: {}", report["queues"]))
}

/// The scenario: 43 orders published to `notifications` (rabbitmq), 47
/// deliveries of which 4 are redeliveries after a failed first attempt,
/// and a backlog whose longest wait is 6.677 s. Every format that carries
/// span kinds gives the same table: consumers linked from their own trace
/// (OTLP, Jaeger FOLLOWS_FROM, Sentry links) or nested under the producer
/// (Zipkin).
#[test]
fn the_queue_scenario_reads_the_same_in_every_format_with_span_kinds() {
    let files = [
        "orders.otlp-json.jsonl",
        "orders.otlp-proto.binpb",
        "orders.jaeger.json",
        "orders.sentry.jsonl",
        "orders.zipkin.json",
    ];
    let mut tables = Vec::new();
    for file in files {
        let p = path(&format!("fixtures/queues/{file}"));
        let report = analyze(&[p.to_str().unwrap()]);
        let q = destination(&report, "notifications").clone();
        assert_eq!(q["system"], "rabbitmq", "{file}");
        assert_eq!(q["messages"], 43, "{file}");
        assert_eq!(q["redelivered"], 4, "{file}");
        assert_eq!(q["unconsumed"], 0, "{file}");
        // 47 deliveries: the nearest-rank p99 is the longest wait.
        assert_eq!(q["wait_p99_ms"], 6677.0, "{file}");
        let p50 = q["wait_p50_ms"].as_f64().unwrap();
        assert!(
            p50 < 160.0,
            "{file}: outside the backlog waits are under 158 ms: {p50}"
        );
        let flows = &report["message_flows"][0];
        assert_eq!(flows["service"], "order-api", "{file}");
        assert_eq!(flows["operation"], "POST /orders", "{file}");
        assert_eq!(flows["flows"], 43, "{file}");
        let steps: Vec<&str> = flows["example_path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["kind"].as_str().unwrap())
            .collect();
        assert_eq!(steps, ["work", "queue_wait", "work"], "{file}");
        assert_eq!(flows["example_path"][1]["label"], "queue notifications");
        // The flow ends after the producing request: the consumer's work
        // in another trace (or after the producer) counts.
        assert!(flows["end_to_end_p99_ms"].as_f64() > Some(6677.0), "{file}");
        let mut q = q;
        // The example trace ids differ between formats that nest the
        // consumer (one trace) and those that link it (two).
        q["example_consumer_trace_id"] = Value::Null;
        tables.push((file, q, flows["end_to_end_p50_ms"].clone()));
    }
    for (file, q, p50) in &tables[1..] {
        assert_eq!(q, &tables[0].1, "{file} vs {}", tables[0].0);
        assert_eq!(p50, &tables[0].2, "{file}");
    }
}

/// X-Ray has neither span kinds nor messaging attributes (the reader reads
/// no annotations), so it shows no queue: said here so that a change is
/// deliberate.
#[test]
fn x_ray_carries_no_queue() {
    let report = analyze(&[path("fixtures/queues/orders.xray.json").to_str().unwrap()]);
    assert_eq!(report["queues"], json!([]));
}

/// Zipkin's Kafka sample (openzipkin `messaging-kafka.json`). Three sends
/// to `messages`, each read by `serviceb` and by `servicea` (two consumer
/// groups, not redeliveries): six deliveries. By hand, send 2e22a056 runs
/// 450,652–452,123 µs (…397 s); servicea's poll e0473dc3 starts at
/// 847,007 µs, so it waited 847,007 − 452,123 = 394,884 µs, the longest
/// (the p99 of six). serviceb's poll b4a2a87e starts at 452,008 µs, before
/// the send ended, so its wait runs from the send's start: 1,356 µs.
/// `central.messages` and `command-messages` have no consumer in the trace.
#[test]
fn zipkin_kafka_sample() {
    let report = analyze(&[path("tests/oracles/zipkin/messaging-kafka.json")
        .to_str()
        .unwrap()]);
    let q = destination(&report, "messages");
    assert_eq!(q["system"], "kafka");
    assert_eq!(
        (q["messages"].as_u64(), q["redelivered"].as_u64()),
        (Some(6), Some(0))
    );
    assert_eq!(q["wait_p99_ms"], 394.884);
    for topic in ["central.messages", "command-messages"] {
        let q = destination(&report, topic);
        assert_eq!(
            (q["messages"].as_u64(), q["unconsumed"].as_u64()),
            (Some(3), Some(3))
        );
        assert!(q["wait_p50_ms"].is_null(), "no wait without a consumer");
    }
}

/// Zipkin's RabbitMQ sample (`messaging.json`): frontend's publish
/// 05e3ac9a runs 927,475–927,488 µs; backend's consumer e457b5a2 (queue
/// `backend`, the destination, since the publish names none) starts at
/// 929,043 µs: a wait of 1,555 µs.
#[test]
fn zipkin_rabbitmq_sample_takes_the_consumers_queue_as_destination() {
    let report = analyze(&[path("tests/oracles/zipkin/messaging.json")
        .to_str()
        .unwrap()]);
    let q = destination(&report, "backend");
    assert_eq!(q["system"], "rabbitmq");
    assert_eq!(q["wait_p50_ms"], 1.555);
    let flow = &report["message_flows"][0];
    assert_eq!(
        (flow["service"].as_str(), flow["operation"].as_str()),
        (Some("frontend"), Some("get /"))
    );
}

/// One OTLP/JSON request per line: a trace per message with a producer
/// span, and a consumer trace linking to it (`missing` links to a span
/// that is not in the input instead).
fn linked_pair(i: u64, sent: u64, wait: u64, missing: bool) -> String {
    let producer_trace = format!("{:032x}", 0x1000 + i);
    let consumer_trace = format!("{:032x}", 0x9000 + i);
    let (p_root, p_span, c_span) = (
        format!("{:016x}", 0x100 + i),
        format!("{:016x}", 0x200 + i),
        format!("{:016x}", 0x300 + i),
    );
    let link_span = if missing {
        format!("{:016x}", 0xdead)
    } else {
        p_span.clone()
    };
    let ns = |t: u64| (t * 1_000_000).to_string();
    let queue = r#"{"key":"messaging.destination.name","value":{"stringValue":"emails"}},{"key":"messaging.system","value":{"stringValue":"kafka"}}"#;
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"api"}}}}]}},"scopeSpans":[{{"spans":[
{{"traceId":"{producer_trace}","spanId":"{p_root}","name":"POST /signup","kind":2,"startTimeUnixNano":"{}","endTimeUnixNano":"{}"}},
{{"traceId":"{producer_trace}","spanId":"{p_span}","parentSpanId":"{p_root}","name":"emails publish","kind":4,"startTimeUnixNano":"{}","endTimeUnixNano":"{}","attributes":[{queue}]}}]}}]}},
{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"mailer"}}}}]}},"scopeSpans":[{{"spans":[
{{"traceId":"{consumer_trace}","spanId":"{c_span}","name":"emails process","kind":5,"startTimeUnixNano":"{}","endTimeUnixNano":"{}","attributes":[{queue}],"links":[{{"traceId":"{producer_trace}","spanId":"{link_span}"}}]}}]}}]}}]}}"#,
        ns(sent),
        ns(sent + 20),
        ns(sent + 10),
        ns(sent + 12),
        ns(sent + 12 + wait),
        ns(sent + 12 + wait + 30),
    )
    .replace('\n', "")
}

/// 240 messages, one every second: the first 120 wait 40–59 ms, the rest
/// 2–2.4 s (a backlog). The wait's change point is the first message of
/// the backlog, at second 120 (its send time); the producing requests do
/// not change, so it is the queue's change that the diagnosis splits at.
#[test]
fn a_backlog_is_a_queue_wait_change_point_and_splits_the_diagnosis() {
    const T0: u64 = 1_700_000_000_000; // ms
    let lines: Vec<String> = (0..240)
        .map(|i| {
            let wait = if i < 120 {
                40 + i % 20
            } else {
                2_000 + (i % 5) * 100
            };
            linked_pair(i, T0 + i * 1_000, wait, false)
        })
        .collect();
    let (_dir, file) = temp_file("queue.jsonl", lines.join("\n").as_bytes());
    let report = analyze(&[file.to_str().unwrap(), "--bucket", "30s"]);
    assert_eq!(report["timeline"]["bucket_ms"], 30000.0);
    assert_eq!(
        report["timeline"]["buckets"], 9,
        "240 s from a 30 s boundary"
    );
    let shifts: Vec<&Value> = report["timeline"]["change_points"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["series"] == "queue_wait")
        .collect();
    assert_eq!(shifts.len(), 1, "{shifts:?}");
    assert_eq!(shifts[0]["name"], "emails");
    // Sent at T0 + 120 s + 10 ms (the publish ends 12 ms into its trace).
    assert_eq!(
        shifts[0]["at_unix_nano"].as_i64(),
        Some(((T0 + 120_000 + 12) * 1_000_000) as i64)
    );
    assert!(shifts[0]["ratio"].as_f64() > Some(30.0), "{}", shifts[0]);
    // The series has a value per bucket that held a message.
    let series = report["timeline"]["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["metric"] == "queue_wait_p99_ms")
        .expect("a queue wait series");
    assert_eq!(series["name"], "emails");
    let q = destination(&report, "emails");
    assert_eq!(
        (q["messages"].as_u64(), q["redelivered"].as_u64()),
        (Some(240), Some(0))
    );
    // Each flow: 10 ms to publish + the wait + 30 ms of processing.
    let flow = &report["message_flows"][0];
    assert_eq!(flow["flows"], 240);
    assert_eq!(flow["end_to_end_p99_ms"], 12.0 + 2_400.0 + 30.0);
    // With no baseline, the diagnosis compares after the backlog began
    // with before it.
    assert_eq!(report["verdict"]["mode"], "before_change");
    let (csv, _) = succeed(
        critpath()
            .args([
                "analyze",
                "--format",
                "csv",
                "--section",
                "timeline",
                "--bucket",
                "30s",
            ])
            .arg(&file),
    );
    assert!(
        csv.starts_with("bucket_start,bucket_start_unix_nano,metric,name,value\n"),
        "{csv}"
    );
    assert!(csv.contains(",queue_wait_p99_ms,emails,2400"), "{csv}");
}

/// A consumer whose link points at a span that is not in the input is
/// counted as a data-quality problem, located, not silently dropped; its
/// message is then not part of any queue.
#[test]
fn links_to_spans_not_in_the_input_are_counted_and_located() {
    let lines = [
        linked_pair(1, 1_700_000_000_000, 50, true),
        linked_pair(2, 1_700_000_001_000, 50, false),
    ];
    let (_dir, file) = temp_file("links.jsonl", lines.join("\n").as_bytes());
    let stats = json(&["stats", file.to_str().unwrap(), "--format", "json"]);
    let q = &stats["data_quality"];
    assert_eq!(q["unresolved_links"], 1);
    let e = &q["span_examples"]["unresolved_links"][0];
    assert_eq!(e["location"]["line"], 1, "{e}");
    assert!(e["file"].as_str().unwrap().ends_with("links.jsonl"), "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("not in the input"),
        "{e}"
    );
    let report = analyze(&[file.to_str().unwrap()]);
    let emails = destination(&report, "emails");
    assert_eq!(
        (emails["messages"].as_u64(), emails["unconsumed"].as_u64()),
        (Some(2), Some(1))
    );
}

/// The terminal and Markdown show the timeline; Markdown as a Mermaid
/// chart with the change point listed.
#[test]
fn the_timeline_is_drawn_in_the_terminal_and_in_markdown() {
    let w1 = path("tests/oracles/nezha/W1_ob_currency_netdelay.otlp.jsonl.gz");
    let (table, _) = succeed(critpath().args(["analyze", "--quiet"]).arg(&w1));
    assert!(table.contains("Timeline (37 buckets of 5.00 s"), "{table}");
    assert!(
        table.contains("▲ root latency ×6.90 from 2022-08-22T05:27:09Z"),
        "{table}"
    );
    let (md, _) = succeed(
        critpath()
            .args(["analyze", "--quiet", "--format", "markdown"])
            .arg(&w1),
    );
    assert!(md.contains("```mermaid\nxychart-beta"), "{md}");
    assert!(md.contains("- Change point: root latency ×6.90"), "{md}");
}
