//! Rust client: keys, tx building and signing, typed queries, CometBFT RPC.

pub mod keyring;
pub mod query;
pub mod rpc;
pub mod rpc_types;
pub mod tx;
pub mod ws;

pub use keyring::{Backend, KeyInfo, Keyring, KeyringError};
