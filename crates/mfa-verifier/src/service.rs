//! The verifier's logic, independent of HTTP: read the challenge and the enrolment from
//! the chain, open the sealed secret, check the code, remember what was used, sign.

#![allow(clippy::disallowed_methods)] // SystemTime::now: TOTP and code expiry are wall-clock by nature; this is an off-chain service.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use ve_proto::virtengine::mfa::v1::{Challenge, ChallengeStatus, FactorStatus, FactorType};
use ve_types::Address;

use crate::attestation::{self, AttestationInput};
use crate::chain::ChainSource;
use crate::email::{mask, Mailer};
use crate::error::VerifierError;
use crate::keys::{PublicKeyInfo, VerifierKeys};
use crate::secret::SealedSecret;
use crate::store::{PendingEmail, Store};

/// Email codes live at most this long (and never past the challenge's expiry).
pub const EMAIL_CODE_TTL_SECS: u64 = 600;
/// Wrong email codes allowed per challenge before the code is discarded.
pub const EMAIL_MAX_ATTEMPTS: u32 = 5;
/// A new code for the same challenge no sooner than this after the last one.
pub const EMAIL_RESEND_COOLDOWN_SECS: u64 = 60;
/// Digits of an email code.
pub const EMAIL_CODE_DIGITS: usize = 6;

/// Seconds since the Unix epoch; injectable so tests can pin TOTP steps.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    })
}

/// `MsgVerifyChallenge.attestation` in JSON (signature in base64).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AttestationJson {
    /// The validator operator address whose enclave signed.
    pub verifier_key_id: String,
    pub verified: bool,
    /// Base64 of the 64-byte Ed25519 signature.
    pub signature: String,
    /// TOTP: the time step of the accepted code (the chain refuses it twice); else 0.
    #[serde(default)]
    pub otp_step: u64,
}

/// The verifier's answer to a code.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Verdict {
    pub challenge_id: String,
    pub account: String,
    pub factor_type: u32,
    pub factor_id: String,
    pub verified: bool,
    /// Why a code was refused ("" when verified).
    pub reason: String,
    /// Signed either way: a refusal submitted on chain counts as a failed attempt.
    pub attestation: AttestationJson,
}

/// Answer to "send me an email code".
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EmailSent {
    pub challenge_id: String,
    /// The address, masked (`b**@example.org`).
    pub sent_to: String,
    /// Unix seconds.
    pub expires_at: u64,
}

pub struct Verifier<C> {
    keys: VerifierKeys,
    chain_id: String,
    chain: C,
    store: Store,
    mailer: Option<Mailer>,
    clock: Clock,
}

impl<C> std::fmt::Debug for Verifier<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("keys", &self.keys)
            .field("chain_id", &self.chain_id)
            .finish_non_exhaustive()
    }
}

struct Loaded {
    challenge: Challenge,
    account: Address,
    secret: SealedSecret,
}

impl<C: ChainSource> Verifier<C> {
    pub fn new(
        keys: VerifierKeys,
        chain_id: impl Into<String>,
        chain: C,
        store: Store,
        mailer: Option<Mailer>,
        clock: Clock,
    ) -> Self {
        Self {
            keys,
            chain_id: chain_id.into(),
            chain,
            store,
            mailer,
            clock,
        }
    }

    pub fn info(&self) -> PublicKeyInfo {
        self.keys.public_info()
    }

    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    fn now(&self) -> u64 {
        (self.clock)()
    }

    /// The challenge (PENDING, unexpired, of `factor`), its enrolment (ACTIVE, same type)
    /// and the opened secret.
    async fn load(&self, challenge_id: &str, factor: FactorType) -> Result<Loaded, VerifierError> {
        if challenge_id.len() != 32 || !challenge_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(VerifierError::BadRequest(format!(
                "challenge id {challenge_id:?} must be 32 hex characters (from `tx mfa challenge`)"
            )));
        }
        let challenge = self.chain.challenge(challenge_id).await?;
        if challenge.factor_type != factor as i32 {
            return Err(VerifierError::Conflict(format!(
                "challenge {challenge_id} is for factor type {}, not {}",
                challenge.factor_type,
                factor.as_str_name()
            )));
        }
        if challenge.status != ChallengeStatus::Pending as i32 {
            return Err(VerifierError::Conflict(format!(
                "challenge {challenge_id} is no longer pending (status {}): create a new one",
                challenge.status
            )));
        }
        let now = i64::try_from(self.now()).unwrap_or(i64::MAX);
        if challenge.expires_at != 0 && now >= challenge.expires_at {
            return Err(VerifierError::Conflict(format!(
                "challenge {challenge_id} expired at {}: create a new one",
                challenge.expires_at
            )));
        }
        let account: Address = challenge.account.parse().map_err(|e| {
            VerifierError::Chain(format!("challenge account {:?}: {e}", challenge.account))
        })?;
        let enrollment = self
            .chain
            .enrollment(&challenge.account, &challenge.factor_id)
            .await?;
        if enrollment.status != FactorStatus::Active as i32
            || enrollment.factor_type != factor as i32
        {
            return Err(VerifierError::Conflict(format!(
                "factor {} of {} is not an active {} factor",
                challenge.factor_id,
                challenge.account,
                factor.as_str_name()
            )));
        }
        if enrollment.sealed_secret.is_empty() {
            return Err(VerifierError::Conflict(format!(
                "factor {} has no sealed secret on chain",
                challenge.factor_id
            )));
        }
        let secret = SealedSecret::open(&enrollment.sealed_secret, &self.keys.envelope)?;
        Ok(Loaded {
            challenge,
            account,
            secret,
        })
    }

    fn verdict(
        &self,
        l: &Loaded,
        verified: bool,
        reason: &str,
        otp_step: u64,
    ) -> Result<Verdict, VerifierError> {
        let c = &l.challenge;
        let input = AttestationInput {
            chain_id: &self.chain_id,
            challenge_id: &c.challenge_id,
            account: &l.account,
            factor_type: u32::try_from(c.factor_type).unwrap_or(0),
            factor_id: &c.factor_id,
            challenge_data: &c.challenge_data,
            verified,
            otp_step,
        };
        let sig = attestation::sign(&self.keys.signing, &input)
            .map_err(|e| VerifierError::Chain(format!("challenge as read from chain: {e}")))?;
        Ok(Verdict {
            challenge_id: c.challenge_id.clone(),
            account: c.account.clone(),
            factor_type: input.factor_type,
            factor_id: c.factor_id.clone(),
            verified,
            reason: reason.to_string(),
            attestation: AttestationJson {
                verifier_key_id: self.keys.key_id.clone(),
                verified,
                signature: B64.encode(sig),
                otp_step,
            },
        })
    }

    /// Checks a TOTP code (±1 step). A code whose step is not after the last accepted step
    /// of this factor is refused as a replay; the accepted step is on disk before the
    /// attestation is returned.
    pub async fn verify_totp(
        &self,
        challenge_id: &str,
        code: &str,
    ) -> Result<Verdict, VerifierError> {
        let code = code.trim();
        if code.is_empty() || code.len() > 10 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(VerifierError::BadRequest(
                "a TOTP code is 6-8 digits from your authenticator app".into(),
            ));
        }
        let l = self.load(challenge_id, FactorType::Totp).await?;
        let totp = l.secret.totp()?;
        let now = self.now();
        let Some(step) = totp.check(code, now) else {
            return self.verdict(&l, false, "wrong code", 0);
        };
        let key = format!("{}/{}", l.challenge.account, l.challenge.factor_id);
        let fresh = self
            .store
            .update(now, |st| match st.totp_last_step.get(&key) {
                Some(last) if *last >= step => Ok(false),
                _ => {
                    st.totp_last_step.insert(key.clone(), step);
                    Ok(true)
                }
            })?;
        if fresh {
            self.verdict(&l, true, "", step)
        } else {
            self.verdict(
                &l,
                false,
                "code already used: wait for the next code of your authenticator app",
                0,
            )
        }
    }

    /// Generates a 6-digit code for an EMAIL challenge, stores its salted hash and mails
    /// it to the enrolled (sealed) address.
    pub async fn send_email(&self, challenge_id: &str) -> Result<EmailSent, VerifierError> {
        let mailer = self.mailer.as_ref().ok_or(VerifierError::NoMailer)?;
        let l = self.load(challenge_id, FactorType::Email).await?;
        let address = l.secret.email_address()?.to_string();
        let now = self.now();
        let challenge_end = u64::try_from(l.challenge.expires_at).unwrap_or(0);
        let mut expires_at = now.saturating_add(EMAIL_CODE_TTL_SECS);
        if challenge_end > now {
            expires_at = expires_at.min(challenge_end);
        }
        let code = random_code();
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        let pending = PendingEmail {
            account: l.challenge.account.clone(),
            factor_id: l.challenge.factor_id.clone(),
            code_hash: hex::encode(code_hash(&salt, &code)),
            salt: hex::encode(salt),
            sent_at: now,
            expires_at,
            attempts: 0,
        };
        let id = l.challenge.challenge_id.clone();
        self.store.update(now, |st| {
            if let Some(p) = st.email.get(&id) {
                let next = p.sent_at.saturating_add(EMAIL_RESEND_COOLDOWN_SECS);
                if now < next {
                    return Err(VerifierError::TooSoon(format!(
                        "a code for challenge {id} was sent {} s ago: wait {} s before asking again",
                        now.saturating_sub(p.sent_at),
                        next - now
                    )));
                }
            }
            st.email.insert(id.clone(), pending);
            Ok(())
        })?;
        let ttl = expires_at.saturating_sub(now);
        if let Err(e) = mailer.send_code(&address, &code, &id, ttl).await {
            let _ = self.store.update(now, |st| {
                st.email.remove(&id);
                Ok(())
            });
            return Err(e);
        }
        tracing::info!(challenge = %id, to = %mask(&address), "email code sent");
        Ok(EmailSent {
            challenge_id: id,
            sent_to: mask(&address),
            expires_at,
        })
    }

    /// Checks an email code sent by [`Verifier::send_email`]; a code works once.
    pub async fn verify_email(
        &self,
        challenge_id: &str,
        code: &str,
    ) -> Result<Verdict, VerifierError> {
        let code = code.trim();
        if code.len() != EMAIL_CODE_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(VerifierError::BadRequest(format!(
                "an email code is {EMAIL_CODE_DIGITS} digits"
            )));
        }
        let l = self.load(challenge_id, FactorType::Email).await?;
        let now = self.now();
        let id = l.challenge.challenge_id.clone();
        let outcome = self.store.update(now, |st| {
            let Some(p) = st.email.get_mut(&id) else {
                return Err(VerifierError::NotFound(format!(
                    "no email code is pending for challenge {id} (never sent, expired or used): ask for one first"
                )));
            };
            if p.account != l.challenge.account || p.factor_id != l.challenge.factor_id {
                return Err(VerifierError::Conflict(format!(
                    "the code pending for challenge {id} belongs to another factor"
                )));
            }
            let salt = hex::decode(&p.salt).map_err(|e| VerifierError::Internal(e.to_string()))?;
            let stored =
                hex::decode(&p.code_hash).map_err(|e| VerifierError::Internal(e.to_string()))?;
            let ok: bool = code_hash(&salt, code).ct_eq(stored.as_slice()).into();
            if ok {
                st.email.remove(&id);
                return Ok(Ok(()));
            }
            p.attempts = p.attempts.saturating_add(1);
            if p.attempts >= EMAIL_MAX_ATTEMPTS {
                st.email.remove(&id);
                return Ok(Err("wrong code; too many wrong codes, the code is discarded: ask for a new one"));
            }
            Ok(Err("wrong code"))
        })?;
        match outcome {
            Ok(()) => self.verdict(&l, true, "", 0),
            Err(reason) => self.verdict(&l, false, reason, 0),
        }
    }
}

fn code_hash(salt: &[u8], code: &str) -> [u8; 32] {
    let mut buf = salt.to_vec();
    buf.extend_from_slice(code.as_bytes());
    ve_crypto::sha256(&buf)
}

/// A uniformly random 6-digit code (rejection sampling, no modulo bias).
fn random_code() -> String {
    const RANGE: u32 = 1_000_000;
    const LIMIT: u32 = u32::MAX - (u32::MAX % RANGE);
    loop {
        let v = OsRng.next_u32();
        if v < LIMIT {
            return format!("{:06}", v % RANGE);
        }
    }
}

#[cfg(test)]
mod tests;
