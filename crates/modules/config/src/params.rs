use crate::proto::Params;
use crate::{semver, ConfigError};
use ve_types::Address;

/// config parameters.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConfigParams {
    /// Accounts that may change the registry and identity admin settings. Issue 7 (roles)
    /// replaces this list with the administrator role.
    pub admins: Vec<Address>,
    pub max_clients: u32,
    /// Default overlap of a key rotation, in blocks (about one day at 5 s blocks).
    pub key_rotation_overlap_blocks: u64,
    pub default_min_version: String,
}

impl Default for ConfigParams {
    fn default() -> Self {
        Self {
            admins: Vec::new(),
            max_clients: 1_000,
            key_rotation_overlap_blocks: 17_280,
            default_min_version: "1.0.0".into(),
        }
    }
}

/// Upper bound of `max_clients` and of the admin list.
pub const HARD_MAX_CLIENTS: u32 = 100_000;
pub const MAX_ADMINS: usize = 100;

impl ConfigParams {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::InvalidParams(m.to_string()));
        if self.max_clients == 0 || self.max_clients > HARD_MAX_CLIENTS {
            return bad("max_clients must be 1..=100000");
        }
        if self.admins.len() > MAX_ADMINS {
            return bad("at most 100 admins");
        }
        let mut seen = std::collections::BTreeSet::new();
        for a in &self.admins {
            if !seen.insert(*a) {
                return Err(ConfigError::InvalidParams(format!(
                    "admin {a} listed twice"
                )));
            }
        }
        semver::parse(&self.default_min_version)
            .map_err(|e| ConfigError::InvalidParams(format!("default_min_version: {e}")))?;
        Ok(())
    }

    pub fn to_proto(&self) -> Params {
        Params {
            admins: self.admins.iter().map(ToString::to_string).collect(),
            max_clients: self.max_clients,
            key_rotation_overlap_blocks: self.key_rotation_overlap_blocks,
            default_min_version: self.default_min_version.clone(),
        }
    }

    pub fn from_proto(p: &Params) -> Result<Self, ConfigError> {
        let mut admins = Vec::with_capacity(p.admins.len());
        for a in &p.admins {
            admins.push(
                a.parse()
                    .map_err(|e| ConfigError::InvalidAddress(a.clone(), format!("{e}")))?,
            );
        }
        Ok(Self {
            admins,
            max_clients: p.max_clients,
            key_rotation_overlap_blocks: p.key_rotation_overlap_blocks,
            default_min_version: p.default_min_version.clone(),
        })
    }
}
