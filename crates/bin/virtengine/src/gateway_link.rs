//! The one place `start` reaches into the REST/gRPC gateway and metrics exporter
//! (`crate::gateway`, written separately), so the node code does not change when the
//! gateway does. Each server runs as its own task; a failure (e.g. the port is taken) is
//! logged and does not stop consensus, since the node is still useful without it.

use crate::config::AppToml;

/// Spawns the REST, gRPC and metrics servers enabled in app.toml.
pub fn start(app: &ve_app::App, cfg: &AppToml) {
    let rpc = cfg.abci.cometbft_rpc.clone();
    if cfg.api.enable {
        let (app, rpc, addr) = (app.clone(), rpc.clone(), cfg.api.address);
        tokio::spawn(async move {
            tracing::info!(%addr, "REST gateway listening");
            if let Err(e) = crate::gateway::serve_rest(app, rpc, addr).await {
                tracing::error!(%addr, error = format!("{e:#}"), "REST gateway stopped (is the port in use? see app.toml [api])");
            }
        });
    }
    if cfg.grpc.enable {
        let (app, addr) = (app.clone(), cfg.grpc.address);
        tokio::spawn(async move {
            tracing::info!(%addr, "gRPC gateway listening");
            if let Err(e) = crate::gateway::serve_grpc(app, rpc, addr).await {
                tracing::error!(%addr, error = format!("{e:#}"), "gRPC gateway stopped (is the port in use? see app.toml [grpc])");
            }
        });
    }
    if cfg.metrics.enable {
        let addr = cfg.metrics.address;
        tokio::spawn(async move {
            tracing::info!(%addr, "Prometheus metrics at /metrics");
            if let Err(e) = crate::gateway::serve_metrics(addr).await {
                tracing::error!(%addr, error = format!("{e:#}"), "metrics endpoint stopped (is the port in use? see app.toml [metrics])");
            }
        });
    }
}
