//! config genesis: params (admins) and clients approved at launch (e.g. the localnet's
//! test capture client).

use crate::proto::{ApprovedClient, AuditEntry, ClientStatus, KeyType};
use crate::{keeper, msg_server, semver, state, ConfigError, ConfigParams};
use ve_module::Store;
use ve_types::AppError;

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConfigGenesis {
    pub params: ConfigParams,
    pub clients: Vec<GenesisClient>,
}

/// A client active from height 0.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisClient {
    pub client_id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// `ed25519` or `secp256k1`.
    pub key_type: String,
    /// Hex.
    pub public_key: String,
    #[serde(default)]
    pub min_version: String,
    #[serde(default)]
    pub max_version: String,
    #[serde(default)]
    pub allowed_scopes: Vec<String>,
}

fn key_type(s: &str) -> Result<KeyType, ConfigError> {
    match s {
        "ed25519" => Ok(KeyType::Ed25519),
        "secp256k1" => Ok(KeyType::Secp256k1),
        _ => Err(ConfigError::InvalidKeyType),
    }
}

impl GenesisClient {
    fn to_client(&self, default_min: &str) -> Result<ApprovedClient, ConfigError> {
        let bad =
            |m: String| ConfigError::InvalidGenesis(format!("client {:?}: {m}", self.client_id));
        msg_server::check_client_id(&self.client_id).map_err(|e| bad(e.to_string()))?;
        if self.name.is_empty() || self.name.len() > msg_server::MAX_NAME_LEN {
            return Err(bad("name must be 1..=128 bytes".into()));
        }
        if self.description.len() > msg_server::MAX_DESCRIPTION_LEN {
            return Err(bad("description longer than 512 bytes".into()));
        }
        let kt = key_type(&self.key_type).map_err(|e| bad(e.to_string()))?;
        let pk = hex::decode(&self.public_key).map_err(|e| bad(format!("public_key: {e}")))?;
        keeper::check_public_key(kt as i32, &pk).map_err(|e| bad(e.to_string()))?;
        let min = if self.min_version.is_empty() {
            default_min.to_string()
        } else {
            self.min_version.clone()
        };
        semver::parse(&min).map_err(|e| bad(e.to_string()))?;
        if !self.max_version.is_empty()
            && semver::parse(&self.max_version).map_err(|e| bad(e.to_string()))?
                < semver::parse(&min)?
        {
            return Err(bad("max_version below min_version".into()));
        }
        for s in &self.allowed_scopes {
            if !msg_server::SCOPE_TYPE_NAMES.contains(&s.as_str()) {
                return Err(bad(format!("unknown scope type {s:?}")));
            }
        }
        Ok(ApprovedClient {
            client_id: self.client_id.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            public_key: pk,
            key_type: kt as i32,
            key_version: 1,
            min_version: min,
            max_version: self.max_version.clone(),
            allowed_scopes: self.allowed_scopes.clone(),
            status: ClientStatus::Active as i32,
            registered_by: "genesis".into(),
            last_updated_by: "genesis".into(),
            ..Default::default()
        })
    }
}

impl ConfigGenesis {
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.params
            .validate()
            .map_err(|e| ConfigError::InvalidGenesis(e.to_string()))?;
        if self.clients.len() > usize::try_from(self.params.max_clients).unwrap_or(usize::MAX) {
            return Err(ConfigError::InvalidGenesis(
                "more clients than max_clients".into(),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in &self.clients {
            c.to_client(&self.params.default_min_version)?;
            if !seen.insert(c.client_id.as_str()) {
                return Err(ConfigError::InvalidGenesis(format!(
                    "client {} listed twice",
                    c.client_id
                )));
            }
        }
        Ok(())
    }
}

pub fn init_genesis(store: &mut impl Store, genesis: &ConfigGenesis) -> Result<(), AppError> {
    genesis.validate()?;
    state::set_params(store, &genesis.params)?;
    for g in &genesis.clients {
        let c = g.to_client(&genesis.params.default_min_version)?;
        state::set_client(store, &c, None)?;
        state::append_audit(
            store,
            &AuditEntry {
                client_id: c.client_id.clone(),
                action: "registered".into(),
                actor: "genesis".into(),
                ..Default::default()
            },
        )?;
    }
    state::set_client_count(
        store,
        u32::try_from(genesis.clients.len()).map_err(|_| ConfigError::Overflow("client count"))?,
    )?;
    Ok(())
}
