//! The lease worker: one round per processed block drives every lease's workload toward
//! what committed chain state asks for.
//!
//! - **Run** (lease active): provision if the back end has no workload (idempotent, so a
//!   restart mid-provision never starts a second copy), resume if suspended, keep the
//!   phase and endpoints current.
//! - **Suspend** (escrow dry, lease paused): freeze, never destroy.
//! - **Tear down** (lease closed): measure, tear down, send the final usage record.
//! - **Usage**: every `usage_interval`, the cumulative usage as the next record on chain.
//!
//! A failed query or a transient back-end error ends the lease's step for this round and
//! changes nothing; only a committed event (through the order record) or a successful
//! query saying the lease is closed can lead to a teardown.

use std::sync::Arc;
use std::time::Duration;

use ve_backend::{Backend, BackendError, LeaseId, Usage, WorkloadSpec, WorkloadState};

use super::chain::ChainLease;
use super::record::LeaseRecord;
use crate::api::LeasePhase;
use crate::chain::Chain;
use crate::error::DaemonError;
use crate::events::OrderKey;
use crate::hpc::wall_clock;
use crate::metrics;
use crate::records::Stage;
use crate::store::Store;

/// `MarketError::UsageAlreadyRecorded` (market code 25): a record sent before a crash
/// was included after all.
const USAGE_SEQ_RECORDED: u32 = 25;

/// What the chain wants from a lease's workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// The lease is not confirmed yet (its block not ingested): do nothing.
    Wait,
    Run,
    Suspend,
    Teardown,
}

pub struct LeaseWorker {
    backend: Arc<dyn Backend>,
    usage_interval: Duration,
}

impl LeaseWorker {
    pub fn new(backend: Arc<dyn Backend>, usage_interval: Duration) -> Self {
        Self {
            backend,
            usage_interval,
        }
    }

    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// Runs a back-end call off the async runtime (calls are bounded but do file,
    /// cgroup and process work).
    async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Backend) -> Result<T, BackendError> + Send + 'static,
    ) -> Result<T, BackendError> {
        let b = Arc::clone(&self.backend);
        tokio::task::spawn_blocking(move || f(b.as_ref()))
            .await
            .map_err(|e| BackendError::Environment(format!("back-end task: {e}")))?
    }

    /// After a restart: tears down workloads whose lease the chain says is closed or
    /// gone and the daemon has no live record for. A failed query leaves them alone.
    pub async fn reconcile(&self, chain: &Chain, store: &Store) -> Result<(), DaemonError> {
        let workloads = self.call(|b| b.list()).await.map_err(backend_err)?;
        let provider = chain.provider.to_string();
        for w in workloads {
            let Some(key) = order_key(w.lease.as_str(), &provider) else {
                tracing::warn!(lease = %w.lease, "back end holds a workload that is not ours; left alone");
                continue;
            };
            if store.lease(&key)?.is_some_and(|r| !r.is_done()) {
                continue; // the rounds drive it
            }
            match chain.lease(&key).await {
                Ok(None | Some(ChainLease::Closed)) => {
                    tracing::warn!(lease = %w.lease, "orphaned workload of a closed lease; tearing down");
                    let id = w.lease.clone();
                    self.call(move |b| b.teardown(&id))
                        .await
                        .map_err(backend_err)?;
                    metrics::counter_lease("orphan_torn_down");
                }
                Ok(Some(state)) => {
                    tracing::warn!(lease = %w.lease, ?state, "workload without a daemon record for a live lease; left running");
                }
                Err(e) => {
                    tracing::warn!(lease = %w.lease, error = %e, "cannot confirm the lease's state; left alone");
                }
            }
        }
        Ok(())
    }

    /// One pass over every live lease.
    pub async fn round(&self, chain: &Chain, store: &Store) {
        let leases = match store.live_leases() {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "reading lease records failed");
                return;
            }
        };
        for (key, rec) in leases {
            if let Err(e) = self.step(chain, store, &key, rec).await {
                metrics::counter_lease("step_error");
                tracing::warn!(lease = %key, error = %e, "lease step interrupted; retrying next block");
            }
        }
    }

    async fn want(
        &self,
        chain: &Chain,
        store: &Store,
        key: &OrderKey,
    ) -> Result<Want, DaemonError> {
        Ok(match store.get(key)?.map(|r| r.stage) {
            Some(Stage::Leased) => Want::Run,
            Some(Stage::Paused) => Want::Suspend,
            Some(Stage::Closed(_)) => Want::Teardown,
            Some(_) => Want::Wait,
            // An order the daemon never ingested (e.g. started at a later height): ask.
            None => match chain.lease(key).await? {
                Some(ChainLease::Active) => Want::Run,
                Some(ChainLease::InsufficientFunds) => Want::Suspend,
                Some(ChainLease::Closed) | None => Want::Teardown,
            },
        })
    }

    async fn step(
        &self,
        chain: &Chain,
        store: &Store,
        key: &OrderKey,
        mut rec: LeaseRecord,
    ) -> Result<(), DaemonError> {
        let id = lease_id(key, chain)?;
        match self.want(chain, store, key).await? {
            Want::Wait => return Ok(()),
            Want::Teardown => return self.teardown(chain, store, key, &id, rec).await,
            Want::Run => self.ensure_running(store, key, &id, &mut rec).await?,
            Want::Suspend => {
                if rec.phase != LeasePhase::Suspended {
                    let i = id.clone();
                    match self.call(move |b| b.suspend(&i)).await {
                        Ok(()) => {
                            rec.phase = LeasePhase::Suspended;
                            store.put_lease(key, &rec)?;
                            metrics::counter_lease("suspended");
                            tracing::info!(lease = %id, "escrow paused: workload suspended");
                        }
                        // Never provisioned (no manifest before the pause): nothing to freeze.
                        Err(BackendError::NotFound(_)) => {}
                        Err(e) => return Err(backend_err(e)),
                    }
                }
            }
        }
        if matches!(rec.phase, LeasePhase::Running | LeasePhase::Suspended)
            && wall_clock().as_secs().saturating_sub(rec.usage_sent_at)
                >= self.usage_interval.as_secs()
        {
            let i = id.clone();
            let usage = self.call(move |b| b.usage(&i)).await.map_err(backend_err)?;
            self.send_usage(chain, store, key, &mut rec, &usage, false)
                .await?;
        }
        Ok(())
    }

    async fn ensure_running(
        &self,
        store: &Store,
        key: &OrderKey,
        id: &LeaseId,
        rec: &mut LeaseRecord,
    ) -> Result<(), DaemonError> {
        let i = id.clone();
        let status = match self.call(move |b| b.status(&i)).await {
            Ok(s) => Some(s),
            Err(BackendError::NotFound(_)) => None,
            Err(e) => return Err(backend_err(e)),
        };
        let status = match status {
            Some(s) => s,
            None if rec.phase == LeasePhase::Failed => return Ok(()),
            None => {
                let spec = match workload_spec(rec) {
                    Ok(s) => s,
                    Err(why) => return self.fail(store, key, rec, why),
                };
                let i = id.clone();
                match self.call(move |b| b.provision(&i, &spec)).await {
                    Ok(p) => {
                        metrics::counter_lease("provisioned");
                        tracing::info!(lease = %id, created = p.created, endpoints = p.endpoints.len(), "workload provisioned");
                    }
                    Err(e) if e.is_transient() => return Err(backend_err(e)),
                    Err(e) => return self.fail(store, key, rec, e.to_string()),
                }
                let i = id.clone();
                self.call(move |b| b.status(&i))
                    .await
                    .map_err(backend_err)?
            }
        };
        if status.state == WorkloadState::Suspended {
            let i = id.clone();
            self.call(move |b| b.resume(&i))
                .await
                .map_err(backend_err)?;
            metrics::counter_lease("resumed");
            tracing::info!(lease = %id, "escrow topped up: workload resumed");
        }
        let (phase, message) = match status.state {
            WorkloadState::Pending => (LeasePhase::Provisioning, None),
            WorkloadState::Running | WorkloadState::Suspended => (LeasePhase::Running, None),
            WorkloadState::Completed => (
                LeasePhase::Failed,
                Some("every service exited (code 0)".to_string()),
            ),
            WorkloadState::Failed => (LeasePhase::Failed, Some(failure_message(&status))),
        };
        let endpoints: Vec<_> = status.endpoints().cloned().collect();
        if rec.phase != phase || rec.endpoints != endpoints || rec.message != message {
            rec.phase = phase;
            rec.endpoints = endpoints;
            rec.message = message;
            store.put_lease(key, rec)?;
        }
        Ok(())
    }

    fn fail(
        &self,
        store: &Store,
        key: &OrderKey,
        rec: &mut LeaseRecord,
        why: String,
    ) -> Result<(), DaemonError> {
        tracing::warn!(lease = %key, error = %why, "workload cannot run");
        metrics::counter_lease("failed");
        rec.phase = LeasePhase::Failed;
        rec.message = Some(why);
        store.put_lease(key, rec)
    }

    /// Measure, tear down, record the final usage. Each step is saved before the next,
    /// so a crash in between repeats only what is left.
    async fn teardown(
        &self,
        chain: &Chain,
        store: &Store,
        key: &OrderKey,
        id: &LeaseId,
        mut rec: LeaseRecord,
    ) -> Result<(), DaemonError> {
        if rec.phase != LeasePhase::Closed {
            let i = id.clone();
            let measured = match self.call(move |b| b.usage(&i)).await {
                Ok(u) => Some(u),
                Err(BackendError::NotFound(_)) => None,
                Err(e) => return Err(backend_err(e)),
            };
            if rec.final_usage.is_none() && measured.is_some() {
                rec.final_usage = measured;
                store.put_lease(key, &rec)?;
            }
            let i = id.clone();
            if let Some(last) = self
                .call(move |b| b.teardown(&i))
                .await
                .map_err(backend_err)?
            {
                rec.final_usage = Some(last);
            }
            rec.phase = LeasePhase::Closed;
            rec.endpoints.clear();
            store.put_lease(key, &rec)?;
            metrics::counter_lease("torn_down");
            tracing::info!(lease = %id, "lease closed on chain: workload torn down");
        }
        if let Some(usage) = rec.final_usage.clone() {
            self.send_usage(chain, store, key, &mut rec, &usage, true)
                .await?;
        }
        Ok(())
    }

    /// Sends the next usage record (`seq` from the chain, so a crash after broadcasting
    /// never sends a number twice).
    async fn send_usage(
        &self,
        chain: &Chain,
        store: &Store,
        key: &OrderKey,
        rec: &mut LeaseRecord,
        usage: &Usage,
        last: bool,
    ) -> Result<(), DaemonError> {
        let (seq, recorded_final) = chain.usage_seq(key).await?;
        if !recorded_final {
            let next = seq.saturating_add(1);
            let resp = chain.record_usage(key, next, usage, last).await?;
            let already = resp.codespace == "market" && resp.code == USAGE_SEQ_RECORDED;
            if !resp.is_ok() && !already {
                metrics::counter_lease("usage_refused");
                return Err(DaemonError::Rejected(format!(
                    "usage record {next} for {key}: code {} {}: {}",
                    resp.code, resp.codespace, resp.log
                )));
            }
            rec.usage_seq = next;
            metrics::counter_lease(if last {
                "usage_final"
            } else {
                "usage_recorded"
            });
            tracing::info!(lease = %key, seq = next, cpu_ms = usage.cpu_nanoseconds / 1_000_000, last, "usage recorded on chain");
        }
        rec.usage_sent_at = wall_clock().as_secs();
        if last {
            rec.final_usage = None;
        }
        store.put_lease(key, rec)
    }
}

/// `owner/dseq/gseq/oseq/provider`: the back end's key for a lease.
pub fn lease_id(key: &OrderKey, chain: &Chain) -> Result<LeaseId, DaemonError> {
    LeaseId::new(format!("{key}/{}", chain.provider)).map_err(backend_err)
}

/// The order key of one of our lease ids.
fn order_key(lease: &str, provider: &str) -> Option<OrderKey> {
    let rest = lease.strip_suffix(provider)?.strip_suffix('/')?;
    OrderKey::parse(rest)
}

/// The services of the lease's manifest group.
pub fn workload_spec(rec: &LeaseRecord) -> Result<WorkloadSpec, String> {
    let m: ve_sdl::Manifest =
        serde_json::from_str(&rec.manifest).map_err(|e| format!("stored manifest: {e}"))?;
    let g = m
        .groups
        .iter()
        .find(|g| g.name == rec.group)
        .ok_or_else(|| format!("the manifest has no group {:?}", rec.group))?;
    WorkloadSpec::from_manifest_group(g).map_err(|e| e.to_string())
}

fn failure_message(s: &ve_backend::WorkloadStatus) -> String {
    s.services
        .iter()
        .filter_map(|svc| match &svc.state {
            ve_backend::ServiceState::Failed(r) => Some(format!("{}: {r:?}", svc.name)),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn backend_err(e: BackendError) -> DaemonError {
    DaemonError::Backend(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_ids_map_back_to_order_keys_only_for_this_provider() {
        let k = order_key("ve1t/4/1/2/ve1me", "ve1me").unwrap();
        assert_eq!(k.to_string(), "ve1t/4/1/2");
        assert_eq!(order_key("ve1t/4/1/2/ve1other", "ve1me"), None);
        assert_eq!(order_key("ve1t/4/1/ve1me", "ve1me"), None);
    }
}
