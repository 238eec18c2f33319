//! `virtengine start`: the application's ABCI server, the REST/gRPC gateway, the
//! metrics endpoint, and CometBFT as a supervised child process.
//!
//! Shutdown order matters: CometBFT is stopped first, so it never sees the application
//! disappear in the middle of a block; only then does our process exit.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use tokio::signal::unix::{signal, SignalKind};

use crate::config::AppToml;
use crate::home::{self, NodeHome};
use crate::logging::{self, LogFormat};
use crate::node::supervise;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    virtengine start                       # home ~/.virtengine\n  \
    virtengine start --home /tmp/node0 --log-format json\n\n\
    Settings are read from <home>/config/app.toml (ours) and <home>/cometbft/config/config.toml\n\
    (CometBFT's). CometBFT's output goes to <home>/logs/cometbft.log.")]
pub struct StartArgs {
    /// Node home directory [default: ~/.virtengine].
    #[arg(long, env = "VIRTENGINE_HOME")]
    pub home: Option<PathBuf>,
    /// Log format [default: app.toml's log.format].
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Log filter, e.g. `info` or `debug,tower_abci=info` [default: app.toml's log.level].
    #[arg(long)]
    pub log_level: Option<String>,
}

pub async fn run(args: StartArgs) -> Result<()> {
    let home = NodeHome::new(home::resolve(
        args.home.as_deref(),
        home::DEFAULT_NODE_HOME,
    )?);
    home.ensure_initialised()?;
    let cfg = AppToml::load(&home.app_toml())?;
    let format = match args.log_format {
        Some(f) => f,
        None => LogFormat::parse(&cfg.log.format)?,
    };
    logging::init(format, args.log_level.as_deref().unwrap_or(&cfg.log.level));
    let cometbft_bin = home::find_cometbft()?;

    // Signals first, so a Ctrl-C during start-up is not lost.
    let mut sigterm = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;
    let mut sigint = signal(SignalKind::interrupt()).context("installing SIGINT handler")?;

    let app_config = ve_app::AppConfig {
        storage: ve_storage::StorageConfig {
            retain_versions: match cfg.storage.retain_versions {
                0 => None,
                n => Some(n),
            },
        },
    };
    std::fs::create_dir_all(home.app_data())
        .with_context(|| format!("creating {}", home.app_data().display()))?;
    let app = ve_app::App::open(&home.app_data(), app_config).map_err(|e| {
        anyhow::anyhow!(
            "opening application state at {}: {e}",
            home.app_data().display()
        )
    })?;
    let app = if cfg.enclave.socket.is_empty() {
        app
    } else {
        tracing::info!(socket = %cfg.enclave.socket, "identity scoring through the enclave service");
        app.with_score_source(std::sync::Arc::new(
            crate::node::enclave_source::EnclaveSource::new(&cfg.enclave.socket),
        ))
    };
    let app = if cfg.fault.tamper_injected_scores {
        tracing::warn!(
            "FAULT INJECTION ON (app.toml [fault] tamper_injected_scores): this node proposes TAMPERED \
             identity-score transactions while the chain allows simulated enclaves; for tests only"
        );
        app.with_scoring_faults(ve_app::scoring::fault::Faults {
            tamper_injected_scores: true,
        })
    } else {
        app
    };
    tracing::info!(home = %home.root.display(), "application state opened");

    let abci_addr = cfg.abci.address.clone();
    let abci_app = app.clone();
    let mut abci = tokio::spawn(async move { serve_abci(abci_app, &abci_addr).await });
    wait_for_abci(&cfg.abci.address, &mut abci).await?;
    tracing::info!(address = %cfg.abci.address, "ABCI server listening");

    start_gateway(&app, &cfg);

    let log = home.cometbft_log();
    let mut cmd = tokio::process::Command::new(&cometbft_bin);
    cmd.arg("start").arg("--home").arg(home.cometbft_home());
    let mut child = supervise::spawn_logged(cmd, &log)
        .with_context(|| format!("starting {}", cometbft_bin.display()))?;
    tracing::info!(pid = child.id(), log = %log.display(), "CometBFT started");

    let outcome = tokio::select! {
        _ = sigterm.recv() => Outcome::Signal("SIGTERM"),
        _ = sigint.recv() => Outcome::Signal("SIGINT"),
        status = child.wait() => Outcome::CometExited(status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string())),
        res = &mut abci => Outcome::AbciStopped(match res {
            Ok(Ok(())) => "ABCI server stopped".to_string(),
            Ok(Err(e)) => format!("{e:#}"),
            Err(e) => format!("ABCI server task failed: {e}"),
        }),
    };
    match outcome {
        Outcome::Signal(name) => {
            tracing::info!(signal = name, "stopping CometBFT");
            let status = supervise::terminate(&mut child, supervise::STOP_TIMEOUT).await?;
            tracing::info!(%status, "CometBFT stopped; exiting");
            Ok(())
        }
        Outcome::CometExited(status) => {
            bail!(
                "CometBFT exited unexpectedly ({status}); last lines of {}:\n{}",
                log.display(),
                supervise::tail(&log, 30)
            )
        }
        Outcome::AbciStopped(why) => {
            supervise::terminate(&mut child, supervise::STOP_TIMEOUT)
                .await
                .ok();
            bail!("the ABCI server stopped: {why}; CometBFT was stopped too")
        }
    }
}

enum Outcome {
    Signal(&'static str),
    CometExited(String),
    AbciStopped(String),
}

async fn serve_abci(app: ve_app::App, address: &str) -> Result<()> {
    if let Some(path) = address.strip_prefix("unix://") {
        // A stale socket from a previous run would make bind fail.
        let _ = std::fs::remove_file(path);
        app.serve_unix(path)
            .await
            .map_err(|e| anyhow::anyhow!("ABCI server on {address}: {e}"))
    } else {
        let addr = address.strip_prefix("tcp://").unwrap_or(address);
        app.serve_tcp(addr)
            .await
            .map_err(|e| anyhow::anyhow!("ABCI server on {address}: {e}"))
    }
}

/// Waits until the ABCI server accepts connections, so CometBFT (which gives up if
/// it cannot connect) starts against a listening socket.
async fn wait_for_abci(
    address: &str,
    task: &mut tokio::task::JoinHandle<Result<()>>,
) -> Result<()> {
    for _ in 0..100 {
        if task.is_finished() {
            return match task.await {
                Ok(Ok(())) => bail!("the ABCI server on {address} stopped during start-up"),
                Ok(Err(e)) => Err(e).context(
                    "the ABCI server could not start (is another node using the port? see app.toml abci.address)",
                ),
                Err(e) => bail!("the ABCI server task failed: {e}"),
            };
        }
        let up = if let Some(path) = address.strip_prefix("unix://") {
            tokio::net::UnixStream::connect(path).await.is_ok()
        } else {
            let addr = address.strip_prefix("tcp://").unwrap_or(address);
            tokio::net::TcpStream::connect(addr).await.is_ok()
        };
        if up {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the ABCI server did not start listening on {address} within 10 s")
}

/// Starts the REST/gRPC gateway and the metrics endpoint (owned by `crate::gateway`).
fn start_gateway(app: &ve_app::App, cfg: &AppToml) {
    crate::gateway_link::start(app, cfg);
}
