use std::fmt;
use std::str::FromStr;

use bip32::{DerivationPath, XPrv};
use bip39::Language;
use rand_core::RngCore;
use zeroize::{Zeroize, Zeroizing};

use crate::error::CryptoError;
use crate::secp256k1::PrivateKey;

/// BIP-44 path of the first Cosmos account (coin type 118), the path every Cosmos
/// wallet uses by default, so the same mnemonic gives the same key in Keplr and here.
pub const COSMOS_HD_PATH: &str = "m/44'/118'/0'/0/0";

/// Words in a generated mnemonic: 24 words = 256 bits of entropy.
pub const MNEMONIC_WORDS: usize = 24;

/// A checked BIP-39 English mnemonic.
///
/// Keeping it as a type (not a `String`) means a phrase that reaches derivation has
/// already passed the word-list and checksum checks.
#[derive(Clone)]
pub struct Mnemonic(bip39::Mnemonic);

impl Mnemonic {
    /// A new 24-word mnemonic from OS randomness; clients only, never consensus.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut entropy = Zeroizing::new([0u8; 32]);
        rand_core::OsRng.fill_bytes(entropy.as_mut()); // allowed: mnemonic generation runs in clients
        bip39::Mnemonic::from_entropy_in(Language::English, entropy.as_ref())
            .map(Self)
            .map_err(|e| CryptoError::InvalidMnemonic(e.to_string()))
    }

    /// Parses a phrase, tolerating extra whitespace and letter case the way wallets do.
    pub fn parse(phrase: &str) -> Result<Self, CryptoError> {
        let mut normalized = Zeroizing::new(
            phrase
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase(),
        );
        let parsed = bip39::Mnemonic::parse_in(Language::English, normalized.as_str())
            .map_err(|e| CryptoError::InvalidMnemonic(e.to_string()));
        normalized.zeroize();
        parsed.map(Self)
    }

    /// The space-separated phrase; wiped when the returned value is dropped.
    pub fn phrase(&self) -> Zeroizing<String> {
        Zeroizing::new(self.0.to_string())
    }

    pub fn word_count(&self) -> usize {
        self.0.word_count()
    }

    /// Derives the key at `path` (BIP-39 seed with `bip39_passphrase`, then BIP-32).
    pub fn derive(&self, bip39_passphrase: &str, path: &str) -> Result<PrivateKey, CryptoError> {
        let path = DerivationPath::from_str(path).map_err(|e| CryptoError::InvalidHdPath {
            path: path.to_string(),
            reason: e.to_string(),
        })?;
        let seed = Zeroizing::new(self.0.to_seed(bip39_passphrase));
        let xprv = XPrv::derive_from_path(seed.as_ref(), &path)
            .map_err(|e| CryptoError::Derivation(e.to_string()))?;
        Ok(PrivateKey::from_signing_key(xprv.private_key().clone()))
    }
}

impl FromStr for Mnemonic {
    type Err = CryptoError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Debug for Mnemonic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mnemonic(<{} words redacted>)", self.word_count())
    }
}

/// Parses `mnemonic` and derives the key at `path`; the one call a wallet needs.
pub fn derive_key(
    mnemonic: &str,
    bip39_passphrase: &str,
    path: &str,
) -> Result<PrivateKey, CryptoError> {
    Mnemonic::parse(mnemonic)?.derive(bip39_passphrase, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    #[test]
    fn cosmos_test_mnemonic_vector() {
        let key = derive_key(ABANDON, "", COSMOS_HD_PATH).unwrap();
        let addr = key.public_key().address();
        assert_eq!(
            addr.to_bech32_with_hrp("cosmos"),
            "cosmos19rl4cm2hmr8afy4kldpxz3fka4jguq0auqdal4"
        );
        assert!(addr.to_string().starts_with("ve1"));
    }

    #[test]
    fn passphrase_and_path_change_the_key() {
        let base = derive_key(ABANDON, "", COSMOS_HD_PATH)
            .unwrap()
            .public_key();
        let with_pass = derive_key(ABANDON, "x", COSMOS_HD_PATH)
            .unwrap()
            .public_key();
        let other_path = derive_key(ABANDON, "", "m/44'/118'/0'/0/1")
            .unwrap()
            .public_key();
        assert_ne!(base, with_pass);
        assert_ne!(base, other_path);
    }

    #[test]
    fn generated_mnemonic_has_24_words_and_reparses() {
        let m = Mnemonic::generate().unwrap();
        assert_eq!(m.word_count(), MNEMONIC_WORDS);
        let phrase = m.phrase();
        assert_eq!(phrase.split(' ').count(), 24);
        let again = Mnemonic::parse(&phrase).unwrap();
        assert_eq!(
            m.derive("", COSMOS_HD_PATH).unwrap().public_key(),
            again.derive("", COSMOS_HD_PATH).unwrap().public_key()
        );
    }

    #[test]
    fn parse_normalizes_whitespace_and_case() {
        let messy = format!("  {}  ", ABANDON.to_uppercase().replace(' ', "\n "));
        assert_eq!(Mnemonic::parse(&messy).unwrap().phrase().as_str(), ABANDON);
    }

    #[test]
    fn bad_checksum_and_unknown_word_are_rejected() {
        let bad_checksum = ABANDON.replace("about", "abandon");
        assert!(matches!(
            Mnemonic::parse(&bad_checksum),
            Err(CryptoError::InvalidMnemonic(_))
        ));
        assert!(Mnemonic::parse("notaword ".repeat(12).trim()).is_err());
    }

    #[test]
    fn bad_path_is_a_typed_error() {
        assert!(matches!(
            derive_key(ABANDON, "", "m/44'/x"),
            Err(CryptoError::InvalidHdPath { .. })
        ));
    }

    #[test]
    fn debug_redacts_mnemonic() {
        let m = Mnemonic::parse(ABANDON).unwrap();
        assert!(!format!("{m:?}").contains("abandon"));
    }
}
