//! Typed Cosmos queries over `abci_query`.
//!
//! The ABCI query path is the gRPC method name and the data is the protobuf request,
//! exactly as the Cosmos SDK's gRPC-over-ABCI router expects, so these work against
//! any Cosmos chain as well as VirtEngine.

use cosmos_sdk_proto::cosmos::auth::v1beta1::{
    BaseAccount as ProtoBaseAccount, ModuleAccount, QueryAccountRequest, QueryAccountResponse,
};
use cosmos_sdk_proto::cosmos::bank::v1beta1::{
    QueryAllBalancesRequest, QueryAllBalancesResponse, QueryBalanceRequest, QueryBalanceResponse,
    QueryTotalSupplyRequest, QueryTotalSupplyResponse,
};
use cosmos_sdk_proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey as ProtoPubKey;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse};
use cosmos_sdk_proto::Any;
use prost::Message;
use ve_crypto::PublicKey;
use ve_types::{Address, Coin};

use crate::rpc::{RpcClient, RpcError};
use crate::rpc_types::AbciQuery;
use crate::tx::SECP256K1_PUBKEY_TYPE_URL;

pub const PATH_ACCOUNT: &str = "/cosmos.auth.v1beta1.Query/Account";
pub const PATH_BALANCE: &str = "/cosmos.bank.v1beta1.Query/Balance";
pub const PATH_ALL_BALANCES: &str = "/cosmos.bank.v1beta1.Query/AllBalances";
pub const PATH_TOTAL_SUPPLY: &str = "/cosmos.bank.v1beta1.Query/TotalSupply";
pub const PATH_SIMULATE: &str = "/cosmos.tx.v1beta1.Service/Simulate";

const BASE_ACCOUNT_TYPE_URL: &str = "/cosmos.auth.v1beta1.BaseAccount";
const MODULE_ACCOUNT_TYPE_URL: &str = "/cosmos.auth.v1beta1.ModuleAccount";
/// Cosmos SDK `ErrKeyNotFound`: what a gRPC NotFound becomes over ABCI.
const SDK_CODESPACE: &str = "sdk";
const SDK_KEY_NOT_FOUND: u32 = 38;
/// Page size for list queries, and a cap on pages so a misbehaving node that keeps
/// returning a `next_key` cannot loop us forever.
const PAGE_LIMIT: u64 = 200;
const MAX_PAGES: usize = 1000;

/// Why a query failed.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// The application refused the query; `codespace`/`code` are the chain's stable
    /// error identifiers.
    #[error("query {path} failed: {log} (codespace {codespace}, code {code}, height {height})")]
    Abci {
        path: String,
        codespace: String,
        code: u32,
        log: String,
        height: u64,
    },
    #[error("cannot decode {path} response: {reason}")]
    Decode { path: String, reason: String },
}

impl QueryError {
    /// Whether the app said the thing asked for does not exist.
    pub fn is_not_found(&self) -> bool {
        match self {
            QueryError::Abci {
                codespace,
                code,
                log,
                ..
            } => {
                (codespace == SDK_CODESPACE && *code == SDK_KEY_NOT_FOUND)
                    || log.contains("not found")
            }
            _ => false,
        }
    }
}

/// An account's signing state: what a client needs to sign its next tx.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseAccount {
    pub address: Address,
    pub account_number: u64,
    pub sequence: u64,
    /// `None` until the account's first tx puts its key on chain, and for keys that
    /// are not secp256k1.
    pub pub_key: Option<PublicKey>,
}

/// Gas reported by a simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GasInfo {
    pub gas_wanted: u64,
    pub gas_used: u64,
}

/// Typed queries at the latest height, or at a fixed height with [`at_height`].
///
/// [`at_height`]: QueryClient::at_height
#[derive(Debug, Clone, Copy)]
pub struct QueryClient<'a> {
    rpc: &'a RpcClient,
    height: Option<u64>,
}

impl<'a> QueryClient<'a> {
    pub fn new(rpc: &'a RpcClient) -> Self {
        Self { rpc, height: None }
    }

    pub fn at_height(self, height: u64) -> Self {
        Self {
            height: Some(height),
            ..self
        }
    }

    /// Sends `req` to gRPC method `path` and decodes the response.
    pub async fn query<Req: Message, Resp: Message + Default>(
        &self,
        path: &str,
        req: &Req,
    ) -> Result<Resp, QueryError> {
        let resp = self
            .rpc
            .abci_query(path, &req.encode_to_vec(), self.height, false)
            .await?;
        decode_response(path, resp)
    }

    /// The account at `addr`, or `None` if it has never received funds.
    pub async fn account(&self, addr: &Address) -> Result<Option<BaseAccount>, QueryError> {
        let req = QueryAccountRequest {
            address: addr.to_string(),
        };
        match self
            .query::<_, QueryAccountResponse>(PATH_ACCOUNT, &req)
            .await
        {
            Ok(resp) => decode_account(resp).map(Some),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The balance of one denom (zero if none).
    pub async fn balance(&self, addr: &Address, denom: &str) -> Result<Coin, QueryError> {
        let req = QueryBalanceRequest {
            address: addr.to_string(),
            denom: denom.to_string(),
        };
        let resp: QueryBalanceResponse = self.query(PATH_BALANCE, &req).await?;
        match resp.balance {
            Some(c) => coin_from_proto(PATH_BALANCE, &c),
            None => Ok(Coin::new(denom, 0)),
        }
    }

    /// Every non-zero balance of `addr`, following pagination.
    pub async fn all_balances(&self, addr: &Address) -> Result<Vec<Coin>, QueryError> {
        self.paged_coins(PATH_ALL_BALANCES, |pagination| {
            let req = QueryAllBalancesRequest {
                address: addr.to_string(),
                pagination,
                resolve_denom: false,
            };
            async move {
                let r: QueryAllBalancesResponse = self.query(PATH_ALL_BALANCES, &req).await?;
                Ok((r.balances, r.pagination))
            }
        })
        .await
    }

    /// Total supply of every denom, following pagination.
    pub async fn total_supply(&self) -> Result<Vec<Coin>, QueryError> {
        self.paged_coins(PATH_TOTAL_SUPPLY, |pagination| {
            let req = QueryTotalSupplyRequest { pagination };
            async move {
                let r: QueryTotalSupplyResponse = self.query(PATH_TOTAL_SUPPLY, &req).await?;
                Ok((r.supply, r.pagination))
            }
        })
        .await
    }

    /// Runs a signed tx through the app without committing it.
    pub async fn simulate(&self, tx_bytes: &[u8]) -> Result<GasInfo, QueryError> {
        let req = SimulateRequest {
            tx_bytes: tx_bytes.to_vec(),
            // `tx` is deprecated in favour of `tx_bytes` and must stay unset.
            ..Default::default()
        };
        let resp: SimulateResponse = self.query(PATH_SIMULATE, &req).await?;
        let gas = resp.gas_info.ok_or_else(|| QueryError::Decode {
            path: PATH_SIMULATE.into(),
            reason: "response has no gas_info".into(),
        })?;
        Ok(GasInfo {
            gas_wanted: gas.gas_wanted,
            gas_used: gas.gas_used,
        })
    }

    /// Follows `next_key` through every page of a Cosmos list query. `fetch` sends one
    /// request for the given page and returns its items and pagination; a server that keeps
    /// returning a `next_key` is cut off after [`MAX_PAGES`] pages with an error.
    pub async fn paged<T, F, Fut>(&self, path: &str, mut fetch: F) -> Result<Vec<T>, QueryError>
    where
        F: FnMut(Option<PageRequest>) -> Fut,
        Fut: std::future::Future<Output = Result<(Vec<T>, Option<PageResponse>), QueryError>>,
    {
        let mut out = Vec::new();
        let mut key = Vec::new();
        for _ in 0..MAX_PAGES {
            let page = PageRequest {
                key: key.clone(),
                limit: PAGE_LIMIT,
                ..Default::default()
            };
            let (items, next) = fetch(Some(page)).await?;
            out.extend(items);
            match next {
                Some(p) if !p.next_key.is_empty() => key = p.next_key,
                _ => return Ok(out),
            }
        }
        Err(QueryError::Decode {
            path: path.to_string(),
            reason: format!("more than {MAX_PAGES} pages"),
        })
    }

    async fn paged_coins<F, Fut>(&self, path: &str, fetch: F) -> Result<Vec<Coin>, QueryError>
    where
        F: FnMut(Option<PageRequest>) -> Fut,
        Fut: std::future::Future<
            Output = Result<(Vec<ProtoCoin>, Option<PageResponse>), QueryError>,
        >,
    {
        self.paged(path, fetch)
            .await?
            .iter()
            .map(|c| coin_from_proto(path, c))
            .collect()
    }
}

/// Turns a non-zero code into a typed error and decodes the value otherwise.
pub(crate) fn decode_response<Resp: Message + Default>(
    path: &str,
    resp: AbciQuery,
) -> Result<Resp, QueryError> {
    if resp.code != 0 {
        return Err(QueryError::Abci {
            path: path.to_string(),
            codespace: resp.codespace,
            code: resp.code,
            log: resp.log,
            height: resp.height,
        });
    }
    Resp::decode(resp.value.as_slice()).map_err(|e| QueryError::Decode {
        path: path.to_string(),
        reason: e.to_string(),
    })
}

pub(crate) fn decode_account(resp: QueryAccountResponse) -> Result<BaseAccount, QueryError> {
    let decode = |reason: String| QueryError::Decode {
        path: PATH_ACCOUNT.into(),
        reason,
    };
    let any = resp
        .account
        .ok_or_else(|| decode("response has no account".into()))?;
    let base = match any.type_url.as_str() {
        BASE_ACCOUNT_TYPE_URL => {
            ProtoBaseAccount::decode(any.value.as_slice()).map_err(|e| decode(e.to_string()))?
        }
        MODULE_ACCOUNT_TYPE_URL => ModuleAccount::decode(any.value.as_slice())
            .map_err(|e| decode(e.to_string()))?
            .base_account
            .ok_or_else(|| decode("module account has no base account".into()))?,
        other => return Err(decode(format!("unsupported account type {other}"))),
    };
    let address = base
        .address
        .parse::<Address>()
        .map_err(|e| decode(e.to_string()))?;
    Ok(BaseAccount {
        address,
        account_number: base.account_number,
        sequence: base.sequence,
        pub_key: base.pub_key.as_ref().and_then(secp256k1_from_any),
    })
}

fn secp256k1_from_any(any: &Any) -> Option<PublicKey> {
    if any.type_url != SECP256K1_PUBKEY_TYPE_URL {
        return None;
    }
    let pk = ProtoPubKey::decode(any.value.as_slice()).ok()?;
    PublicKey::from_bytes(&pk.key).ok()
}

fn coin_from_proto(path: &str, c: &ProtoCoin) -> Result<Coin, QueryError> {
    Coin::from_parts(&c.denom, &c.amount).map_err(|e| QueryError::Decode {
        path: path.to_string(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tx::{pubkey_any, to_any};

    fn ok_query(value: Vec<u8>) -> AbciQuery {
        AbciQuery {
            code: 0,
            log: String::new(),
            info: String::new(),
            index: 0,
            key: Vec::new(),
            value,
            proof_ops: None,
            height: 5,
            codespace: String::new(),
        }
    }

    #[test]
    fn non_zero_code_becomes_typed_error() {
        let body = std::fs::read(format!(
            "{}/testdata/abci_query_error.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let q: AbciQuery = serde_json::from_value(v["result"]["response"].clone()).unwrap();
        let err = decode_response::<QueryAccountResponse>(PATH_ACCOUNT, q).unwrap_err();
        match &err {
            QueryError::Abci {
                codespace,
                code,
                height,
                ..
            } => assert_eq!((codespace.as_str(), *code, *height), ("sdk", 38, 42)),
            other => panic!("{other}"),
        }
        assert!(err.is_not_found());
        assert!(err.to_string().contains("codespace sdk, code 38"));
    }

    #[test]
    fn other_app_errors_are_not_not_found() {
        let mut q = ok_query(Vec::new());
        q.code = 5;
        q.codespace = "bank".into();
        q.log = "insufficient funds".into();
        let err = decode_response::<QueryBalanceResponse>(PATH_BALANCE, q).unwrap_err();
        assert!(!err.is_not_found());
    }

    #[test]
    fn base_account_with_pubkey() {
        let key = ve_crypto::PrivateKey::from_bytes(&[7u8; 32]).unwrap();
        let pk = key.public_key();
        let proto = ProtoBaseAccount {
            address: pk.address().to_string(),
            pub_key: Some(pubkey_any(&pk)),
            account_number: 4,
            sequence: 9,
        };
        let resp = QueryAccountResponse {
            account: Some(to_any(&proto)),
        };
        let q = ok_query(resp.encode_to_vec());
        let resp: QueryAccountResponse = decode_response(PATH_ACCOUNT, q).unwrap();
        assert_eq!(
            resp.account.as_ref().unwrap().type_url,
            BASE_ACCOUNT_TYPE_URL
        );
        let acct = decode_account(resp).unwrap();
        assert_eq!(
            acct,
            BaseAccount {
                address: pk.address(),
                account_number: 4,
                sequence: 9,
                pub_key: Some(pk),
            }
        );
    }

    #[test]
    fn fresh_and_module_accounts() {
        let addr = Address::module("fee_collector");
        let base = ProtoBaseAccount {
            address: addr.to_string(),
            pub_key: None,
            account_number: 1,
            sequence: 0,
        };
        let module = ModuleAccount {
            base_account: Some(base),
            name: "fee_collector".into(),
            permissions: vec![],
        };
        let acct = decode_account(QueryAccountResponse {
            account: Some(to_any(&module)),
        })
        .unwrap();
        assert_eq!(acct.address, addr);
        assert_eq!(acct.pub_key, None);

        let err = decode_account(QueryAccountResponse {
            account: Some(Any {
                type_url: "/x.Vesting".into(),
                value: vec![],
            }),
        })
        .unwrap_err();
        assert!(err.to_string().contains("unsupported account type"));
    }

    #[test]
    fn balance_coins_are_validated() {
        let good = ProtoCoin {
            denom: "uve".into(),
            amount: "340282366920938463463374607431768211455".into(),
        };
        assert_eq!(coin_from_proto("p", &good).unwrap().amount, u128::MAX);
        let bad = ProtoCoin {
            denom: "uve".into(),
            amount: "-1".into(),
        };
        assert!(matches!(
            coin_from_proto("p", &bad),
            Err(QueryError::Decode { .. })
        ));
    }

    #[test]
    fn garbage_value_is_a_decode_error() {
        let q = ok_query(vec![0xff, 0xff, 0xff]);
        assert!(matches!(
            decode_response::<QueryBalanceResponse>(PATH_BALANCE, q),
            Err(QueryError::Decode { .. })
        ));
    }
}
