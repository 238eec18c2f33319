//! Typed access to escrow state. No other code reads or writes `escrow/` keys.

use crate::grant::Grant;
use crate::types::{Account, AccountId, Payment};
use crate::{proto, state_key, EscrowError, EscrowParams};
use prost::Message;
use ve_module::Store;
use ve_types::{Address, AppError};

fn corrupt(what: &str, e: impl std::fmt::Display) -> AppError {
    EscrowError::Corrupt(format!("{what}: {e}")).into()
}

pub fn params(store: &mut impl Store) -> Result<EscrowParams, AppError> {
    match store.get(state_key::PARAMS)? {
        Some(b) => Ok(EscrowParams::from_proto(
            &proto::Params::decode(b.as_slice()).map_err(|e| corrupt("params", e))?,
        )),
        None => Ok(EscrowParams::default()),
    }
}

pub fn set_params(store: &mut impl Store, p: &EscrowParams) -> Result<(), AppError> {
    p.validate()?;
    store.put(state_key::PARAMS.to_vec(), p.to_proto().encode_to_vec())
}

fn decode_account(b: &[u8]) -> Result<Account, AppError> {
    let p = proto::Account::decode(b).map_err(|e| corrupt("account", e))?;
    Ok(Account::from_proto(&p)?)
}

fn decode_payment(b: &[u8]) -> Result<Payment, AppError> {
    let p = proto::Payment::decode(b).map_err(|e| corrupt("payment", e))?;
    Ok(Payment::from_proto(&p)?)
}

pub fn account(store: &mut impl Store, id: &AccountId) -> Result<Option<Account>, AppError> {
    store
        .get(&state_key::account(id))?
        .map(|b| decode_account(&b))
        .transpose()
}

/// Writes the record (not the owner index or wake queue: see [`index_owner`], [`reschedule`]).
pub fn set_account(store: &mut impl Store, a: &Account) -> Result<(), AppError> {
    store.put(state_key::account(&a.id), a.to_proto()?.encode_to_vec())
}

pub fn index_owner(store: &mut impl Store, a: &Account) -> Result<(), AppError> {
    store.put(state_key::owner_account(&a.owner, &a.id), Vec::new())
}

/// The open and paused payments of an account, in payment-id order, at most `limit`.
pub fn active_payments(
    store: &mut impl Store,
    id: &AccountId,
    limit: usize,
) -> Result<Vec<Payment>, AppError> {
    store
        .prefix(&state_key::payments_of(id), limit)?
        .iter()
        .map(|(_, v)| decode_payment(v))
        .collect()
}

pub fn payment(
    store: &mut impl Store,
    id: &AccountId,
    payment_id: &str,
) -> Result<Option<Payment>, AppError> {
    store
        .get(&state_key::payment(id, payment_id))?
        .map(|b| decode_payment(&b))
        .transpose()
}

pub fn closed_payment(
    store: &mut impl Store,
    id: &AccountId,
    payment_id: &str,
) -> Result<Option<Payment>, AppError> {
    store
        .get(&state_key::closed_payment(id, payment_id))?
        .map(|b| decode_payment(&b))
        .transpose()
}

/// Writes an open/paused payment under the active prefix, or moves a closed one to the
/// closed prefix.
pub fn set_payment(store: &mut impl Store, p: &Payment) -> Result<(), AppError> {
    let bytes = p.to_proto().encode_to_vec();
    if p.state == crate::PaymentState::Closed {
        store.delete(state_key::payment(&p.account_id, &p.id))?;
        store.put(state_key::closed_payment(&p.account_id, &p.id), bytes)
    } else {
        store.put(state_key::payment(&p.account_id, &p.id), bytes)
    }
}

/// Moves the account's wake-queue entry from `old` to `new` (0 = none).
pub fn reschedule(
    store: &mut impl Store,
    id: &AccountId,
    old: u64,
    new: u64,
) -> Result<(), AppError> {
    if old == new {
        return Ok(());
    }
    if old != 0 {
        store.delete(state_key::wake(old, id))?;
    }
    if new != 0 {
        store.put(state_key::wake(new, id), Vec::new())?;
    }
    Ok(())
}

/// Decodes an account stored value (for listings).
pub fn account_from_bytes(b: &[u8]) -> Result<Account, AppError> {
    decode_account(b)
}

/// Decodes a payment stored value (for listings).
pub fn payment_from_bytes(b: &[u8]) -> Result<Payment, AppError> {
    decode_payment(b)
}

pub fn grant(
    store: &mut impl Store,
    granter: &Address,
    grantee: &Address,
) -> Result<Option<Grant>, AppError> {
    store
        .get(&state_key::grant(granter, grantee))?
        .map(|b| grant_from_bytes(&b))
        .transpose()
}

/// Writes a grant and its grantee index.
pub fn set_grant(store: &mut impl Store, g: &Grant) -> Result<(), AppError> {
    store.put(
        state_key::grant(&g.granter, &g.grantee),
        g.to_proto().encode_to_vec(),
    )?;
    store.put(state_key::grantee_grant(&g.grantee, &g.granter), Vec::new())
}

pub fn delete_grant(
    store: &mut impl Store,
    granter: &Address,
    grantee: &Address,
) -> Result<(), AppError> {
    store.delete(state_key::grant(granter, grantee))?;
    store.delete(state_key::grantee_grant(grantee, granter))
}

/// Decodes a grant stored value (for listings).
pub fn grant_from_bytes(b: &[u8]) -> Result<Grant, AppError> {
    let p = proto::DepositGrant::decode(b).map_err(|e| corrupt("grant", e))?;
    Ok(Grant::from_proto(&p)?)
}
