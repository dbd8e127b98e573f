//! What the OTLP JSON and protobuf readers share: the mapping of OTLP's
//! enums, times and attribute values onto the span model, so that the same
//! request read from either encoding gives identical spans.

use std::borrow::Cow;

use crate::model::{AttrKey, AttrsBuilder, Interner, Nanos, Status, Sym};

/// The service of spans whose resource has no `service.name`, and the name
/// of spans with an empty one.
pub const UNKNOWN: &str = "unknown";

/// An attribute key a reader keeps the value of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    /// A span attribute an analysis reads.
    Attr(AttrKey, bool),
    /// The resource's `service.name`.
    Service,
}

impl Pick {
    /// Which kept attribute `key` is, if any.
    pub fn of(key: &str) -> Option<Self> {
        Self::of_bytes(key.as_bytes())
    }

    /// [`Pick::of`] a key not checked to be UTF-8 (see
    /// [`AttrKey::lookup_bytes`]).
    pub fn of_bytes(key: &[u8]) -> Option<Self> {
        if key == b"service.name" {
            Some(Pick::Service)
        } else {
            AttrKey::lookup_bytes(key).map(|(slot, preferred)| Pick::Attr(slot, preferred))
        }
    }
}

/// The scalar kinds of an OTLP `AnyValue`; arrays, key/value lists and
/// bytes are `Other` because no analysis reads them.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar<'a> {
    /// `stringValue`.
    Str(Cow<'a, str>),
    /// `boolValue`.
    Bool(bool),
    /// `intValue`.
    Int(i64),
    /// `doubleValue`.
    Double(f64),
    /// Any other kind, or no value.
    Other,
}

impl<'a> Scalar<'a> {
    /// The value as text, borrowed from the input where it can be; `None`
    /// for `Other` and empty strings.
    pub fn into_text(self) -> Option<Cow<'a, str>> {
        match self {
            Scalar::Str(s) if !s.is_empty() => Some(s),
            Scalar::Str(_) | Scalar::Other => None,
            Scalar::Bool(b) => Some(Cow::Borrowed(if b { "true" } else { "false" })),
            Scalar::Int(i) => Some(Cow::Owned(i.to_string())),
            Scalar::Double(d) => Some(Cow::Owned(d.to_string())),
        }
    }

    /// The value as interned text; `None` for `Other` and empty strings.
    pub fn intern(&self, strings: &Interner) -> Option<Sym> {
        self.borrowed()
            .into_text()
            .map(|text| strings.intern(&text))
    }

    /// The same value, borrowing this one's text.
    pub fn borrowed(&self) -> Scalar<'_> {
        match self {
            Scalar::Str(s) => Scalar::Str(Cow::Borrowed(s)),
            Scalar::Bool(b) => Scalar::Bool(*b),
            Scalar::Int(i) => Scalar::Int(*i),
            Scalar::Double(d) => Scalar::Double(*d),
            Scalar::Other => Scalar::Other,
        }
    }
}

/// Keeps `value` in `attrs` if `pick` is a span attribute.
pub fn keep<'a>(attrs: &mut AttrsBuilder<'a>, pick: Pick, value: Scalar<'a>, strings: &Interner) {
    if let Pick::Attr(slot, preferred) = pick
        && let Some(text) = value.into_text()
    {
        attrs.set(strings, slot, preferred, text);
    }
}

/// The interned service of a resource whose `service.name` is `value`.
pub fn service(value: Option<&Scalar<'_>>, strings: &Interner) -> Sym {
    value
        .and_then(|v| v.intern(strings))
        .unwrap_or_else(|| strings.intern(UNKNOWN))
}

/// The interned span name, `unknown` when empty.
pub fn name(text: &str, strings: &Interner) -> Sym {
    strings.intern(if text.is_empty() { UNKNOWN } else { text })
}

/// A span time from OTLP's unsigned nanoseconds. Zero is what protobuf
/// writes for an unset time, so it counts as missing in both encodings. A
/// time beyond `i64` saturates: the reader then counts the span as an
/// invalid time (see `ingest::times`), never wraps it.
pub fn time(nanos: u64, field: &str) -> Result<Nanos, String> {
    match nanos {
        0 => Err(format!("span has no \"{field}\" (or it is 0)")),
        n => Ok(Nanos::try_from(n).unwrap_or(Nanos::MAX)),
    }
}

/// The status from OTLP's `StatusCode` number.
pub fn status_from_code(code: i64) -> Status {
    match code {
        1 => Status::Ok,
        2 => Status::Error,
        _ => Status::Unset,
    }
}

/// The status from a `StatusCode` name (`STATUS_CODE_ERROR`, or `ERROR`).
pub fn status_from_name(name: &str) -> Status {
    let name = name.strip_prefix("STATUS_CODE_").unwrap_or(name);
    if name.eq_ignore_ascii_case("error") {
        Status::Error
    } else if name.eq_ignore_ascii_case("ok") {
        Status::Ok
    } else {
        Status::Unset
    }
}

/// Roughly how many input bytes one parallel task reads.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// Splits `items` into runs of about [`CHUNK_BYTES`] by `size`, in order,
/// so that many small records are read by few parallel tasks.
pub fn chunks<T>(items: &[T], size: impl Fn(&T) -> usize) -> Vec<&[T]> {
    let mut out = Vec::new();
    let (mut start, mut total) = (0, 0);
    for (i, item) in items.iter().enumerate() {
        total += size(item);
        if total >= CHUNK_BYTES {
            out.push(&items[start..=i]);
            (start, total) = (i + 1, 0);
        }
    }
    if start < items.len() {
        out.push(&items[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_become_the_same_text_in_both_encodings() {
        let strings = Interner::new();
        let text = |s: Scalar<'_>| {
            s.intern(&strings)
                .map(|sym| strings.resolve(sym).to_string())
        };
        assert_eq!(text(Scalar::Int(23456)).as_deref(), Some("23456"));
        assert_eq!(text(Scalar::Double(72.5)).as_deref(), Some("72.5"));
        assert_eq!(text(Scalar::Double(f64::NAN)).as_deref(), Some("NaN"));
        assert_eq!(text(Scalar::Bool(true)).as_deref(), Some("true"));
        assert_eq!(text(Scalar::Str("".into())), None);
        assert_eq!(text(Scalar::Other), None);
    }

    #[test]
    fn picks_service_and_known_attributes_only() {
        assert_eq!(Pick::of("service.name"), Some(Pick::Service));
        assert_eq!(
            Pick::of("http.method"),
            Some(Pick::Attr(AttrKey::HttpMethod, false))
        );
        assert_eq!(Pick::of("temperature"), None);
    }

    #[test]
    fn zero_is_refused_and_huge_times_saturate() {
        assert!(time(0, "startTimeUnixNano").is_err());
        assert_eq!(time(u64::MAX, "startTimeUnixNano"), Ok(i64::MAX));
        assert_eq!(
            time(1_544_712_660_000_000_000, "x"),
            Ok(1_544_712_660_000_000_000)
        );
    }

    #[test]
    fn chunks_cover_every_item_in_order() {
        let sizes = [CHUNK_BYTES - 1, 1, 5, CHUNK_BYTES, 3];
        let chunks = chunks(&sizes, |s| *s);
        assert_eq!(chunks, [&sizes[..2], &sizes[2..4], &sizes[4..]]);
        assert!(super::chunks(&[] as &[usize], |s| *s).is_empty());
    }

    #[test]
    fn status_codes_and_names() {
        assert_eq!(status_from_code(2), Status::Error);
        assert_eq!(status_from_code(1), Status::Ok);
        assert_eq!(status_from_code(7), Status::Unset);
        assert_eq!(status_from_name("STATUS_CODE_ERROR"), Status::Error);
        assert_eq!(status_from_name("Ok"), Status::Ok);
        assert_eq!(status_from_name("STATUS_CODE_UNSET"), Status::Unset);
    }
}
