//! The spans of a built trace: a range of a block that the traces built
//! together share.
//!
//! Each trace owning a vector of its own made the allocator hand out
//! thousands of small blocks, in the same size classes as the per-trace
//! results made while the traces are freed one by one; the results then
//! took the freed places among the traces still held, and the pages they
//! share could not be handed back when the traces were gone (12 MiB at the
//! peak on 1.09 M spans). One block per bucket of traces is freed whole,
//! as pages, once its last trace is dropped. A trace of more than
//! [`SHARED_MAX_SPANS`] spans keeps a vector of its own: one that large
//! is allocated as pages already, and is not copied.

use std::fmt;
use std::ops::{Deref, Range};
use std::sync::Arc;

use super::span::Span;

/// The largest trace whose spans move into its bucket's block: 256 spans
/// are 20 KiB, beyond jemalloc's small size classes (16 KiB).
pub const SHARED_MAX_SPANS: usize = 256;

/// The spans of one trace (see the module docs); reads as a slice. Not
/// `Clone`: a copy would keep its whole block alive.
pub struct TraceSpans {
    block: Arc<Vec<Span>>,
    range: Range<usize>,
}

impl TraceSpans {
    /// Spans in a block of their own.
    pub(crate) fn own(spans: Vec<Span>) -> TraceSpans {
        let range = 0..spans.len();
        TraceSpans {
            block: Arc::new(spans),
            range,
        }
    }

    /// Moves the spans of every one of `traces` of at most
    /// [`SHARED_MAX_SPANS`] spans into one block, in order; larger ones keep
    /// their own.
    pub(crate) fn share(traces: &mut [&mut TraceSpans]) {
        let mut traces: Vec<&mut TraceSpans> = traces
            .iter_mut()
            .map(|t| &mut **t)
            .filter(|t| t.len() <= SHARED_MAX_SPANS)
            .collect();
        if traces.len() < 2 {
            return;
        }
        let total = traces.iter().map(|t| t.len()).sum();
        let mut block = Vec::with_capacity(total);
        let empty = Arc::new(Vec::new());
        let mut ranges = Vec::new();
        for spans in traces.iter_mut() {
            let TraceSpans { block: own, range } = std::mem::replace(
                &mut **spans,
                TraceSpans {
                    block: Arc::clone(&empty),
                    range: 0..0,
                },
            );
            let start = block.len();
            match Arc::try_unwrap(own) {
                Ok(mut own) => block.extend(own.drain(range)),
                // Already in a block with others (shared twice): copied.
                Err(shared) => block.extend_from_slice(&shared[range]),
            }
            ranges.push(start..block.len());
        }
        let block = Arc::new(block);
        for (spans, range) in traces.iter_mut().zip(ranges) {
            **spans = TraceSpans {
                block: Arc::clone(&block),
                range,
            };
        }
    }
}

impl Deref for TraceSpans {
    type Target = [Span];

    fn deref(&self) -> &[Span] {
        &self.block[self.range.clone()]
    }
}

impl<'s> IntoIterator for &'s TraceSpans {
    type Item = &'s Span;
    type IntoIter = std::slice::Iter<'s, Span>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl fmt::Debug for TraceSpans {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Interner;
    use crate::model::testutil::plain_span;

    #[test]
    fn shared_spans_keep_each_traces_own_in_order() {
        let strings = Interner::new();
        let spans = |ids: std::ops::Range<u64>| -> Vec<Span> {
            ids.map(|id| plain_span(&strings, id, None, "s")).collect()
        };
        let large = 10..11 + SHARED_MAX_SPANS as u64;
        let mut traces = [
            TraceSpans::own(spans(1..3)),
            TraceSpans::own(spans(0..0)),
            TraceSpans::own(spans(3..6)),
            TraceSpans::own(spans(large.clone())),
        ];
        let large_at = traces[3].as_ptr();
        TraceSpans::share(&mut traces.iter_mut().collect::<Vec<_>>());
        let ids = |t: &TraceSpans| t.iter().map(|s| s.span_id.0).collect::<Vec<_>>();
        let check = |traces: &[TraceSpans]| {
            assert_eq!(ids(&traces[0]), [1, 2]);
            assert!(traces[1].is_empty());
            assert_eq!(ids(&traces[2]), [3, 4, 5]);
            assert_eq!(ids(&traces[3]), large.clone().collect::<Vec<_>>());
        };
        check(&traces);
        assert!(Arc::ptr_eq(&traces[0].block, &traces[2].block));
        assert_eq!(traces[0].block.len(), 5);
        // The large trace kept its vector: not moved, not copied.
        assert_eq!(traces[3].as_ptr(), large_at);
        assert_eq!(Arc::strong_count(&traces[3].block), 1);
        // Shared again, the spans of a block held by others are copied.
        TraceSpans::share(&mut traces.iter_mut().collect::<Vec<_>>());
        check(&traces);
    }
}
