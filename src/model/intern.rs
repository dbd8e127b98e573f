//! Interning for the values real exports repeat millions of times: strings
//! (service names, operation names, attribute values) and the attribute
//! blocks made of them.

use std::hash::{BuildHasher, Hash};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rustc_hash::{FxBuildHasher, FxHashMap};

use super::attrs::Attrs;

/// A handle to an interned string; 4 bytes, `Copy`, cheap to hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(NonZeroU32);

impl Sym {
    /// The symbol's dense index (0 for the first string interned), for
    /// storing symbols in columns.
    pub fn into_usize(self) -> usize {
        self.0.get() as usize - 1
    }

    /// The symbol with the dense index `index`, as [`Sym::into_usize`] gave
    /// it (`u32::MAX`, which no symbol has, gives the largest symbol there
    /// can be, as `u32::MAX - 1` does).
    pub fn from_index(index: u32) -> Self {
        Sym(NonZeroU32::MIN.saturating_add(index))
    }

    /// The symbol with a dense index, if the index fits.
    pub fn try_from_usize(index: usize) -> Option<Self> {
        u32::try_from(index + 1)
            .ok()
            .and_then(NonZeroU32::new)
            .map(Sym)
    }
}

/// A handle to an interned attribute block (see [`Interner::intern_attrs`]);
/// 4 bytes, `Copy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AttrsId(NonZeroU32);

impl AttrsId {
    /// The id as a number (never 0), to be stored and read back by the
    /// same run ([`AttrsId::from_code`]).
    pub fn code(self) -> u32 {
        self.0.get()
    }

    /// The id [`AttrsId::code`] gave; `None` for 0.
    pub fn from_code(code: u32) -> Option<Self> {
        NonZeroU32::new(code).map(AttrsId)
    }
}

/// One locked part of the table: text to symbol.
type Shard = Mutex<FxHashMap<Arc<str>, Sym>>;

/// An attribute block as five words (see [`Attrs::words`]), which is what
/// blocks are hashed and compared by when interned: hashing and comparing
/// the struct field by field cost several times as much.
type AttrsKey = [u64; 5];

/// One locked part of the attribute blocks' table.
type AttrsShard = Mutex<FxHashMap<AttrsKey, AttrsId>>;

/// The blocks a thread interned lately, of one interner (see [`Recent`]).
struct RecentAttrs {
    /// The [`Interner::id`] the ids belong to.
    interner: u64,
    ids: FxHashMap<AttrsKey, AttrsId>,
}

thread_local! {
    static RECENT_ATTRS: std::cell::RefCell<RecentAttrs> = std::cell::RefCell::new(RecentAttrs {
        interner: 0,
        ids: FxHashMap::default(),
    });
}

/// How many blocks a thread's [`RecentAttrs`] holds before it starts over:
/// as many as 4,096 buckets of 48 bytes take (about 200 KiB); one more
/// would double the table.
const RECENT_ATTRS_MAX: usize = 3584;

/// The symbols a thread interned lately, of one interner. Readers intern
/// the same few texts on every span (services, operations, attribute
/// values), and each took a shard's lock, whose cache line the two
/// threads then passed back and forth: looked up here first, a text seen
/// before takes no lock. Bounded like the shape cache: once its keys pass
/// [`RECENT_BYTES`] it starts over.
struct Recent {
    /// The [`Interner::id`] the symbols belong to.
    interner: u64,
    symbols: FxHashMap<Box<str>, Sym>,
    bytes: usize,
}

thread_local! {
    static RECENT: std::cell::RefCell<Recent> = std::cell::RefCell::new(Recent {
        interner: 0,
        symbols: FxHashMap::default(),
        bytes: 0,
    });
}

/// How many bytes of keys a thread's [`Recent`] holds before it starts
/// over.
const RECENT_BYTES: usize = 256 << 10;

/// What an entry of [`Recent`] costs beyond its key's text.
const RECENT_ENTRY: usize = 32;

/// Texts longer than this are not kept in [`Recent`]: long ones (trace
/// labels, descriptions) rarely repeat, and would cost a copy each.
const RECENT_TEXT: usize = 64;

/// How many independently locked parts the table has; two readers rarely
/// want the same part at once.
const SHARDS: usize = 64;

/// The shard a key of `hash` lives in: by the hash's top bits, since the
/// maps themselves use the low ones.
fn shard_of(hash: u64) -> usize {
    (hash >> 58) as usize % SHARDS
}

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
///
/// A span's attribute block ([`Attrs`], 36 bytes of symbols) is interned
/// the same way, as an [`AttrsId`]: spans repeat a few blocks (the same
/// call sites, hosts and systems), and a block of its own on the heap was
/// 48 more bytes a span, an allocation on the reading thread and a free on
/// another (a sixth of the cost of dropping a trace's spans).
pub struct Interner {
    shards: Box<[Shard]>,
    strings: boxcar::Vec<Arc<str>>,
    attrs_shards: Box<[AttrsShard]>,
    attrs: boxcar::Vec<Attrs>,
    /// The blocks interned before [`Interner::freeze_attrs`], in one
    /// slice: analyses look a block up for every span, and a slice is
    /// read at once where `attrs` finds its bucket and checks the entry.
    frozen: OnceLock<Box<[Attrs]>>,
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
            attrs_shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            attrs: boxcar::Vec::new(),
            frozen: OnceLock::new(),
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
        &self.shards[shard_of(std::hash::Hasher::finish(&hasher))]
    }

    /// Interns `text`, returning its symbol.
    pub fn intern(&self, text: &str) -> Sym {
        if text.len() > RECENT_TEXT {
            return self.intern_shared(text);
        }
        RECENT.with_borrow_mut(|recent| {
            if recent.interner == self.id
                && let Some(&sym) = recent.symbols.get(text)
            {
                return sym;
            }
            let sym = self.intern_shared(text);
            let cost = text.len() + RECENT_ENTRY;
            if recent.interner != self.id || recent.bytes + cost > RECENT_BYTES {
                recent.interner = self.id;
                recent.symbols.clear();
                recent.bytes = 0;
            }
            recent.symbols.insert(text.into(), sym);
            recent.bytes += cost;
            sym
        })
    }

    /// [`Interner::intern`] through the shared shards.
    fn intern_shared(&self, text: &str) -> Sym {
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

    /// Interns `attrs`, returning its id.
    pub fn intern_attrs(&self, attrs: Attrs) -> AttrsId {
        let key = attrs.words();
        RECENT_ATTRS.with_borrow_mut(|recent| {
            if recent.interner == self.id
                && let Some(&id) = recent.ids.get(&key)
            {
                return id;
            }
            let id = self.intern_attrs_shared(key, attrs);
            if recent.interner != self.id || recent.ids.len() >= RECENT_ATTRS_MAX {
                recent.interner = self.id;
                recent.ids.clear();
            }
            recent.ids.insert(key, id);
            id
        })
    }

    /// [`Interner::intern_attrs`] through the shared shards.
    fn intern_attrs_shared(&self, key: AttrsKey, attrs: Attrs) -> AttrsId {
        let mut map = self.attrs_shards[shard_of(FxBuildHasher.hash_one(key))]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(&id) = map.get(&key) {
            return id;
        }
        let index = self.attrs.push(attrs);
        let id = u32::try_from(index + 1)
            .ok()
            .and_then(NonZeroU32::new)
            .map(AttrsId)
            .expect("fewer than 4 billion distinct attribute blocks");
        map.insert(key, id);
        id
    }

    /// The block behind `id` (empty for an id of another interner that is
    /// out of this one's range).
    #[inline]
    pub fn attrs(&self, id: AttrsId) -> &Attrs {
        let index = id.0.get() as usize - 1;
        match self.frozen.get().and_then(|frozen| frozen.get(index)) {
            Some(attrs) => attrs,
            None => self.attrs.get(index).unwrap_or(&Attrs::EMPTY),
        }
    }

    /// Copies the blocks interned so far into one slice that
    /// [`Interner::attrs`] reads first: called once reading is done, before
    /// the analyses look blocks up. Only the first call copies; a block
    /// interned later is still found, the slower way. Safe while other
    /// threads intern: the copy stops at the first block not yet written.
    pub fn freeze_attrs(&self) {
        self.frozen.get_or_init(|| {
            // The blocks up to the first index not yet written: a block
            // another thread is pushing now is left to the slower path, and
            // every later one with it, so the slice's indices are the ids'.
            self.attrs
                .iter()
                .enumerate()
                .take_while(|&(n, (index, _))| n == index)
                .map(|(_, (_, attrs))| attrs.clone())
                .collect()
        });
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

    /// The per-thread cache of recent symbols never hands one interner's
    /// symbol to another, and gives the shared symbol after it starts over
    /// (past its budget) and for texts too long to keep.
    #[test]
    fn recent_symbols_are_the_shared_ones() {
        let (a, b) = (Interner::new(), Interner::new());
        let x_in_a = a.intern("x");
        b.intern("y");
        let x_in_b = b.intern("x");
        assert_eq!((x_in_a.into_usize(), x_in_b.into_usize()), (0, 1));
        assert_eq!(a.intern("x"), x_in_a);
        assert_eq!(b.intern("x"), x_in_b);
        let long = "l".repeat(RECENT_TEXT + 1);
        let first = a.intern(&long);
        assert_eq!(a.intern(&long), first);
        // Far more distinct texts than the cache holds, interned twice.
        let texts: Vec<String> = (0..3 * RECENT_BYTES / (RECENT_ENTRY + 8))
            .map(|i| format!("t{i}"))
            .collect();
        let once: Vec<Sym> = texts.iter().map(|t| a.intern(t)).collect();
        let twice: Vec<Sym> = texts.iter().map(|t| a.intern(t)).collect();
        assert!(
            once == twice,
            "a text's symbol changed once the cache started over"
        );
        assert_eq!(a.len(), texts.len() + 2);
        for (text, sym) in texts.iter().zip(&once) {
            assert_eq!(a.resolve(*sym), text);
        }
    }

    fn block(strings: &Interner, system: &str, host: Option<&str>) -> Attrs {
        Attrs {
            db_system: Some(strings.intern(system)),
            url_host: host.map(|h| strings.intern(h)),
            ..Attrs::default()
        }
    }

    /// Equal blocks share one id and different ones do not, on every
    /// thread; each id gives its block back, before the table is frozen
    /// and after, and so does a block interned after it was frozen.
    #[test]
    fn attribute_blocks_are_interned_like_strings() {
        let strings = Interner::new();
        let blocks: Vec<Attrs> = (0..300)
            .map(|i| {
                block(
                    &strings,
                    &format!("db{}", i % 7),
                    (i % 3 == 0).then_some("h"),
                )
            })
            .collect();
        let per_thread: Vec<Vec<AttrsId>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        blocks
                            .iter()
                            .map(|b| strings.intern_attrs(b.clone()))
                            .collect()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(per_thread.windows(2).all(|w| w[0] == w[1]));
        let ids = &per_thread[0];
        for (i, a) in blocks.iter().enumerate() {
            for (j, b) in blocks.iter().enumerate().take(30) {
                assert_eq!(ids[i] == ids[j], a == b, "blocks {i} and {j}");
            }
        }
        let distinct: std::collections::BTreeSet<u32> = ids.iter().map(|id| id.code()).collect();
        assert_eq!(distinct.len(), 14, "7 systems, with and without a host");
        let check = |ids: &[AttrsId]| {
            for (id, b) in ids.iter().zip(&blocks) {
                assert_eq!(strings.attrs(*id), b);
            }
        };
        check(ids);
        strings.freeze_attrs();
        check(ids);
        let late = block(&strings, "after the freeze", None);
        let id = strings.intern_attrs(late.clone());
        assert_eq!(strings.attrs(id), &late);
        assert_eq!(AttrsId::from_code(id.code()), Some(id));
        assert_eq!(AttrsId::from_code(0), None);
    }

    /// A thread's recent blocks never give one interner's id to another.
    #[test]
    fn recent_blocks_are_the_shared_ones() {
        let (a, b) = (Interner::new(), Interner::new());
        let with_system = |index| Attrs {
            db_system: Some(Sym::from_index(index)),
            ..Attrs::default()
        };
        let (x, y) = (with_system(5), with_system(6));
        b.intern_attrs(y);
        let x_in_a = a.intern_attrs(x.clone());
        let x_in_b = b.intern_attrs(x.clone());
        assert_eq!((x_in_a.code(), x_in_b.code()), (1, 2));
        assert_eq!(a.intern_attrs(x.clone()), x_in_a);
        assert_eq!(b.intern_attrs(x), x_in_b);
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
