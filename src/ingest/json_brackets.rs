//! Where a JSON value's brackets close, found 64 bytes at a time: the
//! search that cuts a large envelope into its members (see
//! [`super::json_envelope`]).
//!
//! It runs on the one thread that feeds every parser, over every byte of
//! the input, so it is kept to a few instructions per byte. Byte by byte,
//! a trace export's dense short strings made it branch on almost every
//! byte (1.0 s of CPU for 1.15 GB of Jaeger JSON); here each 64-byte block
//! is turned into bit masks (quotes, backslashes, opening and closing
//! brackets), strings are removed from the masks with a prefix XOR of the
//! quotes that are not escaped, and only a block where the depth can reach
//! zero is walked bracket by bracket. This is the first stage of simdjson
//! (Langdale and Lemire, "Parsing gigabytes of JSON per second", 2019).
//!
//! Like the scan it serves, this follows structure and does not validate.

/// Bit `i` of each mask is byte `i` of a block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Block {
    quote: u64,
    backslash: u64,
    open: u64,
    close: u64,
}

const BLOCK: usize = 64;

/// The offset just after the bracket that brings `depth` open brackets,
/// counted from `at`, to zero; `at` is outside any string. `None` when
/// `buf` ends first.
pub fn close(buf: &[u8], at: usize, depth: u64) -> Option<usize> {
    // A backslash outside a string (not JSON): a byte-by-byte walk ignores
    // it, where the masks take it for an escape. Such a member is walked
    // again that way, so that it is cut where it always was.
    blocks(buf, at, depth).unwrap_or_else(|| close_bytes(buf, at, depth))
}

/// [`close_blocks`] with the instructions this CPU has. Where it has
/// AVX2, `popcnt` and `pclmulqdq` (every x86-64 CPU since 2013), a block
/// is classified 32 bytes at a time, not 16, and its popcounts and its
/// strings' prefix XOR are one instruction each, where the baseline x86-64
/// target spends a dozen on each: on a Jaeger document, whose every byte
/// this search reads, it was the read's largest function.
fn blocks(buf: &[u8], at: usize, depth: u64) -> Option<Option<usize>> {
    #[cfg(target_arch = "x86_64")]
    if x86::available() {
        // SAFETY: the features it is built for were detected on this CPU.
        return unsafe { x86::close_blocks(buf, at, depth) };
    }
    close_blocks(buf, at, depth, prefix_xor, classify)
}

/// [`close`] a block at a time, `prefix` computing [`prefix_xor`] and
/// `masks` [`classify`]; `None` at a backslash outside a string. Always
/// inlined, so that a caller built for more instructions (see
/// [`blocks`]) runs it with them.
#[inline(always)]
fn close_blocks(
    buf: &[u8],
    mut at: usize,
    mut depth: u64,
    prefix: impl Fn(u64) -> u64,
    masks: impl Fn(&[u8; BLOCK]) -> Block,
) -> Option<Option<usize>> {
    let mut strings = Strings::default();
    while at < buf.len() {
        let block = block_at(buf, at, &masks);
        let inside = strings.inside(&block, &prefix);
        if block.backslash & !inside != 0 {
            return None;
        }
        let opens = block.open & !inside;
        let closes = block.close & !inside;
        if u64::from(closes.count_ones()) >= depth {
            // The depth may reach zero in this block: walk its brackets.
            let mut brackets = opens | closes;
            while brackets != 0 {
                let bit = brackets & brackets.wrapping_neg();
                if opens & bit != 0 {
                    depth += 1;
                } else {
                    depth -= 1;
                    if depth == 0 {
                        // (Padding past the end holds no bracket.)
                        return Some(Some(at + bit.trailing_zeros() as usize + 1));
                    }
                }
                brackets &= brackets - 1;
            }
        } else {
            depth = depth + u64::from(opens.count_ones()) - u64::from(closes.count_ones());
        }
        at += BLOCK;
    }
    Some(None)
}

/// [`close`] a byte at a time, where a backslash escapes only inside a
/// string.
fn close_bytes(buf: &[u8], mut at: usize, mut depth: u64) -> Option<usize> {
    while at < buf.len() {
        match buf[at] {
            b'"' => {
                at = string_end(buf, at + 1)?;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(at + 1);
                }
            }
            _ => {}
        }
        at += 1;
    }
    None
}

/// The offset just after the closing quote of a string whose contents
/// start at `at`; `None` when `buf` ends first.
pub fn string_end(buf: &[u8], mut at: usize) -> Option<usize> {
    loop {
        at += memchr::memchr2(b'"', b'\\', buf.get(at..)?)?;
        if buf[at] == b'"' {
            return Some(at + 1);
        }
        at += 2; // an escape: the next byte is never the string's end
    }
}

/// [`close_blocks`] built with AVX2, `popcnt` and `pclmulqdq`.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{BLOCK, Block};

    /// Whether this CPU has what [`close_blocks`] is built for (detected
    /// once; std caches the answer).
    pub(super) fn available() -> bool {
        std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("popcnt")
            && std::arch::is_x86_feature_detected!("pclmulqdq")
    }

    /// [`super::close_blocks`] with [`classify`], the prefix XOR as one
    /// carry-less multiplication, and popcounts as one instruction each.
    #[target_feature(enable = "avx2,popcnt,pclmulqdq")]
    pub(super) fn close_blocks(buf: &[u8], at: usize, depth: u64) -> Option<Option<usize>> {
        super::close_blocks(buf, at, depth, |x| prefix_xor(x), |b| classify(b))
    }

    /// [`super::classify`] 32 bytes at a time.
    #[target_feature(enable = "avx2")]
    pub(super) fn classify(bytes: &[u8; BLOCK]) -> Block {
        use std::arch::x86_64::{
            __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256,
            _mm256_set1_epi8,
        };
        let mut out = Block::default();
        for (i, half) in bytes.chunks_exact(32).enumerate() {
            // SAFETY: the load reads the 32 bytes of `half` (unaligned
            // loads need no alignment).
            let v = unsafe { _mm256_loadu_si256(half.as_ptr().cast::<__m256i>()) };
            // Setting bit 5 maps `[` onto `{` and `]` onto `}`, and no
            // other byte onto either.
            let folded = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
            let is = |x: __m256i, b: u8| {
                u64::from(
                    _mm256_movemask_epi8(_mm256_cmpeq_epi8(x, _mm256_set1_epi8(b as i8))) as u32,
                )
            };
            let shift = 32 * i;
            out.quote |= is(v, b'"') << shift;
            out.backslash |= is(v, b'\\') << shift;
            out.open |= is(folded, b'{') << shift;
            out.close |= is(folded, b'}') << shift;
        }
        out
    }

    /// [`super::prefix_xor`]: multiplying by all ones without carries
    /// XORs every bit into each one above it.
    #[target_feature(enable = "pclmulqdq")]
    pub(super) fn prefix_xor(x: u64) -> u64 {
        use std::arch::x86_64::{_mm_clmulepi64_si128, _mm_cvtsi128_si64, _mm_set_epi64x};
        let product = _mm_clmulepi64_si128(_mm_set_epi64x(0, x as i64), _mm_set_epi64x(0, -1), 0);
        _mm_cvtsi128_si64(product) as u64
    }
}

/// The 64 bytes at `at`, padded with spaces (which are no structure) past
/// the end of `buf`, as masks.
#[inline(always)]
fn block_at(buf: &[u8], at: usize, classify: impl Fn(&[u8; BLOCK]) -> Block) -> Block {
    match buf.get(at..at + BLOCK) {
        Some(bytes) => classify(bytes.try_into().expect("a whole block")),
        None => {
            let mut padded = [b' '; BLOCK];
            let rest = &buf[at..];
            padded[..rest.len()].copy_from_slice(rest);
            classify(&padded)
        }
    }
}

/// Which bytes of a block lie inside strings, carried from block to block.
#[derive(Default)]
struct Strings {
    /// Whether the last byte of the previous block was an escaping
    /// backslash (an odd run of backslashes ended there).
    escaping: bool,
    /// Whether the previous block ended inside a string.
    inside: bool,
}

impl Strings {
    /// The bytes of `block` inside a string: from an opening quote (itself
    /// included) up to its closing quote (excluded). Brackets are never
    /// quotes, so only whether a bracket is marked matters.
    #[inline(always)]
    fn inside(&mut self, block: &Block, prefix: impl Fn(u64) -> u64) -> u64 {
        let escaped = self.escaped(block.backslash);
        let quotes = block.quote & !escaped;
        let inside = prefix(quotes) ^ if self.inside { u64::MAX } else { 0 };
        self.inside = inside >> 63 == 1;
        inside
    }

    /// The bytes an odd run of backslashes escapes: the byte after it. A
    /// run's length is odd when it starts on an even bit and ends (its
    /// first byte past) on an odd one, or the other way round; adding each
    /// run's start to the backslashes carries to that end.
    #[inline(always)]
    fn escaped(&mut self, backslash: u64) -> u64 {
        const EVEN: u64 = 0x5555_5555_5555_5555;
        // Most blocks of a trace export hold no backslash: nothing is
        // escaped and nothing carries, for two tests instead of a dozen
        // operations a block.
        if backslash == 0 && !self.escaping {
            return 0;
        }
        let carried = u64::from(self.escaping);
        let starts = backslash & !(backslash << 1);
        // A run the previous block ended oddly counts as starting on the
        // other parity.
        let even_mask = EVEN ^ carried;
        let even_ends = backslash.wrapping_add(starts & even_mask) & !backslash;
        let (odd_carries, overflow) = backslash.overflowing_add(starts & !even_mask);
        let odd_ends = (odd_carries | carried) & !backslash;
        self.escaping = overflow;
        (even_ends & !EVEN) | (odd_ends & EVEN)
    }
}

/// Bit `i` set when an odd number of bits `0..=i` of `x` are.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        x ^= x << shift;
    }
    x
}

/// The masks of one block, a byte at a time: what [`classify`] computes
/// everywhere (and the only way where no vector version is written).
#[cfg(any(test, not(target_arch = "x86_64")))]
fn classify_bytes(bytes: &[u8; BLOCK]) -> Block {
    let mut out = Block::default();
    for (i, &b) in bytes.iter().enumerate() {
        let bit = 1u64 << i;
        match b {
            b'"' => out.quote |= bit,
            b'\\' => out.backslash |= bit,
            b'{' | b'[' => out.open |= bit,
            b'}' | b']' => out.close |= bit,
            _ => {}
        }
    }
    out
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn classify(bytes: &[u8; BLOCK]) -> Block {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let mut out = Block::default();
    for (i, chunk) in bytes.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is part of every x86_64 target, and the load reads
        // the 16 bytes of `chunk` (unaligned loads need no alignment).
        let (quote, backslash, open, close) = unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
            // Setting bit 5 maps `[` onto `{` and `]` onto `}`, and no
            // other byte onto either.
            let folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
            let is = |x: __m128i, b: u8| {
                _mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(b as i8))) as u16 as u64
            };
            (
                is(v, b'"'),
                is(v, b'\\'),
                is(folded, b'{'),
                is(folded, b'}'),
            )
        };
        let shift = 16 * i;
        out.quote |= quote << shift;
        out.backslash |= backslash << shift;
        out.open |= open << shift;
        out.close |= close << shift;
    }
    out
}

#[cfg(not(target_arch = "x86_64"))]
fn classify(bytes: &[u8; BLOCK]) -> Block {
    classify_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_member_closes_after_its_strings_and_escapes() {
        let doc = br#"{"a": "}\"]", "b": [1, {"c": "\\"}], "d": "\\\"}"} ,"#;
        let end = doc.iter().rposition(|&b| b == b'}').unwrap() + 1;
        assert_eq!(close(doc, 1, 1), Some(end));
        assert_eq!(close(&doc[..end - 1], 1, 1), None);
        // Long enough that strings and escapes straddle blocks.
        let long = format!(
            "{{\"k\": \"{}\\\\\", \"v\": [{}]}}",
            "\\\"x}".repeat(40),
            "{\"y\": \"]\"},".repeat(30) + "0"
        );
        let bytes = long.as_bytes();
        assert_eq!(close(bytes, 1, 1), Some(bytes.len()));
        assert_eq!(close_bytes(bytes, 1, 1), Some(bytes.len()));
    }

    /// An escape whose backslash ends one block escapes the first byte of
    /// the next, even when that block holds no backslash of its own.
    #[test]
    fn an_escape_carries_into_a_block_without_backslashes() {
        for pad in 0..2 * BLOCK {
            let text = format!("{{\"{}\\\"{}\"}}", "a".repeat(pad), "b".repeat(BLOCK + 6));
            let bytes = text.as_bytes();
            assert_eq!(close(bytes, 1, 1), Some(bytes.len()), "pad {pad}");
            assert_eq!(blocks(bytes, 1, 1), Some(Some(bytes.len())), "pad {pad}");
        }
    }

    #[test]
    fn the_vector_masks_are_the_byte_masks() {
        let mut bytes = [0u8; BLOCK];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = b"\"\\{}[]a \x7b\x5b\x7d\x5d\x3b\x1b\xdb\xfb"[i % 16]
                .wrapping_add((i / 16) as u8 & 1);
        }
        assert_eq!(classify(&bytes), classify_bytes(&bytes));
        #[cfg(target_arch = "x86_64")]
        if x86::available() {
            // SAFETY: the features were just detected.
            assert_eq!(unsafe { x86::classify(&bytes) }, classify_bytes(&bytes));
        }
    }

    proptest! {
        /// The blocks find the close a byte-by-byte walk finds, from any
        /// starting depth, on text dense in quotes, escapes and brackets
        /// (runs of backslashes of every length, across block edges).
        #[test]
        fn blocks_close_where_bytes_close(
            bytes in proptest::collection::vec(
                proptest::sample::select(b"\"\\\\\\{}[]a ,:".to_vec()),
                0..400,
            ),
            depth in 1u64..4,
        ) {
            prop_assert_eq!(close(&bytes, 0, depth), close_bytes(&bytes, 0, depth));
        }

        /// On JSON text (every backslash in a string) the masks alone
        /// find the close, wherever strings, escaped quotes and escaped
        /// backslashes fall against the block edges.
        #[test]
        fn blocks_alone_close_json_text(
            tokens in proptest::collection::vec(
                proptest::sample::select(vec!["{", "}", "[", "]", ",", "1", " "])
                    .prop_map(String::from)
                    .boxed()
                    .prop_union(
                        proptest::collection::vec(
                            proptest::sample::select(vec!["a", "{", "]", "\\\\", "\\\"", "\\n"]),
                            0..12,
                        )
                        .prop_map(|parts| format!("\"{}\"", parts.concat()))
                        .boxed(),
                    ),
                0..120,
            ),
            depth in 1u64..4,
        ) {
            let text = tokens.concat();
            let bytes = text.as_bytes();
            let walked = Some(close_bytes(bytes, 0, depth));
            prop_assert_eq!(close_blocks(bytes, 0, depth, prefix_xor, classify), walked);
            // And with the instructions this CPU has, if it has them.
            prop_assert_eq!(blocks(bytes, 0, depth), walked);
        }

        /// The carry-less multiplication is the prefix XOR, on CPUs
        /// that have it.
        #[cfg(target_arch = "x86_64")]
        #[test]
        fn the_carry_less_prefix_xor_is_the_shifted_one(x in any::<u64>()) {
            if std::arch::is_x86_feature_detected!("pclmulqdq") {
                // SAFETY: the feature was just detected.
                prop_assert_eq!(unsafe { x86::prefix_xor(x) }, prefix_xor(x));
            }
        }

        #[test]
        fn vector_masks_are_byte_masks(bytes in proptest::array::uniform32(any::<u8>())) {
            let mut block = [0u8; BLOCK];
            block[..32].copy_from_slice(&bytes);
            block[32..].copy_from_slice(&bytes);
            block[63] = b'"';
            prop_assert_eq!(classify(&block), classify_bytes(&block));
            #[cfg(target_arch = "x86_64")]
            if x86::available() {
                // SAFETY: the features were just detected.
                prop_assert_eq!(unsafe { x86::classify(&block) }, classify_bytes(&block));
            }
        }
    }
}
