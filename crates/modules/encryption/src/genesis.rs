//! encryption genesis: params and pre-registered keys (e.g. validators' keys at launch).

use crate::msg_server::parse_algorithm;
use crate::proto::{KeyStatus, RecipientKeyRecord};
use crate::{state, EncryptionError, EncryptionParams};
use std::collections::BTreeMap;
use ve_crypto::envelope::RecipientPublicKey;
use ve_module::Store;
use ve_types::{Address, AppError};

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EncryptionGenesis {
    pub params: EncryptionParams,
    pub keys: Vec<GenesisKey>,
}

/// A key registered at height 0, active, with no expiry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisKey {
    pub address: Address,
    /// 64 hex characters.
    pub public_key: String,
    #[serde(default)]
    pub algorithm_id: String,
    #[serde(default)]
    pub label: String,
}

impl EncryptionGenesis {
    pub fn validate(&self) -> Result<(), EncryptionError> {
        let params = self
            .params
            .normalized()
            .map_err(|e| EncryptionError::InvalidGenesis(e.to_string()))?;
        let mut seen = std::collections::BTreeSet::new();
        let mut per_account: BTreeMap<Address, u32> = BTreeMap::new();
        for k in &self.keys {
            let bad =
                |m: String| EncryptionError::InvalidGenesis(format!("key of {}: {m}", k.address));
            let pk = RecipientPublicKey::from_hex(&k.public_key).map_err(|e| bad(e.to_string()))?;
            let alg = parse_algorithm(&k.algorithm_id).map_err(|e| bad(e.message))?;
            if !params.allows(alg.id) {
                return Err(bad(format!("algorithm {} not allowed", alg.id)));
            }
            if !seen.insert(pk.fingerprint()) {
                return Err(bad(format!("duplicate key {}", pk.fingerprint())));
            }
            let n = per_account.entry(k.address).or_insert(0);
            *n = n.saturating_add(1);
            if *n > params.max_keys_per_account {
                return Err(bad("more keys than max_keys_per_account".into()));
            }
            if k.label.len() > crate::msg_server::MAX_LABEL_LEN {
                return Err(bad("label longer than 128 bytes".into()));
            }
        }
        Ok(())
    }
}

pub fn init_genesis(store: &mut impl Store, genesis: &EncryptionGenesis) -> Result<(), AppError> {
    genesis.validate()?;
    let params = genesis.params.normalized()?;
    state::set_params(store, &params)?;
    for k in &genesis.keys {
        let pk = RecipientPublicKey::from_hex(&k.public_key)
            .map_err(EncryptionError::InvalidPublicKey)?;
        let alg = parse_algorithm(&k.algorithm_id)?;
        let record = RecipientKeyRecord {
            address: k.address.to_string(),
            public_key: pk.as_bytes().to_vec(),
            fingerprint: pk.fingerprint(),
            algorithm_id: alg.id.to_string(),
            key_version: state::next_version(store, &k.address)?,
            label: k.label.clone(),
            status: KeyStatus::Active as i32,
            registered_at: 0,
            revoked_at: 0,
            expires_at: 0,
            rotated_to: String::new(),
        };
        state::set_key(store, &record)?;
        state::add_live(store, &k.address, 1)?;
    }
    Ok(())
}
