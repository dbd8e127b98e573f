//! Shared span ids: Zipkin lets the client and server halves of one RPC
//! carry the same span id, the server half marked `shared: true` (a `SERVER`
//! span whose id a `CLIENT` span of the same trace also carries is taken as
//! one even without the mark). When both halves are present they become two
//! spans, so that the call edge and the network gap around the server's
//! work are kept: the client half keeps the id, and each server half gets a
//! derived id ([`server_half_id`], the same in every run) with the client
//! half as its parent. A span whose parent is that id moves under the server
//! half when it was recorded by the server's service (the server's own work
//! and outgoing calls), as Zipkin's UI attaches it. A server half whose
//! client half is absent keeps its id and parent. Several server halves of
//! one id (a message delivered several times) share the derived id and are
//! counted as duplicates when the trace is built.
//!
//! This runs on a trace's spans as it is built, not in the reader: the two
//! halves may be read in different windows of a large input, or from
//! different files, and only the trace brings them together.

use rustc_hash::FxHashMap;

use super::{IdSharing, Span, SpanId, SpanKind};

/// The id a server half of a shared span gets: a fixed mix of the shared
/// id (SplitMix64's finaliser), so every run and every file gives the same
/// one, never zero and never the shared id itself.
pub fn server_half_id(shared: SpanId) -> SpanId {
    let mut z = shared.0 ^ 0x5a49_504b_494e_2d53; // "ZIPKIN-S"
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    if z == 0 || z == shared.0 {
        z = !shared.0;
    }
    SpanId(z)
}

/// Splits the shared spans among `spans`, the spans of one trace (see the
/// module docs). Only spans that may share their id
/// ([`IdSharing::Unmarked`] or [`IdSharing::Marked`]) take part; other
/// spans are left alone, whatever their ids. Running it again changes
/// nothing.
pub fn split_shared(spans: &mut [Span]) {
    if spans.iter().all(|s| s.id_sharing == IdSharing::Own) {
        return;
    }
    /// What the spans of one id are.
    #[derive(Default)]
    struct Group {
        count: usize,
        marked: bool,
        client: bool,
    }
    let key = |s: &Span| s.span_id;
    let sharing = |s: &Span| s.id_sharing != IdSharing::Own;
    let mut groups: FxHashMap<SpanId, Group> = FxHashMap::default();
    for span in spans.iter().filter(|s| sharing(s)) {
        let group = groups.entry(key(span)).or_default();
        group.count += 1;
        group.marked |= span.id_sharing == IdSharing::Marked;
        group.client |= span.kind == SpanKind::Client;
    }
    if groups.values().all(|g| g.count == 1) {
        return;
    }
    // Which spans are server halves: those marked shared, or (when none of
    // their id is marked) the SERVER spans sharing an id with a CLIENT one.
    let is_half: Vec<bool> = spans
        .iter()
        .map(|span| {
            sharing(span) && {
                let group = &groups[&key(span)];
                group.count > 1
                    && if group.marked {
                        span.id_sharing == IdSharing::Marked
                    } else {
                        group.client && span.kind == SpanKind::Server
                    }
            }
        })
        .collect();
    // A group is split only when it also holds a span that is no server
    // half: the client half.
    let mut has_client: FxHashMap<SpanId, bool> = FxHashMap::default();
    for (span, &half) in spans.iter().zip(&is_half) {
        if sharing(span) {
            *has_client.entry(key(span)).or_default() |= !half;
        }
    }
    // Shared id → the server's service, for each split group.
    let mut moved = FxHashMap::default();
    let mut split = vec![false; spans.len()];
    for (i, span) in spans.iter_mut().enumerate() {
        let k = key(span);
        if is_half[i] && has_client[&k] {
            moved.entry(k).or_insert(span.service);
            span.parent_id = Some(span.span_id);
            span.span_id = server_half_id(span.span_id);
            split[i] = true;
        }
    }
    for (span, split) in spans.iter_mut().zip(split) {
        let Some(parent) = span.parent_id else {
            continue;
        };
        if !split && moved.get(&parent) == Some(&span.service) {
            span.parent_id = Some(server_half_id(parent));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Interner, Status};

    fn span(
        strings: &Interner,
        id: u64,
        parent: Option<u64>,
        service: &str,
        name: &str,
        start: i64,
        end: i64,
    ) -> Span {
        Span {
            name: strings.intern(name),
            start,
            end,
            ..crate::model::testutil::plain_span(strings, id, parent, service)
        }
    }

    fn id(n: u64) -> SpanId {
        SpanId(n)
    }

    #[test]
    fn derived_ids_are_fixed_and_distinct() {
        let shared = SpanId::parse("74280ae0c10d8062").unwrap();
        assert_eq!(server_half_id(shared), server_half_id(shared));
        assert_eq!(
            server_half_id(shared),
            SpanId::parse("23902a13a2e702d4").unwrap()
        );
        assert_ne!(server_half_id(shared), shared);
        assert_ne!(server_half_id(SpanId(1)), server_half_id(SpanId(2)));
        assert_ne!(server_half_id(SpanId(u64::MAX)).0, 0);
    }

    /// A client half, a marked server half, the server's own work and the
    /// client's own work, in the given sharing.
    fn call(strings: &Interner, sharing: IdSharing) -> Vec<Span> {
        let mut client = span(strings, 10, None, "front", "call", 0, 10);
        client.kind = SpanKind::Client;
        let mut server = span(strings, 10, None, "back", "call", 1, 9);
        server.kind = SpanKind::Server;
        let back_work = span(strings, 11, Some(10), "back", "query", 2, 8);
        let front_work = span(strings, 12, Some(10), "front", "retry", 2, 3);
        let mut spans = vec![client, server, back_work, front_work];
        for s in &mut spans {
            s.id_sharing = sharing;
        }
        if sharing == IdSharing::Marked {
            spans[0].id_sharing = IdSharing::Unmarked;
        }
        spans
    }

    #[test]
    fn the_server_half_moves_under_the_client_with_its_services_work() {
        let strings = Interner::new();
        for sharing in [IdSharing::Marked, IdSharing::Unmarked] {
            let mut spans = call(&strings, sharing);
            split_shared(&mut spans);
            let half = server_half_id(id(10));
            assert_eq!(spans[0].span_id, id(10), "{sharing:?}");
            assert_eq!(spans[1].span_id, half, "{sharing:?}");
            assert_eq!(spans[1].parent_id, Some(id(10)), "{sharing:?}");
            assert_eq!(spans[2].parent_id, Some(half), "{sharing:?}");
            assert_eq!(spans[3].parent_id, Some(id(10)), "{sharing:?}");
            let again = spans.clone();
            split_shared(&mut spans);
            assert_eq!(spans, again, "a second pass changes nothing");
        }
    }

    #[test]
    fn spans_of_other_formats_are_never_split() {
        let strings = Interner::new();
        let mut spans = call(&strings, IdSharing::Own);
        let before = spans.clone();
        split_shared(&mut spans);
        assert_eq!(spans, before);
    }

    #[test]
    fn a_lone_server_half_or_two_unmarked_servers_keep_their_ids() {
        let strings = Interner::new();
        let mut spans = call(&strings, IdSharing::Marked);
        spans.remove(0);
        let before = spans.clone();
        split_shared(&mut spans);
        assert_eq!(spans, before, "no client half: nothing to split from");
        let mut twins = call(&strings, IdSharing::Unmarked);
        twins[0].kind = SpanKind::Server;
        twins[0].status = Status::Error;
        let before = twins.clone();
        split_shared(&mut twins);
        assert_eq!(twins, before, "two servers, no client: duplicates");
    }
}
