//! `market` (spec §4.2): one order per open deployment group, provider bids, leases.
//!
//! - An order `owner/dseq/gseq/oseq` is created when a group opens; a group has at most
//!   one open or active order.
//! - A provider bids (`MsgCreateBid`) if it is registered and its attributes (own and
//!   audited) satisfy the group's placement requirements ([`ProviderDirectory`]), its
//!   price is within the group's cap and its offer covers the resources. Its deposit goes
//!   into the escrow account `bid/<order>/<provider>`. At most `order_max_bids` (20) bids
//!   per order.
//! - The tenant accepts a bid (`MsgCreateLease`): the lease starts an escrow payment of
//!   the bid price per block from `deployment/<owner>/<dseq>` to the provider; every other
//!   open bid is lost and refunded.
//! - The provider withdraws the accrued payment minus the take rate (`MsgWithdrawLease`);
//!   tenant or provider close the lease; the provider may close its bid.
//! - The provider records the lease's measured cumulative usage (`MsgRecordLeaseUsage`,
//!   [`usage`]): sequenced, monotonic, bounded by the leased resources and elapsed time;
//!   evidence tied to each withdrawal's event, not what is charged.
//! - [`EscrowHooksFn`] is the escrow hook implementation: a deployment account that runs
//!   dry pauses its leases (`lease_paused`), a top-up resumes them (`lease_resumed`), and
//!   an account closed after its grace window closes leases, bids, orders and groups.

mod error;
pub mod events;
pub mod genesis;
pub mod hooks;
pub mod keeper;
pub mod msg_server;
pub mod params;
pub mod providers;
pub mod query;
pub mod state;
pub mod state_key;
pub mod types;
pub mod usage;

pub use error::MarketError;
pub use genesis::MarketGenesis;
pub use hooks::{EscrowHooksFn, Hooks};
pub use keeper::active_lease_count;
pub use keeper::{Keeper, Keepers};
pub use msg_server::{
    CloseBidHandler, CloseLeaseHandler, CreateBidHandler, CreateLeaseHandler,
    RecordLeaseUsageHandler, WithdrawLeaseHandler,
};
pub use params::MarketParams;
pub use providers::{NoProviders, ProviderDirectory};
pub use types::{BidId, OrderId};

pub use ve_proto::virtengine::market::v1 as proto;

/// Escrow scope of bid deposit accounts: `bid/<owner>/<dseq>/<gseq>/<oseq>/<provider>`.
pub const BID_ESCROW_SCOPE: &str = "bid";
