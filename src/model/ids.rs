//! Trace and span identifiers, normalised across formats.
//!
//! OTLP, Jaeger and Sentry all write ids as hex (OTLP/protobuf as raw bytes),
//! so ids are held as integers: cheap to hash, compare and sort. Some exports
//! (Jaeger UI test data, hand-made traces) use ids that are not hex at all,
//! such as `span-A`; those are hashed into the same integer space so that
//! references between spans still resolve, and the trace keeps the original
//! text for display (see [`TraceId::parse`]).

use std::fmt;

/// A 128-bit trace identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TraceId(pub u128);

/// A 64-bit span identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SpanId(pub u64);

/// Why an id could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The id was empty (or all zero, which OTLP defines as invalid).
    #[error("empty or all-zero id")]
    Empty,
    /// Raw id bytes of an unexpected length.
    #[error("id has {0} bytes, expected {1}")]
    Length(usize, usize),
}

/// Parses hex digits (any case) into an integer, or `None` if any byte is not
/// hex or there are more digits than fit.
///
/// Every textual id of every span goes through here (about a hundred digits
/// a Jaeger span), so it is a table lookup per digit into two 64-bit halves,
/// with the check for a byte that is not hex made once at the end: a match
/// per digit into one 128-bit value took about twice the instructions.
fn parse_hex(text: &str, max_digits: usize) -> Option<u128> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() > max_digits {
        return None;
    }
    // Up to 16 digits in each half; the high half is the leading digits.
    let (high, low) = bytes.split_at(bytes.len().saturating_sub(16));
    let (mut not_hex, mut value) = (0u8, [0u64; 2]);
    for (half, digits) in value.iter_mut().zip([high, low]) {
        for &b in digits {
            let digit = HEX_DIGITS[usize::from(b)];
            not_hex |= digit;
            *half = (*half << 4) | u64::from(digit & 0x0f);
        }
    }
    (not_hex & NOT_HEX == 0).then(|| u128::from(value[0]) << 64 | u128::from(value[1]))
}

/// A byte that is not a hex digit, as [`HEX_DIGITS`] marks it.
const NOT_HEX: u8 = 0x80;

/// Each byte's value as a hex digit, or [`NOT_HEX`].
const HEX_DIGITS: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            c @ b'0'..=b'9' => c - b'0',
            c @ b'a'..=b'f' => c - b'a' + 10,
            c @ b'A'..=b'F' => c - b'A' + 10,
            _ => NOT_HEX,
        };
        b += 1;
    }
    table
};

/// FNV-1a: stable across runs and platforms, which a std hasher is not, so the
/// same non-hex id maps to the same integer in every file and every run.
fn fnv1a(text: &str) -> u128 {
    let mut hash: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for b in text.bytes() {
        hash ^= u128::from(b);
        hash = hash.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    hash
}

impl TraceId {
    /// Reads a textual trace id. Returns the id and whether it was hex; an
    /// id that is not hex is hashed, and the caller should keep the text.
    pub fn parse(text: &str) -> Result<(Self, bool), IdError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(IdError::Empty);
        }
        match parse_hex(text, 32) {
            Some(0) => Err(IdError::Empty),
            Some(v) => Ok((TraceId(v), true)),
            None => Ok((TraceId(fnv1a(text)), false)),
        }
    }

    /// Reads the 16 raw bytes of an OTLP/protobuf trace id.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, IdError> {
        let array: [u8; 16] = bytes
            .try_into()
            .map_err(|_| IdError::Length(bytes.len(), 16))?;
        match u128::from_be_bytes(array) {
            0 => Err(IdError::Empty),
            v => Ok(TraceId(v)),
        }
    }
}

impl SpanId {
    /// Reads a textual span id, hashing ids that are not hex (see module docs).
    pub fn parse(text: &str) -> Result<Self, IdError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(IdError::Empty);
        }
        match parse_hex(text, 16) {
            Some(0) => Err(IdError::Empty),
            Some(v) => Ok(SpanId(v as u64)),
            None => Ok(SpanId(fnv1a(text) as u64)),
        }
    }

    /// Reads a textual parent id, where empty or all-zero means "no parent".
    pub fn parse_parent(text: &str) -> Option<Self> {
        Self::parse(text).ok()
    }

    /// Reads the 8 raw bytes of an OTLP/protobuf span id.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, IdError> {
        let array: [u8; 8] = bytes
            .try_into()
            .map_err(|_| IdError::Length(bytes.len(), 8))?;
        match u64::from_be_bytes(array) {
            0 => Err(IdError::Empty),
            v => Ok(SpanId(v)),
        }
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The table lookup reads as the standard library does: the same
        /// value for hex text of up to `max` digits, `None` for the rest.
        #[test]
        fn hex_reads_as_from_str_radix(
            text in "[0-9a-fA-F]{0,33}|[0-9a-zA-Z+ -]{0,20}",
            max in proptest::prop_oneof![proptest::strategy::Just(16usize), proptest::strategy::Just(32usize)],
        ) {
            let want = (!text.is_empty() && text.len() <= max && text.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| u128::from_str_radix(&text, 16).unwrap());
            proptest::prop_assert_eq!(parse_hex(&text, max), want);
        }
    }

    #[test]
    fn hex_ids_any_case_are_equal() {
        let (a, hex_a) = TraceId::parse("5B8EFFF798038103D269B633813FC60C").unwrap();
        let (b, hex_b) = TraceId::parse("5b8efff798038103d269b633813fc60c").unwrap();
        assert_eq!(a, b);
        assert!(hex_a && hex_b);
        assert_eq!(a.to_string(), "5b8efff798038103d269b633813fc60c");
    }

    #[test]
    fn short_jaeger_trace_id_matches_padded_form() {
        let (short, _) = TraceId::parse("0000000000000001").unwrap();
        let (long, _) = TraceId::parse("00000000000000000000000000000001").unwrap();
        assert_eq!(short, long);
    }

    #[test]
    fn non_hex_ids_hash_consistently() {
        let a = SpanId::parse("span-A").unwrap();
        assert_eq!(a, SpanId::parse("span-A").unwrap());
        assert_ne!(a, SpanId::parse("span-B").unwrap());
        let (t, hex) = TraceId::parse("test1-trace").unwrap();
        assert!(!hex);
        assert_eq!(t, TraceId::parse("test1-trace").unwrap().0);
    }

    #[test]
    fn zero_and_empty_ids_are_rejected() {
        assert_eq!(SpanId::parse(""), Err(IdError::Empty));
        assert_eq!(SpanId::parse("0000000000000000"), Err(IdError::Empty));
        assert_eq!(SpanId::parse_parent("   "), None);
        assert_eq!(TraceId::from_bytes(&[0; 16]), Err(IdError::Empty));
        assert_eq!(SpanId::from_bytes(&[1, 2]), Err(IdError::Length(2, 8)));
    }

    #[test]
    fn bytes_and_hex_agree() {
        let bytes = [0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03];
        assert_eq!(
            SpanId::from_bytes(&bytes).unwrap(),
            SpanId::parse("5b8efff798038103").unwrap()
        );
    }
}
