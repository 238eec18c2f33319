//! offering through the app: a provider publishes, updates and deactivates offerings;
//! tenants order them, gated on the offering's minimum tier and MFA requirement, and the
//! order creates the tenant's deployment (deposit in escrow, market order open).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod provider_common;
use provider_common::*;
use ve_mfa::proto::SensitiveTxType;
use ve_offering::proto as op;
use ve_proto::cosmos::base::v1beta1::Coin as ProtoCoin;

const DEPOSIT: u128 = 5_000_000;

fn uve(n: u128) -> ProtoCoin {
    ProtoCoin {
        denom: "uve".into(),
        amount: n.to_string(),
    }
}

/// users[1] is a genesis provider with score 80; users[2], users[3] are tenants.
fn catalogue_chain() -> Chain {
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
    c.set_score(1, 80);
    c
}

fn create_msg(c: &Chain, min_tier: u32, require_mfa: bool) -> op::MsgCreateOffering {
    op::MsgCreateOffering {
        provider: c.users[1].s(),
        category: op::Category::Gpu as i32,
        name: "A100 node".into(),
        description: "one A100, 8 cores".into(),
        price_per_block: Some(uve(100)),
        resources: Some(op::ResourceTemplate {
            cpu_millicores: 8_000,
            memory_bytes: 32 << 30,
            storage_bytes: 100 << 30,
            gpu_count: 1,
            gpu_model: "a100".into(),
        }),
        min_tier,
        require_mfa,
        attributes: vec![],
    }
}

fn publish(c: &mut Chain, min_tier: u32, require_mfa: bool) -> u64 {
    let m = create_msg(c, min_tier, require_mfa);
    let r = c.try_send(1, vec![any(&m)], &[]);
    r.ok();
    r.response::<op::MsgCreateOfferingResponse>(0).seq
}

fn order_msg(c: &Chain, tenant: usize, seq: u64, dseq: u64) -> op::MsgOrderOffering {
    op::MsgOrderOffering {
        tenant: c.users[tenant].s(),
        provider: c.users[1].s(),
        seq,
        units: 2,
        deposit: Some(uve(DEPOSIT)),
        manifest_hash: vec![9; 32],
        dseq,
    }
}

fn offering(c: &Chain, seq: u64) -> op::Offering {
    let r: op::QueryOfferingResponse = c.query(
        "/virtengine.offering.v1.Query/Offering",
        &op::QueryOfferingRequest {
            provider: c.users[1].s(),
            seq,
        },
    );
    r.offering.unwrap()
}

fn deployment_exists(c: &Chain, tenant: usize, dseq: u64) -> bool {
    use ve_deployment::proto as dp;
    let r = c.node.app().query(
        "/virtengine.deployment.v1.Query/Deployment",
        &prost::Message::encode_to_vec(&dp::QueryDeploymentRequest {
            id: Some(dp::DeploymentId {
                owner: c.users[tenant].s(),
                dseq,
            }),
        }),
        0,
        false,
    );
    r.code == 0
}

#[test]
fn provider_publishes_updates_and_deactivates_offerings() {
    let mut c = catalogue_chain();
    let s1 = publish(&mut c, 1, false);
    let s2 = publish(&mut c, 2, true);
    assert_eq!((s1, s2), (1, 2));
    let o = offering(&c, 1);
    assert_eq!(o.state, op::OfferingState::Active as i32);
    assert_eq!(o.category, op::Category::Gpu as i32);

    let upd = op::MsgUpdateOffering {
        provider: c.users[1].s(),
        seq: 1,
        name: "A100 node v2".into(),
        description: String::new(),
        price_per_block: Some(uve(120)),
        resources: create_msg(&c, 0, false).resources,
        min_tier: 2,
        require_mfa: false,
        attributes: vec![],
    };
    c.try_send(1, vec![any(&upd)], &[]).ok();
    let o = offering(&c, 1);
    assert_eq!(o.name, "A100 node v2");
    assert_eq!(o.price_per_block.unwrap().amount, "120");
    assert_eq!(o.min_tier, 2);

    let d = op::MsgDeactivateOffering {
        provider: c.users[1].s(),
        seq: 1,
    };
    c.try_send(1, vec![any(&d)], &[]).ok();
    assert_eq!(offering(&c, 1).state, op::OfferingState::Inactive as i32);
    c.try_send(1, vec![any(&d)], &[]).refused("offering", 6);
    c.try_send(1, vec![any(&upd)], &[]).refused("offering", 6);

    let list = |c: &Chain, active_only: bool| -> Vec<op::Offering> {
        let r: op::QueryOfferingsResponse = c.query(
            "/virtengine.offering.v1.Query/Offerings",
            &op::QueryOfferingsRequest {
                provider: String::new(),
                category: op::Category::Gpu as i32,
                active_only,
                pagination: None,
            },
        );
        r.offerings
    };
    assert_eq!(list(&c, false).len(), 2);
    assert_eq!(list(&c, true).len(), 1);
}

#[test]
fn only_registered_verified_providers_publish_and_bad_offerings_are_refused() {
    let mut c = catalogue_chain();
    // users[2] is not a provider.
    let mut m = create_msg(&c, 0, false);
    m.provider = c.users[2].s();
    c.try_send(2, vec![any(&m)], &[]).refused("offering", 4);
    // A provider below tier Standard.
    c.set_score(1, 60);
    let m = create_msg(&c, 0, false);
    c.try_send(1, vec![any(&m)], &[]).refused("identity", 28);
    c.set_score(1, 80);
    let bad = [
        op::MsgCreateOffering {
            category: 0,
            ..create_msg(&c, 0, false)
        },
        op::MsgCreateOffering {
            name: String::new(),
            ..create_msg(&c, 0, false)
        },
        op::MsgCreateOffering {
            price_per_block: Some(uve(0)),
            ..create_msg(&c, 0, false)
        },
        op::MsgCreateOffering {
            min_tier: 4,
            ..create_msg(&c, 0, false)
        },
        op::MsgCreateOffering {
            resources: Some(op::ResourceTemplate {
                gpu_count: 0,
                ..create_msg(&c, 0, false).resources.unwrap()
            }),
            ..create_msg(&c, 0, false)
        },
    ];
    for m in bad {
        c.try_send(1, vec![any(&m)], &[]).refused("offering", 3);
    }
}

#[test]
fn tenant_below_the_offering_tier_cannot_order() {
    let mut c = catalogue_chain();
    let seq = publish(&mut c, 2, false);
    c.set_score(2, 60); // Basic
    let m = order_msg(&c, 2, seq, 10);
    c.try_send(2, vec![any(&m)], &[]).refused("identity", 28);
    assert!(!deployment_exists(&c, 2, 10));
}

#[test]
fn tenant_with_the_tier_orders_and_gets_a_funded_deployment() {
    let mut c = catalogue_chain();
    let seq = publish(&mut c, 1, false);
    c.set_score(2, 60); // Basic is enough here
    let escrow = ve_types::Address::module("escrow");
    let (t0, e0) = (c.balance(&c.users[2].address), c.balance(&escrow));
    let m = order_msg(&c, 2, seq, 10);
    let r = c.try_send(2, vec![any(&m)], &[]);
    r.ok();
    assert!(r.has_event("offering_ordered"));
    let resp: op::MsgOrderOfferingResponse = r.response(0);
    assert_eq!(
        (resp.owner.as_str(), resp.dseq),
        (c.users[2].s().as_str(), 10)
    );
    assert!(deployment_exists(&c, 2, 10));
    assert_eq!(c.balance(&escrow), e0 + DEPOSIT);
    assert_eq!(c.balance(&c.users[2].address), t0 - DEPOSIT - FEE);
    assert_eq!(offering(&c, seq).order_count, 1);
    // Ordering a deactivated offering is refused.
    let d = op::MsgDeactivateOffering {
        provider: c.users[1].s(),
        seq,
    };
    c.try_send(1, vec![any(&d)], &[]).ok();
    let m = order_msg(&c, 2, seq, 11);
    c.try_send(2, vec![any(&m)], &[]).refused("offering", 6);
}

#[test]
fn an_offering_requiring_mfa_refuses_orders_without_a_session_and_accepts_with_one() {
    let mut c = catalogue_chain();
    let seq = publish(&mut c, 1, true);
    c.set_score(3, 80);
    let m = order_msg(&c, 3, seq, 20);
    let r = c.try_send(3, vec![any(&m)], &[]);
    assert_eq!(r.codespace, "mfa", "{}", r.log);
    assert!(!deployment_exists(&c, 3, 20));

    let mut auth = authenticator(b"tenant-3");
    c.enroll_fido2(3, &mut auth, ve_mfa::testing::Format::None)
        .ok();
    let session = c.veid_fido2_session(3, &mut auth, SensitiveTxType::HighValueOrder);
    let m = order_msg(&c, 3, seq, 20);
    c.try_send(3, vec![any(&m)], &[session]).ok();
    assert!(deployment_exists(&c, 3, 20));
}

#[test]
fn bad_orders_are_refused_with_stable_codes() {
    let mut c = catalogue_chain();
    let seq = publish(&mut c, 0, false);
    let bad = [
        op::MsgOrderOffering {
            units: 0,
            ..order_msg(&c, 2, seq, 1)
        },
        op::MsgOrderOffering {
            manifest_hash: vec![1; 5],
            ..order_msg(&c, 2, seq, 1)
        },
        op::MsgOrderOffering {
            deposit: Some(uve(0)),
            ..order_msg(&c, 2, seq, 1)
        },
    ];
    for m in bad {
        c.try_send(2, vec![any(&m)], &[]).refused("offering", 8);
    }
    let m = order_msg(&c, 2, 99, 1);
    c.try_send(2, vec![any(&m)], &[]).refused("offering", 5);
}
