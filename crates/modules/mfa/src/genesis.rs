//! mfa genesis: params, the sensitive-transaction table (the spec's defaults unless
//! given). Enum values are their proto names, e.g.
//! `"SENSITIVE_TX_TYPE_LARGE_TRANSFER"`, `"FACTOR_TYPE_FIDO2"`.

use crate::proto::{FactorCombination, FactorType, SensitiveTxConfig, SensitiveTxType};
use crate::types::{default_configs, validate_config};
use crate::{state, MfaError, MfaParams};
use ve_module::Store;
use ve_types::AppError;

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenesisConfig {
    pub transaction_type: String,
    pub enabled: bool,
    pub min_veid_score: u32,
    /// OR of ANDs, e.g. `[["FACTOR_TYPE_VEID", "FACTOR_TYPE_FIDO2"]]`.
    pub required_factor_combinations: Vec<Vec<String>>,
    pub session_duration: u64,
    pub single_use: bool,
    pub allow_trusted_device_reduction: bool,
    pub value_threshold_uve: String,
    pub policy_required: bool,
    pub description: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MfaGenesis {
    pub params: MfaParams,
    /// `None`: the default table (docs/mfa.md). `Some(list)`: exactly these configs.
    pub sensitive_tx_configs: Option<Vec<GenesisConfig>>,
}

fn factor(name: &str) -> Result<i32, MfaError> {
    FactorType::from_str_name(name)
        .filter(|f| *f != FactorType::Unspecified)
        .map(|f| f as i32)
        .ok_or_else(|| MfaError::InvalidGenesis(format!("unknown factor type {name:?}")))
}

impl GenesisConfig {
    pub fn to_proto(&self) -> Result<SensitiveTxConfig, MfaError> {
        let t = SensitiveTxType::from_str_name(&self.transaction_type)
            .filter(|t| *t != SensitiveTxType::Unspecified)
            .ok_or_else(|| {
                MfaError::InvalidGenesis(format!(
                    "unknown transaction type {:?}",
                    self.transaction_type
                ))
            })?;
        let combos = self
            .required_factor_combinations
            .iter()
            .map(|c| {
                Ok(FactorCombination {
                    factors: c.iter().map(|f| factor(f)).collect::<Result<_, _>>()?,
                })
            })
            .collect::<Result<Vec<_>, MfaError>>()?;
        let c = SensitiveTxConfig {
            transaction_type: t as i32,
            enabled: self.enabled,
            min_veid_score: self.min_veid_score,
            required_factor_combinations: combos,
            session_duration: self.session_duration,
            single_use: self.single_use,
            allow_trusted_device_reduction: self.allow_trusted_device_reduction,
            value_threshold_uve: self.value_threshold_uve.clone(),
            policy_required: self.policy_required,
            description: self.description.clone(),
        };
        validate_config(&c).map_err(|e| MfaError::InvalidGenesis(e.to_string()))?;
        Ok(c)
    }

    pub fn from_proto(c: &SensitiveTxConfig) -> Self {
        let name = |f: &i32| {
            FactorType::try_from(*f)
                .map(|f| f.as_str_name().to_string())
                .unwrap_or_default()
        };
        Self {
            transaction_type: SensitiveTxType::try_from(c.transaction_type)
                .map(|t| t.as_str_name().to_string())
                .unwrap_or_default(),
            enabled: c.enabled,
            min_veid_score: c.min_veid_score,
            required_factor_combinations: c
                .required_factor_combinations
                .iter()
                .map(|k| k.factors.iter().map(name).collect())
                .collect(),
            session_duration: c.session_duration,
            single_use: c.single_use,
            allow_trusted_device_reduction: c.allow_trusted_device_reduction,
            value_threshold_uve: c.value_threshold_uve.clone(),
            policy_required: c.policy_required,
            description: c.description.clone(),
        }
    }
}

impl MfaGenesis {
    /// The configs genesis installs.
    pub fn configs(&self) -> Result<Vec<SensitiveTxConfig>, MfaError> {
        match &self.sensitive_tx_configs {
            None => Ok(default_configs()),
            Some(list) => {
                let v = list
                    .iter()
                    .map(GenesisConfig::to_proto)
                    .collect::<Result<Vec<_>, _>>()?;
                for (i, c) in v.iter().enumerate() {
                    if v.iter()
                        .take(i)
                        .any(|d| d.transaction_type == c.transaction_type)
                    {
                        return Err(MfaError::InvalidGenesis(format!(
                            "transaction type {} configured twice",
                            c.transaction_type
                        )));
                    }
                }
                Ok(v)
            }
        }
    }

    pub fn validate(&self) -> Result<(), MfaError> {
        self.params
            .validate()
            .map_err(|e| MfaError::InvalidGenesis(e.to_string()))?;
        self.configs()?;
        Ok(())
    }
}

pub fn init_genesis(store: &mut impl Store, g: &MfaGenesis) -> Result<(), AppError> {
    g.validate()?;
    state::set_params(store, &g.params)?;
    for c in g.configs()? {
        state::set_config(store, &c)?;
    }
    Ok(())
}
