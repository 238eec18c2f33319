//! The one place `start` reaches into the REST/gRPC gateway (`crate::gateway`, written
//! separately), so the node code does not change when the gateway does.

use crate::config::AppToml;

/// Spawns the REST and gRPC servers configured in app.toml.
pub fn start(_app: &ve_app::App, cfg: &AppToml) {
    // GATEWAY CALL SITE: replace with
    //   tokio::spawn(crate::gateway::serve_rest(app.clone(), cfg.abci.cometbft_rpc.clone(), cfg.api.address));
    //   tokio::spawn(crate::gateway::serve_grpc(app.clone(), cfg.abci.cometbft_rpc.clone(), cfg.grpc.address));
    // once `src/gateway/mod.rs` exists.
    if cfg.api.enable || cfg.grpc.enable {
        tracing::warn!("REST/gRPC gateway is not built into this binary yet");
    }
}
