//! What the lease worker and the API ask the chain, and the usage records they send.

use ve_backend::Usage;
use ve_client::TxResponse;
use ve_proto::virtengine::deployment::v1 as deployment;
use ve_proto::virtengine::market::v1 as market;

use crate::chain::Chain;
use crate::error::DaemonError;
use crate::events::OrderKey;

/// The lease as the chain reports it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainLease {
    Active,
    /// Escrow dry: paused until a top-up.
    InsufficientFunds,
    Closed,
}

/// What a manifest must match: the deployment's hash and the lease's group name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestTarget {
    pub hash: Vec<u8>,
    pub group: String,
}

impl Chain {
    /// Our lease on `k`; `None` if the chain has none.
    pub async fn lease(&self, k: &OrderKey) -> Result<Option<ChainLease>, DaemonError> {
        let r: Result<market::QueryLeaseResponse, _> = self
            .client
            .query()
            .query(
                "/virtengine.market.v1.Query/Lease",
                &market::QueryLeaseRequest {
                    id: Some(self.bid_id(k)),
                },
            )
            .await;
        let lease = match r {
            Ok(r) => r.lease.ok_or(DaemonError::Missing("the lease"))?,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Ok(Some(match market::LeaseState::try_from(lease.state) {
            Ok(market::LeaseState::Active) => ChainLease::Active,
            Ok(market::LeaseState::InsufficientFunds) => ChainLease::InsufficientFunds,
            _ => ChainLease::Closed,
        }))
    }

    /// The deployment's manifest hash and the name of the lease's group.
    pub async fn manifest_target(&self, k: &OrderKey) -> Result<ManifestTarget, DaemonError> {
        let r: deployment::QueryDeploymentResponse = self
            .client
            .query()
            .query(
                "/virtengine.deployment.v1.Query/Deployment",
                &deployment::QueryDeploymentRequest {
                    id: Some(deployment::DeploymentId {
                        owner: k.owner.clone(),
                        dseq: k.dseq,
                    }),
                },
            )
            .await?;
        let info = r.deployment.ok_or(DaemonError::Missing("the deployment"))?;
        let hash = info
            .deployment
            .ok_or(DaemonError::Missing("the deployment"))?
            .hash;
        let group = info
            .groups
            .iter()
            .find(|g| g.id.as_ref().is_some_and(|id| id.gseq == k.gseq))
            .and_then(|g| g.spec.as_ref())
            .map(|s| s.name.clone())
            .ok_or(DaemonError::Missing("the lease's deployment group"))?;
        Ok(ManifestTarget { hash, group })
    }

    /// The last usage record the chain holds for our lease (0: none) and whether it
    /// was the final one.
    pub async fn usage_seq(&self, k: &OrderKey) -> Result<(u64, bool), DaemonError> {
        let r: Result<market::QueryLeaseUsageResponse, _> = self
            .client
            .query()
            .query(
                "/virtengine.market.v1.Query/LeaseUsage",
                &market::QueryLeaseUsageRequest {
                    id: Some(self.bid_id(k)),
                },
            )
            .await;
        match r {
            Ok(r) => Ok(r.summary.map_or((0, false), |s| (s.last_seq, s.r#final))),
            Err(e) if e.is_not_found() => Ok((0, false)),
            Err(e) => Err(e.into()),
        }
    }

    /// Signs and broadcasts usage record `seq` (cumulative) and waits for its block.
    pub async fn record_usage(
        &self,
        k: &OrderKey,
        seq: u64,
        usage: &Usage,
        last: bool,
    ) -> Result<TxResponse, DaemonError> {
        let msg = ve_proto::to_any(
            "/virtengine.market.v1.MsgRecordLeaseUsage",
            &market::MsgRecordLeaseUsage {
                id: Some(self.bid_id(k)),
                seq,
                cumulative: Some(market::LeaseUsage {
                    cpu_milli_seconds: usage.cpu_nanoseconds / 1_000_000,
                    memory_byte_seconds: usage.memory_byte_seconds,
                    storage_bytes: usage.storage_bytes,
                    gpu_seconds: usage.gpu_seconds.unwrap_or(0),
                    wall_seconds: usage.wall_seconds,
                }),
                r#final: last,
            },
        );
        self.send(msg).await
    }
}
