//! Sentry timestamps: float seconds since the epoch, or RFC 3339 text.
//!
//! Precision: an `f64` near today's epoch seconds (~1.7e9) has a resolution
//! of about 240 ns, so `(secs * 1e9).round()` turns `1661957869.624976` into
//! `…624975872` ns, an error that shows up as phantom gaps between spans.
//! Instead the whole seconds are split off (exact in `f64`), and the fraction
//! is rounded to whole microseconds, the finest unit Sentry SDKs record.
//! Timestamps given as text (`"1661957869.624976"` or RFC 3339) are exact to
//! the nanosecond.
//!
//! A time that is a number but lies beyond what `i64` nanoseconds hold
//! (before 1677 or after 2262) saturates to `i64::MIN`/`i64::MAX` rather
//! than being refused: the reader then counts its span as an invalid time
//! (see [`crate::ingest::times`]), which is what it is, not as unparsable.

use serde_json::Value;

use crate::model::Nanos;

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// A timestamp field in nanoseconds since the epoch.
pub fn timestamp_nanos(value: &Value) -> Result<Nanos, String> {
    let nanos = match value {
        Value::Number(n) => match n.as_i64() {
            Some(secs) => Some(secs.saturating_mul(NANOS_PER_SEC)),
            None => n.as_f64().and_then(float_secs_to_nanos),
        },
        Value::String(s) => {
            let s = s.trim();
            decimal_secs_to_nanos(s).or_else(|| rfc3339_to_nanos(s))
        }
        _ => None,
    };
    nanos.ok_or_else(|| {
        format!("expected seconds since the epoch or an RFC 3339 time, found {value}")
    })
}

/// Float seconds in nanoseconds, rounded to the microsecond (see module
/// docs); beyond ±9.2e9 s (the years 1677 and 2262) saturated; `None` for
/// NaN.
pub fn float_secs_to_nanos(secs: f64) -> Option<Nanos> {
    // i64 nanoseconds reach 9.22e9 s (year 2262).
    if secs.is_nan() {
        return None;
    }
    if secs.abs() >= 9.2e9 {
        return Some(if secs < 0.0 { Nanos::MIN } else { Nanos::MAX });
    }
    let whole = secs.trunc();
    let micros = ((secs - whole) * 1e6).round() as i64;
    (whole as i64)
        .checked_mul(NANOS_PER_SEC)?
        .checked_add(micros * 1000)
}

/// The JSON number `whole.fraction` (`digits` decimals) in nanoseconds,
/// found without the float for the form SDKs write a time in: before the
/// year 2106 (`whole` below 2^32) and to the microsecond (1 to 6
/// decimals). `None` for any other, which takes the float.
///
/// It is what [`float_secs_to_nanos`] makes of the float. Below 2^32 a
/// double is within half its last place, 2^-22 s (0.24 µs), of the
/// decimal it is read from. That decimal is a whole number of
/// microseconds, so the double's whole seconds are the decimal's, and
/// rounding its fraction to the microsecond gives the decimal's back.
pub fn decimal_number_nanos(whole: u64, fraction: u64, digits: usize) -> Option<Nanos> {
    if whole >= 1 << 32 || !(1..=6).contains(&digits) {
        return None;
    }
    debug_assert!(
        fraction < 10u64.pow(digits as u32),
        "{fraction} has {digits} digits"
    );
    let scale = 10i64.pow(9 - digits as u32);
    Some(whole as i64 * NANOS_PER_SEC + fraction as i64 * scale)
}

/// `"1661957869.624976"`: decimal seconds as text, exact to the nanosecond
/// (further digits are truncated).
fn decimal_secs_to_nanos(text: &str) -> Option<Nanos> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let mut nanos: i64 = 0;
    for i in 0..9 {
        let digit = fraction
            .as_bytes()
            .get(i)
            .map_or(0, |d| i64::from(d - b'0'));
        nanos = nanos * 10 + digit;
    }
    // Saturating: too many seconds for i64 nanoseconds is a time out of
    // bounds, reported as such (see module docs).
    let whole = whole.parse::<u64>().map_or(i64::MAX, |w| {
        i64::try_from(w)
            .unwrap_or(i64::MAX)
            .saturating_mul(NANOS_PER_SEC)
    });
    let total = whole.saturating_add(nanos);
    Some(if negative { -total } else { total })
}

/// RFC 3339 with `Z` or a numeric offset (`+02:00`), any fraction digits.
fn rfc3339_to_nanos(text: &str) -> Option<Nanos> {
    // humantime reads UTC only; apply an explicit offset ourselves.
    let split = text
        .len()
        .checked_sub(6)
        .and_then(|i| Some((text.get(..i)?, text.get(i..)?)));
    let (local, offset_secs) = match split {
        Some((local, offset))
            if local.len() >= 19
                && matches!(offset.as_bytes()[0], b'+' | b'-')
                && offset.as_bytes()[3] == b':' =>
        {
            let hours: i64 = offset.get(1..3)?.parse().ok()?;
            let minutes: i64 = offset.get(4..6)?.parse().ok()?;
            let secs = hours * 3600 + minutes * 60;
            (local, if offset.starts_with('-') { -secs } else { secs })
        }
        _ => (text, 0),
    };
    let time = humantime::parse_rfc3339_weak(local).ok()?;
    let since_epoch = time.duration_since(std::time::UNIX_EPOCH).ok()?;
    let nanos = i64::try_from(since_epoch.as_nanos()).unwrap_or(i64::MAX);
    Some(nanos.saturating_sub(offset_secs * NANOS_PER_SEC))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    proptest::proptest! {
        /// Read without the float, a decimal number of seconds is what
        /// the float gives, wherever it is read so.
        #[test]
        fn decimal_numbers_are_what_their_float_gives(
            whole in proptest::prop_oneof![
                0u64..10,
                1_500_000_000u64..2_000_000_000,
                (1u64 << 32) - 2..(1 << 32) + 2,
                0u64..1 << 34,
            ],
            fraction in "[0-9]{1,8}",
        ) {
            let digits = fraction.len();
            let value = fraction.parse::<u64>().unwrap();
            let text = format!("{whole}.{fraction}");
            let float = serde_json::from_str::<f64>(&text).unwrap();
            match decimal_number_nanos(whole, value, digits) {
                Some(nanos) => {
                    proptest::prop_assert_eq!(Some(nanos), float_secs_to_nanos(float), "{}", text)
                }
                None => proptest::prop_assert!(whole >= 1 << 32 || digits > 6, "{}", text),
            }
        }
    }

    #[test]
    fn decimal_numbers_at_the_edges() {
        let max = (1u64 << 32) - 1;
        for (whole, fraction, digits) in [(max, 999_999, 6), (max, 1, 6), (0, 1, 6), (1, 5, 1)] {
            let float: f64 = format!("{whole}.{fraction:0digits$}").parse().unwrap();
            assert_eq!(
                decimal_number_nanos(whole, fraction, digits),
                float_secs_to_nanos(float)
            );
        }
        assert_eq!(decimal_number_nanos(1 << 32, 5, 1), None);
        assert_eq!(decimal_number_nanos(1, 1234567, 7), None);
        assert_eq!(decimal_number_nanos(1, 0, 0), None);
    }

    #[test]
    fn float_seconds_keep_their_microseconds() {
        // The naive product is off by 128 ns here.
        assert_eq!(
            (1661957869.624976_f64 * 1e9).round() as i64,
            1_661_957_869_624_975_872
        );
        assert_eq!(
            float_secs_to_nanos(1661957869.624976),
            Some(1_661_957_869_624_976_000)
        );
        assert_eq!(
            float_secs_to_nanos(1677610376.4375),
            Some(1_677_610_376_437_500_000)
        );
        assert_eq!(float_secs_to_nanos(0.011), Some(11_000_000));
        assert_eq!(float_secs_to_nanos(-1.5), Some(-1_500_000_000));
        assert_eq!(float_secs_to_nanos(f64::NAN), None);
        assert_eq!(float_secs_to_nanos(1e12), Some(i64::MAX));
        assert_eq!(float_secs_to_nanos(-1e300), Some(i64::MIN));
        assert_eq!(float_secs_to_nanos(f64::INFINITY), Some(i64::MAX));
    }

    #[test]
    fn differences_are_exact_to_the_microsecond() {
        let a = float_secs_to_nanos(1661957869.624976).unwrap();
        let b = float_secs_to_nanos(1661957869.625013).unwrap();
        assert_eq!(b - a, 37_000);
    }

    #[test]
    fn json_values_of_every_accepted_kind() {
        assert_eq!(timestamp_nanos(&json!(2)), Ok(2_000_000_000));
        assert_eq!(timestamp_nanos(&json!(1.25)), Ok(1_250_000_000));
        assert_eq!(
            timestamp_nanos(&json!("1661957869.123456789")),
            Ok(1_661_957_869_123_456_789)
        );
        assert_eq!(timestamp_nanos(&json!("12")), Ok(12_000_000_000));
        assert_eq!(
            timestamp_nanos(&json!("2011-05-02T17:41:36Z")),
            Ok(1_304_358_096_000_000_000)
        );
        assert_eq!(
            timestamp_nanos(&json!("2011-05-02T17:41:36.25Z")),
            Ok(1_304_358_096_250_000_000)
        );
        assert_eq!(
            timestamp_nanos(&json!("2011-05-02T19:41:36.25+02:00")),
            Ok(1_304_358_096_250_000_000)
        );
        assert_eq!(
            timestamp_nanos(&json!("2011-05-02T16:41:36-01:00")),
            Ok(1_304_358_096_000_000_000)
        );
        assert!(timestamp_nanos(&json!("yesterday")).is_err());
        assert!(timestamp_nanos(&json!("1.2.3")).is_err());
        assert!(timestamp_nanos(&json!("2011-05-02T17:41:3€")).is_err());
        assert!(timestamp_nanos(&json!(null)).is_err());
    }

    #[test]
    fn times_beyond_i64_saturate_instead_of_wrapping() {
        assert_eq!(timestamp_nanos(&json!(u64::MAX)), Ok(i64::MAX));
        assert_eq!(timestamp_nanos(&json!(i64::MAX)), Ok(i64::MAX));
        assert_eq!(timestamp_nanos(&json!(i64::MIN)), Ok(i64::MIN));
        assert_eq!(timestamp_nanos(&json!(-9.3e9)), Ok(i64::MIN));
        assert_eq!(
            timestamp_nanos(&json!("99999999999999999999")),
            Ok(i64::MAX)
        );
        assert_eq!(timestamp_nanos(&json!("-9300000000.5")), Ok(-i64::MAX));
        assert_eq!(
            timestamp_nanos(&json!("9999-12-31T23:59:59Z")),
            Ok(i64::MAX)
        );
    }
}
