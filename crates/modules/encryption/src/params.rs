use crate::proto::Params;
use crate::EncryptionError;
use ve_crypto::envelope::{Algorithm, HARD_MAX_RECIPIENTS, MAX_ENVELOPE_LEN, PRIMARY_ALGORITHM};

/// encryption parameters. Heights, not seconds: the chain's only clock that cannot drift
/// between validators' views of "7 days".
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EncryptionParams {
    pub max_recipients_per_envelope: u32,
    pub max_keys_per_account: u32,
    /// Canonical ids; genesis may write them in any case.
    pub allowed_algorithms: Vec<String>,
    /// Blocks a rotated-out key stays usable (default about 7 days at 6 s blocks).
    pub rotation_overlap_blocks: u64,
    /// Lifetime of newly registered keys in blocks; 0 = no expiry.
    pub default_key_ttl_blocks: u64,
    pub max_envelope_bytes: u64,
    /// Bound on end-block work: key expiries processed per block.
    pub max_expiries_per_block: u32,
    /// Refuse unsigned envelopes.
    pub require_signature: bool,
}

impl Default for EncryptionParams {
    fn default() -> Self {
        Self {
            max_recipients_per_envelope: 100,
            max_keys_per_account: 10,
            allowed_algorithms: vec![PRIMARY_ALGORITHM.id.to_string()],
            rotation_overlap_blocks: 100_800,
            default_key_ttl_blocks: 0,
            max_envelope_bytes: 1 << 20,
            max_expiries_per_block: 100,
            require_signature: false,
        }
    }
}

impl EncryptionParams {
    /// Checks bounds and rewrites algorithm ids to their canonical form.
    pub fn normalized(&self) -> Result<Self, EncryptionError> {
        let bad = |m: String| Err(EncryptionError::InvalidParams(m));
        let max_r = u32::try_from(HARD_MAX_RECIPIENTS).unwrap_or(u32::MAX);
        if self.max_recipients_per_envelope == 0 || self.max_recipients_per_envelope > max_r {
            return bad(format!("max_recipients_per_envelope must be 1..={max_r}"));
        }
        if self.max_keys_per_account == 0 || self.max_keys_per_account > 1000 {
            return bad("max_keys_per_account must be 1..=1000".into());
        }
        let max_len = u64::try_from(MAX_ENVELOPE_LEN).unwrap_or(u64::MAX);
        if self.max_envelope_bytes == 0 || self.max_envelope_bytes > max_len {
            return bad(format!("max_envelope_bytes must be 1..={max_len}"));
        }
        if self.max_expiries_per_block == 0 || self.max_expiries_per_block > 10_000 {
            return bad("max_expiries_per_block must be 1..=10000".into());
        }
        let mut algs: Vec<String> = Vec::with_capacity(self.allowed_algorithms.len());
        for id in &self.allowed_algorithms {
            let a = Algorithm::by_id_ignore_case(id)
                .map_err(|_| EncryptionError::InvalidParams(format!("unknown algorithm {id:?}")))?;
            if !a.supported {
                return bad(format!("algorithm {} is reserved, not supported", a.id));
            }
            if algs.iter().any(|x| x == a.id) {
                return bad(format!("algorithm {} listed twice", a.id));
            }
            algs.push(a.id.to_string());
        }
        if algs.is_empty() {
            return bad("allowed_algorithms must not be empty".into());
        }
        Ok(Self {
            allowed_algorithms: algs,
            ..self.clone()
        })
    }

    pub fn allows(&self, algorithm_id: &str) -> bool {
        self.allowed_algorithms.iter().any(|a| a == algorithm_id)
    }

    pub fn to_proto(&self) -> Params {
        Params {
            max_recipients_per_envelope: self.max_recipients_per_envelope,
            max_keys_per_account: self.max_keys_per_account,
            allowed_algorithms: self.allowed_algorithms.clone(),
            rotation_overlap_blocks: self.rotation_overlap_blocks,
            default_key_ttl_blocks: self.default_key_ttl_blocks,
            max_envelope_bytes: self.max_envelope_bytes,
            max_expiries_per_block: self.max_expiries_per_block,
            require_signature: self.require_signature,
        }
    }

    pub fn from_proto(p: &Params) -> Self {
        Self {
            max_recipients_per_envelope: p.max_recipients_per_envelope,
            max_keys_per_account: p.max_keys_per_account,
            allowed_algorithms: p.allowed_algorithms.clone(),
            rotation_overlap_blocks: p.rotation_overlap_blocks,
            default_key_ttl_blocks: p.default_key_ttl_blocks,
            max_envelope_bytes: p.max_envelope_bytes,
            max_expiries_per_block: p.max_expiries_per_block,
            require_signature: p.require_signature,
        }
    }
}
