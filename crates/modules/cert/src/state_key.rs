//! Every key the cert module writes. The layout of state is a public API.

use ve_types::Address;

pub const CERT_PREFIX: &[u8] = b"cert/c/";

/// `cert/c/<20-byte owner>` — prefix of one owner's certificates.
pub fn of_owner(owner: &Address) -> Vec<u8> {
    [CERT_PREFIX, owner.as_bytes().as_slice()].concat()
}

/// `cert/c/<20-byte owner><decimal serial>` → `Certificate`.
pub fn cert(owner: &Address, serial: &str) -> Vec<u8> {
    [of_owner(owner).as_slice(), serial.as_bytes()].concat()
}
