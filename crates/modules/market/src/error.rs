use ve_types::ErrorCode;

/// market errors. Codes are stable: never renumber, only append.
#[derive(Debug, thiserror::Error)]
pub enum MarketError {
    #[error("invalid id: {0}")]
    InvalidId(String),
    #[error("order {0} not found")]
    OrderNotFound(String),
    #[error("order {0} is not open: it already has a lease or was closed")]
    OrderNotOpen(String),
    #[error("bid {0} not found")]
    BidNotFound(String),
    #[error("bid {0} already exists: a provider bids once per order")]
    BidExists(String),
    #[error("bid {id} is {state}: {action} needs an {need} bid")]
    InvalidBidState {
        id: String,
        state: String,
        action: String,
        need: String,
    },
    #[error("order {order} already has {max} bids")]
    TooManyBids { order: String, max: u32 },
    #[error("bid price {price} is above the group's cap of {cap} per block")]
    PriceAboveCap { price: String, cap: String },
    #[error("invalid price: {0}")]
    InvalidPrice(String),
    #[error("invalid deposit: {0}")]
    InvalidDeposit(String),
    #[error("the resources offered do not cover the group: {0}")]
    ResourcesMismatch(String),
    #[error("{0} is not a registered provider: register with `tx provider create` first")]
    ProviderNotFound(String),
    #[error("provider {0} does not satisfy the group's placement requirements (attributes or auditor signatures)")]
    RequirementsNotMet(String),
    #[error("lease {0} not found")]
    LeaseNotFound(String),
    #[error("lease {0} is closed")]
    LeaseClosed(String),
    #[error("{signer} may not do this: only {allowed} may")]
    Unauthorized { signer: String, allowed: String },
    #[error("group {0} is not open: start it (or top up its escrow account) first")]
    GroupNotOpen(String),
    #[error("invalid address {0:?}: {1}")]
    InvalidAddress(String, String),
    #[error("invalid market params: {0}")]
    InvalidParams(String),
    #[error("stored market state is corrupt: {0}")]
    Corrupt(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("invalid lease close reason {0}: providers use 10000-19999")]
    InvalidReason(i32),
    #[error("order {order} was placed from an offering of {provider}: only that provider may bid on or lease it")]
    ReservedForProvider { order: String, provider: String },
    /// The daemon treats this as "already done" (it re-sends after a crash).
    #[error("usage record {seq} of lease {lease} already recorded")]
    UsageAlreadyRecorded { lease: String, seq: u64 },
    #[error("lease {0} has its final usage record: no further usage is accepted")]
    UsageFinalized(String),
    #[error("usage record {got} of lease {lease} is out of sequence: the next is {expected}")]
    UsageOutOfSequence {
        lease: String,
        expected: u64,
        got: u64,
    },
    #[error("usage of lease {lease} goes backwards: {counter} {value} is below the recorded {previous} (report cumulative usage)")]
    UsageDecreased {
        lease: String,
        counter: String,
        previous: u64,
        value: u64,
    },
    #[error("usage of lease {lease} is implausible: {counter} {value} exceeds {max} ({why})")]
    UsageImplausible {
        lease: String,
        counter: String,
        value: u64,
        max: String,
        why: String,
    },
}

impl ErrorCode for MarketError {
    fn codespace(&self) -> &'static str {
        "market"
    }
    fn code(&self) -> u32 {
        match self {
            Self::InvalidId(_) => 2,
            Self::OrderNotFound(_) => 3,
            Self::OrderNotOpen(_) => 4,
            Self::BidNotFound(_) => 5,
            Self::BidExists(_) => 6,
            Self::InvalidBidState { .. } => 7,
            Self::TooManyBids { .. } => 8,
            Self::PriceAboveCap { .. } => 9,
            Self::InvalidPrice(_) => 10,
            Self::InvalidDeposit(_) => 11,
            Self::ResourcesMismatch(_) => 12,
            Self::ProviderNotFound(_) => 13,
            Self::RequirementsNotMet(_) => 14,
            Self::LeaseNotFound(_) => 15,
            Self::LeaseClosed(_) => 16,
            Self::Unauthorized { .. } => 17,
            Self::GroupNotOpen(_) => 18,
            Self::InvalidAddress(..) => 19,
            Self::InvalidParams(_) => 20,
            Self::Corrupt(_) => 21,
            Self::InvalidRequest(_) => 22,
            Self::InvalidReason(_) => 23,
            Self::ReservedForProvider { .. } => 24,
            Self::UsageAlreadyRecorded { .. } => 25,
            Self::UsageFinalized(_) => 26,
            Self::UsageOutOfSequence { .. } => 27,
            Self::UsageDecreased { .. } => 28,
            Self::UsageImplausible { .. } => 29,
        }
    }
}
