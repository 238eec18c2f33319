//! The identity an enclave publishes (and registers on chain).

/// What the enclave publishes about itself (registered on chain).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EnclaveIdentity {
    /// `simulated`: no hardware attestation backs this identity.
    pub platform: String,
    #[serde(with = "hex32")]
    pub x25519_public_key: [u8; 32],
    #[serde(with = "hex32")]
    pub signing_public_key: [u8; 32],
    /// SHA-256(domain ‖ SHA-256(service binary) ‖ model-set hash).
    #[serde(with = "hex32")]
    pub measurement: [u8; 32],
    #[serde(with = "hex32")]
    pub model_hash: [u8; 32],
}

mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        hex::decode(s)
            .map_err(serde::de::Error::custom)?
            .try_into()
            .map_err(|_| serde::de::Error::custom("expected 32 bytes"))
    }
}
