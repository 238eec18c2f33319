use ve_types::ErrorCode;

/// bank errors. Codes are stable: never renumber, only append. Insufficient funds and
/// invalid coins/addresses use the Cosmos `sdk` codes so wallets show familiar messages.
#[derive(Debug, thiserror::Error)]
pub enum BankError {
    #[error("no inputs to send tx")]
    NoInputs,
    #[error("no outputs to send tx")]
    NoOutputs,
    #[error("sum inputs != sum outputs")]
    InputOutputMismatch,
    #[error("{0} transfers are currently disabled")]
    SendDisabled(String),
    #[error("client metadata for denom {0} not found")]
    DenomMetadataNotFound(String),
    #[error("multiple senders not allowed: MsgMultiSend takes exactly one input")]
    MultipleSenders,
    #[error("spendable balance {have}{denom} is smaller than {need}{denom}: insufficient funds")]
    InsufficientFunds {
        denom: String,
        have: u128,
        need: u128,
    },
    #[error("invalid address {0:?}: {1}")]
    InvalidAddress(String, String),
    #[error("invalid coins: {0}")]
    InvalidCoins(String),
    #[error("{0} is not allowed to receive funds (module account)")]
    BlockedRecipient(String),
    #[error("balance or supply overflow for {0}")]
    Overflow(String),
    #[error("stored bank state is corrupt: {0}")]
    Corrupt(String),
    #[error("invalid genesis: {0}")]
    InvalidGenesis(String),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl ErrorCode for BankError {
    fn codespace(&self) -> &'static str {
        match self {
            Self::InsufficientFunds { .. }
            | Self::InvalidAddress(..)
            | Self::InvalidCoins(_)
            | Self::BlockedRecipient(_) => "sdk",
            _ => "bank",
        }
    }
    fn code(&self) -> u32 {
        match self {
            Self::NoInputs => 2,
            Self::NoOutputs => 3,
            Self::InputOutputMismatch => 4,
            Self::SendDisabled(_) => 5,
            Self::DenomMetadataNotFound(_) => 6,
            Self::MultipleSenders => 9,
            Self::Overflow(_) => 20,
            Self::Corrupt(_) => 21,
            Self::InvalidGenesis(_) => 22,
            Self::InvalidRequest(_) => 23,
            // sdk codespace codes (cosmos-sdk types/errors).
            Self::InsufficientFunds { .. } => 5,
            Self::InvalidAddress(..) => 7,
            Self::InvalidCoins(_) => 10,
            Self::BlockedRecipient(_) => 4,
        }
    }
}
