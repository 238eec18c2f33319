//! The binary as a user runs it: keys, init/genesis, and a real localnet with a
//! bank transfer, through `std::process::Command` on the built executable.

// Test code: panicking on a broken expectation is the point, and deadlines need the clock.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_virtengine");

fn ve(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("VIRTENGINE_HOME")
        .env_remove("VIRTENGINE_NODE")
        .env_remove("VIRTENGINE_CHAIN_ID")
        .env_remove("VIRTENGINE_KEYRING_BACKEND")
        .env_remove("VIRTENGINE_LOCALNET_HOME")
        .env_remove("VIRTENGINE_LOCALNET_PORT_OFFSET")
        .output()
        .expect("run virtengine")
}

fn ok(args: &[&str]) -> String {
    let out = ve(args);
    assert!(
        out.status.success(),
        "virtengine {args:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

fn json(args: &[&str]) -> Value {
    let s = ok(args);
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("virtengine {args:?}: not JSON ({e}):\n{s}"))
}

fn cometbft_present() -> bool {
    let home = std::env::var("HOME").unwrap_or_default();
    std::env::var_os("COMETBFT_BIN").is_some()
        || Path::new(&format!("{home}/go/bin/cometbft")).exists()
        || std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join("cometbft").exists()))
            .unwrap_or(false)
}

#[test]
fn keys_add_list_show_delete_with_the_test_backend() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().to_str().unwrap();
    let kb = ["--keyring-backend", "test", "--home", home];

    let added = json(&[&["keys", "add", "alice", "--output", "json"][..], &kb].concat());
    let addr = added["address"].as_str().unwrap().to_string();
    assert!(addr.starts_with("ve1"), "{addr}");
    let mnemonic = added["mnemonic"].as_str().unwrap().to_string();
    assert_eq!(mnemonic.split_whitespace().count(), 24);

    // Adding the same name again is refused.
    let again = ve(&[&["keys", "add", "alice"][..], &kb].concat());
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    // Recover the same mnemonic under another name: same address.
    let mut child = Command::new(BIN)
        .args(
            [
                &["keys", "add", "alice2", "--recover", "--output", "json"][..],
                &kb,
            ]
            .concat(),
        )
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    writeln!(child.stdin.take().unwrap(), "{mnemonic}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let recovered: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(recovered["address"], addr.as_str());

    let list = json(&[&["keys", "list", "--output", "json"][..], &kb].concat());
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "alice2"]);

    assert_eq!(
        ok(&[&["keys", "show", "alice", "-a"][..], &kb].concat()).trim(),
        addr
    );
    assert_eq!(
        ok(&[&["keys", "export", "alice"][..], &kb].concat()).trim(),
        mnemonic
    );

    ok(&[&["keys", "delete", "alice2", "-y"][..], &kb].concat());
    let shown = ve(&[&["keys", "show", "alice2"][..], &kb].concat());
    assert!(!shown.status.success());
    assert!(String::from_utf8_lossy(&shown.stderr).contains("not found"));
}

#[test]
fn init_then_add_account_then_validate() {
    if !cometbft_present() {
        eprintln!(
            "NOTICE: cometbft is not installed; skipping init/genesis test (run scripts/setup.sh)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    let home = home.to_str().unwrap();
    let init = json(&[
        "init",
        "n0",
        "--chain-id",
        "test-chain-1",
        "--home",
        home,
        "--output",
        "json",
    ]);
    assert_eq!(init["chain_id"], "test-chain-1");
    for f in [
        "config/app.toml",
        "cometbft/config/genesis.json",
        "cometbft/config/config.toml",
        "cometbft/config/priv_validator_key.json",
    ] {
        assert!(Path::new(home).join(f).exists(), "{f} missing");
    }
    // A second init without --overwrite is refused.
    assert!(
        !ve(&["init", "n0", "--chain-id", "test-chain-1", "--home", home])
            .status
            .success()
    );

    let kb = ["--keyring-backend", "test", "--home", home];
    let key = json(&[&["keys", "add", "treasury", "--output", "json"][..], &kb].concat());
    ok(&[&["genesis", "add-account", "treasury", "5000uve"][..], &kb].concat());
    let other = json(&[&["keys", "add", "other", "--output", "json"][..], &kb].concat());
    let other = other["address"].as_str().unwrap();
    ok(&["genesis", "add-account", other, "7uve", "--home", home]);
    ok(&["genesis", "add-account", other, "3uve", "--home", home]);
    let v = json(&["genesis", "validate", "--home", home, "--output", "json"]);
    assert_eq!(v["valid"], true, "{v}");

    let genesis: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(home).join("cometbft/config/genesis.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(genesis["chain_id"], "test-chain-1");
    assert_eq!(genesis["consensus_params"]["block"]["max_bytes"], "4194304");
    assert_eq!(genesis["validators"].as_array().unwrap().len(), 1);
    assert!(genesis["app_state"]
        .to_string()
        .contains(key["address"].as_str().unwrap()));

    // Bad input is reported, not accepted.
    let bad = ve(&[
        "genesis",
        "add-account",
        "not-an-address",
        "5uve",
        "--home",
        home,
        "--keyring-backend",
        "test",
    ]);
    assert!(!bad.status.success());
    let bad = ve(&[
        "genesis",
        "add-account",
        key["address"].as_str().unwrap(),
        "0x5",
        "--home",
        home,
    ]);
    assert!(!bad.status.success());

    let cfg = std::fs::read_to_string(Path::new(home).join("cometbft/config/config.toml")).unwrap();
    assert!(
        cfg.contains("proxy_app = \"tcp://127.0.0.1:26658\""),
        "{cfg}"
    );
    assert!(cfg.contains("indexer = \"kv\""));
}

fn balance(home: &str, node: &str, addr: &str) -> u128 {
    let v = json(&[
        "query", "bank", "balances", addr, "--node", node, "--denom", "uve", "--output", "json",
        "--home", home,
    ]);
    v["balance"]["amount"].as_str().unwrap().parse().unwrap()
}

#[test]
fn localnet_send_and_query() {
    if !cometbft_present() {
        eprintln!(
            "NOTICE: cometbft is not installed; skipping localnet test (run scripts/setup.sh)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("ln");
    let home = home.to_str().unwrap();
    // Away from a developer's localnet on the default ports.
    let offset = 20_000 + (std::process::id() % 50) as u16 * 100 % 4_000;
    let offset_s = offset.to_string();
    let node = format!("http://127.0.0.1:{}", 26657 + offset);

    struct Stop<'a>(&'a str);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            let _ = ve(&["localnet", "stop", "--home", self.0]);
        }
    }
    let _stop = Stop(home);
    ok(&[
        "localnet",
        "start",
        "--detach",
        "--home",
        home,
        "--port-offset",
        &offset_s,
    ]);

    // Wait for height >= 2.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = json(&["status", "--node", &node, "--output", "json"]);
        if s["latest_block_height"].as_u64().unwrap() >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "no height 2 within 60 s");
        std::thread::sleep(Duration::from_millis(300));
    }
    let st = json(&["localnet", "status", "--home", home, "--output", "json"]);
    assert_eq!(st["nodes"][0]["running"], true, "{st}");

    let accounts: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(home).join("accounts.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(accounts.as_array().unwrap().len(), 5);
    let bob = ok(&["keys", "show", "bob", "-a", "--home", home])
        .trim()
        .to_string();
    assert_eq!(accounts[1]["address"], bob.as_str());

    let before = balance(home, &node, &bob);
    let tx = json(&[
        "tx",
        "bank",
        "send",
        "alice",
        &bob,
        "1000uve",
        "--fees",
        "5000uve",
        "--yes",
        "--output",
        "json",
        "--home",
        home,
        "--node",
        &node,
        "--keyring-backend",
        "test",
    ]);
    assert_eq!(tx["code"], 0, "{tx}");
    assert!(tx["height"].as_u64().unwrap() >= 1, "{tx}");
    let hash = tx["txhash"].as_str().unwrap().to_string();
    assert_eq!(balance(home, &node, &bob), before + 1000);

    let q = json(&["query", "tx", &hash, "--node", &node, "--output", "json"]);
    assert_eq!(q["txhash"], hash.as_str());
    assert_eq!(q["code"], 0);

    ok(&["localnet", "stop", "--home", home]);
    let st = json(&["localnet", "status", "--home", home, "--output", "json"]);
    assert_eq!(st["nodes"][0]["running"], false, "{st}");
}

#[test]
fn localnet_init_with_node_ips_writes_homes_without_starting() {
    if !cometbft_present() {
        eprintln!("NOTICE: cometbft is not installed; skipping localnet init test");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("ln");
    let home = home.to_str().unwrap();
    let ips = ["10.200.0.1", "10.200.0.2", "10.200.0.3"];
    ok(&[
        "localnet",
        "init",
        "--validators",
        "3",
        "--home",
        home,
        "--node-ips",
        &ips.join(","),
    ]);
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{home}/localnet.json")).unwrap())
            .unwrap();
    let nodes = manifest["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3);
    assert!(Path::new(&format!("{home}/accounts.json")).exists());
    // Nothing was started.
    assert!(!Path::new(&format!("{home}/localnet.pids")).exists());
    for (i, n) in nodes.iter().enumerate() {
        let cfg =
            std::fs::read_to_string(format!("{home}/node{i}/cometbft/config/config.toml")).unwrap();
        let cfg: toml::Value = cfg.parse().unwrap();
        let p2p_port = n["p2p_port"].as_u64().unwrap();
        assert_eq!(
            cfg["p2p"]["laddr"].as_str().unwrap(),
            format!("tcp://0.0.0.0:{p2p_port}")
        );
        // Every other node, at its own address and P2P port.
        let mut want: Vec<String> = nodes
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(j, p)| {
                format!(
                    "{}@{}:{}",
                    p["node_id"].as_str().unwrap(),
                    ips[j],
                    p["p2p_port"].as_u64().unwrap()
                )
            })
            .collect();
        let mut got: Vec<String> = cfg["p2p"]["persistent_peers"]
            .as_str()
            .unwrap()
            .split(',')
            .map(str::to_string)
            .collect();
        want.sort();
        got.sort();
        assert_eq!(got, want, "persistent_peers of node{i}");
        assert!(cfg["rpc"]["laddr"]
            .as_str()
            .unwrap()
            .starts_with("tcp://127.0.0.1:"));
    }
    // One address per validator, or a clear error.
    let out = ve(&[
        "localnet",
        "init",
        "--validators",
        "2",
        "--home",
        home,
        "--node-ips",
        "10.200.0.1",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("one per validator"));
}
