//! hpc genesis: params, and optionally clusters and offerings that exist from block 1
//! (a localnet or test network whose provider cannot pass the registration gates —
//! VEID tier standard and an MFA session — before the chain runs). Jobs come only from
//! transactions.
//!
//! A genesis cluster gets id 1, 2, … in list order and starts **OFFLINE** with no
//! heartbeat (genesis has no block time): its provider's first `MsgClusterHeartbeat`
//! makes it ACTIVE, so a job is never scheduled on a cluster nobody runs. A genesis
//! offering names its cluster by that id and belongs to the cluster's provider; both go
//! through the same checks as `MsgRegisterCluster` / `MsgCreateOffering`.

use crate::cluster_msgs::{CreateOfferingHandler, RegisterClusterHandler};
use crate::keeper::parse_addr;
use crate::proto::*;
use crate::{state, HpcError, HpcParams};
use ve_module::Store;
use ve_types::AppError;

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HpcGenesis {
    pub params: HpcParams,
    pub clusters: Vec<GenesisCluster>,
    pub offerings: Vec<GenesisOffering>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenesisPartition {
    pub name: String,
    pub nodes: u32,
    pub max_runtime_seconds: u64,
    pub max_nodes: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenesisCluster {
    pub provider: String,
    pub name: String,
    pub description: String,
    pub region: String,
    pub datacenter: String,
    pub total_nodes: u32,
    pub slurm_version: String,
    pub partitions: Vec<GenesisPartition>,
    pub total_cpu_cores: u64,
    pub total_memory_gb: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenesisQueue {
    pub partition: String,
    pub max_nodes: u32,
    pub max_runtime_seconds: u64,
    pub price_multiplier_bps: u32,
}

/// Prices as decimal integer strings in `denom` (see [`crate::billing`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenesisPricing {
    pub denom: String,
    pub node_hour: String,
    pub cpu_core_hour: String,
    pub gpu_hour: String,
    pub memory_gb_hour: String,
    pub storage_gb_hour: String,
    pub network_gb: String,
    pub minimum_charge: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenesisOffering {
    /// 1-based position of the cluster in `clusters`.
    pub cluster_id: u64,
    pub name: String,
    pub description: String,
    pub queues: Vec<GenesisQueue>,
    pub pricing: GenesisPricing,
    pub min_tier: u32,
    pub max_runtime_seconds: u64,
    pub supports_custom_workloads: bool,
}

impl GenesisCluster {
    fn to_msg(&self) -> MsgRegisterCluster {
        MsgRegisterCluster {
            provider: self.provider.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            partitions: self
                .partitions
                .iter()
                .map(|p| Partition {
                    name: p.name.clone(),
                    nodes: p.nodes,
                    max_runtime_seconds: p.max_runtime_seconds,
                    default_runtime_seconds: 0,
                    max_nodes: p.max_nodes,
                    features: Vec::new(),
                    priority: 0,
                })
                .collect(),
            total_nodes: self.total_nodes,
            region: self.region.clone(),
            datacenter: self.datacenter.clone(),
            metadata: Some(ClusterMetadata {
                total_cpu_cores: self.total_cpu_cores,
                total_memory_gb: self.total_memory_gb,
                ..Default::default()
            }),
            slurm_version: self.slurm_version.clone(),
        }
    }
}

impl GenesisOffering {
    fn to_msg(&self, provider: &str) -> MsgCreateOffering {
        let p = &self.pricing;
        MsgCreateOffering {
            provider: provider.to_string(),
            cluster_id: self.cluster_id,
            name: self.name.clone(),
            description: self.description.clone(),
            queues: self
                .queues
                .iter()
                .map(|q| QueueOption {
                    partition: q.partition.clone(),
                    display_name: q.partition.clone(),
                    max_nodes: q.max_nodes,
                    max_runtime_seconds: q.max_runtime_seconds,
                    price_multiplier_bps: q.price_multiplier_bps,
                })
                .collect(),
            pricing: Some(Pricing {
                denom: p.denom.clone(),
                node_hour: p.node_hour.clone(),
                cpu_core_hour: p.cpu_core_hour.clone(),
                gpu_hour: p.gpu_hour.clone(),
                memory_gb_hour: p.memory_gb_hour.clone(),
                storage_gb_hour: p.storage_gb_hour.clone(),
                network_gb: p.network_gb.clone(),
                minimum_charge: p.minimum_charge.clone(),
            }),
            min_tier: self.min_tier,
            max_runtime_seconds: self.max_runtime_seconds,
            workloads: Vec::new(),
            supports_custom_workloads: self.supports_custom_workloads,
        }
    }
}

fn invalid(what: String, e: impl std::fmt::Display) -> HpcError {
    HpcError::InvalidRequest(format!("genesis {what}: {e}"))
}

impl HpcGenesis {
    pub fn validate(&self) -> Result<(), HpcError> {
        self.params.validate()?;
        if self.clusters.len() > state::MAX_PROVIDER_CLUSTERS {
            return Err(invalid("clusters".into(), "too many"));
        }
        for (i, c) in self.clusters.iter().enumerate() {
            let what = format!("cluster {}", i + 1);
            parse_addr(&c.provider).map_err(|e| invalid(what.clone(), e))?;
            RegisterClusterHandler::check(&c.to_msg()).map_err(|e| invalid(what, e))?;
        }
        for (i, o) in self.offerings.iter().enumerate() {
            let what = format!("offering {}", i + 1);
            let c = usize::try_from(o.cluster_id)
                .ok()
                .and_then(|id| id.checked_sub(1))
                .and_then(|ix| self.clusters.get(ix))
                .ok_or_else(|| {
                    invalid(what.clone(), format!("no genesis cluster {}", o.cluster_id))
                })?;
            CreateOfferingHandler::check(&o.to_msg(&c.provider))
                .map_err(|e| invalid(what.clone(), e))?;
            if let Some(q) = o
                .queues
                .iter()
                .find(|q| !c.partitions.iter().any(|p| p.name == q.partition))
            {
                return Err(invalid(
                    what,
                    format!("queue {} is not a partition of its cluster", q.partition),
                ));
            }
            let p = &self.params;
            if o.max_runtime_seconds < p.min_job_duration_seconds
                || o.max_runtime_seconds > p.max_job_duration_seconds
            {
                return Err(invalid(
                    what,
                    format!(
                        "max_runtime_seconds must be {}..={}",
                        p.min_job_duration_seconds, p.max_job_duration_seconds
                    ),
                ));
            }
        }
        Ok(())
    }
}

pub fn init_genesis(store: &mut impl Store, g: &HpcGenesis) -> Result<(), AppError> {
    g.validate()?;
    state::set_params(store, &g.params)?;
    for gc in &g.clusters {
        let m = gc.to_msg();
        let id = state::next_id(store, "cluster")?;
        let c = Cluster {
            cluster_id: id,
            provider: m.provider.clone(),
            name: m.name,
            description: m.description,
            // No heartbeat yet: the provider's first one makes it ACTIVE.
            state: ClusterState::Offline as i32,
            partitions: m.partitions,
            total_nodes: m.total_nodes,
            available_nodes: 0,
            region: m.region,
            datacenter: m.datacenter,
            metadata: m.metadata,
            slurm_version: m.slurm_version,
            avg_latency_ms: 0,
            peer_latencies: Vec::new(),
            last_heartbeat: 0,
            created_at: 0,
            block_height: 0,
        };
        state::set_cluster(store, &c, &parse_addr(&m.provider)?)?;
    }
    for go in &g.offerings {
        let c = state::cluster(store, go.cluster_id)?
            .ok_or(HpcError::ClusterNotFound(go.cluster_id))?;
        let m = go.to_msg(&c.provider);
        let id = state::next_id(store, "offering")?;
        state::set_offering(
            store,
            &Offering {
                offering_id: id,
                cluster_id: m.cluster_id,
                provider: m.provider,
                name: m.name,
                description: m.description,
                queues: m.queues,
                pricing: m.pricing,
                min_tier: m.min_tier,
                max_runtime_seconds: m.max_runtime_seconds,
                workloads: m.workloads,
                supports_custom_workloads: m.supports_custom_workloads,
                active: true,
                created_at: 0,
            },
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(provider: &str) -> GenesisCluster {
        GenesisCluster {
            provider: provider.into(),
            name: "local".into(),
            region: "eu-west".into(),
            total_nodes: 1,
            partitions: vec![GenesisPartition {
                name: "debug".into(),
                nodes: 1,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn offering(queue: &str) -> GenesisOffering {
        GenesisOffering {
            cluster_id: 1,
            name: "batch".into(),
            queues: vec![GenesisQueue {
                partition: queue.into(),
                price_multiplier_bps: 10_000,
                ..Default::default()
            }],
            pricing: GenesisPricing {
                denom: "uve".into(),
                node_hour: "3600".into(),
                ..Default::default()
            },
            max_runtime_seconds: 3600,
            supports_custom_workloads: true,
            ..Default::default()
        }
    }

    #[test]
    fn genesis_offerings_must_name_a_genesis_cluster_and_its_partitions() {
        let provider = ve_types::Address::module("hpc-genesis-test").to_string();
        let mut g = HpcGenesis {
            clusters: vec![cluster(&provider)],
            offerings: vec![offering("debug")],
            ..Default::default()
        };
        g.validate().unwrap();
        g.offerings[0].queues[0].partition = "gpu".into();
        assert!(g
            .validate()
            .unwrap_err()
            .to_string()
            .contains("not a partition"));
        g.offerings[0] = offering("debug");
        g.offerings[0].cluster_id = 2;
        assert!(g
            .validate()
            .unwrap_err()
            .to_string()
            .contains("no genesis cluster 2"));
        g.offerings[0].cluster_id = 1;
        g.clusters[0].provider = "nobody".into();
        assert!(g.validate().is_err());
    }
}
