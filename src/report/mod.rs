//! Reports: result data formatted for people (tables, Markdown) and for
//! programs (JSON, CSV). Formatters only format; they compute nothing.

pub mod stats;
pub mod table;
pub mod units;
