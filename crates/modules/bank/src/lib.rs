//! `bank`: balances, total supply, denom metadata, and the Cosmos `MsgSend` /
//! `MsgMultiSend` messages.
//!
//! Supply changes only at genesis here (no mint yet), so the sum of all balances of a
//! denom always equals its recorded supply; the simulation checks that invariant.

mod error;
pub mod events;
pub mod genesis;
pub mod msg_server;
pub mod params;
pub mod query;
pub mod state;
pub mod state_key;

pub use error::BankError;
pub use genesis::BankGenesis;
pub use msg_server::{MsgMultiSendHandler, MsgSendHandler};
pub use params::BankParams;
