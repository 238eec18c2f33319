//! Every key the mfa module writes. Addresses are the 20 raw bytes; times are u64 BE
//! (block times are positive); ids are their ASCII hex.

use ve_types::Address;

pub const PARAMS: &[u8] = b"mfa/params";
/// `mfa/seq` → u64 BE: ids derived so far (makes every derived id unique).
pub const SEQ: &[u8] = b"mfa/seq";
/// `mfa/time` → u64 BE: block time of the latest block (for queries).
pub const BLOCK_TIME: &[u8] = b"mfa/time";
pub const FACTOR_PREFIX: &[u8] = b"mfa/factor/";
pub const POLICY_PREFIX: &[u8] = b"mfa/policy/";
pub const CHALLENGE_PREFIX: &[u8] = b"mfa/chal/";
pub const OPEN_CHALLENGE_PREFIX: &[u8] = b"mfa/chalacct/";
pub const CHALLENGE_EXPIRY_PREFIX: &[u8] = b"mfa/chalexp/";
pub const SESSION_PREFIX: &[u8] = b"mfa/sess/";
pub const ACCOUNT_SESSION_PREFIX: &[u8] = b"mfa/sessacct/";
pub const SESSION_EXPIRY_PREFIX: &[u8] = b"mfa/sessexp/";
pub const DEVICE_PREFIX: &[u8] = b"mfa/device/";
pub const CONFIG_PREFIX: &[u8] = b"mfa/config/";

fn t(x: i64) -> [u8; 8] {
    u64::try_from(x).unwrap_or(0).to_be_bytes()
}

/// `mfa/factor/<addr>` — one account's factors.
pub fn factors(a: &Address) -> Vec<u8> {
    [FACTOR_PREFIX, a.as_bytes()].concat()
}

/// `mfa/factor/<addr><factor_id>` → `FactorEnrollment`.
pub fn factor(a: &Address, factor_id: &str) -> Vec<u8> {
    [FACTOR_PREFIX, a.as_bytes(), factor_id.as_bytes()].concat()
}

/// `mfa/policy/<addr>` → `MfaPolicy`.
pub fn policy(a: &Address) -> Vec<u8> {
    [POLICY_PREFIX, a.as_bytes()].concat()
}

/// `mfa/chal/<challenge_id>` → `Challenge`.
pub fn challenge(id: &str) -> Vec<u8> {
    [CHALLENGE_PREFIX, id.as_bytes()].concat()
}

/// `mfa/chalacct/<addr>` — one account's open (PENDING) challenges.
pub fn open_challenges(a: &Address) -> Vec<u8> {
    [OPEN_CHALLENGE_PREFIX, a.as_bytes()].concat()
}

/// `mfa/chalacct/<addr><challenge_id>` → empty.
pub fn open_challenge(a: &Address, id: &str) -> Vec<u8> {
    [OPEN_CHALLENGE_PREFIX, a.as_bytes(), id.as_bytes()].concat()
}

/// `mfa/chalexp/<expires_at>` — challenges expiring at or after this time sort from here.
pub fn challenge_expiry_time(expires_at: i64) -> Vec<u8> {
    [CHALLENGE_EXPIRY_PREFIX, &t(expires_at)].concat()
}

/// `mfa/chalexp/<expires_at><challenge_id>` → empty: the end-block cleanup queue.
pub fn challenge_expiry(expires_at: i64, id: &str) -> Vec<u8> {
    [CHALLENGE_EXPIRY_PREFIX, &t(expires_at), id.as_bytes()].concat()
}

/// `mfa/sess/<session_id>` → `AuthorizationSession`.
pub fn session(id: &str) -> Vec<u8> {
    [SESSION_PREFIX, id.as_bytes()].concat()
}

/// `mfa/sessacct/<addr>` — one account's sessions.
pub fn account_sessions(a: &Address) -> Vec<u8> {
    [ACCOUNT_SESSION_PREFIX, a.as_bytes()].concat()
}

/// `mfa/sessacct/<addr><session_id>` → empty.
pub fn account_session(a: &Address, id: &str) -> Vec<u8> {
    [ACCOUNT_SESSION_PREFIX, a.as_bytes(), id.as_bytes()].concat()
}

pub fn session_expiry_time(expires_at: i64) -> Vec<u8> {
    [SESSION_EXPIRY_PREFIX, &t(expires_at)].concat()
}

/// `mfa/sessexp/<expires_at><session_id>` → empty: the end-block cleanup queue.
pub fn session_expiry(expires_at: i64, id: &str) -> Vec<u8> {
    [SESSION_EXPIRY_PREFIX, &t(expires_at), id.as_bytes()].concat()
}

/// `mfa/device/<addr>` — one account's trusted devices.
pub fn devices(a: &Address) -> Vec<u8> {
    [DEVICE_PREFIX, a.as_bytes()].concat()
}

/// `mfa/device/<addr><fingerprint>` → `TrustedDevice`.
pub fn device(a: &Address, fingerprint: &str) -> Vec<u8> {
    [DEVICE_PREFIX, a.as_bytes(), fingerprint.as_bytes()].concat()
}

/// `mfa/config/<type u32 BE>` → `SensitiveTxConfig`.
pub fn config(tx_type: u32) -> Vec<u8> {
    [CONFIG_PREFIX, &tx_type.to_be_bytes()].concat()
}
