//! `virtengine provider run --config FILE`: the provider daemon (crate
//! `ve-provider-daemon`, docs/provider-daemon.md). It watches committed blocks, bids on
//! matching orders with the provider's keyring key and keeps its state in
//! `<state_dir>/state.redb`, resuming from its checkpoint after a restart.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use crate::logging::LogFormat;

#[derive(Debug, Args)]
pub struct ProviderArgs {
    #[command(subcommand)]
    pub cmd: ProviderCmd,
}

#[derive(Debug, Subcommand)]
pub enum ProviderCmd {
    /// Run the provider daemon: ingest blocks, screen orders, reserve capacity and bid.
    #[command(after_help = "Example:\n  \
        virtengine provider run --config provider-daemon.toml\n\n\
        The TOML file names the chain RPC, the keyring key that signs bids, pricing, the bid\n\
        deposit, capacity and the state directory; docs/provider-daemon.md has a full example.\n\
        Logs go to stderr (RUST_LOG=info by default). Stop with Ctrl-C or SIGTERM; a killed\n\
        daemon resumes from its checkpoint and never bids twice on an order.")]
    Run {
        /// The daemon's TOML configuration.
        #[arg(long)]
        config: PathBuf,
        /// Log format on stderr.
        #[arg(long, value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
    },
}

pub async fn run(args: ProviderArgs) -> Result<()> {
    match args.cmd {
        ProviderCmd::Run { config, log_format } => {
            let cfg = ve_provider_daemon::Config::load(&config)
                .with_context(|| "fix the config file (see docs/provider-daemon.md)")?;
            crate::logging::init(log_format, "info");
            ve_provider_daemon::daemon::run(cfg, shutdown_signal())
                .await
                .context("provider daemon failed (check the chain RPC endpoint and the key)")
        }
    }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}
