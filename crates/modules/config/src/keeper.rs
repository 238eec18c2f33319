//! What other modules call: client signature verification and the authority check.

use crate::proto::{ApprovedClient, ClientStatus, KeyType};
use crate::{semver, state, ConfigError};
use ve_module::Store;
use ve_types::Address;

/// Gas for one client signature verification (either scheme).
pub const CLIENT_SIG_VERIFY_GAS: u64 = 2_000;

pub fn key_type_name(t: i32) -> &'static str {
    match KeyType::try_from(t) {
        Ok(KeyType::Ed25519) => "ed25519",
        Ok(KeyType::Secp256k1) => "secp256k1",
        _ => "unspecified",
    }
}

/// Checks that `key` is a valid public key of type `key_type`.
pub fn check_public_key(key_type: i32, key: &[u8]) -> Result<(), ConfigError> {
    match KeyType::try_from(key_type) {
        Ok(KeyType::Ed25519) => {
            let arr: [u8; 32] = key.try_into().map_err(|_| ConfigError::InvalidPublicKey {
                key_type: "ed25519",
                reason: format!("expected 32 bytes, got {}", key.len()),
            })?;
            ed25519_dalek::VerifyingKey::from_bytes(&arr).map_err(|_| {
                ConfigError::InvalidPublicKey {
                    key_type: "ed25519",
                    reason: "not a valid curve point".into(),
                }
            })?;
            Ok(())
        }
        Ok(KeyType::Secp256k1) => ve_crypto::PublicKey::from_bytes(key)
            .map(|_| ())
            .map_err(|e| ConfigError::InvalidPublicKey {
                key_type: "secp256k1",
                reason: e.to_string(),
            }),
        _ => Err(ConfigError::InvalidKeyType),
    }
}

/// Verifies `sig` over `msg` with a key of `key_type`. Ed25519 signs `msg` itself;
/// secp256k1 is ECDSA (low-S, r||s) over SHA-256(msg), as Cosmos account keys sign.
pub fn verify_with(key_type: i32, key: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    match KeyType::try_from(key_type) {
        Ok(KeyType::Ed25519) => {
            let Ok(arr) = <[u8; 32]>::try_from(key) else {
                return false;
            };
            let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(&arr) else {
                return false;
            };
            let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
                return false;
            };
            vk.verify_strict(msg, &sig).is_ok()
        }
        Ok(KeyType::Secp256k1) => ve_crypto::PublicKey::from_bytes(key)
            .and_then(|pk| pk.verify(msg, sig))
            .is_ok(),
        _ => false,
    }
}

/// What an upload asks the registry to confirm.
#[derive(Clone, Debug)]
pub struct ClientSignatureCheck<'a> {
    pub client_id: &'a str,
    pub client_version: &'a str,
    /// Scope type name, e.g. `id_document`.
    pub scope_type: &'a str,
    pub message: &'a [u8],
    pub signature: &'a [u8],
}

/// Confirms that an active client, at a version it is approved for and for this scope
/// type, signed `message`: with its current key, or with the key it rotated out of while
/// `height < previous_key_valid_until`. Returns the version of the key that verified.
pub fn verify_client_signature(
    store: &mut impl Store,
    height: u64,
    check: &ClientSignatureCheck<'_>,
) -> Result<u32, ConfigError> {
    let c: ApprovedClient = state::client(store, check.client_id)?
        .ok_or_else(|| ConfigError::ClientNotFound(check.client_id.chars().take(64).collect()))?;
    if c.status != ClientStatus::Active as i32 {
        return Err(ConfigError::ClientNotActive {
            client_id: c.client_id,
            status: state::status_name(c.status),
        });
    }
    if !semver::within(check.client_version, &c.min_version, &c.max_version)? {
        return Err(ConfigError::VersionNotAllowed {
            client_id: c.client_id,
            version: check.client_version.to_string(),
            min: c.min_version,
            max: if c.max_version.is_empty() {
                "any".into()
            } else {
                c.max_version
            },
        });
    }
    if !c.allowed_scopes.is_empty() && !c.allowed_scopes.iter().any(|s| s == check.scope_type) {
        return Err(ConfigError::ScopeNotAllowed {
            client_id: c.client_id,
            scope: check.scope_type.to_string(),
        });
    }
    if verify_with(c.key_type, &c.public_key, check.message, check.signature) {
        return Ok(c.key_version);
    }
    if !c.previous_public_key.is_empty()
        && height < c.previous_key_valid_until
        && verify_with(
            c.previous_key_type,
            &c.previous_public_key,
            check.message,
            check.signature,
        )
    {
        return Ok(c.key_version.saturating_sub(1));
    }
    Err(ConfigError::BadClientSignature {
        client_id: c.client_id,
    })
}

/// Whether `addr` may change the registry and other modules' admin settings: an address
/// in `params.admins`, or `gov` (the gov module account, which the app passes in).
pub fn is_authority(
    store: &mut impl Store,
    gov: &Address,
    addr: &Address,
) -> Result<bool, ConfigError> {
    if addr == gov {
        return Ok(true);
    }
    Ok(state::params(store)?.admins.iter().any(|a| a == addr))
}
