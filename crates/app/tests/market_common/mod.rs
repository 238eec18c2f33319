//! Fixtures for the deployment and market app tests: a chain with a tenant, a sponsor, a
//! stranger and registered providers (genesis providers with attributes), message
//! builders, queries, and a money ledger that checks no uve is created or lost.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::*;
use prost::Message;
use std::collections::BTreeMap;
use ve_app::testing::TestNode;
use ve_app::AppGenesis;
use ve_deployment::proto as dp;
use ve_market::proto as mp;
use ve_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use ve_proto::to_any;
use ve_proto::virtengine::base::v1::{Attribute, PlacementRequirements};
use ve_types::{Address, Coin, Coins};

pub const MGAS: u64 = 1_000_000;
pub const MFEE: u128 = 25_000;
pub const DEPOSIT: u128 = 5_000_000;
pub const BID_DEPOSIT: u128 = 500_000;
pub const PRICE_CAP: u128 = 1_000;

pub struct Market {
    pub node: TestNode,
    pub tenant: User,
    pub sponsor: User,
    pub stranger: User,
    pub providers: Vec<User>,
}

pub fn escrow_addr() -> Address {
    Address::module("escrow")
}
pub fn pool() -> Address {
    Address::module("community_pool")
}
pub fn fee_collector() -> Address {
    Address::module("fee_collector")
}

pub fn coin(amount: u128) -> ProtoCoin {
    ProtoCoin {
        denom: "uve".into(),
        amount: amount.to_string(),
    }
}

/// A chain with `n_providers` registered providers (region=eu-west); `edit` adjusts the
/// genesis (params) before the chain starts.
pub fn market(n_providers: usize, edit: impl FnOnce(&mut AppGenesis)) -> Market {
    let mut genesis = AppGenesis::default();
    let mut users: Vec<User> = (0..3 + n_providers)
        .map(|i| User::new(i as u8 + 1, FIRST_USER_NUMBER + i as u64))
        .collect();
    for u in &users {
        genesis
            .add_account(
                u.address,
                &Coins::from_list([Coin::new("uve", START)]).unwrap(),
            )
            .unwrap();
    }
    for p in &users[3..] {
        let mut attributes = BTreeMap::new();
        attributes.insert("region".to_string(), "eu-west".to_string());
        genesis
            .provider
            .providers
            .push(ve_provider::genesis::GenesisProvider {
                owner: p.address,
                host_uri: "https://provider.example.com:8443".into(),
                attributes,
                email: String::new(),
                website: String::new(),
                public_key: String::new(),
            });
    }
    edit(&mut genesis);
    let mut node = TestNode::new(&genesis).unwrap();
    node.execute_block(&[]).unwrap();
    let providers = users.split_off(3);
    let stranger = users.pop().unwrap();
    let sponsor = users.pop().unwrap();
    let tenant = users.pop().unwrap();
    Market {
        node,
        tenant,
        sponsor,
        stranger,
        providers,
    }
}

pub fn group_spec(name: &str, price: u128, region: &str) -> dp::GroupSpec {
    dp::GroupSpec {
        name: name.into(),
        requirements: Some(PlacementRequirements {
            signed_by: None,
            attributes: vec![Attribute {
                key: "region".into(),
                value: region.into(),
            }],
        }),
        resources: vec![dp::ResourceUnit {
            resources: Some(dp::Resources {
                cpu_millicores: 500,
                memory_bytes: 512 << 20,
                storage_bytes: 1 << 30,
                gpu_count: 0,
                gpu_model: String::new(),
                endpoints: vec![],
            }),
            count: 1,
            price: Some(coin(price)),
        }],
    }
}

pub fn did(owner: &Address, dseq: u64) -> dp::DeploymentId {
    dp::DeploymentId {
        owner: owner.to_string(),
        dseq,
    }
}

pub fn gid(owner: &Address, dseq: u64, gseq: u32) -> dp::GroupId {
    dp::GroupId {
        owner: owner.to_string(),
        dseq,
        gseq,
    }
}

pub fn bid_id(owner: &Address, dseq: u64, gseq: u32, oseq: u32, provider: &Address) -> mp::BidId {
    mp::BidId {
        owner: owner.to_string(),
        dseq,
        gseq,
        oseq,
        provider: provider.to_string(),
    }
}

pub fn sign(u: &mut User, url: &str, msg: &impl Message) -> Vec<u8> {
    u.sign(vec![to_any(url, msg)], MFEE, MGAS)
}

pub fn create_deployment_msg(
    owner: &Address,
    dseq: u64,
    groups: Vec<dp::GroupSpec>,
    deposit: u128,
) -> dp::MsgCreateDeployment {
    dp::MsgCreateDeployment {
        id: Some(did(owner, dseq)),
        groups,
        hash: vec![7; 32],
        deposit: Some(coin(deposit)),
        ..Default::default()
    }
}

pub fn create_deployment(
    u: &mut User,
    dseq: u64,
    groups: Vec<dp::GroupSpec>,
    deposit: u128,
) -> Vec<u8> {
    let msg = create_deployment_msg(&u.address, dseq, groups, deposit);
    sign(u, "/virtengine.deployment.v1.MsgCreateDeployment", &msg)
}

pub fn create_bid(p: &mut User, owner: &Address, dseq: u64, oseq: u32, price: u128) -> Vec<u8> {
    let msg = mp::MsgCreateBid {
        id: Some(bid_id(owner, dseq, 1, oseq, &p.address)),
        price: Some(coin(price)),
        deposit: Some(coin(BID_DEPOSIT)),
        resources_offer: vec![],
    };
    sign(p, "/virtengine.market.v1.MsgCreateBid", &msg)
}

pub fn create_lease(t: &mut User, id: mp::BidId) -> Vec<u8> {
    sign(
        t,
        "/virtengine.market.v1.MsgCreateLease",
        &mp::MsgCreateLease { bid_id: Some(id) },
    )
}

pub fn withdraw_lease(p: &mut User, id: mp::BidId) -> Vec<u8> {
    sign(
        p,
        "/virtengine.market.v1.MsgWithdrawLease",
        &mp::MsgWithdrawLease { id: Some(id) },
    )
}

pub fn close_lease(u: &mut User, id: mp::BidId) -> Vec<u8> {
    let signer = u.address.to_string();
    sign(
        u,
        "/virtengine.market.v1.MsgCloseLease",
        &mp::MsgCloseLease {
            id: Some(id),
            signer,
        },
    )
}

pub fn close_bid(p: &mut User, id: mp::BidId, reason: i32) -> Vec<u8> {
    sign(
        p,
        "/virtengine.market.v1.MsgCloseBid",
        &mp::MsgCloseBid {
            id: Some(id),
            reason,
        },
    )
}

pub fn close_deployment(u: &mut User, dseq: u64) -> Vec<u8> {
    let id = did(&u.address, dseq);
    sign(
        u,
        "/virtengine.deployment.v1.MsgCloseDeployment",
        &dp::MsgCloseDeployment { id: Some(id) },
    )
}

pub fn escrow_deposit(u: &mut User, owner: &Address, dseq: u64, amount: u128) -> Vec<u8> {
    let msg = ve_escrow::proto::MsgDeposit {
        signer: u.address.to_string(),
        account_id: Some(ve_escrow::proto::AccountId {
            scope: "deployment".into(),
            xid: format!("{owner}/{dseq}"),
        }),
        amount: Some(coin(amount)),
    };
    sign(u, "/virtengine.escrow.v1.MsgDeposit", &msg)
}

/// Runs one block with one transaction; returns (code, codespace, log).
pub fn run(node: &mut TestNode, tx: Vec<u8>) -> (u32, String, String) {
    let out = node.execute_block(&[tx]).unwrap();
    let (code, space, log) = out.results().next().unwrap();
    (code, space.to_string(), log.to_string())
}

/// Runs one transaction that must succeed.
pub fn ok(node: &mut TestNode, tx: Vec<u8>) {
    let (code, space, log) = run(node, tx);
    assert_eq!(code, 0, "{space} {code}: {log}");
}

pub fn query<Req: Message, Resp: Message + Default>(
    node: &TestNode,
    path: &str,
    req: &Req,
) -> Resp {
    let r = node.app().query(path, &req.encode_to_vec(), 0, false);
    assert_eq!(r.code, 0, "{path}: {}", r.log);
    Resp::decode(r.value.as_slice()).unwrap()
}

pub fn query_err<Req: Message>(node: &TestNode, path: &str, req: &Req) -> (u32, String) {
    let r = node.app().query(path, &req.encode_to_vec(), 0, false);
    (r.code, r.codespace.clone())
}

pub fn deployment(node: &TestNode, owner: &Address, dseq: u64) -> dp::DeploymentInfo {
    let r: dp::QueryDeploymentResponse = query(
        node,
        "/virtengine.deployment.v1.Query/Deployment",
        &dp::QueryDeploymentRequest {
            id: Some(did(owner, dseq)),
        },
    );
    r.deployment.unwrap()
}

pub fn lease(node: &TestNode, id: mp::BidId) -> mp::QueryLeaseResponse {
    query(
        node,
        "/virtengine.market.v1.Query/Lease",
        &mp::QueryLeaseRequest { id: Some(id) },
    )
}

pub fn bid(node: &TestNode, id: mp::BidId) -> mp::Bid {
    let r: mp::QueryBidResponse = query(
        node,
        "/virtengine.market.v1.Query/Bid",
        &mp::QueryBidRequest { id: Some(id) },
    );
    r.bid.unwrap()
}

pub fn order(node: &TestNode, owner: &Address, dseq: u64, gseq: u32, oseq: u32) -> mp::Order {
    let r: mp::QueryOrderResponse = query(
        node,
        "/virtengine.market.v1.Query/Order",
        &mp::QueryOrderRequest {
            id: Some(mp::OrderId {
                owner: owner.to_string(),
                dseq,
                gseq,
                oseq,
            }),
        },
    );
    r.order.unwrap()
}

pub fn orders(
    node: &TestNode,
    filters: mp::Filters,
    limit: u64,
    key: Vec<u8>,
) -> mp::QueryOrdersResponse {
    query(
        node,
        "/virtengine.market.v1.Query/Orders",
        &mp::QueryOrdersRequest {
            filters: Some(filters),
            pagination: Some(ve_proto::cosmos::base::query::v1beta1::PageRequest {
                key,
                limit,
                ..Default::default()
            }),
        },
    )
}

pub fn bids(node: &TestNode, filters: mp::Filters) -> Vec<mp::Bid> {
    let r: mp::QueryBidsResponse = query(
        node,
        "/virtengine.market.v1.Query/Bids",
        &mp::QueryBidsRequest {
            filters: Some(filters),
            pagination: None,
        },
    );
    r.bids
}

pub fn leases(node: &TestNode, filters: mp::Filters) -> Vec<mp::Lease> {
    let r: mp::QueryLeasesResponse = query(
        node,
        "/virtengine.market.v1.Query/Leases",
        &mp::QueryLeasesRequest {
            filters: Some(filters),
            pagination: None,
        },
    );
    r.leases
}

impl Market {
    pub fn everyone(&self) -> Vec<Address> {
        let mut v = vec![
            self.tenant.address,
            self.sponsor.address,
            self.stranger.address,
            escrow_addr(),
            pool(),
            fee_collector(),
        ];
        v.extend(self.providers.iter().map(|p| p.address));
        v
    }

    /// All uve held by users and the module accounts money can reach.
    pub fn total(&self) -> u128 {
        self.everyone().iter().map(|a| balance(&self.node, a)).sum()
    }

    pub fn bal(&self, a: &Address) -> u128 {
        balance(&self.node, a)
    }
}
