//! The process runner against real processes, namespaces and cgroups. Needs root (it
//! creates cgroups and namespaces): run as anyone else these tests fail, saying so.
//! Each test uses its own cgroup parent, state dir and port range, so they run in parallel.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers fail loudly
#![allow(clippy::disallowed_methods)] // Instant::now: waiting for real processes

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tempfile::TempDir;
use ve_backend::process::{ProcessRunner, RunnerConfig};
use ve_backend::{
    Backend, BackendError, FailureReason, LeaseId, PortSpec, Protocol, Resources, ServiceSpec,
    ServiceState, WorkloadSpec, WorkloadState,
};

const MIB: u64 = 1 << 20;
const CONTROLLERS: [&str; 5] = ["cpu", "cpuacct", "memory", "pids", "freezer"];

fn images_dir() -> PathBuf {
    let dir = std::env::var_os("VE_IMAGES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/lib/virtengine/images"));
    if !dir.join("busybox/.ve-image").exists() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/build-images.sh");
        let ok = Command::new("bash")
            .arg(script)
            .arg(&dir)
            .status()
            .unwrap()
            .success();
        assert!(
            ok,
            "scripts/build-images.sh failed: the tests need the busybox image"
        );
    }
    dir
}

/// A runner over a fresh state dir and its own cgroup parent; removes every workload and
/// its cgroup parent when dropped, even if the test failed.
struct Fixture {
    state: TempDir,
    cfg: RunnerConfig,
    runner: Option<ProcessRunner>,
}

impl Fixture {
    /// `slot` picks a port range of its own (ports 32000 + 20 * slot ...).
    fn new(tag: &str, slot: u16) -> Self {
        assert!(
            nix::unistd::geteuid().is_root(),
            "the process runner tests start sandboxed processes and must run as root (cgroups, namespaces)"
        );
        let state = tempfile::tempdir().unwrap();
        let mut cfg = RunnerConfig::new(state.path());
        cfg.images_dir = images_dir();
        cfg.cgroup_parent = format!("ve-test-{}-{tag}", std::process::id());
        let low = 32000 + 20 * slot;
        cfg.port_range = low..=low + 19;
        cfg.capacity = Some(Resources {
            cpu_millicores: 4000,
            memory_bytes: 1024 * MIB,
            storage_bytes: 1024 * MIB,
            gpu_count: 0,
        });
        let runner = Some(ProcessRunner::open(cfg.clone()).unwrap());
        Self { state, cfg, runner }
    }

    fn runner(&self) -> &ProcessRunner {
        self.runner.as_ref().unwrap()
    }

    /// Drops the runner and opens a new one over the same state (a daemon restart).
    fn restart(&mut self) {
        self.runner = None;
        self.runner = Some(ProcessRunner::open(self.cfg.clone()).unwrap());
    }

    fn cgroup_dir(&self, controller: &str) -> PathBuf {
        self.cfg
            .cgroup_root
            .join(controller)
            .join(&self.cfg.cgroup_parent)
    }

    fn lease_cgroups(&self, lease: &LeaseId) -> Vec<PathBuf> {
        CONTROLLERS
            .iter()
            .map(|c| self.cgroup_dir(c).join(lease.key()))
            .collect()
    }

    fn lease_dir(&self, lease: &LeaseId) -> PathBuf {
        self.state.path().join("leases").join(lease.key())
    }

    /// Every pid in the lease's cgroups.
    fn pids(&self, lease: &LeaseId) -> Vec<i32> {
        let mut pids = Vec::new();
        let base = self.cgroup_dir("pids").join(lease.key());
        for dir in std::fs::read_dir(&base)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
        {
            let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap();
            pids.extend(procs.lines().map(|l| l.parse::<i32>().unwrap()));
        }
        pids
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(r) = self.runner.take() {
            for w in r.list().unwrap_or_default() {
                let _ = r.teardown(&w.lease);
            }
        }
        for c in CONTROLLERS {
            let _ = std::fs::remove_dir(self.cgroup_dir(c));
        }
    }
}

fn lease(n: u32) -> LeaseId {
    LeaseId::new(format!("ve1tenant/{n}/1/1/ve1provider")).unwrap()
}

fn service(name: &str, command: &[&str], memory: u64) -> ServiceSpec {
    ServiceSpec {
        name: name.into(),
        image: "busybox:1.35".into(),
        command: command.iter().map(|s| s.to_string()).collect(),
        args: vec![],
        env: vec!["GREETING=hello".into()],
        resources: Resources {
            cpu_millicores: 1000,
            memory_bytes: memory,
            storage_bytes: 64 * MIB,
            gpu_count: 0,
        },
        ports: vec![],
    }
}

/// The image's default command: busybox httpd serving /www on ${PORT}.
fn web() -> WorkloadSpec {
    let mut s = service("web", &[], 64 * MIB);
    s.ports = vec![PortSpec {
        port: 80,
        protocol: Protocol::Tcp,
        global: true,
    }];
    WorkloadSpec { services: vec![s] }
}

fn http_get(addr: &str, timeout: Duration) -> std::io::Result<String> {
    let mut s = TcpStream::connect_timeout(&addr.parse().unwrap(), timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    s.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

fn wait_until<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_served(addr: &str) -> String {
    wait_until("the page to be served", Duration::from_secs(10), || {
        http_get(addr, Duration::from_secs(1))
            .ok()
            .filter(|b| b.contains("200 OK"))
    })
}

/// Pid 1 of each sandbox of the lease (stable, unlike httpd's per-request children).
fn sandbox_inits(fx: &Fixture, lease: &LeaseId) -> Vec<i32> {
    fx.pids(lease)
        .into_iter()
        .filter(|p| proc_field(*p, "NSpid:").split_whitespace().last() == Some("1"))
        .collect()
}

fn proc_field(pid: i32, field: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field).map(|v| v.trim().to_string()))
        .unwrap_or_default()
}

#[test]
fn busybox_httpd_serves_its_page_unprivileged_in_its_own_namespaces() {
    let fx = Fixture::new("serve", 0);
    let l = lease(1);
    let p = fx.runner().provision(&l, &web()).unwrap();
    assert!(p.created);
    assert_eq!(p.endpoints.len(), 1);
    let ep = &p.endpoints[0];
    assert_eq!((ep.service.as_str(), ep.port), ("web", 80));
    assert!(fx.cfg.port_range.contains(&ep.host_port));

    let page = wait_served(&ep.address());
    assert!(page.contains("Served by a VirtEngine lease"), "{page}");

    let st = fx.runner().status(&l).unwrap();
    assert_eq!(st.state, WorkloadState::Running);
    assert_eq!(st.services[0].state, ServiceState::Running);

    // The workload is pid 1 of its own pid namespace, runs as nobody, and has its own
    // mount, uts and ipc namespaces.
    let init = *sandbox_inits(&fx, &l)
        .first()
        .expect("a namespace init among the lease's processes");
    assert!(
        proc_field(init, "Uid:").starts_with("65534"),
        "uid {}",
        proc_field(init, "Uid:")
    );
    for ns in ["pid", "mnt", "uts", "ipc"] {
        let theirs = std::fs::read_link(format!("/proc/{init}/ns/{ns}")).unwrap();
        let ours = std::fs::read_link(format!("/proc/self/ns/{ns}")).unwrap();
        assert_ne!(theirs, ours, "{ns} namespace is shared with the host");
    }
    // It cannot regain privileges: no_new_privs, no capabilities, and a bounding set cut
    // to setgid, setuid and sys_chroot (what `chroot --userspec` needed).
    assert_eq!(proc_field(init, "NoNewPrivs:"), "1");
    assert_eq!(proc_field(init, "CapEff:"), "0000000000000000");
    assert_eq!(proc_field(init, "CapPrm:"), "0000000000000000");
    assert_eq!(proc_field(init, "CapBnd:"), "00000000000400c0");
    // Its environment is the manifest's plus the port, nothing from the host.
    let env = std::fs::read(format!("/proc/{init}/environ")).unwrap();
    let env = String::from_utf8_lossy(&env);
    assert!(env.contains("GREETING=hello") && env.contains(&format!("PORT={}", ep.host_port)));
    assert!(!env.contains("CARGO"), "host environment leaked: {env}");

    // httpd -v logs each request to stderr, which lands in the service log.
    let logs = wait_until("the request in the log", Duration::from_secs(5), || {
        let l = fx.runner().logs(&l, "web", 50).unwrap();
        (!l.is_empty()).then_some(l)
    });
    assert!(logs.iter().any(|l| l.contains("127.0.0.1")), "{logs:?}");
    assert!(matches!(
        fx.runner().logs(&l, "db", 5),
        Err(BackendError::NotFound(_))
    ));
}

#[test]
fn suspended_workload_stops_serving_and_serves_again_after_resume() {
    let fx = Fixture::new("suspend", 1);
    let l = lease(2);
    let addr = fx.runner().provision(&l, &web()).unwrap().endpoints[0].address();
    wait_served(&addr);

    fx.runner().suspend(&l).unwrap();
    fx.runner().suspend(&l).unwrap(); // idempotent
    assert_eq!(
        fx.runner().status(&l).unwrap().state,
        WorkloadState::Suspended
    );
    let frozen = http_get(&addr, Duration::from_millis(800));
    assert!(frozen.is_err(), "a frozen httpd answered: {frozen:?}");
    // Suspended workloads keep their reservation.
    assert_eq!(fx.runner().inventory().unwrap().workloads, 1);

    fx.runner().resume(&l).unwrap();
    assert_eq!(
        fx.runner().status(&l).unwrap().state,
        WorkloadState::Running
    );
    assert!(wait_served(&addr).contains("VirtEngine"));
}

#[test]
fn cpu_burner_shows_up_as_cpu_seconds_in_usage() {
    let fx = Fixture::new("cpu", 2);
    let l = lease(3);
    let burn = service(
        "burn",
        &["sh", "-c", "end=$(( $(date +%s) + 2 )); while [ $(date +%s) -le $end ]; do :; done; exec sleep 600"],
        32 * MIB,
    );
    fx.runner()
        .provision(
            &l,
            &WorkloadSpec {
                services: vec![burn],
            },
        )
        .unwrap();
    let before = fx.runner().usage(&l).unwrap();
    let usage = wait_until("a CPU-second of usage", Duration::from_secs(15), || {
        fx.runner().usage(&l).ok().filter(|u| u.cpu_seconds() >= 1)
    });
    assert!(usage.cpu_nanoseconds > before.cpu_nanoseconds);
    assert!(usage.memory_byte_seconds > 0, "{usage:?}");
    assert!(
        usage.storage_bytes > MIB,
        "the private root is on disk: {usage:?}"
    );
    assert_eq!(usage.gpu_seconds, None);
    // The CFS quota of 1000 millicores holds the burner to about one core.
    assert!(
        usage.cpu_nanoseconds <= (usage.wall_seconds + 2) * 1_000_000_000,
        "{usage:?}"
    );
}

#[test]
fn memory_hog_is_oom_killed_and_status_says_so() {
    let fx = Fixture::new("oom", 3);
    let l = lease(4);
    let hog = service(
        "hog",
        &["sh", "-c", "x=aaaaaaaa; while true; do x=$x$x; done"],
        16 * MIB,
    );
    fx.runner()
        .provision(
            &l,
            &WorkloadSpec {
                services: vec![hog],
            },
        )
        .unwrap();
    let st = wait_until("the hog to be OOM-killed", Duration::from_secs(20), || {
        fx.runner()
            .status(&l)
            .ok()
            .filter(|s| s.state == WorkloadState::Failed)
    });
    assert_eq!(
        st.services[0].state,
        ServiceState::Failed(FailureReason::OutOfMemory)
    );
    // It stays listed (until the daemon tears it down), and tears down cleanly.
    assert_eq!(fx.runner().list().unwrap().len(), 1);
    assert!(fx.runner().teardown(&l).unwrap().is_some());
}

#[test]
fn provisioning_the_same_lease_twice_yields_one_workload() {
    let fx = Fixture::new("idem", 4);
    let l = lease(5);
    let runner = fx.runner();
    let results: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..3)
            .map(|_| s.spawn(|| runner.provision(&l, &web()).unwrap()))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        results.iter().filter(|p| p.created).count(),
        1,
        "{results:?}"
    );
    assert!(results.iter().all(|p| p.endpoints == results[0].endpoints));
    let again = runner.provision(&l, &web()).unwrap();
    assert!(!again.created);
    assert_eq!(again.endpoints, results[0].endpoints);

    assert_eq!(runner.list().unwrap().len(), 1);
    let inv = runner.inventory().unwrap();
    assert_eq!((inv.workloads, inv.allocated.memory_bytes), (1, 64 * MIB));
    wait_served(&again.endpoints[0].address()); // the sandbox is up
    assert_eq!(sandbox_inits(&fx, &l).len(), 1, "exactly one sandbox runs");

    let mut other = web();
    other.services[0].resources.memory_bytes = 128 * MIB;
    assert!(matches!(
        runner.provision(&l, &other),
        Err(BackendError::SpecConflict(_))
    ));
}

#[test]
fn restarted_runner_adopts_the_running_workload_and_cleans_unrecorded_cgroups() {
    let mut fx = Fixture::new("restart", 5);
    let l = lease(6);
    let p = fx.runner().provision(&l, &web()).unwrap();
    let addr = p.endpoints[0].address();
    wait_served(&addr);
    let inits = sandbox_inits(&fx, &l);
    assert_eq!(inits.len(), 1);

    // A stray cgroup with a process in it and no record (e.g. a crash mid-provision).
    let stray_key = "00000000deadbeef";
    for c in CONTROLLERS {
        std::fs::create_dir_all(fx.cgroup_dir(c).join(stray_key)).unwrap();
    }
    let mut stray = Command::new("sleep").arg("600").spawn().unwrap();
    std::fs::write(
        fx.cgroup_dir("pids").join(stray_key).join("cgroup.procs"),
        stray.id().to_string(),
    )
    .unwrap();

    // A lease dir without a record (a crash before the record was written).
    let half = fx.state.path().join("leases/0123456789abcdef");
    std::fs::create_dir_all(half.join("web/rootfs")).unwrap();

    fx.restart();
    let report = fx.runner().reconcile_report().clone();
    assert_eq!(report.adopted, vec![l.clone()]);
    assert_eq!(
        report.cleaned,
        vec!["0123456789abcdef".to_string(), stray_key.to_string()]
    );
    assert!(!half.exists());
    assert!(
        stray.wait().unwrap().code().is_none(),
        "the stray process was killed"
    );
    assert!(!fx.cgroup_dir("pids").join(stray_key).exists());

    let listed = fx.runner().list().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].lease.clone(), listed[0].state.clone()),
        (l.clone(), WorkloadState::Running)
    );
    assert_eq!(
        sandbox_inits(&fx, &l),
        inits,
        "the same sandbox, not a new copy"
    );
    assert!(wait_served(&addr).contains("VirtEngine"));
    let again = fx.runner().provision(&l, &web()).unwrap();
    assert!(!again.created);
    assert_eq!(again.endpoints, p.endpoints);
}

#[test]
fn teardown_leaves_no_process_cgroup_or_directory() {
    let fx = Fixture::new("teardown", 6);
    let runner = Arc::new(
        ProcessRunner::open({
            // The fixture's runner holds the state lock: a second one must be refused.
            let err = ProcessRunner::open(fx.cfg.clone()).unwrap_err();
            assert!(matches!(err, BackendError::Environment(_)), "{err}");
            let mut cfg = fx.cfg.clone();
            cfg.state_dir = fx.state.path().join("second");
            cfg
        })
        .unwrap(),
    );
    let _sampler = runner.spawn_sampler(Duration::from_millis(100));
    let l = lease(7);
    let two = WorkloadSpec {
        services: vec![
            service(
                "a",
                &["sh", "-c", "sleep 600 & sleep 600 & exec sleep 600"],
                16 * MIB,
            ),
            service("b", &["sleep", "600"], 16 * MIB),
        ],
    };
    runner.provision(&l, &two).unwrap();
    // Launcher, unshare and workload of each service, plus a's two background sleeps.
    let pids = wait_until("every process to start", Duration::from_secs(10), || {
        let p = fx.pids(&l);
        (p.len() >= 8).then_some(p)
    });
    runner.suspend(&l).unwrap(); // frozen processes must die too

    let usage = runner.teardown(&l).unwrap().expect("final usage");
    assert!(usage.wall_seconds < 60);
    assert_eq!(runner.teardown(&l).unwrap(), None, "teardown is idempotent");
    assert!(matches!(runner.status(&l), Err(BackendError::NotFound(_))));

    wait_until(
        "every process to be gone (not even a zombie)",
        Duration::from_secs(5),
        || {
            pids.iter()
                .all(|p| !Path::new(&format!("/proc/{p}")).exists())
                .then_some(())
        },
    );
    for dir in fx.lease_cgroups(&l) {
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
    assert!(!fx.state.path().join("second/leases").join(l.key()).exists());
    assert!(!fx.lease_dir(&l).exists());
    assert_eq!(runner.inventory().unwrap().workloads, 0);
}

#[test]
fn unknown_image_or_too_big_a_workload_is_refused_and_leaves_nothing() {
    let fx = Fixture::new("refuse", 7);
    let l = lease(8);
    let mut spec = web();
    spec.services[0].image = "registry.example/nginx:1.25".into();
    let err = fx.runner().provision(&l, &spec).unwrap_err();
    assert!(matches!(err, BackendError::ImageNotFound { .. }), "{err}");

    let mut spec = web();
    spec.services[0].resources.memory_bytes = 2048 * MIB; // capacity is 1024 MiB
    let err = fx.runner().provision(&l, &spec).unwrap_err();
    assert!(
        matches!(err, BackendError::InsufficientCapacity(_)),
        "{err}"
    );
    assert!(!err.is_transient());

    let mut spec = web();
    spec.services[0].command = vec!["/no/such/binary".into()];
    fx.runner().provision(&l, &spec).unwrap();
    let st = wait_until(
        "the missing binary to fail",
        Duration::from_secs(10),
        || {
            fx.runner()
                .status(&l)
                .ok()
                .filter(|s| s.state == WorkloadState::Failed)
        },
    );
    assert_eq!(
        st.services[0].state,
        ServiceState::Failed(FailureReason::ExitCode(127))
    );
    fx.runner().teardown(&l).unwrap();

    assert!(fx.runner().list().unwrap().is_empty());
    assert!(!fx.lease_dir(&l).exists());
    for dir in fx.lease_cgroups(&l) {
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
}

#[test]
fn restart_cleans_up_a_workload_whose_provisioning_was_interrupted() {
    let mut fx = Fixture::new("interrupted", 8);
    let l = lease(9);
    let addr = fx.runner().provision(&l, &web()).unwrap().endpoints[0].address();
    wait_served(&addr);
    let pids = fx.pids(&l);
    // What a crash between starting the processes and marking the record ready leaves.
    let record = fx.lease_dir(&l).join("record.json");
    let text = std::fs::read_to_string(&record).unwrap();
    assert!(text.contains("\"ready\""));
    std::fs::write(&record, text.replace("\"ready\"", "\"launching\"")).unwrap();

    fx.restart();
    assert_eq!(fx.runner().reconcile_report().cleaned, vec![l.key()]);
    assert!(fx.runner().reconcile_report().adopted.is_empty());
    wait_until(
        "the half-provisioned processes to be gone",
        Duration::from_secs(5),
        || {
            pids.iter()
                .all(|p| !Path::new(&format!("/proc/{p}")).exists())
                .then_some(())
        },
    );
    assert!(!fx.lease_dir(&l).exists());
    assert!(http_get(&addr, Duration::from_millis(500)).is_err());
    // The daemon's next provision creates it afresh, once.
    assert!(fx.runner().provision(&l, &web()).unwrap().created);
    assert_eq!(fx.runner().list().unwrap().len(), 1);
}
