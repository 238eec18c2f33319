//! Every key the bank module writes. The layout of state is a public API.

use ve_types::Address;

pub const BALANCE_PREFIX: &[u8] = b"bank/bal/";
pub const SUPPLY_PREFIX: &[u8] = b"bank/supply/";
pub const METADATA_PREFIX: &[u8] = b"bank/meta/";
/// `bank/params` → `cosmos.bank.v1beta1.Params`.
pub const PARAMS: &[u8] = b"bank/params";

/// `bank/bal/<20-byte address>` — every balance of one account sits under it.
pub fn balances_of(addr: &Address) -> Vec<u8> {
    let mut k = BALANCE_PREFIX.to_vec();
    k.extend_from_slice(addr.as_bytes());
    k
}

/// `bank/bal/<20-byte address><denom>` → amount as 16-byte big-endian u128.
pub fn balance(addr: &Address, denom: &str) -> Vec<u8> {
    let mut k = balances_of(addr);
    k.extend_from_slice(denom.as_bytes());
    k
}

/// `bank/supply/<denom>` → total supply as 16-byte big-endian u128.
pub fn supply(denom: &str) -> Vec<u8> {
    let mut k = SUPPLY_PREFIX.to_vec();
    k.extend_from_slice(denom.as_bytes());
    k
}

/// `bank/meta/<denom>` → `cosmos.bank.v1beta1.Metadata`.
pub fn metadata(denom: &str) -> Vec<u8> {
    let mut k = METADATA_PREFIX.to_vec();
    k.extend_from_slice(denom.as_bytes());
    k
}
