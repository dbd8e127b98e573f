//! Normalisation of database statements, key/value commands and URLs into
//! shapes: what makes two calls "the same call" whatever their arguments.
//!
//! Each runs once per span on the hot path, so each is a hand-written
//! scanner over bytes, with no allocation beyond its output, that never
//! panics on malformed input (fuzzed: `fuzz/fuzz_targets/normalize.rs`).

mod kv;
mod sql;
mod url;

/// The shape of a database statement: literals replaced by placeholders.
/// Key/value systems (see [`is_key_value_system`]) keep the command only.
pub fn statement_shape(system: Option<&str>, statement: &str) -> String {
    match system {
        Some(system) if is_key_value_system(system) => kv::command_shape(statement),
        Some(system) => sql::shape(statement, is_mysql(system)),
        None => sql::shape(statement, false),
    }
}

/// The shape of an HTTP call: method and URL without query or ids.
pub fn url_shape(method: Option<&str>, url: &str) -> String {
    let shape = url::shape(url);
    match method.map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => format!("{} {shape}", m.to_ascii_uppercase()),
        None => shape,
    }
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
