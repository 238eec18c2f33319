//! The chain's genesis `app_state`: one section per module, in JSON, validated before
//! anything is written.

use crate::MinGasPrice;
use ve_auth::AuthGenesis;
use ve_bank::BankGenesis;
use ve_encryption::EncryptionGenesis;
use ve_types::{Address, Coins};

/// Chain-wide parameters that belong to no module.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct FeeGenesis {
    pub min_gas_price: MinGasPrice,
}

/// The `app_state` of CometBFT's genesis.json.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppGenesis {
    pub fee: FeeGenesis,
    pub auth: AuthGenesis,
    pub bank: BankGenesis,
    pub encryption: EncryptionGenesis,
}

impl AppGenesis {
    /// Parses `app_state` bytes; an empty document means the defaults.
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        serde_json::from_slice(bytes).map_err(|e| format!("invalid app_state in genesis: {e}"))
    }

    pub fn validate(&self) -> Result<(), String> {
        self.auth.validate().map_err(|e| e.to_string())?;
        self.bank.validate().map_err(|e| e.to_string())?;
        self.encryption.validate().map_err(|e| e.to_string())?;
        for b in &self.bank.balances {
            if !self.auth.accounts.iter().any(|a| a.address == b.address) {
                return Err(format!(
                    "balance for {} has no account in auth.accounts",
                    b.address
                ));
            }
        }
        Ok(())
    }

    /// Adds an account with initial coins (creating it in auth if needed).
    pub fn add_account(&mut self, address: Address, coins: &Coins) -> Result<(), String> {
        self.auth.add_account(address);
        self.bank
            .add_balance(address, coins)
            .map_err(|e| e.to_string())
    }
}
