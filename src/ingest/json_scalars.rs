//! Reading loosely typed fields out of parsed JSON, shared by the Jaeger and
//! Sentry readers: exporters disagree on whether a value is a string, a
//! number or a boolean, so these accept any scalar.

use std::borrow::Cow;

use serde_json::Value;

use crate::model::{AttrKey, AttrsBuilder, Interner};

/// The text of a scalar: strings as they are, numbers and booleans as JSON
/// writes them; `None` for null, arrays, objects and empty strings.
pub fn scalar_text(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) if !s.is_empty() => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// A non-empty string member of an object.
pub fn str_field<'v>(object: &'v serde_json::Map<String, Value>, key: &str) -> Option<&'v str> {
    object
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// Key/value pairs of a JSON object into the attribute builder every
/// reader shares.
pub trait AddJson<'v> {
    /// Keeps `value` if `key` is an attribute the analyses use.
    fn add(&mut self, strings: &Interner, key: &str, value: &'v Value) {
        self.add_text(strings, key, scalar_text(value));
    }

    /// Keeps a scalar's `text` (as [`scalar_text`] gives it) if `key` is an
    /// attribute the analyses use.
    fn add_text(&mut self, strings: &Interner, key: &str, text: Option<Cow<'v, str>>);
}

impl<'v> AddJson<'v> for AttrsBuilder<'v> {
    fn add_text(&mut self, strings: &Interner, key: &str, text: Option<Cow<'v, str>>) {
        if let (Some((slot, preferred)), Some(text)) = (AttrKey::lookup(key), text) {
            self.set(strings, slot, preferred, text);
        }
    }
}

/// Every field of `template` (at any depth) replaced in turn by values of
/// the wrong type or out of range: inputs for no-panic tests of readers.
#[cfg(test)]
pub fn mutations(template: &Value) -> Vec<Value> {
    let odd = [
        serde_json::json!(null),
        serde_json::json!(-1),
        serde_json::json!(1e308),
        serde_json::json!(-9.3e18),
        serde_json::json!(u64::MAX),
        serde_json::json!(""),
        serde_json::json!("x€"),
        serde_json::json!("9999-99-99T99:99:99.9999999999+99:99"),
        serde_json::json!([]),
        serde_json::json!({}),
        serde_json::json!(true),
    ];
    let mut pointers = Vec::new();
    collect_pointers(template, String::new(), &mut pointers);
    let mut out = Vec::new();
    for pointer in &pointers {
        for value in &odd {
            let mut mutated = template.clone();
            if let Some(slot) = mutated.pointer_mut(pointer) {
                *slot = value.clone();
            }
            out.push(mutated);
        }
    }
    out
}

#[cfg(test)]
fn collect_pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, member) in map {
                collect_pointers(member, format!("{at}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_pointers(item, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_become_text() {
        assert_eq!(scalar_text(&json!("x")).as_deref(), Some("x"));
        assert_eq!(scalar_text(&json!(42)).as_deref(), Some("42"));
        assert_eq!(scalar_text(&json!(1.5)).as_deref(), Some("1.5"));
        assert_eq!(scalar_text(&json!(true)).as_deref(), Some("true"));
        assert_eq!(scalar_text(&json!("")), None);
        assert_eq!(scalar_text(&json!(null)), None);
        assert_eq!(scalar_text(&json!([1])), None);
    }

    #[test]
    fn builder_keeps_known_keys_and_lets_attributes_win() {
        let strings = Interner::new();
        let (get, temperature, url) = (json!("GET"), json!(72.5), json!("https://api/x/1"));
        let mut b = AttrsBuilder::default();
        b.add(&strings, "http.method", &get);
        b.add(&strings, "temperature", &temperature);
        b.imply(&strings, AttrKey::HttpMethod, "POST");
        b.imply(&strings, AttrKey::DbSystem, "redis");
        b.add(&strings, "url.full", &url);
        let attrs = strings.attrs(b.finish(&strings).unwrap());
        let shape = strings.resolve(attrs.shape.unwrap().text);
        assert_eq!(shape, "GET https://api/x/*", "the method attribute won");
        assert_eq!(strings.resolve(attrs.db_system.unwrap()), "redis");
        assert!(AttrsBuilder::default().finish(&strings).is_none());
    }
}
