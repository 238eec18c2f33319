//! identity genesis: params (including the identity recipient set until issue 5).

use crate::{state, IdentityError, IdentityParams};
use ve_module::Store;
use ve_types::AppError;

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentityGenesis {
    pub params: IdentityParams,
}

impl IdentityGenesis {
    pub fn validate(&self) -> Result<(), IdentityError> {
        self.params
            .validate()
            .map_err(|e| IdentityError::InvalidGenesis(e.to_string()))
    }
}

pub fn init_genesis(store: &mut impl Store, genesis: &IdentityGenesis) -> Result<(), AppError> {
    genesis.validate()?;
    state::set_params(store, &genesis.params)
}
