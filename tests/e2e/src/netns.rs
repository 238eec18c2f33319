//! Network namespaces for the fault runner, through iproute2: one namespace per node and
//! a hub namespace holding a bridge, joined by veth pairs created directly inside the
//! namespaces. Addresses exist only inside the namespaces; the host's own interfaces,
//! addresses and routes are never touched.
//!
//! ```text
//!   <prefix>-hub:  br0 ── h0 ── h1 ── h2 ── h3          (no address)
//!                         │     │     │     │  veth pairs
//!   <prefix>-n<i>:        eth0 10.200.0.<i+1>/24, lo up
//! ```
//!
//! A node is cut off (partition) by setting its hub-side veth down, and healed by
//! setting it up again.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

/// Runs `ip args...`; stdout, or an error naming the command and its stderr.
pub fn ip(args: &[&str]) -> Result<String, String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run `ip {}`: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`ip {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Names of the existing network namespaces.
pub fn list() -> Vec<String> {
    ip(&["netns", "list"])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// A TCP connection to `addr` made from inside the network namespace `name` (a thread
/// enters the namespace with setns(2), connects and returns the socket, which stays in
/// that namespace).
pub fn connect(name: &str, addr: SocketAddr, timeout: Duration) -> Result<TcpStream, String> {
    let path = format!("/run/netns/{name}");
    std::thread::spawn(move || -> Result<TcpStream, String> {
        let f = File::open(&path).map_err(|e| format!("opening {path}: {e}"))?;
        nix::sched::setns(&f, nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(|e| format!("setns({path}): {e}"))?;
        TcpStream::connect_timeout(&addr, timeout)
            .map_err(|e| format!("connect {addr} in netns {name_}: {e}", name_ = path))
    })
    .join()
    .map_err(|_| "the setns thread panicked".to_string())?
}

/// Whether this process may create network namespaces: creates and deletes a probe.
/// `Err` carries the exact command and error.
pub fn probe(prefix: &str) -> Result<(), String> {
    let name = format!("{prefix}-probe");
    let _ = ip(&["netns", "del", &name]);
    ip(&["netns", "add", &name])?;
    let r = ip(&["-n", &name, "link", "set", "lo", "up"]);
    let _ = ip(&["netns", "del", &name]);
    r.map(|_| ())
}

/// The namespaces and links of one run. Dropping it deletes the namespaces (processes
/// still inside keep theirs alive until they exit: kill them first).
#[derive(Debug)]
pub struct Topology {
    pub hub: String,
    pub nodes: Vec<String>,
    pub ips: Vec<Ipv4Addr>,
    deleted: bool,
}

impl Topology {
    pub fn node_ns(prefix: &str, i: usize) -> String {
        format!("{prefix}-n{i}")
    }

    /// Every namespace name a run with this prefix may create.
    pub fn names(prefix: &str, n: usize) -> Vec<String> {
        let mut v: Vec<String> = (0..n).map(|i| Self::node_ns(prefix, i)).collect();
        v.push(format!("{prefix}-hub"));
        v
    }

    /// Creates `n` node namespaces on a bridge. Namespaces left over from an earlier run
    /// with the same prefix are deleted first if no process is inside them; otherwise
    /// this fails (another run is using them).
    pub fn create(prefix: &str, n: usize) -> Result<Self, String> {
        let existing = list();
        for name in Self::names(prefix, n) {
            if existing.contains(&name) {
                let pids = ip(&["netns", "pids", &name]).unwrap_or_default();
                if !pids.trim().is_empty() {
                    return Err(format!(
                        "network namespace {name} exists and has processes ({}): another fault run with this seed is active",
                        pids.split_whitespace().collect::<Vec<_>>().join(" ")
                    ));
                }
                eprintln!("[faults] deleting stale network namespace {name}");
                ip(&["netns", "del", &name])?;
            }
        }
        let mut t = Self {
            hub: format!("{prefix}-hub"),
            nodes: (0..n).map(|i| Self::node_ns(prefix, i)).collect(),
            ips: (0..n)
                .map(|i| Ipv4Addr::new(10, 200, 0, u8::try_from(i + 1).unwrap_or(254)))
                .collect(),
            deleted: false,
        };
        t.build().inspect_err(|_| t.destroy())?;
        Ok(t)
    }

    fn build(&mut self) -> Result<(), String> {
        let hub = self.hub.clone();
        ip(&["netns", "add", &hub])?;
        ip(&["-n", &hub, "link", "set", "lo", "up"])?;
        ip(&["-n", &hub, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &hub, "link", "set", "br0", "up"])?;
        for (i, ns) in self.nodes.clone().iter().enumerate() {
            let h = format!("h{i}");
            ip(&["netns", "add", ns])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
            // Both ends are created inside their namespaces: nothing appears on the host.
            ip(&[
                "link", "add", &h, "netns", &hub, "type", "veth", "peer", "name", "eth0", "netns",
                ns,
            ])?;
            ip(&["-n", &hub, "link", "set", &h, "master", "br0"])?;
            ip(&["-n", &hub, "link", "set", &h, "up"])?;
            let addr = format!("{}/24", self.ips[i]);
            ip(&["-n", ns, "addr", "add", &addr, "dev", "eth0"])?;
            ip(&["-n", ns, "link", "set", "eth0", "up"])?;
        }
        Ok(())
    }

    /// Connects (`up`) or cuts off node `i` from every other node.
    pub fn set_link(&self, i: usize, up: bool) -> Result<(), String> {
        ip(&[
            "-n",
            &self.hub,
            "link",
            "set",
            &format!("h{i}"),
            if up { "up" } else { "down" },
        ])
        .map(|_| ())
    }

    /// Deletes every namespace of this topology (idempotent).
    pub fn destroy(&mut self) {
        if self.deleted {
            return;
        }
        self.deleted = true;
        for ns in self.nodes.iter().chain(std::iter::once(&self.hub)) {
            if list().contains(ns) {
                if let Err(e) = ip(&["netns", "del", ns]) {
                    eprintln!("[faults] WARNING: {e}");
                }
            }
        }
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        self.destroy();
    }
}
