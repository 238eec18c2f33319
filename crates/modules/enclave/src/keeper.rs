//! What other modules call: the active enclave key set (the identity recipient set) and
//! enclave signature verification. Deterministic: "now" is the block height passed in.

use crate::proto::{ActiveEnclaveKey, EnclaveIdentity, Platform};
use crate::{state, EnclaveError, EnclaveParams};
use sha2::{Digest, Sha256};
use ve_attestation::{Evidence, TrustAnchors};
use ve_module::{Context, Store};
use ve_types::{Address, AppError};

/// Gas for verifying one attestation report (certificate chain + report signatures).
pub const ATTESTATION_VERIFY_GAS: u64 = 80_000;
/// Gas for one enclave signature verification.
pub const ENCLAVE_SIG_VERIFY_GAS: u64 = 2_000;

pub fn platform_name(p: i32) -> &'static str {
    match Platform::try_from(p) {
        Ok(Platform::Sgx) => "sgx",
        Ok(Platform::SevSnp) => "sev-snp",
        Ok(Platform::Nitro) => "nitro",
        Ok(Platform::Simulated) => "simulated",
        _ => "unspecified",
    }
}

/// The verifier's platform for a proto platform value.
pub fn platform(p: i32) -> Result<ve_attestation::Platform, EnclaveError> {
    ve_attestation::Platform::from_i32(p).ok_or(EnclaveError::InvalidPlatform)
}

/// hex SHA-256 of an X25519 public key: the enclave key fingerprint.
pub fn key_fingerprint(x25519: &[u8]) -> String {
    hex::encode(Sha256::digest(x25519))
}

/// Whether `id` is in the active set at `height`: unexpired, its measurement still on
/// the allow-list (not revoked), and — for the simulated platform — simulated allowed.
pub fn is_active(
    store: &mut impl Store,
    params: &EnclaveParams,
    id: &EnclaveIdentity,
    height: u64,
) -> Result<bool, AppError> {
    if height >= id.expiry_height {
        return Ok(false);
    }
    if id.platform == Platform::Simulated as i32 && !params.allow_simulated {
        return Ok(false);
    }
    Ok(state::measurement(store, id.platform, &id.measurement)?.is_some_and(|m| !m.revoked))
}

/// The active validator enclave keys at `height`, in validator-address order: the set
/// identity scopes are encrypted to. Each entry is (validator, X25519 key, Ed25519 key,
/// measurement) plus expiry and, during a rotation overlap, the previous X25519 key.
pub fn active_enclave_keys(
    store: &mut impl Store,
    height: u64,
) -> Result<Vec<ActiveEnclaveKey>, AppError> {
    let params = state::params(store)?;
    let mut out = Vec::new();
    for id in state::identities(store)? {
        if !is_active(store, &params, &id, height)? {
            continue;
        }
        let overlap = height < id.previous_keys_valid_until;
        out.push(ActiveEnclaveKey {
            validator: id.validator.clone(),
            platform: id.platform,
            x25519_public_key: id.x25519_public_key.clone(),
            ed25519_public_key: id.ed25519_public_key.clone(),
            measurement: id.measurement.clone(),
            expiry_height: id.expiry_height,
            key_fingerprint: id.key_fingerprint.clone(),
            previous_x25519_public_key: if overlap {
                id.previous_x25519_public_key.clone()
            } else {
                Vec::new()
            },
            previous_keys_valid_until: if overlap {
                id.previous_keys_valid_until
            } else {
                0
            },
        });
    }
    Ok(out)
}

fn ed25519_verifies(key: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    let Ok(k) = <[u8; 32]>::try_from(key) else {
        return false;
    };
    let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(&k) else {
        return false;
    };
    let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
        return false;
    };
    vk.verify_strict(msg, &sig).is_ok()
}

/// Checks that `validator`'s active enclave signed `msg` (Ed25519, strict) with its
/// current key, or with the key it rotated out of while `height <
/// previous_keys_valid_until`. Returns the measurement of the enclave that signed.
pub fn check_enclave_signature(
    store: &mut impl Store,
    height: u64,
    validator: &Address,
    msg: &[u8],
    sig: &[u8],
) -> Result<Vec<u8>, EnclaveError> {
    let id = state::identity(store, validator)?
        .ok_or_else(|| EnclaveError::NotRegistered(validator.to_string()))?;
    let params = state::params(store)?;
    if !is_active(store, &params, &id, height)? {
        return Err(EnclaveError::NotActive(validator.to_string()));
    }
    if ed25519_verifies(&id.ed25519_public_key, msg, sig)
        || (height < id.previous_keys_valid_until
            && ed25519_verifies(&id.previous_ed25519_public_key, msg, sig))
    {
        return Ok(id.measurement);
    }
    Err(EnclaveError::BadEnclaveSignature(validator.to_string()))
}

/// `Ok(true)` iff `validator`'s active enclave signed `msg`; `Ok(false)` for any refusal
/// (no identity, inactive, bad signature); `Err` only when state cannot be read.
pub fn verify_enclave_signature(
    store: &mut impl Store,
    height: u64,
    validator: &Address,
    msg: &[u8],
    sig: &[u8],
) -> Result<bool, AppError> {
    match check_enclave_signature(store, height, validator, msg, sig) {
        Ok(_) => Ok(true),
        Err(EnclaveError::Store(e)) => Err(e),
        Err(e @ EnclaveError::Corrupt(_)) => Err(e.into()),
        Err(_) => Ok(false),
    }
}

/// The narrow API other modules (identity, the vote-extension verifier, MFA verifier
/// attestations) hold as `Arc<dyn EnclaveRegistry>`.
pub trait EnclaveRegistry: Send + Sync {
    /// See [`verify_enclave_signature`]; charges [`ENCLAVE_SIG_VERIFY_GAS`].
    fn verify_enclave_signature(
        &self,
        ctx: &mut Context<'_>,
        validator: &Address,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<bool, AppError>;

    /// See [`active_enclave_keys`], at the current block height.
    fn active_enclave_keys(&self, ctx: &mut Context<'_>)
        -> Result<Vec<ActiveEnclaveKey>, AppError>;
}

/// The enclave module's [`EnclaveRegistry`].
#[derive(Clone, Copy, Debug, Default)]
pub struct EnclaveKeeper;

impl EnclaveRegistry for EnclaveKeeper {
    fn verify_enclave_signature(
        &self,
        ctx: &mut Context<'_>,
        validator: &Address,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<bool, AppError> {
        ctx.consume_gas(ENCLAVE_SIG_VERIFY_GAS, "enclave signature")?;
        let height = ctx.block().height;
        verify_enclave_signature(ctx, height, validator, msg, sig)
    }

    fn active_enclave_keys(
        &self,
        ctx: &mut Context<'_>,
    ) -> Result<Vec<ActiveEnclaveKey>, AppError> {
        let height = ctx.block().height;
        active_enclave_keys(ctx, height)
    }
}

/// An attestation as a message carries it, with the keys it must bind.
#[derive(Clone, Copy, Debug)]
pub struct AttestationInput<'a> {
    pub platform: i32,
    pub x25519: &'a [u8; 32],
    pub ed25519: &'a [u8; 32],
    pub report: &'a [u8],
    pub chain: &'a [Vec<u8>],
}

/// Verifies an attestation for `platform` at block time `at` and checks what the chain
/// requires of it: not debug, report data = key binding of (`x25519`, `ed25519`),
/// measurement on the allow-list and not revoked.
pub fn verify_attestation(
    store: &mut impl Store,
    params: &EnclaveParams,
    input: &AttestationInput<'_>,
    at: i64,
) -> Result<Evidence, AppError> {
    let AttestationInput {
        platform: platform_value,
        x25519,
        ed25519,
        report,
        chain,
    } = *input;
    let total = chain
        .iter()
        .fold(report.len(), |n, c| n.saturating_add(c.len()));
    if total > usize::try_from(params.max_attestation_bytes).unwrap_or(usize::MAX) {
        return Err(EnclaveError::AttestationTooLarge {
            got: total,
            max: params.max_attestation_bytes,
        }
        .into());
    }
    let anchors = TrustAnchors::vendor_roots()
        .with_simulated(params.allow_simulated, params.simulated_key()?);
    let ev = ve_attestation::verify(platform(platform_value)?, report, chain, &anchors, at)
        .map_err(EnclaveError::from)?;
    if ev.debug {
        return Err(EnclaveError::DebugEnclave.into());
    }
    if ev.report_data.as_slice() != ve_attestation::key_binding(x25519, ed25519).as_slice() {
        return Err(EnclaveError::KeysNotBound.into());
    }
    match state::measurement(store, platform_value, &ev.measurement)? {
        Some(m) if !m.revoked => Ok(ev),
        Some(_) => Err(EnclaveError::MeasurementNotAllowed {
            platform: platform_name(platform_value),
            measurement: hex::encode(&ev.measurement),
            suffix: " (revoked)",
        }
        .into()),
        None => Err(EnclaveError::MeasurementNotAllowed {
            platform: platform_name(platform_value),
            measurement: hex::encode(&ev.measurement),
            suffix: "",
        }
        .into()),
    }
}

/// Whether `addr` may change the allow-list and params: the gov module account, or an
/// account holding the administrator role.
pub fn is_authority(
    ctx: &mut Context<'_>,
    gov: &Address,
    roles: &dyn ve_module::gate::RoleGate,
    addr: &Address,
) -> Result<bool, AppError> {
    if addr == gov {
        return Ok(true);
    }
    roles.has_role(ctx, addr, ve_module::gate::Role::Administrator)
}

/// The signing view of one validator's active enclave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveEnclave {
    pub ed25519_public_key: [u8; 32],
    /// The key rotated out, while `height < previous_keys_valid_until`.
    pub previous_ed25519_public_key: Option<[u8; 32]>,
    pub measurement: Vec<u8>,
    pub platform: i32,
}

/// `validator`'s enclave if it is active at `height` (what a vote-extension verifier
/// needs: the key(s) its results must be signed with, and the measurement to compare).
pub fn enclave_of(
    store: &mut impl Store,
    height: u64,
    validator: &Address,
) -> Result<Option<ActiveEnclave>, AppError> {
    let Some(id) = state::identity(store, validator)? else {
        return Ok(None);
    };
    let params = state::params(store)?;
    if !is_active(store, &params, &id, height)? {
        return Ok(None);
    }
    let key = |k: &[u8]| <[u8; 32]>::try_from(k).ok();
    let current = key(&id.ed25519_public_key)
        .ok_or_else(|| EnclaveError::Corrupt("stored Ed25519 key is not 32 bytes".into()))?;
    let previous = if height < id.previous_keys_valid_until {
        key(&id.previous_ed25519_public_key)
    } else {
        None
    };
    Ok(Some(ActiveEnclave {
        ed25519_public_key: current,
        previous_ed25519_public_key: previous,
        measurement: id.measurement,
        platform: id.platform,
    }))
}

/// The operator account bound (params.consensus_bindings) to a CometBFT consensus address.
pub fn operator_of_consensus(
    store: &mut impl Store,
    consensus_address: &[u8; 20],
) -> Result<Option<Address>, AppError> {
    let params = state::params(store)?;
    for b in &params.consensus_bindings {
        if &b.consensus_bytes()? == consensus_address {
            return Ok(Some(b.operator));
        }
    }
    Ok(None)
}

/// [`enclave_of`] for the validator with this consensus address: what the vote-extension
/// verifier calls with the address CometBFT reports for an extension's signer.
pub fn enclave_of_consensus(
    store: &mut impl Store,
    height: u64,
    consensus_address: &[u8; 20],
) -> Result<Option<ActiveEnclave>, AppError> {
    match operator_of_consensus(store, consensus_address)? {
        Some(op) => enclave_of(store, height, &op),
        None => Ok(None),
    }
}
