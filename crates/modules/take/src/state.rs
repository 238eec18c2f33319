//! Typed access to take state. No other code reads or writes `take/` keys.

use crate::proto::Params;
use crate::{state_key, TakeError, TakeParams};
use prost::Message;
use ve_module::Store;
use ve_types::AppError;

pub fn params(store: &mut impl Store) -> Result<TakeParams, AppError> {
    match store.get(state_key::PARAMS)? {
        Some(b) => Ok(TakeParams::from_proto(
            &Params::decode(b.as_slice()).map_err(|e| TakeError::Corrupt(e.to_string()))?,
        )),
        None => Ok(TakeParams::default()),
    }
}

pub fn set_params(store: &mut impl Store, p: &TakeParams) -> Result<(), AppError> {
    p.validate()?;
    store.put(state_key::PARAMS.to_vec(), p.to_proto().encode_to_vec())
}

/// Splits a payout of `amount` `denom` into `(to_payee, fee)` by the current params.
pub fn split_payout(
    store: &mut impl Store,
    denom: &str,
    amount: u128,
) -> Result<(u128, u128), AppError> {
    Ok(crate::split(amount, params(store)?.rate_bps(denom)))
}
