//! A localnet whose `provider` test account is a registered provider from genesis (the
//! marketplace and provider-daemon tests): `localnet init`, the provider added to
//! `app_state.provider.providers` (region=eu-west, the example SDL's placement), then
//! `localnet start --keep`. Stopped on drop.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::{
    announce_bin, free_port_offset, run_cmd, str_of, virtengine_bin, wait_until, Rpc, Run,
};

const TIMEOUT: Duration = Duration::from_secs(120);

pub struct ProviderNet {
    pub bin: PathBuf,
    /// Holds the localnet home; tests may put their own files beside it.
    pub dir: tempfile::TempDir,
    pub home: String,
    pub offset: String,
    pub rpc: Rpc,
}

impl Drop for ProviderNet {
    fn drop(&mut self) {
        let _ = run_cmd(
            &self.bin,
            &["localnet", "stop", "--home", &self.home],
            Duration::from_secs(60),
        );
    }
}

impl ProviderNet {
    /// Initialises, registers the provider in genesis, starts and waits for block 2.
    pub fn start(tag: &str) -> Self {
        Self::start_with(tag, |_, _| {})
    }

    /// [`Self::start`], letting `edit` change the genesis (`app_state` and all) before the
    /// chain starts — e.g. [`hpc_genesis`] to give the provider an HPC cluster and offering.
    pub fn start_with(tag: &str, edit: impl FnOnce(&Self, &mut Value)) -> Self {
        let bin = virtengine_bin();
        announce_bin(&bin);
        let dir = tempfile::Builder::new()
            .prefix(&format!("ve-e2e-{tag}-"))
            .tempdir()
            .unwrap();
        let home = dir.path().join("localnet").to_str().unwrap().to_string();
        let offset = free_port_offset(tag);
        let net = Self {
            bin,
            dir,
            home,
            offset: offset.to_string(),
            rpc: Rpc::new(26657 + offset),
        };
        let base = [
            "--home",
            net.home.as_str(),
            "--port-offset",
            net.offset.as_str(),
            "--timeout-commit",
            "500ms",
        ];
        let r = net.cli(&[&["localnet", "init"][..], &base].concat());
        assert!(r.success, "localnet init failed\n{}", r.describe());
        net.register_provider_in_genesis();
        net.edit_genesis(|g| edit(&net, g));
        let r = net.cli(
            &[
                &["localnet", "start", "--keep", "--detach"][..],
                &base,
                &["--ready-timeout", "120"],
            ]
            .concat(),
        );
        assert!(r.success, "localnet start --keep failed\n{}", r.describe());
        wait_until(
            "block 2",
            Duration::from_secs(60),
            Duration::from_millis(200),
            || net.rpc.height().filter(|h| *h >= 2),
            || "no block 2".to_string(),
        );
        net
    }

    fn edit_genesis(&self, edit: impl FnOnce(&mut Value)) {
        let path = PathBuf::from(&self.home).join("node0/cometbft/config/genesis.json");
        let mut genesis: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        edit(&mut genesis);
        std::fs::write(&path, serde_json::to_vec_pretty(&genesis).unwrap()).unwrap();
    }

    fn register_provider_in_genesis(&self) {
        let provider = self.address("provider");
        self.edit_genesis(|genesis| Self::add_provider(genesis, &provider));
    }

    fn add_provider(genesis: &mut Value, provider: &str) {
        let section = genesis["app_state"]
            .as_object_mut()
            .unwrap()
            .entry("provider")
            .or_insert_with(|| serde_json::json!({}));
        if section.get("providers").is_none() {
            section["providers"] = serde_json::json!([]);
        }
        section["providers"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
                "owner": provider,
                "host_uri": "https://provider.localnet.example:8443",
                "attributes": {"region": "eu-west"},
            }));
    }

    /// SIGKILL of the chain node (`virtengine start` and its `cometbft`, not the
    /// enclave service); waits until they are gone. The chain halts until
    /// [`Self::restart_node`].
    pub fn kill9_node(&self) {
        let ps: Vec<_> = crate::procs_mentioning(&self.home)
            .into_iter()
            .filter(|p| p.is_virtengine_start() || p.is_cometbft())
            .collect();
        assert!(ps.len() >= 2, "no node processes for {}", self.home);
        crate::kill9_and_wait(&ps, || {
            format!("still alive: {:?}", crate::procs_mentioning(&self.home))
        });
    }

    /// Starts the existing chain again (`localnet start --keep --detach`).
    pub fn restart_node(&self) {
        let r = self.cli(&[
            "localnet",
            "start",
            "--keep",
            "--detach",
            "--home",
            &self.home,
            "--ready-timeout",
            "120",
        ]);
        assert!(r.success, "localnet start --keep failed\n{}", r.describe());
    }

    /// `args` plus what every client call on this net needs: JSON output, the test
    /// keyring, the net's home and RPC.
    pub fn client_args<'a>(&'a self, mut args: Vec<&'a str>) -> Vec<&'a str> {
        args.extend_from_slice(&[
            "--output",
            "json",
            "--keyring-backend",
            "test",
            "--home",
            &self.home,
            "--node",
            &self.rpc.url,
        ]);
        args
    }

    /// [`Self::client_args`] plus what a transaction needs: fees, gas, the chain id and
    /// no confirmation prompt.
    pub fn tx_args<'a>(&'a self, mut args: Vec<&'a str>) -> Vec<&'a str> {
        args.extend_from_slice(&[
            "--fees",
            crate::provider_daemon::FEES,
            "--gas",
            "1000000",
            "--chain-id",
            crate::CHAIN_ID,
            "--yes",
        ]);
        self.client_args(args)
    }

    pub fn cli(&self, args: &[&str]) -> Run {
        run_cmd(&self.bin, args, TIMEOUT)
    }

    /// Runs the CLI; it must succeed and print JSON.
    pub fn ok(&self, args: &[&str]) -> Value {
        let r = self.cli(args);
        assert!(r.success, "{}", r.describe());
        r.json()
            .unwrap_or_else(|| panic!("stdout is not JSON\n{}", r.describe()))
    }

    /// The address of a test-keyring key in the localnet home.
    pub fn address(&self, name: &str) -> String {
        let v = self.ok(&[
            "keys",
            "show",
            name,
            "--output",
            "json",
            "--keyring-backend",
            "test",
            "--home",
            &self.home,
        ]);
        str_of(&v["address"])
    }
}

/// An hpc genesis section: `provider`'s single-node cluster 1 (one partition, SLURM's
/// name for it) and offering 1 on it with custom workloads and `pricing` (the genesis
/// pricing object: denom, node_hour, cpu_core_hour, memory_gb_hour, minimum_charge, …),
/// plus `params` overrides (e.g. a short settlement delay). The cluster starts offline
/// until the provider daemon's first heartbeat (docs/hpc.md).
pub fn hpc_genesis(provider: &str, partition: &str, pricing: Value, params: Value) -> Value {
    serde_json::json!({
        "params": params,
        "clusters": [{
            "provider": provider,
            "name": "local-slurm",
            "description": "the single-node SLURM cluster of scripts/slurm.sh",
            "region": "eu-west",
            "datacenter": "localhost",
            "total_nodes": 1,
            "slurm_version": "22.05",
            "partitions": [{"name": partition, "nodes": 1, "max_nodes": 1}],
            "total_cpu_cores": 2,
            "total_memory_gb": 1,
        }],
        "offerings": [{
            "cluster_id": 1,
            "name": "local batch",
            "queues": [{"partition": partition, "max_nodes": 1, "price_multiplier_bps": 10000}],
            "pricing": pricing,
            "min_tier": 0,
            "max_runtime_seconds": 3600,
            "supports_custom_workloads": true,
        }],
    })
}
