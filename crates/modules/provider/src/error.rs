use ve_types::ErrorCode;

/// provider errors. Codes are stable: never renumber, only append.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("invalid address {0:?}: {1}")]
    InvalidAddress(String, String),
    #[error("invalid host URI {0:?}: {1}")]
    InvalidHostUri(String, String),
    #[error("invalid attributes: {0}")]
    InvalidAttributes(String),
    #[error("invalid provider info: {0}")]
    InvalidInfo(String),
    #[error("invalid public key: {0}")]
    InvalidPublicKey(String),
    #[error("provider {0} already exists: use `tx provider update` to change it")]
    ProviderExists(String),
    #[error("provider {0} not found: register it first with `tx provider create`")]
    ProviderNotFound(String),
    #[error("provider {0} has {1} active lease(s): close them (or wait for them to end) before deleting")]
    HasActiveLeases(String, u64),
    #[error("invalid domain {0:?}: {1}")]
    InvalidDomain(String, String),
    #[error("no domain verification for provider {0}: request one with `tx provider verify-domain request`")]
    VerificationNotFound(String),
    #[error("domain verification token of {0} expired: request a new one")]
    VerificationExpired(String),
    #[error("domain verification of {0} is {1}: only a pending verification can be confirmed")]
    VerificationNotPending(String, String),
    #[error("attestor {0} is not registered: an administrator must add it with MsgAddAttestor")]
    UnknownAttestor(String),
    #[error("attestation signature does not verify: the attestor must sign the payload of docs/provider.md for this chain, owner, domain and token")]
    BadAttestation,
    #[error("attestation time {observed_at} is outside [{from}, {to}]: the DNS lookup must happen after the request and recently")]
    StaleAttestation {
        observed_at: i64,
        from: i64,
        to: i64,
    },
    #[error("{0} may not manage DNS attestors: needs the administrator role or the gov account")]
    Unauthorized(String),
    #[error("attestor {0} already registered")]
    AttestorExists(String),
    #[error("invalid provider params: {0}")]
    InvalidParams(String),
    #[error("invalid provider genesis: {0}")]
    InvalidGenesis(String),
    #[error("stored provider state is corrupt: {0}")]
    Corrupt(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl ErrorCode for ProviderError {
    fn codespace(&self) -> &'static str {
        "provider"
    }
    fn code(&self) -> u32 {
        match self {
            Self::InvalidAddress(..) => 2,
            Self::InvalidHostUri(..) => 3,
            Self::InvalidAttributes(_) => 4,
            Self::InvalidInfo(_) => 5,
            Self::InvalidPublicKey(_) => 6,
            Self::ProviderExists(_) => 7,
            Self::ProviderNotFound(_) => 8,
            Self::HasActiveLeases(..) => 9,
            Self::InvalidDomain(..) => 10,
            Self::VerificationNotFound(_) => 11,
            Self::VerificationExpired(_) => 12,
            Self::VerificationNotPending(..) => 13,
            Self::UnknownAttestor(_) => 14,
            Self::BadAttestation => 15,
            Self::StaleAttestation { .. } => 16,
            Self::Unauthorized(_) => 17,
            Self::AttestorExists(_) => 18,
            Self::InvalidParams(_) => 19,
            Self::InvalidGenesis(_) => 20,
            Self::Corrupt(_) => 21,
            Self::InvalidRequest(_) => 22,
        }
    }
}
