//! The narrow traits through which handlers gate sensitive actions on roles and MFA
//! (DESIGN §2.7). They live here, at the floor, so that a module can gate on roles or
//! MFA without depending on the crate that implements them: the `roles` and `mfa`
//! modules implement these traits and the app hands `Arc<dyn ...>`s to the modules that
//! gate. The identity gate (`tier`, `require_tier`) lives in the identity crate.

use crate::Context;
use ve_types::{Address, AppError};

/// The chain's roles (spec §2.3). Stable numbering: these values are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    GenesisAccount = 1,
    Administrator = 2,
    Moderator = 3,
    Validator = 4,
    ServiceProvider = 5,
    Customer = 6,
    SupportAgent = 7,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::GenesisAccount,
        Role::Administrator,
        Role::Moderator,
        Role::Validator,
        Role::ServiceProvider,
        Role::Customer,
        Role::SupportAgent,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Role::GenesisAccount => "genesis_account",
            Role::Administrator => "administrator",
            Role::Moderator => "moderator",
            Role::Validator => "validator",
            Role::ServiceProvider => "service_provider",
            Role::Customer => "customer",
            Role::SupportAgent => "support_agent",
        }
    }

    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }

    pub fn from_u32(v: u32) -> Option<Role> {
        Role::ALL.into_iter().find(|r| *r as u32 == v)
    }
}

/// Role membership, as the `roles` module keeps it.
pub trait RoleGate: Send + Sync {
    fn has_role(&self, ctx: &mut Context<'_>, addr: &Address, role: Role)
        -> Result<bool, AppError>;

    /// Fails with a clear error naming the missing role unless `addr` holds `role`.
    fn require_role(
        &self,
        ctx: &mut Context<'_>,
        addr: &Address,
        role: Role,
    ) -> Result<(), AppError>;

    /// Fails unless `addr`'s administrative account state lets it act (not suspended or
    /// terminated). The default (no account states kept) lets every account act.
    fn require_operational(&self, _ctx: &mut Context<'_>, _addr: &Address) -> Result<(), AppError> {
        Ok(())
    }
}

/// Transaction types that may need a fresh MFA session (spec §3.4 sensitive-transaction
/// table). Stable numbering: these values are stored in policies and sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SensitiveAction {
    LargeTransfer = 1,
    KeyRotation = 2,
    AccountRecovery = 3,
    ProviderRegistration = 4,
    ValidatorRegistration = 5,
    HighValueOrder = 6,
    Withdrawal = 7,
    RoleChange = 8,
    IdentityRebind = 9,
    GovernanceProposal = 10,
    HpcClusterRegistration = 11,
    GovernanceVote = 12,
    /// Revoking a factor or changing an enabled MFA policy (spec: two_factor_disable).
    MfaChange = 13,
    /// Rotating an encryption recipient key (opt-in by default: gated for accounts with an
    /// enabled MFA policy).
    EncryptionKeyRotation = 14,
    /// Adding a trusted device.
    TrustedDeviceChange = 15,
    /// Completing a borderline identity verification with a second factor: the one
    /// action whose VEID score is, by definition, below the usual minimum.
    BorderlineFallback = 16,
}

impl SensitiveAction {
    pub const ALL: [SensitiveAction; 16] = [
        SensitiveAction::LargeTransfer,
        SensitiveAction::KeyRotation,
        SensitiveAction::AccountRecovery,
        SensitiveAction::ProviderRegistration,
        SensitiveAction::ValidatorRegistration,
        SensitiveAction::HighValueOrder,
        SensitiveAction::Withdrawal,
        SensitiveAction::RoleChange,
        SensitiveAction::IdentityRebind,
        SensitiveAction::GovernanceProposal,
        SensitiveAction::HpcClusterRegistration,
        SensitiveAction::GovernanceVote,
        SensitiveAction::MfaChange,
        SensitiveAction::EncryptionKeyRotation,
        SensitiveAction::TrustedDeviceChange,
        SensitiveAction::BorderlineFallback,
    ];

    pub fn from_u32(v: u32) -> Option<SensitiveAction> {
        SensitiveAction::ALL.into_iter().find(|a| *a as u32 == v)
    }
}

/// Where handlers ask "does this sensitive action carry a valid MFA session?". The
/// implementation reads the MFA proof from the transaction's extension options
/// ([`Context::tx`]), so every message type — direct, nested or batched — is gated the
/// same way. `value_uve` is the value at stake in `uve` (0 where the action has none);
/// value-threshold rules compare against it.
pub trait MfaGate: Send + Sync {
    fn require_mfa(
        &self,
        ctx: &mut Context<'_>,
        addr: &Address,
        action: SensitiveAction,
        value_uve: u128,
    ) -> Result<(), AppError>;
}
