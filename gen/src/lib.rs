//! critpath's trace generator, as a library: `examples/generate/main.rs`
//! is its command line, `benches/stages.rs` benches critpath on its load
//! model.
//!
//! - [`fixtures::write_tree`] writes the committed fixture tree (see
//!   `fixtures/README.md`), byte for byte the same on every run;
//!   [`fixtures::check_tree`] compares a tree with it (CI does).
//! - [`load::write`] streams a large, realistic trace set for benchmarks.
//!
//! Layout: scenarios and the load model build format-neutral traces
//! (`trace`, `calls`, `services`); one writer per format turns them into
//! bytes (`writers`). Randomness is our own seeded SplitMix64 (`rng`) so
//! that the fixtures never change under a dependency upgrade.
//!
//! The round trips through critpath's readers are the command line's tests
//! (`examples/generate/tests.rs`), where both crates are at hand.

mod calls;
pub mod fixtures;
pub mod integrity;
pub mod load;
pub mod queues;
mod rng;
pub mod scenarios;
mod services;
pub mod trace;
pub mod writers;
