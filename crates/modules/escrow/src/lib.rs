//! `escrow`: deposit accounts and per-block streaming payments (spec §4.4), with the
//! changes Akash users asked for: an account that runs dry is *paused* with a grace window
//! instead of closed, any account may be topped up by its owner or by a third party
//! (sponsor), and a top-up that covers the debt resumes it.
//!
//! - Accounts are named `scope/xid` (e.g. `deployment/<owner>/<dseq>`), hold one denom,
//!   and are funded by deposits tracked per depositor. Deposits are spent oldest entry
//!   first; whatever is left at close goes back to the depositor who put it in.
//! - Payments stream `rate` per block from an account to a payee. Nothing happens per
//!   block: an account is settled when touched (deposit, withdraw, payment or account
//!   create/close, query view). The only end-block work is a queue with one entry per
//!   account at the height it will run dry or its grace ends, capped per block.
//! - Payouts give the payee the accrued balance minus the take rate (`ve-take`); the fee
//!   goes to the community pool.
//!
//! Accounts and payments are created and closed by the modules that own them (deployment,
//! market) through [`EscrowKeeper`]; users only send [`proto::MsgDeposit`] and
//! [`proto::MsgWithdrawPayment`], and manage deposit grants ([`grant`]) with
//! [`proto::MsgGrantDeposit`] / [`proto::MsgRevokeDepositGrant`]. `docs/escrow.md` gives the rules and numbers.

pub mod component;
mod error;
pub mod events;
pub mod genesis;
pub mod grant;
pub mod keeper;
pub mod msg_server;
pub mod params;
pub mod query;
pub mod settle;
pub mod state;
pub mod state_key;
pub mod types;

pub use component::end_block;
pub use error::EscrowError;
pub use genesis::EscrowGenesis;
pub use grant::Grant;
pub use keeper::{BankKeeper, EscrowHooks, EscrowKeeper, Funding, Keeper, NoHooks, TakeKeeper};
pub use msg_server::{
    DepositFromGrantHandler, DepositHandler, GrantDepositHandler, RevokeDepositGrantHandler,
    WithdrawPaymentHandler,
};
pub use params::EscrowParams;
pub use types::{Account, AccountId, AccountState, Deposit, Payment, PaymentState};

pub use ve_proto::virtengine::escrow::v1 as proto;

/// Module account that holds every escrowed coin.
pub const MODULE_ACCOUNT: &str = "escrow";
