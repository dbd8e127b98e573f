//! The shape of a span: what makes two calls "the same call" for findings
//! and query tables. A database span's shape is its normalised statement;
//! an HTTP call's is its method and parameterised route or URL; anything
//! else is its operation name.
//!
//! Shapes are made once, at ingest, by the attribute builder every reader
//! shares ([`crate::model::AttrsBuilder`]), which keeps the shape instead
//! of the raw statement or URL; analyses read [`crate::model::Span::shape`].

pub use crate::model::{Shape, ShapeKind};
