//! The parent→child structure of one trace, which never changes once the
//! trace is built.

/// Each span's parent and children, as indices into the trace's spans.
///
/// Everything sits in one exactly sized vector of 32-bit words: each
/// span's parent, then where each span's children start, then the children
/// themselves, each span's side by side in ascending order. That is 12
/// bytes a span and one allocation a trace. A general graph type costs
/// twice that and more (24 bytes a span for an adjacency list, whose
/// children are found by chasing links; over 100 bytes of header a trace
/// for compressed rows, which also cannot be sized exactly), and nothing
/// here ever adds a node or an edge after building.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tree {
    /// `parents[n] ++ starts[n + 1] ++ children[edges]`.
    words: Vec<u32>,
    /// The number of spans.
    nodes: u32,
}

/// The parent word of a root.
const ROOT: u32 = u32::MAX;

impl Tree {
    /// The tree where span `i`'s parent is `parents[i]`. Indices must be
    /// below `parents.len()`, which must fit in 32 bits less one; the trace
    /// builder has already cut every cycle.
    pub fn new(parents: &[Option<usize>]) -> Tree {
        let n = parents.len();
        let word = |i: usize| u32::try_from(i).ok().filter(|&i| i != ROOT);
        let nodes = word(n).expect("a trace has fewer than 2^32 - 1 spans");
        let edges = parents.iter().flatten().count();
        let mut words = vec![0u32; 2 * n + 1 + edges];
        let (parent_words, rest) = words.split_at_mut(n);
        let (starts, children) = rest.split_at_mut(n + 1);
        for (slot, parent) in parent_words.iter_mut().zip(parents) {
            *slot = parent.map_or(ROOT, |p| p as u32);
        }
        // Count each span's children, turn the counts into where each
        // span's list starts, then place the children, moving each start
        // to its list's end (the next span's start), and shift back.
        for &p in parents.iter().flatten() {
            starts[p] += 1;
        }
        let mut at = 0;
        for start in starts.iter_mut() {
            let count = *start;
            *start = at;
            at += count;
        }
        for (child, parent) in parents.iter().enumerate() {
            if let Some(p) = *parent {
                children[starts[p] as usize] = child as u32;
                starts[p] += 1;
            }
        }
        starts.copy_within(..n, 1);
        starts[0] = 0;
        Tree { words, nodes }
    }

    /// The parent of span `i`, if it has one.
    pub fn parent(&self, i: usize) -> Option<usize> {
        let p = self.words[i];
        (p != ROOT).then_some(p as usize)
    }

    /// The children of span `i`, in ascending order.
    pub fn children(&self, i: usize) -> &[u32] {
        let n = self.nodes as usize;
        let starts = &self.words[n..2 * n + 1];
        let children = &self.words[2 * n + 1..];
        &children[starts[i] as usize..starts[i + 1] as usize]
    }

    /// The number of parent→child edges.
    pub fn edges(&self) -> usize {
        self.words.len() - (2 * self.nodes as usize + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_small_tree() {
        // 0 ─┬─ 1 ── 3
        //    └─ 2
        // 4 (a second root)
        let tree = Tree::new(&[None, Some(0), Some(0), Some(1), None]);
        assert_eq!(tree.children(0), &[1, 2]);
        assert_eq!(tree.children(1), &[3]);
        assert!(tree.children(2).is_empty());
        assert!(tree.children(4).is_empty());
        assert_eq!(tree.parent(3), Some(1));
        assert_eq!(tree.parent(0), None);
        assert_eq!(tree.parent(4), None);
        assert_eq!(tree.edges(), 3);
    }

    #[test]
    fn an_empty_tree() {
        let tree = Tree::new(&[]);
        assert_eq!(tree.edges(), 0);
    }

    proptest! {
        /// Every span's children are exactly the spans naming it as their
        /// parent, in ascending order, and each parent reads back.
        #[test]
        fn children_invert_parents(choices in prop::collection::vec(any::<Option<prop::sample::Index>>(), 0..60)) {
            // Any parent, cycles included: the tree does not walk them.
            let parents: Vec<Option<usize>> = choices
                .iter()
                .map(|c| c.map(|c| c.index(choices.len())))
                .collect();
            let tree = Tree::new(&parents);
            for (i, parent) in parents.iter().enumerate() {
                prop_assert_eq!(tree.parent(i), *parent);
                let expected: Vec<u32> = (0..parents.len())
                    .filter(|&c| parents[c] == Some(i))
                    .map(|c| c as u32)
                    .collect();
                prop_assert_eq!(tree.children(i), &expected[..]);
            }
            prop_assert_eq!(tree.edges(), parents.iter().flatten().count());
        }
    }
}
