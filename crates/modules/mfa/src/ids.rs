//! Identifiers and challenge bytes derived from chain data (never randomness): chain id,
//! height, block time, the account and the module's committed sequence (docs/mfa.md §2).

use crate::state;
use ve_module::Context;
use ve_types::{Address, AppError};

/// The derivation context of one fresh id: consumes one sequence number.
pub struct Derivation(Vec<u8>);

impl Derivation {
    pub fn new(ctx: &mut Context<'_>, account: &Address) -> Result<Self, AppError> {
        let seq = state::next_seq(ctx)?;
        let b = ctx.block();
        let chain = b.chain_id.as_bytes();
        let len = u16::try_from(chain.len()).unwrap_or(u16::MAX);
        let mut v = Vec::with_capacity(64);
        v.extend_from_slice(&len.to_be_bytes());
        v.extend_from_slice(chain.get(..usize::from(len)).unwrap_or(chain));
        v.extend_from_slice(&b.height.to_be_bytes());
        v.extend_from_slice(&b.time_unix.to_be_bytes());
        v.extend_from_slice(account.as_bytes());
        v.extend_from_slice(&seq.to_be_bytes());
        Ok(Self(v))
    }

    pub fn bytes(&self, domain: &str) -> [u8; 32] {
        ve_crypto::sha256(&[domain.as_bytes(), &self.0].concat())
    }

    /// 32 lowercase hex characters.
    pub fn id(&self, domain: &str) -> String {
        hex_id(&self.bytes(domain))
    }
}

pub fn hex_id(h: &[u8; 32]) -> String {
    hex::encode(h.get(..16).unwrap_or_default())
}

pub const CHALLENGE: &str = "virtengine/mfa/challenge";
pub const CHALLENGE_DATA: &str = "virtengine/mfa/challenge-data";
pub const SESSION: &str = "virtengine/mfa/session";
pub const FACTOR: &str = "virtengine/mfa/factor";
pub const BACKUP_SALT: &str = "virtengine/mfa/backup-salt";

/// FIDO2 factor id: hex(SHA-256("fido2:" || credential_id)[0..16]).
pub fn fido2_factor_id(credential_id: &[u8]) -> String {
    hex_id(&ve_crypto::sha256(
        &[b"fido2:".as_slice(), credential_id].concat(),
    ))
}

/// A 32-lowercase-hex id.
pub fn is_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
