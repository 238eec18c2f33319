//! market genesis: params only (orders, bids and leases come from transactions).

use crate::{state, MarketError, MarketParams};
use ve_module::Store;
use ve_types::AppError;

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarketGenesis {
    pub params: MarketParams,
}

impl MarketGenesis {
    pub fn validate(&self) -> Result<(), MarketError> {
        self.params.validate()
    }
}

pub fn init_genesis(store: &mut impl Store, g: &MarketGenesis) -> Result<(), AppError> {
    g.validate()?;
    state::set_params(store, &g.params)
}
