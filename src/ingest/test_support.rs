//! Helpers shared by the readers' unit tests.

use std::path::Path;

use super::{Input, ReadError, Reader, Sink};
use crate::model::{Interner, Quality, Span};

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
