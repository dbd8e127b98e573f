//! String interning for the values real exports repeat millions of times
//! (service names, operation names, attribute values).

use lasso::{Spur, ThreadedRodeo};
use rustc_hash::FxBuildHasher;

/// A handle to an interned string; 4 bytes, `Copy`, cheap to hash.
pub type Sym = Spur;

/// A string interner shared by every reader thread.
///
/// Readers on several threads intern into the same table, so a symbol means
/// the same string everywhere and spans from different files can be grouped
/// without re-hashing strings.
///
/// It hashes with FxHash rather than SipHash: interning runs for every
/// service, name and attribute value of every span, and these strings come
/// from files, not from an adversary on a live socket.
#[derive(Debug)]
pub struct Interner {
    rodeo: ThreadedRodeo<Spur, FxBuildHasher>,
}

impl Default for Interner {
    fn default() -> Self {
        Interner {
            rodeo: ThreadedRodeo::with_hasher(FxBuildHasher),
        }
    }
}

impl Interner {
    /// An empty interner.
    pub fn new() -> Self {
        Self::default()
    }

    /// Interns `text`, returning its symbol.
    pub fn intern(&self, text: &str) -> Sym {
        self.rodeo.get_or_intern(text)
    }

    /// Returns the symbol of `text` if it was interned before.
    pub fn get(&self, text: &str) -> Option<Sym> {
        self.rodeo.get(text)
    }

    /// The string behind a symbol.
    pub fn resolve(&self, sym: Sym) -> &str {
        self.rodeo.resolve(&sym)
    }

    /// How many distinct strings are held.
    pub fn len(&self) -> usize {
        self.rodeo.len()
    }

    /// Whether nothing was interned yet.
    pub fn is_empty(&self) -> bool {
        self.rodeo.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_text_same_symbol() {
        let strings = Interner::new();
        let a = strings.intern("checkout");
        let b = strings.intern("checkout");
        let c = strings.intern("cart");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(strings.resolve(c), "cart");
        assert_eq!(strings.len(), 2);
    }
}
