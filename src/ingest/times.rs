//! Time bounds at ingest. A span whose start or end lies outside
//! [`EARLIEST`]..=[`LATEST`] (1970-01-01 to 2200-01-01, as Unix
//! nanoseconds) is not read: it is counted as an invalid time at its
//! location, kept as an example, and fatal with `--strict`, like an
//! unparsable record. Within those bounds every difference of two times fits
//! in an `i64`, so no duration computed from a span that was read can
//! overflow (see [`crate::model::check_times`]).

use super::Sink;
use crate::model::{EARLIEST, LATEST, Location, TracedSpan, check_times};

// Both bounds are non-negative, so the difference of two times within them
// fits in an i64 either way round.
const _: () = assert!(EARLIEST == 0 && LATEST > EARLIEST);

/// Why a record was not read: it could not be parsed, or it was a span with
/// a time out of bounds. Readers pass it to the sink with its location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejected {
    /// Counted as an unparsable record.
    Unparsable(String),
    /// Counted as an invalid time.
    InvalidTime(String),
}

impl From<String> for Rejected {
    fn from(message: String) -> Self {
        Rejected::Unparsable(message)
    }
}

impl From<&str> for Rejected {
    fn from(message: &str) -> Self {
        Rejected::Unparsable(message.to_string())
    }
}

impl Rejected {
    /// Counts it in `sink`, located at `location`.
    pub fn record(self, sink: &mut Sink<'_>, location: Location) {
        match self {
            Rejected::Unparsable(message) => sink.skip(location, message),
            Rejected::InvalidTime(message) => sink.invalid_time(location, message),
        }
    }
}

/// The span, if its times are within bounds; else why not, naming it.
pub fn checked(read: TracedSpan) -> Result<TracedSpan, Rejected> {
    match check_times(read.span.start, read.span.end) {
        None => Ok(read),
        Some(why) => Err(Rejected::InvalidTime(format!(
            "span {}: {why}",
            read.span.span_id
        ))),
    }
}

/// Counts every span of `sink.spans[from..]` whose times are out of bounds
/// at `location()` and removes it, keeping the others in order: for readers
/// that read a batch of spans before they check them (a protobuf message,
/// a Sentry event).
pub fn check_batch(sink: &mut Sink<'_>, from: usize, location: impl Fn() -> Location) {
    if sink.spans[from..]
        .iter()
        .all(|s| check_times(s.span.start, s.span.end).is_none())
    {
        return;
    }
    let batch = sink.spans.split_off(from);
    for span in batch {
        match checked(span) {
            Ok(span) => sink.spans.push(span),
            Err(rejected) => rejected.record(sink, location()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Interner;

    #[test]
    fn out_of_bounds_spans_are_counted_and_located_in_order() {
        let strings = Interner::new();
        let mut sink = Sink::new("in.json", &strings);
        let span = |id: &str, start, end| {
            let span = crate::model::Span {
                span_id: crate::model::SpanId::parse(id).unwrap(),
                start,
                end,
                name: strings.intern(id),
                kind: Default::default(),
                ..crate::model::testutil::plain_span(&strings, 0, None, "svc")
            };
            crate::model::testutil::traced(0, span)
        };
        sink.spans = vec![
            span("a1", 10, 20),
            span("b2", -1, 20),
            span("c3", 10, LATEST + 1),
            span("d4", LATEST, LATEST),
        ];
        check_batch(&mut sink, 0, || Location::Byte(7));
        assert_eq!(sink.spans.len(), 2);
        assert_eq!(sink.quality.invalid_time, 2);
        assert_eq!(sink.quality.unparsable_records, 0);
        let first = &sink.quality.examples[0];
        assert_eq!(first.location, Location::Byte(7));
        assert!(
            first.message.contains("start time -1 ns"),
            "{}",
            first.message
        );
        assert!(
            sink.quality.examples[1]
                .message
                .contains("after 2200-01-01")
        );
    }
}
