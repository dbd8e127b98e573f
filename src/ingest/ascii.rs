//! Text that is ASCII, taken as text without a UTF-8 walk.
//!
//! Nearly every string a span carries (names, keys, services, methods,
//! routes, statements) is short ASCII. `str::from_utf8` walks a short
//! string a byte at a time, about 105 instructions each on protobuf's;
//! `is_ascii` checks a word at a time. Readers try this first and fall
//! back to a full check only for text that is not ASCII.

/// `bytes` as text when every byte is ASCII; `None` otherwise (it may
/// still be UTF-8).
#[inline]
pub(crate) fn ascii(bytes: &[u8]) -> Option<&str> {
    // SAFETY: ASCII bytes are valid UTF-8.
    bytes
        .is_ascii()
        .then(|| unsafe { std::str::from_utf8_unchecked(bytes) })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Text exactly when ASCII, and then the bytes' own text.
        #[test]
        fn ascii_is_text_exactly_when_every_byte_is_below_0x80(bytes in prop_oneof![
            proptest::collection::vec(0u8..0x80, 0..40),
            proptest::collection::vec(any::<u8>(), 0..40),
            "[a-zé€ ]{0,12}".prop_map(String::into_bytes),
        ]) {
            let read = ascii(&bytes);
            prop_assert_eq!(read.is_some(), bytes.iter().all(|&b| b < 0x80));
            if let Some(text) = read {
                prop_assert_eq!(text.as_bytes(), &bytes[..]);
            }
        }
    }
}
