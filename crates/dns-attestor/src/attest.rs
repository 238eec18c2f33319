//! Look up the challenge record and sign what was seen.

use crate::{AttestError, Resolver};
use ed25519_dalek::{Signer, SigningKey};
use std::path::Path;
use ve_provider::domain;

/// What a provider asks an attestor to confirm: the pending verification the chain holds
/// for `owner` (`query provider verification <owner>`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Challenge {
    /// The provider's bech32 address.
    pub owner: String,
    pub domain: String,
    /// 64 hex characters, as issued by the chain.
    pub token: String,
}

impl Challenge {
    fn validate(&self) -> Result<(), AttestError> {
        let bad = |m: String| Err(AttestError::BadChallenge(m));
        if self.owner.is_empty() || self.owner.len() > 128 || !self.owner.is_ascii() {
            return bad("owner must be the provider's address".into());
        }
        if let Err(e) = domain::validate_domain(&self.domain) {
            return bad(format!("domain {:?}: {e}", self.domain));
        }
        if self.token.len() != 64 || !self.token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return bad("token must be the 64 hex characters the chain issued".into());
        }
        Ok(())
    }
}

/// A signed observation, in the form `MsgConfirmDomainVerification` takes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attestation {
    pub owner: String,
    pub domain: String,
    /// Hex Ed25519 public key of the attestor (must be registered on chain).
    pub attestor_public_key: String,
    /// Unix time of the lookup.
    pub observed_at: i64,
    /// Hex Ed25519 signature over `ve_provider::domain::attestation_payload`.
    pub signature: String,
}

/// An attestor: its key, the chain it signs for, and the nameserver it trusts.
#[derive(Debug)]
pub struct Attestor {
    key: SigningKey,
    chain_id: String,
    resolver: Resolver,
}

/// Reads an attestor key file: the 32-byte Ed25519 secret key as hex (what
/// `virtengine dns-attestor keygen` writes).
pub fn load_key(path: &Path) -> Result<SigningKey, AttestError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| AttestError::Key(format!("reading {}: {e}", path.display())))?;
    let bytes = hex::decode(text.trim())
        .map_err(|_| AttestError::Key(format!("{} must hold 32 bytes of hex", path.display())))?;
    let seed = <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| AttestError::Key(format!("{} must hold exactly 32 bytes", path.display())))?;
    Ok(SigningKey::from_bytes(&seed))
}

impl Attestor {
    pub fn new(key: SigningKey, chain_id: impl Into<String>, resolver: Resolver) -> Self {
        Self {
            key,
            chain_id: chain_id.into(),
            resolver,
        }
    }

    /// Hex of the public key to register on chain (`MsgAddAttestor`).
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.verifying_key().to_bytes())
    }

    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// Resolves the challenge record now and signs, with `observed_at` as the time of the
    /// lookup, if one of its TXT values is exactly `virtengine-verification=<token>`.
    pub async fn attest(
        &self,
        c: &Challenge,
        observed_at: i64,
    ) -> Result<Attestation, AttestError> {
        c.validate()?;
        let record = domain::record_name(&c.domain);
        let expected = domain::record_value(&c.token.to_ascii_lowercase());
        let found = self.resolver.txt(&record).await?;
        if !found.iter().any(|v| v.trim() == expected) {
            tracing::info!(%record, owner = %c.owner, "challenge token not published; not signing");
            return Err(AttestError::TokenMissing {
                record,
                expected,
                found,
            });
        }
        let payload = domain::attestation_payload(
            &self.chain_id,
            &c.owner,
            &c.domain,
            &c.token.to_ascii_lowercase(),
            observed_at,
        );
        tracing::info!(%record, owner = %c.owner, observed_at, "signed domain attestation");
        Ok(Attestation {
            owner: c.owner.clone(),
            domain: c.domain.clone(),
            attestor_public_key: self.public_key_hex(),
            observed_at,
            signature: hex::encode(self.key.sign(&payload).to_bytes()),
        })
    }
}
