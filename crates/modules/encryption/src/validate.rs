//! Envelope validation for other modules: the format (via `ve_crypto::envelope::parse`),
//! then this chain's params, then the registry at the given height. Deterministic; no
//! secret keys involved.

use crate::{state, EncryptionError};
use ve_crypto::envelope::{parse_with_limits, Limits, ParsedEnvelope};
use ve_module::{Context, Store};

/// Gas for checking an envelope, on top of the metered registry reads: an Ed25519
/// verification when signed, plus hashing per byte.
pub const SIGNATURE_VERIFY_GAS: u64 = 2_000;
pub const HASH_GAS_PER_BYTE: u64 = 1;

/// What callers keep about a valid envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatedEnvelope {
    /// SHA-256 of the envelope bytes: a unique id.
    pub envelope_hash: [u8; 32],
    pub algorithm_id: &'static str,
    /// Recipient fingerprints, ascending.
    pub recipients: Vec<String>,
    /// Ed25519 key of the sender, when signed.
    pub sender: Option<[u8; 32]>,
}

fn parse_for_chain(
    store: &mut impl Store,
    envelope: &[u8],
) -> Result<ParsedEnvelope, EncryptionError> {
    let params = state::params(store)?;
    if u64::try_from(envelope.len()).unwrap_or(u64::MAX) > params.max_envelope_bytes {
        return Err(EncryptionError::EnvelopeTooLarge {
            len: envelope.len(),
            max: params.max_envelope_bytes,
        });
    }
    let limits = Limits {
        max_recipients: usize::try_from(params.max_recipients_per_envelope).unwrap_or(0),
        max_envelope_len: usize::try_from(params.max_envelope_bytes).unwrap_or(0),
    };
    let parsed = parse_with_limits(envelope, limits).map_err(|e| match e {
        ve_crypto::envelope::EnvelopeError::TooManyRecipients { count, .. } => {
            EncryptionError::TooManyRecipients {
                count,
                max: params.max_recipients_per_envelope,
            }
        }
        other => EncryptionError::Envelope(other),
    })?;
    if !params.allows(parsed.algorithm.id) {
        return Err(EncryptionError::AlgorithmNotAllowed(
            parsed.algorithm.id.to_string(),
        ));
    }
    if params.require_signature && parsed.sender.is_none() {
        return Err(ve_crypto::envelope::EnvelopeError::SignatureRequired.into());
    }
    Ok(parsed)
}

/// The first recipient problem, if any, for each recipient (registry lookups).
fn recipient_problems(
    store: &mut impl Store,
    parsed: &ParsedEnvelope,
    height: u64,
    first_only: bool,
) -> Result<Vec<EncryptionError>, EncryptionError> {
    let mut problems = Vec::new();
    for fp in parsed.recipient_ids() {
        let problem = match state::key(store, fp)? {
            None => Some(EncryptionError::RecipientNotRegistered(fp.to_string())),
            Some(r) if !state::usable_at(&r, height) => Some(EncryptionError::RecipientNotUsable {
                fingerprint: fp.to_string(),
                height,
            }),
            Some(r) if r.algorithm_id != parsed.algorithm.id => {
                Some(EncryptionError::AlgorithmMismatch {
                    fingerprint: fp.to_string(),
                    key_algorithm: r.algorithm_id,
                    envelope_algorithm: parsed.algorithm.id.to_string(),
                })
            }
            Some(_) => None,
        };
        if let Some(p) = problem {
            problems.push(p);
            if first_only {
                break;
            }
        }
    }
    Ok(problems)
}

/// Validates an envelope for storage at `height`: format, sizes, algorithm allowed,
/// signature (if present, or if required), and every recipient registered and usable.
pub fn validate_envelope(
    store: &mut impl Store,
    envelope: &[u8],
    height: u64,
) -> Result<ValidatedEnvelope, EncryptionError> {
    let parsed = parse_for_chain(store, envelope)?;
    if let Some(p) = recipient_problems(store, &parsed, height, true)?
        .into_iter()
        .next()
    {
        return Err(p);
    }
    Ok(ValidatedEnvelope {
        envelope_hash: parsed.envelope_hash,
        algorithm_id: parsed.algorithm.id,
        recipients: parsed.recipient_ids().map(str::to_string).collect(),
        sender: parsed.sender.map(|k| k.to_bytes()),
    })
}

/// [`validate_envelope`] at the current block height, charging gas for the hashing and
/// signature check (registry reads are metered by the context itself). Message handlers
/// call this one.
pub fn validate_envelope_metered(
    ctx: &mut Context<'_>,
    envelope: &[u8],
) -> Result<ValidatedEnvelope, EncryptionError> {
    let bytes = u64::try_from(envelope.len()).unwrap_or(u64::MAX);
    ctx.consume_gas(
        HASH_GAS_PER_BYTE.saturating_mul(bytes).saturating_mul(2),
        "envelope hashing",
    )?;
    ctx.consume_gas(SIGNATURE_VERIFY_GAS, "envelope signature")?;
    let height = ctx.block().height;
    validate_envelope(ctx, envelope, height)
}

/// For the ValidateEnvelope query: every missing or unusable recipient, not just the first.
pub(crate) fn report(
    store: &mut impl Store,
    envelope: &[u8],
    height: u64,
) -> Result<(ParsedEnvelope, Vec<String>), EncryptionError> {
    let parsed = parse_for_chain(store, envelope)?;
    let missing = recipient_problems(store, &parsed, height, false)?
        .into_iter()
        .filter_map(|p| match p {
            EncryptionError::RecipientNotRegistered(fp)
            | EncryptionError::RecipientNotUsable {
                fingerprint: fp, ..
            }
            | EncryptionError::AlgorithmMismatch {
                fingerprint: fp, ..
            } => Some(fp),
            _ => None,
        })
        .collect();
    Ok((parsed, missing))
}
