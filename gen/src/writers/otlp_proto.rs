//! OTLP protobuf as the OpenTelemetry Collector's file exporter writes it
//! with `format: proto`: each batch is one serialised
//! `ExportTraceServiceRequest`, preceded by its length as a 4-byte unsigned
//! big-endian integer.
//!
//! Source: opentelemetry-collector-contrib, `exporter/fileexporter`:
//! README ("File Format": each encoded object is preceded by 4 bytes, an
//! unsigned 32-bit integer holding its size) and `file_writer.go`
//! (`exportMessageAsBuffer` puts the length with `binary.BigEndian`).

use std::io::{self, Write};

use prost::Message;

use super::{TraceWriter, otlp};
use crate::trace::Trace;

/// Writes length-prefixed `ExportTraceServiceRequest` messages.
pub struct OtlpProtoWriter;

impl TraceWriter for OtlpProtoWriter {
    fn write_batch(&mut self, traces: &[Trace], out: &mut dyn Write) -> io::Result<()> {
        let bytes = otlp::request(traces).encode_to_vec();
        let len = u32::try_from(bytes.len())
            .map_err(|_| io::Error::other("batch larger than 4 GiB: use smaller batches"))?;
        out.write_all(&len.to_be_bytes())?;
        out.write_all(&bytes)
    }
}
