//! Room made ahead for the vectors a reader fills item by item (a scope's
//! spans, a span's tags), sized by the most the same thread's earlier ones
//! held. Grown from nothing, such a vector is copied at each doubling: in
//! the JSON readers that was 1–4% of the read's instructions.

use std::cell::Cell;

/// The most items one of a reader's vectors held on this thread, up to a
/// bound; kept in a `thread_local!` per kind of vector.
pub(crate) struct Room {
    most: Cell<usize>,
    /// So that one huge vector does not make every later one as large.
    bound: usize,
}

impl Room {
    /// Room for none yet, and never for more than `bound` items.
    pub(crate) const fn new(bound: usize) -> Self {
        Room {
            most: Cell::new(0),
            bound,
        }
    }

    /// A vector with room for as many items as the most held so far.
    pub(crate) fn vec<T>(&self) -> Vec<T> {
        Vec::with_capacity(self.most.get())
    }

    /// Notes that a vector held `items`.
    pub(crate) fn held(&self, items: usize) {
        self.most.set(self.most.get().max(items.min(self.bound)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_is_the_most_held_within_the_bound() {
        let room = Room::new(100);
        assert_eq!(room.vec::<u8>().capacity(), 0);
        room.held(7);
        room.held(3);
        assert!(room.vec::<u64>().capacity() >= 7);
        room.held(1_000);
        let capacity = room.vec::<u64>().capacity();
        assert!((100..1_000).contains(&capacity), "{capacity}");
    }
}
