//! The one CometBFT RPC call the node tooling needs (`/status`), kept here so that
//! `localnet` and `status` do not depend on the full client.

use std::time::Duration;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// What `/status` tells about a node (JSON field names are stable output).
#[derive(Debug, Clone, Serialize)]
pub struct NodeStatus {
    pub node_id: String,
    pub moniker: String,
    pub network: String,
    pub version: String,
    pub latest_block_height: u64,
    pub latest_block_hash: String,
    pub latest_app_hash: String,
    pub latest_block_time: String,
    pub catching_up: bool,
}

#[derive(Deserialize)]
struct Envelope {
    result: Option<RawStatus>,
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawStatus {
    node_info: RawNodeInfo,
    sync_info: RawSyncInfo,
}

#[derive(Deserialize)]
struct RawNodeInfo {
    id: String,
    network: String,
    version: String,
    moniker: String,
}

#[derive(Deserialize)]
struct RawSyncInfo {
    latest_block_hash: String,
    latest_app_hash: String,
    latest_block_height: String,
    latest_block_time: String,
    catching_up: bool,
}

/// A shared HTTP client with a short timeout: status checks must not hang.
pub fn http() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .context("building HTTP client")
}

/// `GET <rpc>/status`.
pub async fn status(http: &reqwest::Client, rpc: &str) -> Result<NodeStatus> {
    let url = format!("{}/status", rpc.trim_end_matches('/'));
    let env: Envelope = http
        .get(&url)
        .send()
        .await
        .with_context(|| {
            format!("no answer from CometBFT RPC at {rpc} (is the node running? see --node)")
        })?
        .json()
        .await
        .with_context(|| format!("unexpected /status response from {rpc}"))?;
    let r = match (env.result, env.error) {
        (Some(r), _) => r,
        (None, e) => anyhow::bail!(
            "CometBFT RPC {rpc} returned an error: {}",
            e.unwrap_or_default()
        ),
    };
    Ok(NodeStatus {
        node_id: r.node_info.id,
        moniker: r.node_info.moniker,
        network: r.node_info.network,
        version: r.node_info.version,
        latest_block_height: r
            .sync_info
            .latest_block_height
            .parse()
            .context("latest_block_height is not a number")?,
        latest_block_hash: r.sync_info.latest_block_hash,
        latest_app_hash: r.sync_info.latest_app_hash,
        latest_block_time: r.sync_info.latest_block_time,
        catching_up: r.sync_info.catching_up,
    })
}
