//! Identity fixtures: an approved capture client, an identity recipient, and correctly
//! signed uploads whose bytes depend only on their inputs (deterministic sealing).

use super::User;
use ed25519_dalek::Signer;
use rand::SeedableRng;
use ve_app::testing::TEST_CHAIN_ID;
use ve_app::AppGenesis;
use ve_config::GenesisClient;
use ve_crypto::envelope::{seal_with_rng, RecipientSecretKey};
use ve_encryption::GenesisKey;
use ve_identity::payload::{client_digest, user_digest, UploadSigningInput};
use ve_identity::proto::{MsgRequestVerification, MsgUploadScope, ScopeType};
use ve_proto::{to_any, Any};
use ve_types::Address;

pub const CLIENT: &str = "test-capture";

pub fn client_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[9; 32])
}

pub fn identity_recipient() -> RecipientSecretKey {
    RecipientSecretKey::from_bytes([11; 32])
}

/// Approves the test capture client and makes the identity recipient (registered by
/// `owner`) the identity recipient set.
pub fn add_identity_setup(g: &mut AppGenesis, owner: Address) {
    g.config.clients.push(GenesisClient {
        client_id: CLIENT.into(),
        name: "Test capture client".into(),
        description: String::new(),
        key_type: "ed25519".into(),
        public_key: hex::encode(client_key().verifying_key().to_bytes()),
        min_version: String::new(),
        max_version: String::new(),
        allowed_scopes: vec![],
    });
    g.encryption.keys.push(GenesisKey {
        address: owner,
        public_key: identity_recipient().public_key().to_hex(),
        algorithm_id: String::new(),
        label: "identity".into(),
    });
    g.identity.params.recipient_fingerprints =
        vec![identity_recipient().public_key().fingerprint()];
}

/// A signed ID-document upload of `payload`; the salt also seeds the envelope's randomness.
pub fn upload(u: &User, scope_id: &str, payload: &[u8], salt: [u8; 32]) -> Any {
    upload_to(
        u,
        scope_id,
        payload,
        salt,
        &[identity_recipient().public_key()],
    )
}

/// [`upload`] sealed to `recipients` instead of the genesis identity recipient.
pub fn upload_to(
    u: &User,
    scope_id: &str,
    payload: &[u8],
    salt: [u8; 32],
    recipients: &[ve_crypto::envelope::RecipientPublicKey],
) -> Any {
    let envelope = seal_with_rng(
        &mut rand::rngs::StdRng::from_seed(salt),
        payload,
        recipients,
        None,
    )
    .unwrap();
    let mut m = MsgUploadScope {
        sender: u.address.to_string(),
        scope_id: scope_id.into(),
        scope_type: ScopeType::IdDocument as i32,
        payload_hash: ve_crypto::sha256(&envelope).to_vec(),
        encrypted_payload: envelope,
        salt: salt.to_vec(),
        device_fingerprint: "test-device".into(),
        client_id: CLIENT.into(),
        client_version: "1.0.0".into(),
        client_signature: vec![],
        user_signature: vec![],
        capture_timestamp: 1_700_000_000,
        geo_hint: String::new(),
    };
    let d = client_digest(&UploadSigningInput {
        chain_id: TEST_CHAIN_ID,
        sender: &m.sender,
        scope_id: &m.scope_id,
        scope_type: m.scope_type,
        salt: &m.salt,
        device_fingerprint: &m.device_fingerprint,
        client_id: &m.client_id,
        client_version: &m.client_version,
        payload_hash: &m.payload_hash,
        capture_timestamp: m.capture_timestamp,
        geo_hint: &m.geo_hint,
    });
    m.client_signature = client_key().sign(&d).to_bytes().to_vec();
    m.user_signature = u.key.sign(&user_digest(&d, &m.client_signature)).to_vec();
    to_any("/virtengine.identity.v1.MsgUploadScope", &m)
}

/// One request covering every pending scope of `u`.
pub fn request_verification(u: &User) -> Any {
    to_any(
        "/virtengine.identity.v1.MsgRequestVerification",
        &MsgRequestVerification {
            sender: u.address.to_string(),
            scope_ids: vec![],
        },
    )
}
