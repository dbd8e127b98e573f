//! The attributes analyses read, and the one builder every reader fills
//! them with.
//!
//! A span's database statement and HTTP route or URL are what make it "the
//! same call" as another, but only by their shape (see [`crate::normalize`]):
//! the raw text, which on real and generated data differs on nearly every
//! span, is held by the builder until the span's attributes are complete
//! and never interned. [`AttrsBuilder::finish`] stores the shape instead,
//! and the URL's host, the one part of the URL an analysis reads.

use std::borrow::Cow;

use super::intern::{AttrsId, Interner, Sym};
use super::shape_cache;

/// What kind of thing a shape describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ShapeKind {
    /// A database statement (or key/value command).
    Query,
    /// An HTTP call.
    Http,
    /// Anything else: the operation name.
    Operation,
}

/// A span's shape, interned: what makes two calls "the same call" for
/// findings and query tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    /// What it describes.
    pub kind: ShapeKind,
    /// The shape text.
    pub text: Sym,
}

/// The attributes later analyses read; everything else is dropped at ingest
/// to keep memory per span small.
///
/// Each field is the value of the first attribute key listed beside it that
/// the span carries (current semantic conventions first, then older names).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attrs {
    /// `db.system.name`, `db.system`.
    pub db_system: Option<Sym>,
    /// The shape of the span's call: a [`ShapeKind::Query`] from
    /// `db.query.text`, `db.statement` (or a Sentry `db` span's
    /// description) and the database system, else a [`ShapeKind::Http`]
    /// from `http.request.method`, `http.method`, `http.route` and
    /// `url.full`, `http.url`. `None` for other spans, whose shape is their
    /// name (see [`super::Span::shape`]).
    pub shape: Option<Shape>,
    /// `server.address`, `net.peer.name`.
    pub server_address: Option<Sym>,
    /// The host of `url.full`, `http.url`.
    pub url_host: Option<Sym>,
    /// `peer.service`.
    pub peer_service: Option<Sym>,
    /// `messaging.system`.
    pub messaging_system: Option<Sym>,
    /// `messaging.destination.name`, `messaging.destination`.
    pub messaging_destination: Option<Sym>,
    /// `messaging.operation.type`, `messaging.operation`.
    pub messaging_operation: Option<Sym>,
}

impl Attrs {
    /// No attribute at all.
    pub const EMPTY: Attrs = Attrs {
        db_system: None,
        shape: None,
        server_address: None,
        url_host: None,
        peer_service: None,
        messaging_system: None,
        messaging_destination: None,
        messaging_operation: None,
    };

    /// The block as five words: each symbol as its index plus one (0 for
    /// none), two to a word, and the shape's kind beside its text. Two
    /// blocks have the same words exactly when they are equal.
    pub(super) fn words(&self) -> [u64; 5] {
        let sym = |s: Option<Sym>| s.map_or(0, |s| s.into_usize() as u64 + 1);
        let pair = |a: Option<Sym>, b: Option<Sym>| sym(a) | sym(b) << 32;
        let shape = self.shape.map_or(0, |shape| {
            let kind = match shape.kind {
                ShapeKind::Query => 1,
                ShapeKind::Http => 2,
                ShapeKind::Operation => 3,
            };
            kind | sym(Some(shape.text)) << 32
        });
        [
            pair(self.db_system, self.server_address),
            pair(self.url_host, self.peer_service),
            pair(self.messaging_system, self.messaging_destination),
            pair(self.messaging_operation, None),
            shape,
        ]
    }

    /// Whether no field is set (then the span stores no attribute block).
    pub fn is_empty(&self) -> bool {
        *self == Attrs::EMPTY
    }

    /// The field a key's value is interned into; `None` for the keys that
    /// only feed the shape.
    fn interned(&mut self, key: AttrKey) -> Option<&mut Option<Sym>> {
        match key {
            AttrKey::DbSystem => Some(&mut self.db_system),
            AttrKey::ServerAddress => Some(&mut self.server_address),
            AttrKey::PeerService => Some(&mut self.peer_service),
            AttrKey::MessagingSystem => Some(&mut self.messaging_system),
            AttrKey::MessagingDestination => Some(&mut self.messaging_destination),
            AttrKey::MessagingOperation => Some(&mut self.messaging_operation),
            AttrKey::DbStatement | AttrKey::HttpMethod | AttrKey::HttpRoute | AttrKey::UrlFull => {
                None
            }
        }
    }
}

/// An attribute a reader keeps, by what it means rather than how a
/// convention spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrKey {
    /// See [`Attrs::db_system`].
    DbSystem,
    /// The statement a [`ShapeKind::Query`] shape is made from.
    DbStatement,
    /// The method of a [`ShapeKind::Http`] shape.
    HttpMethod,
    /// The route a [`ShapeKind::Http`] shape is made from.
    HttpRoute,
    /// The URL a [`ShapeKind::Http`] shape is made from when there is no
    /// route; see also [`Attrs::url_host`].
    UrlFull,
    /// See [`Attrs::server_address`].
    ServerAddress,
    /// See [`Attrs::peer_service`].
    PeerService,
    /// See [`Attrs::messaging_system`].
    MessagingSystem,
    /// See [`Attrs::messaging_destination`].
    MessagingDestination,
    /// See [`Attrs::messaging_operation`].
    MessagingOperation,
}

impl AttrKey {
    /// The field an attribute key fills, and whether the key is the preferred
    /// (current convention) one, which wins over an older alias.
    pub fn lookup(key: &str) -> Option<(Self, bool)> {
        Self::lookup_bytes(key.as_bytes())
    }

    /// [`AttrKey::lookup`] of a key not yet checked to be UTF-8 (a protobuf
    /// field): every known key is ASCII, so a key that is not text is no
    /// known key, and the many keys that are unknown are never checked.
    pub fn lookup_bytes(key: &[u8]) -> Option<(Self, bool)> {
        Some(match key {
            b"db.system.name" => (Self::DbSystem, true),
            b"db.system" => (Self::DbSystem, false),
            b"db.query.text" => (Self::DbStatement, true),
            b"db.statement" => (Self::DbStatement, false),
            b"http.request.method" => (Self::HttpMethod, true),
            b"http.method" => (Self::HttpMethod, false),
            b"http.route" => (Self::HttpRoute, true),
            b"url.full" => (Self::UrlFull, true),
            b"http.url" => (Self::UrlFull, false),
            b"server.address" => (Self::ServerAddress, true),
            b"net.peer.name" => (Self::ServerAddress, false),
            b"peer.service" => (Self::PeerService, true),
            b"messaging.system" => (Self::MessagingSystem, true),
            b"messaging.destination.name" => (Self::MessagingDestination, true),
            b"messaging.destination" => (Self::MessagingDestination, false),
            b"messaging.operation.type" => (Self::MessagingOperation, true),
            b"messaging.operation" => (Self::MessagingOperation, false),
            _ => return None,
        })
    }
}

/// Collects one span's attributes, in whatever order they come, and shapes
/// them when they are complete; shared by every reader, so that the same
/// attributes give the same [`Attrs`] whatever the format.
///
/// The text that only feeds the shape is borrowed from the record being
/// read where it can be (`'a`), and dropped by [`AttrsBuilder::finish`].
#[derive(Debug, Default)]
pub struct AttrsBuilder<'a> {
    attrs: Attrs,
    statement: Option<Cow<'a, str>>,
    method: Option<Cow<'a, str>>,
    route: Option<Cow<'a, str>>,
    url: Option<Cow<'a, str>>,
}

/// Stores `value` in `slot` unless an earlier preferred key filled it.
fn keep<T>(slot: &mut Option<T>, preferred: bool, value: impl FnOnce() -> T) {
    if preferred || slot.is_none() {
        *slot = Some(value());
    }
}

impl<'a> AttrsBuilder<'a> {
    /// Keeps `text` as the value of `key`: a preferred key overwrites an
    /// alias, an alias never overwrites anything. Empty text is no value.
    pub fn set(
        &mut self,
        strings: &Interner,
        key: AttrKey,
        preferred: bool,
        text: impl Into<Cow<'a, str>>,
    ) {
        let text = text.into();
        if text.is_empty() {
            return;
        }
        if let Some(slot) = self.attrs.interned(key) {
            keep(slot, preferred, || strings.intern(&text));
            return;
        }
        let slot = match key {
            AttrKey::DbStatement => &mut self.statement,
            AttrKey::HttpMethod => &mut self.method,
            AttrKey::HttpRoute => &mut self.route,
            _ => &mut self.url,
        };
        keep(slot, preferred, || text);
    }

    /// Fills a field from a value the format implies (never overriding one
    /// an attribute gave).
    pub fn imply(&mut self, strings: &Interner, key: AttrKey, text: impl Into<Cow<'a, str>>) {
        self.set(strings, key, false, text);
    }

    /// The attribute block a span stores, interned: `None` when nothing
    /// was kept.
    pub fn finish(self, strings: &Interner) -> Option<AttrsId> {
        let mut attrs = self.attrs;
        attrs.url_host = self
            .url
            .as_deref()
            .and_then(crate::normalize::url_host)
            .map(|host| strings.intern(host));
        attrs.shape = if let Some(statement) = &self.statement {
            Some(Shape {
                kind: ShapeKind::Query,
                text: shape_cache::statement(strings, attrs.db_system, statement),
            })
        } else {
            // A route alone may be a server's own name for a handler, not a
            // call; it is one with a method, or beside a URL.
            let target = self.route.as_deref().or(self.url.as_deref());
            target
                .filter(|_| self.method.is_some() || self.url.is_some())
                .map(|target| Shape {
                    kind: ShapeKind::Http,
                    text: shape_cache::http(strings, self.method.as_deref(), target),
                })
        };
        (!attrs.is_empty()).then(|| strings.intern_attrs(attrs))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A block from ten numbers: 0 is no symbol, any other `n` the symbol
    /// of index `n - 1`; the shape's kind from the last.
    fn block_of(n: &[u32; 10]) -> Attrs {
        let sym = |i: u32| i.checked_sub(1).map(Sym::from_index);
        let kind = [ShapeKind::Query, ShapeKind::Http, ShapeKind::Operation];
        Attrs {
            db_system: sym(n[0]),
            shape: sym(n[1]).map(|text| Shape {
                kind: kind[n[9] as usize % 3],
                text,
            }),
            server_address: sym(n[2]),
            url_host: sym(n[3]),
            peer_service: sym(n[4]),
            messaging_system: sym(n[5]),
            messaging_destination: sym(n[6]),
            messaging_operation: sym(n[7]),
        }
    }

    /// Small numbers, and the largest (whose symbols take all 32 bits of
    /// their half of a word).
    fn number() -> impl Strategy<Value = u32> {
        prop_oneof![0u32..4, (u32::MAX - 2)..=u32::MAX]
    }

    proptest! {
        /// Two blocks have the same words exactly when they are equal, so
        /// interning by words keeps every distinct block apart. Blocks one
        /// field apart are drawn as often as unrelated ones.
        #[test]
        fn words_are_equal_exactly_when_blocks_are(
            a in prop::array::uniform10(number()),
            change in 0usize..10,
            to in number(),
            other in prop::array::uniform10(number()),
            near in any::<bool>(),
        ) {
            let mut b = if near { a } else { other };
            if near {
                b[change] = to;
            }
            let (x, y) = (block_of(&a), block_of(&b));
            prop_assert_eq!(x.words() == y.words(), x == y);
        }
    }

    fn shape_text(strings: &Interner, attrs: &Option<AttrsId>) -> Option<(ShapeKind, String)> {
        let shape = strings.attrs((*attrs)?).shape?;
        Some((shape.kind, strings.resolve(shape.text).to_string()))
    }

    fn build(strings: &Interner, pairs: &[(&str, &str)]) -> Option<AttrsId> {
        let mut b = AttrsBuilder::default();
        for (key, value) in pairs {
            if let Some((key, preferred)) = AttrKey::lookup(key) {
                b.set(strings, key, preferred, *value);
            }
        }
        b.finish(strings)
    }

    #[test]
    fn preferred_attribute_key_wins_in_any_order() {
        let strings = Interner::new();
        let old_first = build(
            &strings,
            &[("db.system", "old"), ("db.system.name", "postgresql")],
        );
        let new_first = build(
            &strings,
            &[("db.system.name", "postgresql"), ("db.system", "old")],
        );
        assert_eq!(old_first, new_first);
        let system = strings.attrs(old_first.unwrap()).db_system.unwrap();
        assert_eq!(strings.resolve(system), "postgresql");
        let shaped = build(
            &strings,
            &[
                ("db.statement", "SELECT old"),
                ("db.query.text", "SELECT 1"),
            ],
        );
        assert_eq!(
            shape_text(&strings, &shaped),
            Some((ShapeKind::Query, "SELECT %s".into()))
        );
    }

    #[test]
    fn the_shape_does_not_depend_on_the_order_of_attributes() {
        let pairs = [
            ("db.statement", "SELECT * FROM t WHERE id = 42"),
            ("db.system", "mysql"),
            ("http.method", "get"),
            ("url.full", "https://api.example:8443/users/7?page=2"),
            ("http.route", "/users/{id}"),
            ("server.address", "api.example"),
        ];
        let strings = Interner::new();
        let forward = build(&strings, &pairs);
        let mut reversed = pairs;
        reversed.reverse();
        assert_eq!(forward, build(&strings, &reversed));
        assert_eq!(
            shape_text(&strings, &forward),
            Some((ShapeKind::Query, "SELECT * FROM t WHERE id = %s".into()))
        );
        // Without the statement, the route (before the URL) with the method.
        let http = build(&strings, &pairs[2..]);
        assert_eq!(
            http,
            build(&strings, &[pairs[5], pairs[4], pairs[3], pairs[2]])
        );
        assert_eq!(
            shape_text(&strings, &http),
            Some((ShapeKind::Http, "GET /users/{id}".into()))
        );
        let host = strings
            .attrs(http.unwrap())
            .url_host
            .map(|h| strings.resolve(h));
        assert_eq!(host, Some("api.example"));
    }

    #[test]
    fn http_shapes_need_a_method_or_a_url() {
        let strings = Interner::new();
        let route_only = build(&strings, &[("http.route", "/users/{id}")]);
        assert_eq!(route_only, None, "a route alone is no call, and not kept");
        let url_only = build(&strings, &[("http.url", "http://geo/reverse/12?x=1")]);
        assert_eq!(
            shape_text(&strings, &url_only),
            Some((ShapeKind::Http, "http://geo/reverse/*?*".into()))
        );
        let method_only = build(&strings, &[("http.method", "GET")]);
        assert_eq!(method_only, None);
    }

    #[test]
    fn no_raw_statement_or_url_is_interned() {
        let strings = Interner::new();
        let mut b = AttrsBuilder::default();
        b.set(&strings, AttrKey::DbSystem, true, "postgresql");
        b.set(&strings, AttrKey::DbStatement, true, "SELECT 0");
        let first = b.finish(&strings);
        let held = strings.len();
        for i in 1..200 {
            let statement = format!("SELECT * FROM t WHERE id = {i}");
            let url = format!("https://api.example/users/{i}?page={i}");
            let mut b = AttrsBuilder::default();
            b.set(&strings, AttrKey::DbSystem, true, "postgresql");
            b.set(&strings, AttrKey::DbStatement, true, statement.as_str());
            let query = b.finish(&strings);
            let mut b = AttrsBuilder::default();
            b.set(&strings, AttrKey::HttpMethod, true, "GET");
            b.set(&strings, AttrKey::UrlFull, true, url);
            let call = b.finish(&strings);
            assert!(query.is_some() && call.is_some());
        }
        // One query shape, one call shape, one host: three strings for
        // 398 distinct statements and URLs.
        assert_eq!(strings.len(), held + 3);
        assert!(first.is_some());
        assert_eq!(strings.get("SELECT * FROM t WHERE id = 7"), None);
    }

    #[test]
    fn empty_text_is_no_value() {
        let strings = Interner::new();
        let mut b = AttrsBuilder::default();
        b.set(&strings, AttrKey::PeerService, true, "");
        b.imply(&strings, AttrKey::DbStatement, String::new());
        assert_eq!(b.finish(&strings), None);
        assert!(strings.is_empty());
    }
}
