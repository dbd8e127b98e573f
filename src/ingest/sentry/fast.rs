//! The typed event of [`super::typed`] read with the JSON scanner
//! ([`crate::ingest::json_scan`]) rather than serde: every Sentry record's
//! first try. It reads what the serde model reads, as strictly: objects
//! only where a message belongs, a member given twice refused, members no
//! field names checked as a `Value` parse checks them, numbers made the
//! `Value` numbers serde makes. It gives up wherever serde would fail, and
//! on what the scanner declines; the record then takes the serde path.

use std::borrow::Cow;

use serde_json::{Number, Value};

use super::time::decimal_number_nanos;
use super::typed::{
    Contexts, Entry, EntryData, Event, Link, Members, Sdk, Seen, Span, Time, TraceContext,
};
use super::{Member, Scalar};
use crate::ingest::ascii::ascii;
use crate::ingest::json_records::parse;
use crate::ingest::json_scan::{self, Check, Given, Scanner, whole};
use crate::ingest::json_strict::{Object, Text};
use crate::ingest::room::Room;

/// One event object.
pub(super) fn event(bytes: &[u8]) -> serde_json::Result<Object<Event<'_>>> {
    whole(bytes, read_event).map_or_else(|| parse(bytes), |e| Ok(Object(e)))
}

fn text<'a>(s: &mut Scanner<'a>) -> Option<Option<Text<'a>>> {
    Some(s.nullable_string()?.map(Text))
}

/// A number as the `Value` serde makes of it.
fn number(s: &mut Scanner<'_>) -> Option<Value> {
    Some(match s.number()? {
        json_scan::Number::U64(n) => Value::Number(n.into()),
        json_scan::Number::I64(n) => Value::Number(n.into()),
        json_scan::Number::F64(n) => Number::from_f64(n).map_or(Value::Null, Value::Number),
    })
}

/// A `data` or `tags` value, a service candidate: any JSON, as
/// [`Scalar`]'s serde visitor keeps it (arrays and objects checked, kept
/// as null).
fn scalar<'a>(s: &mut Scanner<'a>) -> Option<Scalar<'a>> {
    Some(match s.peek()? {
        b'"' => Scalar::Text(match s.compact_string() {
            Some(text) => Cow::Borrowed(text),
            None => s.string()?,
        }),
        b'n' => {
            s.null()?;
            Scalar::Other(Value::Null)
        }
        b't' | b'f' => Scalar::Other(Value::Bool(s.boolean()?)),
        b'[' | b'{' => {
            s.skip_checked()?;
            Scalar::Other(Value::Null)
        }
        _ => Scalar::Other(number(s)?),
    })
}

/// A time: a number, a string or a boolean (see [`Time`]). Seconds as
/// SDKs write them are taken without the float: parsing it, making it a
/// `Value` and splitting it again were 4% of a Sentry read.
fn time(s: &mut Scanner<'_>) -> Option<Time> {
    if s.peek()?.is_ascii_digit()
        && let Some(nanos) = s.attempt(|s| {
            let (whole, fraction, digits) = s.compact_decimal()?;
            decimal_number_nanos(whole, fraction, digits)
        })
    {
        return Some(Time::Nanos(nanos));
    }
    Some(match s.peek()? {
        b'"' => Time::Value(Value::String(s.string()?.into_owned())),
        b't' | b'f' => Time::Value(Value::Bool(s.boolean()?)),
        // A non-finite number cannot come out of JSON text.
        _ => match number(s)? {
            Value::Number(n) => Time::number(n),
            _ => return None,
        },
    })
}

pub(super) fn read_event<'a>(s: &mut Scanner<'a>) -> Option<Event<'a>> {
    let mut e = Event {
        kind: None,
        event_id: Seen::default(),
        event_id_api: Seen::default(),
        start_timestamp: None,
        start_timestamp_api: None,
        timestamp: None,
        end_timestamp: None,
        transaction: None,
        title: None,
        project_name: None,
        project_slug: None,
        project: None,
        project_id: None,
        project_id_api: None,
        server_name: None,
        sdk: None,
        contexts: None,
        spans: None,
        entries: None,
    };
    let mut seen = Given::default();
    s.object(|s, name| {
        match name {
            b"type" => {
                seen.first(0)?;
                e.kind = text(s)?;
            }
            b"event_id" | b"eventID" => {
                seen.first(if name == b"event_id" { 1 } else { 2 })?;
                s.skip_checked()?;
                *(if name == b"event_id" {
                    &mut e.event_id
                } else {
                    &mut e.event_id_api
                }) = Seen(true);
            }
            b"start_timestamp" => {
                seen.first(3)?;
                e.start_timestamp = Some(s.nullable(time)?);
            }
            b"startTimestamp" => {
                seen.first(4)?;
                e.start_timestamp_api = Some(s.nullable(time)?);
            }
            b"timestamp" => {
                seen.first(5)?;
                e.timestamp = s.nullable(time)?;
            }
            b"endTimestamp" => {
                seen.first(6)?;
                e.end_timestamp = s.nullable(time)?;
            }
            b"transaction" => {
                seen.first(7)?;
                e.transaction = text(s)?;
            }
            b"title" => {
                seen.first(8)?;
                e.title = text(s)?;
            }
            b"project_name" => {
                seen.first(9)?;
                e.project_name = s.nullable(scalar)?;
            }
            b"projectSlug" => {
                seen.first(10)?;
                e.project_slug = s.nullable(scalar)?;
            }
            b"project" => {
                seen.first(11)?;
                e.project = s.nullable(scalar)?;
            }
            b"project_id" => {
                seen.first(12)?;
                e.project_id = s.nullable(scalar)?;
            }
            b"projectID" => {
                seen.first(13)?;
                e.project_id_api = s.nullable(scalar)?;
            }
            b"server_name" => {
                seen.first(14)?;
                e.server_name = s.nullable(scalar)?;
            }
            b"sdk" => {
                seen.first(15)?;
                e.sdk = s.nullable(read_sdk)?.map(Object);
            }
            b"contexts" => {
                seen.first(16)?;
                e.contexts = s.nullable(read_contexts)?.map(Object);
            }
            b"spans" => {
                seen.first(17)?;
                e.spans = s.nullable(spans)?;
            }
            b"entries" => {
                seen.first(18)?;
                e.entries = s.nullable(|s| {
                    let mut entries = Vec::new();
                    s.array(|s| {
                        entries.push(Object(read_entry(s)?));
                        Some(())
                    })?;
                    Some(entries)
                })?;
            }
            _ => s.skip_checked()?,
        }
        Some(())
    })?;
    Some(e)
}

fn read_sdk<'a>(s: &mut Scanner<'a>) -> Option<Sdk<'a>> {
    let name = s.member(b"name", Check::Value, |s| s.nullable(scalar))?;
    Some(Sdk {
        name: name.flatten(),
    })
}

fn read_contexts<'a>(s: &mut Scanner<'a>) -> Option<Contexts<'a>> {
    let trace = s.member(b"trace", Check::Value, |s| {
        s.nullable(read_trace_context).map(|t| t.map(Object))
    })?;
    Some(Contexts {
        trace: trace.flatten(),
    })
}

fn read_trace_context<'a>(s: &mut Scanner<'a>) -> Option<TraceContext<'a>> {
    let mut t = TraceContext {
        trace_id: None,
        span_id: None,
        parent_span_id: None,
        op: None,
        status: None,
        data: None,
        links: None,
    };
    let mut seen = Given::default();
    s.object(|s, name| {
        match name {
            b"trace_id" => {
                seen.first(0)?;
                t.trace_id = text(s)?;
            }
            b"span_id" => {
                seen.first(1)?;
                t.span_id = text(s)?;
            }
            b"parent_span_id" => {
                seen.first(2)?;
                t.parent_span_id = text(s)?;
            }
            b"op" => {
                seen.first(3)?;
                t.op = text(s)?;
            }
            b"status" => {
                seen.first(4)?;
                t.status = text(s)?;
            }
            b"data" => {
                seen.first(5)?;
                t.data = s.nullable(members)?;
            }
            b"links" => {
                seen.first(6)?;
                t.links = s.nullable(links)?;
            }
            _ => s.skip_checked()?,
        }
        Some(())
    })?;
    Some(t)
}

fn spans<'a>(s: &mut Scanner<'a>) -> Option<Vec<Object<Span<'a>>>> {
    let mut spans = EVENT_SPANS.with(Room::vec);
    s.array(|s| {
        // Read in its place: made on the stack and moved into the vector,
        // a span (about 300 bytes) was copied three times over.
        spans.push(Object(empty_span()));
        read_span(s, &mut spans.last_mut()?.0)
    })?;
    EVENT_SPANS.with(|room| room.held(&mut spans));
    Some(spans)
}

thread_local! {
    /// Room for an event's spans: up to 256 KiB of them ahead.
    static EVENT_SPANS: Room = const { Room::new((256 << 10) / size_of::<Object<Span<'static>>>()) };
    /// Room for the members kept of a span's `data` or `tags`: few, held
    /// until the event is read.
    static KEPT_MEMBERS: Room = const { Room::new(16) };
}

fn empty_span<'a>() -> Span<'a> {
    Span {
        span_id: None,
        trace_id: None,
        parent_span_id: None,
        op: None,
        description: None,
        status: None,
        start_timestamp: None,
        timestamp: None,
        data: None,
        tags: None,
        links: None,
    }
}

/// The span members [`read_span`] reads, by what it reads them into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SpanField {
    SpanId,
    TraceId,
    ParentSpanId,
    Op,
    Description,
    Status,
    Start,
    End,
    Data,
    Tags,
    Links,
    /// A member skipped (checked).
    Other,
}

impl SpanField {
    fn of(name: &[u8]) -> SpanField {
        match name {
            b"span_id" => SpanField::SpanId,
            b"trace_id" => SpanField::TraceId,
            b"parent_span_id" => SpanField::ParentSpanId,
            b"op" => SpanField::Op,
            b"description" => SpanField::Description,
            b"status" => SpanField::Status,
            b"start_timestamp" => SpanField::Start,
            b"timestamp" => SpanField::End,
            b"data" => SpanField::Data,
            b"tags" => SpanField::Tags,
            b"links" => SpanField::Links,
            _ => SpanField::Other,
        }
    }
}

/// A span's members in the order Sentry's SDKs write them.
const SPAN_MEMBERS: [(&[u8], SpanField); 11] = [
    (br#""span_id":"#, SpanField::SpanId),
    (br#""parent_span_id":"#, SpanField::ParentSpanId),
    (br#""trace_id":"#, SpanField::TraceId),
    (br#""op":"#, SpanField::Op),
    (br#""description":"#, SpanField::Description),
    (br#""start_timestamp":"#, SpanField::Start),
    (br#""timestamp":"#, SpanField::End),
    (br#""status":"#, SpanField::Status),
    (br#""tags":"#, SpanField::Tags),
    (br#""data":"#, SpanField::Data),
    (br#""same_process_as_parent":"#, SpanField::Other),
];

/// Reads a span into `span`, which is empty.
fn read_span<'a>(s: &mut Scanner<'a>, span: &mut Span<'a>) -> Option<()> {
    let mut seen = Given::default();
    s.object_expecting(&SPAN_MEMBERS, SpanField::of, |s, field| {
        match field {
            SpanField::SpanId => {
                seen.first(0)?;
                span.span_id = text(s)?;
            }
            SpanField::TraceId => {
                seen.first(1)?;
                span.trace_id = text(s)?;
            }
            SpanField::ParentSpanId => {
                seen.first(2)?;
                span.parent_span_id = text(s)?;
            }
            SpanField::Op => {
                seen.first(3)?;
                span.op = text(s)?;
            }
            SpanField::Description => {
                seen.first(4)?;
                span.description = text(s)?;
            }
            SpanField::Status => {
                seen.first(5)?;
                span.status = text(s)?;
            }
            SpanField::Start => {
                seen.first(6)?;
                span.start_timestamp = s.nullable(time)?;
            }
            SpanField::End => {
                seen.first(7)?;
                span.timestamp = s.nullable(time)?;
            }
            SpanField::Data => {
                seen.first(8)?;
                span.data = s.nullable(members)?;
            }
            SpanField::Tags => {
                seen.first(9)?;
                span.tags = s.nullable(members)?;
            }
            SpanField::Links => {
                seen.first(10)?;
                span.links = s.nullable(links)?;
            }
            SpanField::Other => s.skip_checked()?,
        }
        Some(())
    })
}

fn links<'a>(s: &mut Scanner<'a>) -> Option<Vec<Object<Link<'a>>>> {
    let mut links = Vec::new();
    s.array(|s| {
        let mut link = Link {
            trace_id: None,
            span_id: None,
        };
        let mut seen = Given::default();
        s.object(|s, name| {
            match name {
                b"trace_id" => {
                    seen.first(0)?;
                    link.trace_id = text(s)?;
                }
                b"span_id" => {
                    seen.first(1)?;
                    link.span_id = text(s)?;
                }
                _ => s.skip_checked()?,
            }
            Some(())
        })?;
        links.push(Object(link));
        Some(())
    })?;
    Some(links)
}

fn read_entry<'a>(s: &mut Scanner<'a>) -> Option<Entry<'a>> {
    let mut kind = None;
    let mut data = None;
    let mut seen = Given::default();
    s.object(|s, name| {
        match name {
            b"type" => {
                seen.first(0)?;
                kind = text(s)?;
            }
            b"data" => {
                seen.first(1)?;
                data = s.nullable(|s| match s.peek()? {
                    b'[' => spans(s).map(EntryData::Spans),
                    _ => s.skip_checked().map(|()| EntryData::Other),
                })?;
            }
            _ => s.skip_checked()?,
        }
        Some(())
    })?;
    Some(Entry { kind, data })
}

/// The members of a `data` or `tags` object that reading uses (see
/// [`super::kept`]); the others are checked and dropped, and a key given
/// twice keeps its last value, as a `Value` map does.
fn members<'a>(s: &mut Scanner<'a>) -> Option<Members<'a>> {
    let mut members: Vec<Member<'a>> = KEPT_MEMBERS.with(Room::vec);
    s.object(|s, key| {
        let Some(kept) = super::kept(key) else {
            return s.skip_checked();
        };
        // Member names are UTF-8 without escapes (the scanner's own check);
        // a kept one is ASCII, taken without a UTF-8 walk (which was 2% of
        // a Sentry read).
        let key = ascii(key)?;
        let value = scalar(s)?;
        match members.iter_mut().find(|m| m.key == key) {
            Some(member) => member.value = value,
            None => members.push(Member {
                key: Cow::Borrowed(key),
                kept,
                value,
            }),
        }
        Some(())
    })?;
    KEPT_MEMBERS.with(|room| room.held(&mut members));
    Some(Members(members))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A member matched as the bytes it is expected to be written as gets
    /// the field its name gets read the general way.
    #[test]
    fn expected_members_have_their_names_fields() {
        crate::ingest::json_scan::assert_fields_agree(&SPAN_MEMBERS, SpanField::of);
    }
}
