//! `<home>/config/app.toml`: the node-local settings of our process (CometBFT keeps its
//! own in `<home>/cometbft/config/config.toml`).

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// The TCP ports one node uses. Node `i` of a localnet adds `i * 100` to each, so a
/// machine can run several nodes without collisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Ports {
    /// CometBFT RPC (what clients and `--node` talk to).
    pub rpc: u16,
    /// CometBFT peer-to-peer.
    pub p2p: u16,
    /// Our ABCI server, which CometBFT connects to.
    pub abci: u16,
    /// REST gateway (Cosmos LCD paths).
    pub rest: u16,
    /// gRPC gateway.
    pub grpc: u16,
    /// Our Prometheus endpoint.
    pub metrics: u16,
    /// CometBFT's own Prometheus endpoint.
    pub cometbft_metrics: u16,
}

impl Default for Ports {
    fn default() -> Self {
        Self {
            rpc: 26657,
            p2p: 26656,
            abci: 26658,
            rest: 1317,
            grpc: 9090,
            metrics: 26660,
            cometbft_metrics: 26661,
        }
    }
}

impl Ports {
    /// Every default port plus `offset`; fails if any would leave the u16 range.
    pub fn with_offset(offset: u16) -> Result<Self> {
        let d = Self::default();
        let add = |p: u16| {
            p.checked_add(offset)
                .with_context(|| format!("port offset {offset} pushes port {p} past 65535"))
        };
        Ok(Self {
            rpc: add(d.rpc)?,
            p2p: add(d.p2p)?,
            abci: add(d.abci)?,
            rest: add(d.rest)?,
            grpc: add(d.grpc)?,
            metrics: add(d.metrics)?,
            cometbft_metrics: add(d.cometbft_metrics)?,
        })
    }
}

/// Contents of `app.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppToml {
    pub abci: AbciSection,
    pub api: ListenSection,
    pub grpc: ListenSection,
    pub metrics: ListenSection,
    pub storage: StorageSection,
    pub log: LogSection,
    /// The identity-scoring enclave service beside this validator (absent in older files).
    #[serde(default)]
    pub enclave: EnclaveSection,
    /// Test-only fault injection (docs/scoring-consensus.md, "Fault-injection switches");
    /// written only when a switch is on.
    #[serde(default, skip_serializing_if = "FaultSection::is_off")]
    pub fault: FaultSection,
}

/// `[fault]`: deliberate misbehaviour for tests of the scoring consensus. Honoured only
/// while the chain allows simulated enclaves (localnets); logged loudly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSection {
    /// Tamper the injected identity-score transaction of this node's block proposals.
    #[serde(default)]
    pub tamper_injected_scores: bool,
}

impl FaultSection {
    fn is_off(&self) -> bool {
        *self == Self::default()
    }
}

/// Where the node reaches its enclave service (`virtengine enclave run`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnclaveSection {
    /// Unix socket of the enclave service; empty = this node scores nothing (it still
    /// verifies other validators' vote extensions and proposals).
    #[serde(default)]
    pub socket: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbciSection {
    /// `tcp://127.0.0.1:26658` or `unix:///path/to/abci.sock`; must match CometBFT's
    /// `proxy_app`.
    pub address: String,
    /// CometBFT RPC URL of this node, used by the gateway to broadcast transactions.
    pub cometbft_rpc: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenSection {
    pub enable: bool,
    pub address: SocketAddr,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSection {
    /// How many past heights stay queryable; 0 keeps every height.
    pub retain_versions: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// `text` or `json`.
    pub format: String,
    /// A `tracing` filter such as `info` or `info,ve_app=debug`; `RUST_LOG` overrides it.
    pub level: String,
}

impl AppToml {
    pub fn for_ports(ports: &Ports) -> Self {
        let local = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
        Self {
            abci: AbciSection {
                address: format!("tcp://127.0.0.1:{}", ports.abci),
                cometbft_rpc: format!("http://127.0.0.1:{}", ports.rpc),
            },
            api: ListenSection {
                enable: true,
                address: local(ports.rest),
            },
            grpc: ListenSection {
                enable: true,
                address: local(ports.grpc),
            },
            metrics: ListenSection {
                enable: true,
                address: local(ports.metrics),
            },
            storage: StorageSection {
                retain_versions: 100_000,
            },
            log: LogSection {
                format: "text".into(),
                level: "info".into(),
            },
            enclave: EnclaveSection::default(),
            fault: FaultSection::default(),
        }
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let body = toml::to_string_pretty(self).context("serialising app.toml")?;
        let text = format!(
            "# VirtEngine node settings (node-local; CometBFT's are in cometbft/config/config.toml).\n\
             # abci.address must match CometBFT's proxy_app.\n\n{body}"
        );
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
    }
}
