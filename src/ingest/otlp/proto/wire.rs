//! Reads an encoded `ResourceSpans` straight from its bytes: a protobuf
//! wire walker over `&[u8]` that borrows every string and id from the input
//! and allocates nothing but the spans it produces.
//!
//! Decoding into prost messages first (the `model` schema, now the
//! reference the tests compare against) dominated the reader's profile: a
//! copy of every entry, a reference-counted `Bytes` per string and id, and
//! a `Vec` per span's attributes and links, all dropped again right after
//! conversion to [`Span`]s.
//!
//! It accepts and rejects what prost accepts and rejects for that schema,
//! so that the same inputs read the same: fields may come in any order and
//! more than once (the last scalar wins, repeated `resource` and `status`
//! messages merge into one), unknown fields of every wire type are skipped
//! (groups too, nested at most as deep as prost's recursion limit allows),
//! overlong varints are accepted, and a field of a known number with the
//! wrong wire type, a field running past its message, or a malformed key is
//! an error.

use std::borrow::Cow;
use std::fmt;

use crate::ingest::ascii::ascii;
use crate::ingest::otlp::common::{self, Pick, Scalar};
use crate::model::{
    AttrsBuilder, Interner, Span, SpanId, SpanKind, SpanLink, Sym, TraceId, TracedSpan,
};

/// Wire type 0: a varint.
const VARINT: u8 = 0;
/// Wire type 1: eight little-endian bytes.
const FIXED64: u8 = 1;
/// Wire type 2: a length, then that many bytes.
const LEN: u8 = 2;
/// Wire type 3: the start of a group (deprecated, only ever skipped).
const START_GROUP: u8 = 3;
/// Wire type 4: the end of a group.
const END_GROUP: u8 = 4;
/// Wire type 5: four little-endian bytes.
const FIXED32: u8 = 5;

/// The nesting budget of a `ResourceSpans`' own fields: prost's
/// `RECURSION_LIMIT`, which each nested message or group spends one of.
/// Messages of this schema nest only five deep, so only groups can run
/// out of it.
const TOP_DEPTH: u32 = 100;

/// `ResourceSpans.scope_spans`.
const SCOPE_SPANS: u32 = 2;
/// `ResourceSpans.instrumentation_library_spans`, before OTLP 0.15.
const LIBRARY_SPANS: u32 = 1000;

/// Why a message is not one prost would decode.
#[derive(Debug)]
pub struct WireError(Box<Failure>);

#[derive(Debug)]
struct Failure {
    kind: Kind,
    /// The fields leading to the problem, innermost first: pushed while the
    /// error travels up, so that only a failure pays for it.
    path: Vec<(&'static str, Option<usize>)>,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    TruncatedVarint,
    LongVarint,
    KeyOutOfRange(u64),
    FieldZero,
    InvalidWireType { field: u32, wire: u8 },
    Overrun { field: u32, needs: u64, left: usize },
    StrayEndGroup { field: u32 },
    TooDeep,
    WrongWireType { field: u32, wire: u8, expected: u8 },
}

impl WireError {
    fn new(kind: Kind) -> Self {
        WireError(Box::new(Failure {
            kind,
            path: Vec::new(),
        }))
    }

    /// Notes that the error happened inside field `name` (entry `index` if
    /// repeated).
    fn within(mut self, name: &'static str, index: Option<usize>) -> Self {
        self.0.path.push((name, index));
        self
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.kind {
            Kind::TruncatedVarint => write!(f, "a varint runs past the end")?,
            Kind::LongVarint => write!(f, "a varint is longer than 10 bytes or exceeds 64 bits")?,
            Kind::KeyOutOfRange(key) => write!(f, "field key {key} is out of range")?,
            Kind::FieldZero => write!(f, "field number 0")?,
            Kind::InvalidWireType { field, wire } => {
                write!(f, "field {field} has the invalid wire type {wire}")?;
            }
            Kind::Overrun { field, needs, left } => {
                write!(f, "field {field} needs {needs} bytes, {left} remain")?;
            }
            Kind::StrayEndGroup { field } => {
                write!(f, "field {field} ends a group that was not started")?;
            }
            Kind::TooDeep => write!(f, "groups nested past the recursion limit ({TOP_DEPTH})")?,
            Kind::WrongWireType {
                field,
                wire,
                expected,
            } => write!(f, "field {field} has wire type {wire}, expected {expected}")?,
        }
        let mut path = self.0.path.iter().rev();
        if let Some(first) = path.next() {
            let step =
                |f: &mut fmt::Formatter<'_>, (name, index): &(&str, Option<usize>)| match index {
                    Some(i) => write!(f, "{name}[{i}]"),
                    None => write!(f, "{name}"),
                };
            write!(f, " in ResourceSpans.")?;
            step(f, first)?;
            for next in path {
                write!(f, ".")?;
                step(f, next)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for WireError {}

/// Reads a varint as prost does: at most ten bytes, the tenth 0 or 1, and
/// overlong encodings of small numbers allowed.
#[inline]
fn varint(rest: &mut &[u8]) -> Result<u64, Kind> {
    let bytes = *rest;
    match bytes.first() {
        Some(&b) if b < 0x80 => {
            *rest = &bytes[1..];
            return Ok(u64::from(b));
        }
        None => return Err(Kind::TruncatedVarint),
        Some(_) => {}
    }
    let mut value = 0;
    for (i, &b) in bytes.iter().take(10).enumerate() {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            if i == 9 && b > 1 {
                return Err(Kind::LongVarint);
            }
            *rest = &bytes[i + 1..];
            return Ok(value);
        }
    }
    Err(if bytes.len() < 10 {
        Kind::TruncatedVarint
    } else {
        Kind::LongVarint
    })
}

/// The value of a varint of exactly two bytes, `low` (its continuation
/// bit set) then `high` (clear): what [`varint`] reads from them, for the
/// short cuts that match two-byte lengths, keys and integers whole.
#[inline]
fn two_byte_varint(low: u8, high: u8) -> u32 {
    u32::from(low & 0x7f) | u32::from(high) << 7
}

/// A field key: its number and wire type, checked as prost checks them.
#[inline]
fn key(rest: &mut &[u8]) -> Result<(u32, u8), Kind> {
    let key = varint(rest)?;
    let Ok(key32) = u32::try_from(key) else {
        return Err(Kind::KeyOutOfRange(key));
    };
    let (field, wire) = (key32 >> 3, (key32 & 7) as u8);
    if wire > FIXED32 {
        return Err(Kind::InvalidWireType { field, wire });
    }
    if field == 0 {
        return Err(Kind::FieldZero);
    }
    Ok((field, wire))
}

/// The next `len` bytes of field `field`.
#[inline]
fn take<'a>(rest: &mut &'a [u8], len: u64, field: u32) -> Result<&'a [u8], Kind> {
    match usize::try_from(len) {
        Ok(len) if len <= rest.len() => {
            let (value, after) = rest.split_at(len);
            *rest = after;
            Ok(value)
        }
        _ => Err(Kind::Overrun {
            field,
            needs: len,
            left: rest.len(),
        }),
    }
}

/// The next `N` bytes of field `field`, for a fixed-width value.
#[inline]
fn fixed<const N: usize>(rest: &mut &[u8], field: u32) -> Result<[u8; N], Kind> {
    let Some((value, after)) = rest.split_first_chunk::<N>() else {
        return Err(Kind::Overrun {
            field,
            needs: N as u64,
            left: rest.len(),
        });
    };
    *rest = after;
    Ok(*value)
}

/// Skips the rest of a group opened by field `field`, whose inner fields
/// are skipped with one level less of `depth`, as prost's `skip_field`.
fn skip_group(rest: &mut &[u8], field: u32, depth: u32) -> Result<(), Kind> {
    loop {
        let (inner, wire) = key(rest)?;
        if wire == END_GROUP {
            return if inner == field {
                Ok(())
            } else {
                Err(Kind::StrayEndGroup { field: inner })
            };
        }
        skip(rest, inner, wire, depth - 1)?;
    }
}

/// Skips the value of a field inside a group.
fn skip(rest: &mut &[u8], field: u32, wire: u8, depth: u32) -> Result<(), Kind> {
    if depth == 0 {
        return Err(Kind::TooDeep);
    }
    match wire {
        VARINT => varint(rest).map(drop),
        FIXED64 => fixed::<8>(rest, field).map(drop),
        LEN => {
            let len = varint(rest)?;
            take(rest, len, field).map(drop)
        }
        START_GROUP => skip_group(rest, field, depth),
        FIXED32 => fixed::<4>(rest, field).map(drop),
        _ => Err(Kind::StrayEndGroup { field }),
    }
}

/// The value of one field, by wire type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1.
    Fixed64(u64),
    /// Wire type 2: the bytes, borrowed from the input.
    Bytes(&'a [u8]),
    /// A group (wire type 3), already skipped.
    Group,
    /// Wire type 5.
    Fixed32(u32),
}

impl Value<'_> {
    fn wire_type(&self) -> u8 {
        match self {
            Value::Varint(_) => VARINT,
            Value::Fixed64(_) => FIXED64,
            Value::Bytes(_) => LEN,
            Value::Group => START_GROUP,
            Value::Fixed32(_) => FIXED32,
        }
    }
}

/// The fields of one message in wire order, each as its number and value;
/// ends after the first error.
pub struct Fields<'a> {
    rest: &'a [u8],
    depth: u32,
}

impl<'a> Fields<'a> {
    /// The fields of `bytes`, a message whose fields may nest groups
    /// `depth` levels deep (prost's recursion budget at that message).
    pub fn new(bytes: &'a [u8], depth: u32) -> Self {
        Fields { rest: bytes, depth }
    }

    fn field(&mut self) -> Result<(u32, Value<'a>), Kind> {
        let rest = &mut self.rest;
        let (field, wire) = key(rest)?;
        let value = match wire {
            VARINT => Value::Varint(varint(rest)?),
            FIXED64 => Value::Fixed64(u64::from_le_bytes(fixed(rest, field)?)),
            LEN => {
                let len = varint(rest)?;
                Value::Bytes(take(rest, len, field)?)
            }
            START_GROUP => {
                skip_group(rest, field, self.depth)?;
                Value::Group
            }
            FIXED32 => Value::Fixed32(u32::from_le_bytes(fixed(rest, field)?)),
            _ => return Err(Kind::StrayEndGroup { field }),
        };
        Ok((field, value))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Value<'a>), WireError>;

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        // Most fields of a span are numbered below 16 with a short value:
        // a one-byte key, then a one-byte length, one varint byte or eight
        // fixed bytes. Those are read here, inlined into each message's
        // loop (always: left to the compiler, this stayed a call per
        // field); `field` reads every other, and says what is wrong. A call
        // of `field` for every field was 28% of a protobuf read's
        // instructions. The checks are `key`'s: a key of one byte below
        // 0x80 with a field number above zero.
        match *self.rest {
            [] => return None,
            [k, len, ref tail @ ..] if (8..0x80).contains(&k) && k & 7 == LEN && len < 0x80 => {
                if let Some((value, after)) = tail.split_at_checked(usize::from(len)) {
                    self.rest = after;
                    return Some(Ok((u32::from(k >> 3), Value::Bytes(value))));
                }
            }
            [k, v, ref tail @ ..] if (8..0x80).contains(&k) && k & 7 == VARINT && v < 0x80 => {
                self.rest = tail;
                return Some(Ok((u32::from(k >> 3), Value::Varint(u64::from(v)))));
            }
            [k, ref tail @ ..] if (8..0x80).contains(&k) && k & 7 == FIXED64 => {
                if let Some((value, after)) = tail.split_first_chunk::<8>() {
                    self.rest = after;
                    let value = u64::from_le_bytes(*value);
                    return Some(Ok((u32::from(k >> 3), Value::Fixed64(value))));
                }
            }
            // A message of 128 bytes to 16 KiB (a span, most often): its
            // length takes two bytes.
            [k, low, high, ref tail @ ..]
                if (8..0x80).contains(&k) && k & 7 == LEN && low >= 0x80 && high < 0x80 =>
            {
                let len = two_byte_varint(low, high) as usize;
                if let Some((value, after)) = tail.split_at_checked(len) {
                    self.rest = after;
                    return Some(Ok((u32::from(k >> 3), Value::Bytes(value))));
                }
            }
            // A four-byte field numbered 16 to 2047 (`Span.flags` is 16):
            // its key takes two bytes, the second not zero (a zero would
            // make an overlong key, which `field` reads).
            [low, high, ref tail @ ..]
                if low >= 0x80 && (1..0x80).contains(&high) && low & 7 == FIXED32 =>
            {
                if let Some((value, after)) = tail.split_first_chunk::<4>() {
                    self.rest = after;
                    let field = two_byte_varint(low, high) >> 3;
                    return Some(Ok((field, Value::Fixed32(u32::from_le_bytes(*value)))));
                }
            }
            _ => {}
        }
        Some(self.field().map_err(|kind| {
            self.rest = &[];
            WireError::new(kind)
        }))
    }
}

/// The error for field `field` found with the wire type of `value`.
fn wrong(field: u32, value: Value<'_>, expected: u8) -> WireError {
    WireError::new(Kind::WrongWireType {
        field,
        wire: value.wire_type(),
        expected,
    })
}

/// `bytes` as text, invalid UTF-8 replaced: `String::from_utf8_lossy`,
/// which walks valid text more slowly than `from_utf8` checks it. ASCII
/// first ([`ascii`]): the full check was 7% of a protobuf read.
fn text(bytes: &[u8]) -> Cow<'_, str> {
    if let Some(text) = ascii(bytes) {
        return Cow::Borrowed(text);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// The scalar cases of an `AnyValue`, still borrowed and undecoded.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Raw<'a> {
    Str(&'a [u8]),
    Bool(bool),
    Int(i64),
    Double(f64),
    None,
}

impl<'a> Raw<'a> {
    fn scalar(self) -> Scalar<'a> {
        match self {
            Raw::Str(s) => Scalar::Str(text(s)),
            Raw::Bool(b) => Scalar::Bool(b),
            Raw::Int(i) => Scalar::Int(i),
            Raw::Double(d) => Scalar::Double(d),
            Raw::None => Scalar::Other,
        }
    }
}

/// Merges an `AnyValue` into `value`: the last scalar case wins; arrays,
/// key/value lists and bytes are skipped and leave it as it was, as in the
/// prost schema, which does not know them.
fn any_value<'a>(bytes: &'a [u8], depth: u32, value: &mut Raw<'a>) -> Result<(), WireError> {
    for field in Fields::new(bytes, depth) {
        *value = match field? {
            (1, Value::Bytes(s)) => Raw::Str(s),
            (2, Value::Varint(v)) => Raw::Bool(v != 0),
            (3, Value::Varint(v)) => Raw::Int(v as i64),
            (4, Value::Fixed64(v)) => Raw::Double(f64::from_bits(v)),
            (1, other) => return Err(wrong(1, other, LEN)),
            (n @ (2 | 3), other) => return Err(wrong(n, other, VARINT)),
            (4, other) => return Err(wrong(4, other, FIXED64)),
            _ => continue,
        };
    }
    Ok(())
}

/// A `KeyValue`: its key's bytes and its value. Every value is walked,
/// kept or not, since prost refuses a malformed one either way.
fn key_value(bytes: &[u8], depth: u32) -> Result<(&[u8], Raw<'_>), WireError> {
    match plain_key_value(bytes) {
        Some(read) => Ok(read),
        None => key_value_fields(bytes, depth),
    }
}

/// [`key_value`] field by field, in any order and encoding.
fn key_value_fields(bytes: &[u8], depth: u32) -> Result<(&[u8], Raw<'_>), WireError> {
    let (mut key, mut value) = (&[][..], Raw::None);
    for field in Fields::new(bytes, depth) {
        match field? {
            (1, Value::Bytes(k)) => key = k,
            (2, Value::Bytes(v)) => {
                any_value(v, depth - 1, &mut value).map_err(|e| e.within("value", None))?;
            }
            (n @ (1 | 2), other) => return Err(wrong(n, other, LEN)),
            _ => {}
        }
    }
    Ok((key, value))
}

/// A `KeyValue` as SDKs encode nearly every one: its key, then a value of
/// one string or one integer of a byte or two, each length a byte, and
/// nothing else. Matched as a whole, it reads as the field walk reads it;
/// walked field by field, an attribute took about 200 instructions, a
/// fifth of a protobuf read. `None` for any other encoding.
#[inline]
fn plain_key_value(bytes: &[u8]) -> Option<(&[u8], Raw<'_>)> {
    let [KEY_TAG, key_len, rest @ ..] = bytes else {
        return None;
    };
    if *key_len >= 0x80 {
        return None;
    }
    let (key, value) = rest.split_at_checked(usize::from(*key_len))?;
    let raw = match value {
        // `value`, holding `string_value` alone.
        [VALUE_TAG, value_len, STRING_TAG, text_len, text @ ..]
            if *value_len < 0x80
                && *text_len < 0x80
                && usize::from(*value_len) == usize::from(*text_len) + 2
                && text.len() == usize::from(*text_len) =>
        {
            Raw::Str(text)
        }
        // `value`, holding `int_value` alone, below 2^14.
        [VALUE_TAG, 2, INT_TAG, v] if *v < 0x80 => Raw::Int(i64::from(*v)),
        [VALUE_TAG, 3, INT_TAG, low, high] if *low >= 0x80 && *high < 0x80 => {
            Raw::Int(i64::from(two_byte_varint(*low, *high)))
        }
        _ => return None,
    };
    Some((key, raw))
}

/// `KeyValue.key` (field 1, wire type 2).
const KEY_TAG: u8 = 1 << 3 | LEN;
/// `KeyValue.value` (field 2, wire type 2).
const VALUE_TAG: u8 = 2 << 3 | LEN;
/// `AnyValue.string_value` (field 1, wire type 2).
const STRING_TAG: u8 = 1 << 3 | LEN;
/// `AnyValue.int_value` (field 3, wire type 0).
const INT_TAG: u8 = 3 << 3 | VARINT;

/// Merges a `Resource` into `service`: the value of its first
/// `service.name` attribute, unless an earlier occurrence had one.
fn resource<'a>(
    bytes: &'a [u8],
    depth: u32,
    service: &mut Option<Raw<'a>>,
) -> Result<(), WireError> {
    let mut index = 0;
    for field in Fields::new(bytes, depth) {
        match field? {
            (1, Value::Bytes(kv)) => {
                let (key, value) =
                    key_value(kv, depth - 1).map_err(|e| e.within("attributes", Some(index)))?;
                if service.is_none() && key == b"service.name" {
                    *service = Some(value);
                }
                index += 1;
            }
            (1, other) => return Err(wrong(1, other, LEN)),
            _ => {}
        }
    }
    Ok(())
}

/// Merges a `Status` into `code`: the last code wins.
fn status(bytes: &[u8], depth: u32, code: &mut i32) -> Result<(), WireError> {
    for field in Fields::new(bytes, depth) {
        match field? {
            (3, Value::Varint(v)) => *code = v as i32,
            (3, other) => return Err(wrong(3, other, VARINT)),
            _ => {}
        }
    }
    Ok(())
}

/// A `Span.Link`, if both its ids are valid.
fn link(bytes: &[u8], depth: u32) -> Result<Option<SpanLink>, WireError> {
    let (mut trace_id, mut span_id) = (&[][..], &[][..]);
    for field in Fields::new(bytes, depth) {
        match field? {
            (1, Value::Bytes(id)) => trace_id = id,
            (2, Value::Bytes(id)) => span_id = id,
            (n @ (1 | 2), other) => return Err(wrong(n, other, LEN)),
            _ => {}
        }
    }
    Ok(TraceId::from_bytes(trace_id)
        .ok()
        .zip(SpanId::from_bytes(span_id).ok())
        .map(|(trace_id, span_id)| SpanLink { trace_id, span_id }))
}

/// The scalar fields of a `Span` as last seen on the wire.
#[derive(Default)]
struct SpanFields<'a> {
    trace_id: &'a [u8],
    span_id: &'a [u8],
    parent_span_id: &'a [u8],
    name: &'a [u8],
    kind: i32,
    start: u64,
    end: u64,
    status: i32,
}

/// Reads one `ResourceSpans` into spans.
struct Walker<'s, 'o> {
    strings: &'s Interner,
    service: Sym,
    spans: &'o mut Vec<TracedSpan>,
    skipped: Vec<String>,
}

impl Walker<'_, '_> {
    /// Reads the spans of a `ScopeSpans` (or `InstrumentationLibrarySpans`),
    /// entry `index` of field `name`.
    fn scope_spans(
        &mut self,
        bytes: &[u8],
        depth: u32,
        name: &str,
        index: usize,
    ) -> Result<(), WireError> {
        let mut k = 0;
        for field in Fields::new(bytes, depth) {
            match field? {
                (2, Value::Bytes(span)) => {
                    match self
                        .span(span, depth - 1)
                        .map_err(|e| e.within("spans", Some(k)))?
                    {
                        Ok(span) => self.spans.push(span),
                        Err(message) => self.skipped.push(format!(
                            "ResourceSpans.{name}[{index}].spans[{k}]: {message}"
                        )),
                    }
                    k += 1;
                }
                (2, other) => return Err(wrong(2, other, LEN)),
                _ => {}
            }
        }
        Ok(())
    }

    /// Reads a `Span`: the span, or why it is skipped.
    fn span(&self, bytes: &[u8], depth: u32) -> Result<Result<TracedSpan, String>, WireError> {
        let strings = self.strings;
        let mut span = SpanFields::default();
        // Attribute values are interned as they come, before the span is
        // known to be valid: a skipped span only leaves unused strings.
        let mut kept = AttrsBuilder::default();
        let mut links = Vec::new();
        let (mut attributes, mut link_index) = (0, 0);
        for field in Fields::new(bytes, depth) {
            match field? {
                (1, Value::Bytes(id)) => span.trace_id = id,
                (2, Value::Bytes(id)) => span.span_id = id,
                (4, Value::Bytes(id)) => span.parent_span_id = id,
                (5, Value::Bytes(name)) => span.name = name,
                (6, Value::Varint(kind)) => span.kind = kind as i32,
                (7, Value::Fixed64(nanos)) => span.start = nanos,
                (8, Value::Fixed64(nanos)) => span.end = nanos,
                (9, Value::Bytes(kv)) => {
                    let (key, value) = key_value(kv, depth - 1)
                        .map_err(|e| e.within("attributes", Some(attributes)))?;
                    attributes += 1;
                    if let Some(pick) = Pick::of_bytes(key) {
                        common::keep(&mut kept, pick, value.scalar(), strings);
                    }
                }
                (13, Value::Bytes(bytes)) => {
                    let link =
                        link(bytes, depth - 1).map_err(|e| e.within("links", Some(link_index)))?;
                    links.extend(link);
                    link_index += 1;
                }
                (15, Value::Bytes(bytes)) => {
                    status(bytes, depth - 1, &mut span.status)
                        .map_err(|e| e.within("status", None))?;
                }
                (n @ (1 | 2 | 4 | 5 | 9 | 13 | 15), other) => return Err(wrong(n, other, LEN)),
                (6, other) => return Err(wrong(6, other, VARINT)),
                (n @ (7 | 8), other) => return Err(wrong(n, other, FIXED64)),
                _ => {}
            }
        }
        Ok(self.finish(&span, kept, links))
    }

    /// The span from its fields, or why it is skipped.
    fn finish(
        &self,
        span: &SpanFields<'_>,
        kept: AttrsBuilder<'_>,
        links: Vec<SpanLink>,
    ) -> Result<TracedSpan, String> {
        let trace_id = TraceId::from_bytes(span.trace_id)
            .map_err(|e| format!("bad or missing trace_id: {e}"))?;
        let span_id =
            SpanId::from_bytes(span.span_id).map_err(|e| format!("bad or missing span_id: {e}"))?;
        let start = common::time(span.start, "startTimeUnixNano")?;
        let end = common::time(span.end, "endTimeUnixNano")?;
        let name = text(span.name);
        Ok(TracedSpan {
            trace_id,
            span: Span {
                span_id,
                parent_id: SpanId::from_bytes(span.parent_span_id).ok(),
                start,
                end,
                service: self.service,
                name: common::name(&name, self.strings),
                kind: SpanKind::from_otlp(i64::from(span.kind)),
                status: common::status_from_code(i64::from(span.status)),
                id_sharing: crate::model::IdSharing::Own,
                service_from: crate::model::ServiceFrom::Own,
                attrs: kept.finish(self.strings),
                links: (!links.is_empty()).then(|| Box::new(links)),
                trace_label: None,
                origin: crate::model::Origin::UNKNOWN,
            },
        })
    }
}

/// Reads one encoded `ResourceSpans`, appending its spans to `spans`;
/// why each span it skipped was skipped, prefixed by where that span is.
/// On an error `spans` is left as it was, so that a message is read
/// entirely or not at all.
pub fn read_resource_spans(
    bytes: &[u8],
    strings: &Interner,
    spans: &mut Vec<TracedSpan>,
) -> Result<Vec<String>, WireError> {
    let before = spans.len();
    let read = read_into(bytes, strings, spans);
    if read.is_err() {
        spans.truncate(before);
    }
    read
}

fn read_into(
    bytes: &[u8],
    strings: &Interner,
    spans: &mut Vec<TracedSpan>,
) -> Result<Vec<String>, WireError> {
    // The resource names the service of every span but may follow them on
    // the wire, so a first pass over the top-level fields (a few keys and
    // lengths) finds it; occurrences of it merge, as in prost.
    let mut service = None;
    let mut legacy = false;
    for field in Fields::new(bytes, TOP_DEPTH) {
        match field? {
            (1, Value::Bytes(bytes)) => resource(bytes, TOP_DEPTH - 1, &mut service)
                .map_err(|e| e.within("resource", None))?,
            (SCOPE_SPANS, Value::Bytes(_)) => {}
            (LIBRARY_SPANS, Value::Bytes(_)) => legacy = true,
            (n @ (1 | SCOPE_SPANS | LIBRARY_SPANS), other) => return Err(wrong(n, other, LEN)),
            _ => {}
        }
    }
    let mut walker = Walker {
        strings,
        service: common::service(service.map(Raw::scalar).as_ref(), strings),
        spans,
        skipped: Vec::new(),
    };
    // All spans of `scope_spans` come before those of the legacy field,
    // however the two interleave: prost decodes them into two lists.
    let fields = [
        (SCOPE_SPANS, "scope_spans"),
        (LIBRARY_SPANS, "instrumentation_library_spans"),
    ];
    for &(number, name) in &fields[..if legacy { 2 } else { 1 }] {
        let mut index = 0;
        for field in Fields::new(bytes, TOP_DEPTH) {
            match field? {
                (n, Value::Bytes(scope)) if n == number => {
                    walker
                        .scope_spans(scope, TOP_DEPTH - 1, name, index)
                        .map_err(|e| e.within(name, Some(index)))?;
                    index += 1;
                }
                _ => {}
            }
        }
    }
    Ok(walker.skipped)
}

#[cfg(test)]
mod tests;
