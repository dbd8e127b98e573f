//! Normalisation of SQL statements, key/value commands and URLs into shapes
//! (being written).

/// The shape of a database statement: literals replaced by placeholders.
pub fn statement_shape(_system: Option<&str>, statement: &str) -> String {
    statement.to_string()
}

/// The shape of an HTTP call: method and URL without query or ids.
pub fn url_shape(method: Option<&str>, url: &str) -> String {
    match method {
        Some(m) => format!("{m} {url}"),
        None => url.to_string(),
    }
}

/// Whether a database system is a key/value store (Redis, Memcached, ...).
pub fn is_key_value_system(system: &str) -> bool {
    matches!(system, "redis" | "memcached" | "valkey")
}
