//! The vocabulary every VirtEngine crate shares: account addresses, coins and amounts,
//! and the stable error codes that transactions report to clients.
//!
//! Nothing here knows about state or modules; it is pure data with checked arithmetic,
//! safe to use inside consensus.

mod address;
mod coin;
mod error;

pub use address::{Address, AddressError, ACCOUNT_HRP, VALCONS_HRP, VALOPER_HRP};
pub use coin::{parse_amount, validate_denom, Coin, CoinError, Coins};
pub use error::{AppError, ErrorCode};

/// Base denomination of the native token (micro-VE).
pub const BASE_DENOM: &str = "uve";
/// Display denomination shown to people.
pub const DISPLAY_DENOM: &str = "ve";
/// Decimal exponent between [`DISPLAY_DENOM`] and [`BASE_DENOM`].
pub const DISPLAY_EXPONENT: u32 = 6;
