//! Self time of every span (being written).

use crate::model::{Nanos, Trace};

/// Self time of every span of `trace`, indexed like [`Trace::spans`].
pub fn self_times(trace: &Trace) -> Vec<Nanos> {
    trace.spans.iter().map(|s| s.duration().max(0)).collect()
}
