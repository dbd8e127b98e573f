//! A Sentry transaction event as serde types that borrow from the input and
//! keep only the members the reader uses, so that an event is read without
//! building a `serde_json::Value` tree (a map and a string for every member
//! of every span, most of which no analysis reads).
//!
//! The typed path must read exactly what the general path reads, or leave
//! the record to it. So:
//! - an event these types cannot describe (a member of an unexpected type,
//!   a span that is not an object, a member given twice) fails to parse
//!   here and is read again through the `Value` path, which skips and
//!   counts what is bad in it;
//! - objects are read as [`Object`]s, which accept what a `Value` parse
//!   accepts and nothing more (see [`crate::ingest::json_strict`]).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

use super::{EventParts, LinkParts, Member, Scalar, SpanParts, Stamp, TraceParts};
use crate::ingest::json_locate::Step;
use crate::ingest::json_strict::{Checked, Object, Text};
use crate::model::Nanos;

/// A transaction event, with the members the reader uses.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(super) struct Event<'a> {
    #[serde(default, borrow, rename = "type")]
    pub(super) kind: Option<Text<'a>>,
    // Presence marks an event, whatever the value (null too).
    #[serde(default)]
    pub(super) event_id: Seen,
    #[serde(default, rename = "eventID")]
    pub(super) event_id_api: Seen,
    /// `Some(None)` when present as null: it still marks an event.
    #[serde(default, deserialize_with = "present")]
    pub(super) start_timestamp: Option<Option<Time>>,
    #[serde(default, deserialize_with = "present", rename = "startTimestamp")]
    pub(super) start_timestamp_api: Option<Option<Time>>,
    #[serde(default)]
    pub(super) timestamp: Option<Time>,
    #[serde(default, rename = "endTimestamp")]
    pub(super) end_timestamp: Option<Time>,
    #[serde(default, borrow)]
    pub(super) transaction: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub(super) title: Option<Text<'a>>,
    // The service candidates, in [`super::SERVICE_KEYS`] order.
    #[serde(default, borrow)]
    pub(super) project_name: Option<Scalar<'a>>,
    #[serde(default, borrow, rename = "projectSlug")]
    pub(super) project_slug: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    pub(super) project: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    pub(super) project_id: Option<Scalar<'a>>,
    #[serde(default, borrow, rename = "projectID")]
    pub(super) project_id_api: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    pub(super) server_name: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    pub(super) sdk: Option<Object<Sdk<'a>>>,
    #[serde(default, borrow)]
    pub(super) contexts: Option<Object<Contexts<'a>>>,
    #[serde(default, borrow)]
    pub(super) spans: Option<Vec<Object<Span<'a>>>>,
    #[serde(default, borrow)]
    pub(super) entries: Option<Vec<Object<Entry<'a>>>>,
}

/// `sdk`: only its name is read.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(super) struct Sdk<'a> {
    #[serde(default, borrow)]
    pub(super) name: Option<Scalar<'a>>,
}

/// `contexts`: only `trace` is read.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(super) struct Contexts<'a> {
    #[serde(default, borrow)]
    pub(super) trace: Option<Object<TraceContext<'a>>>,
}

/// `contexts.trace`: the transaction's own span.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(super) struct TraceContext<'a> {
    #[serde(default, borrow)]
    pub(super) trace_id: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub(super) span_id: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub(super) parent_span_id: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub(super) op: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub(super) status: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub(super) data: Option<Members<'a>>,
    #[serde(default, borrow)]
    pub(super) links: Option<Vec<Object<Link<'a>>>>,
}

/// One `spans[]` entry.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(super) struct Span<'a> {
    #[serde(default, borrow)]
    pub(super) span_id: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub(super) trace_id: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub(super) parent_span_id: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub(super) op: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub(super) description: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub(super) status: Option<Text<'a>>,
    #[serde(default)]
    pub(super) start_timestamp: Option<Time>,
    #[serde(default)]
    pub(super) timestamp: Option<Time>,
    #[serde(default, borrow)]
    pub(super) data: Option<Members<'a>>,
    #[serde(default, borrow)]
    pub(super) tags: Option<Members<'a>>,
    #[serde(default, borrow)]
    pub(super) links: Option<Vec<Object<Link<'a>>>>,
}

/// A span link.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(super) struct Link<'a> {
    #[serde(default, borrow)]
    pub(super) trace_id: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub(super) span_id: Option<Text<'a>>,
}

/// One of the API export's `entries`.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(super) struct Entry<'a> {
    #[serde(default, borrow, rename = "type")]
    pub(super) kind: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub(super) data: Option<EntryData<'a>>,
}

impl<'a> Event<'a> {
    /// Whether the general path would take this object for an event (see
    /// [`super::is_event`]).
    pub(super) fn is_event(&self) -> bool {
        let marked = self.event_id.0
            || self.event_id_api.0
            || self.start_timestamp.is_some()
            || self.start_timestamp_api.is_some();
        let has_trace = self.contexts.as_ref().is_some_and(|c| c.0.trace.is_some());
        text(&self.kind) == Some("transaction")
            || (marked && (self.spans.is_some() || self.entries.is_some() || has_trace))
    }

    /// What reading the event uses (see [`super::value_event`]).
    pub(super) fn parts(&self) -> EventParts<'_> {
        let service = [
            &self.project_name,
            &self.project_slug,
            &self.project,
            &self.project_id,
            &self.project_id_api,
            &self.server_name,
        ]
        .into_iter()
        .find_map(|scalar| scalar.as_ref()?.text())
        .or_else(|| self.sdk.as_ref()?.0.name.as_ref()?.text())
        .unwrap_or(Cow::Borrowed("unknown"));
        let trace = self.contexts.as_ref().and_then(|c| c.0.trace.as_ref());
        let start = match (&self.start_timestamp, &self.start_timestamp_api) {
            (Some(Some(time)), _) => Some(("start_timestamp", time.stamp())),
            (_, Some(Some(time))) => Some(("startTimestamp", time.stamp())),
            _ => None,
        };
        let end = match (&self.timestamp, &self.end_timestamp) {
            (Some(time), _) => Some(("timestamp", time.stamp())),
            (None, Some(time)) => Some(("endTimestamp", time.stamp())),
            (None, None) => None,
        };
        EventParts {
            kind: self.kind.as_ref().map(|k| k.0.as_ref()),
            service,
            trace: trace.map(|t| t.0.parts()),
            transaction: text(&self.transaction),
            title: text(&self.title),
            start,
            end,
            spans: self.spans_of().map(|(spans, path)| {
                let spans = spans.iter().map(|span| Some(span.0.parts())).collect();
                (spans, path)
            }),
        }
    }

    /// The span list and its path (see [`super::spans_of`]).
    fn spans_of(&self) -> Option<(&[Object<Span<'a>>], Vec<Step<'static>>)> {
        if let Some(spans) = &self.spans {
            return Some((spans, vec![Step::Key("spans")]));
        }
        let entries = self.entries.as_ref()?;
        entries.iter().enumerate().find_map(|(k, entry)| {
            let Some(EntryData::Spans(spans)) = &entry.0.data else {
                return None;
            };
            (text_of(&entry.0.kind)? == "spans").then(|| (spans.as_slice(), super::entries_path(k)))
        })
    }
}

impl TraceContext<'_> {
    fn parts(&self) -> TraceParts<'_> {
        TraceParts {
            trace_id: text(&self.trace_id),
            span_id: text(&self.span_id),
            parent_span_id: text(&self.parent_span_id),
            op: text(&self.op),
            status: text(&self.status),
            data: members(&self.data),
            links: links(&self.links),
        }
    }
}

impl Span<'_> {
    fn parts(&self) -> SpanParts<'_> {
        SpanParts {
            span_id: text(&self.span_id),
            trace_id: text(&self.trace_id),
            own_trace_id: text_of(&self.trace_id),
            parent_span_id: text(&self.parent_span_id),
            op: text(&self.op),
            description: text(&self.description),
            status: text(&self.status),
            start: self
                .start_timestamp
                .as_ref()
                .map(|t| ("start_timestamp", t.stamp())),
            end: self.timestamp.as_ref().map(|t| ("timestamp", t.stamp())),
            data: members(&self.data),
            tags: members(&self.tags),
            links: links(&self.links),
        }
    }
}

/// A string member, empty or not.
fn text_of<'v>(member: &'v Option<Text<'_>>) -> Option<&'v str> {
    member.as_ref().map(|t| t.0.as_ref())
}

/// A string member when it is not empty, as [`super::str_field`] reads it.
fn text<'v>(member: &'v Option<Text<'_>>) -> Option<&'v str> {
    text_of(member).filter(|s| !s.is_empty())
}

fn members<'v>(members: &'v Option<Members<'_>>) -> Cow<'v, [Member<'v>]> {
    match members {
        Some(members) => Cow::Borrowed(&members.0),
        None => Cow::Borrowed(&[]),
    }
}

fn links<'v>(links: &'v Option<Vec<Object<Link<'_>>>>) -> Vec<LinkParts<'v>> {
    let links = links.iter().flatten();
    links
        .map(|l| (text(&l.0.trace_id), text(&l.0.span_id)))
        .collect()
}

/// A `data` or `tags` value: any JSON, as [`Scalar`] keeps it.
impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor<'a>(PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for ScalarVisitor<'a> {
            type Value = Scalar<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Text(Cow::Borrowed(text)))
            }

            fn visit_str<E>(self, text: &str) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Text(Cow::Owned(text.to_owned())))
            }

            // Numbers become what `Value` makes of them, so that they are
            // written back as the general path writes them.
            fn visit_bool<E>(self, b: bool) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Other(Value::Bool(b)))
            }

            fn visit_i64<E>(self, n: i64) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Other(Value::Number(n.into())))
            }

            fn visit_u64<E>(self, n: u64) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Other(Value::Number(n.into())))
            }

            fn visit_f64<E>(self, n: f64) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Other(
                    Number::from_f64(n).map_or(Value::Null, Value::Number),
                ))
            }

            fn visit_unit<E>(self) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Other(Value::Null))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Scalar<'a>, A::Error> {
                Checked.visit_seq(seq).map(|_| Scalar::Other(Value::Null))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar<'a>, A::Error> {
                Checked.visit_map(map).map(|_| Scalar::Other(Value::Null))
            }
        }

        deserializer.deserialize_any(ScalarVisitor(PhantomData))
    }
}

/// The members of a `data` or `tags` object that reading uses (see
/// [`super::kept`]); the others are checked and dropped. A key given twice
/// keeps its last value, as a `Value` map does.
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(super) struct Members<'a>(pub(super) Vec<Member<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for Members<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor<'a>(PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for MembersVisitor<'a> {
            type Value = Members<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'a>, A::Error> {
                let mut kept = Vec::new();
                while let Some(Text(key)) = map.next_key::<Text<'a>>()? {
                    let Some(read_for) = super::kept(key.as_bytes()) else {
                        map.next_value::<Checked>()?;
                        continue;
                    };
                    let value = map.next_value::<Scalar<'a>>()?;
                    match kept.iter_mut().find(|m: &&mut Member<'a>| m.key == key) {
                        Some(member) => member.value = value,
                        None => kept.push(Member {
                            key,
                            kept: read_for,
                            value,
                        }),
                    }
                }
                Ok(Members(kept))
            }
        }

        deserializer.deserialize_map(MembersVisitor(PhantomData))
    }
}

/// A time: a number, in nanoseconds as soon as it is read (every number
/// is one, see [`super::time::timestamp_nanos`]), or a string (a boolean
/// too, which the general path reports as a bad time, found in the `Value`
/// it is kept as). Anything else fails, for the general path to report.
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(super) enum Time {
    Nanos(Nanos),
    Value(Value),
}

impl Time {
    /// A number's time.
    pub(super) fn number(number: Number) -> Time {
        let value = Value::Number(number);
        match super::time::timestamp_nanos(&value) {
            Ok(nanos) => Time::Nanos(nanos),
            Err(_) => Time::Value(value),
        }
    }

    fn stamp(&self) -> Stamp<'_> {
        match self {
            Time::Nanos(nanos) => Stamp::Nanos(*nanos),
            Time::Value(value) => Stamp::Value(value),
        }
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TimeVisitor;

        impl Visitor<'_> for TimeVisitor {
            type Value = Time;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a string")
            }

            fn visit_str<E>(self, text: &str) -> Result<Time, E> {
                Ok(Time::Value(Value::String(text.to_owned())))
            }

            fn visit_bool<E>(self, b: bool) -> Result<Time, E> {
                Ok(Time::Value(Value::Bool(b)))
            }

            fn visit_i64<E>(self, n: i64) -> Result<Time, E> {
                Ok(Time::number(n.into()))
            }

            fn visit_u64<E>(self, n: u64) -> Result<Time, E> {
                Ok(Time::number(n.into()))
            }

            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Time, E> {
                Number::from_f64(n)
                    .map(Time::number)
                    .ok_or_else(|| E::custom("not a finite number"))
            }
        }

        deserializer.deserialize_any(TimeVisitor)
    }
}

/// For a member whose presence counts even when it is null.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<Time>>, D::Error> {
    Option::<Time>::deserialize(deserializer).map(Some)
}

/// Whether a member is present: any value, null too.
#[derive(Default)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(super) struct Seen(pub(super) bool);

impl<'de> Deserialize<'de> for Seen {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Checked::deserialize(deserializer).map(|_| Seen(true))
    }
}

/// An entry's `data`: the span list when it is an array (of span objects;
/// any other array fails, for the general path to read), else nothing.
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(super) enum EntryData<'a> {
    Spans(Vec<Object<Span<'a>>>),
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for EntryData<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntryDataVisitor<'a>(PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for EntryDataVisitor<'a> {
            type Value = EntryData<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_bool<E>(self, _: bool) -> Result<EntryData<'a>, E> {
                Ok(EntryData::Other)
            }

            fn visit_i64<E>(self, _: i64) -> Result<EntryData<'a>, E> {
                Ok(EntryData::Other)
            }

            fn visit_u64<E>(self, _: u64) -> Result<EntryData<'a>, E> {
                Ok(EntryData::Other)
            }

            fn visit_f64<E>(self, _: f64) -> Result<EntryData<'a>, E> {
                Ok(EntryData::Other)
            }

            fn visit_str<E>(self, _: &str) -> Result<EntryData<'a>, E> {
                Ok(EntryData::Other)
            }

            fn visit_unit<E>(self) -> Result<EntryData<'a>, E> {
                Ok(EntryData::Other)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<EntryData<'a>, A::Error> {
                let mut spans = Vec::new();
                while let Some(span) = seq.next_element()? {
                    spans.push(span);
                }
                Ok(EntryData::Spans(spans))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<EntryData<'a>, A::Error> {
                Checked.visit_map(map).map(|_| EntryData::Other)
            }
        }

        deserializer.deserialize_any(EntryDataVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Kept, SentryReader, read_input};
    use super::*;
    use crate::ingest::json_records::{Record, parse};
    use crate::ingest::{Format, Framing, Input, ReadError, Reader, Sink};
    use crate::model::{AttrKey, Interner, Quality, TracedSpan};
    use serde_json::json;

    /// The Sentry reader with the typed path turned off.
    struct GeneralOnly;

    impl Reader for GeneralOnly {
        fn format(&self) -> Format {
            Format::Sentry
        }

        fn sniff(&self, head: &[u8]) -> bool {
            SentryReader.sniff(head)
        }

        fn framing(&self, head: &[u8]) -> Option<Framing> {
            SentryReader.framing(head)
        }

        fn read(&self, input: &Input<'_>, sink: &mut Sink<'_>) -> Result<(), ReadError> {
            read_input(input, sink, |_, _| false)
        }
    }

    type Read = Result<(Vec<TracedSpan>, Quality), String>;

    fn read(reader: &dyn Reader, strings: &Interner, bytes: &[u8], window: bool) -> Read {
        let input = Input {
            window,
            pieces: None,
            line_ends: None,
            name: "test-input",
            bytes,
        };
        let mut sink = Sink::new(input.name, strings);
        reader.read(&input, &mut sink).map_err(|e| e.to_string())?;
        Ok((sink.spans, sink.quality))
    }

    /// Whether the JSON scanner reads this line itself; when it does, it
    /// must read the event serde reads.
    fn scanned(line: &[u8]) -> bool {
        let Some(ours) = crate::ingest::json_scan::whole(line, super::super::fast::read_event)
        else {
            return false;
        };
        let serde = parse::<Object<Event<'_>>>(line);
        assert_eq!(
            format!("{:?}", Some(Object(ours))),
            format!("{:?}", serde.as_ref().ok()),
            "{}",
            String::from_utf8_lossy(line)
        );
        true
    }

    /// Reads `bytes` both ways, as a whole input and as a window of a
    /// stream, and asserts that the paths agree (and, line by line, that
    /// the scanner reads as serde does whatever it reads).
    fn assert_same(bytes: &[u8]) {
        for line in bytes.split(|b| *b == b'\n') {
            scanned(line);
        }
        scanned(bytes);
        let strings = Interner::new();
        for window in [false, true] {
            let typed = read(&SentryReader, &strings, bytes, window);
            let general = read(&GeneralOnly, &strings, bytes, window);
            assert_eq!(
                typed,
                general,
                "window {window}: {}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    /// Whether the typed path reads this record itself.
    fn typed_reads(bytes: &[u8]) -> bool {
        let strings = Interner::new();
        let mut sink = Sink::new("test-input", &strings);
        let record = Record { line: 1, bytes };
        let taken = super::super::read_typed(&record, &mut sink);
        assert!(taken || (sink.spans.is_empty() && sink.quality == Quality::default()));
        taken
    }

    /// An event with every member either path reads.
    fn template() -> Value {
        json!({"event_id": "e", "type": "transaction",
            "project": 1, "project_name": "p", "server_name": "s", "sdk": {"name": "n"},
            "transaction": "t", "title": "t", "start_timestamp": 1.5, "timestamp": "2.5",
            "startTimestamp": 1, "endTimestamp": 2,
            "contexts": {"trace": {"trace_id": "1", "span_id": "2", "parent_span_id": "3",
                "op": "http.server", "status": "ok", "data": {"http.route": "/r"},
                "links": [{"trace_id": "4", "span_id": "5"}]}, "os": {"name": "linux"}},
            "spans": [{"span_id": "6", "parent_span_id": "2", "trace_id": "1",
                "start_timestamp": 1.6, "timestamp": "1970-01-01T01:00:02.5+01:00",
                "op": "http.client", "description": "GET https://h/1/x?q",
                "status": "internal_error",
                "data": {"method": "GET", "url": "https://h/2", "db.system": "pg", "n": 1},
                "tags": {"peer.service": "x", "http.method": 7}, "links": [],
                "same_process_as_parent": true},
                {"span_id": "7", "parent_span_id": "9", "trace_id": "8", "op": "db",
                "description": "SELECT \"a\" FROM t WHERE id = 1", "start_timestamp": 1,
                "timestamp": 2, "data": {"db.system.name": "", "db.system": "pg"}}],
            "entries": [{"type": "spans", "data": [{"span_id": "a", "op": "db.redis",
                "description": "GET k", "start_timestamp": 1, "timestamp": 2}]}],
            "breadcrumbs": {"values": [{"message": "m", "level": "info"}]}})
    }

    #[test]
    fn the_template_is_read_by_the_typed_path() {
        let bytes = serde_json::to_vec(&template()).unwrap();
        assert!(typed_reads(&bytes));
        assert!(scanned(&bytes));
        assert!(scanned(&serde_json::to_vec_pretty(&template()).unwrap()));
        assert_same(&bytes);
        let (spans, _) = read(&SentryReader, &Interner::new(), &bytes, false).unwrap();
        assert_eq!(spans.len(), 3, "root and two spans");
    }

    #[test]
    fn paths_agree_on_every_odd_member() {
        for mutated in crate::ingest::json_scalars::mutations(&template()) {
            assert_same(&serde_json::to_vec(&mutated).unwrap());
            assert_same(&serde_json::to_vec_pretty(&mutated).unwrap());
        }
    }

    #[test]
    fn paths_agree_on_tricky_events() {
        let event = template().to_string();
        let body = &event[1..];
        let with = |member: &str| format!("{{{member},{body}");
        let mut entries_only = template();
        entries_only.as_object_mut().unwrap().remove("spans");
        let edited = |edit: &dyn Fn(&mut Value)| {
            let mut event = template();
            edit(&mut event);
            event.to_string()
        };
        let cases = [
            // Escapes make owned text; the key spells span_id.
            event.replace(r#""op":"db""#, r#""o\u0070":"d\u0062""#),
            event.replace(r#""span_id":"6""#, r#""span\u005fid":"6""#),
            // A key given twice keeps its last value, as in a `Value` map.
            event.replace(r#""db.system":"pg""#, r#""db.system":"a","db.system":"""#),
            event.replace(r#""db.system":"pg""#, r#""db.system":"","db.system":"b""#),
            // The first system key counts, though empty.
            event.replace(r#""method":"GET""#, r#""http.request.method":"","method":"GET""#),
            // Members given twice go to the general path.
            with(r#""spans":[]"#),
            with(r#""type":"error""#),
            // Checked like a `Value` would be.
            with(r#""zz":1e400"#),
            with(r#""zz":[-1e999]"#),
            with(r#""zz":"\ud800""#),
            with(r#""z\udc00":1"#),
            with(r#""zz":"\ud83d\ude00""#),
            with(&format!(r#""zz":{}{}"#, "[".repeat(126), "]".repeat(126))),
            with(&format!(r#""zz":{}{}"#, "[".repeat(127), "]".repeat(127))),
            with(&format!(r#""zz":{}{}"#, "[".repeat(129), "]".repeat(129))),
            with("\"zz\":\"a\u{1}b\""),
            format!("{event} x"),
            event[..event.len() / 2].to_string(),
            // Events inside other JSON, and what is no event.
            format!(r#"{{"cases": [{event}, {event}]}}"#),
            format!("[{event}]"),
            r#"{"hello": "world"}"#.to_string(),
            edited(&|e| drop(e.as_object_mut().unwrap().remove("spans"))),
            edited(&|e| drop(e.as_object_mut().unwrap().remove("contexts"))),
            edited(&|e| e["entries"][0]["type"] = json!("breadcrumbs")),
            edited(&|e| e["spans"] = json!({})),
            r#"{"event_id": null, "spans": [{"span_id": "1", "trace_id": "2", "start_timestamp": 1, "timestamp": 2}]}"#.to_string(),
            r#"{"start_timestamp": null, "spans": []}"#.to_string(),
            r#"{"event_id": 1, "spans": [{"span_id": "1", "parent_span_id": "5", "trace_id": "2", "start_timestamp": 1, "timestamp": 2}], "start_timestamp": 0.5, "timestamp": 3}"#.to_string(),
            // Ids: the event's wins, a span's own is compared with it.
            edited(&|e| e["spans"][1]["trace_id"] = json!("")),
            edited(&|e| e["spans"][1]["trace_id"] = json!(" 1 ")),
            edited(&|e| e["contexts"]["trace"]["trace_id"] = json!("0")),
            edited(&|e| e["contexts"]["trace"]["trace_id"] = json!(" t-1 ")),
            // Times out of bounds are counted at the event.
            edited(&|e| e["spans"][0]["timestamp"] = json!(1e12)),
        ];
        for case in &cases {
            assert_same(case.as_bytes());
            let lines = format!("{case}\n{event}\n{case}\n");
            assert_same(lines.as_bytes());
        }
        let mut invalid_utf8 = b"{\"zz\": \"\xff\",".to_vec();
        invalid_utf8.extend_from_slice(body.as_bytes());
        assert_same(&invalid_utf8);
    }

    #[test]
    fn odd_members_leave_the_event_to_the_general_path() {
        let event = template().to_string();
        let body = &event[1..];
        let with = |member: &str| format!("{{{member},{body}");
        let edited = |edit: &dyn Fn(&mut Value)| {
            let mut event = template();
            edit(&mut event);
            event.to_string()
        };
        assert!(typed_reads(event.as_bytes()));
        let declined = [
            edited(&|e| e["spans"][0]["span_id"] = json!(6)),
            edited(&|e| e["spans"][0]["tags"] = json!([])),
            edited(&|e| e["spans"][0]["start_timestamp"] = json!([1.6])),
            edited(&|e| e["sdk"] = json!("n")),
            // serde would read these arrays as structs, member by member.
            edited(&|e| *e = e.as_object().unwrap().values().cloned().collect()),
            edited(&|e| e["spans"][0] = json!(["6"])),
            edited(&|e| e["contexts"]["trace"] = json!(["1", "2"])),
            with(r#""spans":[]"#),
            with(r#""zz":1e400"#),
            with(r#""zz":"\ud800""#),
            with(&format!(r#""zz":{}{}"#, "[".repeat(129), "]".repeat(129))),
            r#"{"cases": []}"#.to_string(),
        ];
        for case in &declined {
            assert!(!typed_reads(case.as_bytes()), "{case}");
        }
    }

    #[test]
    fn committed_sentry_inputs_take_the_typed_path() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let files = [
            "cascade",
            "n_plus_one",
            "near_misses",
            "sequential",
            "slow_queries",
        ];
        for name in files {
            let path = root.join(format!("fixtures/sentry/{name}.jsonl"));
            let bytes = std::fs::read(&path).unwrap();
            for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                assert!(typed_reads(line), "{name}");
                assert!(scanned(line), "{name}");
            }
            assert_same(&bytes);
        }
        let oracles = root.join("tests/oracles/sentry");
        for entry in std::fs::read_dir(oracles).unwrap() {
            assert_same(&std::fs::read(entry.unwrap().path()).unwrap());
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]

        /// Real events with a few bytes edited: whatever the scanner still
        /// reads, serde reads the same (`scanned` asserts it).
        #[test]
        fn edited_fixture_events_read_as_serde_reads_them(
            bytes in crate::ingest::test_support::json_text::edited(
                crate::ingest::test_support::json_text::fixture_lines("sentry", 20),
            ),
        ) {
            scanned(&bytes);
        }
    }

    #[test]
    fn members_keep_what_reading_uses_and_their_last_value() {
        let text = r#"{"db.system": "a", "x": [1e300], "db.system": 7, "url": "u\"v", "n": 1}"#;
        let members: Members<'_> = parse(text.as_bytes()).unwrap();
        assert_eq!(
            members.0,
            [
                Member {
                    key: Cow::Borrowed("db.system"),
                    kept: Kept::Attr(AttrKey::DbSystem, false),
                    value: Scalar::Other(json!(7)),
                },
                Member {
                    key: Cow::Borrowed("url"),
                    kept: Kept::Naming,
                    value: Scalar::Text(Cow::Owned("u\"v".into())),
                },
            ]
        );
        assert!(parse::<Members<'_>>(b"[]").is_err());
    }
}
