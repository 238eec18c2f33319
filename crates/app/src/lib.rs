//! The VirtEngine ABCI 2.0 application.
//!
//! It composes the modules in a written-out order, runs the transaction pipeline
//! (bounds → decode → stateless checks in parallel → signature → sequence → fee → gas →
//! route → events), and keeps state in the versioned JMT store: a block's writes
//! become durable at `Commit`, together with its height, or not at all.

mod abci;
mod app;
mod config;
mod execute;
pub mod export;
mod fee;
pub mod genesis;
mod modules;
mod query;
pub mod scoring;
pub mod testing;
mod tx;

pub use app::{App, BlockHeader, BlockOutcome, QueryResult, SystemStep, TxOutcomeView};
pub use config::AppConfig;
pub use export::StateExport;
pub use fee::MinGasPrice;
pub use genesis::AppGenesis;
