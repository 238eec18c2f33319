use ve_types::{AppError, ErrorCode};

/// roles errors. Codes are stable: never renumber, only append.
#[derive(Debug, thiserror::Error)]
pub enum RolesError {
    #[error("invalid address {0:?}: {1}")]
    InvalidAddress(String, String),
    #[error("unknown role {0:?}: use genesis_account, administrator, moderator, validator, service_provider, customer or support_agent")]
    UnknownRole(String),
    #[error("unknown account state {0:?}: use active, suspended or terminated")]
    UnknownState(String),
    #[error("{sender} may not {action} role {role}: genesis accounts may change every role, administrators every role except genesis_account and administrator")]
    NotAllowed {
        sender: String,
        action: &'static str,
        role: &'static str,
    },
    #[error("{0} already holds role {1}")]
    AlreadyHasRole(String, &'static str),
    #[error("{0} does not hold role {1}")]
    RoleNotHeld(String, &'static str),
    #[error("{0} holds {1} roles (max_roles_per_account): revoke one first")]
    TooManyRoles(String, u32),
    #[error("revoking your own role is disabled (params.allow_self_revoke)")]
    SelfRevoke,
    #[error("the genesis_account role cannot be revoked from genesis account {0}")]
    GenesisRoleFixed(String),
    #[error(
        "account {0} is {1}: it cannot send transactions; an administrator must reactivate it"
    )]
    NotOperational(String, &'static str),
    #[error("{0} may not change account states: only genesis accounts and administrators may")]
    NotStateAuthority(String),
    #[error("you cannot change your own account state")]
    SelfStateChange,
    #[error("only a genesis account may change the state of genesis account {0}")]
    GenesisAccountProtected(String),
    #[error("account state cannot move from {0} to {1}")]
    InvalidTransition(&'static str, &'static str),
    #[error("{0} is not a genesis account: only genesis accounts may nominate administrators")]
    NotGenesisAccount(String),
    #[error("{0} lacks role {1}")]
    MissingRole(String, &'static str),
    #[error(
        "{0} is not an authority: params change needs the gov module account or a genesis account"
    )]
    Unauthorized(String),
    #[error("invalid {field}: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("invalid params: {0}")]
    InvalidParams(String),
    #[error("invalid genesis: {0}")]
    InvalidGenesis(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("stored roles state is corrupt: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Store(AppError),
}

impl From<AppError> for RolesError {
    fn from(e: AppError) -> Self {
        Self::Store(e)
    }
}

impl ErrorCode for RolesError {
    fn codespace(&self) -> &'static str {
        match self {
            Self::InvalidAddress(..) => "sdk",
            Self::Store(e) => e.codespace,
            _ => "roles",
        }
    }
    fn code(&self) -> u32 {
        match self {
            Self::InvalidAddress(..) => 7,
            Self::UnknownRole(_) => 2,
            Self::UnknownState(_) => 3,
            Self::NotAllowed { .. } => 4,
            Self::AlreadyHasRole(..) => 5,
            Self::RoleNotHeld(..) => 6,
            Self::TooManyRoles(..) => 7,
            Self::SelfRevoke => 8,
            Self::GenesisRoleFixed(_) => 9,
            Self::NotOperational(..) => 10,
            Self::NotStateAuthority(_) => 11,
            Self::SelfStateChange => 12,
            Self::GenesisAccountProtected(_) => 13,
            Self::InvalidTransition(..) => 14,
            Self::NotGenesisAccount(_) => 15,
            Self::MissingRole(..) => 16,
            Self::Unauthorized(_) => 17,
            Self::InvalidField { .. } => 18,
            Self::InvalidParams(_) => 19,
            Self::InvalidGenesis(_) => 20,
            Self::InvalidRequest(_) => 21,
            Self::Corrupt(_) => 22,
            Self::Store(e) => e.code,
        }
    }
}
