//! A JSON scanner for readers' fast paths: it walks a record once, in
//! place, and hands each member to the reader, which decodes only what it
//! keeps. serde_json's typed parse spent most of a JSON read in its visitor
//! machinery (callgrind: about 1,400 instructions an OTLP attribute); this
//! walks the same bytes with a few instructions a byte.
//!
//! It is only ever a fast path. Every method returns `None` (gives up) on
//! anything serde_json would refuse, and also on what is merely unusual
//! (escapes in member names, surrogate escapes in kept strings, nesting
//! beyond [`MAX_DEPTH`]); the reader then reads the record through its
//! serde path, which gives the error, its location and the partial read a
//! bad record gets. So what this accepts must be exactly what serde_json
//! accepts, with the same values, and nothing else needs to be: the tests
//! check both against serde_json.

use std::borrow::Cow;

/// How deep [`Scanner::skip`] and [`Scanner::skip_checked`] follow nested
/// arrays and objects before they give up (a deeper record just takes the
/// serde path). It keeps the scanner's recursion well within the stack.
pub(crate) const MAX_DEPTH: usize = 100;

/// serde_json refuses a record nested this deep where it parses values
/// (`Value`, and so the strict models' checked members), counting from the
/// top of the record; skipping as `IgnoredAny` it follows any depth.
const SERDE_DEPTH: usize = 128;

/// The deepest level at which a model checks a member with
/// [`Scanner::skip_checked`] (Sentry's `entries[].data[].data.<key>` is at
/// 6, and so is the value of a tag of a span's own Jaeger `process`, which
/// `skip_tags` skips a tag at a time). A checked skip counts its depth from
/// where it starts, so this plus
/// [`MAX_DEPTH`] must stay below [`SERDE_DEPTH`], or the scanner would
/// accept nesting serde refuses. A model that checks deeper must raise it.
pub(crate) const DEEPEST_CHECKED_SKIP: usize = 8;

const _: () = assert!(DEEPEST_CHECKED_SKIP + MAX_DEPTH < SERDE_DEPTH);

/// A position in one record's text.
pub(crate) struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

/// A number as serde_json's `deserialize_any` gives it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Number {
    /// A non-negative integer within `u64`.
    U64(u64),
    /// A negative integer within `i64`.
    I64(i64),
    /// Any other number: with a fraction or exponent, beyond the integer
    /// types, or `-0`.
    F64(f64),
}

/// A number's text and what its grammar check found on the way.
struct NumberParts<'a> {
    text: &'a str,
    negative: bool,
    /// All its digits (whole and fraction) as one integer.
    significand: u64,
    /// How many of them follow the point.
    fraction: usize,
    /// No exponent, and `significand` did not overflow.
    plain: bool,
}

/// How strictly a skipped value is checked.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// As serde_json's `IgnoredAny`: the grammar.
    Grammar,
    /// As a `serde_json::Value` parse.
    Value,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The index of the first byte from `i` that ends a run of plain string
/// text: a quote, a backslash or a control character (or `bytes.len()`).
/// Sixteen bytes at a time where SSE2 is (every hosted x86_64 target),
/// then eight: strings are mostly ids, names and statements without escapes,
/// and finding their ends was the Jaeger read's largest cost (callgrind:
/// about 1,500 instructions a span, eight bytes at a time).
#[inline]
fn plain_run_end(bytes: &[u8], mut i: usize) -> usize {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    while let Some(chunk) = bytes.get(i..i + 16) {
        let special = special16(chunk.try_into().expect("sixteen bytes"));
        if special != 0 {
            return i + special.trailing_zeros() as usize;
        }
        i += 16;
    }
    while let Some(chunk) = bytes.get(i..i + 8) {
        let v = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let quote = v ^ (ONES * u64::from(b'"'));
        let backslash = v ^ (ONES * u64::from(b'\\'));
        // A byte's high bit is set where it is zero (after the xor) or
        // below 0x20; bits above the lowest may be false, the lowest never.
        let special = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (v.wrapping_sub(ONES * 0x20) & !v);
        let special = special & HIGHS;
        if special != 0 {
            return i + (special.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            return i;
        }
        i += 1;
    }
    i
}

/// Whether `a` and `b` hold the same bytes. The words the scanner matches
/// (punctuation and member names, nearly all of 4 to 24 bytes) are
/// compared a word-sized load at a time, the last load overlapping the
/// one before, rather than by a call to `memcmp`: with a member name
/// expected at every member of a span, `memcmp` took 44 million
/// instructions of a Jaeger read of 10,000 traces.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let n = a.len();
    let word4 = |s: &[u8], at: usize| {
        s.get(at..at + 4)
            .map(|w| u32::from_le_bytes(w.try_into().expect("four bytes")))
    };
    let word8 = |s: &[u8], at: usize| {
        s.get(at..at + 8)
            .map(|w| u64::from_le_bytes(w.try_into().expect("eight bytes")))
    };
    match n {
        4..=7 => word4(a, 0) == word4(b, 0) && word4(a, n - 4) == word4(b, n - 4),
        8..=16 => word8(a, 0) == word8(b, 0) && word8(a, n - 8) == word8(b, n - 8),
        17..=24 => {
            word8(a, 0) == word8(b, 0)
                && word8(a, 8) == word8(b, 8)
                && word8(a, n - 8) == word8(b, n - 8)
        }
        _ => a == b,
    }
}

/// A bit per byte of `chunk` that is a quote, a backslash or below 0x20.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn special16(chunk: &[u8; 16]) -> u32 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    // SAFETY: the target has SSE2 (the cfg above; every hosted x86_64
    // target does), and the load reads the 16 bytes of `chunk` (unaligned
    // loads need no alignment).
    unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // Unsigned: a byte is at most 0x1F when its maximum with 0x1F is
        // 0x1F.
        let below = _mm_set1_epi8(0x1F);
        let control = _mm_cmpeq_epi8(_mm_max_epu8(v, below), below);
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
    }
}

/// The run of ASCII digits `bytes` starts with, as a number and its
/// length, when it is 1 to 19 digits long (so it cannot overflow a `u64`);
/// `None` for no digit or a 20th. Always inlined: left a call, it was
/// half a million calls on a 10,000-trace read (times, integers).
#[inline(always)]
pub(crate) fn leading_digits(bytes: &[u8]) -> Option<(u64, usize)> {
    // Up to two runs of eight digits at a time (a timestamp in
    // nanoseconds has 19), then a byte at a time: below 10^16, three more
    // digits cannot overflow.
    let mut n = 0u64;
    let mut start = 0;
    while start < 16 {
        match bytes.get(start..start + 8).and_then(eight_digits) {
            Some(eight) => {
                n = n * 100_000_000 + eight;
                start += 8;
            }
            None => break,
        }
    }
    for (len, &b) in bytes.iter().enumerate().skip(start) {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return (len > 0).then_some((n, len));
        }
        if len == 19 {
            return None;
        }
        n = n * 10 + u64::from(digit);
    }
    // Every byte was a digit, and fewer than 20 (a 20th returned above).
    (!bytes.is_empty()).then_some((n, bytes.len()))
}

/// The whole number `bytes` starts with, as a number and its length, when
/// it is 1 to 19 digits with no leading zero (but `0` itself) and no
/// fraction or exponent after it: JSON that `u64` holds exactly, read by
/// [`Scanner::compact_uint`] and passed over by [`Scanner::compact_raw`].
#[inline]
fn plain_whole(bytes: &[u8]) -> Option<(u64, usize)> {
    let (n, len) = leading_digits(bytes)?;
    let leading_zero = len > 1 && bytes[0] == b'0';
    (!leading_zero && !matches!(bytes.get(len), Some(b'.' | b'e' | b'E'))).then_some((n, len))
}

/// The value of eight ASCII digits, `None` if any byte is not one: each
/// byte's high nibble must be 3 and its low one at most 9, checked at
/// once; then pairs, quads and the eight are combined by multiplying.
#[inline]
fn eight_digits(chunk: &[u8]) -> Option<u64> {
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    let x = u64::from_le_bytes(chunk.try_into().ok()?);
    // Adding 6 carries into the high nibble exactly when the low is 10+.
    let digits = (x & HIGH) | ((x.wrapping_add(0x0606_0606_0606_0606) & HIGH) >> 4);
    if digits != 0x3333_3333_3333_3333 {
        return None;
    }
    // The first digit is the lowest byte: each step folds neighbours
    // (tens with units), first as bytes, then 16-bit pairs, then 32-bit.
    let v = x - 0x3030_3030_3030_3030;
    let v = (v * 10 + (v >> 8)) & 0x00FF_00FF_00FF_00FF;
    let v = (v * 100 + (v >> 16)) & 0x0000_FFFF_0000_FFFF;
    Some((v * 10_000 + (v >> 32)) & 0xFFFF_FFFF)
}

/// Reads the ASCII digits from `*at` into `significand` (ten times it
/// plus each digit, `overflow` set once that leaves `u64`), moving `at`
/// past them; how many there were. Eight at a time while eight more cannot
/// overflow: times and ids are long runs of digits.
#[inline]
fn digit_run(bytes: &[u8], at: &mut usize, significand: &mut u64, overflow: &mut bool) -> usize {
    const EIGHT_ROOM: u64 = (u64::MAX - 99_999_999) / 100_000_000;
    // Below this, ten times it plus a digit fits: one comparison for all
    // but the 20th digit.
    const ROOM: u64 = (u64::MAX - 9) / 10;
    let from = *at;
    while *significand <= EIGHT_ROOM {
        match bytes.get(*at..*at + 8).and_then(eight_digits) {
            Some(eight) => {
                *significand = *significand * 100_000_000 + eight;
                *at += 8;
            }
            None => break,
        }
    }
    while let Some(d) = bytes.get(*at).map(|b| b.wrapping_sub(b'0')) {
        if d > 9 {
            break;
        }
        if *significand <= ROOM {
            *significand = *significand * 10 + u64::from(d);
        } else {
            match significand
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d)))
            {
                Some(v) => *significand = v,
                None => *overflow = true,
            }
        }
        *at += 1;
    }
    *at - from
}

/// Exact powers of ten: every one up to 1e22 is a double.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The escape at `bytes[at]` (a backslash): the UTF-16 code unit it
/// stands for, and its length. `None` for anything JSON does not allow.
fn escape_at(bytes: &[u8], at: usize) -> Option<(u16, usize)> {
    let unit = match bytes.get(at + 1)? {
        b'"' => b'"',
        b'\\' => b'\\',
        b'/' => b'/',
        b'b' => 0x08,
        b'f' => 0x0c,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'u' => return Some((hex4(bytes.get(at + 2..)?)?, 6)),
        _ => return None,
    };
    Some((u16::from(unit), 2))
}

fn hex4(bytes: &[u8]) -> Option<u16> {
    let digits = bytes.get(..4)?;
    let mut value = 0u16;
    for &b in digits {
        let digit = (b as char).to_digit(16)?;
        value = value * 16 + digit as u16;
    }
    Some(value)
}

/// `bytes` as text, if they are UTF-8. Checked with SIMD (simdutf8, whose
/// `basic` check gives no position): std's check of each whole record was
/// 2.7% of an OTLP/JSON read. Where a record breaks is found by the
/// member-by-member path, which reads bytes.
pub(crate) fn utf8(bytes: &[u8]) -> Option<&str> {
    simdutf8::basic::from_utf8(bytes).ok()
}

/// `read` over the whole of `bytes`, which must be UTF-8 text holding one
/// value and whitespace (as serde_json's `from_slice` requires).
pub(crate) fn whole<'a, T>(
    bytes: &'a [u8],
    read: impl FnOnce(&mut Scanner<'a>) -> Option<T>,
) -> Option<T> {
    let mut scanner = Scanner::new(utf8(bytes)?);
    let value = read(&mut scanner)?;
    scanner.at_end().then_some(value)
}

/// The members of one object read so far, by number, for the messages
/// that refuse a member given twice (as serde's derived ones do).
#[derive(Default)]
pub(crate) struct Given(u32);

impl Given {
    /// Marks member `bit` as given; `None` if it already was.
    pub(crate) fn first(&mut self, bit: u32) -> Option<()> {
        let mask = 1 << bit;
        (self.0 & mask == 0).then(|| self.0 |= mask)
    }

    /// Whether member `bit` was given.
    pub(crate) fn has(&self, bit: u32) -> bool {
        self.0 & (1 << bit) != 0
    }
}

/// A member name as [`Scanner::object_expecting`] expects it written,
/// `"name":`, without its quotes and colon.
fn bare_name(written: &'static [u8]) -> &'static [u8] {
    &written[1..written.len() - 2]
}

/// Panics unless each member name `written` expects is paired with the
/// field `field` makes of the name: [`Scanner::object_expecting`] gives a
/// member matched as it was written the field it is paired with, and one
/// read the general way `field`'s, so a reader's two must agree.
#[cfg(test)]
pub(crate) fn assert_fields_agree<K: PartialEq + std::fmt::Debug>(
    written: &[(&'static [u8], K)],
    field: impl Fn(&[u8]) -> K,
) {
    for (name, paired) in written {
        let name = bare_name(name);
        assert_eq!(&field(name), paired, "{}", String::from_utf8_lossy(name));
    }
}

impl<'a> Scanner<'a> {
    /// `None` for `null`, else `read`'s value.
    #[inline]
    pub(crate) fn nullable<T>(
        &mut self,
        read: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<Option<T>> {
        if self.null()? {
            Some(None)
        } else {
            read(self).map(Some)
        }
    }

    /// A scanner at the start of `text`.
    pub(crate) fn new(text: &'a str) -> Self {
        Scanner { text, pos: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The text from `start` to `end`: a string's between its quotes, or a
    /// plain value's. Both ends sit at ASCII bytes (a quote, a digit), so
    /// they are character boundaries; checked here, inline, where slicing
    /// `text` checked them in a call per string (20 instructions, and
    /// 680,000 calls in a Jaeger read of 10,000 traces).
    #[inline(always)]
    fn text_between(&self, start: usize, end: usize) -> &'a str {
        let bytes = self.bytes();
        let part = &bytes[start..end];
        assert!(self.text.is_char_boundary(start) && self.text.is_char_boundary(end));
        // SAFETY: `text` is UTF-8 and both ends are character boundaries
        // (checked above), so the bytes between them are UTF-8.
        unsafe { std::str::from_utf8_unchecked(part) }
    }

    /// The next byte after whitespace, not consumed; `None` at the end.
    #[inline]
    pub(crate) fn peek(&mut self) -> Option<u8> {
        let bytes = self.bytes();
        // Compact JSON has no whitespace: one comparison settles a byte
        // above the space, which no whitespace byte is.
        match bytes.get(self.pos) {
            Some(&b) if b > b' ' => return Some(b),
            None => return None,
            Some(_) => {}
        }
        while let Some(&b) = bytes.get(self.pos) {
            if !matches!(b, b' ' | b'\n' | b'\t' | b'\r') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    /// Consumes `byte` as the next one after whitespace.
    #[inline]
    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    /// Whether only whitespace is left (as serde_json requires after a
    /// document).
    pub(crate) fn at_end(mut self) -> bool {
        self.peek().is_none()
    }

    /// Consumes `null` if it is next.
    #[inline]
    pub(crate) fn null(&mut self) -> Option<bool> {
        if self.peek()? != b'n' {
            return Some(false);
        }
        self.literal(b"null").map(|()| true)
    }

    /// Consumes `word` if it is next (no whitespace skipped). Always
    /// inlined: a word known where it is matched is then compared without
    /// a branch on its length.
    #[inline(always)]
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.pos + word.len();
        same_bytes(self.bytes().get(self.pos..end)?, word).then(|| self.pos = end)
    }

    /// Consumes `true` or `false`.
    pub(crate) fn boolean(&mut self) -> Option<bool> {
        match self.peek()? {
            b't' => self.literal(b"true").map(|()| true),
            b'f' => self.literal(b"false").map(|()| false),
            _ => None,
        }
    }

    /// `read`'s value, or `None` with the scanner back where it was: a
    /// compact-form match that fails part way is read again the general
    /// way, from the start of what it tried.
    #[inline]
    pub(crate) fn attempt<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let start = self.pos;
        let value = read(self);
        if value.is_none() {
            self.pos = start;
        }
        value
    }

    /// Consumes `word` if the text goes on with exactly it, no whitespace
    /// skipped: exporters write compact JSON, whose fixed runs of
    /// punctuation and member names a fast path matches at once.
    #[inline]
    pub(crate) fn compact(&mut self, word: &[u8]) -> bool {
        self.literal(word).is_some()
    }

    /// The rest of a string whose opening quote [`Scanner::compact`]
    /// consumed, through its closing quote, if it has no escape: `None`
    /// (nothing consumed) otherwise.
    #[inline(always)]
    pub(crate) fn compact_rest(&mut self) -> Option<&'a str> {
        let bytes = self.bytes();
        let start = self.pos;
        let end = plain_run_end(bytes, start);
        (bytes.get(end) == Some(&b'"')).then(|| {
            self.pos = end + 1;
            self.text_between(start, end)
        })
    }

    /// A string at the scanner (no whitespace skipped) without escapes;
    /// `None`, nothing consumed, for anything else, to be read the general
    /// way ([`Scanner::string`]).
    #[inline]
    pub(crate) fn compact_string(&mut self) -> Option<&'a str> {
        self.attempt(|s| s.compact(b"\"").then(|| s.compact_rest()).flatten())
    }

    /// A string or `null`, as [`Scanner::nullable`] of [`Scanner::string`]
    /// reads it; a string right after its colon, without escapes (nearly
    /// every id and name an exporter writes), matched compact first, with
    /// no check for `null` and no whitespace skipped.
    #[inline]
    pub(crate) fn nullable_string(&mut self) -> Option<Option<Cow<'a, str>>> {
        if let Some(text) = self.compact_string() {
            return Some(Some(Cow::Borrowed(text)));
        }
        self.nullable(Scanner::string)
    }

    /// The text of a plain value at the scanner (no whitespace skipped),
    /// as [`Scanner::raw`] gives it: a string without escapes, its quotes
    /// included, or 1 to 19 digits with no sign, fraction, exponent or
    /// leading zero (but `0` itself). `None`, nothing consumed, for any
    /// other value, for [`Scanner::raw`] to read: both are valid JSON as
    /// they stand, which is all `raw`'s check asks of them.
    #[inline]
    pub(crate) fn compact_raw(&mut self) -> Option<&'a str> {
        let bytes = self.bytes();
        let start = self.pos;
        let end = match bytes.get(start)? {
            b'"' => {
                let end = plain_run_end(bytes, start + 1);
                (bytes.get(end) == Some(&b'"')).then_some(end + 1)?
            }
            b'0'..=b'9' => start + plain_whole(&bytes[start..])?.1,
            _ => return None,
        };
        self.pos = end;
        Some(self.text_between(start, end))
    }

    /// The 1 to 19 ASCII digits at the scanner (no whitespace skipped) as
    /// a number; `None`, nothing consumed, for anything else (a 20th digit
    /// included).
    #[inline]
    pub(crate) fn compact_digits(&mut self) -> Option<u64> {
        let (n, len) = leading_digits(&self.bytes()[self.pos..])?;
        self.pos += len;
        Some(n)
    }

    /// A whole number at the scanner (no whitespace skipped) of 1 to 19
    /// digits, with no sign, no leading zero (but `0` itself), and no
    /// fraction or exponent after it: nearly every integer an exporter
    /// writes (a span's kind and flags), which [`Scanner::number`] gives as
    /// `Number::U64`. `None`, nothing consumed, for any other form, for
    /// [`Scanner::number_parts`] to read: that took about 150 instructions
    /// for a one-digit kind.
    #[inline]
    fn compact_uint(&mut self) -> Option<u64> {
        let (n, len) = plain_whole(&self.bytes()[self.pos..])?;
        self.pos += len;
        Some(n)
    }

    /// A plain decimal at the scanner (no whitespace skipped), `12.5`: its
    /// whole part, and its fraction's digits as a number and their count;
    /// `None`, nothing consumed, for any other form (a sign, an exponent,
    /// no fraction, a leading zero before a digit, a 20th digit in either
    /// part), for [`Scanner::number`] to read.
    #[inline]
    pub(crate) fn compact_decimal(&mut self) -> Option<(u64, u64, usize)> {
        let bytes = &self.bytes()[self.pos..];
        let (whole, whole_len) = leading_digits(bytes)?;
        if (whole_len > 1 && bytes[0] == b'0') || bytes.get(whole_len) != Some(&b'.') {
            return None;
        }
        let (fraction, fraction_len) = leading_digits(&bytes[whole_len + 1..])?;
        let end = whole_len + 1 + fraction_len;
        if matches!(bytes.get(end), Some(b'e' | b'E')) {
            return None;
        }
        self.pos += end;
        Some((whole, fraction, fraction_len))
    }

    /// Reads an object, calling `member` with each member's name, the
    /// scanner then at its value, which `member` must consume.
    #[inline]
    pub(crate) fn object(
        &mut self,
        mut member: impl FnMut(&mut Self, &'a [u8]) -> Option<()>,
    ) -> Option<()> {
        self.delimited(b'{', b'}', |s| {
            let name = s.name()?;
            s.eat(b':')?;
            member(s, name)
        })
    }

    /// Reads an object as [`Scanner::object`] does, expecting its members
    /// in the order of `written` (each name as a compact exporter writes
    /// it, `"name":`, with the field the reader reads it into). The next
    /// expected name, or one of the two after it (a member that is often
    /// left out), is matched as those bytes, not searched for its end; any
    /// other member is read the general way, and what is expected resumes
    /// after it. `member` is given the member's field: the one `written`
    /// pairs with its name, else what `field` makes of the name. Read the
    /// general way, the eleven names of a Jaeger span took about 780
    /// instructions (callgrind); given as their names, matching them again
    /// in the reader took 150-250 a span more than matching a field.
    #[inline]
    pub(crate) fn object_expecting<K: Copy>(
        &mut self,
        written: &[(&'static [u8], K)],
        field: impl Fn(&'a [u8]) -> K,
        mut member: impl FnMut(&mut Self, K) -> Option<()>,
    ) -> Option<()> {
        let mut next = 0;
        self.delimited(b'{', b'}', |s| {
            let ahead = written.get(next..).unwrap_or_default();
            let key = match ahead.iter().take(3).position(|(w, _)| s.compact(w)) {
                Some(at) => {
                    next += at + 1;
                    ahead[at].1
                }
                None => {
                    let name = s.name()?;
                    s.eat(b':')?;
                    match written.iter().position(|&(w, _)| bare_name(w) == name) {
                        Some(at) => {
                            next = at + 1;
                            written[at].1
                        }
                        None => field(name),
                    }
                }
            };
            member(s, key)
        })
    }

    /// Reads an object of which one member, `wanted`, is read (by `read`;
    /// given twice, refused, as serde's derived messages refuse it) and
    /// the others skipped, checked as `check` says; `None` in the result
    /// when `wanted` is absent.
    pub(crate) fn member<T>(
        &mut self,
        wanted: &[u8],
        check: Check,
        mut read: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<Option<T>> {
        let mut value = None;
        self.object(|s, name| {
            if name != wanted {
                return s.skip_at(0, check);
            }
            if value.is_some() {
                return None;
            }
            value = Some(read(s)?);
            Some(())
        })?;
        Some(value)
    }

    /// Reads an array, calling `element` with the scanner at each element,
    /// which `element` must consume.
    #[inline]
    pub(crate) fn array(&mut self, element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.delimited(b'[', b']', element)
    }

    /// Reads `open`, items separated by commas (each read by `item`, none
    /// after the last comma), and `close`.
    #[inline]
    fn delimited(
        &mut self,
        open: u8,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        self.eat(open)?;
        if self.peek()? == close {
            self.pos += 1;
            return Some(());
        }
        loop {
            item(self)?;
            match self.peek()? {
                b',' => self.pos += 1,
                b if b == close => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A member name without escapes, as its bytes (they are UTF-8: the
    /// whole text is).
    #[inline(always)]
    fn name(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        let bytes = self.bytes();
        let start = self.pos;
        let end = plain_run_end(bytes, start);
        (bytes.get(end) == Some(&b'"')).then(|| {
            self.pos = end + 1;
            &bytes[start..end]
        })
    }

    /// A string's text, borrowed unless it has escapes.
    #[inline]
    pub(crate) fn string(&mut self) -> Option<Cow<'a, str>> {
        self.eat(b'"')?;
        let bytes = self.bytes();
        let start = self.pos;
        let end = plain_run_end(bytes, start);
        match bytes.get(end)? {
            b'"' => {
                self.pos = end + 1;
                Some(Cow::Borrowed(self.text_between(start, end)))
            }
            b'\\' => self.escaped(start, end).map(Cow::Owned),
            _ => None,
        }
    }

    /// The rest of a string that has an escape at `at`.
    #[cold]
    fn escaped(&mut self, start: usize, mut at: usize) -> Option<String> {
        let bytes = self.bytes();
        let mut text = String::from(&self.text[start..at]);
        loop {
            match bytes.get(at)? {
                b'"' => {
                    self.pos = at + 1;
                    return Some(text);
                }
                b'\\' => {
                    let (unit, len) = escape_at(bytes, at)?;
                    // A surrogate is no char: pairs are rare enough to
                    // leave to serde.
                    text.push(char::from_u32(u32::from(unit))?);
                    at += len;
                }
                _ => return None,
            }
            let end = plain_run_end(bytes, at);
            text.push_str(&self.text[at..end]);
            at = end;
        }
    }

    /// Skips a string, checking its escapes as serde_json's `IgnoredAny`
    /// does (any `\u` code unit passes), or for [`Check::Value`] giving up
    /// on a surrogate, which a `Value` parse takes only in a valid pair.
    fn skip_string(&mut self, check: Check) -> Option<()> {
        self.eat(b'"')?;
        let bytes = self.bytes();
        let mut at = self.pos;
        loop {
            at = plain_run_end(bytes, at);
            match bytes.get(at)? {
                b'"' => {
                    self.pos = at + 1;
                    return Some(());
                }
                b'\\' => {
                    let (unit, len) = escape_at(bytes, at)?;
                    if check == Check::Value && (0xD800..0xE000).contains(&unit) {
                        return None;
                    }
                    at += len;
                }
                _ => return None,
            }
        }
    }

    /// A number, checked against JSON's grammar, its digits taken as one
    /// integer on the way (until that would overflow).
    fn number_parts(&mut self) -> Option<NumberParts<'a>> {
        self.peek()?;
        let bytes = self.bytes();
        let start = self.pos;
        let negative = bytes[start] == b'-';
        let mut at = start + usize::from(negative);
        let mut significand = 0u64;
        let mut overflow = false;
        match bytes.get(at)? {
            // One leading zero only: a digit after it ends the number here,
            // and the caller then finds no separator.
            b'0' => at += 1,
            b'1'..=b'9' => {
                digit_run(bytes, &mut at, &mut significand, &mut overflow);
            }
            _ => return None,
        }
        let mut fraction = 0;
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            fraction = digit_run(bytes, &mut at, &mut significand, &mut overflow);
            if fraction == 0 {
                return None;
            }
        }
        let exponent = matches!(bytes.get(at), Some(b'e' | b'E'));
        if exponent {
            at += 1;
            if matches!(bytes.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            let from = at;
            while bytes.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            if at == from {
                return None;
            }
        }
        self.pos = at;
        Some(NumberParts {
            text: &self.text[start..at],
            negative,
            significand,
            fraction,
            plain: !exponent && !overflow,
        })
    }

    /// A number, as serde_json reads it for a value of any type: checked
    /// against JSON's grammar and valued in one pass.
    pub(crate) fn number(&mut self) -> Option<Number> {
        if let Some(n) = self.compact_uint() {
            return Some(Number::U64(n));
        }
        self.number_general()
    }

    /// [`Scanner::number`] through [`Scanner::number_parts`], for every
    /// form.
    fn number_general(&mut self) -> Option<Number> {
        let n = self.number_parts()?;
        if n.plain {
            match (n.fraction, n.negative) {
                (0, false) => return Some(Number::U64(n.significand)),
                (0, true) if n.significand > 0 && n.significand <= i64::MIN.unsigned_abs() => {
                    return Some(Number::I64(0i64.wrapping_sub_unsigned(n.significand)));
                }
                // Below 2^53 with at most 22 decimals, both operands are
                // exact and the one division rounds the decimal correctly:
                // serde_json's value (its default mode computes this very
                // quotient). Sentry writes every time so.
                (1.., _) if n.significand < 1 << 53 && n.fraction < POW10.len() => {
                    let f = n.significand as f64 / POW10[n.fraction];
                    return Some(Number::F64(if n.negative { -f } else { f }));
                }
                _ => {}
            }
        }
        // serde_json's own float parsing for the rest (`-0`, long or
        // exponent forms), so the value is the one its typed parse gives;
        // beyond `f64` it refuses, and so do we. Every number that reaches
        // here is one serde_json's `deserialize_any` also makes a float:
        // a whole number within `u64`, or negative within `i64` and not
        // zero, must have returned above.
        serde_json::from_str::<f64>(n.text).ok().map(Number::F64)
    }

    /// Skips any value, checked as serde_json's `IgnoredAny` checks it
    /// (grammar only: numbers of any size, any `\u` escape).
    pub(crate) fn skip(&mut self) -> Option<()> {
        self.skip_at(0, Check::Grammar)
    }

    /// Skips any value, checked as parsing it into a `serde_json::Value`
    /// checks it (see [`crate::ingest::json_strict::Checked`]): numbers
    /// within `f64`, escapes that make text.
    pub(crate) fn skip_checked(&mut self) -> Option<()> {
        self.skip_at(0, Check::Value)
    }

    /// Any value's text, unparsed, as serde_json's `RawValue` takes it:
    /// checked as [`Scanner::skip`] checks, without surrounding whitespace.
    pub(crate) fn raw(&mut self) -> Option<&'a str> {
        self.peek()?;
        let start = self.pos;
        self.skip()?;
        Some(&self.text[start..self.pos])
    }

    fn skip_at(&mut self, depth: usize, check: Check) -> Option<()> {
        match self.peek()? {
            b'"' => self.skip_string(check),
            b'{' if depth < MAX_DEPTH => self.object(|s, _| s.skip_at(depth + 1, check)),
            b'[' if depth < MAX_DEPTH => self.array(|s| s.skip_at(depth + 1, check)),
            b'n' => self.literal(b"null"),
            b't' | b'f' => self.boolean().map(drop),
            b'-' | b'0'..=b'9' => {
                // Within `u64`, so within `f64` too.
                if self.compact_uint().is_some() {
                    return Some(());
                }
                let n = self.number_parts()?;
                // A number with no exponent whose digits fit a `u64` is
                // within `f64`; beyond it a `Value` parse fails, and
                // serde_json says whether it is.
                (check == Check::Grammar || n.plain || serde_json::from_str::<f64>(n.text).is_ok())
                    .then_some(())
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::de::IgnoredAny;

    use super::*;

    /// Any JSON-ish text: valid values, and near misses of every kind
    /// (bad escapes, control characters, bad numbers, trailing commas).
    fn jsonish() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("nul".to_string()),
            Just("true".to_string()),
            Just("fals".to_string()),
            "-?(0|[1-9][0-9]{0,22}|0[0-9])(\\.[0-9]{0,3})?([eE][+-]?[0-9]{0,4})?",
            "\"([a-z ]|\\\\[\"\\\\/bfnrtux]|\\\\u[0-9a-fA-FdD]{4}|\\\\u[dD][89abAB][0-9a-f]{2}|\u{1}|é|\t){0,8}\"?",
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec(inner.clone(), 0..3)
                    .prop_map(|v| format!("[{},]", v.join(","))),
                prop::collection::vec(("[a-z]{0,3}", inner), 0..4).prop_map(|v| {
                    let members: Vec<String> =
                        v.iter().map(|(k, v)| format!("\"{k}\" : {v}")).collect();
                    format!("{{ {} }}", members.join(" ,\n"))
                }),
            ]
        })
    }

    proptest! {
        /// Skipping accepts a document exactly when serde_json's
        /// `IgnoredAny` does, and stops where it does.
        #[test]
        fn skip_accepts_what_serde_ignores(text in jsonish()) {
            let mut scanner = Scanner::new(&text);
            let ours = scanner.skip().is_some() && scanner.at_end();
            let serde = serde_json::from_str::<IgnoredAny>(&text).is_ok();
            prop_assert_eq!(ours, serde, "{}", text);
        }

        /// Skipping as a `Value` parse checks accepts nothing that parse
        /// refuses, and gives up only on surrogate escapes.
        #[test]
        fn checked_skip_accepts_what_a_value_parse_accepts(text in jsonish()) {
            let mut scanner = Scanner::new(&text);
            let ours = scanner.skip_checked().is_some() && scanner.at_end();
            let serde = serde_json::from_str::<serde_json::Value>(&text).is_ok();
            if ours || !has_surrogate_escape(&text) {
                prop_assert_eq!(ours, serde, "{}", text);
            } else {
                prop_assert!(!ours);
            }
        }

        /// A raw value's text is the text serde_json's `RawValue` takes.
        #[test]
        fn raw_values_are_serdes(text in jsonish(), space in "[ \n]{0,2}") {
            let spaced = format!("{space}{text}{space}");
            let mut scanner = Scanner::new(&spaced);
            let ours = scanner.raw().filter(|_| scanner.at_end());
            let serde = serde_json::from_str::<&serde_json::value::RawValue>(&spaced).ok();
            prop_assert_eq!(ours, serde.map(|r| r.get()), "{}", spaced);
        }

        /// A string read, when it is read, is serde_json's string; only
        /// surrogate escapes are left to serde.
        #[test]
        fn strings_read_as_serde_reads_them(text in "\"([a-zé ]|\\\\[\"\\\\/bfnrtux]|\\\\u[0-9a-fA-F]{4}|\u{1f}){0,12}\"?") {
            let serde = serde_json::from_str::<String>(&text).ok();
            let mut scanner = Scanner::new(&text);
            let ours = scanner.string().filter(|_| scanner.at_end()).map(Cow::into_owned);
            if ours.is_some() {
                prop_assert_eq!(&ours, &serde);
            } else if let Some(serde) = serde {
                prop_assert!(has_surrogate_escape(&text), "gave up on {} ({:?})", text, serde);
            }
        }

        /// Numbers read as serde_json's `deserialize_any` gives them.
        #[test]
        fn numbers_read_as_serde_reads_them(text in prop_oneof![
            "-?(0|[1-9][0-9]{0,22}|00)(\\.[0-9]{0,18})?([eE][+-]?[0-9]{0,3})?",
            "-?(0|[1-9][0-9]{0,15})\\.[0-9]{1,23}",
            (any::<u32>(), any::<u32>()).prop_map(|(s, us)| format!("{s}.{:06}", us % 1_000_000)),
        ]) {
            let serde = serde_json::from_str::<serde_json::Value>(&text).ok();
            let mut scanner = Scanner::new(&text);
            let ours = scanner.number().filter(|_| scanner.at_end());
            let expected = serde.map(|v| match v {
                serde_json::Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                    (Some(u), _, _) => Number::U64(u),
                    (None, Some(i), _) => Number::I64(i),
                    (None, None, Some(f)) => Number::F64(f),
                    _ => unreachable!("a number is one of the three"),
                },
                other => panic!("not a number: {other}"),
            });
            match (ours, expected) {
                (Some(Number::F64(a)), Some(Number::F64(b))) => {
                    prop_assert_eq!(a.to_bits(), b.to_bits(), "{}", text)
                }
                (ours, expected) => prop_assert_eq!(ours, expected, "{}", text),
            }
        }
    }

    #[test]
    fn eight_digits_read_as_parse_reads_them() {
        for text in ["00000000", "12345678", "99999999", "10000001", "09080706"] {
            let want = text.parse::<u64>().unwrap();
            assert_eq!(eight_digits(text.as_bytes()), Some(want), "{text}");
        }
        // Each byte just outside the digits, at each place.
        for at in 0..8 {
            for b in [b'/', b':', b' ', b'0' + 0x80, 0x3A + 6, 0] {
                let mut chunk = *b"12345678";
                chunk[at] = b;
                assert_eq!(eight_digits(&chunk), None, "{chunk:?}");
            }
        }
    }

    proptest::proptest! {
        /// The eight-at-a-time read agrees with a byte-at-a-time one.
        #[test]
        fn leading_digits_agree_with_a_byte_at_a_time_read(text in "[0-9]{0,22}[^0-9]?[0-9]{0,3}") {
            let bytes = text.as_bytes();
            let run = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            let want = (1..=19)
                .contains(&run)
                .then(|| (text[..run].parse::<u64>().unwrap(), run));
            proptest::prop_assert_eq!(leading_digits(bytes), want);
        }

        /// A digit run read eight at a time ends where a byte-at-a-time
        /// read ends, with the same value, and overflows where it does.
        #[test]
        fn digit_runs_agree_with_a_byte_at_a_time_read(
            text in "[0-9]{0,30}[^0-9]?[0-9]{0,3}",
            start in prop_oneof![Just(0u64), 0..1_000u64, any::<u64>()],
        ) {
            let bytes = text.as_bytes();
            let (mut want, mut want_overflow) = (start, false);
            let run = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            for b in &bytes[..run] {
                match want.checked_mul(10).and_then(|v| v.checked_add(u64::from(b - b'0'))) {
                    Some(v) => want = v,
                    None => want_overflow = true,
                }
            }
            let (mut at, mut significand, mut overflow) = (0, start, false);
            let count = digit_run(bytes, &mut at, &mut significand, &mut overflow);
            proptest::prop_assert_eq!((count, at), (run, run));
            proptest::prop_assert_eq!((significand, overflow), (want, want_overflow));
        }

        /// A plain decimal is read where the number it starts is one: to
        /// the number's end, its parts those of the number's text; and
        /// nothing is consumed where it is not.
        #[test]
        fn plain_decimals_are_the_numbers_they_start(
            text in "-?(0|[1-9][0-9]{0,21}|0[0-9])(\\.[0-9]{0,21})?([eE][+-]?[0-9])?[,}.]?",
        ) {
            let mut scanner = Scanner::new(&text);
            let decimal = scanner.compact_decimal();
            let mut number = Scanner::new(&text);
            let read = number.number_parts();
            match decimal {
                Some((whole, fraction, digits)) => {
                    proptest::prop_assert_eq!(scanner.pos, number.pos, "{}", text);
                    let written = format!("{whole}.{fraction:0digits$}");
                    proptest::prop_assert_eq!(&text[..scanner.pos], written.as_str());
                }
                None => {
                    proptest::prop_assert_eq!(scanner.pos, 0);
                    // Only signs, exponents, whole numbers, leading zeros
                    // and parts over 19 digits are left to `number`.
                    let plain = read.is_some_and(|n| {
                        let (whole, fraction) = n.text.split_once('.').unwrap_or((n.text, ""));
                        !n.negative && !n.text.contains(['e', 'E'])
                            && (1..=19).contains(&fraction.len()) && whole.len() <= 19
                    });
                    proptest::prop_assert!(!plain, "{}", text);
                }
            }
        }

        /// A whole number read compact is the number, and the skip, that
        /// the general reading gives, ending where it ends; any other
        /// form is left to it, nothing consumed.
        #[test]
        fn compact_whole_numbers_read_and_skip_as_the_general_way(
            text in r#"-?(0|[1-9][0-9]{0,21}|0[0-9]+)(\.[0-9]{0,3})?([eE][+-]?[0-9]{1,3})?[,}\] .eEx]?"#,
        ) {
            let mut compact = Scanner::new(&text);
            let got = compact.compact_uint();
            let mut general = Scanner::new(&text);
            let want = general.number_general();
            match got {
                Some(n) => {
                    proptest::prop_assert_eq!(Some(Number::U64(n)), want, "{}", text);
                    proptest::prop_assert_eq!(compact.pos, general.pos, "{}", text);
                }
                None => proptest::prop_assert_eq!(compact.pos, 0, "{}", text),
            }
            let mut read = Scanner::new(&text);
            proptest::prop_assert_eq!(read.number(), want, "{}", text);
            let mut skipped = Scanner::new(&text);
            let mut parts = Scanner::new(&text);
            let skip = skipped.skip_checked().map(|()| skipped.pos);
            let checked = parts.number_parts().and_then(|n| {
                (n.plain || serde_json::from_str::<f64>(n.text).is_ok()).then_some(parts.pos)
            });
            proptest::prop_assert_eq!(skip, checked, "{}", text);
        }

        /// A compact raw value is the text `raw` reads, ending where it
        /// ends; and nothing is consumed where it is not one, which leaves
        /// only escapes, control bytes, signs, fractions, exponents, zeros,
        /// 20 digits and other values to `raw`.
        #[test]
        fn compact_raw_values_are_what_raw_reads(
            text in r#"("([a-z ]|\\\\|\\"|\t){0,20}"|-?(0|[1-9][0-9]{0,21}|0[0-9])(\.[0-9]{0,3})?([eE][+-]?[0-9])?|null|true|\[1\]|\{\})[,}\] .eE]?"#,
        ) {
            let mut compact = Scanner::new(&text);
            let got = compact.compact_raw();
            let mut general = Scanner::new(&text);
            let want = general.raw();
            match got {
                Some(got) => {
                    proptest::prop_assert_eq!(Some(got), want, "{}", text);
                    proptest::prop_assert_eq!(compact.pos, general.pos, "{}", text);
                }
                None => {
                    proptest::prop_assert_eq!(compact.pos, 0);
                    let plain = want.is_some_and(|w| {
                        let string = w.starts_with('"') && !w[1..w.len() - 1].contains(['\\', '\t']);
                        let digits = w.bytes().all(|b| b.is_ascii_digit())
                            && !w.starts_with('0') && w.len() <= 19;
                        string || digits
                    });
                    proptest::prop_assert!(!plain, "{}", text);
                }
            }
        }

        /// Two slices are the same bytes exactly when they are equal,
        /// whichever byte differs, and never when their lengths differ.
        #[test]
        fn same_bytes_is_equality(
            a in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..30),
            at in proptest::prelude::any::<proptest::sample::Index>(),
            flip in 0u8..=255,
        ) {
            let mut b = a.clone();
            if !b.is_empty() {
                let i = at.index(b.len());
                b[i] ^= flip;
            }
            proptest::prop_assert_eq!(same_bytes(&a, &b), a == b);
            proptest::prop_assert!(same_bytes(&a, &a));
            // A prefix is another length: never the same bytes.
            if let Some((_, prefix)) = a.split_last() {
                proptest::prop_assert!(!same_bytes(&a, prefix));
            }
        }

        /// Members are read as the general object read reads them,
        /// expected in order or not, whatever the spacing, each given the
        /// field its name is paired with, or else the one made of its name
        /// (`f` is not expected).
        #[test]
        fn expected_members_are_read_as_any_others(
            order in proptest::sample::subsequence(vec!["a", "bb", "ccc", "dddd", "eeeeeeeeeeeeeeeeeeee", "f"], 0..=6)
                .prop_shuffle(),
            spaced in proptest::prelude::any::<bool>(),
        ) {
            let sep = if spaced { " " } else { "" };
            let members: Vec<String> =
                order.iter().enumerate().map(|(i, n)| format!("{sep}\"{n}\"{sep}:{sep}{i}")).collect();
            let text = format!("{{{}}}", members.join(","));
            let written: [(&'static [u8], &[u8]); 5] = [
                (b"\"a\":", b"a"),
                (b"\"bb\":", b"bb"),
                (b"\"ccc\":", b"ccc"),
                (b"\"dddd\":", b"dddd"),
                (b"\"eeeeeeeeeeeeeeeeeeee\":", b"eeeeeeeeeeeeeeeeeeee"),
            ];
            let read = |expecting: bool| {
                let mut s = Scanner::new(&text);
                let mut got = Vec::new();
                let mut member = |s: &mut Scanner<'_>, name: &[u8]| {
                    got.push((String::from_utf8(name.to_vec()).unwrap(), s.raw()?.to_string()));
                    Some(())
                };
                let ok = if expecting {
                    s.object_expecting(&written, |name| name, &mut member)
                } else {
                    s.object(&mut member)
                };
                (ok, got, s.pos)
            };
            proptest::prop_assert_eq!(read(true), read(false), "{}", text);
        }

        /// A plain run ends at the first quote, backslash or control
        /// byte from any start, whatever the bytes around it.
        #[test]
        fn plain_runs_end_where_a_byte_at_a_time_search_ends(
            bytes in proptest::collection::vec(prop_oneof![
                4 => 0x20u8..0x7F,
                1 => Just(b'"'),
                1 => Just(b'\\'),
                1 => 0u8..0x20,
                2 => 0x7Fu8..=0xFF,
            ], 0..80),
            start in 0usize..80,
        ) {
            let start = start.min(bytes.len());
            let want = bytes[start..]
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .map_or(bytes.len(), |p| start + p);
            proptest::prop_assert_eq!(plain_run_end(&bytes, start), want);
        }
    }

    #[test]
    fn leading_digits_take_one_to_nineteen_digits() {
        assert_eq!(
            leading_digits(b"1700000000000000123\""),
            Some((1700000000000000123, 19))
        );
        assert_eq!(
            leading_digits(b"9999999999999999999"),
            Some((9999999999999999999, 19))
        );
        assert_eq!(leading_digits(b"007,"), Some((7, 3)));
        assert_eq!(leading_digits(b"18446744073709551615"), None);
        assert_eq!(leading_digits(b""), None);
        assert_eq!(leading_digits(b"\"1\""), None);
    }

    /// Whether `text` has a `\u` escape of a UTF-16 surrogate.
    fn has_surrogate_escape(text: &str) -> bool {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i + 1 < bytes.len() {
            if bytes[i] != b'\\' {
                i += 1;
                continue;
            }
            if bytes[i + 1] == b'u'
                && hex4(&bytes[i + 2..]).is_some_and(|u| (0xD800..0xE000).contains(&u))
            {
                return true;
            }
            i += 2;
        }
        false
    }

    #[test]
    fn plain_runs_stop_at_the_first_special_byte_in_any_lane() {
        // Past 32 bytes, so a special byte falls in every lane of a
        // sixteen-byte block, of an eight-byte one and of the tail.
        for len in 0..40 {
            for (special, what) in [(b'"', "quote"), (b'\\', "backslash"), (0x1f, "control")] {
                for at in 0..len {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = special;
                    if at + 1 < len {
                        bytes[at + 1] = b'"'; // a later special never wins
                    }
                    assert_eq!(plain_run_end(&bytes, 0), at, "{what} at {at} of {len}");
                }
                assert_eq!(plain_run_end(&vec![0xC3; len], 0), len, "high bytes");
            }
        }
    }

    #[test]
    fn decimals_read_as_serde_reads_them() {
        for text in [
            "1700000000.123456",
            "0.1",
            "-0.0",
            "9007199254740.991",
            "0.0000000000000000000001",
            "9007199254740.993", // past 2^53: serde's parse
            "1.5e3",
            "-0",
        ] {
            let serde: f64 = serde_json::from_str(text).unwrap();
            let mut scanner = Scanner::new(text);
            let Some(Number::F64(ours)) = scanner.number() else {
                panic!("{text} is not read as a float");
            };
            assert_eq!(ours.to_bits(), serde.to_bits(), "{text}");
        }
    }

    #[test]
    fn escapes_decode_and_borrowing_stops_at_the_first() {
        let mut scanner = Scanner::new(r#""plain" "a\"b\\c\/d\n\u00e9\u20ac""#);
        assert!(matches!(scanner.string(), Some(Cow::Borrowed("plain"))));
        assert_eq!(scanner.string().as_deref(), Some("a\"b\\c/d\né€"));
        assert!(scanner.at_end());
    }

    #[test]
    fn gives_up_where_serde_would_refuse_or_the_case_is_rare() {
        for text in [
            "\"\\ud83d\\ude00\"", // a surrogate pair: left to serde
            "\"a\u{1}\"",         // a control character
            "\"\\x\"",            // a bad escape
            "\"open",
            "01",
            "1.",
            "-",
            "1e400",
        ] {
            let mut scanner = Scanner::new(text);
            let read = match text.as_bytes()[0] {
                b'"' => scanner.string().map(drop),
                _ => scanner.number().map(drop),
            };
            // "01" reads as 0 with "1" left over, which no caller accepts.
            assert!(read.is_none() || !scanner.at_end(), "{text}");
        }
    }

    #[test]
    fn skipping_stops_at_the_depth_limit() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(Scanner::new(&deep(MAX_DEPTH)).skip().is_some());
        assert!(Scanner::new(&deep(MAX_DEPTH + 1)).skip().is_none());
    }
}
