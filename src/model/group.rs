//! Grouping spans into traces: the spans of every input, read as many
//! vectors, become one [`Trace`] per trace id, in trace-id order.
//!
//! The spans are dealt into buckets of trace ids (ranges cut at ids sampled
//! from the input, so buckets come out about even whatever the ids look
//! like), a batch per task; then each bucket (a few thousand spans, in
//! cache) is sorted by trace id, cut into traces and built, a bucket per
//! task. Every step runs on every core and moves each span at most four
//! times (the last into the block its bucket's traces share, see
//! [`super::TraceSpans`]), where sorting all spans as one vector moved
//! each many times and cutting it into traces ran on one core. Buckets
//! hold consecutive ids, so each is built in trace order and the traces of
//! neighbouring ids stay near each other in memory for the per-trace stage
//! (dealing by a hash of the id instead made that stage 15% slower on
//! 1.09M spans). Each batch is freed as soon as it has been dealt, so the
//! spans are held about once.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::ids::TraceId;
use super::intern::Interner;
use super::quality::Quality;
use super::span::{Span, TracedSpan};
use super::trace::Trace;

/// Spans per bucket aimed at: a bucket's spans (about 800 KiB) stay in a
/// core's cache while they are sorted and cut.
pub const SPANS_PER_BUCKET: usize = 8192;
/// Trace ids sampled per bucket to place the cuts between buckets.
const SAMPLES_PER_BUCKET: usize = 8;
/// At most this many buckets (about 12 comparisons to find one's bucket).
const MAX_BUCKETS: usize = 4096;

/// Builds one trace per trace id of `batches`, in trace-id order, aiming at
/// `per_bucket` spans per bucket; with the data-quality counts of building
/// them, merged in trace order.
pub fn traces(
    batches: Vec<Vec<TracedSpan>>,
    strings: &Interner,
    per_bucket: usize,
) -> (Vec<Trace>, Quality) {
    let cuts = Cuts::sampled(&batches, per_bucket);
    let dealt: Vec<Vec<Vec<TracedSpan>>> = batches
        .into_par_iter()
        .map(|batch| cuts.deal(batch))
        .collect();
    let mut buckets: Vec<Vec<Vec<TracedSpan>>> = (0..cuts.buckets())
        .map(|_| Vec::with_capacity(dealt.len()))
        .collect();
    for batch in dealt {
        for (bucket, spans) in buckets.iter_mut().zip(batch) {
            if !spans.is_empty() {
                bucket.push(spans);
            }
        }
    }
    let built: Vec<(Vec<Trace>, Quality)> = buckets
        .into_par_iter()
        .map(|pieces| build_bucket(pieces, strings))
        .collect();
    // Merging a bucket at a time, in order, keeps the examples a merge
    // trace by trace would: merging is associative.
    let mut quality = Quality::default();
    let mut parts = Vec::with_capacity(built.len());
    for (bucket, q) in built {
        quality.merge(q);
        parts.push(bucket);
    }
    // Moved on every core: one core moving the buckets one after another
    // (and faulting in the whole vector) left the other idle for 8 ms on
    // 1.09 M spans.
    let mut traces = Vec::new();
    crate::concat::append_all(&mut traces, parts.iter_mut().collect());
    (traces, quality)
}

/// Where the range of trace ids is cut into buckets: bucket `i` holds the
/// ids above `cuts[i - 1]`, up to `cuts[i]`.
struct Cuts(Vec<TraceId>);

impl Cuts {
    /// Cuts for `batches`, at evenly spaced ranks of a sample of their
    /// trace ids, for about `per_bucket` spans a bucket; none for a small
    /// input (one bucket).
    fn sampled(batches: &[Vec<TracedSpan>], per_bucket: usize) -> Cuts {
        let total: usize = batches.iter().map(Vec::len).sum();
        let buckets = (total / per_bucket.max(1)).clamp(1, MAX_BUCKETS);
        if buckets == 1 {
            return Cuts(Vec::new());
        }
        let stride = (total / (buckets * SAMPLES_PER_BUCKET)).max(1);
        let mut sample = Vec::with_capacity(total / stride + 1);
        // Every `stride`-th span of the batches taken as one sequence.
        let mut skip = 0;
        for batch in batches {
            sample.extend(batch.iter().skip(skip).step_by(stride).map(|s| s.trace_id));
            skip = (skip + stride - batch.len() % stride) % stride;
        }
        sample.sort_unstable();
        let mut cuts: Vec<TraceId> = (1..buckets)
            .map(|i| sample[i * sample.len() / buckets])
            .collect();
        // A trace with many spans can take several ranks.
        cuts.dedup();
        Cuts(cuts)
    }

    fn buckets(&self) -> usize {
        self.0.len() + 1
    }

    fn bucket_of(&self, trace: TraceId) -> usize {
        self.0.partition_point(|cut| *cut < trace)
    }

    /// Deals `batch` into the buckets, each sized exactly (the spans are
    /// counted first), so dealing leaves no spare capacity behind.
    fn deal(&self, batch: Vec<TracedSpan>) -> Vec<Vec<TracedSpan>> {
        let mut counts = vec![0usize; self.buckets()];
        for span in &batch {
            counts[self.bucket_of(span.trace_id)] += 1;
        }
        let mut buckets: Vec<Vec<TracedSpan>> =
            counts.into_iter().map(Vec::with_capacity).collect();
        for span in batch {
            buckets[self.bucket_of(span.trace_id)].push(span);
        }
        buckets
    }
}

/// No next run (see [`build_bucket`]).
const NO_RUN: usize = usize::MAX;

/// One trace of a bucket while its spans are found: its id, its first and
/// last runs (see [`build_bucket`]) and how many spans they hold.
struct TraceRuns {
    id: TraceId,
    first: usize,
    last: usize,
    spans: usize,
}

/// Builds the traces of one bucket's spans (from every batch), in trace
/// order, with the data-quality counts of building them.
fn build_bucket(pieces: Vec<Vec<TracedSpan>>, strings: &Interner) -> (Vec<Trace>, Quality) {
    // A trace's spans are found as runs (exports nearly always write a
    // trace's spans together, though a resource's spans apart from
    // another's), each run linked to the one before of its trace, and the
    // traces, fewer than the runs, sorted by id: sorting the 96-byte spans
    // was 60% of building traces, and sorting a key per span, or per run,
    // still a quarter and a fifth. Each span is then moved once, into its
    // trace's vector, without the trace id. The order of a trace's spans
    // does not matter: `Trace::build` puts them in a total order of their
    // content.
    let total = pieces.iter().map(Vec::len).sum();
    let mut slots: Vec<Option<Span>> = Vec::with_capacity(total);
    // Per run: its first span, its end, and the next run of its trace.
    let mut runs: Vec<(usize, usize, usize)> = Vec::new();
    let mut traces: Vec<TraceRuns> = Vec::new();
    let mut trace_of: FxHashMap<TraceId, usize> = FxHashMap::default();
    // The run being read, and its trace's place in `traces`.
    let mut current: Option<(usize, usize)> = None;
    for traced in pieces.into_iter().flatten() {
        let at = slots.len();
        let t = match current {
            Some((run, t)) if traces[t].id == traced.trace_id => {
                runs[run].1 = at + 1;
                t
            }
            _ => {
                let run = runs.len();
                runs.push((at, at + 1, NO_RUN));
                let t = *trace_of.entry(traced.trace_id).or_insert_with(|| {
                    traces.push(TraceRuns {
                        id: traced.trace_id,
                        first: run,
                        last: run,
                        spans: 0,
                    });
                    traces.len() - 1
                });
                let last = &mut traces[t].last;
                if *last != run {
                    runs[*last].2 = run;
                    *last = run;
                }
                current = Some((run, t));
                t
            }
        };
        traces[t].spans += 1;
        slots.push(Some(traced.span));
    }
    drop(trace_of);
    traces.sort_unstable_by_key(|trace| trace.id);
    let groups = traces.iter().map(|trace| {
        let mut spans = Vec::with_capacity(trace.spans);
        let mut run = trace.first;
        while run != NO_RUN {
            let (from, to, next) = runs[run];
            spans.extend(slots[from..to].iter_mut().filter_map(Option::take));
            run = next;
        }
        (trace.id, spans)
    });
    let mut quality = Quality::default();
    let mut traces: Vec<Trace> = groups
        .map(|(id, spans)| {
            // Counted apart and merged: the examples a trace's build keeps
            // are chosen within the trace.
            let mut own = Quality::default();
            let trace = Trace::build(id, spans, strings, &mut own);
            quality.merge(own);
            trace
        })
        .collect();
    Trace::share_spans(&mut traces);
    (traces, quality)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::model::SpanId;

    /// The grouping the buckets replace: every span in one vector, sorted
    /// by trace id, cut into traces built one by one in trace order.
    fn one_by_one(mut spans: Vec<TracedSpan>, strings: &Interner) -> (Vec<Trace>, Quality) {
        spans.sort_by_key(|s| s.trace_id);
        let mut quality = Quality::default();
        let mut traces = Vec::new();
        for group in spans.chunk_by(|a, b| a.trace_id == b.trace_id) {
            let mut own = Quality::default();
            let spans = group.iter().map(|s| s.span.clone()).collect();
            traces.push(Trace::build(group[0].trace_id, spans, strings, &mut own));
            quality.merge(own);
        }
        (traces, quality)
    }

    fn span(strings: &Interner, trace: u128, id: u64, parent: Option<u64>) -> TracedSpan {
        let span = crate::model::Span {
            start: 1_000 + id as i64,
            end: 2_000 - id as i64,
            ..crate::model::testutil::plain_span(strings, id, parent, "svc")
        };
        crate::model::testutil::traced(trace, span)
    }

    /// What a trace is made of, to compare two groupings.
    fn summary(traces: &[Trace]) -> Vec<(TraceId, Vec<SpanId>, Vec<usize>, usize)> {
        traces
            .iter()
            .map(|t| {
                let ids = t.spans.iter().map(|s| s.span_id).collect();
                (t.id, ids, t.roots.clone(), t.tree.edges())
            })
            .collect()
    }

    proptest! {
        /// However the spans are split into batches and whatever their ids
        /// (a few small ones, as hand-made or Zipkin traces have, or spread
        /// over the whole range), the buckets build the same traces, in the
        /// same order, with the same counts and examples.
        #[test]
        fn buckets_build_what_one_vector_builds(
            traces in prop::collection::vec(
                (prop_oneof![1u128..6, any::<u128>()], 1usize..30, any::<u64>()),
                0..40,
            ),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
            per_bucket in 1usize..20,
            interleave in any::<bool>(),
        ) {
            let strings = Interner::new();
            let mut spans = Vec::new();
            for (trace, size, seed) in &traces {
                for i in 0..*size as u64 {
                    // Parents earlier in the trace; some missing, some spans
                    // repeated, so the build counts problems too.
                    let parent = (i > 0).then(|| (seed >> (i % 60)) % i + 1);
                    let id = if seed % 7 == 0 && i == 2 { 1 } else { i + 1 };
                    spans.push(span(&strings, *trace, id, parent.filter(|p| p % 5 != 4)));
                }
            }
            // Traces one after another, as exports write them, or their
            // spans mixed (a bucket then holds runs of one span each).
            if interleave {
                spans.sort_by_key(|s| (s.span.span_id.0 ^ s.trace_id.0 as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            }
            let mut ends: Vec<usize> = cuts.iter().map(|c| c.index(spans.len() + 1)).collect();
            ends.sort_unstable();
            let mut batches = Vec::new();
            let mut rest = spans.clone();
            for end in ends.into_iter().rev() {
                batches.push(rest.split_off(end.min(rest.len())));
            }
            batches.push(rest);
            let (expected, expected_quality) = one_by_one(spans, &strings);
            let (built, quality) = super::traces(batches, &strings, per_bucket);
            prop_assert_eq!(summary(&built), summary(&expected));
            prop_assert_eq!(quality, expected_quality);
        }
    }

    #[test]
    fn cuts_keep_buckets_in_trace_order_and_a_trace_in_one() {
        let strings = Interner::new();
        let spans: Vec<TracedSpan> = (0..1000u64)
            .map(|i| span(&strings, u128::from(i % 50) << 64, i + 1, None))
            .collect();
        let cuts = Cuts::sampled(std::slice::from_ref(&spans), 100);
        assert!(cuts.buckets() > 1, "{} buckets", cuts.buckets());
        let dealt = cuts.deal(spans);
        let mut last = None;
        for bucket in &dealt {
            let mut ids: Vec<TraceId> = bucket.iter().map(|s| s.trace_id).collect();
            ids.sort_unstable();
            ids.dedup();
            if let (Some(last), Some(first)) = (last, ids.first()) {
                assert!(last < *first, "buckets overlap or are out of order");
            }
            last = ids.last().copied().or(last);
        }
        assert_eq!(dealt.iter().map(Vec::len).sum::<usize>(), 1000);
    }
}
