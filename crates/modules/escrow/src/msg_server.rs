//! One handler per message: stateless checks, then stateful checks, then effects.

use crate::grant::{normalize_scopes, Grant};
use crate::keeper::{EscrowKeeper, Funding, Keeper};
use crate::proto::{
    MsgDeposit, MsgDepositFromGrant, MsgDepositResponse, MsgGrantDeposit, MsgGrantDepositResponse,
    MsgRevokeDepositGrant, MsgRevokeDepositGrantResponse, MsgWithdrawPayment,
    MsgWithdrawPaymentResponse,
};
use crate::types::{validate_payment_id, AccountId, AccountState};
use crate::{events, state, EscrowError};
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
        let st =
            self.keeper
                .account_deposit_funded(ctx, &id, &Funding::Balance(signer), &amount)?;
        ctx.emit(message_event(&signer));
        Ok(deposit_response(st))
    }
}

fn deposit_response(st: AccountState) -> Vec<u8> {
    let state = match st {
        AccountState::Open => crate::proto::AccountState::Open,
        AccountState::Overdrawn => crate::proto::AccountState::Overdrawn,
        AccountState::Closed => crate::proto::AccountState::Closed,
    };
    MsgDepositResponse {
        state: state as i32,
    }
    .encode_to_vec()
}

/// The grant a `MsgDepositFromGrant` draws on: the granter's grant to the signer.
fn grant_funding(msg: &MsgDepositFromGrant) -> Result<Funding, AppError> {
    let grantee = parse_addr(&msg.signer)?;
    let granter = parse_addr(&msg.granter)?;
    if granter == grantee {
        return Err(EscrowError::InvalidGrant(
            "granter equals signer: deposit from your balance with MsgDeposit".into(),
        )
        .into());
    }
    Ok(Funding::Grant { granter, grantee })
}

/// `/virtengine.escrow.v1.MsgDepositFromGrant`: the grantee funds an account from the
/// granter's balance through the granter's deposit grant (expiry, scope and spend limit
/// checked; refunds at close go to the granter).
pub struct DepositFromGrantHandler {
    pub keeper: Keeper,
}

impl MsgHandler for DepositFromGrantHandler {
    type Msg = MsgDepositFromGrant;

    fn type_url(&self) -> &'static str {
        "/virtengine.escrow.v1.MsgDepositFromGrant"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.escrow.v1.MsgDepositResponse"
    }

    fn signers(&self, msg: &MsgDepositFromGrant) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.signer)?])
    }

    fn check_stateless(&self, msg: &MsgDepositFromGrant) -> Result<(), AppError> {
        grant_funding(msg)?;
        AccountId::from_proto(msg.account_id.as_ref())?;
        parse_coin(msg.amount.as_ref())?;
        Ok(())
    }

    fn execute(
        &self,
        ctx: &mut Context<'_>,
        msg: &MsgDepositFromGrant,
    ) -> Result<Vec<u8>, AppError> {
        let funding = grant_funding(msg)?;
        let id = AccountId::from_proto(msg.account_id.as_ref())?;
        let amount = parse_coin(msg.amount.as_ref())?;
        let st = self
            .keeper
            .account_deposit_funded(ctx, &id, &funding, &amount)?;
        ctx.emit(message_event(&parse_addr(&msg.signer)?));
        Ok(deposit_response(st))
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

/// The grant a `MsgGrantDeposit` describes, checked without state.
fn grant_of(msg: &MsgGrantDeposit) -> Result<Grant, AppError> {
    let g = Grant {
        granter: parse_addr(&msg.granter)?,
        grantee: parse_addr(&msg.grantee)?,
        spend_limit: parse_coin(msg.spend_limit.as_ref())?,
        expiration: msg.expiration,
        scopes: normalize_scopes(&msg.scopes)?,
        created_at: 0,
    };
    g.validate()?;
    Ok(g)
}

/// `/virtengine.escrow.v1.MsgGrantDeposit`: the granter lets the grantee fund escrow
/// accounts from the granter's balance. A new grant between the same two accounts
/// replaces the old one (its spend limit is the new limit, not a sum).
pub struct GrantDepositHandler;

impl MsgHandler for GrantDepositHandler {
    type Msg = MsgGrantDeposit;

    fn type_url(&self) -> &'static str {
        "/virtengine.escrow.v1.MsgGrantDeposit"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.escrow.v1.MsgGrantDepositResponse"
    }

    fn signers(&self, msg: &MsgGrantDeposit) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.granter)?])
    }

    fn check_stateless(&self, msg: &MsgGrantDeposit) -> Result<(), AppError> {
        grant_of(msg).map(|_| ())
    }

    fn execute(&self, ctx: &mut Context<'_>, msg: &MsgGrantDeposit) -> Result<Vec<u8>, AppError> {
        let mut g = grant_of(msg)?;
        if g.expired(ctx.block().time_unix) {
            return Err(EscrowError::InvalidGrant(format!(
                "expiration {} is not after the current block time {}",
                g.expiration,
                ctx.block().time_unix
            ))
            .into());
        }
        g.created_at = ctx.block().height;
        state::set_grant(ctx, &g)?;
        ctx.emit(events::grant_created(&g));
        ctx.emit(message_event(&g.granter));
        Ok(MsgGrantDepositResponse {}.encode_to_vec())
    }
}

/// `/virtengine.escrow.v1.MsgRevokeDepositGrant`: the granter withdraws a grant. Deposits
/// already made stay in their accounts (refunded to the granter at close).
pub struct RevokeDepositGrantHandler;

impl MsgHandler for RevokeDepositGrantHandler {
    type Msg = MsgRevokeDepositGrant;

    fn type_url(&self) -> &'static str {
        "/virtengine.escrow.v1.MsgRevokeDepositGrant"
    }
    fn response_type_url(&self) -> &'static str {
        "/virtengine.escrow.v1.MsgRevokeDepositGrantResponse"
    }

    fn signers(&self, msg: &MsgRevokeDepositGrant) -> Result<Vec<Address>, AppError> {
        Ok(vec![parse_addr(&msg.granter)?])
    }

    fn check_stateless(&self, msg: &MsgRevokeDepositGrant) -> Result<(), AppError> {
        parse_addr(&msg.granter)?;
        parse_addr(&msg.grantee)?;
        Ok(())
    }

    fn execute(
        &self,
        ctx: &mut Context<'_>,
        msg: &MsgRevokeDepositGrant,
    ) -> Result<Vec<u8>, AppError> {
        let granter = parse_addr(&msg.granter)?;
        let grantee = parse_addr(&msg.grantee)?;
        if state::grant(ctx, &granter, &grantee)?.is_none() {
            return Err(EscrowError::GrantNotFound {
                granter: granter.to_string(),
                grantee: grantee.to_string(),
            }
            .into());
        }
        state::delete_grant(ctx, &granter, &grantee)?;
        ctx.emit(events::grant_revoked(&granter, &grantee));
        ctx.emit(message_event(&granter));
        Ok(MsgRevokeDepositGrantResponse {}.encode_to_vec())
    }
}
