//! The OTLP/JSON request as serde types that borrow their strings from the
//! input and skip, unparsed, everything no analysis reads (scopes, events,
//! most attributes). Scalars accept every spelling the protobuf JSON mapping
//! allows (64-bit integers as strings or numbers, enums as numbers, numeric
//! strings or names, `"NaN"`/`"Infinity"` doubles) and `null` anywhere a
//! field may be absent.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Unexpected, Visitor};

use super::common::{Pick, Scalar, status_from_code, status_from_name};
use crate::model::{AttrsBuilder, AttrsId, Interner, SpanKind, Status};

/// A top-level object: `TracesData`/`ExportTraceServiceRequest`, or one of
/// the query-API wrappers around it.
#[derive(Deserialize, Default)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub struct Document<'a> {
    /// The resource spans.
    #[serde(default, borrow, rename = "resourceSpans", alias = "resource_spans")]
    pub resource_spans: Seq<ResourceSpans<'a>>,
    /// Grafana Tempo's `/api/traces/{id}` names the resource spans `batches`.
    #[serde(default, borrow)]
    pub batches: Seq<ResourceSpans<'a>>,
    /// Jaeger's `/api/v3` responses wrap the request in `result`.
    #[serde(default, borrow)]
    pub result: Option<Box<Document<'a>>>,
    /// Tempo's `/api/v2/traces/{id}` wraps it in `trace`.
    #[serde(default, borrow)]
    pub trace: Option<Box<Document<'a>>>,
}

impl Document<'_> {
    /// Whether the object has any OTLP content key (even an empty one).
    pub fn recognised(&self) -> bool {
        self.resource_spans.present
            || self.batches.present
            || self.result.as_ref().is_some_and(|d| d.recognised())
            || self.trace.as_ref().is_some_and(|d| d.recognised())
    }
}

/// One `ResourceSpans`.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub struct ResourceSpans<'a> {
    /// The resource (only its `service.name` is kept).
    #[serde(default, borrow)]
    pub resource: Option<Resource<'a>>,
    /// The spans by instrumentation scope.
    #[serde(default, borrow, rename = "scopeSpans", alias = "scope_spans")]
    pub scope_spans: Seq<ScopeSpans<'a>>,
    /// The same, as OTLP before 0.15 named it.
    #[serde(
        default,
        borrow,
        rename = "instrumentationLibrarySpans",
        alias = "instrumentation_library_spans"
    )]
    pub library_spans: Seq<ScopeSpans<'a>>,
}

/// A `Resource`.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub struct Resource<'a> {
    /// Its attributes, of which only `service.name` is kept.
    #[serde(default, borrow)]
    pub attributes: Picks<'a>,
}

impl Resource<'_> {
    /// The `service.name` value, if given.
    pub fn service(&self) -> Option<&Scalar<'_>> {
        self.attributes
            .0
            .iter()
            .find(|(pick, _)| *pick == Pick::Service)
            .map(|(_, value)| value)
    }
}

/// A `ScopeSpans` (or legacy `InstrumentationLibrarySpans`); the scope
/// itself is skipped.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub struct ScopeSpans<'a> {
    /// The spans.
    #[serde(default, borrow)]
    pub spans: Seq<SpanJson<'a>>,
}

/// A `Span`, with only the fields critpath reads.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub struct SpanJson<'a> {
    /// Hex trace id.
    #[serde(default, borrow, rename = "traceId", alias = "trace_id")]
    pub trace_id: Option<Str<'a>>,
    /// Hex span id.
    #[serde(default, borrow, rename = "spanId", alias = "span_id")]
    pub span_id: Option<Str<'a>>,
    /// Hex parent span id; empty or absent for a root.
    #[serde(default, borrow, rename = "parentSpanId", alias = "parent_span_id")]
    pub parent_span_id: Option<Str<'a>>,
    /// The operation name.
    #[serde(default, borrow)]
    pub name: Option<Str<'a>>,
    /// The span kind.
    #[serde(default)]
    pub kind: KindField,
    /// Start, nanoseconds since the epoch.
    #[serde(default, rename = "startTimeUnixNano", alias = "start_time_unix_nano")]
    pub start: Option<Time>,
    /// End, nanoseconds since the epoch.
    #[serde(default, rename = "endTimeUnixNano", alias = "end_time_unix_nano")]
    pub end: Option<Time>,
    /// The attributes analyses read.
    #[serde(default, borrow)]
    pub attributes: SpanAttributes<'a>,
    /// Links to other spans.
    #[serde(default, borrow)]
    pub links: Seq<LinkJson<'a>>,
    /// The status.
    #[serde(default)]
    pub status: Option<StatusJson>,
}

/// A `Span.Link`, ids only.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub struct LinkJson<'a> {
    /// Hex trace id.
    #[serde(default, borrow, rename = "traceId", alias = "trace_id")]
    pub trace_id: Option<Str<'a>>,
    /// Hex span id.
    #[serde(default, borrow, rename = "spanId", alias = "span_id")]
    pub span_id: Option<Str<'a>>,
}

/// A `Status`; the message is skipped.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub struct StatusJson {
    /// The status code.
    #[serde(default)]
    pub code: StatusField,
}

/// A repeated field: an array, or `null` for none. `present` tells an
/// absent field from an empty one.
#[cfg_attr(test, derive(Debug, PartialEq))]
pub struct Seq<T> {
    /// The elements.
    pub items: Vec<T>,
    /// Whether the field was in the input.
    pub present: bool,
}

impl<T> Default for Seq<T> {
    fn default() -> Self {
        Seq {
            items: Vec::new(),
            present: false,
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Seq<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SeqVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for SeqVisitor<T> {
            type Value = Seq<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array or null")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Seq<T>, E> {
                Ok(Seq {
                    items: Vec::new(),
                    present: true,
                })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Seq<T>, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Seq {
                    items,
                    present: true,
                })
            }
        }
        deserializer.deserialize_any(SeqVisitor(PhantomData))
    }
}

/// A JSON string, borrowed from the input unless it holds escapes.
#[cfg_attr(test, derive(Debug, PartialEq))]
pub struct Str<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(StrVisitor)
    }
}

/// A span's attributes: as picked (serde's read), or already made into
/// the block the span keeps (the scanner's, see [`super::fast`]).
#[cfg_attr(test, derive(Debug, PartialEq))]
pub enum SpanAttributes<'a> {
    /// The picked attributes, to be kept when the span is converted.
    Picked(Picks<'a>),
    /// The block kept, taken by the conversion.
    Kept(Option<AttrsId>),
}

/// No attributes: none kept.
impl Default for SpanAttributes<'_> {
    fn default() -> Self {
        SpanAttributes::Kept(None)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for SpanAttributes<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Picks::deserialize(deserializer).map(SpanAttributes::Picked)
    }
}

/// The attributes a reader keeps ([`Pick`]), with their values; the values
/// of every other key are skipped unparsed.
#[derive(Default)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub struct Picks<'a>(pub Vec<(Pick, Scalar<'a>)>);

impl Picks<'_> {
    /// The attribute block a span with these picks keeps.
    pub fn kept(&self, strings: &Interner) -> Option<AttrsId> {
        let mut kept = AttrsBuilder::default();
        for (pick, value) in &self.0 {
            super::common::keep(&mut kept, *pick, value.borrowed(), strings);
        }
        kept.finish(strings)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Picks<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PicksVisitor;
        impl<'de> Visitor<'de> for PicksVisitor {
            type Value = Picks<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of key/value objects, or null")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Picks<'de>, E> {
                Ok(Picks::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Picks<'de>, A::Error> {
                let mut picks = Vec::new();
                while let Some(KeyValue(kept)) = seq.next_element()? {
                    picks.extend(kept);
                }
                Ok(Picks(picks))
            }
        }
        deserializer.deserialize_any(PicksVisitor)
    }
}

/// One `KeyValue`, kept only if its key is picked.
struct KeyValue<'a>(Option<(Pick, Scalar<'a>)>);

impl<'de: 'a, 'a> Deserialize<'de> for KeyValue<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KvVisitor;
        impl<'de> Visitor<'de> for KvVisitor {
            type Value = KeyValue<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a {\"key\", \"value\"} object")
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyValue<'de>, E> {
                Ok(KeyValue(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyValue<'de>, A::Error> {
                // `None` until the key is seen; `Some(None)` once it is known
                // to be uninteresting, so the value can be skipped unparsed.
                let mut pick: Option<Option<Pick>> = None;
                let mut value = None;
                while let Some(field) = map.next_key::<Field>()? {
                    match field {
                        Field::Key => {
                            let key: Option<Str<'de>> = map.next_value()?;
                            pick = Some(key.and_then(|k| Pick::of(&k.0)));
                        }
                        Field::Value if pick != Some(None) => {
                            value = Some(map.next_value::<AnyValue<'de>>()?.0);
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(KeyValue(pick.flatten().zip(value)))
            }
        }
        deserializer.deserialize_any(KvVisitor)
    }
}

/// An `AnyValue` reduced to its scalar.
struct AnyValue<'a>(Scalar<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for AnyValue<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AnyVisitor;
        impl<'de> Visitor<'de> for AnyVisitor {
            type Value = AnyValue<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an AnyValue object")
            }
            fn visit_unit<E: de::Error>(self) -> Result<AnyValue<'de>, E> {
                Ok(AnyValue(Scalar::Other))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnyValue<'de>, A::Error> {
                let mut out = Scalar::Other;
                while let Some(field) = map.next_key::<Field>()? {
                    let value = match field {
                        Field::StringValue => map
                            .next_value::<Option<Str<'de>>>()?
                            .map(|s| Scalar::Str(s.0)),
                        Field::BoolValue => {
                            map.next_value::<Option<Bool>>()?.map(|b| Scalar::Bool(b.0))
                        }
                        Field::IntValue => {
                            map.next_value::<Option<Int>>()?.map(|i| Scalar::Int(i.0))
                        }
                        Field::DoubleValue => map
                            .next_value::<Option<Double>>()?
                            .map(|d| Scalar::Double(d.0)),
                        // Arrays, key/value lists and bytes: no analysis reads them.
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            Some(Scalar::Other)
                        }
                    };
                    if let Some(value) = value {
                        out = value;
                    }
                }
                Ok(AnyValue(out))
            }
        }
        deserializer.deserialize_any(AnyVisitor)
    }
}

/// The member names of `KeyValue` and `AnyValue`, matched without
/// allocating.
enum Field {
    Key,
    Value,
    StringValue,
    BoolValue,
    IntValue,
    DoubleValue,
    Other,
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl Visitor<'_> for FieldVisitor {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
                Ok(match v {
                    "key" => Field::Key,
                    "value" => Field::Value,
                    "stringValue" | "string_value" => Field::StringValue,
                    "boolValue" | "bool_value" => Field::BoolValue,
                    "intValue" | "int_value" => Field::IntValue,
                    "doubleValue" | "double_value" => Field::DoubleValue,
                    _ => Field::Other,
                })
            }
        }
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

/// A scalar read leniently, from whichever JSON type it is given as;
/// `None` where it cannot be read from that value. The serde visitors and
/// the scanner's fast path ([`super::fast`]) both read through these.
pub trait Lenient: Sized {
    /// From a non-negative integer.
    fn from_u64(v: u64) -> Option<Self>;
    /// From a negative integer.
    fn from_i64(v: i64) -> Option<Self>;
    /// From any other number.
    fn from_f64(v: f64) -> Option<Self>;
    /// From a string's text.
    fn from_str(v: &str) -> Option<Self>;
    /// From `true` or `false`.
    fn from_bool(v: bool) -> Option<Self>;
    /// From `null`.
    fn from_unit() -> Option<Self>;
}

/// Defines a scalar read leniently with `deserialize_any`.
macro_rules! lenient {
    ($(#[$doc:meta])* $name:ident($inner:ty), $expecting:literal, |$v:ident| {
        u64: $u64:expr, i64: $i64:expr, f64: $f64:expr, str: $str:expr $(, bool: $bool:expr)? $(, unit: $unit:expr)?
    }) => {
        $(#[$doc])*
        #[cfg_attr(test, derive(Debug, PartialEq))]
        pub struct $name(pub $inner);

        // A spelling that ignores the value (`u64: None`) leaves `v` unused.
        #[allow(unused_variables)]
        impl Lenient for $name {
            fn from_u64($v: u64) -> Option<Self> {
                let parsed: Option<$inner> = $u64;
                parsed.map($name)
            }
            fn from_i64($v: i64) -> Option<Self> {
                let parsed: Option<$inner> = $i64;
                parsed.map($name)
            }
            fn from_f64($v: f64) -> Option<Self> {
                let parsed: Option<$inner> = $f64;
                parsed.map($name)
            }
            fn from_str($v: &str) -> Option<Self> {
                let parsed: Option<$inner> = $str;
                parsed.map($name)
            }
            #[allow(unreachable_code)]
            fn from_bool($v: bool) -> Option<Self> {
                $(return Some($name($bool));)?
                let _ = $v;
                None
            }
            #[allow(unreachable_code)]
            fn from_unit() -> Option<Self> {
                $(return Some($name($unit));)?
                None
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$name, E> {
                        $name::from_u64(v).ok_or_else(|| E::invalid_value(Unexpected::Unsigned(v), &self))
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$name, E> {
                        $name::from_i64(v).ok_or_else(|| E::invalid_value(Unexpected::Signed(v), &self))
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$name, E> {
                        $name::from_f64(v).ok_or_else(|| E::invalid_value(Unexpected::Float(v), &self))
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$name, E> {
                        $name::from_str(v).ok_or_else(|| E::invalid_value(Unexpected::Str(v), &self))
                    }
                    $(fn visit_bool<E: de::Error>(self, v: bool) -> Result<$name, E> {
                        let _ = stringify!($bool);
                        $name::from_bool(v).ok_or_else(|| E::invalid_type(Unexpected::Bool(v), &self))
                    })?
                    $(fn visit_unit<E: de::Error>(self) -> Result<$name, E> {
                        let _ = stringify!($unit);
                        $name::from_unit().ok_or_else(|| E::invalid_type(Unexpected::Unit, &self))
                    })?
                }
                deserializer.deserialize_any(V)
            }
        }
    };
}

/// A string of 1 to 19 ASCII digits as a number (which cannot overflow a
/// `u64`); `None` for anything else, which `str::parse` then reads. Every
/// span has two times written as such strings, and `trim().parse()` took
/// about 390 instructions for each (callgrind), this about a fifth of that.
fn plain_digits(v: &str) -> Option<u64> {
    crate::ingest::json_scan::leading_digits(v.as_bytes())
        .filter(|&(_, len)| len == v.len())
        .map(|(n, _)| n)
}

/// An `f64` that is a whole number within `i64`.
fn whole(v: f64) -> Option<i64> {
    (v.fract() == 0.0 && v.abs() < 9.2e18).then_some(v as i64)
}

lenient!(
    /// A fixed64 time: a number, or a string of digits.
    Time(u64), "nanoseconds as an integer or a string of digits", |v| {
        u64: Some(v),
        i64: u64::try_from(v).ok(),
        f64: whole(v).and_then(|i| u64::try_from(i).ok()),
        str: plain_digits(v).or_else(|| v.trim().parse().ok())
    }
);

lenient!(
    /// An `intValue`: a number, or a string of digits.
    Int(i64), "a 64-bit integer or a string of one", |v| {
        u64: i64::try_from(v).ok(),
        i64: Some(v),
        f64: whole(v),
        str: plain_digits(v)
            .and_then(|n| i64::try_from(n).ok())
            .or_else(|| v.trim().parse().ok())
    }
);

lenient!(
    /// A `doubleValue`: a number, a numeric string, `"NaN"` or `"Infinity"`.
    Double(f64), "a number, a numeric string, \"NaN\" or \"Infinity\"", |v| {
        u64: Some(v as f64),
        i64: Some(v as f64),
        f64: Some(v),
        str: v.trim().parse().ok()
    }
);

lenient!(
    /// A `boolValue`: `true`/`false`, also as strings.
    Bool(bool), "a boolean", |v| {
        u64: None,
        i64: None,
        f64: None,
        str: v.trim().parse().ok(),
        bool: v
    }
);

lenient!(
    /// `Span.kind`: the enum number (also as a string) or its name.
    #[derive(Default)]
    KindField(SpanKind), "a SpanKind number or name", |v| {
        u64: Some(SpanKind::from_otlp(i64::try_from(v).unwrap_or(0))),
        i64: Some(SpanKind::from_otlp(v)),
        f64: whole(v).map(SpanKind::from_otlp),
        str: Some(match v.trim().parse::<i64>() {
            Ok(n) => SpanKind::from_otlp(n),
            Err(_) => SpanKind::from_name(v.trim()),
        }),
        unit: SpanKind::Unspecified
    }
);

lenient!(
    /// `Status.code`: the enum number (also as a string) or its name.
    #[derive(Default)]
    StatusField(Status), "a StatusCode number or name", |v| {
        u64: Some(status_from_code(i64::try_from(v).unwrap_or(0))),
        i64: Some(status_from_code(v)),
        f64: whole(v).map(status_from_code),
        str: Some(match v.trim().parse::<i64>() {
            Ok(n) => status_from_code(n),
            Err(_) => status_from_name(v.trim()),
        }),
        unit: Status::Unset
    }
);

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A time or int given as a JSON string, read as the model reads it.
    fn read<T: for<'de> Deserialize<'de>>(text: &str) -> Option<T> {
        serde_json::from_value(serde_json::Value::String(text.to_string())).ok()
    }

    proptest! {
        /// The digits fast path reads every string as `str::parse` does,
        /// digits or not, short or long, in or out of range.
        #[test]
        fn times_and_ints_as_strings_read_as_str_parse_reads_them(
            text in prop_oneof![
                "[0-9]{1,21}",
                "[0-9 +\\-a.]{0,22}",
                any::<u64>().prop_map(|n| n.to_string()),
                any::<i64>().prop_map(|n| n.to_string()),
            ],
        ) {
            prop_assert_eq!(read::<Time>(&text).map(|t| t.0), text.trim().parse::<u64>().ok());
            prop_assert_eq!(read::<Int>(&text).map(|i| i.0), text.trim().parse::<i64>().ok());
        }
    }

    #[test]
    fn the_largest_times_and_ints_read_and_one_more_does_not() {
        assert_eq!(plain_digits("18446744073709551615"), None); // 20 digits: parsed by str
        assert_eq!(
            read::<Time>("18446744073709551615").map(|t| t.0),
            Some(u64::MAX)
        );
        assert_eq!(read::<Time>("18446744073709551616").map(|t| t.0), None);
        assert_eq!(
            plain_digits("9999999999999999999"),
            Some(9_999_999_999_999_999_999)
        );
        assert_eq!(
            read::<Int>("9223372036854775807").map(|i| i.0),
            Some(i64::MAX)
        );
        assert_eq!(read::<Int>("9223372036854775808").map(|i| i.0), None);
        assert_eq!(
            read::<Time>(" 1700000000000000000 ").map(|t| t.0),
            Some(1_700_000_000_000_000_000)
        );
        assert_eq!(plain_digits(""), None);
        assert_eq!(plain_digits("12a"), None);
    }
}
