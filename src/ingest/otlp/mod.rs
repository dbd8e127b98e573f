//! OTLP in its two encodings, JSON ([`json`]) and protobuf ([`proto`]),
//! which share the mapping of OTLP's enums, times and attributes onto the
//! span model ([`common`]), so one request reads the same from either.

pub(crate) mod common;
pub(crate) mod json;
pub(crate) mod proto;
