use crate::proto::Params;
use crate::HpcError;

pub const BPS: u32 = 10_000;

/// Module parameters (spec §5.3, with the [RUST] changes in docs/hpc.md).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HpcParams {
    /// Share of a settled bill paid to the platform (community pool), default 500 (5%).
    pub platform_fee_bps: u32,
    /// Share paid to the node pool (the cluster's active nodes), default 1500 (15%); the
    /// provider receives the rest (80%).
    pub node_reward_bps: u32,
    /// Shortest and longest max_runtime a job may ask for (60 s, 7 days).
    pub min_job_duration_seconds: u64,
    pub max_job_duration_seconds: u64,
    /// A cluster without a heartbeat this long goes OFFLINE (300 s).
    pub cluster_heartbeat_timeout_seconds: i64,
    /// A node without a metadata update this long goes STALE (120 s).
    pub node_heartbeat_timeout_seconds: i64,
    /// Scheduling weights (sum 10000): latency 6000, capacity 4000.
    pub latency_weight_bps: u32,
    pub capacity_weight_bps: u32,
    /// Proximity threshold: clusters closer than this may form a group; a cluster slower
    /// than this is only a fallback choice (50 ms).
    pub max_latency_ms: u32,
    pub enable_proximity_clustering: bool,
    /// A finished job is settled this long after it ends (86400 s).
    pub settlement_delay_seconds: i64,
    /// Disputes are accepted this long after a job ends (86400 s); never longer than the
    /// settlement delay, so the money is still in escrow while a dispute is open.
    pub dispute_window_seconds: i64,
    /// Nodes one cluster may register (256); also bounds the node-pool payout loop.
    pub max_nodes_per_cluster: u32,
    /// Entries each end-block queue (heartbeats, timeouts, settlements) handles per block.
    pub max_end_block_ops: u32,
}

impl Default for HpcParams {
    fn default() -> Self {
        Self {
            platform_fee_bps: 500,
            node_reward_bps: 1_500,
            min_job_duration_seconds: 60,
            max_job_duration_seconds: 604_800,
            cluster_heartbeat_timeout_seconds: 300,
            node_heartbeat_timeout_seconds: 120,
            latency_weight_bps: 6_000,
            capacity_weight_bps: 4_000,
            max_latency_ms: 50,
            enable_proximity_clustering: true,
            settlement_delay_seconds: 86_400,
            dispute_window_seconds: 86_400,
            max_nodes_per_cluster: 256,
            max_end_block_ops: 100,
        }
    }
}

impl HpcParams {
    pub fn validate(&self) -> Result<(), HpcError> {
        let bad = |m: &str| Err(HpcError::InvalidParams(m.to_string()));
        if self
            .platform_fee_bps
            .checked_add(self.node_reward_bps)
            .is_none_or(|s| s > BPS)
        {
            return bad("platform_fee_bps + node_reward_bps must be at most 10000");
        }
        if self
            .latency_weight_bps
            .checked_add(self.capacity_weight_bps)
            != Some(BPS)
        {
            return bad("latency_weight_bps + capacity_weight_bps must be 10000");
        }
        if self.min_job_duration_seconds == 0
            || self.min_job_duration_seconds > self.max_job_duration_seconds
        {
            return bad("need 0 < min_job_duration_seconds <= max_job_duration_seconds");
        }
        if self.cluster_heartbeat_timeout_seconds <= 0 || self.node_heartbeat_timeout_seconds <= 0 {
            return bad("heartbeat timeouts must be positive");
        }
        if self.settlement_delay_seconds < 0
            || self.dispute_window_seconds < 0
            || self.dispute_window_seconds > self.settlement_delay_seconds
        {
            return bad("need 0 <= dispute_window_seconds <= settlement_delay_seconds");
        }
        if self.max_nodes_per_cluster == 0 || self.max_nodes_per_cluster > 10_000 {
            return bad("max_nodes_per_cluster must be 1..=10000");
        }
        if self.max_end_block_ops == 0 || self.max_end_block_ops > 10_000 {
            return bad("max_end_block_ops must be 1..=10000");
        }
        Ok(())
    }

    pub fn to_proto(&self) -> Params {
        Params {
            platform_fee_bps: self.platform_fee_bps,
            node_reward_bps: self.node_reward_bps,
            min_job_duration_seconds: self.min_job_duration_seconds,
            max_job_duration_seconds: self.max_job_duration_seconds,
            cluster_heartbeat_timeout_seconds: self.cluster_heartbeat_timeout_seconds,
            node_heartbeat_timeout_seconds: self.node_heartbeat_timeout_seconds,
            latency_weight_bps: self.latency_weight_bps,
            capacity_weight_bps: self.capacity_weight_bps,
            max_latency_ms: self.max_latency_ms,
            enable_proximity_clustering: self.enable_proximity_clustering,
            settlement_delay_seconds: self.settlement_delay_seconds,
            dispute_window_seconds: self.dispute_window_seconds,
            max_nodes_per_cluster: self.max_nodes_per_cluster,
            max_end_block_ops: self.max_end_block_ops,
        }
    }

    pub fn from_proto(p: &Params) -> Self {
        Self {
            platform_fee_bps: p.platform_fee_bps,
            node_reward_bps: p.node_reward_bps,
            min_job_duration_seconds: p.min_job_duration_seconds,
            max_job_duration_seconds: p.max_job_duration_seconds,
            cluster_heartbeat_timeout_seconds: p.cluster_heartbeat_timeout_seconds,
            node_heartbeat_timeout_seconds: p.node_heartbeat_timeout_seconds,
            latency_weight_bps: p.latency_weight_bps,
            capacity_weight_bps: p.capacity_weight_bps,
            max_latency_ms: p.max_latency_ms,
            enable_proximity_clustering: p.enable_proximity_clustering,
            settlement_delay_seconds: p.settlement_delay_seconds,
            dispute_window_seconds: p.dispute_window_seconds,
            max_nodes_per_cluster: p.max_nodes_per_cluster,
            max_end_block_ops: p.max_end_block_ops,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_split_80_15_5() {
        let p = HpcParams::default();
        assert!(p.validate().is_ok());
        assert_eq!(BPS - p.platform_fee_bps - p.node_reward_bps, 8_000);
    }

    #[test]
    fn dispute_window_longer_than_settlement_delay_is_refused() {
        let p = HpcParams {
            dispute_window_seconds: 100_000,
            ..HpcParams::default()
        };
        assert!(p.validate().is_err());
    }
}
