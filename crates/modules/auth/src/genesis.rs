use crate::{state, AuthError, AuthParams, MODULE_ACCOUNTS};
use ve_module::Store;
use ve_types::{Address, AppError};

/// auth genesis: parameters and the accounts that exist at height 1.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct AuthGenesis {
    pub params: AuthParams,
    pub accounts: Vec<GenesisAccount>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GenesisAccount {
    pub address: Address,
}

impl AuthGenesis {
    pub fn validate(&self) -> Result<(), AuthError> {
        self.params.validate().map_err(AuthError::InvalidGenesis)?;
        let mut seen = std::collections::BTreeSet::new();
        for a in &self.accounts {
            if !seen.insert(a.address) {
                return Err(AuthError::InvalidGenesis(format!(
                    "duplicate account {}",
                    a.address
                )));
            }
        }
        Ok(())
    }

    /// Adds an account if it is not listed yet.
    pub fn add_account(&mut self, address: Address) {
        if !self.accounts.iter().any(|a| a.address == address) {
            self.accounts.push(GenesisAccount { address });
        }
    }
}

/// Writes genesis: params, module accounts first (stable numbers), then user accounts
/// in the listed order.
pub fn init_genesis(store: &mut impl Store, genesis: &AuthGenesis) -> Result<(), AppError> {
    genesis.validate()?;
    state::set_params(store, &genesis.params)?;
    for name in MODULE_ACCOUNTS {
        state::new_module_account(store, name)?;
    }
    for a in &genesis.accounts {
        if state::get_account(store, &a.address)?.is_none() {
            state::new_account(store, &a.address)?;
        }
    }
    Ok(())
}

/// Addresses that may not receive user sends.
pub fn blocked_addresses() -> std::collections::BTreeSet<Address> {
    MODULE_ACCOUNTS
        .iter()
        .map(|n| state::module_account_address(n))
        .collect()
}
