//! Placeholder; being written.

use super::{Format, Input, ReadError, Reader, Sink};

/// Reader stub.
pub struct OtlpJsonReader;

impl Reader for OtlpJsonReader {
    fn format(&self) -> Format {
        Format::OtlpJson
    }
    fn sniff(&self, _head: &[u8]) -> bool {
        false
    }
    fn read(&self, _input: &Input<'_>, _sink: &mut Sink<'_>) -> Result<(), ReadError> {
        Ok(())
    }
}
