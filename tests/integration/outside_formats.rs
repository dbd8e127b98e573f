//! Zipkin v2 JSON and AWS X-Ray read from real outside samples
//! (`tests/oracles/zipkin/`: openzipkin/zipkin's `zipkin-lens/testdata`;
//! `tests/oracles/xray/`: the AWS CLI's `batch-get-traces` example; both
//! Apache-2.0, see `tests/oracles/NOTICE.md`). Every number asserted here
//! was counted by hand from the files; and every sample critpath ships or
//! tests against is recognised as exactly its own format by exactly one
//! reader, whatever order the readers are tried in.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use serde_json::Value;

use crate::util::{json, path, temp_file};

fn oracle(rel: &str) -> String {
    let p = path(&format!("tests/oracles/{rel}"));
    crate::util::require(&p);
    p.to_str().expect("utf-8 path").to_string()
}

fn stats(rel: &str) -> Value {
    json(&["stats", &oracle(rel), "--format", "json"])
}

fn analyze(rel: &str) -> Value {
    json(&["analyze", &oracle(rel), "--format", "json"])
}

fn services(report: &Value) -> BTreeSet<String> {
    report["services"]
        .as_array()
        .expect("services")
        .iter()
        .map(|s| s["service"].as_str().unwrap().to_string())
        .collect()
}

/// (file, spans kept, services, the root's duration in µs) for Zipkin's
/// single-root samples, counted from the files: a shared client/server pair
/// is two spans (it is two spans in the file too), and Zipkin's incomplete
/// spans (no `duration`) are kept.
const ZIPKIN: &[(&str, u64, &[&str], f64)] = &[
    (
        "ascend.json",
        8,
        &["auth-service", "content-service", "mobile-gateway"],
        38_793.0,
    ),
    ("envoy.json", 1, &["unknown"], 127_115.0),
    ("messaging.json", 4, &["backend", "frontend"], 2_839.0),
    ("messaging-kafka.json", 28, &["servicea", "serviceb"], 26.0),
    ("simple-db-p6.json", 5, &["bootifulmeters"], 252_016.0),
    ("skew.json", 4, &["servicea", "serviceb"], 99_411.0),
    (
        "yelp.json",
        16,
        &[
            "mobile_api",
            "routing",
            "spectre",
            "unknown",
            "yelp-main",
            "yelp_main/api_proxy",
        ],
        131_848.0,
    ),
];

#[test]
fn zipkin_samples_give_their_spans_services_and_root_durations() {
    for &(file, spans, expected_services, root_us) in ZIPKIN {
        let rel = format!("zipkin/{file}");
        let stats = stats(&rel);
        assert_eq!(stats["traces"], 1, "{file}");
        assert_eq!(stats["spans"], spans, "{file}");
        assert_eq!(stats["spans_per_format"]["zipkin"], spans, "{file}");
        assert_eq!(stats["data_quality"]["unparsable_records"], 0, "{file}");
        assert_eq!(stats["data_quality"]["duplicate_spans"], 0, "{file}");
        assert_eq!(stats["data_quality"]["missing_parent"], 0, "{file}");
        let report = analyze(&rel);
        let names: BTreeSet<String> = expected_services.iter().map(|s| s.to_string()).collect();
        assert_eq!(services(&report), names, "{file}");
        let total = report["summary"]["total_root_ms"].as_f64().unwrap();
        assert!((total * 1000.0 - root_us).abs() < 0.5, "{file}: {total} ms");
    }
}

#[test]
fn zipkin_clock_skew_is_counted_as_a_data_quality_problem() {
    let stats = stats("zipkin/skew.json");
    let quality = &stats["data_quality"];
    // servicea's client half starts at ...074202 µs; serviceb's server half
    // (the same span id, shared) at ...008761: 65.441 ms before its caller.
    assert_eq!(quality["child_starts_before_parent"], 1);
    let example = &quality["span_examples"]["child_starts_before_parent"][0];
    assert_eq!(
        example["message"],
        "starts 65.441 ms before its parent 74280ae0c10d8062"
    );
    assert_eq!(quality["child_ends_after_parent"], 0);
}

#[test]
fn zipkin_shared_halves_in_two_files_are_paired() {
    // skew.json cut in two, as two services' own exports would be: the
    // client half in one file, the server half and its work in the other.
    // Paired when the trace is built, they read as the whole file does.
    let raw = std::fs::read(oracle("zipkin/skew.json")).unwrap();
    let spans: Vec<Value> = serde_json::from_slice(&raw).unwrap();
    let of = |service: &str| -> Vec<&Value> {
        spans
            .iter()
            .filter(|s| s["localEndpoint"]["serviceName"] == service)
            .collect()
    };
    let dir = tempfile::tempdir().unwrap();
    for service in ["servicea", "serviceb"] {
        let file = dir.path().join(format!("{service}.json"));
        std::fs::write(&file, serde_json::to_vec(&of(service)).unwrap()).unwrap();
    }
    let split = json(&["stats", dir.path().to_str().unwrap(), "--format", "json"]);
    let whole = stats("zipkin/skew.json");
    assert_eq!(split["spans_per_format"]["zipkin"], 4);
    assert_eq!(split["data_quality"]["duplicate_spans"], 0);
    assert_eq!(split["data_quality"]["missing_parent"], 0);
    assert_eq!(split["data_quality"]["child_starts_before_parent"], 1);
    assert_eq!(
        split["data_quality"]["span_examples"]["child_starts_before_parent"][0]["message"],
        whole["data_quality"]["span_examples"]["child_starts_before_parent"][0]["message"]
    );
}

#[test]
fn zipkin_production_trace_of_eight_services() {
    // 175 spans in the file; 45 are `shared: true` server halves, all with
    // their client half present. Five of them are deliveries of one Kafka
    // message (id 9d2d35b746db84f3): one derived id, four duplicates. 19
    // spans have no duration, four of them among those duplicates.
    let stats = stats("zipkin/smartthings-oauth-authorization.json");
    assert_eq!(stats["traces"], 1);
    assert_eq!(stats["spans_per_format"]["zipkin"], 175);
    assert_eq!(stats["spans"], 171);
    assert_eq!(stats["services"], 8);
    let quality = &stats["data_quality"];
    assert_eq!(quality["duplicate_spans"], 4);
    assert_eq!(quality["zero_duration"], 15);
    assert_eq!(quality["missing_parent"], 0);
    let report = analyze("zipkin/smartthings-oauth-authorization.json");
    let names: BTreeSet<&str> = [
        "account", "auth", "bouncer", "datamgmt", "dove", "paperboy", "pusher", "stlogin",
    ]
    .into();
    let got = services(&report);
    assert_eq!(
        got.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        names
    );
    assert_eq!(report["summary"]["total_root_ms"].as_f64(), Some(1.429));
    let errors: u64 = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["errors"].as_u64().unwrap())
        .sum();
    assert_eq!(errors, 2, "two spans carry an `error` tag");
}

#[test]
fn zipkin_missing_parents_are_counted() {
    // Four spans name parent 0153a596db406c83 and two 0153a596db406111,
    // neither in the file.
    let stats = stats("zipkin/messaging2.json");
    assert_eq!(stats["spans"], 11);
    assert_eq!(stats["services"], 4);
    assert_eq!(stats["data_quality"]["missing_parent"], 6);
    assert_eq!(stats["data_quality"]["multi_root_traces"], 1);
}

#[test]
fn zipkin_folder_compressed_and_forced() {
    let all = json(&["stats", &oracle("zipkin"), "--format", "json"]);
    assert_eq!(all["traces"], 9);
    assert_eq!(
        all["spans_per_format"]["zipkin"],
        8 + 1 + 4 + 28 + 11 + 5 + 4 + 175 + 16
    );
    let raw = std::fs::read(oracle("zipkin/skew.json")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &raw).unwrap();
    let (_dir, file) = temp_file("skew.json.gz", &gz.finish().unwrap());
    let file = file.to_str().unwrap();
    let read = json(&[
        "stats",
        file,
        "--format",
        "json",
        "--input-format",
        "zipkin",
    ]);
    assert_eq!(read["spans_per_format"]["zipkin"], 4);
    let zst = zstd::encode_all(&raw[..], 3).unwrap();
    let (_dir, file) = temp_file("skew.json.zst", &zst);
    let read = json(&["stats", file.to_str().unwrap(), "--format", "json"]);
    assert_eq!(read["spans_per_format"]["zipkin"], 4);
}

#[test]
fn xray_cli_example() {
    // One trace 1-5d82881a-0a91...: the Scorekeep segment (232 ms), its
    // DynamoDB UpdateItem subsegment (namespace aws, 6 ms) and X-Ray's
    // inferred DynamoDB segment under that subsegment.
    let stats = stats("xray/batch-traces-get.output.json");
    assert_eq!(stats["traces"], 1);
    assert_eq!(stats["spans"], 3);
    assert_eq!(stats["spans_per_format"]["xray"], 3);
    assert_eq!(stats["data_quality"]["unparsable_records"], 0);
    assert_eq!(stats["data_quality"]["missing_parent"], 0);
    let report = analyze("xray/batch-traces-get.output.json");
    assert_eq!(report["summary"]["total_root_ms"].as_f64(), Some(232.0));
    let by_service: Vec<(String, f64)> = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["service"].as_str().unwrap().to_string(),
                s["critical_ms"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by_service,
        [
            ("Scorekeep".to_string(), 226.0),
            ("DynamoDB".to_string(), 6.0)
        ]
    );
    let operations: BTreeSet<&str> = report["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["operation"].as_str().unwrap())
        .collect();
    assert!(operations.contains("POST /api/user"), "{operations:?}");
    assert!(operations.contains("DynamoDB UpdateItem"), "{operations:?}");
    let trace = crate::util::critpath()
        .args([
            "trace",
            "5d82881a",
            &oracle("xray/batch-traces-get.output.json"),
        ])
        .output()
        .unwrap();
    assert!(trace.status.success());
}

/// The decompressed first 64 KiB of a file, as sniffing sees it.
fn head(file: &Path) -> Vec<u8> {
    let raw = std::fs::File::open(file).unwrap();
    let name = file.to_string_lossy();
    let reader: Box<dyn Read> = if name.ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(raw))
    } else if name.ends_with(".zst") {
        Box::new(zstd::Decoder::new(raw).unwrap())
    } else {
        Box::new(raw)
    };
    let mut head = Vec::new();
    reader
        .take(critpath::ingest::SNIFF_LEN as u64)
        .read_to_end(&mut head)
        .unwrap();
    head
}

/// Every trace file under `dir`, recursively.
fn trace_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            trace_files(&p, out);
        } else if p.extension().is_none_or(|e| e != "md") && !p.ends_with("nezha/faults.json") {
            out.push(p);
        }
    }
}

#[test]
fn every_sample_is_sniffed_as_exactly_its_own_format() {
    use critpath::ingest::{Format, READERS};
    let folders: &[(&str, Format)] = &[
        ("fixtures/otlp-json", Format::OtlpJson),
        ("fixtures/otlp-proto", Format::OtlpProto),
        ("fixtures/jaeger", Format::Jaeger),
        ("fixtures/sentry", Format::Sentry),
        ("fixtures/compressed", Format::OtlpJson),
        ("fixtures/integrity", Format::OtlpJson),
        ("fixtures/zipkin", Format::Zipkin),
        ("fixtures/xray", Format::Xray),
        ("tests/oracles/otlp", Format::OtlpJson),
        ("tests/oracles/nezha", Format::OtlpJson),
        ("tests/oracles/jaeger", Format::Jaeger),
        ("tests/oracles/jaeger-ui", Format::Jaeger),
        ("tests/oracles/crisp", Format::Jaeger),
        ("tests/oracles/sentry", Format::Sentry),
        ("tests/oracles/zipkin", Format::Zipkin),
        ("tests/oracles/xray", Format::Xray),
    ];
    let mut checked = 0;
    for &(folder, format) in folders {
        let dir = path(folder);
        if !dir.exists() {
            assert!(
                folder.starts_with("fixtures/zipkin") || folder.starts_with("fixtures/xray"),
                "missing {folder}"
            );
            continue;
        }
        let mut files = Vec::new();
        trace_files(&dir, &mut files);
        for file in files {
            let head = head(&file);
            let expected = if file.extension().is_some_and(|e| e == "binpb") {
                Format::OtlpProto
            } else {
                format
            };
            let accepted: Vec<Format> = READERS
                .iter()
                .filter(|r| r.sniff(&head))
                .map(|r| r.format())
                .collect();
            assert_eq!(accepted, [expected], "{}", file.display());
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked} files");
}
