use super::{bounds, MAX_GAS_LIMIT, MAX_MSGS, MAX_NESTING, MAX_TX_BYTES};
use prost::Message;
use ve_crypto::PublicKey;
use ve_module::{Decoded, Router, SDK_CODESPACE};
use ve_proto::cosmos::tx::v1beta1::{mode_info, AuthInfo, TxBody, TxRaw};
use ve_types::{Address, AppError, Coin, Coins};

/// `SIGN_MODE_DIRECT` in `cosmos.tx.signing.v1beta1.SignMode`.
const SIGN_MODE_DIRECT: i32 = 1;

fn tx_err(code: u32, msg: impl Into<String>) -> AppError {
    AppError::new(SDK_CODESPACE, code, msg)
}

/// One signer of a transaction: who, with which key, at which sequence, and the signature.
pub(crate) struct SignerEntry {
    pub address: Address,
    pub pub_key: PublicKey,
    pub sequence: u64,
    pub signature: Vec<u8>,
}

/// A transaction that passed every stateless check.
pub(crate) struct CheckedTx {
    pub raw_len: usize,
    pub body_bytes: Vec<u8>,
    pub auth_info_bytes: Vec<u8>,
    pub msgs: Vec<Box<dyn Decoded>>,
    pub memo_len: usize,
    pub timeout_height: u64,
    pub signers: Vec<SignerEntry>,
    pub fee: Coins,
    pub gas_limit: u64,
    pub tx_info: ve_module::TxInfo,
}

/// Bounds, decoding and every check that needs no state. `simulate` accepts a zero gas
/// limit: clients simulate before they know how much gas to ask for.
pub(crate) fn decode_tx(
    bytes: &[u8],
    router: &Router,
    simulate: bool,
) -> Result<CheckedTx, AppError> {
    if bytes.is_empty() {
        return Err(tx_err(2, "empty transaction"));
    }
    if bytes.len() > MAX_TX_BYTES {
        return Err(tx_err(
            21,
            format!(
                "tx too large: {} bytes, the limit is {MAX_TX_BYTES}",
                bytes.len()
            ),
        ));
    }
    if bounds::nesting_depth(bytes, MAX_NESTING) > MAX_NESTING {
        return Err(tx_err(
            2,
            format!("tx nests messages deeper than {MAX_NESTING} levels"),
        ));
    }
    let raw = TxRaw::decode(bytes).map_err(|e| tx_err(2, format!("cannot decode TxRaw: {e}")))?;
    let body = TxBody::decode(raw.body_bytes.as_slice())
        .map_err(|e| tx_err(2, format!("cannot decode TxBody: {e}")))?;
    let auth_info = AuthInfo::decode(raw.auth_info_bytes.as_slice())
        .map_err(|e| tx_err(2, format!("cannot decode AuthInfo: {e}")))?;

    if body.messages.is_empty() {
        return Err(tx_err(18, "tx has no messages"));
    }
    if body.messages.len() > MAX_MSGS {
        return Err(tx_err(
            18,
            format!(
                "tx has {} messages, the limit is {MAX_MSGS}",
                body.messages.len()
            ),
        ));
    }
    if let Some(unknown) = body
        .extension_options
        .iter()
        .find(|e| !router.extension_allowed(&e.type_url))
    {
        return Err(tx_err(
            31,
            format!("unknown extension option {:?}", unknown.type_url),
        ));
    }
    let tx_info = ve_module::TxInfo {
        extensions: body
            .extension_options
            .iter()
            .map(|e| (e.type_url.clone(), e.value.clone()))
            .collect(),
    };

    let msgs = body
        .messages
        .iter()
        .map(|any| router.decode(&any.type_url, &any.value))
        .collect::<Result<Vec<_>, _>>()?;
    let mut required: Vec<Address> = Vec::new();
    for m in &msgs {
        m.check_stateless()?;
        for s in m.signers()? {
            if !required.contains(&s) {
                required.push(s);
            }
        }
    }

    let fee = auth_info
        .fee
        .as_ref()
        .ok_or_else(|| tx_err(13, "tx has no fee: set --fees"))?;
    if !fee.payer.is_empty() || !fee.granter.is_empty() {
        return Err(tx_err(
            18,
            "fee payer and fee granter are not supported: the first signer pays",
        ));
    }
    if (fee.gas_limit == 0 && !simulate) || fee.gas_limit > MAX_GAS_LIMIT {
        return Err(tx_err(
            18,
            format!(
                "gas limit must be between 1 and {MAX_GAS_LIMIT}, got {}",
                fee.gas_limit
            ),
        ));
    }
    let fee_coins = Coins::from_list(
        fee.amount
            .iter()
            .map(|c| Coin::from_parts(&c.denom, &c.amount))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| tx_err(10, format!("invalid fee: {e}")))?,
    )
    .map_err(|e| tx_err(10, format!("invalid fee: {e}")))?;

    if auth_info.signer_infos.len() != required.len() {
        return Err(tx_err(
            4,
            format!(
                "wrong number of signers; expected {}, got {}",
                required.len(),
                auth_info.signer_infos.len()
            ),
        ));
    }
    if raw.signatures.len() != required.len() {
        return Err(tx_err(
            4,
            format!(
                "wrong number of signatures; expected {}, got {}",
                required.len(),
                raw.signatures.len()
            ),
        ));
    }
    let mut signers = Vec::with_capacity(required.len());
    for ((address, info), signature) in required
        .into_iter()
        .zip(&auth_info.signer_infos)
        .zip(raw.signatures)
    {
        match info.mode_info.as_ref().and_then(|m| m.sum.as_ref()) {
            Some(mode_info::Sum::Single(s)) if s.mode == SIGN_MODE_DIRECT => {}
            _ => {
                return Err(tx_err(
                    8,
                    "only single-signer SIGN_MODE_DIRECT is supported",
                ))
            }
        }
        let pk_any = info
            .public_key
            .as_ref()
            .ok_or_else(|| tx_err(8, format!("signer {address} gave no public key")))?;
        if pk_any.type_url != ve_auth::SECP256K1_PUBKEY_URL {
            return Err(tx_err(
                8,
                format!(
                    "unsupported public key type {:?}: use secp256k1",
                    pk_any.type_url
                ),
            ));
        }
        let pk = ve_proto::cosmos::crypto::secp256k1::PubKey::decode(pk_any.value.as_slice())
            .map_err(|e| tx_err(8, format!("cannot decode public key: {e}")))?;
        let pub_key = PublicKey::from_bytes(&pk.key)
            .map_err(|e| tx_err(8, format!("invalid public key: {e}")))?;
        if pub_key.address() != address {
            return Err(tx_err(
                8,
                format!("public key does not belong to signer {address}"),
            ));
        }
        signers.push(SignerEntry {
            address,
            pub_key,
            sequence: info.sequence,
            signature,
        });
    }

    Ok(CheckedTx {
        raw_len: bytes.len(),
        body_bytes: raw.body_bytes,
        auth_info_bytes: raw.auth_info_bytes,
        msgs,
        memo_len: body.memo.chars().count(),
        timeout_height: body.timeout_height,
        signers,
        fee: fee_coins,
        gas_limit: fee.gas_limit,
        tx_info,
    })
}
