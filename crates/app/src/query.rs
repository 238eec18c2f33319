//! Query paths the app answers itself: transaction simulation and raw-key reads with
//! ICS-23 proofs. Module queries are routed in `modules`.

use crate::app::QueryResult;
use crate::App;
use prost::Message;
use ve_module::SDK_CODESPACE;
use ve_proto::cosmos::base::abci::v1beta1::{GasInfo, Result as AbciResult};
use ve_proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse, TxRaw};
use ve_storage::{Snapshot, StateRead};
use ve_types::AppError;

pub(crate) const SIMULATE: &str = "/cosmos.tx.v1beta1.Service/Simulate";
/// Raw state reads: `/store/key` with the key as query data (the Cosmos convention is
/// `/store/<store>/key`; this chain has one store, so any store name is accepted).
const STORE_PREFIX: &str = "/store/";

pub(crate) fn raw_key_path<'a>(path: &str, data: &'a [u8]) -> Option<&'a [u8]> {
    (path.starts_with(STORE_PREFIX) && path.ends_with("/key") || path == "/store/key")
        .then_some(data)
}

pub(crate) fn raw_key(snapshot: &Snapshot, key: &[u8], prove: bool) -> QueryResult {
    let height = snapshot.version();
    let result = if prove {
        snapshot
            .get_with_proof(key)
            .map(|(v, p)| (v, Some(p.encode_to_vec())))
    } else {
        snapshot.get(key).map(|v| (v, None))
    };
    match result {
        Ok((value, proof)) => QueryResult {
            key: key.to_vec(),
            value: value.unwrap_or_default(),
            height,
            proof,
            ..QueryResult::default()
        },
        Err(e) => QueryResult::error(&AppError::new("store", 1, e.to_string()), height),
    }
}

pub(crate) fn simulate(app: &App, data: &[u8], height: u64) -> QueryResult {
    let run = || -> Result<Vec<u8>, AppError> {
        let req = SimulateRequest::decode(data).map_err(|e| {
            AppError::new(
                SDK_CODESPACE,
                2,
                format!("cannot decode SimulateRequest: {e}"),
            )
        })?;
        #[allow(deprecated)]
        let tx_bytes = if !req.tx_bytes.is_empty() {
            req.tx_bytes
        } else if let Some(tx) = req.tx {
            TxRaw {
                body_bytes: tx.body.map(|b| b.encode_to_vec()).unwrap_or_default(),
                auth_info_bytes: tx.auth_info.map(|a| a.encode_to_vec()).unwrap_or_default(),
                signatures: tx.signatures,
            }
            .encode_to_vec()
        } else {
            return Err(AppError::new(
                SDK_CODESPACE,
                18,
                "empty simulate request: set tx_bytes",
            ));
        };
        let outcome = app.simulate(&tx_bytes)?;
        let msg_responses =
            ve_proto::cosmos::base::abci::v1beta1::TxMsgData::decode(outcome.data.as_slice())
                .map(|d| d.msg_responses)
                .unwrap_or_default();
        #[allow(deprecated)]
        let resp = SimulateResponse {
            gas_info: Some(GasInfo {
                gas_wanted: outcome.gas_wanted,
                gas_used: outcome.gas_used,
            }),
            result: Some(AbciResult {
                data: outcome.data,
                log: String::new(),
                events: crate::abci::proto_events(&outcome.events),
                msg_responses,
            }),
        };
        Ok(resp.encode_to_vec())
    };
    match run() {
        Ok(value) => QueryResult {
            value,
            height,
            ..QueryResult::default()
        },
        Err(e) => QueryResult::error(&e, height),
    }
}
