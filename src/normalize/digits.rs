//! Runs of digits that stand alone, and a text's digit template.
//!
//! Statements and URLs sent without parameters differ from one call to the
//! next mostly in their numbers (`WHERE id = 17`, `/users/42`). A digit
//! run that stands alone — no letter, digit, `_`, `$` or non-ASCII byte
//! right before it, and none of those nor a `.` right after it — is read
//! by the SQL scanner and the URL shaper the same whatever its digits and
//! length. So the shape of one text is, once checked
//! (`sql::digits_are_literals`, `url::shape_scoped`), the shape of every
//! text with the same template: the text with each such run replaced by
//! one [`RUN`] byte. A shape cache keyed by templates shapes `WHERE id =
//! 17` and `WHERE id = 18` once, where one keyed by text shapes each.

use std::ops::Range;

/// The byte never found in UTF-8 text that stands for a run in a template,
/// so that no statement's own text is another's template.
pub(super) const RUN: u8 = 0xFF;

/// Whether `b` glues a digit run to a word: a letter, digit, `_`, `$` or a
/// byte of a non-ASCII character (what the SQL scanner reads as a word's).
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// The standalone digit runs of `text`, in order.
pub(super) fn runs(text: &[u8]) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        while let Some(start) = next_digit(text, i) {
            i = start
                + text[start..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
            let glued_before = start > 0 && is_word_byte(text[start - 1]);
            let glued_after = text.get(i).is_some_and(|&b| is_word_byte(b) || b == b'.');
            if !glued_before && !glued_after {
                return Some(start..i);
            }
        }
        None
    })
}

/// Where the first ASCII digit at or after `from` is. Eight bytes at a
/// time: most of a statement is not digits, and a byte at a time was most
/// of the cost of a template.
fn next_digit(text: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut i = from;
    while let Some(word) = text.get(i..i + 8) {
        // Each byte minus `'0'` (as xor: digits are 0x30–0x39) is below
        // 10 for a digit; the usual zero-byte test, shifted to test
        // "below 10", flags the lowest such byte exactly (a borrow only
        // flags bytes above a flagged one) and no byte of 0x80 or more.
        let x = u64::from_le_bytes(word.try_into().expect("eight bytes")) ^ (ONES * 0x30);
        let below_ten = x.wrapping_sub(ONES * 10) & !x & HIGH;
        if below_ten != 0 {
            return Some(i + below_ten.trailing_zeros() as usize / 8);
        }
        i += 8;
    }
    text.get(i..)?
        .iter()
        .position(u8::is_ascii_digit)
        .map(|p| i + p)
}

/// Writes `text`'s template into `out` (cleared first) and says whether it
/// differs from the text, that is whether `text` has a standalone run;
/// `out` is left empty when it does not.
pub fn template(text: &str, out: &mut Vec<u8>) -> bool {
    out.clear();
    let bytes = text.as_bytes();
    let mut copied = 0;
    for run in runs(bytes) {
        out.extend_from_slice(&bytes[copied..run.start]);
        out.push(RUN);
        copied = run.end;
    }
    if copied == 0 {
        return false;
    }
    out.extend_from_slice(&bytes[copied..]);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs_of(text: &str) -> Vec<&str> {
        runs(text.as_bytes()).map(|r| &text[r]).collect()
    }

    #[test]
    fn only_runs_that_stand_alone_are_found() {
        assert_eq!(runs_of("id = 17 AND x IN (1,22)"), ["17", "1", "22"]);
        assert_eq!(runs_of("GET user:42"), ["42"]);
        // Glued to a word, a `$`, a decimal point or an exponent: not runs.
        assert_eq!(runs_of("t1 $2 1. 1e3 0x1F 9_ é7"), Vec::<&str>::new());
        // After a decimal point or a signed exponent they stand alone.
        assert_eq!(runs_of("1.5 1e-7 -3"), ["5", "7", "3"]);
        assert_eq!(runs_of("'2024-01-05'"), ["2024", "01", "05"]);
    }

    #[test]
    fn the_next_digit_is_found_at_every_offset() {
        let all: Vec<u8> = (0..=255).collect();
        for from in 0..=all.len() {
            let want = all[from.min(all.len())..]
                .iter()
                .position(u8::is_ascii_digit)
                .map(|p| from + p);
            assert_eq!(next_digit(&all, from), want, "from {from}");
        }
        for len in 0..20 {
            let mut text = vec![b'a'; len];
            assert_eq!(next_digit(&text, 0), None);
            if len > 0 {
                text[len - 1] = b'7';
                assert_eq!(next_digit(&text, 0), Some(len - 1));
                text[len / 2] = b'0';
                assert_eq!(next_digit(&text, 0), Some(len / 2));
            }
        }
    }

    #[test]
    fn a_template_masks_each_run_whatever_its_length() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        assert!(template("WHERE id = 7 LIMIT 10", &mut a));
        assert!(template("WHERE id = 123456 LIMIT 5", &mut b));
        assert_eq!(a, b);
        assert_eq!(a, b"WHERE id = \xFF LIMIT \xFF");
        assert!(!template("SELECT t1.a FROM t1", &mut a));
        assert!(a.is_empty());
        assert!(template("1", &mut a));
        assert_eq!(a, b"\xFF");
    }
}
