//! `virtengine status`: what the node at --node says about itself and the chain.
//!
//! [`node_status`] is also what `localnet` uses to watch its nodes.

use std::time::Duration;

use anyhow::{anyhow, Result};
use clap::Args;
use serde::Serialize;
use ve_client::{RpcClient, RpcError};

use crate::cli::output::{print_json, OutputFormat};
use crate::cli::NodeArgs;

/// Status checks must not hang on a node that accepts connections but does not answer.
const STATUS_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  virtengine status\n  virtengine status --node http://10.0.0.5:26657 --output json"
)]
pub struct StatusArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

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

/// An RPC client for status checks (short timeout).
pub fn status_client(rpc: &str) -> Result<RpcClient> {
    RpcClient::with_timeout(rpc, STATUS_TIMEOUT).map_err(|e| anyhow!(e))
}

/// `/status` of the node behind `client`.
pub async fn node_status(client: &RpcClient) -> Result<NodeStatus> {
    let rpc = client.url();
    let s = client.status().await.map_err(|e| match e {
        RpcError::Transport { reason, .. } => anyhow!(reason).context(format!(
            "no answer from CometBFT RPC at {rpc} (is the node running? see --node)"
        )),
        RpcError::Rpc {
            code,
            message,
            data,
            ..
        } => anyhow!(
            "CometBFT RPC {rpc} returned an error: {}",
            serde_json::json!({"code": code, "message": message, "data": data})
        ),
        other => anyhow!(other).context(format!("unexpected /status response from {rpc}")),
    })?;
    Ok(NodeStatus {
        node_id: s.node_info.id,
        moniker: s.node_info.moniker,
        network: s.node_info.network,
        version: s.node_info.version,
        latest_block_height: s.sync_info.latest_block_height,
        latest_block_hash: hex::encode_upper(&s.sync_info.latest_block_hash),
        latest_app_hash: hex::encode_upper(&s.sync_info.latest_app_hash),
        latest_block_time: s.sync_info.latest_block_time,
        catching_up: s.sync_info.catching_up,
    })
}

pub async fn run(args: StatusArgs) -> Result<()> {
    let s = node_status(&status_client(&args.node.node)?).await?;
    match args.output {
        OutputFormat::Json => print_json(&s),
        OutputFormat::Text => {
            println!("node id:       {}", s.node_id);
            println!("moniker:       {}", s.moniker);
            println!("network:       {}", s.network);
            println!("version:       {}", s.version);
            println!("latest height: {}", s.latest_block_height);
            println!("latest time:   {}", s.latest_block_time);
            println!("app hash:      {}", s.latest_app_hash);
            println!("catching up:   {}", s.catching_up);
            Ok(())
        }
    }
}
