//! config module through mock consensus: the approved capture-client registry is changed
//! only by an authority, follows its status machine, and rotates keys with an overlap.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use prost::Message;
use ve_app::testing::TestNode;
use ve_app::AppGenesis;
use ve_config::proto::*;
use ve_config::{ClientSignatureCheck, GenesisClient};
use ve_module::ReadOnly;
use ve_proto::to_any;
use ve_types::{Coin, Coins};

/// users[0] is the admin; users[1] is not.
fn chain_with(n: u8, edit: impl FnOnce(&mut AppGenesis)) -> (TestNode, Vec<User>) {
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
    genesis.config.params.admins = vec![users[0].address];
    edit(&mut genesis);
    (TestNode::new(&genesis).unwrap(), users)
}

fn ed_key(seed: u8) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[seed; 32])
}

fn tx<M: Message>(u: &mut User, url: &str, msg: &M) -> Vec<u8> {
    u.sign(vec![to_any(url, msg)], FEE, GAS)
}

fn register_msg(u: &User, id: &str, key: &ed25519_dalek::SigningKey) -> MsgRegisterApprovedClient {
    MsgRegisterApprovedClient {
        authority: u.address.to_string(),
        client_id: id.into(),
        name: "Capture App".into(),
        description: "test".into(),
        public_key: key.verifying_key().to_bytes().to_vec(),
        key_type: KeyType::Ed25519 as i32,
        min_version: String::new(),
        max_version: String::new(),
        allowed_scopes: vec![],
    }
}

const REGISTER: &str = "/virtengine.config.v1.MsgRegisterApprovedClient";
const SUSPEND: &str = "/virtengine.config.v1.MsgSuspendApprovedClient";
const REACTIVATE: &str = "/virtengine.config.v1.MsgReactivateApprovedClient";
const REVOKE: &str = "/virtengine.config.v1.MsgRevokeApprovedClient";
const ROTATE: &str = "/virtengine.config.v1.MsgRotateClientKey";
const UPDATE: &str = "/virtengine.config.v1.MsgUpdateApprovedClient";

fn block(node: &mut TestNode, txs: &[Vec<u8>]) -> Vec<(u32, String, String)> {
    let out = node.execute_block(txs).unwrap();
    out.results()
        .map(|(c, s, l)| (c, s.to_string(), l.to_string()))
        .collect()
}

fn ok(node: &mut TestNode, tx: Vec<u8>) {
    let r = block(node, &[tx]);
    assert_eq!(r[0].0, 0, "{:?}", r[0]);
}

fn refused(node: &mut TestNode, tx: Vec<u8>, code: u32) -> String {
    let r = block(node, &[tx]);
    assert_eq!((r[0].0, r[0].1.as_str()), (code, "config"), "{:?}", r[0]);
    r[0].2.clone()
}

fn client(node: &TestNode, id: &str) -> Result<ApprovedClient, (u32, String)> {
    let r = node.app().query(
        "/virtengine.config.v1.Query/Client",
        &QueryClientRequest {
            client_id: id.into(),
        }
        .encode_to_vec(),
        0,
        false,
    );
    if r.code != 0 {
        return Err((r.code, r.log));
    }
    Ok(QueryClientResponse::decode(r.value.as_slice())
        .unwrap()
        .client
        .unwrap())
}

fn status_msg(u: &User, id: &str) -> MsgSuspendApprovedClient {
    MsgSuspendApprovedClient {
        authority: u.address.to_string(),
        client_id: id.into(),
        reason: "audit".into(),
    }
}

/// Runs the keeper check other modules use, against the latest committed state.
fn verify(node: &TestNode, id: &str, msg: &[u8], sig: &[u8]) -> Result<u32, u32> {
    let snap = node.app().storage().latest_snapshot();
    ve_config::verify_client_signature(
        &mut ReadOnly(&snap),
        node.height() + 1,
        &ClientSignatureCheck {
            client_id: id,
            client_version: "1.0.0",
            scope_type: "selfie",
            message: msg,
            signature: sig,
        },
    )
    .map_err(|e| ve_types::ErrorCode::code(&e))
}

fn sign(k: &ed25519_dalek::SigningKey, msg: &[u8]) -> Vec<u8> {
    use ed25519_dalek::Signer;
    k.sign(msg).to_bytes().to_vec()
}

#[test]
fn admin_registers_a_client_that_is_queryable_and_verifies_signatures() {
    let (mut node, mut users) = chain_with(2, |_| {});
    let k = ed_key(9);
    let msg = register_msg(&users[0], "capture-app", &k);
    let out = node
        .execute_block(&[tx(&mut users[0], REGISTER, &msg)])
        .unwrap();
    assert_eq!(out.results().next().unwrap().0, 0);
    let (events, _) = out.tx_events_and_data().next().unwrap();
    assert!(events
        .iter()
        .any(|e| e.kind == "virtengine.config.v1.EventClientRegistered"
            && e.attributes
                .contains(&("client_id".into(), "capture-app".into()))));
    let c = client(&node, "capture-app").unwrap();
    assert_eq!(c.status, ClientStatus::Active as i32);
    assert_eq!((c.key_version, c.min_version.as_str()), (1, "1.0.0"));
    assert_eq!(c.registered_by, users[0].address.to_string());
    assert_eq!(
        verify(&node, "capture-app", b"payload", &sign(&k, b"payload")),
        Ok(1)
    );
    assert_eq!(
        verify(
            &node,
            "capture-app",
            b"payload",
            &sign(&ed_key(8), b"payload")
        ),
        Err(15)
    );
    assert_eq!(
        verify(&node, "unknown-app", b"payload", &sign(&k, b"payload")),
        Err(5)
    );
}

#[test]
fn non_admin_cannot_register_update_suspend_or_change_params() {
    let (mut node, mut users) = chain_with(2, |_| {});
    let msg = register_msg(&users[1], "capture-app", &ed_key(9));
    let log = refused(&mut node, tx(&mut users[1], REGISTER, &msg), 2);
    assert!(log.contains("not an authority"), "{log}");
    let msg = register_msg(&users[0], "capture-app", &ed_key(9));
    ok(&mut node, tx(&mut users[0], REGISTER, &msg));
    let s = status_msg(&users[1], "capture-app");
    refused(&mut node, tx(&mut users[1], SUSPEND, &s), 2);
    let p = MsgUpdateParams {
        authority: users[1].address.to_string(),
        params: Some(
            ve_config::ConfigParams {
                admins: vec![users[1].address],
                ..Default::default()
            }
            .to_proto(),
        ),
    };
    refused(
        &mut node,
        tx(&mut users[1], "/virtengine.config.v1.MsgUpdateParams", &p),
        2,
    );
    // The admin can hand the role over.
    let p = MsgUpdateParams {
        authority: users[0].address.to_string(),
        ..p
    };
    ok(
        &mut node,
        tx(&mut users[0], "/virtengine.config.v1.MsgUpdateParams", &p),
    );
    ok(&mut node, tx(&mut users[1], SUSPEND, &s));
    assert_eq!(
        client(&node, "capture-app").unwrap().status,
        ClientStatus::Suspended as i32
    );
}

#[test]
fn bad_registrations_are_refused_with_clear_codes() {
    let (mut node, mut users) = chain_with(1, |_| {});
    let k = ed_key(9);
    let a = &users[0];
    let cases: Vec<(MsgRegisterApprovedClient, u32)> = vec![
        (
            MsgRegisterApprovedClient {
                client_id: "x".into(),
                ..register_msg(a, "", &k)
            },
            3,
        ),
        (
            MsgRegisterApprovedClient {
                client_id: "9abc".into(),
                ..register_msg(a, "", &k)
            },
            3,
        ),
        (
            MsgRegisterApprovedClient {
                client_id: "ab/cd".into(),
                ..register_msg(a, "", &k)
            },
            3,
        ),
        (
            MsgRegisterApprovedClient {
                public_key: vec![1; 31],
                ..register_msg(a, "app-1", &k)
            },
            6,
        ),
        (
            MsgRegisterApprovedClient {
                public_key: vec![5; 33],
                key_type: KeyType::Secp256k1 as i32,
                ..register_msg(a, "app-1", &k)
            },
            6,
        ),
        (
            MsgRegisterApprovedClient {
                key_type: 0,
                ..register_msg(a, "app-1", &k)
            },
            7,
        ),
        (
            MsgRegisterApprovedClient {
                name: String::new(),
                ..register_msg(a, "app-1", &k)
            },
            8,
        ),
        (
            MsgRegisterApprovedClient {
                allowed_scopes: vec!["passport".into()],
                ..register_msg(a, "app-1", &k)
            },
            8,
        ),
        (
            MsgRegisterApprovedClient {
                min_version: "1.0".into(),
                ..register_msg(a, "app-1", &k)
            },
            9,
        ),
        (
            MsgRegisterApprovedClient {
                min_version: "2.0.0".into(),
                max_version: "1.0.0".into(),
                ..register_msg(a, "app-1", &k)
            },
            8,
        ),
    ];
    for (msg, code) in cases {
        let t = tx(&mut users[0], REGISTER, &msg);
        refused(&mut node, t, code);
        // Stateless failures are refused before the sequence is consumed.
        users[0].sequence = sequence(&node, &users[0].address);
    }
    let msg = register_msg(&users[0], "app-1", &k);
    ok(&mut node, tx(&mut users[0], REGISTER, &msg));
    refused(&mut node, tx(&mut users[0], REGISTER, &msg), 4);
}

#[test]
fn client_status_machine_allows_only_its_transitions_and_revocation_is_terminal() {
    let (mut node, mut users) = chain_with(1, |_| {});
    let k = ed_key(9);
    let msg = register_msg(&users[0], "app-1", &k);
    ok(&mut node, tx(&mut users[0], REGISTER, &msg));
    let s = status_msg(&users[0], "app-1");
    let re = MsgReactivateApprovedClient {
        authority: s.authority.clone(),
        client_id: s.client_id.clone(),
        reason: String::new(),
    };
    let rv = MsgRevokeApprovedClient {
        authority: s.authority.clone(),
        client_id: s.client_id.clone(),
        reason: "compromised".into(),
    };
    // active -> active (reactivate) is not a transition.
    refused(&mut node, tx(&mut users[0], REACTIVATE, &re), 10);
    ok(&mut node, tx(&mut users[0], SUSPEND, &s));
    // A suspended client's signatures are refused.
    assert_eq!(verify(&node, "app-1", b"m", &sign(&k, b"m")), Err(12));
    refused(&mut node, tx(&mut users[0], SUSPEND, &s), 10);
    ok(&mut node, tx(&mut users[0], REACTIVATE, &re));
    assert_eq!(verify(&node, "app-1", b"m", &sign(&k, b"m")), Ok(1));
    ok(&mut node, tx(&mut users[0], REVOKE, &rv));
    let c = client(&node, "app-1").unwrap();
    assert_eq!(
        (c.status, c.status_reason.as_str()),
        (ClientStatus::Revoked as i32, "compromised")
    );
    assert_eq!(verify(&node, "app-1", b"m", &sign(&k, b"m")), Err(12));
    refused(&mut node, tx(&mut users[0], REACTIVATE, &re), 10);
    refused(&mut node, tx(&mut users[0], SUSPEND, &s), 10);
    refused(&mut node, tx(&mut users[0], REVOKE, &rv), 10);
    let upd = MsgUpdateApprovedClient {
        authority: s.authority.clone(),
        client_id: "app-1".into(),
        name: "n".into(),
        min_version: "1.0.0".into(),
        ..Default::default()
    };
    refused(&mut node, tx(&mut users[0], UPDATE, &upd), 10);
    // Suspended -> revoked is allowed too.
    let msg = register_msg(&users[0], "app-2", &ed_key(7));
    ok(&mut node, tx(&mut users[0], REGISTER, &msg));
    let s2 = status_msg(&users[0], "app-2");
    ok(&mut node, tx(&mut users[0], SUSPEND, &s2));
    let rv2 = MsgRevokeApprovedClient {
        client_id: "app-2".into(),
        ..rv
    };
    ok(&mut node, tx(&mut users[0], REVOKE, &rv2));
    // The status index lists what each status holds; the audit trail records each step.
    let r = node.app().query(
        "/virtengine.config.v1.Query/Clients",
        &QueryClientsRequest {
            status: ClientStatus::Revoked as i32,
            pagination: None,
        }
        .encode_to_vec(),
        0,
        false,
    );
    let ids: Vec<String> = QueryClientsResponse::decode(r.value.as_slice())
        .unwrap()
        .clients
        .into_iter()
        .map(|c| c.client_id)
        .collect();
    assert_eq!(ids, vec!["app-1", "app-2"]);
    let r = node.app().query(
        "/virtengine.config.v1.Query/ClientAudit",
        &QueryClientAuditRequest {
            client_id: "app-1".into(),
            pagination: None,
        }
        .encode_to_vec(),
        0,
        false,
    );
    let actions: Vec<String> = QueryClientAuditResponse::decode(r.value.as_slice())
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        vec!["registered", "suspended", "reactivated", "revoked"]
    );
}

#[test]
fn rotated_out_key_verifies_only_during_the_overlap() {
    let (mut node, mut users) = chain_with(1, |_| {});
    let old = ed_key(9);
    let new = ed_key(10);
    let msg = register_msg(&users[0], "app-1", &old);
    ok(&mut node, tx(&mut users[0], REGISTER, &msg));
    let rot = MsgRotateClientKey {
        authority: users[0].address.to_string(),
        client_id: "app-1".into(),
        new_public_key: new.verifying_key().to_bytes().to_vec(),
        new_key_type: KeyType::Ed25519 as i32,
        overlap_blocks: 3,
    };
    ok(&mut node, tx(&mut users[0], ROTATE, &rot));
    let rotated_at = node.height();
    let c = client(&node, "app-1").unwrap();
    assert_eq!(
        (c.key_version, c.previous_key_valid_until),
        (2, rotated_at + 3)
    );
    // Within the overlap (next block is rotated_at + 1): both keys verify.
    assert_eq!(verify(&node, "app-1", b"m", &sign(&new, b"m")), Ok(2));
    assert_eq!(verify(&node, "app-1", b"m", &sign(&old, b"m")), Ok(1));
    node.advance_to(rotated_at + 2).unwrap();
    // The next block is rotated_at + 3: the old key is out.
    assert_eq!(verify(&node, "app-1", b"m", &sign(&old, b"m")), Err(15));
    assert_eq!(verify(&node, "app-1", b"m", &sign(&new, b"m")), Ok(2));
    // Rotating to the same key is refused.
    let same = MsgRotateClientKey {
        overlap_blocks: 0,
        ..rot
    };
    refused(&mut node, tx(&mut users[0], ROTATE, &same), 16);
}

#[test]
fn client_version_and_scope_permissions_are_enforced() {
    let (mut node, mut users) = chain_with(1, |_| {});
    let k = ed_key(9);
    let msg = MsgRegisterApprovedClient {
        min_version: "1.2.0".into(),
        max_version: "1.9.9".into(),
        allowed_scopes: vec!["id_document".into()],
        ..register_msg(&users[0], "app-1", &k)
    };
    ok(&mut node, tx(&mut users[0], REGISTER, &msg));
    let snap = node.app().storage().latest_snapshot();
    let sig = sign(&k, b"m");
    let check = |version: &str, scope: &str| {
        ve_config::verify_client_signature(
            &mut ReadOnly(&snap),
            10,
            &ClientSignatureCheck {
                client_id: "app-1",
                client_version: version,
                scope_type: scope,
                message: b"m",
                signature: &sig,
            },
        )
        .map_err(|e| ve_types::ErrorCode::code(&e))
    };
    assert_eq!(check("1.2.0", "id_document"), Ok(1));
    assert_eq!(check("1.10.0", "id_document"), Err(13));
    assert_eq!(check("1.1.9", "id_document"), Err(13));
    assert_eq!(check("1.5", "id_document"), Err(9));
    assert_eq!(check("1.5.0", "selfie"), Err(14));
}

#[test]
fn secp256k1_client_keys_verify_cosmos_style_signatures() {
    let (mut node, mut users) = chain_with(1, |_| {});
    let ck = ve_crypto::PrivateKey::from_bytes(&[42; 32]).unwrap();
    let msg = MsgRegisterApprovedClient {
        public_key: ck.public_key().to_bytes().to_vec(),
        key_type: KeyType::Secp256k1 as i32,
        ..register_msg(&users[0], "portal", &ed_key(1))
    };
    ok(&mut node, tx(&mut users[0], REGISTER, &msg));
    assert_eq!(
        verify(&node, "portal", b"digest", &ck.sign(b"digest")),
        Ok(1)
    );
    let other = ve_crypto::PrivateKey::from_bytes(&[43; 32]).unwrap();
    assert_eq!(
        verify(&node, "portal", b"digest", &other.sign(b"digest")),
        Err(15)
    );
}

#[test]
fn genesis_clients_are_active_from_the_start_and_bad_genesis_is_refused() {
    let k = ed_key(5);
    let g = GenesisClient {
        client_id: "localnet-capture".into(),
        name: "Localnet capture client".into(),
        description: String::new(),
        key_type: "ed25519".into(),
        public_key: hex::encode(k.verifying_key().to_bytes()),
        min_version: String::new(),
        max_version: String::new(),
        allowed_scopes: vec![],
    };
    let (node, _) = chain_with(1, |gen| gen.config.clients = vec![g.clone()]);
    // Genesis is written with the first block.
    let mut node = node;
    node.execute_block(&[]).unwrap();
    assert_eq!(
        client(&node, "localnet-capture").unwrap().status,
        ClientStatus::Active as i32
    );
    assert_eq!(
        verify(&node, "localnet-capture", b"m", &sign(&k, b"m")),
        Ok(1)
    );

    let mut bad = AppGenesis::default();
    bad.config.clients = vec![GenesisClient {
        public_key: "zz".into(),
        ..g.clone()
    }];
    assert!(TestNode::new(&bad).is_err());
    let mut dup = AppGenesis::default();
    dup.config.clients = vec![g.clone(), g];
    assert!(TestNode::new(&dup).is_err());
}
