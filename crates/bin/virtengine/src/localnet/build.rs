//! Building a fresh localnet: N node homes, one shared genesis with every validator
//! and the funded test accounts, and peers wired between the nodes.

use std::net::IpAddr;
use std::path::Path;

use anyhow::{bail, Context, Result};
use ve_client::capture::ClientKey;
use ve_client::{Backend, Keyring};
use ve_types::Coins;

use super::{
    Account, BuildArgs, Manifest, NodeEntry, VeidSetup, ACCOUNTS, ACCOUNT_BALANCE,
    CAPTURE_CLIENT_ID, CAPTURE_CLIENT_KEY_FILE, CHAIN_ID, NODE_PORT_STRIDE,
};
use crate::cli::init::{init_node, InitParams};
use crate::config::Ports;
use crate::genesis_file::{ConsensusSettings, GenesisFile};
use crate::home::NodeHome;
use crate::node::cometbft::{self, ConfigEdits};

/// Removes a previous localnet in `home`, refusing to touch a directory that does
/// not look like one (so a mistyped --home cannot wipe someone's files).
pub fn wipe(home: &Path) -> Result<()> {
    if !home.exists() {
        return Ok(());
    }
    let mut entries = std::fs::read_dir(home)
        .with_context(|| format!("reading {}", home.display()))?
        .peekable();
    let empty = entries.peek().is_none();
    let ours = super::manifest_path(home).exists()
        || home.join("accounts.json").exists()
        || home.join("node0").join("config").join("app.toml").exists();
    if !empty && !ours {
        bail!(
            "refusing to wipe {}: it is not empty and does not look like a localnet home; pick another --home",
            home.display()
        );
    }
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", home.display()))?;
        let p = entry.path();
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        }
        .with_context(|| format!("removing {}", p.display()))?;
    }
    Ok(())
}

/// Creates the chain; returns what was built (also written to localnet.json). With
/// `node_ips` (one per validator), peers dial node i at `node_ips[i]` and P2P listens on
/// all addresses; empty means every node on 127.0.0.1.
pub fn build(home: &Path, args: &BuildArgs, node_ips: &[IpAddr]) -> Result<Manifest> {
    if args.validators == 0 {
        bail!("--validators must be at least 1");
    }
    if !node_ips.is_empty() && node_ips.len() != usize::from(args.validators) {
        bail!(
            "--node-ips has {} address(es) for {} validator(s): give one per validator",
            node_ips.len(),
            args.validators
        );
    }
    let host_of = |i: usize| -> String {
        match node_ips.get(i) {
            Some(IpAddr::V6(ip)) => format!("[{ip}]"),
            Some(ip) => ip.to_string(),
            None => "127.0.0.1".into(),
        }
    };
    std::fs::create_dir_all(home).with_context(|| format!("creating {}", home.display()))?;
    let mut nodes = Vec::new();
    let mut homes = Vec::new();
    for i in 0..args.validators {
        let offset = i
            .checked_mul(NODE_PORT_STRIDE)
            .and_then(|o| o.checked_add(args.port_offset))
            .context(
                "too many validators for the port range: lower --validators or --port-offset",
            )?;
        let ports = Ports::with_offset(offset)?;
        let name = format!("node{i}");
        let node_home = NodeHome::new(home.join(&name));
        let summary = init_node(&InitParams {
            moniker: name.clone(),
            chain_id: CHAIN_ID.into(),
            home: node_home.clone(),
            ports,
            timeout_commit: args.timeout_commit.clone(),
            consensus: ConsensusSettings {
                block_max_bytes: args.block_max_bytes,
                ..ConsensusSettings::default()
            },
            mempool_size: args.mempool_size,
            self_validator: false,
            overwrite: true,
            local_cluster: true,
        })
        .with_context(|| format!("initialising {name}"))?;
        nodes.push((
            NodeEntry::new(name, node_home.root.clone(), summary.node_id, &ports),
            ports,
        ));
        homes.push(node_home);
    }

    // One genesis, built in node0 and copied to the others.
    let first = homes.first().context("no nodes")?;
    let mut genesis = GenesisFile::load(&first.genesis())?;
    let mut consensus_addresses = Vec::new();
    for (h, (n, _)) in homes.iter().zip(&nodes) {
        let key = cometbft::read_validator_key(h)?;
        consensus_addresses.push(genesis.upsert_validator(&key.pub_key, 10, &n.name)?);
    }
    // Identity scores travel in vote extensions (docs/scoring-consensus.md).
    genesis.set_vote_extensions_enable_height(1)?;
    let keyring = Keyring::open(home, Backend::Test).context("opening the test keyring")?;
    let balance: Coins = ACCOUNT_BALANCE
        .parse()
        .map_err(|e| anyhow::anyhow!("bad built-in balance: {e}"))?;
    let mut state = genesis.app_state()?;
    let mut accounts = Vec::new();
    for name in ACCOUNTS {
        let (info, phrase) = keyring
            .add(name, None, "")
            .with_context(|| format!("creating test key {name}"))?;
        state
            .add_account(info.address, &balance)
            .map_err(|e| anyhow::anyhow!("funding {name}: {e}"))?;
        accounts.push(Account {
            name: name.to_string(),
            address: info.address.to_string(),
            mnemonic: phrase.to_string(),
        });
    }
    let operator = accounts
        .iter()
        .find(|a| a.name == "operator")
        .context("no operator test account")?
        .address
        .parse::<ve_types::Address>()
        .map_err(|e| anyhow::anyhow!("operator address: {e}"))?;
    let validators = homes
        .iter()
        .zip(&nodes)
        .zip(consensus_addresses)
        .map(|((h, (n, ports)), consensus_address)| {
            Ok(super::enclave::Validator {
                name: &n.name,
                home: h,
                consensus_address,
                rpc: n.rpc.clone(),
                otp_port: super::enclave::otp_port(ports)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let enclaves = super::enclave::setup(home, &validators, &keyring, &mut state, operator)?;
    let provider = if args.provider_daemon {
        let address = &accounts
            .iter()
            .find(|a| a.name == "provider")
            .context("no provider test account")?
            .address;
        let rpc = &nodes.first().context("no nodes")?.0.rpc;
        Some(super::provider::setup(
            home,
            &mut state,
            address,
            rpc,
            args.port_offset,
        )?)
    } else {
        None
    };
    let veid = veid_setup(home, &mut state, enclaves)?;
    // The `operator` test account administers the localnet (a roles genesis account: it
    // may change MFA rules).
    if !state.roles.genesis_accounts.contains(&operator) {
        state.roles.genesis_accounts.push(operator);
    }
    genesis.set_app_state(&state)?;
    genesis
        .validate()
        .context("the generated genesis is invalid")?;
    for h in &homes {
        genesis.save(&h.genesis())?;
    }

    // Every node dials every other one.
    for (i, (h, (n, ports))) in homes.iter().zip(&nodes).enumerate() {
        let peers: Vec<String> = nodes
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(j, (p, pp))| format!("{}@{}:{}", p.node_id, host_of(j), pp.p2p))
            .collect();
        cometbft::edit_config(
            h,
            &ConfigEdits {
                moniker: n.name.clone(),
                ports: *ports,
                proxy_app: format!("tcp://127.0.0.1:{}", ports.abci),
                timeout_commit: args.timeout_commit.clone(),
                mempool_size: args.mempool_size,
                persistent_peers: peers.join(","),
                local_cluster: true,
            },
        )?;
        if !node_ips.is_empty() {
            listen_p2p_everywhere(h, ports.p2p)?;
        }
    }

    let manifest = Manifest {
        chain_id: CHAIN_ID.into(),
        nodes: nodes.into_iter().map(|(n, _)| n).collect(),
        veid: Some(veid),
        provider,
    };
    write_json(&super::manifest_path(home), &manifest)?;
    write_json(&home.join("accounts.json"), &accounts)?;
    Ok(manifest)
}

/// VEID on a localnet: one approved test capture client (config genesis; its key in
/// `<home>/capture-client.key`) beside the validators' enclaves (the recipient set).
fn veid_setup(
    home: &Path,
    state: &mut ve_app::AppGenesis,
    enclaves: super::enclave::Setup,
) -> Result<VeidSetup> {
    let client = ClientKey::generate_ed25519(CAPTURE_CLIENT_ID);
    let client_file = home.join(CAPTURE_CLIENT_KEY_FILE);
    client
        .save(
            &client_file,
            "approved VEID capture client of this localnet (test only): registered in the config module's genesis",
        )
        .context("writing the localnet capture client key")?;
    state.config.clients.push(ve_config::GenesisClient {
        client_id: CAPTURE_CLIENT_ID.into(),
        name: "Localnet test capture client".into(),
        description: "virtengine CLI capture client of a localnet; its key is in the localnet home"
            .into(),
        key_type: client.key_type().into(),
        public_key: client.public_key_hex(),
        min_version: String::new(),
        max_version: String::new(),
        allowed_scopes: vec![],
    });
    Ok(VeidSetup {
        capture_client_id: CAPTURE_CLIENT_ID.into(),
        capture_client_key: client_file,
        capture_client_public_key: client.public_key_hex(),
        simulated_platform_key: enclaves.platform_key,
        enclaves: enclaves.entries,
    })
}

/// `p2p.laddr = tcp://0.0.0.0:<port>`: the node is dialled at its own address.
fn listen_p2p_everywhere(h: &NodeHome, port: u16) -> Result<()> {
    let path = h.cometbft_config();
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .with_context(|| format!("parsing {}", path.display()))?;
    doc["p2p"]["laddr"] = toml_edit::value(format!("tcp://0.0.0.0:{port}"));
    std::fs::write(&path, doc.to_string()).with_context(|| format!("writing {}", path.display()))
}

fn write_json<T: serde::Serialize>(path: &Path, v: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(v).context("serialising")?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}
