//! The escrow keeper: every operation loads an account and its active payments, settles
//! them at the current height, does its work, and writes back what changed (including the
//! account's wake-queue entry). Other modules reach escrow only through [`EscrowKeeper`];
//! escrow reaches bank and take only through [`BankKeeper`] and [`TakeKeeper`].

use crate::settle::{self, Settled};
use crate::types::{validate_payment_id, Account, AccountId, AccountState, Payment, PaymentState};
use crate::{events, state, EscrowError, EscrowParams, MODULE_ACCOUNT};
use std::sync::Arc;
use ve_module::Context;
use ve_types::{Address, AppError, Coin};

/// What escrow needs from bank: move one coin between accounts (creating the recipient's
/// account if needed). Implemented by the app over `ve-bank`.
pub trait BankKeeper: Send + Sync {
    fn send(
        &self,
        ctx: &mut Context<'_>,
        from: &Address,
        to: &Address,
        coin: &Coin,
    ) -> Result<(), AppError>;
}

/// What escrow needs from take: how a payout splits, and where the fee goes.
pub trait TakeKeeper: Send + Sync {
    /// `(to_payee, fee)` for a payout of `amount` `denom`; the two add up to `amount`.
    fn split(
        &self,
        ctx: &mut Context<'_>,
        denom: &str,
        amount: u128,
    ) -> Result<(u128, u128), AppError>;
    /// The account that receives take fees (the community pool).
    fn fee_collector(&self) -> Address;
}

/// Notifications for the modules that own accounts (deployment, market): pause or resume
/// a lease, close a deployment. They run inside the same state transition, so an error
/// fails it; from end-block an error halts the chain, so hooks must not fail on user data.
pub trait EscrowHooks: Send + Sync {
    fn on_account_overdrawn(&self, _ctx: &mut Context<'_>, _a: &Account) -> Result<(), AppError> {
        Ok(())
    }
    fn on_account_resumed(&self, _ctx: &mut Context<'_>, _a: &Account) -> Result<(), AppError> {
        Ok(())
    }
    fn on_account_closed(&self, _ctx: &mut Context<'_>, _a: &Account) -> Result<(), AppError> {
        Ok(())
    }
    fn on_payment_closed(&self, _ctx: &mut Context<'_>, _p: &Payment) -> Result<(), AppError> {
        Ok(())
    }
}

/// No owner module listens yet.
pub struct NoHooks;
impl EscrowHooks for NoHooks {}

/// Why an account closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// Its owner module closed it (deployment closed, bid closed or lost).
    Owner,
    /// It stayed overdrawn past its grace window.
    GraceExpired,
}

impl CloseReason {
    pub fn name(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::GraceExpired => "grace_expired",
        }
    }
}

/// Where a deposit's coins come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Funding {
    /// The depositor's own balance; refunds go back to it.
    Balance(Address),
    /// The granter's balance, through its deposit grant to `grantee` (who signs the
    /// deposit); refunds go to the granter and restore the grant.
    Grant { granter: Address, grantee: Address },
}

impl Funding {
    /// The deposit entry it feeds: whose money it is, and the grant tag.
    pub fn entry(&self) -> (Address, Option<Address>) {
        match *self {
            Self::Balance(a) => (a, None),
            Self::Grant { granter, grantee } => (granter, Some(grantee)),
        }
    }
}

/// A payout: what the payee received and what went to the community pool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Payout {
    pub to_payee: u128,
    pub fee: u128,
}

/// The operations deployment and market use. Every call settles the account first.
pub trait EscrowKeeper {
    /// Opens an account funded from `funding` (the owner's or a sponsor's balance, or a
    /// deposit grant).
    fn account_create_funded(
        &self,
        ctx: &mut Context<'_>,
        id: &AccountId,
        owner: &Address,
        funding: &Funding,
        deposit: &Coin,
    ) -> Result<(), AppError>;
    /// Opens an account funded from `depositor`'s balance.
    fn account_create(
        &self,
        ctx: &mut Context<'_>,
        id: &AccountId,
        owner: &Address,
        depositor: &Address,
        deposit: &Coin,
    ) -> Result<(), AppError> {
        self.account_create_funded(ctx, id, owner, &Funding::Balance(*depositor), deposit)
    }
    /// Adds funds from `funding`; resumes an overdrawn account whose debt they cover.
    fn account_deposit_funded(
        &self,
        ctx: &mut Context<'_>,
        id: &AccountId,
        funding: &Funding,
        amount: &Coin,
    ) -> Result<AccountState, AppError>;
    /// Adds funds from `depositor`'s balance.
    fn account_deposit(
        &self,
        ctx: &mut Context<'_>,
        id: &AccountId,
        depositor: &Address,
        amount: &Coin,
    ) -> Result<AccountState, AppError> {
        self.account_deposit_funded(ctx, id, &Funding::Balance(*depositor), amount)
    }
    /// Settles and returns the account (overdraft and grace expiry take effect).
    fn account_settle(&self, ctx: &mut Context<'_>, id: &AccountId) -> Result<Account, AppError>;
    /// Closes: pays out every payment, refunds the remaining deposits to their depositors.
    fn account_close(&self, ctx: &mut Context<'_>, id: &AccountId) -> Result<(), AppError>;
    /// Starts paying `rate` per block to `payee`. The account must be open after settling.
    fn payment_create(
        &self,
        ctx: &mut Context<'_>,
        id: &AccountId,
        payment_id: &str,
        payee: &Address,
        rate: &Coin,
    ) -> Result<(), AppError>;
    /// Pays the payee its accrued balance minus the take fee.
    fn payment_withdraw(
        &self,
        ctx: &mut Context<'_>,
        id: &AccountId,
        payment_id: &str,
    ) -> Result<Payout, AppError>;
    /// Pays out and closes one payment; any unpaid debt of it is forgiven.
    fn payment_close(
        &self,
        ctx: &mut Context<'_>,
        id: &AccountId,
        payment_id: &str,
    ) -> Result<Payout, AppError>;
}

/// The keeper, over narrow views of bank, take and the owner modules' hooks.
#[derive(Clone)]
pub struct Keeper {
    bank: Arc<dyn BankKeeper>,
    take: Arc<dyn TakeKeeper>,
    hooks: Arc<dyn EscrowHooks>,
}

/// An account loaded for an operation, with what it looked like before.
struct Loaded {
    account: Account,
    payments: Vec<Payment>,
    orig_payments: Vec<Payment>,
    orig_wake: u64,
    params: EscrowParams,
    /// Payouts made by a close during this operation, by payment id.
    closed_payouts: Vec<(String, Payout)>,
}

pub fn module_address() -> Address {
    Address::module(MODULE_ACCOUNT)
}

fn positive(coin: &Coin) -> Result<(), EscrowError> {
    ve_types::validate_denom(&coin.denom).map_err(|e| EscrowError::InvalidAmount(e.to_string()))?;
    if coin.amount == 0 {
        return Err(EscrowError::InvalidAmount(format!(
            "zero {}: amounts must be positive",
            coin.denom
        )));
    }
    Ok(())
}

fn overflow(id: &AccountId) -> AppError {
    EscrowError::Overflow(id.to_string()).into()
}

impl Keeper {
    pub fn new(
        bank: Arc<dyn BankKeeper>,
        take: Arc<dyn TakeKeeper>,
        hooks: Arc<dyn EscrowHooks>,
    ) -> Self {
        Self { bank, take, hooks }
    }

    fn load(&self, ctx: &mut Context<'_>, id: &AccountId) -> Result<Loaded, AppError> {
        id.validate()?;
        let account =
            state::account(ctx, id)?.ok_or_else(|| EscrowError::AccountNotFound(id.to_string()))?;
        let params = state::params(ctx)?;
        // The hard bound, not the current param: lowering the param must not hide payments
        // that already exist from settlement.
        let payments = state::active_payments(ctx, id, crate::params::HARD_MAX_PAYMENTS)?;
        Ok(Loaded {
            orig_wake: account.wake_at,
            orig_payments: payments.clone(),
            account,
            payments,
            params,
            closed_payouts: Vec::new(),
        })
    }

    /// Settles at the current height; closes the account if its grace is over
    /// (`close_at_deadline`: end-block closes at the deadline itself, a transaction
    /// only after it, so a top-up in the deadline block still counts).
    fn touch(
        &self,
        ctx: &mut Context<'_>,
        l: &mut Loaded,
        close_at_deadline: bool,
    ) -> Result<(), AppError> {
        let height = ctx.block().height;
        let outcome = settle::settle(
            &mut l.account,
            &mut l.payments,
            height,
            l.params.grace_period_blocks,
        )?;
        if outcome == Settled::Overdrawn {
            ctx.emit(events::overdrawn(&l.account, settle::debt(&l.payments)));
            self.hooks.on_account_overdrawn(ctx, &l.account)?;
        }
        let expired = l.account.state == AccountState::Overdrawn
            && (height > l.account.grace_until
                || (close_at_deadline && height >= l.account.grace_until));
        if expired {
            self.close_loaded(ctx, l, CloseReason::GraceExpired)?;
        }
        Ok(())
    }

    /// Moves `coin` from the funding source into the escrow module account; a grant is
    /// checked (expiry, scope, spend limit) and drawn down first.
    fn take_funds(
        &self,
        ctx: &mut Context<'_>,
        id: &AccountId,
        funding: &Funding,
        coin: &Coin,
    ) -> Result<(), AppError> {
        let from = match *funding {
            Funding::Balance(a) => a,
            Funding::Grant { granter, grantee } => {
                let mut g = state::grant(ctx, &granter, &grantee)?.ok_or_else(|| {
                    EscrowError::GrantNotFound {
                        granter: granter.to_string(),
                        grantee: grantee.to_string(),
                    }
                })?;
                g.draw(id, coin, ctx.block().time_unix)?;
                state::set_grant(ctx, &g)?;
                ctx.emit(events::grant_used(&g, id, coin.amount));
                granter
            }
        };
        self.bank.send(ctx, &from, &module_address(), coin)
    }

    /// Refunds one deposit entry to its depositor; a grant-funded entry also restores the
    /// grant's spend limit if the grant still exists.
    fn refund(
        &self,
        ctx: &mut Context<'_>,
        id: &AccountId,
        denom: &str,
        d: &crate::types::Deposit,
    ) -> Result<(), AppError> {
        if d.balance == 0 {
            return Ok(());
        }
        self.bank.send(
            ctx,
            &module_address(),
            &d.depositor,
            &Coin::new(denom, d.balance),
        )?;
        ctx.emit(events::refund(id, &d.depositor, d.balance, denom));
        if let Some(grantee) = d.grantee {
            if let Some(mut g) = state::grant(ctx, &d.depositor, &grantee)? {
                g.restore(denom, d.balance)?;
                state::set_grant(ctx, &g)?;
                ctx.emit(events::grant_restored(&g, id, d.balance));
            }
        }
        Ok(())
    }

    /// Pays out a payment's accrued balance: fee to the community pool, rest to the payee.
    fn payout(
        &self,
        ctx: &mut Context<'_>,
        denom: &str,
        p: &mut Payment,
    ) -> Result<Payout, AppError> {
        let gross = p.balance;
        if gross == 0 {
            return Ok(Payout::default());
        }
        let (to_payee, fee) = self.take.split(ctx, denom, gross)?;
        if to_payee.checked_add(fee) != Some(gross) {
            return Err(EscrowError::Corrupt("take split does not add up".into()).into());
        }
        let escrow = module_address();
        if to_payee > 0 {
            self.bank
                .send(ctx, &escrow, &p.payee, &Coin::new(denom, to_payee))?;
        }
        if fee > 0 {
            let pool = self.take.fee_collector();
            self.bank
                .send(ctx, &escrow, &pool, &Coin::new(denom, fee))?;
        }
        p.withdrawn = p
            .withdrawn
            .checked_add(gross)
            .ok_or_else(|| overflow(&p.account_id))?;
        p.balance = 0;
        ctx.emit(events::payment_withdrawn(p, denom, gross, fee, to_payee));
        Ok(Payout { to_payee, fee })
    }

    /// Closes one loaded payment: final payout, debt forgiven.
    fn close_payment(
        &self,
        ctx: &mut Context<'_>,
        denom: &str,
        p: &mut Payment,
    ) -> Result<Payout, AppError> {
        let paid = self.payout(ctx, denom, p)?;
        let forgiven = p.unsettled;
        p.unsettled = 0;
        p.state = PaymentState::Closed;
        p.closed_at = ctx.block().height;
        ctx.emit(events::payment_closed(p, denom, forgiven));
        self.hooks.on_payment_closed(ctx, p)?;
        Ok(paid)
    }

    /// Closes a loaded account: every payment closed and paid out, every deposit refunded.
    fn close_loaded(
        &self,
        ctx: &mut Context<'_>,
        l: &mut Loaded,
        reason: CloseReason,
    ) -> Result<(), AppError> {
        let denom = l.account.denom.clone();
        for p in l.payments.iter_mut() {
            if p.state != PaymentState::Closed {
                let paid = self.close_payment(ctx, &denom, p)?;
                l.closed_payouts.push((p.id.clone(), paid));
            }
        }
        for d in std::mem::take(&mut l.account.deposits) {
            self.refund(ctx, &l.account.id, &denom, &d)?;
        }
        l.account.state = AccountState::Closed;
        l.account.closed_at = ctx.block().height;
        l.account.overdrawn_at = 0;
        l.account.grace_until = 0;
        ctx.emit(events::account_closed(&l.account, reason.name()));
        self.hooks.on_account_closed(ctx, &l.account)
    }

    /// Writes back the account, the payments that changed, and the wake-queue entry.
    fn persist(&self, ctx: &mut Context<'_>, l: &mut Loaded) -> Result<(), AppError> {
        l.account.wake_at = settle::wake_height(&l.account, &l.payments)?;
        state::reschedule(ctx, &l.account.id, l.orig_wake, l.account.wake_at)?;
        state::set_account(ctx, &l.account)?;
        for p in &l.payments {
            let unchanged = l.orig_payments.iter().any(|o| o == p);
            if !unchanged {
                state::set_payment(ctx, p)?;
            }
        }
        Ok(())
    }

    /// End-block work for one account taken off the wake queue at height `at` (the queue
    /// entry is already deleted): settle (may overdraw), close at the grace deadline.
    /// An entry that no longer matches the account's `wake_at` is stale and ignored.
    pub fn wake(&self, ctx: &mut Context<'_>, id: &AccountId, at: u64) -> Result<(), AppError> {
        let Some(account) = state::account(ctx, id)? else {
            return Ok(());
        };
        if account.state == AccountState::Closed || account.wake_at != at {
            return Ok(());
        }
        let mut l = self.load(ctx, id)?;
        l.orig_wake = 0;
        self.touch(ctx, &mut l, true)?;
        self.persist(ctx, &mut l)
    }
}

impl EscrowKeeper for Keeper {
    fn account_create_funded(
        &self,
        ctx: &mut Context<'_>,
        id: &AccountId,
        owner: &Address,
        funding: &Funding,
        deposit: &Coin,
    ) -> Result<(), AppError> {
        id.validate()?;
        positive(deposit)?;
        if state::account(ctx, id)?.is_some() {
            return Err(EscrowError::AccountExists(id.to_string()).into());
        }
        let height = ctx.block().height;
        self.take_funds(ctx, id, funding, deposit)?;
        let (depositor, grantee) = funding.entry();
        let mut account = Account {
            id: id.clone(),
            owner: *owner,
            state: AccountState::Open,
            denom: deposit.denom.clone(),
            deposits: Vec::new(),
            transferred: 0,
            settled_at: height,
            created_at: height,
            overdrawn_at: 0,
            grace_until: 0,
            wake_at: 0,
            closed_at: 0,
        };
        settle::add_deposit(
            &mut account,
            &depositor,
            grantee.as_ref(),
            deposit.amount,
            height,
        )?;
        state::set_account(ctx, &account)?;
        state::index_owner(ctx, &account)?;
        ctx.emit(events::account_created(&account));
        ctx.emit(events::deposit(
            &account,
            &depositor,
            deposit.amount,
            account.balance()?,
        ));
        Ok(())
    }

    fn account_deposit_funded(
        &self,
        ctx: &mut Context<'_>,
        id: &AccountId,
        funding: &Funding,
        amount: &Coin,
    ) -> Result<AccountState, AppError> {
        let (depositor, grantee) = funding.entry();
        positive(amount)?;
        let mut l = self.load(ctx, id)?;
        if l.account.state == AccountState::Closed {
            return Err(EscrowError::AccountClosed(id.to_string()).into());
        }
        if amount.denom != l.account.denom {
            return Err(EscrowError::DenomMismatch {
                account: id.to_string(),
                want: l.account.denom.clone(),
                got: amount.denom.clone(),
            }
            .into());
        }
        self.touch(ctx, &mut l, false)?;
        if l.account.state == AccountState::Closed {
            // Grace ended before this deposit: nothing to fund (the end-block queue
            // performs the close; this transaction fails and moves nothing).
            return Err(EscrowError::AccountClosed(id.to_string()).into());
        }
        let owner = l.account.owner;
        let is_owner_entry = |d: &Address, g: &Option<Address>| *d == owner && g.is_none();
        let known = l
            .account
            .deposits
            .iter()
            .any(|d| d.depositor == depositor && d.grantee == grantee);
        if !is_owner_entry(&depositor, &grantee) && !known {
            let sponsors = l
                .account
                .deposits
                .iter()
                .filter(|d| !is_owner_entry(&d.depositor, &d.grantee))
                .count();
            let max = l.params.max_sponsors_per_account;
            if sponsors >= usize::try_from(max).unwrap_or(usize::MAX) {
                return Err(EscrowError::TooManySponsors {
                    account: id.to_string(),
                    max,
                }
                .into());
            }
        }
        let height = ctx.block().height;
        self.take_funds(ctx, id, funding, amount)?;
        settle::add_deposit(
            &mut l.account,
            &depositor,
            grantee.as_ref(),
            amount.amount,
            height,
        )?;
        ctx.emit(events::deposit(
            &l.account,
            &depositor,
            amount.amount,
            l.account.balance()?,
        ));
        if settle::try_resume(&mut l.account, &mut l.payments, height)? {
            ctx.emit(events::resumed(&l.account, height));
            self.hooks.on_account_resumed(ctx, &l.account)?;
        }
        self.persist(ctx, &mut l)?;
        Ok(l.account.state)
    }

    fn account_settle(&self, ctx: &mut Context<'_>, id: &AccountId) -> Result<Account, AppError> {
        let mut l = self.load(ctx, id)?;
        self.touch(ctx, &mut l, false)?;
        self.persist(ctx, &mut l)?;
        Ok(l.account)
    }

    fn account_close(&self, ctx: &mut Context<'_>, id: &AccountId) -> Result<(), AppError> {
        let mut l = self.load(ctx, id)?;
        if l.account.state == AccountState::Closed {
            return Err(EscrowError::AccountClosed(id.to_string()).into());
        }
        self.touch(ctx, &mut l, false)?;
        if l.account.state != AccountState::Closed {
            self.close_loaded(ctx, &mut l, CloseReason::Owner)?;
        }
        self.persist(ctx, &mut l)
    }

    fn payment_create(
        &self,
        ctx: &mut Context<'_>,
        id: &AccountId,
        payment_id: &str,
        payee: &Address,
        rate: &Coin,
    ) -> Result<(), AppError> {
        validate_payment_id(payment_id)?;
        positive(rate)?;
        let mut l = self.load(ctx, id)?;
        if rate.denom != l.account.denom {
            return Err(EscrowError::DenomMismatch {
                account: id.to_string(),
                want: l.account.denom.clone(),
                got: rate.denom.clone(),
            }
            .into());
        }
        self.touch(ctx, &mut l, false)?;
        match l.account.state {
            AccountState::Open => {}
            AccountState::Overdrawn => {
                return Err(EscrowError::AccountOverdrawn(id.to_string()).into())
            }
            AccountState::Closed => return Err(EscrowError::AccountClosed(id.to_string()).into()),
        }
        let exists = l.payments.iter().any(|p| p.id == payment_id)
            || state::closed_payment(ctx, id, payment_id)?.is_some();
        if exists {
            return Err(EscrowError::PaymentExists {
                account: id.to_string(),
                payment: payment_id.to_string(),
            }
            .into());
        }
        let max = l.params.max_payments_per_account;
        if l.payments.len() >= usize::try_from(max).unwrap_or(usize::MAX) {
            return Err(EscrowError::TooManyPayments {
                account: id.to_string(),
                max,
            }
            .into());
        }
        let p = Payment {
            account_id: id.clone(),
            id: payment_id.to_string(),
            payee: *payee,
            rate: rate.amount,
            state: PaymentState::Open,
            balance: 0,
            unsettled: 0,
            withdrawn: 0,
            created_at: ctx.block().height,
            closed_at: 0,
        };
        ctx.emit(events::payment_created(&p, &l.account.denom));
        // Keep payment-id order, as a fresh load would.
        let at = l.payments.partition_point(|q| q.id.as_str() < payment_id);
        l.payments.insert(at, p);
        self.persist(ctx, &mut l)
    }

    fn payment_withdraw(
        &self,
        ctx: &mut Context<'_>,
        id: &AccountId,
        payment_id: &str,
    ) -> Result<Payout, AppError> {
        self.with_settled_payment(ctx, id, payment_id, |k, ctx, denom, p| {
            k.payout(ctx, denom, p)
        })
    }

    fn payment_close(
        &self,
        ctx: &mut Context<'_>,
        id: &AccountId,
        payment_id: &str,
    ) -> Result<Payout, AppError> {
        self.with_settled_payment(ctx, id, payment_id, |k, ctx, denom, p| {
            k.close_payment(ctx, denom, p)
        })
    }
}

impl Keeper {
    /// The error for a payment that is not active: closed, or unknown.
    /// Settles the account, then applies `act` to the payment — unless settling already
    /// closed it (its grace window had ended), in which case that close's payout stands.
    fn with_settled_payment(
        &self,
        ctx: &mut Context<'_>,
        id: &AccountId,
        payment_id: &str,
        act: impl FnOnce(&Self, &mut Context<'_>, &str, &mut Payment) -> Result<Payout, AppError>,
    ) -> Result<Payout, AppError> {
        validate_payment_id(payment_id)?;
        let mut l = self.load(ctx, id)?;
        let Some(idx) = l.payments.iter().position(|p| p.id == payment_id) else {
            return Err(self.missing_payment(ctx, id, payment_id)?);
        };
        self.touch(ctx, &mut l, false)?;
        let paid = if let Some((_, paid)) = l.closed_payouts.iter().find(|(p, _)| p == payment_id) {
            *paid
        } else {
            let denom = l.account.denom.clone();
            let p = l
                .payments
                .get_mut(idx)
                .ok_or_else(|| EscrowError::Corrupt("payment index".into()))?;
            act(self, ctx, &denom, p)?
        };
        self.persist(ctx, &mut l)?;
        Ok(paid)
    }

    fn missing_payment(
        &self,
        ctx: &mut Context<'_>,
        id: &AccountId,
        payment_id: &str,
    ) -> Result<AppError, AppError> {
        let e = if state::closed_payment(ctx, id, payment_id)?.is_some() {
            EscrowError::PaymentClosed {
                account: id.to_string(),
                payment: payment_id.to_string(),
            }
        } else {
            EscrowError::PaymentNotFound {
                account: id.to_string(),
                payment: payment_id.to_string(),
            }
        };
        Ok(e.into())
    }
}
