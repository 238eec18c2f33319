//! Every key the enclave module writes. The layout of state is a public API.

/// `enclave/params` → `virtengine.enclave.v1.Params`.
pub const PARAMS: &[u8] = b"enclave/params";
pub const IDENTITY_PREFIX: &[u8] = b"enclave/identity/";
pub const MEASUREMENT_PREFIX: &[u8] = b"enclave/measurement/";
pub const FINGERPRINT_PREFIX: &[u8] = b"enclave/fingerprint/";

/// `enclave/identity/<validator address, 20 bytes>` → `EnclaveIdentity`.
pub fn identity(validator: &[u8; 20]) -> Vec<u8> {
    [IDENTITY_PREFIX, validator.as_slice()].concat()
}

/// `enclave/measurement/<platform u8>/<measurement bytes>` → `MeasurementRecord`.
pub fn measurement(platform: u8, measurement: &[u8]) -> Vec<u8> {
    [MEASUREMENT_PREFIX, &[platform, b'/'], measurement].concat()
}

/// `enclave/fingerprint/<hex SHA-256(x25519 key)>` → validator address (20 bytes):
/// one X25519 key belongs to one validator.
pub fn fingerprint(fp: &str) -> Vec<u8> {
    [FINGERPRINT_PREFIX, fp.as_bytes()].concat()
}
