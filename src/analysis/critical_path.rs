//! Critical path of a trace: which span held up its end at every instant.
//!
//! The semantics are the Jaeger UI's (`TracePage/CriticalPath`, taken from
//! Uber's CRISP), with two of its flaws fixed:
//!
//! 1. Children are first clipped to their parent's (already clipped) window:
//!    a child that ends after its parent is cut at the parent's end, one that
//!    starts before it is cut at its start, and one wholly outside is dropped
//!    with its subtree. A child that encloses its parent is therefore clipped
//!    to the parent's window and holds that time: Jaeger UI's rule (its
//!    test8), where CRISP would give it to the parent. We follow Jaeger UI
//!    because the child's work is what the parent was waiting on.
//! 2. A CONSUMER child of a PRODUCER parent is not blocking: the producer
//!    hands a message off and does not wait for it, so that subtree is
//!    ignored and the time stays with the producer.
//! 3. Walking back from the span's end: follow the last-finishing child, then
//!    the last-finishing child among those that finish no later than the
//!    followed one starts, and so on; time in which no child is followed
//!    belongs to the span itself.
//!
//! Fixed flaws: Jaeger UI only takes children that end strictly before the
//! followed one starts, which loses a sibling that touches it exactly
//! (jaegertracing/jaeger#9148); here `end <= start` qualifies, so both are
//! on the path. And Jaeger UI tests a returning start time for truthiness,
//! so a timestamp of 0 is treated as "none"; here times are plain integers.
//!
//! Clocks of different hosts disagree by a little, so a sibling that
//! overlaps the followed one by at most 1% of the parent's duration still
//! counts as finished before it started (CRISP's tolerance), and is cut where
//! the followed one starts. Without this, a 1 µs skew hands a whole sibling's
//! time to the parent.
//!
//! Ties between children that end at the same instant go to the one that
//! started first (the longer), then the earlier in the trace, so results do
//! not depend on input order. A span with a negative duration is treated as
//! zero-length at its start. The walk is iterative: a 17,000-span chain must
//! not overflow the stack. Arithmetic on times saturates, so spans built by
//! hand with times at the `i64` extremes (readers refuse such times) give a
//! path, never an overflow.

use crate::model::{Nanos, SpanKind, Trace};

/// Siblings may overlap by up to 1/this of their parent's duration and
/// still both be on the path (CRISP's tolerance for clock skew between hosts).
const OVERLAP_TOLERANCE: Nanos = 100;

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

/// A span's window after clipping to its parent's.
#[derive(Clone, Copy)]
struct Window {
    span: usize,
    start: Nanos,
    end: Nanos,
}

/// A span being walked: its window, where its blocking children (sorted,
/// last finishing first) lie in the walk's shared list, the next child to
/// consider and the time walked back to.
struct Frame {
    window: Window,
    /// Its children are `children[first..end]` of the walk's list.
    first: usize,
    end: usize,
    next: usize,
    cursor: Nanos,
    tolerance: Nanos,
}

impl Frame {
    /// The frame of `window`, its blocking children appended to `children`.
    fn new(trace: &Trace, window: Window, children: &mut Vec<Window>) -> Frame {
        let first = children.len();
        blocking_children(trace, window, children);
        Frame {
            window,
            first,
            end: children.len(),
            next: first,
            cursor: window.end,
            tolerance: window.end.saturating_sub(window.start) / OVERLAP_TOLERANCE,
        }
    }
}

/// The critical path of the subtree under `root`, in time order; the segments
/// tile `[root.start, root.end]` exactly (zero-length pieces are left out).
pub fn critical_path(trace: &Trace, root: usize) -> Vec<Segment> {
    let mut out = Vec::new();
    critical_path_into(trace, root, &mut Walk::default(), &mut out);
    out
}

/// The working vectors of [`critical_path_into`], kept by a caller that
/// walks many paths: grown anew for each, they were two to four
/// allocations a unit (3% of the per-trace stage's instructions).
#[derive(Default)]
pub struct Walk {
    /// The children of every frame on the stack, each frame's after its
    /// parent's: one list for the walk, not a vector a span.
    children: Vec<Window>,
    stack: Vec<Frame>,
}

/// [`critical_path`], written to `out` (cleared first), with `walk`'s
/// vectors as working room.
pub fn critical_path_into(trace: &Trace, root: usize, walk: &mut Walk, out: &mut Vec<Segment>) {
    let span = &trace.spans[root];
    let root_window = Window {
        span: root,
        start: span.start,
        end: span.end.max(span.start),
    };
    // Built newest first, like the walk, and reversed at the end. Each
    // span walked adds at most two pieces (one of its parent's, when it is
    // followed, and its own last), so the vector never grows: growing it
    // was 4% of the per-trace stage's instructions.
    out.clear();
    out.reserve(2 * trace.spans.len() + 1);
    let Walk { children, stack } = walk;
    children.clear();
    stack.clear();
    stack.push(Frame::new(trace, root_window, children));
    while let Some(frame) = stack.last_mut() {
        let cursor = frame.cursor;
        let reach = cursor.saturating_add(frame.tolerance);
        let next = children[frame.next..frame.end]
            .iter()
            .position(|c| c.end <= cursor || (c.end <= reach && c.start < cursor))
            .map(|offset| frame.next + offset);
        match next {
            Some(i) => {
                let mut child = children[i];
                frame.next = i + 1;
                // A child overlapping the followed one by less than the
                // tolerance is cut where the followed one starts.
                child.end = child.end.min(cursor);
                push(out, frame.window.span, child.end, cursor);
                frame.cursor = child.start;
                let child = Frame::new(trace, child, children);
                stack.push(child);
            }
            None => {
                push(out, frame.window.span, frame.window.start, cursor);
                children.truncate(frame.first);
                stack.pop();
            }
        }
    }
    out.reverse();
}

/// Adds a piece (the walk goes newest first), merging it into the previous
/// one when the same span continues: a zero-length child must not split its
/// parent's time in two.
fn push(out: &mut Vec<Segment>, span: usize, start: Nanos, end: Nanos) {
    if end <= start {
        return;
    }
    match out.last_mut() {
        Some(last) if last.span == span && last.start == end => last.start = start,
        _ => out.push(Segment { span, start, end }),
    }
}

/// Appends the children of `parent` that can block it to `out`, clipped to
/// its window and sorted by end (latest first), then start (earliest
/// first), then index.
fn blocking_children(trace: &Trace, parent: Window, out: &mut Vec<Window>) {
    let parent_kind = trace.spans[parent.span].kind;
    let first = out.len();
    out.extend(trace.children(parent.span).filter_map(|c| {
        let span = &trace.spans[c];
        if parent_kind == SpanKind::Producer && span.kind == SpanKind::Consumer {
            return None;
        }
        let end = span.end.max(span.start);
        if span.start > parent.end || end < parent.start {
            return None;
        }
        Some(Window {
            span: c,
            start: span.start.max(parent.start),
            end: end.min(parent.end),
        })
    }));
    out[first..].sort_unstable_by_key(|w| (std::cmp::Reverse(w.end), w.start, w.span));
}

/// Critical time per span of `trace` over the paths of every root, indexed
/// like [`Trace::spans`].
pub fn critical_times(trace: &Trace) -> Vec<Nanos> {
    let mut times: Vec<Nanos> = vec![0; trace.spans.len()];
    for &root in &trace.roots {
        for s in critical_path(trace, root) {
            times[s.span] = times[s.span].saturating_add(s.end.saturating_sub(s.start));
        }
    }
    times
}

#[cfg(test)]
mod tests;
