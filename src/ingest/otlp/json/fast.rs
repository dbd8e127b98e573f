//! The typed model of [`super::model`] read with the JSON scanner
//! ([`crate::ingest::json_scan`]) rather than serde: every OTLP/JSON
//! record's first try. It reads exactly what the serde model reads, member
//! for member (the names, their aliases, `null` for an absent member, the
//! lenient scalars through the same [`Lenient`] constructors), and gives
//! up wherever serde would fail or the scanner declines (a duplicate member,
//! an array where a message belongs, escapes in a member name); the record
//! is then parsed by serde, which says what is wrong and where.

use super::common::{self, Pick, Scalar};
use super::model::{
    Bool, Document, Double, Int, KindField, Lenient, LinkJson, Picks, Resource, ResourceSpans,
    ScopeSpans, Seq, SpanAttributes, SpanJson, StatusJson, Str, Time,
};
use crate::ingest::json_records::parse;
use crate::ingest::json_scan::{Check, Given, Number, Scanner, whole};
use crate::ingest::room::Room;
use crate::model::{AttrsBuilder, AttrsId, Interner};

/// How many `result`/`trace` wrappers deep a document may be read here;
/// serde refuses some depth beyond, and such a record takes its path.
const MAX_WRAPPERS: usize = 16;

/// One request (or query-API response) document; a span's attributes
/// are made into the block it keeps with `strings` as they are read.
pub(super) fn document<'a>(
    bytes: &'a [u8],
    strings: &Interner,
) -> serde_json::Result<Document<'a>> {
    whole(bytes, |s| read_document(s, 0, strings)).map_or_else(|| parse(bytes), Ok)
}

/// An array of request documents (see [`document`]).
pub(super) fn documents<'a>(
    bytes: &'a [u8],
    strings: &Interner,
) -> serde_json::Result<Vec<Document<'a>>> {
    let fast = whole(bytes, |s| {
        let mut documents = Vec::new();
        s.array(|s| {
            documents.push(read_document(s, 0, strings)?);
            Some(())
        })?;
        Some(documents)
    });
    fast.map_or_else(|| parse(bytes), Ok)
}

/// One `ResourceSpans`, a member of a request read a member at a time
/// (see [`document`]).
pub(super) fn resource_spans<'a>(
    bytes: &'a [u8],
    strings: &Interner,
) -> serde_json::Result<ResourceSpans<'a>> {
    whole(bytes, |s| read_resource_spans(s, strings)).map_or_else(|| parse(bytes), Ok)
}

fn read_document<'a>(
    s: &mut Scanner<'a>,
    depth: usize,
    strings: &Interner,
) -> Option<Document<'a>> {
    let mut document = Document::default();
    let mut seen = Given::default();
    s.object(|s, name| {
        match name {
            b"resourceSpans" | b"resource_spans" => {
                seen.first(0)?;
                document.resource_spans = seq(s, |s| read_resource_spans(s, strings))?;
            }
            b"batches" => {
                seen.first(1)?;
                document.batches = seq(s, |s| read_resource_spans(s, strings))?;
            }
            b"result" | b"trace" if depth < MAX_WRAPPERS => {
                let result = name == b"result";
                seen.first(if result { 2 } else { 3 })?;
                let inner = s.nullable(|s| read_document(s, depth + 1, strings).map(Box::new))?;
                *(if result {
                    &mut document.result
                } else {
                    &mut document.trace
                }) = inner;
            }
            b"result" | b"trace" => return None,
            _ => s.skip()?,
        }
        Some(())
    })?;
    Some(document)
}

/// A repeated member: an array, or `null` for none.
fn seq<'a, T>(
    s: &mut Scanner<'a>,
    read: impl FnMut(&mut Scanner<'a>) -> Option<T>,
) -> Option<Seq<T>> {
    seq_into(s, Vec::new(), read)
}

thread_local! {
    /// Room for a scope's spans: up to 256 KiB of them ahead.
    static SCOPE_SPANS: Room = const { Room::new((256 << 10) / size_of::<SpanJson<'static>>()) };
}

/// [`seq`] into `items`, which may have room made ahead.
fn seq_into<'a, T>(
    s: &mut Scanner<'a>,
    mut items: Vec<T>,
    mut read: impl FnMut(&mut Scanner<'a>) -> Option<T>,
) -> Option<Seq<T>> {
    if !s.null()? {
        s.array(|s| {
            items.push(read(s)?);
            Some(())
        })?;
    }
    Some(Seq {
        items,
        present: true,
    })
}

fn read_resource_spans<'a>(s: &mut Scanner<'a>, strings: &Interner) -> Option<ResourceSpans<'a>> {
    let mut resource = None;
    let mut scope_spans = Seq::default();
    let mut library_spans = Seq::default();
    let mut seen = Given::default();
    s.object(|s, name| {
        match name {
            b"resource" => {
                seen.first(0)?;
                resource = s.nullable(read_resource)?;
            }
            b"scopeSpans" | b"scope_spans" => {
                seen.first(1)?;
                scope_spans = seq(s, |s| read_scope_spans(s, strings))?;
            }
            b"instrumentationLibrarySpans" | b"instrumentation_library_spans" => {
                seen.first(2)?;
                library_spans = seq(s, |s| read_scope_spans(s, strings))?;
            }
            _ => s.skip()?,
        }
        Some(())
    })?;
    Some(ResourceSpans {
        resource,
        scope_spans,
        library_spans,
    })
}

fn read_resource<'a>(s: &mut Scanner<'a>) -> Option<Resource<'a>> {
    let attributes = s.member(b"attributes", Check::Grammar, picks)?;
    Some(Resource {
        attributes: attributes.unwrap_or_default(),
    })
}

fn read_scope_spans<'a>(s: &mut Scanner<'a>, strings: &Interner) -> Option<ScopeSpans<'a>> {
    let spans = s.member(b"spans", Check::Grammar, |s| {
        let mut spans = seq_into(s, SCOPE_SPANS.with(Room::vec), |s| read_span(s, strings))?;
        SCOPE_SPANS.with(|room| room.held(&mut spans.items));
        Some(spans)
    })?;
    Some(ScopeSpans {
        spans: spans.unwrap_or_default(),
    })
}

fn read_span<'a>(s: &mut Scanner<'a>, strings: &Interner) -> Option<SpanJson<'a>> {
    let mut span = SpanJson {
        trace_id: None,
        span_id: None,
        parent_span_id: None,
        name: None,
        kind: KindField::default(),
        start: None,
        end: None,
        attributes: SpanAttributes::default(),
        links: Seq::default(),
        status: None,
    };
    let mut seen = Given::default();
    s.object_expecting(&SPAN_MEMBERS, SpanField::of, |s, field| {
        match field {
            SpanField::TraceId => {
                seen.first(0)?;
                span.trace_id = nullable_text(s)?;
            }
            SpanField::SpanId => {
                seen.first(1)?;
                span.span_id = nullable_text(s)?;
            }
            SpanField::ParentSpanId => {
                seen.first(2)?;
                span.parent_span_id = nullable_text(s)?;
            }
            SpanField::Name => {
                seen.first(3)?;
                span.name = nullable_text(s)?;
            }
            SpanField::Kind => {
                seen.first(4)?;
                span.kind = lenient(s)?;
            }
            SpanField::Start => {
                seen.first(5)?;
                span.start = time(s)?;
            }
            SpanField::End => {
                seen.first(6)?;
                span.end = time(s)?;
            }
            SpanField::Attributes => {
                seen.first(7)?;
                span.attributes = SpanAttributes::Kept(kept_attributes(s, strings)?);
            }
            SpanField::Links => {
                seen.first(8)?;
                span.links = seq(s, read_link)?;
            }
            SpanField::Status => {
                seen.first(9)?;
                span.status = s.nullable(read_status)?;
            }
            SpanField::Other => s.skip()?,
        }
        Some(())
    })?;
    Some(span)
}

/// The span members [`read_span`] reads, by what it reads them into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SpanField {
    TraceId,
    SpanId,
    ParentSpanId,
    Name,
    Kind,
    Start,
    End,
    Attributes,
    Links,
    Status,
    /// A member skipped.
    Other,
}

impl SpanField {
    /// The field of a member name, protojson's or the proto's own.
    fn of(name: &[u8]) -> SpanField {
        match name {
            b"traceId" | b"trace_id" => SpanField::TraceId,
            b"spanId" | b"span_id" => SpanField::SpanId,
            b"parentSpanId" | b"parent_span_id" => SpanField::ParentSpanId,
            b"name" => SpanField::Name,
            b"kind" => SpanField::Kind,
            b"startTimeUnixNano" | b"start_time_unix_nano" => SpanField::Start,
            b"endTimeUnixNano" | b"end_time_unix_nano" => SpanField::End,
            b"attributes" => SpanField::Attributes,
            b"links" => SpanField::Links,
            b"status" => SpanField::Status,
            _ => SpanField::Other,
        }
    }
}

/// A span's members in the order OTLP/JSON exporters write them (the
/// protobuf fields' order, as protojson writes it), without the ones
/// seldom written (`traceState` and the dropped counts).
const SPAN_MEMBERS: [(&[u8], SpanField); 12] = [
    (br#""traceId":"#, SpanField::TraceId),
    (br#""spanId":"#, SpanField::SpanId),
    (br#""parentSpanId":"#, SpanField::ParentSpanId),
    (br#""flags":"#, SpanField::Other),
    (br#""name":"#, SpanField::Name),
    (br#""kind":"#, SpanField::Kind),
    (br#""startTimeUnixNano":"#, SpanField::Start),
    (br#""endTimeUnixNano":"#, SpanField::End),
    (br#""attributes":"#, SpanField::Attributes),
    (br#""events":"#, SpanField::Other),
    (br#""links":"#, SpanField::Links),
    (br#""status":"#, SpanField::Status),
];

fn read_link<'a>(s: &mut Scanner<'a>) -> Option<LinkJson<'a>> {
    let mut link = LinkJson {
        trace_id: None,
        span_id: None,
    };
    let mut seen = Given::default();
    s.object(|s, name| {
        match name {
            b"traceId" | b"trace_id" => {
                seen.first(0)?;
                link.trace_id = s.nullable(text)?;
            }
            b"spanId" | b"span_id" => {
                seen.first(1)?;
                link.span_id = s.nullable(text)?;
            }
            _ => s.skip()?,
        }
        Some(())
    })?;
    Some(link)
}

fn read_status(s: &mut Scanner<'_>) -> Option<StatusJson> {
    let code = s.member(b"code", Check::Grammar, lenient)?;
    Some(StatusJson {
        code: code.unwrap_or_default(),
    })
}

/// A time (or `null`): a string of digits, as exporters write every
/// span's two times, read in one pass; any other form through
/// [`lenient`]. Scanned as a string and then parsed, a time took about 385
/// instructions; always inlined, as LLVM left it a call twice a span.
#[inline(always)]
fn time(s: &mut Scanner<'_>) -> Option<Option<Time>> {
    let digits = s.attempt(|s| {
        s.compact(b"\"").then_some(())?;
        let n = s.compact_digits()?;
        s.compact(b"\"").then_some(Time(n))
    });
    match digits {
        Some(time) => Some(Some(time)),
        None => s.nullable(lenient::<Time>),
    }
}

fn text<'a>(s: &mut Scanner<'a>) -> Option<Str<'a>> {
    s.string().map(Str)
}

fn nullable_text<'a>(s: &mut Scanner<'a>) -> Option<Option<Str<'a>>> {
    Some(s.nullable_string()?.map(Str))
}

/// A scalar from whichever JSON type it is given as (serde's
/// `deserialize_any`); arrays and objects are refused, as the visitors
/// refuse them.
fn lenient<T: Lenient>(s: &mut Scanner<'_>) -> Option<T> {
    match s.peek()? {
        b'"' => T::from_str(&s.string()?),
        b't' | b'f' => T::from_bool(s.boolean()?),
        b'n' => s.null()?.then(T::from_unit)?,
        _ => match s.number()? {
            Number::U64(v) => T::from_u64(v),
            Number::I64(v) => T::from_i64(v),
            Number::F64(v) => T::from_f64(v),
        },
    }
}

/// Attributes: the picked keys' scalars, from an array of `KeyValue`s or
/// `null`.
fn picks<'a>(s: &mut Scanner<'a>) -> Option<Picks<'a>> {
    let mut picks = Vec::new();
    // Pushed, not extended by the option: `extend` reserved room on every
    // call (3% of the read's instructions).
    each_pick(s, |pick| picks.push(pick))?;
    Some(Picks(picks))
}

/// A span's attributes made into the block it keeps as they are read, in
/// the order [`picks`] would hold them: a vector of picks allocated per
/// span, to be read once and freed, was 2.5% of the read's instructions.
fn kept_attributes(s: &mut Scanner<'_>, strings: &Interner) -> Option<Option<AttrsId>> {
    let mut kept = AttrsBuilder::default();
    each_pick(s, |(pick, value)| {
        common::keep(&mut kept, pick, value, strings)
    })?;
    Some(kept.finish(strings))
}

/// Calls `picked` with each picked attribute of an array of `KeyValue`s
/// or `null`, in order.
fn each_pick<'a>(s: &mut Scanner<'a>, mut picked: impl FnMut((Pick, Scalar<'a>))) -> Option<()> {
    if !s.null()? {
        s.array(|s| {
            if let Some(pick) = key_value(s)? {
                picked(pick);
            }
            Some(())
        })?;
    }
    Some(())
}

/// One `KeyValue` (or `null`), kept if its key is picked. Members repeat
/// and come in any order as in the serde visitor: the last of each wins,
/// and a value before its key is read in case the key is picked.
fn key_value<'a>(s: &mut Scanner<'a>) -> Option<Option<(Pick, Scalar<'a>)>> {
    if let Some(kv) = s.attempt(compact_key_value) {
        return Some(kv);
    }
    key_value_members(s)
}

/// [`key_value`] member by member, in any order and spacing.
fn key_value_members<'a>(s: &mut Scanner<'a>) -> Option<Option<(Pick, Scalar<'a>)>> {
    if s.null()? {
        return Some(None);
    }
    let mut pick: Option<Option<Pick>> = None;
    let mut value = None;
    s.object(|s, name| {
        match name {
            b"key" => {
                let key = s.nullable(text)?;
                pick = Some(key.and_then(|k| Pick::of(&k.0)));
            }
            b"value" if pick != Some(None) => value = Some(any_value(s)?),
            _ => s.skip()?,
        }
        Some(())
    })?;
    Some(pick.flatten().zip(value))
}

/// A `KeyValue` as exporters write it, `{"key":"…","value":{…}}` with no
/// whitespace and an unescaped key, which is nearly every one: matched as
/// fixed runs of bytes rather than member by member, it took a fraction of
/// the instructions (callgrind: 950 an attribute before). `None` for any
/// other form (or a bad value), to be read again the general way; what it
/// accepts, the general way reads alike.
#[inline]
fn compact_key_value<'a>(s: &mut Scanner<'a>) -> Option<Option<(Pick, Scalar<'a>)>> {
    if !s.compact(br#"{"key":""#) {
        return None;
    }
    let key = s.compact_rest()?;
    if !s.compact(br#","value":"#) {
        return None;
    }
    let kept = match Pick::of(key) {
        Some(pick) => Some((pick, compact_any_value(s)?)),
        None => {
            compact_any_value(s)?;
            None
        }
    };
    s.compact(b"}").then_some(kept)
}

/// An `AnyValue`, a string or an integer one matched in its compact form
/// (`{"stringValue":"…"}`, unescaped, or `{"intValue":"…"}`, digits as
/// OTLP/JSON writes an int64), any other read by [`any_value`]. Read
/// member by member, an integer attribute took about 300 instructions.
/// Always inlined: LLVM kept it a call per attribute, whose entry and exit
/// were a tenth of its instructions.
#[inline(always)]
fn compact_any_value<'a>(s: &mut Scanner<'a>) -> Option<Scalar<'a>> {
    if s.compact(br#"{"stringValue":""#) {
        let text = s.compact_rest()?;
        return s
            .compact(b"}")
            .then_some(Scalar::Str(std::borrow::Cow::Borrowed(text)));
    }
    // Any other integer (signed, spaced, beyond `i64`) the general way.
    let int = s.attempt(|s| {
        if !s.compact(br#"{"intValue":""#) {
            return None;
        }
        let n = s.compact_digits()?;
        if !s.compact(br#""}"#) {
            return None;
        }
        i64::try_from(n).ok()
    });
    match int {
        Some(n) => Some(Scalar::Int(n)),
        None => any_value(s),
    }
}

/// An `AnyValue` (or `null`) reduced to its scalar.
fn any_value<'a>(s: &mut Scanner<'a>) -> Option<Scalar<'a>> {
    let mut out = Scalar::Other;
    if s.null()? {
        return Some(out);
    }
    s.object(|s, name| {
        let value = match name {
            b"stringValue" | b"string_value" => s.nullable(text)?.map(|t| Scalar::Str(t.0)),
            b"boolValue" | b"bool_value" => s.nullable(lenient::<Bool>)?.map(|b| Scalar::Bool(b.0)),
            b"intValue" | b"int_value" => s.nullable(lenient::<Int>)?.map(|i| Scalar::Int(i.0)),
            b"doubleValue" | b"double_value" => {
                s.nullable(lenient::<Double>)?.map(|d| Scalar::Double(d.0))
            }
            _ => {
                s.skip()?;
                Some(Scalar::Other)
            }
        };
        if let Some(value) = value {
            out = value;
        }
        Some(())
    })?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::Deserialize;

    use super::*;
    use crate::ingest::test_support::json_text::{
        debug, edited, fixture_lines, junk, object, pick,
    };

    /// A member matched as the bytes it is expected to be written as gets
    /// the field its name gets read the general way.
    #[test]
    fn expected_members_have_their_names_fields() {
        crate::ingest::json_scan::assert_fields_agree(&SPAN_MEMBERS, SpanField::of);
    }

    fn id(bad: bool) -> BoxedStrategy<String> {
        pick(
            bad,
            &[
                "\"5b8efff798038103d269b633813fc60c\"",
                "\"EEE19B7EC3C1B174\"",
                "\"span-\\\"A\\\"\"",
                "null",
                "\"\"",
                "\"caf\\u00e9\"",
            ],
            &["12", "[]", "\"\\ud83d\\ude00\"", "\"a\\x\""],
        )
    }

    /// A time or an `intValue`.
    fn integer(bad: bool) -> BoxedStrategy<String> {
        pick(
            bad,
            &[
                "1700000000000000000",
                "\"1700000000000000123\"",
                "\" 17 \"",
                "0",
                "17.0",
                "1.7e18",
                "-0",
                "null",
            ],
            &[
                "-1",
                "true",
                "\"x\"",
                "1.5",
                "18446744073709551616",
                "1e400",
                "{}",
                "01",
            ],
        )
    }

    /// A span kind or status code.
    fn code(bad: bool) -> BoxedStrategy<String> {
        pick(
            bad,
            &[
                "0",
                "2",
                "\"2\"",
                "\"SPAN_KIND_SERVER\"",
                "\"STATUS_CODE_ERROR\"",
                "\"odd\"",
                "-1",
                "17.0",
                "-0",
                "null",
            ],
            &["true", "1.5", "1e400", "[]", "01"],
        )
    }

    fn any_value(bad: bool) -> BoxedStrategy<String> {
        let value = object(
            bad,
            vec![
                (vec!["stringValue", "string_value"], id(bad)),
                (
                    vec!["boolValue", "bool_value"],
                    pick(bad, &["true", "\"false\"", "null"], &["1", "\"yes\""]),
                ),
                (vec!["intValue", "int_value"], integer(bad)),
                (
                    vec!["doubleValue", "double_value"],
                    pick(
                        bad,
                        &["1.5", "\"NaN\"", "3", "-2", "null", "0.1e-2"],
                        &["\"x\"", "1e400"],
                    ),
                ),
                (vec!["arrayValue", "key"], junk(bad, false)),
            ],
        );
        prop_oneof![4 => value, 1 => pick(bad, &["null"], &["\"s\"", "[]"])].boxed()
    }

    fn attributes(bad: bool) -> BoxedStrategy<String> {
        let key = pick(
            bad,
            &[
                "\"http.method\"",
                "\"db.statement\"",
                "\"service.name\"",
                "\"peer.service\"",
                "\"other\"",
                "null",
                "\"http\\u002eroute\"",
            ],
            &["5"],
        );
        let key_value = object(
            bad,
            vec![
                (vec!["key"], key),
                (vec!["value"], any_value(bad)),
                (vec!["extra"], junk(bad, false)),
            ],
        );
        let key_value = prop_oneof![6 => key_value, 1 => pick(bad, &["null"], &["[]", "\"kv\""])];
        prop_oneof![
            6 => (prop::collection::vec(key_value, 0..4), prop_oneof![Just(","), Just(", ")])
                .prop_map(|(kvs, comma)| format!("[{}]", kvs.join(comma))),
            1 => pick(bad, &["null"], &["{}", "\"a\""]),
        ]
        .boxed()
    }

    fn span(bad: bool) -> BoxedStrategy<String> {
        let link = object(
            bad,
            vec![
                (vec!["traceId", "trace_id"], id(bad)),
                (vec!["spanId", "span_id"], id(bad)),
            ],
        );
        let links = prop::collection::vec(link, 0..2).prop_map(|l| format!("[{}]", l.join(",")));
        let status = object(
            bad,
            vec![
                (vec!["code"], code(bad)),
                (vec!["message"], junk(bad, false)),
            ],
        );
        object(
            bad,
            vec![
                (vec!["traceId", "trace_id"], id(bad)),
                (vec!["spanId", "span_id"], id(bad)),
                (vec!["parentSpanId", "parent_span_id"], id(bad)),
                (vec!["name"], id(bad)),
                (vec!["kind"], code(bad)),
                (
                    vec!["startTimeUnixNano", "start_time_unix_nano"],
                    integer(bad),
                ),
                (vec!["endTimeUnixNano", "end_time_unix_nano"], integer(bad)),
                (vec!["attributes"], attributes(bad)),
                (
                    vec!["links"],
                    prop_oneof![links, pick(bad, &["null"], &["{}"])].boxed(),
                ),
                (
                    vec!["status"],
                    prop_oneof![status, pick(bad, &["null"], &["[0]"])].boxed(),
                ),
                (vec!["events", "droppedAttributesCount"], junk(bad, false)),
            ],
        )
    }

    fn resource_spans_text(bad: bool) -> BoxedStrategy<String> {
        let spans =
            prop::collection::vec(span(bad), 0..3).prop_map(|s| format!("[{}]", s.join(",")));
        let scope = object(
            bad,
            vec![
                (vec!["spans"], spans.boxed()),
                (vec!["scope", "schemaUrl"], junk(bad, false)),
            ],
        );
        let scopes = prop::collection::vec(scope, 0..2).prop_map(|s| format!("[{}]", s.join(",")));
        let resource = object(
            bad,
            vec![
                (vec!["attributes"], attributes(bad)),
                (vec!["droppedAttributesCount"], junk(bad, false)),
            ],
        );
        object(
            bad,
            vec![
                (
                    vec!["resource"],
                    prop_oneof![resource, pick(bad, &["null"], &["[]"])].boxed(),
                ),
                (vec!["scopeSpans", "scope_spans"], scopes.clone().boxed()),
                (
                    vec![
                        "instrumentationLibrarySpans",
                        "instrumentation_library_spans",
                    ],
                    scopes.boxed(),
                ),
                (vec!["schemaUrl"], junk(bad, false)),
            ],
        )
    }

    fn document_text(bad: bool) -> BoxedStrategy<String> {
        let list = prop::collection::vec(resource_spans_text(bad), 0..3)
            .prop_map(|r| format!("[{}]", r.join(",")));
        let request = object(
            bad,
            vec![
                (
                    vec!["resourceSpans", "resource_spans"],
                    list.clone().boxed(),
                ),
                (vec!["batches"], list.boxed()),
                (vec!["other"], junk(bad, false)),
            ],
        );
        let wrapped = request
            .clone()
            .prop_map(|r| format!("{{\"result\": {r}, \"trace\": null}}"));
        prop_oneof![4 => request, 1 => wrapped].boxed()
    }

    /// The scanner's read, without the serde fallback.
    fn scanned<'a>(text: &'a str, strings: &Interner) -> Option<Document<'a>> {
        whole(text.as_bytes(), |s| read_document(s, 0, strings))
    }

    /// serde's read of `bytes` with each span's attributes kept as the
    /// scanner keeps them, with `strings`: after the scanner's read with
    /// the same interner, equal attributes have equal symbols, so the two
    /// reads compare as text.
    fn serde_kept<'a, T: Deserialize<'a>>(
        bytes: &'a [u8],
        strings: &Interner,
        keep: impl Fn(&mut T, &Interner),
    ) -> Option<T> {
        let mut read = parse::<T>(bytes).ok()?;
        keep(&mut read, strings);
        Some(read)
    }

    fn keep_document(document: &mut Document<'_>, strings: &Interner) {
        for list in [&mut document.resource_spans, &mut document.batches] {
            for resource_spans in &mut list.items {
                keep_resource_spans(resource_spans, strings);
            }
        }
        for inner in [&mut document.result, &mut document.trace]
            .into_iter()
            .flatten()
        {
            keep_document(inner, strings);
        }
    }

    fn keep_resource_spans(resource_spans: &mut ResourceSpans<'_>, strings: &Interner) {
        for scopes in [
            &mut resource_spans.scope_spans,
            &mut resource_spans.library_spans,
        ] {
            for scope in &mut scopes.items {
                for span in &mut scope.spans.items {
                    if let SpanAttributes::Picked(picks) = &span.attributes {
                        span.attributes = SpanAttributes::Kept(picks.kept(strings));
                    }
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// What the scanner reads, serde reads the same; what it gives up
        /// on is left to serde, whatever serde then makes of it.
        #[test]
        fn the_scanner_reads_what_serde_reads(text in document_text(true)) {
            let strings = Interner::new();
            if let Some(ours) = scanned(&text, &strings) {
                let serde = serde_kept(text.as_bytes(), &strings, keep_document);
                prop_assert_eq!(debug(Some(&ours)), debug(serde.as_ref()), "{}", text);
            }
        }

        /// Requests of every ordinary spelling are read by the scanner,
        /// never left to serde.
        #[test]
        fn ordinary_requests_never_fall_back(text in document_text(false)) {
            let strings = Interner::new();
            let ours = scanned(&text, &strings);
            prop_assert!(ours.is_some(), "{}", text);
            let serde = serde_kept(text.as_bytes(), &strings, keep_document);
            prop_assert_eq!(debug(ours.as_ref()), debug(serde.as_ref()));
        }

        /// Real records with a few bytes edited: whatever the scanner
        /// still reads, serde reads the same.
        #[test]
        fn edited_fixture_records_read_as_serde_reads_them(
            bytes in edited(fixture_lines("otlp-json", 20)),
        ) {
            let strings = Interner::new();
            if let Some(ours) = whole(&bytes, |s| read_document(s, 0, &strings)) {
                let serde = serde_kept(&bytes, &strings, keep_document);
                prop_assert_eq!(debug(Some(&ours)), debug(serde.as_ref()));
            }
        }

        /// A member of a request read a `ResourceSpans` at a time likewise.
        #[test]
        fn resource_spans_read_as_serde_reads_them(text in resource_spans_text(true)) {
            let strings = Interner::new();
            if let Some(ours) = whole(text.as_bytes(), |s| read_resource_spans(s, &strings)) {
                let serde = serde_kept(text.as_bytes(), &strings, keep_resource_spans);
                prop_assert_eq!(debug(Some(&ours)), debug(serde.as_ref()), "{}", text);
            }
        }
    }

    #[test]
    fn a_span_member_given_twice_under_either_name_is_left_to_serde() {
        let members = [
            ("traceId", "trace_id", "\"aa\""),
            ("spanId", "span_id", "\"bb\""),
            ("parentSpanId", "parent_span_id", "\"cc\""),
            ("name", "name", "\"n\""),
            ("kind", "kind", "2"),
            ("startTimeUnixNano", "start_time_unix_nano", "\"1\""),
            ("endTimeUnixNano", "end_time_unix_nano", "\"2\""),
            ("attributes", "attributes", "[]"),
            ("links", "links", "[]"),
            ("status", "status", "{}"),
        ];
        for (name, alias, value) in members {
            let text = format!(
                r#"{{"resourceSpans": [{{"scopeSpans": [{{"spans": [{{"{name}": {value}, "{alias}": {value}}}]}}]}}]}}"#
            );
            assert!(scanned(&text, &Interner::new()).is_none(), "{text}");
            assert!(parse::<Document<'_>>(text.as_bytes()).is_err(), "{text}");
            let once = text.replacen(&format!(", \"{alias}\": {value}"), "", 1);
            assert!(scanned(&once, &Interner::new()).is_some(), "{once}");
        }
    }

    /// The `KeyValue`s a compact match reads or declines (escapes, other
    /// value types, members repeated, out of order or spaced) are read as
    /// the general way and serde read them; the usual ones are matched.
    #[test]
    fn compact_attributes_read_as_the_general_way_reads_them() {
        let cases: &[(&str, bool)] = &[
            (
                r#"{"key":"http.method","value":{"stringValue":"GET"}}"#,
                true,
            ),
            (r#"{"key":"other","value":{"stringValue":"x"}}"#, true),
            (r#"{"key":"other","value":{"intValue":"200"}}"#, true),
            (r#"{"key":"http.route","value":{"intValue":"7"}}"#, true),
            (r#"{"key":"http.route","value":null}"#, true),
            (
                r#"{"key":"http.route","value":{"stringValue":"/a\"b"}}"#,
                false,
            ),
            (r#"{"key":"other","value":{"stringValue":"\u00e9"}}"#, false),
            (
                r#"{"key":"http\u002eroute","value":{"stringValue":"/r"}}"#,
                false,
            ),
            (
                r#"{"key":"http.route","value":{"stringValue":"/r"},"key":"other"}"#,
                false,
            ),
            (
                r#"{"key":"other","value":{"stringValue":"x"},"key":"http.route"}"#,
                false,
            ),
            (
                r#"{"key":"http.route","value":{"stringValue":"/a","stringValue":"/b"}}"#,
                false,
            ),
            (
                r#"{"value":{"stringValue":"/r"},"key":"http.route"}"#,
                false,
            ),
            (
                r#"{"key": "http.route","value":{"stringValue":"/r"}}"#,
                false,
            ),
            (
                r#"{"key":"http.route","value":{"stringValue":"/r"} }"#,
                false,
            ),
            (r#"{"key":"other","value":{"intValue":"x"}}"#, false),
            (r#"{"key":"http.route","value":{"intValue":"0"}}"#, true),
            (r#"{"key":"http.route","value":{"intValue":"007"}}"#, true),
            (r#"{"key":"http.route","value":{"intValue":200}}"#, true),
            (r#"{"key":"http.route","value":{"intValue":"-5"}}"#, true),
            (r#"{"key":"http.route","value":{"intValue":" 17 "}}"#, true),
            (
                r#"{"key":"http.route","value":{"intValue":"9223372036854775807"}}"#,
                true,
            ),
            (
                r#"{"key":"http.route","value":{"intValue":"9223372036854775808"}}"#,
                false,
            ),
            (
                r#"{"key":"http.route","value":{"intValue":"12345678901234567890"}}"#,
                false,
            ),
            (
                r#"{"key":"http.route","value":{"intValue":"1","x":2}}"#,
                true,
            ),
            (
                "{\"key\":\"http.route\",\"value\":{\"stringValue\":\"a\u{1}\"}}",
                false,
            ),
        ];
        for &(kv, compact) in cases {
            let mut s = Scanner::new(kv);
            let matched = compact_key_value(&mut s).filter(|_| s.at_end());
            assert_eq!(matched.is_some(), compact, "{kv}");
            let mut general = Scanner::new(kv);
            let read = key_value_members(&mut general).filter(|_| general.at_end());
            if compact {
                assert_eq!(matched, read, "{kv}");
            }
            read_in_a_span(&format!(r#""attributes":[{kv},{kv}]"#), read.is_some());
        }
    }

    /// A request of one span with `members`: the scanner reads it when
    /// (and only when) `readable`, and then as serde reads it.
    fn read_in_a_span(members: &str, readable: bool) {
        let text =
            format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{{members}}}]}}]}}]}}"#);
        let strings = Interner::new();
        let ours = scanned(&text, &strings);
        assert_eq!(ours.is_some(), readable, "{text}");
        if ours.is_some() {
            let serde = serde_kept(text.as_bytes(), &strings, keep_document);
            assert_eq!(debug(ours.as_ref()), debug(serde.as_ref()), "{text}");
        }
    }

    /// Times in every form read as the general way reads them; strings
    /// of up to 19 digits are read in one pass.
    #[test]
    fn times_read_as_the_general_way_reads_them() {
        let cases: &[(&str, bool)] = &[
            (r#""1700000000000000123""#, true),
            (r#""0""#, true),
            (r#""007""#, true),
            (r#""9999999999999999999""#, true),
            (r#""18446744073709551615""#, false),
            (r#""99999999999999999999""#, false),
            (r#""""#, false),
            (r#"" 17 ""#, false),
            (r#""17 ""#, false),
            (r#""1.5""#, false),
            (r#""-1""#, false),
            (r#""1\u0030""#, false),
            ("1700000000000000000", false),
            ("null", false),
            (r#" "17""#, false),
        ];
        for &(text, compact) in cases {
            let mut s = Scanner::new(text);
            let fast = time(&mut s).filter(|_| s.at_end());
            let mut general = Scanner::new(text);
            let read = general
                .nullable(lenient::<Time>)
                .filter(|_| general.at_end())
                .map(|t| t.map(|t| t.0));
            assert_eq!(fast.map(|t| t.map(|t| t.0)), read, "{text}");
            let mut only = Scanner::new(text);
            let matched =
                only.compact(b"\"") && only.compact_digits().is_some() && only.compact(b"\"");
            assert_eq!(matched && only.at_end(), compact, "{text}");
            read_in_a_span(
                &format!(r#""startTimeUnixNano":{text},"endTimeUnixNano":{text}"#),
                read.is_some(),
            );
        }
    }

    #[test]
    fn a_duplicate_member_or_a_deep_wrapper_is_left_to_serde() {
        let duplicate = r#"{"resourceSpans": [], "resource_spans": []}"#;
        assert!(scanned(duplicate, &Interner::new()).is_none());
        assert!(parse::<Document<'_>>(duplicate.as_bytes()).is_err());
        let deep = format!(
            "{}{{\"resourceSpans\": []}}{}",
            "{\"result\": ".repeat(MAX_WRAPPERS + 1),
            "}".repeat(MAX_WRAPPERS + 1)
        );
        assert!(scanned(&deep, &Interner::new()).is_none());
        assert!(
            document(deep.as_bytes(), &Interner::new()).is_ok(),
            "serde reads it"
        );
    }
}
