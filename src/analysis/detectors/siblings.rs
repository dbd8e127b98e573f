//! Groups of sibling spans with the same service and shape: the raw material
//! of the repeat detectors.

use super::FindingOptions;
use crate::analysis::breakdown::UnitView;
use crate::analysis::shape::{Shape, ShapeKind};
use crate::model::{Nanos, SpanKind, Sym};

/// Siblings under one parent sharing service and shape, by start time.
pub struct Group {
    /// The parent span.
    pub parent: usize,
    /// The shared service.
    pub service: Sym,
    /// The shared shape.
    pub shape: Shape,
    /// The spans, by start time (then index).
    pub spans: Vec<usize>,
}

/// Every group of at least `min` same-shaped siblings in the unit, by
/// parent and first span. Groups are found from the view's floor up (see
/// [`SiblingGroups::for_options`]), which is never more than a detector's
/// minimum, nor less than two.
pub fn repeated_groups<'v>(view: &'v UnitView<'_>, min: usize) -> impl Iterator<Item = &'v Group> {
    let groups = &view.sibling_groups;
    debug_assert!(
        min.max(2) >= groups.floor,
        "a group below the floor was asked for"
    );
    groups
        .groups
        .get_or_init(|| all_groups(view, groups.floor))
        .iter()
        .filter(move |g| g.spans.len() >= min)
}

/// The unit's groups of siblings, found once for every detector that reads
/// them: the N+1 and fan-out detectors each grouped every parent's children
/// (two walks of every span, 4% of the per-trace stage).
pub struct SiblingGroups {
    groups: std::cell::OnceCell<Vec<Group>>,
    /// The fewest siblings a group is found with: the least any detector
    /// asks for.
    floor: usize,
}

impl SiblingGroups {
    /// Groups of as many siblings as the repeat detectors ask for at
    /// least (two or more): a parent with fewer children is passed over
    /// on its count alone. Found from two on, every parent's children were
    /// walked and grouped for groups no detector reads (5% of the
    /// per-trace stage on the benchmark set).
    pub fn for_options(options: &FindingOptions) -> Self {
        SiblingGroups {
            groups: std::cell::OnceCell::new(),
            floor: options.n_plus_one_min.min(options.fan_out_min).max(2),
        }
    }
}

/// Every group of at least `min` (two or more) same-shaped siblings in
/// the unit.
fn all_groups(view: &UnitView<'_>, min: usize) -> Vec<Group> {
    let spans = &view.trace.spans;
    let mut out = Vec::new();
    // One buffer for every parent's calls, sorted so that each group is a
    // run: most parents have a child or two, and a map per parent cost an
    // allocation per key.
    let mut calls: Vec<(Sym, ShapeKind, Sym, Nanos, usize)> = Vec::new();
    for &parent in view.members {
        if view.trace.children(parent).len() < min {
            continue;
        }
        calls.clear();
        calls.extend(
            view.trace
                .children(parent)
                .filter(|&c| is_call(view, parent, c, false))
                .map(|c| {
                    let shape = view.shapes[c];
                    (spans[c].service, shape.kind, shape.text, spans[c].start, c)
                }),
        );
        if calls.len() < min {
            continue;
        }
        calls.sort_unstable();
        for run in calls.chunk_by(|a, b| (a.0, a.1, a.2) == (b.0, b.1, b.2)) {
            if run.len() >= min {
                let (service, kind, text, _, _) = run[0];
                out.push(Group {
                    parent,
                    service,
                    shape: Shape { kind, text },
                    spans: run.iter().map(|call| call.4).collect(),
                });
            }
        }
    }
    out.sort_unstable_by_key(|g| (g.parent, g.spans[0]));
    out
}

/// The fraction of consecutive pairs (by start) in which the next span
/// starts no earlier than the previous one ends.
pub fn sequential_fraction(view: &UnitView<'_>, members: &[usize]) -> f64 {
    if members.len() < 2 {
        return 1.0;
    }
    let spans = &view.trace.spans;
    let sequential = members
        .windows(2)
        .filter(|w| spans[w[1]].start >= spans[w[0]].end)
        .count();
    sequential as f64 / (members.len() - 1) as f64
}

/// The share of pairs that must be sequential for a group to run "mostly one
/// after another".
pub const MOSTLY_SEQUENTIAL: f64 = 0.8;

/// Whether a child span is a call: something that crosses a process
/// boundary and could be batched or overlapped (an HTTP call, a database
/// query, a client or producer span, or a span in another service than its
/// parent). Loops of in-process work are not calls. With `reads_only`, the
/// only queries that count are `SELECT`s (whose order rarely matters).
pub fn is_call(view: &UnitView<'_>, parent: usize, child: usize, reads_only: bool) -> bool {
    let spans = &view.trace.spans;
    let shape = view.shapes[child];
    match shape.kind {
        ShapeKind::Http => true,
        ShapeKind::Query if !reads_only => true,
        ShapeKind::Query => {
            let text = view.strings.resolve(shape.text).trim_start();
            text.get(..6)
                .is_some_and(|w| w.eq_ignore_ascii_case("select"))
        }
        ShapeKind::Operation => {
            matches!(spans[child].kind, SpanKind::Client | SpanKind::Producer)
                || spans[child].service != spans[parent].service
        }
    }
}
