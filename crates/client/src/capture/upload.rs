//! Building `MsgUploadScope` / `MsgRequestVerification`, and reading from the chain what
//! an upload must be built against (the identity recipient set and the upload limits).

use rand_core::CryptoRngCore;
use ve_crypto::envelope::{fingerprint, seal_with_rng, RecipientPublicKey};
use ve_crypto::PrivateKey;
use ve_proto::virtengine::encryption::v1 as enc;
use ve_proto::virtengine::identity::v1 as id;
use ve_proto::Any;
use ve_types::Address;

use super::image::{CheckedImage, ImageInfo};
use super::signing::{client_digest, user_digest, ClientKey, SigningFields};
use super::{CaptureError, MSG_REQUEST_VERIFICATION, MSG_UPLOAD_SCOPE, SALT_BYTES};
use crate::query::QueryClient;

pub const PATH_IDENTITY_PARAMS: &str = "/virtengine.identity.v1.Query/Params";
pub const PATH_KEY_BY_FINGERPRINT: &str = "/virtengine.encryption.v1.Query/KeyByFingerprint";
pub const PATH_ACTIVE_ENCLAVE_KEYS: &str = "/virtengine.enclave.v1.Query/ActiveEnclaveKeys";

/// The identity recipient set: the keys every scope envelope must be sealed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientSet {
    pub keys: Vec<RecipientPublicKey>,
}

impl RecipientSet {
    pub fn fingerprints(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(RecipientPublicKey::fingerprint)
            .collect()
    }
}

/// The identity params an upload must respect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    pub salt_min_bytes: u32,
    pub salt_max_bytes: u32,
    pub max_payload_bytes: u64,
    pub max_uploads_per_account_per_block: u32,
}

impl UploadLimits {
    pub fn from_params(p: &id::Params) -> Self {
        Self {
            salt_min_bytes: p.salt_min_bytes,
            salt_max_bytes: p.salt_max_bytes,
            max_payload_bytes: p.max_payload_bytes,
            max_uploads_per_account_per_block: p.max_uploads_per_account_per_block,
        }
    }

    /// [`SALT_BYTES`] clamped into the chain's salt range.
    pub fn salt_len(&self) -> Result<usize, CaptureError> {
        if self.salt_min_bytes > self.salt_max_bytes || self.salt_max_bytes == 0 {
            return Err(CaptureError::Field {
                field: "salt",
                reason: format!(
                    "the chain's salt range {}..={} is empty",
                    self.salt_min_bytes, self.salt_max_bytes
                ),
            });
        }
        let n = SALT_BYTES.clamp(self.salt_min_bytes, self.salt_max_bytes);
        usize::try_from(n).map_err(|_| CaptureError::Field {
            field: "salt",
            reason: "length overflows".into(),
        })
    }
}

/// Everything about the chain an upload is built against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureContext {
    pub chain_id: String,
    pub recipients: RecipientSet,
    pub limits: UploadLimits,
}

/// Reads the identity params and the recipient set: the active validator enclave keys
/// (enclave registry), or on a chain without registered enclaves each key named by
/// `params.recipient_fingerprints` from the encryption registry. Refuses an empty set
/// and keys that are not usable now.
pub async fn fetch_context(
    q: &QueryClient<'_>,
    chain_id: &str,
) -> Result<CaptureContext, CaptureError> {
    let params: id::QueryParamsResponse = q
        .query(PATH_IDENTITY_PARAMS, &id::QueryParamsRequest {})
        .await?;
    let params = params.params.ok_or_else(|| CaptureError::Field {
        field: "identity params",
        reason: "the node answered without params".into(),
    })?;
    let active: ve_proto::virtengine::enclave::v1::QueryActiveEnclaveKeysResponse = q
        .query(
            PATH_ACTIVE_ENCLAVE_KEYS,
            &ve_proto::virtengine::enclave::v1::QueryActiveEnclaveKeysRequest {},
        )
        .await?;
    let keys = if active.keys.is_empty() {
        registry_recipients(q, &params).await?
    } else {
        active
            .keys
            .iter()
            .map(|k| {
                RecipientPublicKey::from_slice(&k.x25519_public_key).map_err(|e| {
                    CaptureError::Recipient {
                        fingerprint: fingerprint(&k.x25519_public_key),
                        reason: format!("enclave key of {}: {e}", k.validator),
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    Ok(CaptureContext {
        chain_id: chain_id.to_string(),
        recipients: RecipientSet { keys },
        limits: UploadLimits::from_params(&params),
    })
}

/// The recipient keys named by `params.recipient_fingerprints`, each read from the
/// encryption registry; the fingerprint of each returned key is recomputed, so a node
/// cannot substitute another key.
async fn registry_recipients(
    q: &QueryClient<'_>,
    params: &id::Params,
) -> Result<Vec<RecipientPublicKey>, CaptureError> {
    if params.recipient_fingerprints.is_empty() {
        return Err(CaptureError::NoRecipientSet);
    }
    let mut keys = Vec::with_capacity(params.recipient_fingerprints.len());
    for fp in &params.recipient_fingerprints {
        let bad = |reason: String| CaptureError::Recipient {
            fingerprint: fp.clone(),
            reason,
        };
        let r: enc::QueryKeyByFingerprintResponse = q
            .query(
                PATH_KEY_BY_FINGERPRINT,
                &enc::QueryKeyByFingerprintRequest {
                    fingerprint: fp.clone(),
                },
            )
            .await
            .map_err(|e| {
                if e.is_not_found() {
                    bad("not registered in the encryption module".into())
                } else {
                    CaptureError::Query(e)
                }
            })?;
        let key = r
            .key
            .ok_or_else(|| bad("not registered in the encryption module".into()))?;
        if !r.usable {
            return Err(bad("revoked or expired in the encryption module".into()));
        }
        if fingerprint(&key.public_key) != *fp {
            return Err(bad(
                "the node returned a key with another fingerprint".into()
            ));
        }
        keys.push(RecipientPublicKey::from_slice(&key.public_key).map_err(|e| bad(e.to_string()))?);
    }
    Ok(keys)
}

/// How and where the capture happened (the same for every scope of one session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureMeta {
    /// 1-256 bytes identifying the capturing device.
    pub device_fingerprint: String,
    pub client_version: String,
    /// Unix seconds.
    pub capture_timestamp: i64,
    /// Coarse location, optional (≤ 128 bytes).
    pub geo_hint: String,
}

impl CaptureMeta {
    /// Capture time = now (wall clock; this runs in clients only).
    pub fn now(device_fingerprint: impl Into<String>, client_version: impl Into<String>) -> Self {
        #[allow(clippy::disallowed_methods)] // client side: the capture time is wall-clock time
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Self {
            device_fingerprint: device_fingerprint.into(),
            client_version: client_version.into(),
            capture_timestamp: now,
            geo_hint: String::new(),
        }
    }
}

/// One scope to upload: a checked image under a new scope id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeCapture {
    pub scope_id: String,
    pub scope_type: id::ScopeType,
    pub image: CheckedImage,
}

impl ScopeCapture {
    /// A scope with a fresh id `<type>-<16 hex>` (e.g. `id_document-3f9c...`).
    pub fn new(
        scope_type: id::ScopeType,
        image: CheckedImage,
        rng: &mut impl CryptoRngCore,
    ) -> Self {
        let mut tag = [0u8; 8];
        rng.fill_bytes(&mut tag);
        Self {
            scope_id: format!("{}-{}", scope_type_name(scope_type), hex::encode(tag)),
            scope_type,
            image,
        }
    }
}

/// `id_document`, `selfie`, ...: the names the config registry and docs use.
pub fn scope_type_name(t: id::ScopeType) -> String {
    t.as_str_name()
        .trim_start_matches("SCOPE_TYPE_")
        .to_ascii_lowercase()
}

/// A signed upload and what went into it.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedUpload {
    pub msg: id::MsgUploadScope,
    pub image: ImageInfo,
    pub plaintext_len: usize,
}

impl PreparedUpload {
    pub fn to_any(&self) -> Any {
        upload_any(&self.msg)
    }
}

/// Seals, hashes and signs one scope for `user` (the account that will send the tx),
/// with a fresh salt from `rng`.
pub fn prepare_upload(
    ctx: &CaptureContext,
    user: &PrivateKey,
    client: &ClientKey,
    meta: &CaptureMeta,
    scope: &ScopeCapture,
    rng: &mut impl CryptoRngCore,
) -> Result<PreparedUpload, CaptureError> {
    prepare_upload_with_salt(ctx, user, client, meta, scope, None, rng)
}

/// As [`prepare_upload`], with the salt given (`Some`): only for testing the chain's
/// replay protection; a real capture always draws a fresh salt.
pub fn prepare_upload_with_salt(
    ctx: &CaptureContext,
    user: &PrivateKey,
    client: &ClientKey,
    meta: &CaptureMeta,
    scope: &ScopeCapture,
    salt: Option<&[u8]>,
    rng: &mut impl CryptoRngCore,
) -> Result<PreparedUpload, CaptureError> {
    if ctx.recipients.keys.is_empty() {
        return Err(CaptureError::NoRecipientSet);
    }
    let field = |field: &'static str, reason: String| CaptureError::Field { field, reason };
    if meta.device_fingerprint.is_empty() || meta.device_fingerprint.len() > 256 {
        return Err(field("device_fingerprint", "must be 1-256 bytes".into()));
    }
    if meta.client_version.len() > 32 {
        return Err(field("client_version", "must be at most 32 bytes".into()));
    }
    if meta.geo_hint.len() > 128 {
        return Err(field("geo_hint", "must be at most 128 bytes".into()));
    }
    if meta.capture_timestamp < 0 {
        return Err(field("capture_timestamp", "must not be negative".into()));
    }
    let id_ok = !scope.scope_id.is_empty()
        && scope.scope_id.len() <= 128
        && scope
            .scope_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    if !id_ok {
        return Err(field(
            "scope_id",
            format!(
                "{:?} must be 1-128 characters of A-Z a-z 0-9 . _ : -",
                scope.scope_id
            ),
        ));
    }
    let salt = match salt {
        Some(s) => s.to_vec(),
        None => {
            let mut s = vec![0u8; ctx.limits.salt_len()?];
            rng.fill_bytes(&mut s);
            s
        }
    };

    let envelope = seal_with_rng(rng, &scope.image.bytes, &ctx.recipients.keys, None)?;
    if u64::try_from(envelope.len()).unwrap_or(u64::MAX) > ctx.limits.max_payload_bytes {
        return Err(CaptureError::EnvelopeTooLarge {
            what: scope.scope_id.clone(),
            len: envelope.len(),
            max: ctx.limits.max_payload_bytes,
        });
    }
    let payload_hash = ve_crypto::sha256(&envelope);
    let sender = user.public_key().address().to_string();
    let scope_type = scope.scope_type as i32;
    let cd = client_digest(&SigningFields {
        chain_id: &ctx.chain_id,
        sender: &sender,
        scope_id: &scope.scope_id,
        scope_type,
        salt: &salt,
        device_fingerprint: &meta.device_fingerprint,
        client_id: &client.client_id,
        client_version: &meta.client_version,
        payload_hash: &payload_hash,
        capture_timestamp: meta.capture_timestamp,
        geo_hint: &meta.geo_hint,
    })?;
    let client_signature = client.sign(&cd);
    let user_signature = user.sign(&user_digest(&cd, &client_signature)?).to_vec();
    Ok(PreparedUpload {
        msg: id::MsgUploadScope {
            sender,
            scope_id: scope.scope_id.clone(),
            scope_type,
            encrypted_payload: envelope,
            salt,
            device_fingerprint: meta.device_fingerprint.clone(),
            client_id: client.client_id.clone(),
            client_version: meta.client_version.clone(),
            client_signature,
            user_signature,
            payload_hash: payload_hash.to_vec(),
            capture_timestamp: meta.capture_timestamp,
            geo_hint: meta.geo_hint.clone(),
        },
        image: scope.image.info,
        plaintext_len: scope.image.bytes.len(),
    })
}

pub fn upload_any(msg: &id::MsgUploadScope) -> Any {
    ve_proto::to_any(MSG_UPLOAD_SCOPE, msg)
}

/// One verification request covering `scope_ids`, or every PENDING scope when empty.
pub fn request_verification_msg(
    sender: &Address,
    scope_ids: &[String],
) -> id::MsgRequestVerification {
    id::MsgRequestVerification {
        sender: sender.to_string(),
        scope_ids: scope_ids.to_vec(),
    }
}

pub fn request_verification_any(sender: &Address, scope_ids: &[String]) -> Any {
    ve_proto::to_any(
        MSG_REQUEST_VERIFICATION,
        &request_verification_msg(sender, scope_ids),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::image::check_image;
    use crate::capture::image::tests::{JPEG, PNG};
    use ve_crypto::envelope::{open, RecipientSecretKey};
    use ve_module::MsgHandler;

    struct Rng(u64);
    impl rand_core::RngCore for Rng {
        fn next_u32(&mut self) -> u32 {
            u32::try_from(self.next_u64() >> 32).unwrap()
        }
        fn next_u64(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            for b in dest {
                *b = u8::try_from(self.next_u64() >> 56).unwrap();
            }
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }
    impl rand_core::CryptoRng for Rng {}

    fn recipients() -> Vec<RecipientSecretKey> {
        vec![
            RecipientSecretKey::from_bytes([21; 32]),
            RecipientSecretKey::from_bytes([22; 32]),
        ]
    }

    fn context() -> CaptureContext {
        CaptureContext {
            chain_id: "virtengine-localnet-1".into(),
            recipients: RecipientSet {
                keys: recipients()
                    .iter()
                    .map(RecipientSecretKey::public_key)
                    .collect(),
            },
            limits: UploadLimits::from_params(&ve_identity::IdentityParams::default().to_proto()),
        }
    }

    fn meta() -> CaptureMeta {
        CaptureMeta {
            device_fingerprint: "cli:test-device".into(),
            client_version: "1.0.0".into(),
            capture_timestamp: 1_800_000_000,
            geo_hint: String::new(),
        }
    }

    fn prepared(
        image: &[u8],
        t: id::ScopeType,
        seed: u64,
    ) -> (PreparedUpload, PrivateKey, ClientKey) {
        let user = PrivateKey::from_bytes(&[5; 32]).unwrap();
        let client = ClientKey::from_secret("localnet-capture", "ed25519", &[6; 32]).unwrap();
        let mut rng = Rng(seed);
        let scope = ScopeCapture::new(t, check_image("test image", image).unwrap(), &mut rng);
        let p = prepare_upload(&context(), &user, &client, &meta(), &scope, &mut rng).unwrap();
        (p, user, client)
    }

    /// The library's upload passes the identity module's own checks: the stateless
    /// handler check (field limits, payload hash), the chain's digest functions with the
    /// config registry's signature verification, the user signature as the handler
    /// verifies it, and the encryption module's envelope parser.
    #[test]
    fn upload_passes_the_identity_modules_own_verification() {
        let (p, user, client) = prepared(JPEG, id::ScopeType::IdDocument, 1);
        let m = &p.msg;
        let handler = ve_identity::UploadScopeHandler {
            keepers: unreachable_keepers(),
        };
        handler.check_stateless(m).unwrap();
        ve_identity::msg_server::check_scope_id(&m.scope_id).unwrap();
        let limits = context().limits;
        let salt_len = u32::try_from(m.salt.len()).unwrap();
        assert!((limits.salt_min_bytes..=limits.salt_max_bytes).contains(&salt_len));

        let digest =
            ve_identity::payload::client_digest(&ve_identity::payload::UploadSigningInput {
                chain_id: "virtengine-localnet-1",
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
        assert!(ve_config::keeper::verify_with(
            ve_config::proto::KeyType::Ed25519 as i32,
            &client.public_key(),
            &digest,
            &m.client_signature
        ));
        let user_d = ve_identity::payload::user_digest(&digest, &m.client_signature);
        user.public_key()
            .verify(&user_d, &m.user_signature)
            .unwrap();
        assert_eq!(m.sender, user.public_key().address().to_string());

        // The envelope is addressed to every recipient of the set and opens to the image.
        let parsed = ve_crypto::envelope::parse(&m.encrypted_payload).unwrap();
        let ids: Vec<&str> = parsed.recipient_ids().collect();
        for fp in context().recipients.fingerprints() {
            assert!(ids.contains(&fp.as_str()), "{fp} missing from {ids:?}");
        }
        for k in recipients() {
            let opened = open(&m.encrypted_payload, &k).unwrap();
            assert_eq!(
                opened.payload.as_slice(),
                check_image("x", JPEG).unwrap().bytes.as_slice()
            );
        }
    }

    #[test]
    fn each_upload_gets_a_fresh_salt_scope_id_and_envelope() {
        let (a, _, _) = prepared(PNG, id::ScopeType::Selfie, 7);
        let (b, _, _) = prepared(PNG, id::ScopeType::Selfie, 8);
        assert_ne!(a.msg.salt, b.msg.salt);
        assert_ne!(a.msg.scope_id, b.msg.scope_id);
        assert_ne!(a.msg.payload_hash, b.msg.payload_hash);
        assert!(a.msg.scope_id.starts_with("selfie-"), "{}", a.msg.scope_id);
        assert_eq!(a.msg.salt.len(), 32);
    }

    #[test]
    fn tampering_with_a_signed_field_breaks_the_signature_chain() {
        let (p, user, client) = prepared(JPEG, id::ScopeType::IdDocument, 3);
        let mut m = p.msg.clone();
        m.geo_hint = "elsewhere".into();
        let digest =
            ve_identity::payload::client_digest(&ve_identity::payload::UploadSigningInput {
                chain_id: "virtengine-localnet-1",
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
        assert!(!ve_config::keeper::verify_with(
            ve_config::proto::KeyType::Ed25519 as i32,
            &client.public_key(),
            &digest,
            &m.client_signature
        ));
        let user_d = ve_identity::payload::user_digest(&digest, &m.client_signature);
        assert!(user
            .public_key()
            .verify(&user_d, &m.user_signature)
            .is_err());
    }

    #[test]
    fn envelope_over_the_chains_payload_limit_is_refused_before_sending() {
        let user = PrivateKey::from_bytes(&[5; 32]).unwrap();
        let client = ClientKey::from_secret("c-1", "ed25519", &[6; 32]).unwrap();
        let mut ctx = context();
        ctx.limits.max_payload_bytes = 500;
        let mut rng = Rng(9);
        let scope = ScopeCapture::new(
            id::ScopeType::Selfie,
            check_image("s", JPEG).unwrap(),
            &mut rng,
        );
        let e = prepare_upload(&ctx, &user, &client, &meta(), &scope, &mut rng).unwrap_err();
        assert!(
            matches!(e, CaptureError::EnvelopeTooLarge { max: 500, .. }),
            "{e}"
        );
        ctx.recipients.keys.clear();
        assert!(matches!(
            prepare_upload(&ctx, &user, &client, &meta(), &scope, &mut rng),
            Err(CaptureError::NoRecipientSet)
        ));
    }

    #[test]
    fn request_verification_covers_the_given_scopes() {
        let user = PrivateKey::from_bytes(&[5; 32]).unwrap();
        let addr = user.public_key().address();
        let any = request_verification_any(&addr, &["a".into(), "b".into()]);
        assert_eq!(any.type_url, MSG_REQUEST_VERIFICATION);
        let m = request_verification_msg(&addr, &[]);
        ve_identity::RequestVerificationHandler
            .check_stateless(&m)
            .unwrap();
    }

    /// check_stateless never reaches other modules; these keepers prove it.
    fn unreachable_keepers() -> ve_identity::Keepers {
        use std::sync::Arc;
        use ve_module::Context;
        use ve_types::AppError;
        struct Never;
        fn never<T>() -> Result<T, AppError> {
            Err(AppError::new(
                "test",
                1,
                "stateless checks must not call keepers",
            ))
        }
        impl ve_identity::AccountKeys for Never {
            fn account_pub_key(
                &self,
                _: &mut Context<'_>,
                _: &Address,
            ) -> Result<Option<Vec<u8>>, AppError> {
                never()
            }
        }
        impl ve_identity::ClientRegistry for Never {
            fn verify_client_signature(
                &self,
                _: &mut Context<'_>,
                _: &ve_identity::ClientCheck<'_>,
            ) -> Result<u32, AppError> {
                never()
            }
        }
        impl ve_identity::EnvelopeValidator for Never {
            fn validate_envelope(
                &self,
                _: &mut Context<'_>,
                _: &[u8],
            ) -> Result<Vec<String>, AppError> {
                never()
            }
        }
        impl ve_identity::AdminAuthority for Never {
            fn is_authority(&self, _: &mut Context<'_>, _: &Address) -> Result<bool, AppError> {
                never()
            }
        }
        impl ve_identity::EnclaveRecipients for Never {
            fn enclave_recipient_fingerprints(
                &self,
                _: &mut Context<'_>,
            ) -> Result<Vec<String>, AppError> {
                never()
            }
        }
        ve_identity::Keepers {
            accounts: Arc::new(Never),
            clients: Arc::new(Never),
            envelopes: Arc::new(Never),
            authority: Arc::new(Never),
            enclaves: Arc::new(Never),
        }
    }
}
