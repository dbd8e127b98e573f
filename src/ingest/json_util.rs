//! Helpers shared by the JSON readers: splitting an input into records
//! (one document, or JSON lines) and locating parse errors by line.

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

fn lines(bytes: &[u8]) -> Vec<Record<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut line = 1;
    for nl in memchr::memchr_iter(b'\n', bytes) {
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
    fn sniffing_helpers() {
        assert_eq!(first_byte(b"\xEF\xBB\xBF  {"), Some(b'{'));
        assert!(json_with_key(
            b" {\"resourceSpans\": []}",
            b"\"resourceSpans\""
        ));
        assert!(!json_with_key(b"\x0a\x02", b"\"resourceSpans\""));
    }
}
