//! `generate --traces N --format F [--seed S]`: a large, realistic trace set
//! for benchmarks and for eyeballing critpath on something that looks like
//! production: a gateway authenticating every request with auth-service and
//! routing it to catalog-api, orders-api or users-api; those read a Redis
//! cache and Postgres/MySQL, call each other, and publish to Kafka, where
//! billing-worker and email-worker consume (in the same trace, as
//! propagated context makes them) and call third-party APIs.
//!
//! Depth is 4–6, about 10 spans per trace on average; statements carry
//! varying literals; spans carry the attributes real instrumentations add
//! whether anyone reads them or not (user agents, `thread.id`,
//! `code.function`, ...), so readers are measured on realistic bytes.
//! Times are whole microseconds, exact in every format. Output streams: one
//! batch of traces is in memory at a time.

use std::io::{self, Write};

use crate::calls::{Call, Request, close_call, consumed, open_call, publish, query};
use crate::rng::Rng;
use crate::scenarios::BASE;
use crate::services::{Lang, info};
use crate::trace::{Kind, Trace, TraceBuilder, US};
use crate::writers::Format;

/// Traces per batch: one OTLP export request (~1,000 spans, well under
/// the Collector's 8,192-span batches) and the streaming unit.
const BATCH: usize = 100;

/// Writes `traces` traces in `format` drawn from `seed`.
pub fn write(traces: u64, format: Format, seed: u64, out: &mut dyn Write) -> io::Result<()> {
    let mut model = LoadModel::new(seed);
    let mut writer = format.writer();
    writer.begin(out)?;
    let mut batch = Vec::with_capacity(BATCH);
    for _ in 0..traces {
        batch.push(model.next_trace());
        if batch.len() == BATCH {
            writer.write_batch(&batch, out)?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        writer.write_batch(&batch, out)?;
    }
    writer.end(out)
}

/// Browser and app user agents, at their real lengths.
const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "ShopApp/4.12.0 (com.example.shop; build:41200; Android 14) okhttp/4.12.0",
    "curl/8.5.0",
];

/// The gateway's routes and the backend each goes to.
#[derive(Clone, Copy)]
enum Route {
    Product,
    Search,
    GetOrder,
    CreateOrder,
    Me,
}

/// The generator state: its random stream and the arrival clock.
pub struct LoadModel {
    rng: Rng,
    clock: i64,
}

impl LoadModel {
    /// A model drawing from `seed`.
    pub fn new(seed: u64) -> Self {
        LoadModel {
            rng: Rng::new(seed),
            clock: BASE,
        }
    }

    /// The next trace; requests arrive every ~5 ms on average.
    pub fn next_trace(&mut self) -> Trace {
        self.clock += self.rng.range(200, 9_800) * US;
        let route = match self.rng.range(0, 99) {
            0..=39 => Route::Product,
            40..=54 => Route::Search,
            55..=74 => Route::GetOrder,
            75..=89 => Route::CreateOrder,
            _ => Route::Me,
        };
        let at = self.clock;
        let mut b = TraceBuilder::new(&mut self.rng);
        gateway(&mut b, route, at);
        b.finish()
    }
}

/// Microseconds to nanoseconds.
fn us(n: i64) -> i64 {
    n * US
}

/// A latency of about `mean_us`, long-tailed, whole microseconds, at least 50 µs.
fn latency(b: &mut TraceBuilder<'_>, mean_us: f64) -> i64 {
    us(((b.rng().tail(0.6) * mean_us) as i64).max(50))
}

/// Attributes instrumentations add that critpath never reads.
fn noise(b: &mut TraceBuilder<'_>, span: usize, function: &str) {
    let service = b.get(span).service;
    match info(service).lang {
        Lang::Java => {
            let thread = b.rng().range(20, 220);
            b.attr(span, "thread.id", thread).attr(
                span,
                "thread.name",
                format!("http-nio-8080-exec-{thread}"),
            );
        }
        Lang::Python => {
            let thread = 139_800_000_000_000 + b.rng().range(0, 999_999);
            b.attr(span, "thread.id", thread)
                .attr(span, "thread.name", "MainThread")
                .attr(span, "code.function", function.to_string());
        }
        Lang::Node => {
            b.attr(span, "code.function", function.to_string());
        }
        Lang::Go => {}
    }
}

/// The root: the gateway authenticates, routes, and returns.
fn gateway(b: &mut TraceBuilder<'_>, route: Route, at: i64) {
    let (method, template, backend) = match route {
        Route::Product => ("GET", "/api/v1/products/{id}", "catalog-api"),
        Route::Search => ("GET", "/api/v1/search", "catalog-api"),
        Route::GetOrder => ("GET", "/api/v1/orders/{id}", "orders-api"),
        Route::CreateOrder => ("POST", "/api/v1/orders", "orders-api"),
        Route::Me => ("GET", "/api/v1/me", "users-api"),
    };
    let id = b.rng().range(1, 2_000_000);
    let path = template.replace("{id}", &id.to_string());
    let query = match route {
        Route::Search => {
            let terms = [
                "red+bike",
                "usb-c+cable",
                "running+shoes",
                "espresso",
                "desk+lamp",
            ];
            let page = b.rng().range(1, 5);
            format!("?q={}&page={page}&sort=relevance", b.rng().pick(&terms))
        }
        _ => String::new(),
    };
    let root = b.span(
        None,
        "gateway",
        Kind::Server,
        format!("{method} {template}"),
        at,
        at,
    );
    let agent = *b.rng().pick(USER_AGENTS);
    let client = format!("203.0.113.{}", b.rng().range(1, 254));
    let request_id = format!("{:016x}{:016x}", b.rng().next_u64(), b.rng().next_u64());
    b.attr(root, "http.request.method", method)
        .attr(root, "http.route", template)
        .attr(root, "url.path", path.clone())
        .attr(root, "url.scheme", "https")
        .attr(root, "server.address", "api.shop.example")
        .attr(root, "client.address", client)
        .attr(root, "user_agent.original", agent)
        .attr(root, "http.request.header.x-request-id", request_id)
        .attr(root, "network.protocol.version", "2");
    if let Some(q) = query.strip_prefix('?') {
        b.attr(root, "url.query", q.to_string());
    }

    let mut t = at + latency(b, 150.0);
    let authorized = authenticate(b, root, t);
    t = authorized.0;
    let status = if !authorized.1 {
        401
    } else {
        let lag = latency(b, 400.0);
        let call = open_call(
            b,
            root,
            backend,
            &Request {
                method,
                host: &format!("{backend}.internal"),
                target: &format!("{}{query}", path.replace("/api", "")),
                route: &template.replace("/api", ""),
            },
            t,
            lag,
        );
        let server_start = b.get(call.server).start;
        let (end, status) = match route {
            Route::Product => product(b, call.server, id, server_start),
            Route::Search => search(b, call.server, server_start),
            Route::GetOrder => get_order(b, call.server, id, server_start),
            Route::CreateOrder => create_order(b, call.server, server_start),
            Route::Me => me(b, call.server, server_start),
        };
        let (lag, tail) = (latency(b, 300.0), latency(b, 120.0));
        close_call(b, call, end + tail, lag, status);
        t = b.get(call.client).end;
        status
    };
    b.attr(root, "http.response.status_code", status);
    if status >= 500 {
        b.fail(root);
    }
    let tail = latency(b, 200.0);
    b.set_end(root, t + tail);
}

/// Token introspection at auth-service: a Redis session lookup, and on a
/// miss (10%) the sessions table. Returns the end and whether it passed.
fn authenticate(b: &mut TraceBuilder<'_>, parent: usize, t: i64) -> (i64, bool) {
    let lag = latency(b, 250.0);
    let call = open_call(
        b,
        parent,
        "auth-service",
        &Request {
            method: "POST",
            host: "auth-service.internal",
            target: "/v1/tokens/introspect",
            route: "/v1/tokens/introspect",
        },
        t,
        lag,
    );
    let mut u = b.get(call.server).start + latency(b, 80.0);
    let token = format!("{:016x}{:016x}", b.rng().next_u64(), b.rng().next_u64());
    let d = latency(b, 400.0);
    query(
        b,
        call.server,
        "redis",
        "redis-sessions.internal",
        "0",
        format!("GET session:{token}"),
        u,
        d,
    );
    u += d;
    if b.rng().chance(0.1) {
        let d = latency(b, 2_500.0);
        query(
            b,
            call.server,
            "postgresql",
            "auth-db.internal",
            "auth",
            format!(
                "SELECT s.user_id, s.scopes, s.expires_at FROM sessions s WHERE s.token_hash = '{}' AND s.revoked_at IS NULL",
                &token[..40.min(token.len())]
            ),
            u,
            d,
        );
        u += d;
    }
    let ok = !b.rng().chance(0.01);
    let end = u + latency(b, 100.0);
    let lag = latency(b, 200.0);
    close_call(b, call, end, lag, if ok { 200 } else { 401 });
    (b.get(call.client).end, ok)
}

/// catalog-api `GET /v1/products/{id}`: the cache, and on a miss (30%)
/// the product and its inventory from Postgres, written back to the cache.
fn product(b: &mut TraceBuilder<'_>, server: usize, id: i64, t: i64) -> (i64, i64) {
    noise(b, server, "get_product");
    let mut u = t + latency(b, 100.0);
    let d = latency(b, 350.0);
    query(
        b,
        server,
        "redis",
        "redis-cache.internal",
        "0",
        format!("GET product:{id}"),
        u,
        d,
    );
    u += d;
    if b.rng().chance(0.3) {
        for statement in [
            format!(
                "SELECT p.id, p.sku, p.name, p.description, p.price_cents, p.currency, p.brand_id FROM products p WHERE p.id = {id}"
            ),
            format!(
                "SELECT warehouse_id, available FROM inventory WHERE product_id = {id} AND available > 0"
            ),
        ] {
            let d = latency(b, 3_000.0);
            query(
                b,
                server,
                "postgresql",
                "catalog-db.internal",
                "catalog",
                statement,
                u,
                d,
            );
            u += d + us(30);
        }
        let d = latency(b, 300.0);
        query(
            b,
            server,
            "redis",
            "redis-cache.internal",
            "0",
            format!("SETEX product:{id} 300 <blob>"),
            u,
            d,
        );
        u += d;
    }
    let status = if b.rng().chance(0.03) { 404 } else { 200 };
    (u + latency(b, 400.0), status)
}

/// catalog-api `GET /v1/search`: a full-text query, then prices from one
/// of three shards queried concurrently.
fn search(b: &mut TraceBuilder<'_>, server: usize, t: i64) -> (i64, i64) {
    noise(b, server, "search");
    let mut u = t + latency(b, 200.0);
    let limit = *b.rng().pick(&[20, 24, 48]);
    let d = latency(b, 18_000.0);
    query(
        b,
        server,
        "postgresql",
        "catalog-db.internal",
        "catalog",
        format!(
            "SELECT id, name, ts_rank(search_vector, query) AS rank FROM products, plainto_tsquery('english', $1) query \
             WHERE search_vector @@ query ORDER BY rank DESC LIMIT {limit}"
        ),
        u,
        d,
    );
    u += d;
    let mut end = u;
    for shard in 0..3 {
        let s = u + us(b.rng().range(0, 300));
        let d = latency(b, 4_000.0);
        query(
            b,
            server,
            "postgresql",
            "prices-db.internal",
            "prices",
            format!(
                "SELECT product_id, price_cents FROM prices_{shard} WHERE product_id = ANY($1) AND region = 'eu'"
            ),
            s,
            d,
        );
        end = end.max(s + d);
    }
    let status = if b.rng().chance(0.01) { 500 } else { 200 };
    (end + latency(b, 600.0), status)
}

/// orders-api `GET /v1/orders/{id}`: the order, its items (an N+1 loop in
/// one request out of three, as old code paths do), and the customer from
/// users-api.
fn get_order(b: &mut TraceBuilder<'_>, server: usize, id: i64, t: i64) -> (i64, i64) {
    noise(b, server, "OrderController.get");
    let mut u = t + latency(b, 300.0);
    let db = |b: &mut TraceBuilder<'_>, statement: String, u: i64, mean: f64| {
        let d = latency(b, mean);
        query(
            b,
            server,
            "mysql",
            "orders-db.internal",
            "orders",
            statement,
            u,
            d,
        );
        u + d + us(40)
    };
    u = db(
        b,
        format!(
            "SELECT id, customer_id, status, total_cents, created_at FROM orders WHERE id = {id}"
        ),
        u,
        1_500.0,
    );
    if b.rng().chance(0.33) {
        for line in 1..=b.rng().range(2, 6) {
            u = db(
                b,
                format!(
                    "SELECT sku, qty, unit_price_cents FROM order_items WHERE order_id = {id} AND line_no = {line}"
                ),
                u,
                900.0,
            );
        }
    } else {
        u = db(
            b,
            format!("SELECT sku, qty, unit_price_cents FROM order_items WHERE order_id = {id}"),
            u,
            1_800.0,
        );
    }
    let customer = b.rng().range(1, 500_000);
    let lag = latency(b, 300.0);
    let call = open_call(
        b,
        server,
        "users-api",
        &Request {
            method: "GET",
            host: "users-api.internal",
            target: &format!("/v1/users/{customer}"),
            route: "/v1/users/{id}",
        },
        u,
        lag,
    );
    let end = user_lookup(b, call, customer);
    (end + latency(b, 500.0), 200)
}

/// users-api `GET /v1/users/{id}`: Redis, then Postgres on a miss. Closes
/// the call and returns the client's end.
fn user_lookup(b: &mut TraceBuilder<'_>, call: Call, user: i64) -> i64 {
    noise(b, call.server, "getUser");
    let mut u = b.get(call.server).start + latency(b, 100.0);
    let d = latency(b, 300.0);
    query(
        b,
        call.server,
        "redis",
        "redis-cache.internal",
        "1",
        format!("HGETALL user:{user}"),
        u,
        d,
    );
    u += d;
    if b.rng().chance(0.2) {
        let d = latency(b, 2_000.0);
        query(
            b,
            call.server,
            "postgresql",
            "users-db.internal",
            "users",
            format!(
                "SELECT id, email, display_name, locale, created_at FROM users WHERE id = {user}"
            ),
            u,
            d,
        );
        u += d;
    }
    let (tail, lag) = (latency(b, 200.0), latency(b, 200.0));
    close_call(b, call, u + tail, lag, 200);
    b.get(call.client).end
}

/// orders-api `POST /v1/orders`: inserts in a transaction, then publishes
/// `orders.created`, consumed by billing-worker (which charges the card at
/// a third party) and `email.requested`, consumed by email-worker.
fn create_order(b: &mut TraceBuilder<'_>, server: usize, t: i64) -> (i64, i64) {
    noise(b, server, "OrderController.create");
    let mut u = t + latency(b, 500.0);
    let order = b.rng().range(2_000_000, 9_000_000);
    let customer = b.rng().range(1, 500_000);
    let items = b.rng().range(1, 4);
    let mut statements = vec![
        "BEGIN".to_string(),
        format!(
            "INSERT INTO orders (id, customer_id, status, total_cents, created_at) VALUES ({order}, {customer}, 'pending', {}, NOW())",
            b.rng().range(500, 90_000)
        ),
    ];
    let values: Vec<String> = (1..=items)
        .map(|line| {
            format!(
                "({order}, {line}, 'SKU-{:06}', {}, {})",
                b.rng().range(1, 999_999),
                b.rng().range(1, 3),
                b.rng().range(199, 19_999)
            )
        })
        .collect();
    statements.push(format!(
        "INSERT INTO order_items (order_id, line_no, sku, qty, unit_price_cents) VALUES {}",
        values.join(", ")
    ));
    statements.push("COMMIT".to_string());
    for statement in statements {
        let d = latency(b, 1_200.0);
        query(
            b,
            server,
            "mysql",
            "orders-db.internal",
            "orders",
            statement,
            u,
            d,
        );
        u += d + us(30);
    }
    for (topic, consumer) in [
        ("orders.created", "billing-worker"),
        ("email.requested", "email-worker"),
    ] {
        let d = latency(b, 700.0);
        let producer = publish(b, server, "kafka", topic, u, d);
        let partition = b.rng().range(0, 11);
        b.attr(producer, "messaging.kafka.message.key", order.to_string())
            .attr(producer, "messaging.kafka.destination.partition", partition);
        // The consumer picks the message up a little later, after the
        // request may already have returned.
        let picked = u + d + latency(b, 15_000.0);
        match consumer {
            "billing-worker" => charge(b, producer, topic, order, customer, picked),
            _ => send_email(b, producer, topic, customer, picked),
        }
        u += d + us(50);
    }
    (u + latency(b, 400.0), 201)
}

/// billing-worker consuming `orders.created`: reads the customer, charges
/// at a payment provider (no spans of theirs), records the payment.
fn charge(
    b: &mut TraceBuilder<'_>,
    producer: usize,
    topic: &'static str,
    order: i64,
    customer: i64,
    at: i64,
) {
    let root = b.span(
        Some(producer),
        "billing-worker",
        Kind::Consumer,
        format!("process {topic}"),
        at,
        at,
    );
    let message = format!("{:016x}", b.rng().next_u64());
    consumed(b, root, "kafka", topic, message);
    noise(b, root, "handle_order_created");
    let mut u = at + latency(b, 300.0);
    let d = latency(b, 2_000.0);
    query(
        b,
        root,
        "postgresql",
        "billing-db.internal",
        "billing",
        format!(
            "SELECT stripe_customer_id, default_payment_method FROM billing_accounts WHERE customer_id = {customer}"
        ),
        u,
        d,
    );
    u += d;
    let d = latency(b, 180_000.0);
    let http = b.span(Some(root), "billing-worker", Kind::Client, "POST", u, u + d);
    b.attr(http, "http.request.method", "POST")
        .attr(
            http,
            "url.full",
            "https://api.payments.example/v1/payment_intents",
        )
        .attr(http, "server.address", "api.payments.example")
        .attr(http, "http.response.status_code", 200);
    u += d;
    let d = latency(b, 2_500.0);
    query(
        b,
        root,
        "postgresql",
        "billing-db.internal",
        "billing",
        format!(
            "INSERT INTO payments (order_id, customer_id, status, created_at) VALUES ({order}, {customer}, 'succeeded', now())"
        ),
        u,
        d,
    );
    u += d;
    let tail = latency(b, 200.0);
    b.set_end(root, u + tail);
}

/// email-worker consuming `email.requested`: renders and hands the mail to
/// a provider.
fn send_email(
    b: &mut TraceBuilder<'_>,
    producer: usize,
    topic: &'static str,
    customer: i64,
    at: i64,
) {
    let root = b.span(
        Some(producer),
        "email-worker",
        Kind::Consumer,
        format!("process {topic}"),
        at,
        at,
    );
    let message = format!("{:016x}", b.rng().next_u64());
    consumed(b, root, "kafka", topic, message);
    noise(b, root, "onEmailRequested");
    let mut u = at + latency(b, 200.0);
    let d = latency(b, 1_500.0);
    query(
        b,
        root,
        "postgresql",
        "email-db.internal",
        "email",
        format!(
            "SELECT subject, body_html FROM templates WHERE name = 'order_confirmation' AND locale = 'en' AND customer_segment = {}",
            customer % 7
        ),
        u,
        d,
    );
    u += d;
    let d = latency(b, 4_000.0);
    let render = b.span(
        Some(root),
        "email-worker",
        Kind::Internal,
        "render_template",
        u,
        u + d,
    );
    b.attr(render, "code.function", "renderTemplate")
        .attr(render, "code.filepath", "/app/src/templates/render.ts")
        .attr(render, "code.lineno", 88);
    u += d;
    let d = latency(b, 90_000.0);
    let http = b.span(Some(root), "email-worker", Kind::Client, "POST", u, u + d);
    b.attr(http, "http.request.method", "POST")
        .attr(http, "url.full", "https://api.mail.example/v3/mail/send")
        .attr(http, "server.address", "api.mail.example")
        .attr(http, "http.response.status_code", 202);
    u += d;
    let tail = latency(b, 150.0);
    b.set_end(root, u + tail);
}

/// users-api `GET /v1/me`: the user via the cache, then preferences.
fn me(b: &mut TraceBuilder<'_>, server: usize, t: i64) -> (i64, i64) {
    noise(b, server, "getMe");
    let user = b.rng().range(1, 500_000);
    let mut u = t + latency(b, 150.0);
    let d = latency(b, 300.0);
    query(
        b,
        server,
        "redis",
        "redis-cache.internal",
        "1",
        format!("HGETALL user:{user}"),
        u,
        d,
    );
    u += d;
    let d = latency(b, 1_800.0);
    query(
        b,
        server,
        "postgresql",
        "users-db.internal",
        "users",
        format!("SELECT key, value FROM user_preferences WHERE user_id = {user} ORDER BY key"),
        u,
        d,
    );
    u += d;
    (u + latency(b, 300.0), 200)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(seed: u64, n: usize) -> Vec<Trace> {
        let mut m = LoadModel::new(seed);
        (0..n).map(|_| m.next_trace()).collect()
    }

    fn depth(trace: &Trace, i: usize) -> usize {
        let mut d = 1;
        let mut at = &trace.spans[i];
        while let Some(parent) = at
            .parent
            .and_then(|p| trace.spans.iter().find(|s| s.id == p))
        {
            d += 1;
            at = parent;
        }
        d
    }

    #[test]
    fn about_ten_spans_and_depth_four_to_six() {
        let traces = sample(42, 2_000);
        let spans: usize = traces.iter().map(|t| t.spans.len()).sum();
        let mean = spans as f64 / traces.len() as f64;
        assert!((8.0..13.0).contains(&mean), "{mean}");
        for t in &traces {
            let max = (0..t.spans.len()).map(|i| depth(t, i)).max().unwrap();
            assert!((3..=6).contains(&max), "depth {max}");
        }
    }

    #[test]
    fn children_start_within_their_parents_window() {
        // Consumers may outlive their producer (asynchronous); nothing else
        // may leave its parent's window.
        for t in sample(7, 500) {
            for s in &t.spans {
                let Some(p) = s.parent.and_then(|p| t.spans.iter().find(|x| x.id == p)) else {
                    continue;
                };
                assert!(s.start >= p.start && s.end >= s.start, "{s:?}");
                if s.kind != Kind::Consumer {
                    assert!(s.end <= p.end, "{} ends after {}", s.name, p.name);
                }
                assert_eq!(s.start % US, 0);
                assert_eq!(s.end % US, 0);
            }
        }
    }

    #[test]
    fn seeds_are_deterministic_and_distinct() {
        let ids = |seed| sample(seed, 20).iter().map(|t| t.id).collect::<Vec<_>>();
        assert_eq!(ids(1), ids(1));
        assert_ne!(ids(1), ids(2));
    }

    #[test]
    fn streams_every_trace_in_each_format() {
        for format in Format::ALL {
            let mut out = Vec::new();
            write(250, format, 3, &mut out).unwrap();
            assert!(!out.is_empty(), "{}", format.name());
        }
        let mut lines = Vec::new();
        write(250, Format::OtlpJson, 3, &mut lines).unwrap();
        // 250 traces in batches of 100: three requests, one per line.
        assert_eq!(lines.iter().filter(|&&b| b == b'\n').count(), 3);
    }
}
