//! Format writers: one per output format, all behind [`TraceWriter`], all
//! reading the same [`Trace`]s. Each writes exactly what a real producer of
//! that format writes (see each module), so critpath's readers are tested
//! against realistic files rather than against our own idea of them.

mod jaeger;
mod otlp;
mod otlp_json;
mod otlp_proto;
mod sentry;
mod xray;
mod zipkin;

use std::io::{self, Write};

use crate::trace::Trace;

pub use otlp_json::write_pretty as write_otlp_json_pretty;

/// The output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// OTLP/JSON lines, as the Collector's file exporter writes them.
    OtlpJson,
    /// Length-prefixed OTLP protobuf, as the file exporter's `proto` format.
    OtlpProto,
    /// Jaeger query API JSON.
    Jaeger,
    /// Sentry transaction events, one per line.
    Sentry,
    /// Zipkin v2 JSON as `/api/v2/traces` returns it.
    Zipkin,
    /// AWS X-Ray `batch-get-traces` output.
    Xray,
}

impl Format {
    /// Every format, in fixture order.
    pub const ALL: [Format; 6] = [
        Format::OtlpJson,
        Format::OtlpProto,
        Format::Jaeger,
        Format::Sentry,
        Format::Zipkin,
        Format::Xray,
    ];

    /// The command-line and fixture-folder name.
    pub fn name(self) -> &'static str {
        match self {
            Format::OtlpJson => "otlp-json",
            Format::OtlpProto => "otlp-proto",
            Format::Jaeger => "jaeger",
            Format::Sentry => "sentry",
            Format::Zipkin => "zipkin",
            Format::Xray => "xray",
        }
    }

    /// Parses a command-line name.
    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The file extension its producers use.
    pub fn extension(self) -> &'static str {
        match self {
            Format::OtlpJson | Format::Sentry => "jsonl",
            Format::OtlpProto => "binpb",
            Format::Jaeger | Format::Zipkin | Format::Xray => "json",
        }
    }

    /// Whether the format can link a span to a span of another trace (OTLP
    /// links, Jaeger `FOLLOWS_FROM` references, Sentry `links`). Zipkin and
    /// X-Ray cannot, and their writers drop [`crate::trace::Span::links`]: a
    /// scenario with links gives them a shape without (see
    /// `scenarios::Queues`).
    pub fn carries_links(self) -> bool {
        !matches!(self, Format::Zipkin | Format::Xray)
    }

    /// A fresh writer for this format.
    pub fn writer(self) -> Box<dyn TraceWriter> {
        match self {
            Format::OtlpJson => Box::new(otlp_json::OtlpJsonWriter),
            Format::OtlpProto => Box::new(otlp_proto::OtlpProtoWriter),
            Format::Jaeger => Box::new(jaeger::JaegerWriter::default()),
            Format::Sentry => Box::new(sentry::SentryWriter),
            Format::Zipkin => Box::new(zipkin::ZipkinWriter::default()),
            Format::Xray => Box::new(xray::XrayWriter::default()),
        }
    }
}

/// Writes batches of complete traces to a stream. Batches let callers
/// stream millions of traces while holding only one batch in memory; the
/// OTLP writers turn each batch into one export request, as a Collector
/// flushes one batch at a time.
pub trait TraceWriter {
    /// Writes whatever opens the output (Jaeger's envelope).
    fn begin(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }

    /// Writes one batch.
    fn write_batch(&mut self, traces: &[Trace], out: &mut dyn Write) -> io::Result<()>;

    /// Writes whatever closes the output.
    fn end(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}

/// Writes `traces` in `format`, `batch` traces per batch.
pub fn write_all(
    format: Format,
    traces: &[Trace],
    batch: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut writer = format.writer();
    writer.begin(out)?;
    for chunk in traces.chunks(batch.max(1)) {
        writer.write_batch(chunk, out)?;
    }
    writer.end(out)
}

/// Lowercase hex of a 128-bit trace id, as every format here writes it.
pub fn trace_hex(id: u128) -> String {
    format!("{id:032x}")
}

/// Lowercase hex of a 64-bit span id.
pub fn span_hex(id: u64) -> String {
    format!("{id:016x}")
}

/// The service of each span's parent, when the parent is in the trace:
/// whether a parent is remote decides OTLP flags and Sentry transactions.
pub fn parent_services(trace: &Trace) -> Vec<Option<&'static str>> {
    let by_id: std::collections::HashMap<u64, &'static str> = trace
        .spans
        .iter()
        .rev() // the first of duplicate ids wins, as readers keep the first
        .map(|s| (s.id, s.service))
        .collect();
    trace
        .spans
        .iter()
        .map(|s| s.parent.and_then(|p| by_id.get(&p).copied()))
        .collect()
}
