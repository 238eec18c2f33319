//! The node's client-facing services beside CometBFT's RPC: the Cosmos REST (LCD) gateway, the
//! Cosmos gRPC services with reflection, and Prometheus metrics.
//!
//! Entry points (each runs until its task is dropped or fails to bind):
//! - [`serve_rest`]`(app, rpc_url, addr)`: REST on :1317 by convention;
//! - [`serve_grpc`]`(app, rpc_url, addr)`: gRPC on :9090 by convention;
//! - [`serve_metrics`]`(addr)`: Prometheus `/metrics` (CometBFT's own metrics use :26660).
//!
//! Queries run in-process on the `App` (the same handlers as ABCI `Query`); transactions are
//! sent to CometBFT at `rpc_url` so that they pass through its mempool.

// Not consensus code: wall-clock latency and float histogram values are what metrics are.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

pub mod comet;
pub mod descriptors;
pub mod error;
pub mod grpc;
pub mod json;
pub mod metrics;
pub mod rest;
pub mod service;

#[cfg(test)]
mod tests;

pub use grpc::serve_grpc;
pub use metrics::serve_metrics;
pub use rest::serve_rest;
