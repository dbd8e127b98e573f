//! Typed flag values, parsed by clap so a bad value gets clap's usual error
//! (naming the flag, exit 2) instead of a home-made one after parsing. Each
//! keeps the text as written, for messages that name the flag's value.

use std::fmt;

/// A point in time (RFC 3339), as Unix nanoseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeArg {
    /// As written.
    pub text: String,
    /// Unix nanoseconds.
    pub nanos: i64,
}

/// A length of time (`250ms`, `2s`, `1m`), in nanoseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DurationArg {
    /// As written.
    pub text: String,
    /// Nanoseconds.
    pub nanos: i64,
}

/// A size in bytes (`512MiB`, `2G`, `1.5GB`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SizeArg(pub u64);

/// A relative growth (`20%` or `0.2`), as a fraction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PercentArg(pub f64);

impl fmt::Display for TimeArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for DurationArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Parses an RFC 3339 time such as `2024-05-01T12:00:00Z`.
pub fn time(text: &str) -> Result<TimeArg, String> {
    let at = humantime::parse_rfc3339_weak(text.trim())
        .map_err(|e| format!("{e}: expected an RFC 3339 time such as 2024-05-01T12:00:00Z"))?;
    let since_epoch = at
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| "expected a time after 1970-01-01T00:00:00Z".to_string())?;
    Ok(TimeArg {
        text: text.to_string(),
        nanos: i64::try_from(since_epoch.as_nanos()).unwrap_or(i64::MAX),
    })
}

/// Parses a duration such as `250ms` or `2s`.
pub fn duration(text: &str) -> Result<DurationArg, String> {
    let d = humantime::parse_duration(text.trim())
        .map_err(|e| format!("{e}: expected a duration such as 250ms or 2s"))?;
    Ok(DurationArg {
        text: text.to_string(),
        nanos: i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
    })
}

/// Parses a size: `K`, `M`, `G`, `T` and their `KiB`… forms are powers of
/// 1024; `KB`, `MB`, `GB`, `TB` powers of 1000; a bare number is bytes.
pub fn size(text: &str) -> Result<SizeArg, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite() && *n >= 0.0)
        .ok_or("expected a size such as 512MiB, 2G or 1.5GB")?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024.0 * 1024.0,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        other => {
            return Err(format!(
                "unknown unit {other:?} (expected B, K, M, G, T, KiB…, KB…)"
            ));
        }
    };
    Ok(SizeArg((number * factor) as u64))
}

/// Parses `20%` or `0.2` into a non-negative fraction.
pub fn percent(text: &str) -> Result<PercentArg, String> {
    let t = text.trim();
    let value = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| "expected a percentage such as 20% (or a fraction such as 0.2)".to_string())?;
    if value >= 0.0 && value.is_finite() {
        Ok(PercentArg(value))
    } else {
        Err("expected a non-negative percentage".into())
    }
}

/// Parses `p90`, `90%`, `90` or `0.9` into a quantile in (0, 1).
pub fn percentile(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let t = t.strip_prefix(['p', 'P']).unwrap_or(t);
    let t = t.strip_suffix('%').unwrap_or(t);
    let v: f64 = t
        .parse()
        .map_err(|_| "expected a percentile such as p90, 95% or 0.99".to_string())?;
    let q = if v >= 1.0 { v / 100.0 } else { v };
    if q > 0.0 && q < 1.0 {
        Ok(q)
    } else {
        Err("expected a percentile between 0 and 100 (exclusive)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(size("1000"), Ok(SizeArg(1000)));
        assert_eq!(size("512MiB"), Ok(SizeArg(512 << 20)));
        assert_eq!(size("2G"), Ok(SizeArg(2 << 30)));
        assert_eq!(size("1.5GB"), Ok(SizeArg(1_500_000_000)));
        assert_eq!(size(" 64 kb "), Ok(SizeArg(64_000)));
        assert!(size("lots").is_err());
        assert!(size("5 parsecs").is_err());
        assert!(size("-1G").is_err());
    }

    #[test]
    fn times_durations_percents_percentiles() {
        assert_eq!(time("1970-01-01T00:00:01Z").unwrap().nanos, 1_000_000_000);
        assert!(time("yesterday").is_err());
        assert_eq!(duration("250ms").unwrap().nanos, 250_000_000);
        assert!(duration("fast").is_err());
        assert_eq!(percent("20%"), Ok(PercentArg(0.2)));
        assert_eq!(percent("0.1"), Ok(PercentArg(0.1)));
        assert!(percent("-5%").is_err());
        assert_eq!(percentile("p90"), Ok(0.9));
        assert_eq!(percentile("99%"), Ok(0.99));
        assert_eq!(percentile("0.95"), Ok(0.95));
        assert!(percentile("p100").is_err());
        assert!(percentile("p0").is_err());
    }
}
