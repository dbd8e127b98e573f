//! Helpers shared by the JSON readers: splitting an input into records
//! (one document, or JSON lines) and locating parse errors by line.

use super::{Framing, Input};
use crate::model::Location;

/// One JSON record of an input and the line it starts on (1-based).
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// The line the record starts on.
    pub line: u64,
    /// The record's bytes.
    pub bytes: &'a [u8],
}

impl Record<'_> {
    /// The location of a serde_json error inside this record, as a line of
    /// the whole input.
    pub fn error_location(&self, err: &serde_json::Error) -> Location {
        if err.line() == 0 {
            Location::Line(self.line)
        } else {
            Location::Line(self.line + err.line() as u64 - 1)
        }
    }
}

/// Splits `bytes` into JSON records: each non-blank line when the input is
/// JSON lines (its first non-blank line is a whole JSON value), otherwise the
/// whole input as one record.
pub fn records(bytes: &[u8]) -> Vec<Record<'_>> {
    let lines = lines(bytes);
    let first_complete = lines
        .iter()
        .find(|r| !r.bytes.trim_ascii().is_empty())
        .is_some_and(|r| serde_json::from_slice::<serde::de::IgnoredAny>(r.bytes).is_ok());
    if first_complete {
        lines
            .into_iter()
            .filter(|r| !r.bytes.trim_ascii().is_empty())
            .collect()
    } else {
        vec![Record { line: 1, bytes }]
    }
}

/// Parses one JSON record. Checking UTF-8 once for the whole record (fast,
/// vectorised) lets serde_json skip its check of every string; a record
/// that is not UTF-8 takes the byte path, which reports where it breaks.
pub fn parse<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> serde_json::Result<T> {
    match super::json_scan::utf8(bytes) {
        Some(text) => serde_json::from_str(text),
        None => serde_json::from_slice(bytes),
    }
}

/// One record parsed as a JSON value. Bad JSON is the whole input's error
/// when the input is this one record (`single`), else the record is skipped
/// and counted with its line (`Ok(None)`), as every JSON reader does.
pub fn value_or_skip(
    input: &Input<'_>,
    record: &Record<'_>,
    single: bool,
    sink: &mut super::Sink<'_>,
) -> Result<Option<serde_json::Value>, super::ReadError> {
    match parse(record.bytes) {
        Ok(value) => Ok(Some(value)),
        Err(err) if single => Err(super::ReadError::new(
            input,
            record.error_location(&err),
            format!("invalid JSON: {err}"),
        )),
        Err(err) => {
            sink.skip(record.error_location(&err), format!("invalid JSON: {err}"));
            Ok(None)
        }
    }
}

/// Reads one record held whole: parsed as a JSON value (see
/// [`value_or_skip`]) and given to `read`, which says whether it has one of
/// the reader's shapes. Its spans are then located at its line; a record of
/// none is counted as `not_this`, unless it is the whole input (`single`),
/// whose error the caller reports. Whether it was read.
pub fn read_value(
    input: &Input<'_>,
    record: &Record<'_>,
    single: bool,
    sink: &mut super::Sink<'_>,
    not_this: &str,
    read: impl FnOnce(&Record<'_>, &serde_json::Value, &mut super::Sink<'_>) -> bool,
) -> Result<bool, super::ReadError> {
    let Some(value) = value_or_skip(input, record, single, sink)? else {
        return Ok(false);
    };
    let first = sink.spans.len();
    if read(record, &value, sink) {
        sink.locate(first, &Location::Line(record.line));
        return Ok(true);
    }
    if !single {
        sink.skip(Location::Line(record.line), not_this);
    }
    Ok(false)
}

/// [`read_value`] of each of `records`: whether any was read.
pub fn read_values(
    input: &Input<'_>,
    records: &[Record<'_>],
    single: bool,
    sink: &mut super::Sink<'_>,
    not_this: &str,
    read: impl Fn(&Record<'_>, &serde_json::Value, &mut super::Sink<'_>) -> bool,
) -> Result<bool, super::ReadError> {
    let mut recognised = false;
    for record in records {
        recognised |= read_value(input, record, single, sink, not_this, &read)?;
    }
    Ok(recognised)
}

/// [`records_of`] for a reader that also reads a large bare array a member
/// at a time ([`Envelope::ARRAY`](super::json_envelope::Envelope::ARRAY)):
/// a window of one is its members, and where the input stops being an
/// array is counted in `sink` as one unreadable record, the message naming
/// `what` the reader expected (as "an array of Sentry events").
pub fn records_or_members<'a>(
    input: &Input<'a>,
    what: &str,
    sink: &mut super::Sink<'_>,
) -> Vec<Record<'a>> {
    let Some(pieces) = input.pieces else {
        return records_of(input);
    };
    let records = super::json_envelope::located_records(input.bytes, 1, pieces);
    records.count_broken(what, sink);
    let mut all = records.members;
    if !records.documents.is_empty() {
        // Lines that were objects, between arrays cut by member (see
        // `Envelope::ARRAY_LINES`), in the order read.
        all.extend(records.documents);
        all.sort_by_key(|r| r.line);
    }
    all
}

/// The records of an input: [`records`] of a whole input; every non-blank
/// line of a window of a JSON-lines stream, whatever its first line holds.
pub fn records_of<'a>(input: &Input<'a>) -> Vec<Record<'a>> {
    if input.window {
        // The stream's newlines, where it found them in these bytes.
        let found = input
            .line_ends
            .filter(|ends| ends.last().is_none_or(|&end| end < input.bytes.len()));
        let lines = match found {
            Some(ends) => lines_at(input.bytes, ends.iter().copied()),
            None => lines(input.bytes),
        };
        lines
            .into_iter()
            .filter(|r| !r.bytes.trim_ascii().is_empty())
            .collect()
    } else {
        records(input.bytes)
    }
}

/// [`Framing::Lines`] when `head` starts with a whole JSON value on its
/// first non-blank line (the test [`records`] makes), so a large JSON-lines
/// input can be read a window at a time.
pub fn lines_framing(head: &[u8]) -> Option<Framing> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let mut rest = head;
    while let Some(nl) = memchr::memchr(b'\n', rest) {
        let line = &rest[..nl];
        if !line.trim_ascii().is_empty() {
            return serde_json::from_slice::<serde::de::IgnoredAny>(line)
                .is_ok()
                .then_some(Framing::Lines);
        }
        rest = &rest[nl + 1..];
    }
    None
}

fn lines(bytes: &[u8]) -> Vec<Record<'_>> {
    lines_at(bytes, memchr::memchr_iter(b'\n', bytes))
}

/// The lines of `bytes`, whose newlines are at `ends` (ascending).
fn lines_at(bytes: &[u8], ends: impl Iterator<Item = usize>) -> Vec<Record<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut line = 1;
    for nl in ends {
        out.push(Record {
            line,
            bytes: &bytes[start..nl],
        });
        start = nl + 1;
        line += 1;
    }
    if start < bytes.len() {
        out.push(Record {
            line,
            bytes: &bytes[start..],
        });
    }
    out
}

/// The first non-whitespace byte, skipping a UTF-8 byte-order mark.
pub fn first_byte(head: &[u8]) -> Option<u8> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    head.iter().copied().find(|b| !b.is_ascii_whitespace())
}

/// Whether `head` starts like JSON and contains `needle` (a quoted key).
pub fn json_with_key(head: &[u8], needle: &[u8]) -> bool {
    matches!(first_byte(head), Some(b'{' | b'[')) && memchr::memmem::find(head, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_document_is_one_record() {
        let doc = b"{\n  \"a\": 1\n}\n";
        let r = records(doc);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].line, 1);
    }

    #[test]
    fn json_lines_are_split_and_numbered() {
        let doc = b"{\"a\":1}\n\n{\"a\":2}\nnot json\n";
        let r = records(doc);
        assert_eq!(r.iter().map(|r| r.line).collect::<Vec<_>>(), vec![1, 3, 4]);
        assert_eq!(r[2].bytes, b"not json");
    }

    #[test]
    fn error_lines_are_relative_to_the_input() {
        let doc = b"{\"a\":1}\n{\"a\":}\n";
        let r = records(doc);
        let err = serde_json::from_slice::<serde_json::Value>(r[1].bytes).unwrap_err();
        assert_eq!(r[1].error_location(&err), Location::Line(2));
    }

    #[test]
    fn json_lines_stream_only_when_the_first_line_is_whole() {
        assert_eq!(lines_framing(b"\n{\"a\":1}\n{\"a\""), Some(Framing::Lines));
        assert_eq!(lines_framing(b"{\n  \"a\": 1\n}\n"), None);
        assert_eq!(lines_framing(b"{\"a\":1"), None);
    }

    #[test]
    fn a_window_is_lines_even_if_its_first_line_is_bad() {
        let input = Input {
            name: "x",
            bytes: b"{\"a\":\n{\"b\":2}\n",
            window: true,
            pieces: None,
            line_ends: None,
        };
        assert_eq!(records_of(&input).len(), 2);
        let whole = Input {
            window: false,
            pieces: None,
            ..input
        };
        assert_eq!(records_of(&whole).len(), 1);
    }

    proptest::proptest! {
        /// A window split at the newlines the stream found is the window
        /// searched for them: the same records, on the same lines. Ends
        /// that cannot be this window's (past its end) are not used.
        #[test]
        fn a_window_split_at_found_newlines_is_the_window_searched(
            bytes in proptest::collection::vec(
                proptest::sample::select(b"{}a \n\r".to_vec()), 0..64),
        ) {
            let searched = Input {
                name: "x",
                bytes: &bytes,
                window: true,
                pieces: None,
                line_ends: None,
            };
            let ends: Vec<usize> = memchr::memchr_iter(b'\n', &bytes).collect();
            let found = Input { line_ends: Some(&ends), ..searched };
            let parts = |input: &Input<'_>| -> Vec<(u64, Vec<u8>)> {
                records_of(input).iter().map(|r| (r.line, r.bytes.to_vec())).collect()
            };
            proptest::prop_assert_eq!(parts(&found), parts(&searched));
            let past = [bytes.len() + 1];
            let wrong = Input { line_ends: Some(&past), ..searched };
            proptest::prop_assert_eq!(parts(&wrong), parts(&searched));
        }
    }

    #[test]
    fn parsing_checks_utf8_once_and_still_locates_bad_bytes() {
        let good: serde_json::Value = parse(b"{\"a\": \"caf\xc3\xa9\"}").unwrap();
        assert_eq!(good["a"], "caf\u{e9}");
        let err = parse::<serde_json::Value>(b"{\n\"a\": \"\xff\"}").unwrap_err();
        assert_eq!(err.line(), 2, "{err}");
    }

    #[test]
    fn sniffing_helpers() {
        assert_eq!(first_byte(b"\xEF\xBB\xBF  {"), Some(b'{'));
        assert!(json_with_key(
            b" {\"resourceSpans\": []}",
            b"\"resourceSpans\""
        ));
        assert!(!json_with_key(b"\x0a\x02", b"\"resourceSpans\""));
    }
}
