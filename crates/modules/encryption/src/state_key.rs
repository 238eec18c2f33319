//! Every key the encryption module writes. The layout of state is a public API.

use ve_types::Address;

/// `encryption/params` → `virtengine.encryption.v1.Params`.
pub const PARAMS: &[u8] = b"encryption/params";
pub const KEY_PREFIX: &[u8] = b"encryption/key/";
pub const ACCOUNT_PREFIX: &[u8] = b"encryption/acct/";
pub const LIVE_COUNT_PREFIX: &[u8] = b"encryption/live/";
pub const VERSION_PREFIX: &[u8] = b"encryption/ver/";
pub const EXPIRY_PREFIX: &[u8] = b"encryption/expiry/";

/// `encryption/key/<40-char fingerprint>` → `RecipientKeyRecord` (the primary record).
pub fn key(fingerprint: &str) -> Vec<u8> {
    [KEY_PREFIX, fingerprint.as_bytes()].concat()
}

/// `encryption/acct/<20-byte address>` — prefix of one account's key index.
pub fn account_keys(addr: &Address) -> Vec<u8> {
    [ACCOUNT_PREFIX, addr.as_bytes().as_slice()].concat()
}

/// `encryption/acct/<20-byte address><fingerprint>` → empty.
pub fn account_key(addr: &Address, fingerprint: &str) -> Vec<u8> {
    [account_keys(addr).as_slice(), fingerprint.as_bytes()].concat()
}

/// `encryption/live/<address>` → u32 BE: keys that are neither revoked nor expired.
pub fn live_count(addr: &Address) -> Vec<u8> {
    [LIVE_COUNT_PREFIX, addr.as_bytes().as_slice()].concat()
}

/// `encryption/ver/<address>` → u64 BE: the last key_version given to this account.
pub fn last_version(addr: &Address) -> Vec<u8> {
    [VERSION_PREFIX, addr.as_bytes().as_slice()].concat()
}

/// `encryption/expiry/<8-byte BE height><fingerprint>` → empty: the expiry queue,
/// ordered by the height at which the key stops being usable.
pub fn expiry(height: u64, fingerprint: &str) -> Vec<u8> {
    [
        expiry_height_prefix(height).as_slice(),
        fingerprint.as_bytes(),
    ]
    .concat()
}

/// `encryption/expiry/<8-byte BE height>`: entries due at exactly `height`.
pub fn expiry_height_prefix(height: u64) -> Vec<u8> {
    [EXPIRY_PREFIX, height.to_be_bytes().as_slice()].concat()
}
