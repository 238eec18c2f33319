//! What the market needs to know about providers, through a narrow trait the app
//! implements over the provider and audit modules.

use ve_module::Context;
use ve_proto::virtengine::base::v1::{Attribute, PlacementRequirements};
use ve_types::{Address, AppError};

pub trait ProviderDirectory: Send + Sync {
    /// The provider's own attributes, or `None` if it is not a registered provider.
    fn provider_attributes(
        &self,
        ctx: &mut Context<'_>,
        provider: &Address,
    ) -> Result<Option<Vec<Attribute>>, AppError>;

    /// Whether the provider (own attributes, plus those its auditors signed) satisfies a
    /// group's placement requirements (Akash rule: attributes and `signed_by`).
    fn satisfies(
        &self,
        ctx: &mut Context<'_>,
        provider: &Address,
        attributes: &[Attribute],
        requirements: &PlacementRequirements,
    ) -> Result<bool, AppError>;
}

/// No provider module wired: nobody is a provider, every bid is refused.
pub struct NoProviders;

impl ProviderDirectory for NoProviders {
    fn provider_attributes(
        &self,
        _ctx: &mut Context<'_>,
        _provider: &Address,
    ) -> Result<Option<Vec<Attribute>>, AppError> {
        Ok(None)
    }
    fn satisfies(
        &self,
        _ctx: &mut Context<'_>,
        _provider: &Address,
        _attributes: &[Attribute],
        _requirements: &PlacementRequirements,
    ) -> Result<bool, AppError> {
        Ok(false)
    }
}
