//! [`ve_backend::Backend`] for SLURM: one lease = one batch job.
//!
//! A lease's workload must be a single service without ports (a batch job exposes nothing)
//! whose image is [`HOST_IMAGE`]: the command runs in the compute nodes' own environment
//! (no container runtime — Apptainer/Singularity are not packaged in Debian 12). The service's
//! CPU, memory and GPUs become the job's request; its output goes to `<work_root>/<lease key>/`.
//!
//! Durability: each lease's job id and spec hash are kept in a JSON record under `state_dir`,
//! written before `provision` returns, so a restarted daemon finds (adopts) its jobs.
//! The trait is synchronous; calls run the async client on a private current-thread runtime,
//! so call them from `spawn_blocking` (as the trait's docs require), never from async code.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use ve_backend::{
    Backend, BackendError, FailureReason, Inventory, LeaseId, Provisioned, Resources, ServiceState,
    ServiceStatus, Usage, WorkloadSpec, WorkloadState, WorkloadStatus,
};

use crate::script::shell_single_quote;
use crate::{JobSpec, JobState, JobStatus, Slurm, SlurmError};

/// The only image the SLURM back end runs: the compute node's host environment.
pub const HOST_IMAGE: &str = "host";

/// SLURM as a workload back end.
pub struct SlurmBackend {
    slurm: Slurm,
    runtime: tokio::runtime::Runtime,
    state_dir: PathBuf,
    work_root: PathBuf,
    partition: Option<String>,
    time_limit_minutes: u32,
    /// Serialises provision/teardown so concurrent calls cannot submit a lease twice.
    lock: Mutex<()>,
}

/// What is remembered per lease (one file per lease in `state_dir`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct LeaseRecord {
    lease: LeaseId,
    job_id: u64,
    service: String,
    spec_hash: String,
    resources: Resources,
    created_at: u64,
}

impl SlurmBackend {
    /// `state_dir` holds the lease records; `work_root` the jobs' working directories and
    /// must be visible on the compute nodes (shared file system on a real cluster).
    /// Jobs get `time_limit_minutes` as their wall-clock limit.
    pub fn new(
        state_dir: impl Into<PathBuf>,
        work_root: impl Into<PathBuf>,
        partition: Option<String>,
        time_limit_minutes: u32,
    ) -> Result<Self, BackendError> {
        let (state_dir, work_root) = (state_dir.into(), work_root.into());
        for dir in [&state_dir, &work_root] {
            std::fs::create_dir_all(dir)
                .map_err(|e| BackendError::io(format!("create {}", dir.display()), e))?;
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| BackendError::io("start the SLURM client runtime", e))?;
        Ok(Self {
            slurm: Slurm::new().with_command_timeout(Duration::from_secs(30)),
            runtime,
            state_dir,
            work_root,
            partition,
            time_limit_minutes,
            lock: Mutex::new(()),
        })
    }

    fn record_path(&self, lease: &LeaseId) -> PathBuf {
        self.state_dir.join(format!("{}.json", lease.key()))
    }

    fn work_dir(&self, lease: &LeaseId) -> PathBuf {
        self.work_root.join(lease.key())
    }

    fn load(&self, lease: &LeaseId) -> Result<Option<LeaseRecord>, BackendError> {
        let path = self.record_path(lease);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| BackendError::Corrupt(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(BackendError::io(format!("read {}", path.display()), e)),
        }
    }

    fn require(&self, lease: &LeaseId) -> Result<LeaseRecord, BackendError> {
        self.load(lease)?
            .ok_or_else(|| BackendError::NotFound(lease.to_string()))
    }

    /// Writes the record via a temporary file and rename, so a crash leaves old or new.
    fn store(&self, record: &LeaseRecord) -> Result<(), BackendError> {
        let path = self.record_path(&record.lease);
        let tmp = path.with_extension("json.tmp");
        let json =
            serde_json::to_vec_pretty(record).map_err(|e| BackendError::Corrupt(e.to_string()))?;
        std::fs::write(&tmp, json)
            .map_err(|e| BackendError::io(format!("write {}", tmp.display()), e))?;
        std::fs::rename(&tmp, &path)
            .map_err(|e| BackendError::io(format!("rename to {}", path.display()), e))
    }

    fn records(&self) -> Result<Vec<LeaseRecord>, BackendError> {
        let read = std::fs::read_dir(&self.state_dir)
            .map_err(|e| BackendError::io(format!("list {}", self.state_dir.display()), e))?;
        let mut out = Vec::new();
        for entry in read {
            let path = entry
                .map_err(|e| BackendError::io("list lease records", e))?
                .path();
            if path.extension().is_some_and(|x| x == "json") {
                let bytes = std::fs::read(&path)
                    .map_err(|e| BackendError::io(format!("read {}", path.display()), e))?;
                out.push(
                    serde_json::from_slice(&bytes)
                        .map_err(|e| BackendError::Corrupt(format!("{}: {e}", path.display())))?,
                );
            }
        }
        out.sort_by(|a: &LeaseRecord, b| a.lease.cmp(&b.lease));
        Ok(out)
    }

    fn job_spec(&self, lease: &LeaseId, spec: &WorkloadSpec) -> Result<JobSpec, BackendError> {
        spec.validate()?;
        let [service] = spec.services.as_slice() else {
            return Err(BackendError::InvalidSpec(format!(
                "the SLURM back end runs one batch service per lease, got {}",
                spec.services.len()
            )));
        };
        if !service.ports.is_empty() {
            return Err(BackendError::InvalidSpec(format!(
                "service {}: SLURM batch jobs expose no ports",
                service.name
            )));
        }
        if service.image != HOST_IMAGE {
            return Err(BackendError::InvalidSpec(format!(
                "service {}: image {:?} needs a container runtime; the SLURM back end runs image {HOST_IMAGE:?} (the node's own environment)",
                service.name, service.image
            )));
        }
        let words: Vec<String> = service
            .command
            .iter()
            .chain(&service.args)
            .map(|w| shell_single_quote(w))
            .collect();
        if words.is_empty() {
            return Err(BackendError::InvalidSpec(format!(
                "service {}: no command to run",
                service.name
            )));
        }
        let dir = self.work_dir(lease);
        let mut job = JobSpec::new(
            &format!("ve-{}", lease.key()),
            &dir,
            self.time_limit_minutes,
            &words.join(" "),
        );
        job.partition = self.partition.clone();
        job.stdout_path = dir.join("output.log");
        let r = service.resources;
        job.cpus_per_task = u32::try_from(r.cpu_millicores.div_ceil(1000).max(1))
            .map_err(|_| BackendError::InvalidSpec("cpu request too large".into()))?;
        job.memory_mb = Some(r.memory_bytes.div_ceil(1 << 20));
        if r.gpu_count > 0 {
            job.gpus = Some(crate::GpuRequest {
                count: r.gpu_count,
                gpu_type: None,
            });
        }
        for entry in &service.env {
            // validate() checked KEY=VALUE.
            let (k, v) = entry.split_once('=').unwrap_or((entry, ""));
            job.environment.insert(k.to_string(), v.to_string());
        }
        job.validate().map_err(to_backend)?;
        Ok(job)
    }

    fn status_of(&self, record: &LeaseRecord) -> Result<WorkloadStatus, BackendError> {
        let state = match self.runtime.block_on(self.slurm.status(record.job_id)) {
            Ok(status) => service_state(&status),
            Err(SlurmError::JobNotFound(_)) => ServiceState::Failed(FailureReason::Lost),
            Err(e) => return Err(to_backend(e)),
        };
        Ok(WorkloadStatus {
            lease: record.lease.clone(),
            state: WorkloadState::aggregate([&state]),
            services: vec![ServiceStatus {
                name: record.service.clone(),
                state,
                endpoints: Vec::new(),
            }],
            spec_hash: record.spec_hash.clone(),
            resources: record.resources,
            created_at: record.created_at,
        })
    }
}

/// SLURM state → service state. Suspended jobs hold their allocation but do not run.
fn service_state(status: &JobStatus) -> ServiceState {
    match status.state {
        JobState::Queued => ServiceState::Pending,
        JobState::Running if status.slurm_state == "SUSPENDED" => ServiceState::Suspended,
        JobState::Running => ServiceState::Running,
        JobState::Completed => ServiceState::Completed,
        JobState::Failed if status.slurm_state.starts_with("OUT_OF_MEMORY") => {
            ServiceState::Failed(FailureReason::OutOfMemory)
        }
        JobState::Failed => match (status.exit_code, status.signal) {
            (_, Some(sig)) => ServiceState::Failed(FailureReason::Signal(sig)),
            (Some(code), None) => ServiceState::Failed(FailureReason::ExitCode(code)),
            (None, None) => {
                ServiceState::Failed(FailureReason::Cancelled(status.slurm_state.clone()))
            }
        },
        JobState::Timeout => {
            ServiceState::Failed(FailureReason::Cancelled("time limit reached".into()))
        }
        JobState::Cancelled => {
            ServiceState::Failed(FailureReason::Cancelled(status.slurm_state.clone()))
        }
    }
}

fn to_backend(e: SlurmError) -> BackendError {
    match e {
        SlurmError::InvalidSpec { .. } => BackendError::InvalidSpec(e.to_string()),
        SlurmError::NotInstalled { .. } => BackendError::Environment(e.to_string()),
        SlurmError::JobNotFound(id) => BackendError::NotFound(format!("SLURM job {id}")),
        SlurmError::CommandFailed {
            ref command,
            ref stderr,
            ..
        } => BackendError::Command {
            command: command.clone(),
            message: stderr.clone(),
        },
        other => BackendError::Command {
            command: "slurm".into(),
            message: other.to_string(),
        },
    }
}

/// Unix seconds now (off-chain: the back end stamps its own records).
#[allow(clippy::disallowed_methods)]
fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

impl Backend for SlurmBackend {
    fn name(&self) -> &'static str {
        "slurm"
    }

    fn inventory(&self) -> Result<Inventory, BackendError> {
        let inv = self
            .runtime
            .block_on(self.slurm.inventory())
            .map_err(to_backend)?;
        let usable = inv.nodes.iter().filter(|n| n.is_usable());
        let total = usable.fold(Resources::default(), |acc, n| {
            acc.saturating_add(Resources {
                cpu_millicores: u64::from(n.cpus).saturating_mul(1000),
                memory_bytes: n.memory_mb.saturating_mul(1 << 20),
                // Storage is the shared file system's business, not SLURM's: not offered.
                storage_bytes: 0,
                gpu_count: n.gpus.iter().map(|g| g.count).sum(),
            })
        });
        let mut allocated = Resources::default();
        let mut workloads = 0u32;
        for record in self.records()? {
            let state = self.status_of(&record)?.state;
            if !matches!(state, WorkloadState::Completed | WorkloadState::Failed) {
                allocated = allocated.saturating_add(record.resources);
                workloads = workloads.saturating_add(1);
            }
        }
        Ok(Inventory {
            total,
            allocated,
            available: total.saturating_sub(allocated),
            workloads,
        })
    }

    fn provision(&self, lease: &LeaseId, spec: &WorkloadSpec) -> Result<Provisioned, BackendError> {
        let job = self.job_spec(lease, spec)?;
        let _guard = self
            .lock
            .lock()
            .map_err(|_| BackendError::Corrupt("lock poisoned".into()))?;
        if let Some(existing) = self.load(lease)? {
            if existing.spec_hash == spec.hash() {
                return Ok(Provisioned {
                    lease: lease.clone(),
                    endpoints: Vec::new(),
                    created: false,
                });
            }
            return Err(BackendError::SpecConflict(lease.to_string()));
        }
        let dir = self.work_dir(lease);
        std::fs::create_dir_all(&dir)
            .map_err(|e| BackendError::io(format!("create {}", dir.display()), e))?;
        let job_id = self
            .runtime
            .block_on(self.slurm.submit(&job))
            .map_err(to_backend)?;
        self.store(&LeaseRecord {
            lease: lease.clone(),
            job_id,
            service: spec
                .services
                .first()
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            spec_hash: spec.hash(),
            resources: spec.total_resources(),
            created_at: now_unix(),
        })?;
        Ok(Provisioned {
            lease: lease.clone(),
            endpoints: Vec::new(),
            created: true,
        })
    }

    fn status(&self, lease: &LeaseId) -> Result<WorkloadStatus, BackendError> {
        self.status_of(&self.require(lease)?)
    }

    fn logs(
        &self,
        lease: &LeaseId,
        service: &str,
        tail: usize,
    ) -> Result<Vec<String>, BackendError> {
        let record = self.require(lease)?;
        if service != record.service {
            return Err(BackendError::NotFound(format!(
                "service {service} of lease {lease}"
            )));
        }
        let path = self.work_dir(lease).join("output.log");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(), // still queued
            Err(e) => return Err(BackendError::io(format!("read {}", path.display()), e)),
        };
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        Ok(lines[lines.len().saturating_sub(tail)..].to_vec())
    }

    fn suspend(&self, lease: &LeaseId) -> Result<(), BackendError> {
        let record = self.require(lease)?;
        match self.status_of(&record)?.state {
            WorkloadState::Suspended => Ok(()),
            WorkloadState::Running => self
                .runtime
                .block_on(self.slurm.suspend(record.job_id))
                .map_err(to_backend),
            other => Err(BackendError::InvalidState {
                lease: lease.to_string(),
                op: "suspend",
                state: format!("{other:?}"),
            }),
        }
    }

    fn resume(&self, lease: &LeaseId) -> Result<(), BackendError> {
        let record = self.require(lease)?;
        match self.status_of(&record)?.state {
            WorkloadState::Running => Ok(()),
            WorkloadState::Suspended => self
                .runtime
                .block_on(self.slurm.resume(record.job_id))
                .map_err(to_backend),
            other => Err(BackendError::InvalidState {
                lease: lease.to_string(),
                op: "resume",
                state: format!("{other:?}"),
            }),
        }
    }

    fn teardown(&self, lease: &LeaseId) -> Result<Option<Usage>, BackendError> {
        let _guard = self
            .lock
            .lock()
            .map_err(|_| BackendError::Corrupt("lock poisoned".into()))?;
        let Some(record) = self.load(lease)? else {
            return Ok(None);
        };
        match self.runtime.block_on(self.slurm.cancel(record.job_id)) {
            Ok(()) | Err(SlurmError::JobNotFound(_)) => {}
            Err(e) => return Err(to_backend(e)),
        }
        let usage = self.usage(lease)?;
        let dir = self.work_dir(lease);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(|e| BackendError::io(format!("remove {}", dir.display()), e))?;
        }
        let path = self.record_path(lease);
        std::fs::remove_file(&path)
            .map_err(|e| BackendError::io(format!("remove {}", path.display()), e))?;
        Ok(Some(usage))
    }

    /// From SLURM accounting: CPU time of all steps; memory as peak RSS × wall time (SLURM
    /// keeps the peak, not the integral); GPU-seconds allocated; storage = size of the
    /// job's working directory.
    fn usage(&self, lease: &LeaseId) -> Result<Usage, BackendError> {
        let record = self.require(lease)?;
        let measured_at = now_unix();
        let storage_bytes = dir_size(&self.work_dir(lease));
        let u = match self.runtime.block_on(self.slurm.usage(record.job_id)) {
            Ok(u) => u,
            // Not in accounting yet (just submitted): nothing used so far.
            Err(SlurmError::JobNotFound(_)) => {
                return Ok(Usage {
                    storage_bytes,
                    measured_at,
                    ..Usage::default()
                });
            }
            Err(e) => return Err(to_backend(e)),
        };
        Ok(Usage {
            cpu_nanoseconds: u.cpu_time_ms.saturating_mul(1_000_000),
            memory_byte_seconds: u
                .max_rss_bytes
                .unwrap_or(0)
                .saturating_mul(u.elapsed_seconds),
            storage_bytes,
            gpu_seconds: (u.allocated.gpus > 0).then(|| u.allocated_gpu_seconds()),
            wall_seconds: u.elapsed_seconds,
            measured_at,
        })
    }

    fn list(&self) -> Result<Vec<WorkloadStatus>, BackendError> {
        self.records()?.iter().map(|r| self.status_of(r)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(
        state: JobState,
        slurm_state: &str,
        exit_code: Option<i32>,
        signal: Option<i32>,
    ) -> JobStatus {
        JobStatus {
            job_id: 1,
            state,
            slurm_state: slurm_state.into(),
            exit_code,
            signal,
            reason: None,
            nodes: None,
        }
    }

    #[test]
    fn slurm_endings_map_to_failure_reasons() {
        use FailureReason as F;
        let cases = [
            (
                status(JobState::Queued, "PENDING", None, None),
                ServiceState::Pending,
            ),
            (
                status(JobState::Running, "SUSPENDED", None, None),
                ServiceState::Suspended,
            ),
            (
                status(JobState::Completed, "COMPLETED", Some(0), None),
                ServiceState::Completed,
            ),
            (
                status(JobState::Failed, "FAILED", Some(3), None),
                ServiceState::Failed(F::ExitCode(3)),
            ),
            (
                status(JobState::Failed, "FAILED", Some(0), Some(9)),
                ServiceState::Failed(F::Signal(9)),
            ),
            (
                status(JobState::Failed, "OUT_OF_MEMORY", Some(0), None),
                ServiceState::Failed(F::OutOfMemory),
            ),
            (
                status(JobState::Timeout, "TIMEOUT", Some(0), Some(15)),
                ServiceState::Failed(F::Cancelled("time limit reached".into())),
            ),
            (
                status(JobState::Cancelled, "CANCELLED by 0", Some(0), Some(15)),
                ServiceState::Failed(F::Cancelled("CANCELLED by 0".into())),
            ),
        ];
        for (s, want) in cases {
            assert_eq!(service_state(&s), want, "{s:?}");
        }
    }
}
