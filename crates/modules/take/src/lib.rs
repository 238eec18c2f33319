//! `take`: the protocol's share of marketplace payouts.
//!
//! A payout of `amount` in denom `d` is split into a fee of `floor(amount × rate(d) / 10 000)`
//! (rates in basis points: 2% for `uve`, 20% for any other denom by default) and the rest
//! for the payee. Fees go to the `community_pool` module account. This is its own module
//! rather than a corner of escrow because the rate is protocol policy that every payout
//! path (escrow today, settlement and HPC payouts later) must apply the same way.

mod error;
pub mod genesis;
pub mod params;
pub mod query;
pub mod state;
pub mod state_key;

pub use error::TakeError;
pub use genesis::TakeGenesis;
pub use params::{split, TakeParams, BPS_DENOMINATOR};

pub use ve_proto::virtengine::take::v1 as proto;

/// Module account that receives take fees. Blocked from user sends like every module account.
pub const COMMUNITY_POOL: &str = "community_pool";
