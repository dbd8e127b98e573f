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

use super::{Interner, ServiceFrom, Span, SpanId, Sym};

/// Gives every span of `spans` (the spans of one trace) marked
/// [`ServiceFrom::Parent`] its parent's service (see the module docs), and
/// clears the mark. Running it again changes nothing.
pub fn adopt_parent_services(spans: &mut [Span], strings: &Interner) {
    if !spans.iter().any(|s| s.service_from == ServiceFrom::Parent) {
        return;
    }
    let key = |s: &Span| s.span_id;
    let mut services: FxHashMap<SpanId, Sym> = spans
        .iter()
        .filter(|s| s.service_from != ServiceFrom::Parent)
        .map(|s| (key(s), s.service))
        .collect();
    let mut pending: Vec<usize> = (0..spans.len())
        .filter(|&i| spans[i].service_from == ServiceFrom::Parent)
        .collect();
    // Each round settles the spans whose parent is settled.
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|&i| {
            let span = &spans[i];
            let found = span.parent_id.and_then(|p| services.get(&p).copied());
            let Some(service) = found else {
                return true;
            };
            services.insert(key(span), service);
            spans[i].service = service;
            spans[i].service_from = ServiceFrom::Own;
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
            spans[i].service_from = ServiceFrom::Own;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(strings: &Interner, id: u64, parent: Option<u64>, service: &str) -> Span {
        Span {
            service_from: if service == "?" {
                ServiceFrom::Parent
            } else {
                ServiceFrom::Own
            },
            ..crate::model::testutil::plain_span(strings, id, parent, service)
        }
    }

    #[test]
    fn documents_take_their_parents_service_through_others_else_unknown() {
        let strings = Interner::new();
        // A segment 1 of `api`; documents 3 under 2 under 1, listed before
        // 2; documents 4 and 5 each other's parent; document 6 under a
        // span not in the trace.
        let mut spans = vec![
            span(&strings, 1, None, "api"),
            span(&strings, 3, Some(2), "?"),
            span(&strings, 2, Some(1), "?"),
            span(&strings, 4, Some(5), "?"),
            span(&strings, 5, Some(4), "?"),
            span(&strings, 6, Some(9), "?"),
        ];
        adopt_parent_services(&mut spans, &strings);
        let services: Vec<&str> = spans.iter().map(|s| strings.resolve(s.service)).collect();
        assert_eq!(
            services,
            ["api", "api", "api", "unknown", "unknown", "unknown"]
        );
        assert!(spans.iter().all(|s| s.service_from == ServiceFrom::Own));
        let again = spans.clone();
        adopt_parent_services(&mut spans, &strings);
        assert_eq!(spans, again, "a second pass changes nothing");
    }
}
