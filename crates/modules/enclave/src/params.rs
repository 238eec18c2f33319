use crate::proto::{ConsensusBinding, Params};
use crate::EnclaveError;
use ve_types::Address;

/// enclave parameters.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnclaveParams {
    /// Accounts allowed to register an enclave identity. There is no staking module yet:
    /// this list stands in for "operator of a bonded validator" until there is one.
    pub validator_operators: Vec<Address>,
    /// Accept the simulated platform (localnet: true; mainnet genesis template: false).
    pub allow_simulated: bool,
    /// Hex Ed25519 public key of the simulated platform; empty = none.
    pub simulated_platform_key: String,
    /// Blocks an attestation stays valid (about one day at 5 s blocks).
    pub identity_validity_blocks: u64,
    /// Default blocks the previous keys stay valid after a rotation (about one hour).
    pub key_rotation_overlap_blocks: u64,
    /// Largest attestation report plus chain, in bytes.
    pub max_attestation_bytes: u32,
    /// Which CometBFT validator (consensus address) each operator runs. There is no
    /// staking module yet: genesis or governance sets this.
    pub consensus_bindings: Vec<ValidatorBinding>,
}

/// An operator and the consensus address of the validator it runs.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorBinding {
    pub operator: Address,
    /// Hex, 20 bytes.
    pub consensus_address: String,
}

impl ValidatorBinding {
    pub fn consensus_bytes(&self) -> Result<[u8; 20], EnclaveError> {
        let b = hex::decode(&self.consensus_address)
            .map_err(|e| EnclaveError::InvalidParams(format!("consensus_address: {e}")))?;
        b.as_slice()
            .try_into()
            .map_err(|_| EnclaveError::InvalidParams("consensus_address must be 20 bytes".into()))
    }
}

impl Default for EnclaveParams {
    fn default() -> Self {
        Self {
            validator_operators: Vec::new(),
            allow_simulated: false,
            simulated_platform_key: String::new(),
            identity_validity_blocks: 17_280,
            key_rotation_overlap_blocks: 720,
            max_attestation_bytes: 32_768,
            consensus_bindings: Vec::new(),
        }
    }
}

pub const MAX_OPERATORS: usize = 500;
/// Hard cap of `max_attestation_bytes` (and of any report before params are read).
pub const HARD_MAX_ATTESTATION_BYTES: u32 = 65_536;

impl EnclaveParams {
    pub fn validate(&self) -> Result<(), EnclaveError> {
        let bad = |m: &str| Err(EnclaveError::InvalidParams(m.to_string()));
        if self.validator_operators.len() > MAX_OPERATORS {
            return bad("at most 500 validator_operators");
        }
        let mut seen = std::collections::BTreeSet::new();
        for a in &self.validator_operators {
            if !seen.insert(*a) {
                return Err(EnclaveError::InvalidParams(format!(
                    "validator operator {a} listed twice"
                )));
            }
        }
        if self.consensus_bindings.len() > MAX_OPERATORS {
            return bad("at most 500 consensus_bindings");
        }
        let mut ops = std::collections::BTreeSet::new();
        let mut cons = std::collections::BTreeSet::new();
        for b in &self.consensus_bindings {
            if !self.validator_operators.contains(&b.operator) {
                return Err(EnclaveError::InvalidParams(format!(
                    "consensus binding for {} who is not in validator_operators",
                    b.operator
                )));
            }
            if !ops.insert(b.operator) || !cons.insert(b.consensus_bytes()?) {
                return Err(EnclaveError::InvalidParams(format!(
                    "operator {} or consensus address {} bound twice",
                    b.operator, b.consensus_address
                )));
            }
        }
        if self.identity_validity_blocks == 0 {
            return bad("identity_validity_blocks must be positive");
        }
        if self.key_rotation_overlap_blocks > self.identity_validity_blocks {
            return bad("key_rotation_overlap_blocks must not exceed identity_validity_blocks");
        }
        if self.max_attestation_bytes == 0
            || self.max_attestation_bytes > HARD_MAX_ATTESTATION_BYTES
        {
            return bad("max_attestation_bytes must be 1..=65536");
        }
        if !self.simulated_platform_key.is_empty() {
            self.simulated_key()?;
        } else if self.allow_simulated {
            return bad("allow_simulated needs simulated_platform_key");
        }
        Ok(())
    }

    /// The simulated platform key, if set.
    pub fn simulated_key(&self) -> Result<Option<[u8; 32]>, EnclaveError> {
        if self.simulated_platform_key.is_empty() {
            return Ok(None);
        }
        let b = hex::decode(&self.simulated_platform_key)
            .map_err(|e| EnclaveError::InvalidParams(format!("simulated_platform_key: {e}")))?;
        let k: [u8; 32] = b.as_slice().try_into().map_err(|_| {
            EnclaveError::InvalidParams("simulated_platform_key must be 32 bytes".into())
        })?;
        ed25519_dalek::VerifyingKey::from_bytes(&k).map_err(|_| {
            EnclaveError::InvalidParams("simulated_platform_key is not an Ed25519 key".into())
        })?;
        Ok(Some(k))
    }

    pub fn to_proto(&self) -> Params {
        Params {
            validator_operators: self
                .validator_operators
                .iter()
                .map(ToString::to_string)
                .collect(),
            allow_simulated: self.allow_simulated,
            simulated_platform_key: hex::decode(&self.simulated_platform_key).unwrap_or_default(),
            identity_validity_blocks: self.identity_validity_blocks,
            key_rotation_overlap_blocks: self.key_rotation_overlap_blocks,
            max_attestation_bytes: self.max_attestation_bytes,
            consensus_bindings: self
                .consensus_bindings
                .iter()
                .map(|b| ConsensusBinding {
                    operator: b.operator.to_string(),
                    consensus_address: hex::decode(&b.consensus_address).unwrap_or_default(),
                })
                .collect(),
        }
    }

    pub fn from_proto(p: &Params) -> Result<Self, EnclaveError> {
        let mut ops = Vec::with_capacity(p.validator_operators.len().min(MAX_OPERATORS));
        for a in &p.validator_operators {
            ops.push(a.parse().map_err(|e| {
                EnclaveError::InvalidAddress(a.chars().take(100).collect(), format!("{e}"))
            })?);
        }
        let mut bindings = Vec::with_capacity(p.consensus_bindings.len().min(MAX_OPERATORS));
        for b in &p.consensus_bindings {
            bindings.push(ValidatorBinding {
                operator: b.operator.parse().map_err(|e| {
                    EnclaveError::InvalidAddress(
                        b.operator.chars().take(100).collect(),
                        format!("{e}"),
                    )
                })?,
                consensus_address: hex::encode(&b.consensus_address),
            });
        }
        Ok(Self {
            consensus_bindings: bindings,
            validator_operators: ops,
            allow_simulated: p.allow_simulated,
            simulated_platform_key: hex::encode(&p.simulated_platform_key),
            identity_validity_blocks: p.identity_validity_blocks,
            key_rotation_overlap_blocks: p.key_rotation_overlap_blocks,
            max_attestation_bytes: p.max_attestation_bytes,
        })
    }
}
