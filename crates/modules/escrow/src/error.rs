use ve_types::ErrorCode;

/// escrow errors. Codes are stable: never renumber, only append.
#[derive(Debug, thiserror::Error)]
pub enum EscrowError {
    #[error("invalid escrow account id {0:?}: {1}")]
    InvalidAccountId(String, String),
    #[error("escrow account {0} not found: check the id (scope/xid) with `query escrow accounts --owner`")]
    AccountNotFound(String),
    #[error("escrow account {0} already exists")]
    AccountExists(String),
    #[error("escrow account {0} is closed: its funds were paid out and refunded")]
    AccountClosed(String),
    #[error("invalid amount: {0}")]
    InvalidAmount(String),
    #[error("denom {got} does not match escrow account {account}, which holds {want}")]
    DenomMismatch {
        account: String,
        want: String,
        got: String,
    },
    #[error("payment {payment} not found in escrow account {account}")]
    PaymentNotFound { account: String, payment: String },
    #[error("payment {payment} already exists in escrow account {account}")]
    PaymentExists { account: String, payment: String },
    #[error(
        "payment {payment} of escrow account {account} is closed: its balance was already paid out"
    )]
    PaymentClosed { account: String, payment: String },
    #[error("{signer} is not the payee of payment {payment}: only {payee} may withdraw it")]
    NotPayee {
        signer: String,
        payee: String,
        payment: String,
    },
    #[error("escrow account {0} is overdrawn: deposit enough to cover its debt first")]
    AccountOverdrawn(String),
    #[error("escrow account {account} already has {max} open payments")]
    TooManyPayments { account: String, max: u32 },
    #[error("escrow account {account} already has {max} sponsors: only the owner and existing depositors may deposit")]
    TooManySponsors { account: String, max: u32 },
    #[error("invalid address {0:?}: {1}")]
    InvalidAddress(String, String),
    #[error("invalid escrow params: {0}")]
    InvalidParams(String),
    #[error("invalid escrow genesis: {0}")]
    InvalidGenesis(String),
    #[error("amount overflow in escrow account {0}")]
    Overflow(String),
    #[error("stored escrow state is corrupt: {0}")]
    Corrupt(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("invalid payment id {0:?}: {1}")]
    InvalidPaymentId(String, String),
    #[error("invalid deposit grant: {0}")]
    InvalidGrant(String),
    #[error("no deposit grant from {granter} to {grantee}: the granter must first run `tx escrow grant {grantee} <limit>`")]
    GrantNotFound { granter: String, grantee: String },
    #[error("the deposit grant from {granter} to {grantee} expired at unix time {expiration}: ask the granter for a new grant")]
    GrantExpired {
        granter: String,
        grantee: String,
        expiration: i64,
    },
    #[error("deposit of {want} exceeds what the grant from {granter} has left ({left})")]
    GrantExceeded {
        granter: String,
        want: String,
        left: String,
    },
    #[error(
        "the deposit grant does not cover escrow account {account} (it funds scopes {scopes})"
    )]
    GrantScope { account: String, scopes: String },
}

impl ErrorCode for EscrowError {
    fn codespace(&self) -> &'static str {
        "escrow"
    }
    fn code(&self) -> u32 {
        match self {
            Self::InvalidAccountId(..) => 2,
            Self::AccountNotFound(_) => 3,
            Self::AccountExists(_) => 4,
            Self::AccountClosed(_) => 5,
            Self::InvalidAmount(_) => 6,
            Self::DenomMismatch { .. } => 7,
            Self::PaymentNotFound { .. } => 8,
            Self::PaymentExists { .. } => 9,
            Self::PaymentClosed { .. } => 10,
            Self::NotPayee { .. } => 11,
            Self::AccountOverdrawn(_) => 12,
            Self::TooManyPayments { .. } => 13,
            Self::TooManySponsors { .. } => 14,
            Self::InvalidAddress(..) => 15,
            Self::InvalidParams(_) => 16,
            Self::InvalidGenesis(_) => 17,
            Self::Overflow(_) => 18,
            Self::Corrupt(_) => 19,
            Self::InvalidRequest(_) => 20,
            Self::InvalidPaymentId(..) => 21,
            Self::InvalidGrant(_) => 22,
            Self::GrantNotFound { .. } => 23,
            Self::GrantExpired { .. } => 24,
            Self::GrantExceeded { .. } => 25,
            Self::GrantScope { .. } => 26,
        }
    }
}
