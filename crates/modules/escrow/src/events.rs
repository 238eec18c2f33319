//! Typed escrow events: one constructor per event so names and attributes cannot drift.
//! Amounts are `<amount><denom>`. A provider daemon watches `escrow_overdrawn` (pause the
//! lease, keep its data), `escrow_resumed` (start it again) and `escrow_account_closed`
//! (tear down). Overdraft and grace-end events may come from a transaction or from
//! end-block (block events).

use crate::grant::Grant;
use crate::types::{Account, AccountId, Payment};
use ve_module::Event;
use ve_types::Address;

pub const ACCOUNT_CREATED: &str = "escrow_account_created";
pub const DEPOSIT: &str = "escrow_deposit";
pub const PAYMENT_CREATED: &str = "escrow_payment_created";
pub const PAYMENT_WITHDRAWN: &str = "escrow_payment_withdrawn";
pub const PAYMENT_CLOSED: &str = "escrow_payment_closed";
pub const OVERDRAWN: &str = "escrow_overdrawn";
pub const RESUMED: &str = "escrow_resumed";
pub const ACCOUNT_CLOSED: &str = "escrow_account_closed";
pub const REFUND: &str = "escrow_refund";
pub const GRANT_CREATED: &str = "escrow_grant_created";
pub const GRANT_REVOKED: &str = "escrow_grant_revoked";
pub const GRANT_USED: &str = "escrow_grant_used";
pub const GRANT_RESTORED: &str = "escrow_grant_restored";

fn amount(v: u128, denom: &str) -> String {
    format!("{v}{denom}")
}

pub fn account_created(a: &Account) -> Event {
    Event::new(ACCOUNT_CREATED)
        .attr("account", &a.id)
        .attr("owner", a.owner)
        .attr("denom", &a.denom)
        .attr("height", a.created_at)
}

pub fn deposit(a: &Account, depositor: &Address, value: u128, balance: u128) -> Event {
    Event::new(DEPOSIT)
        .attr("account", &a.id)
        .attr("depositor", depositor)
        .attr("amount", amount(value, &a.denom))
        .attr("balance", amount(balance, &a.denom))
}

pub fn payment_created(p: &Payment, denom: &str) -> Event {
    Event::new(PAYMENT_CREATED)
        .attr("account", &p.account_id)
        .attr("payment", &p.id)
        .attr("payee", p.payee)
        .attr("rate", amount(p.rate, denom))
}

pub fn payment_withdrawn(p: &Payment, denom: &str, gross: u128, fee: u128, payout: u128) -> Event {
    Event::new(PAYMENT_WITHDRAWN)
        .attr("account", &p.account_id)
        .attr("payment", &p.id)
        .attr("payee", p.payee)
        .attr("amount", amount(gross, denom))
        .attr("fee", amount(fee, denom))
        .attr("payout", amount(payout, denom))
}

pub fn payment_closed(p: &Payment, denom: &str, forgiven: u128) -> Event {
    Event::new(PAYMENT_CLOSED)
        .attr("account", &p.account_id)
        .attr("payment", &p.id)
        .attr("payee", p.payee)
        .attr("forgiven", amount(forgiven, denom))
        .attr("height", p.closed_at)
}

pub fn overdrawn(a: &Account, debt: u128) -> Event {
    Event::new(OVERDRAWN)
        .attr("account", &a.id)
        .attr("owner", a.owner)
        .attr("height", a.overdrawn_at)
        .attr("grace_until", a.grace_until)
        .attr("debt", amount(debt, &a.denom))
}

pub fn resumed(a: &Account, height: u64) -> Event {
    Event::new(RESUMED)
        .attr("account", &a.id)
        .attr("owner", a.owner)
        .attr("height", height)
}

pub fn account_closed(a: &Account, reason: &str) -> Event {
    Event::new(ACCOUNT_CLOSED)
        .attr("account", &a.id)
        .attr("owner", a.owner)
        .attr("reason", reason)
        .attr("height", a.closed_at)
}

pub fn refund(id: &AccountId, depositor: &Address, value: u128, denom: &str) -> Event {
    Event::new(REFUND)
        .attr("account", id)
        .attr("depositor", depositor)
        .attr("amount", amount(value, denom))
}

pub fn grant_created(g: &Grant) -> Event {
    Event::new(GRANT_CREATED)
        .attr("granter", g.granter)
        .attr("grantee", g.grantee)
        .attr("spend_limit", &g.spend_limit)
        .attr("expiration", g.expiration)
        .attr("scopes", g.scopes.join(","))
}

pub fn grant_revoked(granter: &Address, grantee: &Address) -> Event {
    Event::new(GRANT_REVOKED)
        .attr("granter", granter)
        .attr("grantee", grantee)
}

/// A grant-funded deposit: `amount` left the granter's balance for `account`.
pub fn grant_used(g: &Grant, id: &AccountId, value: u128) -> Event {
    Event::new(GRANT_USED)
        .attr("granter", g.granter)
        .attr("grantee", g.grantee)
        .attr("account", id)
        .attr("amount", amount(value, &g.spend_limit.denom))
        .attr("spend_limit", &g.spend_limit)
}

/// A refund of grant-funded deposits raised the grant's spend limit again.
pub fn grant_restored(g: &Grant, id: &AccountId, value: u128) -> Event {
    Event::new(GRANT_RESTORED)
        .attr("granter", g.granter)
        .attr("grantee", g.grantee)
        .attr("account", id)
        .attr("amount", amount(value, &g.spend_limit.denom))
        .attr("spend_limit", &g.spend_limit)
}
