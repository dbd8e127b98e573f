//! A small builder for hand-made traces in unit tests.

use super::attrs::{AttrKey, AttrsBuilder};
use super::ids::{SpanId, TraceId};
use super::intern::Interner;
use super::quality::Quality;
use super::span::{Nanos, Span, SpanKind, Status, TracedSpan};
use super::trace::Trace;

/// Builds one trace from `(name, parent name, start, end)` rows; span names
/// double as span ids, and the service defaults to `svc`.
#[derive(Default)]
pub struct TraceBuilder {
    /// Strings of the built spans.
    pub strings: Interner,
    spans: Vec<TracedSpan>,
    current_trace: u128,
}

/// `span`, read as a span of trace `trace`.
pub fn traced(trace: u128, span: Span) -> TracedSpan {
    TracedSpan {
        trace_id: TraceId(trace),
        span,
    }
}

/// Span `id` under `parent`, of `service`, named `op`, from 0 to 1 ns, with
/// no attributes, links or origin. Tests set the fields they care about
/// with struct update syntax, so that a field added to [`Span`] is added
/// here once.
pub fn plain_span(strings: &Interner, id: u64, parent: Option<u64>, service: &str) -> Span {
    Span {
        parent_id: parent.map(SpanId),
        end: 1,
        kind: SpanKind::Internal,
        ..Span::new(SpanId(id), strings.intern(service), strings.intern("op"))
    }
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
        let id = |text: &str| SpanId::parse(text).expect("test span names are non-empty");
        let span = Span {
            name: self.strings.intern(name),
            start,
            end,
            ..plain_span(&self.strings, id(name).0, parent.map(|p| id(p).0), service)
        };
        self.spans.push(traced(self.current_trace.max(1), span));
        self
    }

    /// Changes the kind of the last added span.
    pub fn kind(mut self, kind: SpanKind) -> Self {
        if let Some(s) = self.spans.last_mut() {
            s.span.kind = kind;
        }
        self
    }

    /// Changes the status of the last added span.
    pub fn status(mut self, status: Status) -> Self {
        if let Some(s) = self.spans.last_mut() {
            s.span.status = status;
        }
        self
    }

    /// Builds the trace, counting problems into `quality`.
    pub fn build(self, quality: &mut Quality) -> Trace {
        let (id, spans) = self.one_trace();
        Trace::build(id, spans, &self.strings, quality)
    }

    /// Builds the trace and keeps the strings, for tests that resolve names.
    pub fn build_with_strings(self) -> (Trace, Interner) {
        let mut q = Quality::default();
        let (id, spans) = self.one_trace();
        (Trace::build(id, spans, &self.strings, &mut q), self.strings)
    }

    /// The id and spans of the one trace added (trace 1 if none was).
    fn one_trace(&self) -> (TraceId, Vec<Span>) {
        let id = self.spans.first().map_or(TraceId(1), |s| s.trace_id);
        assert!(
            self.spans.iter().all(|s| s.trace_id == id),
            "spans of several traces: build_set"
        );
        (id, self.spans.iter().map(|s| s.span.clone()).collect())
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
    pub fn db(self, system: &str, statement: &str) -> Self {
        self.client_attrs(&[
            (AttrKey::DbSystem, system),
            (AttrKey::DbStatement, statement),
        ])
    }

    /// Gives the last added span an HTTP method and URL (a client call).
    pub fn http(self, method: &str, url: &str) -> Self {
        self.client_attrs(&[(AttrKey::HttpMethod, method), (AttrKey::UrlFull, url)])
    }

    /// Makes the last added span a client whose attributes are these (and
    /// no others), built as a reader builds them.
    fn client_attrs(mut self, attrs: &[(AttrKey, &str)]) -> Self {
        let mut builder = AttrsBuilder::default();
        for &(key, text) in attrs {
            builder.set(&self.strings, key, true, text);
        }
        let attrs = builder.finish(&self.strings);
        if let Some(s) = self.spans.last_mut() {
            s.span.attrs = attrs;
            s.span.kind = SpanKind::Client;
        }
        self
    }
}
