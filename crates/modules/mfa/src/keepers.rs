//! The narrow traits mfa reaches other modules through: identity (VEID score), roles
//! (account state, administrators) and the enclave registry (who checks one-time codes).
//! The app wires them.

use std::sync::Arc;
use ve_identity::proto::AccountStatus;
use ve_identity::IdentityGate;
use ve_module::gate::{Role, RoleGate};
use ve_module::Context;
use ve_types::{Address, AppError};

/// enclave registry: the validator enclaves that open TOTP / email secrets, check codes
/// and sign factor attestations (issue 7 through issue 5).
pub trait EnclaveVerifiers: Send + Sync {
    /// Envelope fingerprints of the active validator enclave keys at this height: the
    /// recipients a TOTP / email secret must be sealed to.
    fn recipient_fingerprints(&self, ctx: &mut Context<'_>) -> Result<Vec<String>, AppError>;

    /// Whether `validator`'s active enclave signed `msg` (charges gas); `Err` only when
    /// state cannot be read.
    fn verify_signature(
        &self,
        ctx: &mut Context<'_>,
        validator: &Address,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<bool, AppError>;
}

#[derive(Clone)]
pub struct Keepers {
    pub identity: Arc<dyn IdentityGate>,
    pub roles: Arc<dyn RoleGate>,
    pub enclaves: Arc<dyn EnclaveVerifiers>,
    /// The gov module account: always an authority for MFA configuration.
    pub gov: Address,
}

impl Keepers {
    /// gov, a genesis account or an administrator.
    pub fn is_authority(&self, ctx: &mut Context<'_>, addr: &Address) -> Result<bool, AppError> {
        Ok(*addr == self.gov
            || self.roles.has_role(ctx, addr, Role::GenesisAccount)?
            || self.roles.has_role(ctx, addr, Role::Administrator)?)
    }

    /// The account's VEID score if its status is VERIFIED (unexpired, unlocked), else 0.
    pub fn verified_score(&self, ctx: &mut Context<'_>, addr: &Address) -> Result<u32, AppError> {
        Ok(self
            .identity
            .score(ctx, addr)?
            .filter(|s| s.status == AccountStatus::Verified)
            .map_or(0, |s| s.score))
    }
}
