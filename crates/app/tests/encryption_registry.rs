//! encryption module through mock consensus: registering, rotating, revoking and expiring
//! recipient keys, and validating envelopes against the registry at a height.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use prost::Message;
use ve_app::testing::TestNode;
use ve_app::AppGenesis;
use ve_crypto::envelope::{seal, RecipientSecretKey, SenderSigningKey};
use ve_encryption::proto::*;
use ve_proto::to_any;
use ve_types::{Coin, Coins};

const OVERLAP: u64 = 3;

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
    genesis.encryption.params.rotation_overlap_blocks = OVERLAP;
    edit(&mut genesis);
    (TestNode::new(&genesis).unwrap(), users)
}

fn key(seed: u8) -> RecipientSecretKey {
    RecipientSecretKey::from_bytes([seed; 32])
}

fn register(u: &mut User, k: &RecipientSecretKey, label: &str) -> Vec<u8> {
    let msg = MsgRegisterRecipientKey {
        sender: u.address.to_string(),
        public_key: k.public_key().as_bytes().to_vec(),
        algorithm_id: String::new(),
        label: label.into(),
    };
    u.sign(
        vec![to_any(
            "/virtengine.encryption.v1.MsgRegisterRecipientKey",
            &msg,
        )],
        FEE,
        GAS,
    )
}

fn rotate(u: &mut User, old: &RecipientSecretKey, new: &RecipientSecretKey) -> Vec<u8> {
    let msg = MsgRotateRecipientKey {
        sender: u.address.to_string(),
        old_fingerprint: old.public_key().fingerprint(),
        new_public_key: new.public_key().as_bytes().to_vec(),
        new_algorithm_id: String::new(),
        new_label: "rotated".into(),
    };
    u.sign(
        vec![to_any(
            "/virtengine.encryption.v1.MsgRotateRecipientKey",
            &msg,
        )],
        FEE,
        GAS,
    )
}

fn revoke(u: &mut User, k: &RecipientSecretKey) -> Vec<u8> {
    let msg = MsgRevokeRecipientKey {
        sender: u.address.to_string(),
        fingerprint: k.public_key().fingerprint(),
    };
    u.sign(
        vec![to_any(
            "/virtengine.encryption.v1.MsgRevokeRecipientKey",
            &msg,
        )],
        FEE,
        GAS,
    )
}

/// Executes one block of `txs` and returns each (code, codespace, log).
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

fn query<Req: Message, Resp: Message + Default>(
    node: &TestNode,
    path: &str,
    req: &Req,
) -> Result<Resp, (u32, String)> {
    let r = node.app().query(path, &req.encode_to_vec(), 0, false);
    if r.code != 0 {
        return Err((r.code, r.log));
    }
    Ok(Resp::decode(r.value.as_slice()).unwrap())
}

fn key_record(node: &TestNode, k: &RecipientSecretKey) -> (RecipientKeyRecord, bool) {
    let r: QueryKeyByFingerprintResponse = query(
        node,
        "/virtengine.encryption.v1.Query/KeyByFingerprint",
        &QueryKeyByFingerprintRequest {
            fingerprint: k.public_key().fingerprint(),
        },
    )
    .unwrap();
    (r.key.unwrap(), r.usable)
}

fn validate(node: &TestNode, envelope: &[u8]) -> QueryValidateEnvelopeResponse {
    query(
        node,
        "/virtengine.encryption.v1.Query/ValidateEnvelope",
        &QueryValidateEnvelopeRequest {
            envelope: envelope.to_vec(),
        },
    )
    .unwrap()
}

#[test]
fn registered_key_is_queryable_by_account_and_fingerprint() {
    let (mut node, mut users) = chain_with(1, |_| {});
    let k = key(1);
    ok(&mut node, register(&mut users[0], &k, "laptop"));
    let (r, usable) = key_record(&node, &k);
    assert!(usable);
    assert_eq!(r.address, users[0].address.to_string());
    assert_eq!(r.public_key, k.public_key().as_bytes().to_vec());
    assert_eq!(r.fingerprint, k.public_key().fingerprint());
    assert_eq!(r.algorithm_id, "X25519-XSALSA20-POLY1305");
    assert_eq!((r.key_version, r.label.as_str()), (1, "laptop"));
    assert_eq!(r.status, KeyStatus::Active as i32);

    ok(&mut node, register(&mut users[0], &key(2), "phone"));
    let list: QueryKeysByAccountResponse = query(
        &node,
        "/virtengine.encryption.v1.Query/KeysByAccount",
        &QueryKeysByAccountRequest {
            address: users[0].address.to_string(),
            pagination: None,
        },
    )
    .unwrap();
    let mut versions: Vec<u64> = list.keys.iter().map(|k| k.key_version).collect();
    versions.sort();
    assert_eq!(versions, vec![1, 2]);
}

#[test]
fn duplicate_and_weak_keys_and_too_many_keys_are_refused_with_codes() {
    let (mut node, mut users) = chain_with(2, |g| g.encryption.params.max_keys_per_account = 2);
    ok(&mut node, register(&mut users[0], &key(1), ""));
    // The same key by another account: fingerprints are globally unique.
    let r = block(&mut node, &[register(&mut users[1], &key(1), "")]);
    assert_eq!((r[0].0, r[0].1.as_str()), (5, "encryption"), "{:?}", r[0]);
    ok(&mut node, register(&mut users[0], &key(2), ""));
    let r = block(&mut node, &[register(&mut users[0], &key(3), "")]);
    assert_eq!((r[0].0, r[0].1.as_str()), (6, "encryption"), "{:?}", r[0]);
    // A zero key is a low-order point.
    let msg = MsgRegisterRecipientKey {
        sender: users[1].address.to_string(),
        public_key: vec![0; 32],
        ..Default::default()
    };
    let tx = users[1].sign(
        vec![to_any(
            "/virtengine.encryption.v1.MsgRegisterRecipientKey",
            &msg,
        )],
        FEE,
        GAS,
    );
    let r = block(&mut node, &[tx]);
    assert_eq!((r[0].0, r[0].1.as_str()), (2, "encryption"), "{:?}", r[0]);
    // Wrong length.
    let msg = MsgRegisterRecipientKey {
        sender: users[1].address.to_string(),
        public_key: vec![7; 31],
        ..Default::default()
    };
    let tx = users[1].sign(
        vec![to_any(
            "/virtengine.encryption.v1.MsgRegisterRecipientKey",
            &msg,
        )],
        FEE,
        GAS,
    );
    let r = block(&mut node, &[tx]);
    assert_eq!(r[0].0, 2, "{:?}", r[0]);
    assert!(r[0].2.contains("must be 32 bytes"), "{}", r[0].2);
}

#[test]
fn rotation_keeps_both_keys_usable_until_overlap_end_then_old_expires() {
    let (mut node, mut users) = chain_with(1, |_| {});
    let (old, new) = (key(1), key(2));
    ok(&mut node, register(&mut users[0], &old, ""));
    let to_old = seal(b"old", &[old.public_key()], None).unwrap();

    ok(&mut node, rotate(&mut users[0], &old, &new));
    let rotated_at = node.height();
    let (r, usable) = key_record(&node, &old);
    assert!(usable);
    assert_eq!(r.expires_at, rotated_at + OVERLAP);
    assert_eq!(r.rotated_to, new.public_key().fingerprint());
    assert!(key_record(&node, &new).1);
    let both = seal(b"both", &[old.public_key(), new.public_key()], None).unwrap();
    assert!(validate(&node, &both).valid);

    // Last height of the overlap: both still usable.
    node.advance_to(rotated_at + OVERLAP - 1).unwrap();
    assert!(key_record(&node, &old).1);
    assert!(validate(&node, &both).valid);

    // Overlap end: the end-block expires the old key.
    node.advance_to(rotated_at + OVERLAP).unwrap();
    let (r, usable) = key_record(&node, &old);
    assert!(!usable);
    assert_eq!(r.status, KeyStatus::Expired as i32);
    assert!(key_record(&node, &new).1);
    let v = validate(&node, &to_old);
    assert!(!v.valid);
    assert_eq!(v.missing_keys, vec![old.public_key().fingerprint()]);
    let v = validate(&node, &both);
    assert_eq!(v.missing_keys, vec![old.public_key().fingerprint()]);

    // An expired key can be neither rotated nor revoked.
    let r = block(&mut node, &[revoke(&mut users[0], &old)]);
    assert_eq!((r[0].0, r[0].1.as_str()), (9, "encryption"), "{:?}", r[0]);
}

#[test]
fn expiry_work_per_block_is_bounded_and_resumes() {
    let (mut node, mut users) = chain_with(3, |g| g.encryption.params.max_expiries_per_block = 1);
    for (i, u) in users.iter_mut().enumerate() {
        let seed = u8::try_from(i).unwrap() * 2 + 1;
        ok(&mut node, register(u, &key(seed), ""));
    }
    let txs: Vec<Vec<u8>> = users
        .iter_mut()
        .enumerate()
        .map(|(i, u)| {
            let seed = u8::try_from(i).unwrap() * 2 + 1;
            rotate(u, &key(seed), &key(seed + 1))
        })
        .collect();
    assert!(block(&mut node, &txs).iter().all(|r| r.0 == 0));
    let due = node.height() + OVERLAP;
    node.advance_to(due - 1).unwrap();
    let mut expired_per_block = Vec::new();
    for _ in 0..4 {
        let out = node.execute_block(&[]).unwrap();
        expired_per_block.push(
            out.events
                .iter()
                .filter(|e| e.kind == ve_encryption::events::KEY_EXPIRED)
                .count(),
        );
    }
    assert_eq!(expired_per_block, vec![1, 1, 1, 0]);
    // Usability never depended on the queue: all three old keys were unusable from `due`.
    for seed in [1, 3, 5] {
        assert!(!key_record(&node, &key(seed)).1);
    }
}

#[test]
fn revoked_key_is_unusable_and_cannot_be_revoked_twice() {
    let (mut node, mut users) = chain_with(2, |_| {});
    let k = key(1);
    ok(&mut node, register(&mut users[0], &k, ""));
    let env = seal(b"x", &[k.public_key()], None).unwrap();
    assert!(validate(&node, &env).valid);
    // Only the owner may revoke.
    let msg = MsgRevokeRecipientKey {
        sender: users[1].address.to_string(),
        fingerprint: k.public_key().fingerprint(),
    };
    let tx = users[1].sign(
        vec![to_any(
            "/virtengine.encryption.v1.MsgRevokeRecipientKey",
            &msg,
        )],
        FEE,
        GAS,
    );
    let r = block(&mut node, &[tx]);
    assert_eq!(r[0].0, 8, "{:?}", r[0]);

    ok(&mut node, revoke(&mut users[0], &k));
    let (r, usable) = key_record(&node, &k);
    assert!(!usable);
    assert_eq!(r.status, KeyStatus::Revoked as i32);
    assert_eq!(r.revoked_at, node.height());
    let v = validate(&node, &env);
    assert!(!v.valid);
    assert_eq!(v.code, 13);
    let r = block(&mut node, &[revoke(&mut users[0], &k)]);
    assert_eq!((r[0].0, r[0].1.as_str()), (9, "encryption"), "{:?}", r[0]);
    // A revoked key's fingerprint stays taken.
    let r = block(&mut node, &[register(&mut users[0], &k, "")]);
    assert_eq!(r[0].0, 5, "{:?}", r[0]);
}

#[test]
fn envelope_validation_checks_registry_params_and_format() {
    let (mut node, mut users) = chain_with(1, |g| {
        g.encryption.params.max_recipients_per_envelope = 2;
    });
    let (a, b, stranger) = (key(1), key(2), key(9));
    ok(&mut node, register(&mut users[0], &a, ""));
    ok(&mut node, register(&mut users[0], &b, ""));

    let signer = SenderSigningKey::from_bytes(&[5; 32]);
    let env = seal(b"scope", &[a.public_key(), b.public_key()], Some(&signer)).unwrap();
    let v = validate(&node, &env);
    assert!(v.valid, "{}", v.error);
    assert_eq!((v.recipient_count, v.signed), (2, true));
    assert_eq!(v.algorithm_id, "X25519-XSALSA20-POLY1305");

    let unknown = seal(b"scope", &[a.public_key(), stranger.public_key()], None).unwrap();
    let v = validate(&node, &unknown);
    assert!(!v.valid);
    assert_eq!(v.missing_keys, vec![stranger.public_key().fingerprint()]);

    let three = seal(
        b"scope",
        &[a.public_key(), b.public_key(), stranger.public_key()],
        None,
    )
    .unwrap();
    let v = validate(&node, &three);
    assert_eq!((v.valid, v.code), (false, 17), "{}", v.error);

    let v = validate(&node, &env[..env.len() - 1]);
    assert!(!v.valid);
    assert!(
        v.code > 100,
        "format errors are 100 + envelope code: {}",
        v.code
    );
    let v = validate(&node, b"");
    assert_eq!(v.code, 101);
}

#[test]
fn genesis_keys_and_mixed_case_algorithm_ids_are_imported() {
    let k = key(4);
    let (mut node, users) = chain_with(1, |g| {
        g.encryption.params.allowed_algorithms = vec!["X25519-XSalsa20-Poly1305".into()];
        g.encryption.keys.push(ve_encryption::GenesisKey {
            address: ve_crypto::PrivateKey::from_bytes(&[1; 32])
                .unwrap()
                .public_key()
                .address(),
            public_key: k.public_key().to_hex(),
            algorithm_id: String::new(),
            label: "genesis".into(),
        });
    });
    // Genesis state becomes queryable once the first block commits it.
    node.execute_block(&[]).unwrap();
    let (r, usable) = key_record(&node, &k);
    assert!(usable);
    assert_eq!(r.address, users[0].address.to_string());
    let p: QueryParamsResponse = query(
        &node,
        "/virtengine.encryption.v1.Query/Params",
        &QueryParamsRequest {},
    )
    .unwrap();
    assert_eq!(
        p.params.unwrap().allowed_algorithms,
        vec!["X25519-XSALSA20-POLY1305"]
    );
}

#[test]
fn invalid_genesis_is_refused() {
    let mut g = AppGenesis::default();
    g.encryption.params.allowed_algorithms = vec!["ML-KEM-768".into()];
    assert!(g.validate().unwrap_err().contains("reserved"));
    let mut g = AppGenesis::default();
    g.encryption.keys.push(ve_encryption::GenesisKey {
        address: ve_crypto::PrivateKey::from_bytes(&[1; 32])
            .unwrap()
            .public_key()
            .address(),
        public_key: "00".repeat(31),
        algorithm_id: String::new(),
        label: String::new(),
    });
    assert!(g.validate().is_err());
}
