//! Feeds arbitrary text to the statement, command and URL normalisers, then
//! runs the whole pipeline on a trace whose database and HTTP spans carry
//! that text (query shapes, edges, findings, every report): no input may
//! panic them.
#![no_main]

use critpath::ingest::Format;
use critpath::normalize::{statement_shape, url_shape};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = statement_shape(None, text);
        let _ = statement_shape(Some("mysql"), text);
        let _ = statement_shape(Some("redis"), text);
        let _ = url_shape(Some("GET"), text);
        critpath_fuzz::pipeline(
            Format::OtlpJson,
            critpath_fuzz::trace_with_text(text).as_bytes(),
        );
    }
});
