use crate::{state, TakeError, TakeParams};
use ve_module::Store;
use ve_types::AppError;

/// take genesis: its parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TakeGenesis {
    pub params: TakeParams,
}

impl TakeGenesis {
    pub fn validate(&self) -> Result<(), TakeError> {
        self.params.validate()
    }
}

pub fn init_genesis(store: &mut impl Store, genesis: &TakeGenesis) -> Result<(), AppError> {
    genesis.validate()?;
    state::set_params(store, &genesis.params)
}
