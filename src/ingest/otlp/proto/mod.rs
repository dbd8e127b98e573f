//! OTLP/protobuf: a binary `ExportTraceServiceRequest` (or `TracesData`,
//! which encodes the same way), as OTLP/HTTP carries it, or the
//! OpenTelemetry Collector file exporter's `format: proto` output.
//!
//! The file exporter writes each message preceded by its length as a 4-byte
//! big-endian unsigned integer (opentelemetry-collector-contrib,
//! `exporter/fileexporter/file_writer.go`, `exportMessageAsBuffer`; its
//! README: "each encoded object is preceded by 4 bytes (an unsigned 32 bit
//! integer)"). With its legacy `compression: zstd` each message is
//! compressed before being framed (`marshaller.go`), so a frame may hold a
//! zstd frame, which is decompressed; `format: json` with compression frames
//! JSON the same way, and such frames are read as OTLP/JSON.
//!
//! Framed or not is decided by content: the input is framed if its frames
//! cover it exactly, or if it starts with a zero byte (a frame length under
//! 16 MiB; a protobuf message cannot start with field number 0), in which
//! case a final frame cut short is skipped and counted at its byte offset.
//! Otherwise the whole input is one message.
//!
//! Each message is split into its `resource_spans` entries, which are
//! decoded in parallel; an entry or frame that does not decode is skipped
//! and counted at its byte offset, and the rest is still read. Spans follow
//! the same rules as [`crate::ingest::otlp::json`]: 16-byte trace and 8-byte span ids
//! and non-zero times are required (else the span is skipped and counted at
//! its `ResourceSpans`' offset; one with a time after 2200-01-01 is counted
//! there as an invalid time), an empty parent id makes a root, the
//! service is the resource's `service.name`, status code 2 is an error, and
//! only the attributes [`crate::model::AttrKey::lookup`] knows are kept.

#[cfg(test)]
mod model;
mod wire;

use rayon::prelude::*;

use crate::ingest::otlp::common;
use crate::ingest::otlp::json::read_framed_json;
use crate::ingest::times;
use crate::ingest::{Format, Framing, Input, ReadError, Reader, SNIFF_LEN, Sink};
use crate::model::Location;

/// Reads binary OTLP protobuf, framed or not.
pub struct OtlpProtoReader;

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// The key of `ExportTraceServiceRequest.resource_spans`: field 1,
/// length-delimited.
const RESOURCE_SPANS_KEY: u8 = 0x0a;

impl Reader for OtlpProtoReader {
    fn format(&self) -> Format {
        Format::OtlpProto
    }

    fn sniff(&self, head: &[u8]) -> bool {
        let whole = head.len() < SNIFF_LEN;
        if plausible_request(head, whole) {
            return true;
        }
        let Some((length, payload)) = head.split_first_chunk::<4>() else {
            return false;
        };
        let length = u32::from_be_bytes(*length) as usize;
        if whole && length > payload.len() {
            return false;
        }
        let frame = &payload[..length.min(payload.len())];
        frame.starts_with(&ZSTD_MAGIC) || plausible_request(frame, whole || length <= frame.len())
    }

    fn framing(&self, head: &[u8]) -> Option<Framing> {
        // A first frame under 16 MiB: the stream the file exporter writes.
        (head.first() == Some(&0)).then_some(Framing::LengthPrefixed)
    }

    fn read(&self, input: &Input<'_>, sink: &mut Sink<'_>) -> Result<(), ReadError> {
        let bytes = input.bytes;
        if bytes.is_empty() {
            return Err(ReadError::new(
                input,
                Location::Whole,
                format!("empty input: {NOT_OTLP}"),
            ));
        }
        let (frames, cut) = split_frames(bytes);
        let framed = match &cut {
            None => !frames.is_empty(),
            Some(_) => bytes[0] == 0,
        };
        let mut problems = Vec::new();
        let payloads: Vec<Payload<'_>> = if framed {
            if let Some(cut) = cut {
                problems.push(cut);
            }
            frames.par_iter().map(|frame| frame.payload()).collect()
        } else {
            vec![Payload::Plain {
                offset: 0,
                bytes,
                framed: false,
            }]
        };
        // Finding the units reads a window's pages for the first time: on
        // one thread, their page faults left the other core idle.
        let mut units: Vec<Unit<'_>> = payloads
            .par_iter()
            .map(|payload| {
                let mut units = Vec::new();
                payload.units(&mut units);
                units
            })
            .flatten_iter()
            .collect();
        units.extend(problems.into_iter().map(|(offset, message)| Unit::Bad {
            at: Location::Byte(offset),
            message,
        }));

        let chunks = common::chunks(&units, Unit::size);
        let recognised = crate::ingest::read_chunks(chunks, sink, |chunk, part| {
            // Every unit is read, whether or not an earlier one was.
            chunk.iter().fold(false, |any, unit| unit.read(part) | any)
        });
        if recognised {
            Ok(())
        } else {
            let first = sink.quality.examples.first();
            Err(ReadError::new(
                input,
                first.map_or(Location::Whole, |p| p.location.clone()),
                match first {
                    Some(problem) => format!("{NOT_OTLP}: {}", problem.message),
                    None => NOT_OTLP.to_string(),
                },
            ))
        }
    }
}

const NOT_OTLP: &str = "expected an OTLP protobuf ExportTraceServiceRequest, or the Collector file exporter's length-prefixed stream of them";

/// Whether `bytes` starts like an encoded request: a `resource_spans` key
/// and a length that fits (when `whole`, within `bytes`), then a first
/// `ResourceSpans` field that is one of its own (resource, scope_spans,
/// schema_url or the legacy instrumentation_library_spans), length-delimited
/// and fitting inside it.
fn plausible_request(bytes: &[u8], whole: bool) -> bool {
    let Some((&RESOURCE_SPANS_KEY, mut rest)) = bytes.split_first() else {
        return false;
    };
    let Ok(length) = prost::decode_length_delimiter(&mut rest) else {
        return false;
    };
    let fits = if whole {
        length <= rest.len()
    } else {
        length < 1 << 31
    };
    let key_len = match rest {
        [0x0a | 0x12 | 0x1a, ..] => 1,
        [0xc2, 0x3e, ..] => 2,
        _ => return false,
    };
    let mut inner = &rest[key_len..];
    let Ok(inner_length) = prost::decode_length_delimiter(&mut inner) else {
        return false;
    };
    let inner_total = key_len + (rest.len() - key_len - inner.len()) + inner_length;
    fits && inner_total <= length
}

/// One length-prefixed frame: the offset of its header and its content.
struct Frame<'a> {
    offset: u64,
    bytes: &'a [u8],
}

/// Splits `bytes` into 4-byte big-endian length-prefixed frames, as far as
/// they go; the offset of a frame cut short, and why, if one is.
fn split_frames(bytes: &[u8]) -> (Vec<Frame<'_>>, Option<(u64, String)>) {
    let mut frames = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        let Some((header, body)) = rest.split_first_chunk::<4>() else {
            let message = format!("truncated frame: {} header bytes of 4", rest.len());
            return (frames, Some((at as u64, message)));
        };
        let length = u32::from_be_bytes(*header) as usize;
        if length > body.len() {
            let message = format!(
                "truncated frame: its header announces {length} bytes, {} remain",
                body.len()
            );
            return (frames, Some((at as u64, message)));
        }
        frames.push(Frame {
            offset: at as u64,
            bytes: &body[..length],
        });
        at += 4 + length;
    }
    (frames, None)
}

/// A message's bytes, ready to be split into units.
enum Payload<'a> {
    /// Bytes of the input, starting at `offset`; `framed` if a frame's.
    Plain {
        offset: u64,
        bytes: &'a [u8],
        framed: bool,
    },
    /// A decompressed frame; problems inside are located at the frame.
    Unpacked { frame: u64, bytes: Vec<u8> },
    /// A frame that could not be decompressed.
    Broken { frame: u64, message: String },
}

impl Frame<'_> {
    fn payload(&self) -> Payload<'_> {
        if !self.bytes.starts_with(&ZSTD_MAGIC) {
            return Payload::Plain {
                offset: self.offset + 4,
                bytes: self.bytes,
                framed: true,
            };
        }
        match zstd::stream::decode_all(self.bytes) {
            Ok(bytes) => Payload::Unpacked {
                frame: self.offset,
                bytes,
            },
            Err(err) => Payload::Broken {
                frame: self.offset,
                message: format!("zstd-compressed frame does not decompress: {err}"),
            },
        }
    }
}

impl Payload<'_> {
    /// Appends this message's units, in order.
    fn units<'p>(&'p self, out: &mut Vec<Unit<'p>>) {
        let (bytes, locate, framed): (&[u8], Locate, bool) = match self {
            Payload::Plain {
                offset,
                bytes,
                framed,
            } => (bytes, Locate::Offset(*offset), *framed),
            Payload::Unpacked { frame, bytes } => (bytes, Locate::Frame(*frame), true),
            Payload::Broken { frame, message } => {
                out.push(Unit::Bad {
                    at: Location::Byte(*frame),
                    message: message.clone(),
                });
                return;
            }
        };
        // Only a frame may hold JSON: a file exporter with a JSON encoding
        // frames it when compressing.
        if framed && matches!(bytes.first(), Some(b'{')) {
            out.push(Unit::Json {
                at: locate.at(0),
                bytes,
            });
            return;
        }
        if bytes.is_empty() {
            out.push(Unit::Empty);
            return;
        }
        let (entries, error) = resource_spans_entries(bytes);
        for (offset, entry) in entries {
            out.push(Unit::Proto {
                at: locate.at(offset),
                bytes: entry,
            });
        }
        if let Some((offset, message)) = error {
            out.push(Unit::Bad {
                at: locate.at(offset),
                message,
            });
        }
    }
}

/// How offsets inside a message map to the input.
#[derive(Clone, Copy)]
enum Locate {
    /// The message starts at this input offset.
    Offset(u64),
    /// The message was decompressed from the frame at this offset.
    Frame(u64),
}

impl Locate {
    fn at(self, offset: usize) -> Location {
        match self {
            Locate::Offset(base) => Location::Byte(base + offset as u64),
            Locate::Frame(frame) => Location::Byte(frame),
        }
    }
}

/// Something at a byte offset of a message.
type Placed<T> = (usize, T);

/// The `resource_spans` entries of an encoded request, with the offsets of
/// their keys, skipping other fields; the offset of the first malformed
/// field, and why, if there is one.
fn resource_spans_entries(message: &[u8]) -> (Vec<Placed<&[u8]>>, Option<Placed<String>>) {
    let mut entries = Vec::new();
    let mut rest = message;
    while !rest.is_empty() {
        let offset = message.len() - rest.len();
        match next_field(&mut rest) {
            Ok(Some(entry)) => entries.push((offset, entry)),
            Ok(None) => {}
            Err(why) => return (entries, Some((offset, why))),
        }
    }
    (entries, None)
}

/// Consumes one field; a `resource_spans` entry's bytes if it was one.
fn next_field<'a>(rest: &mut &'a [u8]) -> Result<Option<&'a [u8]>, String> {
    let varint = |rest: &mut &'a [u8]| {
        prost::decode_length_delimiter(&mut *rest).map_err(|e| format!("bad varint: {e}"))
    };
    let key = varint(rest)?;
    let (field, wire_type) = (key >> 3, key & 7);
    if field == 0 {
        return Err("field number 0 (not a protobuf message)".into());
    }
    let skip = match wire_type {
        0 => {
            varint(rest)?;
            0
        }
        1 => 8,
        2 => varint(rest)?,
        5 => 4,
        _ => return Err(format!("field {field} has wire type {wire_type}")),
    };
    if field == 1 && wire_type != 2 {
        return Err(format!("resource_spans has wire type {wire_type}"));
    }
    if skip > rest.len() {
        return Err(format!(
            "field {field} announces {skip} bytes, {} remain",
            rest.len()
        ));
    }
    let (value, after) = rest.split_at(skip);
    *rest = after;
    Ok((field == 1).then_some(value))
}

/// A piece of work for one parallel task, in input order.
enum Unit<'a> {
    /// One encoded `ResourceSpans`.
    Proto { at: Location, bytes: &'a [u8] },
    /// One OTLP/JSON request held in a frame.
    Json { at: Location, bytes: &'a [u8] },
    /// An empty message: a request with no spans.
    Empty,
    /// Something that could not be read.
    Bad { at: Location, message: String },
}

impl Unit<'_> {
    /// Reads the unit into `sink`; whether it held OTLP.
    fn read(&self, sink: &mut Sink<'_>) -> bool {
        match self {
            Unit::Proto { at, bytes } => read_resource_spans(bytes, at, sink),
            Unit::Json { at, bytes } => read_framed_json(bytes, at, sink),
            Unit::Empty => true,
            Unit::Bad { at, message } => {
                sink.skip(at.clone(), message.clone());
                false
            }
        }
    }

    fn size(&self) -> usize {
        match self {
            Unit::Proto { bytes, .. } | Unit::Json { bytes, .. } => bytes.len(),
            Unit::Empty | Unit::Bad { .. } => 1,
        }
    }
}

/// Reads one encoded `ResourceSpans` at `at`; whether it decoded.
fn read_resource_spans(bytes: &[u8], at: &Location, sink: &mut Sink<'_>) -> bool {
    let before = sink.spans.len();
    match wire::read_resource_spans(bytes, sink.strings, &mut sink.spans) {
        Ok(skipped) => {
            for message in skipped {
                sink.skip(at.clone(), message);
            }
            times::check_batch(sink, before, || at.clone());
            sink.locate(before, at);
            true
        }
        Err(err) => {
            sink.skip(at.clone(), format!("bad ResourceSpans message: {err}"));
            false
        }
    }
}

#[cfg(test)]
mod tests;
