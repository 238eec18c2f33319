use bech32::{Bech32, Hrp};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// Human-readable part of account addresses.
pub const ACCOUNT_HRP: &str = "ve";
/// Human-readable part of validator operator addresses.
pub const VALOPER_HRP: &str = "vevaloper";
/// Human-readable part of validator consensus addresses.
pub const VALCONS_HRP: &str = "vevalcons";

/// A 20-byte account address, shown as bech32 with the `ve` prefix.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Address(pub [u8; 20]);

/// Why a string or byte slice is not a valid address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("invalid bech32 address {input:?}: {reason}")]
    Bech32 { input: String, reason: String },
    #[error("address {input:?} has prefix {found:?}, expected {expected:?}")]
    WrongPrefix {
        input: String,
        found: String,
        expected: String,
    },
    #[error("address must be 20 bytes, got {0}")]
    WrongLength(usize),
}

impl Address {
    /// Parses a bech32 string with the expected human-readable part.
    pub fn from_bech32_with_hrp(s: &str, expected_hrp: &str) -> Result<Self, AddressError> {
        let (hrp, data) = bech32::decode(s).map_err(|e| AddressError::Bech32 {
            input: s.to_string(),
            reason: e.to_string(),
        })?;
        if hrp.as_str() != expected_hrp {
            return Err(AddressError::WrongPrefix {
                input: s.to_string(),
                found: hrp.to_string(),
                expected: expected_hrp.to_string(),
            });
        }
        Self::from_slice(&data)
    }

    /// Builds an address from raw bytes, which must be exactly 20 long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, AddressError> {
        let arr: [u8; 20] = bytes
            .try_into()
            .map_err(|_| AddressError::WrongLength(bytes.len()))?;
        Ok(Self(arr))
    }

    /// Encodes with the given human-readable part.
    pub fn to_bech32_with_hrp(&self, hrp: &str) -> String {
        // Both hrp constants are valid and 20 bytes always fit in bech32's length limit,
        // so encoding cannot fail for our prefixes; fall back to hex rather than panic.
        let Ok(hrp) = Hrp::parse(hrp) else {
            return hex_string(&self.0);
        };
        bech32::encode::<Bech32>(hrp, &self.0).unwrap_or_else(|_| hex_string(&self.0))
    }

    /// The address of a module account: the first 20 bytes of SHA-256 of its name,
    /// exactly as the Cosmos SDK derives `authtypes.NewModuleAddress`.
    pub fn module(name: &str) -> Self {
        let digest = Sha256::digest(name.as_bytes());
        let mut out = [0u8; 20];
        out.copy_from_slice(&digest[..20]);
        Self(out)
    }

    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl FromStr for Address {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_bech32_with_hrp(s, ACCOUNT_HRP)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_bech32_with_hrp(ACCOUNT_HRP))
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

impl serde::Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bech32_roundtrip_uses_ve_prefix() {
        let a = Address([7u8; 20]);
        let s = a.to_string();
        assert!(s.starts_with("ve1"), "{s}");
        assert_eq!(s.parse::<Address>().unwrap(), a);
    }

    #[test]
    fn wrong_prefix_is_rejected_with_both_prefixes_named() {
        let s = Address([1u8; 20]).to_bech32_with_hrp("cosmos");
        let err = s.parse::<Address>().unwrap_err();
        assert!(matches!(err, AddressError::WrongPrefix { .. }), "{err}");
    }

    #[test]
    fn module_address_matches_cosmos_derivation() {
        // Cosmos SDK: fee_collector = cosmos17xpfvakm2amg962yls6f84z3kell8c5lserqta
        // (same bytes under any prefix).
        let a = Address::module("fee_collector");
        let cosmos = a.to_bech32_with_hrp("cosmos");
        assert_eq!(cosmos, "cosmos17xpfvakm2amg962yls6f84z3kell8c5lserqta");
    }
}
