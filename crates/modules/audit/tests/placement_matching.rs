//! Property tests for the placement rule against a set-based reference model.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use std::collections::BTreeSet;
use ve_audit::satisfies;
use ve_proto::virtengine::base::v1::{Attribute, PlacementRequirements, SignedBy};
use ve_types::Address;

fn attr(k: u8, v: u8) -> Attribute {
    Attribute {
        key: format!("k{k}"),
        value: format!("v{v}"),
    }
}

fn auditor(i: u8) -> Address {
    Address([i.wrapping_add(100); 20])
}

/// Small domains so that matches and mismatches both happen often.
fn attrs() -> impl Strategy<Value = Vec<Attribute>> {
    prop::collection::vec((0u8..4, 0u8..2).prop_map(|(k, v)| attr(k, v)), 0..4)
}

fn audited() -> impl Strategy<Value = Vec<(Address, Vec<Attribute>)>> {
    prop::collection::vec((0u8..4, attrs()).prop_map(|(a, at)| (auditor(a), at)), 0..4)
}

fn auditors() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec((0u8..5).prop_map(|a| auditor(a).to_string()), 0..3)
}

fn set(a: &[Attribute]) -> BTreeSet<(String, String)> {
    a.iter().map(|x| (x.key.clone(), x.value.clone())).collect()
}

/// Reference: sets and quantifiers, written independently of the implementation.
fn model(
    req: &[Attribute],
    all_of: &[String],
    any_of: &[String],
    own: &[Attribute],
    audited: &[(Address, Vec<Attribute>)],
) -> bool {
    let need = set(req);
    if !need.is_subset(&set(own)) {
        return false;
    }
    let vouches = |who: &String| {
        audited
            .iter()
            .filter(|(a, _)| a.to_string() == *who)
            .any(|(_, at)| need.is_subset(&set(at)))
    };
    all_of.iter().all(vouches) && (any_of.is_empty() || any_of.iter().any(vouches))
}

fn reqs(req: Vec<Attribute>, all_of: Vec<String>, any_of: Vec<String>) -> PlacementRequirements {
    PlacementRequirements {
        signed_by: Some(SignedBy { all_of, any_of }),
        attributes: req,
    }
}

proptest! {
    #[test]
    fn placement_matches_the_reference_model(
        req in attrs(), all_of in auditors(), any_of in auditors(), own in attrs(), aud in audited()
    ) {
        let expected = model(&req, &all_of, &any_of, &own, &aud);
        prop_assert_eq!(satisfies(&reqs(req, all_of, any_of), &own, &aud), expected);
    }

    #[test]
    fn more_provider_attributes_or_signatures_never_break_a_match(
        req in attrs(), all_of in auditors(), any_of in auditors(), own in attrs(), aud in audited(),
        extra_own in attrs(), extra_aud in audited()
    ) {
        let r = reqs(req, all_of, any_of);
        if satisfies(&r, &own, &aud) {
            let mut own2 = own.clone();
            own2.extend(extra_own);
            let mut aud2 = aud.clone();
            aud2.extend(extra_aud);
            prop_assert!(satisfies(&r, &own2, &aud2));
        }
    }

    #[test]
    fn all_of_naming_an_auditor_without_a_record_never_matches(
        req in attrs(), own in attrs(), aud in audited()
    ) {
        let stranger = Address([7; 20]).to_string();
        prop_assert!(!satisfies(&reqs(req, vec![stranger], vec![]), &own, &aud));
    }

    #[test]
    fn a_requirement_the_provider_lacks_is_never_met(own in attrs(), aud in audited()) {
        let missing = Attribute { key: "zz".into(), value: "none".into() };
        prop_assert!(!satisfies(&reqs(vec![missing], vec![], vec![]), &own, &aud));
    }
}

#[test]
fn empty_requirements_match_any_provider() {
    assert!(satisfies(&PlacementRequirements::default(), &[], &[]));
}

#[test]
fn any_of_needs_one_auditor_covering_every_required_attribute() {
    let req = vec![attr(1, 1), attr(2, 1)];
    let own = req.clone();
    // Each auditor vouches for only one of the two attributes: not enough.
    let aud = vec![
        (auditor(1), vec![attr(1, 1)]),
        (auditor(2), vec![attr(2, 1)]),
    ];
    let r = reqs(
        req.clone(),
        vec![],
        vec![auditor(1).to_string(), auditor(2).to_string()],
    );
    assert!(!satisfies(&r, &own, &aud));
    let aud = vec![(auditor(2), req.clone())];
    assert!(satisfies(&r, &own, &aud));
}

#[test]
fn an_invalid_auditor_string_matches_nothing() {
    let r = reqs(vec![], vec!["not-an-address".into()], vec![]);
    assert!(!satisfies(&r, &[], &[(auditor(1), vec![])]));
}
