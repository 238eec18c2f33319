//! `provider`: who may sell compute (spec §4.3, §6.3 step 1).
//!
//! - A provider is an account with a host URI (https), capability attributes (bounded,
//!   unique keys, stored sorted), contact info and an optional daemon public key.
//!   Registering needs VEID tier Standard ([`ve_identity::IdentityGate`]) and an MFA
//!   session for [`ve_module::gate::SensitiveAction::ProviderRegistration`]
//!   ([`ve_module::gate::MfaGate`]); both are checked in the handler.
//! - Deleting a provider with active leases is refused; the market module answers
//!   through [`ActiveLeases`].
//! - Domain verification: the chain issues a token derived from chain data
//!   ([`domain::token`]); the provider publishes it as a DNS TXT record; an off-chain
//!   attestor whose Ed25519 key was registered by an administrator (or gov) signs what it
//!   saw ([`domain::attestation_payload`]); only then is the host URI marked trusted.
//!
//! `docs/provider.md` gives the rules, payloads and error codes.

pub mod attributes;
pub mod domain;
mod error;
pub mod events;
pub mod genesis;
pub mod msg_server;
pub mod params;
pub mod query;
pub mod state;
pub mod state_key;

pub use error::ProviderError;
pub use genesis::ProviderGenesis;
pub use msg_server::{
    AddAttestorHandler, ConfirmDomainVerificationHandler, CreateProviderHandler,
    DeleteProviderHandler, Gates, RemoveAttestorHandler, RequestDomainVerificationHandler,
    RevokeDomainVerificationHandler, UpdateProviderHandler,
};
pub use params::ProviderParams;

pub use ve_proto::virtengine::provider::v1 as proto;

use ve_module::Context;
use ve_types::{Address, AppError};

/// How the provider module asks the market whether a provider still serves leases. The
/// market module implements it; the app wires it in.
pub trait ActiveLeases: Send + Sync {
    /// Number of active leases (or at least whether there is one: any value > 0 refuses).
    fn active_lease_count(
        &self,
        ctx: &mut Context<'_>,
        provider: &Address,
    ) -> Result<u64, AppError>;
}

/// Who may add or remove DNS attestors besides the gov module account.
pub trait AttestorAuthority: Send + Sync {
    fn is_authority(&self, ctx: &mut Context<'_>, addr: &Address) -> Result<bool, AppError>;
}
