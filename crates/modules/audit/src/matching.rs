//! The placement rule (Akash `GroupSpec.MatchAttributes` + `MatchRequirements`):
//!
//! 1. every required attribute is among the provider's own attributes (same key and
//!    value);
//! 2. if `signed_by.all_of` is not empty, *each* listed auditor has signed attributes for
//!    the provider that include every required attribute;
//! 3. if `signed_by.any_of` is not empty, *at least one* listed auditor has.
//!
//! Matching is exact (key and value). An auditor string that is not a valid address
//! matches nothing.

use ve_proto::virtengine::base::v1::{Attribute, PlacementRequirements};
use ve_types::Address;

/// Every attribute of `required` appears (key and value) in `have`.
pub fn subset_of(required: &[Attribute], have: &[Attribute]) -> bool {
    required
        .iter()
        .all(|r| have.iter().any(|h| h.key == r.key && h.value == r.value))
}

fn signed_covers(
    auditor: &str,
    required: &[Attribute],
    audited: &[(Address, Vec<Attribute>)],
) -> bool {
    let Ok(addr) = auditor.parse::<Address>() else {
        return false;
    };
    audited
        .iter()
        .any(|(a, attrs)| *a == addr && subset_of(required, attrs))
}

/// Whether a provider with `provider_attrs`, whose auditors signed `audited`
/// (auditor, attributes), satisfies `requirements`.
pub fn satisfies(
    requirements: &PlacementRequirements,
    provider_attrs: &[Attribute],
    audited: &[(Address, Vec<Attribute>)],
) -> bool {
    let required = &requirements.attributes;
    if !subset_of(required, provider_attrs) {
        return false;
    }
    let Some(sb) = requirements.signed_by.as_ref() else {
        return true;
    };
    if !sb
        .all_of
        .iter()
        .all(|auditor| signed_covers(auditor, required, audited))
    {
        return false;
    }
    if !sb.any_of.is_empty()
        && !sb
            .any_of
            .iter()
            .any(|auditor| signed_covers(auditor, required, audited))
    {
        return false;
    }
    true
}
