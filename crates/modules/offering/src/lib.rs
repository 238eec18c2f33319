//! `offering`: the catalogue of spec §5.1, on top of the Akash-style order book.
//!
//! A registered provider (VEID tier Standard) publishes offerings: a category, a
//! resource template per unit, a price per unit per block, the minimum VEID tier a tenant
//! needs and whether ordering needs an MFA session. Providers update or deactivate them.
//! A tenant orders `units` of an active offering with [`proto::MsgOrderOffering`]: the
//! handler checks the tenant's tier and, if the offering asks, an MFA session
//! ([`ve_module::gate::SensitiveAction::HighValueOrder`]), then creates the tenant's
//! deployment — one group with the offering's template × units at the offering's price —
//! through the deployment module's [`ve_deployment::DeploymentCreator`], which escrows the
//! deposit and opens the market order.

mod error;
pub mod events;
pub mod genesis;
pub mod msg_server;
pub mod query;
pub mod state;
pub mod state_key;

pub use error::OfferingError;
pub use genesis::OfferingGenesis;
pub use msg_server::{
    CreateOfferingHandler, DeactivateOfferingHandler, Gates, OrderOfferingHandler,
    UpdateOfferingHandler,
};

pub use ve_proto::virtengine::offering::v1 as proto;

use ve_module::Context;
use ve_types::{Address, AppError};

/// Active offerings one provider may have at a time.
pub const MAX_ACTIVE_OFFERINGS_PER_PROVIDER: u64 = 100;

/// How offering asks whether an address is a registered provider.
pub trait ProviderRegistry: Send + Sync {
    fn is_provider(&self, ctx: &mut Context<'_>, addr: &Address) -> Result<bool, AppError>;
}
