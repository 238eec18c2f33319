//! Every key the provider module writes. The layout of state is a public API.

use ve_types::Address;

/// `provider/params` → `Params`.
pub const PARAMS: &[u8] = b"provider/params";
pub const PROVIDER_PREFIX: &[u8] = b"provider/p/";
pub const VERIFICATION_PREFIX: &[u8] = b"provider/dv/";
pub const ATTESTOR_PREFIX: &[u8] = b"provider/att/";

/// `provider/p/<20-byte owner>` → `Provider`.
pub fn provider(owner: &Address) -> Vec<u8> {
    [PROVIDER_PREFIX, owner.as_bytes().as_slice()].concat()
}

/// `provider/dv/<20-byte owner>` → `DomainVerification`.
pub fn verification(owner: &Address) -> Vec<u8> {
    [VERIFICATION_PREFIX, owner.as_bytes().as_slice()].concat()
}

/// `provider/att/<32-byte Ed25519 key>` → `Attestor`.
pub fn attestor(key: &[u8; 32]) -> Vec<u8> {
    [ATTESTOR_PREFIX, key.as_slice()].concat()
}
