//! Turning untrusted bytes into a checked transaction, before any state is touched.
//!
//! Order matters for denial of service: size and nesting bounds come before decoding,
//! decoding before signature work, and everything here is stateless so a block's
//! transactions can be checked in parallel.

mod bounds;
mod decode;

pub(crate) use decode::{decode_tx, CheckedTx};
pub(crate) use ve_proto::sign_doc_bytes;

/// Largest transaction accepted, in bytes (CometBFT's default mempool `max_tx_bytes`).
pub const MAX_TX_BYTES: usize = 1024 * 1024;
/// Deepest protobuf nesting accepted anywhere in a transaction.
pub const MAX_NESTING: usize = 16;
/// Most messages in one transaction.
pub const MAX_MSGS: usize = 64;
/// Largest gas limit one transaction may ask for.
pub const MAX_GAS_LIMIT: u64 = 100_000_000;
