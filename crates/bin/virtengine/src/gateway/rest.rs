//! REST gateway with the Cosmos LCD paths for auth, bank and tx.
//!
//! Each query route is one row in [`QUERY_ROUTES`]: the URL template, the ABCI query path and
//! the request/response message names. A request is built from path and query-string
//! parameters (`pagination.limit=…` included) by reflection, run in-process, and rendered in the
//! Cosmos JSON format (see [`super::json`]), so adding a route is adding a row.

use super::comet::CometRpc;
use super::error::GatewayError;
use super::json;
use super::metrics as gw_metrics;
use super::service::Gateway;
use anyhow::Context;
use axum::body::Bytes;
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use cosmos_sdk_proto::cosmos::tx::v1beta1 as txs;
use prost::Message;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Instant;
use ve_app::App;

/// A REST route answered by one ABCI query.
#[derive(Debug, Clone, Copy)]
pub struct QueryRoute {
    /// axum route template (`{name}` path parameters fill request fields of that name).
    pub route: &'static str,
    /// ABCI query path (= gRPC method name).
    pub path: &'static str,
    pub request: &'static str,
    pub response: &'static str,
}

const fn q(
    route: &'static str,
    path: &'static str,
    request: &'static str,
    response: &'static str,
) -> QueryRoute {
    QueryRoute {
        route,
        path,
        request,
        response,
    }
}

/// The Cosmos LCD query routes served (paths as in the Cosmos SDK v0.50 `google.api.http` rules).
pub const QUERY_ROUTES: &[QueryRoute] = &[
    q(
        "/cosmos/auth/v1beta1/accounts/{address}",
        "/cosmos.auth.v1beta1.Query/Account",
        "cosmos.auth.v1beta1.QueryAccountRequest",
        "cosmos.auth.v1beta1.QueryAccountResponse",
    ),
    q(
        "/cosmos/auth/v1beta1/accounts",
        "/cosmos.auth.v1beta1.Query/Accounts",
        "cosmos.auth.v1beta1.QueryAccountsRequest",
        "cosmos.auth.v1beta1.QueryAccountsResponse",
    ),
    q(
        "/cosmos/auth/v1beta1/params",
        "/cosmos.auth.v1beta1.Query/Params",
        "cosmos.auth.v1beta1.QueryParamsRequest",
        "cosmos.auth.v1beta1.QueryParamsResponse",
    ),
    q(
        "/cosmos/auth/v1beta1/module_accounts",
        "/cosmos.auth.v1beta1.Query/ModuleAccounts",
        "cosmos.auth.v1beta1.QueryModuleAccountsRequest",
        "cosmos.auth.v1beta1.QueryModuleAccountsResponse",
    ),
    q(
        "/cosmos/auth/v1beta1/module_accounts/{name}",
        "/cosmos.auth.v1beta1.Query/ModuleAccountByName",
        "cosmos.auth.v1beta1.QueryModuleAccountByNameRequest",
        "cosmos.auth.v1beta1.QueryModuleAccountByNameResponse",
    ),
    q(
        "/cosmos/bank/v1beta1/balances/{address}",
        "/cosmos.bank.v1beta1.Query/AllBalances",
        "cosmos.bank.v1beta1.QueryAllBalancesRequest",
        "cosmos.bank.v1beta1.QueryAllBalancesResponse",
    ),
    q(
        "/cosmos/bank/v1beta1/balances/{address}/by_denom",
        "/cosmos.bank.v1beta1.Query/Balance",
        "cosmos.bank.v1beta1.QueryBalanceRequest",
        "cosmos.bank.v1beta1.QueryBalanceResponse",
    ),
    q(
        "/cosmos/bank/v1beta1/spendable_balances/{address}",
        "/cosmos.bank.v1beta1.Query/SpendableBalances",
        "cosmos.bank.v1beta1.QuerySpendableBalancesRequest",
        "cosmos.bank.v1beta1.QuerySpendableBalancesResponse",
    ),
    q(
        "/cosmos/bank/v1beta1/spendable_balances/{address}/by_denom",
        "/cosmos.bank.v1beta1.Query/SpendableBalanceByDenom",
        "cosmos.bank.v1beta1.QuerySpendableBalanceByDenomRequest",
        "cosmos.bank.v1beta1.QuerySpendableBalanceByDenomResponse",
    ),
    q(
        "/cosmos/bank/v1beta1/supply",
        "/cosmos.bank.v1beta1.Query/TotalSupply",
        "cosmos.bank.v1beta1.QueryTotalSupplyRequest",
        "cosmos.bank.v1beta1.QueryTotalSupplyResponse",
    ),
    q(
        "/cosmos/bank/v1beta1/supply/by_denom",
        "/cosmos.bank.v1beta1.Query/SupplyOf",
        "cosmos.bank.v1beta1.QuerySupplyOfRequest",
        "cosmos.bank.v1beta1.QuerySupplyOfResponse",
    ),
    q(
        "/cosmos/bank/v1beta1/denoms_metadata",
        "/cosmos.bank.v1beta1.Query/DenomsMetadata",
        "cosmos.bank.v1beta1.QueryDenomsMetadataRequest",
        "cosmos.bank.v1beta1.QueryDenomsMetadataResponse",
    ),
    // `{*denom}`: IBC denoms contain slashes (`ibc/…`), as the SDK's `{denom=**}` allows.
    q(
        "/cosmos/bank/v1beta1/denoms_metadata/{*denom}",
        "/cosmos.bank.v1beta1.Query/DenomMetadata",
        "cosmos.bank.v1beta1.QueryDenomMetadataRequest",
        "cosmos.bank.v1beta1.QueryDenomMetadataResponse",
    ),
    q(
        "/cosmos/bank/v1beta1/params",
        "/cosmos.bank.v1beta1.Query/Params",
        "cosmos.bank.v1beta1.QueryParamsRequest",
        "cosmos.bank.v1beta1.QueryParamsResponse",
    ),
];

/// The REST router: all query routes, tx routes, node info/blocks proxies, metrics middleware.
pub fn router(gw: Gateway) -> Router {
    let mut r = Router::new();
    for route in QUERY_ROUTES {
        let route = *route;
        r = r.route(
            route.route,
            get(
                move |State(gw): State<Gateway>,
                      Path(path_params): Path<BTreeMap<String, String>>,
                      Query(query): Query<Vec<(String, String)>>,
                      headers: HeaderMap| async move {
                    query_route(&gw, route, path_params, query, &headers).await
                },
            ),
        );
    }
    r.route("/cosmos/tx/v1beta1/txs", post(broadcast_tx))
        .route("/cosmos/tx/v1beta1/txs/{hash}", get(get_tx))
        .route("/cosmos/tx/v1beta1/simulate", post(simulate))
        .route("/cosmos/base/tendermint/v1beta1/node_info", get(node_info))
        .route(
            "/cosmos/base/tendermint/v1beta1/blocks/latest",
            get(latest_block),
        )
        .route(
            "/cosmos/base/tendermint/v1beta1/blocks/{height}",
            get(block_at),
        )
        .fallback(not_found)
        .layer(middleware::from_fn(record_metrics))
        .with_state(gw)
}

/// Serves REST on `addr` until the task is dropped.
pub async fn serve_rest(app: App, rpc_url: String, addr: SocketAddr) -> anyhow::Result<()> {
    let router = router(Gateway::new(app, rpc_url)?);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding REST listener on {addr}"))?;
    tracing::info!(%addr, "REST gateway listening");
    axum::serve(listener, router)
        .await
        .context("REST server failed")
}

fn height_header(headers: &HeaderMap) -> Result<u64, GatewayError> {
    match headers.get(super::grpc::HEIGHT_HEADER) {
        None => Ok(0),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| GatewayError::invalid("invalid x-cosmos-block-height header")),
    }
}

/// JSON with the `x-cosmos-block-height` header the SDK sets on query responses.
fn json_at_height(v: Value, height: u64) -> Response {
    let mut resp = Json(v).into_response();
    if let Ok(h) = height.to_string().parse() {
        resp.headers_mut().insert(super::grpc::HEIGHT_HEADER, h);
    }
    resp
}

async fn query_route(
    gw: &Gateway,
    route: QueryRoute,
    path_params: BTreeMap<String, String>,
    query: Vec<(String, String)>,
    headers: &HeaderMap,
) -> Result<Response, GatewayError> {
    let height = height_header(headers)?;
    let mut params: Vec<(String, String)> = path_params.into_iter().collect();
    params.extend(query);
    let req = json::request_from_params(route.request, &params)
        .map_err(|e| GatewayError::invalid(format!("{e:#}")))?;
    let ok = gw.query(route.path, req, height).await?;
    let v = json::to_json(route.response, &ok.value)
        .map_err(|e| GatewayError::internal(format!("{e:#}")))?;
    Ok(json_at_height(v, ok.height))
}

/// Parses a JSON request body into `M`; malformed JSON is a Cosmos-style 400, not axum's
/// plain-text rejection.
fn parse_body<M: Message + Default>(full_name: &str, body: &[u8]) -> Result<M, GatewayError> {
    let body: Value = serde_json::from_slice(body)
        .map_err(|e| GatewayError::invalid(format!("invalid JSON body: {e}")))?;
    let bytes =
        json::from_json(full_name, body).map_err(|e| GatewayError::invalid(format!("{e:#}")))?;
    M::decode(bytes.as_slice()).map_err(|e| GatewayError::invalid(e.to_string()))
}

fn render<M: Message + prost::Name>(msg: &M) -> Result<Response, GatewayError> {
    let v = json::prost_to_json(msg).map_err(|e| GatewayError::internal(format!("{e:#}")))?;
    Ok(Json(v).into_response())
}

/// `POST /cosmos/tx/v1beta1/txs` with `{"tx_bytes": base64, "mode": "BROADCAST_MODE_SYNC"}`.
async fn broadcast_tx(State(gw): State<Gateway>, body: Bytes) -> Result<Response, GatewayError> {
    let req: txs::BroadcastTxRequest = parse_body("cosmos.tx.v1beta1.BroadcastTxRequest", &body)?;
    let r = gw.broadcast(&req.tx_bytes, req.mode).await?;
    render(&txs::BroadcastTxResponse {
        tx_response: Some(r),
    })
}

/// `GET /cosmos/tx/v1beta1/txs/{hash}`.
async fn get_tx(
    State(gw): State<Gateway>,
    Path(hash): Path<String>,
) -> Result<Response, GatewayError> {
    let (tx, tx_response) = gw.get_tx(&hash).await?;
    render(&txs::GetTxResponse {
        tx: Some(tx),
        tx_response: Some(tx_response),
    })
}

/// `POST /cosmos/tx/v1beta1/simulate` with `{"tx_bytes": base64}` (or the deprecated `tx`).
async fn simulate(State(gw): State<Gateway>, body: Bytes) -> Result<Response, GatewayError> {
    let req: txs::SimulateRequest = parse_body("cosmos.tx.v1beta1.SimulateRequest", &body)?;
    let ok = gw.simulate(req).await?;
    let v = json::to_json("cosmos.tx.v1beta1.SimulateResponse", &ok.value)
        .map_err(|e| GatewayError::internal(format!("{e:#}")))?;
    Ok(json_at_height(v, ok.height))
}

/// `GetNodeInfoResponse` in the SDK's JSON shape, filled from CometBFT's `/status`.
#[derive(Debug, Serialize)]
struct NodeInfoResponse {
    default_node_info: DefaultNodeInfo,
    application_version: VersionInfo,
}

#[derive(Debug, Serialize)]
struct DefaultNodeInfo {
    protocol_version: Value,
    default_node_id: Value,
    listen_addr: Value,
    network: Value,
    version: Value,
    /// CometBFT reports channels in hex; the SDK's proto JSON has them as base64 bytes.
    channels: String,
    moniker: Value,
    other: Value,
}

#[derive(Debug, Serialize)]
struct VersionInfo {
    name: &'static str,
    app_name: &'static str,
    version: &'static str,
    git_commit: &'static str,
    build_tags: &'static str,
    go_version: &'static str,
    build_deps: Vec<Value>,
    cosmos_sdk_version: &'static str,
}

fn rpc_unavailable(rpc: &CometRpc, e: anyhow::Error) -> GatewayError {
    GatewayError::new(
        tonic::Code::Unavailable,
        format!("CometBFT RPC {}: {e:#}", rpc.url()),
    )
}

/// `GET /cosmos/base/tendermint/v1beta1/node_info`.
async fn node_info(State(gw): State<Gateway>) -> Result<Response, GatewayError> {
    let status = gw
        .rpc()
        .status_raw()
        .await
        .map_err(|e| rpc_unavailable(gw.rpc(), e))?;
    let ni = &status["node_info"];
    let channels = ni["channels"]
        .as_str()
        .and_then(|h| hex::decode(h).ok())
        .map(|b| B64.encode(b))
        .unwrap_or_default();
    let resp = NodeInfoResponse {
        default_node_info: DefaultNodeInfo {
            protocol_version: ni["protocol_version"].clone(),
            default_node_id: ni["id"].clone(),
            listen_addr: ni["listen_addr"].clone(),
            network: ni["network"].clone(),
            version: ni["version"].clone(),
            channels,
            moniker: ni["moniker"].clone(),
            other: ni["other"].clone(),
        },
        application_version: VersionInfo {
            name: "virtengine",
            app_name: "virtengine",
            version: env!("CARGO_PKG_VERSION"),
            git_commit: "",
            build_tags: "",
            go_version: "",
            build_deps: Vec::new(),
            cosmos_sdk_version: "",
        },
    };
    Ok(Json(resp).into_response())
}

/// `GET …/blocks/latest`: CometBFT's `/block` result (`block_id`, `block`) passed through in
/// CometBFT's JSON encoding (hex hashes), which explorers already parse.
async fn latest_block(State(gw): State<Gateway>) -> Result<Response, GatewayError> {
    let b = gw
        .rpc()
        .block_raw(None)
        .await
        .map_err(|e| rpc_unavailable(gw.rpc(), e))?;
    Ok(Json(b).into_response())
}

/// `GET …/blocks/{height}`, as [`latest_block`].
async fn block_at(
    State(gw): State<Gateway>,
    Path(height): Path<String>,
) -> Result<Response, GatewayError> {
    let h: u64 = height
        .parse()
        .map_err(|_| GatewayError::invalid(format!("invalid height {height:?}")))?;
    let b = gw
        .rpc()
        .block_raw(Some(h))
        .await
        .map_err(|e| rpc_unavailable(gw.rpc(), e))?;
    Ok(Json(b).into_response())
}

async fn not_found() -> GatewayError {
    GatewayError::not_found("Not Implemented")
}

/// Counts and times every request by its route template (not the raw URI, which would make
/// one series per address).
async fn record_metrics(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().to_string();
    let resp = next.run(req).await;
    gw_metrics::record_rest(&route, &method, resp.status().as_u16(), started.elapsed());
    resp
}
