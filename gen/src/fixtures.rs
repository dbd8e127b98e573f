//! `generate fixtures --out DIR`: the committed fixture tree. Everything
//! here is deterministic (fixed seeds, fixed batch sizes, no clocks, no
//! hash-map iteration order), because CI regenerates the tree and diffs it
//! against `fixtures/`.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use crate::integrity;
use crate::queues;
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

/// Regenerates the tree and compares it with `committed`: the differences
/// (empty when it matches). Compressed files are compared by content, since
/// their bytes depend on the compressor build (flate2's backend is chosen by
/// feature unification across the whole dependency graph).
pub fn check_tree(committed: &Path) -> io::Result<Vec<String>> {
    let fresh = tempfile::tempdir()?;
    write_tree(fresh.path())?;
    let mut differences = Vec::new();
    let fresh_files = files_under(fresh.path())?;
    let committed_files: Vec<String> = files_under(committed)?
        .into_iter()
        .filter(|f| f != "README.md")
        .collect();
    for name in &committed_files {
        if !fresh_files.contains(name) {
            differences.push(format!("{name}: not made by the generator"));
        }
    }
    for name in &fresh_files {
        let theirs = committed.join(name);
        if !theirs.exists() {
            differences.push(format!("{name}: missing"));
        } else if content(&theirs)? != content(&fresh.path().join(name))? {
            differences.push(format!("{name}: differs from what the generator makes"));
        }
    }
    Ok(differences)
}

/// Relative paths of every file under `root`, sorted.
fn files_under(root: &Path) -> io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A file's bytes, decompressed when it is gzip or zstd.
fn content(path: &Path) -> io::Result<Vec<u8>> {
    let bytes = fs::read(path)?;
    let name = path.to_string_lossy();
    if name.ends_with(".gz") {
        let mut out = Vec::new();
        io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out)?;
        Ok(out)
    } else if name.ends_with(".zst") {
        zstd::stream::decode_all(&bytes[..])
    } else {
        Ok(bytes)
    }
}

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
    // The queue scenario, in a folder of its own (the per-format folders'
    // analyses are snapshotted elsewhere): one file per format, named
    // `orders.<format>.<extension>`; linked or nested as the format can hold.
    let queues = queues::queues();
    for format in Format::ALL {
        let name = format!("{}.{}.{}", queues::NAME, format.name(), format.extension());
        let mut bytes = Vec::new();
        write_all(
            format,
            queues.traces(format),
            TRACES_PER_REQUEST,
            &mut bytes,
        )?;
        put(&out.join("queues").join(name), &bytes)?;
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
