//! Command implementations for the client side (keys, tx, query, status) and for
//! setting up a node home (init, genesis).

pub mod audit;
pub mod cert;
pub mod deploy;
pub mod deployment;
pub mod dns_attestor;
pub mod enclave;
pub mod enclave_otp;
pub mod encryption;
pub mod envelope;
pub mod escrow;
pub mod export;
pub mod genesis;
pub mod hpc;
pub mod hpc_run;
pub mod identity;
pub mod init;
pub mod keys;
pub mod lease;
pub mod market;
pub mod market_usage;
pub mod mfa;
pub mod offering;
pub mod output;
pub mod prompt;
pub mod provider;
pub mod provider_daemon;
pub mod query;
pub mod status;
pub mod tx;

use clap::Args;

/// Where the chain is: defaults point at a local `virtengine localnet`.
#[derive(Debug, Clone, Args)]
pub struct NodeArgs {
    /// CometBFT RPC endpoint of a node.
    #[arg(
        long,
        global = true,
        env = "VIRTENGINE_NODE",
        default_value = "http://127.0.0.1:26657"
    )]
    pub node: String,
}

/// Which chain to sign for.
#[derive(Debug, Clone, Args)]
pub struct ChainArgs {
    /// Chain id the transaction is signed for.
    #[arg(
        long,
        global = true,
        env = "VIRTENGINE_CHAIN_ID",
        default_value = "virtengine-localnet-1"
    )]
    pub chain_id: String,
}
