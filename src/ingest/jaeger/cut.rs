//! A Jaeger trace too large for one window of the input, read in parts:
//! its head (`{"traceID": "...", "spans": [`), each of its spans, and its
//! tail (`], "processes": {...}, "warnings": null}`), as
//! [`json_envelope::Piece::Cut`] cuts them, in as many windows as it takes.
//!
//! A span names its service by a process id, and the trace's `processes`
//! come after its `spans`, often windows later. So each span of such a
//! trace waits for its service ([`ServiceFrom::Process`]), and the head's
//! and tail's processes are recorded by key ([`ProcessServices`]); the
//! model settles the spans once every window is read. A span's own
//! `process` still names its service at once.
//!
//! A span is read as it is in a trace read whole, except that its trace id
//! must be its own `traceID` (Jaeger writes one on every span): the trace's
//! may be in another window.

use std::borrow::Cow;

use rustc_hash::FxHashMap;
use serde_json::Value;

use super::typed::{self, Object};
use super::{TraceContext, convert_span, text, typed_parts, value_parts};
use crate::ingest::json_envelope::{self, Part};
use crate::ingest::json_locate::reject_at;
use crate::ingest::json_records::{Record, parse};
use crate::ingest::times::{self, Rejected};
use crate::ingest::{Sink, read_chunks};
use crate::model::{Location, ProcessServices, ServiceFrom, TraceIdMemo, TracedSpan};

/// Spans per parallel task.
const SPANS_PER_TASK: usize = 512;

/// Reads the parts of traces cut into parts, in a window's order.
pub(super) fn read(cuts: &[json_envelope::Cut<'_>], sink: &mut Sink<'_>) {
    if cuts.is_empty() {
        return;
    }
    for cut in cuts.iter().filter(|c| c.part != Part::Inner) {
        read_ends(cut, sink);
    }
    let spans: Vec<&json_envelope::Cut<'_>> =
        cuts.iter().filter(|c| c.part == Part::Inner).collect();
    read_chunks(
        spans.chunks(SPANS_PER_TASK).collect(),
        sink,
        |chunk, part| {
            for cut in chunk {
                read_span(cut, part);
            }
            true
        },
    );
}

/// A trace's members around its spans.
#[derive(serde::Deserialize)]
struct Ends<'a> {
    /// Processes by id.
    #[serde(default, borrow)]
    processes: Option<FxHashMap<Cow<'a, str>, Option<Object<typed::Process<'a>>>>>,
}

/// Records the processes a trace's head or tail names.
fn read_ends(cut: &json_envelope::Cut<'_>, sink: &mut Sink<'_>) {
    // Each made a trace of its own with no spans: the head closed, the
    // tail opened (no newline added, so errors keep their lines).
    let document = match cut.part {
        Part::Head => [cut.record.bytes, b"]}"].concat(),
        _ => [&b"{\"spans\": ["[..], cut.record.bytes].concat(),
    };
    let ends = match parse::<Object<Ends<'_>>>(&document) {
        Ok(Object(ends)) => ends,
        Err(err) => {
            let record = Record {
                line: cut.record.line,
                bytes: &document,
            };
            sink.skip(
                record.error_location(&err),
                format!("invalid JSON around the spans of a Jaeger trace read in parts: {err}"),
            );
            return;
        }
    };
    for (id, process) in ends.processes.iter().flatten() {
        if let Some(name) = process.as_ref().and_then(|p| text(&p.0.service_name)) {
            let key = ProcessServices::key(sink.strings, sink.name(), cut.member, id);
            let service = sink.strings.intern(name);
            sink.processes.insert(key, service);
        }
    }
}

/// Reads one span of a trace read in parts: typed, else through the
/// general path, which says what is wrong with it.
fn read_span(cut: &json_envelope::Cut<'_>, sink: &mut Sink<'_>) {
    let record = &cut.record;
    let context = TraceContext {
        trace_id: None,
        services: FxHashMap::default(),
        cut: Some((sink.name(), cut.member)),
    };
    let typed = super::fast::span(record.bytes).ok();
    let fast = typed.as_ref().and_then(|Object(span)| {
        let parts = typed_parts(span)?;
        convert_span(&parts, &context, sink.strings, &mut TraceIdMemo::default()).ok()
    });
    let converted: Result<TracedSpan, Rejected> = match fast {
        Some(span) => Ok(span),
        None => match parse::<Value>(record.bytes) {
            Ok(value) => value_parts(&value)
                .and_then(|parts| {
                    convert_span(&parts, &context, sink.strings, &mut TraceIdMemo::default())
                })
                .map_err(Rejected::from),
            Err(err) => {
                sink.skip(record.error_location(&err), format!("invalid JSON: {err}"));
                return;
            }
        },
    };
    match converted.and_then(times::checked) {
        Ok(span) => {
            if span.span.service_from == ServiceFrom::Process {
                sink.processes.wait();
            }
            let from = sink.spans.len();
            sink.spans.push(span);
            sink.locate(from, &Location::Line(record.line));
        }
        Err(rejected) => reject_at(sink, record, &[], rejected),
    }
}
