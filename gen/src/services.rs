//! What the generator knows about each service: the language its SDK is
//! written in, its version and which generation of the database semantic
//! conventions its instrumentation emits. Writers use it for resource
//! attributes, instrumentation scopes and Sentry SDK names, so a scenario
//! only names a service.

use crate::rng::{fnv1a, mix};
use crate::trace::{Attr, Kind, Span, Value};

/// The SDK language of a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// Python (FastAPI, Celery, psycopg).
    Python,
    /// Java (Spring, JDBC, Lettuce).
    Java,
    /// Go (net/http, pgx).
    Go,
    /// Node.js (express, pg, ioredis).
    Node,
}

impl Lang {
    /// `telemetry.sdk.language`.
    pub fn otel_name(self) -> &'static str {
        match self {
            Lang::Python => "python",
            Lang::Java => "java",
            Lang::Go => "go",
            Lang::Node => "nodejs",
        }
    }

    /// The OpenTelemetry SDK version such a service would report.
    pub fn otel_sdk_version(self) -> &'static str {
        match self {
            Lang::Python => "1.24.0",
            Lang::Java => "1.38.0",
            Lang::Go => "1.27.0",
            Lang::Node => "1.24.1",
        }
    }

    /// Sentry's `platform`.
    pub fn sentry_platform(self) -> &'static str {
        match self {
            Lang::Python => "python",
            Lang::Java => "java",
            Lang::Go => "go",
            Lang::Node => "node",
        }
    }

    /// Sentry's SDK name and version.
    pub fn sentry_sdk(self) -> (&'static str, &'static str) {
        match self {
            Lang::Python => ("sentry.python.fastapi", "1.45.0"),
            Lang::Java => ("sentry.java.spring-boot.jakarta", "7.8.0"),
            Lang::Go => ("sentry.go", "0.27.0"),
            Lang::Node => ("sentry.javascript.node", "7.109.0"),
        }
    }
}

/// One service's fixed facts.
#[derive(Clone, Debug)]
pub struct ServiceInfo {
    /// SDK language.
    pub lang: Lang,
    /// `service.version`.
    pub version: &'static str,
    /// Whether its database instrumentation writes the current conventions
    /// (`db.system.name`, `db.query.text`, `db.namespace`) rather than the
    /// older `db.system`, `db.statement`, `db.name`. Real fleets mix both.
    pub new_db_conventions: bool,
    /// A Kubernetes-style pod name, stable per service.
    pub host: String,
}

/// The facts of `service`; unknown services get defaults derived from the
/// name, so the load generator and scenarios can add services freely.
pub fn info(service: &str) -> ServiceInfo {
    let (lang, version, new_db) = match service {
        "notification-sender" => (Lang::Python, "2.14.1", false),
        "intel-requests-api" => (Lang::Java, "5.3.0", false),
        "aaa-api" => (Lang::Java, "3.9.2", false),
        "catalog-api" => (Lang::Python, "1.22.0", true),
        "cache-worker" => (Lang::Python, "1.22.0", true),
        "reports-worker" => (Lang::Python, "0.41.3", false),
        "dispatch-api" => (Lang::Go, "4.2.0", true),
        "geo-service" => (Lang::Go, "1.8.5", true),
        "assets-api" => (Lang::Node, "2.0.7", false),
        "gateway" => (Lang::Go, "1.31.0", true),
        "orders-api" => (Lang::Java, "6.12.4", false),
        "users-api" => (Lang::Node, "3.4.0", true),
        "auth-service" => (Lang::Go, "2.7.1", true),
        "billing-worker" => (Lang::Python, "8.0.2", false),
        "email-worker" => (Lang::Node, "1.3.9", true),
        "order-api" => (Lang::Node, "4.8.0", true),
        _ => {
            let h = fnv1a(service.as_bytes());
            let lang = [Lang::Python, Lang::Java, Lang::Go, Lang::Node][(h % 4) as usize];
            (lang, "1.0.0", h & 16 != 0)
        }
    };
    ServiceInfo {
        lang,
        version,
        new_db_conventions: new_db,
        host: pod_name(service),
    }
}

/// `<service>-<replicaset hash>-<pod suffix>`, as Kubernetes names pods.
fn pod_name(service: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut h = mix(fnv1a(service.as_bytes()));
    let mut take = |n: usize| -> String {
        (0..n)
            .map(|_| {
                let c = ALPHABET[(h % ALPHABET.len() as u64) as usize] as char;
                h = mix(h);
                c
            })
            .collect()
    };
    let replicaset = take(10);
    let pod = take(5);
    format!("{service}-{replicaset}-{pod}")
}

/// The resource attributes an OpenTelemetry SDK in `service` reports (OTLP
/// `resource.attributes`; Jaeger process tags are the same minus
/// `service.name`).
pub fn resource_attributes(service: &'static str) -> Vec<Attr> {
    let i = info(service);
    let attr = |key, value: &str| Attr {
        key,
        value: Value::Str(value.to_string()),
    };
    vec![
        attr("service.name", service),
        attr("service.version", i.version),
        attr("deployment.environment", "production"),
        attr("host.name", &i.host),
        attr("telemetry.sdk.name", "opentelemetry"),
        attr("telemetry.sdk.language", i.lang.otel_name()),
        attr("telemetry.sdk.version", i.lang.otel_sdk_version()),
    ]
}

/// The instrumentation scope (library name and version) that would have
/// produced `span` in `service`: an auto-instrumentation for HTTP, SQL,
/// Redis and messaging spans, the service's own tracer otherwise.
pub fn scope(span: &Span) -> (&'static str, &'static str) {
    #[derive(Clone, Copy)]
    enum Library {
        HttpServer,
        HttpClient,
        Sql,
        KeyValue,
        Messaging,
    }
    let library = match (span.db_system(), span.kind) {
        (Some("redis" | "memcached"), _) => Library::KeyValue,
        (Some(_), _) => Library::Sql,
        (None, Kind::Server) => Library::HttpServer,
        (None, Kind::Producer | Kind::Consumer) => Library::Messaging,
        (None, Kind::Client) if span.str_attr(&["http.request.method"]).is_some() => {
            Library::HttpClient
        }
        _ => return (span.service, info(span.service).version),
    };
    use Library::*;
    match (info(span.service).lang, library) {
        (Lang::Python, HttpServer) => ("opentelemetry.instrumentation.fastapi", "0.45b0"),
        (Lang::Python, HttpClient) => ("opentelemetry.instrumentation.httpx", "0.45b0"),
        (Lang::Python, Sql) => ("opentelemetry.instrumentation.psycopg2", "0.45b0"),
        (Lang::Python, KeyValue) => ("opentelemetry.instrumentation.redis", "0.45b0"),
        (Lang::Python, Messaging) => ("opentelemetry.instrumentation.pika", "0.45b0"),
        (Lang::Java, HttpServer) => ("io.opentelemetry.spring-webmvc-6.0", "2.4.0-alpha"),
        (Lang::Java, HttpClient) => ("io.opentelemetry.java-http-client", "2.4.0-alpha"),
        (Lang::Java, Sql) => ("io.opentelemetry.jdbc", "2.4.0-alpha"),
        (Lang::Java, KeyValue) => ("io.opentelemetry.lettuce-5.1", "2.4.0-alpha"),
        (Lang::Java, Messaging) => ("io.opentelemetry.kafka-clients-0.11", "2.4.0-alpha"),
        (Lang::Go, HttpServer | HttpClient) => (
            "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp",
            "0.52.0",
        ),
        (Lang::Go, Sql) => ("github.com/exaring/otelpgx", "0.5.4"),
        (Lang::Go, KeyValue) => ("github.com/redis/go-redis/extra/redisotel", "9.5.1"),
        (Lang::Go, Messaging) => (
            "go.opentelemetry.io/contrib/instrumentation/github.com/IBM/sarama/otelsarama",
            "0.43.0",
        ),
        (Lang::Node, HttpServer | HttpClient) => ("@opentelemetry/instrumentation-http", "0.51.0"),
        (Lang::Node, Sql) => ("@opentelemetry/instrumentation-pg", "0.41.0"),
        (Lang::Node, KeyValue) => ("@opentelemetry/instrumentation-ioredis", "0.40.0"),
        (Lang::Node, Messaging) => ("@opentelemetry/instrumentation-amqplib", "0.37.0"),
    }
}
