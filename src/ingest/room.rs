//! Room made ahead for the vectors a reader fills item by item (a scope's
//! spans, a span's tags), sized by the most the same thread's earlier ones
//! held. Grown from nothing, such a vector is copied at each doubling: in
//! the JSON readers that was 1–4% of the read's instructions. A vector
//! that ends far below its room gives the rest back, so that many small
//! ones alive at once (a request's scopes, a trace's spans' tags) hold
//! what they would have held grown by doubling, not the room each.

use std::cell::Cell;

/// The most items one of a reader's vectors held on this thread, up to a
/// bound; kept in a `thread_local!` per kind of vector.
pub(crate) struct Room {
    most: Cell<usize>,
    /// So that one huge vector does not make room for every later one
    /// as large.
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

    /// Notes how many items a filled vector holds, and gives back its
    /// room beyond twice that (beyond what doubling would have left).
    pub(crate) fn held<T>(&self, filled: &mut Vec<T>) {
        let items = filled.len();
        self.most.set(self.most.get().max(items.min(self.bound)));
        if filled.capacity() > 2 * items.max(4) {
            filled.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_is_the_most_held_within_the_bound() {
        let room = Room::new(100);
        assert_eq!(room.vec::<u8>().capacity(), 0);
        room.held(&mut vec![0u8; 7]);
        room.held(&mut vec![0u8; 3]);
        assert!(room.vec::<u64>().capacity() >= 7);
        room.held(&mut vec![0u8; 1_000]);
        let capacity = room.vec::<u64>().capacity();
        assert!((100..1_000).contains(&capacity), "{capacity}");
    }

    #[test]
    fn a_vector_far_below_its_room_gives_the_rest_back() {
        let room = Room::new(100);
        room.held(&mut vec![0u8; 100]);
        let mut few: Vec<u64> = room.vec();
        few.extend([1, 2, 3]);
        room.held(&mut few);
        assert!(few.capacity() <= 8, "{}", few.capacity());
        assert_eq!(few, [1, 2, 3]);
        let mut most: Vec<u64> = room.vec();
        most.extend(0..60);
        room.held(&mut most);
        assert!(most.capacity() >= 100, "kept: within twice its items");
    }
}
