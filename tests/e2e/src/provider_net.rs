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

    fn register_provider_in_genesis(&self) {
        let provider = self.address("provider");
        let path = PathBuf::from(&self.home).join("node0/cometbft/config/genesis.json");
        let mut genesis: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
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
        std::fs::write(&path, serde_json::to_vec_pretty(&genesis).unwrap()).unwrap();
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
