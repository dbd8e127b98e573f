//! Feeds arbitrary text to the statement, command and URL normalisers: no
//! input may panic them.
#![no_main]

use critpath::normalize::{statement_shape, url_shape};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = statement_shape(None, text);
        let _ = statement_shape(Some("mysql"), text);
        let _ = statement_shape(Some("redis"), text);
        let _ = url_shape(Some("GET"), text);
    }
});
