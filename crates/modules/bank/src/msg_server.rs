//! One handler per message: stateless checks, then stateful checks, then effects.

use crate::{events, state, BankError};
use prost::Message;
use std::collections::BTreeSet;
use std::sync::Arc;
use ve_module::gate::{MfaGate, SensitiveAction};
use ve_module::{Context, Event, MsgHandler};
use ve_proto::cosmos::bank::v1beta1::{
    MsgMultiSend, MsgMultiSendResponse, MsgSend, MsgSendResponse,
};
use ve_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use ve_types::{Address, AppError, Coin, Coins};

/// What bank needs from the account module: a transfer to a fresh address creates its
/// account, as in the Cosmos SDK. Implemented by the app over `auth`.
pub trait AccountKeeper: Send + Sync {
    fn ensure_account(&self, ctx: &mut Context<'_>, addr: &Address) -> Result<(), AppError>;
}

/// Largest number of outputs in one MsgMultiSend; bounds the work of one message.
pub const MAX_OUTPUTS: usize = 100;

pub(crate) fn parse_addr(s: &str) -> Result<Address, AppError> {
    s.parse()
        .map_err(|e| BankError::InvalidAddress(s.to_string(), format!("{e}")).into())
}

/// Validates a wire coin list: valid denoms, positive amounts, sorted, no duplicates,
/// not empty — the Cosmos `Coins.IsValid` rule.
pub(crate) fn parse_coins(list: &[ProtoCoin]) -> Result<Coins, AppError> {
    if list.is_empty() {
        return Err(BankError::InvalidCoins("empty amount: send at least one coin".into()).into());
    }
    let mut prev: Option<&str> = None;
    let mut coins = Vec::with_capacity(list.len());
    for c in list {
        let coin = Coin::from_parts(&c.denom, &c.amount)
            .map_err(|e| BankError::InvalidCoins(e.to_string()))?;
        if coin.amount == 0 {
            return Err(BankError::InvalidCoins(format!(
                "zero amount for {}: amounts must be positive",
                c.denom
            ))
            .into());
        }
        if prev.is_some_and(|p| p >= c.denom.as_str()) {
            return Err(BankError::InvalidCoins(
                "coins must be sorted by denom and not repeat".into(),
            )
            .into());
        }
        prev = Some(&c.denom);
        coins.push(coin);
    }
    Coins::from_list(coins).map_err(|e| BankError::InvalidCoins(e.to_string()).into())
}

/// Moves `amount` from `from` to `to`, emitting the Cosmos transfer events. Used by the
/// message handlers and by the app to collect fees.
pub fn send_coins(
    ctx: &mut Context<'_>,
    from: &Address,
    to: &Address,
    amount: &Coins,
) -> Result<(), AppError> {
    for coin in amount.iter() {
        state::sub_balance(ctx, from, &coin)?;
        state::add_balance(ctx, to, &coin)?;
    }
    ctx.emit(events::coin_spent(from, amount));
    ctx.emit(events::coin_received(to, amount));
    ctx.emit(events::transfer(from, to, amount));
    Ok(())
}

fn check_send_enabled(ctx: &mut Context<'_>, amount: &Coins) -> Result<(), AppError> {
    if !state::params(ctx)?.default_send_enabled {
        let denoms: Vec<String> = amount.iter().map(|c| c.denom).collect();
        return Err(BankError::SendDisabled(denoms.join(",")).into());
    }
    Ok(())
}

/// The `uve` amount of a coin list: the value MFA value thresholds compare against.
fn uve_of(amount: &Coins) -> u128 {
    amount
        .iter()
        .find(|c| c.denom == "uve")
        .map_or(0, |c| c.amount)
}

/// `/cosmos.bank.v1beta1.MsgSend`. Sensitive (LargeTransfer) above the mfa module's
/// value threshold: the handler calls the MFA gate, so every dispatch path is gated.
pub struct MsgSendHandler {
    pub blocked: BTreeSet<Address>,
    pub accounts: Arc<dyn AccountKeeper>,
    pub mfa: Arc<dyn MfaGate>,
}

impl MsgHandler for MsgSendHandler {
    type Msg = MsgSend;

    fn type_url(&self) -> &'static str {
        "/cosmos.bank.v1beta1.MsgSend"
    }
    fn response_type_url(&self) -> &'static str {
        "/cosmos.bank.v1beta1.MsgSendResponse"
    }

    fn signers(&self, msg: &MsgSend) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.from_address)?])
    }

    fn check_stateless(&self, msg: &MsgSend) -> Result<(), AppError> {
        parse_addr(&msg.from_address)?;
        parse_addr(&msg.to_address)?;
        parse_coins(&msg.amount)?;
        Ok(())
    }

    fn execute(&self, ctx: &mut Context<'_>, msg: &MsgSend) -> Result<Vec<u8>, AppError> {
        let from = parse_addr(&msg.from_address)?;
        let to = parse_addr(&msg.to_address)?;
        let amount = parse_coins(&msg.amount)?;
        check_send_enabled(ctx, &amount)?;
        if self.blocked.contains(&to) {
            return Err(BankError::BlockedRecipient(msg.to_address.clone()).into());
        }
        self.mfa
            .require_mfa(ctx, &from, SensitiveAction::LargeTransfer, uve_of(&amount))?;
        self.accounts.ensure_account(ctx, &to)?;
        send_coins(ctx, &from, &to, &amount)?;
        ctx.emit(
            Event::new("message")
                .attr("sender", from)
                .attr("module", "bank"),
        );
        Ok(MsgSendResponse {}.encode_to_vec())
    }
}

/// `/cosmos.bank.v1beta1.MsgMultiSend`: one input, many outputs, sums must match.
/// Gated like MsgSend on the total sent.
pub struct MsgMultiSendHandler {
    pub blocked: BTreeSet<Address>,
    pub accounts: Arc<dyn AccountKeeper>,
    pub mfa: Arc<dyn MfaGate>,
}

/// A validated MsgMultiSend: the sender, the total, and each recipient's share.
struct MultiSend {
    from: Address,
    total: Coins,
    outputs: Vec<(Address, Coins)>,
}

fn multi_send_parts(msg: &MsgMultiSend) -> Result<MultiSend, AppError> {
    let input = match msg.inputs.as_slice() {
        [] => return Err(BankError::NoInputs.into()),
        [one] => one,
        _ => return Err(BankError::MultipleSenders.into()),
    };
    if msg.outputs.is_empty() {
        return Err(BankError::NoOutputs.into());
    }
    if msg.outputs.len() > MAX_OUTPUTS {
        return Err(BankError::InvalidRequest(format!(
            "at most {MAX_OUTPUTS} outputs per MsgMultiSend"
        ))
        .into());
    }
    let from = parse_addr(&input.address)?;
    let total_in = parse_coins(&input.coins)?;
    let mut total_out = Coins::new();
    let mut outputs = Vec::with_capacity(msg.outputs.len());
    for out in &msg.outputs {
        let addr = parse_addr(&out.address)?;
        let coins = parse_coins(&out.coins)?;
        for c in coins.iter() {
            total_out
                .checked_add(&c)
                .map_err(|e| BankError::InvalidCoins(e.to_string()))?;
        }
        outputs.push((addr, coins));
    }
    if total_in != total_out {
        return Err(BankError::InputOutputMismatch.into());
    }
    Ok(MultiSend {
        from,
        total: total_in,
        outputs,
    })
}

impl MsgHandler for MsgMultiSendHandler {
    type Msg = MsgMultiSend;

    fn type_url(&self) -> &'static str {
        "/cosmos.bank.v1beta1.MsgMultiSend"
    }
    fn response_type_url(&self) -> &'static str {
        "/cosmos.bank.v1beta1.MsgMultiSendResponse"
    }

    fn signers(&self, msg: &MsgMultiSend) -> Result<Vec<Address>, AppError> {
        let input = msg.inputs.first().ok_or(BankError::NoInputs)?;
        Ok(vec![parse_addr(&input.address)?])
    }

    fn check_stateless(&self, msg: &MsgMultiSend) -> Result<(), AppError> {
        multi_send_parts(msg).map(|_| ())
    }

    fn execute(&self, ctx: &mut Context<'_>, msg: &MsgMultiSend) -> Result<Vec<u8>, AppError> {
        let MultiSend {
            from,
            total,
            outputs,
        } = multi_send_parts(msg)?;
        check_send_enabled(ctx, &total)?;
        for (to, _) in &outputs {
            if self.blocked.contains(to) {
                return Err(BankError::BlockedRecipient(to.to_string()).into());
            }
        }
        self.mfa
            .require_mfa(ctx, &from, SensitiveAction::LargeTransfer, uve_of(&total))?;
        for coin in total.iter() {
            state::sub_balance(ctx, &from, &coin)?;
        }
        ctx.emit(events::coin_spent(&from, &total));
        for (to, coins) in &outputs {
            self.accounts.ensure_account(ctx, to)?;
            for coin in coins.iter() {
                state::add_balance(ctx, to, &coin)?;
            }
            ctx.emit(events::coin_received(to, coins));
            ctx.emit(
                Event::new("transfer")
                    .attr("recipient", to)
                    .attr("amount", coins),
            );
        }
        ctx.emit(
            Event::new("message")
                .attr("sender", from)
                .attr("module", "bank"),
        );
        Ok(MsgMultiSendResponse {}.encode_to_vec())
    }
}
