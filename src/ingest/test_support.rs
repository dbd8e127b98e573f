//! Helpers shared by the readers' unit tests.

use std::path::Path;

use super::{Input, ReadError, Reader, Sink};
use crate::model::{Interner, Location, Problem, Quality, Span, TracedSpan};

/// Reads `bytes` with `reader`, returning the spans and what was counted.
pub fn read_with(
    reader: &dyn Reader,
    strings: &Interner,
    bytes: &[u8],
) -> Result<(Vec<TracedSpan>, Quality), ReadError> {
    let input = Input {
        window: false,
        pieces: None,
        line_ends: None,
        name: "test-input",
        bytes,
    };
    let mut sink = Sink::new(input.name, strings);
    reader.read(&input, &mut sink)?;
    Ok((sink.spans, sink.quality))
}

/// The bytes of an outside oracle file, by its path under `tests/oracles/`.
pub fn oracle(relative: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/oracles")
        .join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Reads `doc` from a file, as the command line does (a window at a time
/// when it is large).
pub fn ingested(doc: &str) -> super::Ingested {
    use super::{IngestOptions, InputSource, ingest};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("input.json");
    std::fs::write(&file, doc).unwrap();
    ingest(&[InputSource::File(file)], &IngestOptions::default()).unwrap()
}

/// `doc`, more than three test windows long, read by `reader` as the
/// command line reads it (a window at a time, cut as `framing` says, which
/// is asserted) and whole: what each read, with the whole read's strings.
pub fn read_both_ways(
    reader: &dyn Reader,
    doc: &str,
    framing: super::Framing,
) -> (super::Ingested, Vec<TracedSpan>, Quality, Interner) {
    assert!(
        doc.len() > 3 * super::stream::WINDOW_BYTES,
        "{} bytes",
        doc.len()
    );
    assert_eq!(
        reader.framing(&doc.as_bytes()[..super::SNIFF_LEN]),
        Some(framing)
    );
    let streamed = ingested(doc);
    let strings = Interner::new();
    let (whole, quality) = read_with(reader, &strings, doc.as_bytes()).unwrap();
    (streamed, whole, quality, strings)
}

/// Asserts that a read a window at a time (`streamed`) counted what the
/// whole read counted: `unparsable` records, the first at `line` with the
/// same message.
pub fn assert_counted_alike(streamed: &Quality, whole: &Quality, unparsable: u64, line: u64) {
    assert_eq!(streamed.unparsable_records, unparsable);
    assert_eq!(whole.unparsable_records, unparsable);
    let (got, want) = (&streamed.examples[0], &whole.examples[0]);
    assert_eq!(got.location, Location::Line(line));
    assert_eq!(
        (&got.location, &got.message),
        (&want.location, &want.message)
    );
}

/// Ingests `doc` broken off: with the comma after the member that ends
/// with `end` (as `},`) just before the first `marker` removed. The spans
/// read, and the one problem counted, where it broke.
pub fn ingested_broken_before(doc: &str, marker: &str, end: &str) -> (usize, Problem) {
    let at = doc.find(marker).expect("the marker is in the document");
    let comma = doc[..at].rfind(end).expect("a member ends before it") + end.len() - 1;
    let broken = format!("{} {}", &doc[..comma], &doc[comma + 1..]);
    let got = ingested(&broken);
    let quality = &got.set.quality;
    assert_eq!(quality.unparsable_records, 1, "{:?}", quality.examples);
    (got.set.span_count(), quality.examples[0].clone())
}

/// (span id, location) of every span, sorted by id.
pub fn located<'s>(spans: impl Iterator<Item = &'s Span>) -> Vec<(u64, Option<Location>)> {
    let mut out: Vec<_> = spans.map(|s| (s.span_id.0, s.origin.location())).collect();
    out.sort_unstable_by_key(|(id, _)| *id);
    out
}

/// Runs `f` on the spans of each trace of `read` in turn, as building
/// each trace does (for the steps of that build that change spans).
pub fn per_trace(read: &mut [TracedSpan], f: impl Fn(&mut [Span])) {
    let mut traces: std::collections::BTreeMap<_, Vec<usize>> = Default::default();
    for (i, s) in read.iter().enumerate() {
        traces.entry(s.trace_id).or_default().push(i);
    }
    for at in traces.values() {
        let mut spans: Vec<Span> = at.iter().map(|&i| read[i].span.clone()).collect();
        f(&mut spans);
        for (&i, span) in at.iter().zip(spans) {
            read[i].span = span;
        }
    }
}

/// Strategies for JSON records with odd spellings, for the tests that hold
/// each reader's scanner fast path to its serde path.
pub mod json_text {
    use proptest::prelude::*;
    use proptest::sample::subsequence;

    /// JSON text for one of `good`, or (when `bad`, rarely) one of `odd`:
    /// spellings serde refuses or the scanner leaves to serde.
    pub fn pick(bad: bool, good: &[&'static str], odd: &[&'static str]) -> BoxedStrategy<String> {
        let good = prop::sample::select(good.to_vec()).prop_map(str::to_string);
        if bad && !odd.is_empty() {
            // Rare enough that many records have no odd value at all, so
            // the scanner's reads are compared, not only its giving up.
            let odd = prop::sample::select(odd.to_vec()).prop_map(str::to_string);
            prop_oneof![24 => good, 1 => odd].boxed()
        } else {
            good.boxed()
        }
    }

    /// An object of some of `members` (name spellings, value), in any
    /// order, with whitespace, or compact in the listed order; when `bad`,
    /// now and then a member twice.
    pub fn object(
        bad: bool,
        members: Vec<(Vec<&'static str>, BoxedStrategy<String>)>,
    ) -> BoxedStrategy<String> {
        let n = members.len();
        let entries: Vec<BoxedStrategy<String>> = members
            .into_iter()
            .map(|(names, value)| {
                // Compact (no space) as exporters write, which the fast
                // paths match as fixed runs, or spaced, which they do not.
                (prop::sample::select(names), value, " ?")
                    .prop_map(|(name, value, space)| format!("\"{name}\"{space}:{value}"))
                    .boxed()
            })
            .collect();
        let twice = if bad { 0..16usize } else { 0..1 };
        let any_form = (
            entries.clone(),
            subsequence((0..n).collect::<Vec<_>>(), 0..=n),
            twice,
            any::<prop::sample::Index>(),
            " ?\n?",
        )
            .prop_flat_map(|(entries, chosen, twice, dup, space)| {
                let mut chosen: Vec<String> = chosen.iter().map(|&i| entries[i].clone()).collect();
                if twice == 1 && !chosen.is_empty() {
                    let again = chosen[dup.index(chosen.len())].clone();
                    chosen.push(again);
                }
                Just(chosen)
                    .prop_shuffle()
                    .prop_map(move |c| format!("{{{space}{}}}", c.join(",")))
            });
        // As exporters write: members in the listed order, no whitespace
        // (the form the fast paths match as fixed runs of bytes).
        let compact = (entries, subsequence((0..n).collect::<Vec<_>>(), 0..=n)).prop_map(
            |(entries, chosen)| {
                let members: Vec<String> = chosen
                    .iter()
                    .map(|&i| entries[i].replacen("\" :", "\":", 1))
                    .collect();
                format!("{{{}}}", members.join(","))
            },
        );
        prop_oneof![3 => any_form, 1 => compact].boxed()
    }

    /// Values no field names, to be skipped: checked as serde_json's
    /// `IgnoredAny` checks them, or (`as_value`) as a `Value` parse does,
    /// which refuses numbers beyond `f64` and lone surrogates.
    pub fn junk(bad: bool, as_value: bool) -> BoxedStrategy<String> {
        let mut good = vec![
            "{\"a\": [1, -2.5e3, {\"b\": null}]}",
            "\"t\\u00e9\\n\"",
            "[]",
            "true",
            "12345678901234567890123",
        ];
        let mut odd = vec!["01", "[1,]", "tru", "\"\u{1}\"", "{\"a\" 1}"];
        let beyond_value = ["1e400", "\"\\ud800\""];
        if as_value {
            odd.extend(beyond_value);
        } else {
            good.extend(beyond_value);
        }
        pick(bad, &good, &odd)
    }

    /// One of `records` with one to three bytes deleted, inserted or
    /// replaced, the new bytes ones that matter to JSON (quotes,
    /// backslashes, brackets, digits, the letters of literals and escapes,
    /// a control character, half of a two-byte character): most edits then
    /// land on structure, strings or numbers rather than on nothing.
    pub fn edited(records: Vec<Vec<u8>>) -> BoxedStrategy<Vec<u8>> {
        let bytes = b"\"\\{}[],: 0123456789.-+eEntfuld/\x01\xc3".to_vec();
        let edit = (
            any::<prop::sample::Index>(),
            0..3u8,
            prop::sample::select(bytes),
        );
        (
            prop::sample::select(records),
            prop::collection::vec(edit, 1..4),
        )
            .prop_map(|(mut record, edits)| {
                for (at, kind, byte) in edits {
                    let i = at.index(record.len() + 1);
                    match kind {
                        0 if i < record.len() => drop(record.remove(i)),
                        1 => record.insert(i, byte),
                        _ if i < record.len() => record[i] = byte,
                        _ => record.push(byte),
                    }
                }
                record
            })
            .boxed()
    }

    /// The first lines (at most `per_file` of each, each under 32 KiB) of
    /// the bundled fixtures of `format` (`fixtures/FORMAT/*.jsonl`).
    pub fn fixture_lines(format: &str, per_file: usize) -> Vec<Vec<u8>> {
        let mut lines = Vec::new();
        for path in fixture_files(format) {
            let bytes = std::fs::read(&path).expect("a fixture");
            lines.extend(
                bytes
                    .split(|b| *b == b'\n')
                    .filter(|line| !line.is_empty() && line.len() < 32 << 10)
                    .take(per_file)
                    .map(<[u8]>::to_vec),
            );
        }
        assert!(!lines.is_empty(), "no fixture lines for {format}");
        lines
    }

    /// The bundled uncompressed fixtures of `format`
    /// (`fixtures/FORMAT/*.json` and `*.jsonl`), in name order.
    pub fn fixture_files(format: &str) -> Vec<std::path::PathBuf> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(format);
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("a directory entry").path())
            .filter(|path| {
                path.extension()
                    .is_some_and(|e| e == "jsonl" || e == "json")
            })
            .collect();
        paths.sort();
        paths
    }

    /// A read compared as text: a `doubleValue` of `"NaN"` equals itself.
    pub fn debug<T: std::fmt::Debug>(read: Option<&T>) -> String {
        format!("{read:?}")
    }
}
