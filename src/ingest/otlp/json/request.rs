//! One OTLP/JSON request `{"resourceSpans": [...], ...}` read one
//! `ResourceSpans` at a time: a large one a window at a time
//! ([`Framing::Envelope`](crate::ingest::Framing::Envelope)) instead of held
//! whole, a small one the same way so that both read alike.
//!
//! Each member of the array is its own record: decoded into the typed model,
//! or, when that fails on a member of the wrong type, read again span by
//! span; a member that is not JSON is skipped and counted at its line,
//! without losing the rest of the request. What follows the array (`]`,
//! then any other members, then `}`) is read as a document of its own, and
//! so is a request of another shape between two cut ones.

use serde_json::Value;

use super::{NOT_OTLP, read_document, read_resource_spans, read_resource_spans_value};
use crate::ingest::json_envelope::{self, Envelope, Located};
use crate::ingest::json_records::Record;
use crate::ingest::otlp::common;
use crate::ingest::{Input, ReadError, Sink};
use crate::model::Location;

/// Reads one window of a large request. An error if the window holds no
/// member and no request's end: where the request breaks, if it does (the
/// input's error if no other window holds anything either).
pub(super) fn read_pieces(
    input: &Input<'_>,
    pieces: Located<'_>,
    sink: &mut Sink<'_>,
) -> Result<(), ReadError> {
    let records = json_envelope::located_records(input.bytes, 1, pieces);
    let mut recognised = read_members(&records.members, sink) > 0;
    for lead in records.lead_documents().records() {
        let read = read_end(&lead, sink);
        recognised |= read_around(&lead, read, "before", sink);
    }
    for tail in &records.tails {
        let read = read_tail(tail, sink);
        recognised |= read_around(tail, read, "after", sink);
    }
    // Requests of another shape between the cut ones (JSON lines whose
    // first line was longer than a window), read as JSON lines are.
    if !records.documents.is_empty() {
        let chunks = common::chunks(&records.documents, |r| r.bytes.len());
        recognised |= crate::ingest::read_chunks(chunks, sink, super::read_records);
    }
    let broken = records.count_broken("an OTLP/JSON request", sink);
    // Nothing read: the first member that is not JSON says why, as the
    // whole request's error would.
    let invalid = || {
        let member = records.members.first()?;
        let err = serde_json::from_slice::<serde::de::IgnoredAny>(member.bytes).err()?;
        Some((member.error_location(&err), format!("invalid JSON: {err}")))
    };
    match (recognised, broken) {
        (true, _) => Ok(()),
        (false, Some((at, message))) => Err(ReadError::new(input, at, message)),
        (false, None) => match invalid() {
            Some((at, message)) => Err(ReadError::new(input, at, message)),
            None => Err(ReadError::new(input, Location::Whole, NOT_OTLP)),
        },
    }
}

/// Whether what surrounds an array, `side` of it, was `read`; if it was
/// not JSON, that is counted at `record`.
fn read_around(
    record: &Record<'_>,
    read: serde_json::Result<()>,
    side: &str,
    sink: &mut Sink<'_>,
) -> bool {
    let Err(err) = read else {
        return true;
    };
    let message = format!("invalid JSON {side} the resourceSpans array: {err}");
    sink.skip(record.error_location(&err), message);
    false
}

/// Reads `record` if it is one request that starts with its
/// `resourceSpans` array and is whole around it; `false` if not, for the
/// general path to read or report.
pub(super) fn read_request(record: &Record<'_>, sink: &mut Sink<'_>) -> bool {
    let Some((pieces, _)) = Envelope::OTLP.whole(record.bytes) else {
        return false;
    };
    let records = json_envelope::records(Envelope::OTLP, record.bytes, record.line, &pieces);
    // When its end is not JSON, or no member of a non-empty array is, the
    // request is not one document, and the general path reports it as
    // such (as it did before requests were read by member). The end is
    // read first: it is short, and when it fails no member is parsed twice.
    let mut end = Sink::new(&sink.name, sink.strings);
    if read_tail(&records.tails[0], &mut end).is_err() {
        return false;
    }
    for lead in records.lead_documents().records() {
        if read_end(&lead, &mut end).is_err() {
            return false;
        }
    }
    let mut read = Sink::new(&sink.name, sink.strings);
    if read_members(&records.members, &mut read) == 0 && !records.members.is_empty() {
        return false;
    }
    read.append(end);
    sink.append(read);
    true
}

/// Reads members in parallel, in chunks of about the same size; how many
/// were JSON.
fn read_members(members: &[Record<'_>], sink: &mut Sink<'_>) -> usize {
    let chunks = common::chunks(members, |r| r.bytes.len());
    let parsed = std::sync::atomic::AtomicUsize::new(0);
    crate::ingest::read_chunks(chunks, sink, |chunk, part| {
        let n = chunk.iter().filter(|m| read_member(m, part)).count();
        parsed.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        true
    });
    parsed.into_inner()
}

/// Reads one `ResourceSpans`; whether it was JSON (its bad spans, if any,
/// are counted).
fn read_member(record: &Record<'_>, sink: &mut Sink<'_>) -> bool {
    let from = sink.spans.len();
    let invalid = |sink: &mut Sink<'_>, err: serde_json::Error| {
        sink.skip(record.error_location(&err), format!("invalid JSON: {err}"));
        false
    };
    let parsed = match super::fast::resource_spans(record.bytes, sink.strings) {
        Ok(mut resource_spans) => {
            read_resource_spans(&mut resource_spans, record, &[], sink);
            true
        }
        // A member of an unexpected type somewhere: read span by span so
        // that only the bad spans are lost.
        Err(err) if err.is_data() => match serde_json::from_slice::<Value>(record.bytes) {
            Ok(value) => {
                read_resource_spans_value(&value, record, &mut Vec::new(), sink);
                true
            }
            Err(err) => invalid(sink, err),
        },
        Err(err) => invalid(sink, err),
    };
    sink.locate(from, &Location::Line(record.line));
    parsed
}

/// Reads what follows the array, `], ...}`, as a document of its own (the
/// request's other members: a `batches` array is read as the whole
/// document's would be); an error if the request is not JSON there.
fn read_tail(tail: &Record<'_>, sink: &mut Sink<'_>) -> serde_json::Result<()> {
    let bytes = Envelope::OTLP.tail_as_document(tail.bytes);
    read_end(
        &Record {
            line: tail.line,
            bytes: &bytes,
        },
        sink,
    )
}

/// Reads what surrounds a request's array, made a document of its own (by
/// [`Envelope::tail_as_document`] or [`Envelope::lead_as_document`]); an
/// error if it is not JSON.
fn read_end(record: &Record<'_>, sink: &mut Sink<'_>) -> serde_json::Result<()> {
    let bytes = record.bytes;
    let from = sink.spans.len();
    let read = match super::fast::document(bytes, sink.strings) {
        Ok(mut document) => {
            read_document(&mut document, record, &mut Vec::new(), sink);
            Ok(())
        }
        Err(err) if err.is_data() => serde_json::from_slice::<Value>(bytes).map(|value| {
            super::read_value(&value, record, &mut Vec::new(), sink);
        }),
        Err(err) => Err(err),
    };
    sink.locate(from, &Location::Line(record.line));
    read
}
