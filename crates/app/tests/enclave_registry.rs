//! enclave registry through mock consensus: validator operators register enclaves whose
//! attestation binds their keys and whose measurement is allow-listed; the active key set
//! and enclave signature verification follow registration, expiry, re-attestation and
//! key rotation with overlap.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use prost::Message;
use ve_app::testing::TestNode;
use ve_app::AppGenesis;
use ve_attestation::{key_binding, simulated};
use ve_enclave_registry::proto::*;
use ve_enclave_registry::GenesisMeasurement;
use ve_module::ReadOnly;
use ve_proto::to_any;
use ve_types::{Address, Coin, Coins};

const REGISTER: &str = "/virtengine.enclave.v1.MsgRegisterEnclaveIdentity";
const REATTEST: &str = "/virtengine.enclave.v1.MsgReattest";
const ROTATE: &str = "/virtengine.enclave.v1.MsgRotateEnclaveKeys";
const ADD_MEASUREMENT: &str = "/virtengine.enclave.v1.MsgAddMeasurement";
const E_FEE: u128 = 100_000;
const E_GAS: u64 = 2_000_000;
const SGX_QUOTE: &[u8] = include_bytes!("../../attestation/testdata/sgx_dcap_quote_v3.bin");
const SGX_MRENCLAVE: &str = "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb";

fn platform_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[0x51; 32])
}

const GOOD_BUILD: [u8; 32] = [0xA1; 32];
const OTHER_BUILD: [u8; 32] = [0xB2; 32];

/// users[0] and users[2] are validator operators; users[1] is not.
fn chain_with(edit: impl FnOnce(&mut AppGenesis)) -> (TestNode, Vec<User>) {
    let mut genesis = AppGenesis::default();
    let users: Vec<User> = (0..3u8)
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
    let p = &mut genesis.enclave.params;
    p.validator_operators = vec![users[0].address, users[2].address];
    p.allow_simulated = true;
    p.simulated_platform_key = hex::encode(platform_key().verifying_key().to_bytes());
    p.identity_validity_blocks = 50;
    p.key_rotation_overlap_blocks = 5;
    genesis.enclave.measurements = vec![
        GenesisMeasurement {
            platform: "simulated".into(),
            measurement: hex::encode(GOOD_BUILD),
            description: "scoring enclave v1 (simulated)".into(),
        },
        GenesisMeasurement {
            platform: "sgx".into(),
            measurement: SGX_MRENCLAVE.into(),
            description: "the dcap-qvl sample enclave".into(),
        },
    ];
    edit(&mut genesis);
    (TestNode::new(&genesis).unwrap(), users)
}

/// An enclave's key pair: X25519 public key bytes and the Ed25519 signing key.
struct EnclaveKeys {
    x25519: [u8; 32],
    signing: ed25519_dalek::SigningKey,
}

impl EnclaveKeys {
    fn new(seed: u8) -> Self {
        let secret = crypto_box_public(seed);
        Self {
            x25519: secret,
            signing: ed25519_dalek::SigningKey::from_bytes(&[seed.wrapping_add(100); 32]),
        }
    }
    fn ed(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }
    fn report(&self, measurement: &[u8; 32]) -> Vec<u8> {
        simulated::sign(
            &platform_key(),
            measurement,
            &key_binding(&self.x25519, &self.ed()),
        )
    }
}

/// A deterministic X25519 public key (an envelope recipient key, as the enclave holds).
fn crypto_box_public(seed: u8) -> [u8; 32] {
    *ve_crypto::envelope::RecipientSecretKey::from_bytes([seed; 32])
        .public_key()
        .as_bytes()
}

fn register_msg(
    u: &User,
    k: &EnclaveKeys,
    platform: Platform,
    report: Vec<u8>,
) -> MsgRegisterEnclaveIdentity {
    MsgRegisterEnclaveIdentity {
        validator: u.address.to_string(),
        platform: platform as i32,
        x25519_public_key: k.x25519.to_vec(),
        ed25519_public_key: k.ed().to_vec(),
        attestation_report: report,
        attestation_chain: vec![],
    }
}

fn tx<M: Message>(u: &mut User, url: &str, msg: &M) -> Vec<u8> {
    u.sign(vec![to_any(url, msg)], E_FEE, E_GAS)
}

fn run(node: &mut TestNode, tx: Vec<u8>) -> (u32, String, String) {
    let out = node.execute_block(&[tx]).unwrap();
    let r = out
        .results()
        .next()
        .map(|(c, s, l)| (c, s.to_string(), l.to_string()));
    r.unwrap()
}

fn ok(node: &mut TestNode, tx: Vec<u8>) {
    let r = run(node, tx);
    assert_eq!(r.0, 0, "{r:?}");
}

fn refused(node: &mut TestNode, tx: Vec<u8>, code: u32) -> String {
    let r = run(node, tx);
    assert_eq!((r.0, r.1.as_str()), (code, "enclave"), "{r:?}");
    r.2
}

fn active_keys(node: &TestNode) -> Vec<ActiveEnclaveKey> {
    let r = node.app().query(
        "/virtengine.enclave.v1.Query/ActiveEnclaveKeys",
        &QueryActiveEnclaveKeysRequest {}.encode_to_vec(),
        0,
        false,
    );
    assert_eq!(r.code, 0, "{}", r.log);
    QueryActiveEnclaveKeysResponse::decode(r.value.as_slice())
        .unwrap()
        .keys
}

/// What a vote-extension verifier asks at the next block's height.
fn signed_by_enclave(node: &TestNode, v: &Address, msg: &[u8], sig: &[u8]) -> bool {
    let snap = node.app().storage().latest_snapshot();
    ve_enclave_registry::verify_enclave_signature(
        &mut ReadOnly(&snap),
        node.height() + 1,
        v,
        msg,
        sig,
    )
    .unwrap()
}

fn sign(k: &EnclaveKeys, msg: &[u8]) -> Vec<u8> {
    use ed25519_dalek::Signer;
    k.signing.sign(msg).to_bytes().to_vec()
}

#[test]
fn operator_registers_an_attested_enclave_and_it_joins_the_active_key_set() {
    let (mut node, mut users) = chain_with(|_| {});
    let k = EnclaveKeys::new(1);
    let msg = register_msg(&users[0], &k, Platform::Simulated, k.report(&GOOD_BUILD));
    ok(&mut node, tx(&mut users[0], REGISTER, &msg));

    let keys = active_keys(&node);
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].validator, users[0].address.to_string());
    assert_eq!(keys[0].x25519_public_key, k.x25519.to_vec());
    assert_eq!(keys[0].ed25519_public_key, k.ed().to_vec());
    assert_eq!(keys[0].measurement, GOOD_BUILD.to_vec());

    let payload = b"vote extension payload";
    assert!(signed_by_enclave(
        &node,
        &users[0].address,
        payload,
        &sign(&k, payload)
    ));
    // A forged signature: another key signs, or the message differs.
    let forger = EnclaveKeys::new(9);
    assert!(!signed_by_enclave(
        &node,
        &users[0].address,
        payload,
        &sign(&forger, payload)
    ));
    assert!(!signed_by_enclave(
        &node,
        &users[0].address,
        b"other",
        &sign(&k, payload)
    ));
    // A validator without an enclave verifies nothing.
    assert!(!signed_by_enclave(
        &node,
        &users[2].address,
        payload,
        &sign(&k, payload)
    ));

    // Registering twice is refused: re-attest or rotate instead.
    let again = register_msg(
        &users[0],
        &EnclaveKeys::new(2),
        Platform::Simulated,
        EnclaveKeys::new(2).report(&GOOD_BUILD),
    );
    refused(&mut node, tx(&mut users[0], REGISTER, &again), 6);
}

#[test]
fn measurement_not_on_the_allow_list_is_refused_at_registration() {
    let (mut node, mut users) = chain_with(|_| {});
    let k = EnclaveKeys::new(1);
    let msg = register_msg(&users[0], &k, Platform::Simulated, k.report(&OTHER_BUILD));
    let log = refused(&mut node, tx(&mut users[0], REGISTER, &msg), 12);
    assert!(log.contains(&hex::encode(OTHER_BUILD)), "{log}");
    assert!(active_keys(&node).is_empty());
}

#[test]
fn simulated_report_is_refused_when_allow_simulated_is_false() {
    let (mut node, mut users) = chain_with(|g| g.enclave.params.allow_simulated = false);
    let k = EnclaveKeys::new(1);
    let msg = register_msg(&users[0], &k, Platform::Simulated, k.report(&GOOD_BUILD));
    let log = refused(&mut node, tx(&mut users[0], REGISTER, &msg), 9);
    assert!(log.contains("simulated attestation is disabled"), "{log}");
}

#[test]
fn report_that_binds_other_keys_or_is_forged_is_refused() {
    let (mut node, mut users) = chain_with(|_| {});
    let k = EnclaveKeys::new(1);
    // The report binds another enclave's keys.
    let other = EnclaveKeys::new(2);
    let msg = register_msg(
        &users[0],
        &k,
        Platform::Simulated,
        other.report(&GOOD_BUILD),
    );
    refused(&mut node, tx(&mut users[0], REGISTER, &msg), 11);
    // Signed by a key that is not the simulated platform key.
    let forged = simulated::sign(
        &ed25519_dalek::SigningKey::from_bytes(&[0x77; 32]),
        &GOOD_BUILD,
        &key_binding(&k.x25519, &k.ed()),
    );
    let msg = register_msg(&users[0], &k, Platform::Simulated, forged);
    refused(&mut node, tx(&mut users[0], REGISTER, &msg), 9);
}

#[test]
fn only_validator_operators_register_and_only_authorities_change_the_allow_list() {
    let (mut node, mut users) = chain_with(|_| {});
    let k = EnclaveKeys::new(1);
    let msg = register_msg(&users[1], &k, Platform::Simulated, k.report(&GOOD_BUILD));
    refused(&mut node, tx(&mut users[1], REGISTER, &msg), 2);
    let add = MsgAddMeasurement {
        authority: users[1].address.to_string(),
        platform: Platform::Simulated as i32,
        measurement: OTHER_BUILD.to_vec(),
        description: "not mine to add".into(),
    };
    refused(&mut node, tx(&mut users[1], ADD_MEASUREMENT, &add), 3);
}

#[test]
fn real_sgx_quote_is_verified_at_block_time_and_refused_for_not_binding_the_keys() {
    // The dcap-qvl sample quote verifies up to the Intel root at the harness's block time
    // (Nov 2023, inside its PCK validity) and its MRENCLAVE is allow-listed above, but its
    // report data binds no VirtEngine keys: registration must stop exactly there.
    let (mut node, mut users) = chain_with(|_| {});
    let k = EnclaveKeys::new(1);
    let msg = register_msg(&users[0], &k, Platform::Sgx, SGX_QUOTE.to_vec());
    refused(&mut node, tx(&mut users[0], REGISTER, &msg), 11);
    // A quote with one flipped byte in the signed report body fails verification itself.
    let mut bad = SGX_QUOTE.to_vec();
    bad[200] ^= 1;
    let msg = register_msg(&users[0], &k, Platform::Sgx, bad);
    refused(&mut node, tx(&mut users[0], REGISTER, &msg), 9);
}

#[test]
fn identity_expires_without_reattestation_and_reattesting_restores_it() {
    let (mut node, mut users) = chain_with(|g| {
        g.enclave.params.identity_validity_blocks = 4;
        g.enclave.params.key_rotation_overlap_blocks = 2;
    });
    let k = EnclaveKeys::new(1);
    let msg = register_msg(&users[0], &k, Platform::Simulated, k.report(&GOOD_BUILD));
    ok(&mut node, tx(&mut users[0], REGISTER, &msg));
    let payload = b"result";
    assert!(signed_by_enclave(
        &node,
        &users[0].address,
        payload,
        &sign(&k, payload)
    ));
    let h = node.height();
    node.advance_to(h + 4).unwrap();
    assert!(active_keys(&node).is_empty());
    assert!(!signed_by_enclave(
        &node,
        &users[0].address,
        payload,
        &sign(&k, payload)
    ));

    let re = MsgReattest {
        validator: users[0].address.to_string(),
        platform: Platform::Simulated as i32,
        attestation_report: k.report(&GOOD_BUILD),
        attestation_chain: vec![],
    };
    ok(&mut node, tx(&mut users[0], REATTEST, &re));
    assert_eq!(active_keys(&node).len(), 1);
    assert!(signed_by_enclave(
        &node,
        &users[0].address,
        payload,
        &sign(&k, payload)
    ));
    // A re-attestation must bind the registered keys.
    let other = EnclaveKeys::new(3);
    let re = MsgReattest {
        attestation_report: other.report(&GOOD_BUILD),
        ..re
    };
    refused(&mut node, tx(&mut users[0], REATTEST, &re), 11);
}

#[test]
fn rotated_out_key_still_verifies_during_the_overlap_and_not_after() {
    let (mut node, mut users) = chain_with(|_| {});
    let old = EnclaveKeys::new(1);
    let msg = register_msg(
        &users[0],
        &old,
        Platform::Simulated,
        old.report(&GOOD_BUILD),
    );
    ok(&mut node, tx(&mut users[0], REGISTER, &msg));

    let new = EnclaveKeys::new(2);
    let rotate = MsgRotateEnclaveKeys {
        validator: users[0].address.to_string(),
        platform: Platform::Simulated as i32,
        new_x25519_public_key: new.x25519.to_vec(),
        new_ed25519_public_key: new.ed().to_vec(),
        attestation_report: new.report(&GOOD_BUILD),
        attestation_chain: vec![],
        overlap_blocks: 3,
    };
    ok(&mut node, tx(&mut users[0], ROTATE, &rotate));
    let rotated_at = node.height();

    let keys = active_keys(&node);
    assert_eq!(keys[0].x25519_public_key, new.x25519.to_vec());
    assert_eq!(keys[0].previous_x25519_public_key, old.x25519.to_vec());
    let p = b"payload";
    assert!(signed_by_enclave(
        &node,
        &users[0].address,
        p,
        &sign(&new, p)
    ));
    assert!(signed_by_enclave(
        &node,
        &users[0].address,
        p,
        &sign(&old, p)
    ));

    node.advance_to(rotated_at + 3).unwrap();
    assert!(signed_by_enclave(
        &node,
        &users[0].address,
        p,
        &sign(&new, p)
    ));
    assert!(!signed_by_enclave(
        &node,
        &users[0].address,
        p,
        &sign(&old, p)
    ));
    assert!(active_keys(&node)[0].previous_x25519_public_key.is_empty());

    // Another validator cannot take over the retired or the current X25519 key.
    let stolen = EnclaveKeys {
        x25519: new.x25519,
        signing: ed25519_dalek::SigningKey::from_bytes(&[0x33; 32]),
    };
    let msg = register_msg(
        &users[2],
        &stolen,
        Platform::Simulated,
        stolen.report(&GOOD_BUILD),
    );
    refused(&mut node, tx(&mut users[2], REGISTER, &msg), 8);
}

#[test]
fn identity_uploads_must_be_sealed_to_the_active_enclave_keys_once_an_enclave_is_registered() {
    let enclave = EnclaveKeys::new(1);
    let enclave_recipient = ve_crypto::envelope::RecipientSecretKey::from_bytes([1; 32]);
    let (mut node, mut users) = chain_with(|g| {
        let owner = User::new(1, FIRST_USER_NUMBER).address;
        veid::add_identity_setup(g, owner);
        // The enclave's X25519 key is a usable recipient in the encryption registry.
        g.encryption.keys.push(ve_encryption::GenesisKey {
            address: owner,
            public_key: enclave_recipient.public_key().to_hex(),
            algorithm_id: String::new(),
            label: "enclave".into(),
        });
    });
    let params_key = veid::identity_recipient().public_key();
    let upload = |u: &mut User, id: &str, salt: u8, to: &[_]| {
        let msg = veid::upload_to(u, id, b"document", [salt; 32], to);
        u.sign(vec![msg], E_FEE, E_GAS)
    };

    // No enclave yet: the params list (the genesis identity recipient) is the set.
    let t = upload(&mut users[1], "doc-1", 1, std::slice::from_ref(&params_key));
    ok(&mut node, t);

    // Once users[0]'s enclave is active, its key is the set: the params key alone is
    // refused (identity 12, recipient missing), the enclave key is accepted.
    let msg = register_msg(
        &users[0],
        &enclave,
        Platform::Simulated,
        enclave.report(&GOOD_BUILD),
    );
    ok(&mut node, tx(&mut users[0], REGISTER, &msg));
    assert_eq!(active_keys(&node).len(), 1);
    let t = upload(&mut users[1], "doc-2", 2, std::slice::from_ref(&params_key));
    let r = run(&mut node, t);
    assert_eq!((r.0, r.1.as_str()), (12, "identity"), "{r:?}");
    assert!(
        r.2.contains(&enclave_recipient.public_key().fingerprint()),
        "{r:?}"
    );
    users[1].sequence = sequence(&node, &users[1].address);
    let t = upload(&mut users[1], "doc-3", 3, &[enclave_recipient.public_key()]);
    ok(&mut node, t);
}
