//! Finding the line of a value inside a JSON record, for skip messages.
//!
//! The JSON readers parse a record into a `serde_json::Value`, which keeps no
//! positions. When one span inside a pretty-printed export must be skipped,
//! "line 1" would be useless, so the record is scanned again along the
//! span's path (object keys and array indices) to find the line its object
//! opens on. That costs one more parse of the record, so it is only done for
//! the problems kept as examples (see [`skip_at`]). A reader that must
//! locate many values of one record (every event of a wrapper) finds them
//! all in one walk ([`lines_of`]).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::Sink;
use super::json_envelope::{End, skip_space, value_end};
use super::json_records::Record;
use super::times::Rejected;
use crate::model::{Location, MAX_EXAMPLES};

/// One step of a path into a JSON value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    if path.is_empty() {
        // The record itself (every event of JSON lines): where its first
        // token is, without a parse.
        let at = skip_space(bytes, 0);
        return matches!(bytes.get(at), Some(b'{' | b'['))
            .then(|| 1 + memchr::memchr_iter(b'\n', &bytes[..at]).count() as u64);
    }
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

/// The 1-based lines on which the objects or arrays at `paths` open (`None`
/// where there is none), found in one walk over `bytes`. [`line_of`]
/// parses from the start of the record for each path: for every event of
/// a 34 MB array of 17,427 Sentry events read whole that took 440 s.
///
/// The walk follows structure only (see [`super::json_brackets`]): `bytes`
/// is a record already parsed as JSON.
pub fn lines_of(bytes: &[u8], paths: &[&[Step<'_>]]) -> Vec<Option<u64>> {
    let mut root = Node::default();
    for (i, path) in paths.iter().enumerate() {
        let mut node = &mut root;
        for step in *path {
            node = node.children.entry(*step).or_default();
        }
        node.targets.push(i);
    }
    let mut opens = vec![None; paths.len()];
    walk(bytes, 0, &root, &mut opens);
    // Lines counted in one pass, over the offsets in ascending order.
    let mut order: Vec<usize> = (0..paths.len()).filter(|&i| opens[i].is_some()).collect();
    order.sort_unstable_by_key(|&i| opens[i]);
    let (mut lines, mut counted, mut line) = (vec![None; paths.len()], 0, 1u64);
    for i in order {
        let at = opens[i].unwrap_or(0);
        line += memchr::memchr_iter(b'\n', &bytes[counted..at]).count() as u64;
        counted = at;
        lines[i] = Some(line);
    }
    lines
}

/// The paths that pass through one value, as a tree of steps.
#[derive(Default)]
struct Node<'p> {
    /// The paths (by index) that end at this value.
    targets: Vec<usize>,
    children: std::collections::HashMap<Step<'p>, Node<'p>>,
}

/// Walks the value that starts at or after `at` (after white space),
/// noting in `opens` where the targets of `node` open; the offset just
/// after the value (`None` where `bytes` ends first).
fn walk(bytes: &[u8], at: usize, node: &Node<'_>, opens: &mut [Option<usize>]) -> Option<usize> {
    let at = skip_space(bytes, at);
    let open = *bytes.get(at)?;
    if matches!(open, b'{' | b'[') {
        for &t in &node.targets {
            opens[t] = Some(at);
        }
    }
    let close = match open {
        _ if node.children.is_empty() => return skip_value(bytes, at),
        b'{' => b'}',
        b'[' => b']',
        _ => return skip_value(bytes, at),
    };
    let (mut p, mut index) = (at + 1, 0usize);
    loop {
        p = skip_space(bytes, p);
        match *bytes.get(p)? {
            b if b == close => return Some(p + 1),
            b',' => p += 1,
            _ if open == b'{' => {
                let end = super::json_brackets::string_end(bytes, p + 1)?;
                let raw = &bytes[p + 1..end - 1];
                p = skip_space(bytes, end) + 1; // past the `:`
                let key: std::borrow::Cow<'_, str> = if raw.contains(&b'\\') {
                    serde_json::from_slice::<String>(&bytes[end - raw.len() - 2..end])
                        .map_or(std::borrow::Cow::Borrowed(""), std::borrow::Cow::Owned)
                } else {
                    String::from_utf8_lossy(raw)
                };
                p = match node.children.get(&Step::Key(&key)) {
                    Some(child) => walk(bytes, p, child, opens)?,
                    None => skip_value(bytes, p)?,
                };
            }
            _ => {
                p = match node.children.get(&Step::Index(index)) {
                    Some(child) => walk(bytes, p, child, opens)?,
                    None => skip_value(bytes, p)?,
                };
                index += 1;
            }
        }
    }
}

/// The offset just after the value that starts at or after `at`, found as
/// the envelope scan finds a member's end.
fn skip_value(bytes: &[u8], at: usize) -> Option<usize> {
    match value_end(bytes, skip_space(bytes, at), true) {
        End::At(end) => Some(end),
        End::More | End::Bad => None,
    }
}

/// Where the value of `record` at `path` opens: its line.
pub fn location_of(record: &Record<'_>, path: &[Step<'_>]) -> Location {
    line_in(record, line_of(record.bytes, path))
}

/// Line `within` of `record` (1-based, as [`line_of`] and [`lines_of`]
/// give it) as a line of the input; the record's first line when `None`.
pub fn line_in(record: &Record<'_>, within: Option<u64>) -> Location {
    Location::Line(record.line + within.unwrap_or(1) - 1)
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
        line_of(record.bytes, path)
    } else {
        None
    };
    rejected.record(sink, line_in(record, within));
}

#[cfg(test)]
mod tests {
    use super::Step::{Index, Key};
    use super::*;
    use proptest::prelude::*;

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

    #[test]
    fn lines_of_many_paths_are_found_in_one_walk() {
        let b = PRETTY.as_bytes();
        let spans = [Key("data"), Index(0), Key("spans")];
        let deeper = |i| [spans[0], spans[1], spans[2], Index(i)];
        let (one, two, three) = (deeper(1), deeper(2), deeper(3));
        let paths: [&[Step<'_>]; 8] = [
            &three,
            &[],
            &one,
            &[Key("data")],
            &two,
            &[Key("nope")],
            &[spans[0], spans[1], spans[2], Index(0), Key("a")],
            &three,
        ];
        assert_eq!(
            lines_of(b, &paths),
            [
                Some(10),
                Some(1),
                Some(6),
                Some(2),
                Some(9),
                None,
                None,
                Some(10)
            ]
        );
        // An escaped key is compared unescaped.
        let escaped = b"{\"a\\u0062\": [\n{}]}";
        assert_eq!(lines_of(escaped, &[&[Key("ab"), Index(0)]]), [Some(2)]);
    }

    /// Any JSON value, a few levels deep, with keys that need escaping.
    fn json() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<i32>().prop_map(Value::from),
            "[a-z\"\\\\ ]{0,4}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::btree_map("[ab\"\\\\]{0,2}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Every path to a value of `value`, and one past each container's end.
    fn paths(
        value: &serde_json::Value,
        at: &mut Vec<(bool, String, usize)>,
        out: &mut Vec<Vec<(bool, String, usize)>>,
    ) {
        out.push(at.clone());
        match value {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    at.push((true, k.clone(), 0));
                    paths(v, at, out);
                    at.pop();
                }
                at.push((true, "absent".into(), 0));
                out.push(at.clone());
                at.pop();
            }
            serde_json::Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    at.push((false, String::new(), i));
                    paths(v, at, out);
                    at.pop();
                }
                at.push((false, String::new(), items.len()));
                out.push(at.clone());
                at.pop();
            }
            _ => {}
        }
    }

    proptest! {
        /// One walk finds, for every path, the line one search finds.
        #[test]
        fn one_walk_agrees_with_a_search_per_path(value in json(), pretty in any::<bool>()) {
            let text = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                serde_json::to_string(&value).unwrap()
            };
            let mut owned = Vec::new();
            paths(&value, &mut Vec::new(), &mut owned);
            let steps: Vec<Vec<Step<'_>>> = owned
                .iter()
                .map(|p| {
                    p.iter()
                        .map(|(key, k, i)| if *key { Key(k.as_str()) } else { Index(*i) })
                        .collect()
                })
                .collect();
            let refs: Vec<&[Step<'_>]> = steps.iter().map(Vec::as_slice).collect();
            let each: Vec<Option<u64>> =
                refs.iter().map(|p| line_of(text.as_bytes(), p)).collect();
            prop_assert_eq!(lines_of(text.as_bytes(), &refs), each);
        }
    }
}
