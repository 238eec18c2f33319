//! Shared fixtures for the identity app tests: a chain with an approved capture client and
//! an identity recipient, signed uploads, requests, consensus results through the system
//! step, wallets and consents.
#![allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

pub use crate::common::*;
pub use ed25519_dalek::Signer;
pub use prost::Message;
pub use std::cell::RefCell;
pub use ve_app::testing::TestNode;
pub use ve_app::AppGenesis;
pub use ve_config::GenesisClient;
pub use ve_crypto::envelope::{seal, RecipientSecretKey};
pub use ve_encryption::GenesisKey;
pub use ve_identity::keeper::{self, VerificationOutcome};
pub use ve_identity::payload::{client_digest, user_digest, UploadSigningInput};
pub use ve_identity::proto::*;
pub use ve_identity::{IdentityGate, IdentityKeeper};
pub use ve_module::Context;
pub use ve_proto::to_any;
pub use ve_types::{AppError, Coin, Coins};

pub const CLIENT: &str = "capture-app";
pub const UPLOAD: &str = "/virtengine.identity.v1.MsgUploadScope";
pub const REVOKE: &str = "/virtengine.identity.v1.MsgRevokeScope";
pub const REQUEST: &str = "/virtengine.identity.v1.MsgRequestVerification";
pub const ID_DOC: i32 = ScopeType::IdDocument as i32;
pub const SELFIE: i32 = ScopeType::Selfie as i32;

pub fn client_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[9; 32])
}

/// The identity recipient (stands in for the validators' enclave keys until issue 5).
pub fn recipient() -> RecipientSecretKey {
    RecipientSecretKey::from_bytes([11; 32])
}

/// Another registered key that is not in the identity recipient set.
pub fn outsider() -> RecipientSecretKey {
    RecipientSecretKey::from_bytes([12; 32])
}

/// users[0] is the admin; users[1] (alice) and users[2] (bob) upload.
pub fn chain_with(edit: impl FnOnce(&mut AppGenesis)) -> (TestNode, Vec<User>) {
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
    genesis.config.params.admins = vec![users[0].address];
    genesis.config.clients = vec![GenesisClient {
        client_id: CLIENT.into(),
        name: "Test capture client".into(),
        description: String::new(),
        key_type: "ed25519".into(),
        public_key: hex::encode(client_key().verifying_key().to_bytes()),
        min_version: String::new(),
        max_version: String::new(),
        allowed_scopes: vec![],
    }];
    for k in [recipient(), outsider()] {
        genesis.encryption.keys.push(GenesisKey {
            address: users[0].address,
            public_key: k.public_key().to_hex(),
            algorithm_id: String::new(),
            label: String::new(),
        });
    }
    genesis.identity.params.recipient_fingerprints = vec![recipient().public_key().fingerprint()];
    edit(&mut genesis);
    let mut node = TestNode::new(&genesis).unwrap();
    node.execute_block(&[]).unwrap();
    (node, users)
}

pub fn chain() -> (TestNode, Vec<User>) {
    chain_with(|_| {})
}

/// A correctly built and signed upload of `scope_id`, salt derived from `salt_seed`.
pub fn upload_msg(u: &User, scope_id: &str, scope_type: i32, salt_seed: u8) -> MsgUploadScope {
    let envelope = seal(
        format!("scope {scope_id}").as_bytes(),
        &[recipient().public_key()],
        None,
    )
    .unwrap();
    let mut msg = MsgUploadScope {
        sender: u.address.to_string(),
        scope_id: scope_id.into(),
        scope_type,
        payload_hash: ve_crypto::sha256(&envelope).to_vec(),
        encrypted_payload: envelope,
        salt: vec![salt_seed; 32],
        device_fingerprint: "device-1".into(),
        client_id: CLIENT.into(),
        client_version: "1.0.0".into(),
        client_signature: vec![],
        user_signature: vec![],
        capture_timestamp: 1_700_000_000,
        geo_hint: String::new(),
    };
    sign_upload(&mut msg, &client_key(), u);
    msg
}

pub fn digest_of(msg: &MsgUploadScope) -> [u8; 32] {
    client_digest(&UploadSigningInput {
        chain_id: ve_app::testing::TEST_CHAIN_ID,
        sender: &msg.sender,
        scope_id: &msg.scope_id,
        scope_type: msg.scope_type,
        salt: &msg.salt,
        device_fingerprint: &msg.device_fingerprint,
        client_id: &msg.client_id,
        client_version: &msg.client_version,
        payload_hash: &msg.payload_hash,
        capture_timestamp: msg.capture_timestamp,
        geo_hint: &msg.geo_hint,
    })
}

/// Client signature, then the user's signature over (client digest, client signature).
pub fn sign_upload(msg: &mut MsgUploadScope, client: &ed25519_dalek::SigningKey, user: &User) {
    let d = digest_of(msg);
    msg.client_signature = client.sign(&d).to_bytes().to_vec();
    msg.user_signature = user
        .key
        .sign(&user_digest(&d, &msg.client_signature))
        .to_vec();
}

pub fn tx<M: Message>(u: &mut User, url: &str, msg: &M) -> Vec<u8> {
    u.sign(vec![to_any(url, msg)], 10_000, 400_000)
}

pub fn block(node: &mut TestNode, txs: &[Vec<u8>]) -> Vec<(u32, String, String)> {
    node.execute_block(txs)
        .unwrap()
        .results()
        .map(|(c, s, l)| (c, s.to_string(), l.to_string()))
        .collect()
}

pub fn ok<M: Message>(node: &mut TestNode, u: &mut User, url: &str, msg: &M) {
    let t = tx(u, url, msg);
    let r = block(node, &[t]);
    assert_eq!(r[0].0, 0, "{:?}", r[0]);
}

/// Expects (codespace, code); stateless refusals leave the sequence unused, so resync.
pub fn refused<M: Message>(
    node: &mut TestNode,
    u: &mut User,
    url: &str,
    msg: &M,
    codespace: &str,
    code: u32,
) -> String {
    let t = tx(u, url, msg);
    let r = block(node, &[t]);
    assert_eq!((r[0].1.as_str(), r[0].0), (codespace, code), "{:?}", r[0]);
    u.sequence = sequence(node, &u.address);
    r[0].2.clone()
}

pub fn query<Req: Message, Resp: Message + Default>(
    node: &TestNode,
    path: &str,
    req: &Req,
) -> Resp {
    let r = node.app().query(path, &req.encode_to_vec(), 0, false);
    assert_eq!(r.code, 0, "{}", r.log);
    Resp::decode(r.value.as_slice()).unwrap()
}

pub fn scope(node: &TestNode, u: &User, id: &str) -> IdentityScope {
    let r: QueryScopeResponse = query(
        node,
        "/virtengine.identity.v1.Query/Scope",
        &QueryScopeRequest {
            account: u.address.to_string(),
            scope_id: id.into(),
        },
    );
    assert!(r.found, "scope {id} not found");
    r.scope.unwrap()
}

pub fn status(node: &TestNode, u: &User, id: &str) -> VerificationStatus {
    VerificationStatus::try_from(scope(node, u, id).status).unwrap()
}

pub fn score(node: &TestNode, u: &User) -> QueryScoreResponse {
    query(
        node,
        "/virtengine.identity.v1.Query/Score",
        &QueryScoreRequest {
            account: u.address.to_string(),
        },
    )
}

pub fn pending_requests(node: &TestNode, account: &str) -> Vec<VerificationRequest> {
    let r: QueryPendingRequestsResponse = query(
        node,
        "/virtengine.identity.v1.Query/PendingRequests",
        &QueryPendingRequestsRequest {
            account: account.into(),
            pagination: None,
        },
    );
    r.requests
}

pub fn request_all(node: &mut TestNode, u: &mut User) -> String {
    let msg = MsgRequestVerification {
        sender: u.address.to_string(),
        scope_ids: vec![],
    };
    let out = node.execute_block(&[tx(u, REQUEST, &msg)]).unwrap();
    assert_eq!(
        out.results().next().unwrap().0,
        0,
        "{:?}",
        out.results().next()
    );
    let reqs = pending_requests(node, &u.address.to_string());
    reqs.last().unwrap().request_id.clone()
}

/// Runs `f` as the block's system step (where consensus results will apply).
pub fn system(node: &mut TestNode, f: impl Fn(&mut Context<'_>) -> Result<(), AppError>) {
    node.execute_block_with_system(&[], &f).unwrap();
}

pub fn complete(node: &mut TestNode, request_id: &str, score: u32) {
    let outcome = VerificationOutcome {
        score,
        model_version: "test-model-1".into(),
        input_hash: vec![7; 32],
        failed_scopes: vec![],
        reason_codes: vec!["SUCCESS".into()],
    };
    system(node, |ctx| {
        keeper::complete_request(ctx, request_id, &outcome).map(|_| ())
    });
}

/// Alice uploads a document and a selfie and requests verification.
pub fn onboard(node: &mut TestNode, users: &mut [User]) -> String {
    let a = &mut users[1];
    let t1 = tx(a, UPLOAD, &upload_msg(a, "doc-1", ID_DOC, 1));
    let t2 = tx(a, UPLOAD, &upload_msg(a, "selfie-1", SELFIE, 2));
    let r = block(node, &[t1, t2]);
    assert!(r.iter().all(|x| x.0 == 0), "{r:?}");
    // The selfie is biometric: it needs a wallet and an explicit consent.
    let w = create_wallet_msg(a, &binding_key(1));
    let t3 = tx(a, CREATE_WALLET, &w);
    let t4 = tx(a, GRANT_CONSENT, &consent_msg(a, "selfie-1"));
    let r = block(node, &[t3, t4]);
    assert!(r.iter().all(|x| x.0 == 0), "{r:?}");
    request_all(node, a)
}

pub const CREATE_WALLET: &str = "/virtengine.identity.v1.MsgCreateIdentityWallet";
pub const REBIND_WALLET: &str = "/virtengine.identity.v1.MsgRebindWallet";
pub const UPDATE_CONSENT_SETTINGS: &str = "/virtengine.identity.v1.MsgUpdateConsentSettings";
pub const GRANT_CONSENT: &str = "/virtengine.identity.v1.MsgGrantScopeConsent";
pub const REVOKE_CONSENT: &str = "/virtengine.identity.v1.MsgRevokeScopeConsent";
pub const COMPLETE_FALLBACK: &str = "/virtengine.identity.v1.MsgCompleteBorderlineFallback";
pub const SUBMIT_APPEAL: &str = "/virtengine.identity.v1.MsgSubmitAppeal";
pub const REVIEW_APPEAL: &str = "/virtengine.identity.v1.MsgReviewAppeal";

/// A wallet binding key (Ed25519) from a seed byte.
pub fn binding_key(seed: u8) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[seed.wrapping_add(100); 32])
}

/// MsgCreateIdentityWallet with a binding signature over the documented digest.
pub fn create_wallet_msg(u: &User, key: &ed25519_dalek::SigningKey) -> MsgCreateIdentityWallet {
    let addr = u.address.to_string();
    let pk = key.verifying_key().to_bytes();
    let d = ve_identity::payload::binding_digest(
        ve_app::testing::TEST_CHAIN_ID,
        &addr,
        &ve_identity::payload::wallet_id(&addr),
        &pk,
        0,
    );
    MsgCreateIdentityWallet {
        sender: addr,
        binding_pub_key: pk.to_vec(),
        binding_signature: key.sign(&d).to_bytes().to_vec(),
        consent_settings: None,
    }
}

pub fn consent_msg(u: &User, scope_id: &str) -> MsgGrantScopeConsent {
    MsgGrantScopeConsent {
        sender: u.address.to_string(),
        scope_id: scope_id.into(),
        purpose: "identity verification".into(),
        expires_at: 0,
    }
}
