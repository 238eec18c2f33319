//! HPC end to end (issue #10): a real localnet (CometBFT + the app), the provider daemon as
//! its own process with an `[hpc]` section, and the real local SLURM cluster
//! (`bash scripts/slurm.sh start`). The provider's cluster and offering come from genesis
//! (registering a cluster by tx needs VEID tier standard and an MFA session); the cluster
//! is offline until the daemon's first heartbeat.
//!
//! 1. `virtengine hpc run` of a small script: the daemon submits it with sbatch, `sacct`
//!    shows it COMPLETED, the chain has its status and usage (equal to SLURM's accounting),
//!    the bill is the billing formula applied to that usage, the tenant got the rest of the
//!    escrow back, and after the (genesis-short) settlement delay the bill is split to the
//!    platform, the node operator (the node pool) and the provider.
//! 2. A job exceeding its 1-minute time limit ends as TIMEOUT (`hpc run` fails saying so),
//!    billed for the request over the time it ran, and no longer runs in SLURM.
//! 3. A job cancelled by the tenant (`tx hpc cancel-job`) is scancelled in SLURM — after a
//!    SIGKILL and restart of the daemon, which finds its job by the stored mapping and
//!    submits nothing twice.
//!
//! Skips (loudly) only when `sbatch` is not installed; a SLURM that is installed but not
//! running is a failure.

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use ve_e2e::provider_daemon::{free_port, metric, spawn_ready, write_config, Daemon, FEES};
use ve_e2e::provider_net::{hpc_genesis, ProviderNet as Net};
use ve_e2e::{str_of, wait_until, CHAIN_ID};

// Offering prices (uve): per node-hour, core-hour, memory GB-hour; minimum charge.
const NODE_HOUR: u128 = 3_600_000;
const CORE_HOUR: u128 = 1_800_000;
const MEM_GB_HOUR: u128 = 360_000;
const MIN_CHARGE: u128 = 1_000;
const FEE: u128 = 25_000;
const SETTLEMENT_DELAY_S: u64 = 20;

fn sh(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"))
}

fn slurm_installed() -> bool {
    Command::new("sbatch")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The default partition (`sinfo` marks it with `*`); panics with a fix if SLURM is down.
fn slurm_partition() -> String {
    let ping = sh("scontrol", &["ping"]);
    let text = String::from_utf8_lossy(&ping.stdout);
    assert!(
        text.contains("is UP"),
        "SLURM is installed but its controller is not up ({text}): start it with `bash scripts/slurm.sh start`"
    );
    let out = sh("sinfo", &["--noheader", "--format=%P"]);
    let parts = String::from_utf8_lossy(&out.stdout).to_string();
    let p = parts
        .lines()
        .find(|l| l.ends_with('*'))
        .or(parts.lines().next())
        .expect("sinfo lists no partition");
    p.trim_end_matches('*').to_string()
}

/// `sacct` of one SLURM job's allocation: (state, elapsed seconds, AllocTRES).
fn sacct(id: &str) -> Option<(String, u64, String)> {
    let out = sh(
        "sacct",
        &[
            "--noheader",
            "--parsable2",
            "--allocations",
            &format!("--jobs={id}"),
            "--format=State,ElapsedRaw,AllocTRES",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let line = text.lines().next()?;
    let f: Vec<&str> = line.split('|').collect();
    Some((f[0].to_string(), f[1].parse().ok()?, f[2].to_string()))
}

/// SLURM jobs whose working directory is under `work_dir` and whose name ends with the
/// chain job id (the daemon names jobs `ve-hpc-<instance>-<job id>`).
fn slurm_jobs_for(work_dir: &Path, job_id: &str) -> Vec<String> {
    let out = sh(
        "sacct",
        &[
            "--noheader",
            "--parsable2",
            "--allocations",
            "--starttime=now-1hours",
            "--format=JobID,JobName,WorkDir",
        ],
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            (f.len() == 3
                && f[1].ends_with(&format!("-{job_id}"))
                && f[2].starts_with(work_dir.to_str().unwrap()))
            .then(|| f[0].to_string())
        })
        .collect()
}

fn tres(alloc: &str, key: &str) -> Option<String> {
    alloc
        .split(',')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .map(str::to_string)
}

fn num(v: &Value) -> u128 {
    str_of(v)
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {v}"))
}

/// The billing formula (docs/hpc.md), written out independently of the chain's code.
fn expected_bill(usage: &Value, max_price: u128) -> u128 {
    let unit = num(&usage["node_seconds"]) * NODE_HOUR
        + num(&usage["cpu_core_seconds"]) * CORE_HOUR
        + num(&usage["memory_gb_seconds"]) * MEM_GB_HOUR;
    (unit / 3600).max(MIN_CHARGE).min(max_price)
}

/// The `job_id` of the `hpc_job_submitted` event in a tx's JSON output.
fn submitted_job_id(tx: &Value) -> String {
    tx["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"] == "hpc_job_submitted" || e["kind"] == "hpc_job_submitted")
        .flat_map(|e| e["attributes"].as_array().cloned().unwrap_or_default())
        .find(|a| a["key"] == "job_id")
        .map(|a| str_of(&a["value"]))
        .unwrap_or_else(|| panic!("no hpc_job_submitted event in {tx}"))
}

struct Hpc {
    net: Net,
    work_dir: PathBuf,
    config: PathBuf,
    log: PathBuf,
    metrics_port: u16,
    operator: String,
}

/// A failing run must not leave jobs in the shared SLURM cluster: cancel whatever still
/// runs from this test's work directory (the daemon is gone by then).
impl Drop for Hpc {
    fn drop(&mut self) {
        let out = sh("squeue", &["--noheader", "--format=%i|%Z"]);
        let dir = self.work_dir.to_str().unwrap_or("/nonexistent").to_string();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some((id, workdir)) = line.split_once('|') {
                if workdir.starts_with(&dir) {
                    let _ = sh("scancel", &[id]);
                }
            }
        }
    }
}

impl Hpc {
    fn common<'a>(&'a self, args: Vec<&'a str>) -> Vec<&'a str> {
        self.net.client_args(args)
    }

    fn tx_args<'a>(&'a self, mut args: Vec<&'a str>) -> Vec<&'a str> {
        args.extend_from_slice(&["--fees", FEES, "--yes", "--chain-id", CHAIN_ID]);
        self.common(args)
    }

    fn query(&self, args: &[&str]) -> Value {
        self.net.ok(&self.common(args.to_vec()))
    }

    fn job(&self, id: &str) -> Value {
        self.query(&["query", "hpc", "job", id])
    }

    fn balance(&self, who: &str) -> u128 {
        let v = self.query(&["query", "bank", "balances", who]);
        v["balances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["denom"] == "uve")
            .map_or(0, |c| num(&c["amount"]))
    }

    fn daemon_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn spawn_daemon(&self) -> Daemon {
        spawn_ready(&self.net, &self.config, &self.log, self.metrics_port)
    }

    /// `virtengine hpc run SCRIPT` as a child process (JSON on stdout, progress on stderr).
    fn hpc_run(&self, name: &str, script: &str, time: &str) -> Child {
        let path = self.net.dir.path().join(name);
        std::fs::write(&path, script).unwrap();
        let args = self.tx_args(vec![
            "hpc",
            "run",
            path.to_str().unwrap(),
            "--offering",
            "1",
            "--nodes",
            "1",
            "--cores-per-node",
            "1",
            "--memory-gb-per-node",
            "1",
            "--time",
            time,
            "--poll-ms",
            "500",
            "--gas",
            "1000000",
            "--from",
            "alice",
        ]);
        Command::new(&self.net.bin)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Waits (bounded) for `child` and returns (success, stdout JSON, stderr).
    fn finish(&self, child: Child, within: Duration) -> (bool, Value, String) {
        let pid = child.id();
        let start = Instant::now();
        let mut child = child;
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            assert!(
                start.elapsed() < within,
                "hpc run (pid {pid}) still running after {within:?}; daemon log:\n{}",
                self.daemon_log()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let v = serde_json::from_str(&stdout).unwrap_or_else(|_| {
            panic!(
                "hpc run printed no JSON\nstdout: {stdout}\nstderr: {stderr}\ndaemon log:\n{}",
                self.daemon_log()
            )
        });
        (out.status.success(), v, stderr)
    }

    fn wait_job(
        &self,
        id: &str,
        what: &str,
        within: Duration,
        ok: impl Fn(&Value) -> bool,
    ) -> Value {
        wait_until(
            what,
            within,
            Duration::from_millis(500),
            || Some(self.job(id)).filter(&ok),
            || {
                format!(
                    "job {id}: {}\ndaemon log:\n{}",
                    self.job(id),
                    self.daemon_log()
                )
            },
        )
    }

    /// The accounting's bill matches the formula on its usage, and the refund is the rest.
    fn check_bill(&self, job: &Value) -> u128 {
        let acct = &job["accounting"];
        let max_price: u128 = str_of(&job["max_price"])
            .trim_end_matches("uve")
            .parse()
            .unwrap();
        let billed = num(&acct["billed"]);
        assert_eq!(
            billed,
            expected_bill(&acct["usage"], max_price),
            "billed = formula(usage): {job}"
        );
        assert_eq!(num(&acct["refund"]), max_price - billed, "{job}");
        billed
    }
}

fn setup() -> Option<Hpc> {
    if !slurm_installed() {
        eprintln!(
            "SKIPPED hpc_slurm: `sbatch` is not installed here. Install and start the local \
             SLURM cluster with `bash scripts/slurm.sh setup start` (scripts/setup.sh does this)."
        );
        return None;
    }
    let partition = slurm_partition();
    let net = Net::start_with("hpcslurm", |net, genesis| {
        let pricing = json!({
            "denom": "uve",
            "node_hour": NODE_HOUR.to_string(),
            "cpu_core_hour": CORE_HOUR.to_string(),
            "memory_gb_hour": MEM_GB_HOUR.to_string(),
            "minimum_charge": MIN_CHARGE.to_string(),
        });
        let params = json!({
            "settlement_delay_seconds": SETTLEMENT_DELAY_S,
            "dispute_window_seconds": 10,
        });
        genesis["app_state"]["hpc"] =
            hpc_genesis(&net.address("provider"), &partition, pricing, params);
    });
    let operator = net.address("operator");
    let work_dir = net.dir.path().join("hpc-work");
    let metrics_port = free_port();
    let config = write_config(
        &net,
        metrics_port,
        &format!(
            r#"
[hpc]
cluster_id = 1
work_dir = "{work}"
node_operator = "{operator}"
poll_interval_ms = 500
usage_interval_s = 5
heartbeat_interval_s = 30
"#,
            work = work_dir.display(),
        ),
    );
    let log = net.dir.path().join("provider-daemon.log");
    Some(Hpc {
        net,
        work_dir,
        config,
        log,
        metrics_port,
        operator,
    })
}

#[test]
fn hpc_run_runs_a_real_slurm_job_with_on_chain_accounting_timeout_and_cancellation() {
    let Some(h) = setup() else { return };
    let started = Instant::now();
    let alice = h.net.address("alice");
    let alice0 = h.balance(&alice);
    let operator0 = h.balance(&h.operator);

    let mut daemon = h.spawn_daemon();
    // Genesis clusters are offline until the provider's first heartbeat.
    wait_until(
        "cluster 1 active after the daemon's heartbeat",
        Duration::from_secs(60),
        Duration::from_millis(500),
        || {
            let c = h.query(&["query", "hpc", "cluster", "1"]);
            (c["state"] == "active" && c["nodes"].as_array().is_some_and(|n| !n.is_empty()))
                .then_some(c)
        },
        || h.daemon_log(),
    );

    // 2 (started first: it takes the longest). 1-minute limit, sleeps far longer.
    let timeout_run = h.hpc_run("timeout.sh", "echo started; sleep 600\n", "60");
    // One tx at a time from alice (account sequence): wait until it is on chain.
    wait_until(
        "the time-limited job on chain",
        Duration::from_secs(60),
        Duration::from_millis(300),
        || {
            let v = h.query(&["query", "hpc", "jobs", "--customer", &alice]);
            v["jobs"].as_array().filter(|j| !j.is_empty()).cloned()
        },
        || h.daemon_log(),
    );

    // 1. A small script, end to end through `virtengine hpc run`.
    let ok_run = h.hpc_run(
        "hello.sh",
        "echo \"hello from chain job $VIRTENGINE_JOB_ID on $(hostname)\"\nsleep 4\n",
        "2m",
    );
    let (success, done, stderr) = h.finish(ok_run, Duration::from_secs(90));
    assert!(success, "hpc run failed: {done}\n{stderr}");
    assert_eq!(done["state"], "completed", "{done}");
    assert_eq!(done["exit_code"], 0, "{done}");
    assert!(
        stderr.contains("running"),
        "progress shows the state changes:\n{stderr}"
    );
    let id = str_of(&done["job_id"]);
    let output = PathBuf::from(str_of(&done["output"]));
    assert!(output.starts_with(&h.work_dir), "{done}");
    let text = std::fs::read_to_string(&output).unwrap();
    assert!(
        text.contains(&format!("hello from chain job {id} on")),
        "{text}"
    );

    let slurm_id = str_of(&done["slurm_job_id"]);
    let (state, elapsed, alloc) = wait_until(
        "SLURM accounting of the job",
        Duration::from_secs(10),
        Duration::from_millis(300),
        || sacct(&slurm_id).filter(|(s, _, _)| s == "COMPLETED"),
        || format!("sacct -j {slurm_id}: {:?}", sacct(&slurm_id)),
    );
    assert_eq!(state, "COMPLETED");
    let job = h.job(&id);
    assert_eq!(job["state"], "completed", "{job}");
    assert_eq!(str_of(&job["slurm_job_id"]), slurm_id);
    let usage = &job["accounting"]["usage"];
    // The chain's usage is SLURM's accounting: allocation × elapsed.
    let cpus: u128 = tres(&alloc, "cpu").unwrap().parse().unwrap();
    assert!(elapsed >= 4, "the script slept 4 s: {elapsed}");
    assert_eq!(
        num(&usage["wall_clock_seconds"]),
        u128::from(elapsed),
        "{job}"
    );
    assert_eq!(num(&usage["node_seconds"]), u128::from(elapsed), "{job}");
    // Capped by the chain at the request (1 core) if SLURM allocated a whole 2-thread core.
    assert_eq!(
        num(&usage["cpu_core_seconds"]),
        (cpus * u128::from(elapsed)).min(120),
        "{job} / {alloc}"
    );
    assert_eq!(
        num(&usage["memory_gb_seconds"]),
        u128::from(elapsed),
        "1 GB × elapsed: {alloc}"
    );
    let billed_ok = h.check_bill(&job);
    assert_eq!(str_of(&done["billed"]), format!("{billed_ok}uve"));

    // 3. Cancellation by the tenant, across a daemon restart.
    let submit = h.net.ok(&h.tx_args(vec![
        "tx",
        "hpc",
        "submit-job",
        "1",
        "--command",
        "sleep 600",
        "--nodes",
        "1",
        "--cores-per-node",
        "1",
        "--memory-gb-per-node",
        "1",
        "--max-runtime",
        "600",
        "--max-price",
        "10000000uve",
        "--from",
        "alice",
        "--gas",
        "1000000",
    ]));
    assert_eq!(submit["code"], 0, "{submit}");
    let cancel_id = submitted_job_id(&submit);
    let running = h.wait_job(
        &cancel_id,
        "the cancel test job running",
        Duration::from_secs(60),
        |j| j["state"] == "running",
    );
    let cancel_slurm = str_of(&running["slurm_job_id"]);
    // slurmdbd records the start a moment after slurmctld reports it (what the daemon
    // saw): wait for accounting to agree.
    wait_until(
        "sacct shows the cancel test job RUNNING",
        Duration::from_secs(30),
        Duration::from_millis(250),
        || sacct(&cancel_slurm).filter(|(s, _, _)| s == "RUNNING"),
        || format!("sacct -j {cancel_slurm}: {:?}", sacct(&cancel_slurm)),
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon.0.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    daemon.0.wait().unwrap();
    daemon = h.spawn_daemon();
    let r = h.net.ok(&h.tx_args(vec![
        "tx",
        "hpc",
        "cancel-job",
        &cancel_id,
        "--reason",
        "not needed",
        "--from",
        "alice",
    ]));
    assert_eq!(r["code"], 0, "{r}");
    let (state, _, _) = wait_until(
        "the daemon scancels the tenant-cancelled job",
        Duration::from_secs(30),
        Duration::from_millis(300),
        || sacct(&cancel_slurm).filter(|(s, _, _)| s.starts_with("CANCELLED")),
        || {
            format!(
                "sacct: {:?}\ndaemon log:\n{}",
                sacct(&cancel_slurm),
                h.daemon_log()
            )
        },
    );
    assert!(state.starts_with("CANCELLED"));
    let cancelled = h.job(&cancel_id);
    assert_eq!(cancelled["state"], "cancelled", "{cancelled}");
    assert_eq!(cancelled["cancelled_by"], alice.as_str(), "{cancelled}");
    assert!(
        num(&cancelled["accounting"]["usage"]["wall_clock_seconds"]) > 0,
        "{cancelled}"
    );
    let billed_cancel = h.check_bill(&cancelled);
    assert_eq!(
        slurm_jobs_for(&h.work_dir, &cancel_id),
        vec![cancel_slurm.clone()],
        "one SLURM job for the chain job, across the restart"
    );
    assert_eq!(
        metric(h.metrics_port, "provider_hpc_jobs_submitted_total").unwrap_or(0),
        0,
        "the restarted daemon submitted nothing again:\n{}",
        h.daemon_log()
    );

    // 2. The time-limited job ends as TIMEOUT and `hpc run` says so.
    let (success, timed_out, stderr) = h.finish(timeout_run, Duration::from_secs(150));
    assert!(!success, "a timed-out job is an error: {timed_out}");
    assert_eq!(timed_out["state"], "timeout", "{timed_out}\n{stderr}");
    assert!(
        stderr.contains("exceeded its time limit of 60 s"),
        "{stderr}"
    );
    let tid = str_of(&timed_out["job_id"]);
    let tjob = h.job(&tid);
    let tu = &tjob["accounting"]["usage"];
    let wall = num(&tu["wall_clock_seconds"]);
    assert!(
        (1..=60).contains(&wall),
        "billed for at most the limit: {tjob}"
    );
    // The request (1 node, 1 core, 1 GB) over the time it ran.
    for k in ["node_seconds", "cpu_core_seconds", "memory_gb_seconds"] {
        assert_eq!(num(&tu[k]), wall, "{k}: {tjob}");
    }
    let billed_timeout = h.check_bill(&tjob);
    let tslurm = str_of(&tjob["slurm_job_id"]);
    let (tstate, _, _) = wait_until(
        "the timed-out SLURM job ended",
        Duration::from_secs(30),
        Duration::from_millis(500),
        || sacct(&tslurm).filter(|(s, _, _)| s != "RUNNING" && s != "PENDING"),
        || format!("sacct: {:?}", sacct(&tslurm)),
    );
    assert!(
        tstate == "TIMEOUT" || tstate.starts_with("CANCELLED"),
        "SLURM ended it at its limit, or the daemon scancelled it when the chain did: {tstate}"
    );

    // Settlement of the completed job after the short delay: platform 5 %, node pool 15 %
    // (the node's operator), provider the rest; the tenant paid exactly fees + bills.
    let settled = h.wait_job(&id, "settlement", Duration::from_secs(60), |j| {
        j["accounting"]["status"] == "settled"
    });
    let payouts = settled["accounting"]["payouts"].as_array().unwrap();
    let paid = |t: &str| -> u128 {
        payouts
            .iter()
            .filter(|p| p["type"] == t)
            .map(|p| num(&p["amount"]))
            .sum()
    };
    assert_eq!(paid("platform"), billed_ok * 500 / 10_000, "{settled}");
    assert_eq!(paid("node"), billed_ok * 1500 / 10_000, "{settled}");
    assert_eq!(
        paid("platform") + paid("node") + paid("provider"),
        billed_ok
    );
    assert!(payouts
        .iter()
        .any(|p| p["type"] == "node" && p["address"] == h.operator.as_str()));
    for other in [&tid, &cancel_id] {
        h.wait_job(other, "settlement", Duration::from_secs(60), |j| {
            j["accounting"]["status"] == "settled"
        });
    }
    let node_share = |b: u128| b * 1500 / 10_000;
    assert_eq!(
        h.balance(&h.operator) - operator0,
        node_share(billed_ok) + node_share(billed_timeout) + node_share(billed_cancel),
        "the node operator received the node pool of all three jobs"
    );
    // Three txs from alice: two `hpc run` submissions, the submit-job and the cancel.
    assert_eq!(
        alice0 - h.balance(&alice),
        4 * FEE + billed_ok + billed_timeout + billed_cancel,
        "the tenant paid fees and bills; every unused escrow came back"
    );
    drop(daemon);
    eprintln!("hpc_slurm passed in {:?}", started.elapsed());
}
