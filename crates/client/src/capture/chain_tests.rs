//! The library against the real application (mock consensus, `ve_app::testing`): uploads
//! built here are executed by the identity module with the config registry, the
//! encryption registry and auth behind it, exactly as on a node.

use cosmos_sdk_proto::cosmos::auth::v1beta1::{QueryAccountRequest, QueryAccountResponse};
use prost::Message;
use ve_app::testing::{TestNode, TEST_CHAIN_ID};
use ve_app::AppGenesis;
use ve_crypto::envelope::{fingerprint, RecipientPublicKey, RecipientSecretKey};
use ve_crypto::PrivateKey;
use ve_proto::virtengine::encryption::v1 as enc;
use ve_proto::virtengine::identity::v1 as id;
use ve_proto::Any;
use ve_types::{Address, Coin, Coins};

use super::image::check_image;
use super::image::tests::{JPEG, PNG};
use super::*;
use crate::tx::TxBuilder;

const CLIENT_ID: &str = "localnet-capture";

fn recipients() -> [RecipientSecretKey; 2] {
    [
        RecipientSecretKey::from_bytes([31; 32]),
        RecipientSecretKey::from_bytes([32; 32]),
    ]
}

struct Chain {
    node: TestNode,
    user: PrivateKey,
    number: u64,
    sequence: u64,
    client: ClientKey,
}

impl Chain {
    fn new(client: ClientKey) -> Self {
        let user = PrivateKey::from_bytes(&[41; 32]).unwrap();
        let owner = PrivateKey::from_bytes(&[42; 32])
            .unwrap()
            .public_key()
            .address();
        let mut g = AppGenesis::default();
        let coins = Coins::from_list([Coin::new("uve", 1_000_000_000)]).unwrap();
        g.add_account(user.public_key().address(), &coins).unwrap();
        g.add_account(owner, &coins).unwrap();
        g.config.clients.push(ve_config::GenesisClient {
            client_id: client.client_id.clone(),
            name: "capture library test client".into(),
            description: String::new(),
            key_type: client.key_type().into(),
            public_key: client.public_key_hex(),
            min_version: String::new(),
            max_version: String::new(),
            allowed_scopes: vec![],
        });
        for k in recipients() {
            g.encryption.keys.push(ve_encryption::GenesisKey {
                address: owner,
                public_key: k.public_key().to_hex(),
                algorithm_id: String::new(),
                label: "identity recipient".into(),
            });
        }
        g.identity.params.recipient_fingerprints = recipients()
            .iter()
            .map(|k| k.public_key().fingerprint())
            .collect();
        let mut node = TestNode::new(&g).unwrap();
        node.execute_block(&[]).unwrap();
        let acct: QueryAccountResponse = query(
            &node,
            crate::query::PATH_ACCOUNT,
            &QueryAccountRequest {
                address: user.public_key().address().to_string(),
            },
        );
        let acct = crate::query::decode_account(acct).unwrap();
        Self {
            node,
            user,
            number: acct.account_number,
            sequence: acct.sequence,
            client,
        }
    }

    fn address(&self) -> Address {
        self.user.public_key().address()
    }

    /// What `fetch_context` reads, read through the app's query router.
    fn context(&self) -> CaptureContext {
        let p: id::QueryParamsResponse = query(
            &self.node,
            upload::PATH_IDENTITY_PARAMS,
            &id::QueryParamsRequest {},
        );
        let p = p.params.unwrap();
        let keys = p
            .recipient_fingerprints
            .iter()
            .map(|fp| {
                let r: enc::QueryKeyByFingerprintResponse = query(
                    &self.node,
                    upload::PATH_KEY_BY_FINGERPRINT,
                    &enc::QueryKeyByFingerprintRequest {
                        fingerprint: fp.clone(),
                    },
                );
                let k = r.key.unwrap();
                assert!(r.usable);
                assert_eq!(fingerprint(&k.public_key), *fp);
                RecipientPublicKey::from_slice(&k.public_key).unwrap()
            })
            .collect();
        CaptureContext {
            chain_id: TEST_CHAIN_ID.into(),
            recipients: RecipientSet { keys },
            limits: UploadLimits::from_params(&p),
        }
    }

    fn prepare(&self, image: &[u8], t: id::ScopeType) -> PreparedUpload {
        self.prepare_with_salt(image, t, None)
    }

    fn prepare_with_salt(
        &self,
        image: &[u8],
        t: id::ScopeType,
        salt: Option<&[u8]>,
    ) -> PreparedUpload {
        let mut rng = rand_core::OsRng;
        let scope = ScopeCapture::new(t, check_image("img", image).unwrap(), &mut rng);
        let meta = CaptureMeta::now("cli:chain-test", DEFAULT_CLIENT_VERSION);
        upload::prepare_upload_with_salt(
            &self.context(),
            &self.user,
            &self.client,
            &meta,
            &scope,
            salt,
            &mut rng,
        )
        .unwrap()
    }

    /// Sends `msgs` in one tx; returns (code, codespace, log).
    fn send(&mut self, msgs: Vec<Any>) -> (u32, String, String) {
        let mut b = TxBuilder::new()
            .fee(vec![Coin::new("uve", 50_000)])
            .gas_limit(2_000_000);
        for m in msgs {
            b = b.msg(m);
        }
        let tx = b.sign_direct(&self.user, TEST_CHAIN_ID, self.number, self.sequence);
        let out = self.node.execute_block(&[tx.bytes]).unwrap();
        let r = out
            .results()
            .map(|(c, s, l)| (c, s.to_string(), l.to_string()))
            .next()
            .unwrap();
        // Refused before the ante handler bumped it? Re-read the sequence.
        let acct: QueryAccountResponse = query(
            &self.node,
            crate::query::PATH_ACCOUNT,
            &QueryAccountRequest {
                address: self.address().to_string(),
            },
        );
        self.sequence = crate::query::decode_account(acct).unwrap().sequence;
        r
    }

    fn scopes(&self) -> Vec<id::IdentityScope> {
        let r: id::QueryScopesResponse = query(
            &self.node,
            "/virtengine.identity.v1.Query/Scopes",
            &id::QueryScopesRequest {
                account: self.address().to_string(),
                pagination: None,
            },
        );
        r.scopes
    }
}

fn query<Req: Message, Resp: Message + Default>(node: &TestNode, path: &str, req: &Req) -> Resp {
    let r = node.app().query(path, &req.encode_to_vec(), 0, false);
    assert_eq!(r.code, 0, "{path}: {}", r.log);
    Resp::decode(r.value.as_slice()).unwrap()
}

/// The user's first transaction is the upload itself (its key reaches auth in the same
/// tx), both scopes land PENDING, and one request then covers both.
#[test]
fn document_and_selfie_from_the_library_are_accepted_and_queued_for_verification() {
    let mut c = Chain::new(ClientKey::generate_ed25519(CLIENT_ID));
    let doc = c.prepare(JPEG, id::ScopeType::IdDocument);
    let selfie = c.prepare(PNG, id::ScopeType::Selfie);
    let r = c.send(vec![doc.to_any(), selfie.to_any()]);
    assert_eq!(r.0, 0, "{r:?}");
    let scopes = c.scopes();
    assert_eq!(scopes.len(), 2);
    for s in &scopes {
        assert_eq!(
            s.status,
            id::VerificationStatus::Pending as i32,
            "{}",
            s.scope_id
        );
        // Any recipient of the set opens the stored envelope to the stripped image.
        let want = if s.scope_type == id::ScopeType::IdDocument as i32 {
            check_image("d", JPEG).unwrap().bytes
        } else {
            check_image("s", PNG).unwrap().bytes
        };
        let opened = ve_crypto::envelope::open(&s.encrypted_payload, &recipients()[1]).unwrap();
        assert_eq!(opened.payload.as_slice(), want.as_slice());
    }

    // Without consent the selfie (biometric) is left out of the request...
    let r = c.send(vec![request_verification_any(&c.address(), &[])]);
    assert_eq!(r.0, 0, "{r:?}");
    let first = pending_of(&c);
    assert_eq!(first.requests.len(), 1);
    assert_eq!(first.requests[0].scope_ids, vec![doc.msg.scope_id.clone()]);

    // ...and with a wallet and the consent, a second request covers it.
    let binding = ed25519_dalek::SigningKey::from_bytes(&[61; 32]);
    let r = c.send(vec![
        consent::create_wallet_any(TEST_CHAIN_ID, &c.address(), &binding),
        consent::grant_consent_any(&c.address(), &selfie.msg.scope_id),
        request_verification_any(&c.address(), &[]),
    ]);
    assert_eq!(r.0, 0, "{r:?}");
    let pending = pending_of(&c);
    assert_eq!(pending.requests.len(), 2);
    let mut ids: Vec<String> = pending
        .requests
        .iter()
        .flat_map(|r| r.scope_ids.clone())
        .collect();
    ids.sort();
    let mut want = vec![doc.msg.scope_id.clone(), selfie.msg.scope_id.clone()];
    want.sort();
    assert_eq!(ids, want);
    for r in &pending.requests {
        assert_eq!(r.status, id::RequestStatus::Pending as i32);
    }
    for s in c.scopes() {
        assert_eq!(
            s.status,
            id::VerificationStatus::InProgress as i32,
            "{}",
            s.scope_id
        );
    }
}

fn pending_of(c: &Chain) -> id::QueryPendingRequestsResponse {
    query(
        &c.node,
        "/virtengine.identity.v1.Query/PendingRequests",
        &id::QueryPendingRequestsRequest {
            account: c.address().to_string(),
            pagination: None,
        },
    )
}

/// A secp256k1 capture client works too; a key that is not the registered one is
/// refused by the config registry (code 15), and a reused salt by identity (code 7).
#[test]
fn secp256k1_client_works_and_wrong_key_or_reused_salt_is_refused() {
    let client = ClientKey::from_secret(CLIENT_ID, "secp256k1", &[51; 32]).unwrap();
    let mut c = Chain::new(client);
    let first = c.prepare(JPEG, id::ScopeType::IdDocument);
    assert_eq!(c.send(vec![first.to_any()]).0, 0);

    // The same salt under a new scope id, signed over that salt by both keys.
    let again = c.prepare_with_salt(JPEG, id::ScopeType::IdDocument, Some(&first.msg.salt));
    assert_eq!(again.msg.salt, first.msg.salt);
    assert_ne!(again.msg.scope_id, first.msg.scope_id);
    let r = c.send(vec![again.to_any()]);
    assert_eq!((r.1.as_str(), r.0), ("identity", 7), "{r:?}");

    // Signed by a client key the registry does not know under this id.
    c.client = ClientKey::from_secret(CLIENT_ID, "secp256k1", &[52; 32]).unwrap();
    let forged = c.prepare(PNG, id::ScopeType::Selfie);
    let r = c.send(vec![forged.to_any()]);
    assert_eq!((r.1.as_str(), r.0), ("config", 15), "{r:?}");
}
