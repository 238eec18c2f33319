//! deployment genesis: params only (deployments are created by transactions).

use crate::{state, DeploymentError, DeploymentParams};
use ve_module::Store;
use ve_types::AppError;

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeploymentGenesis {
    pub params: DeploymentParams,
}

impl DeploymentGenesis {
    pub fn validate(&self) -> Result<(), DeploymentError> {
        self.params.validate()
    }
}

pub fn init_genesis(store: &mut impl Store, g: &DeploymentGenesis) -> Result<(), AppError> {
    g.validate()?;
    state::set_params(store, &g.params)
}
