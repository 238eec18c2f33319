//! The provider daemon as the e2e tests run it beside a [`ProviderNet`]: a config file for
//! the net's `provider` key, the process (SIGKILLed on drop, so a failing test leaves
//! nothing behind) and its Prometheus counters.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::provider_net::ProviderNet;

/// Transaction fees the daemon pays.
pub const FEES: &str = "25000uve";

/// A running `virtengine provider run`.
pub struct Daemon(pub Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free TCP port on 127.0.0.1 (for the daemon's metrics endpoint).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

/// Writes `<net dir>/provider-daemon.toml`: state under the net's dir, the net's RPC,
/// the `provider` key, rate pricing (0.5 core × 100 + 0.5 GiB × 100 + 1 GiB storage × 10
/// per block for the example SDL), a 4-core capacity, then `extra` (e.g. an `[hpc]`
/// section).
pub fn write_config(net: &ProviderNet, metrics_port: u16, extra: &str) -> PathBuf {
    let cfg = format!(
        r#"state_dir = "{state}"
metrics_addr = "127.0.0.1:{metrics_port}"

[chain]
rpc = "{rpc}"
poll_interval_ms = 1000

[key]
name = "provider"
keyring_dir = "{home}"
keyring_backend = "test"

[bid]
deposit = "500000uve"
fees = "{FEES}"
gas = 1000000

[pricing]
strategy = "rates"
per_core = "100"
per_gib_memory = "100"
per_gib_storage = "10"

[capacity]
cpu_millicores = 4000
memory_mib = 8192
storage_gib = 100
{extra}"#,
        state = net.dir.path().join("provider-state").display(),
        rpc = net.rpc.url,
        home = net.home,
    );
    let path = net.dir.path().join("provider-daemon.toml");
    std::fs::write(&path, cfg).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    path
}

/// Starts the daemon with `config`, appending its output to `log`.
pub fn spawn(net: &ProviderNet, config: &Path, log: &Path) -> Daemon {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap_or_else(|e| panic!("opening {}: {e}", log.display()));
    let out = log
        .try_clone()
        .unwrap_or_else(|e| panic!("daemon log: {e}"));
    let child = Command::new(&net.bin)
        .args(["provider", "run", "--config"])
        .arg(config)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("starting the provider daemon: {e}"));
    Daemon(child)
}

/// [`spawn`], then waits (30 s at most) until its metrics endpoint on `metrics_port`
/// answers, i.e. it opened its keyring, state and back end and is running.
pub fn spawn_ready(net: &ProviderNet, config: &Path, log: &Path, metrics_port: u16) -> Daemon {
    let daemon = spawn(net, config, log);
    crate::wait_until(
        "the daemon's metrics endpoint",
        std::time::Duration::from_secs(30),
        std::time::Duration::from_millis(200),
        || metric(metrics_port, "provider_checkpoint_height"),
        || crate::tail(log, 60),
    );
    daemon
}

/// The value of counter or gauge `name` on the daemon's metrics endpoint, if it answers.
pub fn metric(port: u16, name: &str) -> Option<u64> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        .ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    body.lines()
        .find(|l| l.starts_with(name) && !l.starts_with('#'))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<u64>().ok())
}
