use crate::{state, BankError, BankParams};
use ve_module::Store;
use ve_proto::cosmos::bank::v1beta1::{DenomUnit, Metadata};
use ve_types::{Address, AppError, Coin, Coins, BASE_DENOM, DISPLAY_EXPONENT};

/// bank genesis: parameters, initial balances, denom metadata. Supply is derived from
/// the balances, so it cannot disagree with them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct BankGenesis {
    pub params: BankParams,
    pub balances: Vec<GenesisBalance>,
    pub denom_metadata: Vec<GenesisDenomMetadata>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GenesisBalance {
    pub address: Address,
    pub coins: Vec<Coin>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GenesisDenomMetadata {
    pub base: String,
    pub display: String,
    pub exponent: u32,
    pub name: String,
    pub symbol: String,
    pub description: String,
}

impl Default for BankGenesis {
    fn default() -> Self {
        Self {
            params: BankParams::default(),
            balances: vec![],
            denom_metadata: vec![GenesisDenomMetadata {
                base: BASE_DENOM.to_string(),
                display: "ve".to_string(),
                exponent: DISPLAY_EXPONENT,
                name: "VirtEngine".to_string(),
                symbol: "VE".to_string(),
                description: "The native staking and fee token of VirtEngine".to_string(),
            }],
        }
    }
}

impl GenesisDenomMetadata {
    pub fn to_proto(&self) -> Metadata {
        Metadata {
            description: self.description.clone(),
            denom_units: vec![
                DenomUnit {
                    denom: self.base.clone(),
                    exponent: 0,
                    aliases: vec![],
                },
                DenomUnit {
                    denom: self.display.clone(),
                    exponent: self.exponent,
                    aliases: vec![],
                },
            ],
            base: self.base.clone(),
            display: self.display.clone(),
            name: self.name.clone(),
            symbol: self.symbol.clone(),
            uri: String::new(),
            uri_hash: String::new(),
        }
    }
}

impl BankGenesis {
    pub fn validate(&self) -> Result<(), BankError> {
        let mut seen = std::collections::BTreeSet::new();
        for b in &self.balances {
            if !seen.insert(b.address) {
                return Err(BankError::InvalidGenesis(format!(
                    "duplicate balance entry for {}",
                    b.address
                )));
            }
            Coins::from_list(b.coins.clone())
                .map_err(|e| BankError::InvalidGenesis(format!("{}: {e}", b.address)))?;
        }
        for m in &self.denom_metadata {
            ve_types::validate_denom(&m.base)
                .map_err(|e| BankError::InvalidGenesis(e.to_string()))?;
        }
        Ok(())
    }

    /// Adds coins to an address's genesis balance.
    pub fn add_balance(&mut self, address: Address, coins: &Coins) -> Result<(), BankError> {
        let entry = match self.balances.iter_mut().find(|b| b.address == address) {
            Some(e) => e,
            None => {
                self.balances.push(GenesisBalance {
                    address,
                    coins: vec![],
                });
                let last = self.balances.len() - 1;
                &mut self.balances[last]
            }
        };
        let mut total = Coins::from_list(entry.coins.clone())
            .map_err(|e| BankError::InvalidGenesis(e.to_string()))?;
        for c in coins.iter() {
            total
                .checked_add(&c)
                .map_err(|e| BankError::InvalidGenesis(e.to_string()))?;
        }
        entry.coins = total.iter().collect();
        Ok(())
    }
}

pub fn init_genesis(store: &mut impl Store, genesis: &BankGenesis) -> Result<(), AppError> {
    genesis.validate()?;
    state::set_params(store, &genesis.params)?;
    for m in &genesis.denom_metadata {
        state::set_metadata(store, &m.to_proto())?;
    }
    for b in &genesis.balances {
        for c in &b.coins {
            state::mint(store, &b.address, c)?;
        }
    }
    Ok(())
}
