//! An order placed from an offering belongs to the offering's provider: no other provider
//! may bid on it or be leased it, and the group's next order stays reserved.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod market_common;
use market_common::*;
use ve_market::proto as mp;
use ve_offering::proto as op;

const PRICE: u128 = 1_000;

/// Two registered providers; the first publishes offering 1 at genesis.
fn market_with_offering() -> Market {
    market(2, |g| {
        let owner = g.provider.providers[0].owner;
        g.offering
            .offerings
            .push(ve_offering::genesis::GenesisOffering {
                provider: owner,
                category: "compute".into(),
                name: "small vm".into(),
                description: String::new(),
                price_per_block: format!("{PRICE}uve"),
                cpu_millicores: 1_000,
                memory_bytes: 1 << 30,
                storage_bytes: 0,
                gpu_count: 0,
                gpu_model: String::new(),
                min_tier: 0,
                require_mfa: false,
                attributes: Default::default(),
            });
    })
}

fn order_offering(m: &mut Market, dseq: u64) -> Vec<u8> {
    let msg = op::MsgOrderOffering {
        tenant: m.tenant.address.to_string(),
        provider: m.providers[0].address.to_string(),
        seq: 1,
        units: 1,
        deposit: Some(coin(DEPOSIT)),
        manifest_hash: vec![3; 32],
        dseq,
    };
    sign(
        &mut m.tenant,
        "/virtengine.offering.v1.MsgOrderOffering",
        &msg,
    )
}

#[test]
fn only_the_offering_provider_may_bid_on_or_lease_an_offering_order() {
    let mut m = market_with_offering();
    let supply = m.total();
    let t = m.tenant.address;
    let (mine, other) = (m.providers[0].address, m.providers[1].address);
    let tx = order_offering(&mut m, 1);
    ok(&mut m.node, tx);
    assert_eq!(order(&m.node, &t, 1, 1, 1).provider, mine.to_string());

    let b0 = m.bal(&other);
    let tx = create_bid(&mut m.providers[1], &t, 1, 1, 800);
    let (code, space, log) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (24, "market"), "{log}");
    assert!(
        log.contains(&mine.to_string()),
        "the error names the provider: {log}"
    );
    assert_eq!(m.bal(&other), b0 - MFEE, "no bid deposit taken");

    let tx = create_bid(&mut m.providers[0], &t, 1, 1, 800);
    ok(&mut m.node, tx);
    let tx = create_lease(&mut m.tenant, bid_id(&t, 1, 1, 1, &mine));
    ok(&mut m.node, tx);
    assert_eq!(
        lease(&m.node, bid_id(&t, 1, 1, 1, &mine))
            .lease
            .unwrap()
            .state,
        mp::LeaseState::Active as i32
    );

    // The lease ends; the group's next order is still reserved for the same provider.
    let tx = close_lease(&mut m.tenant, bid_id(&t, 1, 1, 1, &mine));
    ok(&mut m.node, tx);
    assert_eq!(order(&m.node, &t, 1, 1, 2).provider, mine.to_string());
    let tx = create_bid(&mut m.providers[1], &t, 1, 2, 800);
    let (code, space, _) = run(&mut m.node, tx);
    assert_eq!((code, space.as_str()), (24, "market"));
    assert_eq!(m.total(), supply, "uve created or lost");
}

#[test]
fn orders_of_plain_deployments_stay_open_to_every_provider() {
    let mut m = market_with_offering();
    let t = m.tenant.address;
    let tx = create_deployment(
        &mut m.tenant,
        1,
        vec![group_spec("web", PRICE_CAP, "eu-west")],
        DEPOSIT,
    );
    ok(&mut m.node, tx);
    assert_eq!(order(&m.node, &t, 1, 1, 1).provider, "");
    let tx = create_bid(&mut m.providers[1], &t, 1, 1, 800);
    ok(&mut m.node, tx);
}
