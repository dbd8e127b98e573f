//! The fixture scenarios: small trace sets modelling incidents from the
//! write-ups critpath was built for, each with answers known in advance
//! (see `fixtures/README.md`). Every scenario draws from its own generator
//! seeded by its name, so changing one leaves the others' bytes alone.
//!
//! Times are whole milliseconds, so all six formats (OTLP nanoseconds,
//! Jaeger microseconds, Sentry float seconds) hold exactly the same spans.
//! The one exception is `cascade`'s sub-millisecond permission queries,
//! which are whole microseconds: still exact in every format.

use crate::calls::{Request, close_call, consumed, leaf_call, open_call, publish, query};
use crate::rng::Rng;
use crate::trace::{Kind, MS, Trace, TraceBuilder, US};

/// 2024-03-12T09:00:00Z: where every scenario's clock starts.
pub const BASE: i64 = 1_710_234_000 * 1_000_000_000;

/// One named scenario.
pub struct Scenario {
    /// File stem under `fixtures/<format>/`.
    pub name: &'static str,
    /// Its traces.
    pub traces: Vec<Trace>,
}

/// Builds a scenario's traces from its generator and start time.
type Build = fn(&mut Rng, i64) -> Vec<Trace>;

/// The scenarios written in all six formats.
pub fn all() -> Vec<Scenario> {
    let scenarios: [(&'static str, Build); 5] = [
        ("cascade", cascade),
        ("n_plus_one", n_plus_one),
        ("slow_queries", slow_queries),
        ("sequential", sequential),
        ("near_misses", near_misses),
    ];
    scenarios
        .iter()
        .enumerate()
        .map(|(i, &(name, build))| {
            let mut rng = Rng::named(name, 0);
            // A different hour per scenario, so mixing fixtures in one run
            // still separates them on a timeline.
            let start = BASE + i as i64 * 3_600_000 * MS;
            Scenario {
                name,
                traces: build(&mut rng, start),
            }
        })
        .collect()
}

fn ms(n: i64) -> i64 {
    n * MS
}

/// A random number of milliseconds in `lo..=hi`.
fn ms_in(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    ms(rng.range(lo, hi))
}

/// Incident 1, "the slow authorizer": notifications are slow because
/// intel-requests-api waits 7–19 s on aaa-api, which itself spends almost
/// all of that waiting for a connection from a saturated pool (no span
/// covers the wait) before running three sub-millisecond queries. The
/// culprit is aaa-api; the cascade is notification-sender → intel-requests-api
/// → aaa-api.
fn cascade(rng: &mut Rng, mut at: i64) -> Vec<Trace> {
    let mut traces = Vec::new();
    for _ in 0..20 {
        at += ms_in(rng, 20_000, 60_000);
        let aaa_ms = rng.range(7_000, 19_000);
        // intel-requests-api's own work around the call: 9–20 s in all.
        let intel_ms = (aaa_ms + rng.range(900, 2_000)).clamp(9_000, 20_000);
        let message = rng.next_u64();
        let user = rng.range(1_000, 99_999);
        let mut b = TraceBuilder::new(rng);

        let root = b.span(
            None,
            "notification-sender",
            Kind::Consumer,
            "process",
            at,
            at,
        );
        consumed(
            &mut b,
            root,
            "rabbitmq",
            "notifications",
            format!("{message:016x}"),
        );
        b.attr(root, "code.function", "handle_notification").attr(
            root,
            "code.namespace",
            "sender.consumers.notifications",
        );
        let mut t = at + ms_in(b.rng(), 1, 3);
        let template = b.rng().range(1, 40);
        let d = ms_in(b.rng(), 2, 6);
        query(
            &mut b,
            root,
            "postgresql",
            "notifications-db.internal",
            "notifications",
            format!(
                "SELECT id, channel, subject, body FROM notification_templates WHERE id = {template}"
            ),
            t,
            d,
        );
        t += d + ms(1);

        let create = open_call(
            &mut b,
            root,
            "intel-requests-api",
            &Request {
                method: "POST",
                host: "intel-requests-api.internal",
                target: "/v1/intel-requests",
                route: "/v1/intel-requests",
            },
            t,
            ms(2),
        );
        let server_start = t + ms(2);
        let mut u = server_start + ms(1);
        let d = ms_in(b.rng(), 4, 12);
        let reference = b.rng().next_u64() as u32;
        query(
            &mut b,
            create.server,
            "postgresql",
            "intel-db.internal",
            "intel",
            format!(
                "SELECT id, status FROM intel_requests WHERE external_ref = 'ntf-{reference:08x}'"
            ),
            u,
            d,
        );
        u += d + ms(1);
        let authorize = open_call(
            &mut b,
            create.server,
            "aaa-api",
            &Request {
                method: "GET",
                host: "aaa-api.internal",
                target: &format!("/v1/authorize?subject=user%3A{user}&action=intel.create"),
                route: "/v1/authorize",
            },
            u,
            ms(1),
        );
        // aaa-api: the pool wait is the span's own time; the queries come at
        // the very end and take under a millisecond each.
        let aaa_start = u + ms(1);
        let aaa_end = aaa_start + ms(aaa_ms);
        let roles = (b.rng().range(1, 9), b.rng().range(10, 19));
        let statements = [
            format!("SELECT role_id FROM user_roles WHERE user_id = {user}"),
            format!(
                "SELECT action FROM role_permissions WHERE role_id IN ({}, {})",
                roles.0, roles.1
            ),
            format!("SELECT 1 FROM subjects WHERE id = {user} AND disabled_at IS NULL"),
        ];
        let mut q = aaa_end - 3_200 * US;
        for statement in statements {
            let d = b.rng().range(200, 900) * US;
            query(
                &mut b,
                authorize.server,
                "postgresql",
                "aaa-db.internal",
                "aaa",
                statement,
                q,
                d,
            );
            q += d + 50 * US;
        }
        close_call(&mut b, authorize, aaa_end, ms(1), 200);
        u = aaa_end + ms(2);

        // The rest of intel-requests-api's request: validation, the insert,
        // the event; what is left is its own time.
        let server_end = server_start + ms(intel_ms);
        let validate = ms_in(b.rng(), 150, 400);
        let v = b.span(
            Some(create.server),
            "intel-requests-api",
            Kind::Internal,
            "validate_intel_request",
            u,
            u + validate,
        );
        b.attr(v, "code.function", "IntelRequestValidator.validate");
        u += validate + ms(1);
        let d = ms_in(b.rng(), 8, 30);
        query(
            &mut b,
            create.server,
            "postgresql",
            "intel-db.internal",
            "intel",
            format!(
                "INSERT INTO intel_requests (external_ref, subject_id, status) VALUES ('ntf-{reference:08x}', {user}, 'queued')"
            ),
            u,
            d,
        );
        u += d + ms(1);
        let d = ms_in(b.rng(), 2, 5);
        publish(
            &mut b,
            create.server,
            "kafka",
            "intel-requests.created",
            u,
            d,
        );
        close_call(&mut b, create, server_end, ms(2), 201);

        let mut t = server_end + ms(3);
        let d = ms_in(b.rng(), 3, 8);
        query(
            &mut b,
            root,
            "postgresql",
            "notifications-db.internal",
            "notifications",
            format!(
                "UPDATE notifications SET status = 'sent', sent_at = now() WHERE id = {}",
                message % 1_000_000
            ),
            t,
            d,
        );
        t += d + ms_in(b.rng(), 1, 3);
        b.set_end(root, t);
        traces.push(b.finish());
    }
    traces
}

/// Incident 2, "the category tree": `GET /categories/{id}/tree` runs one
/// recursive query per child category, 30 one after another, where one
/// query would do (an N+1). And a cache warmer that, when the cache has
/// expired, reads 200 products from Redis one `GET` at a time (an N+1 on a
/// cache: `n_plus_one_cache`).
fn n_plus_one(rng: &mut Rng, mut at: i64) -> Vec<Trace> {
    let mut traces = Vec::new();
    for i in 0..16 {
        at += ms_in(rng, 3_000, 20_000);
        // Every other trace is a run of the cache warmer (every minute);
        // one of its runs finds the cache expired.
        let trace = if i % 2 == 1 {
            cache_warmer(rng, at, i == 9)
        } else {
            category_tree(rng, at)
        };
        traces.push(trace);
    }
    traces
}

fn category_tree(rng: &mut Rng, at: i64) -> Trace {
    let category = rng.range(100, 999);
    let mut b = TraceBuilder::new(rng);
    let root = b.span(
        None,
        "catalog-api",
        Kind::Server,
        "GET /categories/{id}/tree",
        at,
        at,
    );
    b.attr(root, "http.request.method", "GET")
        .attr(root, "http.route", "/categories/{id}/tree")
        .attr(root, "url.path", format!("/categories/{category}/tree"))
        .attr(root, "server.address", "catalog-api.internal")
        .attr(root, "http.response.status_code", 200);
    let mut t = at + ms(1);
    let d = ms_in(b.rng(), 2, 5);
    query(
        &mut b,
        root,
        "postgresql",
        "catalog-db.internal",
        "catalog",
        format!("SELECT id, name, parent_id FROM categories WHERE id = {category}"),
        t,
        d,
    );
    t += d + ms(1);
    let mut child = category * 10;
    for _ in 0..30 {
        child += b.rng().range(1, 7);
        let d = ms(((b.rng().tail(0.4) * 7.0).round() as i64).max(2));
        query(
            &mut b,
            root,
            "postgresql",
            "catalog-db.internal",
            "catalog",
            format!(
                "WITH RECURSIVE tree AS (SELECT id, parent_id FROM categories WHERE parent_id = {child} \
                 UNION ALL SELECT c.id, c.parent_id FROM categories c JOIN tree t ON c.parent_id = t.id) \
                 SELECT id FROM tree"
            ),
            t,
            d,
        );
        t += d + ms(b.rng().range(0, 1));
    }
    let d = ms_in(b.rng(), 3, 9);
    b.span(
        Some(root),
        "catalog-api",
        Kind::Internal,
        "serialize_tree",
        t,
        t + d,
    );
    b.set_end(root, t + d + ms(1));
    b.finish()
}

fn cache_warmer(rng: &mut Rng, at: i64, expired: bool) -> Trace {
    let mut b = TraceBuilder::new(rng);
    let root = b.span(
        None,
        "cache-worker",
        Kind::Internal,
        "refresh_product_cache",
        at,
        at,
    );
    b.attr(root, "code.function", "refresh_product_cache")
        .attr(root, "code.namespace", "cache_worker.jobs")
        .attr(root, "thread.name", "apscheduler-worker-0");
    let mut t = at + ms(1);
    let redis = |b: &mut TraceBuilder<'_>, command: String, t: i64, d: i64| {
        query(b, root, "redis", "redis-cache.internal", "0", command, t, d)
    };
    redis(&mut b, "TTL product_cache:featured".to_string(), t, ms(1));
    t += ms(2);
    if !expired {
        let d = ms_in(b.rng(), 12, 30);
        query(
            &mut b,
            root,
            "postgresql",
            "catalog-db.internal",
            "catalog",
            "SELECT COUNT(*) FROM products WHERE featured = true AND updated_at > now() - interval '1 minute'",
            t,
            d,
        );
        b.set_end(root, t + d + ms(1));
        return b.finish();
    }
    let d = ms_in(b.rng(), 12, 30);
    query(
        &mut b,
        root,
        "postgresql",
        "catalog-db.internal",
        "catalog",
        "SELECT id FROM products WHERE featured = true ORDER BY rank LIMIT 200",
        t,
        d,
    );
    t += d + ms(1);
    let mut product = b.rng().range(10_000, 20_000);
    for _ in 0..200 {
        product += b.rng().range(1, 40);
        let d = ms(if b.rng().chance(0.1) { 2 } else { 1 });
        redis(&mut b, format!("GET product:{product}"), t, d);
        t += d;
    }
    redis(
        &mut b,
        "SET product_cache:featured 1 EX 300".to_string(),
        t,
        ms(1),
    );
    b.set_end(root, t + ms(2));
    b.finish()
}

/// Incident 3, "the monthly report": `build_report` spends ~83% of its time
/// in three `COUNT(DISTINCT ...)` queries averaging 13.7 s, 7.0 s and 1.9 s
/// (long-tailed per run; the averages over the scenario are exact), plus a
/// few quick queries and the rendering.
fn slow_queries(rng: &mut Rng, mut at: i64) -> Vec<Trace> {
    const RUNS: usize = 24;
    const MEANS_MS: [f64; 3] = [13_700.0, 7_000.0, 1_900.0];
    // Draw long-tailed factors, then scale them to average exactly 1, so
    // the scenario's averages are the stated ones, not a sample's.
    let mut factors = [[0.0; 3]; RUNS];
    for q in 0..3 {
        for run in factors.iter_mut() {
            run[q] = rng.tail(0.45);
        }
        let mean = factors.iter().map(|run| run[q]).sum::<f64>() / RUNS as f64;
        factors.iter_mut().for_each(|run| run[q] /= mean);
    }
    let mut traces = Vec::new();
    for run in factors {
        at += ms_in(rng, 60_000, 300_000);
        let tenant = rng.range(2, 80);
        let report = rng.range(300, 999);
        let month = rng.range(1, 2);
        let (from, to) = (
            format!("2024-{month:02}-01"),
            format!("2024-{:02}-01", month + 1),
        );
        let mut durations = [0i64; 3];
        for (q, d) in durations.iter_mut().enumerate() {
            *d = (MEANS_MS[q] * run[q]).round() as i64;
        }
        let slow_ms: i64 = durations.iter().sum();
        // The other ~17%: quick queries, rendering and the task's own time.
        let other_ms = (slow_ms as f64 * 0.17 / 0.83 * (0.85 + 0.3 * rng.unit())) as i64;

        let mut b = TraceBuilder::new(rng);
        let root = b.span(
            None,
            "reports-worker",
            Kind::Consumer,
            "build_report",
            at,
            at,
        );
        let message = b.rng().next_u64();
        consumed(
            &mut b,
            root,
            "rabbitmq",
            "reports",
            format!("{message:016x}"),
        );
        b.attr(root, "code.function", "build_report")
            .attr(root, "code.namespace", "reports.tasks")
            .attr(root, "thread.id", 140_233_801_729_856i64);
        let db = |b: &mut TraceBuilder<'_>, statement: String, t: i64, d: i64| {
            query(
                b,
                root,
                "postgresql",
                "analytics-db.internal",
                "analytics",
                statement,
                t,
                d,
            );
            t + d + ms(1)
        };
        let mut t = at + ms(2);
        let d = ms_in(b.rng(), 2, 4);
        t = db(
            &mut b,
            format!(
                "SELECT id, tenant_id, kind, params FROM report_definitions WHERE id = {report}"
            ),
            t,
            d,
        );
        let d = ms_in(b.rng(), 1, 3);
        t = db(
            &mut b,
            format!("SELECT name, timezone FROM tenants WHERE id = {tenant}"),
            t,
            d,
        );
        let slow = [
            format!(
                "SELECT COUNT(DISTINCT user_id) FROM events WHERE tenant_id = {tenant} AND created_at >= '{from}' AND created_at < '{to}'"
            ),
            format!(
                "SELECT COUNT(DISTINCT session_id) FROM page_views WHERE tenant_id = {tenant} AND viewed_at >= '{from}' AND viewed_at < '{to}'"
            ),
            format!(
                "SELECT COUNT(DISTINCT device_id) FROM events WHERE tenant_id = {tenant} AND event_type = 'purchase' AND created_at >= '{from}' AND created_at < '{to}'"
            ),
        ];
        let mut quick_ms = 0;
        for (statement, &d) in slow.into_iter().zip(&durations) {
            t = db(&mut b, statement, t, ms(d));
            let d = b.rng().range(40, 120);
            quick_ms += d;
            t = db(
                &mut b,
                format!(
                    "SELECT event_type, COUNT(*) FROM events WHERE tenant_id = {tenant} AND created_at >= '{from}' AND created_at < '{to}' GROUP BY event_type LIMIT 20"
                ),
                t,
                ms(d),
            );
        }
        let render_ms = (other_ms - quick_ms - 30).max(200);
        let r = b.span(
            Some(root),
            "reports-worker",
            Kind::Internal,
            "render_report",
            t,
            t + ms(render_ms),
        );
        b.attr(r, "code.function", "render_report");
        t += ms(render_ms + 1);
        let d = ms_in(b.rng(), 5, 15);
        t = db(
            &mut b,
            format!(
                "INSERT INTO report_results (report_id, tenant_id, period_start, created_at) VALUES ({report}, {tenant}, '{from}', now())"
            ),
            t,
            d,
        );
        let d = ms_in(b.rng(), 1, 3);
        publish(&mut b, root, "rabbitmq", "report-ready", t, d);
        b.set_end(root, t + d + ms(2));
        traces.push(b.finish());
    }
    traces
}

/// Incident 4, "the dispatch": `POST /v1/dispatches` calls geo-service
/// (reverse geocoding), intel-requests-api (bulk intel requests) and
/// assets-api (nearby assets) one after another, though none needs another's
/// answer. Each takes 150–300 ms, 0.5–0.7 s together; run concurrently the
/// three would take as long as the slowest.
fn sequential(rng: &mut Rng, mut at: i64) -> Vec<Trace> {
    let mut traces = Vec::new();
    for _ in 0..20 {
        at += ms_in(rng, 2_000, 15_000);
        // Three durations of 150–300 ms summing to 0.5–0.7 s.
        let calls = loop {
            let c = [
                rng.range(150, 300),
                rng.range(150, 300),
                rng.range(150, 300),
            ];
            if (500..=700).contains(&c.iter().sum::<i64>()) {
                break c;
            }
        };
        let incident = rng.range(5_000, 9_999);
        let (lat, lon) = (
            52.0 + rng.range(3_000, 6_000) as f64 / 10_000.0,
            13.0 + rng.range(2_000, 6_000) as f64 / 10_000.0,
        );
        let mut b = TraceBuilder::new(rng);
        let root = b.span(
            None,
            "dispatch-api",
            Kind::Server,
            "POST /v1/dispatches",
            at,
            at,
        );
        b.attr(root, "http.request.method", "POST")
            .attr(root, "http.route", "/v1/dispatches")
            .attr(root, "url.path", "/v1/dispatches")
            .attr(root, "server.address", "dispatch-api.internal")
            .attr(root, "http.response.status_code", 201);
        let mut t = at + ms(1);
        let d = ms_in(b.rng(), 2, 6);
        query(
            &mut b,
            root,
            "postgresql",
            "dispatch-db.internal",
            "dispatch",
            format!("SELECT id, status, lat, lon FROM incidents WHERE id = {incident}"),
            t,
            d,
        );
        t += d + ms(1);

        // Reverse geocoding: most of geo-service's time is its PostGIS query.
        let geo = open_call(
            &mut b,
            root,
            "geo-service",
            &Request {
                method: "GET",
                host: "geo-service.internal",
                target: &format!("/v1/reverse?lat={lat:.4}&lon={lon:.4}"),
                route: "/v1/reverse",
            },
            t,
            ms(1),
        );
        let end = t + ms(calls[0]) - ms(1);
        let q = (calls[0] - 4) * 8 / 10;
        query(
            &mut b,
            geo.server,
            "postgresql",
            "geo-db.internal",
            "geo",
            format!(
                "SELECT name, admin_level FROM places WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint({lon:.4}, {lat:.4}), 4326)) ORDER BY admin_level DESC LIMIT 5"
            ),
            t + ms(2),
            ms(q),
        );
        close_call(&mut b, geo, end, ms(1), 200);
        t += ms(calls[0] + b.rng().range(0, 2));

        let intel = open_call(
            &mut b,
            root,
            "intel-requests-api",
            &Request {
                method: "POST",
                host: "intel-requests-api.internal",
                target: "/v1/intel-requests/bulk",
                route: "/v1/intel-requests/bulk",
            },
            t,
            ms(1),
        );
        let end = t + ms(calls[1]) - ms(1);
        let q = (calls[1] - 4) * 7 / 10;
        query(
            &mut b,
            intel.server,
            "postgresql",
            "intel-db.internal",
            "intel",
            format!(
                "INSERT INTO intel_requests (incident_id, source, status) VALUES ({incident}, 'radar', 'queued'), ({incident}, 'registry', 'queued'), ({incident}, 'osint', 'queued')"
            ),
            t + ms(2),
            ms(q),
        );
        close_call(&mut b, intel, end, ms(1), 202);
        t += ms(calls[1] + b.rng().range(0, 2));

        let assets = open_call(
            &mut b,
            root,
            "assets-api",
            &Request {
                method: "GET",
                host: "assets-api.internal",
                target: &format!("/v1/assets?near={lat:.4},{lon:.4}&radius_km=25&status=available"),
                route: "/v1/assets",
            },
            t,
            ms(1),
        );
        let end = t + ms(calls[2]) - ms(1);
        let q = (calls[2] - 4) * 8 / 10;
        query(
            &mut b,
            assets.server,
            "postgresql",
            "assets-db.internal",
            "assets",
            format!(
                "SELECT id, kind, callsign, lat, lon FROM assets WHERE status = 'available' AND ST_DWithin(position, ST_MakePoint({lon:.4}, {lat:.4})::geography, 25000)"
            ),
            t + ms(2),
            ms(q),
        );
        close_call(&mut b, assets, end, ms(1), 200);
        t += ms(calls[2] + 1);

        let d = ms_in(b.rng(), 3, 8);
        query(
            &mut b,
            root,
            "postgresql",
            "dispatch-db.internal",
            "dispatch",
            format!(
                "INSERT INTO dispatches (incident_id, status, created_at) VALUES ({incident}, 'proposed', now())"
            ),
            t,
            d,
        );
        t += d + ms(1);
        let d = ms_in(b.rng(), 1, 3);
        publish(&mut b, root, "kafka", "dispatch.created", t, d);
        b.set_end(root, t + d + ms(1));
        traces.push(b.finish());
    }
    traces
}

/// Patterns that resemble findings but must not be reported as such:
/// 4 repeats of one query (N+1 needs 5); 10 identical queries at once (not
/// an N+1: nothing waits in line; this is `fan_out`'s case and the one
/// finding expected here); calls in a row that are each under 30 ms; and
/// queries in a row where each filters on the previous one's result.
fn near_misses(rng: &mut Rng, mut at: i64) -> Vec<Trace> {
    let mut traces = Vec::new();
    for i in 0..24 {
        at += ms_in(rng, 1_000, 8_000);
        let trace = match i % 4 {
            0 => four_repeats(rng, at),
            1 => concurrent_identical(rng, at),
            2 => short_calls(rng, at),
            _ => dependent_queries(rng, at),
        };
        traces.push(trace);
    }
    traces
}

/// A SERVER root span for the near-miss handlers.
fn handler(
    b: &mut TraceBuilder<'_>,
    service: &'static str,
    method: &'static str,
    route: &'static str,
    path: String,
    at: i64,
) -> usize {
    let root = b.span(
        None,
        service,
        Kind::Server,
        format!("{method} {route}"),
        at,
        at,
    );
    b.attr(root, "http.request.method", method)
        .attr(root, "http.route", route)
        .attr(root, "url.path", path)
        .attr(root, "server.address", format!("{service}.internal"))
        .attr(root, "http.response.status_code", 200);
    root
}

fn four_repeats(rng: &mut Rng, at: i64) -> Trace {
    let order = rng.range(100_000, 999_999);
    let mut b = TraceBuilder::new(rng);
    let root = handler(
        &mut b,
        "orders-api",
        "GET",
        "/orders/{id}",
        format!("/orders/{order}"),
        at,
    );
    let mut t = at + ms(1);
    let d = ms_in(b.rng(), 2, 4);
    query(
        &mut b,
        root,
        "postgresql",
        "orders-db.internal",
        "orders",
        format!("SELECT id, customer_id, status FROM orders WHERE id = {order}"),
        t,
        d,
    );
    t += d + ms(1);
    for line in 1..=4 {
        let d = ms_in(b.rng(), 12, 28);
        query(
            &mut b,
            root,
            "postgresql",
            "orders-db.internal",
            "orders",
            format!(
                "SELECT sku, qty, unit_price FROM order_items WHERE order_id = {order} AND line_no = {line}"
            ),
            t,
            d,
        );
        t += d + ms(1);
    }
    b.set_end(root, t + ms(2));
    b.finish()
}

fn concurrent_identical(rng: &mut Rng, at: i64) -> Trace {
    let mut b = TraceBuilder::new(rng);
    let root = handler(
        &mut b,
        "search-api",
        "GET",
        "/v1/search",
        "/v1/search".to_string(),
        at,
    );
    b.attr(root, "url.query", "q=red+bike&shards=all");
    // The same statement sent to ten shards at once from a pool.
    let start = at + ms(2);
    let mut end = start;
    for _ in 0..10 {
        let s = start + ms_in(b.rng(), 0, 3);
        let d = ms_in(b.rng(), 20, 60);
        query(
            &mut b,
            root,
            "postgresql",
            "search-db.internal",
            "listings",
            "SELECT id, title FROM listings WHERE to_tsvector('english', title) @@ plainto_tsquery('english', 'red bike') LIMIT 50",
            s,
            d,
        );
        end = end.max(s + d);
    }
    b.set_end(root, end + ms(3));
    b.finish()
}

fn short_calls(rng: &mut Rng, at: i64) -> Trace {
    let user = rng.range(1_000, 99_999);
    let mut b = TraceBuilder::new(rng);
    let root = handler(
        &mut b,
        "profile-api",
        "GET",
        "/v1/profile",
        "/v1/profile".to_string(),
        at,
    );
    let mut t = at + ms(1);
    let targets: [(&'static str, String, &str); 3] = [
        (
            "preferences-service",
            format!("/v1/preferences/{user}"),
            "/v1/preferences/{user_id}",
        ),
        (
            "avatars-service",
            format!("/v1/avatars/{user}?size=128"),
            "/v1/avatars/{user_id}",
        ),
        (
            "badges-service",
            format!("/v1/users/{user}/badges"),
            "/v1/users/{user_id}/badges",
        ),
    ];
    for (service, target, route) in &targets {
        let d = ms_in(b.rng(), 8, 25);
        leaf_call(
            &mut b,
            root,
            service,
            &Request {
                method: "GET",
                host: &format!("{service}.internal"),
                target,
                route,
            },
            t,
            d,
            ms(1),
        );
        t += d + ms(1);
    }
    b.set_end(root, t + ms(1));
    b.finish()
}

fn dependent_queries(rng: &mut Rng, at: i64) -> Trace {
    let customer = rng.range(1_000, 9_999);
    let invoice = rng.range(10_000, 99_999);
    let mut b = TraceBuilder::new(rng);
    let root = handler(
        &mut b,
        "billing-api",
        "POST",
        "/v1/invoices/{id}/pay",
        format!("/v1/invoices/{invoice}/pay"),
        at,
    );
    let mut t = at + ms(1);
    // Each query filters on what the previous one returned.
    let statements = [
        (
            format!("SELECT customer_id, total, status FROM invoices WHERE id = {invoice}"),
            (40, 90),
        ),
        (
            format!("SELECT id, default_method_id FROM customers WHERE id = {customer}"),
            (50, 120),
        ),
        (
            format!(
                "SELECT token, expires_at FROM payment_methods WHERE customer_id = {customer} AND is_default"
            ),
            (40, 80),
        ),
    ];
    for (statement, (lo, hi)) in statements {
        let d = ms_in(b.rng(), lo, hi);
        query(
            &mut b,
            root,
            "postgresql",
            "billing-db.internal",
            "billing",
            statement,
            t,
            d,
        );
        t += d + ms(1);
    }
    let d = ms_in(b.rng(), 4, 9);
    query(
        &mut b,
        root,
        "postgresql",
        "billing-db.internal",
        "billing",
        format!("UPDATE invoices SET status = 'paid', paid_at = now() WHERE id = {invoice}"),
        t,
        d,
    );
    b.set_end(root, t + d + ms(2));
    b.finish()
}

/// Incident 6, "the cleanup job": one task deleting alerts service by
/// service, 17,000 `DELETE`s of about a millisecond each, one after another:
/// 17 s spent where one `DELETE ... WHERE service_id IN (...)` would do.
pub fn fanout_17k() -> Trace {
    let mut rng = Rng::named("fanout_17k", 0);
    let at = BASE + 5 * 3_600_000 * MS;
    let mut b = TraceBuilder::new(&mut rng);
    let root = b.span(
        None,
        "alerts-worker",
        Kind::Internal,
        "cleanup_services",
        at,
        at,
    );
    b.attr(root, "code.function", "cleanup_services").attr(
        root,
        "code.namespace",
        "alerts.maintenance",
    );
    let mut t = at + ms(3);
    let mut service = 100_000;
    for _ in 0..17_000 {
        service += b.rng().range(1, 3);
        let d = ms(if b.rng().chance(0.08) { 2 } else { 1 });
        query(
            &mut b,
            root,
            "postgresql",
            "alerts-db.internal",
            "alerts",
            format!("DELETE FROM alerts WHERE service_id = {service}"),
            t,
            d,
        );
        t += d + ms(if b.rng().chance(0.05) { 1 } else { 0 });
    }
    b.set_end(root, t + ms(2));
    b.finish()
}
