//! Every key the audit module writes. The layout of state is a public API.

use ve_types::Address;

pub const BY_PROVIDER_PREFIX: &[u8] = b"audit/p/";
pub const BY_AUDITOR_PREFIX: &[u8] = b"audit/a/";

/// `audit/p/<20-byte provider>` — prefix of one provider's records.
pub fn of_provider(owner: &Address) -> Vec<u8> {
    [BY_PROVIDER_PREFIX, owner.as_bytes().as_slice()].concat()
}

/// `audit/p/<20-byte provider><20-byte auditor>` → `AuditedAttributes`.
pub fn record(owner: &Address, auditor: &Address) -> Vec<u8> {
    [of_provider(owner).as_slice(), auditor.as_bytes().as_slice()].concat()
}

/// `audit/a/<20-byte auditor>` — prefix of one auditor's index.
pub fn of_auditor(auditor: &Address) -> Vec<u8> {
    [BY_AUDITOR_PREFIX, auditor.as_bytes().as_slice()].concat()
}

/// `audit/a/<20-byte auditor><20-byte provider>` → empty.
pub fn auditor_index(auditor: &Address, owner: &Address) -> Vec<u8> {
    [of_auditor(auditor).as_slice(), owner.as_bytes().as_slice()].concat()
}
