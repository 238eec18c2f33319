use ve_types::ErrorCode;

/// offering errors. Codes are stable: never renumber, only append.
#[derive(Debug, thiserror::Error)]
pub enum OfferingError {
    #[error("invalid address {0:?}: {1}")]
    InvalidAddress(String, String),
    #[error("invalid offering: {0}")]
    InvalidOffering(String),
    #[error("{0} is not a registered provider: register with `tx provider create` first")]
    NotAProvider(String),
    #[error("offering {0} not found")]
    OfferingNotFound(String),
    #[error("offering {0} is deactivated: it accepts no orders or updates")]
    OfferingInactive(String),
    #[error("provider {0} already has {1} active offerings: deactivate one first")]
    TooManyOfferings(String, u64),
    #[error("invalid order: {0}")]
    InvalidOrder(String),
    #[error("invalid offering genesis: {0}")]
    InvalidGenesis(String),
    #[error("stored offering state is corrupt: {0}")]
    Corrupt(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("amount overflow: {0}")]
    Overflow(String),
}

impl ErrorCode for OfferingError {
    fn codespace(&self) -> &'static str {
        "offering"
    }
    fn code(&self) -> u32 {
        match self {
            Self::InvalidAddress(..) => 2,
            Self::InvalidOffering(_) => 3,
            Self::NotAProvider(_) => 4,
            Self::OfferingNotFound(_) => 5,
            Self::OfferingInactive(_) => 6,
            Self::TooManyOfferings(..) => 7,
            Self::InvalidOrder(_) => 8,
            Self::InvalidGenesis(_) => 9,
            Self::Corrupt(_) => 10,
            Self::InvalidRequest(_) => 11,
            Self::Overflow(_) => 12,
        }
    }
}
