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
/// a Jaeger span). Ids are nearly always 16 or 32 digits, read sixteen at a
/// time by [`hex16`] where the target has SSE2; other lengths (and other
/// targets) eight at a time by [`hex8`], a shorter tail by a table lookup
/// per digit, with the check for a byte that is not hex made once at the
/// end. (Hex crates decode
/// to bytes, and only an even number of digits: a short Jaeger id is odd.)
fn parse_hex(text: &str, max_digits: usize) -> Option<u128> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() > max_digits {
        return None;
    }
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    match bytes.len() {
        16 => return hex16(bytes.try_into().ok()?).map(u128::from),
        32 => {
            let (high, low) = bytes.split_at(16);
            let high = u128::from(hex16(high.try_into().ok()?)?);
            return Some(high << 64 | u128::from(hex16(low.try_into().ok()?)?));
        }
        _ => {}
    }
    // At most 32 digits: no digit is shifted out of the 128 bits.
    let blocks = bytes.chunks_exact(8);
    let tail = blocks.remainder();
    let mut value = 0u128;
    for block in blocks {
        value = value << 32 | u128::from(hex8(block.try_into().ok()?)?);
    }
    let mut not_hex = 0u8;
    for &b in tail {
        let digit = HEX_DIGITS[usize::from(b)];
        not_hex |= digit;
        value = value << 4 | u128::from(digit & 0x0f);
    }
    (not_hex & NOT_HEX == 0).then_some(value)
}

/// Eight hex digits (any case) as one number, first digit highest, or
/// `None` if any byte is not one: each step works on all eight bytes of one
/// 64-bit word at once (about 25 instructions, where a lookup per digit
/// took about 50).
fn hex8(block: [u8; 8]) -> Option<u32> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const TOPS: u64 = ONES * 0x80;
    let x = u64::from_be_bytes(block);
    if x & TOPS != 0 {
        return None; // not ASCII
    }
    // Each byte's top bit set where the byte is at least `lo`: with every
    // byte below 0x80, no sum carries into the next byte.
    let at_least = |v: u64, lo: u8| v.wrapping_add(ONES * u64::from(0x80 - lo)) & TOPS;
    let digit = at_least(x, b'0') & !at_least(x, b'9' + 1);
    let lower = x | (ONES * 0x20);
    let letter = at_least(lower, b'a') & !at_least(lower, b'f' + 1);
    if (digit | letter) != TOPS {
        return None;
    }
    // A digit's value is its low nibble; a letter's (bit 6 set, which no
    // digit has) is its low nibble plus 9.
    let mut n = (x & (ONES * 0x0f)) + ((x >> 6) & ONES) * 9;
    // Pairs of nibbles into bytes, pairs of bytes into 16 bits, then 32.
    n = (n | n >> 4) & 0x00ff_00ff_00ff_00ff;
    n = (n | n >> 8) & 0x0000_ffff_0000_ffff;
    n = (n | n >> 16) & 0xffff_ffff;
    Some(n as u32)
}

/// Sixteen hex digits (any case) as one number, first digit highest, or
/// `None` if any byte is not one: [`hex8`]'s steps on a 16-byte vector.
/// A span id is 16 digits and a trace id 32: read eight at a time, the
/// ids of 10,000 OTLP/JSON traces took 56.5 M instructions (about 140 a
/// span id, callgrind); read so, 20.6 M.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
fn hex16(block: &[u8; 16]) -> Option<u64> {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi8, _mm_and_si128, _mm_cmpgt_epi8, _mm_cvtsi128_si64, _mm_loadu_si128,
        _mm_movemask_epi8, _mm_or_si128, _mm_packus_epi16, _mm_set1_epi8, _mm_set1_epi16,
        _mm_setzero_si128, _mm_slli_epi16, _mm_srli_epi16,
    };
    // SAFETY: SSE2 is enabled for this target (the cfg above), and the
    // unaligned load reads the 16 bytes of `block`.
    unsafe {
        let x = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
        // Signed comparisons: a byte of 0x80 or more is negative, so it is
        // neither a digit nor (with bit 5 set) a letter.
        let within = |v: __m128i, lo: u8, hi: u8| {
            _mm_and_si128(
                _mm_cmpgt_epi8(v, _mm_set1_epi8((lo - 1) as i8)),
                _mm_cmpgt_epi8(_mm_set1_epi8((hi + 1) as i8), v),
            )
        };
        let digit = within(x, b'0', b'9');
        let letter = within(_mm_or_si128(x, _mm_set1_epi8(0x20)), b'a', b'f');
        if _mm_movemask_epi8(_mm_or_si128(digit, letter)) != 0xffff {
            return None;
        }
        // A digit's value is its low nibble; a letter's its low nibble
        // plus 9.
        let nibbles = _mm_add_epi8(
            _mm_and_si128(x, _mm_set1_epi8(0x0f)),
            _mm_and_si128(letter, _mm_set1_epi8(9)),
        );
        // Each 16-bit lane holds two digits, the first in its low byte:
        // first * 16 + second, then the lanes packed into bytes.
        let pairs = _mm_or_si128(
            _mm_and_si128(_mm_slli_epi16(nibbles, 4), _mm_set1_epi16(0x00f0)),
            _mm_srli_epi16(nibbles, 8),
        );
        let bytes = _mm_cvtsi128_si64(_mm_packus_epi16(pairs, _mm_setzero_si128()));
        // The first pair is the lowest byte: the first digit goes highest.
        Some((bytes as u64).swap_bytes())
    }
}

/// `text` without surrounding whitespace. An id nearly always has none: one
/// whose ends are printable ASCII is taken as it is, without the scan of
/// its ends for Unicode whitespace that `str::trim` makes.
fn trimmed(text: &str) -> &str {
    let plain = |b: Option<&u8>| b.is_some_and(|&b| b > b' ' && b.is_ascii());
    if plain(text.as_bytes().first()) && plain(text.as_bytes().last()) {
        text
    } else {
        text.trim()
    }
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
        let text = trimmed(text);
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

/// The last trace id read from text, remembered: a Jaeger trace names
/// itself in each of its spans and again in each span's references, so
/// most reads are one comparison with the text read before (Jaeger's read:
/// 2% fewer instructions). OTLP groups spans by resource, not by trace, so
/// it would seldom hit there.
#[derive(Debug, Default)]
pub struct TraceIdMemo {
    /// The text last read, if it was at most 32 bytes; `len` 0 when none.
    text: [u8; 32],
    len: u8,
    read: (TraceId, bool),
}

impl TraceIdMemo {
    /// [`TraceId::parse`] of `text`, from memory when it is the text last
    /// read (errors are not remembered).
    pub fn parse(&mut self, text: &str) -> Result<(TraceId, bool), IdError> {
        let bytes = text.as_bytes();
        if self.len > 0 && self.text.get(..usize::from(self.len)) == Some(bytes) {
            return Ok(self.read);
        }
        let read = TraceId::parse(text)?;
        if let Some(slot) = self.text.get_mut(..bytes.len()) {
            slot.copy_from_slice(bytes);
            self.len = bytes.len() as u8;
            self.read = read;
        }
        Ok(read)
    }
}

impl SpanId {
    /// Reads a textual span id, hashing ids that are not hex (see module docs).
    pub fn parse(text: &str) -> Result<Self, IdError> {
        let text = trimmed(text);
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
        /// Read through the memo, any sequence of ids (repeats, ids that
        /// are not hex, empty ones, ones longer than it keeps) reads as
        /// each read alone.
        #[test]
        fn the_memo_reads_as_parse_reads(
            texts in proptest::collection::vec(
                "[0-9a-f]{32}|[0-9a-f]{31,33}|[0-9a-fA-F ]{0,6}|span-[a-c]|x{40}",
                1..12,
            ),
            repeats in proptest::collection::vec(0usize..3, 12),
        ) {
            let mut memo = TraceIdMemo::default();
            for (text, n) in texts.iter().zip(&repeats) {
                for _ in 0..=*n {
                    proptest::prop_assert_eq!(memo.parse(text), TraceId::parse(text), "{:?}", text);
                }
            }
        }

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

    /// Every ASCII byte, and a non-ASCII character, at every place of `id`
    /// is read as the standard library reads it, with at most `max`
    /// digits: the bytes either side of each range of digits (`/ : @ G `
    /// g`) are where a bit trick would go wrong.
    fn each_byte_at_each_place_is_read_as_std_reads_it(id: &str, max: usize) {
        for at in 0..id.len() {
            let others = (0u8..128).map(char::from).chain(['\u{e9}', '\u{a0}']);
            for c in others {
                let text = format!("{}{c}{}", &id[..at], &id[at + 1..]);
                let want = (text.len() <= max && text.bytes().all(|b| b.is_ascii_hexdigit()))
                    .then(|| u128::from_str_radix(&text, 16).unwrap());
                assert_eq!(parse_hex(&text, max), want, "{text:?}");
            }
        }
    }

    /// A 32-digit id (read sixteen digits at a time where the CPU has
    /// vectors, else eight).
    #[test]
    fn each_byte_of_a_long_id_is_read_as_std_reads_it() {
        each_byte_at_each_place_is_read_as_std_reads_it("0123456789abcdefABCDEF0123456789", 32);
    }

    /// A 16-digit id, as a span id and as a (short) trace id.
    #[test]
    fn each_byte_of_a_span_id_is_read_as_std_reads_it() {
        for max in [16, 32] {
            each_byte_at_each_place_is_read_as_std_reads_it("09afAF0123456789", max);
        }
    }

    #[test]
    fn ids_are_read_without_surrounding_whitespace() {
        let want = SpanId::parse("5b8efff798038103").unwrap();
        for text in [
            " 5b8efff798038103",
            "5b8efff798038103\n",
            "\u{a0}5b8efff798038103\u{3000}",
        ] {
            assert_eq!(SpanId::parse(text).unwrap(), want, "{text:?}");
        }
        assert_eq!(trimmed("a b"), "a b");
        assert_eq!(trimmed("\t\u{85}x\u{a0}"), "x");
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
