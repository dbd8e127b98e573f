//! String interning for the values real exports repeat millions of times
//! (service names, operation names, attribute values).

use std::hash::{BuildHasher, Hash};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rustc_hash::{FxBuildHasher, FxHashMap};

/// A handle to an interned string; 4 bytes, `Copy`, cheap to hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(NonZeroU32);

impl Sym {
    /// The symbol's dense index (0 for the first string interned), for
    /// storing symbols in columns.
    pub fn into_usize(self) -> usize {
        self.0.get() as usize - 1
    }

    /// The symbol with a dense index, if the index fits.
    pub fn try_from_usize(index: usize) -> Option<Self> {
        u32::try_from(index + 1)
            .ok()
            .and_then(NonZeroU32::new)
            .map(Sym)
    }
}

/// One locked part of the table: text to symbol.
type Shard = Mutex<FxHashMap<Arc<str>, Sym>>;

/// How many independently locked parts the table has; two readers rarely
/// want the same part at once.
const SHARDS: usize = 64;

/// A string interner shared by every reader thread.
///
/// Readers on several threads intern into the same table, so a symbol means
/// the same string everywhere and spans from different files can be grouped
/// without re-hashing strings.
///
/// Interning locks one of [`SHARDS`] maps chosen by the string's hash;
/// resolving a symbol takes no lock at all (an append-only vector), since
/// analyses resolve names for every span. It hashes with FxHash rather than
/// SipHash: these strings come from files, not from an adversary on a live
/// socket.
pub struct Interner {
    shards: Box<[Shard]>,
    strings: boxcar::Vec<Arc<str>>,
    id: u64,
}

impl std::fmt::Debug for Interner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interner")
            .field("strings", &self.len())
            .finish()
    }
}

impl Default for Interner {
    fn default() -> Self {
        // Starts at 1: 0 is "no interner" to the caches that check ids.
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Interner {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            strings: boxcar::Vec::new(),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }
}

impl Interner {
    /// An empty interner.
    pub fn new() -> Self {
        Self::default()
    }

    fn shard(&self, text: &str) -> &Shard {
        let mut hasher = FxBuildHasher.build_hasher();
        text.hash(&mut hasher);
        let hash = std::hash::Hasher::finish(&hasher);
        // The top bits: the maps themselves use the low ones.
        &self.shards[(hash >> 58) as usize % SHARDS]
    }

    /// Interns `text`, returning its symbol.
    pub fn intern(&self, text: &str) -> Sym {
        // A poisoned shard only means another thread panicked mid-insert;
        // the map itself is still consistent.
        let mut map = self
            .shard(text)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(&sym) = map.get(text) {
            return sym;
        }
        let owned: Arc<str> = Arc::from(text);
        let index = self.strings.push(Arc::clone(&owned));
        let sym = Sym::try_from_usize(index).expect("fewer than 4 billion distinct strings");
        map.insert(owned, sym);
        sym
    }

    /// Returns the symbol of `text` if it was interned before.
    pub fn get(&self, text: &str) -> Option<Sym> {
        let map = self
            .shard(text)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.get(text).copied()
    }

    /// The string behind a symbol (empty for a symbol of another interner
    /// that is out of this one's range).
    pub fn resolve(&self, sym: Sym) -> &str {
        self.strings.get(sym.into_usize()).map_or("", |s| s)
    }

    /// How many distinct strings are held.
    pub fn len(&self) -> usize {
        self.strings.count()
    }

    /// An id no other interner of this process has, not even one made
    /// after this one is dropped: caches of symbols that outlive a run's
    /// interner (see `shape_cache`) know by it whose symbols they hold.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Whether nothing was interned yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
        assert_eq!(strings.get("cart"), Some(c));
        assert_eq!(strings.get("basket"), None);
    }

    #[test]
    fn symbols_are_dense_indices() {
        let strings = Interner::new();
        let syms: Vec<Sym> = ["a", "b", "c"].iter().map(|t| strings.intern(t)).collect();
        let indices: Vec<usize> = syms.iter().map(|s| s.into_usize()).collect();
        assert_eq!(indices, [0, 1, 2]);
        assert_eq!(Sym::try_from_usize(2), Some(syms[2]));
    }

    #[test]
    fn every_interner_has_its_own_id() {
        let (a, b) = (Interner::new(), Interner::new());
        assert_ne!(a.id(), b.id());
        assert_ne!(a.id(), 0);
    }

    #[test]
    fn threads_agree_on_symbols() {
        let strings = Interner::new();
        let words: Vec<String> = (0..500).map(|i| format!("op-{}", i % 97)).collect();
        let per_thread: Vec<Vec<Sym>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| words.iter().map(|w| strings.intern(w)).collect()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(per_thread.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(strings.len(), 97);
        for (word, sym) in words.iter().zip(&per_thread[0]) {
            assert_eq!(strings.resolve(*sym), word);
        }
    }
}
