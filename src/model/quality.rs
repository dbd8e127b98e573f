//! The data-quality summary: everything odd that was found in the input,
//! counted, with a few located examples. Nothing is dropped silently.

use std::fmt;

use serde::Serialize;

/// Where in an input a problem sits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
    /// The first [`MAX_EXAMPLES`] unparsable records, located.
    pub examples: Vec<Problem>,
}

impl Quality {
    /// Counts a skipped record and keeps it as an example while there is room.
    pub fn unparsable(&mut self, problem: Problem) {
        self.unparsable_records += 1;
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(problem);
        }
    }

    /// Moves every example's location by the lines and bytes of input that
    /// preceded the part it was found in.
    pub fn shift(&mut self, lines: u64, bytes: u64) {
        for problem in &mut self.examples {
            problem.location.shift(lines, bytes);
        }
    }

    /// Adds another summary into this one.
    pub fn merge(&mut self, other: Quality) {
        self.unparsable_records += other.unparsable_records;
        self.missing_parent += other.missing_parent;
        self.duplicate_spans += other.duplicate_spans;
        self.parent_cycles += other.parent_cycles;
        self.multi_root_traces += other.multi_root_traces;
        self.child_starts_before_parent += other.child_starts_before_parent;
        self.child_ends_after_parent += other.child_ends_after_parent;
        self.zero_duration += other.zero_duration;
        self.negative_duration += other.negative_duration;
        let room = MAX_EXAMPLES.saturating_sub(self.examples.len());
        self.examples.extend(other.examples.into_iter().take(room));
    }

    /// The counts by name, in a fixed order, for tables.
    pub fn counts(&self) -> [(&'static str, u64); 9] {
        [
            ("unparsable records", self.unparsable_records),
            ("missing parent (made root)", self.missing_parent),
            ("duplicate span ids", self.duplicate_spans),
            ("parent cycles broken", self.parent_cycles),
            ("traces with several roots", self.multi_root_traces),
            (
                "child starts before parent",
                self.child_starts_before_parent,
            ),
            ("child ends after parent", self.child_ends_after_parent),
            ("zero duration", self.zero_duration),
            ("negative duration", self.negative_duration),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn problem_names_file_and_place() {
        let p = Problem {
            file: "traces.json".into(),
            location: Location::Line(7),
            message: "expected a span object".into(),
        };
        assert_eq!(p.to_string(), "traces.json: line 7: expected a span object");
    }
}
