//! The chain's genesis `app_state`: one section per module, in JSON, validated before
//! anything is written.

use crate::MinGasPrice;
use ve_auth::AuthGenesis;
use ve_bank::BankGenesis;
use ve_config::ConfigGenesis;
use ve_deployment::DeploymentGenesis;
use ve_encryption::EncryptionGenesis;
use ve_escrow::EscrowGenesis;
use ve_identity::IdentityGenesis;
use ve_market::MarketGenesis;
use ve_mfa::MfaGenesis;
use ve_roles::RolesGenesis;
use ve_take::TakeGenesis;
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
    pub roles: RolesGenesis,
    pub mfa: MfaGenesis,
    pub encryption: EncryptionGenesis,
    pub config: ConfigGenesis,
    pub identity: IdentityGenesis,
    pub take: TakeGenesis,
    pub escrow: EscrowGenesis,
    pub deployment: DeploymentGenesis,
    pub market: MarketGenesis,
    pub enclave: ve_enclave_registry::EnclaveGenesis,
    pub provider: ve_provider::ProviderGenesis,
    pub audit: ve_audit::AuditGenesis,
    pub cert: ve_cert::CertGenesis,
    pub offering: ve_offering::OfferingGenesis,
    pub hpc: ve_hpc::HpcGenesis,
    /// The whole state of an exported chain (`virtengine export`). When present, every
    /// module section must be left at its default: the export already holds their state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<crate::StateExport>,
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
        if self.state.is_some() {
            let sections = AppGenesis {
                state: None,
                ..self.clone()
            };
            if sections != AppGenesis::default() {
                return Err(
                    "an exported genesis (app_state.state) carries the whole state: \
                     remove the module sections next to it, or remove app_state.state"
                        .into(),
                );
            }
            return Ok(());
        }
        self.auth.validate().map_err(|e| e.to_string())?;
        self.bank.validate().map_err(|e| e.to_string())?;
        self.roles.validate().map_err(|e| e.to_string())?;
        self.mfa.validate().map_err(|e| e.to_string())?;
        self.encryption.validate().map_err(|e| e.to_string())?;
        self.config.validate().map_err(|e| e.to_string())?;
        self.identity.validate().map_err(|e| e.to_string())?;
        self.validate_escrow()?;
        self.deployment.validate().map_err(|e| e.to_string())?;
        self.market.validate().map_err(|e| e.to_string())?;
        self.enclave.validate().map_err(|e| e.to_string())?;
        self.validate_marketplace_catalogue()?;
        self.hpc.validate().map_err(|e| e.to_string())?;
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

impl AppGenesis {
    /// escrow's accounts must be backed, coin for coin, by the escrow module account's
    /// genesis balance.
    fn validate_escrow(&self) -> Result<(), String> {
        self.take.validate().map_err(|e| e.to_string())?;
        let held = self.escrow.holdings().map_err(|e| e.to_string())?;
        let module = Address::module(ve_escrow::MODULE_ACCOUNT);
        let balance = self
            .bank
            .balances
            .iter()
            .find(|b| b.address == module)
            .map(|b| b.coins.clone())
            .unwrap_or_default();
        let mut denoms: std::collections::BTreeSet<&str> =
            held.keys().map(String::as_str).collect();
        denoms.extend(balance.iter().map(|c| c.denom.as_str()));
        for d in denoms {
            let have = balance
                .iter()
                .find(|c| c.denom == d)
                .map_or(0, |c| c.amount);
            let need = held.get(d).copied().unwrap_or(0);
            if have != need {
                return Err(format!(
                    "escrow module account holds {have}{d} at genesis but escrow accounts and payments hold {need}{d}"
                ));
            }
        }
        Ok(())
    }
}

impl AppGenesis {
    /// provider, audit, cert and offering sections; offerings and audit records must name
    /// genesis providers.
    fn validate_marketplace_catalogue(&self) -> Result<(), String> {
        self.provider.validate().map_err(|e| e.to_string())?;
        self.audit.validate().map_err(|e| e.to_string())?;
        self.cert.validate().map_err(|e| e.to_string())?;
        self.offering.validate().map_err(|e| e.to_string())?;
        let providers: std::collections::BTreeSet<Address> =
            self.provider.providers.iter().map(|p| p.owner).collect();
        let owners = self
            .offering
            .providers()
            .into_iter()
            .chain(self.audit.records.iter().map(|r| r.owner));
        for owner in owners {
            if !providers.contains(&owner) {
                return Err(format!(
                    "offering or audit record names {owner}, which is not in provider.providers"
                ));
            }
        }
        Ok(())
    }
}
