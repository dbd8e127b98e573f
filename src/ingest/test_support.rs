//! Helpers shared by the readers' unit tests.

use std::path::Path;

use super::{Input, ReadError, Reader, Sink};
use crate::model::{Interner, Location, Quality, Span};

/// Reads `bytes` with `reader`, returning the spans and what was counted.
pub fn read_with(
    reader: &dyn Reader,
    strings: &Interner,
    bytes: &[u8],
) -> Result<(Vec<Span>, Quality), ReadError> {
    let input = Input {
        window: false,
        pieces: None,
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

/// (span id, location) of every span, sorted by id.
pub fn located<'s>(spans: impl Iterator<Item = &'s Span>) -> Vec<(u64, Option<Location>)> {
    let mut out: Vec<_> = spans.map(|s| (s.span_id.0, s.origin.location())).collect();
    out.sort_unstable_by_key(|(id, _)| *id);
    out
}
