//! The HTML report renders in headless Chromium without errors or network
//! references, is laid out for a reader (verdict, suspects, a full-width
//! flame graph, charts, then tables), sorts and copies, and every number it
//! draws or tabulates equals the JSON report's.
//!
//! Numbers are compared exactly: the page's `data-v` text and the JSON
//! report's number text are both parsed with `str::parse::<f64>` (the JSON
//! is read with `RawValue`, as serde_json's own float parsing may be one ulp
//! off).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::value::RawValue;

use crate::util::{critpath, path, succeed};

const SENTRY: &str = "tests/oracles/sentry/n-plus-one-in-django-index-view.json";
const NEZHA: &str = "tests/oracles/nezha/W1_ob_currency_netdelay.otlp.jsonl.gz";
const NEZHA_BASELINE: &str = "tests/oracles/nezha/ob-baseline.otlp.jsonl.gz";
const NEZHA_SINCE: &str = "2022-08-22T05:27:06Z";

fn chromium(test: &str) -> Option<String> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(str::to_string);
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is required in CI (.ci/run installs Debian's chromium package)"
        );
        eprintln!("SKIPPED {test}: no chromium on this machine (apt-get install chromium)");
    }
    found
}

/// Writes the HTML report of `args` into `dir`; its path and text.
fn html_report(dir: &Path, args: &[&str]) -> (PathBuf, String) {
    let html = dir.join("report.html");
    critpath()
        .arg("analyze")
        .args(args)
        .args(["--format", "html", "-o"])
        .arg(&html)
        .assert()
        .success();
    let text = std::fs::read_to_string(&html).expect("report written");
    (html, text)
}

/// The DOM of `page` after load (and after its timers ran), in a 1400-pixel
/// wide window, from a fresh profile.
fn dump_dom(browser: &str, dir: &Path, page: &Path) -> String {
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
            "--hide-scrollbars",
            "--window-size=1400,1000",
            "--virtual-time-budget=5000",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.join(format!(
                "profile-{}",
                page.file_stem().unwrap().to_string_lossy()
            ))
            .display()
        ))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        dom.contains("critpath report"),
        "chromium rendered nothing: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dom
}

/// The opening tag of the first `<tag` element.
fn open_tag<'a>(dom: &'a str, tag: &str) -> &'a str {
    let start = dom.find(&format!("<{tag}")).expect("element present");
    &dom[start..start + dom[start..].find('>').unwrap() + 1]
}

/// The value of attribute `name` in an opening tag.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(&tag[start..start + tag[start..].find('"')?])
}

/// The text from `<{start}` up to its closing `</{end}>`.
fn element<'a>(dom: &'a str, start: &str, end: &str) -> &'a str {
    let from = dom
        .find(&format!("<{start}"))
        .unwrap_or_else(|| panic!("<{start} present"));
    let to = from
        + dom[from..]
            .find(&format!("</{end}>"))
            .unwrap_or_else(|| panic!("</{end}> closes <{start}"));
    &dom[from..to]
}

/// The page loaded, its script ran to the end, and nothing threw.
fn assert_loaded(dom: &str) {
    let body = open_tag(dom, "body");
    assert_eq!(attr(body, "data-ready"), Some("1"), "script did not finish");
    let html = open_tag(dom, "html");
    assert_eq!(attr(html, "data-errors"), None, "uncaught JS errors");
}

/// No attribute loads anything over the network: every `src`, `href`,
/// `srcset`, `action` and CSS `url(...)` is local (a fragment or data), and
/// there are no external style sheets, frames or images.
fn assert_offline(text: &str) {
    for name in ["src", "href", "xlink:href", "srcset", "action", "poster"] {
        for quote in ['"', '\''] {
            let needle = format!(" {name}={quote}");
            for (at, _) in text.match_indices(&needle) {
                let value = &text[at + needle.len()..];
                let value = &value[..value.find(quote).unwrap_or(value.len())];
                assert!(
                    value.starts_with('#') || value.starts_with("data:"),
                    "{name}={value:?} is not local"
                );
            }
        }
    }
    for (at, _) in text.match_indices("url(") {
        let rest = text[at + 4..].trim_start_matches(['"', '\'']);
        assert!(
            rest.starts_with('#'),
            "url({}...) is not local",
            &rest[..20.min(rest.len())]
        );
    }
    for tag in ["<link", "<iframe", "<img", "<object", "<embed", "@import"] {
        assert!(!text.contains(tag), "{tag} in the page");
    }
}

/// A JSON report with every value kept as its text.
type Raw = HashMap<String, Box<RawValue>>;

/// The JSON report of `args`, each section's rows with raw values.
fn json_report(args: &[&str]) -> HashMap<String, Vec<Raw>> {
    let (stdout, _) = succeed(
        critpath()
            .arg("analyze")
            .args(args)
            .args(["--format", "json", "--top", "20"]),
    );
    let top: Raw = serde_json::from_str(&stdout).expect("stdout is JSON");
    top.into_iter()
        .filter_map(|(k, v)| Some((k, serde_json::from_str::<Vec<Raw>>(v.get()).ok()?)))
        .collect()
}

/// A JSON number, parsed from its text.
fn num(row: &Raw, key: &str) -> f64 {
    let text = row
        .get(key)
        .unwrap_or_else(|| panic!("{key} present"))
        .get();
    text.parse()
        .unwrap_or_else(|_| panic!("{key} = {text} is a number"))
}

/// A JSON string.
fn string(row: &Raw, key: &str) -> String {
    serde_json::from_str(row[key].get()).expect("a string")
}

/// The `data-v` numbers of each row of the table with this id.
fn table_values(dom: &str, id: &str) -> Vec<Vec<f64>> {
    element(dom, &format!("table id=\"{id}\""), "table")
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

/// Per mark group (split at `group`) in `chart`, its `data-k`/`data-v`
/// pairs.
fn marks(chart: &str, group: &str) -> Vec<HashMap<String, f64>> {
    chart
        .split(group)
        .skip(1)
        .map(|g| {
            g.split(" data-k=\"")
                .skip(1)
                .map(|m| {
                    let k = &m[..m.find('"').unwrap()];
                    let v = attr(m, "data-v").expect("data-v after data-k");
                    (k.to_string(), v.parse::<f64>().expect("number"))
                })
                .collect()
        })
        .collect()
}

#[test]
fn html_report_renders_and_matches_json() {
    let Some(browser) = chromium("html_report_renders_and_matches_json") else {
        return;
    };
    let input = path(SENTRY);
    let input = input.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (html, text) = html_report(dir.path(), &[input]);
    assert_offline(&text);
    let dom = dump_dom(&browser, dir.path(), &html);
    assert_loaded(&dom);
    assert_offline(&dom);
    assert!(
        dom.contains("<svg id=\"flamegraph\""),
        "the flame graph is inline"
    );
    assert!(
        dom.contains("<p id=\"verdict\"><strong>No diagnosis"),
        "the verdict says why there are no suspects"
    );

    let report = json_report(&[input]);
    let rows = table_values(&dom, "operations");
    let ops = &report["operations"];
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
        .map(|k| num(op, k))
        .collect();
        assert_eq!(row, &want, "operation {}", string(op, "operation"));
    }
    let rows = table_values(&dom, "services");
    let services = &report["services"];
    assert_eq!(rows.len(), services.len().min(20));
    for (row, s) in rows.iter().zip(services) {
        let want: Vec<f64> = [
            "spans",
            "self_ms",
            "self_share",
            "critical_ms",
            "critical_share",
        ]
        .iter()
        .map(|k| num(s, k))
        .collect();
        assert_eq!(row, &want, "service {}", string(s, "service"));
    }
}

#[test]
fn html_report_reads_top_down_with_a_full_width_flame_graph_and_charts_matching_json() {
    let Some(browser) = chromium(
        "html_report_reads_top_down_with_a_full_width_flame_graph_and_charts_matching_json",
    ) else {
        return;
    };
    let input = path(NEZHA);
    let baseline = path(NEZHA_BASELINE);
    let args = [
        input.to_str().unwrap(),
        "--since",
        NEZHA_SINCE,
        "--baseline",
        baseline.to_str().unwrap(),
    ];
    let dir = tempfile::tempdir().unwrap();
    let (html, text) = html_report(dir.path(), &args);
    assert_offline(&text);
    let dom = dump_dom(&browser, dir.path(), &html);
    assert_loaded(&dom);
    assert_offline(&dom);

    // A reader meets the verdict, the suspects, the flame graph, the charts
    // and only then the tables.
    let order: Vec<usize> = [
        "<p id=\"verdict\"",
        "<ol id=\"suspect-list\"",
        "<svg id=\"flamegraph\"",
        "<svg id=\"service-bars\"",
        "<svg id=\"latency-boxes\"",
        "<table id=\"operations\"",
    ]
    .iter()
    .map(|m| dom.find(m).unwrap_or_else(|| panic!("{m} present")))
    .collect();
    assert!(order.is_sorted(), "sections out of order: {order:?}");
    assert!(
        dom.find("<svg").unwrap() == order[2],
        "the flame graph is the page's first SVG (inferno's script takes the first)"
    );

    // The flame graph spans the page: its SVG, and the frames inferno's
    // script lays out for the width it gets (which it does only if it ran).
    let body = open_tag(&dom, "body");
    let width = |name: &str| -> f64 {
        attr(body, name)
            .unwrap_or_else(|| panic!("{name} measured"))
            .parse()
            .unwrap()
    };
    let page = width("data-page-width");
    assert!(page >= 1300.0, "window is 1400 pixels wide, page is {page}");
    for name in ["data-flame-width", "data-frames-width"] {
        let w = width(name);
        assert!(w >= 0.9 * page, "{name} {w} < 90% of the page's {page}");
    }
    assert!(
        attr(open_tag(&dom, "svg id=\"flamegraph\""), "width").is_none(),
        "inferno's script made the flame graph fluid"
    );

    let report = json_report(&args);

    // Suspects: every one, with every evidence sentence and copyable traces.
    let suspects = &report["suspects"];
    assert!(!suspects.is_empty(), "the W1 incident has suspects");
    let list = element(&dom, "ol id=\"suspect-list\"", "ol");
    let cards: Vec<&str> = list.split("<li class=\"suspect\"").skip(1).collect();
    assert_eq!(cards.len(), suspects.len());
    for (card, s) in cards.iter().zip(suspects) {
        let service = string(s, "service");
        assert_eq!(attr(card, "data-service"), Some(service.as_str()));
        let evidence: Vec<Raw> = serde_json::from_str(s["evidence"].get()).unwrap();
        let sentences = element(card, "ul class=\"evidence\"", "ul");
        assert_eq!(
            sentences.matches("<li>").count(),
            evidence.len(),
            "{service}"
        );
        for key in ["example_trace_id", "baseline_example_trace_id"] {
            let id = string(s, key);
            assert!(
                card.contains(&format!("data-copy=\"{id}\"")),
                "{service}'s {key} {id} is copyable"
            );
        }
        assert_eq!(
            marks(card, "<div class=\"who\"")[0]["score"],
            num(s, "score")
        );
    }

    // The bar chart: one bar per service, in the JSON's order and values.
    let bars = marks(
        element(&dom, "svg id=\"service-bars\"", "svg"),
        "<g class=\"bar",
    );
    let services = &report["services"];
    assert_eq!(bars.len(), services.len().min(20));
    for (bar, s) in bars.iter().zip(services) {
        for key in ["critical_share", "critical_ms"] {
            assert_eq!(bar[key], num(s, key), "{key} of {}", string(s, "service"));
        }
    }

    // The box plots: the top operations' percentiles, in the JSON's order.
    let boxes = marks(
        element(&dom, "svg id=\"latency-boxes\"", "svg"),
        "<g class=\"op box\"",
    );
    let ops = &report["operations"];
    assert_eq!(boxes.len(), ops.len().min(15));
    for (b, op) in boxes.iter().zip(ops) {
        for key in ["p50_ms", "p95_ms", "p99_ms", "max_ms"] {
            assert_eq!(b[key], num(op, key), "{key} of {}", string(op, "operation"));
        }
    }

    // Every example trace id in the tables is copyable.
    for section in ["operations", "edges", "hot_paths", "cascades"] {
        for row in report[section].iter().take(20) {
            let id = string(row, "example_trace_id");
            assert!(
                dom.contains(&format!("data-copy=\"{id}\"")),
                "{section}' example trace {id} is copyable"
            );
        }
    }
}

#[test]
fn html_report_tables_sort_on_a_header_click_and_trace_ids_copy() {
    let Some(browser) = chromium("html_report_tables_sort_on_a_header_click_and_trace_ids_copy")
    else {
        return;
    };
    let input = path("fixtures/otlp-json");
    let dir = tempfile::tempdir().unwrap();
    let (_, text) = html_report(dir.path(), &[input.to_str().unwrap()]);
    // Drive the page as a reader would, after its own script: click the p50
    // header twice, then a copy button, and note what happened.
    let driver = r##"<script>
(function () {
  function column(i) {
    return Array.prototype.map.call(
      document.querySelectorAll("#operations tbody tr td:nth-child(" + i + ")"),
      function (td) { return td.getAttribute("data-v"); }).join(",");
  }
  var heads = document.querySelectorAll("#operations thead th");
  var p50 = -1;
  for (var i = 0; i < heads.length; i++) if (heads[i].textContent === "p50") p50 = i;
  var b = document.body;
  b.setAttribute("data-test-before", column(p50 + 1));
  heads[p50].click();
  b.setAttribute("data-test-first", column(p50 + 1));
  b.setAttribute("data-test-first-sort", heads[p50].getAttribute("aria-sort"));
  heads[p50].click();
  b.setAttribute("data-test-second", column(p50 + 1));
  var copy = document.querySelector("#operations button.copy");
  copy.click();
  setTimeout(function () { b.setAttribute("data-test-copy", copy.textContent); }, 100);
})();
</script></body>"##;
    let driven = dir.path().join("driven.html");
    std::fs::write(&driven, text.replacen("</body>", driver, 1)).unwrap();
    let dom = dump_dom(&browser, dir.path(), &driven);
    assert_loaded(&dom);
    let body = open_tag(&dom, "body");
    let column = |name: &str| -> Vec<f64> {
        attr(body, name)
            .unwrap_or_else(|| panic!("{name} recorded"))
            .split(',')
            .map(|v| v.parse().unwrap())
            .collect()
    };
    let before = column("data-test-before");
    assert!(before.len() > 2, "enough operations to sort: {before:?}");
    let first = column("data-test-first");
    let second = column("data-test-second");
    assert_eq!(attr(body, "data-test-first-sort"), Some("descending"));
    assert!(first.is_sorted_by(|a, b| a >= b), "descending: {first:?}");
    assert!(second.is_sorted_by(|a, b| a <= b), "ascending: {second:?}");
    let mut sorted = before.clone();
    sorted.sort_by(f64::total_cmp);
    assert_eq!(second, sorted, "sorting keeps every row");
    // Headless Chromium may refuse the clipboard; the fallback selects the
    // id instead. Either way the button says what happened.
    let copy = attr(body, "data-test-copy").expect("copy clicked");
    assert!(
        copy == "copied" || copy == "press Ctrl+C",
        "copy button says {copy:?}"
    );
}

/// The timeline's charts: root p50/p99 per bucket and one chart per queue
/// destination, each point carrying the JSON report's value, and the
/// change-point marker where the JSON says root latency shifted.
#[test]
fn html_timeline_charts_match_the_json_timeline() {
    let Some(browser) = chromium("html_timeline_charts_match_the_json_timeline") else {
        return;
    };
    #[derive(serde::Deserialize)]
    struct Series {
        metric: String,
        values: Vec<Option<Box<RawValue>>>,
    }
    #[derive(serde::Deserialize)]
    struct Timeline {
        series: Vec<Series>,
        change_points: Vec<serde_json::Value>,
    }
    #[derive(serde::Deserialize)]
    struct Report {
        timeline: Timeline,
    }
    for (input, charts) in [
        (path(NEZHA), vec![("timeline-root", "root_p99_ms")]),
        (
            path("fixtures/queues/orders.otlp-json.jsonl"),
            vec![("timeline-queue-0-notifications", "queue_wait_p99_ms")],
        ),
    ] {
        let input = input.to_str().unwrap();
        let (json, _) = succeed(critpath().args(["analyze", input, "--format", "json"]));
        let report: Report = serde_json::from_str(&json).expect("JSON report");
        let dir = tempfile::tempdir().unwrap();
        let (html, _) = html_report(dir.path(), &[input]);
        let dom = dump_dom(&browser, dir.path(), &html);
        assert_loaded(&dom);
        for (id, metric) in charts {
            let svg = element(&dom, &format!("svg id=\"{id}\""), "svg");
            let drawn: Vec<f64> = svg
                .split(&format!("data-k=\"{metric}\" data-v=\""))
                .skip(1)
                .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
                .collect();
            let series = report
                .timeline
                .series
                .iter()
                .find(|s| s.metric == metric)
                .unwrap_or_else(|| panic!("{metric} in the JSON"));
            let json_values: Vec<f64> = series
                .values
                .iter()
                .flatten()
                .map(|v| v.get().parse().unwrap())
                .collect();
            assert!(!drawn.is_empty(), "{id}: no points");
            assert_eq!(drawn, json_values, "{id}");
        }
        let markers = dom.matches("class=\"change\"").count();
        let latency_shifts = report
            .timeline
            .change_points
            .iter()
            .filter(|c| c["series"] == "root_latency")
            .count();
        assert!(
            markers >= latency_shifts,
            "{input}: {markers} markers for {latency_shifts} shifts"
        );
        if input.contains("W1_") {
            assert_eq!(latency_shifts, 1);
            assert!(dom.contains("<ul id=\"change-points\">"), "listed");
        }
    }
}
