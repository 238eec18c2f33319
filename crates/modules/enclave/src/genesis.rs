//! enclave genesis: params (validator operators, simulated platform) and the measurement
//! allow-list at launch. Identities are registered by transactions (each needs a report
//! verified at block time), never at genesis.

use crate::proto::MeasurementRecord;
use crate::{keeper, state, EnclaveError, EnclaveParams};
use ve_module::Store;
use ve_types::AppError;

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnclaveGenesis {
    pub params: EnclaveParams,
    pub measurements: Vec<GenesisMeasurement>,
}

/// An allow-listed measurement from height 0.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisMeasurement {
    /// `sgx`, `sev-snp`, `nitro` or `simulated`.
    pub platform: String,
    /// Hex.
    pub measurement: String,
    #[serde(default)]
    pub description: String,
}

/// The proto platform value for a name.
pub fn platform_from_name(s: &str) -> Option<i32> {
    (1..=4).find(|p| keeper::platform_name(*p) == s)
}

impl GenesisMeasurement {
    fn to_record(&self) -> Result<MeasurementRecord, EnclaveError> {
        let bad = |m: String| {
            EnclaveError::InvalidGenesis(format!("measurement {:?}: {m}", self.measurement))
        };
        let platform = platform_from_name(&self.platform)
            .ok_or_else(|| bad(format!("unknown platform {:?}", self.platform)))?;
        let m = hex::decode(&self.measurement).map_err(|e| bad(e.to_string()))?;
        let want = keeper::platform(platform)?.measurement_len();
        if m.len() != want {
            return Err(bad(format!("{} bytes; expected {want}", m.len())));
        }
        if self.description.len() > crate::msg_server::MAX_DESCRIPTION_LEN {
            return Err(bad("description longer than 512 bytes".into()));
        }
        Ok(MeasurementRecord {
            platform,
            measurement: m,
            description: self.description.clone(),
            added_by: "genesis".into(),
            ..Default::default()
        })
    }
}

impl EnclaveGenesis {
    pub fn validate(&self) -> Result<(), EnclaveError> {
        self.params
            .validate()
            .map_err(|e| EnclaveError::InvalidGenesis(e.to_string()))?;
        let mut seen = std::collections::BTreeSet::new();
        for m in &self.measurements {
            let r = m.to_record()?;
            if !seen.insert((r.platform, r.measurement)) {
                return Err(EnclaveError::InvalidGenesis(format!(
                    "measurement {} listed twice",
                    m.measurement
                )));
            }
        }
        Ok(())
    }
}

pub fn init_genesis(store: &mut impl Store, genesis: &EnclaveGenesis) -> Result<(), AppError> {
    genesis.validate()?;
    state::set_params(store, &genesis.params)?;
    for m in &genesis.measurements {
        state::set_measurement(store, &m.to_record()?)?;
    }
    Ok(())
}
