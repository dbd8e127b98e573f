//! The integrity fixtures: one small OTLP/JSON file per data-quality case,
//! pretty-printed with readable ids as a person would write one by hand to
//! reproduce a bug. Each starts from the same healthy five-span checkout
//! trace and breaks exactly one thing, so the expected data-quality counts
//! are obvious (see `fixtures/README.md`).

use std::io;

use crate::scenarios::BASE;
use crate::trace::{Attr, Kind, MS, Span, Trace, Value};
use crate::writers::{Format, write_all, write_otlp_json_pretty};

const A: u64 = 0x1f2e_3d4c_5b6a_7980; // frontend SERVER GET /checkout
const B: u64 = 0x2a3b_4c5d_6e7f_8091; // frontend CLIENT POST
const C: u64 = 0x3c4d_5e6f_7081_92a3; // checkout-api SERVER POST /v1/checkout
const D: u64 = 0x4d5e_6f70_8192_a3b4; // checkout-api SELECT carts
const E: u64 = 0x5e6f_7081_92a3_b4c5; // checkout-api INSERT orders

/// One integrity case: its file name and what to do to the healthy trace.
struct Case {
    file: &'static str,
    trace: u8,
    breakage: fn(&mut Vec<Span>),
}

const CASES: &[Case] = &[
    Case {
        // The root span was never exported (its process died before the
        // flush): the client span points at a parent not in the file.
        file: "missing_parent.json",
        trace: 0x01,
        breakage: |spans| spans.retain(|s| s.id != A),
    },
    Case {
        // An exporter retry sent the insert twice.
        file: "duplicate_span_id.json",
        trace: 0x02,
        breakage: |spans| {
            let copy = spans[4].clone();
            spans.push(copy);
        },
    },
    Case {
        // Two queries name each other as parent.
        file: "parent_cycle.json",
        trace: 0x03,
        breakage: |spans| {
            spans[3].parent = Some(E);
            spans[4].parent = Some(D);
        },
    },
    Case {
        // The frontend lost its context before the call: two roots.
        file: "several_roots.json",
        trace: 0x04,
        breakage: |spans| spans[1].parent = None,
    },
    Case {
        // checkout-api's clock is behind: its server span starts 2 ms
        // before the client span that caused it.
        file: "child_starts_before_parent.json",
        trace: 0x05,
        breakage: |spans| spans[2].start = spans[1].start - 2 * MS,
    },
    Case {
        // checkout-api's clock is ahead: its server span ends 5 ms after
        // the client span that waited for it.
        file: "child_ends_after_parent.json",
        trace: 0x06,
        breakage: |spans| spans[2].end = spans[1].end + 5 * MS,
    },
    Case {
        // A query whose end was recorded with the start time.
        file: "zero_duration.json",
        trace: 0x07,
        breakage: |spans| spans[3].end = spans[3].start,
    },
    Case {
        // End before start (a clock step during the span).
        file: "negative_duration.json",
        trace: 0x08,
        breakage: |spans| spans[4].end = spans[4].start - 2 * MS,
    },
    Case {
        // A malformed span: no `spanId` (written as absent).
        file: "malformed_span.json",
        trace: 0x09,
        breakage: |spans| spans[3].id = 0,
    },
];

/// The healthy trace, `trace` making its id distinct per case.
fn healthy(trace: u8) -> Trace {
    let t0 = BASE + 6 * 3_600_000 * MS;
    let span = |id, parent, service, kind, name: &str, from: i64, to: i64, attrs: Vec<Attr>| Span {
        id,
        parent,
        service,
        name: name.to_string(),
        kind,
        start: t0 + from * MS,
        end: t0 + to * MS,
        error: false,
        attrs,
        links: Vec::new(),
    };
    let s = |key, value: &str| Attr {
        key,
        value: Value::Str(value.to_string()),
    };
    Trace {
        id: 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4700 | u128::from(trace),
        spans: vec![
            span(
                A,
                None,
                "frontend",
                Kind::Server,
                "GET /checkout",
                0,
                120,
                vec![
                    s("http.request.method", "GET"),
                    s("http.route", "/checkout"),
                ],
            ),
            span(
                B,
                Some(A),
                "frontend",
                Kind::Client,
                "POST",
                5,
                110,
                vec![
                    s("http.request.method", "POST"),
                    s("url.full", "http://checkout-api:8080/v1/checkout"),
                ],
            ),
            span(
                C,
                Some(B),
                "checkout-api",
                Kind::Server,
                "POST /v1/checkout",
                8,
                105,
                vec![
                    s("http.request.method", "POST"),
                    s("http.route", "/v1/checkout"),
                ],
            ),
            span(
                D,
                Some(C),
                "checkout-api",
                Kind::Client,
                "SELECT carts",
                10,
                25,
                vec![
                    s("db.system", "postgresql"),
                    s("db.statement", "SELECT * FROM carts WHERE id = 42"),
                ],
            ),
            span(
                E,
                Some(C),
                "checkout-api",
                Kind::Client,
                "INSERT orders",
                30,
                60,
                vec![
                    s("db.system", "postgresql"),
                    s("db.statement", "INSERT INTO orders (cart_id) VALUES (42)"),
                ],
            ),
        ],
    }
}

/// Every single-trace case: its file name and its broken trace.
pub fn traces() -> Vec<(&'static str, Trace)> {
    CASES
        .iter()
        .map(|case| {
            let mut trace = healthy(case.trace);
            (case.breakage)(&mut trace.spans);
            (case.file, trace)
        })
        .collect()
}

/// Every integrity file: name and bytes.
pub fn files() -> io::Result<Vec<(&'static str, Vec<u8>)>> {
    let mut out = Vec::new();
    for (file, trace) in traces() {
        let mut bytes = Vec::new();
        write_otlp_json_pretty(&[trace], &mut bytes)?;
        out.push((file, bytes));
    }
    out.push(("malformed_line.jsonl", malformed_lines()?));
    Ok(out)
}

/// Three OTLP/JSON lines, the middle one cut off mid-way as a crashed
/// writer leaves it: the other two must still be read.
fn malformed_lines() -> io::Result<Vec<u8>> {
    let mut lines = Vec::new();
    write_all(Format::OtlpJson, &[healthy(0x0a)], 1, &mut lines)?;
    let mut cut = Vec::new();
    write_all(Format::OtlpJson, &[healthy(0x0b)], 1, &mut cut)?;
    cut.truncate(cut.len() / 2);
    lines.extend_from_slice(&cut);
    lines.push(b'\n');
    write_all(Format::OtlpJson, &[healthy(0x0c)], 1, &mut lines)?;
    Ok(lines)
}
