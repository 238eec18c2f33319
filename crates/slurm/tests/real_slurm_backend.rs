//! The `Backend` contract of `SlurmBackend` against the local SLURM cluster
//! (`bash scripts/slurm.sh start`). Fails, saying so, when the cluster is not running.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use ve_backend::{
    Backend, BackendError, LeaseId, PortSpec, Protocol, Resources, ServiceSpec, WorkloadSpec,
    WorkloadState,
};
use ve_slurm::{SlurmBackend, HOST_IMAGE};

fn backend(root: &std::path::Path) -> SlurmBackend {
    let b = SlurmBackend::new(root.join("state"), root.join("work"), None, 5).unwrap();
    if let Err(e) = b.inventory() {
        panic!("SLURM is not running here ({e}). Start the local cluster with `bash scripts/slurm.sh start` (scripts/setup.sh does this in CI).");
    }
    b
}

fn workload(command: &[&str]) -> WorkloadSpec {
    WorkloadSpec {
        services: vec![ServiceSpec {
            name: "job".into(),
            image: HOST_IMAGE.into(),
            command: command.iter().map(|s| s.to_string()).collect(),
            args: vec![],
            env: vec!["GREETING=hello 'tenant'".into()],
            resources: Resources {
                cpu_millicores: 500,
                memory_bytes: 128 << 20,
                storage_bytes: 0,
                gpu_count: 0,
            },
            ports: vec![],
        }],
    }
}

#[allow(clippy::disallowed_methods)] // test timing, not consensus
fn wait_for(b: &SlurmBackend, lease: &LeaseId, want: WorkloadState, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let status = b.status(lease).unwrap();
        if status.state == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "lease {lease} still {status:?}, want {want:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn lease_runs_as_a_slurm_job_with_logs_usage_and_idempotent_provision() {
    let root = tempfile::tempdir().unwrap();
    let b = backend(root.path());
    let lease = LeaseId::new("owner/1/1/1/provider").unwrap();
    let spec = workload(&[
        "bash",
        "-c",
        "echo \"$GREETING\"; i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; echo done",
    ]);

    assert!(b.provision(&lease, &spec).unwrap().created);
    assert!(
        !b.provision(&lease, &spec).unwrap().created,
        "same spec again: no second job"
    );
    let other = workload(&["true"]);
    assert!(matches!(
        b.provision(&lease, &other),
        Err(BackendError::SpecConflict(_))
    ));

    wait_for(
        &b,
        &lease,
        WorkloadState::Completed,
        Duration::from_secs(90),
    );
    assert_eq!(
        b.logs(&lease, "job", 10).unwrap(),
        vec!["hello 'tenant'".to_string(), "done".to_string()]
    );
    let usage = b.usage(&lease).unwrap();
    assert!(usage.cpu_nanoseconds > 0, "{usage:?}");
    assert!(usage.storage_bytes > 0, "output.log counts: {usage:?}");

    // A new instance over the same state adopts the job.
    let again =
        SlurmBackend::new(root.path().join("state"), root.path().join("work"), None, 5).unwrap();
    let listed = again.list().unwrap();
    assert_eq!(
        (listed.len(), listed[0].state.clone()),
        (1, WorkloadState::Completed)
    );

    assert!(b.teardown(&lease).unwrap().is_some());
    assert_eq!(b.teardown(&lease).unwrap(), None, "teardown is idempotent");
    assert!(matches!(b.status(&lease), Err(BackendError::NotFound(_))));
}

#[test]
fn suspend_and_resume_a_running_job() {
    let root = tempfile::tempdir().unwrap();
    let b = backend(root.path());
    let lease = LeaseId::new("owner/2/1/1/provider").unwrap();
    b.provision(&lease, &workload(&["sleep", "600"])).unwrap();
    wait_for(&b, &lease, WorkloadState::Running, Duration::from_secs(60));
    b.suspend(&lease).unwrap();
    b.suspend(&lease).unwrap();
    assert_eq!(b.status(&lease).unwrap().state, WorkloadState::Suspended);
    assert_eq!(
        b.inventory().unwrap().workloads,
        1,
        "a suspended job keeps its allocation"
    );
    b.resume(&lease).unwrap();
    b.resume(&lease).unwrap();
    assert_eq!(b.status(&lease).unwrap().state, WorkloadState::Running);
    b.teardown(&lease).unwrap();
}

#[test]
fn workloads_slurm_cannot_run_are_refused_before_submission() {
    let root = tempfile::tempdir().unwrap();
    let b = backend(root.path());
    let lease = LeaseId::new("owner/3/1/1/provider").unwrap();
    let mut container = workload(&["true"]);
    container.services[0].image = "busybox".into();
    let mut server = workload(&["true"]);
    server.services[0].ports = vec![PortSpec {
        port: 80,
        protocol: Protocol::Tcp,
        global: true,
    }];
    let mut two = workload(&["true"]);
    two.services.push(ServiceSpec {
        name: "second".into(),
        ..two.services[0].clone()
    });
    for spec in [container, server, two] {
        assert!(
            matches!(
                b.provision(&lease, &spec),
                Err(BackendError::InvalidSpec(_))
            ),
            "{spec:?}"
        );
    }
    assert!(b.list().unwrap().is_empty());
}
