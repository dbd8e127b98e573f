//! The generator's own trace model: what a scenario describes and what every
//! format writer reads. Deliberately format-neutral (no OTLP scopes, Jaeger
//! processes or Sentry transactions): those are derived by the writers, so a
//! scenario is written once and comes out identical in all six formats.

use crate::rng::Rng;

/// Nanoseconds per millisecond: fixture scenarios think in milliseconds.
pub const MS: i64 = 1_000_000;
/// Nanoseconds per microsecond.
pub const US: i64 = 1_000;

/// The OTLP span kinds (the numbers are OTLP's enum values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// In-process work.
    Internal = 1,
    /// Receiving side of a request.
    Server = 2,
    /// Calling side of a request (HTTP, database, cache).
    Client = 3,
    /// Sender of a message.
    Producer = 4,
    /// Receiver of a message.
    Consumer = 5,
}

impl Kind {
    /// The name Jaeger's `span.kind` tag uses.
    pub fn jaeger_name(self) -> &'static str {
        match self {
            Kind::Internal => "internal",
            Kind::Server => "server",
            Kind::Client => "client",
            Kind::Producer => "producer",
            Kind::Consumer => "consumer",
        }
    }
}

/// An attribute value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A string.
    Str(String),
    /// A 64-bit integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A float.
    Float(f64),
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Int(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Value {
        Value::Float(x)
    }
}

/// One key/value attribute.
#[derive(Clone, Debug, PartialEq)]
pub struct Attr {
    /// The semantic-convention key.
    pub key: &'static str,
    /// Its value.
    pub value: Value,
}

/// A link to a span of another trace (OTLP `Span.Link`): how a message's
/// consumer, in its own trace, points at the producer that sent it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    /// The linked span's trace.
    pub trace: u128,
    /// The linked span.
    pub span: u64,
}

/// One span.
#[derive(Clone, Debug)]
pub struct Span {
    /// Span id; 0 means "absent" (OTLP's invalid id), used only by the
    /// integrity fixtures.
    pub id: u64,
    /// Parent span id, if any (it need not exist: integrity fixtures).
    pub parent: Option<u64>,
    /// The service that emitted it.
    pub service: &'static str,
    /// Operation name as an OpenTelemetry instrumentation would set it.
    pub name: String,
    /// Span kind.
    pub kind: Kind,
    /// Start, nanoseconds since the epoch.
    pub start: i64,
    /// End, nanoseconds since the epoch.
    pub end: i64,
    /// Whether it failed.
    pub error: bool,
    /// Attributes in the order an instrumentation sets them.
    pub attrs: Vec<Attr>,
    /// Links to spans of other traces (only formats that carry links write
    /// them; see `writers::Format::carries_links`).
    pub links: Vec<Link>,
}

impl Span {
    /// The first string attribute among `keys`.
    pub fn str_attr(&self, keys: &[&str]) -> Option<&str> {
        keys.iter().find_map(|k| {
            self.attrs.iter().find_map(|a| match &a.value {
                Value::Str(s) if a.key == *k => Some(s.as_str()),
                _ => None,
            })
        })
    }

    /// The database system, if this is a database or cache call.
    pub fn db_system(&self) -> Option<&str> {
        self.str_attr(&["db.system.name", "db.system"])
    }

    /// The statement, if this is a database or cache call.
    pub fn db_statement(&self) -> Option<&str> {
        self.str_attr(&["db.query.text", "db.statement"])
    }
}

/// One trace: its id and spans, parents before children.
#[derive(Clone, Debug)]
pub struct Trace {
    /// 128-bit trace id.
    pub id: u128,
    /// The spans.
    pub spans: Vec<Span>,
}

/// Builds one trace, drawing ids from the scenario's generator. Spans are
/// addressed by index while building; `end` may be fixed up later, which
/// lets a handler lay out its children first and then close around them.
pub struct TraceBuilder<'r> {
    rng: &'r mut Rng,
    trace: Trace,
}

impl<'r> TraceBuilder<'r> {
    /// A new, empty trace with a fresh id.
    pub fn new(rng: &'r mut Rng) -> Self {
        let id = rng.trace_id();
        TraceBuilder {
            rng,
            trace: Trace {
                id,
                spans: Vec::new(),
            },
        }
    }

    /// The scenario's generator, for the caller's own draws.
    pub fn rng(&mut self) -> &mut Rng {
        self.rng
    }

    /// Adds a span and returns its index.
    pub fn span(
        &mut self,
        parent: Option<usize>,
        service: &'static str,
        kind: Kind,
        name: impl Into<String>,
        start: i64,
        end: i64,
    ) -> usize {
        let parent = parent.map(|p| self.trace.spans[p].id);
        let id = self.rng.span_id();
        self.trace.spans.push(Span {
            id,
            parent,
            service,
            name: name.into(),
            kind,
            start,
            end,
            error: false,
            attrs: Vec::new(),
            links: Vec::new(),
        });
        self.trace.spans.len() - 1
    }

    /// Adds an attribute to span `i`.
    pub fn attr(&mut self, i: usize, key: &'static str, value: impl Into<Value>) -> &mut Self {
        self.trace.spans[i].attrs.push(Attr {
            key,
            value: value.into(),
        });
        self
    }

    /// Sets span `i`'s end.
    pub fn set_end(&mut self, i: usize, end: i64) {
        self.trace.spans[i].end = end;
    }

    /// Links span `i` to span `span` of trace `trace`.
    pub fn link(&mut self, i: usize, trace: u128, span: u64) {
        self.trace.spans[i].links.push(Link { trace, span });
    }

    /// Marks span `i` as failed.
    pub fn fail(&mut self, i: usize) {
        self.trace.spans[i].error = true;
    }

    /// Span `i` as built so far.
    pub fn get(&self, i: usize) -> &Span {
        &self.trace.spans[i]
    }

    /// The finished trace.
    pub fn finish(self) -> Trace {
        self.trace
    }
}
