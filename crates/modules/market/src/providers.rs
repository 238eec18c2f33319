//! What the market needs to know about providers, through a narrow trait the app
//! implements over the provider and audit modules.

use ve_proto::virtengine::base::v1::{Attribute, PlacementRequirements};
use ve_module::Context;
use ve_types::{Address, AppError};

/// A registered provider's attributes: its own, and those each auditor signed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProviderAttributes {
    pub attributes: Vec<Attribute>,
    /// `(auditor, attributes the auditor signed for this provider)`.
    pub audited: Vec<(Address, Vec<Attribute>)>,
}

pub trait ProviderDirectory: Send + Sync {
    /// The provider's attributes, or `None` if it is not a registered provider.
    fn provider_attributes(
        &self,
        ctx: &mut Context<'_>,
        provider: &Address,
    ) -> Result<Option<ProviderAttributes>, AppError>;

    /// Whether the provider may serve a group with these requirements.
    fn satisfies(&self, requirements: &PlacementRequirements, provider: &ProviderAttributes) -> bool {
        satisfies(requirements, provider)
    }
}

/// No provider module wired: nobody is a provider, every bid is refused.
pub struct NoProviders;

impl ProviderDirectory for NoProviders {
    fn provider_attributes(
        &self,
        _ctx: &mut Context<'_>,
        _provider: &Address,
    ) -> Result<Option<ProviderAttributes>, AppError> {
        Ok(None)
    }
}

/// Every wanted attribute is among `have` (same key; same value, or the wanted value `*`).
fn covers(want: &[Attribute], have: &[Attribute]) -> bool {
    want.iter().all(|w| {
        have.iter()
            .any(|h| h.key == w.key && (w.value == "*" || h.value == w.value))
    })
}

/// Akash's rule: the provider's own attributes cover the required ones, and for
/// `signed_by`, every `all_of` auditor and at least one `any_of` auditor (if any are
/// listed) signed attributes that cover them too.
pub fn satisfies(req: &PlacementRequirements, p: &ProviderAttributes) -> bool {
    if !covers(&req.attributes, &p.attributes) {
        return false;
    }
    let Some(sb) = &req.signed_by else {
        return true;
    };
    let signed = |auditor: &str| {
        p.audited
            .iter()
            .any(|(a, attrs)| a.to_string() == auditor && covers(&req.attributes, attrs))
    };
    if !sb.all_of.iter().all(|a| signed(a)) {
        return false;
    }
    sb.any_of.is_empty() || sb.any_of.iter().any(|a| signed(a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ve_proto::virtengine::base::v1::SignedBy;

    fn attr(k: &str, v: &str) -> Attribute {
        Attribute {
            key: k.into(),
            value: v.into(),
        }
    }

    #[test]
    fn attributes_and_auditor_signatures_decide_eligibility() {
        let auditor = Address([7; 20]);
        let p = ProviderAttributes {
            attributes: vec![attr("region", "eu"), attr("tier", "1")],
            audited: vec![(auditor, vec![attr("region", "eu")])],
        };
        let mut req = PlacementRequirements {
            signed_by: None,
            attributes: vec![attr("region", "eu")],
        };
        assert!(satisfies(&req, &p));
        req.attributes.push(attr("gpu", "*"));
        assert!(!satisfies(&req, &p));
        req.attributes.pop();
        req.signed_by = Some(SignedBy {
            all_of: vec![auditor.to_string()],
            any_of: vec![],
        });
        assert!(satisfies(&req, &p));
        req.signed_by = Some(SignedBy {
            all_of: vec![],
            any_of: vec![Address([8; 20]).to_string()],
        });
        assert!(!satisfies(&req, &p));
    }
}
