//! AWS X-Ray segment documents, as `aws xray batch-get-traces` (the
//! `BatchGetTraces` API) returns them.
//!
//! Accepted shapes, each as one document or as JSON lines:
//! `{"Traces": [{"Id", "Segments": [{"Id", "Document"}]}],
//! "UnprocessedTraceIds": [...]}` (each `Document` a segment serialised as a
//! JSON string, or already an object), one trace object `{"Id", "Segments"}`,
//! a bare segment document, or an array of any of these. Every id listed in
//! `UnprocessedTraceIds` is counted as a record that could not be read. An
//! output of 64 KiB or more that starts `{"Traces": [`, or an array of
//! documents that starts `[{`, is read a window of whole members at a time
//! ([`super::json_envelope`]).
//!
//! Per segment or subsegment: `id` and `start_time` (float seconds since
//! the epoch, kept to the microsecond, see [`super::sentry::time`]) are
//! required, and a trace id (the document's `trace_id`, else its trace's
//! `Id`); a segment without them is skipped and counted at the line its
//! entry opens on, as is one with a time outside 1970..2200 (as an invalid
//! time, see [`super::times`]). X-Ray trace ids (`1-5d82881a-0a91...`) are
//! read as the 128-bit id they encode (the hex digits after the version),
//! as OpenTelemetry's X-Ray propagator does. A segment or subsegment
//! without `end_time` (`in_progress`) is kept with zero duration, which the
//! trace checks count.
//!
//! Each segment is a `SERVER` span of the service it names (`name`); its
//! parent is `parent_id` (the caller's subsegment), if any. Its operation
//! is `METHOD /path` from `http.request` when given, the path shaped as
//! [`crate::normalize::url_shape`] shapes it (`/orders/1234` becomes
//! `/orders/*`: X-Ray records the URL called), else the segment's name
//! (with `aws.operation` added, as below: X-Ray's inferred segment of an
//! AWS service).
//! Each subsegment (at any depth) is a span of its segment's service, child
//! of the (sub)segment it is nested in, named by its `name`; one with
//! `namespace` `remote` or `aws` is a `CLIENT` call to the service or AWS API
//! it names, which becomes `peer.service` (an `aws` call's
//! `aws.operation` is added to its name: `DynamoDB UpdateItem`); any other is
//! `INTERNAL`. A subsegment sent as its own document (`"type":
//! "subsegment"`) takes the service of its parent when that is in the input
//! (any window, any file), when its trace is built
//! ([`crate::model::adopt_parent_services`]).
//! `error`, `fault` (and `throttle`) true make a span an error.
//! `http.request.method`/`url` and `sql.sanitized_query`/`database_type`
//! become the HTTP and database attributes.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::json_envelope::{self, Envelope};
use super::json_locate::{Step, reject_at, skip_at};
use super::json_records::{Record, first_byte, lines_framing, parse, read_values, records_of};
use super::json_scalars::{scalar_text, str_field};
use super::sentry::time::timestamp_nanos;
use super::times::{self, Rejected};
use super::{Format, Framing, Input, ReadError, Reader, Sink};
use crate::model::{
    AttrKey, AttrsBuilder, AttrsId, Interner, Location, Span, SpanId, SpanKind, Status, Sym,
    TraceId, TracedSpan, shape_cache,
};

/// Reads X-Ray `BatchGetTraces` output and segment documents.
pub struct XrayReader;

impl Reader for XrayReader {
    fn format(&self) -> Format {
        Format::Xray
    }

    fn sniff(&self, head: &[u8]) -> bool {
        sniff(head)
    }

    fn framing(&self, head: &[u8]) -> Option<Framing> {
        // A subsegment sent as its own document may be read windows away
        // from its parent: its service is found when its trace is built.
        // JSON lines are cut at line ends until one is longer than a
        // window; from there on as envelopes (see `Framing::LinesOr`).
        let lines = lines_framing(head).map(|_| Framing::LinesOr(Envelope::XRAY_LINES));
        lines.or_else(|| {
            if Envelope::XRAY.starts(head) {
                Some(Framing::Envelope(Envelope::XRAY))
            } else {
                Envelope::array_of(head, b'{').then_some(Framing::Envelope(Envelope::ARRAY))
            }
        })
    }

    fn read(&self, input: &Input<'_>, sink: &mut Sink<'_>) -> Result<(), ReadError> {
        if let Some(pieces) = input.pieces {
            return read_pieces(input, pieces, sink);
        }
        let records = records_of(input);
        let single = records.len() == 1 && !input.window;
        if !read_whole_records(input, &records, single, sink)? {
            return Err(ReadError::new(input, Location::Whole, NOT_XRAY));
        }
        Ok(())
    }
}

/// Reads records each held whole (JSON lines, or one document), of any
/// accepted shape; whether any was one. A record that is not JSON is the
/// input's error if it is the whole input (`single`), else counted.
fn read_whole_records(
    input: &Input<'_>,
    records: &[Record<'_>],
    single: bool,
    sink: &mut Sink<'_>,
) -> Result<bool, ReadError> {
    read_values(
        input,
        records,
        single,
        sink,
        NOT_XRAY,
        |record, value, sink| Reading { record, sink }.value(value, &mut Vec::new(), None, 0),
    )
}

/// Traces per parallel task.
const TRACES_PER_TASK: usize = 64;

/// Reads one window of a large `{"Traces": [...]}` document (see
/// [`Framing::Envelope`]): its traces, each a record of its own, and the
/// document's end, where `UnprocessedTraceIds` are; or of a large array
/// of traces and segment documents. An error if the window
/// holds neither: where the document breaks, if it does (the input's error
/// if no other window holds anything either).
fn read_pieces(
    input: &Input<'_>,
    pieces: json_envelope::Located<'_>,
    sink: &mut Sink<'_>,
) -> Result<(), ReadError> {
    let keyed = pieces.envelope.keyed();
    let records = json_envelope::located_records(input.bytes, 1, pieces);
    // Lines of another shape between outputs (JSON lines cut as envelopes:
    // see `Envelope::XRAY_LINES`), each read as a line is; and members
    // before a document's `Traces` (`{"NextToken": ..., "Traces": [`), read
    // as the document without its traces would be.
    let leads = records.lead_documents();
    let whole = [&records.documents[..], &leads.records()].concat();
    let documents = read_whole_records(input, &whole, false, sink)?;
    // Traces in parallel, a chunk per task.
    super::read_chunks(
        records.members.chunks(TRACES_PER_TASK).collect(),
        sink,
        |chunk, part| {
            for member in chunk {
                let value = match parse::<Value>(member.bytes) {
                    Ok(value) => value,
                    Err(err) => {
                        part.skip(member.error_location(&err), format!("invalid JSON: {err}"));
                        continue;
                    }
                };
                let first = part.spans.len();
                let mut reading = Reading {
                    record: member,
                    sink: part,
                };
                if keyed {
                    reading.trace_or_skip(&value, &mut Vec::new());
                } else if !reading.value(&value, &mut Vec::new(), None, 1) {
                    // A member of a bare array, as a whole read skips it.
                    skip_at(
                        part,
                        member,
                        &[],
                        "expected an X-Ray trace or segment document".into(),
                    );
                }
                part.locate(first, &Location::Line(member.line));
            }
            true
        },
    );
    // A bare array's end is its `]` alone.
    for end in records.tails.iter().filter(|_| keyed) {
        // The document with an empty array in place of the one read (no
        // newline added, so its lines stay), read as a whole one is.
        let rest = [&b"{\"Traces\":["[..], end.bytes].concat();
        match parse::<Value>(&rest) {
            Ok(value) => {
                Reading { record: end, sink }.value(&value, &mut Vec::new(), None, 0);
            }
            Err(err) => sink.skip(
                end.error_location(&err),
                format!("invalid JSON at the end of the Traces array: {err}"),
            ),
        }
    }
    let what = if keyed {
        "X-Ray batch-get-traces output"
    } else {
        "an array of X-Ray documents"
    };
    let broken = records.count_broken(what, sink);
    match broken {
        _ if documents || !records.members.is_empty() || !records.tails.is_empty() => Ok(()),
        Some((at, message)) => Err(ReadError::new(input, at, message)),
        None => Err(ReadError::new(input, Location::Whole, NOT_XRAY)),
    }
}

/// Whether `head` looks like X-Ray: JSON holding a `BatchGetTraces`
/// response (`Segments` with `Document`s) or a segment document
/// (`trace_id`, `start_time` and `end_time` or `in_progress`, which no
/// other format read here uses together).
pub(crate) fn sniff(head: &[u8]) -> bool {
    let has = |needle: &[u8]| memchr::memmem::find(head, needle).is_some();
    matches!(first_byte(head), Some(b'{' | b'['))
        && ((has(b"\"Segments\"") && has(b"\"Document\""))
            || (has(b"\"trace_id\"")
                && has(b"\"start_time\"")
                && (has(b"\"end_time\"") || has(b"\"in_progress\""))))
        && !has(b"\"start_timestamp\"")
        && !has(b"\"resourceSpans\"")
}

const NOT_XRAY: &str = "expected AWS X-Ray JSON: batch-get-traces output {\"Traces\": [...]}, a trace {\"Id\", \"Segments\"}, or a segment document with \"trace_id\", \"id\" and \"start_time\"";

/// How deep arrays of documents are searched (`[[segment]]`).
const MAX_NESTING: usize = 2;

/// One record being read.
struct Reading<'r, 's, 'a> {
    record: &'r Record<'a>,
    sink: &'r mut Sink<'s>,
}

impl Reading<'_, '_, '_> {
    /// Reads whatever `value` (at `path`) holds; whether it had an accepted
    /// shape. `trace` is the enclosing trace's `Id`.
    fn value<'v>(
        &mut self,
        value: &'v Value,
        path: &mut Vec<Step<'v>>,
        trace: Option<&'v str>,
        depth: usize,
    ) -> bool {
        match value {
            Value::Object(object) if object.contains_key("Traces") => {
                self.unprocessed(object);
                let Some(traces) = object.get("Traces").and_then(Value::as_array) else {
                    path.push(Step::Key("Traces"));
                    skip_at(
                        self.sink,
                        self.record,
                        path,
                        "\"Traces\" is not an array".into(),
                    );
                    path.pop();
                    return true;
                };
                path.push(Step::Key("Traces"));
                for (i, trace) in traces.iter().enumerate() {
                    path.push(Step::Index(i));
                    self.trace_or_skip(trace, path);
                    path.pop();
                }
                path.pop();
                true
            }
            Value::Object(object) if object.contains_key("Segments") => {
                self.trace(object, path);
                true
            }
            Value::Object(object)
                if object.contains_key("start_time") || object.contains_key("trace_id") =>
            {
                self.document(object, path, trace);
                true
            }
            Value::Array(items) if depth < MAX_NESTING => {
                for (i, item) in items.iter().enumerate() {
                    path.push(Step::Index(i));
                    if !self.value(item, path, trace, depth + 1) {
                        skip_at(
                            self.sink,
                            self.record,
                            path,
                            "expected an X-Ray trace or segment document".into(),
                        );
                    }
                    path.pop();
                }
                true
            }
            _ => false,
        }
    }

    /// Reads a member of a `Traces` array: a trace object, else skipped.
    fn trace_or_skip<'v>(&mut self, trace: &'v Value, path: &mut Vec<Step<'v>>) {
        match trace.as_object() {
            Some(t) if t.contains_key("Segments") => self.trace(t, path),
            _ => skip_at(
                self.sink,
                self.record,
                path,
                "expected a trace object with \"Segments\"".into(),
            ),
        }
    }

    /// Counts the ids X-Ray could not return.
    fn unprocessed(&mut self, object: &Map<String, Value>) {
        let Some(Value::Array(ids)) = object.get("UnprocessedTraceIds") else {
            return;
        };
        for id in ids {
            let id = scalar_text(id).map_or_else(|| id.to_string(), Cow::into_owned);
            self.sink.skip(
                Location::Line(self.record.line),
                format!("X-Ray did not return trace {id} (UnprocessedTraceIds)"),
            );
        }
    }

    /// Reads one trace object's segments.
    fn trace<'v>(&mut self, trace: &'v Map<String, Value>, path: &mut Vec<Step<'v>>) {
        let id = str_field(trace, "Id");
        path.push(Step::Key("Segments"));
        match trace.get("Segments") {
            Some(Value::Array(segments)) => {
                for (j, segment) in segments.iter().enumerate() {
                    path.push(Step::Index(j));
                    self.segment_entry(segment, path, id);
                    path.pop();
                }
            }
            Some(Value::Null) => {}
            _ => skip_at(
                self.sink,
                self.record,
                path,
                "\"Segments\" is not an array".into(),
            ),
        }
        path.pop();
    }

    /// Reads one `{"Id", "Document"}` entry: the document is a JSON string
    /// (or, from other tools, an object).
    fn segment_entry<'v>(&mut self, entry: &'v Value, path: &[Step<'v>], trace: Option<&str>) {
        let document = match entry.get("Document") {
            Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
                Ok(document) => Cow::Owned(document),
                Err(err) => {
                    let message = format!("segment \"Document\" is not JSON: {err}");
                    return skip_at(self.sink, self.record, path, message);
                }
            },
            Some(document @ Value::Object(_)) => Cow::Borrowed(document),
            _ => {
                let message = "segment has no \"Document\" (a JSON string)".to_string();
                return skip_at(self.sink, self.record, path, message);
            }
        };
        match document.as_object() {
            Some(object) => self.document(object, path, trace),
            None => skip_at(
                self.sink,
                self.record,
                path,
                "segment \"Document\" is not an object".into(),
            ),
        }
    }

    /// Reads one segment (or subsegment) document and all it nests.
    fn document(&mut self, doc: &Map<String, Value>, path: &[Step<'_>], trace: Option<&str>) {
        let context = match document_context(doc, trace, self.sink.strings) {
            Ok(context) => context,
            Err(message) => return skip_at(self.sink, self.record, path, message),
        };
        let subsegment = str_field(doc, "type") == Some("subsegment");
        let mut spans = Vec::new();
        let parent = str_field(doc, "parent_id").and_then(SpanId::parse_parent);
        let role = if subsegment {
            Role::Subsegment
        } else {
            Role::Segment
        };
        let strings = self.sink.strings;
        let read = convert(doc, &context, strings, parent, role, &mut spans, 0);
        // One bad (sub)segment skips the document's spans it nests.
        let checked = read.map_err(Rejected::from).and_then(|()| {
            spans
                .into_iter()
                .map(times::checked)
                .collect::<Result<Vec<TracedSpan>, Rejected>>()
        });
        match checked {
            Ok(spans) => {
                let from = self.sink.spans.len();
                self.sink.spans.extend(spans);
                if subsegment {
                    // Its service is its parent's, found when its trace is
                    // built, wherever the parent was read.
                    for read in &mut self.sink.spans[from..] {
                        read.span.service_from = crate::model::ServiceFrom::Parent;
                    }
                }
            }
            Err(rejected) => reject_at(self.sink, self.record, path, rejected),
        }
    }
}

/// What every span of one document shares.
struct Context {
    trace_id: TraceId,
    label: Option<Sym>,
    service: Sym,
}

fn document_context(
    doc: &Map<String, Value>,
    trace: Option<&str>,
    strings: &Interner,
) -> Result<Context, String> {
    let text = str_field(doc, "trace_id")
        .or(trace)
        .ok_or("segment has no \"trace_id\" (nor does its trace)")?;
    let (trace_id, is_hex) = trace_id(text)?;
    Ok(Context {
        trace_id,
        label: (!is_hex).then(|| strings.intern(text.trim())),
        service: strings.intern(str_field(doc, "name").unwrap_or("unknown")),
    })
}

/// An X-Ray trace id `1-{8 hex time}-{24 hex}` as the 128-bit id its hex
/// digits spell; any other text as [`TraceId::parse`] reads it.
pub fn trace_id(text: &str) -> Result<(TraceId, bool), String> {
    let text = text.trim();
    let parts: Vec<&str> = text.split('-').collect();
    let joined;
    let id = match parts.as_slice() {
        ["1", time, random] if time.len() == 8 && random.len() == 24 => {
            joined = format!("{time}{random}");
            joined.as_str()
        }
        _ => text,
    };
    let (parsed, is_hex) = TraceId::parse(id).map_err(|e| format!("bad trace_id {text:?}: {e}"))?;
    if is_hex {
        Ok((parsed, true))
    } else {
        TraceId::parse(text).map_err(|e| format!("bad trace_id {text:?}: {e}"))
    }
}

/// What a document is in the trace.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Segment,
    Subsegment,
}

/// How deep subsegments are followed (serde_json already stops at 128
/// levels of JSON).
const MAX_DEPTH: usize = 64;

/// Converts `doc` and, depth first, the subsegments it nests.
fn convert(
    doc: &Map<String, Value>,
    context: &Context,
    strings: &Interner,
    parent: Option<SpanId>,
    role: Role,
    out: &mut Vec<TracedSpan>,
    depth: usize,
) -> Result<(), String> {
    let what = if role == Role::Segment {
        "segment"
    } else {
        "subsegment"
    };
    let id = str_field(doc, "id").ok_or_else(|| format!("{what} has no \"id\""))?;
    let span_id = SpanId::parse(id).map_err(|e| format!("bad {what} id {id:?}: {e}"))?;
    let start = doc
        .get("start_time")
        .ok_or_else(|| format!("{what} {id} has no \"start_time\""))
        .and_then(|t| timestamp_nanos(t).map_err(|e| format!("{what} {id}: start_time {e}")))?;
    // In progress: no end yet, kept with zero duration.
    let end = match doc.get("end_time") {
        None | Some(Value::Null) => start,
        Some(t) => timestamp_nanos(t).map_err(|e| format!("{what} {id}: end_time {e}"))?,
    };
    let own_name = str_field(doc, "name").unwrap_or("unknown");
    let namespace = str_field(doc, "namespace");
    let remote = role == Role::Subsegment && matches!(namespace, Some("remote" | "aws"));
    let kind = match role {
        Role::Segment => SpanKind::Server,
        Role::Subsegment if remote => SpanKind::Client,
        Role::Subsegment => SpanKind::Internal,
    };
    let flag = |key: &str| matches!(doc.get(key), Some(Value::Bool(true)));
    let status = if flag("error") || flag("fault") || flag("throttle") {
        Status::Error
    } else {
        Status::Unset
    };
    let (name, attrs) = describe(doc, own_name, role, remote, strings);
    out.push(TracedSpan {
        trace_id: context.trace_id,
        span: Span {
            span_id,
            parent_id: parent,
            start,
            end,
            service: context.service,
            name,
            kind,
            status,
            id_sharing: crate::model::IdSharing::Own,
            service_from: crate::model::ServiceFrom::Own,
            attrs,
            links: None,
            trace_label: context.label,
            origin: crate::model::Origin::UNKNOWN,
        },
    });
    if let Some(Value::Array(subsegments)) = doc.get("subsegments") {
        if depth >= MAX_DEPTH {
            return Err(format!("subsegments nested deeper than {MAX_DEPTH} levels"));
        }
        for sub in subsegments {
            let sub = sub
                .as_object()
                .ok_or_else(|| format!("a subsegment of {id} is not an object"))?;
            convert(
                sub,
                context,
                strings,
                Some(span_id),
                Role::Subsegment,
                out,
                depth + 1,
            )?;
        }
    }
    Ok(())
}

/// The operation name and attributes of a (sub)segment named `name`.
fn describe(
    doc: &Map<String, Value>,
    name: &str,
    role: Role,
    remote: bool,
    strings: &Interner,
) -> (Sym, Option<AttrsId>) {
    let mut attrs = AttrsBuilder::default();
    let member = |key: &str| doc.get(key).and_then(Value::as_object);
    let request = member("http")
        .and_then(|http| http.get("request"))
        .and_then(Value::as_object);
    let method = request.and_then(|r| str_field(r, "method"));
    let url = request.and_then(|r| str_field(r, "url"));
    if let Some(method) = method {
        attrs.imply(strings, AttrKey::HttpMethod, method);
    }
    if let Some(url) = url {
        attrs.imply(strings, AttrKey::UrlFull, url);
    }
    if let Some(sql) = member("sql") {
        if let Some(query) = str_field(sql, "sanitized_query") {
            attrs.imply(strings, AttrKey::DbStatement, query);
        }
        if let Some(system) = str_field(sql, "database_type") {
            attrs.imply(strings, AttrKey::DbSystem, system.to_ascii_lowercase());
        }
    }
    if remote {
        attrs.imply(strings, AttrKey::PeerService, name);
    }
    let operation = member("aws").and_then(|aws| str_field(aws, "operation"));
    let op = match (role, method, url, operation) {
        // By the path's shape: X-Ray records the URL called, ids and all,
        // and one operation per order number or user id would leave every
        // operation a single call. From the shape cache, so that a path
        // called again is not shaped again.
        (Role::Segment, Some(method), Some(url), _) => {
            shape_cache::http(strings, Some(method), url_path(url))
        }
        (_, _, _, Some(operation)) => strings.intern(&format!("{name} {operation}")),
        _ => strings.intern(name),
    };
    (op, attrs.finish(strings))
}

/// The path of a URL, without scheme, host, query or fragment (`/` when
/// it has none).
fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| {
        rest.find('/').map_or("", |slash| &rest[slash..])
    });
    let path = rest.split(['?', '#']).next().unwrap_or("");
    if path.is_empty() { "/" } else { path }
}

#[cfg(test)]
mod tests;
