//! End-to-end tests of the `critpath` binary and conformance tests against
//! the outside oracles in `tests/oracles/`. One test binary for all (faster
//! to link than one per file).

mod async_fan_out;
mod cli;
mod data_quality;
mod determinism;
mod diagnosis;
mod gate;
mod hostile_times;
mod html;
mod oracles;
mod outside_formats;
mod parquet;
mod queues;
mod reports;
mod scale;
mod scenarios;
mod sentry_detectors;
mod util;
mod visual;
