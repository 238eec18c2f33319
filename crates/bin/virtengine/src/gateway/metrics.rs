//! Prometheus metrics: an exporter on its own port and the gateway's own series.
//!
//! The `metrics` facade is global, so anything in the process (the app, the ABCI server) that
//! records `metrics::counter!` shows up on the same `/metrics` page once [`serve_metrics`] has
//! installed the recorder. Label values are bounded (query paths and route templates, never
//! addresses), so the series count cannot grow with user input.

use anyhow::Context;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

/// ABCI queries served by the gateway, labelled by `path` and result `code`.
pub const QUERIES_TOTAL: &str = "virtengine_gateway_queries_total";
/// Query latency in seconds, by `path`.
pub const QUERY_SECONDS: &str = "virtengine_gateway_query_duration_seconds";
/// REST requests, by matched `route`, `method` and HTTP `status`.
pub const REST_REQUESTS_TOTAL: &str = "virtengine_rest_requests_total";
/// REST latency in seconds, by `route`.
pub const REST_SECONDS: &str = "virtengine_rest_request_duration_seconds";
/// gRPC requests, by full `method` and gRPC `code`.
pub const GRPC_REQUESTS_TOTAL: &str = "virtengine_grpc_requests_total";
/// gRPC latency in seconds, by `method`.
pub const GRPC_SECONDS: &str = "virtengine_grpc_request_duration_seconds";

/// Histogram buckets (seconds) for request latencies: 100 µs to 10 s.
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the global Prometheus recorder (once per process) and returns its handle.
/// Later calls return the first handle, so tests and `serve_metrics` can both call it.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    if let Some(h) = HANDLE.get() {
        return Ok(h.clone());
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("duration_seconds".to_string()), BUCKETS)
        .context("configuring histogram buckets")?
        .build_recorder();
    let handle = recorder.handle();
    // Another thread may have won the race; only the winner's recorder is installed.
    if HANDLE.set(handle.clone()).is_ok() {
        metrics::set_global_recorder(recorder).context("installing the metrics recorder")?;
        describe();
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || loop {
                std::thread::sleep(Duration::from_secs(5));
                upkeep.run_upkeep();
            })
            .context("starting metrics upkeep thread")?;
    }
    HANDLE
        .get()
        .cloned()
        .context("metrics handle missing after install")
}

fn describe() {
    metrics::describe_counter!(
        QUERIES_TOTAL,
        "ABCI queries served by the REST/gRPC gateway"
    );
    metrics::describe_histogram!(
        QUERY_SECONDS,
        metrics::Unit::Seconds,
        "Gateway query latency"
    );
    metrics::describe_counter!(REST_REQUESTS_TOTAL, "REST (Cosmos LCD) requests");
    metrics::describe_histogram!(REST_SECONDS, metrics::Unit::Seconds, "REST request latency");
    metrics::describe_counter!(GRPC_REQUESTS_TOTAL, "gRPC requests");
    metrics::describe_histogram!(GRPC_SECONDS, metrics::Unit::Seconds, "gRPC request latency");
}

/// Serves `GET /metrics` in the Prometheus text format on `addr` until the task is dropped.
pub async fn serve_metrics(addr: SocketAddr) -> anyhow::Result<()> {
    let handle = install()?;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let h = handle.clone();
            async move { h.render() }
        }),
    );
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding metrics listener on {addr}"))?;
    tracing::info!(%addr, "Prometheus metrics listening");
    axum::serve(listener, app)
        .await
        .context("metrics server failed")
}

pub(crate) fn record_query(path: &str, code: u32, elapsed: Duration) {
    metrics::counter!(QUERIES_TOTAL, "path" => path.to_string(), "code" => code.to_string())
        .increment(1);
    metrics::histogram!(QUERY_SECONDS, "path" => path.to_string()).record(elapsed.as_secs_f64());
}

pub(crate) fn record_rest(route: &str, method: &str, status: u16, elapsed: Duration) {
    metrics::counter!(
        REST_REQUESTS_TOTAL,
        "route" => route.to_string(),
        "method" => method.to_string(),
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!(REST_SECONDS, "route" => route.to_string()).record(elapsed.as_secs_f64());
}

pub(crate) fn record_grpc(method: &'static str, code: tonic::Code, elapsed: Duration) {
    metrics::counter!(GRPC_REQUESTS_TOTAL, "method" => method, "code" => format!("{code:?}"))
        .increment(1);
    metrics::histogram!(GRPC_SECONDS, "method" => method).record(elapsed.as_secs_f64());
}
