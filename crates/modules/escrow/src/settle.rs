//! Settlement: pure functions over an account and its open/paused payments, shared by the
//! keeper (which then persists and moves coins) and the queries (which only show the result).
//!
//! Money only moves between an account's deposits and its payments' balances here; every
//! amount moved is bounded by what was there, so it is checked and cannot be created.
//! Owed amounts (`rate × blocks`, debts) are claims, not money: they saturate.

use crate::types::{Account, AccountState, Deposit, Payment, PaymentState};
use crate::EscrowError;

/// What a settlement did to the account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settled {
    /// Nothing to do (closed, overdrawn, or already settled at this height).
    Unchanged,
    /// Payments accrued and the account is still open.
    Accrued,
    /// This settlement ran the account dry: it is now overdrawn, its payments paused.
    Overdrawn,
}

/// Spends up to `amount` from `deposits`, oldest entry first, dropping emptied entries.
/// Returns what was spent.
pub fn spend(deposits: &mut Vec<Deposit>, amount: u128) -> u128 {
    let mut left = amount;
    for d in deposits.iter_mut() {
        if left == 0 {
            break;
        }
        let take = d.balance.min(left);
        d.balance = d.balance.saturating_sub(take);
        left = left.saturating_sub(take);
    }
    deposits.retain(|d| d.balance > 0);
    amount.saturating_sub(left)
}

/// Adds `amount` from `depositor` at `height`: joins the entry of the same depositor and
/// source (own balance, or a grant to `grantee`), or starts a new one at the end (spent
/// last).
pub fn add_deposit(
    account: &mut Account,
    depositor: &ve_types::Address,
    grantee: Option<&ve_types::Address>,
    amount: u128,
    height: u64,
) -> Result<(), EscrowError> {
    let overflow = || EscrowError::Overflow(account.id.to_string());
    let grantee = grantee.copied();
    if let Some(d) = account
        .deposits
        .iter_mut()
        .find(|d| d.depositor == *depositor && d.grantee == grantee)
    {
        d.balance = d.balance.checked_add(amount).ok_or_else(overflow)?;
    } else {
        account.deposits.push(Deposit {
            depositor: *depositor,
            height,
            balance: amount,
            grantee,
        });
    }
    // The sum must stay representable too.
    account.balance()?;
    Ok(())
}

/// Settles `account` at `height`: each open payment, in order, takes `rate × blocks` since
/// the last settlement from the deposits. If any payment cannot be paid in full, the
/// shortfall is recorded as its debt (`unsettled`), the account becomes overdrawn with a
/// grace window of `grace_blocks`, and every open payment is paused. An overdrawn account
/// accrues nothing.
pub fn settle(
    account: &mut Account,
    payments: &mut [Payment],
    height: u64,
    grace_blocks: u64,
) -> Result<Settled, EscrowError> {
    if account.state != AccountState::Open || height <= account.settled_at {
        return Ok(Settled::Unchanged);
    }
    let blocks = u128::from(height.saturating_sub(account.settled_at));
    account.settled_at = height;
    let mut short = false;
    for p in payments
        .iter_mut()
        .filter(|p| p.state == PaymentState::Open)
    {
        let due = p.rate.saturating_mul(blocks);
        let paid = spend(&mut account.deposits, due);
        p.balance = p
            .balance
            .checked_add(paid)
            .ok_or_else(|| EscrowError::Overflow(account.id.to_string()))?;
        account.transferred = account
            .transferred
            .checked_add(paid)
            .ok_or_else(|| EscrowError::Overflow(account.id.to_string()))?;
        if paid < due {
            p.unsettled = p.unsettled.saturating_add(due.saturating_sub(paid));
            short = true;
        }
    }
    if !short {
        return Ok(Settled::Accrued);
    }
    account.state = AccountState::Overdrawn;
    account.overdrawn_at = height;
    account.grace_until = height.saturating_add(grace_blocks);
    for p in payments
        .iter_mut()
        .filter(|p| p.state == PaymentState::Open)
    {
        p.state = PaymentState::Paused;
    }
    Ok(Settled::Overdrawn)
}

/// Total debt of an overdrawn account's paused payments.
pub fn debt(payments: &[Payment]) -> u128 {
    payments
        .iter()
        .filter(|p| p.state == PaymentState::Paused)
        .fold(0u128, |acc, p| acc.saturating_add(p.unsettled))
}

/// If `account` is overdrawn and its funds cover the whole debt: pays every debt, resumes
/// the paused payments and reopens the account from `height` (the paused blocks are not
/// charged). Returns whether it resumed.
pub fn try_resume(
    account: &mut Account,
    payments: &mut [Payment],
    height: u64,
) -> Result<bool, EscrowError> {
    if account.state != AccountState::Overdrawn || account.balance()? < debt(payments) {
        return Ok(false);
    }
    for p in payments
        .iter_mut()
        .filter(|p| p.state == PaymentState::Paused)
    {
        let paid = spend(&mut account.deposits, p.unsettled);
        p.balance = p
            .balance
            .checked_add(paid)
            .ok_or_else(|| EscrowError::Overflow(account.id.to_string()))?;
        account.transferred = account
            .transferred
            .checked_add(paid)
            .ok_or_else(|| EscrowError::Overflow(account.id.to_string()))?;
        p.unsettled = 0;
        p.state = PaymentState::Open;
    }
    account.state = AccountState::Open;
    account.settled_at = height;
    account.overdrawn_at = 0;
    account.grace_until = 0;
    Ok(true)
}

/// Sum of the rates of open payments.
pub fn open_rate(payments: &[Payment]) -> u128 {
    payments
        .iter()
        .filter(|p| p.state == PaymentState::Open)
        .fold(0u128, |acc, p| acc.saturating_add(p.rate))
}

/// The next height at which end-block must look at the account, 0 for never:
/// for an open account, the first height whose settlement cannot be paid in full
/// (`settled_at + floor(balance / rate) + 1`); for an overdrawn one, the end of its grace.
pub fn wake_height(account: &Account, payments: &[Payment]) -> Result<u64, EscrowError> {
    match account.state {
        AccountState::Closed => Ok(0),
        AccountState::Overdrawn => Ok(account.grace_until),
        AccountState::Open => {
            let rate = open_rate(payments);
            if rate == 0 {
                return Ok(0);
            }
            let blocks = account.balance()? / rate;
            Ok(u64::try_from(blocks)
                .ok()
                .and_then(|b| account.settled_at.checked_add(b))
                .and_then(|h| h.checked_add(1))
                .unwrap_or(0))
        }
    }
}
