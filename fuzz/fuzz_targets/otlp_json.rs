//! Feeds arbitrary bytes to the OTLP/JSON reader and the whole pipeline after
//! it (traces, analysis, every report): no input may panic it or make a
//! report show a negative time (see `critpath_fuzz::pipeline`).
#![no_main]

use critpath::ingest::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| critpath_fuzz::pipeline(Format::OtlpJson, data));
