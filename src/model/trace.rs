//! One trace as a graph of spans, built from whatever the readers produced,
//! with every integrity problem repaired minimally and counted.

use std::cmp::Ordering;

use super::ids::{SpanId, TraceId};
use super::intern::{Interner, Sym};
use super::quality::{Count, Quality, SpanExample};
use super::span::{Nanos, Span, SpanKind};
use super::trace_spans::TraceSpans;
use super::tree::Tree;

/// A trace: its spans and the parent→child graph over them.
///
/// Index `i` of [`Trace::tree`] is `spans[i]`. Spans are ordered by start
/// time, so indices are stable for a given input regardless of file order
/// or thread count.
#[derive(Debug)]
pub struct Trace {
    /// The trace id.
    pub id: TraceId,
    /// The original id text when it was not hex.
    pub label: Option<Sym>,
    /// The spans, by start time (then span id).
    pub spans: TraceSpans,
    /// Each span's parent and children, by index into `spans`.
    pub tree: Tree,
    /// Spans without a (present) parent, by start time.
    pub roots: Vec<usize>,
    /// The data-quality counts building this trace made.
    pub issues: super::quality::TraceIssues,
}

impl Trace {
    /// Builds trace `id` from its spans, counting integrity problems into
    /// `quality`. `strings` names the inputs in the examples of problems.
    pub fn build(
        id: TraceId,
        mut spans: Vec<Span>,
        strings: &Interner,
        quality: &mut Quality,
    ) -> Trace {
        let ex = Examples { trace: id, strings };
        let counted_before = quality.trace_counts();
        // Before duplicates are looked for: a shared span's halves carry
        // one id, and are two spans.
        super::split_shared(&mut spans);
        // Before the content order, which reads services.
        super::adopt_parent_services(&mut spans, strings);
        // A total order on content, so the kept duplicate, the label and
        // every index are the same whatever order the spans arrive in: the
        // order files were read in, or a spill partition was written in.
        spans.sort_unstable_by(|a, b| content_order(a, b, strings));
        let label = spans.iter().find_map(|s| s.trace_label);
        let (spans, ids) = drop_duplicates(&ex, spans, quality);
        let mut parents = resolve_parents(&ex, &spans, &ids, quality);
        break_cycles(&ex, &spans, &mut parents, quality);

        let tree = Tree::new(&parents);
        let mut roots = Vec::new();
        for (child, parent) in parents.iter().enumerate() {
            match *parent {
                Some(p) => count_skew(&ex, &spans[p], &spans[child], quality),
                None => roots.push(child),
            }
        }
        for span in &spans {
            match span.duration() {
                0 => quality.count(Count::ZeroDuration, || {
                    ex.of(span, "ends when it starts".to_string())
                }),
                d if d < 0 => quality.count(Count::NegativeDuration, || {
                    let before = ms(d.saturating_neg());
                    ex.of(span, format!("ends {before} before it starts"))
                }),
                _ => {}
            }
        }
        if let [first, second, ..] = roots[..] {
            quality.count(Count::MultiRootTraces, || {
                let message = format!(
                    "one of {} roots (the first is span {})",
                    roots.len(),
                    spans[first].span_id
                );
                ex.of(&spans[second], message)
            });
        }
        Trace {
            id,
            label,
            spans: TraceSpans::own(spans),
            tree,
            roots,
            issues: quality.trace_counts().since(counted_before),
        }
    }

    /// Moves the spans of `traces`, just built, into one block that they
    /// share (see [`TraceSpans`]).
    pub(crate) fn share_spans(traces: &mut [Trace]) {
        TraceSpans::share(&mut traces.iter_mut().map(|t| &mut t.spans).collect::<Vec<_>>());
    }

    /// The children of span `i`, in ascending order (by start time).
    pub fn children(&self, i: usize) -> impl ExactSizeIterator<Item = usize> + '_ {
        self.tree.children(i).iter().map(|&c| c as usize)
    }

    /// The parent of span `i`, if it has one in this trace.
    pub fn parent(&self, i: usize) -> Option<usize> {
        self.tree.parent(i)
    }

    /// The earliest start of any span.
    pub fn start(&self) -> Nanos {
        self.spans.iter().map(|s| s.start).min().unwrap_or(0)
    }

    /// The latest end of any span.
    pub fn end(&self) -> Nanos {
        self.spans.iter().map(|s| s.end).max().unwrap_or(0)
    }

    /// The main root: the longest one (ties: the earliest), or `None` for an
    /// empty trace.
    pub fn main_root(&self) -> Option<usize> {
        self.roots
            .iter()
            .copied()
            .max_by_key(|&r| (self.spans[r].duration(), std::cmp::Reverse(r)))
    }
}

/// Makes the located examples of one trace's problems.
struct Examples<'a> {
    trace: TraceId,
    strings: &'a Interner,
}

impl Examples<'_> {
    /// `span` as an example, at the input and record it was read from.
    fn of(&self, span: &Span, message: String) -> SpanExample {
        SpanExample {
            file: span
                .origin
                .file()
                .map(|f| self.strings.resolve(f).to_string()),
            location: span.origin.location(),
            trace_id: self.trace.to_string(),
            span_id: span.span_id.to_string(),
            message,
        }
    }
}

/// A length of time for an example's message.
fn ms(ns: Nanos) -> String {
    format!("{:.3} ms", ns as f64 / 1e6)
}

/// The order [`Trace::build`] puts spans in: by start, then id, end,
/// parent and kind, which is all that sets apart spans of distinct ids.
/// Spans equal in those are one span read more than once (from several
/// inputs, or twice from one), and the rest of their content decides which
/// is kept: first the input's name and the place in it, then everything
/// else, so that only identical spans tie. Interned strings are compared as
/// text, since a symbol's number depends on which reader thread interned
/// the string first.
fn content_order(a: &Span, b: &Span, strings: &Interner) -> Ordering {
    let key = |s: &Span| (s.start, s.span_id, s.end, s.parent_id, s.kind as u8);
    key(a).cmp(&key(b)).then_with(|| {
        let text = |sym: Option<Sym>| sym.map(|s| strings.resolve(s));
        let rest = |s: &Span| {
            let attrs = s.attrs(strings);
            let texts = [
                Some(s.service),
                Some(s.name),
                s.trace_label,
                attrs.db_system,
                attrs.shape.map(|shape| shape.text),
                attrs.server_address,
                attrs.url_host,
                attrs.peer_service,
                attrs.messaging_system,
                attrs.messaging_destination,
                attrs.messaging_operation,
            ];
            let links = s.links.iter().flat_map(|l| l.iter());
            (
                s.status as u8,
                attrs.shape.map(|shape| shape.kind),
                texts.map(text),
                links.map(|l| (l.trace_id, l.span_id)).collect::<Vec<_>>(),
            )
        };
        let origin = |s: &Span| (text(s.origin.file()), s.origin.location());
        origin(a)
            .cmp(&origin(b))
            .then_with(|| rest(a).cmp(&rest(b)))
    })
}

/// Each span's id and index, sorted by id.
fn sorted_ids(spans: &[Span]) -> Vec<(SpanId, usize)> {
    let mut ids: Vec<(SpanId, usize)> = spans.iter().map(|s| s.span_id).zip(0..).collect();
    ids.sort_unstable();
    ids
}

/// Keeps the first span of each id (in the content order sorted above);
/// with the kept spans' ids, sorted, for [`resolve_parents`]. A sort of
/// the ids, not a hash set and then a hash map of them: with their
/// allocations those were a fifth of building traces.
fn drop_duplicates(
    id: &Examples<'_>,
    spans: Vec<Span>,
    quality: &mut Quality,
) -> (Vec<Span>, Vec<(SpanId, usize)>) {
    let ids = sorted_ids(&spans);
    // A repeated id is a run, its first span in content order first.
    let mut dropped: Vec<bool> = Vec::new();
    for pair in ids.windows(2) {
        if pair[0].0 == pair[1].0 {
            dropped.resize(spans.len(), false);
            dropped[pair[1].1] = true;
        }
    }
    if dropped.is_empty() {
        return (spans, ids);
    }
    let kept: Vec<Span> = spans
        .into_iter()
        .zip(dropped)
        .filter(|(s, dropped)| {
            if *dropped {
                quality.count(Count::DuplicateSpans, || {
                    let message = format!(
                        "repeats the id of a span kept instead (this one: {} long, dropped)",
                        ms(s.duration())
                    );
                    id.of(s, message)
                });
            }
            !dropped
        })
        .map(|(s, _)| s)
        .collect();
    let ids = sorted_ids(&kept);
    (kept, ids)
}

/// The index of each span's parent; a parent that is absent (or the span
/// itself) makes the span a root, counted as a missing parent. `ids` are
/// the spans' ids and indices, sorted by id, each id once.
fn resolve_parents(
    id: &Examples<'_>,
    spans: &[Span],
    ids: &[(SpanId, usize)],
    quality: &mut Quality,
) -> Vec<Option<usize>> {
    let index = |pid: SpanId| {
        ids.binary_search_by_key(&pid, |&(id, _)| id)
            .ok()
            .map(|k| ids[k].1)
    };
    spans
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let pid = s.parent_id?;
            match index(pid) {
                Some(p) if p != i => Some(p),
                Some(_) => {
                    quality.count(Count::ParentCycles, || {
                        id.of(s, "is its own parent; made a root".to_string())
                    });
                    None
                }
                None => {
                    quality.count(Count::MissingParent, || {
                        let message = format!("parent {pid} is not in the input; made a root");
                        id.of(s, message)
                    });
                    None
                }
            }
        })
        .collect()
}

/// Finds spans whose ancestry loops and cuts each loop at its earliest span.
fn break_cycles(
    id: &Examples<'_>,
    spans: &[Span],
    parents: &mut [Option<usize>],
    quality: &mut Quality,
) {
    // 0 = unknown, 1 = on the current walk, 2 = reaches a root.
    let mut state = vec![0u8; spans.len()];
    // One walk's vector for all: a new one per span was an allocation per
    // span (nearly every walk holds the span itself), 5% of building a
    // trace.
    let mut walk = Vec::new();
    for start in 0..spans.len() {
        walk.clear();
        let mut at = start;
        loop {
            if state[at] == 2 {
                break;
            }
            if state[at] == 1 {
                let cycle_from = walk.iter().position(|&n| n == at).unwrap_or(0);
                // Walk holds indices in start order; the smallest is earliest.
                let earliest = walk[cycle_from..].iter().copied().min().unwrap_or(at);
                parents[earliest] = None;
                quality.count(Count::ParentCycles, || {
                    let message = format!(
                        "earliest span of a parent cycle of {}; made a root",
                        walk.len() - cycle_from
                    );
                    id.of(&spans[earliest], message)
                });
                break;
            }
            state[at] = 1;
            walk.push(at);
            match parents[at] {
                Some(p) => at = p,
                None => break,
            }
        }
        for &n in &walk {
            state[n] = 2;
        }
    }
}

fn count_skew(id: &Examples<'_>, parent: &Span, child: &Span, quality: &mut Quality) {
    if child.start < parent.start {
        quality.count(Count::ChildStartsBeforeParent, || {
            let by = ms(parent.start.saturating_sub(child.start));
            let message = format!("starts {by} before its parent {}", parent.span_id);
            id.of(child, message)
        });
    }
    // A message's consumer outlives the producer that sent it: that is
    // how queues work, not a clock problem.
    let handoff = parent.kind == SpanKind::Producer && child.kind == SpanKind::Consumer;
    if child.end > parent.end && !handoff {
        quality.count(Count::ChildEndsAfterParent, || {
            let by = ms(child.end.saturating_sub(parent.end));
            let message = format!("ends {by} after its parent {}", parent.span_id);
            id.of(child, message)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Location;
    use crate::model::testutil::TraceBuilder;

    #[test]
    fn builds_parent_child_graph() {
        let mut q = Quality::default();
        let t = TraceBuilder::new()
            .span("root", None, 0, 100)
            .span("a", Some("root"), 10, 40)
            .span("b", Some("root"), 50, 90)
            .build(&mut q);
        assert_eq!(t.roots, vec![0]);
        let mut kids: Vec<_> = t.children(0).collect();
        kids.sort();
        assert_eq!(kids, vec![1, 2]);
        assert_eq!(t.parent(2), Some(0));
        assert_eq!(q, Quality::default());
    }

    #[test]
    fn missing_parent_becomes_counted_root() {
        let mut q = Quality::default();
        let t = TraceBuilder::new()
            .span("root", None, 0, 100)
            .span("orphan", Some("gone"), 10, 20)
            .build(&mut q);
        assert_eq!(t.roots.len(), 2);
        assert_eq!(q.missing_parent, 1);
        assert_eq!(q.multi_root_traces, 1);
    }

    /// The hash tables the sorted ids replaced, as the reference: the
    /// first span of each id kept, each kept span's parent by id.
    fn by_hashing(spans: &[Span]) -> (Vec<usize>, Vec<Option<Option<usize>>>) {
        let mut seen = std::collections::HashSet::new();
        let kept: Vec<usize> = (0..spans.len())
            .filter(|&i| seen.insert(spans[i].span_id))
            .collect();
        let index: std::collections::HashMap<SpanId, usize> = kept
            .iter()
            .enumerate()
            .map(|(k, &i)| (spans[i].span_id, k))
            .collect();
        let parents = kept
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                // None: no parent named; Some(None): named but not kept
                // apart from the span itself.
                let pid = spans[i].parent_id?;
                Some(index.get(&pid).copied().filter(|&p| p != k))
            })
            .collect();
        (kept, parents)
    }

    proptest::proptest! {
        /// Whatever the ids (few, so that many repeat) and parents (some
        /// absent, some the span itself), the spans kept, their parents and
        /// the problems counted are those the hash tables gave.
        #[test]
        fn sorted_ids_keep_and_link_as_hash_tables_did(
            links in proptest::collection::vec((1u64..12, proptest::option::of(0u64..14)), 0..40),
        ) {
            let strings = Interner::new();
            let spans: Vec<Span> = links
                .iter()
                .enumerate()
                .map(|(i, &(id, parent))| Span {
                    start: i as i64,
                    end: i as i64 + 1,
                    ..crate::model::testutil::plain_span(&strings, id, parent, "svc")
                })
                .collect();
            let (want_kept, want_parents) = by_hashing(&spans);
            let ex = Examples { trace: TraceId(1), strings: &strings };
            let mut quality = Quality::default();
            let (kept, ids) = drop_duplicates(&ex, spans.clone(), &mut quality);
            let parents = resolve_parents(&ex, &kept, &ids, &mut quality);
            let kept_ids: Vec<SpanId> = kept.iter().map(|s| s.span_id).collect();
            let want_ids: Vec<SpanId> = want_kept.iter().map(|&i| spans[i].span_id).collect();
            proptest::prop_assert_eq!(kept_ids, want_ids);
            let got: Vec<Option<Option<usize>>> = kept
                .iter()
                .zip(&parents)
                .map(|(s, p)| s.parent_id.map(|_| *p))
                .collect();
            proptest::prop_assert_eq!(&got, &want_parents);
            proptest::prop_assert_eq!(quality.duplicate_spans, (spans.len() - kept.len()) as u64);
            let unresolved = want_parents.iter().filter(|p| matches!(p, Some(None))).count();
            proptest::prop_assert_eq!(quality.missing_parent + quality.parent_cycles, unresolved as u64);
        }
    }

    #[test]
    fn duplicate_ids_keep_one() {
        let mut q = Quality::default();
        let t = TraceBuilder::new()
            .span("root", None, 0, 100)
            .span("root", None, 0, 100)
            .build(&mut q);
        assert_eq!(t.spans.len(), 1);
        assert_eq!(q.duplicate_spans, 1);
    }

    /// Span 1 of trace 1 (0..100 ns), named `name`, read from `file` at
    /// `line`.
    fn read_at(strings: &Interner, file: &str, line: u64, name: &str) -> Span {
        Span {
            end: 100,
            name: strings.intern(name),
            kind: SpanKind::Server,
            origin: crate::model::Origin::new(strings.intern(file), &Location::Line(line)),
            ..crate::model::testutil::plain_span(strings, 1, None, "svc")
        }
    }

    #[test]
    fn the_kept_duplicate_depends_on_content_not_on_arrival_or_interning() {
        let copies = [
            ("b.json", 1, "z"),
            ("a.json", 5, "x"),
            ("a.json", 2, "y"),
            ("a.json", 2, "w"),
        ];
        let texts = ["a.json", "b.json", "w", "x", "y", "z", "svc"];
        for reversed in [false, true] {
            // Symbol numbers follow the order strings are first interned,
            // which reader threads decide.
            let strings = Interner::new();
            let mut order = texts.to_vec();
            if reversed {
                order.reverse();
            }
            for text in order {
                strings.intern(text);
            }
            for rotation in 0..copies.len() {
                for backwards in [false, true] {
                    let mut arrival = copies.to_vec();
                    arrival.rotate_left(rotation);
                    if backwards {
                        arrival.reverse();
                    }
                    let spans = arrival
                        .iter()
                        .map(|&(file, line, name)| read_at(&strings, file, line, name))
                        .collect();
                    let mut q = Quality::default();
                    let t = Trace::build(TraceId(1), spans, &strings, &mut q);
                    let kept = &t.spans[0];
                    let seen = format!("{arrival:?}, interned reversed: {reversed}");
                    assert_eq!(t.spans.len(), 1, "{seen}");
                    assert_eq!(q.duplicate_spans, 3, "{seen}");
                    // The first input by name, the earliest place in it,
                    // then the name.
                    assert_eq!(strings.resolve(kept.name), "w", "{seen}");
                    assert_eq!(kept.origin.location(), Some(Location::Line(2)), "{seen}");
                }
            }
        }
    }

    #[test]
    fn cycles_are_broken_at_earliest_span() {
        let mut q = Quality::default();
        let t = TraceBuilder::new()
            .span("a", Some("c"), 0, 100)
            .span("b", Some("a"), 10, 90)
            .span("c", Some("b"), 20, 80)
            .build(&mut q);
        assert_eq!(q.parent_cycles, 1);
        assert_eq!(t.roots, vec![0]);
        assert_eq!(t.parent(2), Some(1));
    }

    #[test]
    fn self_parent_is_a_cycle() {
        let mut q = Quality::default();
        let t = TraceBuilder::new()
            .span("a", Some("a"), 0, 10)
            .build(&mut q);
        assert_eq!(t.roots, vec![0]);
        assert_eq!(q.parent_cycles, 1);
    }

    #[test]
    fn skew_and_bad_durations_are_counted_not_rewritten() {
        let mut q = Quality::default();
        let t = TraceBuilder::new()
            .span("root", None, 10, 100)
            .span("early", Some("root"), 5, 20)
            .span("late", Some("root"), 90, 120)
            .span("zero", Some("root"), 30, 30)
            .span("neg", Some("root"), 40, 35)
            .build(&mut q);
        assert_eq!(q.child_starts_before_parent, 1);
        assert_eq!(q.child_ends_after_parent, 1);
        assert_eq!(q.zero_duration, 1);
        assert_eq!(q.negative_duration, 1);
        let early = t.spans.iter().find(|s| s.start == 5).unwrap();
        assert_eq!(early.end, 20);
        // Each count keeps its span, by trace and span id.
        let late = &q.span_examples[&Count::ChildEndsAfterParent];
        assert_eq!(late.len(), 1);
        assert_eq!(late[0].trace_id, t.id.to_string());
        let late_span = t.spans.iter().find(|s| s.start == 90).unwrap();
        assert_eq!(late[0].span_id, late_span.span_id.to_string());
        assert!(late[0].message.contains("ends 0.000 ms after its parent"));
        assert_eq!(
            (late[0].file.as_ref(), late[0].location.as_ref()),
            (None, None)
        );
        for count in [
            Count::ChildStartsBeforeParent,
            Count::ZeroDuration,
            Count::NegativeDuration,
        ] {
            assert_eq!(q.span_examples[&count].len(), 1, "{count:?}");
        }
    }

    #[test]
    fn input_order_does_not_change_the_graph() {
        let mut q = Quality::default();
        let a = TraceBuilder::new()
            .span("root", None, 0, 100)
            .span("a", Some("root"), 10, 40)
            .span("b", Some("a"), 15, 30)
            .build(&mut q);
        let b = TraceBuilder::new()
            .span("b", Some("a"), 15, 30)
            .span("a", Some("root"), 10, 40)
            .span("root", None, 0, 100)
            .build(&mut q);
        // Each builder has its own interner, so compare ids and times.
        let key = |t: &Trace| -> Vec<_> {
            t.spans
                .iter()
                .map(|s| (s.span_id, s.parent_id, s.start, s.end))
                .collect()
        };
        assert_eq!(key(&a), key(&b));
        assert_eq!(a.roots, b.roots);
        assert_eq!(a.parent(2), b.parent(2));
    }
}
