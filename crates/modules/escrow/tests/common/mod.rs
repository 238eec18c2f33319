//! An in-memory chain for keeper tests: state in a `Delta` over nothing, bank and take
//! over the real ve-bank / ve-take state functions, transactions that roll back on error.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use ve_escrow::{BankKeeper, Keeper, NoHooks, TakeKeeper};
use ve_module::{BlockInfo, Context, Event, GasConfig, GasMeter};
use ve_storage::{Delta, KvPairs, StateRead, StorageError};
use ve_types::{Address, AppError, Coin};

pub struct Empty;

impl StateRead for Empty {
    fn get(&self, _key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(None)
    }
    fn range(
        &self,
        _start: &[u8],
        _end: Option<&[u8]>,
        _limit: usize,
    ) -> Result<KvPairs, StorageError> {
        Ok(Vec::new())
    }
}

pub struct Bank;

impl BankKeeper for Bank {
    fn send(
        &self,
        ctx: &mut Context<'_>,
        from: &Address,
        to: &Address,
        coin: &Coin,
    ) -> Result<(), AppError> {
        ve_bank::state::sub_balance(ctx, from, coin)?;
        ve_bank::state::add_balance(ctx, to, coin)
    }
}

pub struct Take;

impl TakeKeeper for Take {
    fn split(
        &self,
        ctx: &mut Context<'_>,
        denom: &str,
        amount: u128,
    ) -> Result<(u128, u128), AppError> {
        ve_take::state::split_payout(ctx, denom, amount)
    }
    fn fee_collector(&self) -> Address {
        Address::module(ve_take::COMMUNITY_POOL)
    }
}

pub fn keeper() -> Keeper {
    Keeper::new(Arc::new(Bank), Arc::new(Take), Arc::new(NoHooks))
}

pub fn pool() -> Address {
    Address::module(ve_take::COMMUNITY_POOL)
}

pub fn escrow_addr() -> Address {
    Address::module(ve_escrow::MODULE_ACCOUNT)
}

/// Block time of `height` in these tests: 5 s blocks from the epoch.
pub fn block_time(height: u64) -> i64 {
    i64::try_from(height).unwrap() * 5
}

pub fn user(i: u8) -> Address {
    Address([i.wrapping_add(1); 20])
}

pub struct Chain {
    pub state: Delta<Empty>,
    pub height: u64,
    pub events: Vec<Event>,
}

impl Chain {
    pub fn new() -> Self {
        Self {
            state: Delta::new(Empty),
            height: 1,
            events: Vec::new(),
        }
    }

    /// Runs `f` as a transaction at the current height: its writes and events are kept
    /// only if it succeeds.
    pub fn tx<R>(
        &mut self,
        f: impl FnOnce(&mut Context<'_>) -> Result<R, AppError>,
    ) -> Result<R, AppError> {
        let mut gas = GasMeter::infinite();
        let cfg = GasConfig::default();
        let block = BlockInfo {
            height: self.height,
            time_unix: block_time(self.height),
            chain_id: "test".into(),
        };
        let mut events = Vec::new();
        let mut child = Delta::new(&self.state);
        let r = {
            let mut ctx = Context::new(&mut child, &mut gas, &cfg, &mut events, &block);
            f(&mut ctx)
        };
        if r.is_ok() {
            let changes = child.into_changes();
            self.state.apply(changes);
            self.events.extend(events);
        }
        r
    }

    /// End-block at the current height, then the next height.
    pub fn next_block(&mut self) {
        self.tx(|ctx| ve_escrow::end_block(ctx, &keeper())).unwrap();
        self.height += 1;
    }

    pub fn mint(&mut self, addr: &Address, amount: u128) {
        self.tx(|ctx| ve_bank::state::add_balance(ctx, addr, &Coin::new("uve", amount)))
            .unwrap();
    }

    pub fn balance(&mut self, addr: &Address) -> u128 {
        self.tx(|ctx| ve_bank::state::balance(ctx, addr, "uve"))
            .unwrap()
    }

    pub fn account(&mut self, id: &ve_escrow::AccountId) -> Option<ve_escrow::Account> {
        self.tx(|ctx| ve_escrow::state::account(ctx, id)).unwrap()
    }

    pub fn set_params(&mut self, p: &ve_escrow::EscrowParams) {
        self.tx(|ctx| ve_escrow::state::set_params(ctx, p)).unwrap();
    }

    pub fn count_events(&self, kind: &str) -> usize {
        self.events.iter().filter(|e| e.kind == kind).count()
    }
}
