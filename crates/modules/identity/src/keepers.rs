//! The narrow traits identity reaches other modules through. The app implements them
//! over auth (account keys), config (approved clients, admins) and encryption (envelopes).

use std::sync::Arc;
use ve_module::Context;
use ve_types::{Address, AppError};

/// auth: the account's public key (compressed secp256k1), set by its first transaction.
pub trait AccountKeys: Send + Sync {
    fn account_pub_key(
        &self,
        ctx: &mut Context<'_>,
        addr: &Address,
    ) -> Result<Option<Vec<u8>>, AppError>;
}

/// What identity asks the client registry to confirm for an upload.
#[derive(Clone, Debug)]
pub struct ClientCheck<'a> {
    pub client_id: &'a str,
    pub client_version: &'a str,
    pub scope_type: &'a str,
    /// The 32-byte client digest (docs/veid.md).
    pub digest: &'a [u8; 32],
    pub signature: &'a [u8],
}

/// config: an active approved client, at an approved version and for this scope type,
/// signed the digest (current key, or rotated-out key within its overlap). Returns the
/// key version that verified; errors carry config's codes.
pub trait ClientRegistry: Send + Sync {
    fn verify_client_signature(
        &self,
        ctx: &mut Context<'_>,
        check: &ClientCheck<'_>,
    ) -> Result<u32, AppError>;
}

/// encryption: validates an envelope for storage now (format, algorithm, every recipient
/// registered and usable) and returns its recipient fingerprints.
pub trait EnvelopeValidator: Send + Sync {
    fn validate_envelope(
        &self,
        ctx: &mut Context<'_>,
        envelope: &[u8],
    ) -> Result<Vec<String>, AppError>;
}

/// config: whether an address may change identity's admin settings (config admins or the
/// gov module account; issue 7 replaces the admin list with the administrator role).
pub trait AdminAuthority: Send + Sync {
    fn is_authority(&self, ctx: &mut Context<'_>, addr: &Address) -> Result<bool, AppError>;
}

/// enclave registry: the envelope fingerprints of the active validator enclave keys at
/// this height, in validator order. These are the identity recipient set (issue 5): an
/// upload must be sealed to every enclave that will score it. Empty on a chain with no
/// registered enclave, where `params.recipient_fingerprints` is the set instead.
pub trait EnclaveRecipients: Send + Sync {
    fn enclave_recipient_fingerprints(
        &self,
        ctx: &mut Context<'_>,
    ) -> Result<Vec<String>, AppError>;
}

/// Everything identity's handlers need from other modules.
#[derive(Clone)]
pub struct Keepers {
    pub accounts: Arc<dyn AccountKeys>,
    pub clients: Arc<dyn ClientRegistry>,
    pub envelopes: Arc<dyn EnvelopeValidator>,
    pub authority: Arc<dyn AdminAuthority>,
    pub enclaves: Arc<dyn EnclaveRecipients>,
}
