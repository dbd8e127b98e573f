//! Finding the line of a value inside a JSON record, for skip messages.
//!
//! The JSON readers parse a record into a `serde_json::Value`, which keeps no
//! positions. When one span inside a pretty-printed export must be skipped,
//! "line 1" would be useless, so the record is scanned again along the
//! span's path (object keys and array indices) to find the line its object
//! opens on. That costs one more parse of the record, so it is only done for
//! the problems kept as examples (see [`skip_at`]).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::Sink;
use super::json_records::Record;
use super::times::Rejected;
use crate::model::{Location, MAX_EXAMPLES};

/// One step of a path into a JSON value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step<'a> {
    /// A member of an object.
    Key(&'a str),
    /// An element of an array.
    Index(usize),
}

/// The marker error that stops the scan at the target; any other error
/// means the path was not found.
const FOUND: &str = "critpath: target reached";

/// Walks one level of the path per nesting level and fails with [`FOUND`]
/// on entering the target object or array, because serde_json stamps an
/// error with the position it was raised at.
struct Seek<'p, 'a>(&'p [Step<'a>]);

impl<'de> DeserializeSeed<'de> for Seek<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seek<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        match self.0.split_first() {
            None => Err(de::Error::custom(FOUND)),
            Some((Step::Key(want), rest)) => {
                while let Some(key) = map.next_key::<String>()? {
                    if key == *want {
                        return map.next_value_seed(Seek(rest));
                    }
                    map.next_value::<IgnoredAny>()?;
                }
                Ok(())
            }
            Some((Step::Index(_), _)) => Ok(()),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        match self.0.split_first() {
            None => Err(de::Error::custom(FOUND)),
            Some((Step::Index(index), rest)) => {
                for _ in 0..*index {
                    if seq.next_element::<IgnoredAny>()?.is_none() {
                        return Ok(());
                    }
                }
                seq.next_element_seed(Seek(rest)).map(|_| ())
            }
            Some((Step::Key(_), _)) => Ok(()),
        }
    }

    // Scalars on the way are not the target; accept them so the scan ends
    // quietly instead of with a type error.
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// The 1-based line of `bytes` on which the object or array at `path`
/// opens, or `None` if there is no object or array there.
pub fn line_of(bytes: &[u8], path: &[Step<'_>]) -> Option<u64> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let err = Seek(path).deserialize(&mut deserializer).err()?;
    if err.line() == 0 || !err.to_string().starts_with(FOUND) {
        return None;
    }
    // serde_json's column is the 0-based offset in the line of the byte it
    // would read next, which may be past whitespace after the opening
    // bracket; step back to the bracket.
    let line_start = if err.line() == 1 {
        0
    } else {
        memchr::memchr_iter(b'\n', bytes).nth(err.line() - 2)? + 1
    };
    let next = (line_start + err.column()).min(bytes.len());
    let last_token = |end: usize| bytes[..end].iter().rposition(|b| !b.is_ascii_whitespace());
    let mut bracket = last_token(next)?;
    // An empty object or array is closed before the error is stamped.
    if matches!(bytes[bracket], b'}' | b']') {
        bracket = last_token(bracket)?;
    }
    if !matches!(bytes[bracket], b'{' | b'[') {
        return None;
    }
    Some(1 + memchr::memchr_iter(b'\n', &bytes[..bracket]).count() as u64)
}

/// Where the value of `record` at `path` opens: its line.
pub fn location_of(record: &Record<'_>, path: &[Step<'_>]) -> Location {
    Location::Line(record.line + line_of(record.bytes, path).unwrap_or(1) - 1)
}

/// Counts a skipped value of `record` found at `path`, located by line while
/// the problem can still be kept as an example (otherwise at the record's
/// first line, which is then never shown).
pub fn skip_at(sink: &mut Sink<'_>, record: &Record<'_>, path: &[Step<'_>], message: String) {
    reject_at(sink, record, path, Rejected::Unparsable(message));
}

/// [`skip_at`] for any rejection: an out-of-bounds time is counted as such
/// (see [`super::times`]), anything else as unparsable.
pub fn reject_at(sink: &mut Sink<'_>, record: &Record<'_>, path: &[Step<'_>], rejected: Rejected) {
    let within = if sink.quality.examples.len() < MAX_EXAMPLES {
        line_of(record.bytes, path).unwrap_or(1)
    } else {
        1
    };
    rejected.record(sink, Location::Line(record.line + within - 1));
}

#[cfg(test)]
mod tests {
    use super::Step::{Index, Key};
    use super::*;

    const PRETTY: &str = r#"{
  "data": [
    {
      "spans": [
        { "a": 1 },
        {
          "spanID": "x"
        },
        [ ],
        {}
      ]
    }
  ]
}"#;

    #[test]
    fn finds_objects_and_arrays_in_a_pretty_document() {
        let b = PRETTY.as_bytes();
        assert_eq!(line_of(b, &[]), Some(1));
        assert_eq!(line_of(b, &[Key("data")]), Some(2));
        assert_eq!(line_of(b, &[Key("data"), Index(0)]), Some(3));
        let spans = [Key("data"), Index(0), Key("spans")];
        assert_eq!(line_of(b, &spans), Some(4));
        assert_eq!(
            line_of(b, &[spans[0], spans[1], spans[2], Index(0)]),
            Some(5)
        );
        assert_eq!(
            line_of(b, &[spans[0], spans[1], spans[2], Index(1)]),
            Some(6)
        );
        assert_eq!(
            line_of(b, &[spans[0], spans[1], spans[2], Index(2)]),
            Some(9)
        );
        assert_eq!(
            line_of(b, &[spans[0], spans[1], spans[2], Index(3)]),
            Some(10)
        );
    }

    #[test]
    fn compact_documents_give_line_one() {
        let b = br#"{"spans":[{"a":1},{"b":{"c":[1,2]}}]}"#;
        assert_eq!(line_of(b, &[Key("spans"), Index(1), Key("b")]), Some(1));
        assert_eq!(line_of(b, &[Key("spans"), Index(1)]), Some(1));
    }

    #[test]
    fn missing_paths_and_scalars_are_none() {
        let b = PRETTY.as_bytes();
        assert_eq!(line_of(b, &[Key("nope")]), None);
        assert_eq!(line_of(b, &[Key("data"), Index(7)]), None);
        assert_eq!(line_of(b, &[Key("data"), Key("x")]), None);
        let spans = [Key("data"), Index(0), Key("spans"), Index(1), Key("spanID")];
        assert_eq!(line_of(b, &spans), None);
        assert_eq!(line_of(b"not json", &[]), None);
    }
}
