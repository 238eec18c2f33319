//! Benchmarks run from the binary (`virtengine bench ...`).
//!
//! - [`load`]: a full-node load generator over CometBFT RPC that works against VirtEngine and
//!   against a stock Cosmos SDK chain, so the two can be compared with the same tool.
//!
//! The app-only benchmark (FinalizeBlock through the mock-consensus harness) is a criterion
//! bench in `crates/app/benches/finalize_block.rs`.

// Not consensus code: a benchmark measures wall-clock time and reports rates as floats.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

pub mod load;

pub use load::LoadArgs;
