//! Fixture and load generator (being written).

fn main() {}
