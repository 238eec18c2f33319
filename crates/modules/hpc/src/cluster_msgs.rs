//! Provider messages about capacity: clusters, heartbeats, node metadata, offerings.

use crate::handler::{bad, check_name, check_text, handler};
use crate::keeper::parse_addr;
use crate::proto::*;
use crate::{billing, events, state, state_key, HpcError};
use prost::Message;
use ve_identity::proto::IdentityTier;
use ve_module::gate::SensitiveAction;
use ve_module::Context;
use ve_types::AppError;

const MAX_PARTITIONS: usize = 32;
const MAX_PEERS: usize = 64;
const MAX_QUEUES: usize = 32;
const MAX_WORKLOADS: usize = 64;
/// Highest queue price multiplier (10×).
const MAX_MULTIPLIER_BPS: u32 = 100_000;

/// The cluster, which `signer` must own.
pub(crate) fn owned_cluster(
    ctx: &mut Context<'_>,
    id: u64,
    signer: &str,
) -> Result<Cluster, AppError> {
    let c = state::cluster(ctx, id)?.ok_or(HpcError::ClusterNotFound(id))?;
    if c.provider != signer {
        return Err(HpcError::Unauthorized {
            signer: signer.to_string(),
            allowed: format!("the provider of cluster {id} ({})", c.provider),
        }
        .into());
    }
    if c.state == ClusterState::Deregistered as i32 {
        return Err(HpcError::ClusterNotActive(id).into());
    }
    Ok(c)
}

fn heartbeat_entry(c: &Cluster, timeout: i64) -> Vec<u8> {
    state_key::queued(
        state_key::CLUSTER_HB_QUEUE,
        c.last_heartbeat.saturating_add(timeout),
        &c.cluster_id.to_be_bytes(),
    )
}

handler!(
    /// Registers a SLURM cluster (tier standard + MFA session).
    RegisterClusterHandler, MsgRegisterCluster, provider, "MsgRegisterCluster"
);

impl RegisterClusterHandler {
    pub(crate) fn check(m: &MsgRegisterCluster) -> Result<(), AppError> {
        check_name(&m.name, "name", 64)?;
        check_name(&m.region, "region", 64)?;
        check_text(&m.datacenter, "datacenter", 64)?;
        check_text(&m.description, "description", 1024)?;
        check_text(&m.slurm_version, "slurm_version", 64)?;
        if m.total_nodes == 0 {
            return Err(bad("total_nodes must be positive"));
        }
        if m.partitions.is_empty() || m.partitions.len() > MAX_PARTITIONS {
            return Err(bad(format!("a cluster has 1-{MAX_PARTITIONS} partitions")));
        }
        for (i, p) in m.partitions.iter().enumerate() {
            check_name(&p.name, "partition name", 64)?;
            if m.partitions.iter().take(i).any(|q| q.name == p.name) {
                return Err(bad(format!("partition {} appears twice", p.name)));
            }
            if p.nodes == 0 || p.nodes > m.total_nodes {
                return Err(bad(format!(
                    "partition {} must have 1..=total_nodes nodes",
                    p.name
                )));
            }
        }
        Ok(())
    }

    fn run(&self, ctx: &mut Context<'_>, m: &MsgRegisterCluster) -> Result<Vec<u8>, AppError> {
        let provider = parse_addr(&m.provider)?;
        if state::provider_clusters(ctx, &provider)?.len() >= state::MAX_PROVIDER_CLUSTERS {
            return Err(bad(format!(
                "a provider may register at most {} clusters",
                state::MAX_PROVIDER_CLUSTERS
            )));
        }
        let k = &self.keeper.keepers;
        k.identity
            .require_tier(ctx, &provider, IdentityTier::Standard)?;
        k.mfa
            .require_mfa(ctx, &provider, SensitiveAction::HpcClusterRegistration, 0)?;
        let params = state::params(ctx)?;
        let now = ctx.block().time_unix;
        let id = state::next_id(ctx, "cluster")?;
        let c = Cluster {
            cluster_id: id,
            provider: m.provider.clone(),
            name: m.name.clone(),
            description: m.description.clone(),
            state: ClusterState::Active as i32,
            partitions: m.partitions.clone(),
            total_nodes: m.total_nodes,
            available_nodes: m.total_nodes,
            region: m.region.clone(),
            datacenter: m.datacenter.clone(),
            metadata: m.metadata.clone(),
            slurm_version: m.slurm_version.clone(),
            avg_latency_ms: 0,
            peer_latencies: Vec::new(),
            last_heartbeat: now,
            created_at: now,
            block_height: ctx.block().height,
        };
        state::set_cluster(ctx, &c, &provider)?;
        ctx.put(
            heartbeat_entry(&c, params.cluster_heartbeat_timeout_seconds),
            Vec::new(),
        )?;
        ctx.emit(events::cluster(events::CLUSTER_REGISTERED, id).attr("provider", &m.provider));
        Ok(MsgRegisterClusterResponse { cluster_id: id }.encode_to_vec())
    }
}

handler!(
    /// The provider's periodic cluster heartbeat.
    ClusterHeartbeatHandler, MsgClusterHeartbeat, provider, "MsgClusterHeartbeat"
);

impl ClusterHeartbeatHandler {
    fn check(m: &MsgClusterHeartbeat) -> Result<(), AppError> {
        if m.peer_latencies.len() > MAX_PEERS {
            return Err(bad(format!("at most {MAX_PEERS} peer latencies")));
        }
        if m.peer_latencies
            .iter()
            .any(|p| p.cluster_id == m.cluster_id)
        {
            return Err(bad("a cluster does not list itself as a peer"));
        }
        Ok(())
    }

    fn run(&self, ctx: &mut Context<'_>, m: &MsgClusterHeartbeat) -> Result<Vec<u8>, AppError> {
        let mut c = owned_cluster(ctx, m.cluster_id, &m.provider)?;
        if m.available_nodes > c.total_nodes {
            return Err(bad(format!(
                "available_nodes {} exceeds the cluster's {} nodes",
                m.available_nodes, c.total_nodes
            )));
        }
        let params = state::params(ctx)?;
        ctx.delete(heartbeat_entry(
            &c,
            params.cluster_heartbeat_timeout_seconds,
        ))?;
        let was_offline = c.state == ClusterState::Offline as i32;
        let mut peers = m.peer_latencies.clone();
        peers.sort_by_key(|p| p.cluster_id);
        peers.dedup_by_key(|p| p.cluster_id);
        c.available_nodes = m.available_nodes;
        c.avg_latency_ms = m.avg_latency_ms;
        c.peer_latencies = peers;
        c.state = if m.drain {
            ClusterState::Draining
        } else {
            ClusterState::Active
        } as i32;
        c.last_heartbeat = ctx.block().time_unix;
        c.block_height = ctx.block().height;
        state::set_cluster(ctx, &c, &parse_addr(&m.provider)?)?;
        ctx.put(
            heartbeat_entry(&c, params.cluster_heartbeat_timeout_seconds),
            Vec::new(),
        )?;
        if was_offline {
            ctx.emit(events::cluster(events::CLUSTER_ONLINE, c.cluster_id));
        }
        Ok(MsgClusterHeartbeatResponse {}.encode_to_vec())
    }
}

pub(crate) fn node_entry(n: &NodeMetadata, timeout: i64) -> Vec<u8> {
    state_key::queued(
        state_key::NODE_HB_QUEUE,
        n.last_heartbeat.saturating_add(timeout),
        &[&n.cluster_id.to_be_bytes(), n.node_id.as_bytes()].concat(),
    )
}

handler!(
    /// A node agent's report, relayed by the provider; the node's heartbeat.
    UpdateNodeMetadataHandler, MsgUpdateNodeMetadata, provider, "MsgUpdateNodeMetadata"
);

impl UpdateNodeMetadataHandler {
    fn check(m: &MsgUpdateNodeMetadata) -> Result<(), AppError> {
        if m.node_id.is_empty()
            || m.node_id.len() > 64
            || !m.node_id.bytes().all(|b| (0x21..=0x7e).contains(&b))
        {
            return Err(bad(
                "node_id must be 1-64 printable characters without spaces",
            ));
        }
        if !m.operator.is_empty() {
            parse_addr(&m.operator)?;
        }
        check_text(&m.agent_pubkey, "agent_pubkey", 128)?;
        check_text(&m.agent_version, "agent_version", 64)?;
        Ok(())
    }

    fn run(&self, ctx: &mut Context<'_>, m: &MsgUpdateNodeMetadata) -> Result<Vec<u8>, AppError> {
        owned_cluster(ctx, m.cluster_id, &m.provider)?;
        let params = state::params(ctx)?;
        let now = ctx.block().time_unix;
        let old = state::node(ctx, m.cluster_id, &m.node_id)?;
        let joined_at = match &old {
            Some(o) => {
                if m.sequence <= o.sequence {
                    return Err(HpcError::StaleSequence {
                        got: m.sequence,
                        stored: o.sequence,
                    }
                    .into());
                }
                ctx.delete(node_entry(o, params.node_heartbeat_timeout_seconds))?;
                o.joined_at
            }
            None => {
                let limit = usize::try_from(params.max_nodes_per_cluster).unwrap_or(256);
                if state::nodes(ctx, m.cluster_id, limit)?.len() >= limit {
                    return Err(bad(format!(
                        "cluster {} already has {limit} nodes",
                        m.cluster_id
                    )));
                }
                now
            }
        };
        let node_state = match HealthStatus::try_from(m.health) {
            Ok(HealthStatus::Draining) => NodeState::Draining,
            Ok(HealthStatus::Offline) => NodeState::Offline,
            _ => NodeState::Active,
        };
        let n = NodeMetadata {
            cluster_id: m.cluster_id,
            node_id: m.node_id.clone(),
            operator: if m.operator.is_empty() {
                m.provider.clone()
            } else {
                m.operator.clone()
            },
            state: node_state as i32,
            health: m.health,
            capacity: m.capacity.clone(),
            locality: m.locality.clone(),
            avg_latency_ms: m.avg_latency_ms,
            agent_pubkey: m.agent_pubkey.clone(),
            agent_version: m.agent_version.clone(),
            sequence: m.sequence,
            last_heartbeat: now,
            joined_at,
        };
        state::set_node(ctx, &n)?;
        ctx.put(
            node_entry(&n, params.node_heartbeat_timeout_seconds),
            Vec::new(),
        )?;
        Ok(MsgUpdateNodeMetadataResponse {}.encode_to_vec())
    }
}

handler!(
    /// Publishes an HPC offering on one of the provider's clusters.
    CreateOfferingHandler, MsgCreateOffering, provider, "MsgCreateOffering"
);

impl CreateOfferingHandler {
    pub(crate) fn check(m: &MsgCreateOffering) -> Result<(), AppError> {
        check_name(&m.name, "name", 64)?;
        check_text(&m.description, "description", 1024)?;
        if m.queues.is_empty() || m.queues.len() > MAX_QUEUES {
            return Err(bad(format!("an offering has 1-{MAX_QUEUES} queues")));
        }
        for q in &m.queues {
            if q.price_multiplier_bps == 0 || q.price_multiplier_bps > MAX_MULTIPLIER_BPS {
                return Err(bad(format!(
                    "queue {}: price_multiplier_bps must be 1..={MAX_MULTIPLIER_BPS} (10000 = 1.0)",
                    q.partition
                )));
            }
        }
        billing::Prices::from_proto(&m.pricing.clone().unwrap_or_default())?;
        if m.min_tier > IdentityTier::Premium as u32 {
            return Err(bad(
                "min_tier must be 0-3 (unverified, basic, standard, premium)",
            ));
        }
        if m.workloads.len() > MAX_WORKLOADS {
            return Err(bad(format!("at most {MAX_WORKLOADS} workloads")));
        }
        for (i, w) in m.workloads.iter().enumerate() {
            check_name(&w.workload_id, "workload_id", 64)?;
            if m.workloads
                .iter()
                .take(i)
                .any(|v| v.workload_id == w.workload_id)
            {
                return Err(bad(format!("workload {} appears twice", w.workload_id)));
            }
        }
        if m.workloads.is_empty() && !m.supports_custom_workloads {
            return Err(bad(
                "an offering needs preconfigured workloads or custom workload support",
            ));
        }
        Ok(())
    }

    fn run(&self, ctx: &mut Context<'_>, m: &MsgCreateOffering) -> Result<Vec<u8>, AppError> {
        let c = owned_cluster(ctx, m.cluster_id, &m.provider)?;
        for q in &m.queues {
            if !c.partitions.iter().any(|p| p.name == q.partition) {
                return Err(bad(format!(
                    "queue {} is not a partition of cluster {}",
                    q.partition, c.cluster_id
                )));
            }
        }
        let params = state::params(ctx)?;
        if m.max_runtime_seconds < params.min_job_duration_seconds
            || m.max_runtime_seconds > params.max_job_duration_seconds
        {
            return Err(bad(format!(
                "max_runtime_seconds must be {}..={}",
                params.min_job_duration_seconds, params.max_job_duration_seconds
            )));
        }
        let id = state::next_id(ctx, "offering")?;
        let o = Offering {
            offering_id: id,
            cluster_id: m.cluster_id,
            provider: m.provider.clone(),
            name: m.name.clone(),
            description: m.description.clone(),
            queues: m.queues.clone(),
            pricing: m.pricing.clone(),
            min_tier: m.min_tier,
            max_runtime_seconds: m.max_runtime_seconds,
            workloads: m.workloads.clone(),
            supports_custom_workloads: m.supports_custom_workloads,
            active: true,
            created_at: ctx.block().time_unix,
        };
        state::set_offering(ctx, &o)?;
        ctx.emit(events::cluster(events::OFFERING_CREATED, m.cluster_id).attr("offering_id", id));
        Ok(MsgCreateOfferingResponse { offering_id: id }.encode_to_vec())
    }
}
