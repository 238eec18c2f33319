//! provider module through the app: registration gated on VEID tier Standard and a real
//! MFA session (VEID + FIDO2 through the mfa module), update/delete, bad input codes,
//! pagination, and domain verification with attested DNS lookups.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod provider_common;

use ed25519_dalek::{Signer, SigningKey};
use provider_common::*;
use ve_mfa::proto::SensitiveTxType;
use ve_proto::cosmos::base::query::v1beta1::PageRequest;
use ve_proto::virtengine::base::v1::Attribute;
use ve_provider::proto as pp;

const HOST: &str = "https://provider.example.com:8443";

fn attrs(kv: &[(&str, &str)]) -> Vec<Attribute> {
    kv.iter()
        .map(|(k, v)| Attribute {
            key: (*k).into(),
            value: (*v).into(),
        })
        .collect()
}

fn create_msg(c: &Chain, u: usize, host: &str) -> pp::MsgCreateProvider {
    pp::MsgCreateProvider {
        owner: c.users[u].s(),
        host_uri: host.into(),
        attributes: attrs(&[("region", "eu-west"), ("capabilities/gpu", "a100")]),
        info: Some(pp::Info {
            email: "ops@example.com".into(),
            website: "https://example.com".into(),
        }),
        public_key: vec![],
    }
}

fn provider(c: &Chain, u: usize) -> pp::Provider {
    let r: pp::QueryProviderResponse = c.query(
        "/virtengine.provider.v1.Query/Provider",
        &pp::QueryProviderRequest {
            owner: c.users[u].s(),
        },
    );
    r.provider.unwrap()
}

/// Score 80 (tier Standard), a FIDO2 credential and a VEID+FIDO2 provider-registration
/// session for user `u`; returns the session id.
fn eligible(c: &mut Chain, u: usize) -> String {
    c.set_score(u, 80);
    let mut auth = authenticator(&[u as u8; 4]);
    c.enroll_fido2(u, &mut auth, ve_mfa::testing::Format::None)
        .ok();
    c.veid_fido2_session(u, &mut auth, SensitiveTxType::ProviderRegistration)
}

fn register(c: &mut Chain, u: usize) {
    let s = eligible(c, u);
    let m = create_msg(c, u, HOST);
    c.send(u, vec![any(&m)], &[s]).ok();
}

#[test]
fn provider_registration_is_refused_below_tier_standard() {
    let mut c = chain(3);
    c.set_score(1, 60); // tier Basic
    let m = create_msg(&c, 1, HOST);
    c.send(1, vec![any(&m)], &[]).refused("identity", 28);
    // No score at all: unverified.
    let m = create_msg(&c, 2, HOST);
    c.send(2, vec![any(&m)], &[]).refused("identity", 28);
}

#[test]
fn provider_registration_is_refused_without_an_mfa_session() {
    let mut c = chain(2);
    c.set_score(1, 80);
    let m = create_msg(&c, 1, HOST);
    let r = c.send(1, vec![any(&m)], &[]);
    assert_eq!(r.codespace, "mfa", "{}", r.log);
    assert_ne!(r.code, 0);
    let q = c.node.app().query(
        "/virtengine.provider.v1.Query/Provider",
        &prost::Message::encode_to_vec(&pp::QueryProviderRequest {
            owner: c.users[1].s(),
        }),
        0,
        false,
    );
    assert_eq!(
        (q.codespace.as_str(), q.code),
        ("provider", 8),
        "no provider was created"
    );
}

#[test]
fn provider_with_tier_and_mfa_session_registers_updates_and_deletes() {
    let mut c = chain(2);
    let s = eligible(&mut c, 1);
    let m = create_msg(&c, 1, HOST);
    let r = c.send(1, vec![any(&m)], &[s]);
    r.ok();
    assert!(r.has_event("provider_created"));
    let p = provider(&c, 1);
    assert_eq!(p.host_uri, HOST);
    // Stored sorted by key.
    assert_eq!(p.attributes[0].key, "capabilities/gpu");
    assert!(!p.host_trusted);
    // A second registration is refused.
    let m = create_msg(&c, 1, HOST);
    c.send(1, vec![any(&m)], &[]).refused("provider", 7);

    let upd = pp::MsgUpdateProvider {
        owner: c.users[1].s(),
        host_uri: "https://other.example.org".into(),
        attributes: attrs(&[("region", "us-east")]),
        info: None,
        public_key: vec![],
    };
    c.send(1, vec![any(&upd)], &[]).ok();
    let p = provider(&c, 1);
    assert_eq!(p.host_uri, "https://other.example.org");
    assert_eq!(p.attributes, attrs(&[("region", "us-east")]));

    let del = pp::MsgDeleteProvider {
        owner: c.users[1].s(),
    };
    let r = c.send(1, vec![any(&del)], &[]);
    r.ok();
    assert!(r.has_event("provider_deleted"));
    c.send(1, vec![any(&del)], &[]).refused("provider", 8);
}

#[test]
fn bad_provider_input_is_refused_with_stable_codes() {
    let mut c = chain(2);
    register(&mut c, 1);
    let base = pp::MsgUpdateProvider {
        owner: c.users[1].s(),
        host_uri: HOST.into(),
        attributes: vec![],
        info: None,
        public_key: vec![],
    };
    let cases: Vec<(pp::MsgUpdateProvider, u32)> = vec![
        (
            pp::MsgUpdateProvider {
                host_uri: "http://provider.example.com".into(),
                ..base.clone()
            },
            3,
        ),
        (
            pp::MsgUpdateProvider {
                host_uri: "not a url".into(),
                ..base.clone()
            },
            3,
        ),
        (
            pp::MsgUpdateProvider {
                host_uri: "https://user:pw@provider.example.com".into(),
                ..base.clone()
            },
            3,
        ),
        (
            pp::MsgUpdateProvider {
                attributes: attrs(&[("region", "a"), ("region", "b")]),
                ..base.clone()
            },
            4,
        ),
        (
            pp::MsgUpdateProvider {
                attributes: attrs(&[("9lives", "x")]),
                ..base.clone()
            },
            4,
        ),
        (
            pp::MsgUpdateProvider {
                info: Some(pp::Info {
                    email: "not-an-email".into(),
                    website: String::new(),
                }),
                ..base.clone()
            },
            5,
        ),
        (
            pp::MsgUpdateProvider {
                public_key: vec![1, 2, 3],
                ..base.clone()
            },
            6,
        ),
    ];
    for (m, code) in cases {
        c.try_send(1, vec![any(&m)], &[]).refused("provider", code);
    }
    let too_many: Vec<Attribute> = (0..33)
        .map(|i| Attribute {
            key: format!("k{i}"),
            value: "v".into(),
        })
        .collect();
    let m = pp::MsgUpdateProvider {
        attributes: too_many,
        ..base
    };
    c.try_send(1, vec![any(&m)], &[]).refused("provider", 4);
}

#[test]
fn providers_are_listed_page_by_page() {
    let mut c = chain_with(4, |g| {
        for seed in [11u8, 12, 13] {
            let owner = ve_crypto::PrivateKey::from_bytes(&[seed; 32])
                .unwrap()
                .public_key()
                .address();
            g.provider
                .providers
                .push(ve_provider::genesis::GenesisProvider {
                    owner,
                    host_uri: HOST.into(),
                    attributes: Default::default(),
                    email: String::new(),
                    website: String::new(),
                    public_key: String::new(),
                });
        }
    });
    c.block(&[]);
    let page = |key: Vec<u8>| -> pp::QueryProvidersResponse {
        c.query(
            "/virtengine.provider.v1.Query/Providers",
            &pp::QueryProvidersRequest {
                pagination: Some(PageRequest {
                    key,
                    limit: 2,
                    ..Default::default()
                }),
            },
        )
    };
    let p1 = page(vec![]);
    assert_eq!(p1.providers.len(), 2);
    let next = p1.pagination.unwrap().next_key;
    assert!(!next.is_empty());
    let p2 = page(next);
    assert_eq!(p2.providers.len(), 1);
    assert!(p2.pagination.unwrap().next_key.is_empty());
}

// --- domain verification ------------------------------------------------------------

fn attestor_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// A chain whose user 1 is a genesis provider at provider.example.com and with one
/// genesis DNS attestor (seed 42).
fn verification_chain() -> Chain {
    let mut c = chain_with(3, |g| {
        g.provider
            .attestors
            .push(ve_provider::genesis::GenesisAttestor {
                public_key: hex::encode(attestor_key(42).verifying_key().to_bytes()),
                description: "test attestor".into(),
            });
        let owner = ve_crypto::PrivateKey::from_bytes(&[2u8; 32])
            .unwrap()
            .public_key()
            .address();
        g.provider
            .providers
            .push(ve_provider::genesis::GenesisProvider {
                owner,
                host_uri: HOST.into(),
                attributes: Default::default(),
                email: String::new(),
                website: String::new(),
                public_key: String::new(),
            });
    });
    c.block(&[]);
    c
}

fn request(c: &mut Chain, domain: &str) -> Res {
    let m = pp::MsgRequestDomainVerification {
        owner: c.users[1].s(),
        domain: domain.into(),
    };
    c.send(1, vec![any(&m)], &[])
}

fn confirm(c: &mut Chain, key: &SigningKey, token: &str, observed_at: i64, domain: &str) -> Res {
    let owner = c.users[1].s();
    let payload = ve_provider::domain::attestation_payload(
        ve_app::testing::TEST_CHAIN_ID,
        &owner,
        domain,
        token,
        observed_at,
    );
    let m = pp::MsgConfirmDomainVerification {
        owner,
        attestor_public_key: key.verifying_key().to_bytes().to_vec(),
        observed_at,
        signature: key.sign(&payload).to_bytes().to_vec(),
    };
    c.send(1, vec![any(&m)], &[])
}

fn status(c: &Chain) -> pp::DomainVerification {
    let r: pp::QueryDomainVerificationResponse = c.query(
        "/virtengine.provider.v1.Query/DomainVerification",
        &pp::QueryDomainVerificationRequest {
            owner: c.users[1].s(),
        },
    );
    r.verification.unwrap()
}

#[test]
fn domain_verification_marks_the_host_trusted_only_after_an_attested_dns_lookup() {
    let mut c = verification_chain();
    // Only the host of the host URI can be verified.
    request(&mut c, "evil.example.net").refused("provider", 10);
    let r = request(&mut c, "provider.example.com");
    r.ok();
    let resp: pp::MsgRequestDomainVerificationResponse = r.response(0);
    assert_eq!(
        resp.record_name,
        "_virtengine-verification.provider.example.com"
    );
    assert_eq!(
        resp.record_value,
        format!("virtengine-verification={}", resp.token)
    );
    assert_eq!(resp.token.len(), 64);
    let v = status(&c);
    assert_eq!(v.status, pp::VerificationStatus::Pending as i32);
    assert!(!provider(&c, 1).host_trusted);
    let now = c.node.time();

    // An attestation by a key that is not a registered attestor.
    confirm(
        &mut c,
        &attestor_key(7),
        &resp.token,
        now,
        "provider.example.com",
    )
    .refused("provider", 14);
    // Registered attestor, but it signed the wrong token.
    confirm(
        &mut c,
        &attestor_key(42),
        &"0".repeat(64),
        now,
        "provider.example.com",
    )
    .refused("provider", 15);
    // A lookup from before the request.
    confirm(
        &mut c,
        &attestor_key(42),
        &resp.token,
        v.requested_at - 10,
        "provider.example.com",
    )
    .refused("provider", 16);
    assert!(!provider(&c, 1).host_trusted);

    let r = confirm(
        &mut c,
        &attestor_key(42),
        &resp.token,
        now,
        "provider.example.com",
    );
    r.ok();
    assert!(r.has_event("provider_domain_verified"));
    assert!(provider(&c, 1).host_trusted);
    let v = status(&c);
    assert_eq!(v.status, pp::VerificationStatus::Verified as i32);
    assert_eq!(
        v.attestor,
        hex::encode(attestor_key(42).verifying_key().to_bytes())
    );
    // Confirming again is refused: not pending.
    confirm(
        &mut c,
        &attestor_key(42),
        &resp.token,
        now,
        "provider.example.com",
    )
    .refused("provider", 13);

    // Moving to another host drops the trust.
    let upd = pp::MsgUpdateProvider {
        owner: c.users[1].s(),
        host_uri: "https://new.example.com".into(),
        attributes: vec![],
        info: None,
        public_key: vec![],
    };
    c.send(1, vec![any(&upd)], &[]).ok();
    assert!(!provider(&c, 1).host_trusted);
    assert_eq!(status(&c).status, pp::VerificationStatus::Revoked as i32);
}

#[test]
fn an_expired_verification_token_cannot_be_confirmed() {
    let mut c = verification_chain();
    let resp: pp::MsgRequestDomainVerificationResponse =
        request(&mut c, "provider.example.com").ok().response(0);
    c.node.advance_time(8 * 24 * 3600);
    c.block(&[]);
    assert_eq!(status(&c).status, pp::VerificationStatus::Expired as i32);
    let now = c.node.time();
    confirm(
        &mut c,
        &attestor_key(42),
        &resp.token,
        now,
        "provider.example.com",
    )
    .refused("provider", 12);
}

#[test]
fn only_administrators_or_gov_manage_attestors() {
    let mut c = verification_chain();
    let m = pp::MsgAddAttestor {
        authority: c.users[2].s(),
        public_key: attestor_key(9).verifying_key().to_bytes().to_vec(),
        description: "mine".into(),
    };
    c.send(2, vec![any(&m)], &[]).refused("provider", 17);
    let m = pp::MsgRemoveAttestor {
        authority: c.users[2].s(),
        public_key: attestor_key(42).verifying_key().to_bytes().to_vec(),
    };
    c.send(2, vec![any(&m)], &[]).refused("provider", 17);
    let r: pp::QueryAttestorsResponse = c.query(
        "/virtengine.provider.v1.Query/Attestors",
        &pp::QueryAttestorsRequest {},
    );
    assert_eq!(r.attestors.len(), 1);
}

#[test]
fn an_administrator_adds_an_attestor_whose_attestation_then_counts_and_removes_it() {
    let admin = ve_crypto::PrivateKey::from_bytes(&[3u8; 32])
        .unwrap()
        .public_key()
        .address();
    let mut c = chain_with(3, |g| {
        g.roles
            .assignments
            .push(ve_roles::genesis::GenesisAssignment {
                address: admin,
                role: "administrator".into(),
            });
        let owner = ve_crypto::PrivateKey::from_bytes(&[2u8; 32])
            .unwrap()
            .public_key()
            .address();
        g.provider
            .providers
            .push(ve_provider::genesis::GenesisProvider {
                owner,
                host_uri: HOST.into(),
                attributes: Default::default(),
                email: String::new(),
                website: String::new(),
                public_key: String::new(),
            });
    });
    c.block(&[]);
    let key = attestor_key(77);
    let add = pp::MsgAddAttestor {
        authority: c.users[2].s(),
        public_key: key.verifying_key().to_bytes().to_vec(),
        description: "dns-attestor-1".into(),
    };
    let r = c.try_send(2, vec![any(&add)], &[]);
    r.ok();
    assert!(r.has_event("provider_attestor_added"));
    c.try_send(2, vec![any(&add)], &[]).refused("provider", 18);

    let resp: pp::MsgRequestDomainVerificationResponse =
        request(&mut c, "provider.example.com").ok().response(0);
    let now = c.node.time();
    confirm(&mut c, &key, &resp.token, now, "provider.example.com").ok();
    assert!(provider(&c, 1).host_trusted);

    let rm = pp::MsgRemoveAttestor {
        authority: c.users[2].s(),
        public_key: key.verifying_key().to_bytes().to_vec(),
    };
    c.try_send(2, vec![any(&rm)], &[]).ok();
    // A fresh request can no longer be confirmed by the removed attestor.
    let resp: pp::MsgRequestDomainVerificationResponse =
        request(&mut c, "provider.example.com").ok().response(0);
    assert!(
        !provider(&c, 1).host_trusted,
        "a new request clears the trust"
    );
    let now = c.node.time();
    confirm(&mut c, &key, &resp.token, now, "provider.example.com").refused("provider", 14);
}
