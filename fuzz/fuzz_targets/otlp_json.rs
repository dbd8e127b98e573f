//! Feeds arbitrary bytes to the OTLP/JSON reader: no input may panic it.
#![no_main]

use critpath::ingest::{Format, fuzz_read};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzz_read(Format::OtlpJson, data));
