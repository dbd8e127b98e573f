//! A small builder for hand-made traces in unit tests.

use super::ids::{SpanId, TraceId};
use super::intern::Interner;
use super::quality::Quality;
use super::span::{Nanos, Span, SpanKind, Status};
use super::trace::Trace;

/// Builds one trace from `(name, parent name, start, end)` rows; span names
/// double as span ids, and the service defaults to `svc`.
#[derive(Default)]
pub struct TraceBuilder {
    /// Strings of the built spans.
    pub strings: Interner,
    spans: Vec<Span>,
    current_trace: u128,
}

impl TraceBuilder {
    /// An empty trace.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a span of service `svc`.
    pub fn span(self, name: &str, parent: Option<&str>, start: Nanos, end: Nanos) -> Self {
        self.span_in("svc", name, parent, start, end)
    }

    /// Adds a span of the given service.
    pub fn span_in(
        mut self,
        service: &str,
        name: &str,
        parent: Option<&str>,
        start: Nanos,
        end: Nanos,
    ) -> Self {
        let span = Span {
            trace_id: TraceId(self.current_trace.max(1)),
            span_id: SpanId::parse(name).expect("test span names are non-empty"),
            parent_id: parent.map(|p| SpanId::parse(p).expect("non-empty")),
            start,
            end,
            service: self.strings.intern(service),
            name: self.strings.intern(name),
            kind: SpanKind::Internal,
            status: Status::Unset,
            attrs: None,
            links: None,
            trace_label: None,
            origin: crate::model::Origin::UNKNOWN,
        };
        self.spans.push(span);
        self
    }

    /// Changes the kind of the last added span.
    pub fn kind(mut self, kind: SpanKind) -> Self {
        if let Some(s) = self.spans.last_mut() {
            s.kind = kind;
        }
        self
    }

    /// Changes the status of the last added span.
    pub fn status(mut self, status: Status) -> Self {
        if let Some(s) = self.spans.last_mut() {
            s.status = status;
        }
        self
    }

    /// Builds the trace, counting problems into `quality`.
    pub fn build(self, quality: &mut Quality) -> Trace {
        Trace::build(self.spans, &self.strings, quality)
    }

    /// Builds the trace and keeps the strings, for tests that resolve names.
    pub fn build_with_strings(self) -> (Trace, Interner) {
        let mut q = Quality::default();
        let strings = self.strings;
        (Trace::build(self.spans, &strings, &mut q), strings)
    }

    /// Puts the spans added from now on into trace `id` (default 1).
    pub fn trace(mut self, id: u128) -> Self {
        self.current_trace = id;
        self
    }

    /// Builds a whole trace set from every span added, grouped by trace.
    pub fn build_set(self) -> super::TraceSet {
        super::TraceSet::build(self.spans, self.strings, Quality::default())
    }

    /// Gives the last added span a database system and statement.
    pub fn db(mut self, system: &str, statement: &str) -> Self {
        let (system, statement) = (self.strings.intern(system), self.strings.intern(statement));
        if let Some(s) = self.spans.last_mut() {
            let attrs = s.attrs.get_or_insert_with(Default::default);
            attrs.db_system = Some(system);
            attrs.db_statement = Some(statement);
            s.kind = SpanKind::Client;
        }
        self
    }

    /// Gives the last added span an HTTP method and URL (a client call).
    pub fn http(mut self, method: &str, url: &str) -> Self {
        let (method, url) = (self.strings.intern(method), self.strings.intern(url));
        if let Some(s) = self.spans.last_mut() {
            let attrs = s.attrs.get_or_insert_with(Default::default);
            attrs.http_method = Some(method);
            attrs.url_full = Some(url);
            s.kind = SpanKind::Client;
        }
        self
    }
}
