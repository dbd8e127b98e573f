//! What a Sentry span's `op`, `description` and `data` say: its kind, an
//! operation name that groups alike calls, and the database and HTTP facts
//! the analyses read.
//!
//! Names are `op`, then a parameterised description: a database statement
//! shaped by [`crate::normalize::statement_shape`]; for `http.client` the
//! method as given and the URL shaped by [`crate::normalize::url_shape`]
//! (id-like path segments and any query string replaced by `*`); other
//! descriptions as they are. Both shapes are made by the caller, so that
//! the reader takes them from its shape cache, where the span's
//! attributes find them again.

use crate::model::SpanKind;

/// The facts taken from one span's op, description and data.
#[derive(Debug, PartialEq, Eq)]
pub struct Described<'a> {
    /// The span kind the op implies.
    pub kind: SpanKind,
    /// For database spans: the system, from data or implied by the op.
    pub db_system: Option<&'a str>,
    /// For database spans: the raw description.
    pub db_statement: Option<&'a str>,
    /// For HTTP client spans: the method, from data or the description.
    pub http_method: Option<&'a str>,
    /// For HTTP client spans: the URL, from data or the description.
    pub url: Option<&'a str>,
}

/// The `data` keys that say a database's system.
const SYSTEM_KEYS: [&str; 2] = ["db.system.name", "db.system"];
/// The `data` keys that say an HTTP method.
const METHOD_KEYS: [&str; 3] = ["http.request.method", "http.method", "method"];
/// The `data` keys that say a URL.
const URL_KEYS: [&str; 3] = ["url.full", "http.url", "url"];

/// Whether [`describe`] looks at the `data` member `key`.
pub fn reads(key: &[u8]) -> bool {
    SYSTEM_KEYS
        .iter()
        .chain(&METHOD_KEYS)
        .chain(&URL_KEYS)
        .any(|k| k.as_bytes() == key)
}

/// Describes a span from its `op`, `description` and `data` (`data(key)`
/// is the member `key` when it is a string), and writes its operation name
/// over `name`; a database statement's shape in the name is
/// `statement_shape(system, statement)`, a URL's is `url_shape(url)`. The
/// name is written into the caller's buffer, since it is only interned:
/// made as a `String` a span, with the shapes copied out of the cache to
/// make it, it took two allocations a span.
pub fn describe<'a, S: AsRef<str>, U: AsRef<str>>(
    op: Option<&'a str>,
    description: Option<&'a str>,
    data: impl Fn(&str) -> Option<&'a str>,
    statement_shape: impl FnOnce(Option<&str>, &str) -> S,
    url_shape: impl FnOnce(&str) -> U,
    name: &mut String,
) -> Described<'a> {
    let op = op.map(str::trim).filter(|s| !s.is_empty());
    let description = description.map(str::trim).filter(|s| !s.is_empty());
    // The first key present as a string counts, even when it is empty.
    let text = |keys: &[&str]| keys.iter().find_map(|k| data(k)).filter(|s| !s.is_empty());
    let mut described = Described {
        kind: op.map_or(SpanKind::Internal, kind),
        db_system: None,
        db_statement: None,
        http_method: None,
        url: None,
    };
    // The op, then what describes the call: the shaped statement; the
    // method and the shaped URL, either when the other is missing; or the
    // description.
    let mut words = Words { name, any: false };
    words.name.clear();
    words.push(op);
    match op {
        Some(op) if is_db(op) => {
            described.db_system = text(&SYSTEM_KEYS).or_else(|| implied_system(op));
            described.db_statement = description;
            if let Some(d) = description {
                words.push(Some(statement_shape(described.db_system, d).as_ref()));
            }
        }
        Some(op) if is_http_client(op) => {
            let (desc_method, desc_url) = description.map_or((None, None), split_method);
            described.http_method = text(&METHOD_KEYS).or(desc_method);
            described.url = text(&URL_KEYS).or(desc_url);
            words.push(described.http_method);
            if let Some(url) = described.url {
                words.push(Some(url_shape(url).as_ref()));
            }
        }
        _ => words.push(description),
    }
    if !words.any {
        words.name.push_str("unknown");
    }
    described
}

/// A name written a word at a time, a space between each.
struct Words<'n> {
    name: &'n mut String,
    /// Whether a word was written (an empty one counts).
    any: bool,
}

impl Words<'_> {
    fn push(&mut self, word: Option<&str>) {
        if let Some(word) = word {
            if self.any {
                self.name.push(' ');
            }
            self.name.push_str(word);
            self.any = true;
        }
    }
}

/// The kind an op implies: `http.server` serves, calls to HTTP, databases
/// and caches are clients, queue ops produce or consume.
pub fn kind(op: &str) -> SpanKind {
    let family =
        |name: &str| op == name || op.strip_prefix(name).is_some_and(|r| r.starts_with('.'));
    if family("http.server") {
        SpanKind::Server
    } else if is_http_client(op) || is_db(op) || family("cache") {
        SpanKind::Client
    } else if family("queue.publish") {
        SpanKind::Producer
    } else if family("queue.process") || op.starts_with("queue.task") {
        SpanKind::Consumer
    } else {
        SpanKind::Internal
    }
}

fn is_db(op: &str) -> bool {
    op == "db" || op.starts_with("db.") || op == "redis" || op.starts_with("redis.")
}

fn is_http_client(op: &str) -> bool {
    op == "http.client" || op.starts_with("http.client.")
}

/// The database system an op names (`db.redis.command` → `redis`); plain
/// SQL ops (`db`, `db.sql.query`) name none.
fn implied_system(op: &str) -> Option<&'static str> {
    if op == "redis" || op.starts_with("redis.") {
        return Some("redis");
    }
    match op.split('.').nth(1)? {
        "redis" => Some("redis"),
        "mongodb" | "mongo" => Some("mongodb"),
        "memcached" | "memcache" => Some("memcached"),
        "elasticsearch" => Some("elasticsearch"),
        "cassandra" => Some("cassandra"),
        "dynamodb" => Some("dynamodb"),
        _ => None,
    }
}

/// `GET https://x/y` → (`GET`, `https://x/y`); a description without a
/// leading upper-case method is all URL.
fn split_method(description: &str) -> (Option<&str>, Option<&str>) {
    match description.split_once(char::is_whitespace) {
        Some((method, rest))
            if method.bytes().all(|b| b.is_ascii_uppercase()) && !rest.trim().is_empty() =>
        {
            (Some(method), Some(rest.trim()))
        }
        _ => (None, Some(description)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::statement_shape;
    use serde_json::{Map, Value, json};

    fn describe<'a>(
        op: Option<&'a str>,
        description: Option<&'a str>,
        data: Option<&'a Map<String, Value>>,
    ) -> (Described<'a>, String) {
        let data = |key: &str| data?.get(key)?.as_str();
        let url_shape = |url: &str| crate::normalize::url_shape(None, url);
        // Written over what a span before left in the buffer.
        let mut name = String::from("left from another span");
        let described =
            super::describe(op, description, data, statement_shape, url_shape, &mut name);
        (described, name)
    }

    fn name(op: Option<&str>, description: Option<&str>) -> String {
        describe(op, description, None).1
    }

    #[test]
    fn op_alone_or_with_description() {
        assert_eq!(name(Some("django.view"), None), "django.view");
        assert_eq!(
            name(Some("django.view"), Some("index")),
            "django.view index"
        );
        assert_eq!(name(None, Some("index")), "index");
        assert_eq!(name(None, None), "unknown");
        assert_eq!(name(Some(" "), Some("")), "unknown");
    }

    #[test]
    fn db_spans_keep_the_statement_and_system() {
        let sql = "SELECT id FROM authors WHERE id = 1";
        let (d, named) = describe(Some("db"), Some(sql), None);
        assert_eq!(named, format!("db {}", statement_shape(None, sql)));
        assert_eq!(
            (d.db_statement, d.db_system, d.kind),
            (Some(sql), None, SpanKind::Client)
        );
        let (d, named) = describe(Some("db.redis.command"), Some("GET authors:1"), None);
        assert_eq!(d.db_system, Some("redis"));
        assert_eq!(
            named,
            format!(
                "db.redis.command {}",
                statement_shape(Some("redis"), "GET authors:1")
            )
        );
        let data = json!({"db.system": "postgresql"});
        let (d, _) = describe(Some("db.sql.query"), Some(sql), data.as_object());
        assert_eq!(d.db_system, Some("postgresql"));
        assert_eq!(
            describe(Some("redis"), None, None).0.db_system,
            Some("redis")
        );
    }

    #[test]
    fn http_client_names_are_parameterised() {
        let (d, named) = describe(
            Some("http.client"),
            Some("GET https://my-api.io/api/users?page=1"),
            None,
        );
        assert_eq!(named, "http.client GET https://my-api.io/api/users?*");
        assert_eq!(d.http_method, Some("GET"));
        assert_eq!(d.url, Some("https://my-api.io/api/users?page=1"));
        assert_eq!(d.kind, SpanKind::Client);
        let (_, named) = describe(
            Some("http.client"),
            Some(
                "GET /api/0/projects/4504/2f0d8a1c-6e29-4b8e-9f0a-1b2c3d4e5f60/a1b2c3d4e5f6/x#top",
            ),
            None,
        );
        assert_eq!(named, "http.client GET /api/*/projects/*/*/*/x");
        let data = json!({"method": "POST", "url": "http://h:8080/v1/orders/17"});
        let (_, named) = describe(Some("http.client"), Some("ignored"), data.as_object());
        assert_eq!(named, "http.client POST http://h:8080/v1/orders/*");
        assert_eq!(
            name(Some("http.client"), Some("/feed/cafe")),
            "http.client /feed/cafe"
        );
        assert_eq!(name(Some("http.client"), None), "http.client");
        let data = json!({"method": "PUT"});
        let (_, named) = describe(Some("http.client"), None, data.as_object());
        assert_eq!(named, "http.client PUT");
        assert_eq!(name(Some("db"), None), "db");
    }

    #[test]
    fn kinds_from_ops() {
        assert_eq!(kind("http.server"), SpanKind::Server);
        assert_eq!(kind("cache.get_item"), SpanKind::Client);
        assert_eq!(kind("redis"), SpanKind::Client);
        assert_eq!(kind("db.sql.active_record"), SpanKind::Client);
        assert_eq!(kind("queue.publish"), SpanKind::Producer);
        assert_eq!(kind("queue.process"), SpanKind::Consumer);
        assert_eq!(kind("queue.task.celery"), SpanKind::Consumer);
        assert_eq!(kind("http.serverless"), SpanKind::Internal);
        assert_eq!(kind("ui.react.render"), SpanKind::Internal);
        assert_eq!(describe(None, Some("x"), None).0.kind, SpanKind::Internal);
    }
}
