//! Child processes: spawn with output to a log file, stop politely then firmly, and
//! read the last lines of a log when something died.

#![allow(clippy::disallowed_methods)] // Instant::now: shutdown timeouts are wall-clock by nature.

use std::fs::OpenOptions;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

/// How long a child gets to exit after SIGTERM before SIGKILL.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// Spawns `cmd` with stdin closed and stdout+stderr appended to `log`, in its own
/// process group so that a Ctrl-C at the terminal reaches only us and we decide the
/// shutdown order.
pub fn spawn_logged(mut cmd: Command, log: &Path) -> Result<Child> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("opening log {}", log.display()))?;
    let err = file
        .try_clone()
        .with_context(|| format!("opening log {}", log.display()))?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(file))
        .stderr(Stdio::from(err))
        .process_group(0)
        .kill_on_drop(false);
    cmd.spawn().context("spawning child process")
}

/// Sends `sig` to `pid`; false if it does not exist.
pub fn signal(pid: u32, sig: Signal) -> bool {
    match i32::try_from(pid) {
        Ok(p) if p > 0 => kill(Pid::from_raw(p), sig).is_ok(),
        _ => false,
    }
}

/// Whether a process with this pid exists (and is not a zombie we could reap).
pub fn alive(pid: u32) -> bool {
    if !signal_probe(pid) {
        return false;
    }
    // A zombie still answers kill(0); look at its state so `stop` does not wait on it.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .map(|(_, rest)| !rest.starts_with('Z'))
            .unwrap_or(true),
        Err(_) => false,
    }
}

fn signal_probe(pid: u32) -> bool {
    match i32::try_from(pid) {
        Ok(p) if p > 0 => kill(Pid::from_raw(p), None).is_ok(),
        _ => false,
    }
}

/// SIGTERM, wait up to `timeout`, then SIGKILL. Returns the exit status.
pub async fn terminate(child: &mut Child, timeout: Duration) -> Result<std::process::ExitStatus> {
    if let Some(status) = child.try_wait().context("checking child")? {
        return Ok(status);
    }
    if let Some(pid) = child.id() {
        signal(pid, Signal::SIGTERM);
    }
    match tokio::time::timeout(timeout, child.wait()).await {
        Ok(status) => status.context("waiting for child"),
        Err(_) => {
            tracing::warn!(
                timeout_s = timeout.as_secs(),
                "child did not exit after SIGTERM; sending SIGKILL"
            );
            child.start_kill().ok();
            child.wait().await.context("waiting for killed child")
        }
    }
}

/// Stops a process that is not our child (e.g. from a pid file): SIGTERM, poll until
/// it is gone, SIGKILL after `timeout`. Returns false if it had to be killed.
pub async fn terminate_pid(pid: u32, timeout: Duration) -> bool {
    if !alive(pid) {
        return true;
    }
    signal(pid, Signal::SIGTERM);
    let start = Instant::now();
    while start.elapsed() < timeout {
        if !alive(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    signal(pid, Signal::SIGKILL);
    for _ in 0..50 {
        if !alive(pid) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// The last `n` lines of a log file (empty if it cannot be read).
pub fn tail(path: &Path, n: usize) -> String {
    let Ok(bytes) = std::fs::read(path) else {
        return String::new();
    };
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
