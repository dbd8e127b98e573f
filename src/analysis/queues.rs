//! Work behind a queue. A message hop runs from a producer span to each
//! consumer span that handled the message: the producer's CONSUMER
//! children, and spans in any trace whose links point at the producer (how
//! batch consumers and separate consumer traces say which messages they
//! took). Per hop: how long the message waited, how long the consumer
//! worked, and whether it was a redelivery. Per originating request: the
//! message flow from its start to the end of the last consumer's work,
//! following consumers that publish again, across traces.
//!
//! The queue wait is the consumer's start less the producer's end: by then
//! the message has been handed over. Where the consumer starts before the
//! producer ends (a send that waits for the broker's acknowledgement, or
//! skewed clocks), it is measured from the producer's start instead, and
//! never below zero. Processing runs from the consumer span's start to the
//! end of the last span under it.
//!
//! This stage only observes rows; [`destinations`] and [`message_flows`]
//! turn them into tables with polars.

use polars::prelude::*;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;

use super::aggregate::{f64_column, id_of_largest, percentile, percentiles, u32_column};
use super::select::Unit;
use crate::model::{Interner, Nanos, SpanKind, Sym, Trace, TraceId, TraceSet};

/// One delivery of a message: a producer span and one consumer of it.
#[derive(Clone, Debug, PartialEq)]
pub struct HopRow {
    /// `messaging.destination.name`, else the producer's operation name.
    pub destination: Sym,
    /// `messaging.system` of the producer (else the consumer), if any.
    pub system: Option<Sym>,
    /// The producer's trace, and its original id text if not hex.
    pub producer_trace: (TraceId, Option<Sym>),
    /// The consumer's trace.
    pub consumer_trace: (TraceId, Option<Sym>),
    /// When the message was handed over: the producer's end, or its start
    /// when the consumer started first (see the module notes).
    pub sent: Nanos,
    /// When the consumer started.
    pub consumer_start: Nanos,
    /// The queue wait (see the module notes).
    pub wait: Nanos,
    /// The consumer's work.
    pub processing: Nanos,
    /// From the producer's start to the end of the consumer's work.
    pub message_time: Nanos,
    /// 0 for the first consumer of the message in its service, 1, 2, ...
    /// for that service's redeliveries, by start.
    pub delivery: u32,
}

/// One step of a message flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// A service working (the request before it publishes, a consumer).
    Work,
    /// A message waiting in a queue.
    QueueWait,
}

/// One step of a flow, as rows hold it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    /// Work or waiting.
    pub kind: StepKind,
    /// The service working (for a wait, the destination's system, if any).
    pub who: Option<Sym>,
    /// The operation, or the destination waited in.
    pub what: Sym,
    /// How long.
    pub time: Nanos,
}

/// One originating request whose work went through at least one queue.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowRow {
    /// The originating root's service and operation.
    pub root: (Sym, Sym),
    /// Its trace.
    pub trace: (TraceId, Option<Sym>),
    /// From the root's start to the end of the last consumer's work.
    pub end_to_end: Nanos,
    /// Queue waits along the chain that ends last.
    pub wait: Nanos,
    /// The chain that ends last, step by step.
    pub steps: Vec<Step>,
}

/// What one pass over a trace set observed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueRows {
    /// Every delivery of every message produced in the selected traces.
    pub hops: Vec<HopRow>,
    /// Every selected root whose work went through a queue.
    pub flows: Vec<FlowRow>,
    /// Messages produced in the selected traces that no consumer in the
    /// input handled, per destination.
    pub unconsumed: Vec<Sym>,
}

/// Whether `span` sends a message.
fn is_producer(strings: &Interner, span: &crate::model::Span) -> bool {
    span.kind == SpanKind::Producer
        || span
            .attrs(strings)
            .messaging_operation
            .is_some_and(|op| matches!(strings.resolve(op), "publish" | "send" | "create"))
}

/// A span: (trace index, span index).
type At = (usize, usize);

/// The end of the last span under (and including) span `i`, not counting
/// the consumers of a message sent under it: their work is the next hop's.
fn subtree_end(strings: &Interner, trace: &Trace, i: usize) -> Nanos {
    let mut end = trace.spans[i].end;
    let mut stack = vec![i];
    while let Some(n) = stack.pop() {
        let sends = is_producer(strings, &trace.spans[n]);
        for c in trace.children(n) {
            if sends && trace.spans[c].kind == SpanKind::Consumer {
                continue;
            }
            end = end.max(trace.spans[c].end);
            stack.push(c);
        }
    }
    end
}

/// The nearest span at or above a span (within its trace) that `hit`
/// names, remembered for every span on the way so each is walked once.
struct Above<'a, T: Copy> {
    set: &'a TraceSet,
    hit: &'a FxHashMap<At, T>,
    memo: FxHashMap<At, Option<T>>,
}

impl<'a, T: Copy> Above<'a, T> {
    fn new(set: &'a TraceSet, hit: &'a FxHashMap<At, T>) -> Self {
        Above {
            set,
            hit,
            memo: FxHashMap::default(),
        }
    }

    /// The nearest hit at or above `(t, i)`.
    fn of(&mut self, (t, i): At) -> Option<T> {
        let trace = &self.set.traces[t];
        let mut path = Vec::new();
        let mut at = Some(i);
        let mut found = None;
        while let Some(a) = at {
            if let Some(&known) = self.memo.get(&(t, a)) {
                found = known;
                break;
            }
            if let Some(&h) = self.hit.get(&(t, a)) {
                found = Some(h);
                path.push(a);
                break;
            }
            path.push(a);
            // Parents form a tree (cycles are broken when traces are
            // built); the bound only guards against a broken invariant.
            if path.len() > trace.spans.len() {
                break;
            }
            at = trace.parent(a);
        }
        for a in path {
            self.memo.insert((t, a), found);
        }
        found
    }

    /// The nearest hit strictly above `(t, i)`.
    fn above(&mut self, (t, i): At) -> Option<T> {
        self.set.traces[t].parent(i).and_then(|p| self.of((t, p)))
    }
}

/// Observes the hops of messages produced in the traces of `units`, and
/// the flows of those units.
pub fn observe(set: &TraceSet, units: &[Unit]) -> QueueRows {
    let strings = &set.strings;
    // Every producer of the set, so a selected flow is followed through
    // consumers in traces the selection left out. This walk and the one
    // for linking spans below visit every span, so they run on the pool:
    // a set without messages still pays for them.
    // Each with its ids, taken while the walk has the span at hand (taken
    // after it, each was a cache miss on one core).
    let found: Vec<(At, (TraceId, crate::model::SpanId))> = set
        .traces
        .par_iter()
        .enumerate()
        .flat_map_iter(|(t, trace)| {
            trace
                .spans
                .iter()
                .enumerate()
                .filter(|(_, span)| is_producer(strings, span))
                .map(move |(i, span)| ((t, i), (trace.id, span.span_id)))
        })
        .collect();
    if found.is_empty() {
        return QueueRows::default();
    }
    let mut selected = vec![false; set.traces.len()];
    for unit in units {
        selected[unit.trace] = true;
    }
    let by_id: FxHashMap<(TraceId, crate::model::SpanId), usize> = found
        .iter()
        .enumerate()
        .map(|(p, &(_, key))| (key, p))
        .collect();
    let producers: Vec<At> = found.into_iter().map(|(at, _)| at).collect();
    // Consumers of each producer: CONSUMER children, then linking spans
    // that do not send themselves (a batch "send" links to its "create"s).
    let mut consumers: Vec<Vec<At>> = producers
        .par_iter()
        .map(|&(t, i)| {
            let trace = &set.traces[t];
            trace
                .children(i)
                .filter(|&c| trace.spans[c].kind == SpanKind::Consumer)
                .map(|c| (t, c))
                .collect()
        })
        .collect();
    // Linking spans, found on the pool (see the producers' walk).
    let linking: Vec<(usize, At)> = set
        .traces
        .par_iter()
        .enumerate()
        .flat_map_iter(|(t, trace)| {
            let by_id = &by_id;
            trace
                .spans
                .iter()
                .enumerate()
                .filter(|(_, span)| span.links.is_some() && !is_producer(strings, span))
                .flat_map(move |(i, span)| {
                    span.links
                        .iter()
                        .flat_map(|l| l.iter())
                        .filter_map(move |link| by_id.get(&(link.trace_id, link.span_id)))
                        .map(move |&p| (p, (t, i)))
                })
        })
        .collect();
    for (p, at) in linking {
        consumers[p].push(at);
    }
    // Consumer spans, numbered; a span under another consumer of the same
    // message (a "process" under its "receive") is part of that one.
    // Each producer's list on its own (on the pool: with the walks below,
    // a stretch one core ran alone while the other stood idle), then
    // numbered in producer order.
    consumers.par_iter_mut().for_each(|list| {
        list.sort_by_key(|&(ct, ci)| (set.traces[ct].spans[ci].start, ct, ci));
        list.dedup();
        let members: FxHashMap<At, ()> = list.iter().map(|&c| (c, ())).collect();
        let mut above = Above::new(set, &members);
        list.retain(|&c| above.above(c).is_none());
    });
    let mut consumer_of: FxHashMap<At, usize> = FxHashMap::default();
    let mut consumer_spans: Vec<At> = Vec::new();
    for list in &consumers {
        for &c in list {
            consumer_of.entry(c).or_insert_with(|| {
                consumer_spans.push(c);
                consumer_spans.len() - 1
            });
        }
    }
    let done: Vec<Nanos> = consumer_spans
        .par_iter()
        .map(|&(t, i)| {
            let trace = &set.traces[t];
            subtree_end(strings, trace, i).max(trace.spans[i].start)
        })
        .collect();
    // Each producer's deliveries on the pool (a walk to spans all over
    // the set: on one core it was 14 ms of 1.09 M spans with the other core
    // idle), then numbered in producer order.
    let delivered: Vec<Delivered> = producers
        .par_iter()
        .zip(&consumers)
        .map(|(&(t, i), list)| deliveries(set, (t, i), list, &consumer_of, &done))
        .collect();
    let mut all_hops: Vec<HopRow> = Vec::new();
    let mut hop_at: Vec<(usize, usize)> = Vec::new(); // (producer, consumer)
    let mut hops_of_producer: Vec<Vec<usize>> = vec![Vec::new(); producers.len()];
    let mut unconsumed = Vec::new();
    for (p, outcome) in delivered.into_iter().enumerate() {
        match outcome {
            Delivered::Nowhere(destination) => {
                if selected[producers[p].0] {
                    unconsumed.push(destination);
                }
            }
            Delivered::To(hops) => {
                for (row, c) in hops {
                    hops_of_producer[p].push(hop_at.len());
                    hop_at.push((p, c));
                    all_hops.push(row);
                }
            }
        }
    }
    // The producers each consumer's work sends, to follow chains.
    // Each core remembers the walks it made: a memo, so what it finds is
    // what one shared memo finds.
    let enclosing: Vec<Option<usize>> = producers
        .par_iter()
        .map_init(
            || Above::new(set, &consumer_of),
            |above, &at| above.above(at),
        )
        .collect();
    let mut inside: Vec<Vec<usize>> = vec![Vec::new(); consumer_spans.len()];
    for (p, c) in enclosing.into_iter().enumerate() {
        if let Some(c) = c {
            inside[c].push(p);
        }
    }
    let chains = ChainEnds::new(&done, &inside, &hops_of_producer, &hop_at);
    let flows = flows(
        set,
        units,
        &producers,
        &hop_at,
        &consumer_spans,
        &hops_of_producer,
        &all_hops,
        &chains,
    );
    let mut rows = QueueRows {
        hops: all_hops
            .into_iter()
            .zip(&hop_at)
            .filter(|(_, (p, _))| selected[producers[*p].0])
            .map(|(h, _)| h)
            .collect(),
        flows,
        unconsumed,
    };
    rows.canonical_order();
    rows
}

/// What became of one producer's message: the consumer (by number) and
/// hop of each delivery, or the destination nobody consumed it from.
enum Delivered {
    To(Vec<(HopRow, usize)>),
    Nowhere(Sym),
}

/// The deliveries of the message the producer at `(t, i)` sent to `list`,
/// its consumers in start order; `consumer_of` numbers consumer spans and
/// `done` holds, per number, when its work ended.
fn deliveries(
    set: &TraceSet,
    (t, i): At,
    list: &[At],
    consumer_of: &FxHashMap<At, usize>,
    done: &[Nanos],
) -> Delivered {
    let producer = &set.traces[t].spans[i];
    let attrs = producer.attrs(&set.strings);
    // The producer's destination, else the one its consumers name (a
    // RabbitMQ publish names the exchange, the consumer the queue), else
    // the producer's operation.
    let destination = attrs
        .messaging_destination
        .or_else(|| {
            list.iter().find_map(|&(ct, ci)| {
                set.traces[ct].spans[ci]
                    .attrs(&set.strings)
                    .messaging_destination
            })
        })
        .unwrap_or(producer.name);
    if list.is_empty() {
        return Delivered::Nowhere(destination);
    }
    // Consumers in different services are different subscribers (Kafka
    // consumer groups); a redelivery is the same service taking the
    // message again.
    let mut seen: FxHashMap<Sym, u32> = FxHashMap::default();
    let hops = list
        .iter()
        .map(|&(ct, ci)| {
            let ctrace = &set.traces[ct];
            let consumer = &ctrace.spans[ci];
            let delivery = {
                let n = seen.entry(consumer.service).or_insert(0);
                *n += 1;
                *n - 1
            };
            let sent = if consumer.start >= producer.end {
                producer.end
            } else {
                producer.start
            };
            let c = consumer_of[&(ct, ci)];
            let row = HopRow {
                destination,
                system: attrs
                    .messaging_system
                    .or(consumer.attrs(&set.strings).messaging_system),
                producer_trace: (set.traces[t].id, set.traces[t].label),
                consumer_trace: (ctrace.id, ctrace.label),
                sent,
                consumer_start: consumer.start,
                wait: consumer.start.saturating_sub(sent).max(0),
                processing: done[c].saturating_sub(consumer.start),
                message_time: done[c].saturating_sub(producer.start).max(0),
                delivery,
            };
            (row, c)
        })
        .collect();
    Delivered::To(hops)
}

impl QueueRows {
    /// Appends another part's rows (a spilled input's partitions).
    pub fn merge(parts: impl IntoIterator<Item = QueueRows>) -> QueueRows {
        let mut out = QueueRows::default();
        for part in parts {
            out.hops.extend(part.hops);
            out.flows.extend(part.flows);
            out.unconsumed.extend(part.unconsumed);
        }
        out.canonical_order();
        out
    }

    /// One order whatever the order traces were read or merged in, so ties
    /// (the example of a longest wait) are broken the same way every time.
    fn canonical_order(&mut self) {
        // On the pool: tens of thousands of hops took milliseconds on one
        // core. Stable, as `sort_by` is.
        self.hops.par_sort_by(|a, b| {
            (
                a.producer_trace.0,
                a.consumer_start,
                a.consumer_trace.0,
                a.delivery,
                a.wait,
            )
                .cmp(&(
                    b.producer_trace.0,
                    b.consumer_start,
                    b.consumer_trace.0,
                    b.delivery,
                    b.wait,
                ))
        });
        self.flows.sort_by_key(|f| (f.trace.0, f.end_to_end));
        self.unconsumed.sort_unstable();
    }
}

/// The latest end reachable from each consumer span through the messages
/// its work sends, and the hop that reaches it (cycles in hostile links are
/// cut).
struct ChainEnds {
    end: Vec<Nanos>,
    via: Vec<Option<usize>>,
}

impl ChainEnds {
    fn new(
        done: &[Nanos],
        inside: &[Vec<usize>],
        hops_of_producer: &[Vec<usize>],
        hop_at: &[(usize, usize)],
    ) -> ChainEnds {
        let n = done.len();
        let mut end = done.to_vec();
        let mut via = vec![None; n];
        // The hops leaving consumer c: those of the producers inside it
        // (each hop leaves at most one consumer, so this is linear).
        let next: Vec<Vec<usize>> = inside
            .iter()
            .map(|ps| {
                ps.iter()
                    .flat_map(|&p| hops_of_producer[p].iter().copied())
                    .collect()
            })
            .collect();
        // 0 unvisited, 1 on the stack, 2 finished.
        let mut state = vec![0u8; n];
        for start in 0..n {
            if state[start] != 0 {
                continue;
            }
            let mut stack = vec![(start, 0usize)];
            state[start] = 1;
            while let Some(&mut (c, ref mut k)) = stack.last_mut() {
                if let Some(&h) = next[c].get(*k) {
                    *k += 1;
                    let d = hop_at[h].1;
                    if state[d] == 0 {
                        state[d] = 1;
                        stack.push((d, 0));
                    }
                    continue;
                }
                for &h in &next[c] {
                    let d = hop_at[h].1;
                    if state[d] == 2 && end[d] > end[c] {
                        end[c] = end[d];
                        via[c] = Some(h);
                    }
                }
                state[c] = 2;
                stack.pop();
            }
        }
        ChainEnds { end, via }
    }
}

/// The flows of the selected units that produced messages themselves (not
/// those downstream of another unit's message).
#[allow(clippy::too_many_arguments)]
fn flows(
    set: &TraceSet,
    units: &[Unit],
    producers: &[At],
    hop_at: &[(usize, usize)],
    consumer_spans: &[At],
    hops_of_producer: &[Vec<usize>],
    hops: &[HopRow],
    chains: &ChainEnds,
) -> Vec<FlowRow> {
    let unit_of: FxHashMap<At, usize> = units
        .iter()
        .enumerate()
        .map(|(u, unit)| ((unit.trace, unit.root), u))
        .collect();
    // The unit each producer and consumer is in, found on the pool (as in
    // `observe`, each core with a memo of its own).
    let unit_of_each = |spans: &[At]| -> Vec<Option<usize>> {
        spans
            .par_iter()
            .map_init(|| Above::new(set, &unit_of), |above, &at| above.of(at))
            .collect()
    };
    // Side by side: each alone was split in two and often ran on one core
    // all the same (8 ms on 1.09 M spans, the other core idle).
    let (producer_unit, consumer_unit) =
        rayon::join(|| unit_of_each(producers), || unit_of_each(consumer_spans));
    // Units that hold a consumer of another unit's message (or of one sent
    // outside the selection) are downstream.
    let mut downstream = vec![false; units.len()];
    let mut hops_of_unit: Vec<Vec<usize>> = vec![Vec::new(); units.len()];
    for (p, u) in producer_unit.iter().enumerate() {
        if let Some(u) = *u {
            hops_of_unit[u].extend(&hops_of_producer[p]);
        }
    }
    for &(p, c) in hop_at {
        if let Some(u) = consumer_unit[c]
            && producer_unit[p] != Some(u)
        {
            downstream[u] = true;
        }
    }
    let end_of = |h: usize| chains.end[hop_at[h].1];
    // Each unit's flow on the pool, in unit order (one core built them in
    // 5 ms on 1.09 M spans while the other stood idle).
    let flow = |(u, unit): (usize, &Unit)| -> Option<FlowRow> {
        if downstream[u] {
            return None;
        }
        let &first = hops_of_unit[u]
            .iter()
            .max_by_key(|&&h| (end_of(h), std::cmp::Reverse(h)))?;
        let trace = &set.traces[unit.trace];
        let root = &trace.spans[unit.root];
        let end = end_of(first).max(root.end);
        // The chain that ends last, as steps.
        let mut steps = Vec::new();
        let mut wait: Nanos = 0;
        let mut from = root.start;
        let mut who = (Some(root.service), root.name);
        let mut h = Some(first);
        while let Some(hop) = h {
            let (p, c) = hop_at[hop];
            let (pt, pi) = producers[p];
            let (ct, ci) = consumer_spans[c];
            let producer = &set.traces[pt].spans[pi];
            let consumer = &set.traces[ct].spans[ci];
            let row = &hops[hop];
            steps.push(Step {
                kind: StepKind::Work,
                who: who.0,
                what: who.1,
                time: producer.end.saturating_sub(from).max(0),
            });
            steps.push(Step {
                kind: StepKind::QueueWait,
                who: row.system,
                what: row.destination,
                time: row.wait,
            });
            wait = wait.saturating_add(row.wait);
            from = consumer.start;
            who = (Some(consumer.service), consumer.name);
            h = chains.via[c];
            // Each step moves to a later consumer in the DFS order, which
            // has no cycles; the bound only guards against a broken one.
            if steps.len() > 2 * hop_at.len() {
                break;
            }
        }
        steps.push(Step {
            kind: StepKind::Work,
            who: who.0,
            what: who.1,
            time: end.saturating_sub(from).max(0),
        });
        Some(FlowRow {
            root: (root.service, root.name),
            trace: (trace.id, trace.label),
            end_to_end: end.saturating_sub(root.start).max(0),
            wait,
            steps,
        })
    };
    units.par_iter().enumerate().filter_map(flow).collect()
}

/// Per destination: messages, deliveries, waits and processing.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueueStats {
    /// The destination (queue, topic).
    pub destination: String,
    /// The messaging system, if spans name it.
    pub system: String,
    /// Messages sent (consumed or not), counted once per consuming service
    /// (a topic read by two consumer groups counts each message twice).
    pub messages: u64,
    /// Deliveries beyond the first (a message consumed more than once).
    pub redelivered: u64,
    /// Messages produced that no consumer in the input handled.
    pub unconsumed: u64,
    /// Queue wait percentiles over deliveries (`null` when no message was
    /// consumed).
    pub wait_p50_ms: Option<f64>,
    /// See `wait_p50_ms`.
    pub wait_p95_ms: Option<f64>,
    /// See `wait_p50_ms`.
    pub wait_p99_ms: Option<f64>,
    /// Consumer processing percentiles over deliveries.
    pub processing_p50_ms: Option<f64>,
    /// See `processing_p50_ms`.
    pub processing_p95_ms: Option<f64>,
    /// See `processing_p50_ms`.
    pub processing_p99_ms: Option<f64>,
    /// Summed wait over summed message time (producer start to the end of
    /// the consumer's work): the share of a message's life spent waiting.
    pub wait_share: f64,
    /// The producer's trace of the longest wait.
    pub example_trace_id: String,
    /// The consumer's trace of the longest wait.
    pub example_consumer_trace_id: String,
}

/// One step of a flow, for reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlowStep {
    /// Work or queue wait.
    pub kind: StepKind,
    /// `service operation`, or `queue destination`.
    pub label: String,
    /// How long.
    pub ms: f64,
}

/// Per originating root operation: the end-to-end time of its message
/// flows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MessageFlow {
    /// The originating service.
    pub service: String,
    /// The originating operation.
    pub operation: String,
    /// Requests whose work went through a queue.
    pub flows: u64,
    /// From the request's start to the end of its last consumer's work.
    pub end_to_end_p50_ms: f64,
    /// See `end_to_end_p50_ms`.
    pub end_to_end_p99_ms: f64,
    /// Summed queue wait over summed end-to-end time.
    pub wait_share: f64,
    /// The slowest flow's trace.
    pub example_trace_id: String,
    /// The slowest flow, step by step.
    pub example_path: Vec<FlowStep>,
}

fn label((id, label): (TraceId, Option<Sym>), strings: &Interner) -> String {
    label.map_or_else(|| id.to_string(), |s| strings.resolve(s).to_string())
}

fn sym_id(s: Sym) -> u32 {
    s.into_usize() as u32 + 1
}

fn resolve(strings: &Interner, id: u32) -> String {
    id.checked_sub(1)
        .and_then(|i| Sym::try_from_usize(i as usize))
        .map_or_else(String::new, |s| strings.resolve(s).to_string())
}

/// The per-destination table, most waited-in first.
pub fn destinations(strings: &Interner, rows: &QueueRows) -> PolarsResult<Vec<QueueStats>> {
    if rows.hops.is_empty() && rows.unconsumed.is_empty() {
        return Ok(Vec::new());
    }
    let hops = &rows.hops;
    // One row per delivery, then one per message nobody consumed (with no
    // wait or processing, which the percentiles skip).
    let n = hops.len() + rows.unconsumed.len();
    let lost = rows.unconsumed.iter();
    let frame = df!(
        "dest" => hops.iter().map(|h| sym_id(h.destination)).chain(lost.clone().map(|&d| sym_id(d))).collect::<Vec<_>>(),
        "system" => hops.iter().map(|h| h.system.map_or(0, sym_id)).chain(lost.clone().map(|_| 0)).collect::<Vec<_>>(),
        "wait" => hops.iter().map(|h| Some(h.wait)).chain(lost.clone().map(|_| None)).collect::<Vec<_>>(),
        "proc" => hops.iter().map(|h| Some(h.processing)).chain(lost.clone().map(|_| None)).collect::<Vec<_>>(),
        "life" => hops.iter().map(|h| h.message_time as f64).chain(lost.clone().map(|_| 0.0)).collect::<Vec<_>>(),
        "waitf" => hops.iter().map(|h| h.wait as f64).chain(lost.clone().map(|_| 0.0)).collect::<Vec<_>>(),
        "first" => hops.iter().map(|h| u32::from(h.delivery == 0)).chain(lost.clone().map(|_| 0)).collect::<Vec<_>>(),
        "delivered" => (0..n).map(|i| u32::from(i < hops.len())).collect::<Vec<_>>(),
        "hop" => (0..n as u32).collect::<Vec<_>>(),
    )?;
    let mut agg = vec![
        col("system").max().alias("system"),
        col("delivered").sum().alias("deliveries"),
        (len().cast(DataType::UInt32) - col("delivered").sum()).alias("unconsumed"),
        col("first").sum().alias("messages"),
        col("waitf").sum().alias("wsum"),
        col("life").sum().alias("lsum"),
        id_of_largest("hop", "wait", "example"),
    ];
    agg.extend(percentiles("wait", "w"));
    agg.extend(percentiles("proc", "p"));
    let out = frame.lazy().group_by([col("dest")]).agg(agg).collect()?;
    let u32s = |c: &str| u32_column(&out, c);
    let f64s = |c: &str| f64_column(&out, c);
    let (dest, system, deliveries, messages, example, unconsumed) = (
        u32s("dest")?,
        u32s("system")?,
        u32s("deliveries")?,
        u32s("messages")?,
        u32s("example")?,
        u32s("unconsumed")?,
    );
    let [w50, w95, w99, p50, p95, p99, wsum, lsum] =
        ["w50", "w95", "w99", "p50", "p95", "p99", "wsum", "lsum"].map(f64s);
    let (w50, w95, w99, p50, p95, p99, wsum, lsum) =
        (w50?, w95?, w99?, p50?, p95?, p99?, wsum?, lsum?);
    let mut table: Vec<QueueStats> = (0..out.height())
        .map(|r| {
            let example = example[r].and_then(|h| hops.get(h as usize));
            let deliveries = u64::from(deliveries[r].unwrap_or(0));
            let consumed = u64::from(messages[r].unwrap_or(0));
            let unconsumed = u64::from(unconsumed[r].unwrap_or(0));
            let ms = |v: Option<f64>| v.map(|ns| ns / 1e6);
            let (wsum, lsum) = (wsum[r].unwrap_or(0.0), lsum[r].unwrap_or(0.0));
            QueueStats {
                destination: resolve(strings, dest[r].unwrap_or(0)),
                system: resolve(strings, system[r].unwrap_or(0)),
                messages: consumed + unconsumed,
                redelivered: deliveries - consumed,
                unconsumed,
                wait_p50_ms: ms(w50[r]),
                wait_p95_ms: ms(w95[r]),
                wait_p99_ms: ms(w99[r]),
                processing_p50_ms: ms(p50[r]),
                processing_p95_ms: ms(p95[r]),
                processing_p99_ms: ms(p99[r]),
                wait_share: if lsum > 0.0 { wsum / lsum } else { 0.0 },
                example_trace_id: example
                    .map(|h| label(h.producer_trace, strings))
                    .unwrap_or_default(),
                example_consumer_trace_id: example
                    .map(|h| label(h.consumer_trace, strings))
                    .unwrap_or_default(),
            }
        })
        .collect();
    // Most time spent waiting first.
    let waited = |q: &QueueStats| q.wait_p99_ms.unwrap_or(0.0) * q.messages as f64;
    table.sort_by(|a, b| {
        waited(b)
            .total_cmp(&waited(a))
            .then_with(|| a.destination.cmp(&b.destination))
    });
    Ok(table)
}

/// The per-originating-operation flows, most flows first.
pub fn message_flows(strings: &Interner, rows: &QueueRows) -> PolarsResult<Vec<MessageFlow>> {
    let flows = &rows.flows;
    if flows.is_empty() {
        return Ok(Vec::new());
    }
    let frame = df!(
        "svc" => flows.iter().map(|f| sym_id(f.root.0)).collect::<Vec<_>>(),
        "op" => flows.iter().map(|f| sym_id(f.root.1)).collect::<Vec<_>>(),
        "e2e" => flows.iter().map(|f| f.end_to_end).collect::<Vec<_>>(),
        "e2ef" => flows.iter().map(|f| f.end_to_end as f64).collect::<Vec<_>>(),
        "wait" => flows.iter().map(|f| f.wait as f64).collect::<Vec<_>>(),
        "flow" => (0..flows.len() as u32).collect::<Vec<_>>(),
    )?;
    let out = frame
        .lazy()
        .group_by([col("svc"), col("op")])
        .agg([
            len().alias("flows"),
            percentile("e2e", 0.50, "p50"),
            percentile("e2e", 0.99, "p99"),
            col("wait").sum().alias("wsum"),
            col("e2ef").sum().alias("esum"),
            id_of_largest("flow", "e2e", "example"),
        ])
        .collect()?;
    // Every group holds a flow, so these columns have no nulls.
    let u32s = |c: &str| -> PolarsResult<Vec<u32>> {
        Ok(u32_column(&out, c)?
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect())
    };
    let f64s = |c: &str| -> PolarsResult<Vec<f64>> {
        Ok(f64_column(&out, c)?
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect())
    };
    let (svc, op, count, example) = (u32s("svc")?, u32s("op")?, u32s("flows")?, u32s("example")?);
    let (p50, p99, wsum, esum) = (f64s("p50")?, f64s("p99")?, f64s("wsum")?, f64s("esum")?);
    let mut table: Vec<MessageFlow> = (0..out.height())
        .map(|r| {
            let slowest = &flows[example[r] as usize];
            MessageFlow {
                service: resolve(strings, svc[r]),
                operation: resolve(strings, op[r]),
                flows: u64::from(count[r]),
                end_to_end_p50_ms: p50[r] / 1e6,
                end_to_end_p99_ms: p99[r] / 1e6,
                wait_share: if esum[r] > 0.0 {
                    wsum[r] / esum[r]
                } else {
                    0.0
                },
                example_trace_id: label(slowest.trace, strings),
                example_path: slowest
                    .steps
                    .iter()
                    .map(|s| FlowStep {
                        kind: s.kind,
                        label: match s.kind {
                            StepKind::Work => format!(
                                "{} {}",
                                s.who.map_or("", |w| strings.resolve(w)),
                                strings.resolve(s.what)
                            ),
                            StepKind::QueueWait => {
                                format!("queue {}", strings.resolve(s.what))
                            }
                        },
                        ms: s.time as f64 / 1e6,
                    })
                    .collect(),
            }
        })
        .collect();
    // Most flows first; ties by name (symbol numbers follow thread order).
    table.sort_by(|a, b| {
        b.flows
            .cmp(&a.flows)
            .then_with(|| (&a.service, &a.operation).cmp(&(&b.service, &b.operation)))
    });
    Ok(table)
}
