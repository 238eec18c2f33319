use crate::attributes::Limits;
use crate::proto::Params;
use crate::ProviderError;

/// provider parameters.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderParams {
    pub max_attributes: u32,
    pub max_attribute_key_len: u32,
    pub max_attribute_value_len: u32,
    /// Seconds a verification token stays valid (spec: 7 days).
    pub verification_ttl_seconds: i64,
    /// How old an attestation's DNS lookup may be when it lands on chain.
    pub attestation_max_age_seconds: i64,
}

impl Default for ProviderParams {
    fn default() -> Self {
        Self {
            max_attributes: 32,
            max_attribute_key_len: 64,
            max_attribute_value_len: 128,
            verification_ttl_seconds: 7 * 24 * 3600,
            attestation_max_age_seconds: 3600,
        }
    }
}

impl ProviderParams {
    pub fn validate(&self) -> Result<(), ProviderError> {
        let bad = |m: &str| Err(ProviderError::InvalidParams(m.to_string()));
        if self.max_attributes == 0 || self.max_attributes > 256 {
            return bad("max_attributes must be 1..=256");
        }
        if self.max_attribute_key_len == 0 || self.max_attribute_key_len > 256 {
            return bad("max_attribute_key_len must be 1..=256");
        }
        if self.max_attribute_value_len == 0 || self.max_attribute_value_len > 1024 {
            return bad("max_attribute_value_len must be 1..=1024");
        }
        if self.verification_ttl_seconds <= 0 || self.verification_ttl_seconds > 90 * 24 * 3600 {
            return bad("verification_ttl_seconds must be 1..=90 days");
        }
        if self.attestation_max_age_seconds <= 0 || self.attestation_max_age_seconds > 7 * 24 * 3600
        {
            return bad("attestation_max_age_seconds must be 1..=7 days");
        }
        Ok(())
    }

    pub fn limits(&self) -> Limits {
        Limits {
            max_count: self.max_attributes,
            max_key_len: self.max_attribute_key_len,
            max_value_len: self.max_attribute_value_len,
        }
    }

    pub fn to_proto(&self) -> Params {
        Params {
            max_attributes: self.max_attributes,
            max_attribute_key_len: self.max_attribute_key_len,
            max_attribute_value_len: self.max_attribute_value_len,
            verification_ttl_seconds: self.verification_ttl_seconds,
            attestation_max_age_seconds: self.attestation_max_age_seconds,
        }
    }

    pub fn from_proto(p: &Params) -> Self {
        Self {
            max_attributes: p.max_attributes,
            max_attribute_key_len: p.max_attribute_key_len,
            max_attribute_value_len: p.max_attribute_value_len,
            verification_ttl_seconds: p.verification_ttl_seconds,
            attestation_max_age_seconds: p.attestation_max_age_seconds,
        }
    }
}
