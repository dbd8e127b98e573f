//! Normalisation of database statements, key/value commands and URLs into
//! shapes: what makes two calls "the same call" whatever their arguments.
//!
//! Each runs once per span on the hot path, so each is a hand-written
//! scanner over bytes, with no allocation beyond its output, that never
//! panics on malformed input (fuzzed: `fuzz/fuzz_targets/normalize.rs`).

mod digits;
mod kv;
mod sql;
mod url;

/// The shape of a database statement: literals replaced by placeholders.
/// Key/value systems (see [`is_key_value_system`]) keep the command only.
pub fn statement_shape(system: Option<&str>, statement: &str) -> String {
    Dialect::of(system).shape(statement).0
}

/// How a database system's statements are shaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Commands of a key/value store (see [`is_key_value_system`]).
    KeyValue,
    /// SQL as MySQL reads it (double quotes delimit strings).
    MySql,
    /// SQL of any other system, or of none named.
    Sql,
}

impl Dialect {
    /// The dialect of a database system's statements (`db.system`).
    pub fn of(system: Option<&str>) -> Self {
        match system {
            Some(system) if is_key_value_system(system) => Dialect::KeyValue,
            Some(system) if is_mysql(system) => Dialect::MySql,
            _ => Dialect::Sql,
        }
    }

    /// A statement's shape, and whether it is also the shape of every
    /// statement with the same [`Dialect::cache_key`].
    pub fn shape(self, statement: &str) -> (String, bool) {
        match self {
            Dialect::KeyValue => (kv::command_shape(statement), true),
            Dialect::MySql => sql::shape_scoped(statement, true),
            Dialect::Sql => sql::shape_scoped(statement, false),
        }
    }

    /// Writes into `out` what a cache may keep a statement's shape under
    /// besides its text, when [`Dialect::shape`] says the shape holds for
    /// it: a command's kept words ([`kv::command_key`], always), a SQL
    /// statement's digit template ([`digits::template`]; `false` when no
    /// digit run stands alone, and the text is the key).
    pub fn cache_key(self, statement: &str, out: &mut Vec<u8>) -> bool {
        match self {
            Dialect::KeyValue => {
                kv::command_key(statement, out);
                true
            }
            Dialect::MySql | Dialect::Sql => digits::template(statement, out),
        }
    }
}

/// The shape of an HTTP call: method and URL without query or ids.
pub fn url_shape(method: Option<&str>, url: &str) -> String {
    url_shape_scoped(method, url).0
}

/// [`url_shape`], and whether it is also the shape of every URL with the
/// same [`url_cache_key`].
pub fn url_shape_scoped(method: Option<&str>, url: &str) -> (String, bool) {
    let (shape, scoped) = url::shape_scoped(url);
    let shape = match method.map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => format!("{} {shape}", m.to_ascii_uppercase()),
        None => shape,
    };
    (shape, scoped)
}

/// Writes into `out` what a cache may keep a URL's shape under besides its
/// text, when [`url_shape_scoped`] says the shape holds for it: its digit
/// template ([`digits::template`]), so that `/users/1` and `/users/2` are
/// shaped once. `false` when no digit run stands alone.
pub fn url_cache_key(url: &str, out: &mut Vec<u8>) -> bool {
    digits::template(url, out)
}

/// The host of an absolute URL (`https://user@host:8080/path` → `host`),
/// `None` for a bare path or route.
pub fn url_host(url: &str) -> Option<&str> {
    url::host(url)
}

fn is_mysql(system: &str) -> bool {
    system.eq_ignore_ascii_case("mysql") || system.eq_ignore_ascii_case("mariadb")
}

/// Whether a database system is a key/value store (Redis, Memcached, ...).
pub fn is_key_value_system(system: &str) -> bool {
    ["redis", "memcached", "valkey", "keydb", "dragonfly"]
        .iter()
        .any(|s| system.eq_ignore_ascii_case(s))
}
