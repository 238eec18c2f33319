//! The run loop of `virtengine provider run`.
//!
//! Each turn waits for a notice — a `NewBlock` from the websocket subscription or, when
//! that is down or quiet, a poll tick — then ingests every committed height up to it
//! (see [`crate::ingest`]) and runs one bid-worker round. The websocket only says *when*
//! to look; *what* happened always comes from `/block_results` of committed heights, so
//! a dropped connection or a restart loses nothing. RPC failures are logged, counted
//! and retried; they never release a reservation or touch a lease.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ve_client::ws::{self, Subscription, QUERY_NEW_BLOCK};
use ve_client::{Backend, Client, Keyring};

use crate::api::server::ApiState;
use crate::chain::Chain;
use crate::config::Config;
use crate::decision::Policy;
use crate::engine::{BidEngine, BidSettings};
use crate::error::DaemonError;
use crate::hpc::HpcWorker;
use crate::ingest::{BlockSource, Ingestor, Notice};
use crate::inventory;
use crate::lease::LeaseWorker;
use crate::metrics;
use crate::store::Store;

/// Environment variable holding the passphrase of a `file` keyring.
pub const PASSPHRASE_ENV: &str = "VE_PROVIDER_PASSPHRASE";
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What [`build`] opens.
pub struct Parts {
    pub engine: BidEngine,
    pub store: Arc<Store>,
    /// The workload back end, if `[capacity]` names one.
    pub backend: Option<Arc<dyn ve_backend::Backend>>,
    /// Samples the back end's memory use while the daemon runs.
    pub sampler: Option<ve_backend::process::Sampler>,
}

/// Opens the keyring, the state database, the workload back end and the chain connection.
pub async fn build(config: &Config) -> Result<Parts, DaemonError> {
    let backend: Backend = config.key.keyring_backend.parse()?;
    let kr = Keyring::open(&config.key.keyring_dir, backend)?;
    let pass = match backend {
        Backend::Test => String::new(),
        Backend::File => std::env::var(PASSPHRASE_ENV).map_err(|_| {
            DaemonError::Config(format!(
                "the file keyring needs its passphrase in ${PASSPHRASE_ENV}"
            ))
        })?,
    };
    let key = kr.signer(&config.key.name, &pass)?;
    let provider = key.public_key().address();
    if let Some(want) = &config.key.provider {
        if *want != provider.to_string() {
            return Err(DaemonError::Config(format!(
                "key.provider is {want} but key {:?} is {provider}",
                config.key.name
            )));
        }
    }
    let client = match &config.chain.chain_id {
        Some(id) => Client::new(&config.chain.rpc, id.clone())?,
        None => Client::connect(&config.chain.rpc).await?,
    };
    let deposit = config.deposit()?;
    let capacity = inventory::from_config(&config.capacity, &config.state_dir)?;
    let engine = BidEngine {
        chain: Arc::new(Chain {
            client,
            key,
            provider,
            fees: config.fees()?,
            gas: config.bid.gas,
        }),
        settings: BidSettings {
            policy: Policy {
                denom: deposit.denom.clone(),
                min_tenant_tier: config.bid.min_tenant_tier,
                require_tenant_mfa: config.bid.require_tenant_mfa,
            },
            deposit,
            timeout_blocks: config.bid.timeout_blocks,
            max_attempts: config.bid.max_attempts,
        },
        pricing: config.pricing()?,
        inventory: capacity.inventory,
    };
    let store = Arc::new(Store::open(&config.state_dir)?);
    Ok(Parts {
        engine,
        store,
        backend: capacity.backend,
        sampler: capacity.sampler,
    })
}

/// Starts the lease worker and the tenant API if `[leases]` is configured.
async fn start_leases(config: &Config, parts: &Parts) -> Result<Option<LeaseWorker>, DaemonError> {
    let (Some(lc), Some(backend)) = (&config.leases, &parts.backend) else {
        return Ok(None);
    };
    let worker = LeaseWorker::new(
        Arc::clone(backend),
        Duration::from_secs(lc.usage_interval_secs),
    );
    // Before serving: workloads of leases that closed while the daemon was down go.
    if let Err(e) = worker.reconcile(&parts.engine.chain, &parts.store).await {
        tracing::warn!(error = %e, "reconciling the back end with the chain failed; retrying at the next start");
    }
    let listener = tokio::net::TcpListener::bind(&lc.api_listen)
        .await
        .map_err(|e| DaemonError::Config(format!("leases.api_listen {}: {e}", lc.api_listen)))?;
    let state = Arc::new(ApiState {
        chain: Arc::clone(&parts.engine.chain),
        store: Arc::clone(&parts.store),
        backend: Arc::clone(backend),
    });
    tracing::info!(listen = %lc.api_listen, "tenant API listening (manifests, status, logs)");
    tokio::spawn(async move {
        if let Err(e) = crate::api::server::serve(listener, state).await {
            tracing::error!(error = %e, "tenant API stopped");
        }
    });
    Ok(Some(worker))
}

/// Starts the Prometheus endpoint if configured.
pub fn serve_metrics(config: &Config) -> Result<(), DaemonError> {
    let Some(addr) = &config.metrics_addr else {
        return Ok(());
    };
    let addr: std::net::SocketAddr = addr
        .parse()
        .map_err(|e| DaemonError::Config(format!("metrics_addr {addr:?}: {e}")))?;
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .install()
        .map_err(|e| DaemonError::Config(format!("metrics endpoint {addr}: {e}")))?;
    metrics::describe();
    crate::hpc::metrics::describe();
    Ok(())
}

/// Runs until `shutdown` completes.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), DaemonError> {
    serve_metrics(&config)?;
    let parts = build(&config).await?;
    let leases = start_leases(&config, &parts).await?;
    let Parts {
        engine,
        store,
        sampler: _sampler,
        ..
    } = parts;
    let store = &*store;
    let chain = &*engine.chain;
    let start = match (store.checkpoint()?, config.start_height) {
        (Some(_), _) => 0, // the checkpoint decides
        (None, 0) => chain.settled_height().await?.max(1),
        (None, h) => h,
    };
    let ingestor = Ingestor::new(chain, start);
    let mut hpc = match &config.hpc {
        Some(h) => {
            let w = HpcWorker::new(h.clone(), store)?;
            w.check_slurm().await;
            Some(w)
        }
        None => None,
    };
    tracing::info!(
        provider = %chain.provider,
        checkpoint = ?store.checkpoint()?,
        next_height = ingestor.next_height(store)?,
        "provider daemon started; resuming from checkpoint"
    );
    let ws_url = ws::ws_url(&config.chain.rpc);
    let poll = config.poll_interval();
    let mut sub: Option<Subscription> = None;
    let mut backoff = Duration::from_secs(1);
    let mut next_connect = tokio::time::Instant::now();
    tokio::pin!(shutdown);
    loop {
        if sub.is_none() && tokio::time::Instant::now() >= next_connect {
            match ws::subscribe(&ws_url, QUERY_NEW_BLOCK).await {
                Ok(s) => {
                    tracing::info!(url = %ws_url, "subscribed to NewBlock");
                    sub = Some(s);
                    backoff = Duration::from_secs(1);
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "websocket down; polling");
                    next_connect = tokio::time::Instant::now() + backoff;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
        let notice = tokio::select! {
            () = &mut shutdown => break,
            n = next_notice(&mut sub, poll) => n,
        };
        let done = match ingestor.on_notice(store, notice).await {
            Ok(out) => {
                if out.applied.orders_seen > 0 {
                    metrics::counter_orders_seen(out.applied.orders_seen);
                }
                metrics::reservations("released", out.applied.released);
                true
            }
            Err(e) => {
                metrics::counter_rpc_error();
                tracing::warn!(error = %e, "ingestion stopped at the checkpoint; retrying");
                false
            }
        };
        let Some(cp) = store.checkpoint()? else {
            continue;
        };
        metrics::gauge_checkpoint(cp);
        if done {
            if let Err(e) = engine.round(store, cp).await {
                metrics::counter_rpc_error();
                tracing::warn!(error = %e, "bid round interrupted; retrying next block");
            }
            if let Some(w) = &leases {
                w.round(chain, store).await;
            }
            if let Some(w) = hpc.as_mut() {
                w.round(chain, store).await;
            }
        }
    }
    tracing::info!("provider daemon stopped");
    Ok(())
}

/// The next notice: a `NewBlock` height, or a tick after `poll` without one (or when
/// the subscription broke, which is then dropped for a reconnect).
async fn next_notice(sub: &mut Option<Subscription>, poll: Duration) -> Notice {
    let Some(s) = sub.as_mut() else {
        tokio::time::sleep(poll).await;
        return Notice::Tick;
    };
    match tokio::time::timeout(poll, s.next_event()).await {
        Ok(Some(Ok(ev))) => match ev.new_block_header() {
            Some(h) => Notice::NewBlock(h.height),
            None => Notice::Tick,
        },
        Ok(Some(Err(e))) => {
            tracing::warn!(error = %e, "websocket error; reconnecting");
            *sub = None;
            Notice::Tick
        }
        Ok(None) => {
            tracing::warn!("websocket closed by the node; reconnecting");
            *sub = None;
            Notice::Tick
        }
        Err(_) => Notice::Tick,
    }
}
