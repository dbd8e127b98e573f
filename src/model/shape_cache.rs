//! Shapes remembered per thread, so that a statement or URL repeated a
//! million times is normalised once, without interning the raw text (the
//! interner keeps what it holds until the end of the run; on
//! unparameterised or generated data nearly every statement is distinct).
//! A shape is kept under its text's cache key where it holds for every
//! text with that key (a digit template, a command's kept words: see
//! [`Dialect::cache_key`]), else under the text itself; so `WHERE id = 1`
//! and `WHERE id = 2` are normalised once too.
//!
//! Per thread, so that readers on different threads never wait for one
//! another; bounded, because distinct text would otherwise grow it with
//! the input: once its keys pass [`MAX_BYTES`] it starts over. Shapes are
//! symbols of one interner, so the cache also starts over when a thread
//! reads for another interner.

use std::cell::RefCell;

use rustc_hash::FxHashMap;

use super::intern::{Interner, Sym};
use crate::normalize::{self, Dialect};

/// How many bytes of keys a thread's cache holds before it starts over:
/// thousands of parameterised statements, little beside a reader's buffers.
pub const MAX_BYTES: usize = 1 << 20;

/// What an entry costs beyond its key's text (the map slot, the box).
const ENTRY_BYTES: usize = 32;

/// The most a buffer kept between calls (a key's, the last statement's
/// copy) may hold: one huge text should not stay resident beside the cache,
/// which does not count these buffers in [`MAX_BYTES`].
const KEPT_BUFFER: usize = 64 << 10;

/// Shapes grouped by what else the shape depends on (the database
/// system, the method): few groups, each searched by key or text.
struct Groups<K, V>(Vec<(K, V)>);

impl<K, V> Groups<K, V> {
    /// The group whose key `is` picks, made by `make` if there is none.
    fn group(&mut self, is: impl Fn(&K) -> bool, make: impl FnOnce() -> (K, V)) -> &mut V {
        let i = match self.0.iter().position(|(k, _)| is(k)) {
            Some(i) => i,
            None => {
                self.0.push(make());
                self.0.len() - 1
            }
        };
        &mut self.0[i].1
    }
}

type Shapes = FxHashMap<Box<[u8]>, Sym>;

struct Cache {
    /// The [`Interner::id`] the symbols belong to.
    interner: u64,
    /// By system: its dialect, and shapes by text or, where a shape holds
    /// for it, by [`Dialect::cache_key`].
    statements: Groups<Option<Sym>, (Dialect, Shapes)>,
    calls: Groups<Option<Box<str>>, Shapes>,
    bytes: usize,
    /// A statement's or URL's cache key, in a buffer kept between calls.
    key: Vec<u8>,
    /// The last statement shaped: its system, text and shape. A reader
    /// may shape one statement twice in a row (a Sentry `db` span's
    /// description names the span, then is the statement its attributes
    /// are shaped from); looked up again by text and then by key, that
    /// second time was 2.6% of a Sentry read's instructions.
    last: Option<(Option<Sym>, Sym)>,
    last_text: Vec<u8>,
}

thread_local! {
    static CACHE: RefCell<Cache> = const {
        RefCell::new(Cache {
            interner: 0,
            statements: Groups(Vec::new()),
            calls: Groups(Vec::new()),
            bytes: 0,
            key: Vec::new(),
            last: None,
            last_text: Vec::new(),
        })
    };
}

impl Cache {
    /// Empties the cache if it holds another interner's symbols.
    fn own(&mut self, strings: &Interner) {
        if self.interner != strings.id() {
            self.interner = strings.id();
            self.clear();
        }
    }

    /// Keeps a key buffer for the next call, unless one huge text made it
    /// large: it is not counted in [`MAX_BYTES`].
    fn give_back(&mut self, key: Vec<u8>) {
        if key.capacity() <= KEPT_BUFFER {
            self.key = key;
        }
    }

    fn clear(&mut self) {
        self.statements.0.clear();
        self.calls.0.clear();
        self.bytes = 0;
        self.last = None;
    }

    /// The shape of the last statement, if it was `statement` of `system`.
    fn repeated(&self, system: Option<Sym>, statement: &str) -> Option<Sym> {
        let (last_system, shape) = self.last?;
        (last_system == system && self.last_text == statement.as_bytes()).then_some(shape)
    }

    /// Remembers `shape` as the last statement's, unless the text is too
    /// long to keep a copy of (as the key buffer is not kept).
    fn remember(&mut self, system: Option<Sym>, statement: &str, shape: Sym) {
        self.last_text.clear();
        if statement.len() > KEPT_BUFFER {
            self.last = None;
            self.last_text.shrink_to(KEPT_BUFFER);
            return;
        }
        self.last_text.extend_from_slice(statement.as_bytes());
        self.last = Some((system, shape));
    }

    /// Keeps `sym` under `key` in the map `shapes` picks, emptying the
    /// cache first if it is full.
    fn insert(&mut self, key: &[u8], sym: Sym, shapes: impl Fn(&mut Cache) -> &mut Shapes) {
        if self.bytes + key.len() + ENTRY_BYTES > MAX_BYTES {
            self.clear();
        }
        shapes(self).insert(key.into(), sym);
        self.bytes += key.len() + ENTRY_BYTES;
    }
}

/// The interned shape of `text`, looked up by the text and then by the
/// cache key `key` writes (where it writes one), else made by `shape`,
/// which also says whether it holds for the key; kept under the key if so,
/// else under the text.
///
/// The text is looked up first: a statement sent with parameters, or a
/// URL without ids, repeats verbatim and has no key of its own (it is
/// kept under its text), and writing the key was half the cost of such a
/// lookup. Either order finds the same shape. A key with a `0xFF` byte is
/// never text, and a text equal to a key without one (a key-value
/// command's words) has that key as its own, so the shape kept under it
/// is the text's. And a text kept under itself because its shape does not
/// hold for its key meets no shape kept under that key: whether a shape
/// holds depends on the key alone (see `sql::digits_are_literals` and
/// `url::shape_scoped`), as the cache has always assumed.
fn cached(
    cache: &mut Cache,
    strings: &Interner,
    text: &str,
    key: impl FnOnce(&mut Vec<u8>) -> bool,
    shapes: impl Fn(&mut Cache) -> &mut Shapes,
    shape: impl FnOnce() -> (String, bool),
) -> Sym {
    if let Some(&sym) = shapes(cache).get(text.as_bytes()) {
        return sym;
    }
    let mut buffer = std::mem::take(&mut cache.key);
    let key = key(&mut buffer).then_some(&buffer[..]);
    let group = shapes(cache);
    let found = key.and_then(|k| group.get(k)).copied();
    let sym = found.unwrap_or_else(|| {
        let (shape, holds_for_key) = shape();
        let sym = strings.intern(&shape);
        let key = key.filter(|_| holds_for_key).unwrap_or(text.as_bytes());
        cache.insert(key, sym, shapes);
        sym
    });
    cache.give_back(buffer);
    sym
}

/// The shape of a database statement of `system` (see
/// [`normalize::statement_shape`]). Looked up by its text, then by its
/// cache key ([`Dialect::cache_key`]), under which a shape is kept when it
/// holds for every statement with that key: statements sent without
/// parameters differ mostly in their numbers and key/value commands in
/// their keys, and each was a miss when looked up by text alone.
pub fn statement(strings: &Interner, system: Option<Sym>, statement: &str) -> Sym {
    CACHE.with_borrow_mut(|cache| {
        cache.own(strings);
        if let Some(shape) = cache.repeated(system, statement) {
            return shape;
        }
        let dialect = cache
            .statements
            .group(
                |s| *s == system,
                || {
                    let dialect = Dialect::of(system.map(|s| strings.resolve(s)));
                    (system, (dialect, Shapes::default()))
                },
            )
            .0;
        let shape = cached(
            cache,
            strings,
            statement,
            |key| dialect.cache_key(statement, key),
            |cache| {
                &mut cache
                    .statements
                    .group(|s| *s == system, || (system, (dialect, Shapes::default())))
                    .1
            },
            || dialect.shape(statement),
        );
        cache.remember(system, statement, shape);
        shape
    })
}

/// The shape of an HTTP call to `target`, a route or URL (see
/// [`normalize::url_shape`]), looked up by its text, then by its cache key
/// ([`normalize::url_cache_key`]): `/users/1` and `/users/2` are shaped once.
pub fn http(strings: &Interner, method: Option<&str>, target: &str) -> Sym {
    CACHE.with_borrow_mut(|cache| {
        cache.own(strings);
        cached(
            cache,
            strings,
            target,
            |key| normalize::url_cache_key(target, key),
            // Only a method not seen before allocates.
            |cache| {
                cache.calls.group(
                    |m| m.as_deref() == method,
                    || (method.map(Box::from), Shapes::default()),
                )
            },
            || normalize::url_shape_scoped(method, target),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_statement_is_shaped_once_to_the_same_symbol() {
        let strings = Interner::new();
        let pg = Some(strings.intern("postgresql"));
        let a = statement(&strings, pg, "SELECT * FROM t WHERE id = 1");
        let held = strings.len();
        let b = statement(&strings, pg, "SELECT * FROM t WHERE id = 1");
        let c = statement(&strings, pg, "SELECT * FROM t WHERE id = 2");
        assert_eq!((a, a), (b, c));
        assert_eq!(strings.len(), held, "nothing new interned");
        assert_eq!(strings.resolve(a), "SELECT * FROM t WHERE id = %s");
    }

    /// The last statement is answered again only for the same system and
    /// the same interner: its text shapes differently under another
    /// dialect, and its symbol means nothing to another interner.
    #[test]
    fn the_last_statement_is_reused_only_for_its_system_and_interner() {
        let strings = Interner::new();
        let redis = Some(strings.intern("redis"));
        let text = "GET 'user' 42";
        let as_redis = statement(&strings, redis, text);
        assert_eq!(statement(&strings, redis, text), as_redis);
        let as_sql = statement(&strings, None, text);
        assert_ne!(as_sql, as_redis);
        assert_eq!(strings.resolve(as_redis), "GET *");
        assert_eq!(strings.resolve(as_sql), "GET %s %s");
        let other = Interner::new();
        let shape = statement(&other, None, text);
        assert_eq!(other.resolve(shape), "GET %s %s");
    }

    #[test]
    fn commands_differing_in_their_keys_and_statements_in_their_numbers_are_shaped_once() {
        let strings = Interner::new();
        let redis = Some(strings.intern("redis"));
        let a = statement(&strings, redis, "GET user:1");
        let held = strings.len();
        let b = statement(&strings, redis, "GET user:123456");
        assert_eq!(a, b);
        assert_eq!(strings.len(), held, "nothing new interned");
        let c = statement(&strings, None, "SELECT * FROM t WHERE id = 5");
        let held = strings.len();
        let d = statement(&strings, None, "SELECT * FROM t WHERE id = 77");
        assert_eq!(c, d);
        assert_eq!(strings.len(), held, "nothing new interned");
        // A number in a name the shape keeps is not a template's.
        let one = statement(&strings, None, "SELECT \"col 1\" FROM t WHERE a = 1");
        let two = statement(&strings, None, "SELECT \"col 2\" FROM t WHERE a = 1");
        assert_eq!(strings.resolve(one), "SELECT \"col 1\" FROM t WHERE a = %s");
        assert_eq!(strings.resolve(two), "SELECT \"col 2\" FROM t WHERE a = %s");
        let first = statement(&strings, redis, "CLIENT 1 x");
        let second = statement(&strings, redis, "CLIENT 2 x");
        assert_eq!(strings.resolve(first), "CLIENT 1 *");
        assert_eq!(strings.resolve(second), "CLIENT 2 *");
    }

    #[test]
    fn urls_differing_in_their_ids_are_shaped_once() {
        let strings = Interner::new();
        let a = http(&strings, Some("GET"), "https://api/users/7/orders?page=2");
        let held = strings.len();
        let b = http(
            &strings,
            Some("GET"),
            "https://api/users/123/orders?page=30",
        );
        assert_eq!(a, b);
        assert_eq!(strings.len(), held, "nothing new interned");
        assert_eq!(strings.resolve(a), "GET https://api/users/*/orders?*");
        // A port, or digits in part of a segment, are kept.
        let one = http(&strings, None, "http://geo:8080/v2/x-1");
        let two = http(&strings, None, "http://geo:8081/v2/x-2");
        assert_eq!(strings.resolve(one), "http://geo:8080/v2/x-1");
        assert_eq!(strings.resolve(two), "http://geo:8081/v2/x-2");
    }

    #[test]
    fn the_system_and_the_method_are_part_of_the_key() {
        let strings = Interner::new();
        let redis = Some(strings.intern("redis"));
        let sql = statement(&strings, None, "GET user:1");
        let kv = statement(&strings, redis, "GET user:1");
        assert_ne!(sql, kv);
        assert_eq!(strings.resolve(kv), "GET *");
        let get = http(&strings, Some("GET"), "http://a/users/1");
        let post = http(&strings, Some("POST"), "http://a/users/1");
        let none = http(&strings, None, "http://a/users/1");
        assert_eq!(strings.resolve(get), "GET http://a/users/*");
        assert_eq!(strings.resolve(post), "POST http://a/users/*");
        assert_eq!(strings.resolve(none), "http://a/users/*");
    }

    #[test]
    fn another_interner_gets_its_own_symbols() {
        let (one, two) = (Interner::new(), Interner::new());
        one.intern("something else first");
        let a = statement(&one, None, "SELECT 1");
        let b = statement(&two, None, "SELECT 1");
        assert_eq!(one.resolve(a), "SELECT %s");
        assert_eq!(two.resolve(b), "SELECT %s");
        assert_ne!(a, b);
        assert_eq!(statement(&one, None, "SELECT 1"), a);
    }

    #[test]
    fn the_cache_stays_within_its_bound() {
        let strings = Interner::new();
        let long = "x".repeat(1000);
        for i in 0..3 * MAX_BYTES / 1000 {
            statement(&strings, None, &format!("SELECT '{long}' FROM t{i}"));
            let bytes = CACHE.with_borrow(|c| c.bytes);
            assert!(bytes <= MAX_BYTES, "{bytes}");
        }
        let shape = statement(&strings, None, "SELECT 'a' FROM t9");
        assert_eq!(strings.resolve(shape), "SELECT %s FROM t9");
    }

    /// Texts made of words, numbers and spaces that are often each other's
    /// keys (a command alone is its commands' key).
    fn texts() -> impl proptest::strategy::Strategy<Value = Vec<String>> {
        use proptest::prelude::*;
        let word = prop_oneof![
            Just("GET"),
            Just("get"),
            Just("CONFIG"),
            Just("user:1"),
            Just("7"),
            Just("x7"),
            Just("$1"),
            Just("/v1/users/"),
        ];
        let text =
            proptest::collection::vec((word, prop_oneof![Just(""), Just(" "), Just("  ")]), 1..4)
                .prop_map(|parts| {
                    parts
                        .into_iter()
                        .map(|(w, sep)| format!("{w}{sep}"))
                        .collect()
                });
        proptest::collection::vec(text, 1..12)
    }

    proptest::proptest! {
        /// Whatever was looked up before, and in whatever order the text
        /// and its key are tried, a text gets the shape an empty cache
        /// gives it.
        #[test]
        fn a_shape_does_not_depend_on_what_was_cached_before(texts in texts()) {
            // Each alone first: a new interner empties the thread's cache.
            let shapes_of = |strings: &Interner, text: &str| {
                let redis = Some(strings.intern("redis"));
                [
                    statement(strings, None, text),
                    statement(strings, redis, text),
                    http(strings, Some("GET"), text),
                ]
                .map(|sym| strings.resolve(sym).to_string())
            };
            let alone: Vec<_> = texts.iter().map(|t| shapes_of(&Interner::new(), t)).collect();
            let strings = Interner::new();
            for (text, alone) in texts.iter().zip(&alone) {
                proptest::prop_assert_eq!(&shapes_of(&strings, text), alone, "{:?}", text);
            }
        }
    }
}
