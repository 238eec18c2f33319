//! Executing one checked transaction against an overlay: ante (signatures, sequences,
//! fee), then the messages in a nested overlay that is dropped if any of them fails.
//! Ante writes (fee, sequence) survive a message failure, as in the Cosmos SDK; an ante
//! failure leaves nothing.

use crate::fee::MinGasPrice;
use crate::tx::{sign_doc_bytes, CheckedTx};
use prost::Message;
use ve_auth::AuthParams;
use ve_module::{BlockInfo, Context, Event, GasConfig, GasMeter, SDK_CODESPACE};
use ve_proto::cosmos::base::abci::v1beta1::TxMsgData;
use ve_proto::Any;
use ve_storage::{Changes, Delta, StateRead};
use ve_types::{AppError, Coins};

/// How much checking a run does: consensus execution checks everything; simulation
/// skips signatures and fee minimums (clients simulate before they sign).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// CheckTx: ante only, no message execution.
    Check,
    /// FinalizeBlock.
    Deliver,
    /// `Simulate` query: unsigned, unlimited gas.
    Simulate,
}

/// What the stateless pre-check learned: the account number each signature was
/// verified against (from the block-start state), so execution can skip re-verifying.
pub(crate) type PreVerified = Vec<Option<u64>>;

/// The result of one transaction, before conversion to ABCI.
#[derive(Debug, Default)]
pub(crate) struct TxOutcome {
    pub code: u32,
    pub codespace: String,
    pub log: String,
    pub data: Vec<u8>,
    pub gas_wanted: u64,
    pub gas_used: u64,
    pub events: Vec<Event>,
}

impl TxOutcome {
    pub(crate) fn failed(err: &AppError, gas_wanted: u64, gas_used: u64) -> Self {
        Self {
            code: err.code,
            codespace: err.codespace.to_string(),
            log: err.message.clone(),
            gas_wanted,
            gas_used,
            ..Self::default()
        }
    }
}

/// Shared, immutable inputs to execution.
pub(crate) struct Env<'a> {
    pub block: &'a BlockInfo,
    pub gas_config: &'a GasConfig,
}

/// Runs `tx` on top of `state` and returns its outcome and the writes to keep.
pub(crate) fn run_tx<S: StateRead>(
    env: &Env<'_>,
    state: &S,
    tx: &CheckedTx,
    pre: &PreVerified,
    mode: Mode,
) -> (TxOutcome, Changes) {
    let gas_wanted = tx.gas_limit;
    let mut gas = if mode == Mode::Simulate {
        GasMeter::infinite()
    } else {
        GasMeter::new(gas_wanted)
    };
    let mut ante_events = Vec::new();
    let mut ante_state = Delta::new(state);
    let ante = {
        let mut ctx = Context::new(
            &mut ante_state,
            &mut gas,
            env.gas_config,
            &mut ante_events,
            env.block,
        );
        ante(&mut ctx, tx, pre, mode)
    };
    if let Err(e) = ante {
        return (
            TxOutcome::failed(&e, gas_wanted, gas.used()),
            Changes::new(),
        );
    }
    if mode == Mode::Check {
        let outcome = TxOutcome {
            gas_wanted,
            gas_used: gas.used(),
            events: ante_events,
            ..TxOutcome::default()
        };
        return (outcome, ante_state.into_changes());
    }

    let mut msg_events = Vec::new();
    let mut msg_state = Delta::new(&ante_state);
    let mut responses = Vec::with_capacity(tx.msgs.len());
    let result = {
        let mut ctx = Context::new(
            &mut msg_state,
            &mut gas,
            env.gas_config,
            &mut msg_events,
            env.block,
        )
        .with_tx(&tx.tx_info);
        tx.msgs.iter().try_for_each(|m| {
            let value = m.execute(&mut ctx)?;
            responses.push(Any {
                type_url: m.response_type_url().to_string(),
                value,
            });
            Ok::<(), AppError>(())
        })
    };
    match result {
        Ok(()) => {
            let msg_changes = msg_state.into_changes();
            let mut changes = ante_state.into_changes();
            changes.extend(msg_changes);
            let mut events = ante_events;
            events.extend(msg_events);
            #[allow(deprecated)]
            let data = TxMsgData {
                data: vec![],
                msg_responses: responses,
            }
            .encode_to_vec();
            let outcome = TxOutcome {
                data,
                gas_wanted,
                gas_used: gas.used(),
                events,
                ..TxOutcome::default()
            };
            (outcome, changes)
        }
        Err(e) => {
            drop(msg_state);
            let mut outcome = TxOutcome::failed(&e, gas_wanted, gas.used());
            outcome.events = ante_events;
            (outcome, ante_state.into_changes())
        }
    }
}

fn ante(
    ctx: &mut Context<'_>,
    tx: &CheckedTx,
    pre: &PreVerified,
    mode: Mode,
) -> Result<(), AppError> {
    let params: AuthParams = ve_auth::state::params(ctx)?;
    if tx.memo_len as u64 > params.max_memo_characters {
        return Err(AppError::new(
            SDK_CODESPACE,
            12,
            format!(
                "memo too long: {} characters, the limit is {}",
                tx.memo_len, params.max_memo_characters
            ),
        ));
    }
    if tx.signers.len() as u64 > params.tx_sig_limit {
        return Err(AppError::new(
            SDK_CODESPACE,
            4,
            format!("too many signatures: limit is {}", params.tx_sig_limit),
        ));
    }
    if tx.timeout_height != 0 && ctx.block().height > tx.timeout_height {
        return Err(AppError::new(
            SDK_CODESPACE,
            30,
            format!(
                "tx timeout height {} passed: block is {}",
                tx.timeout_height,
                ctx.block().height
            ),
        ));
    }
    let size_gas = params
        .tx_size_cost_per_byte
        .saturating_mul(tx.raw_len as u64);
    ctx.consume_gas(size_gas, "txSize")?;

    if mode != Mode::Simulate {
        MinGasPrice::load(ctx)?.check(&tx.fee, tx.gas_limit)?;
    }

    let chain_id = ctx.block().chain_id.clone();
    for (i, signer) in tx.signers.iter().enumerate() {
        let mut account = ve_auth::state::get_account(ctx, &signer.address)?.ok_or_else(|| {
            AppError::new(
                SDK_CODESPACE,
                9,
                format!(
                    "account {} not found: it must receive funds before it can send",
                    signer.address
                ),
            )
        })?;
        // roles: suspended and terminated accounts cannot send any transaction.
        ve_roles::require_operational(ctx, &signer.address)?;
        if let Some(stored) = &account.pub_key {
            if stored.as_slice() != signer.pub_key.as_bytes() {
                return Err(AppError::new(
                    SDK_CODESPACE,
                    8,
                    format!("public key does not match account {}", signer.address),
                ));
            }
        }
        ctx.consume_gas(params.sig_verify_cost_secp256k1, "sigVerify")?;
        if account.sequence != signer.sequence {
            return Err(AppError::new(
                SDK_CODESPACE,
                32,
                format!(
                    "account sequence mismatch, expected {}, got {}: query the account and sign with its current sequence",
                    account.sequence, signer.sequence
                ),
            ));
        }
        let verified = pre.get(i).copied().flatten() == Some(account.account_number);
        if mode != Mode::Simulate && !verified {
            let doc = sign_doc_bytes(
                &tx.body_bytes,
                &tx.auth_info_bytes,
                &chain_id,
                account.account_number,
            );
            signer.pub_key.verify(&doc, &signer.signature).map_err(|_| {
                AppError::new(
                    SDK_CODESPACE,
                    4,
                    format!(
                        "signature verification failed; please verify account number ({}) and chain-id ({chain_id})",
                        account.account_number
                    ),
                )
            })?;
        }
        account.pub_key = Some(signer.pub_key.as_bytes().to_vec());
        account.sequence = account
            .sequence
            .checked_add(1)
            .ok_or_else(|| AppError::new(SDK_CODESPACE, 32, "sequence overflow"))?;
        ve_auth::state::set_account(ctx, &account)?;
        ctx.emit(
            Event::new("tx").attr("acc_seq", format!("{}/{}", signer.address, signer.sequence)),
        );
    }

    if let Some(payer) = tx.signers.first() {
        if !tx.fee.is_empty() {
            deduct_fee(ctx, &payer.address, &tx.fee)?;
        }
        ctx.emit(
            Event::new("tx")
                .attr("fee", &tx.fee)
                .attr("fee_payer", payer.address),
        );
    }
    Ok(())
}

fn deduct_fee(
    ctx: &mut Context<'_>,
    payer: &ve_types::Address,
    fee: &Coins,
) -> Result<(), AppError> {
    let collector = ve_auth::state::module_account_address("fee_collector");
    ve_bank::msg_server::send_coins(ctx, payer, &collector, fee).map_err(|e| {
        AppError::new(
            e.codespace,
            e.code,
            format!("{}: cannot pay fee {fee}", e.message),
        )
    })
}
