//! One handler per message: stateless checks, then stateful checks, then effects.

use crate::keeper::{EscrowKeeper, Keeper};
use crate::proto::{
    MsgDeposit, MsgDepositResponse, MsgWithdrawPayment, MsgWithdrawPaymentResponse,
};
use crate::types::{validate_payment_id, AccountId, AccountState};
use crate::{state, EscrowError};
use prost::Message;
use ve_module::{Context, Event, MsgHandler};
use ve_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use ve_types::{Address, AppError, Coin};

pub(crate) fn parse_addr(s: &str) -> Result<Address, AppError> {
    s.parse()
        .map_err(|e| EscrowError::InvalidAddress(s.to_string(), format!("{e}")).into())
}

fn parse_coin(c: Option<&ProtoCoin>) -> Result<Coin, AppError> {
    let c = c.ok_or_else(|| EscrowError::InvalidAmount("missing amount".into()))?;
    let coin = Coin::from_parts(&c.denom, &c.amount)
        .map_err(|e| EscrowError::InvalidAmount(e.to_string()))?;
    if coin.amount == 0 {
        return Err(EscrowError::InvalidAmount(format!(
            "zero {}: deposit a positive amount",
            coin.denom
        ))
        .into());
    }
    Ok(coin)
}

fn proto_coin(denom: &str, amount: u128) -> ProtoCoin {
    ProtoCoin {
        denom: denom.to_string(),
        amount: amount.to_string(),
    }
}

fn message_event(sender: &Address) -> Event {
    Event::new("message")
        .attr("sender", sender)
        .attr("module", "escrow")
}

/// `/virtengine.escrow.v1.MsgDeposit`: anyone may fund an existing account.
pub struct DepositHandler {
    pub keeper: Keeper,
}

impl MsgHandler for DepositHandler {
    type Msg = MsgDeposit;

    fn type_url(&self) -> &'static str {
        "/virtengine.escrow.v1.MsgDeposit"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.escrow.v1.MsgDepositResponse"
    }

    fn signers(&self, msg: &MsgDeposit) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.signer)?])
    }

    fn check_stateless(&self, msg: &MsgDeposit) -> Result<(), AppError> {
        parse_addr(&msg.signer)?;
        AccountId::from_proto(msg.account_id.as_ref())?;
        parse_coin(msg.amount.as_ref())?;
        Ok(())
    }

    fn execute(&self, ctx: &mut Context<'_>, msg: &MsgDeposit) -> Result<Vec<u8>, AppError> {
        let signer = parse_addr(&msg.signer)?;
        let id = AccountId::from_proto(msg.account_id.as_ref())?;
        let amount = parse_coin(msg.amount.as_ref())?;
        let st = self.keeper.account_deposit(ctx, &id, &signer, &amount)?;
        ctx.emit(message_event(&signer));
        let state = match st {
            AccountState::Open => crate::proto::AccountState::Open,
            AccountState::Overdrawn => crate::proto::AccountState::Overdrawn,
            AccountState::Closed => crate::proto::AccountState::Closed,
        };
        Ok(MsgDepositResponse {
            state: state as i32,
        }
        .encode_to_vec())
    }
}

/// `/virtengine.escrow.v1.MsgWithdrawPayment`: the payee takes its accrued funds.
pub struct WithdrawPaymentHandler {
    pub keeper: Keeper,
}

impl MsgHandler for WithdrawPaymentHandler {
    type Msg = MsgWithdrawPayment;

    fn type_url(&self) -> &'static str {
        "/virtengine.escrow.v1.MsgWithdrawPayment"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.escrow.v1.MsgWithdrawPaymentResponse"
    }

    fn signers(&self, msg: &MsgWithdrawPayment) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.signer)?])
    }

    fn check_stateless(&self, msg: &MsgWithdrawPayment) -> Result<(), AppError> {
        parse_addr(&msg.signer)?;
        AccountId::from_proto(msg.account_id.as_ref())?;
        validate_payment_id(&msg.payment_id)?;
        Ok(())
    }

    fn execute(
        &self,
        ctx: &mut Context<'_>,
        msg: &MsgWithdrawPayment,
    ) -> Result<Vec<u8>, AppError> {
        let signer = parse_addr(&msg.signer)?;
        let id = AccountId::from_proto(msg.account_id.as_ref())?;
        let account = state::account(ctx, &id)?
            .ok_or_else(|| EscrowError::AccountNotFound(id.to_string()))?;
        let payment = match state::payment(ctx, &id, &msg.payment_id)? {
            Some(p) => p,
            None => match state::closed_payment(ctx, &id, &msg.payment_id)? {
                Some(p) => p,
                None => {
                    return Err(EscrowError::PaymentNotFound {
                        account: id.to_string(),
                        payment: msg.payment_id.clone(),
                    }
                    .into())
                }
            },
        };
        if payment.payee != signer {
            return Err(EscrowError::NotPayee {
                signer: signer.to_string(),
                payee: payment.payee.to_string(),
                payment: msg.payment_id.clone(),
            }
            .into());
        }
        let paid = self.keeper.payment_withdraw(ctx, &id, &msg.payment_id)?;
        ctx.emit(message_event(&signer));
        Ok(MsgWithdrawPaymentResponse {
            payout: Some(proto_coin(&account.denom, paid.to_payee)),
            fee: Some(proto_coin(&account.denom, paid.fee)),
        }
        .encode_to_vec())
    }
}
