//! The spans of a built trace: a range of a block that the traces built
//! together share.
//!
//! Each trace owning a vector of its own made the allocator hand out
//! thousands of small blocks, in the same size classes as the per-trace
//! results made while the traces are freed one by one; the results then
//! took the freed places among the traces still held, and the pages they
//! share could not be handed back when the traces were gone (12 MiB at the
//! peak on 1.09 M spans). One block per bucket of traces is freed whole,
//! as pages, once its last trace is dropped.

use std::fmt;
use std::ops::{Deref, Range};
use std::sync::Arc;

use super::span::Span;

/// The spans of one trace (see the module docs); reads as a slice.
#[derive(Clone)]
pub struct TraceSpans {
    block: Arc<Vec<Span>>,
    range: Range<usize>,
}

impl TraceSpans {
    /// Spans in a block of their own.
    pub fn own(spans: Vec<Span>) -> TraceSpans {
        let range = 0..spans.len();
        TraceSpans {
            block: Arc::new(spans),
            range,
        }
    }

    /// Moves the spans of every one of `traces` into one block, in order.
    pub fn share(traces: &mut [&mut TraceSpans]) {
        if traces.len() < 2 {
            // Nothing to share: a huge trace alone in its bucket is not
            // copied.
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
                // Another holder still reads them: copied, not moved.
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
        let spans = |ids: &[u64]| -> Vec<Span> {
            ids.iter()
                .map(|&id| plain_span(&strings, id, None, "s"))
                .collect()
        };
        let mut traces = [
            TraceSpans::own(spans(&[1, 2])),
            TraceSpans::own(spans(&[])),
            TraceSpans::own(spans(&[3, 4, 5])),
        ];
        // One of them still read elsewhere: copied.
        let held = traces[2].clone();
        TraceSpans::share(&mut traces.iter_mut().collect::<Vec<_>>());
        let ids = |t: &TraceSpans| t.iter().map(|s| s.span_id.0).collect::<Vec<_>>();
        assert_eq!(ids(&traces[0]), [1, 2]);
        assert!(traces[1].is_empty());
        assert_eq!(ids(&traces[2]), [3, 4, 5]);
        assert_eq!(ids(&held), [3, 4, 5]);
        assert!(Arc::ptr_eq(&traces[0].block, &traces[2].block));
        assert_eq!(traces[0].block.len(), 5);
    }
}
