//! The algorithm registry. Ids are reserved here before they are supported, so a
//! post-quantum or hybrid scheme can be added later as a new id without a format change:
//! old readers reject it with [`EnvelopeError::UnsupportedAlgorithm`], not a parse error.

use super::EnvelopeError;

/// One registered algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Algorithm {
    /// Canonical id: upper case ASCII, compared exactly in envelopes.
    pub id: &'static str,
    /// The one version of it this code implements.
    pub version: u32,
    /// Recipient public key length in bytes.
    pub key_len: usize,
    /// Nonce length in bytes.
    pub nonce_len: usize,
    /// Whether this code can seal and open it.
    pub supported: bool,
    pub description: &'static str,
}

/// NaCl box: X25519 key agreement, XSalsa20-Poly1305. The only supported algorithm.
pub const PRIMARY_ALGORITHM: Algorithm = Algorithm {
    id: "X25519-XSALSA20-POLY1305",
    version: 1,
    key_len: 32,
    nonce_len: 24,
    supported: true,
    description: "NaCl crypto_box key wrap + crypto_secretbox payload (libsodium compatible)",
};

/// Every id known to this code, supported or reserved.
pub const ALGORITHMS: &[Algorithm] = &[
    PRIMARY_ALGORITHM,
    Algorithm {
        id: "AGE-X25519",
        version: 1,
        key_len: 32,
        nonce_len: 16,
        supported: false,
        description: "reserved: age X25519 recipients",
    },
    Algorithm {
        id: "ML-KEM-768",
        version: 1,
        key_len: 1184,
        nonce_len: 24,
        supported: false,
        description: "reserved: post-quantum ML-KEM-768 key encapsulation",
    },
    Algorithm {
        id: "HYBRID-NACL-MLKEM",
        version: 1,
        key_len: 1216,
        nonce_len: 24,
        supported: false,
        description: "reserved: X25519 + ML-KEM-768 hybrid",
    },
];

impl Algorithm {
    /// Looks up an id exactly as written (envelopes carry the canonical form).
    pub fn by_id(id: &str) -> Result<&'static Algorithm, EnvelopeError> {
        ALGORITHMS
            .iter()
            .find(|a| a.id == id)
            .ok_or_else(|| EnvelopeError::UnknownAlgorithm(truncate(id)))
    }

    /// Looks up an id ignoring ASCII case, for human-written config (genesis files have
    /// used `X25519-XSalsa20-Poly1305`); callers store the canonical [`Algorithm::id`].
    pub fn by_id_ignore_case(id: &str) -> Result<&'static Algorithm, EnvelopeError> {
        ALGORITHMS
            .iter()
            .find(|a| a.id.eq_ignore_ascii_case(id))
            .ok_or_else(|| EnvelopeError::UnknownAlgorithm(truncate(id)))
    }

    /// Like [`Algorithm::by_id`] but also refuses ids this code cannot use.
    pub fn supported(id: &str) -> Result<&'static Algorithm, EnvelopeError> {
        let a = Self::by_id(id)?;
        if !a.supported {
            return Err(EnvelopeError::UnsupportedAlgorithm(a.id.to_string()));
        }
        Ok(a)
    }
}

/// Attacker-supplied strings go into error messages bounded.
pub(crate) fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}
