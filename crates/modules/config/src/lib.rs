//! `config`: the one registry of approved capture clients.
//!
//! An identity upload must be signed by a client application (mobile capture app,
//! portal) that governance or an administrator has approved here. A client has one
//! current key (Ed25519 or secp256k1); a rotation installs a new key and keeps the old
//! one valid for an overlap of blocks. Clients are suspended, reactivated and revoked
//! (terminal). Every change is signed by an authority: an address in `params.admins`
//! or the gov module account. Issue 7 (roles) replaces `admins` with the administrator
//! role.
//!
//! Other modules use [`keeper`]: `verify_client_signature` and `is_authority`.

mod error;
pub mod events;
pub mod genesis;
pub mod keeper;
pub mod msg_server;
pub mod params;
pub mod query;
pub mod semver;
pub mod state;
pub mod state_key;

pub use error::ConfigError;
pub use genesis::{ConfigGenesis, GenesisClient};
pub use keeper::{is_authority, verify_client_signature, ClientSignatureCheck};
pub use msg_server::{
    ReactivateClientHandler, RegisterClientHandler, RevokeClientHandler, RotateClientKeyHandler,
    SuspendClientHandler, UpdateClientHandler, UpdateParamsHandler,
};
pub use params::ConfigParams;

pub use ve_proto::virtengine::config::v1 as proto;
