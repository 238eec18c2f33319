//! Against the real local SLURM cluster (`bash scripts/slurm.sh start`; CI runs it from
//! scripts/setup.sh). Without a running controller these tests fail and say how to start it.
//! The time-limit test needs ~60-95 s (1-minute limit + slurmctld's 30 s check period); the
//! others run beside it, so the file takes about as long as that one test.
// Test helpers outside #[test] fns fail loudly by design.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use tokio::time::{sleep, Instant};
use ve_slurm::{JobSpec, JobState, JobStatus, Slurm, SlurmError};

async fn cluster() -> Slurm {
    let slurm = Slurm::new().with_command_timeout(Duration::from_secs(30));
    if let Err(e) = slurm.ping().await {
        panic!("SLURM is not running here ({e}). Start the local cluster with `bash scripts/slurm.sh start` (scripts/setup.sh does this in CI).");
    }
    slurm
}

fn spec(dir: &Path, name: &str, script: &str) -> JobSpec {
    let mut spec = JobSpec::new(name, dir, 2, script);
    spec.memory_mb = Some(256);
    spec.stdout_path = dir.join("out-%j.txt");
    spec
}

/// Polls until the job ended and accounting has its exit code.
async fn wait_until_ended(slurm: &Slurm, id: u64, within: Duration) -> JobStatus {
    let deadline = Instant::now() + within;
    loop {
        let status = slurm.status(id).await.unwrap();
        if status.state.is_terminal() && status.exit_code.is_some() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "job {id} still {status:?} after {within:?}"
        );
        sleep(Duration::from_millis(500)).await;
    }
}

async fn wait_until_running(slurm: &Slurm, id: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while slurm.status(id).await.unwrap().state != JobState::Running {
        assert!(
            Instant::now() < deadline,
            "job {id} did not start within 60 s"
        );
        sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn submitted_job_runs_and_writes_its_output() {
    let slurm = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    let mut job = spec(
        dir.path(),
        "ve-test-output",
        // The body's #SBATCH line must not change the requested 2-minute limit.
        "#SBATCH --time=9999\necho \"greeting: $GREETING\"\necho \"job $SLURM_JOB_ID in $(pwd)\"\n",
    );
    job.environment
        .insert("GREETING".into(), "it's $HOME `x` \"quoted\"".into());
    let id = slurm.submit(&job).await.unwrap();
    let status = wait_until_ended(&slurm, id, Duration::from_secs(60)).await;
    assert_eq!(
        (status.state, status.exit_code),
        (JobState::Completed, Some(0)),
        "{status:?}"
    );

    let out = std::fs::read_to_string(dir.path().join(format!("out-{id}.txt"))).unwrap();
    assert_eq!(
        out,
        format!(
            "greeting: it's $HOME `x` \"quoted\"\njob {id} in {}\n",
            dir.path().display()
        )
    );
    let usage = slurm.usage(id).await.unwrap();
    assert!(usage.is_final, "{usage:?}");
    assert_eq!(usage.time_limit_minutes, Some(2), "{usage:?}");
}

#[tokio::test]
async fn job_exceeding_its_time_limit_ends_as_timeout() {
    let slurm = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    let mut job = spec(dir.path(), "ve-test-timeout", "sleep 600\n");
    job.time_limit_minutes = 1;
    let id = slurm.submit(&job).await.unwrap();
    // 60 s limit + up to 30 s until slurmctld's periodic limit check + KillWait.
    let status = wait_until_ended(&slurm, id, Duration::from_secs(150)).await;
    assert_eq!(status.state, JobState::Timeout, "{status:?}");
    // The batch step's signal (15, SIGTERM) is usually in the record; slurmdbd sometimes
    // stores the TIMEOUT with exit code 0:0 first. Never another signal.
    assert!(
        matches!(status.signal, None | Some(15)),
        "ended by SIGTERM: {status:?}"
    );
    let usage = slurm.usage(id).await.unwrap();
    assert!((60..120).contains(&usage.elapsed_seconds), "{usage:?}");
}

#[tokio::test]
async fn cancelling_a_running_job_ends_it_cancelled() {
    let slurm = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    let id = slurm
        .submit(&spec(dir.path(), "ve-test-cancel", "sleep 600\n"))
        .await
        .unwrap();
    wait_until_running(&slurm, id).await;
    slurm.cancel(id).await.unwrap();
    let status = wait_until_ended(&slurm, id, Duration::from_secs(30)).await;
    assert_eq!(status.state, JobState::Cancelled, "{status:?}");
    // Cancelling again is harmless: the job already ended.
    slurm.cancel(id).await.unwrap();
}

#[tokio::test]
async fn completed_job_usage_has_cpu_time_and_allocation() {
    let slurm = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    // A fixed amount of work (~1.3 s of CPU here), so the check holds however loaded the host is.
    let job = spec(
        dir.path(),
        "ve-test-usage",
        "i=0; while [ $i -lt 500000 ]; do i=$((i+1)); done\n",
    );
    let id = slurm.submit(&job).await.unwrap();
    wait_until_ended(&slurm, id, Duration::from_secs(60)).await;
    let usage = slurm.usage(id).await.unwrap();
    assert_eq!(
        (usage.state, usage.is_final),
        (JobState::Completed, true),
        "{usage:?}"
    );
    assert!(
        usage.cpu_time_ms >= 500,
        "the loop's CPU time is accounted: {usage:?}"
    );
    assert!(usage.elapsed_seconds >= 1, "{usage:?}");
    assert_eq!(
        (
            usage.allocated.cpus,
            usage.allocated.nodes,
            usage.allocated.gpus
        ),
        (1, 1, 0)
    );
    assert_eq!(usage.allocated.memory_bytes, 256 << 20);
}

#[tokio::test]
async fn failed_job_reports_its_exit_code() {
    let slurm = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    let id = slurm
        .submit(&spec(dir.path(), "ve-test-fail", "echo bad >&2\nexit 7\n"))
        .await
        .unwrap();
    let status = wait_until_ended(&slurm, id, Duration::from_secs(60)).await;
    assert_eq!(
        (status.state, status.exit_code),
        (JobState::Failed, Some(7)),
        "{status:?}"
    );
}

#[tokio::test]
async fn inventory_lists_the_local_partition_and_node() {
    let slurm = cluster().await;
    let inv = slurm.inventory().await.unwrap();
    assert!(
        inv.partitions.iter().any(|p| p.is_default && p.up),
        "{inv:?}"
    );
    let node = inv.nodes.first().unwrap();
    assert!(node.is_usable(), "{node:?}");
    assert!(node.cpus >= 1 && node.memory_mb > 0, "{node:?}");
    assert_eq!(
        inv.total_cpus(),
        u64::from(node.cpus) * inv.nodes.len() as u64
    );
}

#[tokio::test]
async fn unknown_job_is_not_found() {
    let slurm = cluster().await;
    let missing = 4_000_000_000;
    assert!(
        matches!(slurm.status(missing).await, Err(SlurmError::JobNotFound(id)) if id == missing)
    );
    assert!(matches!(
        slurm.cancel(missing).await,
        Err(SlurmError::JobNotFound(_))
    ));
    assert!(matches!(
        slurm.usage(missing).await,
        Err(SlurmError::JobNotFound(_))
    ));
}

#[tokio::test]
async fn gpu_request_on_a_gpu_less_cluster_fails_with_sbatch_stderr() {
    let slurm = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    let mut job = spec(dir.path(), "ve-test-gpu", "nvidia-smi\n");
    job.gpus = Some(ve_slurm::GpuRequest {
        count: 1,
        gpu_type: None,
    });
    match slurm.submit(&job).await {
        Err(e @ SlurmError::CommandFailed { .. }) => {
            assert!(
                e.to_string()
                    .contains("Invalid generic resource (gres) specification"),
                "{e}"
            );
            assert_eq!(e.code(), "command_failed");
        }
        other => panic!("expected sbatch to reject the GPU request, got {other:?}"),
    }
}

#[tokio::test]
async fn a_submitted_job_is_found_by_its_unique_name() {
    let slurm = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    let name = format!("ve-test-named-{}", std::process::id());
    assert!(slurm.jobs_named(&name).await.unwrap().is_empty());
    let id = slurm
        .submit(&spec(dir.path(), &name, "sleep 600\n"))
        .await
        .unwrap();
    assert_eq!(slurm.jobs_named(&name).await.unwrap(), vec![id]);
    slurm.cancel(id).await.unwrap();
    wait_until_ended(&slurm, id, Duration::from_secs(30)).await;
    // Still found once it ended (squeue for a while, then accounting).
    assert_eq!(slurm.jobs_named(&name).await.unwrap(), vec![id]);
    assert!(matches!(
        slurm.jobs_named("bad name").await,
        Err(SlurmError::InvalidSpec { .. })
    ));
}
