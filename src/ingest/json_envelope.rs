//! Cutting a large `{"data": [member, ...], ...}` document (the Jaeger
//! query API's envelope) into windows of whole members, so that it is read
//! a window at a time like JSON lines instead of held whole.
//!
//! The scan only follows structure (strings, brackets, commas); it does not
//! validate. Each member is parsed, and so checked, by its reader; a window
//! never needs to be valid JSON on its own. A window starts either at the
//! start of a document (`{"data": [`), or just after a member, where only
//! `,` (another member) or `]` (the end of the array) can follow; the scan
//! cuts only after a member or after a document's closing `}`, so every
//! window starts in one of those places. Several envelopes in a row (JSON
//! lines of envelopes, or concatenated documents) are read the same way.

use std::ops::Range;

/// One piece of a window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// One member of a `data` array.
    Member(Range<usize>),
    /// From a `data` array's closing `]` to its document's closing `}`:
    /// the document's other members (`], "errors": [...]}`).
    Tail(Range<usize>),
    /// Where the input stops having this shape; the rest of the window
    /// (which then runs to the end of the input) is not read.
    Bad {
        /// Offset in the window.
        at: usize,
        /// What was expected there, for the message.
        expected: &'static str,
    },
}

/// The whole pieces at the start of a buffer.
#[derive(Debug, Default)]
pub struct Scan {
    /// Their length: the buffer is cut here.
    pub len: usize,
    /// The pieces, in order.
    pub pieces: Vec<Piece>,
}

/// Whether `head` starts with `{"data": [` (after a byte-order mark and
/// white space), the shape [`scan`] cuts.
pub fn starts_envelope(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let at = skip_space(head, 0);
    matches!(envelope_head(head, at), Head::Found(_))
}

/// Scans `buf` (which starts where a window starts, see the module
/// documentation) for whole pieces. At the end of the input (`eof`) every
/// byte belongs to a piece, and what does not have the expected shape is
/// one [`Piece::Bad`] running to the end; before it, a malformed or
/// incomplete piece ends the scan, so that the window grows until the
/// input ends or the piece completes.
pub fn scan(buf: &[u8], eof: bool) -> Scan {
    let mut out = Scan::default();
    let mut at = if buf.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    // Just after `{"data": [`, where a member needs no comma before it.
    let mut opened = false;
    loop {
        let p = skip_space(buf, at);
        if p == buf.len() {
            if eof {
                out.len = buf.len();
            }
            return out;
        }
        let step = match buf[p] {
            b']' => close(buf, p + 1, 1).map(|end| (Piece::Tail(p..end), end)),
            b',' if !opened => {
                let q = skip_space(buf, p + 1);
                value_end(buf, q, eof).map(|end| (Piece::Member(q..end), end))
            }
            b'{' if !opened => match envelope_head(buf, p) {
                Head::Found(after) => {
                    at = after;
                    opened = true;
                    continue;
                }
                Head::Unknown => None,
                Head::Not => Some((
                    Piece::Bad {
                        at: p,
                        expected: "`{\"data\": [`",
                    },
                    buf.len(),
                )),
            },
            _ if opened => value_end(buf, p, eof).map(|end| (Piece::Member(p..end), end)),
            _ => Some((
                Piece::Bad {
                    at: p,
                    expected: "`,` or `]` after a member of the data array",
                },
                buf.len(),
            )),
        };
        match step {
            // A bad piece is only final at the end of the input: before it,
            // the window grows so that the bad piece ends up last of all.
            Some((Piece::Bad { .. }, _)) if !eof => return out,
            Some((piece, end)) => {
                out.pieces.push(piece);
                out.len = end;
                at = end;
                opened = false;
            }
            None if eof => {
                out.pieces.push(Piece::Bad {
                    at: p,
                    expected: "a complete JSON value",
                });
                out.len = buf.len();
                return out;
            }
            None => return out,
        }
    }
}

enum Head {
    /// The offset just after `[`.
    Found(usize),
    /// `buf` ends before it can tell.
    Unknown,
    Not,
}

/// Matches `{ "data" : [` at `at`.
fn envelope_head(buf: &[u8], at: usize) -> Head {
    let mut p = at;
    for token in [&b"{"[..], b"\"data\"", b":", b"["] {
        p = skip_space(buf, p);
        let rest = &buf[p.min(buf.len())..];
        if rest.len() < token.len() {
            return if token.starts_with(rest) {
                Head::Unknown
            } else {
                Head::Not
            };
        }
        if !rest.starts_with(token) {
            return Head::Not;
        }
        p += token.len();
    }
    Head::Found(p)
}

fn skip_space(buf: &[u8], mut at: usize) -> usize {
    while at < buf.len() && matches!(buf[at], b' ' | b'\t' | b'\n' | b'\r') {
        at += 1;
    }
    at
}

/// The end of the JSON value that starts at `at`, if `buf` holds all of it.
fn value_end(buf: &[u8], at: usize, eof: bool) -> Option<usize> {
    match buf.get(at)? {
        b'{' | b'[' => close(buf, at + 1, 1),
        b'"' => string_end(buf, at + 1),
        // A scalar ends where a delimiter starts; one that runs to the end
        // of the buffer may go on in the next read.
        _ => {
            let end = buf[at..]
                .iter()
                .position(|b| matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r'))
                .map(|n| at + n);
            match end {
                Some(end) if end > at => Some(end),
                Some(_) => None,
                None => eof.then_some(buf.len()),
            }
        }
    }
}

/// The offset just after the bracket that brings `depth` open brackets,
/// counted from `at`, to zero.
fn close(buf: &[u8], mut at: usize, mut depth: usize) -> Option<usize> {
    while at < buf.len() {
        match buf[at] {
            b'"' => {
                at = string_end(buf, at + 1)?;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(at + 1);
                }
            }
            _ => {}
        }
        at += 1;
    }
    None
}

/// The offset just after the closing quote of a string whose contents
/// start at `at`.
fn string_end(buf: &[u8], mut at: usize) -> Option<usize> {
    loop {
        at += memchr::memchr2(b'"', b'\\', buf.get(at..)?)?;
        if buf[at] == b'"' {
            return Some(at + 1);
        }
        at += 2; // an escape: the next byte is never the string's end
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn texts(buf: &str, scan: &Scan) -> Vec<String> {
        scan.pieces
            .iter()
            .map(|p| match p {
                Piece::Member(r) => format!("member {}", &buf[r.clone()]),
                Piece::Tail(r) => format!("tail {}", &buf[r.clone()]),
                Piece::Bad { at, .. } => format!("bad {}", &buf[*at..]),
            })
            .collect()
    }

    #[test]
    fn an_envelope_is_members_then_its_tail() {
        let doc = "{\"data\": [\n{\"a\": \"x]}\\\"\"}, [1, {}] ,\"s\", 12\n], \"errors\": [{\"msg\": \"}\"}]}\n";
        let got = scan(doc.as_bytes(), true);
        assert_eq!(got.len, doc.len());
        assert_eq!(
            texts(doc, &got),
            [
                "member {\"a\": \"x]}\\\"\"}",
                "member [1, {}]",
                "member \"s\"",
                "member 12",
                "tail ], \"errors\": [{\"msg\": \"}\"}]}",
            ]
        );
    }

    #[test]
    fn before_the_end_the_scan_stops_at_the_last_whole_piece() {
        let doc = "{\"data\":[{\"a\":1},{\"b\":[2,";
        let got = scan(doc.as_bytes(), false);
        assert_eq!(texts(doc, &got), ["member {\"a\":1}"]);
        assert_eq!(&doc[got.len..], ",{\"b\":[2,");
        // A number at the end of the buffer may have more digits to come.
        let got = scan(b"{\"data\":[1,23", false);
        assert_eq!(got.pieces, [Piece::Member(9..10)]);
        assert_eq!(scan(b"{\"da", false).len, 0);
    }

    #[test]
    fn a_later_window_starts_after_a_member() {
        let doc = " ,{\"c\":3}\n]}\n{\"data\": []}";
        let got = scan(doc.as_bytes(), true);
        assert_eq!(texts(doc, &got), ["member {\"c\":3}", "tail ]}", "tail ]}"]);
    }

    #[test]
    fn what_is_not_an_envelope_is_one_bad_piece_at_the_end() {
        for (doc, bad) in [
            ("{\"data\":[{}] {\"x\": 1}", "] {\"x\": 1}"),
            ("{\"data\":[{} {}]}", "{}]}"),
            (
                "{\"data\":[{\"a\": \"unterminated]}",
                "{\"a\": \"unterminated]}",
            ),
            ("[1, 2]", "[1, 2]"),
        ] {
            let before_the_end = scan(doc.as_bytes(), false);
            assert!(
                !before_the_end
                    .pieces
                    .iter()
                    .any(|p| matches!(p, Piece::Bad { .. })),
                "{doc}"
            );
            let got = scan(doc.as_bytes(), true);
            assert_eq!(got.len, doc.len(), "{doc}");
            assert_eq!(
                texts(doc, &got).last().unwrap(),
                &format!("bad {bad}"),
                "{doc}"
            );
        }
    }

    #[test]
    fn only_a_data_array_starts_an_envelope() {
        assert!(starts_envelope(
            b"\xEF\xBB\xBF \n{ \"data\" :\n[{\"traceID\""
        ));
        assert!(!starts_envelope(b"{\"total\": 1, \"data\": []}"));
        assert!(!starts_envelope(b"{\"data\": null}"));
        assert!(!starts_envelope(b"[{\"data\": []}]"));
    }

    proptest! {
        /// Cutting anywhere and scanning each window in turn finds the
        /// pieces one scan of the whole finds.
        #[test]
        fn windows_find_what_the_whole_finds(
            members in proptest::collection::vec("[a-z\\\\\"\\]\\[{},\n ]{0,12}", 0..12),
            cuts in proptest::collection::vec(1usize..40, 1..30),
        ) {
            let body: Vec<String> = members
                .iter()
                .map(|m| serde_json::json!({"m": m, "n": [1, {"k": m}]}).to_string())
                .collect();
            let doc = format!("{{\"data\": [\n{}\n], \"errors\": null}}\n", body.join(",\n"));
            let whole = scan(doc.as_bytes(), true);
            let mut found = Vec::new();
            let (mut start, mut end) = (0, 0);
            let mut sizes = cuts.iter().cycle();
            loop {
                let eof = end == doc.len();
                let got = scan(&doc.as_bytes()[start..end], eof);
                found.extend(got.pieces.iter().map(|p| match p {
                    Piece::Member(r) => Piece::Member(r.start + start..r.end + start),
                    Piece::Tail(r) => Piece::Tail(r.start + start..r.end + start),
                    Piece::Bad { at, expected } => Piece::Bad { at: at + start, expected },
                }));
                start += got.len;
                if eof {
                    break;
                }
                end = (end + sizes.next().unwrap()).min(doc.len());
            }
            prop_assert_eq!(start, doc.len());
            prop_assert_eq!(found, whole.pieces.clone());
            prop_assert_eq!(whole.pieces.len(), members.len() + 1);
        }
    }
}
