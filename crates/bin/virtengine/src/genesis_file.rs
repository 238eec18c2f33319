//! CometBFT's `genesis.json` with our `app_state` inside: read, edit, write.
//!
//! The CometBFT part is kept as JSON (`serde_json::Value`) so that fields we do not
//! manage survive a round trip untouched; the `app_state` goes through [`AppGenesis`]
//! so that what we write is what the application will parse at InitChain.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use ve_app::AppGenesis;

use crate::node::cometbft::{validator_address, TypedKey};

/// Consensus parameters we start every chain with.
#[derive(Debug, Clone)]
pub struct ConsensusSettings {
    pub block_max_bytes: u64,
    /// -1: no block gas limit.
    pub block_max_gas: i64,
}

impl Default for ConsensusSettings {
    fn default() -> Self {
        Self {
            block_max_bytes: 4 * 1024 * 1024,
            block_max_gas: -1,
        }
    }
}

/// A genesis document being edited.
#[derive(Debug, Clone)]
pub struct GenesisFile {
    pub doc: Value,
}

impl GenesisFile {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading genesis {}", path.display()))?;
        let doc: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        if !doc.is_object() {
            bail!("{}: genesis must be a JSON object", path.display());
        }
        Ok(Self { doc })
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(&self.doc).context("serialising genesis")?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text + "\n").with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))
    }

    /// Turns the genesis `cometbft init` wrote into ours: chain id, consensus params,
    /// a default `app_state`.
    pub fn prepare(&mut self, chain_id: &str, settings: &ConsensusSettings) -> Result<()> {
        let obj = self
            .doc
            .as_object_mut()
            .context("genesis must be a JSON object")?;
        obj.insert("chain_id".into(), json!(chain_id));
        obj.insert("initial_height".into(), json!("1"));
        obj.insert(
            "consensus_params".into(),
            json!({
                "block": {
                    "max_bytes": settings.block_max_bytes.to_string(),
                    "max_gas": settings.block_max_gas.to_string(),
                },
                "evidence": {
                    "max_age_num_blocks": "100000",
                    "max_age_duration": "172800000000000",
                    "max_bytes": "1048576",
                },
                "validator": { "pub_key_types": ["ed25519"] },
                "version": { "app": "0" },
                "abci": { "vote_extensions_enable_height": "0" },
            }),
        );
        obj.insert("validators".into(), json!([]));
        obj.insert("app_hash".into(), json!(""));
        self.set_app_state(&AppGenesis::default())
    }

    /// `consensus_params.abci.vote_extensions_enable_height`: from this height CometBFT
    /// calls ExtendVote, the path identity scores take (docs/scoring-consensus.md). The
    /// template of `virtengine init` leaves it 0 (off) until the chain's validators run
    /// enclave services; a localnet sets 1.
    pub fn set_vote_extensions_enable_height(&mut self, height: u64) -> Result<()> {
        let params = self
            .obj_mut()?
            .entry("consensus_params")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .context("genesis consensus_params must be an object")?;
        let abci = params
            .entry("abci")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .context("genesis consensus_params.abci must be an object")?;
        abci.insert(
            "vote_extensions_enable_height".into(),
            json!(height.to_string()),
        );
        Ok(())
    }

    pub fn chain_id(&self) -> Option<&str> {
        self.doc.get("chain_id").and_then(Value::as_str)
    }

    pub fn app_state(&self) -> Result<AppGenesis> {
        let v = self
            .doc
            .get("app_state")
            .cloned()
            .context("genesis has no app_state: run `virtengine init` to create one")?;
        serde_json::from_value(v).context("genesis app_state does not parse")
    }

    pub fn set_app_state(&mut self, state: &AppGenesis) -> Result<()> {
        let v = serde_json::to_value(state).context("serialising app_state")?;
        self.obj_mut()?.insert("app_state".into(), v);
        Ok(())
    }

    fn obj_mut(&mut self) -> Result<&mut serde_json::Map<String, Value>> {
        self.doc
            .as_object_mut()
            .context("genesis must be a JSON object")
    }

    /// Adds a validator, or updates the power (and name) of one with the same key.
    /// Returns the validator's address.
    pub fn upsert_validator(
        &mut self,
        pub_key: &TypedKey,
        power: u64,
        name: &str,
    ) -> Result<String> {
        if pub_key.kind != "tendermint/PubKeyEd25519" {
            bail!(
                "validator key type {} is not supported: use an ed25519 key (tendermint/PubKeyEd25519)",
                pub_key.kind
            );
        }
        if power == 0 {
            bail!("validator power must be positive");
        }
        let address = validator_address(&pub_key.value)?;
        let entry = json!({
            "address": address,
            "pub_key": pub_key,
            "power": power.to_string(),
            "name": name,
        });
        let obj = self.obj_mut()?;
        let vals = obj.entry("validators").or_insert_with(|| json!([]));
        let arr = vals
            .as_array_mut()
            .context("genesis validators must be a list")?;
        if let Some(existing) = arr
            .iter_mut()
            .find(|v| v.get("pub_key").and_then(|k| k.get("value")) == Some(&json!(pub_key.value)))
        {
            *existing = entry;
        } else {
            arr.push(entry);
        }
        Ok(address)
    }

    /// Every check we can make without starting the chain; the error names the problem.
    pub fn validate(&self) -> Result<()> {
        let chain_id = self.chain_id().context("genesis has no chain_id")?;
        if chain_id.is_empty() || chain_id.len() > 50 {
            bail!("chain_id {chain_id:?} must be 1-50 characters");
        }
        let vals = self
            .doc
            .get("validators")
            .and_then(Value::as_array)
            .map(Vec::len)
            .unwrap_or(0);
        if vals == 0 {
            bail!("genesis has no validators: run `virtengine genesis add-validator`");
        }
        for v in self
            .doc
            .get("validators")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key: TypedKey =
                serde_json::from_value(v.get("pub_key").cloned().unwrap_or(Value::Null))
                    .context("a genesis validator has a malformed pub_key")?;
            let addr = validator_address(&key.value)?;
            if let Some(given) = v.get("address").and_then(Value::as_str) {
                if !given.is_empty() && !given.eq_ignore_ascii_case(&addr) {
                    bail!("genesis validator address {given} does not match its pub_key (expected {addr})");
                }
            }
            let power = v.get("power").and_then(Value::as_str).unwrap_or("");
            match power.parse::<u64>() {
                Ok(p) if p > 0 => {}
                _ => bail!("genesis validator {addr} has invalid power {power:?}: use a positive integer string"),
            }
        }
        let state = self.app_state()?;
        state
            .validate()
            .map_err(|e| anyhow::anyhow!("app_state is invalid: {e}"))?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn template() -> GenesisFile {
        let mut g = GenesisFile { doc: json!({}) };
        g.prepare("virtengine-1", &ConsensusSettings::default())
            .unwrap();
        g
    }

    #[test]
    fn the_init_template_refuses_simulated_enclaves() {
        let p = template().app_state().unwrap().enclave.params;
        assert!(
            !p.allow_simulated,
            "a real chain must not accept SIMULATED reports"
        );
        assert!(p.simulated_platform_key.is_empty());
    }

    #[test]
    fn vote_extensions_are_off_in_the_template_and_set_by_height() {
        let mut g = template();
        let at = |g: &GenesisFile| {
            g.doc["consensus_params"]["abci"]["vote_extensions_enable_height"].clone()
        };
        assert_eq!(at(&g), json!("0"));
        g.set_vote_extensions_enable_height(1).unwrap();
        assert_eq!(at(&g), json!("1"));
        assert_eq!(g.doc["consensus_params"]["block"]["max_gas"], json!("-1"));
    }
}
