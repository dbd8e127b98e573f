//! The typed model of [`super::typed`] read with the JSON scanner
//! ([`crate::ingest::json_scan`]) rather than serde: every Jaeger trace's
//! (and cut-off span's) first try. It reads what the serde model reads,
//! as strictly: objects only where a message belongs, members no field
//! names checked as a `Value` parse checks them, times and tag values kept
//! as their raw text, a tag's value checked and dropped when its key is
//! one no analysis reads. It gives up wherever serde would fail, and on
//! what the scanner declines; the record then takes the serde path, which
//! says what is wrong and where.

use std::borrow::Cow;

use rustc_hash::FxHashMap;

use super::TagUse;
use super::typed::{Object, Process, Raw, Reference, Span, Tag, Tags, Trace};
use crate::ingest::json_records::parse;
use crate::ingest::json_scan::{Given, Scanner, whole};
use crate::ingest::room::Room;

/// One trace object.
pub(super) fn trace(bytes: &[u8]) -> serde_json::Result<Object<Trace<'_>>> {
    whole(bytes, read_trace).map_or_else(|| parse(bytes), |t| Ok(Object(t)))
}

/// One span object (of a trace read in parts).
pub(super) fn span(bytes: &[u8]) -> serde_json::Result<Object<Span<'_>>> {
    whole(bytes, read_span).map_or_else(|| parse(bytes), |s| Ok(Object(s)))
}

fn text<'a>(s: &mut Scanner<'a>) -> Option<Option<Cow<'a, str>>> {
    s.nullable_string()
}

/// A value's text or `null`; a plain one right after its colon (the
/// times, and nearly every tag value kept) matched compact.
fn raw<'a>(s: &mut Scanner<'a>) -> Option<Option<Raw<'a>>> {
    if let Some(text) = s.compact_raw() {
        return Some(Some(Raw {
            text,
            unescaped: true,
        }));
    }
    s.nullable(|s| {
        s.raw().map(|text| Raw {
            text,
            unescaped: false,
        })
    })
}

fn read_trace<'a>(s: &mut Scanner<'a>) -> Option<Trace<'a>> {
    let mut trace_id = None;
    let mut spans = None;
    let mut processes = None;
    let mut seen = Given::default();
    s.object(|s, name| {
        match name {
            b"traceID" => {
                seen.first(0)?;
                trace_id = text(s)?;
            }
            b"spans" => {
                seen.first(1)?;
                let mut list = TRACE_SPANS.with(Room::vec);
                s.array(|s| {
                    list.push(Object(read_span(s)?));
                    Some(())
                })?;
                TRACE_SPANS.with(|room| room.held(&mut list));
                spans = Some(list);
            }
            b"processes" => {
                seen.first(2)?;
                processes = s.nullable(read_processes)?;
            }
            _ => s.skip_checked()?,
        }
        Some(())
    })?;
    Some(Trace {
        trace_id,
        // Required: without it serde refuses the trace.
        spans: spans?,
        processes,
    })
}

/// Processes by id; a repeated id replaces the one before, as a map does.
fn read_processes<'a>(
    s: &mut Scanner<'a>,
) -> Option<FxHashMap<Cow<'a, str>, Option<Object<Process<'a>>>>> {
    let mut processes = FxHashMap::default();
    s.object(|s, id| {
        let process = s.nullable(read_process)?.map(Object);
        // Member names are UTF-8 without escapes (the scanner's own check).
        processes.insert(Cow::Borrowed(std::str::from_utf8(id).ok()?), process);
        Some(())
    })?;
    Some(processes)
}

fn read_process<'a>(s: &mut Scanner<'a>) -> Option<Process<'a>> {
    let mut service_name = None;
    let mut seen = Given::default();
    s.object(|s, name| {
        match name {
            b"serviceName" => {
                seen.first(0)?;
                service_name = text(s)?;
            }
            b"tags" => skip_tags(s)?,
            _ => s.skip_checked()?,
        }
        Some(())
    })?;
    Some(Process { service_name })
}

/// A value no analysis reads, accepted as [`Scanner::skip_checked`]
/// accepts it; an array of tags in their compact form is matched a tag at
/// a time ([`compact_tag`]). Skipped member by member, a process's tags
/// were 7% of the Jaeger read's instructions.
fn skip_tags(s: &mut Scanner<'_>) -> Option<()> {
    if s.peek()? != b'[' {
        return s.skip_checked();
    }
    s.array(|s| {
        if s.attempt(|s| compact_tag(s, |_| None)).is_none() {
            s.skip_checked()?;
        }
        Some(())
    })
}

fn read_span<'a>(s: &mut Scanner<'a>) -> Option<Span<'a>> {
    let mut span = Span {
        span_id: None,
        trace_id: None,
        start: None,
        duration: None,
        references: None,
        parent_span_id: None,
        tags: None,
        operation_name: None,
        process: None,
        process_id: None,
    };
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
            SpanField::Start => {
                seen.first(2)?;
                span.start = raw(s)?;
            }
            SpanField::Duration => {
                seen.first(3)?;
                span.duration = raw(s)?;
            }
            SpanField::References => {
                seen.first(4)?;
                span.references = s.nullable(|s| {
                    let mut references = Vec::new();
                    s.array(|s| {
                        references.push(Object(read_reference(s)?));
                        Some(())
                    })?;
                    Some(references)
                })?;
            }
            SpanField::ParentSpanId => {
                seen.first(5)?;
                span.parent_span_id = text(s)?;
            }
            SpanField::Tags => {
                seen.first(6)?;
                span.tags = s.nullable(read_tags)?;
            }
            SpanField::OperationName => {
                seen.first(7)?;
                span.operation_name = text(s)?;
            }
            SpanField::Process => {
                seen.first(8)?;
                span.process = s.nullable(read_process)?.map(Object);
            }
            SpanField::ProcessId => {
                seen.first(9)?;
                span.process_id = text(s)?;
            }
            SpanField::Other => s.skip_checked()?,
        }
        Some(())
    })?;
    Some(span)
}

/// The span members [`read_span`] reads, by what it reads them into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SpanField {
    SpanId,
    TraceId,
    Start,
    Duration,
    References,
    ParentSpanId,
    Tags,
    OperationName,
    Process,
    ProcessId,
    /// A member skipped (checked).
    Other,
}

impl SpanField {
    fn of(name: &[u8]) -> SpanField {
        match name {
            b"spanID" => SpanField::SpanId,
            b"traceID" => SpanField::TraceId,
            b"startTime" => SpanField::Start,
            b"duration" => SpanField::Duration,
            b"references" => SpanField::References,
            b"parentSpanID" => SpanField::ParentSpanId,
            b"tags" => SpanField::Tags,
            b"operationName" => SpanField::OperationName,
            b"process" => SpanField::Process,
            b"processID" => SpanField::ProcessId,
            _ => SpanField::Other,
        }
    }
}

/// A span's members in the order the query API writes them (Jaeger UI's
/// download too), `flags` where some exporters add it.
const SPAN_MEMBERS: [(&[u8], SpanField); 11] = [
    (br#""traceID":"#, SpanField::TraceId),
    (br#""spanID":"#, SpanField::SpanId),
    (br#""operationName":"#, SpanField::OperationName),
    (br#""references":"#, SpanField::References),
    (br#""flags":"#, SpanField::Other),
    (br#""startTime":"#, SpanField::Start),
    (br#""duration":"#, SpanField::Duration),
    (br#""tags":"#, SpanField::Tags),
    (br#""logs":"#, SpanField::Other),
    (br#""processID":"#, SpanField::ProcessId),
    (br#""warnings":"#, SpanField::Other),
];

/// The reference members [`read_reference`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReferenceField {
    RefType,
    TraceId,
    SpanId,
    /// A member skipped (checked).
    Other,
}

impl ReferenceField {
    fn of(name: &[u8]) -> ReferenceField {
        match name {
            b"refType" => ReferenceField::RefType,
            b"traceID" => ReferenceField::TraceId,
            b"spanID" => ReferenceField::SpanId,
            _ => ReferenceField::Other,
        }
    }
}

/// A reference's members in the order the query API writes them.
const REFERENCE_MEMBERS: [(&[u8], ReferenceField); 3] = [
    (br#""refType":"#, ReferenceField::RefType),
    (br#""traceID":"#, ReferenceField::TraceId),
    (br#""spanID":"#, ReferenceField::SpanId),
];

fn read_reference<'a>(s: &mut Scanner<'a>) -> Option<Reference<'a>> {
    let mut reference = Reference {
        ref_type: None,
        trace_id: None,
        span_id: None,
    };
    let mut seen = Given::default();
    s.object_expecting(&REFERENCE_MEMBERS, ReferenceField::of, |s, field| {
        match field {
            ReferenceField::RefType => {
                seen.first(0)?;
                reference.ref_type = text(s)?;
            }
            ReferenceField::TraceId => {
                seen.first(1)?;
                reference.trace_id = text(s)?;
            }
            ReferenceField::SpanId => {
                seen.first(2)?;
                reference.span_id = text(s)?;
            }
            ReferenceField::Other => s.skip_checked()?,
        }
        Some(())
    })?;
    Some(reference)
}

/// Tags, keeping those [`Tags`] keeps.
fn read_tags<'a>(s: &mut Scanner<'a>) -> Option<Tags<'a>> {
    let mut tags = SPAN_TAGS.with(Room::vec);
    s.array(|s| {
        let tag = read_tag(s)?;
        if tag.read.is_some() || tag.value.is_some() {
            tags.push(tag);
        }
        Some(())
    })?;
    SPAN_TAGS.with(|room| room.held(&mut tags));
    Some(Tags(tags))
}

thread_local! {
    /// Room for a trace's spans: up to 256 KiB of them ahead.
    static TRACE_SPANS: Room = const { Room::new((256 << 10) / size_of::<Object<Span<'static>>>()) };
    /// Room for a span's kept tags: a span's are few, and it holds them
    /// until its trace is read.
    static SPAN_TAGS: Room = const { Room::new(32) };
}

/// One tag, as [`Tag`]'s serde visitor reads it: a value after a key no
/// analysis reads is checked and dropped; any other is kept raw.
fn read_tag<'a>(s: &mut Scanner<'a>) -> Option<Tag<'a>> {
    if let Some(tag) = s.attempt(|s| compact_tag(s, super::read_tag)) {
        return Some(tag);
    }
    tag_members(s)
}

/// [`read_tag`] member by member, in any order and spacing.
fn tag_members<'a>(s: &mut Scanner<'a>) -> Option<Tag<'a>> {
    let mut tag = Tag {
        key: None,
        read: None,
        value: None,
    };
    let mut seen = Given::default();
    s.object(|s, name| {
        match name {
            b"key" => {
                seen.first(0)?;
                tag.key = text(s)?;
                tag.read = tag.key.as_deref().and_then(super::read_tag);
            }
            b"value" => {
                seen.first(1)?;
                if seen.has(0) && tag.key.is_some() && tag.read.is_none() {
                    s.skip_checked()?;
                } else {
                    tag.value = raw(s)?;
                }
            }
            _ => s.skip_checked()?,
        }
        Some(())
    })?;
    Some(tag)
}

/// A tag as the query API writes it, `{"key":"…","type":"…","value":…}`
/// with no whitespace and an unescaped key and type, which is nearly every
/// one: matched as fixed runs of bytes rather than member by member.
/// `None` for any other form (or a bad value), to be read again the
/// general way; what it accepts, the general way reads alike. `read`
/// says what a key's value is read as, if it is kept (see
/// `super::read_tag`).
#[inline]
fn compact_tag<'a>(s: &mut Scanner<'a>, read: impl Fn(&str) -> Option<TagUse>) -> Option<Tag<'a>> {
    if !s.compact(br#"{"key":""#) {
        return None;
    }
    let key = s.compact_rest()?;
    if !s.compact(br#","type":""#) {
        return None;
    }
    // The type is read by no one; nearly every tag's is "string", matched
    // as a word rather than searched for its closing quote.
    if !s.compact(br#"string""#) {
        s.compact_rest()?;
    }
    if !s.compact(br#","value":"#) {
        return None;
    }
    let read = read(key);
    let value = if read.is_some() {
        raw(s)?
    } else {
        // Most values no analysis reads are plain strings.
        let plain = s.compact_string();
        if plain.is_none() {
            s.skip_checked()?;
        }
        None
    };
    s.compact(b"}").then_some(Tag {
        key: Some(Cow::Borrowed(key)),
        read,
        value,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::ingest::test_support::json_text::{
        debug, edited, fixture_files, junk, object, pick,
    };

    /// A member matched as the bytes it is expected to be written as gets
    /// the field its name gets read the general way.
    #[test]
    fn expected_members_have_their_names_fields() {
        crate::ingest::json_scan::assert_fields_agree(&SPAN_MEMBERS, SpanField::of);
        crate::ingest::json_scan::assert_fields_agree(&REFERENCE_MEMBERS, ReferenceField::of);
    }

    fn id(bad: bool) -> BoxedStrategy<String> {
        pick(
            bad,
            &[
                "\"5b8efff798038103\"",
                "\"span-\\\"A\\\"\"",
                "null",
                "\"\"",
                "\"caf\\u00e9\"",
            ],
            &["12", "[]", "\"\\ud83d\\ude00\""],
        )
    }

    fn raw_value(bad: bool) -> BoxedStrategy<String> {
        pick(
            bad,
            &[
                "1700000000000000",
                "\"1700000000000000\"",
                "1.5",
                "null",
                "[1, {\"a\": 2}]",
                "-0",
            ],
            // Kept raw, the last two read; checked (a dropped tag's), not.
            &["01", "[1,]", "1e400", "\"\\ud800\""],
        )
    }

    fn tag(bad: bool) -> BoxedStrategy<String> {
        let key = pick(
            bad,
            &[
                "\"http.method\"",
                "\"span.kind\"",
                "\"error\"",
                "\"otel.status_code\"",
                "\"x.unread\"",
                "null",
            ],
            &["5", "\"\\ud800\""],
        );
        let tag = object(
            bad,
            vec![
                (vec!["key"], key),
                (vec!["type"], pick(bad, &["\"string\""], &[])),
                (vec!["value"], raw_value(bad)),
            ],
        );
        prop_oneof![8 => tag, 1 => pick(bad, &["{}"], &["null", "[]"])].boxed()
    }

    fn process(bad: bool) -> BoxedStrategy<String> {
        // Tags no analysis reads (a bad one must still be refused).
        let tags = prop::collection::vec(tag(bad), 0..4).prop_map(|t| format!("[{}]", t.join(",")));
        let process = object(
            bad,
            vec![
                (vec!["serviceName"], id(bad)),
                (vec!["tags"], prop_oneof![tags, junk(bad, true)].boxed()),
            ],
        );
        prop_oneof![4 => process, 1 => pick(bad, &["null"], &["[]"])].boxed()
    }

    fn span_text(bad: bool) -> BoxedStrategy<String> {
        let reference = object(
            bad,
            vec![
                (
                    vec!["refType"],
                    pick(bad, &["\"CHILD_OF\"", "\"FOLLOWS_FROM\""], &["1"]),
                ),
                (vec!["traceID"], id(bad)),
                (vec!["spanID"], id(bad)),
            ],
        );
        let references =
            prop::collection::vec(reference, 0..3).prop_map(|r| format!("[{}]", r.join(",")));
        let tags = prop::collection::vec(tag(bad), 0..4).prop_map(|t| format!("[{}]", t.join(",")));
        object(
            bad,
            vec![
                (vec!["spanID"], id(bad)),
                (vec!["traceID"], id(bad)),
                (vec!["startTime"], raw_value(bad)),
                (vec!["duration"], raw_value(bad)),
                (
                    vec!["references"],
                    prop_oneof![references, pick(bad, &["null"], &["{}"])].boxed(),
                ),
                (vec!["parentSpanID"], id(bad)),
                (
                    vec!["tags"],
                    prop_oneof![tags, pick(bad, &["null"], &["{}"])].boxed(),
                ),
                (vec!["operationName"], id(bad)),
                (vec!["process"], process(bad)),
                (vec!["processID"], id(bad)),
                (vec!["logs"], junk(bad, true)),
            ],
        )
    }

    fn trace_text(bad: bool) -> BoxedStrategy<String> {
        let spans =
            prop::collection::vec(span_text(bad), 0..3).prop_map(|s| format!("[{}]", s.join(",")));
        let processes = prop::collection::vec(
            (prop::sample::select(vec!["p1", "p2", "p1"]), process(bad)),
            0..3,
        )
        .prop_map(|p| {
            let members: Vec<String> = p.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
            format!("{{{}}}", members.join(","))
        });
        let trace = object(
            bad,
            vec![
                (vec!["traceID"], id(bad)),
                (
                    vec!["spans"],
                    if bad {
                        prop_oneof![8 => spans, 1 => Just("null".to_string())].boxed()
                    } else {
                        spans.boxed()
                    },
                ),
                (
                    vec!["processes"],
                    prop_oneof![processes, pick(bad, &["null"], &["[]"])].boxed(),
                ),
                (vec!["warnings"], junk(bad, true)),
            ],
        );
        if bad {
            trace
        } else {
            // `spans` is required.
            trace
                .prop_filter("has spans", |t| t.contains("\"spans\""))
                .boxed()
        }
    }

    /// The first traces of each bundled Jaeger fixture, each written as
    /// one compact object.
    fn fixture_traces() -> Vec<Vec<u8>> {
        let mut traces = Vec::new();
        for path in fixture_files("jaeger") {
            let bytes = std::fs::read(path).expect("a fixture");
            let value: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
            let data = value["data"].as_array().expect("a data array");
            traces.extend(
                data.iter()
                    .take(10)
                    .map(|t| serde_json::to_vec(t).expect("JSON")),
            );
        }
        traces
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// What the scanner reads, serde reads the same; what it gives up
        /// on is left to serde.
        #[test]
        fn the_scanner_reads_traces_as_serde_reads_them(text in trace_text(true)) {
            if let Some(ours) = whole(text.as_bytes(), read_trace) {
                let serde = parse::<Object<Trace<'_>>>(text.as_bytes());
                prop_assert_eq!(debug(Some(&Object(ours))), debug(serde.as_ref().ok()), "{}", text);
            }
        }

        /// Traces of every ordinary spelling are read by the scanner.
        #[test]
        fn ordinary_traces_never_fall_back(text in trace_text(false)) {
            let ours = whole(text.as_bytes(), read_trace).map(Object);
            prop_assert!(ours.is_some(), "{}", text);
            let serde = parse::<Object<Trace<'_>>>(text.as_bytes());
            prop_assert_eq!(debug(ours.as_ref()), debug(serde.as_ref().ok()));
        }

        /// Real traces (each fixture document's first few) with a few
        /// bytes edited: whatever the scanner still reads, serde reads the
        /// same.
        #[test]
        fn edited_fixture_traces_read_as_serde_reads_them(bytes in edited(fixture_traces())) {
            if let Some(ours) = whole(&bytes, read_trace) {
                let serde = parse::<Object<Trace<'_>>>(&bytes);
                prop_assert_eq!(debug(Some(&Object(ours))), debug(serde.as_ref().ok()));
            }
        }

        /// A span read alone likewise.
        #[test]
        fn the_scanner_reads_spans_as_serde_reads_them(text in span_text(true)) {
            if let Some(ours) = whole(text.as_bytes(), read_span) {
                let serde = parse::<Object<Span<'_>>>(text.as_bytes());
                prop_assert_eq!(debug(Some(&Object(ours))), debug(serde.as_ref().ok()), "{}", text);
            }
        }
    }

    /// The tags a compact match reads or declines (escapes, values of any
    /// type, members repeated, out of order or spaced) are read as the
    /// general way and serde read them; the usual ones are matched.
    #[test]
    fn compact_tags_read_as_the_general_way_reads_them() {
        let cases: &[(&str, bool)] = &[
            (
                r#"{"key":"http.method","type":"string","value":"GET"}"#,
                true,
            ),
            (r#"{"key":"x.unread","type":"string","value":"x"}"#, true),
            (r#"{"key":"x.unread","type":"int64","value":200}"#, true),
            (r#"{"key":"x.unread","type":"string","value":"a\"b"}"#, true),
            (r#"{"key":"error","type":"bool","value":true}"#, true),
            (r#"{"key":"span.kind","type":"string","value":null}"#, true),
            (r#"{"key":"x.unread","type":"string","value":1e400}"#, false),
            (
                r#"{"key":"x.unread","type":"string","value":"\ud800"}"#,
                false,
            ),
            (
                r#"{"key":"http\u002emethod","type":"string","value":"GET"}"#,
                false,
            ),
            (r#"{"key":"x.unread","type":"str\"ing","value":"x"}"#, false),
            (
                r#"{"key":"http.method","type":"string","value":"GET","key":"x"}"#,
                false,
            ),
            (
                r#"{"type":"string","key":"http.method","value":"GET"}"#,
                false,
            ),
            (r#"{"key":"http.method","value":"GET"}"#, false),
            (
                r#"{"key":"http.method", "type":"string","value":"GET"}"#,
                false,
            ),
            (
                r#"{"key":"http.method","type":"string","value":"GET" }"#,
                false,
            ),
        ];
        for &(tag, compact) in cases {
            let mut s = Scanner::new(tag);
            let matched =
                compact_tag(&mut s, crate::ingest::jaeger::read_tag).filter(|_| s.at_end());
            assert_eq!(matched.is_some(), compact, "{tag}");
            let mut general = Scanner::new(tag);
            let read = tag_members(&mut general).filter(|_| general.at_end());
            if compact {
                assert_eq!(debug(matched.as_ref()), debug(read.as_ref()), "{tag}");
            }
            let text = format!(r#"{{"spans":[{{"spanID":"a","tags":[{tag},{tag}]}}]}}"#);
            let ours = whole(text.as_bytes(), read_trace).map(Object);
            assert_eq!(ours.is_some(), read.is_some(), "{tag}");
            if ours.is_some() {
                let serde = parse::<Object<Trace<'_>>>(text.as_bytes());
                assert_eq!(debug(ours.as_ref()), debug(serde.as_ref().ok()), "{tag}");
            }
            // Among a process's tags, which no analysis reads: skipped,
            // and refused where a checked skip refuses them.
            let mut skipped = Scanner::new(tag);
            let checked = skipped.skip_checked().filter(|_| skipped.at_end());
            let text = format!(
                r#"{{"spans":[{{"spanID":"a","processID":"p1"}}],"processes":{{"p1":{{"serviceName":"s","tags":[{tag},{tag}]}}}}}}"#
            );
            let ours = whole(text.as_bytes(), read_trace).map(Object);
            assert_eq!(ours.is_some(), checked.is_some(), "{tag}");
            let serde = parse::<Object<Trace<'_>>>(text.as_bytes());
            assert_eq!(serde.is_ok(), checked.is_some(), "{tag}");
            if ours.is_some() {
                assert_eq!(debug(ours.as_ref()), debug(serde.as_ref().ok()), "{tag}");
            }
        }
    }

    #[test]
    fn a_trace_without_spans_or_with_a_bad_unread_value_is_left_to_serde() {
        for text in [
            r#"{"traceID": "a"}"#,
            r#"{"spans": [{"tags": [{"key": "x.unread", "value": 1e400}]}]}"#,
            r#"{"spans": [{"spanID": "a", "spanID": "b"}]}"#,
            r#"{"spans": [], "processes": {"p1": {"serviceName": "s", "tags": 1e400}}}"#,
        ] {
            assert!(whole(text.as_bytes(), read_trace).is_none(), "{text}");
            assert!(
                parse::<Object<Trace<'_>>>(text.as_bytes()).is_err(),
                "{text}"
            );
        }
    }
}
