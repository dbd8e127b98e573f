//! Joining vectors made on several threads into one, on every core.
//!
//! Parallel stages leave a vector per rayon task; moving them one after
//! another into the whole leaves the other core idle while the calling one
//! copies and takes page faults for the new vector.

use std::mem::MaybeUninit;

use rayon::prelude::*;

/// Moves every element of `parts`, in order, to the end of `into`, each
/// part on a thread of its own; each part's vector is freed as soon as its
/// elements are moved, so no more than one part per thread is held twice.
pub fn append_all<T: Send>(into: &mut Vec<T>, parts: Vec<&mut Vec<T>>) {
    let total: usize = parts.iter().map(|part| part.len()).sum();
    into.reserve(total);
    let before = into.len();
    let mut room: &mut [MaybeUninit<T>] = &mut into.spare_capacity_mut()[..total];
    let mut slots = Vec::with_capacity(parts.len());
    for part in parts {
        let (slot, rest) = room.split_at_mut(part.len());
        slots.push((slot, part));
        room = rest;
    }
    slots.into_par_iter().for_each(|(slot, part)| {
        for (to, item) in slot.iter_mut().zip(std::mem::take(part)) {
            to.write(item);
        }
    });
    // SAFETY: the slots cover `into[before..before + total]`, and each
    // received exactly its part's elements (a slot is as long as its part,
    // moved whole), so every element up to the new length is initialised;
    // the parts no longer own them.
    unsafe { into.set_len(before + total) };
}

/// A vector grown a block of `per_block` elements at a time, to be joined
/// by [`append_all`]: a `Vec` that doubles moves everything it holds at
/// each doubling, and a rayon task's vector of per-unit results, hundreds
/// of bytes a unit, grew that way to tens of thousands of units.
pub struct Blocks<T> {
    blocks: Vec<Vec<T>>,
    per_block: usize,
}

impl<T> Blocks<T> {
    /// No elements yet; blocks of `per_block` (at least one).
    pub fn new(per_block: usize) -> Self {
        Blocks {
            blocks: Vec::new(),
            per_block: per_block.max(1),
        }
    }

    /// Adds `item` at the end.
    pub fn push(&mut self, item: T) {
        match self.blocks.last_mut() {
            Some(block) if block.len() < self.per_block => block.push(item),
            _ => {
                let mut block = Vec::with_capacity(self.per_block);
                block.push(item);
                self.blocks.push(block);
            }
        }
    }

    /// The blocks, in order, for [`append_all`].
    pub fn blocks_mut(&mut self) -> impl Iterator<Item = &mut Vec<T>> {
        self.blocks.iter_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks of every size, joined, hold what was pushed, in order.
    #[test]
    fn blocks_join_to_what_was_pushed() {
        for per_block in [0, 1, 2, 3, 64] {
            for n in [0usize, 1, 2, 3, 4, 100] {
                let mut blocks = Blocks::new(per_block);
                for i in 0..n {
                    blocks.push(i.to_string());
                }
                let mut into = Vec::new();
                append_all(&mut into, blocks.blocks_mut().collect());
                let want: Vec<String> = (0..n).map(|i| i.to_string()).collect();
                assert_eq!(into, want, "{n} pushed, blocks of {per_block}");
            }
        }
    }

    /// Parts of every size, empty ones among them, follow what was held,
    /// in part order, each element once (owned strings, so an element
    /// moved twice would be freed twice), and are freed.
    #[test]
    fn parts_follow_what_was_held_in_order() {
        let sizes = [3usize, 0, 1, 7000, 0, 42, 5];
        let mut parts: Vec<Vec<String>> = sizes
            .iter()
            .map(|&n| (0..n).map(|i| format!("{n}.{i}")).collect())
            .collect();
        let want: Vec<String> = std::iter::once("held".to_string())
            .chain(parts.iter().flatten().cloned())
            .collect();
        let mut into = vec!["held".to_string()];
        append_all(&mut into, parts.iter_mut().collect());
        assert!(
            into == want,
            "{} elements, {} expected, or out of order",
            into.len(),
            want.len()
        );
        assert!(parts.iter().all(|p| p.is_empty() && p.capacity() == 0));
    }
}
