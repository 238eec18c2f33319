//! A provider serving an active lease cannot delete itself (provider asks the market
//! through `ActiveLeases`); once the lease is closed it can.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod market_common;
use common::*;
use market_common::*;
use ve_provider::proto as pp;

fn delete(p: &mut User) -> Vec<u8> {
    let m = pp::MsgDeleteProvider {
        owner: p.address.to_string(),
    };
    sign(p, "/virtengine.provider.v1.MsgDeleteProvider", &m)
}

#[test]
fn provider_with_an_active_lease_cannot_be_deleted_until_the_lease_closes() {
    let mut m = market(1, |_| {});
    let t = m.tenant.address;
    let p = m.providers[0].address;
    let tx = create_deployment(
        &mut m.tenant,
        1,
        vec![group_spec("web", PRICE_CAP, "eu-west")],
        DEPOSIT,
    );
    ok(&mut m.node, tx);
    let tx = create_bid(&mut m.providers[0], &t, 1, 1, 800);
    ok(&mut m.node, tx);
    let tx = create_lease(&mut m.tenant, bid_id(&t, 1, 1, 1, &p));
    ok(&mut m.node, tx);

    let tx = delete(&mut m.providers[0]);
    let (code, space, log) = run(&mut m.node, tx);
    assert_eq!((space.as_str(), code), ("provider", 9), "{log}");

    let tx = close_lease(&mut m.tenant, bid_id(&t, 1, 1, 1, &p));
    ok(&mut m.node, tx);
    let tx = delete(&mut m.providers[0]);
    ok(&mut m.node, tx);
    let (code, space) = query_err(
        &m.node,
        "/virtengine.provider.v1.Query/Provider",
        &pp::QueryProviderRequest {
            owner: p.to_string(),
        },
    );
    assert_eq!((space.as_str(), code), ("provider", 8));
}
