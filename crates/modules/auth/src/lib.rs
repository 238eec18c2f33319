//! `auth`: accounts, their numbers, sequences and public keys, and the module accounts.
//!
//! Accounts are stored as the Cosmos `Any` (`BaseAccount` or `ModuleAccount`) so the
//! standard `cosmos.auth.v1beta1.Query/Account` answer is the stored bytes, and standard
//! clients (CosmJS, Keplr) read them unchanged.

mod error;
pub mod genesis;
pub mod params;
pub mod query;
pub mod state;
pub mod state_key;

pub use error::AuthError;
pub use genesis::AuthGenesis;
pub use params::AuthParams;
pub use state::Account;

/// Module accounts that exist from genesis: they hold fees and (later) escrow,
/// and may not receive sends from users.
pub const MODULE_ACCOUNTS: &[&str] = &[
    "fee_collector",
    "escrow",
    "distribution",
    "bonded_tokens_pool",
    "not_bonded_tokens_pool",
    "gov",
    "mint",
];

/// Type URL of a secp256k1 account public key.
pub const SECP256K1_PUBKEY_URL: &str = "/cosmos.crypto.secp256k1.PubKey";
pub const BASE_ACCOUNT_URL: &str = "/cosmos.auth.v1beta1.BaseAccount";
pub const MODULE_ACCOUNT_URL: &str = "/cosmos.auth.v1beta1.ModuleAccount";
