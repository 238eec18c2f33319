//! provider genesis: params, DNS attestor keys, and providers registered at genesis (no
//! gating: genesis is the chain's starting state, checked by whoever builds it). Genesis
//! providers start with `host_trusted = false`, like every new provider.

use crate::msg_server::validate_host_uri;
use crate::proto::{Attestor, Info, Provider};
use crate::{attributes, state, ProviderError, ProviderParams};
use std::collections::BTreeSet;
use ve_module::Store;
use ve_proto::virtengine::base::v1::Attribute;
use ve_types::{Address, AppError};

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderGenesis {
    pub params: ProviderParams,
    pub attestors: Vec<GenesisAttestor>,
    pub providers: Vec<GenesisProvider>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisAttestor {
    /// Hex of the 32-byte Ed25519 public key.
    pub public_key: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisProvider {
    pub owner: Address,
    pub host_uri: String,
    /// `key=value` pairs as a map (sorted by key on import).
    #[serde(default)]
    pub attributes: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub website: String,
    /// Hex; empty for none.
    #[serde(default)]
    pub public_key: String,
}

/// Attestors and (owner, provider) records built from a genesis section.
type Built = (Vec<Attestor>, Vec<(Address, Provider)>);

fn bad(m: String) -> ProviderError {
    ProviderError::InvalidGenesis(m)
}

impl ProviderGenesis {
    fn build(&self) -> Result<Built, AppError> {
        self.params.validate()?;
        let mut attestors = Vec::new();
        let mut seen = BTreeSet::new();
        for a in &self.attestors {
            let key = hex::decode(&a.public_key)
                .map_err(|e| bad(format!("attestor key {:?}: {e}", a.public_key)))?;
            let k = state::key32(&key)?;
            if ed25519_dalek::VerifyingKey::from_bytes(&k).is_err() || !seen.insert(k) {
                return Err(bad(format!(
                    "attestor key {} invalid or duplicate",
                    a.public_key
                ))
                .into());
            }
            attestors.push(Attestor {
                public_key: key,
                description: a.description.clone(),
                added_by: "genesis".into(),
                added_height: 0,
            });
        }
        let mut providers = Vec::new();
        let mut owners = BTreeSet::new();
        for g in &self.providers {
            if !owners.insert(g.owner) {
                return Err(bad(format!("provider {} listed twice", g.owner)).into());
            }
            validate_host_uri(&g.host_uri)?;
            let attrs: Vec<Attribute> = g
                .attributes
                .iter()
                .map(|(k, v)| Attribute {
                    key: k.clone(),
                    value: v.clone(),
                })
                .collect();
            let attrs = attributes::validate(&attrs, &self.params.limits())
                .map_err(|e| bad(format!("provider {}: {e}", g.owner)))?;
            let public_key = hex::decode(&g.public_key)
                .map_err(|e| bad(format!("provider {} public key: {e}", g.owner)))?;
            providers.push((
                g.owner,
                Provider {
                    owner: g.owner.to_string(),
                    host_uri: g.host_uri.clone(),
                    attributes: attrs,
                    info: Some(Info {
                        email: g.email.clone(),
                        website: g.website.clone(),
                    }),
                    public_key,
                    host_trusted: false,
                    created_height: 0,
                    updated_height: 0,
                },
            ));
        }
        Ok((attestors, providers))
    }

    pub fn validate(&self) -> Result<(), AppError> {
        self.build().map(|_| ())
    }
}

pub fn init_genesis(store: &mut impl Store, genesis: &ProviderGenesis) -> Result<(), AppError> {
    let (attestors, providers) = genesis.build()?;
    state::set_params(store, &genesis.params)?;
    for a in &attestors {
        state::set_attestor(store, a)?;
    }
    for (owner, p) in &providers {
        state::set_provider(store, owner, p)?;
    }
    Ok(())
}
