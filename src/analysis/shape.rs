//! The shape of a span: what makes two calls "the same call" for findings
//! and query tables. A database span's shape is its normalised statement;
//! an HTTP call's is its method and parameterised route or URL; anything
//! else is its operation name.

use rustc_hash::FxHashMap;

use crate::model::{Interner, Span, Sym};
use crate::normalize;

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

/// A span's shape, interned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    /// What it describes.
    pub kind: ShapeKind,
    /// The shape text.
    pub text: Sym,
}

/// Computes shapes, remembering each statement's so that a statement
/// repeated a million times is normalised once.
pub struct Shaper<'a> {
    strings: &'a Interner,
    statements: FxHashMap<(Option<Sym>, Sym), Sym>,
    urls: FxHashMap<(Option<Sym>, Sym), Sym>,
}

impl<'a> Shaper<'a> {
    /// A shaper interning into `strings`.
    pub fn new(strings: &'a Interner) -> Self {
        Shaper {
            strings,
            statements: FxHashMap::default(),
            urls: FxHashMap::default(),
        }
    }

    /// The shape of a span.
    pub fn shape(&mut self, span: &Span) -> Shape {
        let attrs = span.attrs();
        if let Some(statement) = attrs.db_statement {
            let text = self.statement(attrs.db_system, statement);
            return Shape {
                kind: ShapeKind::Query,
                text,
            };
        }
        let target = attrs.http_route.or(attrs.url_full);
        if let (Some(target), true) = (
            target,
            attrs.http_method.is_some() || attrs.url_full.is_some(),
        ) {
            let text = self.url(attrs.http_method, target);
            return Shape {
                kind: ShapeKind::Http,
                text,
            };
        }
        Shape {
            kind: ShapeKind::Operation,
            text: span.name,
        }
    }

    /// The normalised statement of a database span, if it has one.
    pub fn statement(&mut self, system: Option<Sym>, statement: Sym) -> Sym {
        let strings = self.strings;
        *self
            .statements
            .entry((system, statement))
            .or_insert_with(|| {
                let system = system.map(|s| strings.resolve(s));
                strings.intern(&normalize::statement_shape(
                    system,
                    strings.resolve(statement),
                ))
            })
    }

    fn url(&mut self, method: Option<Sym>, target: Sym) -> Sym {
        let strings = self.strings;
        *self.urls.entry((method, target)).or_insert_with(|| {
            let method = method.map(|m| strings.resolve(m));
            strings.intern(&normalize::url_shape(method, strings.resolve(target)))
        })
    }
}
