//! Services taken from a parent: an X-Ray subsegment sent as a document of
//! its own (`"type": "subsegment"`) names no service, and takes that of
//! the span it names as parent, looked up among the other spans of its
//! trace (through other such documents too), else `unknown`. Its nested
//! subsegments take the same, through it.
//!
//! This runs on a trace's spans as it is built, not in the reader: the
//! parent may have been read in another window of a large input, or from
//! another file.

use rustc_hash::FxHashMap;

use super::{Interner, Span, SpanId, Sym, TraceId};

/// Gives every span marked [`Span::service_from_parent`] its parent's
/// service (see the module docs), and clears the mark. Running it again
/// changes nothing.
pub fn adopt_parent_services(spans: &mut [Span], strings: &Interner) {
    if !spans.iter().any(|s| s.service_from_parent) {
        return;
    }
    let key = |s: &Span| (s.trace_id, s.span_id);
    let mut services: FxHashMap<(TraceId, SpanId), Sym> = spans
        .iter()
        .filter(|s| !s.service_from_parent)
        .map(|s| (key(s), s.service))
        .collect();
    let mut pending: Vec<usize> = (0..spans.len())
        .filter(|&i| spans[i].service_from_parent)
        .collect();
    // Each round settles the spans whose parent is settled.
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|&i| {
            let span = &spans[i];
            let found = span
                .parent_id
                .and_then(|p| services.get(&(span.trace_id, p)).copied());
            let Some(service) = found else {
                return true;
            };
            services.insert(key(span), service);
            spans[i].service = service;
            spans[i].service_from_parent = false;
            false
        });
        if pending.len() == before {
            break;
        }
    }
    if !pending.is_empty() {
        let unknown = strings.intern("unknown");
        for i in pending {
            spans[i].service = unknown;
            spans[i].service_from_parent = false;
        }
    }
}
