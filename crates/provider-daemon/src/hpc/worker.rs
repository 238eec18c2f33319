//! The HPC worker: after each ingestion round (at most every `poll_interval_ms`) it sends
//! the cluster heartbeat when due and moves every open job record one step, always after
//! reading the job from chain (the chain knows which reports already landed):
//!
//! | chain \ record | New / Submitting            | Submitted(slurm id)                            |
//! |----------------|-----------------------------|------------------------------------------------|
//! | pending        | sbatch, store id, QUEUED    | QUEUED (crashed before reporting)              |
//! | queued/running | —                           | RUNNING when SLURM runs it; usage every `usage_interval_s`; terminal state + exit code + final usage once `sacct` has the whole record |
//! | terminal       | close                       | scancel if SLURM still runs it, close          |
//!
//! A job whose `hpc_job_cancelled` / `hpc_job_finished` was ingested goes straight to the
//! last row without asking the chain (so a job cancelled before the daemon got to it is
//! never submitted).
//!
//! Any RPC or SLURM error leaves the record as it is for the next round.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use tokio::time::Instant;
use ve_proto::virtengine::hpc::v1 as hpc;
use ve_proto::Any;
use ve_slurm::{JobState as SlurmState, Slurm, SlurmError};

use super::config::HpcConfig;
use super::records::{JobRecord, JobStage};
use super::{metrics, spec, usage};
use crate::chain::Chain;
use crate::error::DaemonError;
use crate::store::Store;

/// Rounds to wait for slurmdbd to complete an ended job's record before reporting what
/// it has (it usually takes about a second).
const MAX_FINAL_WAITS: u32 = 10;
/// Refused terminal reports after which the final usage is left out (the chain then bills
/// the last interim report), so one bad number cannot keep a job open forever.
const MAX_REFUSALS: u32 = 3;
const RETRY_HEARTBEAT: Duration = Duration::from_secs(5);

fn slurm_err(e: SlurmError) -> DaemonError {
    metrics::error("slurm");
    DaemonError::Backend(format!("slurm: {e}"))
}

fn state_name(s: hpc::JobState) -> &'static str {
    ve_hpc::keeper::state_name(s as i32)
}

pub struct HpcWorker {
    cfg: HpcConfig,
    slurm: Slurm,
    instance: u64,
    next_poll: Instant,
    next_heartbeat: Instant,
    /// When each running job's usage was last reported (in memory: after a restart the
    /// next report simply comes one interval early).
    last_usage: BTreeMap<u64, Instant>,
    node_sequence: u64,
}

impl std::fmt::Debug for HpcWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HpcWorker")
            .field("cluster_id", &self.cfg.cluster_id)
            .field("work_dir", &self.cfg.work_dir)
            .finish()
    }
}

impl HpcWorker {
    pub fn new(cfg: HpcConfig, store: &Store) -> Result<Self, DaemonError> {
        std::fs::create_dir_all(&cfg.work_dir).map_err(|e| {
            DaemonError::Config(format!(
                "hpc.work_dir {}: {e} (it must be writable and shared with the compute nodes)",
                cfg.work_dir.display()
            ))
        })?;
        let now = Instant::now();
        Ok(Self {
            instance: store.hpc_instance()?,
            slurm: Slurm::new(),
            cfg,
            next_poll: now,
            next_heartbeat: now,
            last_usage: BTreeMap::new(),
            node_sequence: 0,
        })
    }

    /// Logs whether the SLURM controller answers (the loop retries either way).
    pub async fn check_slurm(&self) {
        match self.slurm.ping().await {
            Ok(()) => {
                tracing::info!(cluster_id = self.cfg.cluster_id, work_dir = %self.cfg.work_dir.display(), "HPC jobs enabled; SLURM controller is up")
            }
            Err(e) => {
                tracing::warn!(error = %e, "SLURM controller not reachable yet; HPC jobs wait for it")
            }
        }
    }

    /// One pass: heartbeat if due, then one step per open job.
    pub async fn round(&mut self, chain: &Chain, store: &Store) {
        let now = Instant::now();
        if now < self.next_poll {
            return;
        }
        self.next_poll = now + self.cfg.poll_interval();
        if now >= self.next_heartbeat {
            match self.heartbeat(chain).await {
                Ok(()) => {
                    self.next_heartbeat = now + Duration::from_secs(self.cfg.heartbeat_interval_s);
                }
                Err(e) => {
                    metrics::error("chain");
                    tracing::warn!(cluster_id = self.cfg.cluster_id, error = %e, "cluster heartbeat failed; retrying");
                    self.next_heartbeat = now + RETRY_HEARTBEAT;
                }
            }
        }
        let jobs = match store.open_hpc_jobs() {
            Ok(j) => j,
            Err(e) => {
                tracing::error!(error = %e, "reading HPC job records");
                return;
            }
        };
        for (id, rec) in jobs {
            if let Err(e) = self.step(chain, store, id, rec).await {
                if !matches!(e, DaemonError::Backend(_)) {
                    metrics::error("chain");
                }
                tracing::warn!(job = id, error = %e, "HPC job left as it is until the next round");
            }
        }
    }

    fn output(&self, id: u64) -> PathBuf {
        spec::output_path(&self.cfg.work_dir, id)
    }

    fn message(&self, id: u64, slurm_state: &str) -> String {
        format!("SLURM {slurm_state}; output={}", self.output(id).display())
    }

    async fn step(
        &mut self,
        chain: &Chain,
        store: &Store,
        id: u64,
        mut rec: JobRecord,
    ) -> Result<(), DaemonError> {
        if !rec.clusters.contains(&self.cfg.cluster_id) {
            rec.close("other cluster");
            tracing::info!(job = id, clusters = ?rec.clusters, "HPC job scheduled on another of our clusters; not this daemon's");
            return store.put_hpc_job(id, &rec);
        }
        // A cancellation or ending seen in a committed block: stop the SLURM job without
        // asking the chain again, and never sbatch a job that is already over.
        if rec.ended_on_chain {
            return self.ended_on_chain(store, id, rec, "ended").await;
        }
        let Some(job) = chain.hpc_job(id).await? else {
            rec.close("not on chain");
            return store.put_hpc_job(id, &rec);
        };
        let state = hpc::JobState::try_from(job.state).unwrap_or(hpc::JobState::Unspecified);
        if ve_hpc::keeper::is_terminal(job.state) {
            return self.ended_on_chain(store, id, rec, state_name(state)).await;
        }
        match rec.stage.clone() {
            JobStage::New | JobStage::Submitting if state != hpc::JobState::Pending => {
                rec.close(format!(
                    "chain shows {} without our SLURM job",
                    state_name(state)
                ));
                tracing::warn!(
                    job = id,
                    state = state_name(state),
                    "job advanced on chain without this daemon; left alone"
                );
                store.put_hpc_job(id, &rec)
            }
            JobStage::New => self.submit(chain, store, id, rec, &job, false).await,
            JobStage::Submitting => self.submit(chain, store, id, rec, &job, true).await,
            JobStage::Submitted { slurm_job_id } => {
                self.track(chain, store, id, rec, state, slurm_job_id).await
            }
            JobStage::Closed(_) => Ok(()),
        }
    }

    /// The chain ended the job (tenant cancel, chain time limit, or our own report seen
    /// before we recorded it): stop the SLURM job if it still runs.
    async fn ended_on_chain(
        &mut self,
        store: &Store,
        id: u64,
        mut rec: JobRecord,
        chain_state: &str,
    ) -> Result<(), DaemonError> {
        let ids = match (&rec.stage, rec.slurm_job_id()) {
            (_, Some(s)) => vec![s],
            (JobStage::Submitting, None) => self
                .slurm
                .jobs_named(&spec::job_name(self.instance, id))
                .await
                .map_err(slurm_err)?,
            _ => vec![],
        };
        for sid in ids {
            let running = match self.slurm.status(sid).await {
                Ok(s) => !s.state.is_terminal(),
                Err(SlurmError::JobNotFound(_)) => false,
                Err(e) => return Err(slurm_err(e)),
            };
            if running {
                self.slurm.cancel(sid).await.map_err(slurm_err)?;
                metrics::scancel();
                tracing::info!(
                    job = id,
                    slurm_job_id = sid,
                    chain_state,
                    "the chain ended the job; SLURM job cancelled (scancel)"
                );
            }
        }
        self.last_usage.remove(&id);
        rec.close(format!("chain {chain_state}"));
        store.put_hpc_job(id, &rec)
    }

    async fn submit(
        &mut self,
        chain: &Chain,
        store: &Store,
        id: u64,
        mut rec: JobRecord,
        job: &hpc::Job,
        after_crash: bool,
    ) -> Result<(), DaemonError> {
        let name = spec::job_name(self.instance, id);
        if after_crash {
            let found = self.slurm.jobs_named(&name).await.map_err(slurm_err)?;
            if let Some(&sid) = found.first() {
                rec.stage = JobStage::Submitted { slurm_job_id: sid };
                store.put_hpc_job(id, &rec)?;
                tracing::info!(
                    job = id,
                    slurm_job_id = sid,
                    "found the SLURM job submitted before a restart; not submitting again"
                );
                return self.report_queued(chain, id, sid).await;
            }
        }
        let spec = match spec::build(job, &self.cfg, self.instance) {
            Ok(s) => s,
            Err(why) => return self.refuse(chain, store, id, rec, why).await,
        };
        std::fs::create_dir_all(&spec.working_dir).map_err(|e| {
            DaemonError::Backend(format!(
                "creating the job directory {}: {e}",
                spec.working_dir.display()
            ))
        })?;
        // Durable before sbatch: a crash from here on finds the job by name.
        rec.stage = JobStage::Submitting;
        store.put_hpc_job(id, &rec)?;
        let sid = match self.slurm.submit(&spec).await {
            Ok(sid) => sid,
            Err(e @ (SlurmError::CommandFailed { .. } | SlurmError::InvalidSpec { .. })) => {
                return self
                    .refuse(chain, store, id, rec, format!("SLURM refused the job: {e}"))
                    .await
            }
            Err(e) => return Err(slurm_err(e)),
        };
        rec.stage = JobStage::Submitted { slurm_job_id: sid };
        store.put_hpc_job(id, &rec)?;
        metrics::submitted();
        tracing::info!(job = id, slurm_job_id = sid, name = %name, partition = ?spec.partition, output = %spec.stdout_path.display(), "HPC job submitted to SLURM");
        self.report_queued(chain, id, sid).await
    }

    /// A job this cluster cannot run: FAILED (never billed: it did not start).
    async fn refuse(
        &mut self,
        chain: &Chain,
        store: &Store,
        id: u64,
        mut rec: JobRecord,
        why: String,
    ) -> Result<(), DaemonError> {
        tracing::warn!(job = id, reason = %why, "HPC job refused; reporting it failed");
        if self
            .report_failed(chain, id, String::new(), why, "refused")
            .await?
        {
            rec.close("refused");
            store.put_hpc_job(id, &rec)?;
        }
        Ok(())
    }

    async fn report_queued(&mut self, chain: &Chain, id: u64, sid: u64) -> Result<(), DaemonError> {
        self.report_status(chain, id, hpc::JobState::Queued, sid, "PENDING", 0, None)
            .await
            .map(|_| ())
    }

    #[allow(clippy::too_many_arguments)]
    async fn report_status(
        &mut self,
        chain: &Chain,
        id: u64,
        state: hpc::JobState,
        sid: u64,
        slurm_state: &str,
        exit_code: i32,
        usage: Option<hpc::UsageMetrics>,
    ) -> Result<bool, DaemonError> {
        let m = hpc::MsgReportJobStatus {
            provider: chain.provider.to_string(),
            job_id: id,
            state: state as i32,
            slurm_job_id: sid.to_string(),
            status_message: self.message(id, slurm_state),
            exit_code,
            usage,
        };
        self.send(
            chain,
            id,
            ve_proto::to_any("/virtengine.hpc.v1.MsgReportJobStatus", &m),
            state_name(state),
        )
        .await
    }

    /// Reports `id` FAILED with exit code -1 and no usage, so nothing is billed: for jobs
    /// that never ran here or whose SLURM record is gone. `false` as for [`Self::send`].
    async fn report_failed(
        &self,
        chain: &Chain,
        id: u64,
        slurm_job_id: String,
        mut why: String,
        label: &'static str,
    ) -> Result<bool, DaemonError> {
        // The chain bounds status messages; cut on a character boundary.
        let cut = (0..=why.len().min(1000))
            .rev()
            .find(|i| why.is_char_boundary(*i))
            .unwrap_or(0);
        why.truncate(cut);
        let m = hpc::MsgReportJobStatus {
            provider: chain.provider.to_string(),
            job_id: id,
            state: hpc::JobState::Failed as i32,
            slurm_job_id,
            status_message: why,
            exit_code: -1,
            usage: None,
        };
        self.send(
            chain,
            id,
            ve_proto::to_any("/virtengine.hpc.v1.MsgReportJobStatus", &m),
            label,
        )
        .await
    }

    /// Sends one report; `false` when the chain included and refused it.
    async fn send(
        &self,
        chain: &Chain,
        id: u64,
        msg: Any,
        label: &'static str,
    ) -> Result<bool, DaemonError> {
        let resp = chain.send_hpc(vec![msg]).await?;
        if resp.is_ok() {
            metrics::report(label);
            tracing::info!(job = id, report = label, height = resp.height, tx = %resp.hash, "HPC job report on chain");
            Ok(true)
        } else {
            metrics::error("rejected");
            tracing::warn!(job = id, report = label, code = resp.code, log = %resp.log, "the chain refused the report; the next round re-reads the job");
            Ok(false)
        }
    }

    async fn track(
        &mut self,
        chain: &Chain,
        store: &Store,
        id: u64,
        mut rec: JobRecord,
        mut state: hpc::JobState,
        sid: u64,
    ) -> Result<(), DaemonError> {
        if state == hpc::JobState::Pending {
            if !self
                .report_status(chain, id, hpc::JobState::Queued, sid, "PENDING", 0, None)
                .await?
            {
                return Ok(());
            }
            state = hpc::JobState::Queued;
        }
        let st = match self.slurm.status(sid).await {
            Ok(s) => s,
            Err(SlurmError::JobNotFound(_)) => {
                // Purged from both queue and accounting: nothing to bill from.
                let why = format!("SLURM job {sid} vanished from queue and accounting");
                if self
                    .report_failed(chain, id, sid.to_string(), why, "failed")
                    .await?
                {
                    rec.close("slurm job vanished");
                    store.put_hpc_job(id, &rec)?;
                }
                return Ok(());
            }
            Err(e) => return Err(slurm_err(e)),
        };
        match st.state {
            SlurmState::Queued => Ok(()),
            SlurmState::Running => {
                if state == hpc::JobState::Queued {
                    if self
                        .report_status(
                            chain,
                            id,
                            hpc::JobState::Running,
                            sid,
                            &st.slurm_state,
                            0,
                            None,
                        )
                        .await?
                    {
                        self.last_usage.insert(id, Instant::now());
                    }
                    return Ok(());
                }
                let due = self
                    .last_usage
                    .get(&id)
                    .is_none_or(|t| t.elapsed() >= Duration::from_secs(self.cfg.usage_interval_s));
                if due {
                    let u = self.slurm.usage(sid).await.map_err(slurm_err)?;
                    let m = hpc::MsgReportJobUsage {
                        provider: chain.provider.to_string(),
                        job_id: id,
                        usage: Some(usage::metrics(&u)),
                    };
                    self.last_usage.insert(id, Instant::now());
                    self.send(
                        chain,
                        id,
                        ve_proto::to_any("/virtengine.hpc.v1.MsgReportJobUsage", &m),
                        "usage",
                    )
                    .await?;
                }
                Ok(())
            }
            ended => {
                let to =
                    usage::terminal_state(ended).ok_or(DaemonError::Missing("a terminal state"))?;
                let u = self.slurm.usage(sid).await.map_err(slurm_err)?;
                if (!u.is_final || st.exit_code.is_none()) && rec.final_waits < MAX_FINAL_WAITS {
                    rec.final_waits += 1;
                    return store.put_hpc_job(id, &rec);
                }
                // A job that ran is RUNNING on chain before its end is reported, so the
                // chain bills it (the chain allows queued → completed only via running).
                if state == hpc::JobState::Queued
                    && (u.elapsed_seconds > 0 || to == hpc::JobState::Completed)
                    && !self
                        .report_status(chain, id, hpc::JobState::Running, sid, "RUNNING", 0, None)
                        .await?
                {
                    return Ok(());
                }
                let metrics = (rec.report_refusals < MAX_REFUSALS).then(|| usage::metrics(&u));
                let code = usage::exit_code(&st);
                if self
                    .report_status(chain, id, to, sid, &st.slurm_state, code, metrics)
                    .await?
                {
                    self.last_usage.remove(&id);
                    rec.close(format!("reported {}", state_name(to)));
                    tracing::info!(
                        job = id,
                        slurm_job_id = sid,
                        state = state_name(to),
                        exit_code = code,
                        wall_clock_seconds = u.elapsed_seconds,
                        "HPC job finished"
                    );
                } else {
                    rec.report_refusals += 1;
                }
                store.put_hpc_job(id, &rec)
            }
        }
    }

    /// Cluster heartbeat (usable nodes from `sinfo`) and node metadata, in one tx.
    async fn heartbeat(&mut self, chain: &Chain) -> Result<(), DaemonError> {
        let inv = self.slurm.inventory().await.map_err(slurm_err)?;
        let cluster = chain.hpc_cluster(self.cfg.cluster_id).await?;
        let provider = chain.provider.to_string();
        if cluster.provider != provider {
            return Err(DaemonError::Config(format!(
                "hpc.cluster_id {} belongs to {}, not to this daemon's key {provider}",
                cluster.cluster_id, cluster.provider
            )));
        }
        // sinfo --Node lists a node once per partition.
        let mut nodes: BTreeMap<&str, &ve_slurm::Node> = BTreeMap::new();
        for n in &inv.nodes {
            let in_partition = self
                .cfg
                .partition
                .as_ref()
                .is_none_or(|p| n.partitions.contains(p));
            if in_partition {
                nodes.insert(n.name.as_str(), n);
            }
        }
        let usable = nodes.values().filter(|n| n.is_usable()).count();
        let available = u32::try_from(usable)
            .unwrap_or(u32::MAX)
            .min(cluster.total_nodes);
        let mut msgs = vec![ve_proto::to_any(
            "/virtengine.hpc.v1.MsgClusterHeartbeat",
            &hpc::MsgClusterHeartbeat {
                provider: provider.clone(),
                cluster_id: cluster.cluster_id,
                available_nodes: available,
                avg_latency_ms: 0,
                peer_latencies: vec![],
                drain: false,
            },
        )];
        // Strictly increasing across restarts too: milliseconds since the epoch.
        let now_ms = u64::try_from(super::wall_clock().as_millis()).unwrap_or(u64::MAX);
        self.node_sequence = self.node_sequence.saturating_add(1).max(now_ms);
        let limit = usize::try_from(cluster.total_nodes).unwrap_or(usize::MAX);
        for n in nodes.values().take(limit) {
            let health = if n.state.starts_with("drain") {
                hpc::HealthStatus::Draining
            } else if n.is_usable() {
                hpc::HealthStatus::Healthy
            } else {
                hpc::HealthStatus::Offline
            };
            let gpus: u32 = n.gpus.iter().map(|g| g.count).sum();
            msgs.push(ve_proto::to_any(
                "/virtengine.hpc.v1.MsgUpdateNodeMetadata",
                &hpc::MsgUpdateNodeMetadata {
                    provider: provider.clone(),
                    cluster_id: cluster.cluster_id,
                    node_id: n.name.clone(),
                    operator: self.cfg.node_operator.clone().unwrap_or_default(),
                    health: health as i32,
                    capacity: Some(hpc::NodeCapacity {
                        cpu_cores: u64::from(n.cpus),
                        memory_gb: n.memory_mb / 1024,
                        gpus,
                        gpu_type: n
                            .gpus
                            .iter()
                            .find_map(|g| g.gpu_type.clone())
                            .unwrap_or_default(),
                        storage_gb: 0,
                    }),
                    locality: Some(hpc::NodeLocality {
                        region: cluster.region.clone(),
                        datacenter: cluster.datacenter.clone(),
                        zone: String::new(),
                        rack: String::new(),
                    }),
                    avg_latency_ms: 0,
                    agent_pubkey: String::new(),
                    agent_version: concat!("ve-provider-daemon/", env!("CARGO_PKG_VERSION")).into(),
                    sequence: self.node_sequence,
                },
            ));
        }
        let resp = chain.send_hpc(msgs).await?;
        if !resp.is_ok() {
            return Err(DaemonError::Backend(format!(
                "heartbeat refused by the chain: code {} {}",
                resp.code, resp.log
            )));
        }
        metrics::heartbeat();
        tracing::info!(
            cluster_id = cluster.cluster_id,
            available_nodes = available,
            nodes = nodes.len(),
            height = resp.height,
            "cluster heartbeat on chain"
        );
        Ok(())
    }
}
