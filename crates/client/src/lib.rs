//! Rust client: keys, tx building and signing, typed queries, CometBFT RPC.

pub mod keyring;
pub mod tx;

pub use keyring::{Backend, KeyInfo, Keyring, KeyringError};
