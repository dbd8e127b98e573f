//! `generate fixtures --out DIR`: the committed fixture tree. Everything
//! here is deterministic (fixed seeds, fixed batch sizes, no clocks, no
//! hash-map iteration order), because CI regenerates the tree and diffs it
//! against `fixtures/`.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use crate::integrity;
use crate::scenarios::{self, fanout_17k};
use crate::trace::Trace;
use crate::writers::{Format, write_all};

/// Traces per OTLP export request: a Collector flushes a batch at a time, so
/// a file holds several requests, each with several traces.
const TRACES_PER_REQUEST: usize = 5;

/// Spans per request for the 17k-span trace: the Collector's batch
/// processor's default `send_batch_size` (8192), so that one trace is split
/// over several lines, as it would be in a real export.
const SPANS_PER_REQUEST: usize = 8192;

/// Writes the whole tree under `out`.
pub fn write_tree(out: &Path) -> io::Result<()> {
    for scenario in scenarios::all() {
        for format in Format::ALL {
            let path =
                out.join(format.name())
                    .join(format!("{}.{}", scenario.name, format.extension()));
            let mut bytes = Vec::new();
            write_all(format, &scenario.traces, TRACES_PER_REQUEST, &mut bytes)?;
            put(&path, &bytes)?;
        }
        if scenario.name == "sequential" {
            // The same OTLP/JSON lines, zstd-compressed as the file
            // exporter's `compression: zstd` or `zstd` on the command line
            // leaves them.
            let mut plain = Vec::new();
            write_all(
                Format::OtlpJson,
                &scenario.traces,
                TRACES_PER_REQUEST,
                &mut plain,
            )?;
            let packed = zstd::stream::encode_all(&plain[..], 19)?;
            put(
                &out.join("compressed").join("sequential.jsonl.zst"),
                &packed,
            )?;
        }
    }
    put(
        &out.join(Format::OtlpJson.name())
            .join("fanout_17k.jsonl.gz"),
        &fanout_gz()?,
    )?;
    for (name, bytes) in integrity::files()? {
        put(&out.join("integrity").join(name), &bytes)?;
    }
    Ok(())
}

/// The 17k-span trace as gzip'd OTLP/JSON lines, one request per 8192
/// spans.
fn fanout_gz() -> io::Result<Vec<u8>> {
    let trace = fanout_17k();
    // GzBuilder with no file name and mtime 0: the same bytes every run.
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    let mut writer = Format::OtlpJson.writer();
    writer.begin(&mut gz)?;
    for chunk in trace.spans.chunks(SPANS_PER_REQUEST) {
        let part = Trace {
            id: trace.id,
            spans: chunk.to_vec(),
        };
        writer.write_batch(&[part], &mut gz)?;
    }
    writer.end(&mut gz)?;
    gz.flush()?;
    gz.finish()
}

fn put(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    fs::write(path, bytes).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}
