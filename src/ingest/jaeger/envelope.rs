//! Scanning the query API envelope, `{"data": [trace, ...], "errors": ...}`,
//! without building its traces: each trace is handed on as raw JSON, in
//! batches, as soon as the scan has passed it, so that parsing the traces
//! overlaps with scanning the rest of the export.

use std::fmt;

use serde::Deserializer as _;
use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::ingest::json_records::Record;

/// Scans `record` as an envelope and hands its traces to `submit`, `batch`
/// at a time, each as a record of its own that starts on its own line (so
/// that problems inside a trace are still located by line).
///
/// `Ok(Some(errors))` with the envelope's `errors` member when it has a
/// `data` array; `Ok(None)` when `data` is absent or null, and an error when
/// the record is not an object or is malformed anywhere (then whatever was
/// submitted must be discarded): in both cases the general path reads or
/// reports the record instead.
pub fn scan<'a>(
    record: &Record<'a>,
    batch: usize,
    submit: &mut dyn FnMut(Vec<Record<'a>>),
) -> serde_json::Result<Option<Option<Value>>> {
    let mut traces = Batcher {
        base: record.bytes.as_ptr() as usize,
        bytes: record.bytes,
        line: record.line,
        counted: 0,
        batch: batch.max(1),
        pending: Vec::new(),
        submit,
    };
    // One UTF-8 check of the whole record lets serde_json skip checking
    // each string, as `json_records::parse` does.
    let found = match std::str::from_utf8(record.bytes) {
        Ok(text) => {
            let mut de = serde_json::Deserializer::from_str(text);
            let found = de.deserialize_map(EnvelopeVisitor {
                traces: &mut traces,
            })?;
            de.end()?;
            found
        }
        Err(_) => {
            let mut de = serde_json::Deserializer::from_slice(record.bytes);
            let found = de.deserialize_map(EnvelopeVisitor {
                traces: &mut traces,
            })?;
            de.end()?;
            found
        }
    };
    traces.flush();
    Ok(found)
}

/// Collects traces into batches and submits each full one.
struct Batcher<'a, 's> {
    /// Where the record starts in memory, to find a trace's offset.
    base: usize,
    bytes: &'a [u8],
    /// The line the last trace starts on, and the offset counted up to.
    line: u64,
    counted: usize,
    batch: usize,
    pending: Vec<Record<'a>>,
    submit: &'s mut dyn FnMut(Vec<Record<'a>>),
}

impl<'a> Batcher<'a, '_> {
    fn push(&mut self, raw: &'a RawValue) {
        let text = raw.get();
        let offset = text.as_ptr() as usize - self.base;
        self.line += memchr::memchr_iter(b'\n', &self.bytes[self.counted..offset]).count() as u64;
        self.counted = offset;
        self.pending.push(Record {
            line: self.line,
            bytes: text.as_bytes(),
        });
        if self.pending.len() == self.batch {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if !self.pending.is_empty() {
            (self.submit)(std::mem::take(&mut self.pending));
        }
    }
}

struct EnvelopeVisitor<'b, 'a, 's> {
    traces: &'b mut Batcher<'a, 's>,
}

impl<'a> Visitor<'a> for EnvelopeVisitor<'_, 'a, '_> {
    type Value = Option<Option<Value>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Jaeger query API envelope")
    }

    fn visit_map<M: MapAccess<'a>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let (mut data, mut errors) = (None, None);
        while let Some(key) = map.next_key::<std::borrow::Cow<'a, str>>()? {
            match key.as_ref() {
                "data" if data.is_some() => return Err(M::Error::duplicate_field("data")),
                "data" => {
                    data = Some(map.next_value_seed(Data {
                        traces: &mut *self.traces,
                    })?)
                }
                "errors" if errors.is_some() => {
                    return Err(M::Error::duplicate_field("errors"));
                }
                "errors" => errors = Some(map.next_value::<Option<Value>>()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(data.unwrap_or(false).then(|| errors.flatten()))
    }
}

/// The `data` member: `true` for an array (its traces submitted), `false`
/// for null.
struct Data<'b, 'a, 's> {
    traces: &'b mut Batcher<'a, 's>,
}

impl<'a> DeserializeSeed<'a> for Data<'_, 'a, '_> {
    type Value = bool;

    fn deserialize<D: serde::Deserializer<'a>>(self, de: D) -> Result<bool, D::Error> {
        de.deserialize_option(self)
    }
}

impl<'a> Visitor<'a> for Data<'_, 'a, '_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of traces or null")
    }

    fn visit_none<E>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_some<D: serde::Deserializer<'a>>(self, de: D) -> Result<bool, D::Error> {
        de.deserialize_seq(self)
    }

    fn visit_seq<S: SeqAccess<'a>>(self, mut seq: S) -> Result<bool, S::Error> {
        while let Some(raw) = seq.next_element::<&'a RawValue>()? {
            self.traces.push(raw);
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `scan` reported, and each batch it handed over as (line, text).
    type Scanned = (
        serde_json::Result<Option<Option<Value>>>,
        Vec<Vec<(u64, String)>>,
    );

    fn scanned(text: &str, batch: usize) -> Scanned {
        let record = Record {
            line: 3,
            bytes: text.as_bytes(),
        };
        let mut batches = Vec::new();
        let found = scan(&record, batch, &mut |b: Vec<Record<'_>>| {
            batches.push(
                b.iter()
                    .map(|r| (r.line, String::from_utf8_lossy(r.bytes).into_owned()))
                    .collect(),
            )
        });
        (found, batches)
    }

    #[test]
    fn traces_come_in_batches_with_their_lines() {
        let (found, batches) = scanned(
            "{\"total\": 3, \"data\": [\n{\"a\": 1},\n{\"b\": \"x\\ny\"},\n\n{\"c\": [1,\n2]}\n], \"errors\": null}",
            2,
        );
        assert_eq!(found.unwrap(), Some(None));
        assert_eq!(
            batches,
            vec![
                vec![
                    (4, "{\"a\": 1}".to_string()),
                    (5, "{\"b\": \"x\\ny\"}".to_string())
                ],
                vec![(7, "{\"c\": [1,\n2]}".to_string())],
            ]
        );
    }

    #[test]
    fn reported_errors_are_returned() {
        let (found, _) = scanned("{\"errors\": [{\"msg\": \"m\"}], \"data\": []}", 64);
        assert_eq!(
            found.unwrap(),
            Some(Some(serde_json::json!([{"msg": "m"}])))
        );
    }

    #[test]
    fn anything_else_is_for_the_general_path() {
        for text in ["{\"data\": null}", "{\"traceID\": \"1\", \"spans\": []}"] {
            let (found, batches) = scanned(text, 64);
            assert_eq!(found.unwrap(), None, "{text}");
            assert!(batches.is_empty());
        }
        for text in [
            "[{\"data\": []}]",
            "{\"data\": 5}",
            "{\"data\": [], \"data\": []}",
            "{\"data\": [{}, {]}",
            "{\"data\": [{}]} trailing",
        ] {
            assert!(scanned(text, 64).0.is_err(), "{text}");
        }
    }
}
