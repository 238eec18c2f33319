//! hpc genesis: params only (clusters, offerings and jobs come from transactions).

use crate::{state, HpcError, HpcParams};
use ve_module::Store;
use ve_types::AppError;

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HpcGenesis {
    pub params: HpcParams,
}

impl HpcGenesis {
    pub fn validate(&self) -> Result<(), HpcError> {
        self.params.validate()
    }
}

pub fn init_genesis(store: &mut impl Store, g: &HpcGenesis) -> Result<(), AppError> {
    g.validate()?;
    state::set_params(store, &g.params)
}
