//! Critical path of a trace (being written).

use crate::model::{Nanos, Trace};

/// One piece of a critical path: span `span` held the path from `start` to `end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Index of the span in [`Trace::spans`].
    pub span: usize,
    /// Start of the piece.
    pub start: Nanos,
    /// End of the piece.
    pub end: Nanos,
}

/// The critical path of the subtree under `root`, in time order; the segments
/// tile `[root.start, root.end]` exactly.
pub fn critical_path(trace: &Trace, root: usize) -> Vec<Segment> {
    let span = &trace.spans[root];
    vec![Segment {
        span: root,
        start: span.start,
        end: span.end,
    }]
}
