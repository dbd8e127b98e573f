//! Shapes by raw text, remembered per thread, so that a statement or URL
//! repeated a million times is normalised once, without interning the raw
//! text (the interner keeps what it holds until the end of the run; on
//! unparameterised or generated data nearly every statement is distinct).
//!
//! Per thread, so that readers on different threads never wait for one
//! another; bounded, because distinct text would otherwise grow it with
//! the input: once its keys pass [`MAX_BYTES`] it starts over. Shapes are
//! symbols of one interner, so the cache also starts over when a thread
//! reads for another interner.

use std::cell::RefCell;

use rustc_hash::FxHashMap;

use super::intern::{Interner, Sym};
use crate::normalize;

/// How many bytes of keys a thread's cache holds before it starts over:
/// thousands of parameterised statements, little beside a reader's buffers.
pub const MAX_BYTES: usize = 1 << 20;

/// What an entry costs beyond its key's text (the map slot, the box).
const ENTRY_BYTES: usize = 32;

/// Shapes by raw text, grouped by what else the shape depends on (the
/// database system, the method): few groups, each searched by text.
struct Groups<K>(Vec<(K, FxHashMap<Box<str>, Sym>)>);

impl<K: PartialEq> Groups<K> {
    fn group(&mut self, key: K) -> &mut FxHashMap<Box<str>, Sym> {
        let i = match self.0.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                self.0.push((key, FxHashMap::default()));
                self.0.len() - 1
            }
        };
        &mut self.0[i].1
    }
}

struct Cache {
    /// The [`Interner::id`] the symbols belong to.
    interner: u64,
    statements: Groups<Option<Sym>>,
    calls: Groups<Option<Box<str>>>,
    bytes: usize,
}

thread_local! {
    static CACHE: RefCell<Cache> = const {
        RefCell::new(Cache {
            interner: 0,
            statements: Groups(Vec::new()),
            calls: Groups(Vec::new()),
            bytes: 0,
        })
    };
}

impl Cache {
    /// Empties the cache if it holds another interner's symbols or is full.
    fn make_room(&mut self, strings: &Interner, key: &str) {
        if self.interner != strings.id() || self.bytes + key.len() + ENTRY_BYTES > MAX_BYTES {
            self.interner = strings.id();
            self.statements.0.clear();
            self.calls.0.clear();
            self.bytes = 0;
        }
    }
}

/// The interned shape of `text`, from the cache or from `shape`.
fn cached(
    strings: &Interner,
    text: &str,
    group: impl Fn(&mut Cache) -> &mut FxHashMap<Box<str>, Sym>,
    shape: impl FnOnce() -> String,
) -> Sym {
    CACHE.with_borrow_mut(|cache| {
        if cache.interner == strings.id() {
            if let Some(&sym) = group(cache).get(text) {
                return sym;
            }
        }
        let sym = strings.intern(&shape());
        cache.make_room(strings, text);
        group(cache).insert(text.into(), sym);
        cache.bytes += text.len() + ENTRY_BYTES;
        sym
    })
}

/// The shape of a database statement of `system` (see
/// [`normalize::statement_shape`]).
pub fn statement(strings: &Interner, system: Option<Sym>, statement: &str) -> Sym {
    cached(
        strings,
        statement,
        |cache| cache.statements.group(system),
        || normalize::statement_shape(system.map(|s| strings.resolve(s)), statement),
    )
}

/// The shape of an HTTP call to `target`, a route or URL (see
/// [`normalize::url_shape`]).
pub fn http(strings: &Interner, method: Option<&str>, target: &str) -> Sym {
    cached(
        strings,
        target,
        |cache| {
            // Only a method not seen before allocates.
            match cache
                .calls
                .0
                .iter()
                .position(|(m, _)| m.as_deref() == method)
            {
                Some(i) => &mut cache.calls.0[i].1,
                None => cache.calls.group(method.map(Box::from)),
            }
        },
        || normalize::url_shape(method, target),
    )
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
}
