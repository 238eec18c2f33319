//! What every chain module implements, and what it receives when it runs.
//!
//! A module exposes message handlers ([`MsgHandler`]) and block hooks; the app composes them
//! in a written-out order. Handlers see state only through a [`Context`], which meters gas
//! for every read and write and collects events, so no handler can touch state for free or
//! emit events that survive a failed transaction.

mod context;
mod event;
mod gas;
pub mod gate;
mod pagination;
mod router;
mod store;

pub use context::{BlockInfo, Context, QueryContext, TxInfo};
pub use event::Event;
pub use gas::{GasConfig, GasMeter, SDK_CODESPACE};
pub use pagination::{paginate, prefix_end, DEFAULT_PAGE, MAX_PAGE};
pub use router::{Decoded, MsgHandler, Router};
pub use store::{ReadOnly, Store};
