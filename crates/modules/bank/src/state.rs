//! Typed access to bank state. No other code reads or writes `bank/` keys.

use crate::{state_key, BankError, BankParams};
use prost::Message;
use ve_module::Store;
use ve_proto::cosmos::bank::v1beta1::{Metadata, Params};
use ve_types::{Address, AppError, Coin, Coins};

/// Most denoms one account may hold; keeps `all_balances` bounded.
pub const MAX_DENOMS_PER_ACCOUNT: usize = 256;

fn decode_amount(bytes: &[u8]) -> Result<u128, AppError> {
    let arr: [u8; 16] = bytes
        .try_into()
        .map_err(|_| BankError::Corrupt("amount width".into()))?;
    Ok(u128::from_be_bytes(arr))
}

pub fn balance(store: &mut impl Store, addr: &Address, denom: &str) -> Result<u128, AppError> {
    match store.get(&state_key::balance(addr, denom))? {
        Some(b) => decode_amount(&b),
        None => Ok(0),
    }
}

fn set_balance(
    store: &mut impl Store,
    addr: &Address,
    denom: &str,
    amount: u128,
) -> Result<(), AppError> {
    let key = state_key::balance(addr, denom);
    if amount == 0 {
        store.delete(key)
    } else {
        store.put(key, amount.to_be_bytes().to_vec())
    }
}

pub fn all_balances(store: &mut impl Store, addr: &Address) -> Result<Coins, AppError> {
    let prefix = state_key::balances_of(addr);
    let entries = store.prefix(&prefix, MAX_DENOMS_PER_ACCOUNT)?;
    let mut coins = Coins::new();
    for (k, v) in entries {
        let denom = std::str::from_utf8(&k[prefix.len()..])
            .map_err(|_| BankError::Corrupt("denom utf8".into()))?;
        coins
            .checked_add(&Coin::new(denom, decode_amount(&v)?))
            .map_err(|_| BankError::Overflow(denom.to_string()))?;
    }
    Ok(coins)
}

/// Takes `coin` from `addr`, failing with insufficient funds (and writing nothing).
pub fn sub_balance(store: &mut impl Store, addr: &Address, coin: &Coin) -> Result<(), AppError> {
    let have = balance(store, addr, &coin.denom)?;
    let left = have
        .checked_sub(coin.amount)
        .ok_or_else(|| BankError::InsufficientFunds {
            denom: coin.denom.clone(),
            have,
            need: coin.amount,
        })?;
    set_balance(store, addr, &coin.denom, left)
}

pub fn add_balance(store: &mut impl Store, addr: &Address, coin: &Coin) -> Result<(), AppError> {
    let have = balance(store, addr, &coin.denom)?;
    let new = have
        .checked_add(coin.amount)
        .ok_or_else(|| BankError::Overflow(coin.denom.clone()))?;
    set_balance(store, addr, &coin.denom, new)
}

pub fn supply(store: &mut impl Store, denom: &str) -> Result<u128, AppError> {
    match store.get(&state_key::supply(denom))? {
        Some(b) => decode_amount(&b),
        None => Ok(0),
    }
}

/// Creates new coins in `addr`'s balance and the supply. Only genesis (and later the mint
/// module) may call this.
pub fn mint(store: &mut impl Store, addr: &Address, coin: &Coin) -> Result<(), AppError> {
    add_balance(store, addr, coin)?;
    let total = supply(store, &coin.denom)?
        .checked_add(coin.amount)
        .ok_or_else(|| BankError::Overflow(coin.denom.clone()))?;
    store.put(state_key::supply(&coin.denom), total.to_be_bytes().to_vec())
}

pub fn params(store: &mut impl Store) -> Result<BankParams, AppError> {
    match store.get(state_key::PARAMS)? {
        Some(b) => Ok(BankParams::from_proto(
            &Params::decode(b.as_slice()).map_err(|e| BankError::Corrupt(e.to_string()))?,
        )),
        None => Ok(BankParams::default()),
    }
}

pub fn set_params(store: &mut impl Store, p: &BankParams) -> Result<(), AppError> {
    store.put(state_key::PARAMS.to_vec(), p.to_proto().encode_to_vec())
}

pub fn metadata(store: &mut impl Store, denom: &str) -> Result<Option<Metadata>, AppError> {
    match store.get(&state_key::metadata(denom))? {
        Some(b) => Ok(Some(
            Metadata::decode(b.as_slice()).map_err(|e| BankError::Corrupt(e.to_string()))?,
        )),
        None => Ok(None),
    }
}

pub fn set_metadata(store: &mut impl Store, m: &Metadata) -> Result<(), AppError> {
    store.put(state_key::metadata(&m.base), m.encode_to_vec())
}
