//! `audit`: auditors vouch for provider attributes (spec §4.7, Akash x/audit).
//!
//! Anyone may act as an auditor; what gives a signature weight is a tenant naming the
//! auditor in its placement requirements (`signed_by.all_of` / `any_of`). An auditor's
//! record for a provider is upserted by [`proto::MsgSignProviderAttributes`] (given keys
//! replace earlier values, other keys stay) and shrunk by
//! [`proto::MsgDeleteProviderAttributes`] (given keys, or all). [`matching::satisfies`]
//! is the pure placement rule the market applies to bids; [`PlacementCheck`] is the
//! narrow trait it calls, backed by [`AuditKeeper`].

mod error;
pub mod events;
pub mod genesis;
pub mod matching;
pub mod msg_server;
pub mod query;
pub mod state;
pub mod state_key;

pub use error::AuditError;
pub use genesis::AuditGenesis;
pub use matching::satisfies;
pub use msg_server::{DeleteProviderAttributesHandler, SignProviderAttributesHandler};

pub use ve_proto::virtengine::audit::v1 as proto;

use ve_module::Context;
use ve_proto::virtengine::base::v1::{Attribute, PlacementRequirements};
use ve_types::{Address, AppError};

/// How audit asks whether an address is a registered provider (the provider module
/// answers; the app wires it).
pub trait ProviderRegistry: Send + Sync {
    fn is_provider(&self, ctx: &mut Context<'_>, addr: &Address) -> Result<bool, AppError>;
}

/// What the market calls when a provider bids: do the provider's own attributes and the
/// attributes its auditors signed satisfy the order's placement requirements?
pub trait PlacementCheck: Send + Sync {
    fn provider_satisfies(
        &self,
        ctx: &mut Context<'_>,
        provider: &Address,
        provider_attributes: &[Attribute],
        requirements: &PlacementRequirements,
    ) -> Result<bool, AppError>;
}

/// [`PlacementCheck`] over audit state: loads only the auditors the requirements name
/// (point reads, bounded by the requirements, never by how many auditors signed).
#[derive(Clone, Copy, Debug, Default)]
pub struct AuditKeeper;

impl PlacementCheck for AuditKeeper {
    fn provider_satisfies(
        &self,
        ctx: &mut Context<'_>,
        provider: &Address,
        provider_attributes: &[Attribute],
        requirements: &PlacementRequirements,
    ) -> Result<bool, AppError> {
        let audited = state::audited_for_requirements(ctx, provider, requirements)?;
        Ok(satisfies(requirements, provider_attributes, &audited))
    }
}
