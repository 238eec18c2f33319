//! Rust client for VirtEngine (and any Cosmos SDK chain behind CometBFT 0.38): key
//! storage, SIGN_MODE_DIRECT transactions, typed queries, CometBFT JSON-RPC and event
//! subscriptions.
//!
//! Never runs inside consensus, so it may block on the network and read the clock;
//! it still returns typed errors instead of panicking, because daemons embed it.

pub mod capture;
pub mod client;
pub mod keyring;
pub mod query;
pub mod rpc;
pub mod rpc_types;
pub mod tx;
pub mod webauthn;
pub mod ws;

pub use client::{adjusted_gas, Client, ClientError, Gas, TxResponse, DEFAULT_TX_TIMEOUT};
pub use keyring::{Backend, KeyInfo, Keyring, KeyringError};
pub use query::{BaseAccount, GasInfo, QueryClient, QueryError};
pub use rpc::{RpcClient, RpcError};
pub use tx::{msg_send, SignedTx, TxBuilder};
