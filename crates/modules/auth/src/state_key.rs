//! Every key the auth module writes. The layout of state is a public API.

use ve_types::Address;

/// `auth/acc/<20-byte address>` → `Any` (BaseAccount or ModuleAccount).
pub fn account(addr: &Address) -> Vec<u8> {
    let mut k = ACCOUNT_PREFIX.to_vec();
    k.extend_from_slice(addr.as_bytes());
    k
}

pub const ACCOUNT_PREFIX: &[u8] = b"auth/acc/";
/// `auth/next_number` → u64 big-endian: the number the next new account gets.
pub const NEXT_ACCOUNT_NUMBER: &[u8] = b"auth/next_number";
/// `auth/params` → `cosmos.auth.v1beta1.Params`.
pub const PARAMS: &[u8] = b"auth/params";
