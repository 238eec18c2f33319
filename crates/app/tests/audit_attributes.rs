//! audit through the app: auditors sign provider attributes (upsert), delete some or
//! all, queries by provider / auditor / pair, and the refusals with their codes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod provider_common;
use provider_common::*;
use ve_audit::proto as ap;
use ve_proto::virtengine::base::v1::Attribute;

fn attrs(kv: &[(&str, &str)]) -> Vec<Attribute> {
    kv.iter()
        .map(|(k, v)| Attribute {
            key: (*k).into(),
            value: (*v).into(),
        })
        .collect()
}

/// users[1] is a genesis provider; users[2] and users[3] act as auditors.
fn audit_chain() -> Chain {
    let mut c = chain_with(4, |g| {
        let owner = ve_crypto::PrivateKey::from_bytes(&[2u8; 32])
            .unwrap()
            .public_key()
            .address();
        g.provider
            .providers
            .push(ve_provider::genesis::GenesisProvider {
                owner,
                host_uri: "https://provider.example.com".into(),
                attributes: Default::default(),
                email: String::new(),
                website: String::new(),
                public_key: String::new(),
            });
    });
    c.block(&[]);
    c
}

fn sign_attrs(c: &mut Chain, auditor: usize, owner: usize, kv: &[(&str, &str)]) -> Res {
    let m = ap::MsgSignProviderAttributes {
        owner: c.users[owner].s(),
        auditor: c.users[auditor].s(),
        attributes: attrs(kv),
    };
    c.try_send(auditor, vec![any(&m)], &[])
}

fn delete_attrs(c: &mut Chain, auditor: usize, owner: usize, keys: &[&str]) -> Res {
    let m = ap::MsgDeleteProviderAttributes {
        owner: c.users[owner].s(),
        auditor: c.users[auditor].s(),
        keys: keys.iter().map(|k| (*k).to_string()).collect(),
    };
    c.try_send(auditor, vec![any(&m)], &[])
}

fn of_provider(c: &Chain, owner: usize) -> Vec<ap::AuditedAttributes> {
    let r: ap::QueryProvidersResponse = c.query(
        "/virtengine.audit.v1.Query/ProviderAttributes",
        &ap::QueryProviderAttributesRequest {
            owner: c.users[owner].s(),
            pagination: None,
        },
    );
    r.providers
}

#[test]
fn auditors_sign_provider_attributes_and_later_signatures_upsert() {
    let mut c = audit_chain();
    let r = sign_attrs(
        &mut c,
        2,
        1,
        &[("region", "eu-west"), ("tier", "community")],
    );
    r.ok();
    assert!(r.has_event("audit_provider_attributes_signed"));
    sign_attrs(&mut c, 3, 1, &[("region", "eu-west")]).ok();
    // Auditor 2 changes one value and adds a key; the other key stays.
    sign_attrs(&mut c, 2, 1, &[("tier", "premium"), ("audited", "2026")]).ok();
    let recs = of_provider(&c, 1);
    assert_eq!(recs.len(), 2);
    let by2 = recs.iter().find(|r| r.auditor == c.users[2].s()).unwrap();
    assert_eq!(
        by2.attributes,
        attrs(&[
            ("audited", "2026"),
            ("region", "eu-west"),
            ("tier", "premium")
        ])
    );
    let r: ap::QueryProvidersResponse = c.query(
        "/virtengine.audit.v1.Query/AuditorAttributes",
        &ap::QueryAuditorAttributesRequest {
            auditor: c.users[3].s(),
            pagination: None,
        },
    );
    assert_eq!(r.providers.len(), 1);
    assert_eq!(r.providers[0].owner, c.users[1].s());
    let r: ap::QueryProvidersResponse = c.query(
        "/virtengine.audit.v1.Query/AllProvidersAttributes",
        &ap::QueryAllProvidersAttributesRequest { pagination: None },
    );
    assert_eq!(r.providers.len(), 2);
}

#[test]
fn auditors_delete_some_keys_or_the_whole_record() {
    let mut c = audit_chain();
    sign_attrs(
        &mut c,
        2,
        1,
        &[("region", "eu-west"), ("tier", "community")],
    )
    .ok();
    delete_attrs(&mut c, 2, 1, &["missing"]).refused("audit", 6);
    delete_attrs(&mut c, 2, 1, &["tier"]).ok();
    assert_eq!(
        of_provider(&c, 1)[0].attributes,
        attrs(&[("region", "eu-west")])
    );
    delete_attrs(&mut c, 2, 1, &[]).ok();
    assert!(of_provider(&c, 1).is_empty());
    let r = c.node.app().query(
        "/virtengine.audit.v1.Query/ProviderAuditorAttributes",
        &prost::Message::encode_to_vec(&ap::QueryProviderAuditorRequest {
            auditor: c.users[2].s(),
            owner: c.users[1].s(),
        }),
        0,
        false,
    );
    assert_eq!((r.codespace.as_str(), r.code), ("audit", 5));
    delete_attrs(&mut c, 2, 1, &[]).refused("audit", 5);
}

#[test]
fn attributes_of_unregistered_providers_or_bad_attributes_are_refused() {
    let mut c = audit_chain();
    // users[3] is not a provider.
    sign_attrs(&mut c, 2, 3, &[("region", "eu-west")]).refused("audit", 4);
    sign_attrs(&mut c, 2, 1, &[]).refused("audit", 3);
    sign_attrs(&mut c, 2, 1, &[("region", "a"), ("region", "b")]).refused("audit", 3);
    sign_attrs(&mut c, 2, 1, &[("bad key", "x")]).refused("audit", 3);
    assert!(of_provider(&c, 1).is_empty());
}
