//! Typed access to roles state. No other code reads or writes `roles/` keys.

use crate::proto::*;
use crate::{state_key, RolesError, RolesParams};
use prost::Message;
use ve_module::gate::Role;
use ve_module::Store;
use ve_types::{Address, AppError};

fn corrupt(what: &str, e: impl std::fmt::Display) -> AppError {
    RolesError::Corrupt(format!("{what}: {e}")).into()
}

fn get<M: Message + Default>(
    store: &mut impl Store,
    key: &[u8],
    what: &str,
) -> Result<Option<M>, AppError> {
    match store.get(key)? {
        Some(b) => Ok(Some(M::decode(b.as_slice()).map_err(|e| corrupt(what, e))?)),
        None => Ok(None),
    }
}

pub fn params(store: &mut impl Store) -> Result<RolesParams, AppError> {
    Ok(get::<Params>(store, state_key::PARAMS, "params")?
        .map(|p| RolesParams::from_proto(&p))
        .unwrap_or_default())
}

pub fn set_params(store: &mut impl Store, p: &RolesParams) -> Result<(), AppError> {
    store.put(state_key::PARAMS.to_vec(), p.to_proto().encode_to_vec())
}

pub fn assignment(
    store: &mut impl Store,
    a: &Address,
    r: Role,
) -> Result<Option<RoleAssignment>, AppError> {
    get(store, &state_key::assignment(a, r), "role assignment")
}

pub fn has_role(store: &mut impl Store, a: &Address, r: Role) -> Result<bool, AppError> {
    Ok(store.get(&state_key::assignment(a, r))?.is_some())
}

/// Every role the account holds (at most 7), by role number.
pub fn roles_of(store: &mut impl Store, a: &Address) -> Result<Vec<RoleAssignment>, AppError> {
    store
        .prefix(&state_key::assignments(a), Role::ALL.len())?
        .into_iter()
        .map(|(_, v)| RoleAssignment::decode(v.as_slice()).map_err(|e| corrupt("assignment", e)))
        .collect()
}

pub fn set_assignment(
    store: &mut impl Store,
    a: &Address,
    r: Role,
    assignment: &RoleAssignment,
) -> Result<(), AppError> {
    store.put(state_key::member(r, a), Vec::new())?;
    store.put(state_key::assignment(a, r), assignment.encode_to_vec())
}

pub fn delete_assignment(store: &mut impl Store, a: &Address, r: Role) -> Result<(), AppError> {
    store.delete(state_key::member(r, a))?;
    store.delete(state_key::assignment(a, r))
}

pub fn is_genesis_account(store: &mut impl Store, a: &Address) -> Result<bool, AppError> {
    Ok(store.get(&state_key::genesis_account(a))?.is_some())
}

pub fn add_genesis_account(store: &mut impl Store, a: &Address) -> Result<(), AppError> {
    store.put(state_key::genesis_account(a), Vec::new())
}

pub fn account_state_record(
    store: &mut impl Store,
    a: &Address,
) -> Result<Option<AccountStateRecord>, AppError> {
    get(store, &state_key::account_state(a), "account state")
}

/// The account's state; ACTIVE when it has no record.
pub fn account_state(store: &mut impl Store, a: &Address) -> Result<AccountState, AppError> {
    Ok(account_state_record(store, a)?
        .map(|r| AccountState::try_from(r.state).unwrap_or(AccountState::Active))
        .unwrap_or(AccountState::Active))
}

pub fn set_account_state(
    store: &mut impl Store,
    a: &Address,
    r: &AccountStateRecord,
) -> Result<(), AppError> {
    store.put(state_key::account_state(a), r.encode_to_vec())
}
