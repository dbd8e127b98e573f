//! A Jaeger trace as serde types that borrow from the input and skip what
//! no analysis reads (logs, warnings, process tags), so that a trace is
//! read without building a `serde_json::Value` tree. A trace these types
//! cannot describe (a member of an unexpected type) is read again through
//! the general `Value` path, which skips and counts just the bad spans.
//! Objects are read as [`Object`]s, so a trace the `Value` path refuses
//! (an array where an object belongs, `1e400` in a member no field names)
//! is refused here too (see [`crate::ingest::json_strict`]); a tag value
//! critpath does not read is checked by [`checked`].

use std::borrow::Cow;

use rustc_hash::FxHashMap;
use serde::Deserialize;
use serde_json::value::RawValue;

pub(crate) use crate::ingest::json_strict::Object;
use crate::ingest::json_strict::{Checked, Text};

/// Whether `raw` is JSON a `Value` parse accepts (a `RawValue` is only
/// checked for its syntax, not for numbers beyond `f64` or lone
/// surrogates). Its nesting is counted from `raw` itself, not from the
/// top of the trace.
pub fn checked(raw: Raw<'_>) -> bool {
    serde_json::from_str::<Checked>(raw.text).is_ok()
}

/// A member's value as its JSON text, unparsed: what serde_json's
/// `RawValue` takes (checked for its grammar only), without the
/// whitespace around it.
#[derive(Clone, Copy)]
pub struct Raw<'a> {
    pub text: &'a str,
    /// Whether the text is known to hold no backslash: the scanner's
    /// compact match ([`crate::ingest::json_scan::Scanner::compact_raw`])
    /// takes none, so the tag values it reads (nearly all) are not
    /// searched for one again. A `RawValue` says nothing of it.
    pub unescaped: bool,
}

impl<'a> Raw<'a> {
    /// The text between the quotes, if the value is a string without
    /// escapes: a raw value is valid JSON, so that text is the string's.
    pub fn plain_string(self) -> Option<&'a str> {
        match self.text.as_bytes() {
            [b'"', inner @ .., b'"'] if self.unescaped || !inner.contains(&b'\\') => {
                Some(&self.text[1..self.text.len() - 1])
            }
            _ => None,
        }
    }
}

/// Values are the same text, however each was read: the tests compare
/// what the scanner reads with what serde reads.
#[cfg(test)]
impl PartialEq for Raw<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

#[cfg(test)]
impl std::fmt::Debug for Raw<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Raw").field(&self.text).finish()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Raw<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <&'de RawValue>::deserialize(deserializer).map(|raw| Raw {
            text: raw.get(),
            unescaped: false,
        })
    }
}

/// A trace object: `{"traceID", "spans", "processes"}`.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub struct Trace<'a> {
    /// The trace's id, used by spans without one of their own.
    #[serde(default, borrow, rename = "traceID")]
    pub trace_id: Option<Cow<'a, str>>,
    /// The spans.
    #[serde(borrow)]
    pub spans: Vec<Object<Span<'a>>>,
    /// Processes by id.
    #[serde(default, borrow)]
    pub processes: Option<FxHashMap<Cow<'a, str>, Option<Object<Process<'a>>>>>,
}

/// A process; only its service is read.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub struct Process<'a> {
    /// The service name.
    #[serde(default, borrow, rename = "serviceName")]
    pub service_name: Option<Cow<'a, str>>,
}

/// A span, with the members critpath reads.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub struct Span<'a> {
    /// The span's id.
    #[serde(default, borrow, rename = "spanID")]
    pub span_id: Option<Cow<'a, str>>,
    /// Its trace's id, if given on the span.
    #[serde(default, borrow, rename = "traceID")]
    pub trace_id: Option<Cow<'a, str>>,
    /// Microseconds since the epoch (a number, or one as text).
    #[serde(default, borrow, rename = "startTime")]
    pub start: Option<Raw<'a>>,
    /// Microseconds.
    #[serde(default, borrow)]
    pub duration: Option<Raw<'a>>,
    /// References to other spans.
    #[serde(default, borrow)]
    pub references: Option<Vec<Object<Reference<'a>>>>,
    /// The legacy parent id.
    #[serde(default, borrow, rename = "parentSpanID")]
    pub parent_span_id: Option<Cow<'a, str>>,
    /// Tags.
    #[serde(default, borrow)]
    pub tags: Option<Tags<'a>>,
    /// The operation name.
    #[serde(default, borrow, rename = "operationName")]
    pub operation_name: Option<Cow<'a, str>>,
    /// An embedded process.
    #[serde(default, borrow)]
    pub process: Option<Object<Process<'a>>>,
    /// The id of the trace's process that recorded the span.
    #[serde(default, borrow, rename = "processID")]
    pub process_id: Option<Cow<'a, str>>,
}

/// A reference to another span.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub struct Reference<'a> {
    /// `CHILD_OF` or `FOLLOWS_FROM`.
    #[serde(default, borrow, rename = "refType")]
    pub ref_type: Option<Cow<'a, str>>,
    /// The referenced trace.
    #[serde(default, borrow, rename = "traceID")]
    pub trace_id: Option<Cow<'a, str>>,
    /// The referenced span.
    #[serde(default, borrow, rename = "spanID")]
    pub span_id: Option<Cow<'a, str>>,
}

/// A span's tags, each read from an object: those critpath reads, and
/// those whose value came before their key (to be checked, see [`Tag`]).
/// The rest were checked and dropped while parsed, and are not kept: a
/// span's tags are mostly ones no analysis reads.
#[cfg_attr(test, derive(Debug, PartialEq))]
pub struct Tags<'a>(pub Vec<Tag<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for Tags<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TagsVisitor<'a>(std::marker::PhantomData<&'a ()>);

        impl<'de: 'a, 'a> serde::de::Visitor<'de> for TagsVisitor<'a> {
            type Value = Tags<'a>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array of tags")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Tags<'a>, A::Error> {
                let mut tags = Vec::new();
                while let Some(Object(tag)) = seq.next_element::<Object<Tag<'de>>>()? {
                    if tag.read.is_some() || tag.value.is_some() {
                        tags.push(tag);
                    }
                }
                Ok(Tags(tags))
            }
        }

        deserializer.deserialize_seq(TagsVisitor(std::marker::PhantomData))
    }
}

/// A tag: its value is kept raw when its key is one critpath reads, and
/// otherwise checked (as a `Value` parse would check it) and dropped in
/// the same pass. A value given before its key is kept raw and checked by
/// [`checked`] later.
#[cfg_attr(test, derive(Debug, PartialEq))]
pub struct Tag<'a> {
    /// The key.
    pub key: Option<Cow<'a, str>>,
    /// What critpath reads the tag as, when its key is one it reads (see
    /// `read_tag`).
    pub read: Option<super::TagUse>,
    /// The value, unparsed; `None` when absent or dropped.
    pub value: Option<Raw<'a>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Tag<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TagVisitor<'a>(std::marker::PhantomData<&'a ()>);

        impl<'de: 'a, 'a> serde::de::Visitor<'de> for TagVisitor<'a> {
            type Value = Tag<'a>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a tag object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Tag<'a>, A::Error> {
                use serde::de::Error;
                let mut tag = Tag {
                    key: None,
                    read: None,
                    value: None,
                };
                let (mut has_key, mut has_value) = (false, false);
                while let Some(Text(member)) = map.next_key::<Text<'de>>()? {
                    match member.as_ref() {
                        "key" if has_key => return Err(A::Error::duplicate_field("key")),
                        "key" => {
                            has_key = true;
                            tag.key = map.next_value::<Option<Text<'de>>>()?.map(|t| t.0);
                            tag.read = tag.key.as_deref().and_then(super::read_tag);
                        }
                        "value" if has_value => return Err(A::Error::duplicate_field("value")),
                        "value" => {
                            has_value = true;
                            // A `null` key may be any: its value is kept.
                            if has_key && tag.key.is_some() && tag.read.is_none() {
                                map.next_value::<Checked>()?;
                            } else {
                                tag.value = map.next_value()?;
                            }
                        }
                        _ => {
                            map.next_value::<Checked>()?;
                        }
                    }
                }
                Ok(tag)
            }
        }

        deserializer.deserialize_map(TagVisitor(std::marker::PhantomData))
    }
}
