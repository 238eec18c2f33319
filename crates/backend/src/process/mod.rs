//! The process runner: each service of a lease runs as a sandboxed process tree (new pid,
//! mount, uts and ipc namespaces; a private copy of a local directory image as its root;
//! an unprivileged uid) in its own cgroups (memory limit, CPU quota and shares, pids limit,
//! cpuacct for CPU time, freezer for suspend), on the host network with ports from the
//! runner's range. See `docs/backend.md`.
//!
//! State dir layout: `lock` (one runner per state dir), `leases/<key>/record.json`
//! (durable record), `leases/<key>/meter.json`, `leases/<key>/<service>/{rootfs,
//! output.log, launch.sh, init.sh, exit_status}`. `<key>` is [`LeaseId::key`].

// Metering and record timestamps are wall-clock by nature; this never runs in consensus.
#![allow(clippy::disallowed_methods)]

mod cgroup;
mod launch;
mod meter;
mod ports;
mod record;

use std::collections::BTreeSet;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cgroup::{CgroupTree, LeaseCgroups};
use launch::{Launch, ServiceDir};
use meter::Meter;
use record::{Phase, ServiceRecord, Store, WorkloadRecord};

use crate::{
    Backend, BackendError, Endpoint, FailureReason, Inventory, LeaseId, Provisioned, Resources,
    ServiceState, ServiceStatus, Usage, WorkloadSpec, WorkloadState, WorkloadStatus,
};

/// Configuration of a [`ProcessRunner`].
#[derive(Clone, Debug)]
pub struct RunnerConfig {
    /// Durable state (records, roots, logs). One runner per state dir.
    pub state_dir: PathBuf,
    /// Where `scripts/build-images.sh` put the images (`<images_dir>/<name>/`).
    pub images_dir: PathBuf,
    /// Mount point of the cgroup v1 controllers.
    pub cgroup_root: PathBuf,
    /// Group under each controller that holds this runner's leases. Everything in it
    /// belongs to the runner: unknown groups there are killed at start-up.
    pub cgroup_parent: String,
    /// Host ports handed to service endpoints.
    pub port_range: RangeInclusive<u16>,
    /// Host name or IP put into endpoints (what tenants connect to).
    pub endpoint_host: String,
    /// Capacity offered; `None` = the host's CPUs, memory and state-dir file system.
    pub capacity: Option<Resources>,
    /// Uid and gid workloads run as (never root).
    pub workload_uid: u32,
    pub workload_gid: u32,
    /// `pids.max` of each service.
    pub pids_max: u64,
    /// A service log longer than this is cut to its last quarter by the sampler.
    pub max_log_bytes: u64,
}

impl RunnerConfig {
    /// Defaults: images in `/var/lib/virtengine/images`, cgroups under
    /// `/sys/fs/cgroup/<controller>/virtengine`, ports 31000-31999 on 127.0.0.1,
    /// workloads as `nobody` (65534), 256 processes per service, logs cut at 16 MiB.
    pub fn new(state_dir: impl Into<PathBuf>) -> Self {
        Self {
            state_dir: state_dir.into(),
            images_dir: PathBuf::from("/var/lib/virtengine/images"),
            cgroup_root: PathBuf::from("/sys/fs/cgroup"),
            cgroup_parent: "virtengine".into(),
            port_range: 31000..=31999,
            endpoint_host: "127.0.0.1".into(),
            capacity: None,
            workload_uid: 65534,
            workload_gid: 65534,
            pids_max: 256,
            max_log_bytes: 16 << 20,
        }
    }
}

/// What [`ProcessRunner::open`] found from a previous run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Workloads with a complete record: kept and listed (running or not).
    pub adopted: Vec<LeaseId>,
    /// Lease keys whose provisioning or teardown was interrupted, or whose cgroups or
    /// directories had no record: their processes were killed and their files removed.
    pub cleaned: Vec<String>,
}

/// The sandboxed process back end.
#[derive(Debug)]
pub struct ProcessRunner {
    cfg: RunnerConfig,
    store: Store,
    cgroups: CgroupTree,
    total: Resources,
    /// Serialises every operation: provisioning must see every other lease's ports and
    /// reservation, and a teardown must not race a provision of the same lease.
    op: Mutex<()>,
    report: ReconcileReport,
    /// Held (flock) for the runner's lifetime: a second runner on the same state would
    /// adopt and duplicate this one's workloads.
    _lock: fs::File,
}

impl ProcessRunner {
    /// Whether this host can run the process runner with `cfg`: root, the cgroup v1
    /// controllers mounted, the helper tools on PATH. (What [`Self::open`] checks first;
    /// callers use it to decide whether to offer workloads at all.)
    pub fn check_environment(cfg: &RunnerConfig) -> Result<(), BackendError> {
        if !nix::unistd::geteuid().is_root() {
            return Err(BackendError::Environment(
                "the process runner must run as root (it creates cgroups and namespaces)".into(),
            ));
        }
        CgroupTree {
            root: cfg.cgroup_root.clone(),
            parent: cfg.cgroup_parent.clone(),
        }
        .check()?;
        for tool in [
            "unshare", "setsid", "setpriv", "chroot", "hostname", "mount", "cp", "chown",
        ] {
            if !tool_exists(tool) {
                return Err(BackendError::Environment(format!(
                    "{tool} not found on PATH (util-linux / coreutils / hostname)"
                )));
            }
        }
        Ok(())
    }

    /// Opens (or creates) the state dir, takes its lock and reconciles: complete records
    /// are adopted, interrupted ones and unrecorded cgroups/dirs are cleaned up.
    pub fn open(cfg: RunnerConfig) -> Result<Self, BackendError> {
        Self::check_environment(&cfg)?;
        let cgroups = CgroupTree {
            root: cfg.cgroup_root.clone(),
            parent: cfg.cgroup_parent.clone(),
        };
        let store = Store {
            leases_dir: cfg.state_dir.join("leases"),
        };
        fs::create_dir_all(&store.leases_dir)
            .map_err(|e| BackendError::io(format!("creating {}", store.leases_dir.display()), e))?;
        let lock_path = cfg.state_dir.join("lock");
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| BackendError::io(format!("opening {}", lock_path.display()), e))?;
        lock.try_lock().map_err(|_| {
            BackendError::Environment(format!(
                "another process runner holds {} (one runner per state dir)",
                lock_path.display()
            ))
        })?;
        let total = match cfg.capacity {
            Some(c) => c,
            None => host_capacity(&cfg.state_dir)?,
        };
        let mut runner = Self {
            cfg,
            store,
            cgroups,
            total,
            op: Mutex::new(()),
            report: ReconcileReport::default(),
            _lock: lock,
        };
        runner.report = runner.reconcile()?;
        Ok(runner)
    }

    /// What start-up reconciliation did.
    pub fn reconcile_report(&self) -> &ReconcileReport {
        &self.report
    }

    fn reconcile(&self) -> Result<ReconcileReport, BackendError> {
        let mut report = ReconcileReport::default();
        let mut keep = BTreeSet::new();
        for key in self.store.keys()? {
            match self.store.load(&key) {
                Ok(Some(rec)) if rec.phase == Phase::Ready && rec.lease.key() == key => {
                    tracing::info!(lease = %rec.lease, "adopting workload from a previous run");
                    keep.insert(key);
                    report.adopted.push(rec.lease);
                }
                other => {
                    tracing::warn!(key, record = ?other.map(|r| r.map(|r| r.phase)), "cleaning up interrupted or unrecorded workload");
                    self.remove_all(&key)?;
                    report.cleaned.push(key);
                }
            }
        }
        for key in self.cgroups.lease_keys() {
            if !keep.contains(&key) && !report.cleaned.contains(&key) {
                tracing::warn!(key, "killing processes of a cgroup without a record");
                self.cgroups.lease(&key).destroy()?;
                report.cleaned.push(key);
            }
        }
        Ok(report)
    }

    /// Samples the memory of every workload (for memory-seconds) and cuts overlong logs.
    /// Call it every few seconds, or use [`ProcessRunner::spawn_sampler`].
    pub fn sample_usage(&self) -> Result<(), BackendError> {
        let _g = self.lock();
        for key in self.store.keys()? {
            if let Ok(Some(rec)) = self.store.load(&key) {
                if rec.phase == Phase::Ready {
                    let dir = self.store.lease_dir(&key);
                    Meter::load(&dir)?.sample(&dir, &self.cgroups.lease(&key), now_ms())?;
                    for s in &rec.services {
                        let log = ServiceDir(dir.join(&s.name)).log();
                        trim_log(&log, self.cfg.max_log_bytes)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// A thread sampling usage every `every` until the returned handle is dropped.
    pub fn spawn_sampler(self: &Arc<Self>, every: Duration) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let weak: Weak<Self> = Arc::downgrade(self);
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let tick = Duration::from_millis(50);
            let mut waited = Duration::ZERO;
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                waited += tick;
                if waited < every {
                    continue;
                }
                waited = Duration::ZERO;
                let Some(runner) = weak.upgrade() else { return };
                if let Err(e) = runner.sample_usage() {
                    tracing::warn!(error = %e, "usage sampling failed");
                }
            }
        });
        Sampler {
            stop,
            handle: Some(handle),
        }
    }

    fn lock(&self) -> MutexGuard<'_, ()> {
        // A panic while holding the lock leaves no half-state in memory (all state is on
        // disk), so a poisoned lock is safe to reuse.
        self.op.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn record(&self, lease: &LeaseId) -> Result<WorkloadRecord, BackendError> {
        match self.store.load(&lease.key())? {
            Some(r) if r.lease == *lease && r.phase == Phase::Ready => Ok(r),
            Some(r) if r.lease != *lease => Err(BackendError::Corrupt(format!(
                "lease key {} belongs to {} and {}",
                lease.key(),
                r.lease,
                lease
            ))),
            _ => Err(BackendError::NotFound(lease.to_string())),
        }
    }

    fn image_dir(&self, image: &str) -> Result<PathBuf, BackendError> {
        let name = image_name(image);
        let dir = self.cfg.images_dir.join(name);
        if name.is_empty() || name.starts_with('.') || !dir.is_dir() {
            return Err(BackendError::ImageNotFound {
                image: image.to_string(),
                dir: self.cfg.images_dir.display().to_string(),
            });
        }
        Ok(dir)
    }

    fn allocated(&self) -> Result<(Resources, u32, BTreeSet<u16>), BackendError> {
        let mut res = Resources::default();
        let mut n = 0u32;
        let mut ports = BTreeSet::new();
        for key in self.store.keys()? {
            if let Ok(Some(rec)) = self.store.load(&key) {
                res = res.saturating_add(rec.spec.total_resources());
                n = n.saturating_add(1);
                ports.extend(rec.host_ports());
            }
        }
        Ok((res, n, ports))
    }

    fn provision_locked(
        &self,
        lease: &LeaseId,
        spec: &WorkloadSpec,
    ) -> Result<Provisioned, BackendError> {
        let key = lease.key();
        let hash = spec.hash();
        if let Some(rec) = self.store.load(&key)? {
            if rec.lease != *lease {
                return Err(BackendError::Corrupt(format!(
                    "lease key {key} belongs to {} and {lease}",
                    rec.lease
                )));
            }
            if rec.spec_hash != hash {
                return Err(BackendError::SpecConflict(lease.to_string()));
            }
            return Ok(Provisioned {
                lease: lease.clone(),
                endpoints: rec.services.into_iter().flat_map(|s| s.endpoints).collect(),
                created: false,
            });
        }
        let (allocated, _, mut taken) = self.allocated()?;
        let need = spec.total_resources();
        let available = self.total.saturating_sub(allocated);
        if !available.fits(&need) {
            return Err(BackendError::InsufficientCapacity(format!(
                "lease {lease} needs {need:?}, {available:?} is free"
            )));
        }
        let images = spec
            .services
            .iter()
            .map(|s| self.image_dir(&s.image))
            .collect::<Result<Vec<_>, _>>()?;
        let mut services = Vec::with_capacity(spec.services.len());
        for s in &spec.services {
            let mut endpoints = Vec::with_capacity(s.ports.len());
            for p in &s.ports {
                let host_port = ports::allocate(&self.cfg.port_range, &taken, p.protocol)?;
                taken.insert(host_port);
                endpoints.push(Endpoint {
                    service: s.name.clone(),
                    port: p.port,
                    protocol: p.protocol,
                    host: self.cfg.endpoint_host.clone(),
                    host_port,
                });
            }
            services.push(ServiceRecord {
                name: s.name.clone(),
                endpoints,
            });
        }
        let mut rec = WorkloadRecord {
            lease: lease.clone(),
            spec: spec.clone(),
            spec_hash: hash,
            phase: Phase::Launching,
            services,
            created_at: now_ms() / 1000,
        };
        let dir = self.store.lease_dir(&key);
        // No record but leftovers (a cleanup that failed earlier): they are garbage.
        self.remove_all(&key)?;
        fs::create_dir(&dir)
            .map_err(|e| BackendError::io(format!("creating {}", dir.display()), e))?;
        let started = self.store.save(&key, &rec).and_then(|()| {
            for ((s, r), image) in spec.services.iter().zip(&rec.services).zip(&images) {
                self.start_service(&key, s, r, image)?;
            }
            rec.phase = Phase::Ready;
            self.store.save(&key, &rec)
        });
        if let Err(e) = started {
            tracing::warn!(%lease, error = %e, "provisioning failed; removing what was started");
            if let Err(cleanup) = self.remove_all(&key) {
                tracing::error!(%lease, error = %cleanup, "cleanup after failed provisioning failed; the next start-up retries it");
            }
            return Err(e);
        }
        // First memory sample: memory-seconds integrate from here.
        Meter::load(&dir)?.sample(&dir, &self.cgroups.lease(&key), now_ms())?;
        tracing::info!(%lease, "workload provisioned");
        Ok(Provisioned {
            lease: lease.clone(),
            endpoints: rec.services.into_iter().flat_map(|s| s.endpoints).collect(),
            created: true,
        })
    }

    fn start_service(
        &self,
        key: &str,
        s: &crate::ServiceSpec,
        r: &ServiceRecord,
        image: &Path,
    ) -> Result<(), BackendError> {
        let cg = self.cgroups.lease(key);
        cg.create_service(&s.name, &s.resources, self.cfg.pids_max)?;
        let mut vars = Vec::new();
        if let Some(first) = r.endpoints.first() {
            vars.push(("PORT".to_string(), first.host_port.to_string()));
        }
        for e in &r.endpoints {
            vars.push((format!("PORT_{}", e.port), e.host_port.to_string()));
        }
        let argv = launch::resolve_argv(image, &s.command, &s.args, &vars)?;
        let mut env: Vec<String> = vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
        env.extend(s.env.iter().map(|e| launch::expand(e, &vars)));
        let dir = ServiceDir(self.store.lease_dir(key).join(&s.name));
        fs::create_dir_all(&dir.0)
            .map_err(|e| BackendError::io(format!("creating {}", dir.0.display()), e))?;
        Launch {
            dir: &dir,
            image_dir: image,
            hostname: &s.name,
            argv: &argv,
            env: &env,
            uid: self.cfg.workload_uid,
            gid: self.cfg.workload_gid,
            cgroup_procs: &cg.procs_files(&s.name),
        }
        .start()
    }

    /// Kills every process of the lease and removes its cgroups and directory. The
    /// directory (with the record) goes last, so an interrupted removal is redone at the
    /// next start-up.
    fn remove_all(&self, key: &str) -> Result<(), BackendError> {
        self.cgroups.lease(key).destroy()?;
        let dir = self.store.lease_dir(key);
        match fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(BackendError::io(format!("removing {}", dir.display()), e)),
        }
    }

    fn service_state(&self, cg: &LeaseCgroups, key: &str, service: &str) -> ServiceState {
        if !cg.service_pids(service).is_empty() {
            return if cg.is_frozen() {
                ServiceState::Suspended
            } else {
                ServiceState::Running
            };
        }
        if cg.oom_kills(service) > 0 {
            return ServiceState::Failed(FailureReason::OutOfMemory);
        }
        match ServiceDir(self.store.lease_dir(key).join(service)).exit_status() {
            Some(0) => ServiceState::Completed,
            Some(c) if c > 128 => ServiceState::Failed(FailureReason::Signal(c - 128)),
            Some(c) => ServiceState::Failed(FailureReason::ExitCode(c)),
            None => ServiceState::Failed(FailureReason::Lost),
        }
    }

    fn status_of(&self, rec: WorkloadRecord) -> WorkloadStatus {
        let key = rec.lease.key();
        let cg = self.cgroups.lease(&key);
        let services: Vec<ServiceStatus> = rec
            .services
            .into_iter()
            .map(|s| ServiceStatus {
                state: self.service_state(&cg, &key, &s.name),
                name: s.name,
                endpoints: s.endpoints,
            })
            .collect();
        WorkloadStatus {
            state: WorkloadState::aggregate(services.iter().map(|s| &s.state)),
            lease: rec.lease,
            services,
            spec_hash: rec.spec_hash,
            resources: rec.spec.total_resources(),
            created_at: rec.created_at,
        }
    }

    fn usage_locked(&self, rec: &WorkloadRecord) -> Result<Usage, BackendError> {
        let key = rec.lease.key();
        let dir = self.store.lease_dir(&key);
        let cg = self.cgroups.lease(&key);
        let now = now_ms();
        let mut meter = Meter::load(&dir)?;
        meter.sample(&dir, &cg, now)?;
        Ok(meter.usage(&dir, &cg, rec.created_at, now))
    }
}

impl Backend for ProcessRunner {
    fn name(&self) -> &'static str {
        "process"
    }

    fn inventory(&self) -> Result<Inventory, BackendError> {
        let _g = self.lock();
        let (allocated, workloads, _) = self.allocated()?;
        Ok(Inventory {
            total: self.total,
            allocated,
            available: self.total.saturating_sub(allocated),
            workloads,
        })
    }

    fn provision(&self, lease: &LeaseId, spec: &WorkloadSpec) -> Result<Provisioned, BackendError> {
        spec.validate()?;
        if let Some(s) = spec.services.iter().find(|s| s.resources.gpu_count > 0) {
            return Err(BackendError::InsufficientCapacity(format!(
                "service {} asks for GPUs; the process runner has none",
                s.name
            )));
        }
        let _g = self.lock();
        self.provision_locked(lease, spec)
    }

    fn status(&self, lease: &LeaseId) -> Result<WorkloadStatus, BackendError> {
        let _g = self.lock();
        let rec = self.record(lease)?;
        Ok(self.status_of(rec))
    }

    fn logs(
        &self,
        lease: &LeaseId,
        service: &str,
        tail: usize,
    ) -> Result<Vec<String>, BackendError> {
        let rec = {
            let _g = self.lock();
            self.record(lease)?
        };
        if !rec.services.iter().any(|s| s.name == service) {
            return Err(BackendError::NotFound(format!("{lease} service {service}")));
        }
        let path = ServiceDir(self.store.lease_dir(&lease.key()).join(service)).log();
        tail_lines(&path, tail)
    }

    fn suspend(&self, lease: &LeaseId) -> Result<(), BackendError> {
        let _g = self.lock();
        self.record(lease)?;
        self.cgroups.lease(&lease.key()).set_frozen(true)?;
        tracing::info!(%lease, "workload suspended (frozen)");
        Ok(())
    }

    fn resume(&self, lease: &LeaseId) -> Result<(), BackendError> {
        let _g = self.lock();
        self.record(lease)?;
        self.cgroups.lease(&lease.key()).set_frozen(false)?;
        tracing::info!(%lease, "workload resumed (thawed)");
        Ok(())
    }

    fn teardown(&self, lease: &LeaseId) -> Result<Option<Usage>, BackendError> {
        let _g = self.lock();
        let key = lease.key();
        let Some(mut rec) = self.store.load(&key)? else {
            // Nothing recorded; still make sure nothing is left under the key.
            self.remove_all(&key)?;
            return Ok(None);
        };
        if rec.lease != *lease {
            return Err(BackendError::Corrupt(format!(
                "lease key {key} belongs to {} and {lease}",
                rec.lease
            )));
        }
        let usage = self.usage_locked(&rec)?;
        rec.phase = Phase::Terminating;
        self.store.save(&key, &rec)?;
        self.remove_all(&key)?;
        tracing::info!(%lease, "workload torn down");
        Ok(Some(usage))
    }

    fn usage(&self, lease: &LeaseId) -> Result<Usage, BackendError> {
        let _g = self.lock();
        let rec = self.record(lease)?;
        self.usage_locked(&rec)
    }

    fn list(&self) -> Result<Vec<WorkloadStatus>, BackendError> {
        let _g = self.lock();
        let mut out = Vec::new();
        for key in self.store.keys()? {
            if let Some(rec) = self.store.load(&key)? {
                if rec.phase == Phase::Ready {
                    out.push(self.status_of(rec));
                }
            }
        }
        out.sort_by(|a, b| a.lease.cmp(&b.lease));
        Ok(out)
    }
}

/// Stops the sampling thread of [`ProcessRunner::spawn_sampler`] when dropped.
#[derive(Debug)]
pub struct Sampler {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// `docker.io/library/busybox:1.36` → `busybox`.
fn image_name(image: &str) -> &str {
    let last = image.rsplit('/').next().unwrap_or(image);
    let last = last.split('@').next().unwrap_or(last);
    last.split(':').next().unwrap_or(last)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn tool_exists(tool: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false)
}

/// The host's CPUs, memory (MemTotal) and the size of the state dir's file system.
fn host_capacity(state_dir: &Path) -> Result<Resources, BackendError> {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let meminfo = fs::read_to_string("/proc/meminfo")
        .map_err(|e| BackendError::io("reading /proc/meminfo", e))?;
    let mem_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let vfs = nix::sys::statvfs::statvfs(state_dir)
        .map_err(|e| BackendError::io(format!("statvfs {}", state_dir.display()), e.into()))?;
    Ok(Resources {
        cpu_millicores: u64::try_from(cpus).unwrap_or(1).saturating_mul(1000),
        memory_bytes: mem_kib.saturating_mul(1024),
        storage_bytes: vfs.blocks().saturating_mul(vfs.fragment_size()),
        gpu_count: 0,
    })
}

/// If `path` is longer than `max`, keeps only its last quarter (from a line start). The
/// workload's shell appends (`O_APPEND`), so its next write lands after the kept part.
fn trim_log(path: &Path, max: u64) -> Result<(), BackendError> {
    let len = match fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(BackendError::io(format!("stat {}", path.display()), e)),
    };
    if len <= max {
        return Ok(());
    }
    let io = |e| BackendError::io(format!("trimming {}", path.display()), e);
    let mut f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io)?;
    f.seek(SeekFrom::Start(len - max / 4)).map_err(io)?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail).map_err(io)?;
    let start = tail.iter().position(|b| *b == b'\n').map_or(0, |i| i + 1);
    f.set_len(0).map_err(io)?;
    f.seek(SeekFrom::Start(0)).map_err(io)?;
    std::io::Write::write_all(&mut f, &tail[start..]).map_err(io)
}

/// The last `n` lines of a file, reading at most 4 MiB from its end.
fn tail_lines(path: &Path, n: usize) -> Result<Vec<String>, BackendError> {
    let mut f = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(BackendError::io(format!("opening {}", path.display()), e)),
    };
    let len = f
        .metadata()
        .map_err(|e| BackendError::io(format!("stat {}", path.display()), e))?
        .len();
    let window = (n as u64).saturating_mul(1024).clamp(64 * 1024, 4 << 20);
    let start = len.saturating_sub(window);
    f.seek(SeekFrom::Start(start))
        .map_err(|e| BackendError::io(format!("seeking {}", path.display()), e))?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf)
        .map_err(|e| BackendError::io(format!("reading {}", path.display()), e))?;
    let text = String::from_utf8_lossy(&buf);
    let mut lines: Vec<&str> = text.lines().collect();
    if start > 0 && !lines.is_empty() {
        lines.remove(0); // partial first line
    }
    let skip = lines.len().saturating_sub(n);
    Ok(lines[skip..].iter().map(|l| l.to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_resolve_to_local_image_names() {
        assert_eq!(image_name("busybox"), "busybox");
        assert_eq!(image_name("busybox:1.36"), "busybox");
        assert_eq!(image_name("docker.io/library/busybox:latest"), "busybox");
        assert_eq!(image_name("ghcr.io/x/web@sha256:abc"), "web");
    }

    #[test]
    fn overlong_logs_keep_their_last_quarter_from_a_line_start() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        let text: String = (0..100).map(|i| format!("line {i:03}\n")).collect(); // 9 B each
        fs::write(&p, &text).unwrap();
        trim_log(&p, 1000).unwrap();
        assert_eq!(
            fs::read_to_string(&p).unwrap(),
            text,
            "under the limit: untouched"
        );
        trim_log(&p, 800).unwrap();
        let kept = fs::read_to_string(&p).unwrap();
        assert!(kept.len() <= 200 && kept.starts_with("line ") && kept.ends_with("line 099\n"));
    }

    #[test]
    fn tail_returns_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        fs::write(&p, "a\nb\nc\n").unwrap();
        assert_eq!(tail_lines(&p, 2).unwrap(), vec!["b", "c"]);
        assert_eq!(tail_lines(&p, 10).unwrap(), vec!["a", "b", "c"]);
        assert!(tail_lines(&dir.path().join("none"), 3).unwrap().is_empty());
    }
}
