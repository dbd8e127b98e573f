//! Building blocks for scenarios: an HTTP call with the server span it
//! reaches, a database or cache query, a message publish and its
//! consumption. Each sets the attributes the OpenTelemetry semantic
//! conventions prescribe, so scenarios read as "what happened" rather than
//! as lists of keys.

use crate::services::info;
use crate::trace::{Kind, TraceBuilder};

/// The two spans of one HTTP call across services.
#[derive(Clone, Copy, Debug)]
pub struct Call {
    /// The caller's CLIENT span.
    pub client: usize,
    /// The callee's SERVER span.
    pub server: usize,
}

/// One HTTP request as the caller sees it.
pub struct Request<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// Host the caller connects to (`server.address`).
    pub host: &'a str,
    /// The concrete path and query (`/v1/places/17?lang=en`).
    pub target: &'a str,
    /// The server framework's route template (`/v1/places/{id}`).
    pub route: &'a str,
}

/// Opens an HTTP call from span `parent` into service `callee` at `start`:
/// the CLIENT span in the parent's service and the SERVER span in the
/// callee, which starts `lag` later (connection set-up and network). Ends
/// are set by [`close_call`] once the server's own work is laid out.
pub fn open_call(
    b: &mut TraceBuilder<'_>,
    parent: usize,
    callee: &'static str,
    req: &Request<'_>,
    start: i64,
    lag: i64,
) -> Call {
    let caller = b.get(parent).service;
    let url = format!("https://{}{}", req.host, req.target);
    let path = req
        .target
        .split('?')
        .next()
        .unwrap_or(req.target)
        .to_string();
    let client = b.span(Some(parent), caller, Kind::Client, req.method, start, start);
    b.attr(client, "http.request.method", req.method)
        .attr(client, "url.full", url)
        .attr(client, "server.address", req.host);
    let name = format!("{} {}", req.method, req.route);
    let server = b.span(
        Some(client),
        callee,
        Kind::Server,
        name,
        start + lag,
        start + lag,
    );
    b.attr(server, "http.request.method", req.method)
        .attr(server, "http.route", req.route)
        .attr(server, "url.path", path)
        .attr(server, "server.address", req.host)
        .attr(
            server,
            "user_agent.original",
            format!("{caller}/{}", info(caller).version),
        );
    if let Some(query) = req.target.split_once('?').map(|(_, q)| q) {
        b.attr(server, "url.query", query);
    }
    Call { client, server }
}

/// Closes an HTTP call: the server ends at `server_end` with `status`, the
/// client `lag` later (response transfer).
pub fn close_call(b: &mut TraceBuilder<'_>, call: Call, server_end: i64, lag: i64, status: i64) {
    b.set_end(call.server, server_end);
    b.set_end(call.client, server_end + lag);
    b.attr(call.server, "http.response.status_code", status);
    b.attr(call.client, "http.response.status_code", status);
    if status >= 500 {
        b.fail(call.server);
        b.fail(call.client);
    }
}

/// An HTTP call with no instrumented work inside the callee: the server
/// span is a leaf lasting `duration` minus `2 * lag`.
pub fn leaf_call(
    b: &mut TraceBuilder<'_>,
    parent: usize,
    callee: &'static str,
    req: &Request<'_>,
    start: i64,
    duration: i64,
    lag: i64,
) -> Call {
    let call = open_call(b, parent, callee, req, start, lag);
    close_call(b, call, start + duration - lag, lag, 200);
    call
}

/// A database query by `parent`'s service: SQL (`system` `postgresql`,
/// `mysql`, ...) or a key/value command (`redis`). Named as the conventions
/// say (`SELECT categories`, `GET`), attributes in the generation of
/// conventions the service's instrumentation uses.
#[allow(clippy::too_many_arguments)]
pub fn query(
    b: &mut TraceBuilder<'_>,
    parent: usize,
    system: &'static str,
    host: &'static str,
    database: &'static str,
    statement: impl Into<String>,
    start: i64,
    duration: i64,
) -> usize {
    let service = b.get(parent).service;
    let statement = statement.into();
    let name = span_name(system, database, &statement);
    let q = b.span(
        Some(parent),
        service,
        Kind::Client,
        name,
        start,
        start + duration,
    );
    if info(service).new_db_conventions {
        b.attr(q, "db.system.name", system)
            .attr(q, "db.namespace", database)
            .attr(q, "db.query.text", statement);
    } else {
        b.attr(q, "db.system", system)
            .attr(q, "db.name", database)
            .attr(q, "db.statement", statement);
    }
    b.attr(q, "server.address", host);
    q
}

/// `{operation} {table}` for SQL, the command for key/value stores, as the
/// database span-name convention has it.
fn span_name(system: &str, database: &str, statement: &str) -> String {
    let mut words = statement.split_whitespace();
    let operation = words.next().unwrap_or("query").to_ascii_uppercase();
    if matches!(system, "redis" | "memcached") {
        return operation;
    }
    let keyword = match operation.as_str() {
        "SELECT" | "DELETE" => "FROM",
        "INSERT" => "INTO",
        "UPDATE" => return format!("UPDATE {}", words.next().unwrap_or(database)),
        _ => return format!("{operation} {database}"),
    };
    let table = statement
        .split_whitespace()
        .skip_while(|w| !w.eq_ignore_ascii_case(keyword))
        .nth(1)
        .map(|t| t.trim_matches(|c: char| !c.is_alphanumeric() && c != '_' && c != '.'));
    match table {
        Some(t) if !t.is_empty() => format!("{operation} {t}"),
        _ => format!("{operation} {database}"),
    }
}

/// A PRODUCER span publishing to `destination` on `system` (kafka,
/// rabbitmq), lasting `duration`.
pub fn publish(
    b: &mut TraceBuilder<'_>,
    parent: usize,
    system: &'static str,
    destination: &'static str,
    start: i64,
    duration: i64,
) -> usize {
    let service = b.get(parent).service;
    let p = b.span(
        Some(parent),
        service,
        Kind::Producer,
        format!("publish {destination}"),
        start,
        start + duration,
    );
    b.attr(p, "messaging.system", system)
        .attr(p, "messaging.destination.name", destination)
        .attr(p, "messaging.operation.type", "publish");
    p
}

/// Adds the messaging attributes of a CONSUMER span receiving from
/// `destination`.
pub fn consumed(
    b: &mut TraceBuilder<'_>,
    span: usize,
    system: &'static str,
    destination: &'static str,
    message_id: String,
) {
    b.attr(span, "messaging.system", system)
        .attr(span, "messaging.destination.name", destination)
        .attr(span, "messaging.operation.type", "process")
        .attr(span, "messaging.message.id", message_id);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_span_names_follow_the_convention() {
        assert_eq!(
            span_name("postgresql", "app", "SELECT id FROM categories WHERE x = 1"),
            "SELECT categories"
        );
        assert_eq!(
            span_name(
                "postgresql",
                "app",
                "insert into report_results (a) values (1)"
            ),
            "INSERT report_results"
        );
        assert_eq!(
            span_name("postgresql", "app", "UPDATE users SET a = 1"),
            "UPDATE users"
        );
        assert_eq!(
            span_name("postgresql", "app", "WITH RECURSIVE t AS (...) SELECT 1"),
            "WITH app"
        );
        assert_eq!(span_name("redis", "0", "GET product:17"), "GET");
    }
}
