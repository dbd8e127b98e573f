//! Services named after the spans that use them: a Jaeger trace names each
//! span's service by a process id, in a `processes` table that comes after
//! its `spans`. A trace too large for one window of the input is read a
//! window at a time, so its spans are read before that table; each is
//! marked [`ServiceFrom::Process`], holding its process's key as its
//! service, and the table's services are recorded here by key when it is
//! read. Spans are settled before their traces are built: in memory after
//! reading, or a spill partition at a time as it is read back, since by
//! then every window (and so every table) has been read.

use rustc_hash::FxHashMap;

use super::{Interner, ServiceFrom, Sym, TracedSpan};

/// The services of processes read after their spans, by key (see
/// [`ProcessServices::key`]), and how many spans wait for one.
#[derive(Debug, Default, Clone)]
pub struct ProcessServices {
    services: FxHashMap<Sym, Sym>,
    waiting: u64,
}

impl ProcessServices {
    /// The key of process `process` of the `trace`-th trace of `input`
    /// that was read in pieces. Input and trace make it unique in the run,
    /// since process ids (`p1`, `p2`, ...) are only unique within a trace.
    /// It starts with a NUL, which no service name does.
    pub fn key(strings: &Interner, input: &str, trace: u64, process: &str) -> Sym {
        strings.intern(&format!("\0{input}\0{trace}\0{process}"))
    }

    /// Records that the process of key `key` is service `service`.
    pub fn insert(&mut self, key: Sym, service: Sym) {
        self.services.insert(key, service);
    }

    /// Counts one more span marked [`ServiceFrom::Process`].
    pub fn wait(&mut self) {
        self.waiting += 1;
    }

    /// Whether any span waits for its service.
    pub fn any_waiting(&self) -> bool {
        self.waiting > 0
    }

    /// Takes in what `other` recorded.
    pub fn merge(&mut self, other: ProcessServices) {
        self.services.extend(other.services);
        self.waiting += other.waiting;
    }

    /// Gives every span of `spans` marked [`ServiceFrom::Process`] its
    /// process's service, or `unknown` if its trace named no such process
    /// (as a span whose process is missing gets when its trace is read
    /// whole), and clears the mark.
    pub fn settle(&self, spans: &mut [TracedSpan], strings: &Interner) {
        if !self.any_waiting() {
            return;
        }
        let unknown = strings.intern("unknown");
        for span in spans
            .iter_mut()
            .map(|read| &mut read.span)
            .filter(|s| s.service_from == ServiceFrom::Process)
        {
            span.service = self.services.get(&span.service).copied().unwrap_or(unknown);
            span.service_from = ServiceFrom::Own;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_take_their_process_service_else_unknown() {
        let strings = Interner::new();
        let mut table = ProcessServices::default();
        let key = |trace, process| ProcessServices::key(&strings, "in.json", trace, process);
        let read = |span| crate::model::testutil::traced(1, span);
        let waiting = |id, key: Sym| {
            read(crate::model::Span {
                service: key,
                service_from: ServiceFrom::Process,
                ..crate::model::testutil::plain_span(&strings, id, None, "x")
            })
        };
        let mut spans = vec![
            waiting(1, key(0, "p1")),
            waiting(2, key(0, "p2")),
            // The same process id in another trace of the input.
            waiting(3, key(1, "p1")),
            read(crate::model::testutil::plain_span(&strings, 4, None, "own")),
        ];
        for _ in 0..3 {
            table.wait();
        }
        let mut other = ProcessServices::default();
        other.insert(key(0, "p1"), strings.intern("api"));
        other.insert(key(1, "p1"), strings.intern("db"));
        table.merge(other);
        table.settle(&mut spans, &strings);
        let services: Vec<&str> = spans
            .iter()
            .map(|s| strings.resolve(s.span.service))
            .collect();
        assert_eq!(services, ["api", "unknown", "db", "own"]);
        assert!(
            spans
                .iter()
                .all(|s| s.span.service_from == ServiceFrom::Own)
        );
        assert_ne!(
            key(0, "p1"),
            ProcessServices::key(&strings, "b.json", 0, "p1")
        );
    }

    #[test]
    fn nothing_is_touched_when_no_span_waits() {
        let strings = Interner::new();
        let mut spans = vec![crate::model::testutil::traced(
            1,
            crate::model::testutil::plain_span(&strings, 1, None, "a"),
        )];
        let before = spans.clone();
        ProcessServices::default().settle(&mut spans, &strings);
        assert_eq!(spans, before);
    }
}
