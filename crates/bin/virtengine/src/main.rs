//! `virtengine`: the one VirtEngine binary — node, localnet, keys, transactions, queries.
//!
//! This file is only the command tree; each command lives in its own module.

mod bench;
mod cli;
mod config;
mod gateway;
mod gateway_link;
mod genesis_file;
mod home;
mod localnet;
mod logging;
mod node;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "virtengine",
    version,
    about = "VirtEngine node, localnet, wallet and client",
    after_help = "Quick start:\n  \
        virtengine localnet start --detach          # a 1-validator chain on the default ports\n  \
        virtengine keys list                        # its funded test accounts\n  \
        virtengine query bank balances $(virtengine keys show alice -a)\n  \
        virtengine tx bank send alice $(virtengine keys show bob -a) 1000uve --fees 5000uve --yes\n  \
        virtengine localnet stop\n\n\
        Environment: VIRTENGINE_NODE (--node), VIRTENGINE_CHAIN_ID (--chain-id),\n\
        VIRTENGINE_HOME (--home), VIRTENGINE_KEYRING_BACKEND (--keyring-backend),\n\
        COMETBFT_BIN (path of the cometbft binary)."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

// Parsed once at start-up: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Cmd {
    /// Create a node home: CometBFT config and keys, app.toml, genesis.json.
    Init(cli::init::InitArgs),
    /// Edit and check genesis.json before the chain starts.
    Genesis(cli::genesis::GenesisArgs),
    /// Run a node: the application and a supervised CometBFT.
    Start(node::start::StartArgs),
    /// Run a local development chain.
    Localnet(localnet::LocalnetArgs),
    /// Manage keys in the local keyring.
    Keys(cli::keys::KeysArgs),
    /// Sign and broadcast transactions (waits for inclusion).
    Tx(cli::tx::TxArgs),
    /// Query chain state.
    #[command(alias = "q")]
    Query(cli::query::QueryArgs),
    /// Seal and open envelopes offline (multi-recipient encryption, docs/envelope.md).
    Envelope(cli::envelope::EnvelopeArgs),
    /// Show the status of a node.
    Status(cli::status::StatusArgs),
    /// The identity-scoring enclave service beside a validator (simulated platform).
    Enclave(cli::enclave::EnclaveArgs),
    /// Write the state of a stopped node as a new genesis.json (chain restart, hard fork).
    Export(cli::export::ExportArgs),
    /// Provider operations: `provider run` starts the provider daemon (bids on orders).
    Provider(cli::provider_daemon::ProviderArgs),
    /// HPC jobs: `hpc run SCRIPT --offering ID` submits a batch script, waits, prints output and cost.
    Hpc(cli::hpc_run::HpcArgs),
    /// Deploy an SDL file in one step: deployment, best bid, lease, manifest, endpoints.
    Deploy(cli::deploy::DeployArgs),
    /// A tenant's lease: status and logs from its provider, close.
    Lease(cli::lease::LeaseArgs),
    /// DNS attestor for provider domain verification: keygen, attest once, or run the service.
    DnsAttestor(cli::dns_attestor::DnsAttestorArgs),
    /// Benchmarks against a running chain.
    Bench {
        #[command(subcommand)]
        cmd: BenchCmd,
    },
}

#[derive(Debug, Subcommand)]
enum BenchCmd {
    /// Pre-sign bank sends from many accounts, submit them over CometBFT RPC, and report
    /// committed tx/s and latency percentiles.
    Load(bench::LoadArgs),
}

#[tokio::main]
async fn main() {
    let args = Cli::parse();
    let res = match args.cmd {
        Cmd::Init(a) => cli::init::run(a),
        Cmd::Genesis(a) => cli::genesis::run(a),
        Cmd::Start(a) => node::start::run(a).await,
        Cmd::Localnet(a) => localnet::run(a).await,
        Cmd::Keys(a) => cli::keys::run(a),
        Cmd::Tx(a) => cli::tx::run(a).await,
        Cmd::Query(a) => cli::query::run(a).await,
        Cmd::Status(a) => cli::status::run(a).await,
        Cmd::Envelope(a) => cli::envelope::run(a),
        Cmd::Export(a) => cli::export::run(a),
        Cmd::Enclave(a) => cli::enclave::run(a).await,
        Cmd::DnsAttestor(a) => cli::dns_attestor::run(a).await,
        Cmd::Provider(a) => cli::provider_daemon::run(a).await,
        Cmd::Hpc(a) => cli::hpc_run::run(a).await,
        Cmd::Deploy(a) => cli::deploy::run(a).await,
        Cmd::Lease(a) => cli::lease::run(a).await,
        Cmd::Bench {
            cmd: BenchCmd::Load(a),
        } => bench::load::main(a).await,
    };
    if let Err(e) = res {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}
