//! offering genesis: offerings published at genesis (their providers must be genesis
//! providers; the app checks that).

use crate::msg_server::{check_fields, Fields};
use crate::proto::{Offering, OfferingState, ResourceTemplate};
use crate::{state, OfferingError};
use std::collections::BTreeMap;
use ve_module::Store;
use ve_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use ve_proto::virtengine::base::v1::Attribute;
use ve_types::{Address, AppError};

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OfferingGenesis {
    pub offerings: Vec<GenesisOffering>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisOffering {
    pub provider: Address,
    /// compute | storage | gpu | hpc | tee
    pub category: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// e.g. "100uve": per unit per block.
    pub price_per_block: String,
    pub cpu_millicores: u64,
    pub memory_bytes: u64,
    #[serde(default)]
    pub storage_bytes: u64,
    #[serde(default)]
    pub gpu_count: u32,
    #[serde(default)]
    pub gpu_model: String,
    #[serde(default)]
    pub min_tier: u32,
    #[serde(default)]
    pub require_mfa: bool,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

pub fn category_from_name(s: &str) -> Option<crate::proto::Category> {
    use crate::proto::Category::*;
    Some(match s {
        "compute" => Compute,
        "storage" => Storage,
        "gpu" => Gpu,
        "hpc" => Hpc,
        "tee" => Tee,
        _ => return None,
    })
}

impl OfferingGenesis {
    pub fn providers(&self) -> Vec<Address> {
        self.offerings.iter().map(|o| o.provider).collect()
    }

    fn build(&self) -> Result<Vec<(Address, Offering)>, AppError> {
        let mut seqs: BTreeMap<Address, u64> = BTreeMap::new();
        let mut out = Vec::new();
        for g in &self.offerings {
            let category = category_from_name(&g.category).ok_or_else(|| {
                OfferingError::InvalidGenesis(format!("unknown category {:?}", g.category))
            })?;
            let coin: ve_types::Coin = g.price_per_block.parse().map_err(|e| {
                OfferingError::InvalidGenesis(format!("price {:?}: {e}", g.price_per_block))
            })?;
            let price = ProtoCoin {
                denom: coin.denom.clone(),
                amount: coin.amount.to_string(),
            };
            let resources = ResourceTemplate {
                cpu_millicores: g.cpu_millicores,
                memory_bytes: g.memory_bytes,
                storage_bytes: g.storage_bytes,
                gpu_count: g.gpu_count,
                gpu_model: g.gpu_model.clone(),
            };
            let attrs: Vec<Attribute> = g
                .attributes
                .iter()
                .map(|(k, v)| Attribute {
                    key: k.clone(),
                    value: v.clone(),
                })
                .collect();
            let attrs = check_fields(&Fields {
                category: category as i32,
                name: &g.name,
                description: &g.description,
                price: Some(&price),
                resources: Some(&resources),
                min_tier: g.min_tier,
                attributes: &attrs,
            })?;
            let seq = seqs.entry(g.provider).or_insert(0);
            *seq = seq.saturating_add(1);
            out.push((
                g.provider,
                Offering {
                    provider: g.provider.to_string(),
                    seq: *seq,
                    state: OfferingState::Active as i32,
                    category: category as i32,
                    name: g.name.clone(),
                    description: g.description.clone(),
                    price_per_block: Some(price),
                    resources: Some(resources),
                    min_tier: g.min_tier,
                    require_mfa: g.require_mfa,
                    attributes: attrs,
                    created_height: 0,
                    updated_height: 0,
                    order_count: 0,
                },
            ));
        }
        if seqs
            .values()
            .any(|n| *n > crate::MAX_ACTIVE_OFFERINGS_PER_PROVIDER)
        {
            return Err(OfferingError::InvalidGenesis(
                "too many offerings for one provider".into(),
            )
            .into());
        }
        Ok(out)
    }

    pub fn validate(&self) -> Result<(), AppError> {
        self.build().map(|_| ())
    }
}

pub fn init_genesis(store: &mut impl Store, genesis: &OfferingGenesis) -> Result<(), AppError> {
    let built = genesis.build()?;
    let mut counts: BTreeMap<Address, u64> = BTreeMap::new();
    for (p, o) in &built {
        state::set_offering(store, p, o)?;
        counts.insert(*p, o.seq);
    }
    for (p, n) in counts {
        state::set_last_seq(store, &p, n)?;
        state::set_active_count(store, &p, n)?;
    }
    Ok(())
}
