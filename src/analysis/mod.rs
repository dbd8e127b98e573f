//! Analyses over a trace set. Each module computes plain result data; the
//! [`crate::report`] stage formats it.

pub mod critical_path;
pub mod self_time;
pub mod summary;
