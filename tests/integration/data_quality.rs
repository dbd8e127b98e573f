//! Data-quality counts come with located examples: every non-zero count of
//! `stats --format json` and of `analyze --format json`
//! (`summary.data_quality`) shows at least one of its cases, and
//! Sentry events stay whole (an event's spans are in its trace).

use serde_json::Value;

use crate::util::{critpath, json, path, succeed};

/// Counts whose cases are skipped records, shown in `examples` (file,
/// location, message); a skipped record may have no readable ids.
const SKIPPED_RECORD_COUNTS: [&str; 2] = ["unparsable_records", "invalid_time"];

/// Counts about spans that were kept, shown in `span_examples`.
const SPAN_COUNTS: [&str; 10] = [
    "missing_parent",
    "duplicate_spans",
    "parent_cycles",
    "multi_root_traces",
    "child_starts_before_parent",
    "child_ends_after_parent",
    "zero_duration",
    "negative_duration",
    "sentry_span_trace_mismatch",
    "sentry_orphan_spans",
];

/// The five Django index-view events, whose spans carry another trace id
/// than their event and hang off a parent outside it.
const DJANGO: [&str; 5] = [
    "n-plus-one-in-django-index-view.json",
    "n-plus-one-in-django-index-view-activerecord.json",
    "n-plus-one-in-django-index-view-repeating-redis.json",
    "n-plus-one-in-django-index-view-source-redis.json",
    "n-plus-one-in-django-index-view-unparameterized.json",
];

/// Every input with a data-quality problem: the integrity fixtures (one
/// file per problem) and a Sentry event of the Django fixtures.
fn problem_inputs() -> Vec<String> {
    let dir = path("fixtures/integrity");
    crate::util::require(&dir);
    let mut inputs: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .collect();
    inputs.sort();
    let django = path(&format!("tests/oracles/sentry/{}", DJANGO[0]));
    crate::util::require(&django);
    inputs.push(django.to_string_lossy().into_owned());
    inputs
}

/// Asserts that every non-zero count of `quality` has an example, and
/// returns the names of the non-zero counts.
fn assert_every_count_has_an_example(input: &str, quality: &Value) -> Vec<String> {
    let counts = quality.as_object().expect("data_quality is an object");
    let mut nonzero = Vec::new();
    for (name, value) in counts {
        let Some(n) = value.as_u64() else {
            continue; // the example lists
        };
        if n == 0 {
            continue;
        }
        nonzero.push(name.clone());
        if SKIPPED_RECORD_COUNTS.contains(&name.as_str()) {
            let examples = quality["examples"].as_array().unwrap();
            assert!(!examples.is_empty(), "{input}: {name} = {n}: no example");
            for e in examples {
                assert!(e["file"].as_str().is_some_and(|f| !f.is_empty()), "{e}");
                assert!(!e["location"].is_null(), "{e}");
            }
            continue;
        }
        assert!(
            SPAN_COUNTS.contains(&name.as_str()),
            "{input}: count {name} is not known to this test"
        );
        let examples = quality["span_examples"][name.as_str()]
            .as_array()
            .unwrap_or_else(|| panic!("{input}: {name} = {n}: no examples in {quality:#}"));
        assert!(!examples.is_empty(), "{input}: {name} = {n}");
        assert!(examples.len() as u64 <= n, "{input}: {name}: {examples:?}");
        for e in examples {
            let id = |key: &str| e[key].as_str().is_some_and(|s| !s.is_empty());
            assert!(id("trace_id") && id("span_id"), "{input}: {name}: {e}");
            assert!(id("message"), "{input}: {name}: {e}");
            // Counts made when traces are built name where the span was
            // read too (its record's line; these inputs are all JSON).
            assert!(id("file"), "{input}: {name}: {e}");
            assert!(
                e["location"]["line"].as_u64().is_some(),
                "{input}: {name}: {e}"
            );
        }
    }
    // And no example for a count that is zero.
    for (name, _) in quality["span_examples"].as_object().into_iter().flatten() {
        assert!(quality[name.as_str()].as_u64() > Some(0), "{input}: {name}");
    }
    nonzero
}

#[test]
fn every_nonzero_count_has_a_located_example_in_stats_and_analyze() {
    let mut seen = std::collections::BTreeSet::new();
    for input in problem_inputs() {
        let stats = json(&["stats", &input, "--format", "json"]);
        let nonzero = assert_every_count_has_an_example(&input, &stats["data_quality"]);
        assert!(!nonzero.is_empty(), "{input}: nothing counted");
        let analyze = json(&["analyze", &input, "--format", "json"]);
        let read = &analyze["summary"]["data_quality"];
        let in_analyze = assert_every_count_has_an_example(&input, read);
        assert_eq!(nonzero, in_analyze, "{input}");
        seen.extend(nonzero);
    }
    // The inputs hit every count, so the test covers each.
    for name in ["unparsable_records"].iter().chain(&SPAN_COUNTS) {
        assert!(seen.contains(*name), "no input hits {name}: {seen:?}");
    }
}

#[test]
fn examples_name_the_span_and_what_is_wrong() {
    let p = path("fixtures/integrity/child_ends_after_parent.json");
    let q = &json(&["stats", p.to_str().unwrap(), "--format", "json"])["data_quality"];
    let e = &q["span_examples"]["child_ends_after_parent"][0];
    let message = e["message"].as_str().unwrap();
    assert!(message.contains("after its parent"), "{e}");
    assert_eq!(e["trace_id"].as_str().unwrap().len(), 32, "{e}");
    assert_eq!(e["span_id"].as_str().unwrap().len(), 16, "{e}");
    // The table names the example too.
    let (table, _) = crate::util::succeed(crate::util::critpath().args(["stats"]).arg(&p));
    assert!(table.contains(e["span_id"].as_str().unwrap()), "{table}");
}

#[test]
fn django_events_read_as_one_trace_with_one_root_each() {
    for file in DJANGO {
        let p = path(&format!("tests/oracles/sentry/{file}"));
        crate::util::require(&p);
        let p = p.to_str().unwrap();
        let stats = json(&["stats", p, "--format", "json"]);
        assert_eq!(stats["traces"], 1, "{file}");
        assert_eq!(stats["spans"], 24, "{file}: the root and its 23 spans");
        let q = &stats["data_quality"];
        assert_eq!(q["multi_root_traces"], 0, "{file}: one root");
        // The root's own parent is upstream of the event: counted, once.
        assert_eq!(q["missing_parent"], 1, "{file}");
        assert_eq!(q["sentry_span_trace_mismatch"], 23, "{file}");
        let mismatch = &q["span_examples"]["sentry_span_trace_mismatch"][0];
        assert_eq!(mismatch["trace_id"], "10d0b72df0fe4392a6788bce71ec2028");
        assert!(
            mismatch["message"]
                .as_str()
                .unwrap()
                .contains("3c080d683c904cb68a18361a093aa6ce"),
            "{mismatch}"
        );
        // The middleware chain hangs off a span outside the event: it is
        // put under the transaction, as Sentry shows it.
        assert_eq!(q["sentry_orphan_spans"], 1, "{file}");
        let orphan = &q["span_examples"]["sentry_orphan_spans"][0];
        assert_eq!(orphan["span_id"], "97b250f72d59f230", "{file}");

        let report = json(&["analyze", p, "--format", "json"]);
        let summary = &report["summary"];
        assert_eq!(summary["analysed_traces"], 1, "{file}: {summary:#}");
        assert_eq!(summary["analysed_roots"], 1, "{file}: {summary:#}");
        // Every finding is about the event's trace, none about the trace
        // id its spans carry.
        let findings = report["findings"].as_array().unwrap();
        assert!(!findings.is_empty(), "{file}");
        for f in findings {
            assert_eq!(
                f["example_trace_id"], "10d0b72df0fe4392a6788bce71ec2028",
                "{file}: {f:#}"
            );
        }
    }
}

#[test]
fn the_selection_has_its_own_data_quality_counts() {
    let window = path("tests/oracles/nezha/W1_ob_currency_netdelay.otlp.jsonl.gz");
    let report = |extra: &[&str]| -> serde_json::Value {
        let (out, _) = succeed(
            critpath()
                .arg("analyze")
                .arg(&window)
                .args(extra)
                .args(["--format", "json"]),
        );
        serde_json::from_str(&out).unwrap()
    };
    let key = "child_ends_after_parent";
    // Everything selected: the selection's counts are the input's.
    let all = report(&[]);
    let summary = &all["summary"];
    assert_eq!(
        summary["selected_data_quality"][key],
        summary["data_quality"][key]
    );
    // Traces after the injection only: fewer, and the input's stay.
    let some = report(&["--since", "2022-08-22T05:27:06Z"]);
    let summary = &some["summary"];
    let (selected, input) = (
        summary["selected_data_quality"][key].as_u64().unwrap(),
        summary["data_quality"][key].as_u64().unwrap(),
    );
    assert_eq!(input, all["summary"]["data_quality"][key].as_u64().unwrap());
    assert!(0 < selected && selected < input, "{selected} of {input}");
}
