//! Every key the offering module writes. The layout of state is a public API.

use ve_types::Address;

pub const OFFERING_PREFIX: &[u8] = b"offering/o/";
pub const LAST_SEQ_PREFIX: &[u8] = b"offering/seq/";
pub const ACTIVE_COUNT_PREFIX: &[u8] = b"offering/active/";

/// `offering/o/<20-byte provider>` — prefix of one provider's offerings.
pub fn of_provider(provider: &Address) -> Vec<u8> {
    [OFFERING_PREFIX, provider.as_bytes().as_slice()].concat()
}

/// `offering/o/<20-byte provider><8-byte BE seq>` → `Offering`.
pub fn offering(provider: &Address, seq: u64) -> Vec<u8> {
    [
        of_provider(provider).as_slice(),
        seq.to_be_bytes().as_slice(),
    ]
    .concat()
}

/// `offering/seq/<20-byte provider>` → last seq (8-byte BE).
pub fn last_seq(provider: &Address) -> Vec<u8> {
    [LAST_SEQ_PREFIX, provider.as_bytes().as_slice()].concat()
}

/// `offering/active/<20-byte provider>` → active offering count (8-byte BE).
pub fn active_count(provider: &Address) -> Vec<u8> {
    [ACTIVE_COUNT_PREFIX, provider.as_bytes().as_slice()].concat()
}
