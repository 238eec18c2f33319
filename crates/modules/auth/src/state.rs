//! Typed access to auth state. No other code reads or writes `auth/` keys.

use crate::{state_key, AuthError, AuthParams, BASE_ACCOUNT_URL, MODULE_ACCOUNT_URL};
use prost::Message;
use ve_module::Store;
use ve_proto::cosmos::auth::v1beta1::{BaseAccount, ModuleAccount, Params};
use ve_proto::Any;
use ve_types::{Address, AppError};

/// An account as the tx pipeline needs it. `module_name` is set for module accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub address: Address,
    pub account_number: u64,
    pub sequence: u64,
    /// Compressed secp256k1 public key, set by the account's first transaction.
    pub pub_key: Option<Vec<u8>>,
    pub module_name: Option<String>,
    pub permissions: Vec<String>,
}

impl Account {
    fn to_base(&self) -> BaseAccount {
        BaseAccount {
            address: self.address.to_string(),
            pub_key: self.pub_key.as_ref().map(|k| Any {
                type_url: crate::SECP256K1_PUBKEY_URL.to_string(),
                value: ve_proto::cosmos::crypto::secp256k1::PubKey { key: k.clone() }
                    .encode_to_vec(),
            }),
            account_number: self.account_number,
            sequence: self.sequence,
        }
    }

    /// The `Any` stored in state and returned by queries.
    pub fn to_any(&self) -> Any {
        match &self.module_name {
            Some(name) => Any {
                type_url: MODULE_ACCOUNT_URL.to_string(),
                value: ModuleAccount {
                    base_account: Some(self.to_base()),
                    name: name.clone(),
                    permissions: self.permissions.clone(),
                }
                .encode_to_vec(),
            },
            None => Any {
                type_url: BASE_ACCOUNT_URL.to_string(),
                value: self.to_base().encode_to_vec(),
            },
        }
    }

    pub fn from_any(any: &Any) -> Result<Self, AuthError> {
        let corrupt = |e: String| AuthError::Corrupt(e);
        let (base, module_name, permissions) = match any.type_url.as_str() {
            BASE_ACCOUNT_URL => (
                BaseAccount::decode(any.value.as_slice()).map_err(|e| corrupt(e.to_string()))?,
                None,
                vec![],
            ),
            MODULE_ACCOUNT_URL => {
                let m = ModuleAccount::decode(any.value.as_slice())
                    .map_err(|e| corrupt(e.to_string()))?;
                let base = m
                    .base_account
                    .ok_or_else(|| corrupt("module account without base".into()))?;
                (base, Some(m.name), m.permissions)
            }
            other => return Err(corrupt(format!("unknown account type {other}"))),
        };
        let address: Address = base.address.parse().map_err(|e| corrupt(format!("{e}")))?;
        let pub_key = match base.pub_key {
            Some(pk) => Some(
                ve_proto::cosmos::crypto::secp256k1::PubKey::decode(pk.value.as_slice())
                    .map_err(|e| corrupt(e.to_string()))?
                    .key,
            ),
            None => None,
        };
        Ok(Self {
            address,
            account_number: base.account_number,
            sequence: base.sequence,
            pub_key,
            module_name,
            permissions,
        })
    }
}

pub fn get_account(store: &mut impl Store, addr: &Address) -> Result<Option<Account>, AppError> {
    let Some(bytes) = store.get(&state_key::account(addr))? else {
        return Ok(None);
    };
    let any = Any::decode(bytes.as_slice()).map_err(|e| AuthError::Corrupt(e.to_string()))?;
    Ok(Some(Account::from_any(&any)?))
}

pub fn set_account(store: &mut impl Store, account: &Account) -> Result<(), AppError> {
    store.put(
        state_key::account(&account.address),
        account.to_any().encode_to_vec(),
    )
}

fn next_account_number(store: &mut impl Store) -> Result<u64, AppError> {
    let current = match store.get(state_key::NEXT_ACCOUNT_NUMBER)? {
        Some(b) => u64::from_be_bytes(
            b.as_slice()
                .try_into()
                .map_err(|_| AuthError::Corrupt("account number counter".into()))?,
        ),
        None => 0,
    };
    let next = current
        .checked_add(1)
        .ok_or(AuthError::AccountNumberOverflow)?;
    store.put(
        state_key::NEXT_ACCOUNT_NUMBER.to_vec(),
        next.to_be_bytes().to_vec(),
    )?;
    Ok(current)
}

/// Creates a plain account with the next account number.
pub fn new_account(store: &mut impl Store, addr: &Address) -> Result<Account, AppError> {
    let account = Account {
        address: *addr,
        account_number: next_account_number(store)?,
        sequence: 0,
        pub_key: None,
        module_name: None,
        permissions: vec![],
    };
    set_account(store, &account)?;
    Ok(account)
}

/// Returns the account, creating it if it does not exist yet (as a transfer to a fresh
/// address does in the Cosmos SDK).
pub fn ensure_account(store: &mut impl Store, addr: &Address) -> Result<Account, AppError> {
    match get_account(store, addr)? {
        Some(a) => Ok(a),
        None => new_account(store, addr),
    }
}

pub fn module_account_address(name: &str) -> Address {
    Address::module(name)
}

pub fn new_module_account(store: &mut impl Store, name: &str) -> Result<Account, AppError> {
    let addr = module_account_address(name);
    let account = Account {
        address: addr,
        account_number: next_account_number(store)?,
        sequence: 0,
        pub_key: None,
        module_name: Some(name.to_string()),
        permissions: vec![],
    };
    set_account(store, &account)?;
    Ok(account)
}

pub fn params(store: &mut impl Store) -> Result<AuthParams, AppError> {
    match store.get(state_key::PARAMS)? {
        Some(b) => Ok(AuthParams::from_proto(
            &Params::decode(b.as_slice()).map_err(|e| AuthError::Corrupt(e.to_string()))?,
        )),
        None => Ok(AuthParams::default()),
    }
}

pub fn set_params(store: &mut impl Store, params: &AuthParams) -> Result<(), AppError> {
    store.put(
        state_key::PARAMS.to_vec(),
        params.to_proto().encode_to_vec(),
    )
}
