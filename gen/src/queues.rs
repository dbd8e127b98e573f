//! The queue scenario (`fixtures/queues/`): an order API publishes one
//! message per order to a RabbitMQ queue, a notification sender consumes
//! them one at a time, and for three minutes in the middle the consumer's
//! dependency (aaa-api) gets slow, so the queue backs up and the wait
//! between publish and process grows from ~50 ms to several seconds, then
//! drains. A few messages are delivered twice: the first delivery fails
//! (aaa-api answers 503), the message is requeued and the second succeeds.
//!
//! Two shapes of the same spans (same ids, services, kinds, times,
//! attributes):
//! - [`Queues::linked`]: each delivery is its own trace, whose CONSUMER root
//!   links to the PRODUCER span (OTLP links, Jaeger `FOLLOWS_FROM`, Sentry
//!   `links`), as OpenTelemetry's messaging conventions have it for
//!   consumers that start a new trace;
//! - [`Queues::nested`]: each CONSUMER span is a child of the PRODUCER span
//!   in the producer's trace (the propagated context made the parent), for
//!   the formats that cannot link across traces (Zipkin, X-Ray).

use crate::calls::{Request, close_call, open_call, query};
use crate::rng::Rng;
use crate::scenarios::BASE;
use crate::trace::{Kind, MS, Trace, TraceBuilder};
use crate::writers::Format;

/// File stem under `fixtures/queues/`.
pub const NAME: &str = "orders";

/// 2024-03-12T16:00:00Z: the hour after the integrity fixtures'.
pub const START: i64 = BASE + 7 * 3_600_000 * MS;

/// How long orders arrive: ten minutes.
pub const TRAFFIC: i64 = 600_000 * MS;

/// When aaa-api is slow: from 3:30 to 6:30 into the traffic.
pub const SLOW: (i64, i64) = (START + 210_000 * MS, START + 390_000 * MS);

/// The orders whose first delivery fails and is redelivered (by index).
pub const REDELIVERED: [usize; 4] = [7, 19, 24, 35];

/// The queue.
pub const QUEUE: &str = "notifications";
/// The broker.
pub const SYSTEM: &str = "rabbitmq";

/// One published message and its deliveries, for the tests.
#[derive(Clone, Debug)]
pub struct Order {
    /// The producer's trace.
    pub trace: u128,
    /// The PRODUCER span.
    pub producer: u64,
    /// When the PRODUCER span ends (the message is in the queue).
    pub published: i64,
    /// Each delivery: its trace (in the linked shape), its CONSUMER span,
    /// its start, and whether it failed.
    pub deliveries: Vec<Delivery>,
}

/// One delivery of a message.
#[derive(Clone, Copy, Debug)]
pub struct Delivery {
    /// The delivery's own trace (linked shape).
    pub trace: u128,
    /// The CONSUMER span.
    pub consumer: u64,
    /// When it starts.
    pub start: i64,
    /// Whether it failed (and the message was requeued).
    pub failed: bool,
}

/// The scenario in both shapes.
pub struct Queues {
    /// Producers and deliveries in their own traces, in order of start.
    pub linked: Vec<Trace>,
    /// Deliveries under their producer spans, one trace per order.
    pub nested: Vec<Trace>,
    /// What happened, order by order.
    pub orders: Vec<Order>,
}

impl Queues {
    /// The shape `format` can hold.
    pub fn traces(&self, format: Format) -> &[Trace] {
        if format.carries_links() {
            &self.linked
        } else {
            &self.nested
        }
    }
}

fn ms(n: i64) -> i64 {
    n * MS
}

fn ms_in(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    ms(rng.range(lo, hi))
}

/// Builds the scenario.
pub fn queues() -> Queues {
    let mut rng = Rng::named("queues", 0);
    let mut at = START;
    // The one consumer (prefetch 1) is busy until then.
    let mut consumer_free = START;
    let (mut producers, mut deliveries, mut orders) = (Vec::new(), Vec::new(), Vec::new());
    let mut n = 0;
    loop {
        at += ms_in(&mut rng, 12_000, 16_000);
        if at >= START + TRAFFIC {
            break;
        }
        let (producer_trace, producer, published) = order(&mut rng, at, n);
        let message = producer_trace.spans[producer].id;
        let mut order = Order {
            trace: producer_trace.id,
            producer: message,
            published,
            deliveries: Vec::new(),
        };
        // The broker hands the message over 30-70 ms after it is published,
        // or when the consumer is free again.
        let mut start = (published + ms_in(&mut rng, 30, 70)).max(consumer_free);
        let mut failures = usize::from(REDELIVERED.contains(&n));
        loop {
            let failed = failures > 0;
            let (trace, end) = deliver(&mut rng, start, &producer_trace, producer, n, failed);
            order.deliveries.push(Delivery {
                trace: trace.id,
                consumer: trace.spans[0].id,
                start,
                failed,
            });
            deliveries.push(trace);
            consumer_free = end + ms_in(&mut rng, 1, 4);
            if !failed {
                break;
            }
            // Nacked with requeue: RabbitMQ puts it back at the head of the
            // queue and redelivers it at once.
            failures -= 1;
            start = consumer_free + ms_in(&mut rng, 5, 20);
        }
        producers.push(producer_trace);
        orders.push(order);
        n += 1;
    }

    let nested = producers
        .iter()
        .zip(&orders)
        .map(|(trace, order)| {
            let mut trace = trace.clone();
            for delivery in &order.deliveries {
                let consumed = deliveries
                    .iter()
                    .find(|d: &&Trace| d.id == delivery.trace)
                    .expect("delivered");
                for span in &consumed.spans {
                    let mut span = span.clone();
                    if span.parent.is_none() {
                        span.parent = Some(order.producer);
                    }
                    span.links.clear();
                    trace.spans.push(span);
                }
            }
            trace
        })
        .collect();
    let mut linked: Vec<Trace> = producers.into_iter().chain(deliveries).collect();
    linked.sort_by_key(|t| (t.spans[0].start, t.id));
    Queues {
        linked,
        nested,
        orders,
    }
}

/// `POST /orders` at order-api: insert the order, publish a message.
/// Returns the trace, the PRODUCER span's index and its end.
fn order(rng: &mut Rng, at: i64, n: usize) -> (Trace, usize, i64) {
    let customer = rng.range(1_000, 99_999);
    let cents = rng.range(900, 25_000);
    let mut b = TraceBuilder::new(rng);
    let root = b.span(None, "order-api", Kind::Server, "POST /orders", at, at);
    b.attr(root, "http.request.method", "POST")
        .attr(root, "http.route", "/orders")
        .attr(root, "url.path", "/orders")
        .attr(root, "server.address", "order-api.internal");
    let mut t = at + ms_in(b.rng(), 1, 3);
    let d = ms_in(b.rng(), 3, 9);
    query(
        &mut b,
        root,
        "postgresql",
        "orders-db.internal",
        "orders",
        format!(
            "INSERT INTO orders (customer_id, total_cents, status) VALUES ({customer}, {cents}, 'placed') RETURNING id"
        ),
        t,
        d,
    );
    t += d + ms(1);
    let d = ms_in(b.rng(), 2, 5);
    let p = b.span(
        Some(root),
        "order-api",
        Kind::Producer,
        format!("{QUEUE} publish"),
        t,
        t + d,
    );
    messaging(&mut b, p, "publish", n);
    let end = t + d + ms_in(b.rng(), 1, 3);
    b.set_end(root, end);
    b.attr(root, "http.response.status_code", 201);
    (b.finish(), p, t + d)
}

/// The messaging attributes: current and older operation keys both, as
/// instrumentations in transition write them.
fn messaging(b: &mut TraceBuilder<'_>, span: usize, operation: &'static str, n: usize) {
    b.attr(span, "messaging.system", SYSTEM)
        .attr(span, "messaging.destination.name", QUEUE)
        .attr(span, "messaging.operation.type", operation)
        .attr(span, "messaging.operation", operation)
        .attr(span, "messaging.message.id", format!("order-{:05}", n + 1));
}

/// How long aaa-api takes at `t`: 60-200 ms, but 13-16 s while slow.
fn aaa_latency(rng: &mut Rng, t: i64) -> i64 {
    if (SLOW.0..SLOW.1).contains(&t) {
        ms_in(rng, 13_000, 16_000)
    } else {
        ms_in(rng, 60, 200)
    }
}

/// One delivery of the message published by `producer_trace`'s span
/// `producer` (order `n`), in its own trace linked to it. Returns the trace
/// and its end.
fn deliver(
    rng: &mut Rng,
    start: i64,
    producer_trace: &Trace,
    producer: usize,
    n: usize,
    failed: bool,
) -> (Trace, i64) {
    let mut b = TraceBuilder::new(rng);
    let c = b.span(
        None,
        "notification-sender",
        Kind::Consumer,
        format!("{QUEUE} process"),
        start,
        start,
    );
    messaging(&mut b, c, "process", n);
    b.link(c, producer_trace.id, producer_trace.spans[producer].id);
    let t = start + ms_in(b.rng(), 1, 3);
    let call = open_call(
        &mut b,
        c,
        "aaa-api",
        &Request {
            method: "POST",
            host: "aaa-api.internal",
            target: "/v1/authorize",
            route: "/v1/authorize",
        },
        t,
        ms(1),
    );
    b.attr(call.client, "peer.service", "aaa-api");
    // A failing delivery is turned away at once: aaa-api sheds the request
    // with a 503.
    let latency = if failed {
        ms_in(b.rng(), 20, 80)
    } else {
        aaa_latency(b.rng(), t)
    };
    let server_end = t + ms(1) + latency;
    close_call(
        &mut b,
        call,
        server_end,
        ms(1),
        if failed { 503 } else { 200 },
    );
    // Then the notification is rendered and handed to the mail relay.
    let end = server_end + ms(1) + ms_in(b.rng(), 5, 25);
    b.set_end(c, end);
    if failed {
        b.fail(c);
    }
    (b.finish(), end)
}
