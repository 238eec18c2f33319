//! Shared fixtures for app tests: deterministic accounts, a funded genesis, signing.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod veid;

use ve_app::testing::{TestNode, TEST_CHAIN_ID};
use ve_app::AppGenesis;
use ve_client::tx::{msg_send, TxBuilder};
use ve_crypto::PrivateKey;
use ve_proto::Any;
use ve_types::{Address, Coin, Coins};

pub const FEE: u128 = 5_000;
pub const GAS: u64 = 200_000;
pub const START: u128 = 1_000_000_000;

pub struct User {
    pub key: PrivateKey,
    pub address: Address,
    pub number: u64,
    pub sequence: u64,
}

impl User {
    pub fn new(seed: u8, number: u64) -> Self {
        let key = PrivateKey::from_bytes(&[seed; 32]).unwrap();
        let address = key.public_key().address();
        Self {
            key,
            address,
            number,
            sequence: 0,
        }
    }

    /// Signs `msgs` with the user's current sequence and bumps it.
    pub fn sign(&mut self, msgs: Vec<Any>, fee: u128, gas: u64) -> Vec<u8> {
        let bytes = self.sign_with(msgs, fee, gas, TEST_CHAIN_ID, self.sequence);
        self.sequence += 1;
        bytes
    }

    pub fn sign_with(
        &self,
        msgs: Vec<Any>,
        fee: u128,
        gas: u64,
        chain_id: &str,
        sequence: u64,
    ) -> Vec<u8> {
        let mut b = TxBuilder::new()
            .fee(vec![Coin::new("uve", fee)])
            .gas_limit(gas);
        for m in msgs {
            b = b.msg(m);
        }
        b.sign_direct(&self.key, chain_id, self.number, sequence)
            .bytes
    }

    pub fn send(&mut self, to: &Address, amount: u128) -> Vec<u8> {
        let msg = msg_send(&self.address, to, &[Coin::new("uve", amount)]);
        self.sign(vec![msg], FEE, GAS)
    }
}

/// Genesis account numbers: module accounts come first (7 of them), then users in order.
pub const FIRST_USER_NUMBER: u64 = 7;

/// A chain where `n` users hold `START` uve each.
pub fn chain(n: u8) -> (TestNode, Vec<User>) {
    let mut genesis = AppGenesis::default();
    let users: Vec<User> = (0..n)
        .map(|i| User::new(i + 1, FIRST_USER_NUMBER + u64::from(i)))
        .collect();
    for u in &users {
        genesis
            .add_account(
                u.address,
                &Coins::from_list([Coin::new("uve", START)]).unwrap(),
            )
            .unwrap();
    }
    (TestNode::new(&genesis).unwrap(), users)
}

pub fn balance(node: &TestNode, addr: &Address) -> u128 {
    use prost::Message;
    use ve_proto::cosmos::bank::v1beta1::{QueryBalanceRequest, QueryBalanceResponse};
    let req = QueryBalanceRequest {
        address: addr.to_string(),
        denom: "uve".into(),
    };
    let r = node.app().query(
        "/cosmos.bank.v1beta1.Query/Balance",
        &req.encode_to_vec(),
        0,
        false,
    );
    assert_eq!(r.code, 0, "{}", r.log);
    let resp = QueryBalanceResponse::decode(r.value.as_slice()).unwrap();
    resp.balance.unwrap().amount.parse().unwrap()
}

pub fn sequence(node: &TestNode, addr: &Address) -> u64 {
    use prost::Message;
    use ve_proto::cosmos::auth::v1beta1::{BaseAccount, QueryAccountRequest, QueryAccountResponse};
    let req = QueryAccountRequest {
        address: addr.to_string(),
    };
    let r = node.app().query(
        "/cosmos.auth.v1beta1.Query/Account",
        &req.encode_to_vec(),
        0,
        false,
    );
    assert_eq!(r.code, 0, "{}", r.log);
    let any = QueryAccountResponse::decode(r.value.as_slice())
        .unwrap()
        .account
        .unwrap();
    BaseAccount::decode(any.value.as_slice()).unwrap().sequence
}
