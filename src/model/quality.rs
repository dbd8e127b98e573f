//! The data-quality summary: everything odd that was found in the input,
//! counted, with a few located examples. Nothing is dropped silently.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// Where in an input a problem sits.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// A 1-based line of a text file (JSON lines, or a pretty JSON document).
    Line(u64),
    /// A byte offset into the (decompressed) input.
    Byte(u64),
    /// The whole input.
    Whole,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::Byte(n) => write!(f, "byte {n}"),
            Location::Whole => Ok(()),
        }
    }
}

/// One located problem in the input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The input it was found in (a path, or `-` for stdin).
    pub file: String,
    /// Where in that input.
    pub location: Location,
    /// What was wrong, and what was expected.
    pub message: String,
}

impl Location {
    /// This location in an input of which the part it was found in is
    /// preceded by `lines` lines and `bytes` bytes.
    pub fn shift(&mut self, lines: u64, bytes: u64) {
        match self {
            Location::Line(n) => *n += lines,
            Location::Byte(n) => *n += bytes,
            Location::Whole => {}
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Location::Whole => write!(f, "{}: {}", self.file, self.message),
            ref at => write!(f, "{}: {}: {}", self.file, at, self.message),
        }
    }
}

/// How many located examples of unparsable records are kept.
pub const MAX_EXAMPLES: usize = 20;

/// How many located spans are kept for each other count.
pub const EXAMPLES_PER_COUNT: usize = 5;

/// The counts of [`Quality`]. Those about kept spans are shown with a few
/// of their spans (`span_examples`); the first two are of skipped records
/// (`examples`). The serde name is the name of the count's field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Count {
    /// See [`Quality::unparsable_records`].
    UnparsableRecords,
    /// See [`Quality::invalid_time`].
    InvalidTime,
    /// See [`Quality::missing_parent`].
    MissingParent,
    /// See [`Quality::duplicate_spans`].
    DuplicateSpans,
    /// See [`Quality::parent_cycles`].
    ParentCycles,
    /// See [`Quality::multi_root_traces`].
    MultiRootTraces,
    /// See [`Quality::child_starts_before_parent`].
    ChildStartsBeforeParent,
    /// See [`Quality::child_ends_after_parent`].
    ChildEndsAfterParent,
    /// See [`Quality::zero_duration`].
    ZeroDuration,
    /// See [`Quality::negative_duration`].
    NegativeDuration,
    /// See [`Quality::sentry_span_trace_mismatch`].
    SentrySpanTraceMismatch,
    /// See [`Quality::sentry_orphan_spans`].
    SentryOrphanSpans,
    /// See [`Quality::unresolved_links`].
    UnresolvedLinks,
}

impl Count {
    /// Every count, in the order tables show them.
    pub const ALL: [Count; 13] = [
        Count::UnparsableRecords,
        Count::InvalidTime,
        Count::MissingParent,
        Count::DuplicateSpans,
        Count::ParentCycles,
        Count::MultiRootTraces,
        Count::ChildStartsBeforeParent,
        Count::ChildEndsAfterParent,
        Count::ZeroDuration,
        Count::NegativeDuration,
        Count::SentrySpanTraceMismatch,
        Count::SentryOrphanSpans,
        Count::UnresolvedLinks,
    ];

    /// Whether a trace's own build makes this count; the others are made
    /// while reading (records and spans skipped, Sentry events, links
    /// resolved across traces), before there is a trace to count them in.
    pub const fn of_trace_build(self) -> bool {
        matches!(
            self,
            Count::MissingParent
                | Count::DuplicateSpans
                | Count::ParentCycles
                | Count::MultiRootTraces
                | Count::ChildStartsBeforeParent
                | Count::ChildEndsAfterParent
                | Count::ZeroDuration
                | Count::NegativeDuration
        )
    }

    /// The count's JSON name (its field in [`Quality`]).
    pub fn key(self) -> &'static str {
        match self {
            Count::UnparsableRecords => "unparsable_records",
            Count::InvalidTime => "invalid_time",
            Count::MissingParent => "missing_parent",
            Count::DuplicateSpans => "duplicate_spans",
            Count::ParentCycles => "parent_cycles",
            Count::MultiRootTraces => "multi_root_traces",
            Count::ChildStartsBeforeParent => "child_starts_before_parent",
            Count::ChildEndsAfterParent => "child_ends_after_parent",
            Count::ZeroDuration => "zero_duration",
            Count::NegativeDuration => "negative_duration",
            Count::SentrySpanTraceMismatch => "sentry_span_trace_mismatch",
            Count::SentryOrphanSpans => "sentry_orphan_spans",
            Count::UnresolvedLinks => "unresolved_links",
        }
    }

    /// The name of the count in tables.
    pub fn label(self) -> &'static str {
        match self {
            Count::UnparsableRecords => "unparsable records",
            Count::InvalidTime => "invalid times (span skipped)",
            Count::MissingParent => "missing parent (made root)",
            Count::DuplicateSpans => "duplicate span ids",
            Count::ParentCycles => "parent cycles broken",
            Count::MultiRootTraces => "traces with several roots",
            Count::ChildStartsBeforeParent => "child starts before parent",
            Count::ChildEndsAfterParent => "child ends after parent",
            Count::ZeroDuration => "zero duration",
            Count::NegativeDuration => "negative duration",
            Count::SentrySpanTraceMismatch => "Sentry span with another trace id than its event",
            Count::SentryOrphanSpans => {
                "Sentry span with no parent in its event (put under its root)"
            }
            Count::UnresolvedLinks => "links to spans not in the input",
        }
    }
}

/// One span behind a count, located as far as it is known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SpanExample {
    /// The input it was read from; `None` where that is not known (spans
    /// not made by a reader).
    pub file: Option<String>,
    /// Where in that input, when known.
    pub location: Option<Location>,
    /// The trace (hex, or the original text of a non-hex id when read).
    pub trace_id: String,
    /// The span (hex).
    pub span_id: String,
    /// What is odd about it.
    pub message: String,
}

impl SpanExample {
    /// The order examples are kept in: by trace, then span, then place.
    fn key(&self) -> impl Ord + '_ {
        (
            &self.trace_id,
            &self.span_id,
            &self.file,
            &self.location,
            &self.message,
        )
    }
}

impl fmt::Display for SpanExample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "trace {} span {}: {}",
            self.trace_id, self.span_id, self.message
        )?;
        match (&self.file, &self.location) {
            (Some(file), Some(Location::Whole) | None) => write!(f, " ({file})"),
            (Some(file), Some(at)) => write!(f, " ({file}: {at})"),
            _ => Ok(()),
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Counts of every integrity case, summed over all inputs and traces.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Quality {
    /// Records (spans, events, lines) that could not be read and were skipped.
    pub unparsable_records: u64,
    /// Spans whose parent is not in the input; each is treated as a root.
    pub missing_parent: u64,
    /// Spans whose id repeats an earlier span of the same trace; one is kept.
    pub duplicate_spans: u64,
    /// Parent cycles found and broken (the earliest span becomes a root).
    pub parent_cycles: u64,
    /// Traces with more than one root.
    pub multi_root_traces: u64,
    /// Children that start before their parent starts (clock skew).
    pub child_starts_before_parent: u64,
    /// Children that end after their parent ends (skew, or async work).
    pub child_ends_after_parent: u64,
    /// Spans whose end equals their start.
    pub zero_duration: u64,
    /// Spans whose end precedes their start.
    pub negative_duration: u64,
    /// Spans skipped because a start or end lies outside
    /// [`crate::model::EARLIEST`]..=[`crate::model::LATEST`] (1970 to 2200);
    /// each is also kept as an example while there is room. Left out of
    /// JSON when zero, so reports of sound inputs keep their shape.
    #[serde(skip_serializing_if = "is_zero")]
    pub invalid_time: u64,
    /// Sentry spans whose `trace_id` differs from their event's
    /// `contexts.trace.trace_id`; each is kept in the event's trace. Left
    /// out of JSON when zero.
    #[serde(skip_serializing_if = "is_zero")]
    pub sentry_span_trace_mismatch: u64,
    /// Sentry spans of an event with a root (`contexts.trace`) whose parent
    /// is not in the event, or who name none; each is put under that root,
    /// as Sentry shows them. Left out of JSON when zero.
    #[serde(skip_serializing_if = "is_zero")]
    pub sentry_orphan_spans: u64,
    /// Span links whose target span is not in the input (a consumer's
    /// message from a producer that was not exported, say); the message
    /// flow is then not followed past it. Left out of JSON when zero.
    #[serde(skip_serializing_if = "is_zero")]
    pub unresolved_links: u64,
    /// The first [`MAX_EXAMPLES`] unparsable records, located.
    pub examples: Vec<Problem>,
    /// For every non-zero count about kept spans (keyed by the count's
    /// field name), its first [`EXAMPLES_PER_COUNT`] spans. Left out of
    /// JSON when empty.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub span_examples: BTreeMap<Count, Vec<SpanExample>>,
}

impl Quality {
    /// Counts a skipped record and keeps it as an example while there is room.
    pub fn unparsable(&mut self, problem: Problem) {
        self.unparsable_records += 1;
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(problem);
        }
    }

    /// Counts a span skipped for an out-of-range time and keeps it as an
    /// example while there is room.
    pub fn invalid_time(&mut self, problem: Problem) {
        self.invalid_time += 1;
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(problem);
        }
    }

    /// The value of `count`.
    pub fn get(&self, count: Count) -> u64 {
        match count {
            Count::UnparsableRecords => self.unparsable_records,
            Count::InvalidTime => self.invalid_time,
            Count::MissingParent => self.missing_parent,
            Count::DuplicateSpans => self.duplicate_spans,
            Count::ParentCycles => self.parent_cycles,
            Count::MultiRootTraces => self.multi_root_traces,
            Count::ChildStartsBeforeParent => self.child_starts_before_parent,
            Count::ChildEndsAfterParent => self.child_ends_after_parent,
            Count::ZeroDuration => self.zero_duration,
            Count::NegativeDuration => self.negative_duration,
            Count::SentrySpanTraceMismatch => self.sentry_span_trace_mismatch,
            Count::SentryOrphanSpans => self.sentry_orphan_spans,
            Count::UnresolvedLinks => self.unresolved_links,
        }
    }

    /// The counter of `count`.
    fn slot(&mut self, count: Count) -> &mut u64 {
        match count {
            Count::UnparsableRecords => &mut self.unparsable_records,
            Count::InvalidTime => &mut self.invalid_time,
            Count::MissingParent => &mut self.missing_parent,
            Count::DuplicateSpans => &mut self.duplicate_spans,
            Count::ParentCycles => &mut self.parent_cycles,
            Count::MultiRootTraces => &mut self.multi_root_traces,
            Count::ChildStartsBeforeParent => &mut self.child_starts_before_parent,
            Count::ChildEndsAfterParent => &mut self.child_ends_after_parent,
            Count::ZeroDuration => &mut self.zero_duration,
            Count::NegativeDuration => &mut self.negative_duration,
            Count::SentrySpanTraceMismatch => &mut self.sentry_span_trace_mismatch,
            Count::SentryOrphanSpans => &mut self.sentry_orphan_spans,
            Count::UnresolvedLinks => &mut self.unresolved_links,
        }
    }

    /// Whether another example of `count` would be kept.
    pub fn wants_example(&self, count: Count) -> bool {
        self.span_examples
            .get(&count)
            .is_none_or(|kept| kept.len() < EXAMPLES_PER_COUNT)
    }

    /// Counts one problem of a kept span and keeps the span as an example
    /// while there is room (`example` is only called then). Every count
    /// about kept spans goes through here, so none lacks an example.
    pub fn count(&mut self, count: Count, example: impl FnOnce() -> SpanExample) {
        *self.slot(count) += 1;
        if self.wants_example(count) {
            self.span_examples.entry(count).or_default().push(example());
        }
    }

    /// Moves every example's location by the lines and bytes of input that
    /// preceded the part it was found in.
    pub fn shift(&mut self, lines: u64, bytes: u64) {
        for problem in &mut self.examples {
            problem.location.shift(lines, bytes);
        }
        for example in self.span_examples.values_mut().flatten() {
            if let Some(at) = &mut example.location {
                at.shift(lines, bytes);
            }
        }
    }

    /// Adds another summary into this one.
    pub fn merge(&mut self, other: Quality) {
        for count in Count::ALL {
            *self.slot(count) += other.get(count);
        }
        let room = MAX_EXAMPLES.saturating_sub(self.examples.len());
        self.examples.extend(other.examples.into_iter().take(room));
        // The smallest by trace and span id, so the examples do not depend
        // on the order parts are merged in (threads, spilled parts).
        for (count, examples) in other.span_examples {
            let kept = self.span_examples.entry(count).or_default();
            kept.extend(examples);
            kept.sort_unstable_by(|a, b| a.key().cmp(&b.key()));
            kept.truncate(EXAMPLES_PER_COUNT);
        }
    }

    /// The counts a trace's own build makes (not those of reading).
    pub fn trace_counts(&self) -> TraceIssues {
        TraceIssues(TraceIssues::COUNTS.map(|c| u32::try_from(self.get(c)).unwrap_or(u32::MAX)))
    }

    /// Every count with its label and JSON key, in [`Count::ALL`] order.
    pub fn counts_keyed(&self) -> [(&'static str, &'static str, u64); Count::ALL.len()] {
        Count::ALL.map(|c| (c.label(), c.key(), self.get(c)))
    }

    /// Every count by label, in [`Count::ALL`] order, for tables.
    pub fn counts(&self) -> [(&'static str, u64); Count::ALL.len()] {
        Count::ALL.map(|c| (c.label(), self.get(c)))
    }
}

/// How many counts a trace's own build makes.
const TRACE_COUNTS: usize = {
    let mut n = 0;
    let mut i = 0;
    while i < Count::ALL.len() {
        if Count::ALL[i].of_trace_build() {
            n += 1;
        }
        i += 1;
    }
    n
};

/// One trace's own data-quality counts (those its build makes), so a
/// report can count what its selection holds, not only the whole input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TraceIssues(pub [u32; TRACE_COUNTS]);

impl TraceIssues {
    /// The counts, in [`Count::ALL`] order: those of
    /// [`Count::of_trace_build`], so a count added to [`Count`] is listed
    /// in one place.
    pub const COUNTS: [Count; TRACE_COUNTS] = {
        let mut out = [Count::MissingParent; TRACE_COUNTS];
        let (mut i, mut n) = (0, 0);
        while i < Count::ALL.len() {
            if Count::ALL[i].of_trace_build() {
                out[n] = Count::ALL[i];
                n += 1;
            }
            i += 1;
        }
        out
    };

    /// The counts added since `before`.
    pub fn since(self, before: TraceIssues) -> TraceIssues {
        let mut out = self;
        for (o, b) in out.0.iter_mut().zip(before.0) {
            *o = o.saturating_sub(b);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_counts_name_the_json_fields() {
        let q = Quality {
            child_ends_after_parent: 3,
            ..Quality::default()
        };
        let json = serde_json::to_value(&q).unwrap();
        for (_, key, n) in q.counts_keyed() {
            if let Some(v) = json.get(key) {
                assert_eq!(v.as_u64(), Some(n), "{key}");
            }
        }
        assert!(
            q.counts_keyed()
                .iter()
                .any(|&(_, k, n)| k == "child_ends_after_parent" && n == 3)
        );
        // Every count is a field of the JSON, by its key.
        let all = serde_json::to_value(Quality {
            unparsable_records: 1,
            invalid_time: 1,
            sentry_span_trace_mismatch: 1,
            sentry_orphan_spans: 1,
            unresolved_links: 1,
            ..Quality::default()
        })
        .unwrap();
        for count in Count::ALL {
            assert!(all.get(count.key()).is_some(), "{}", count.key());
            let serde_name = serde_json::to_value(count).unwrap();
            assert_eq!(serde_name, count.key(), "span_examples keys match");
        }
    }

    #[test]
    fn a_traces_counts_are_those_its_build_makes_in_table_order() {
        let listed: Vec<Count> = Count::ALL
            .into_iter()
            .filter(|c| c.of_trace_build())
            .collect();
        assert_eq!(TraceIssues::COUNTS.to_vec(), listed);
        assert!(!Count::UnparsableRecords.of_trace_build());
        assert!(Count::MissingParent.of_trace_build());
        // Each count lands in its own slot; counts of reading in none.
        for (slot, &count) in TraceIssues::COUNTS.iter().enumerate() {
            let mut q = Quality {
                unresolved_links: 9,
                ..Quality::default()
            };
            q.count(count, || SpanExample {
                file: None,
                location: None,
                trace_id: "t".into(),
                span_id: "s".into(),
                message: "m".into(),
            });
            let mut want = [0; TraceIssues::COUNTS.len()];
            want[slot] = 1;
            assert_eq!(q.trace_counts(), TraceIssues(want), "{count:?}");
        }
    }

    #[test]
    fn merge_adds_counts_and_caps_examples() {
        let mut a = Quality::default();
        let mut b = Quality::default();
        for i in 0..15 {
            let p = Problem {
                file: "f".into(),
                location: Location::Line(i),
                message: "bad".into(),
            };
            a.unparsable(p.clone());
            b.unparsable(p);
        }
        b.missing_parent = 3;
        a.merge(b);
        assert_eq!(a.unparsable_records, 30);
        assert_eq!(a.missing_parent, 3);
        assert_eq!(a.examples.len(), MAX_EXAMPLES);
    }

    #[test]
    fn each_count_keeps_a_few_examples_through_merges_and_shifts() {
        let example = |i: u64| SpanExample {
            file: Some("f".into()),
            location: Some(Location::Line(i)),
            trace_id: "t".into(),
            span_id: format!("{i}"),
            message: "late".into(),
        };
        let (mut a, mut b) = (Quality::default(), Quality::default());
        for i in 0..4 {
            a.count(Count::ChildEndsAfterParent, || example(i));
            b.count(Count::ChildEndsAfterParent, || example(10 + i));
        }
        b.count(Count::ZeroDuration, || example(99));
        b.shift(100, 0);
        a.merge(b);
        assert_eq!(a.child_ends_after_parent, 8);
        assert_eq!(a.zero_duration, 1);
        let late = &a.span_examples[&Count::ChildEndsAfterParent];
        assert_eq!(late.len(), EXAMPLES_PER_COUNT);
        assert!(late.iter().any(|e| e.location == Some(Location::Line(110))));
        // Merging in the other order keeps the same examples.
        let (mut c, mut d) = (Quality::default(), Quality::default());
        for i in 0..4 {
            c.count(Count::ChildEndsAfterParent, || example(i));
            d.count(Count::ChildEndsAfterParent, || example(10 + i));
        }
        d.shift(100, 0);
        d.merge(c);
        assert_eq!(&d.span_examples[&Count::ChildEndsAfterParent], late);
        assert!(!a.wants_example(Count::ChildEndsAfterParent));
        let mut called = false;
        a.count(Count::ChildEndsAfterParent, || {
            called = true;
            example(0)
        });
        assert!(!called, "no example is made once there is no room");
        assert_eq!(a.child_ends_after_parent, 9);
    }

    #[test]
    fn problem_names_file_and_place() {
        let p = Problem {
            file: "traces.json".into(),
            location: Location::Line(7),
            message: "expected a span object".into(),
        };
        assert_eq!(p.to_string(), "traces.json: line 7: expected a span object");
    }
}
