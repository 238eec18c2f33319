//! cgroup v1 handling for one lease: `<root>/<controller>/<parent>/<lease key>[/<service>]`.
//!
//! The lease-level group aggregates (cpuacct and memory are hierarchical) and carries the
//! freezer; each service gets its own child group with its limits.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::{BackendError, Resources};

/// Controllers every workload process joins.
pub(crate) const CONTROLLERS: [&str; 5] = ["cpu", "cpuacct", "memory", "pids", "freezer"];

const CFS_PERIOD_US: u64 = 100_000;

/// The cgroup tree of the runner: `<root>/<controller>/<parent>`.
#[derive(Clone, Debug)]
pub(crate) struct CgroupTree {
    pub root: PathBuf,
    pub parent: String,
}

impl CgroupTree {
    /// Fails with a clear message if a controller is not mounted.
    pub fn check(&self) -> Result<(), BackendError> {
        for c in CONTROLLERS {
            let p = self.root.join(c);
            if !p.join("cgroup.procs").exists() {
                return Err(BackendError::Environment(format!(
                    "cgroup v1 controller {c} is not mounted at {} (the process runner needs cpu, cpuacct, memory, pids and freezer)",
                    p.display()
                )));
            }
        }
        Ok(())
    }

    fn dir(&self, controller: &str, rel: &str) -> PathBuf {
        let base = self.root.join(controller).join(&self.parent);
        if rel.is_empty() {
            base
        } else {
            base.join(rel)
        }
    }

    /// Lease keys that have a group under the parent in any controller.
    pub fn lease_keys(&self) -> Vec<String> {
        let mut keys = std::collections::BTreeSet::new();
        for c in CONTROLLERS {
            if let Ok(rd) = fs::read_dir(self.dir(c, "")) {
                for e in rd.flatten() {
                    if e.path().is_dir() {
                        keys.insert(e.file_name().to_string_lossy().into_owned());
                    }
                }
            }
        }
        keys.into_iter().collect()
    }

    pub fn lease(&self, key: &str) -> LeaseCgroups {
        LeaseCgroups {
            tree: self.clone(),
            key: key.to_string(),
        }
    }
}

/// The groups of one lease.
#[derive(Clone, Debug)]
pub(crate) struct LeaseCgroups {
    tree: CgroupTree,
    key: String,
}

impl LeaseCgroups {
    fn rel(&self, service: Option<&str>) -> String {
        match service {
            Some(s) => format!("{}/{s}", self.key),
            None => self.key.clone(),
        }
    }

    fn file(&self, controller: &str, service: Option<&str>, name: &str) -> PathBuf {
        self.tree.dir(controller, &self.rel(service)).join(name)
    }

    /// Creates the service's groups (and the lease's) and applies its limits.
    pub fn create_service(
        &self,
        service: &str,
        res: &Resources,
        pids_max: u64,
    ) -> Result<(), BackendError> {
        for c in CONTROLLERS {
            let d = self.tree.dir(c, &self.rel(Some(service)));
            fs::create_dir_all(&d)
                .map_err(|e| BackendError::io(format!("creating cgroup {}", d.display()), e))?;
        }
        let quota = res.cpu_millicores.saturating_mul(CFS_PERIOD_US / 1000);
        let shares = (res.cpu_millicores.saturating_mul(1024) / 1000).max(2);
        let s = Some(service);
        write(&self.file("cpu", s, "cpu.cfs_period_us"), CFS_PERIOD_US)?;
        write(&self.file("cpu", s, "cpu.cfs_quota_us"), quota.max(1000))?;
        write(&self.file("cpu", s, "cpu.shares"), shares)?;
        write(
            &self.file("memory", s, "memory.limit_in_bytes"),
            res.memory_bytes,
        )?;
        // With swap, a hog would page out instead of being stopped at its limit.
        let memsw = self.file("memory", s, "memory.memsw.limit_in_bytes");
        if memsw.exists() {
            write(&memsw, res.memory_bytes)?;
        }
        write(&self.file("pids", s, "pids.max"), pids_max)?;
        Ok(())
    }

    /// `cgroup.procs` files a process writes its pid to, to join every group of a service.
    pub fn procs_files(&self, service: &str) -> Vec<PathBuf> {
        CONTROLLERS
            .iter()
            .map(|c| self.file(c, Some(service), "cgroup.procs"))
            .collect()
    }

    /// Pids in a service's groups (the pids controller sees every process of it).
    pub fn service_pids(&self, service: &str) -> Vec<i32> {
        read_pids(&self.file("pids", Some(service), "cgroup.procs"))
    }

    fn services(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Ok(rd) = fs::read_dir(self.tree.dir("pids", &self.key)) {
            for e in rd.flatten() {
                if e.path().is_dir() {
                    out.push(e.file_name().to_string_lossy().into_owned());
                }
            }
        }
        out
    }

    /// Every pid of the lease, in all services.
    pub fn all_pids(&self) -> Vec<i32> {
        let mut pids = read_pids(&self.file("pids", None, "cgroup.procs"));
        for s in self.services() {
            pids.extend(self.service_pids(&s));
        }
        pids
    }

    pub fn cpu_nanoseconds(&self) -> u64 {
        read_u64(&self.file("cpuacct", None, "cpuacct.usage")).unwrap_or(0)
    }

    pub fn memory_bytes(&self) -> u64 {
        read_u64(&self.file("memory", None, "memory.usage_in_bytes")).unwrap_or(0)
    }

    /// How many times the kernel OOM-killed a process of the service.
    pub fn oom_kills(&self, service: &str) -> u64 {
        fs::read_to_string(self.file("memory", Some(service), "memory.oom_control"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("oom_kill ").map(|v| v.trim().parse().ok()))
                    .flatten()
            })
            .unwrap_or(0)
    }

    /// `FROZEN`, `FREEZING` or `THAWED`.
    pub fn freezer_state(&self) -> String {
        fs::read_to_string(self.file("freezer", None, "freezer.state"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    }

    pub fn is_frozen(&self) -> bool {
        matches!(self.freezer_state().as_str(), "FROZEN" | "FREEZING")
    }

    /// Freezes (or thaws) every process of the lease and waits until the kernel is done.
    pub fn set_frozen(&self, frozen: bool) -> Result<(), BackendError> {
        let want = if frozen { "FROZEN" } else { "THAWED" };
        let path = self.file("freezer", None, "freezer.state");
        for _ in 0..200 {
            write(&path, want)?;
            if self.freezer_state() == want {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Err(BackendError::Environment(format!(
            "freezer of {} did not reach {want} within 2 s",
            self.key
        )))
    }

    /// Kills every process of the lease, then removes its groups.
    ///
    /// First only each namespace's pid 1: the kernel then kills the rest of the namespace
    /// and `unshare` and the launcher exit normally and are reaped by their parents (no
    /// zombies left behind on hosts whose init does not reap). Whatever is still alive
    /// after a second is SIGKILLed directly until nothing is left. Frozen processes only
    /// die once thawed, so the freezer is thawed after each kill.
    pub fn destroy(&self) -> Result<(), BackendError> {
        let freezer = self.file("freezer", None, "freezer.state");
        for p in self
            .all_pids()
            .into_iter()
            .filter(|p| is_namespace_init(*p))
        {
            // ESRCH (already gone) is what we want anyway.
            let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
        }
        if freezer.exists() {
            write(&freezer, "THAWED")?;
        }
        for _ in 0..100 {
            if self.all_pids().is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        for _ in 0..500 {
            let pids = self.all_pids();
            if pids.is_empty() {
                break;
            }
            for p in pids {
                // ESRCH (already gone) is what we want anyway.
                let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
            }
            if freezer.exists() {
                write(&freezer, "THAWED")?;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let left = self.all_pids();
        if !left.is_empty() {
            return Err(BackendError::Environment(format!(
                "processes {left:?} of lease {} survived SIGKILL for 5 s",
                self.key
            )));
        }
        for c in CONTROLLERS {
            let lease_dir = self.tree.dir(c, &self.key);
            if let Ok(rd) = fs::read_dir(&lease_dir) {
                for e in rd.flatten() {
                    if e.path().is_dir() {
                        rmdir(&e.path())?;
                    }
                }
            }
            rmdir(&lease_dir)?;
        }
        Ok(())
    }
}

/// True if `pid` is pid 1 of a namespace below ours (`NSpid: <host pid> 1`).
fn is_namespace_init(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                let ids: Vec<&str> = l.strip_prefix("NSpid:")?.split_whitespace().collect();
                Some(ids.len() > 1 && ids.last() == Some(&"1"))
            })
        })
        .unwrap_or(false)
}

fn rmdir(p: &Path) -> Result<(), BackendError> {
    // The last task may take a moment to leave the group after it exited.
    for _ in 0..100 {
        match fs::remove_dir(p) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(nix::libc::EBUSY) => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(e) => {
                return Err(BackendError::io(
                    format!("removing cgroup {}", p.display()),
                    e,
                ))
            }
        }
    }
    Err(BackendError::Environment(format!(
        "cgroup {} stays busy",
        p.display()
    )))
}

fn write(path: &Path, v: impl std::fmt::Display) -> Result<(), BackendError> {
    fs::write(path, v.to_string())
        .map_err(|e| BackendError::io(format!("writing {v} to {}", path.display()), e))
}

fn read_u64(path: &Path) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn read_pids(path: &Path) -> Vec<i32> {
    fs::read_to_string(path)
        .map(|s| s.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default()
}
