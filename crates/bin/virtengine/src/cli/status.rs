//! `virtengine status`: what the node at --node says about itself and the chain.

use anyhow::Result;
use clap::Args;

use crate::cli::output::{print_json, OutputFormat};
use crate::cli::NodeArgs;
use crate::rpc_status;

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

pub async fn run(args: StatusArgs) -> Result<()> {
    let s = rpc_status::status(&rpc_status::http()?, &args.node.node).await?;
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
