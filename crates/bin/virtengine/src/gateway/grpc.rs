//! gRPC server: `cosmos.auth.v1beta1.Query`, `cosmos.bank.v1beta1.Query` and
//! `cosmos.tx.v1beta1.Service`, with server reflection so `grpcurl list/describe` work.
//!
//! Query methods are pass-throughs: the request is re-encoded and run as the ABCI query whose
//! path is the gRPC method name, so each method the app answers over ABCI is answered here with
//! no per-method code, and a method the app does not know comes back as UNIMPLEMENTED. As in
//! the SDK, the `x-cosmos-block-height` request header selects the height and the response
//! carries the height it was read at.

// tonic's service traits fix `tonic::Status` (176 bytes) as the error type; boxing it in
// our helpers would only add conversions at every call.
#![allow(clippy::result_large_err)]

use super::descriptors;
use super::error::GatewayError;
use super::metrics as gw_metrics;
use super::service::{decode_tx, Gateway};
use anyhow::Context;
use cosmos_sdk_proto::cosmos::auth::v1beta1 as auth;
use cosmos_sdk_proto::cosmos::bank::v1beta1 as bank;
use cosmos_sdk_proto::cosmos::tx::v1beta1 as txs;
use prost::Message;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Instant;
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status};
use ve_app::App;

/// The metadata key Cosmos uses for the query height.
pub const HEIGHT_HEADER: &str = "x-cosmos-block-height";

/// Builds the three services plus reflection as a tonic router (for tests and [`serve_grpc`]).
pub fn router(gw: Gateway) -> anyhow::Result<tonic::service::Routes> {
    // Both reflection versions: grpcurl asks v1 first, older tools only speak v1alpha.
    let builder = || -> anyhow::Result<_> {
        let mut b = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(descriptors::file_descriptor_set()?);
        for s in descriptors::SERVICES {
            b = b.with_service_name(*s);
        }
        Ok(b)
    };
    let reflection = builder()?
        .build_v1()
        .context("building gRPC reflection service")?;
    let reflection_alpha = builder()?
        .build_v1alpha()
        .context("building gRPC reflection service (v1alpha)")?;
    let svc = GrpcService { gw };
    Ok(
        tonic::service::Routes::new(auth::query_server::QueryServer::new(svc.clone()))
            .add_service(bank::query_server::QueryServer::new(svc.clone()))
            .add_service(txs::service_server::ServiceServer::new(svc))
            .add_service(reflection)
            .add_service(reflection_alpha),
    )
}

/// Serves gRPC on `addr` until the task is dropped. Queries run in-process against `app`;
/// `BroadcastTx`/`GetTx` go to CometBFT at `rpc_url`.
pub async fn serve_grpc(app: App, rpc_url: String, addr: SocketAddr) -> anyhow::Result<()> {
    let routes = router(Gateway::new(app, rpc_url)?)?;
    tracing::info!(%addr, "gRPC listening");
    tonic::transport::Server::builder()
        .add_routes(routes)
        .serve(addr)
        .await
        .with_context(|| format!("gRPC server on {addr} failed"))
}

#[derive(Clone)]
struct GrpcService {
    gw: Gateway,
}

fn height_of<T>(req: &Request<T>) -> Result<u64, Status> {
    match req.metadata().get(HEIGHT_HEADER) {
        None => Ok(0),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| Status::invalid_argument(format!("invalid {HEIGHT_HEADER} header"))),
    }
}

fn with_height<T>(msg: T, height: u64) -> Response<T> {
    let mut resp = Response::new(msg);
    if let Ok(v) = MetadataValue::try_from(height.to_string()) {
        resp.metadata_mut().insert(HEIGHT_HEADER, v);
    }
    resp
}

/// Times a handler and records it by method and status code.
async fn observed<T>(
    method: &'static str,
    fut: impl Future<Output = Result<Response<T>, Status>>,
) -> Result<Response<T>, Status> {
    let started = Instant::now();
    let res = fut.await;
    let code = match &res {
        Ok(_) => tonic::Code::Ok,
        Err(s) => s.code(),
    };
    gw_metrics::record_grpc(method, code, started.elapsed());
    res
}

impl GrpcService {
    async fn pass<Req: Message, Resp: Message + Default>(
        &self,
        path: &'static str,
        req: Request<Req>,
    ) -> Result<Response<Resp>, Status> {
        observed(path, async {
            let height = height_of(&req)?;
            let ok = self
                .gw
                .query(path, req.into_inner().encode_to_vec(), height)
                .await?;
            let msg = Resp::decode(ok.value.as_slice()).map_err(|e| {
                Status::internal(format!("app returned an undecodable {path} response: {e}"))
            })?;
            Ok(with_height(msg, ok.height))
        })
        .await
    }
}

/// Implements trait methods as ABCI query pass-throughs. `#[async_trait]` cannot see into a
/// macro invocation, so the methods are written in the shape it expands `async fn` to.
macro_rules! pass {
    ($($fn:ident($req:ty) -> $resp:ty = $path:literal;)*) => {$(
        fn $fn<'life0, 'async_trait>(
            &'life0 self,
            request: Request<$req>,
        ) -> Pin<Box<dyn Future<Output = Result<Response<$resp>, Status>> + Send + 'async_trait>>
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            Box::pin(self.pass($path, request))
        }
    )*};
}

#[tonic::async_trait]
impl auth::query_server::Query for GrpcService {
    pass! {
        accounts(auth::QueryAccountsRequest) -> auth::QueryAccountsResponse = "/cosmos.auth.v1beta1.Query/Accounts";
        account(auth::QueryAccountRequest) -> auth::QueryAccountResponse = "/cosmos.auth.v1beta1.Query/Account";
        account_address_by_id(auth::QueryAccountAddressByIdRequest) -> auth::QueryAccountAddressByIdResponse = "/cosmos.auth.v1beta1.Query/AccountAddressByID";
        params(auth::QueryParamsRequest) -> auth::QueryParamsResponse = "/cosmos.auth.v1beta1.Query/Params";
        module_accounts(auth::QueryModuleAccountsRequest) -> auth::QueryModuleAccountsResponse = "/cosmos.auth.v1beta1.Query/ModuleAccounts";
        module_account_by_name(auth::QueryModuleAccountByNameRequest) -> auth::QueryModuleAccountByNameResponse = "/cosmos.auth.v1beta1.Query/ModuleAccountByName";
        address_bytes_to_string(auth::AddressBytesToStringRequest) -> auth::AddressBytesToStringResponse = "/cosmos.auth.v1beta1.Query/AddressBytesToString";
        address_string_to_bytes(auth::AddressStringToBytesRequest) -> auth::AddressStringToBytesResponse = "/cosmos.auth.v1beta1.Query/AddressStringToBytes";
        account_info(auth::QueryAccountInfoRequest) -> auth::QueryAccountInfoResponse = "/cosmos.auth.v1beta1.Query/AccountInfo";
    }

    /// Answered here: the prefix is a chain constant, not state.
    async fn bech32_prefix(
        &self,
        _request: Request<auth::Bech32PrefixRequest>,
    ) -> Result<Response<auth::Bech32PrefixResponse>, Status> {
        Ok(Response::new(auth::Bech32PrefixResponse {
            bech32_prefix: ve_types::ACCOUNT_HRP.to_string(),
        }))
    }
}

#[tonic::async_trait]
impl bank::query_server::Query for GrpcService {
    pass! {
        balance(bank::QueryBalanceRequest) -> bank::QueryBalanceResponse = "/cosmos.bank.v1beta1.Query/Balance";
        all_balances(bank::QueryAllBalancesRequest) -> bank::QueryAllBalancesResponse = "/cosmos.bank.v1beta1.Query/AllBalances";
        spendable_balances(bank::QuerySpendableBalancesRequest) -> bank::QuerySpendableBalancesResponse = "/cosmos.bank.v1beta1.Query/SpendableBalances";
        spendable_balance_by_denom(bank::QuerySpendableBalanceByDenomRequest) -> bank::QuerySpendableBalanceByDenomResponse = "/cosmos.bank.v1beta1.Query/SpendableBalanceByDenom";
        total_supply(bank::QueryTotalSupplyRequest) -> bank::QueryTotalSupplyResponse = "/cosmos.bank.v1beta1.Query/TotalSupply";
        supply_of(bank::QuerySupplyOfRequest) -> bank::QuerySupplyOfResponse = "/cosmos.bank.v1beta1.Query/SupplyOf";
        params(bank::QueryParamsRequest) -> bank::QueryParamsResponse = "/cosmos.bank.v1beta1.Query/Params";
        denom_metadata(bank::QueryDenomMetadataRequest) -> bank::QueryDenomMetadataResponse = "/cosmos.bank.v1beta1.Query/DenomMetadata";
        denom_metadata_by_query_string(bank::QueryDenomMetadataByQueryStringRequest) -> bank::QueryDenomMetadataByQueryStringResponse = "/cosmos.bank.v1beta1.Query/DenomMetadataByQueryString";
        denoms_metadata(bank::QueryDenomsMetadataRequest) -> bank::QueryDenomsMetadataResponse = "/cosmos.bank.v1beta1.Query/DenomsMetadata";
        denom_owners(bank::QueryDenomOwnersRequest) -> bank::QueryDenomOwnersResponse = "/cosmos.bank.v1beta1.Query/DenomOwners";
        denom_owners_by_query(bank::QueryDenomOwnersByQueryRequest) -> bank::QueryDenomOwnersByQueryResponse = "/cosmos.bank.v1beta1.Query/DenomOwnersByQuery";
        send_enabled(bank::QuerySendEnabledRequest) -> bank::QuerySendEnabledResponse = "/cosmos.bank.v1beta1.Query/SendEnabled";
    }
}

fn unimplemented<T>(what: &str) -> Result<Response<T>, Status> {
    Err(Status::unimplemented(what.to_string()))
}

#[tonic::async_trait]
impl txs::service_server::Service for GrpcService {
    async fn simulate(
        &self,
        request: Request<txs::SimulateRequest>,
    ) -> Result<Response<txs::SimulateResponse>, Status> {
        observed("/cosmos.tx.v1beta1.Service/Simulate", async {
            let ok = self.gw.simulate(request.into_inner()).await?;
            let msg = txs::SimulateResponse::decode(ok.value.as_slice())
                .map_err(|e| Status::internal(format!("undecodable simulate response: {e}")))?;
            Ok(with_height(msg, ok.height))
        })
        .await
    }

    async fn get_tx(
        &self,
        request: Request<txs::GetTxRequest>,
    ) -> Result<Response<txs::GetTxResponse>, Status> {
        observed("/cosmos.tx.v1beta1.Service/GetTx", async {
            let (tx, tx_response) = self.gw.get_tx(&request.into_inner().hash).await?;
            Ok(Response::new(txs::GetTxResponse {
                tx: Some(tx),
                tx_response: Some(tx_response),
            }))
        })
        .await
    }

    async fn broadcast_tx(
        &self,
        request: Request<txs::BroadcastTxRequest>,
    ) -> Result<Response<txs::BroadcastTxResponse>, Status> {
        observed("/cosmos.tx.v1beta1.Service/BroadcastTx", async {
            let req = request.into_inner();
            let r = self.gw.broadcast(&req.tx_bytes, req.mode).await?;
            Ok(Response::new(txs::BroadcastTxResponse {
                tx_response: Some(r),
            }))
        })
        .await
    }

    async fn get_txs_event(
        &self,
        _request: Request<txs::GetTxsEventRequest>,
    ) -> Result<Response<txs::GetTxsEventResponse>, Status> {
        unimplemented("GetTxsEvent is not served; use CometBFT RPC /tx_search")
    }

    async fn get_block_with_txs(
        &self,
        _request: Request<txs::GetBlockWithTxsRequest>,
    ) -> Result<Response<txs::GetBlockWithTxsResponse>, Status> {
        unimplemented("GetBlockWithTxs is not served; use CometBFT RPC /block")
    }

    async fn tx_decode(
        &self,
        request: Request<txs::TxDecodeRequest>,
    ) -> Result<Response<txs::TxDecodeResponse>, Status> {
        let tx = decode_tx(&request.into_inner().tx_bytes).map_err(Status::from)?;
        Ok(Response::new(txs::TxDecodeResponse { tx: Some(tx) }))
    }

    async fn tx_encode(
        &self,
        request: Request<txs::TxEncodeRequest>,
    ) -> Result<Response<txs::TxEncodeResponse>, Status> {
        let tx = request
            .into_inner()
            .tx
            .ok_or_else(|| Status::from(GatewayError::invalid("invalid empty tx")))?;
        let raw = txs::TxRaw {
            body_bytes: tx.body.map(|b| b.encode_to_vec()).unwrap_or_default(),
            auth_info_bytes: tx.auth_info.map(|a| a.encode_to_vec()).unwrap_or_default(),
            signatures: tx.signatures,
        };
        Ok(Response::new(txs::TxEncodeResponse {
            tx_bytes: raw.encode_to_vec(),
        }))
    }

    async fn tx_encode_amino(
        &self,
        _request: Request<txs::TxEncodeAminoRequest>,
    ) -> Result<Response<txs::TxEncodeAminoResponse>, Status> {
        unimplemented("amino encoding is not supported: the chain accepts SIGN_MODE_DIRECT only")
    }

    async fn tx_decode_amino(
        &self,
        _request: Request<txs::TxDecodeAminoRequest>,
    ) -> Result<Response<txs::TxDecodeAminoResponse>, Status> {
        unimplemented("amino decoding is not supported: the chain accepts SIGN_MODE_DIRECT only")
    }
}
